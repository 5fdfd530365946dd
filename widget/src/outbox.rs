//! Messages the shopper typed that the relay has not stored yet: written to IndexedDB before
//! anything else, shown at once, sent one at a time in order, each retried with the same
//! `client_id` until the relay acknowledges it (so an answer lost on the way cannot make the
//! relay store it twice). A message goes over the live socket when this tab holds one that is
//! ready for the conversation (no new request through the Worker), else by POST; a send the
//! socket refused or did not answer goes by POST under the same `client_id` (stored once
//! either way; the POST's answer says whether to retry).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

use crate::api::ApiError;
use crate::store::{Pending, key};
use crate::sync::{Engine, FIRST_BACKOFF_MS, MAX_BACKOFF_MS};
use crate::tabs::Note;
use crate::thread::{Delivery, Edit, Entry};
use crate::util::{new_client_id, until};
use crate::wire;

#[derive(Default)]
pub struct Outbox {
    queue: RefCell<VecDeque<Pending>>,
    flushing: Cell<bool>,
}

impl Outbox {
    pub fn restore(&self, pending: Vec<Pending>) {
        *self.queue.borrow_mut() = pending.into();
    }

    pub fn clear(&self) {
        self.queue.borrow_mut().clear();
    }

    fn front(&self) -> Option<Pending> {
        self.queue.borrow().front().cloned()
    }

    fn pop(&self) {
        self.queue.borrow_mut().pop_front();
    }
}

/// How one attempt to send the oldest message ended.
enum Sent {
    /// Stored: the message object and what the thread shows.
    Stored(JsValue, Entry),
    /// The conversation is gone: the message goes into the next one.
    Gone(String),
    Failed(ApiError),
}

impl Engine {
    /// The shopper pressed Send: into the outbox (IndexedDB first), on screen, then out.
    pub fn send(self: &Rc<Self>, body: String) {
        let context = self.context.with_untracked(wire::context);
        let pending = Pending { client_id: new_client_id(), body, context, queued_at: js_sys::Date::now() };
        self.edit(Edit::Push(Entry::pending(pending.client_id.clone(), pending.body.clone())));
        self.problem.set(None);
        let me = self.clone();
        spawn_local(async move {
            if let Some(store) = &me.store {
                let _ = store.put_pending(&pending).await;
                let _ = store.put(key::DRAFT, &JsValue::from_str("")).await;
            }
            me.outbox.queue.borrow_mut().push_back(pending);
            me.flush();
        });
    }

    async fn send_one(self: &Rc<Self>, p: &Pending) -> Sent {
        let s = match self.acquire().await {
            Ok(s) => s,
            Err(e) => return Sent::Failed(e),
        };
        // Over the socket when it can; a refusal or no answer goes by POST, which says why.
        let acked = match self.send_live(p) {
            Some(answer) => wire::acked(&until(answer).await),
            None => None,
        };
        let answer = match acked {
            Some(stored) => Ok(stored),
            None => self.api.post_message(&s, wire::post(p)).await,
        };
        match answer {
            Ok(stored) => match wire::entry(&stored) {
                Some(entry) if entry.client_id == p.client_id => Sent::Stored(stored, entry),
                // An answer that is not this message (not a message; a socket's answer to an
                // earlier send, arriving late) is retried like a lost one (same client_id).
                _ => Sent::Failed(ApiError::Offline),
            },
            Err(e) if e.not_found() => Sent::Gone(s.id),
            Err(e) => Sent::Failed(e),
        }
    }

    /// Drains the outbox in order, one message at a time, until it is empty or the engine is
    /// torn down.
    pub fn flush(self: &Rc<Self>) {
        if self.stopped.get() || self.outbox.flushing.replace(true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            while let Some(p) = me.outbox.front().filter(|_| !me.stopped.get()) {
                match me.send_one(&p).await {
                    Sent::Stored(stored, entry) => {
                        if let (Some(store), Some(seq)) = (&me.store, entry.seq) {
                            let _ = store.acknowledge(&p.client_id, seq, &stored).await;
                        }
                        me.tell(Note::Message(stored));
                        me.edit(Edit::Apply(entry));
                        me.outbox.pop();
                        backoff = FIRST_BACKOFF_MS;
                        // A shop reply stored before this message but not heard yet (the socket
                        // is down, or this tab has none): fetch it now.
                        if me.marks().gap(0) {
                            me.catch_up(0);
                        }
                    }
                    // The next attempt starts a new conversation.
                    Sent::Gone(id) => me.gone(&id).await,
                    Sent::Failed(e) if e.retryable() => {
                        me.edit(Edit::Delivery(p.client_id.clone(), Delivery::Retrying));
                        me.wake.sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF_MS);
                    }
                    Sent::Failed(_) => {
                        // Refused for good (e.g. too long): kept on screen as not sent.
                        if let Some(store) = &me.store {
                            let _ = store.drop_pending(&p.client_id).await;
                        }
                        me.edit(Edit::Delivery(p.client_id.clone(), Delivery::Failed));
                        me.outbox.pop();
                    }
                }
            }
            me.outbox.flushing.set(false);
        });
    }
}
