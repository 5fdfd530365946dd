//! The engine behind the panel: restores the thread from IndexedDB before any network call,
//! then keeps it in step with the relay and the site's other tabs. A thin facade over three
//! small state machines, each in its own module:
//!
//! - `session`: which conversation this browser holds: created once (single-flight, across
//!   tabs), dropped when the relay says it is gone, switched by a resume link, forgotten.
//! - `outbox`: messages typed but not yet stored: persisted first, sent in order, retried.
//! - `live`: the socket (leader tab only), the `through` watermark and catching up on gaps.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use pigeon_protocol::{Cart, Context, Page};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::spawn_local;

use crate::api::Api;
use crate::i18n::Words;
use crate::live::Live;
use crate::outbox::Outbox;
use crate::session::Sessions;
use crate::store::{Session, Store, key};
use crate::tabs::{self, Note, Tabs};
use crate::thread::{Edit, Entry, Marks, Thread};
use crate::util::{Wake, window};
use crate::wire;

/// Retry delays: 0.5 s doubling to 30 s, forever while the page is open; cut short when the
/// browser says it is back online.
pub const FIRST_BACKOFF_MS: i32 = 500;
pub const MAX_BACKOFF_MS: i32 = 30_000;

pub struct Engine {
    pub api: Api,
    pub(crate) store: Option<Rc<Store>>,
    pub(crate) sessions: Sessions,
    pub(crate) outbox: Outbox,
    pub(crate) live: Live,
    tabs: RefCell<Option<Tabs>>,
    /// Releases the live lock this tab holds or waits for.
    lead: RefCell<Option<js_sys::Function>>,
    /// Cuts backoff sleeps short (back online, teardown).
    pub(crate) wake: Wake,
    /// Forgotten (`Pigeon('forget')`): every loop ends, nothing reconnects.
    pub(crate) stopped: Cell<bool>,
    pub thread: RwSignal<Thread>,
    pub context: RwSignal<Context>,
    pub online: RwSignal<bool>,
    pub contact: RwSignal<Option<String>>,
    pub draft: RwSignal<String>,
    /// A problem to show above the composer (a refused input, a resume link that failed, a
    /// conversation that is gone).
    pub problem: RwSignal<Option<String>>,
    pub(crate) words: &'static Words,
}

pub fn page_context() -> Context {
    let doc = window().document();
    let (title, referrer) = doc.map(|d| (d.title(), d.referrer())).unwrap_or_default();
    Context {
        page: Page { url: window().location().href().unwrap_or_default(), title, referrer: (!referrer.is_empty()).then_some(referrer) },
        cart: None,
        locale: window().navigator().language(),
        time_zone: js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
            .resolved_options()
            .dyn_into::<js_sys::Object>()
            .ok()
            .and_then(|o| js_sys::Reflect::get(&o, &"timeZone".into()).ok())
            .and_then(|v| v.as_string()),
    }
}

impl Engine {
    /// Opens the site's IndexedDB (memory only if the browser refuses) and shows what it
    /// holds, before any network call.
    pub async fn start(api: Api, resume: Option<String>, words: &'static Words) -> Rc<Engine> {
        let store = Store::open(&api.site).await.ok().map(Rc::new);
        let engine = Rc::new(Engine {
            api,
            store,
            sessions: Sessions::default(),
            outbox: Outbox::default(),
            live: Live::default(),
            tabs: RefCell::default(),
            lead: RefCell::default(),
            wake: Wake::default(),
            stopped: Cell::new(false),
            thread: RwSignal::new(Thread::default()),
            context: RwSignal::new(page_context()),
            online: RwSignal::new(window().navigator().on_line()),
            contact: RwSignal::new(None),
            draft: RwSignal::new(String::new()),
            problem: RwSignal::new(None),
            words,
        });
        engine.restore().await;
        crate::mark("pigeon:restored");
        engine.join_tabs();
        engine.watch_connectivity();
        if let Some(token) = resume {
            let me = engine.clone();
            spawn_local(async move { me.resume(token).await });
        }
        engine
    }

    async fn restore(self: &Rc<Self>) {
        let Some(store) = &self.store else { return };
        let Ok((kv, messages, pending)) = store.load(&[key::SESSION, key::READ_SEQ, key::CONTACT, key::DRAFT]).await else { return };
        let [session, read_seq, contact, draft] = &kv[..] else { return };
        self.contact.set(contact.as_string());
        self.draft.set(draft.as_string().unwrap_or_default());
        let mut t = Thread { read_seq: read_seq.as_f64().map_or(0, |n| n as u64), ..Thread::default() };
        for m in wire::entries(&messages) {
            t.apply(m);
        }
        for p in &pending {
            t.push_pending(Entry::pending(p.client_id.clone(), p.body.clone()));
        }
        t.collapse();
        self.thread.set(t);
        self.outbox.restore(pending);
        self.sessions.set(Session::from_js(session));
        self.flush();
    }

    fn join_tabs(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let tabs = Tabs::join(&self.api.site, move |note| {
            let Some(me) = weak.upgrade() else { return };
            match note {
                Note::Message(message) => {
                    if let Some(entry) = wire::entry(&message) {
                        me.edit(Edit::Apply(entry));
                    }
                }
                Note::Read(seq) => me.edit(Edit::Read(seq)),
                Note::Session(session) => me.heard_session(session),
                Note::Gone(id) => {
                    me.drop_conversation(&id);
                }
                // Its storage is gone too (this tab's connection was closed for the deletion).
                Note::Forget => me.wipe(),
            }
        });
        *self.tabs.borrow_mut() = Some(tabs);
        let weak = Rc::downgrade(self);
        let release = tabs::elect(&self.api.site, move || {
            let me = weak.upgrade().filter(|me| !me.stopped.get());
            if let Some(me) = &me {
                me.live.leader.set(true);
                me.start_live();
            }
            me.is_some()
        });
        *self.lead.borrow_mut() = release;
    }

    /// Everything of this site in this tab's memory goes (`forget` here or in another tab).
    pub(crate) fn wipe(&self) {
        self.sessions.set(None);
        self.outbox.clear();
        self.live.close();
        self.thread.set(Thread::default());
        self.contact.set(None);
        self.draft.set(String::new());
    }

    /// Lets go of what this engine holds in the browser: its loops end, the socket closes,
    /// the live lock passes to another tab (or a panel mounted later), the channel closes.
    pub(crate) fn teardown(&self) {
        self.stopped.set(true);
        self.wipe();
        if let Some(release) = self.lead.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
        if let Some(tabs) = self.tabs.borrow_mut().take() {
            tabs.close();
        }
    }

    /// Every change to the thread goes through here (see [`Edit`]).
    pub(crate) fn edit(&self, edit: Edit) {
        self.thread.update(|t| t.edit(edit));
    }

    pub(crate) fn marks(&self) -> Marks {
        self.thread.with_untracked(Thread::marks)
    }

    pub(crate) fn tell(&self, note: Note) {
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.tell(&note);
        }
    }

    fn watch_connectivity(self: &Rc<Self>) {
        let me = Rc::downgrade(self);
        let on_online = Closure::<dyn Fn()>::new(move || {
            if let Some(me) = me.upgrade() {
                me.online.set(true);
                me.wake.wake();
                me.flush();
                me.start_live();
            }
        });
        let online_signal = self.online;
        let on_offline = Closure::<dyn Fn()>::new(move || online_signal.set(false));
        let w = window();
        let _ = w.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        let _ = w.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        on_online.forget();
        on_offline.forget();
    }

    pub fn set_cart(&self, cart: Option<Cart>) {
        self.context.update(|c| c.cart = cart);
    }

    pub fn set_page(&self, page: Page) {
        self.context.update(|c| c.page = page);
    }

    pub fn save_draft(self: &Rc<Self>, text: String) {
        self.draft.set(text.clone());
        if let Some(store) = self.store.clone() {
            spawn_local(async move {
                let _ = store.put(key::DRAFT, &JsValue::from_str(&text)).await;
            });
        }
    }

    /// The shopper has seen the thread up to `seen` (what is on screen): remembered here and
    /// on the relay, so other devices and the email notifier know. Never past `through`: a
    /// message that was never fetched cannot have been read.
    pub fn mark_read(self: &Rc<Self>, seen: u64) {
        let marks = self.marks();
        let seq = seen.min(marks.through);
        if seq <= marks.read {
            return;
        }
        self.edit(Edit::Read(seq));
        self.tell(Note::Read(seq));
        let me = self.clone();
        spawn_local(async move {
            if let Some(store) = &me.store {
                let _ = store.put(key::READ_SEQ, &JsValue::from_f64(seq as f64)).await;
            }
            if let Some(s) = me.current_session() {
                let _ = me.api.mark_read(&s, seq).await;
            }
        });
    }
}
