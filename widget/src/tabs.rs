//! What the tabs showing a site tell each other over a BroadcastChannel. One tab leads (it
//! holds the Web Lock `pigeon:<site>:live`, which passes on when it closes) and relays what
//! its live socket hears; every tab shows the same thread, read state and session.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{BroadcastChannel, MessageEvent};

use crate::js;
use crate::store::Session;
use crate::wire::{field, kind};

/// What tabs tell each other (posted as plain objects, `{type, ...}`).
#[derive(Debug, Clone)]
pub enum Note {
    /// A stored message object (from the live socket or an acknowledged send).
    Message(JsValue),
    /// The shopper has read up to `seq` in some tab.
    Read(u64),
    /// A conversation was started (or opened from an email) in some tab.
    Session(Session),
    /// `Pigeon('forget')` in some tab: everything of this site is erased in this browser.
    Forget,
    /// The relay no longer has this conversation (erased elsewhere): the next message starts
    /// a new one.
    Gone(String),
}

impl Note {
    fn to_js(&self) -> JsValue {
        let (tag, key, value) = match self {
            Note::Message(m) => (kind::MESSAGE, field::MESSAGE, m.clone()),
            Note::Read(seq) => (kind::READ, field::SEQ, (*seq as f64).into()),
            Note::Session(s) => (kind::SESSION, field::SESSION, s.to_js()),
            Note::Gone(id) => (kind::GONE, field::ID, id.as_str().into()),
            Note::Forget => (kind::FORGET, field::TYPE, kind::FORGET.into()),
        };
        js::object(&[(field::TYPE, tag.into()), (key, value)])
    }

    fn from_js(v: &JsValue) -> Option<Note> {
        Some(match js::string(v, field::TYPE)?.as_str() {
            kind::MESSAGE => Note::Message(js::get(v, field::MESSAGE)),
            kind::READ => Note::Read(js::integer(v, field::SEQ)?.max(0) as u64),
            kind::SESSION => Note::Session(Session::from_js(&js::get(v, field::SESSION))?),
            kind::GONE => Note::Gone(js::string(v, field::ID)?),
            kind::FORGET => Note::Forget,
            _ => return None,
        })
    }
}

pub struct Tabs {
    channel: Option<BroadcastChannel>,
}

impl Tabs {
    /// Listens to the site's channel; `on_note` gets what other tabs say.
    pub fn join(site: &str, on_note: impl Fn(Note) + 'static) -> Tabs {
        let channel = BroadcastChannel::new(&crate::store::db_name(site)).ok();
        if let Some(ch) = &channel {
            let cb = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
                if let Some(note) = Note::from_js(&ev.data()) {
                    on_note(note);
                }
            });
            ch.set_onmessage(Some(cb.as_ref().unchecked_ref()));
            cb.forget();
        }
        Tabs { channel }
    }

    pub fn tell(&self, note: &Note) {
        if let Some(ch) = &self.channel {
            let _ = ch.post_message(&note.to_js());
        }
    }

    pub fn close(&self) {
        if let Some(ch) = &self.channel {
            ch.close();
        }
    }
}

/// Asks for the site's live lock; once this tab holds it (at once, or when the tab that held
/// it closes) `on_leader` runs and says whether it still wants it. Held until the page goes
/// away or the returned function is called (teardown). Without Web Locks every tab leads.
pub fn elect(site: &str, on_leader: impl FnOnce() -> bool + 'static) -> Option<js_sys::Function> {
    let (held, release) = crate::util::deferred();
    let granted = move || if on_leader() { held } else { js_sys::Promise::resolve(&JsValue::NULL) };
    crate::util::request_lock(&format!("pigeon:{site}:live"), granted).map(|_| release)
}
