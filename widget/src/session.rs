//! Which conversation this browser holds for the site. Created once, by whichever caller
//! needs it first (the first message, "Email me"), in one tab at a time: one conversation per
//! browser per site. Dropped when the relay says it is gone (the unsent outbox stays and
//! starts the next one), switched by an email's resume link, erased by `forget`.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use wasm_bindgen::JsValue;

use crate::api::ApiError;
use crate::store::{Session, key};
use crate::sync::Engine;
use crate::tabs::Note;
use crate::thread::Edit;
use crate::util::Lock;

#[derive(Default)]
pub struct Sessions {
    current: RefCell<Option<Session>>,
}

impl Sessions {
    pub fn set(&self, session: Option<Session>) {
        *self.current.borrow_mut() = session;
    }

    fn is(&self, id: &str) -> bool {
        self.current.borrow().as_ref().is_some_and(|s| s.id == id)
    }
}

impl Engine {
    /// The conversation held now (none once torn down).
    pub fn current_session(&self) -> Option<Session> {
        if self.stopped.get() { None } else { self.sessions.current.borrow().clone() }
    }

    /// The conversation, created on first need. Single-flight through one Web Lock, which
    /// queues callers of this tab (the first message and "Email me" at the same moment) and
    /// of the site's other tabs alike: whoever comes second finds what the first one made.
    pub async fn acquire(self: &Rc<Self>) -> Result<Session, ApiError> {
        if let Some(s) = self.current_session() {
            return Ok(s);
        }
        let lock = crate::util::lock(&format!("pigeon:{}:session", self.api.site)).await;
        let made = self.create().await;
        // Held before the lock passes on, so the next caller of this tab finds it at once.
        if let Ok(s) = &made {
            self.heard_session(s.clone());
        }
        lock.iter().for_each(Lock::release);
        made
    }

    async fn create(self: &Rc<Self>) -> Result<Session, ApiError> {
        if let Some(s) = self.current_session() {
            return Ok(s);
        }
        if self.stopped.get() {
            return Err(ApiError::Offline);
        }
        if let Some(store) = &self.store
            && let Some(s) = store.get(key::SESSION).await.ok().as_ref().and_then(Session::from_js)
        {
            return Ok(s);
        }
        let s = self.api.create_conversation(self.context.with_untracked(crate::wire::context)).await?;
        if let Some(store) = &self.store {
            let _ = store.put(key::SESSION, &s.to_js()).await;
        }
        self.tell(Note::Session(s.clone()));
        Ok(s)
    }

    /// Holds `session` from now on: created here, told by another tab, or opened from an
    /// email in some tab. A different one held before gives way in one step, before anything
    /// can interleave: its socket is closed (a closing socket delivers no more messages) and
    /// the thread emptied but for unsent messages; the live loop then fetches the new one's
    /// whole backlog.
    pub(crate) fn heard_session(self: &Rc<Self>, session: Session) {
        if self.stopped.get() || self.sessions.is(&session.id) {
            return;
        }
        if self.sessions.current.borrow().is_some() {
            self.let_go();
        }
        self.sessions.set(Some(session));
        self.live.chased.set(0);
        self.start_live();
    }

    /// Forgets conversation `id` in this tab's memory if it is the one held: its messages
    /// go, unsent ones stay, and the panel says why. True if it was held.
    pub(crate) fn drop_conversation(&self, id: &str) -> bool {
        if !self.sessions.is(id) {
            return false;
        }
        self.sessions.set(None);
        self.let_go();
        self.problem.set(Some(self.words.gone.to_owned()));
        true
    }

    /// The held conversation gives way: its socket closes (a closing socket delivers no more
    /// messages), its messages and contact leave the panel; unsent messages stay.
    fn let_go(&self) {
        self.live.close();
        self.edit(Edit::KeepPending);
        self.contact.set(None);
    }

    /// The relay answered that conversation `id` does not exist (deleted on another device,
    /// erased by retention, forgotten in another tab): this browser drops it, here and in
    /// storage, before anything can ask for a session again, and tells the other tabs. The
    /// next message starts a new conversation.
    pub(crate) async fn gone(self: &Rc<Self>, id: &str) {
        if !self.drop_conversation(id) {
            return;
        }
        self.tell(Note::Gone(id.to_owned()));
        if let Some(store) = &self.store {
            let _ = store.drop_conversation().await;
        }
    }

    /// `PUT .../contact`. If the conversation is gone it is dropped, and saving again goes
    /// into a new one.
    pub async fn set_contact(self: &Rc<Self>, email: String) -> Result<(), ApiError> {
        let s = self.acquire().await?;
        if let Err(e) = self.api.set_contact(&s, &email).await {
            if e.not_found() {
                self.gone(&s.id).await;
            }
            return Err(e);
        }
        if let Some(store) = &self.store {
            let _ = store.put(key::CONTACT, &JsValue::from_str(&email)).await;
        }
        self.contact.set(Some(email));
        Ok(())
    }

    /// Opens the conversation an email's "Continue" link points to, in this browser. Another
    /// thread held here gives way (it stays on the relay, reachable from its own emails);
    /// unsent messages stay in the outbox and go to the opened conversation.
    pub(crate) async fn resume(self: &Rc<Self>, resume_token: String) {
        let mut wait = 1000;
        let session = loop {
            match self.api.resume(&resume_token).await {
                Ok(session) => break session,
                Err(e) if e.retryable() && wait <= 16_000 => {
                    self.wake.sleep(wait).await;
                    wait *= 2;
                }
                // Expired, edited, or the conversation was erased.
                Err(ApiError::Relay { retry: false, .. }) => return self.problem.set(Some(self.words.link_expired.to_owned())),
                Err(_) => return self.problem.set(Some(self.words.link_failed.to_owned())),
            }
        };
        if self.sessions.is(&session.id) {
            return;
        }
        // The old socket is closed first (a closing socket delivers no more messages), so
        // nothing of the old thread is stored after storage switched.
        self.live.close();
        if let Some(store) = &self.store {
            let _ = store.drop_conversation().await;
            let _ = store.put(key::SESSION, &session.to_js()).await;
        }
        self.heard_session(session.clone());
        self.tell(Note::Session(session));
        self.flush();
    }

    /// `Pigeon('forget')`: erased on the relay (if `erase`), then in this browser and its other
    /// tabs; this engine is torn down (the loader mounts a fresh one when the shopper comes back).
    pub async fn forget(self: &Rc<Self>, erase: bool) -> Result<(), ApiError> {
        if let Some(s) = self.current_session().filter(|_| erase) {
            match self.api.delete_conversation(&s).await {
                Err(e) if !e.not_found() => return Err(e),
                _ => {}
            }
        }
        self.tell(Note::Forget);
        self.teardown();
        if let Some(store) = &self.store {
            store.forget().await;
        }
        Ok(())
    }
}
