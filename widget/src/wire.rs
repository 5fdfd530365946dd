//! The v1 wire shapes (relay/API.md, `pigeon-protocol`) the widget reads and writes, as the
//! JS objects `JSON.parse` gives and `JSON.stringify` takes. Every field name is spelled once,
//! in [`field`]; `tests/wire.rs` builds each shape from the protocol crate's types and checks
//! both directions in a browser.

use pigeon_protocol::{Author, Cart, CartItem, Context};
use wasm_bindgen::JsValue;

use crate::js::{self, get, integer, object, opt, string};
use crate::store::{Pending, Session};
use crate::thread::Entry;

/// The JSON field names: the serde names of `pigeon-protocol`'s types, which the IndexedDB
/// records and the tab notes reuse. Each is listed under the first shape that has it; a
/// heading names the ones a shape shares with those above.
pub mod field {
    // Message `{seq, client_id, author, author_name?, body, context?, id, created_at}` (only
    // these are read): relay answers, live frames, the IndexedDB `messages` store, tab notes.
    pub const SEQ: &str = "seq";
    pub const CLIENT_ID: &str = "client_id";
    pub const AUTHOR: &str = "author";
    pub const AUTHOR_NAME: &str = "author_name";
    pub const BODY: &str = "body";
    pub const CONTEXT: &str = "context";
    // PostMessage `{client_id, body, context?}`; its answer StoredMessage `{message}`.
    pub const MESSAGE: &str = "message";
    // The IndexedDB outbox record: a PostMessage plus
    pub const QUEUED_AT: &str = "queued_at";

    // Context `{page, cart?, locale?, time_zone?}`.
    pub const PAGE: &str = "page";
    pub const CART: &str = "cart";
    pub const LOCALE: &str = "locale";
    pub const TIME_ZONE: &str = "time_zone";
    // Page `{url, title, referrer?}`; `Pigeon('page', {url?, title?})` too.
    pub const URL: &str = "url";
    pub const TITLE: &str = "title";
    pub const REFERRER: &str = "referrer";
    // Cart `{currency, total, items}`, as sent and as given to `Pigeon('cart', ...)`.
    pub const CURRENCY: &str = "currency";
    pub const TOTAL: &str = "total";
    pub const ITEMS: &str = "items";
    // CartItem `{id?, name, quantity, unit_price, url?, image_url?}`.
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const QUANTITY: &str = "quantity";
    pub const UNIT_PRICE: &str = "unit_price";
    pub const IMAGE_URL: &str = "image_url";

    // SiteConfig `{name, brand_color, greeting, expected_reply, available_now, next_open_at?,
    // id, business_hours}` (only these are read).
    pub const BRAND_COLOR: &str = "brand_color";
    pub const GREETING: &str = "greeting";
    pub const EXPECTED_REPLY: &str = "expected_reply";
    pub const AVAILABLE_NOW: &str = "available_now";
    pub const NEXT_OPEN_AT: &str = "next_open_at";

    // CreatedConversation `{conversation: {id}, token}` (create and resume); the session
    // record `{id, token}`.
    pub const CONVERSATION: &str = "conversation";
    pub const TOKEN: &str = "token";

    // ErrorBody `{error: {code, message}}`.
    pub const ERROR: &str = "error";
    pub const CODE: &str = "code";

    // Live frames `{type, ...}`: ClientFrame::Hello `{token, after}`, ClientFrame::Send (a
    // PostMessage), ServerFrame::Message `{message}`, ServerFrame::Ready `{last_seq}`,
    // ServerFrame::Ack `{client_id, message}`, ServerFrame::Refused `{client_id, code,
    // message}` (`message` is the error's text there). Tab notes `{type, message | seq |
    // session | id}`.
    pub const TYPE: &str = "type";
    pub const AFTER: &str = "after";
    pub const LAST_SEQ: &str = "last_seq";
    pub const SESSION: &str = "session";

    // MarkRead `{seq}` (the body of `POST .../read`), SetContact `{email}`, Resume
    // `{resume_token}`.
    pub const EMAIL: &str = "email";
    pub const RESUME_TOKEN: &str = "resume_token";
}

/// The values of `type`: of live frames (`hello` and `send` sent; `message`, `ready`, `ack`
/// and `refused` heard, `pong` and `error` left to the close code) and of tab notes.
pub mod kind {
    pub const HELLO: &str = "hello";
    pub const SEND: &str = "send";
    pub const MESSAGE: &str = "message";
    pub const READY: &str = "ready";
    pub const ACK: &str = "ack";
    pub const REFUSED: &str = "refused";
    pub const READ: &str = "read";
    pub const SESSION: &str = "session";
    pub const GONE: &str = "gone";
    pub const FORGET: &str = "forget";
}

use field as f;

/// The fields of a stored message the thread shows, as JS strings.
fn message_keys() -> [JsValue; 5] {
    [f::SEQ, f::AUTHOR, f::CLIENT_ID, f::AUTHOR_NAME, f::BODY].map(JsValue::from_str)
}

fn entry_with(m: &JsValue, [seq, author, client_id, author_name, body]: &[JsValue; 5]) -> Option<Entry> {
    let seq = js::whole(&js::get_key(m, seq)).filter(|s| *s > 0)? as u64;
    let author = Author::parse(&js::get_key(m, author).as_string()?)?;
    let text = |k| js::get_key(m, k).as_string();
    Some(Entry::stored(seq, text(client_id)?, author, text(author_name), text(body)?))
}

/// A stored message object (`{seq, client_id, author, author_name?, body, ...}`) as the
/// thread shows it; `None` if it is not one.
pub fn entry(message: &JsValue) -> Option<Entry> {
    entry_with(message, &message_keys())
}

/// Many message objects (a restore), skipping any that are not one.
pub fn entries(messages: &[JsValue]) -> Vec<Entry> {
    let keys = message_keys();
    messages.iter().filter_map(|m| entry_with(m, &keys)).collect()
}

/// The message context as sent to the relay.
pub fn context(c: &Context) -> JsValue {
    let page = object(&[
        (f::URL, c.page.url.as_str().into()),
        (f::TITLE, c.page.title.as_str().into()),
        (f::REFERRER, opt(c.page.referrer.as_deref())),
    ]);
    let cart = c.cart.as_ref().map_or(JsValue::UNDEFINED, |cart| {
        let items: js_sys::Array = cart
            .items
            .iter()
            .map(|i| {
                object(&[
                    (f::ID, opt(i.id.as_deref())),
                    (f::NAME, i.name.as_str().into()),
                    (f::QUANTITY, i.quantity.into()),
                    (f::UNIT_PRICE, (i.unit_price as f64).into()),
                    (f::URL, opt(i.url.as_deref())),
                    (f::IMAGE_URL, opt(i.image_url.as_deref())),
                ])
            })
            .collect();
        object(&[(f::CURRENCY, cart.currency.as_str().into()), (f::TOTAL, (cart.total as f64).into()), (f::ITEMS, items.into())])
    });
    object(&[(f::PAGE, page), (f::CART, cart), (f::LOCALE, opt(c.locale.as_deref())), (f::TIME_ZONE, opt(c.time_zone.as_deref()))])
}

/// An optional text field: absent or `null` is `None`, anything but a string is an error.
fn optional_string(obj: &JsValue, key: &str) -> Result<Option<String>, ()> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() { Ok(None) } else { v.as_string().map(Some).ok_or(()) }
}

/// A cart given to `Pigeon('cart', ...)`: `{currency, total, items: [{name, quantity,
/// unit_price, id?, url?, image_url?}]}` with whole numbers; `None` if it is not that shape.
/// (Limits are checked by `validate::context`.)
pub fn cart(v: &JsValue) -> Option<Cart> {
    let list = get(v, f::ITEMS);
    if !js_sys::Array::is_array(&list) {
        return None;
    }
    let items = js::items(&list)
        .iter()
        .map(|i| {
            Some(CartItem {
                id: optional_string(i, f::ID).ok()?,
                name: string(i, f::NAME)?,
                quantity: u32::try_from(integer(i, f::QUANTITY)?).ok()?,
                unit_price: integer(i, f::UNIT_PRICE)?,
                url: optional_string(i, f::URL).ok()?,
                image_url: optional_string(i, f::IMAGE_URL).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Cart { currency: string(v, f::CURRENCY)?, total: integer(v, f::TOTAL)?, items })
}

/// What the panel shows of `GET /v1/sites/{site}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    pub brand_color: String,
    pub greeting: String,
    pub expected_reply: String,
    pub available_now: bool,
    pub next_open_at: Option<String>,
}

pub fn site(v: &JsValue) -> Option<Site> {
    Some(Site {
        name: string(v, f::NAME)?,
        brand_color: string(v, f::BRAND_COLOR).unwrap_or_default(),
        greeting: string(v, f::GREETING).unwrap_or_default(),
        expected_reply: string(v, f::EXPECTED_REPLY).unwrap_or_default(),
        available_now: get(v, f::AVAILABLE_NOW).as_bool().unwrap_or(true),
        next_open_at: string(v, f::NEXT_OPEN_AT),
    })
}

/// The conversation in a created-conversation answer (`{conversation: {id}, token}`, of
/// create and of resume); `None` if it has none.
pub fn session(created: &JsValue) -> Option<Session> {
    Some(Session { id: string(&get(created, f::CONVERSATION), f::ID)?, token: string(created, f::TOKEN)? })
}

/// The code (`http_error` when there is none) and message of an error answer (`{error: {code,
/// message}}`, or anything else the relay's path gave).
pub fn error(answer: &JsValue) -> (String, String) {
    let error = get(answer, f::ERROR);
    (string(&error, f::CODE).unwrap_or_else(|| "http_error".into()), string(&error, f::MESSAGE).unwrap_or_default())
}

/// The body of `POST .../messages` for a pending message: `{client_id, body, context}`.
pub fn post(p: &Pending) -> JsValue {
    object(&[(f::CLIENT_ID, p.client_id.as_str().into()), (f::BODY, p.body.as_str().into()), (f::CONTEXT, p.context.clone())])
}

// The four below are inlined into `api.rs`'s calls, where they were written before: as
// functions of their own they cost ~115 B brotli (code layout; measured when written).

/// The message object in the answer to `POST .../messages` (`{message}`).
#[inline(always)]
pub fn stored(answer: &JsValue) -> JsValue {
    get(answer, f::MESSAGE)
}

/// The body of `POST .../read`: `{seq}`.
#[inline(always)]
pub fn read(seq: u64) -> JsValue {
    object(&[(f::SEQ, (seq as f64).into())])
}

/// The body of `PUT .../contact`: `{email}`.
#[inline(always)]
pub fn contact(email: &str) -> JsValue {
    object(&[(f::EMAIL, email.into())])
}

/// The body of `POST /v1/resume`: `{resume_token}`.
#[inline(always)]
pub fn resume(resume_token: &str) -> JsValue {
    object(&[(f::RESUME_TOKEN, resume_token.into())])
}

/// The socket's first frame, as text: `{type: "hello", token, after}`.
pub fn hello(token: &str, after: u64) -> String {
    js::stringify(&object(&[(f::TYPE, kind::HELLO.into()), (f::TOKEN, token.into()), (f::AFTER, (after as f64).into())]))
}

/// A pending message as a socket frame, as text: the POST's body with `type: "send"`.
pub fn send(p: &Pending) -> String {
    let frame = post(p);
    let _ = js_sys::Reflect::set(&frame, &f::TYPE.into(), &kind::SEND.into());
    js::stringify(&frame)
}

/// What the relay says on the socket that the widget acts on.
pub enum Heard {
    /// A stored message object.
    Message(JsValue),
    /// The backlog is sent; the conversation's newest `seq` is this.
    Ready(u64),
    /// The answer to a `send` (`ack` or `refused`), the frame.
    Answer(JsValue),
}

/// A frame from the relay (`pong`, `error` and anything unknown are `None`: an error is
/// followed by the close code, which says what to do).
pub fn heard(frame: &JsValue) -> Option<Heard> {
    match string(frame, f::TYPE).as_deref() {
        Some(kind::MESSAGE) => Some(Heard::Message(get(frame, f::MESSAGE))),
        Some(kind::READY) => Some(Heard::Ready(integer(frame, f::LAST_SEQ).unwrap_or(0).max(0) as u64)),
        Some(kind::ACK | kind::REFUSED) => Some(Heard::Answer(frame.clone())),
        _ => None,
    }
}

/// The stored message of an `ack`; `None` for anything else (a refusal, no answer in time, the
/// socket closed first): the message then goes by POST, whose answer says what to do.
pub fn acked(frame: &JsValue) -> Option<JsValue> {
    (string(frame, f::TYPE).as_deref() == Some(kind::ACK)).then(|| get(frame, f::MESSAGE))
}
