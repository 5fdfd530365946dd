//! A conversation's life in the widget, for the few threads that have one: the loader calls
//! [`lifecycle`] once the panel shows a note from Pigeon (`data-author="system"`: the relay
//! leaves one at each close, and at the start of a conversation that follows another). Under
//! the thread it then shows, with plain DOM in the panel's Shadow DOM (the widget's first load
//! has a size budget; this is code few shoppers need):
//!
//! - a closed conversation says so: write to reopen it, or "Start a new conversation";
//! - the rating a close asked for: how happy (1-5, one tap), how easy it was to get help
//!   (optional), a comment (optional), Send or Skip; once per close (`/rating` on the relay);
//! - this browser's earlier conversations, each opened read-only over the panel.
//!
//! A new conversation is made on the relay with `follows` (the held one, proven by its token:
//! erasing the new one erases the earlier ones too), put in the widget's storage with the old
//! one added to `kv` key `earlier`, and announced to the site's tabs as a `session` note, the
//! way a resume link or signed identity switches threads.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Document, Element, IdbTransactionMode, ShadowRoot};

use crate::idb::{KV, MESSAGES, SESSION, event, get, object, open, open_existing, store, tx};

/// `kv` key: the conversations this browser held before, newest first: `[{id, token, at}]`.
pub(crate) const EARLIER: &str = "earlier";
/// `kv` key: the rating ask the shopper skipped (`<conversation>:<seq of its note>`).
pub(crate) const SKIPPED: &str = "rating_skipped";
/// What goes with the conversation the browser lets go of (the outbox and the draft stay).
const WITH_CONVERSATION: [&str; 4] = ["session", "read_seq", "contact", SKIPPED];
/// How many earlier conversations the browser keeps listed.
const MAX_EARLIER: u32 = 20;
/// How many messages of an earlier conversation are shown (its newest).
const EARLIER_MESSAGES: u32 = 200;

const CSS: &str = "
.pg-life { flex-shrink: 1; min-height: 0; max-height: 50%; overflow-y: auto; padding: 0 12px; font-size: 14px; }
.pg-life:empty { display: none; }
.pg-life p { margin: 6px 0; }
.pg-life-note { color: var(--pg-muted); }
.pg-rate { border: 1px solid var(--pg-line); border-radius: 10px; padding: 8px 10px; margin: 6px 0; }
.pg-rate fieldset { border: 0; margin: 0 0 6px; padding: 0; }
.pg-rate legend { padding: 0; margin-bottom: 4px; font-weight: 600; }
.pg-scale { display: flex; gap: 6px; }
.pg-scale button { flex: 1; min-height: 40px; border: 1px solid var(--pg-line); border-radius: 8px; background: transparent; color: inherit; font: inherit; cursor: pointer; }
.pg-scale button[aria-pressed=true] { border-color: var(--pg-brand, #2f6fed); background: var(--pg-brand, #2f6fed); color: #fff; }
.pg-scale-ends { display: flex; justify-content: space-between; font-size: 12px; color: var(--pg-muted); }
.pg-rate textarea { width: 100%; box-sizing: border-box; font: inherit; color: inherit; background: transparent; border: 1px solid var(--pg-line); border-radius: 8px; padding: 6px; }
.pg-rate-actions { display: flex; gap: 12px; align-items: center; margin-top: 6px; }
.pg-rate-actions button[type=submit] { border: 0; border-radius: 8px; padding: 6px 14px; background: var(--pg-brand, #2f6fed); color: #fff; font: inherit; cursor: pointer; }
.pg-life-error { color: #b3261e; }
.pg-life-error:empty { display: none; }
@media (prefers-color-scheme: dark) { .pg-life-error { color: #ff9b8f; } }
.pg-life-earlier summary { cursor: pointer; color: var(--pg-muted); padding: 4px 0; }
.pg-life-earlier ul { list-style: none; margin: 0; padding: 0; }
.pg-life-view { position: absolute; inset: 0; z-index: 1; display: flex; flex-direction: column; background: var(--pg-bg, #fff); color: var(--pg-fg, #1b1b1f); border-radius: 14px; overflow: hidden; }
.pg-life-view-head { display: flex; gap: 12px; align-items: center; padding: 10px 12px; border-bottom: 1px solid var(--pg-line); }
.pg-life-view h2 { margin: 0; font-size: 15px; }
.pg-life-view ol { flex: 1; overflow-y: auto; list-style: none; margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.pg-life-view .pg-life-readonly { margin: 0; padding: 8px 12px; border-top: 1px solid var(--pg-line); color: var(--pg-muted); font-size: 13px; }
";

/// The shopper's words, in the widget's language (the page's, then the browser's).
struct Words {
    closed: &'static str,
    start_new: &'static str,
    how: &'static str,
    satisfaction: [&'static str; 5],
    unhappy: &'static str,
    happy: &'static str,
    effort: &'static str,
    easy: &'static str,
    hard: &'static str,
    comment: &'static str,
    send: &'static str,
    skip: &'static str,
    choose_first: &'static str,
    thanks: &'static str,
    earlier: &'static str,
    started: &'static str,
    back: &'static str,
    read_only: &'static str,
    not_kept: &'static str,
    offline: &'static str,
}

const EN: Words = Words {
    closed: "This conversation is closed. Write below to reopen it, or",
    start_new: "start a new conversation",
    how: "How did we do?",
    satisfaction: ["1 – very unhappy", "2 – unhappy", "3 – neutral", "4 – happy", "5 – very happy"],
    unhappy: "Very unhappy",
    happy: "Very happy",
    effort: "How easy was it to get help? (optional)",
    easy: "Very easy",
    hard: "Very hard",
    comment: "Anything to add? (optional)",
    send: "Send rating",
    skip: "Skip",
    choose_first: "Choose how happy you are first.",
    thanks: "Thanks for your rating!",
    earlier: "Earlier conversations",
    started: "Left on",
    back: "Back",
    read_only: "An earlier conversation, to read only.",
    not_kept: "This conversation is no longer kept.",
    offline: "That did not work (offline?). Please try again.",
};

const DE: Words = Words {
    closed: "Dieses Gespräch ist abgeschlossen. Schreib unten, um es fortzusetzen, oder",
    start_new: "beginne ein neues Gespräch",
    how: "Wie war unsere Hilfe?",
    satisfaction: ["1 – sehr unzufrieden", "2 – unzufrieden", "3 – neutral", "4 – zufrieden", "5 – sehr zufrieden"],
    unhappy: "Sehr unzufrieden",
    happy: "Sehr zufrieden",
    effort: "Wie leicht war es, Hilfe zu bekommen? (freiwillig)",
    easy: "Sehr leicht",
    hard: "Sehr schwer",
    comment: "Möchtest du noch etwas sagen? (freiwillig)",
    send: "Bewertung senden",
    skip: "Überspringen",
    choose_first: "Wähle zuerst, wie zufrieden du bist.",
    thanks: "Danke für deine Bewertung!",
    earlier: "Frühere Gespräche",
    started: "Verlassen am",
    back: "Zurück",
    read_only: "Ein früheres Gespräch, nur zum Lesen.",
    not_kept: "Dieses Gespräch wird nicht mehr aufbewahrt.",
    offline: "Das hat nicht geklappt (offline?). Bitte versuch es noch einmal.",
};

fn words() -> (&'static Words, &'static str) {
    if german() { (&DE, "de") } else { (&EN, "en") }
}

/// The widget speaks German: the page's language, then the browser's, says so.
pub(crate) fn german() -> bool {
    let window = web_sys::window();
    let page = window.as_ref().and_then(|w| w.document()).and_then(|d| d.document_element()).and_then(|e| e.get_attribute("lang")).unwrap_or_default();
    let browser = window.and_then(|w| w.navigator().language()).unwrap_or_default();
    let lang = if page.is_empty() { browser } else { page };
    lang.to_ascii_lowercase().starts_with("de")
}

/// What the panel shows under the thread, worked out from the thread on screen, the
/// browser's storage and the relay; shown again only when it changes.
#[derive(Debug, Default, Clone, PartialEq)]
struct Shown {
    conversation: Option<String>,
    closed: bool,
    /// The seq of the thread's last note from Pigeon: the close (or rating ask) it is about.
    note_seq: String,
    ask: bool,
    earlier: Vec<(String, f64)>,
}

struct Life {
    relay: String,
    site: String,
    root: ShadowRoot,
    words: &'static Words,
    lang: &'static str,
    shown: RefCell<Option<Shown>>,
    /// What [`Life::show`] last looked at.
    probe: RefCell<String>,
    /// The rating form of the ask shown (`<conversation>:<seq of its note>`).
    form: RefCell<Option<(String, Element)>>,
    busy: Cell<bool>,
    again: Cell<bool>,
    /// The rating just sent (shown as thanks until the thread changes).
    thanked: RefCell<Option<String>>,
}

thread_local! {
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Shows the conversation's life under the thread from now on (the loader calls it when the
/// thread shows a note from Pigeon; later calls change nothing).
#[wasm_bindgen]
pub fn lifecycle(relay: String, site: String, root: ShadowRoot) {
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    adopt_css(&root, CSS);
    let (words, lang) = words();
    let life = Rc::new(Life { relay, site, root, words, lang, shown: RefCell::new(None), probe: RefCell::new(String::new()), form: RefCell::new(None), busy: Cell::new(false), again: Cell::new(false), thanked: RefCell::new(None) });
    let watched = life.clone();
    let on_change = Closure::<dyn Fn()>::new(move || watched.refresh());
    if let Ok(observer) = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()) {
        let init = web_sys::MutationObserverInit::new();
        init.set_child_list(true);
        init.set_subtree(true);
        init.set_attributes(true);
        init.set_attribute_filter(&js_sys::Array::of1(&"data-seq".into()));
        let _ = observer.observe_with_options(&life.root, &init);
    }
    on_change.forget();
    life.refresh();
}

/// The extras' styles join the panel's in its Shadow DOM.
pub(crate) fn adopt_css(root: &ShadowRoot, css: &str) {
    let Ok(sheet) = web_sys::CssStyleSheet::new() else { return };
    let _ = sheet.replace_sync(css);
    let sheets = js_sys::Array::from(&get(root, "adoptedStyleSheets"));
    sheets.push(&sheet);
    let _ = js_sys::Reflect::set(root, &"adoptedStyleSheets".into(), &sheets);
}

pub(crate) fn document() -> Option<Document> {
    web_sys::window()?.document()
}

pub(crate) fn el(tag: &str, class: &str, text: &str) -> Element {
    let e = document().and_then(|d| d.create_element(tag).ok()).expect("a document");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    e
}

pub(crate) fn attrs(e: &Element, pairs: &[(&str, &str)]) {
    for (k, v) in pairs {
        let _ = e.set_attribute(k, v);
    }
}

pub(crate) fn on(e: &Element, name: &str, f: impl Fn(web_sys::Event) + 'static) {
    let cb = Closure::<dyn Fn(web_sys::Event)>::new(f);
    let _ = e.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
    cb.forget();
}

pub(crate) fn append(parent: &Element, children: &[&Element]) {
    for c in children {
        let _ = parent.append_child(c);
    }
}

/// A JSON request to the relay: its status and body (undefined when there is none).
pub(crate) async fn call(method: &str, url: &str, token: Option<&str>, body: Option<&JsValue>) -> Result<(u16, JsValue), ()> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_mode(web_sys::RequestMode::Cors);
    let headers = web_sys::Headers::new().map_err(drop)?;
    if let Some(t) = token {
        headers.set("authorization", &format!("Bearer {t}")).map_err(drop)?;
    }
    if let Some(b) = body {
        headers.set("content-type", "application/json").map_err(drop)?;
        init.set_body(&js_sys::JSON::stringify(b).map_err(drop)?.into());
    }
    init.set_headers(&headers);
    let answer = JsFuture::from(web_sys::window().ok_or(())?.fetch_with_str_and_init(url, &init)).await.map_err(drop)?;
    let answer: web_sys::Response = answer.dyn_into().map_err(drop)?;
    let json = match answer.json() {
        Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    Ok((answer.status(), json))
}

/// A stored list, or an empty one (nothing stored yet, or not a list).
pub(crate) fn array(v: &JsValue) -> js_sys::Array {
    v.dyn_ref::<js_sys::Array>().cloned().unwrap_or_default()
}

/// The relay's sentence for a refusal, or ours.
pub(crate) fn sentence(json: &JsValue, fallback: &str) -> String {
    get(&get(json, "error"), "message").as_string().unwrap_or_else(|| fallback.to_owned())
}

/// A conversation made on the relay with this page as its context (and `follows`, the held
/// one, when given): the session to hold, `{id, token}`.
pub(crate) async fn new_conversation(relay: &str, site: &str, follows: Option<JsValue>) -> Result<JsValue, ()> {
    let window = web_sys::window().ok_or(())?;
    let page = object(&[
        ("url", window.location().href().unwrap_or_default().into()),
        ("title", document().map(|d| d.title()).unwrap_or_default().into()),
    ]);
    let mut context = vec![("page", page)];
    if let Some(l) = window.navigator().language() {
        context.push(("locale", l.into()));
    }
    let mut body = vec![("context", object(&context))];
    if let Some(f) = follows {
        body.push(("follows", f));
    }
    let (status, json) = call("POST", &format!("{relay}/v1/sites/{site}/conversations"), None, Some(&object(&body))).await?;
    if status != 201 {
        // The relay's sentence is for developers (the console); the shopper gets ours.
        web_sys::console::warn_1(&format!("Pigeon: a new conversation was refused: {}", sentence(&json, &status.to_string())).into());
        return Err(());
    }
    Ok(object(&[("id", get(&get(&json, "conversation"), "id")), ("token", get(&json, "token"))]))
}

/// Tells the site's tabs that this browser holds `next` now (the way a resume link does); a
/// signed-in customer's new conversation becomes theirs too.
pub(crate) fn announce(site: &str, next: JsValue) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(&format!("pigeon:{site}")) {
        let _ = channel.post_message(&object(&[("type", "session".into()), ("session", next.clone())]));
        channel.close();
    }
    crate::identity::claim(next);
}

/// The `kv` values the panel's life depends on: the session, the earlier list, the skip.
async fn held(site: &str) -> Result<(JsValue, JsValue, JsValue), JsValue> {
    let Some(db) = open_existing(site).await? else { return Ok((JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)) };
    let read = async {
        let t = tx(&db, &[KV], IdbTransactionMode::Readonly)?;
        let kv = store(&t, KV)?;
        let (s, e, k) = (kv.get(&SESSION.into())?, kv.get(&EARLIER.into())?, kv.get(&SKIPPED.into())?);
        event(&t, "complete").await?;
        Ok::<_, JsValue>((s.result()?, e.result()?, k.result()?))
    };
    let found = read.await;
    db.close();
    found
}

impl Life {
    /// Works out what to show again (at most one at a time, and once more if the panel
    /// changed meanwhile).
    fn refresh(self: &Rc<Self>) {
        if self.busy.replace(true) {
            return self.again.set(true);
        }
        let me = self.clone();
        spawn_local(async move {
            loop {
                if let Err(e) = me.show().await {
                    web_sys::console::warn_1(&e);
                }
                if !me.again.replace(false) {
                    break;
                }
            }
            me.busy.set(false);
        });
    }

    async fn show(self: &Rc<Self>) -> Result<(), JsValue> {
        let Some(list) = self.root.query_selector("ol[data-testid=messages]")? else { return Ok(()) };
        let last = |selector: &str| -> Option<Element> {
            let all = list.query_selector_all(selector).ok()?;
            all.get(all.length().checked_sub(1)?)?.dyn_into().ok()
        };
        let note_seq = last("li[data-author=system]").and_then(|n| n.get_attribute("data-seq")).unwrap_or_default();
        let newest = last("li[data-testid=message]").map(|m| format!("{:?}{:?}", m.get_attribute("data-author"), m.get_attribute("data-seq"))).unwrap_or_default();
        let (session, earlier, skipped) = held(&self.site).await?;
        let conversation = get(&session, "id").as_string();
        let token = get(&session, "token").as_string();
        let earlier: Vec<(String, f64)> = array(&earlier).iter().filter_map(|e| Some((get(&e, "id").as_string()?, get(&e, "at").as_f64().unwrap_or(0.0)))).collect();
        // Asked again only when the thread (its newest message, its last note), the held
        // conversation, the earlier ones or the skip changed: not for the panel's own changes.
        let probe = format!("{conversation:?}|{note_seq}|{newest}|{}|{:?}", earlier.len(), skipped.as_string());
        if self.probe.replace(probe.clone()) == probe {
            return Ok(());
        }
        let mut next = Shown { conversation: conversation.clone(), note_seq: note_seq.clone(), earlier, ..Shown::default() };
        // The relay says whether it is closed and whether a rating is awaited, when the thread
        // has a note from Pigeon (a close, or the start of a following conversation) it has
        // not asked about, or while it is closed (the shopper writing reopens it).
        let before = self.shown.borrow().clone().filter(|b| b.conversation == next.conversation && b.note_seq == next.note_seq && !b.closed);
        if let Some(b) = before {
            next.ask = b.ask && skipped.as_string() != Some(format!("{}:{note_seq}", conversation.as_deref().unwrap_or_default()));
        } else if let (Some(id), Some(token), false) = (&conversation, &token, note_seq.is_empty()) {
            match call("GET", &format!("{}/v1/conversations/{id}/rating", self.relay), Some(token), None).await {
                Ok((200, json)) => {
                    // `RatingState` read by hand: serde_json here costs the module 14 KB (brotli).
                    next.closed = get(&json, "status").as_string().as_deref() == Some("closed");
                    next.ask = get(&json, "asked").as_bool() == Some(true) && skipped.as_string() != Some(format!("{id}:{note_seq}"));
                }
                // Offline or refused for now: what is shown stays, and the next change asks again.
                _ => {
                    self.probe.borrow_mut().clear();
                    return Ok(());
                }
            }
        }
        if self.shown.borrow().as_ref() == Some(&next) {
            return Ok(());
        }
        self.render(&list, &next, token.as_deref());
        *self.shown.borrow_mut() = Some(next);
        Ok(())
    }

    /// The panel's part under the thread, made anew.
    fn render(self: &Rc<Self>, list: &Element, shown: &Shown, token: Option<&str>) {
        let box_ = match self.root.query_selector(".pg-life").ok().flatten() {
            Some(b) => b,
            None => {
                let b = el("div", "pg-life", "");
                attrs(&b, &[("data-testid", "lifecycle")]);
                let _ = list.after_with_node_1(&b);
                b
            }
        };
        box_.set_text_content(None);
        let w = self.words;
        let error = el("p", "pg-life-error", "");
        attrs(&error, &[("role", "alert"), ("data-testid", "lifecycle-error")]);
        if shown.closed {
            let note = el("p", "pg-life-note", &format!("{} ", w.closed));
            attrs(&note, &[("data-testid", "closed-banner")]);
            let start = el("button", "pg-link", w.start_new);
            attrs(&start, &[("type", "button"), ("data-testid", "new-conversation")]);
            let (me, error_) = (self.clone(), error.clone());
            on(&start, "click", move |ev| {
                let button = ev.current_target().and_then(|t| t.dyn_into::<Element>().ok());
                if let Some(b) = &button {
                    let _ = b.set_attribute("disabled", "");
                }
                let (me, error_) = (me.clone(), error_.clone());
                spawn_local(async move {
                    match me.start_new().await {
                        Ok(()) => me.focus_composer(),
                        Err(why) => {
                            error_.set_text_content(Some(&why));
                            if let Some(b) = button {
                                let _ = b.remove_attribute("disabled");
                            }
                        }
                    }
                });
            });
            append(&note, &[&start]);
            let _ = note.append_with_str_1(".");
            append(&box_, &[&note]);
        }
        if let (Some(id), Some(token)) = (&shown.conversation, token) {
            if self.thanked.borrow().as_deref() == Some(&format!("{id}:{}", shown.note_seq)) {
                let thanks = el("p", "pg-life-note", w.thanks);
                attrs(&thanks, &[("data-testid", "rate-thanks"), ("role", "status"), ("tabindex", "-1")]);
                append(&box_, &[&thanks]);
                // The Send button it replaces had the focus: it moves here, and is read out.
                if let Ok(t) = thanks.dyn_into::<web_sys::HtmlElement>() {
                    let _ = t.focus();
                }
            } else if shown.ask {
                // The same ask keeps its form (a choice made, a comment typed, the focus).
                let key = format!("{id}:{}", shown.note_seq);
                let kept = self.form.borrow().as_ref().filter(|(k, _)| *k == key).map(|(_, f)| f.clone());
                let form = kept.unwrap_or_else(|| self.rating_form(id, token, &shown.note_seq));
                *self.form.borrow_mut() = Some((key, form.clone()));
                append(&box_, &[&form]);
            }
        }
        if !shown.earlier.is_empty() {
            append(&box_, &[&self.earlier_list(&shown.earlier)]);
        }
        append(&box_, &[&error]);
    }

    /// One tap on a number says how happy; how easy it was and a comment may follow. Send,
    /// or Skip (not asked again for this close).
    fn rating_form(self: &Rc<Self>, id: &str, token: &str, note_seq: &str) -> Element {
        let w = self.words;
        let form = el("form", "pg-rate", "");
        attrs(&form, &[("data-testid", "rate-form"), ("aria-label", w.how)]);
        let error = el("p", "pg-life-error", "");
        attrs(&error, &[("role", "alert"), ("data-testid", "rate-error")]);
        let error = &error;
        let satisfaction = Rc::new(Cell::new(0u8));
        let effort = Rc::new(Cell::new(0u8));
        let scale = |legend: &str, labels: [&str; 5], shown: [&str; 5], ends: (&str, &str), chosen: Rc<Cell<u8>>, testid: &str| {
            let set = el("fieldset", "", "");
            append(&set, &[&el("legend", "", legend)]);
            let row = el("div", "pg-scale", "");
            for n in 1..=5u8 {
                let b = el("button", "", shown[n as usize - 1]);
                attrs(&b, &[("type", "button"), ("aria-pressed", "false"), ("aria-label", labels[n as usize - 1]), ("data-testid", &format!("{testid}-{n}"))]);
                let (chosen, row_, error) = (chosen.clone(), row.clone(), error.clone());
                on(&b, "click", move |_| {
                    chosen.set(n);
                    error.set_text_content(None);
                    let buttons = row_.children();
                    for i in 0..buttons.length() {
                        if let Some(other) = buttons.item(i) {
                            let _ = other.set_attribute("aria-pressed", if i + 1 == u32::from(n) { "true" } else { "false" });
                        }
                    }
                });
                append(&row, &[&b]);
            }
            let ends_ = el("div", "pg-scale-ends", "");
            append(&ends_, &[&el("span", "", ends.0), &el("span", "", ends.1)]);
            append(&set, &[&row, &ends_]);
            set
        };
        // Numbers, not faces: not every phone's fonts have every face.
        let numbers = ["1", "2", "3", "4", "5"];
        let effort_labels = if self.lang == "de" {
            ["1 – sehr leicht", "2 – leicht", "3 – mittel", "4 – schwer", "5 – sehr schwer"]
        } else {
            ["1 – very easy", "2 – easy", "3 – neither", "4 – hard", "5 – very hard"]
        };
        let happy = scale(w.how, w.satisfaction, numbers, (w.unhappy, w.happy), satisfaction.clone(), "rate-s");
        let easy = scale(w.effort, effort_labels, numbers, (w.easy, w.hard), effort.clone(), "rate-e");
        let comment = el("textarea", "", "");
        attrs(&comment, &[("rows", "2"), ("maxlength", "1000"), ("aria-label", w.comment), ("placeholder", w.comment), ("data-testid", "rate-comment")]);
        let actions = el("div", "pg-rate-actions", "");
        let send = el("button", "", w.send);
        attrs(&send, &[("type", "submit"), ("data-testid", "rate-send")]);
        let skip = el("button", "pg-link", w.skip);
        attrs(&skip, &[("type", "button"), ("data-testid", "rate-skip")]);
        append(&actions, &[&send, &skip]);
        append(&form, &[&happy, &easy, &comment, &actions, error]);

        let key = format!("{id}:{note_seq}");
        let (me, skip_key) = (self.clone(), key.clone());
        on(&skip, "click", move |_| {
            let (me, skip_key) = (me.clone(), skip_key.clone());
            spawn_local(async move {
                if let Err(e) = me.put_kv(SKIPPED, &skip_key.into()).await {
                    web_sys::console::warn_1(&e);
                }
                me.again_from_scratch();
                me.focus_composer();
            });
        });
        let (me, id, token, error) = (self.clone(), id.to_owned(), token.to_owned(), error.clone());
        on(&form, "submit", move |ev| {
            ev.prevent_default();
            let w = me.words;
            if satisfaction.get() == 0 {
                return error.set_text_content(Some(w.choose_first));
            }
            let mut body = vec![("satisfaction", JsValue::from(satisfaction.get()))];
            if effort.get() > 0 {
                body.push(("effort", effort.get().into()));
            }
            let text = comment.clone().dyn_into::<web_sys::HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default();
            if !text.trim().is_empty() {
                body.push(("comment", text.trim().into()));
            }
            let (me, id, token, error, key) = (me.clone(), id.clone(), token.clone(), error.clone(), key.clone());
            spawn_local(async move {
                let url = format!("{}/v1/conversations/{id}/rating", me.relay);
                match call("POST", &url, Some(&token), Some(&object(&body))).await {
                    // Answered now, or already (another tab): thanks either way.
                    Ok((204, _)) => me.thank(key),
                    Ok((409, json)) if get(&get(&json, "error"), "code").as_string().as_deref() == Some("already_rated") => me.thank(key),
                    Ok((_, json)) => error.set_text_content(Some(&sentence(&json, w.offline))),
                    Err(()) => error.set_text_content(Some(w.offline)),
                }
            });
        });
        form
    }

    /// The composer, where the shopper goes on after the banner or the rating leaves.
    fn focus_composer(&self) {
        if let Some(c) = self.root.query_selector("textarea[data-testid=composer]").ok().flatten().and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = c.focus();
        }
    }

    fn thank(self: &Rc<Self>, key: String) {
        *self.thanked.borrow_mut() = Some(key);
        self.again_from_scratch();
    }

    /// Shows again even though the thread did not change (a rating sent or skipped).
    fn again_from_scratch(self: &Rc<Self>) {
        *self.shown.borrow_mut() = None;
        self.probe.borrow_mut().clear();
        self.refresh();
    }

    async fn put_kv(&self, key: &str, value: &JsValue) -> Result<(), JsValue> {
        let db = open(&self.site).await?;
        let put = async {
            let t = tx(&db, &[KV], IdbTransactionMode::Readwrite)?;
            store(&t, KV)?.put_with_key(value, &key.into())?;
            event(&t, "complete").await
        };
        let done = put.await;
        db.close();
        done
    }

    /// "Earlier conversations (n)": each opens read-only over the panel.
    fn earlier_list(self: &Rc<Self>, earlier: &[(String, f64)]) -> Element {
        let w = self.words;
        let details = el("details", "pg-life-earlier", "");
        attrs(&details, &[("data-testid", "earlier-conversations")]);
        append(&details, &[&el("summary", "", &format!("{} ({})", w.earlier, earlier.len()))]);
        let ul = el("ul", "", "");
        for (id, at) in earlier {
            let when = self.date(*at);
            let li = el("li", "", "");
            let open = el("button", "pg-link", &format!("{} {when}", w.started));
            attrs(&open, &[("type", "button"), ("data-testid", "earlier-open")]);
            let (me, id, when) = (self.clone(), id.clone(), when.clone());
            on(&open, "click", move |ev| {
                let opener = ev.current_target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
                let (me, id, when) = (me.clone(), id.clone(), when.clone());
                spawn_local(async move { me.read_earlier(&id, &when, opener).await });
            });
            append(&li, &[&open]);
            append(&ul, &[&li]);
        }
        append(&details, &[&ul]);
        details
    }

    fn date(&self, at_ms: f64) -> String {
        let options = object(&[("dateStyle", "medium".into()), ("timeStyle", "short".into())]);
        js_sys::Date::new(&at_ms.into()).to_locale_string(self.lang, &options).into()
    }

    /// An earlier conversation over the panel, to read only; Back (or Escape) returns.
    async fn read_earlier(self: &Rc<Self>, id: &str, when: &str, opener: Option<web_sys::HtmlElement>) {
        let w = self.words;
        let Ok((_, earlier, _)) = held(&self.site).await else { return };
        let token = array(&earlier).iter().find(|e| get(e, "id").as_string().as_deref() == Some(id)).and_then(|e| get(&e, "token").as_string());
        let Some(panel) = self.root.query_selector("section.pg-panel").ok().flatten() else { return };
        if self.root.query_selector(".pg-life-view").ok().flatten().is_some() {
            return;
        }
        let view = el("div", "pg-life-view", "");
        attrs(&view, &[("role", "dialog"), ("aria-modal", "true"), ("aria-labelledby", "pg-life-view-title"), ("data-testid", "earlier-view")]);
        let header = el("div", "pg-life-view-head", "");
        let back = el("button", "pg-link", &format!("← {}", w.back));
        attrs(&back, &[("type", "button"), ("data-testid", "earlier-back")]);
        let title = el("h2", "", &format!("{} {when}", w.started));
        attrs(&title, &[("id", "pg-life-view-title")]);
        append(&header, &[&back, &title]);
        // The panel behind it is out of reach (Tab, screen readers) until Back.
        let behind: Vec<Element> = (0..panel.children().length()).filter_map(|i| panel.children().item(i)).collect();
        for e in &behind {
            let _ = e.set_attribute("inert", "");
        }
        let thread = el("ol", "", "");
        attrs(&thread, &[("tabindex", "0"), ("aria-label", w.earlier)]);
        let foot = el("p", "pg-life-readonly", w.read_only);
        append(&view, &[&header, &thread, &foot]);
        let closing = view.clone();
        let close = move || {
            closing.remove();
            for e in &behind {
                let _ = e.remove_attribute("inert");
            }
            if let Some(o) = &opener {
                let _ = o.focus();
            }
        };
        let close = Rc::new(close);
        let on_back = close.clone();
        on(&back, "click", move |_| on_back());
        on(&view, "keydown", move |ev| {
            if let Ok(k) = ev.dyn_into::<web_sys::KeyboardEvent>()
                && k.key() == "Escape"
            {
                k.stop_propagation();
                close();
            }
        });
        append(&panel, &[&view]);
        if let Ok(b) = back.clone().dyn_into::<web_sys::HtmlElement>() {
            let _ = b.focus();
        }
        let url = format!("{}/v1/conversations/{id}/messages?last={EARLIER_MESSAGES}", self.relay);
        match token {
            Some(token) => match call("GET", &url, Some(&token), None).await {
                Ok((200, json)) => {
                    for m in array(&get(&json, "messages")).iter() {
                        let author = get(&m, "author").as_string().unwrap_or_default();
                        let author = match author.as_str() {
                            "shopper" | "agent" | "system" => author,
                            _ => "system".to_owned(),
                        };
                        let li = el("li", &format!("pg-msg pg-msg-{author}"), "");
                        attrs(&li, &[("data-testid", "earlier-message"), ("dir", "auto")]);
                        // As in the thread: the shop's side is named, the shopper's is not.
                        if let Some(n) = get(&m, "author_name").as_string().filter(|_| author != "shopper") {
                            append(&li, &[&el("span", "pg-author", &n)]);
                        }
                        append(&li, &[&el("p", "pg-body", &get(&m, "body").as_string().unwrap_or_default())]);
                        append(&thread, &[&li]);
                    }
                }
                Ok((404, _)) => foot.set_text_content(Some(w.not_kept)),
                Ok((_, json)) => foot.set_text_content(Some(&sentence(&json, w.offline))),
                Err(()) => foot.set_text_content(Some(w.offline)),
            },
            None => foot.set_text_content(Some(w.not_kept)),
        }
    }

    /// "Start a new conversation": made on the relay following the held one, held here
    /// instead of it (which joins the earlier ones), and announced to the site's tabs.
    async fn start_new(self: &Rc<Self>) -> Result<(), String> {
        let w = self.words;
        let (session, earlier, _) = held(&self.site).await.map_err(|_| w.offline.to_owned())?;
        let (Some(id), Some(token)) = (get(&session, "id").as_string(), get(&session, "token").as_string()) else { return Err(w.offline.to_owned()) };
        let follows = object(&[("id", id.as_str().into()), ("token", token.as_str().into())]);
        let next = new_conversation(&self.relay, &self.site, Some(follows)).await.map_err(|()| w.offline.to_owned())?;
        // The one held joins the earlier ones (newest first, a bounded list).
        let list = js_sys::Array::new();
        list.push(&object(&[("id", id.into()), ("token", token.into()), ("at", js_sys::Date::now().into())]));
        for e in array(&earlier).iter().take(MAX_EARLIER as usize - 1) {
            list.push(&e);
        }
        self.switch(&next, &list).await.map_err(|_| w.offline.to_owned())?;
        announce(&self.site, next);
        Ok(())
    }

    /// In one transaction: the held conversation's messages and records go, the new one is
    /// held, the earlier list saved. Unsent messages and the draft stay (they go into the new one).
    async fn switch(&self, next: &JsValue, earlier: &js_sys::Array) -> Result<(), JsValue> {
        let db = open(&self.site).await?;
        let done = async {
            let t = tx(&db, &[KV, MESSAGES], IdbTransactionMode::Readwrite)?;
            let committed = event(&t, "complete");
            let steps = || -> Result<(), JsValue> {
                let kv = store(&t, KV)?;
                store(&t, MESSAGES)?.clear()?;
                for key in WITH_CONVERSATION {
                    kv.delete(&key.into())?;
                }
                kv.put_with_key(next, &SESSION.into())?;
                kv.put_with_key(earlier, &EARLIER.into())?;
                Ok(())
            };
            if let Err(e) = steps() {
                let _ = t.abort();
                return Err(e);
            }
            committed.await
        };
        let result = done.await;
        db.close();
        result
    }
}
