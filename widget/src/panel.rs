//! The panel: header (merchant, availability), thread, what is shared, email-me, composer.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;
use pigeon_protocol::{Author, validate};
use wasm_bindgen::JsValue;

use crate::i18n::{Lang, Words, money};
use crate::links::{Segment, segments};
use crate::sync::{Engine, Notice};
use crate::thread::Delivery;
use crate::wire::Site;

/// "We usually reply within 2 hours", or when closed "We're away until Monday 09:00 – ...".
fn availability(site: &Site, words: &Words, lang: Lang) -> String {
    if site.available_now {
        return site.expected_reply.clone();
    }
    match &site.next_open_at {
        Some(at) => {
            let date = js_sys::Date::new(&JsValue::from_str(at));
            let opts = js_sys::Object::new();
            for (k, v) in [("weekday", "long"), ("hour", "numeric"), ("minute", "2-digit")] {
                let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
            }
            let when: String = date.to_locale_string(lang.tag(), &opts).into();
            words.away_until.replace("{when}", &when)
        }
        None => words.away.to_owned(),
    }
}

fn body_view(text: &str) -> impl IntoView + use<> {
    segments(text)
        .into_iter()
        .map(|s| match s {
            Segment::Text(t) => t.to_owned().into_any(),
            Segment::Link(href) => {
                let (href, text) = (href.to_owned(), href.to_owned());
                view! { <a href=href target="_blank" rel="noopener noreferrer">{text}</a> }.into_any()
            }
        })
        .collect_view()
}

#[component]
pub fn Panel(engine: Rc<Engine>, site: RwSignal<Option<Site>>, lang: Lang, on_close: js_sys::Function) -> impl IntoView {
    let words = crate::i18n::words(lang);
    let thread = engine.thread;
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let draft = engine.draft;
    let context = engine.context;
    let online = engine.online;
    let contact = engine.contact;
    let engine_notice = engine.notice;
    let email_open = RwSignal::new(false);
    let email_input = RwSignal::new(String::new());

    let send = {
        let engine = engine.clone();
        move || match validate::body(&draft.get_untracked()) {
            Ok(body) => {
                error.set(None);
                draft.set(String::new());
                engine.send(body);
            }
            Err(e) => error.set(Some(e.message)),
        }
    };
    let send_click = send.clone();
    let save_draft = {
        let engine = engine.clone();
        move |text: String| engine.save_draft(text)
    };
    let engine_handle = StoredValue::new_local(engine.clone());
    let save_email = {
        move || {
            let engine = engine_handle.get_value();
            let raw = email_input.get_untracked();
            match validate::email(&raw) {
                Ok(email) => spawn_local(async move {
                    match engine.set_contact(email).await {
                        Ok(()) => {
                            error.set(None);
                            email_open.set(false);
                        }
                        Err(_) => error.set(Some(words.offline_kept.to_owned())),
                    }
                }),
                Err(e) => error.set(Some(e.message)),
            }
        }
    };
    let close = move |_| {
        let _ = on_close.call0(&JsValue::NULL);
    };

    let name = move || site.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let availability_line = move || site.with(|s| s.as_ref().map(|s| availability(s, words, lang)).unwrap_or_default());
    let greeting = move || site.with(|s| s.as_ref().map(|s| s.greeting.clone()).unwrap_or_default());

    let messages = move || {
        thread.with(|t| {
            t.entries
                .iter()
                .map(|e| {
                    let author = e.author.as_str();
                    let state = match (e.author, e.delivery) {
                        (Author::Shopper, Delivery::Sending) => words.sending,
                        (Author::Shopper, Delivery::Retrying) => words.retrying,
                        (Author::Shopper, Delivery::Failed) => words.failed,
                        (Author::Shopper, Delivery::Sent) => words.sent,
                        _ => "",
                    };
                    let delivery = e.delivery.as_str();
                    let seq = e.seq.map(|s| s.to_string()).unwrap_or_default();
                    view! {
                        <li class=format!("pg-msg pg-msg-{author}") data-testid="message" data-author=author data-delivery=delivery data-seq=seq>
                            {e.author_name.clone().map(|n| view! { <span class="pg-author" dir="auto">{n}</span> })}
                            <p class="pg-body" dir="auto">{body_view(&e.body)}</p>
                            <small class="pg-state">{state}</small>
                        </li>
                    }
                })
                .collect_view()
        })
    };

    let shared = move || {
        context.with(|c| {
            let cart = c.cart.as_ref().map(|cart| {
                let lines = cart
                    .items
                    .iter()
                    .map(|i| view! { <li dir="auto">{format!("{} × {}", i.quantity, i.name)}</li> })
                    .collect_view();
                let total = money(lang, cart.total, &cart.currency);
                view! {
                    <div class="pg-cart" data-testid="shared-cart">
                        <span class="pg-shared-label">{words.cart}</span>
                        <ul>{lines}</ul>
                        <span>{words.total}": "{total}</span>
                    </div>
                }
            });
            view! {
                <span class="pg-shared-label">{words.page}</span>
                <span class="pg-page" dir="auto" data-testid="shared-page">{c.page.title.clone()}</span>
                {cart}
            }
        })
    };

    view! {
        <section class="pg-panel" role="dialog" aria-modal="false" aria-labelledby="pg-title" lang=lang.tag() data-testid="panel">
            <header class="pg-header">
                <div>
                    <h2 id="pg-title" class="pg-title" data-testid="site-name">{name}</h2>
                    <p class="pg-availability" data-testid="availability">{availability_line}</p>
                </div>
                <button class="pg-close" type="button" aria-label=words.close on:click=close>"×"</button>
            </header>
            <p class="pg-offline" role="status" data-testid="offline" hidden=move || online.get()>{words.offline_kept}</p>
            <ol class="pg-messages" aria-live="polite" aria-relevant="additions" data-testid="messages">
                <li class="pg-msg pg-msg-agent pg-greeting" dir="auto">{greeting}</li>
                {messages}
            </ol>
            <p class="pg-error" role="alert" data-testid="error">
                {move || error.get()}
                {move || engine_notice.get().map(|n| match n {
                    Notice::LinkExpired => words.link_expired,
                    Notice::LinkFailed => words.link_failed,
                })}
            </p>
            <div class="pg-email">
                {move || match contact.get() {
                    Some(email) => view! { <p data-testid="email-saved">{words.email_saved.replace("{email}", &email)}</p> }.into_any(),
                    None if email_open.get() => {
                        let save = save_email.clone();
                        view! {
                            <form class="pg-email-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
                                <input type="email" data-testid="email-input" aria-label=words.email_label placeholder=words.email_label
                                    prop:value=move || email_input.get() on:input=move |ev| email_input.set(event_target_value(&ev)) />
                                <button type="submit" data-testid="email-save">{words.email_save}</button>
                            </form>
                        }.into_any()
                    }
                    None => view! {
                        <button type="button" class="pg-link" data-testid="email-me" on:click=move |_| email_open.set(true)>{words.email_me}</button>
                    }.into_any(),
                }}
            </div>
            <details class="pg-shared" data-testid="shared">
                <summary>{words.shared}</summary>
                {shared}
            </details>
            <form class="pg-composer" on:submit=move |ev| { ev.prevent_default(); send_click(); }>
                <textarea
                    class="pg-input"
                    data-testid="composer"
                    aria-label=words.composer
                    placeholder=words.placeholder
                    dir="auto"
                    rows="2"
                    prop:value=move || draft.get()
                    on:input=move |ev| save_draft(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <button class="pg-send" type="submit" data-testid="send">{words.send}</button>
            </form>
        </section>
    }
}
