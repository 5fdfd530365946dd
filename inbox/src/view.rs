//! The inbox's views: sign-in, then the list and the open conversation side by side (one at a
//! time below 760 px). Everything shoppers typed is shown as text.

use leptos::prelude::*;
use pigeon_protocol::{Attachment, Author, human_size, ConversationDetails, InboxConversation, Invite, Me, Message, Note, Ratings, Status, Team, TeamRole, TeammateInfo, validate};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;

use crate::api::{self, Failure};
use crate::keys::{self, Shortcut};
use crate::model::{Assigned, Tab, activity, money};
use crate::replies::{Key, Picker, PickerList, SavedRepliesView, unfilled, unfilled_sentence};
use crate::search::{Search, SearchField, SearchResults};
use crate::manage::{Managed, Part};
use crate::state::{Inbox, draft_key, keep_live};
use crate::store;

/// The sign-in link's token (`#signin=<token>`), taken out of the address bar at once. Any
/// text goes to the relay, which refuses what is not a live link with a sentence; punctuation
/// a mail or chat app stuck to the end of the link is dropped first.
fn take_signin_token() -> Option<String> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let (page, fragment) = href.split_once('#')?;
    let token = fragment.strip_prefix("signin=")?;
    let _ = window.history().ok()?.replace_state_with_url(&JsValue::NULL, "", Some(page));
    let token: String = token.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).chars().take(256).collect();
    Some(if token.is_empty() { "-".to_owned() } else { token })
}

#[derive(Clone)]
enum Phase {
    Loading,
    SignedOut { note: Option<String> },
    SignedIn(Box<Inbox>),
}

#[component]
pub fn App() -> impl IntoView {
    let phase = RwSignal::new(Phase::Loading);
    let signed_out = RwSignal::new(false);
    let token = take_signin_token();
    let owner = Owner::current().expect("the app has an owner");
    // The list is asked for as soon as the person is known, while the inbox is being drawn.
    let signed_in = move |me: Me| {
        owner.with(|| {
            store::set("me", &me);
            let inbox = Inbox::new(me, signed_out);
            inbox.load_list();
            Phase::SignedIn(Box::new(inbox))
        })
    };
    spawn_local(async move {
        let result = match &token {
            Some(t) => api::open_session(t).await,
            None => api::me().await,
        };
        phase.set(match result {
            Ok(me) => signed_in(me),
            Err(Failure::Refused { code, message, .. }) if code == "link_invalid" => Phase::SignedOut { note: Some(message) },
            Err(Failure::Network) => match store::get::<Me>("me") {
                // Offline: what this browser last had.
                Some(me) => signed_in(me),
                None => Phase::SignedOut { note: Some(Failure::Network.sentence()) },
            },
            Err(_) => Phase::SignedOut { note: None },
        });
    });
    Effect::new(move |_| {
        if signed_out.get() {
            store::remove("me");
            phase.set(Phase::SignedOut { note: Some("You are signed out.".into()) });
            signed_out.set(false);
        }
    });
    move || match phase.get() {
        Phase::Loading => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Phase::SignedOut { note } => view! { <SignIn note=note /> }.into_any(),
        Phase::SignedIn(inbox) => view! { <InboxView inbox=*inbox /> }.into_any(),
    }
}

#[component]
fn SignIn(note: Option<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<String>);
    let error = RwSignal::new(note);
    let submit = move || match validate::email(&email.get_untracked()) {
        Ok(address) => spawn_local(async move {
            match api::sign_in(&address).await {
                Ok(()) => {
                    error.set(None);
                    sent.set(Some(address));
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        }),
        Err(_) => error.set(Some("Enter your email address.".into())),
    };
    view! {
        <main class="signin">
            <h1>"Pigeon inbox"</h1>
            <form on:submit=move |ev| { ev.prevent_default(); submit(); } hidden=move || sent.with(Option::is_some)>
                <label for="signin-email">"Your email address"</label>
                <input id="signin-email" type="email" autocomplete="email" required data-testid="inbox-login-email"
                    prop:value=email on:input=move |ev| email.set(event_target_value(&ev)) />
                <button type="submit" data-testid="inbox-login-submit">"Email me a sign-in link"</button>
            </form>
            <p role="status" data-testid="inbox-login-sent" hidden=move || sent.with(Option::is_none)>
                {move || sent.get().map(|a| format!("If {a} belongs to a teammate, a sign-in link is on its way. It works once, for 15 minutes."))}
            </p>
            <p class="error" role="alert">{move || error.get()}</p>
        </main>
    }
}

/// `2026-11-23T10:05:00Z` as the teammate's local time (with the date when not today).
pub fn when(iso: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(iso));
    let now = js_sys::Date::new_0();
    crate::model::short_time(local_parts(&date), local_parts(&now))
}

/// A date's local year, month (0-11), day, hour and minute.
fn local_parts(d: &js_sys::Date) -> [u32; 5] {
    [d.get_full_year(), d.get_month(), d.get_date(), d.get_hours(), d.get_minutes()]
}

/// The time now in the shopper's time zone, e.g. `21:14 (Europe/Berlin)`.
fn their_time(zone: &str) -> Option<String> {
    let opts = js_sys::Object::new();
    for (k, v) in [("hour", "2-digit"), ("minute", "2-digit"), ("timeZone", zone)] {
        let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
    }
    // An unknown zone throws; then there is nothing to show.
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&"default".into()), &opts);
    let f = format.format();
    let out = f.call1(&format, &js_sys::Date::new_0()).ok()?.as_string()?;
    Some(format!("{out} ({zone})"))
}

/// What opens under the header, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Team,
    Replies,
    Reports,
    Settings,
}

#[component]
fn InboxView(inbox: Inbox) -> impl IntoView {
    keep_live(inbox);
    inbox.flush();

    let site_name = move || inbox.me.with(|m| m.sites.iter().find(|s| s.site == inbox.site.get()).map(|s| s.site_name.clone()).unwrap_or_default());
    // The one section open under the header, if any.
    let section = RwSignal::new(None::<Section>);
    let is_open = move |s: Section| move || section.get() == Some(s);
    let toggle = move |s: Section| section.update(|open| *open = if *open == Some(s) { None } else { Some(s) });
    let close = move || section.set(None);
    open_from_fragment(inbox);
    let search = Search::new();
    let switch = move |change: &dyn Fn(&mut Tab)| {
        inbox.tab.update(|t| change(t));
        inbox.list.set(vec![]);
        inbox.load_list();
    };
    let tab = move |status: Status, label: &'static str| {
        view! {
            <button type="button" role="tab" aria-selected=move || (inbox.tab.get().status == status).to_string() data-testid=format!("tab-{}", status.as_str())
                on:click=move |_| switch(&|t| t.status = status)>{label}</button>
        }
    };
    let whose = move |assigned: Assigned, label: &'static str| {
        view! {
            <button type="button" role="tab" aria-selected=move || (inbox.tab.get().assigned == assigned).to_string() data-testid=format!("tab-{}", assigned.as_query())
                on:click=move |_| switch(&|t| t.assigned = assigned)>{label}</button>
        }
    };
    let sites = move || {
        inbox.me.with(|m| {
            (m.sites.len() > 1).then(|| {
                let options = m.sites.iter().map(|s| view! { <option value=s.site.clone()>{s.site_name.clone()}</option> }).collect_view();
                view! {
                    <select aria-label="Site" prop:value=move || inbox.site.get()
                        on:change=move |ev| {
                            let site = event_target_value(&ev);
                            store::set("site", &site);
                            inbox.site.set(site);
                            inbox.selected.set(None);
                            search.clear();
                            inbox.load_list();
                        }>{options}</select>
                }
            })
        })
    };
    let help = RwSignal::new(false);
    keyboard(inbox, help, search);
    view! {
        <main class="inbox" data-open=move || inbox.selected.with(Option::is_some).then_some("")>
            <div class="shortcuts" role="dialog" aria-labelledby="shortcuts-title" data-testid="shortcuts" hidden=move || !help.get()>
                <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                <dl>{keys::LIST.iter().map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> }).collect_view()}</dl>
                <button type="button" on:click=move |_| help.set(false)>"Close"</button>
            </div>
            <header class="top">
                <h1>{site_name}</h1>
                {sites}
                <button type="button" class="link" data-testid="team-open" aria-expanded=move || is_open(Section::Team)().to_string()
                    on:click=move |_| toggle(Section::Team)>"Team"</button>
                <button type="button" class="link" data-testid="replies-open" aria-expanded=move || is_open(Section::Replies)().to_string()
                    on:click=move |_| toggle(Section::Replies)>"Saved replies"</button>
                <button type="button" class="link" data-testid="reports-open" aria-expanded=move || is_open(Section::Reports)().to_string()
                    on:click=move |_| toggle(Section::Reports)>"Reports"</button>
                <button type="button" class="link" data-testid="settings-open" aria-expanded=move || is_open(Section::Settings)().to_string()
                    on:click=move |_| toggle(Section::Settings)>"Settings"</button>
                <span class="live" role="status" data-testid="live-state">{move || if inbox.connected.get() { "Live" } else { "Reconnecting…" }}</span>
                <button type="button" class="link" data-testid="sign-out" on:click=move |_| inbox.sign_out()>"Sign out"</button>
            </header>
            <p class="problem" role="alert" data-testid="problem" hidden=move || inbox.problem.with(Option::is_none)>
                {move || inbox.problem.get()}
                <button type="button" class="link" aria-label="Dismiss" on:click=move |_| inbox.problem.set(None)>"×"</button>
            </p>
            {move || is_open(Section::Team)().then(|| view! { <TeamView inbox=inbox on_close=close /> })}
            {move || is_open(Section::Replies)().then(|| view! { <SavedRepliesView inbox=inbox on_close=close /> })}
            {move || is_open(Section::Reports)().then(|| view! { <Managed inbox=inbox on_close=close part=Part::Reports /> })}
            {move || is_open(Section::Settings)().then(|| view! { <Managed inbox=inbox on_close=close part=Part::Settings /> })}
            <nav class="list" aria-label="Conversations">
                <SearchField inbox=inbox search=search />
                <SearchResults inbox=inbox search=search />
                <div class="listed" hidden=move || search.active()>
                <div class="tabs" role="tablist" aria-label="Whose">{whose(Assigned::Anyone, "All")}{whose(Assigned::Me, "Mine")}{whose(Assigned::Nobody, "Unassigned")}</div>
                <div class="tabs" role="tablist" aria-label="Status">{tab(Status::Open, "Open")}{tab(Status::Closed, "Closed")}</div>
                <p class="stale" hidden=move || !inbox.stale.get()>"Offline: showing what this browser last saw."</p>
                <ul data-testid="conversation-list">
                    // Keyed by what a row shows: a new frame redraws only its row.
                    <For each=move || inbox.list.get() key=row_key children=move |c| row(inbox, &c) />
                </ul>
                <p class="empty" hidden=move || inbox.list.with(|l| !l.is_empty())>"No conversations here."</p>
                <button type="button" class="link more" data-testid="more-conversations" hidden=move || !inbox.more.get()
                    on:click=move |_| inbox.load_more()>"Show older conversations"</button>
                </div>
            </nav>
            <ConversationView inbox=inbox />
        </main>
    }
}

/// A push notification opens `/inbox/#conversation=<id>`: open it, now and whenever the
/// fragment changes (a tab already showing the inbox), then clear the fragment.
fn open_from_fragment(inbox: Inbox) {
    let take = move || {
        let Some(window) = web_sys::window() else { return };
        let Ok(href) = window.location().href() else { return };
        let Some((page, fragment)) = href.split_once('#') else { return };
        let Some(id) = fragment.strip_prefix("conversation=") else { return };
        if validate::conversation_id(id) {
            inbox.open(id.to_owned());
        }
        let _ = window.history().map(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(page)));
    };
    take();
    let handle = window_event_listener(leptos::ev::hashchange, move |_| take());
    on_cleanup(move || handle.remove());
}

/// The shortcuts (see `keys`), for the whole inbox view while it is shown.
fn keyboard(inbox: Inbox, help: RwSignal<bool>, search: Search) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
        let in_field = target.as_ref().is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || t.is_content_editable());
        let Some(shortcut) = keys::shortcut(&ev.key(), in_field, ev.ctrl_key() || ev.meta_key() || ev.alt_key()) else { return };
        let document = document();
        let open = inbox.selected.with_untracked(Option::is_some);
        match shortcut {
            Shortcut::Next | Shortcut::Previous => {
                ev.prevent_default();
                // Through the search's hits while it shows them, else the list.
                let rows = if search.active() { "[data-testid=\"search-hit\"]" } else { "[data-testid=\"conversation-row\"]" };
                let Ok(rows) = document.query_selector_all(rows) else { return };
                let row = |i: u32| rows.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok());
                let active = document.active_element();
                let current = (0..rows.length()).find(|i| {
                    row(*i).is_some_and(|r| active.as_ref().is_some_and(|a| a == r.unchecked_ref::<web_sys::Element>()) || r.get_attribute("aria-current").as_deref() == Some("true"))
                });
                let next = keys::step(current.map(|i| i as usize), rows.length() as usize, shortcut == Shortcut::Next);
                if let Some(r) = next.and_then(|i| row(i as u32)) {
                    let _ = r.focus();
                }
            }
            Shortcut::Reply | Shortcut::Note if open => {
                ev.prevent_default();
                inbox.note_mode.set(shortcut == Shortcut::Note);
                if let Some(composer) = document.query_selector("[data-testid=\"reply-composer\"]").ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = composer.focus();
                }
            }
            Shortcut::Close if open && inbox.details.with_untracked(|d| d.as_ref().is_some_and(|d| d.status == Status::Open)) => inbox.close(false),
            Shortcut::Search => {
                ev.prevent_default();
                if let Some(field) = document.get_element_by_id("search").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = field.focus();
                }
            }
            Shortcut::Help => help.update(|h| *h = !*h),
            Shortcut::Dismiss => {
                help.set(false);
                if !in_field {
                    search.clear();
                }
                if let Some(field) = target.filter(|_| in_field) {
                    let _ = field.blur();
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

/// What a row shows changes only with these.
fn row_key(c: &InboxConversation) -> (String, u64, u64, Option<String>, Option<String>) {
    (c.summary.id.clone(), c.summary.last_seq, c.summary.unread_count, c.contact_email.clone(), c.assignee.clone())
}

fn row(inbox: Inbox, c: &InboxConversation) -> impl IntoView + use<> {
    let s = &c.summary;
    let id = s.id.clone();
    let selected = {
        let id = id.clone();
        move || inbox.selected.with(|x| x.as_deref() == Some(id.as_str())).to_string()
    };
    let who = c.contact_email.clone().unwrap_or_else(|| format!("Shopper {}", &s.id[..6.min(s.id.len())]));
    let page = s.context.as_ref().map(|x| x.page.title.clone()).filter(|t| !t.is_empty());
    let cart = s.context.as_ref().and_then(|x| x.cart.as_ref()).map(|c| money(c.total, &c.currency));
    let unread = s.unread_count;
    let at = when(activity(c));
    // Who answers it, by name once the team is known (its address until then).
    let assigned_to = c.assignee.clone();
    let assignee = move || {
        assigned_to.as_ref().map(|a| format!(" · → {}", inbox.team.with(|t| t.iter().find(|m| &m.email == a).map_or_else(|| a.clone(), |m| m.name.clone()))))
    };
    view! {
        <li>
            <button type="button" class="row" data-testid="conversation-row" data-id=id.clone() aria-current=selected data-unread=unread.to_string()
                on:click=move |_| inbox.open(id.clone())>
                <span class="who" dir="auto">{who}</span>
                <time>{at}</time>
                <span class="preview" dir="auto">{s.last_message_preview.clone().unwrap_or_default()}</span>
                <span class="meta" dir="auto">{page}{cart.map(|c| format!(" · {c}"))}{assignee}</span>
                {(unread > 0).then(|| view! { <span class="unread" aria-label=format!("{unread} unread")>{unread}</span> })}
            </button>
        </li>
    }
}

fn message_view(conversation: &str, m: &Message, site_name: &str) -> impl IntoView + use<> {
    let who = match m.author {
        Author::Shopper => "Shopper".to_owned(),
        Author::Agent => m.author_name.clone().unwrap_or_else(|| site_name.to_owned()),
        Author::System => "Pigeon".to_owned(),
    };
    view! {
        <li class=format!("msg msg-{}", m.author.as_str()) data-testid="thread-message" data-seq=m.seq.to_string() data-author=m.author.as_str()>
            <span class="by" dir="auto">{who}</span>
            <time datetime=m.created_at.clone()>{when(&m.created_at)}</time>
            {(!m.body.is_empty()).then(|| view! { <p dir="auto">{m.body.clone()}</p> })}
            {files_view(conversation, &m.attachments)}
        </li>
    }
}

/// A message's files: pictures as thumbnails (at most 240 px, their size known before they
/// load) that open full size, documents as downloads with their size.
fn files_view(conversation: &str, files: &[Attachment]) -> impl IntoView + use<> {
    (!files.is_empty()).then(|| {
        let items = files
            .iter()
            .map(|f| {
                let url = format!("/v1/inbox/conversations/{conversation}/files/{}", f.id);
                match (f.is_image(), f.width.zip(f.height)) {
                    (true, Some((w, h))) => {
                        let scale = (240.0 / f64::from(w.max(h))).min(1.0);
                        let (w, h) = ((f64::from(w) * scale).round().max(1.0), (f64::from(h) * scale).round().max(1.0));
                        let src = url.clone();
                        view! {
                            <li><a href=url target="_blank" rel="noopener" data-testid="thread-image">
                                <img src=src alt=f.name.clone() width=w.to_string() height=h.to_string() loading="lazy" />
                            </a></li>
                        }
                        .into_any()
                    }
                    _ => view! {
                        <li><a href=url download=f.name.clone() data-testid="thread-file" dir="auto">{f.name.clone()}</a>
                            " " <span class="muted">{human_size(f.size)}</span></li>
                    }
                    .into_any(),
                }
            })
            .collect_view();
        view! { <ul class="files" aria-label="Files">{items}</ul> }
    })
}



/// One item of the thread as the inbox shows it.
#[derive(Clone)]
enum Item {
    Message(Message),
    Note(Note),
}

impl Item {
    fn key(&self) -> String {
        match self {
            Item::Message(m) => format!("m{}", m.seq),
            Item::Note(n) => n.id.clone(),
        }
    }
}

/// An internal note: marked as such, in its own colour, never sent to the shopper.
fn note_view(n: &Note) -> impl IntoView + use<> {
    view! {
        <li class="msg msg-note" data-testid="thread-note">
            <span class="by" dir="auto">{format!("{} · internal note", n.author_name)}</span>
            <time datetime=n.created_at.clone()>{when(&n.created_at)}</time>
            <p dir="auto">{n.body.clone()}</p>
        </li>
    }
}

/// Messages a conversation opens with, and how many more each "Show earlier" adds.
const SHOWN_STEP: usize = crate::api::THREAD_PAGE as usize;

#[component]
fn ConversationView(inbox: Inbox) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let notify = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    // A draft per conversation, kept in this browser.
    Effect::new(move |_| {
        if let Some(id) = inbox.selected.get() {
            draft.set(store::get(&draft_key(&id)).unwrap_or_default());
            error.set(None);
        }
    });
    let save_draft = move |text: String| {
        if let Some(id) = inbox.selected.get_untracked() {
            if text.is_empty() { store::remove(&draft_key(&id)) } else { store::set(&draft_key(&id), &text) }
        }
        draft.set(text);
    };
    let picker = Picker::new();
    let send = move || match validate::body(&draft.get_untracked()) {
        // A saved reply's value nobody filled in is not sent.
        Ok(body) if let Some(sentence) = unfilled_sentence(&picker.missing.with_untracked(|m| unfilled(&body, m))) => error.set(Some(sentence)),
        Ok(body) => {
            error.set(None);
            inbox.reply(body, notify.get_untracked(), inbox.note_mode.get_untracked());
            save_draft(String::new());
            notify.set(true);
        }
        Err(e) => error.set(Some(e.message)),
    };
    let note_mode = inbox.note_mode;
    let site_name_untracked = move || inbox.me.with_untracked(|m| m.sites.iter().find(|s| s.site == inbox.site.get_untracked()).map(|s| s.site_name.clone()).unwrap_or_default());
    // The newest 100 messages; "Show earlier messages" adds 100 at a time (a long thread
    // opens at once).
    let shown = RwSignal::new(SHOWN_STEP);
    Effect::new(move |_| {
        inbox.selected.track();
        shown.set(SHOWN_STEP);
    });
    // The shown messages and the internal notes written since the first of them, by time.
    // Keyed by conversation and item: a new message adds one item, and text a teammate is
    // selecting stays selected.
    let items = move || {
        inbox.thread.with(|t| {
            let from = t.messages.len().saturating_sub(shown.get());
            let shown = &t.messages[from..];
            let since = (from > 0 || t.has_earlier()).then(|| shown.first().map(|m| m.created_at.clone())).flatten();
            let mut items: Vec<(String, Item)> = shown.iter().map(|m| (m.created_at.clone(), Item::Message(m.clone()))).collect();
            inbox.notes.with(|notes| {
                let newer = notes.iter().filter(|n| since.as_ref().is_none_or(|s| &n.created_at >= s));
                items.extend(newer.map(|n| (n.created_at.clone(), Item::Note(n.clone()))));
            });
            items.sort_by(|a, b| a.0.cmp(&b.0));
            items.into_iter().map(|(_, item)| (t.id.clone(), item)).collect::<Vec<_>>()
        })
    };
    let messages = view! {
        <For each=items key=|(id, item)| (id.clone(), item.key())
            children=move |(id, item)| match item {
                Item::Message(m) => message_view(&id, &m, &site_name_untracked()).into_any(),
                Item::Note(n) => note_view(&n).into_any(),
            } />
    };
    let waiting = move || {
        let id = inbox.selected.get().unwrap_or_default();
        inbox.pending.with(|p| {
            p.iter()
                .filter(|r| r.conversation == id)
                .map(|r| {
                    let client_id = r.client_id.clone();
                    let refused = r.refused.clone();
                    let delivery = if refused.is_some() { "refused" } else { "sending" };
                    let (class, testid) = if r.note { ("msg msg-note pending", "thread-note") } else { ("msg msg-agent pending", "thread-message") };
                    view! {
                        <li class=class data-testid=testid data-delivery=delivery>
                            <p dir="auto">{r.body.clone()}</p>
                            <small>{refused.clone().unwrap_or_else(|| "Sending…".into())}</small>
                            {refused.map(|_| view! {
                                <button type="button" class="link" on:click=move |_| {
                                    if let Some(body) = inbox.discard(&client_id) { save_draft(body); }
                                }>"Edit"</button>
                            })}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let status = move || inbox.details.with(|d| d.as_ref().map(|d| d.status));
    // Opening a conversation shows its newest message; new ones scroll into view while the
    // end is on screen (or when they are the teammate's own).
    let list: NodeRef<leptos::html::Ol> = NodeRef::new();
    Effect::new(move |before: Option<(String, usize)>| {
        let now = (inbox.thread.with(|t| t.id.clone()), inbox.thread.with(|t| t.messages.len()) + inbox.pending.with(Vec::len) + inbox.notes.with(Vec::len));
        let opened = before.as_ref().is_none_or(|b| b.0 != now.0);
        if let Some(ol) = list.get_untracked().filter(|_| inbox.selected.with_untracked(Option::is_some)) {
            let near_end = ol.scroll_height() - ol.scroll_top() - ol.client_height() < 80;
            if opened || near_end || before.as_ref().is_some_and(|b| now.1 > b.1) && inbox.pending.with_untracked(|p| !p.is_empty()) {
                request_animation_frame(move || ol.set_scroll_top(ol.scroll_height()));
            }
        }
        now
    });
    // This conversation's files on their way.
    let uploads = move || {
        let open = inbox.selected.get();
        inbox.uploads.get().into_iter().filter(|u| Some(&u.conversation) == open.as_ref()).collect::<Vec<_>>()
    };
    view! {
        <section class="conversation" aria-label="Conversation" hidden=move || inbox.selected.with(Option::is_none)>
            <div class="bar">
                <button type="button" class="link back" on:click=move |_| inbox.selected.set(None)>"← Conversations"</button>
                <select data-testid="assignee" aria-label="Assigned to" prop:value=move || {
                        // Again once the team's options are there.
                        inbox.team.track();
                        inbox.details.with(|d| d.as_ref().and_then(|d| d.assignee.clone()).unwrap_or_default())
                    }
                    on:change=move |ev| {
                        let email = event_target_value(&ev);
                        inbox.assign((!email.is_empty()).then_some(email));
                    }>
                    <option value="">"Nobody"</option>
                    {move || {
                        let me = inbox.me_email();
                        inbox.team.with(|t| t.iter().map(|m| {
                            let label = if m.email == me { format!("{} (me)", m.name) } else { m.name.clone() };
                            view! { <option value=m.email.clone()>{label}</option> }
                        }).collect_view())
                    }}
                </select>
                // With ratings `on` every close asks; with `ask` the teammate chooses.
                <button type="button" data-testid="close-conversation" hidden=move || status() != Some(Status::Open)
                    on:click=move |_| inbox.close(false)>{move || if inbox.ratings() == Ratings::On { "Close and ask for a rating" } else { "Close" }}</button>
                <button type="button" data-testid="close-ask-rating" hidden=move || status() != Some(Status::Open) || inbox.ratings() != Ratings::Ask
                    on:click=move |_| inbox.close(true)>"Close and ask for a rating"</button>
                <button type="button" data-testid="reopen-conversation" hidden=move || status() != Some(Status::Closed)
                    on:click=move |_| inbox.set_status(Status::Open)>"Reopen"</button>
            </div>
            <ol class="thread" data-testid="thread" tabindex="0" aria-label="Messages" node_ref=list>
                <li class="earlier" hidden=move || inbox.thread.with(|t| t.messages.len() <= shown.get() && !t.has_earlier())>
                    <button type="button" class="link" data-testid="thread-earlier" on:click=move |_| {
                        shown.update(|n| *n += SHOWN_STEP);
                        if inbox.thread.with_untracked(|t| t.messages.len() < shown.get_untracked()) {
                            inbox.load_earlier();
                        }
                    }>"Show earlier messages"</button>
                </li>
                {messages}{waiting}
            </ol>
            <form class="composer" data-note=move || note_mode.get().then_some("") on:submit=move |ev| { ev.prevent_default(); send(); }
                on:paste=move |ev: web_sys::ClipboardEvent| {
                    // A paste of text stays text (an office program's copy carries a picture of it too).
                    let data = ev.clipboard_data();
                    let text = data.as_ref().and_then(|d| d.get_data("text").ok()).unwrap_or_default();
                    let files = if text.is_empty() { file_list(data.and_then(|d| d.files())) } else { vec![] };
                    if !files.is_empty() && !note_mode.get_untracked() {
                        ev.prevent_default();
                        inbox.attach(files, notify.get_untracked());
                    }
                }
                on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    let files = file_list(ev.data_transfer().and_then(|d| d.files()));
                    if !files.is_empty() && !note_mode.get_untracked() {
                        inbox.attach(files, notify.get_untracked());
                    }
                }>
                <div class="modes" role="group" aria-label="Write">
                    <button type="button" data-testid="mode-reply" aria-pressed=move || (!note_mode.get()).to_string() on:click=move |_| note_mode.set(false)>"Reply"</button>
                    <button type="button" data-testid="mode-note" aria-pressed=move || note_mode.get().to_string() on:click=move |_| note_mode.set(true)>"Internal note"</button>
                </div>
                <textarea data-testid="reply-composer" aria-label=move || if note_mode.get() { "Internal note" } else { "Reply" } rows="3" dir="auto"
                    placeholder=move || if note_mode.get() { "Internal note: only teammates see it (Enter adds it)" } else { "Reply… (Enter sends, Shift+Enter for a new line)" }
                    aria-autocomplete="list" aria-controls="saved-reply-options"
                    aria-activedescendant=move || (!picker.options(inbox, &draft.get()).is_empty()).then(|| format!("saved-reply-{}", picker.active.get()))
                    prop:value=draft on:input=move |ev| { save_draft(event_target_value(&ev)); picker.typed(); }
                    // Listened to on the field (no delegation): the picker stops its keys before the inbox's shortcuts see them.
                    on:keydown=move |ev| {
                        match picker.key(inbox, &ev, &draft.get_untracked()) {
                            Key::Used => {}
                            Key::Took(text) => save_draft(text),
                            Key::Pass if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() => {
                                ev.prevent_default();
                                send();
                            }
                            Key::Pass => {}
                        }
                    }></textarea>
                <PickerList inbox=inbox picker=picker text=draft on_take=move |text| save_draft(text) />
                <p class="warn" data-testid="reply-unfilled" role="status">
                    {move || unfilled_sentence(&picker.missing.with(|m| unfilled(&draft.get(), m)))}
                </p>
                <label class="quiet" hidden=move || note_mode.get()><input type="checkbox" data-testid="reply-no-email" prop:checked=move || !notify.get()
                    on:change=move |ev| notify.set(!event_target_checked(&ev)) />" Don't email the shopper about this reply"</label>
                // Photos and PDFs: chosen here, pasted into the reply, or dropped on the composer.
                <label class="attach" hidden=move || note_mode.get()>"Attach a photo or PDF"
                    <input type="file" multiple data-testid="reply-attach" accept="image/jpeg,image/png,image/gif,image/webp,application/pdf"
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            inbox.attach(file_list(input.files()), notify.get_untracked());
                            input.set_value("");
                        } />
                </label>
                <ul class="uploads" data-testid="uploads" aria-live="polite">
                    <For each=uploads
                        key=|u| (u.client_id.clone(), u.refused.clone())
                        children=move |u| {
                            let id = u.client_id.clone();
                            match u.refused {
                                None => view! { <li data-testid="upload-sending" dir="auto">{format!("Sending {}…", u.name)}</li> }.into_any(),
                                Some(why) => view! {
                                    <li class="error" data-testid="upload-refused" dir="auto">{format!("{} was not sent: {why} ", u.name)}
                                        <button type="button" class="link" on:click=move |_| inbox.uploads.update(|l| l.retain(|x| x.client_id != id))>"Dismiss"</button>
                                    </li>
                                }.into_any(),
                            }
                        } />
                </ul>
                <button type="submit" data-testid="reply-send">{move || if note_mode.get() { "Add note" } else { "Send" }}</button>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>
            <aside class="about" aria-label="About the shopper" tabindex="0">
                {move || inbox.details.with(|d| d.as_ref().map(|d| about(inbox, d)))}
            </aside>
        </section>
    }
}

/// "★★★★☆" for 4 of 5 (read out as the number beside it).
fn stars(n: u8) -> String {
    let n = usize::from(n.min(5));
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

fn about(inbox: Inbox, d: &ConversationDetails) -> impl IntoView + use<> {
    let ctx = d.context.clone().unwrap_or_default();
    let page = (!ctx.page.url.is_empty()).then(|| {
        let referrer = ctx.page.referrer.clone().map(|r| view! { <dd class="muted" dir="auto">{format!("from {r}")}</dd> });
        view! {
            <dt>"Page"</dt>
            <dd data-testid="context-page" dir="auto">{ctx.page.title.clone()}<br /><span class="muted">{ctx.page.url.clone()}</span></dd>
            {referrer}
        }
    });
    let cart = ctx.cart.clone().map(|cart| {
        let lines = cart.items.iter().map(|i| view! { <li dir="auto">{format!("{} × {} — {}", i.quantity, i.name, money(i.unit_price, &cart.currency))}</li> }).collect_view();
        view! {
            <dt>"Cart"</dt>
            <dd data-testid="context-cart"><ul>{lines}</ul><strong>{format!("Total {}", money(cart.total, &cart.currency))}</strong></dd>
        }
    });
    let history = (d.cart_history.len() > 1).then(|| {
        let steps = d.cart_history.iter().map(|c| {
            let items = if c.items == 1 { "1 item".to_owned() } else { format!("{} items", c.items) };
            view! { <li>{format!("{} — {}, {items}", when(&c.at), money(c.total, &c.currency))}</li> }
        }).collect_view();
        view! { <dt>"Cart during the chat"</dt><dd data-testid="context-cart-history"><ol>{steps}</ol></dd> }
    });
    let earlier = (!d.earlier.is_empty()).then(|| {
        let items = d
            .earlier
            .iter()
            .map(|e| {
                let id = e.id.clone();
                view! { <li><button type="button" class="link" on:click=move |_| inbox.open(id.clone())>{format!("{} — {}", when(e.last_message_at.as_deref().unwrap_or(&e.created_at)), e.last_message_preview.clone().unwrap_or_default())}</button></li> }
            })
            .collect_view();
        view! { <dt>"Earlier conversations"</dt><dd data-testid="context-earlier"><ul>{items}</ul></dd> }
    });
    // Signed identity: the shop's server vouched for the id; name and email are the page's.
    let customer = d.customer.clone().map(|c| {
        let about = [c.name, c.email].into_iter().flatten().collect::<Vec<_>>().join(" · ");
        view! {
            <dt>"Customer"</dt>
            <dd data-testid="context-customer" dir="auto"><span class="verified">"✓ Verified"</span>" "{c.id}{(!about.is_empty()).then(|| view! { <br /><span class="muted">{about}</span> })}</dd>
        }
    });
    // Ratings: what the shopper said about the last close that asked, or that one is awaited.
    let rating = d.rating.rated.clone().map(|r| {
        let effort = r.effort.map(|e| format!(" · effort {e}/5")).unwrap_or_default();
        view! {
            <dt>"Rating"</dt>
            <dd data-testid="context-rating" dir="auto"><span aria-hidden="true">{stars(r.satisfaction)}</span>{format!(" {}/5{effort}", r.satisfaction)}
                {r.comment.map(|c| view! { <br /><q>{c}</q> })}<br /><span class="muted">{when(&r.rated_at)}</span></dd>
        }
    });
    let awaited = d.rating.asked.then(|| view! { <dt>"Rating"</dt><dd data-testid="context-rating-asked" class="muted">"Asked at the last close; not answered yet"</dd> });
    view! {
        <dl>
            {customer}
            {rating}
            {awaited}
            <dt>"Email"</dt>
            <dd data-testid="context-email" dir="auto">{d.contact_email.clone().unwrap_or_else(|| "Not given".into())}</dd>
            {page}
            {cart}
            {history}
            {ctx.locale.clone().map(|l| view! { <dt>"Language"</dt><dd>{l}</dd> })}
            {ctx.time_zone.clone().and_then(|z| their_time(&z)).map(|t| view! { <dt>"Their time"</dt><dd data-testid="context-time">{t}</dd> })}
            {earlier}
        </dl>
    }
}

/// The site's team: everyone sees it; owners invite, change roles and remove.
#[component]
fn TeamView(inbox: Inbox, on_close: impl Fn() + Copy + 'static) -> impl IntoView {
    let site = inbox.site.get_untracked();
    let owner = inbox.me.with_untracked(|m| m.sites.iter().any(|s| s.site == site && s.role == TeamRole::Owner));
    let team = RwSignal::new(Vec::<TeammateInfo>::new());
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let (email, name, role) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(TeamRole::Agent));
    let done = move |r: Result<Team, Failure>, said: Option<String>| match r {
        Ok(t) => {
            team.set(t.teammates);
            error.set(None);
            note.set(said);
        }
        Err(f) => error.set(Some(f.sentence())),
    };
    {
        let site = site.clone();
        spawn_local(async move { done(api::team(&site).await, None) });
    }
    let site = StoredValue::new(site);
    let send_invite = move || {
        let invite = Invite { email: email.get_untracked().trim().to_owned(), name: name.get_untracked().trim().to_owned(), role: role.get_untracked() };
        if validate::email(&invite.email).is_err() || invite.name.is_empty() {
            return error.set(Some("Enter the teammate's name and email address.".into()));
        }
        spawn_local(async move {
            let said = format!("{} is on the team; an invitation with a sign-in link is on its way.", invite.email);
            let r = api::invite(&site.get_value(), &invite).await;
            if r.is_ok() {
                email.set(String::new());
                name.set(String::new());
            }
            done(r, Some(said));
        });
    };
    let me = inbox.me.with_untracked(|m| m.email.clone());
    let rows = move || {
        team.with(|t| {
            t.iter()
                .map(|m| {
                    let (address, address2) = (m.email.clone(), m.email.clone());
                    let current = m.role;
                    let controls = (owner && m.email != me).then(|| {
                        view! {
                            <select aria-label=format!("Role of {}", m.name) data-testid="teammate-role"
                                on:change=move |ev| {
                                    let role = if event_target_value(&ev) == "owner" { TeamRole::Owner } else { TeamRole::Agent };
                                    let address = address.clone();
                                    spawn_local(async move { done(api::change_role(&site.get_value(), &address, role).await, None) });
                                }>
                                <option value="agent" selected=current == TeamRole::Agent>"Agent"</option>
                                <option value="owner" selected=current == TeamRole::Owner>"Owner"</option>
                            </select>
                            <button type="button" data-testid="teammate-remove" on:click=move |_| {
                                let address = address2.clone();
                                spawn_local(async move {
                                    let said = format!("{address} was removed; their access ended.");
                                    done(api::remove(&site.get_value(), &address).await, Some(said));
                                });
                            }>"Remove"</button>
                        }
                    });
                    view! {
                        <li data-testid="teammate">
                            <span dir="auto">{m.name.clone()}</span>
                            <span class="muted" dir="auto">{m.email.clone()}</span>
                            <span class="role">{if current == TeamRole::Owner { "Owner" } else { "Agent" }}</span>
                            {controls}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="team" aria-labelledby="team-title" data-testid="team">
            <div class="bar">
                <h2 id="team-title">"Team"</h2>
                <button type="button" class="link" on:click=move |_| on_close()>"Close"</button>
            </div>
            <ul>{rows}</ul>
            <form hidden=!owner on:submit=move |ev| { ev.prevent_default(); send_invite(); }>
                <h3>"Invite a teammate"</h3>
                <label>"Name"<input type="text" data-testid="invite-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label>"Email"<input type="email" data-testid="invite-email" prop:value=email on:input=move |ev| email.set(event_target_value(&ev)) /></label>
                <label>"Role"
                    <select data-testid="invite-role" on:change=move |ev| role.set(if event_target_value(&ev) == "owner" { TeamRole::Owner } else { TeamRole::Agent })>
                        <option value="agent">"Agent"</option>
                        <option value="owner">"Owner"</option>
                    </select>
                </label>
                <button type="submit" data-testid="invite-send">"Invite"</button>
            </form>
            <p class="muted" hidden=owner>"Only owners can change the team."</p>
            <p role="status">{move || note.get()}</p>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}

/// The files of a file list (an input's, a paste's, a drop's).
fn file_list(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default()
}
