//! Keeps the thread in step with the relay and with IndexedDB: restore before any network
//! call, the outbox (written before sending, retried with backoff until acknowledged, flushed
//! when the browser comes back online), and the live socket.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;
use pigeon_protocol::{Cart, Context, Page};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use crate::api::{Api, ApiError};
use crate::store::{Pending, Session, Store};
use crate::tabs::{self, Note, Tabs};
use crate::thread::{Delivery, Entry, Thread};
use crate::i18n::Words;
use crate::util::{new_client_id, window};
use crate::{js, wire};

/// Retry delays: 0.5 s doubling to 30 s, forever while the page is open; cut short when the
/// browser says it is back online.
const FIRST_BACKOFF_MS: i32 = 500;
const MAX_BACKOFF_MS: i32 = 30_000;

pub struct Engine {
    pub api: Api,
    store: Option<Rc<Store>>,
    session: RefCell<Option<Session>>,
    outbox: RefCell<VecDeque<Pending>>,
    flushing: Cell<bool>,
    live_running: Cell<bool>,
    live_socket: RefCell<Option<web_sys::WebSocket>>,
    /// Only the leader tab holds the live socket; the others hear from it.
    leader: Cell<bool>,
    tabs: RefCell<Option<Tabs>>,
    waker: RefCell<Vec<js_sys::Function>>,
    pub thread: RwSignal<Thread>,
    pub context: RwSignal<Context>,
    pub online: RwSignal<bool>,
    pub contact: RwSignal<Option<String>>,
    pub draft: RwSignal<String>,
    /// A problem to show above the composer (a refused input, a resume link that failed).
    pub problem: RwSignal<Option<String>>,
    words: &'static Words,
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
            session: RefCell::default(),
            outbox: RefCell::default(),
            flushing: Cell::new(false),
            live_running: Cell::new(false),
            live_socket: RefCell::default(),
            leader: Cell::new(false),
            tabs: RefCell::default(),
            waker: RefCell::default(),
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

    fn join_tabs(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let tabs = Tabs::join(&self.api.site, move |note| {
            let Some(me) = weak.upgrade() else { return };
            match note {
                Note::Message(message) => {
                    if let Some(entry) = wire::entry(&message) {
                        me.thread.update(|t| t.apply(entry));
                    }
                }
                Note::Read(seq) => {
                    if seq > me.thread.with_untracked(|t| t.read_seq) {
                        me.thread.update(|t| t.read_seq = seq);
                    }
                }
                Note::Session(session) => {
                    if me.session.borrow().is_none() {
                        *me.session.borrow_mut() = Some(session);
                        me.start_live();
                    }
                }
            }
        });
        *self.tabs.borrow_mut() = Some(tabs);
        let weak = Rc::downgrade(self);
        tabs::elect(&self.api.site, move || {
            if let Some(me) = weak.upgrade() {
                me.leader.set(true);
                me.start_live();
            }
        });
    }

    fn tell(&self, note: Note) {
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.tell(&note);
        }
    }

    async fn restore(self: &Rc<Self>) {
        let Some(store) = &self.store else { return };
        let Ok((kv, messages, pending)) = store.load(&["session", "read_seq", "contact", "draft"]).await else { return };
        let [session, read_seq, contact, draft] = &kv[..] else { return };
        let session = Session::from_js(session);
        self.contact.set(contact.as_string());
        self.draft.set(draft.as_string().unwrap_or_default());
        self.thread.update(|t| {
            t.read_seq = read_seq.as_f64().map_or(0, |n| n as u64);
            for m in wire::entries(&messages) {
                t.apply(m);
            }
            for p in &pending {
                t.push_pending(Entry::pending(p.client_id.clone(), p.body.clone()));
            }
            t.collapse();
        });
        *self.outbox.borrow_mut() = pending.into();
        *self.session.borrow_mut() = session;
        if !self.outbox.borrow().is_empty() {
            self.flush();
        }
    }

    fn watch_connectivity(self: &Rc<Self>) {
        let me = Rc::downgrade(self);
        let on_online = Closure::<dyn Fn()>::new(move || {
            if let Some(me) = me.upgrade() {
                me.online.set(true);
                me.wake();
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

    /// Resolves every pending backoff sleep now.
    fn wake(&self) {
        for f in self.waker.borrow_mut().drain(..) {
            let _ = f.call0(&JsValue::NULL);
        }
    }

    /// Sleeps `ms`, or less if `wake` is called.
    async fn backoff(&self, ms: i32) {
        let waker = &self.waker;
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            waker.borrow_mut().push(resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
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
                let _ = store.put("draft", &JsValue::from_str(&text)).await;
            });
        }
    }

    /// The shopper pressed Send: into the outbox (IndexedDB first), on screen, then out.
    pub fn send(self: &Rc<Self>, body: String) {
        let context = self.context.with_untracked(wire::context);
        let pending = Pending { client_id: new_client_id(), body, context, queued_at: js_sys::Date::now() };
        self.thread.update(|t| t.push_pending(Entry::pending(pending.client_id.clone(), pending.body.clone())));
        let me = self.clone();
        spawn_local(async move {
            if let Some(store) = &me.store {
                let _ = store.put_pending(&pending).await;
                let _ = store.put("draft", &JsValue::from_str("")).await;
            }
            me.outbox.borrow_mut().push_back(pending);
            me.flush();
        });
    }

    async fn session(self: &Rc<Self>) -> Result<Session, ApiError> {
        if let Some(s) = self.session.borrow().clone() {
            return Ok(s);
        }
        let s = self.api.create_conversation(self.context.with_untracked(wire::context)).await?;
        if let Some(store) = &self.store {
            let _ = store.put("session", &s.to_js()).await;
        }
        *self.session.borrow_mut() = Some(s.clone());
        self.tell(Note::Session(s.clone()));
        self.start_live();
        Ok(s)
    }

    /// Drains the outbox in order, one message at a time, each retried until the relay
    /// acknowledges it. The `client_id` is the same on every attempt, so an answer lost on
    /// the way cannot make the relay store the message twice.
    pub fn flush(self: &Rc<Self>) {
        if self.flushing.replace(true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            loop {
                let next = me.outbox.borrow().front().cloned();
                let Some(p) = next else { break };
                let attempt = async {
                    let s = me.session().await?;
                    let body = js::object(&[("client_id", p.client_id.as_str().into()), ("body", p.body.as_str().into()), ("context", p.context.clone())]);
                    let stored = me.api.post_message(&s, body).await?;
                    // An answer that is not a message is retried like a lost one (same client_id).
                    let entry = wire::entry(&stored).ok_or(ApiError::Offline)?;
                    Ok::<_, ApiError>((stored, entry))
                }
                .await;
                match attempt {
                    Ok((stored, entry)) => {
                        if let (Some(store), Some(seq)) = (&me.store, entry.seq) {
                            let _ = store.acknowledge(&p.client_id, seq, &stored).await;
                        }
                        me.tell(Note::Message(stored));
                        me.thread.update(|t| t.apply(entry));
                        me.outbox.borrow_mut().pop_front();
                        backoff = FIRST_BACKOFF_MS;
                    }
                    Err(e) if e.retryable() => {
                        me.thread.update(|t| t.set_delivery(&p.client_id, Delivery::Retrying));
                        me.backoff(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF_MS);
                    }
                    Err(_) => {
                        // Refused for good (e.g. too long): keep it on screen as not sent.
                        if let Some(store) = &me.store {
                            let _ = store.drop_pending(&p.client_id).await;
                        }
                        me.thread.update(|t| t.set_delivery(&p.client_id, Delivery::Failed));
                        me.outbox.borrow_mut().pop_front();
                    }
                }
            }
            me.flushing.set(false);
        });
    }

    /// A message heard on the live socket (leader only): stored, shown, passed on.
    fn remember(self: &Rc<Self>, m: JsValue) {
        let Some(entry) = wire::entry(&m) else { return };
        self.tell(Note::Message(m.clone()));
        if let (Some(store), Some(seq)) = (self.store.clone(), entry.seq) {
            spawn_local(async move {
                let _ = store.put_message(seq, &m).await;
            });
        }
        self.thread.update(|t| t.apply(entry));
    }

    /// One live socket for the session, re-opened with backoff, asking for everything after
    /// the last `seq` held.
    pub fn start_live(self: &Rc<Self>) {
        if !self.leader.get() || self.live_running.replace(true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            loop {
                let Some(s) = me.session.borrow().clone() else { break };
                let (fire, wait) = crate::util::oneshot();
                let after = me.thread.with_untracked(Thread::last_seq);
                let weak = Rc::downgrade(&me);
                let opened = crate::live::connect(
                    &me.api.relay,
                    &s.id,
                    &s.token,
                    after,
                    move |m| {
                        if let Some(me) = weak.upgrade() {
                            me.remember(m);
                        }
                    },
                    fire,
                );
                if let Some(ws) = opened {
                    *me.live_socket.borrow_mut() = Some(ws);
                    wait.await;
                    *me.live_socket.borrow_mut() = None;
                }
                if me.session.borrow().is_none() {
                    break;
                }
                me.backoff(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF_MS);
            }
            me.live_running.set(false);
        });
    }

    /// Agent messages after the shopper's read position.
    pub fn unread(&self) -> usize {
        self.thread.with(Thread::unread)
    }

    /// The panel is open and shows everything: remember it here and on the relay (so other
    /// devices and the email notifier know).
    pub fn mark_all_read(self: &Rc<Self>) {
        let last = self.thread.with_untracked(Thread::last_seq);
        if last <= self.thread.with_untracked(|t| t.read_seq) {
            return;
        }
        self.thread.update(|t| t.read_seq = last);
        self.tell(Note::Read(last));
        let me = self.clone();
        spawn_local(async move {
            if let Some(store) = &me.store {
                let _ = store.put("read_seq", &JsValue::from_f64(last as f64)).await;
            }
            let session = me.session.borrow().clone();
            if let Some(s) = session {
                let _ = me.api.mark_read(&s, last).await;
            }
        });
    }

    pub async fn set_contact(self: &Rc<Self>, email: String) -> Result<(), ApiError> {
        let s = self.session().await?;
        self.api.set_contact(&s, &email).await?;
        if let Some(store) = &self.store {
            let _ = store.put("contact", &JsValue::from_str(&email)).await;
        }
        self.contact.set(Some(email));
        Ok(())
    }

    /// Opens the conversation an email's "Continue" link points to, in this browser. Another
    /// thread held here gives way (it stays on the relay, reachable from its own emails);
    /// unsent messages stay in the outbox and go to the opened conversation.
    async fn resume(self: &Rc<Self>, resume_token: String) {
        let mut wait = 1000;
        let session = loop {
            match self.api.resume(&resume_token).await {
                Ok(session) => break session,
                Err(e) if e.retryable() && wait <= 16_000 => {
                    self.backoff(wait).await;
                    wait *= 2;
                }
                // Expired, edited, or the conversation was erased.
                Err(ApiError::Relay { retry: false, .. }) => return self.problem.set(Some(self.words.link_expired.to_owned())),
                Err(_) => return self.problem.set(Some(self.words.link_failed.to_owned())),
            }
        };
        let same = self.session.borrow().as_ref().is_some_and(|s| s.id == session.id);
        if !same {
            // In one step, before anything can interleave: the old socket is closed (a closing
            // socket delivers no more messages), the thread emptied but for unsent messages,
            // and the session switched, so the live loop reconnects with the new session and
            // fetches its whole backlog.
            if let Some(ws) = self.live_socket.borrow_mut().take() {
                let _ = ws.close();
            }
            self.thread.update(|t| {
                let pending: Vec<Entry> = t.entries.iter().filter(|e| e.seq.is_none()).cloned().collect();
                *t = Thread::default();
                for p in pending {
                    t.push_pending(p);
                }
            });
            self.contact.set(None);
            *self.session.borrow_mut() = Some(session.clone());
            if let Some(store) = &self.store {
                let _ = store.clear_messages().await;
                let _ = store.put("read_seq", &JsValue::from_f64(0.0)).await;
                let _ = store.put("session", &session.to_js()).await;
            }
            self.tell(Note::Session(session));
            self.start_live();
            if !self.outbox.borrow().is_empty() {
                self.flush();
            }
        }
    }

    /// `Pigeon('forget')`: erased on the relay, then in this browser.
    pub async fn forget(self: &Rc<Self>) -> Result<(), ApiError> {
        let session = self.session.borrow().clone();
        if let Some(s) = session {
            match self.api.delete_conversation(&s).await {
                Ok(_) | Err(ApiError::Relay { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        *self.session.borrow_mut() = None;
        self.outbox.borrow_mut().clear();
        if let Some(ws) = self.live_socket.borrow_mut().take() {
            let _ = ws.close();
        }
        if let Some(store) = &self.store {
            store.forget(&self.api.site).await;
        }
        self.thread.set(Thread::default());
        self.contact.set(None);
        self.draft.set(String::new());
        Ok(())
    }
}
