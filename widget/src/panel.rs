//! The panel: header with the merchant's name and reply expectation, the thread, composer.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use pigeon_protocol::{Author, Context, CreateConversation, Page, PostMessage, SiteConfig, validate};
use wasm_bindgen::JsValue;

use crate::api::{Api, ApiError};
use crate::thread::{Delivery, Entry, Thread};
use crate::util::{new_client_id, sleep, window};

#[derive(Clone)]
pub struct Config {
    pub relay: String,
    pub site: String,
}

/// The conversation this browser holds.
#[derive(Clone)]
struct Session {
    id: String,
    token: String,
}

/// Shared by the composer, the outbox worker and the live connection.
#[derive(Clone)]
struct Shared {
    api: Api,
    session: Rc<RefCell<Option<Session>>>,
    outbox: Rc<RefCell<VecDeque<(String, String)>>>,
    outbox_running: Rc<RefCell<bool>>,
    live_running: Rc<RefCell<bool>>,
    thread: RwSignal<Thread>,
}

/// Retry delays: 0.5 s doubling to 30 s, forever while the page is open.
const FIRST_BACKOFF_MS: i32 = 500;
const MAX_BACKOFF_MS: i32 = 30_000;

fn page_context() -> Context {
    let doc = window().document();
    let (title, referrer) = doc.map(|d| (d.title(), d.referrer())).unwrap_or_default();
    Context {
        page: Page {
            url: window().location().href().unwrap_or_default(),
            title,
            referrer: (!referrer.is_empty()).then_some(referrer),
        },
        cart: None,
        locale: window().navigator().language(),
        time_zone: None,
    }
}

impl Shared {
    async fn session(&self) -> Result<Session, ApiError> {
        if let Some(s) = self.session.borrow().clone() {
            return Ok(s);
        }
        let created = self.api.create_conversation(&CreateConversation { context: Some(page_context()) }).await?;
        let s = Session { id: created.conversation.id, token: created.token };
        *self.session.borrow_mut() = Some(s.clone());
        self.start_live();
        Ok(s)
    }

    /// Drains the outbox in order, one message at a time, retrying each until the relay
    /// acknowledges it. The same `client_id` is reused on every attempt, so a retry after a
    /// lost answer cannot store the message twice.
    fn flush_outbox(&self) {
        if std::mem::replace(&mut *self.outbox_running.borrow_mut(), true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            loop {
                let next = me.outbox.borrow().front().cloned();
                let Some((client_id, body)) = next else { break };
                let attempt = async {
                    let s = me.session().await?;
                    let msg = PostMessage { client_id: client_id.clone(), body: body.clone(), context: Some(page_context()) };
                    me.api.post_message(&s.id, &s.token, &msg).await
                }
                .await;
                match attempt {
                    Ok(stored) => {
                        me.thread.update(|t| t.apply(stored.message));
                        me.outbox.borrow_mut().pop_front();
                        backoff = FIRST_BACKOFF_MS;
                    }
                    Err(e) if e.retryable() => {
                        me.thread.update(|t| t.set_delivery(&client_id, Delivery::Retrying));
                        sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF_MS);
                    }
                    Err(_) => {
                        me.thread.update(|t| t.set_delivery(&client_id, Delivery::Failed));
                        me.outbox.borrow_mut().pop_front();
                    }
                }
            }
            *me.outbox_running.borrow_mut() = false;
        });
    }

    /// Keeps one live socket open for the session, reconnecting with backoff and asking
    /// for everything after the last `seq` shown.
    fn start_live(&self) {
        if std::mem::replace(&mut *self.live_running.borrow_mut(), true) {
            return;
        }
        let me = self.clone();
        spawn_local(async move {
            let mut backoff = FIRST_BACKOFF_MS;
            loop {
                let Some(s) = me.session.borrow().clone() else { break };
                let (tx, rx) = futures_oneshot();
                let thread = me.thread;
                let after = thread.with_untracked(Thread::last_seq);
                let opened = crate::live::connect(&me.api.relay, &s.id, s.token.clone(), after, move |m| thread.update(|t| t.apply(m)), move || tx());
                if opened.is_ok() {
                    rx.await;
                }
                sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF_MS);
            }
            *me.live_running.borrow_mut() = false;
        });
    }
}

/// A one-shot signal from a JS callback to an async task.
fn futures_oneshot() -> (impl FnOnce(), impl std::future::Future<Output = ()>) {
    let resolve_slot: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
    let slot = resolve_slot.clone();
    let promise = js_sys::Promise::new(&mut |resolve, _| *slot.borrow_mut() = Some(resolve));
    let fire = move || {
        if let Some(f) = resolve_slot.borrow_mut().take() {
            let _ = f.call0(&JsValue::NULL);
        }
    };
    let wait = async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    };
    (fire, wait)
}

#[component]
pub fn Panel(config: Config, on_close: js_sys::Function) -> impl IntoView {
    let shared = Shared {
        api: Api { relay: config.relay.clone(), site: config.site.clone() },
        session: Rc::default(),
        outbox: Rc::default(),
        outbox_running: Rc::default(),
        live_running: Rc::default(),
        thread: RwSignal::new(Thread::default()),
    };
    let site: RwSignal<Option<SiteConfig>> = RwSignal::new(None);
    let draft = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let thread = shared.thread;

    {
        let api = shared.api.clone();
        spawn_local(async move {
            if let Ok(cfg) = api.site_config().await {
                site.set(Some(cfg));
            }
        });
    }

    let send = {
        let shared = shared.clone();
        move || {
            let body = match validate::body(&draft.get_untracked()) {
                Ok(b) => b,
                Err(e) => {
                    error.set(Some(e.message));
                    return;
                }
            };
            error.set(None);
            draft.set(String::new());
            let client_id = new_client_id();
            thread.update(|t| t.push_pending(Entry::pending(client_id.clone(), body.clone())));
            shared.outbox.borrow_mut().push_back((client_id, body));
            shared.flush_outbox();
        }
    };
    let send_click = send.clone();
    let close = move |_| {
        let _ = on_close.call0(&JsValue::NULL);
    };

    let name = move || site.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let availability = move || {
        site.with(|s| match s {
            Some(s) if s.available_now => s.expected_reply.clone(),
            Some(_) => "We're away right now; leave a message and we'll get back to you.".to_owned(),
            None => String::new(),
        })
    };
    let greeting = move || site.with(|s| s.as_ref().map(|s| s.greeting.clone()).unwrap_or_default());

    view! {
        <section class="pg-panel" role="dialog" aria-modal="false" aria-labelledby="pg-title" data-testid="panel">
            <header class="pg-header">
                <div>
                    <h2 id="pg-title" class="pg-title" data-testid="site-name">{name}</h2>
                    <p class="pg-availability" data-testid="availability">{availability}</p>
                </div>
                <button class="pg-close" type="button" aria-label="Close chat" on:click=close>"×"</button>
            </header>
            <ol class="pg-messages" aria-live="polite" data-testid="messages">
                <li class="pg-msg pg-msg-agent pg-greeting">{greeting}</li>
                {move || thread.with(|t| t.entries.iter().map(|e| {
                    let author = e.author.as_str();
                    let state = match (e.author, e.delivery) {
                        (Author::Shopper, Delivery::Sending) => "Sending…",
                        (Author::Shopper, Delivery::Retrying) => "Not sent yet, retrying…",
                        (Author::Shopper, Delivery::Failed) => "Not sent",
                        (Author::Shopper, Delivery::Sent) => "Sent",
                        _ => "",
                    };
                    let delivery = format!("{:?}", e.delivery).to_lowercase();
                    view! {
                        <li class=format!("pg-msg pg-msg-{author}") data-testid="message" data-author=author data-delivery=delivery>
                            {e.author_name.clone().map(|n| view! { <span class="pg-author">{n}</span> })}
                            <p class="pg-body">{e.body.clone()}</p>
                            <small class="pg-state">{state}</small>
                        </li>
                    }
                }).collect_view())}
            </ol>
            <p class="pg-error" role="alert" data-testid="error">{move || error.get()}</p>
            <form class="pg-composer" on:submit=move |ev| { ev.prevent_default(); send_click(); }>
                <textarea
                    class="pg-input"
                    data-testid="composer"
                    aria-label="Your message"
                    placeholder="Write a message…"
                    rows="2"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <button class="pg-send" type="submit" data-testid="send">"Send"</button>
            </form>
        </section>
    }
}
