//! The panel: header (merchant, availability), thread, what is shared, email-me, composer.

use std::rc::Rc;

use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;
use pigeon_protocol::{Author, validate};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use crate::i18n::{Lang, Words, fill, money};
use crate::links::{Segment, segments};
use crate::sync::Engine;
use crate::thread::{Delivery, Edit, Thread};
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
            fill(words.away_until, &when)
        }
        None => words.away.to_owned(),
    }
}

/// Text runs and safe links of a message body. `Either` rather than `AnyView`: two known
/// shapes need no type erasure (and none of its code).
fn body_view(text: &str) -> impl IntoView + use<> {
    segments(text)
        .into_iter()
        .map(|s| match s {
            Segment::Text(t) => Either::Left(t.to_owned()),
            Segment::Link(href) => Either::Right(view! { <a href=href.to_owned() target="_blank" rel="noopener noreferrer">{href.to_owned()}</a> }),
        })
        .collect_view()
}

/// What the live region reads out: the newest message from the shop that arrived while the
/// panel was there (not the history it restored).
fn announcement(t: &Thread, after_seq: u64) -> String {
    t.entries
        .iter()
        .rev()
        .find(|e| e.author != Author::Shopper && e.seq.is_some_and(|s| s > after_seq))
        .map(|e| match &e.author_name {
            Some(name) => format!("{name}: {}", e.body),
            None => e.body.clone(),
        })
        .unwrap_or_default()
}

/// The thread's list inside the panel, found in the DOM (less code than a `NodeRef`).
fn list_in(root: &Element) -> Option<Element> {
    root.query_selector(".pg-messages").ok().flatten()
}

/// Whether the end of the list is on screen. The list itself remembers (`data-end`) whether
/// new messages should scroll into view: that stops only when the shopper scrolls up, not when
/// a message arrives between a scroll and its event.
fn at_end(list: &Element) -> bool {
    let top = list.scroll_top();
    let end = list.scroll_height() - top - list.client_height() < 40;
    let key = JsValue::from_str("pgTop");
    let before = crate::js::get_key(list, &key).as_f64().unwrap_or(0.0);
    let _ = list.toggle_attribute_with_force("data-end", end || (f64::from(top) >= before && list.has_attribute("data-end")));
    let _ = js_sys::Reflect::set(list, &key, &top.into());
    end
}

/// Shows or hides the "new messages" pill, the list's last item.
fn pill(list: &Element, show: bool) {
    if let Some(pill) = list.last_element_child() {
        let _ = pill.toggle_attribute_with_force("hidden", !show);
    }
}

/// The shopper's words for a message's state (agents' messages have none).
fn state_words(words: &Words, author: Author, delivery: Delivery) -> &'static str {
    match (author, delivery) {
        (Author::Shopper, Delivery::Sending) => words.sending,
        (Author::Shopper, Delivery::Retrying) => words.retrying,
        (Author::Shopper, Delivery::Failed) => words.failed,
        (Author::Shopper, Delivery::Sent) => words.sent,
        _ => "",
    }
}

/// The panel. Every part is always in the DOM and shown or hidden with `hidden`, and the
/// texts that depend on one value share one closure type: each distinct reactive closure
/// and each erased view costs the widget code size.
#[component]
pub fn Panel(
    engine: Rc<Engine>,
    site: RwSignal<Option<Site>>,
    lang: Lang,
    open: RwSignal<bool>,
    on_close: js_sys::Function,
    on_unread: Option<js_sys::Function>,
    root: Element,
) -> impl IntoView {
    let words = crate::i18n::words(lang);
    let (thread, draft, context, online, contact, error) = (engine.thread, engine.draft, engine.context, engine.online, engine.contact, engine.problem);
    let email_open = RwSignal::new(false);
    let email_input = RwSignal::new(String::new());

    let engine = StoredValue::new_local(engine);
    // At the end of the thread everything is on screen: the pill goes, and the read mark
    // moves up to the newest message held without a gap.
    let look = move |list: &Element| {
        if at_end(list) && open.get_untracked() {
            pill(list, false);
            engine.with_value(|e| e.mark_read(u64::MAX));
        }
    };
    // After each change of the thread and when the panel opens (on the next frame, once it is
    // rendered): the launcher's badge; opening, or the shopper's own message, shows the
    // newest; a reply scrolls into view if the end was on screen, or else the pill says so.
    let panel = root.clone();
    Effect::new(move |before: Option<(usize, bool)>| {
        let (len, unread, mine) = thread.with(|t| (t.entries.len(), t.unread(), t.entries.last().is_some_and(|e| e.seq.is_none())));
        if let Some(f) = &on_unread {
            let _ = f.call1(&JsValue::NULL, &JsValue::from(unread as u32));
        }
        // The site's texts arrive after the panel opened (the header grows a line): run again.
        site.track();
        let now = (len, open.get());
        let opened = now.1 && before.is_none_or(|b| !b.1);
        let grew = before.is_some_and(|b| now.0 > b.0);
        let panel = panel.clone();
        request_animation_frame(move || {
            let Some(list) = list_in(&panel) else { return };
            if opened || list.has_attribute("data-end") || (grew && mine) {
                list.set_scroll_top(list.scroll_height());
            } else if grew && now.1 {
                pill(&list, true);
            }
            look(&list);
        });
        now
    });
    let send = move || match validate::body(&draft.get_untracked()) {
        Ok(body) => {
            error.set(None);
            draft.set(String::new());
            engine.with_value(|e| e.send(body));
        }
        Err(e) => error.set(Some(words.invalid(e.code).to_owned())),
    };
    let save_email = move || match validate::email(&email_input.get_untracked()) {
        Ok(email) => {
            let engine = engine.get_value();
            spawn_local(async move {
                match engine.set_contact(email).await {
                    Ok(()) => {
                        error.set(None);
                        email_open.set(false);
                    }
                    Err(_) => error.set(Some(words.offline_kept.to_owned())),
                }
            })
        }
        Err(e) => error.set(Some(words.invalid(e.code).to_owned())),
    };

    // One closure type for the three texts taken from the site's settings.
    let site_text = move |pick: fn(&Site, &Words, Lang) -> String| move || site.with(|s| s.as_ref().map(|s| pick(s, words, lang)).unwrap_or_default());

    let restored_seq = engine.with_value(|e| e.marks().newest);
    let messages = move || {
        thread.with(|t| {
            t.shown()
                .iter()
                .map(|e| {
                    let author = e.author.as_str();
                    let seq = e.seq.map(|s| s.to_string()).unwrap_or_default();
                    view! {
                        <li class=format!("pg-msg pg-msg-{author}") data-testid="message" data-author=author data-delivery=e.delivery.as_str() data-seq=seq>
                            {e.author_name.clone().map(|n| view! { <span class="pg-author" dir="auto">{n}</span> })}
                            <p class="pg-body" dir="auto">{body_view(&e.body)}</p>
                            <small class="pg-state">{state_words(words, e.author, e.delivery)}</small>
                        </li>
                    }
                })
                .collect_view()
        })
    };

    let shared = move || {
        context.with(|c| {
            let cart = c.cart.as_ref().map(|cart| {
                let lines = cart.items.iter().map(|i| view! { <li dir="auto">{format!("{} × {}", i.quantity, i.name)}</li> }).collect_view();
                view! {
                    <div class="pg-cart" data-testid="shared-cart">
                        <span class="pg-shared-label">{words.cart}</span>
                        <ul>{lines}</ul>
                        <span>{format!("{}: {}", words.total, money(lang, cart.total, &cart.currency))}</span>
                    </div>
                }
            });
            view! {
                <span class="pg-page" dir="auto" data-testid="shared-page">{c.page.title.clone()}</span>
                {cart}
            }
        })
    };

    view! {
        <section class="pg-panel" role="dialog" aria-modal="false" aria-labelledby="pg-title" lang=lang.tag() data-testid="panel">
            <div class="pg-header">
                <div>
                    <h2 id="pg-title" class="pg-title" data-testid="site-name">{site_text(|s, _, _| s.name.clone())}</h2>
                    <p class="pg-availability" data-testid="availability">{site_text(availability)}</p>
                </div>
                <button class="pg-close" type="button" aria-label=words.close on:click=move |_| drop(on_close.call0(&JsValue::NULL))>"×"</button>
            </div>
            <p class="pg-offline" role="status" data-testid="offline" hidden=move || online.get()>{words.offline_kept}</p>
            <p class="pg-sr" role="status" aria-live="polite" data-testid="announce">{move || thread.with(|t| announcement(t, restored_seq))}</p>
            <ol class="pg-messages" data-testid="messages" tabindex="0" aria-label=words.messages data-end=""
                on:scroll=move |ev| {
                    if let Some(list) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                        look(&list);
                    }
                }>
                    <li class="pg-msg pg-msg-agent pg-greeting" dir="auto">{site_text(|s, _, _| s.greeting.clone())}</li>
                    <li class="pg-earlier" hidden=move || thread.with(|t| t.shown().len() == t.entries.len())>
                        <button type="button" class="pg-link" data-testid="earlier" on:click=move |_| engine.with_value(|e| e.edit(Edit::ShowEarlier))>{words.earlier}</button>
                    </li>
                    {messages}
                <li class="pg-new" hidden>
                    <button type="button" data-testid="new-messages" on:click=move |_| {
                        if let Some(list) = list_in(&root) {
                            list.set_scroll_top(list.scroll_height());
                        }
                    }>{words.new_messages}</button>
                </li>
            </ol>
            <p class="pg-error" role="alert" data-testid="error">{move || error.get()}</p>
            <div class="pg-email">
                <p data-testid="email-saved" hidden=move || contact.with(Option::is_none)>
                    {move || contact.with(|c| c.as_ref().map(|email| fill(words.email_saved, email)))}
                </p>
                <form class="pg-email-form" hidden=move || contact.with(Option::is_some) || !email_open.get()
                    on:submit=move |ev| { ev.prevent_default(); save_email(); }>
                    <input type="email" data-testid="email-input" aria-label=words.email_label placeholder=words.email_label
                        prop:value=email_input on:input=move |ev| email_input.set(event_target_value(&ev)) />
                    <button type="submit" data-testid="email-save">{words.email_save}</button>
                </form>
                <button type="button" class="pg-link" data-testid="email-me" hidden=move || contact.with(Option::is_some) || email_open.get()
                    on:click=move |_| email_open.set(true)>{words.email_me}</button>
            </div>
            <details class="pg-shared" data-testid="shared">
                <summary>{words.shared}</summary>
                <span class="pg-shared-label">{words.page}</span>
                {shared}
            </details>
            <form class="pg-composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                <textarea
                    class="pg-input"
                    data-testid="composer"
                    aria-label=words.composer
                    placeholder=words.placeholder
                    dir="auto"
                    rows="2"
                    prop:value=draft
                    on:input=move |ev| engine.with_value(|e| e.save_draft(event_target_value(&ev)))
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
