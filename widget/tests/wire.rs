//! The widget reads and writes the v1 wire objects field by field (no serde in the wasm).
//! These tests hold that code to the protocol crate's serde definitions, in a real browser:
//! what the relay sends parses, what the widget sends is what the relay expects, and
//! anything of the wrong shape is refused rather than half-read.
#![cfg(target_arch = "wasm32")]

use pigeon_protocol::{Author, Cart, CartItem, Context, Message, Page};
use pigeon_widget::{js, wire};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> wasm_bindgen::JsValue {
    js::parse(json).expect("test JSON")
}

fn cart() -> Cart {
    Cart {
        currency: "EUR".into(),
        total: 11998,
        items: vec![
            CartItem { id: Some("sku-1".into()), name: "Trail Runner <2> \"42\"".into(), quantity: 2, unit_price: 5999, url: Some("https://shop.example/p/1".into()), image_url: None },
            CartItem { id: None, name: "Socken".into(), quantity: 1, unit_price: 0, url: None, image_url: None },
        ],
    }
}

#[wasm_bindgen_test]
fn a_stored_message_from_the_relay_becomes_a_thread_entry() {
    let message = Message {
        id: "m1".into(),
        seq: 7,
        client_id: "c-1".into(),
        author: Author::Agent,
        author_name: Some("Ana".into()),
        body: "Grüße 👋 <b>not bold</b>".into(),
        created_at: "2026-11-21T09:00:00Z".into(),
        context: None,
    };
    let entry = wire::entry(&parse(&serde_json::to_string(&message).unwrap())).expect("parsed");
    assert_eq!((entry.seq, entry.client_id.as_str(), entry.author), (Some(7), "c-1", Author::Agent));
    assert_eq!((entry.author_name.as_deref(), entry.body.as_str()), (Some("Ana"), message.body.as_str()));

    for bad in [
        r#"{"seq":0,"client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":1.5,"client_id":"c","author":"agent","body":"x"}"#,
        r#"{"seq":"1","client_id":"c","author":"agent","body":"x"}"#,
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
fn the_context_the_widget_sends_is_the_protocols_context() {
    let full = Context {
        page: Page { url: "https://shop.example/p/1?x=1".into(), title: "Trail Runner".into(), referrer: Some("https://search.example/".into()) },
        cart: Some(cart()),
        locale: Some("de-DE".into()),
        time_zone: Some("Europe/Berlin".into()),
    };
    let bare = Context { page: Page { url: "https://shop.example/".into(), title: String::new(), referrer: None }, ..Default::default() };
    for c in [full, bare] {
        let sent = js::stringify(&wire::context(&c));
        assert_eq!(serde_json::from_str::<Context>(&sent).unwrap(), c, "{sent}");
        assert!(!sent.contains("null"), "absent fields are left out: {sent}");
    }
}

#[wasm_bindgen_test]
fn a_cart_from_the_page_is_read_exactly_or_not_at_all() {
    let good = serde_json::to_string(&cart()).unwrap();
    assert_eq!(wire::cart(&parse(&good)), Some(cart()));
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
    let site = wire::site(&parse(r##"{"id":"s","name":"Shoe Shop","brand_color":"#2f6fed","greeting":"Hi!","expected_reply":"within 2 hours","available_now":false,"next_open_at":"2026-11-23T08:00:00Z","business_hours":{}}"##)).unwrap();
    assert_eq!((site.name.as_str(), site.available_now, site.next_open_at.as_deref()), ("Shoe Shop", false, Some("2026-11-23T08:00:00Z")));
    let minimal = wire::site(&parse(r#"{"name":"Shop"}"#)).unwrap();
    assert!(minimal.available_now && minimal.greeting.is_empty());
    assert!(wire::site(&parse(r##"{"brand_color":"#fff"}"##)).is_none(), "a site without a name is not a site");
}
