//! The widget reads and writes the v1 wire objects field by field (no serde in the wasm), with
//! the names in `wire::field`. These tests hold that code to the protocol crate's serde
//! definitions, in a real browser: every shape the widget reads is built from the protocol's
//! types and must parse; every shape it writes must parse as the protocol's type and write
//! back to the same JSON (a misnamed or extra field would be lost on the way); anything of the
//! wrong shape is refused rather than half-read.
#![cfg(target_arch = "wasm32")]

use pigeon_protocol::{
    Author, BusinessHours, Cart, CartItem, ClientFrame, Context, Conversation, CreatedConversation, DayHours, ErrorBody, MarkRead, Message,
    Page, PostMessage, Resume, ServerFrame, SetContact, SiteConfig, StoredMessage, validate,
};
use pigeon_widget::store::{Pending, Session};
use pigeon_widget::thread::Entry;
use pigeon_widget::wire::{self, Heard};
use pigeon_widget::js;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> JsValue {
    js::parse(json).expect("test JSON")
}

/// A protocol value as the widget gets it from the relay: serde's JSON, parsed by the browser.
macro_rules! from_protocol {
    ($value:expr) => {
        parse(&serde_json::to_string(&$value).unwrap())
    };
}

/// What the widget wrote (JSON text), read as the protocol type `$t`. It must parse, and serde
/// writing it back must give the same JSON: serde ignores unknown fields, so a misnamed or
/// extra field shows up as a difference here.
macro_rules! as_protocol {
    ($t:ty, $sent:expr) => {{
        let sent: &str = &$sent;
        let value: $t = serde_json::from_str(sent).unwrap_or_else(|e| panic!("not a {}: {e}: {sent}", stringify!($t)));
        let back = serde_json::to_value(&value).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(sent).unwrap(), "{} written back differs from what the widget sent", stringify!($t));
        value
    }};
}

fn cart() -> Cart {
    Cart {
        currency: "EUR".into(),
        total: 11998,
        items: vec![
            CartItem { id: Some("sku-1".into()), name: "Trail Runner <2> \"42\"".into(), quantity: 2, unit_price: 5999, url: Some("https://shop.example/p/1".into()), image_url: Some("https://shop.example/i/1.jpg".into()) },
            CartItem { id: None, name: "Socken".into(), quantity: 1, unit_price: 0, url: None, image_url: None },
        ],
    }
}

/// A context with every optional field set, and one with none.
fn contexts() -> [Context; 2] {
    let full = Context {
        page: Page { url: "https://shop.example/p/1?x=1".into(), title: "Trail Runner".into(), referrer: Some("https://search.example/".into()) },
        cart: Some(cart()),
        locale: Some("de-DE".into()),
        time_zone: Some("Europe/Berlin".into()),
    };
    let bare = Context { page: Page { url: "https://shop.example/".into(), title: String::new(), referrer: None }, ..Default::default() };
    [full, bare]
}

/// Messages of every author, with and without the optional `author_name` and `context`.
fn messages() -> Vec<Message> {
    let [full, _] = contexts();
    let m = |seq: u64, author, author_name: Option<&str>, body: &str, context| Message {
        id: format!("m{seq}"),
        seq,
        client_id: format!("c-{seq}"),
        author,
        author_name: author_name.map(Into::into),
        body: body.into(),
        created_at: "2026-11-21T09:00:00Z".into(),
        context,
        attachments: vec![],
    };
    vec![
        m(1, Author::Shopper, None, "Do these run small?", Some(full)),
        m(2, Author::Agent, Some("Ana"), "Grüße 👋 <b>not bold</b>", None),
        m(3, Author::System, None, "Closed", None),
        m(validate::MAX_SEQ, Author::Agent, Some("Bo"), "the last seq a browser holds exactly", None),
    ]
}

fn entry_of(m: &Message) -> Entry {
    Entry::stored(m.seq, m.client_id.clone(), m.author, m.author_name.clone(), m.body.clone())
}

#[wasm_bindgen_test]
fn a_stored_message_from_the_relay_becomes_a_thread_entry() {
    for message in messages() {
        assert_eq!(wire::entry(&from_protocol!(message)), Some(entry_of(&message)), "{message:?}");
    }
    // A restore reads the stored messages all at once.
    let stored: Vec<JsValue> = messages().iter().map(|m| from_protocol!(m)).collect();
    assert_eq!(wire::entries(&stored), messages().iter().map(entry_of).collect::<Vec<_>>());

    for bad in [
        r#"{"seq":0,"client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":1.5,"client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":"1","client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":9007199254740992,"client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":1,"client_id":"c","author":"robot","body":"x"}"#,
        r#"{"seq":1,"client_id":"c","author":"agent","body":5}"#,
        r#"{"seq":1,"author":"agent","body":"x"}"#,
        r#"[1,2]"#,
        r#"null"#,
    ] {
        assert!(wire::entry(&parse(bad)).is_none(), "{bad}");
    }
}

#[wasm_bindgen_test]
fn every_frame_the_relay_sends_is_heard_or_left_to_the_close_code() {
    for message in messages() {
        let frame = from_protocol!(ServerFrame::Message { message: message.clone() });
        let Some(Heard::Message(m)) = wire::heard(&frame) else { panic!("a message frame is a message: {message:?}") };
        assert_eq!(wire::entry(&m), Some(entry_of(&message)));
    }
    for last_seq in [0, 42, validate::MAX_SEQ] {
        let Some(Heard::Ready(n)) = wire::heard(&from_protocol!(ServerFrame::Ready { last_seq })) else { panic!("ready {last_seq}") };
        assert_eq!(n, last_seq, "ready.last_seq");
    }
    // `pong` needs nothing; an `error` comes just before the close, whose code says what to do.
    for ignored in [ServerFrame::Pong, ServerFrame::Error { code: "not_found".into(), message: "No such conversation.".into() }] {
        assert!(wire::heard(&from_protocol!(ignored)).is_none(), "{ignored:?}");
    }
    for bad in [r#"{"message":{}}"#, r#"{"type":"hello","token":"t","after":0}"#, r#""ready""#, r#"null"#] {
        assert!(wire::heard(&parse(bad)).is_none(), "{bad}");
    }
}

#[wasm_bindgen_test]
fn the_hello_the_widget_sends_is_the_protocols_hello() {
    for after in [0, 7, validate::MAX_SEQ] {
        let hello = as_protocol!(ClientFrame, wire::hello("tok.en-1", after));
        assert_eq!(hello, ClientFrame::Hello { token: "tok.en-1".into(), after });
    }
}

#[wasm_bindgen_test]
fn the_post_body_and_the_outbox_record_are_the_protocols_post_message() {
    for context in contexts() {
        let pending = Pending { client_id: "c-01HX_abc".into(), body: "Größe 42? \"ja\" <b>".into(), context: wire::context(&context), queued_at: 1_763_715_600_000.0 };
        let expected = PostMessage { client_id: pending.client_id.clone(), body: pending.body.clone(), context: Some(context) };
        assert_eq!(as_protocol!(PostMessage, js::stringify(&wire::post(&pending))), expected);
        // The outbox record is the same object plus `queued_at`, so it reads the same.
        let record = js::stringify(&pending.to_js());
        assert_eq!(serde_json::from_str::<PostMessage>(&record).unwrap(), expected, "{record}");
    }
}

#[wasm_bindgen_test]
fn a_message_sent_on_the_socket_is_the_protocols_send_frame() {
    for context in contexts() {
        let pending = Pending { client_id: "c-01HX_abc".into(), body: "Größe 42? \"ja\" <b>".into(), context: wire::context(&context), queued_at: 1_763_715_600_000.0 };
        let expected = ClientFrame::Send(PostMessage { client_id: pending.client_id.clone(), body: pending.body.clone(), context: Some(context) });
        assert_eq!(as_protocol!(ClientFrame, wire::send(&pending)), expected);
    }
}

#[wasm_bindgen_test]
fn the_answer_to_a_send_is_heard_and_only_an_ack_stores_the_message() {
    for message in messages() {
        let ack = from_protocol!(ServerFrame::Ack { client_id: message.client_id.clone(), message: message.clone(), created: true });
        let Some(Heard::Answer(frame)) = wire::heard(&ack) else { panic!("an ack is an answer: {message:?}") };
        assert_eq!(wire::acked(&frame).as_ref().and_then(wire::entry), Some(entry_of(&message)));
    }
    let refused = from_protocol!(ServerFrame::Refused { client_id: "c1".into(), code: "rate_limited".into(), message: "Later.".into(), retry_after: Some(3) });
    let Some(Heard::Answer(frame)) = wire::heard(&refused) else { panic!("a refusal is an answer") };
    // A refusal, no answer (`undefined`: timed out, socket closed) or anything else: POST it.
    for not_stored in [frame, JsValue::UNDEFINED, from_protocol!(ServerFrame::Pong), from_protocol!(messages()[0])] {
        assert!(wire::acked(&not_stored).is_none(), "{not_stored:?}");
    }
}

#[wasm_bindgen_test]
fn the_answer_to_a_post_gives_the_stored_message() {
    for message in messages() {
        let answer = from_protocol!(StoredMessage { message: message.clone() });
        assert_eq!(wire::entry(&wire::stored(&answer)), Some(entry_of(&message)), "{message:?}");
    }
    // A bare message or an empty answer has no stored message in it.
    for bad in [from_protocol!(messages()[0]), JsValue::NULL, parse(r#"{"messages":[]}"#)] {
        assert!(wire::entry(&wire::stored(&bad)).is_none(), "{bad:?}");
    }
}

#[wasm_bindgen_test]
fn the_read_mark_the_widget_sends_is_the_protocols_mark_read() {
    for seq in [1, 42, validate::MAX_SEQ] {
        assert_eq!(as_protocol!(MarkRead, js::stringify(&wire::read(seq))), MarkRead { seq });
    }
}

#[wasm_bindgen_test]
fn the_contact_the_widget_sends_is_the_protocols_set_contact() {
    for email in ["ana@shop.example", "ana+größe \"42\"@bücher.example"] {
        assert_eq!(as_protocol!(SetContact, js::stringify(&wire::contact(email))), SetContact { email: email.into() });
    }
}

#[wasm_bindgen_test]
fn the_resume_the_widget_sends_is_the_protocols_resume() {
    let token = "v1.eyJjIjoiMDEyMyJ9.sig-_x";
    assert_eq!(as_protocol!(Resume, js::stringify(&wire::resume(token))), Resume { resume_token: token.into() });
}

#[wasm_bindgen_test]
fn the_context_the_widget_sends_is_the_protocols_context() {
    for c in contexts() {
        let sent = js::stringify(&wire::context(&c));
        assert_eq!(as_protocol!(Context, sent), c);
        assert!(!sent.contains("null"), "absent fields are left out: {sent}");
    }
}

#[wasm_bindgen_test]
fn a_cart_from_the_page_is_read_exactly_or_not_at_all() {
    assert_eq!(wire::cart(&from_protocol!(cart())), Some(cart()));
    for bad in [
        r#"{"currency":"EUR","total":1,"items":{}}"#,
        r#"{"currency":"EUR","total":1.5,"items":[]}"#,
        r#"{"total":1,"items":[]}"#,
        r#"{"currency":"EUR","total":1,"items":[{"name":"a","quantity":-1,"unit_price":1}]}"#,
        r#"{"currency":"EUR","total":1,"items":[{"name":"a","quantity":1.5,"unit_price":1}]}"#,
        r#"{"currency":"EUR","total":1,"items":[{"name":"a","quantity":1,"unit_price":1,"id":5}]}"#,
        r#"{"currency":"EUR","total":1,"items":[{"quantity":1,"unit_price":1}]}"#,
        r#""a cart""#,
    ] {
        assert_eq!(wire::cart(&parse(bad)), None, "{bad}");
    }
}

#[wasm_bindgen_test]
fn the_sites_settings_are_read_with_safe_defaults() {
    let hours = |open: &str, close: &str| vec![DayHours { open: open.into(), close: close.into() }];
    let config = SiteConfig {
        id: "shoe-shop".into(),
        name: "Shoe Shop".into(),
        brand_color: "#2f6fed".into(),
        greeting: "Hi! Ask us anything.".into(),
        expected_reply: "within 2 hours".into(),
        business_hours: BusinessHours { time_zone: "Europe/Berlin".into(), days: vec![hours("09:00", "17:00"), hours("09:00", "12:00"), vec![]], holidays: vec![] },
        available_now: false,
        next_open_at: Some("2026-11-23T08:00:00Z".into()),
    };
    let read = wire::site(&from_protocol!(config)).expect("a site");
    let expected = wire::Site {
        name: config.name.clone(),
        brand_color: config.brand_color.clone(),
        greeting: config.greeting.clone(),
        expected_reply: config.expected_reply.clone(),
        available_now: false,
        next_open_at: config.next_open_at.clone(),
    };
    assert_eq!(read, expected);
    let open = SiteConfig { available_now: true, next_open_at: None, ..config };
    assert_eq!(wire::site(&from_protocol!(open)), Some(wire::Site { available_now: true, next_open_at: None, ..expected }));

    let minimal = wire::site(&parse(r#"{"name":"Shop"}"#)).unwrap();
    assert!(minimal.available_now && minimal.greeting.is_empty());
    assert!(wire::site(&parse(r##"{"brand_color":"#fff"}"##)).is_none(), "a site without a name is not a site");
}

#[wasm_bindgen_test]
fn a_created_conversation_gives_the_session_the_browser_keeps() {
    let created = CreatedConversation {
        conversation: Conversation { id: "0123456789abcdef0123456789abcdef".into(), site: "shoe-shop".into(), created_at: "2026-11-21T09:00:00Z".into() },
        token: "v1.abc.def".into(),
    };
    let session = wire::session(&from_protocol!(created)).expect("a session");
    assert_eq!(session, Session { id: created.conversation.id.clone(), token: created.token.clone() });
    // The IndexedDB record reads back as the same session.
    assert_eq!(Session::from_js(&session.to_js()), Some(session));
    for bad in [r#"{"conversation":{"id":"x"}}"#, r#"{"token":"t"}"#, r#"{"conversation":"x","token":"t"}"#, r#"{"id":"x","token":"t"}"#, r#"null"#] {
        assert!(wire::session(&parse(bad)).is_none(), "{bad}");
    }
}

#[wasm_bindgen_test]
fn an_error_answer_gives_its_code_and_message() {
    let body = ErrorBody::new("message_too_long", "The message has 4001 characters; at most 4000 are allowed.");
    assert_eq!(wire::error(&from_protocol!(body)), (body.error.code.clone(), body.error.message.clone()));
    // Not the relay's error shape (a proxy's page, an empty body): a code that says so.
    for other in [JsValue::UNDEFINED, parse(r#"{"code":"x","message":"y"}"#), parse(r#"{"error":"x"}"#)] {
        assert_eq!(wire::error(&other), ("http_error".into(), String::new()));
    }
}
