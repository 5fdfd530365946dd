//! Search (`/`): a field above the list; while it holds two characters or more, the list
//! shows what the relay found (message text and shopper addresses, newest first) with the
//! matching words marked. Esc or clearing the field brings the list back.

use leptos::prelude::*;
use pigeon_protocol::{SearchHit, Status};
use wasm_bindgen_futures::spawn_local;

use crate::api;
use crate::state::Inbox;

/// Waits this long after the last keystroke before asking.
const QUIET_MS: i32 = 250;

/// What the search field shows below it.
#[derive(Clone, Default, PartialEq)]
pub enum Found {
    /// Not searching: the list is shown.
    #[default]
    Nothing,
    Waiting,
    Hits { q: String, hits: Vec<SearchHit> },
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct Search {
    pub query: RwSignal<String>,
    pub found: RwSignal<Found>,
}

impl Search {
    pub fn new() -> Self {
        Self { query: RwSignal::new(String::new()), found: RwSignal::new(Found::Nothing) }
    }

    pub fn active(&self) -> bool {
        self.found.with(|f| *f != Found::Nothing)
    }

    pub fn clear(&self) {
        self.query.set(String::new());
        self.found.set(Found::Nothing);
    }

    /// The field changed: ask once typing pauses; an answer to an older query is dropped.
    fn typed(self, inbox: Inbox, q: String) {
        self.query.set(q.clone());
        if q.trim().chars().count() < 2 {
            return self.found.set(Found::Nothing);
        }
        self.found.set(Found::Waiting);
        let site = inbox.site.get_untracked();
        set_timeout(
            move || {
                if self.query.get_untracked() != q {
                    return;
                }
                spawn_local(async move {
                    let answer = api::search(&site, &q).await;
                    if self.query.get_untracked() != q {
                        return;
                    }
                    self.found.set(match answer {
                        Ok(r) => Found::Hits { q, hits: r.hits },
                        Err(f) => Found::Failed(f.sentence()),
                    });
                });
            },
            std::time::Duration::from_millis(QUIET_MS as u64),
        );
    }
}

#[component]
pub fn SearchField(inbox: Inbox, search: Search) -> impl IntoView {
    view! {
        <div class="search" role="search">
            <input type="search" id="search" data-testid="search" aria-label="Search messages and shopper emails" placeholder="Search  ( / )"
                autocomplete="off" maxlength="200" prop:value=move || search.query.get()
                on:input=move |ev| search.typed(inbox, event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        search.clear();
                    }
                } />
        </div>
    }
}

/// The hits, in place of the list.
#[component]
pub fn SearchResults(inbox: Inbox, search: Search) -> impl IntoView {
    let body = move || match search.found.get() {
        Found::Nothing => ().into_any(),
        Found::Waiting => view! { <p class="muted" role="status">"Searching…"</p> }.into_any(),
        Found::Failed(sentence) => view! { <p class="error" role="alert">{sentence}</p> }.into_any(),
        Found::Hits { q, hits } if hits.is_empty() => {
            view! { <p class="empty" role="status" data-testid="search-empty">{format!("Nothing matches “{q}”.")}</p> }.into_any()
        }
        Found::Hits { hits, .. } => {
            let count = if hits.len() == 1 { "1 match".to_owned() } else { format!("{} matches, newest first", hits.len()) };
            view! {
                <p class="muted" role="status">{count}</p>
                <ul data-testid="search-results">{hits.into_iter().map(|h| hit(inbox, h)).collect_view()}</ul>
            }
            .into_any()
        }
    };
    view! { <div class="results" hidden=move || !search.active()>{body}</div> }
}

fn hit(inbox: Inbox, h: SearchHit) -> impl IntoView {
    let who = h.contact_email.clone().unwrap_or_else(|| format!("Shopper {}", &h.conversation[..6.min(h.conversation.len())]));
    let what = match (h.seq, h.status) {
        (None, _) => " · shopper's email",
        (Some(_), Status::Closed) => " · closed",
        _ => "",
    };
    let id = h.conversation.clone();
    let selected = {
        let id = id.clone();
        move || inbox.selected.with(|x| x.as_deref() == Some(id.as_str())).to_string()
    };
    let snippet = h
        .snippet
        .into_iter()
        .map(|s| if s.hit { view! { <mark>{s.text}</mark> }.into_any() } else { s.text.into_any() })
        .collect_view();
    view! {
        <li>
            <button type="button" class="row" data-testid="search-hit" data-id=id.clone() aria-current=selected on:click=move |_| inbox.open(id.clone())>
                <span class="who" dir="auto">{who}<span class="muted">{what}</span></span>
                <time>{crate::view::when(&h.at)}</time>
                <span class="preview" dir="auto">{snippet}</span>
            </button>
        </li>
    }
}
