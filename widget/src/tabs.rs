//! One live connection per browser: the tabs showing a site elect a leader with the Web Locks
//! API (the lock passes on when the leader closes), and the leader relays what it hears to
//! the others over a BroadcastChannel. Every tab shows the same thread and read state.

use pigeon_protocol::Message;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{BroadcastChannel, MessageEvent};

use crate::store::Session;

/// What tabs tell each other.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Note {
    /// A stored message (from the live socket or an acknowledged send).
    Message { message: Message },
    /// The shopper has read up to `seq` in some tab.
    Read { seq: u64 },
    /// A conversation was started in some tab.
    Session { session: Session },
}

pub struct Tabs {
    channel: Option<BroadcastChannel>,
}

impl Tabs {
    /// Listens to the site's channel; `on_note` gets what other tabs say.
    pub fn join(site: &str, on_note: impl Fn(Note) + 'static) -> Tabs {
        let channel = BroadcastChannel::new(&format!("pigeon:{site}")).ok();
        if let Some(ch) = &channel {
            let cb = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
                if let Some(note) = ev.data().as_string().and_then(|s| serde_json::from_str(&s).ok()) {
                    on_note(note);
                }
            });
            ch.set_onmessage(Some(cb.as_ref().unchecked_ref()));
            cb.forget();
        }
        Tabs { channel }
    }

    pub fn tell(&self, note: &Note) {
        if let (Some(ch), Ok(text)) = (&self.channel, serde_json::to_string(note)) {
            let _ = ch.post_message(&JsValue::from_str(&text));
        }
    }
}

/// Calls `on_leader` once this tab holds the site's live lock (at once, or when the tab that
/// held it closes). Without Web Locks every tab leads.
pub fn elect(site: &str, on_leader: impl FnOnce() + 'static) {
    let locks = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &"locks".into()).ok())
        .filter(|l| !l.is_undefined());
    let Some(locks) = locks else { return on_leader() };
    let request = js_sys::Reflect::get(&locks, &"request".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(request) = request else { return on_leader() };
    // Held until the page goes away: the callback's promise never settles.
    let cb = Closure::once_into_js(move |_lock: JsValue| {
        on_leader();
        js_sys::Promise::new(&mut |_, _| {})
    });
    let _ = request.call2(&locks, &JsValue::from_str(&format!("pigeon:{site}:live")), &cb);
}
