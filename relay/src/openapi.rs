//! `relay/openapi.json`, the OpenAPI 3.1 document of the agent API (served as
//! `/v1/openapi.json` from the relay's assets), checked here against the router and the
//! protocol's types: every operation it lists is an agent route of the router, every agent
//! route is in it, and its schemas have exactly the fields the wire types have. (The e2e
//! suite checks real answers against its schemas with a JSON Schema validator.)

use crate::routes::Route;
use crate::webhooks::Call;

/// Where the document lists a route: its path template and method; `None` for routes that
/// are not the agent API. No wildcard arm: a new route must be placed here, so the document
/// cannot silently miss it.
pub fn documented(route: &Route) -> Option<(&'static str, &'static str)> {
    use Route::*;
    Some(match route {
        AgentListConversations { .. } => ("/v1/agent/sites/{site}/conversations", "get"),
        AgentListMessages { .. } => ("/v1/agent/conversations/{id}/messages", "get"),
        AgentPostMessage { .. } => ("/v1/agent/conversations/{id}/messages", "post"),
        AgentPostFile { .. } => ("/v1/agent/conversations/{id}/files", "post"),
        AgentGetFile { .. } => ("/v1/agent/conversations/{id}/files/{file}", "get"),
        AgentMarkRead { .. } => ("/v1/agent/conversations/{id}/read", "post"),
        AgentClose { .. } => ("/v1/agent/conversations/{id}/close", "post"),
        AgentMetrics { .. } => ("/v1/agent/sites/{site}/metrics", "get"),
        AgentWebhooks { call, .. } => match call {
            Call::List => ("/v1/agent/sites/{site}/webhooks", "get"),
            Call::Add => ("/v1/agent/sites/{site}/webhooks", "post"),
            Call::Change(_) => ("/v1/agent/sites/{site}/webhooks/{endpoint}", "patch"),
            Call::Delete(_) => ("/v1/agent/sites/{site}/webhooks/{endpoint}", "delete"),
            Call::Deliveries(_) => ("/v1/agent/sites/{site}/webhooks/{endpoint}/deliveries", "get"),
            Call::Resend { .. } => ("/v1/agent/sites/{site}/webhooks/{endpoint}/deliveries/{delivery}/resend", "post"),
            Call::Test(_) => ("/v1/agent/sites/{site}/webhooks/{endpoint}/test", "post"),
        },
        SiteConfig { .. } | CreateConversation { .. } | ListMessages { .. } | PostMessage { .. } | Live { .. } | SetContact { .. } | MarkRead { .. }
        | Export { .. } | Delete { .. } | Resume | InboxSignIn | InboxSession | InboxSignOut | InboxMe | InboxConversations { .. } | InboxSearch { .. }
        | InboxLive { .. } | InboxDetails { .. } | InboxMessages { .. } | InboxReply { .. } | InboxRead { .. } | InboxClose { .. } | InboxReopen { .. }
        | InboxAssign { .. } | InboxNotes { .. } | InboxAddNote { .. } | InboxTeam { .. } | InboxInvite { .. } | InboxChangeRole { .. } | InboxRemove { .. }
        | InboxReplies { .. } | InboxAddReply { .. } | InboxChangeReply { .. } | InboxDeleteReply { .. } | InboxSettings { .. } | InboxSaveSettings { .. }
        | InboxPreviewSettings { .. } | InboxProfile | InboxSaveProfile | InboxPush | InboxAddDevice | InboxRemoveDevice | InboxWebhooks { .. } | InboxTokens { .. }
        | InboxAddToken { .. } | InboxRevokeToken { .. } | Identify { .. } | InboxIdentity { .. } | InboxMakeIdentity { .. } | InboxIdentityOff { .. }
        | InboxMetrics { .. } | RatingState { .. } | Rate { .. } | Health | PostFile { .. } | GetFile { .. } | InboxPostFile { .. }
        | InboxGetFile { .. } | SignedFile { .. } => {
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use pigeon_protocol::*;
    use serde_json::{Value, json};
    use worker::Method;

    use super::*;
    use crate::routes::{Audience, Parsed, parse};

    fn doc() -> Value {
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn method(m: &str) -> Method {
        match m {
            "get" => Method::Get,
            "post" => Method::Post,
            "patch" => Method::Patch,
            "delete" => Method::Delete,
            "put" => Method::Put,
            other => panic!("method {other}"),
        }
    }

    fn metrics_sample() -> Metrics {
        use pigeon_protocol::metrics::{ChannelCounts, DayCount, Durations, TeammateLoad};
        let d = Durations { count: 2, median_minutes: Some(20), p90_minutes: Some(90), business_median_minutes: Some(10), business_p90_minutes: Some(60) };
        Metrics {
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            time_zone: "Europe/Berlin".into(),
            conversations: 2,
            per_day: vec![DayCount { date: "2026-11-01".into(), conversations: 2 }],
            first_response: d.clone(),
            resolution: d,
            closed: 2,
            reopened: 1,
            reopen_rate: Some(0.5),
            first_contact_resolution: Some(0.5),
            replies_by_channel: ChannelCounts { inbox: 1, email: 1, api: 1 },
            teammates: vec![TeammateLoad { email: "sam@shop.test".into(), name: Some("Sam".into()), conversations: 1, replies: 2 }],
            auto_closed: 1,
            ratings: pigeon_protocol::metrics::RatingSummary {
                asked: 2,
                rated: 1,
                response_rate: Some(0.5),
                satisfaction_average: Some(4.0),
                satisfaction_counts: [0, 0, 0, 1, 0],
                effort_average: Some(2.0),
                effort_answers: 1,
            },
        }
    }

    /// The template with sample values in its `{params}`.
    fn sample(path: &str) -> String {
        path.replace("{site}", "demo").replace("{id}", "c0ffee").replace("{file}", "f00d").replace("{endpoint}", "ep_1").replace("{delivery}", "7")
    }

    #[test]
    fn every_operation_is_an_agent_route_and_every_agent_route_is_documented() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut listed = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (m, op) in item.as_object().unwrap() {
                let route = match parse(&method(m), &sample(path)) {
                    Parsed::Route(r) => r,
                    other => panic!("{m} {path} is not a route: {other:?}"),
                };
                assert_eq!(route.audience(), Audience::Agent, "{m} {path}");
                assert_eq!(documented(&route), Some((path.as_str(), m.as_str())), "{m} {path}");
                assert!(op["operationId"].is_string() && op["responses"].is_object(), "{m} {path}");
                // Every agent route takes the site's key or a teammate's token (routes::agent_context).
                assert_eq!(op["security"], json!([{ "siteKey": [] }, { "personalToken": [] }]), "{m} {path}");
                for scheme in ["siteKey", "personalToken"] {
                    assert_eq!(doc["components"]["securitySchemes"][scheme]["scheme"], "bearer");
                }
                listed.insert((path.clone(), m.clone()));
            }
        }
        // Every agent route the router has, by its own parse.
        let agent: BTreeSet<(String, String)> = [
            (Method::Get, "/v1/agent/sites/demo/conversations"),
            (Method::Get, "/v1/agent/conversations/c/messages"),
            (Method::Post, "/v1/agent/conversations/c/messages"),
            (Method::Post, "/v1/agent/conversations/c/read"),
            (Method::Post, "/v1/agent/conversations/c/close"),
            (Method::Get, "/v1/agent/sites/demo/webhooks"),
            (Method::Post, "/v1/agent/sites/demo/webhooks"),
            (Method::Patch, "/v1/agent/sites/demo/webhooks/ep"),
            (Method::Delete, "/v1/agent/sites/demo/webhooks/ep"),
            (Method::Get, "/v1/agent/sites/demo/webhooks/ep/deliveries"),
            (Method::Post, "/v1/agent/sites/demo/webhooks/ep/deliveries/1/resend"),
            (Method::Post, "/v1/agent/sites/demo/webhooks/ep/test"),
            (Method::Get, "/v1/agent/sites/demo/metrics"),
            (Method::Post, "/v1/agent/conversations/c/files"),
            (Method::Get, "/v1/agent/conversations/c/files/f"),
        ]
        .into_iter()
        .map(|(m, p)| match parse(&m, p) {
            Parsed::Route(r) => documented(&r).map(|(p, m)| (p.to_owned(), m.to_owned())).unwrap_or_else(|| panic!("{p} undocumented")),
            other => panic!("{p}: {other:?}"),
        })
        .collect();
        assert_eq!(listed, agent);
        // Inbox and browser routes are not in it.
        for (m, p) in [(Method::Get, "/v1/inbox/sites/demo/webhooks"), (Method::Post, "/v1/inbox/sites/demo/tokens"), (Method::Post, "/v1/sites/demo/conversations"), (Method::Get, "/v1/health")] {
            let Parsed::Route(r) = parse(&m, p) else { panic!("{p}") };
            assert_eq!(documented(&r), None, "{p}");
        }
    }

    /// Resolves `{"$ref": "#/components/schemas/X"}`.
    fn schema<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
        match s["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
            None => s,
        }
    }

    /// `value` (the protocol's serde output, every optional field filled) has exactly the
    /// schema's properties, the required ones included; nested objects and arrays too.
    fn fits(doc: &Value, name: &str, s: &Value, value: &Value) {
        let s = schema(doc, s);
        // `X or null`: a value fits the X.
        if let Some(options) = s["oneOf"].as_array() {
            if let Some(x) = options.iter().find(|o| o["type"] != "null").filter(|_| !value.is_null()) {
                fits(doc, name, x, value);
            }
            return;
        }
        match value {
            Value::Object(map) => {
                let props = s["properties"].as_object().unwrap_or_else(|| panic!("{name}: an object where the schema has {s}"));
                let have: BTreeSet<&String> = map.keys().collect();
                let documented: BTreeSet<&String> = props.keys().collect();
                assert_eq!(have, documented, "{name}: fields");
                for r in s["required"].as_array().unwrap() {
                    assert!(map.contains_key(r.as_str().unwrap()), "{name}: {r} required");
                }
                for (k, v) in map {
                    fits(doc, &format!("{name}.{k}"), &props[k], v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| fits(doc, name, &s["items"], v)),
            _ => {}
        }
    }

    #[test]
    fn the_schemas_have_the_wire_types_fields() {
        let doc = doc();
        let cart = Cart { currency: "EUR".into(), total: 5998, items: vec![CartItem { id: Some("sku".into()), name: "Jacket".into(), quantity: 2, unit_price: 2999, url: Some("u".into()), image_url: Some("i".into()) }] };
        let context = Context { page: Page { url: "https://shop.test/".into(), title: "Shop".into(), referrer: Some("r".into()) }, cart: Some(cart), locale: Some("de".into()), time_zone: Some("Europe/Berlin".into()) };
        let message = Message { id: "m_1".into(), seq: 1, client_id: "c".into(), author: Author::Agent, author_name: Some("Ana".into()), body: "Hi".into(), created_at: "t".into(), context: Some(context.clone()), attachments: vec![Attachment { id: "f".into(), name: "label.jpg".into(), content_type: "image/jpeg".into(), size: 9, width: Some(4), height: Some(3) }] };
        let summary = ConversationSummary { id: "c".into(), status: Status::Open, created_at: "t".into(), last_seq: 1, last_message_at: Some("t".into()), last_message_preview: Some("Hi".into()), last_author: Some(Author::Shopper), unread_count: 1, context: Some(context) };
        let endpoint = WebhookEndpoint { id: "ep".into(), url: "https://h.test/".into(), events: vec!["message.created".into()], description: "d".into(), enabled: true, disabled_reason: Some("r".into()), failing_since: Some("t".into()), created_at: "t".into() };
        let delivery = WebhookDelivery { id: 1, event_id: "evt".into(), kind: "message.created".into(), conversation: "c".into(), state: DeliveryState::Pending, attempts: 1, last_status: Some(503), last_error: Some("e".into()), created_at: "t".into(), delivered_at: Some("t".into()), next_attempt_at: Some("t".into()) };
        let samples = [
            ("Error", json!(ErrorBody::new("not_found", "Not found."))),
            ("ConversationList", json!(ConversationList { conversations: vec![summary] })),
            ("MessagesPage", json!(MessagesPage { messages: vec![message.clone()], has_more: false })),
            ("StoredMessage", json!(StoredMessage { message })),
            ("PostAgentMessage", json!(PostAgentMessage { client_id: "c".into(), body: "b".into(), author_name: Some("Ana".into()) })),
            ("MarkRead", json!(MarkRead { seq: 3 })),
            ("WebhookEndpoints", json!(WebhookEndpoints { endpoints: vec![endpoint.clone()] })),
            ("WebhookSaved", json!(WebhookSaved { endpoint, secret: Some("whsec_x".into()) })),
            ("PostWebhook", json!(PostWebhook { url: "u".into(), events: vec![], description: "d".into() })),
            ("PatchWebhook", json!(PatchWebhook { url: Some("u".into()), events: Some(vec![]), description: Some("d".into()), enabled: Some(true), rotate_secret: true })),
            ("WebhookDeliveries", json!(WebhookDeliveries { deliveries: vec![delivery] })),
            ("WebhookTest", json!(WebhookTest { event_id: "evt_test_1".into(), delivered: false, status: Some(503), error: Some("e".into()), duration_ms: 12 })),
            ("Metrics", json!(metrics_sample())),
        ];
        for (name, value) in &samples {
            fits(&doc, name, &json!({ "$ref": format!("#/components/schemas/{name}") }), value);
        }
        // The event types are the protocol's.
        let types: Vec<&str> = doc["components"]["schemas"]["EventType"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(types, webhooks::EVENT_TYPES);
    }
}
