//! The v1 wire shapes (relay/API.md, `pigeon-protocol`) the widget reads and writes, as the
//! JS objects `JSON.parse` gives and `JSON.stringify` takes. Field names are those of the
//! protocol crate's types; `tests/wire.rs` checks both directions in a browser.

use pigeon_protocol::{Author, Cart, CartItem, Context};
use wasm_bindgen::JsValue;

use crate::js::{self, get, integer, object, opt, string};
use crate::thread::Entry;

/// The fields of a stored message the thread shows, as JS strings.
fn message_keys() -> [JsValue; 5] {
    ["seq", "author", "client_id", "author_name", "body"].map(JsValue::from_str)
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
        ("url", c.page.url.as_str().into()),
        ("title", c.page.title.as_str().into()),
        ("referrer", opt(c.page.referrer.as_deref())),
    ]);
    let cart = c.cart.as_ref().map_or(JsValue::UNDEFINED, |cart| {
        let items: js_sys::Array = cart
            .items
            .iter()
            .map(|i| {
                object(&[
                    ("id", opt(i.id.as_deref())),
                    ("name", i.name.as_str().into()),
                    ("quantity", i.quantity.into()),
                    ("unit_price", (i.unit_price as f64).into()),
                    ("url", opt(i.url.as_deref())),
                    ("image_url", opt(i.image_url.as_deref())),
                ])
            })
            .collect();
        object(&[("currency", cart.currency.as_str().into()), ("total", (cart.total as f64).into()), ("items", items.into())])
    });
    object(&[("page", page), ("cart", cart), ("locale", opt(c.locale.as_deref())), ("time_zone", opt(c.time_zone.as_deref()))])
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
    let list = get(v, "items");
    if !js_sys::Array::is_array(&list) {
        return None;
    }
    let items = js::items(&list)
        .iter()
        .map(|i| {
            Some(CartItem {
                id: optional_string(i, "id").ok()?,
                name: string(i, "name")?,
                quantity: u32::try_from(integer(i, "quantity")?).ok()?,
                unit_price: integer(i, "unit_price")?,
                url: optional_string(i, "url").ok()?,
                image_url: optional_string(i, "image_url").ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Cart { currency: string(v, "currency")?, total: integer(v, "total")?, items })
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
        name: string(v, "name")?,
        brand_color: string(v, "brand_color").unwrap_or_default(),
        greeting: string(v, "greeting").unwrap_or_default(),
        expected_reply: string(v, "expected_reply").unwrap_or_default(),
        available_now: get(v, "available_now").as_bool().unwrap_or(true),
        next_open_at: string(v, "next_open_at"),
    })
}
