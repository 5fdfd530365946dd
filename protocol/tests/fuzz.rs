//! Decoding and validating what a client may send, fuzzed: any bytes, and JSON-shaped input
//! with hostile values, end in a value or a clean error, never a panic; whatever passes
//! validation is within the documented limits.

use pigeon_protocol::{ClientFrame, Context, CreateConversation, PostAgentMessage, PostMessage, validate};
use proptest::prelude::*;

fn decode_all(bytes: &[u8]) {
    if let Ok(m) = serde_json::from_slice::<PostMessage>(bytes)
        && let Ok(ok) = validate::shopper_message(&m)
    {
        assert!(!ok.body.is_empty() && ok.body.chars().count() <= validate::MAX_BODY_CHARS);
        assert!(validate::client_id(&ok.client_id).is_ok());
    }
    if let Ok(m) = serde_json::from_slice::<PostAgentMessage>(bytes) {
        let _ = validate::agent_message(&m);
    }
    if let Ok(c) = serde_json::from_slice::<CreateConversation>(bytes)
        && let Some(ctx) = &c.context
    {
        let _ = validate::context(ctx);
    }
    if let Ok(ctx) = serde_json::from_slice::<Context>(bytes)
        && validate::context(&ctx).is_ok()
    {
        assert!(ctx.cart.as_ref().is_none_or(|c| c.items.len() <= validate::MAX_CART_ITEMS && c.total >= 0));
    }
    let _ = serde_json::from_slice::<ClientFrame>(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        if let Ok(e) = validate::email(s) {
            assert!(!e.contains(['\r', '\n', ',', '<', '>', ' ']));
        }
        let _ = validate::body(s);
        let _ = validate::client_id(s);
        let _ = validate::site_id(s);
        let _ = validate::conversation_id(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn json_shaped(client_id in "\\PC{0,80}", body in "(\\PC|\\r|\\n|\u{0}){0,200}", name in "\\PC{0,120}",
                   total in any::<i64>(), qty in any::<u32>(), currency in "[A-Za-z]{0,4}", n in 0usize..120) {
        let items: Vec<_> = (0..n).map(|i| serde_json::json!({"name": format!("{name}{i}"), "quantity": qty, "unit_price": total})).collect();
        let value = serde_json::json!({
            "client_id": client_id, "body": body, "author_name": name,
            "context": {"page": {"url": name, "title": body}, "cart": {"currency": currency, "total": total, "items": items}},
            "page": {"url": name, "title": body},
            "type": "hello", "token": body, "after": qty,
        });
        decode_all(value.to_string().as_bytes());
    }
}
