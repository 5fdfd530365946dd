//! Photos and files in the widget, out of its first load: the loader draws the attach button
//! and calls [`files`] when the shopper uses it (the button, a paste, a drop), when the thread
//! shows a message that is only files (its text is empty), and on a page where this browser
//! still has files waiting to go.
//!
//! - **Sending.** Pictures are drawn into a canvas at most 2,048 px on their longest side and
//!   encoded anew (JPEG, PNG for PNGs, GIFs as they are): what the camera wrote into the file
//!   (EXIF: place, device) never leaves the browser. PDFs go as they are. 10 MB at most. Each
//!   waits in the widget's IndexedDB outbox (a record with a `file`, which the widget's own
//!   outbox code passes over) until the relay has it: offline, a reload or a closed tab lose
//!   nothing, and its `client_id` has it stored once however often it is sent. While it goes,
//!   the thread shows it under the stored messages with its progress.
//! - **Showing.** A message that is only files gets, under its empty text, a thumbnail for
//!   each picture (fetched with the conversation's token, so no file is reachable by URL
//!   alone; its name is the alternative text) that opens larger over the panel, and a link
//!   for each document.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Element, IdbTransactionMode, ShadowRoot};

use pigeon_protocol::human_size;

use crate::idb::{KV, MESSAGES, OUTBOX, SESSION, event, get, object, open, open_existing, store, tx};
use crate::lifecycle::{adopt_css, announce, append, attrs, el, german, new_conversation, on, sentence};

/// Longest side of a picture as sent.
const MAX_SIDE: f64 = 2048.0;
/// The relay's limit (`MAX_FILE_BYTES`).
const MAX_BYTES: f64 = 10.0 * 1024.0 * 1024.0;
/// What the relay stores.
const TYPES: [&str; 5] = ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"];
/// `localStorage` key (per site): files are waiting, so the loader starts this module at once.
const WAITING: &str = "pigeon-files:";

const CSS: &str = "
.pg-files { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.pg-thumb { padding: 0; border: 0; background: none; cursor: zoom-in; border-radius: 8px; }
.pg-thumb img { display: block; max-width: 200px; max-height: 200px; width: auto; height: auto; border-radius: 8px; background: var(--pg-line); }
.pg-file { color: inherit; }
.pg-uploads { flex-shrink: 1; min-height: 0; max-height: 40%; overflow-y: auto; list-style: none; margin: 0; padding: 0 12px 8px; display: flex; flex-direction: column; gap: 8px; }
.pg-uploads:empty { display: none; }
.pg-uploads li { align-self: flex-end; max-width: 80%; padding: 8px 12px; border-radius: 12px; background: var(--pg-agent); font-size: 13px; overflow-wrap: anywhere; }
.pg-uploads img { display: block; max-width: 160px; max-height: 120px; border-radius: 6px; margin-bottom: 4px; }
.pg-uploads progress { display: block; width: 100%; }
.pg-uploads .pg-upload-refused { color: #b3261e; }
.pg-uploads .pg-link { color: inherit; }
@media (prefers-color-scheme: dark) { .pg-uploads .pg-upload-refused { color: #ff9b8f; } }
.pg-viewer { position: absolute; inset: 0; z-index: 2; display: flex; flex-direction: column; background: #000d; border-radius: 14px; }
.pg-viewer-head { display: flex; gap: 12px; align-items: center; padding: 8px 12px; color: #fff; }
.pg-viewer-head p { flex: 1; margin: 0; overflow-wrap: anywhere; }
.pg-viewer-head button { border: 1px solid #fff8; border-radius: 8px; background: none; color: #fff; font: inherit; padding: 4px 10px; cursor: pointer; }
.pg-viewer img { flex: 1; min-height: 0; object-fit: contain; width: 100%; }
";

struct Words {
    sending: &'static str,
    waiting: &'static str,
    not_sent: &'static str,
    dismiss: &'static str,
    wrong_type: &'static str,
    too_large: &'static str,
    unreadable: &'static str,
    no_conversation: &'static str,
    photo: &'static str,
    close: &'static str,
}

const EN: Words = Words {
    sending: "Sending",
    waiting: "Waiting for a connection",
    not_sent: "Not sent:",
    dismiss: "Dismiss",
    wrong_type: "Only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent.",
    too_large: "This file is larger than 10 MB.",
    unreadable: "This photo could not be read. Try a JPEG or PNG.",
    no_conversation: "That did not work (offline?). Please try again.",
    photo: "Photo",
    close: "Close",
};

const DE: Words = Words {
    sending: "Wird gesendet",
    waiting: "Wartet auf eine Verbindung",
    not_sent: "Nicht gesendet:",
    dismiss: "Verwerfen",
    wrong_type: "Senden kannst du Fotos (JPEG, PNG, GIF, WebP) und PDF-Dateien.",
    too_large: "Diese Datei ist größer als 10 MB.",
    unreadable: "Dieses Foto ließ sich nicht lesen. Versuch es mit JPEG oder PNG.",
    no_conversation: "Das hat nicht geklappt (offline?). Bitte versuch es noch einmal.",
    photo: "Foto",
    close: "Schließen",
};

/// One file on its way, as the thread shows it.
struct Going {
    item: Element,
    progress: Element,
    state: Element,
}

struct Files {
    relay: String,
    site: String,
    root: ShadowRoot,
    words: &'static Words,
    /// Object URLs of pictures fetched (by file id).
    urls: RefCell<Vec<(String, String)>>,
    /// Files shown as going (by client_id).
    going: RefCell<Vec<(String, Going)>>,
    sending: Cell<bool>,
    again: Cell<bool>,
}

thread_local! {
    static FILES: RefCell<Option<Rc<Files>>> = const { RefCell::new(None) };
}

/// The loader's call: `what` is the files the shopper chose, pasted or dropped (a `FileList`
/// or an array of `File`s), or nothing (start: show files in the thread, send what waits).
#[wasm_bindgen]
pub fn files(relay: String, site: String, root: ShadowRoot, what: JsValue) {
    let first = FILES.with(|f| f.borrow().is_none());
    let me = FILES.with(|f| {
        f.borrow_mut()
            .get_or_insert_with(|| {
                adopt_css(&root, CSS);
                let me = Rc::new(Files {
                    relay,
                    site,
                    root,
                    words: if german() { &DE } else { &EN },
                    urls: RefCell::default(),
                    going: RefCell::default(),
                    sending: Cell::new(false),
                    again: Cell::new(false),
                });
                me.watch();
                me
            })
            .clone()
    });
    // (`Array.from(undefined)` throws.)
    let chosen: Vec<web_sys::File> = if what.is_object() { js_sys::Array::from(&what).iter().filter_map(|f| f.dyn_into().ok()).collect() } else { vec![] };
    // Later calls without files change nothing: the thread is watched already.
    if !first && chosen.is_empty() {
        return;
    }
    spawn_local(async move {
        for file in chosen {
            if let Err(why) = me.take(file).await {
                me.refused_now(&why);
            }
        }
        me.send();
    });
}

impl Files {
    /// Shows files in the thread whenever it changes (the panel draws it anew), and sends
    /// what waits when the browser is back online.
    fn watch(self: &Rc<Self>) {
        let me = self.clone();
        let on_change = Closure::<dyn Fn()>::new(move || me.decorate());
        if let Ok(observer) = web_sys::MutationObserver::new(on_change.as_ref().unchecked_ref()) {
            let init = web_sys::MutationObserverInit::new();
            init.set_child_list(true);
            init.set_subtree(true);
            let _ = observer.observe_with_options(&self.root, &init);
        }
        on_change.forget();
        let me = self.clone();
        let online = Closure::<dyn Fn()>::new(move || me.send());
        if let Some(w) = web_sys::window() {
            let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        }
        online.forget();
        self.decorate();
    }

    /// The list under the thread where files on their way are shown.
    fn uploads(&self) -> Option<Element> {
        if let Some(list) = self.root.query_selector(".pg-uploads").ok().flatten() {
            return Some(list);
        }
        let messages = self.root.query_selector(".pg-messages").ok().flatten()?;
        let list = el("ul", "pg-uploads", "");
        attrs(&list, &[("data-testid", "uploads"), ("aria-live", "polite")]);
        let _ = messages.after_with_node_1(&list);
        Some(list)
    }

    /// A file the shopper gave: checked, made ready (pictures drawn anew), put in the outbox.
    async fn take(self: &Rc<Self>, file: web_sys::File) -> Result<(), String> {
        let w = self.words;
        let kind = file.type_();
        if !TYPES.contains(&kind.as_str()) {
            return Err(format!("{}: {}", file.name(), w.wrong_type));
        }
        let (blob, name) = if kind.starts_with("image/") && kind != "image/gif" {
            redraw(&file, &kind).await.map_err(|()| format!("{}: {}", file.name(), w.unreadable))?
        } else {
            (file.clone().into(), file.name())
        };
        if blob.size() > MAX_BYTES {
            return Err(format!("{name}: {}", w.too_large));
        }
        self.conversation().await.map_err(|()| w.no_conversation.to_owned())?;
        let client_id = format!("f-{}", random_hex());
        let record = object(&[
            ("client_id", client_id.as_str().into()),
            ("file", blob.into()),
            ("name", name.as_str().into()),
            ("queued_at", js_sys::Date::now().into()),
        ]);
        open(&self.site).await.map_err(|_| w.no_conversation.to_owned())?.close();
        one(&self.site, OUTBOX, true, &|s| s.put_with_key(&record, &client_id.as_str().into())).await.map_err(|_| w.no_conversation.to_owned())?;
        set_waiting(&self.site, true);
        Ok(())
    }

    /// The held conversation, or a new one made on the relay (the shopper's first message is a
    /// file) and announced to the site's tabs as a resume link's would be.
    async fn conversation(&self) -> Result<(String, String), ()> {
        if let Some(held) = self.session().await {
            return Ok(held);
        }
        let next = new_conversation(&self.relay, &self.site, None).await?;
        let (id, token) = (get(&next, "id"), get(&next, "token"));
        open(&self.site).await.map_err(drop)?.close();
        one(&self.site, KV, true, &|s| s.put_with_key(&next, &SESSION.into())).await.map_err(drop)?;
        announce(&self.site, next);
        Ok((id.as_string().ok_or(())?, token.as_string().ok_or(())?))
    }

    /// The session the widget holds (`{id, token}`).
    async fn session(&self) -> Option<(String, String)> {
        let session = one(&self.site, KV, false, &|s| s.get(&SESSION.into())).await.ok()?;
        Some((get(&session, "id").as_string()?, get(&session, "token").as_string()?))
    }

    /// The outbox's files, oldest first.
    async fn waiting(&self) -> Vec<JsValue> {
        let all = one(&self.site, OUTBOX, false, &|s| s.get_all()).await;
        // Oldest first, by hand: a few files, and the standard sort costs kilobytes here.
        let at = |r: &JsValue| get(r, "queued_at").as_f64().unwrap_or(0.0);
        let mut files: Vec<JsValue> = Vec::new();
        for r in all.map(|a| js_sys::Array::from(&a).iter().filter(|r| get(r, "file").is_object()).collect::<Vec<_>>()).unwrap_or_default() {
            let i = files.iter().position(|f| at(f) > at(&r)).unwrap_or(files.len());
            files.insert(i, r);
        }
        files
    }

    async fn forget_record(&self, client_id: &str) {
        let _ = one(&self.site, OUTBOX, true, &|s| s.delete(&client_id.into())).await;
    }

    /// Sends what waits, one file at a time (once more if asked meanwhile).
    fn send(self: &Rc<Self>) {
        if self.sending.replace(true) {
            return self.again.set(true);
        }
        let me = self.clone();
        spawn_local(async move {
            loop {
                me.send_all().await;
                if !me.again.replace(false) {
                    break;
                }
            }
            me.sending.set(false);
        });
    }

    async fn send_all(self: &Rc<Self>) {
        let waiting = self.waiting().await;
        self.show_going(&waiting);
        if waiting.iter().all(|r| get(r, "refused").is_string()) {
            set_waiting(&self.site, !waiting.is_empty());
            return;
        }
        let Some((id, token)) = self.session().await else { return };
        for record in waiting.iter().filter(|r| !get(r, "refused").is_string()) {
            let client_id = get(record, "client_id").as_string().unwrap_or_default();
            let name = get(record, "name").as_string().unwrap_or_default();
            let url = format!(
                "{}/v1/conversations/{id}/files?client_id={client_id}&name={}",
                self.relay,
                js_sys::encode_uri_component(&name)
            );
            let progress = find(&self.going.borrow(), &client_id).map(|g| (g.progress.clone(), g.state.clone()));
            match upload(&url, &token, &get(record, "file"), progress.as_ref().map(|p| &p.0)).await {
                Ok((200 | 201, _)) => {
                    self.forget_record(&client_id).await;
                    self.going.borrow_mut().retain(|(id, g)| {
                        if *id == client_id {
                            g.item.remove();
                        }
                        *id != client_id
                    });
                }
                // Offline, the relay busy or limiting: tried again later (same client_id).
                Ok((0 | 429 | 500..=599, _)) | Err(()) => {
                    if let Some((_, state)) = &progress {
                        state.set_text_content(Some(self.words.waiting));
                    }
                    let me = self.clone();
                    let later = Closure::once_into_js(move || me.send());
                    if let Some(w) = web_sys::window() {
                        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 5_000);
                    }
                    return;
                }
                // Refused for good: kept with the reason until the shopper dismisses it.
                Ok((_, json)) => {
                    let why = sentence(&json, self.words.wrong_type);
                    let _ = js_sys::Reflect::set(record, &"refused".into(), &why.as_str().into());
                    let _ = one(&self.site, OUTBOX, true, &|s| s.put_with_key(record, &client_id.as_str().into())).await;
                    self.show_going(&self.waiting().await);
                }
            }
        }
        set_waiting(&self.site, !self.waiting().await.is_empty());
    }

    /// The files on their way, under the thread: a preview, the name, progress or the reason
    /// it was refused (with Dismiss).
    fn show_going(self: &Rc<Self>, waiting: &[JsValue]) {
        let Some(list) = self.uploads() else { return };
        let w = self.words;
        let mut going = self.going.borrow_mut();
        let ids: Vec<String> = waiting.iter().filter_map(|r| get(r, "client_id").as_string()).collect();
        going.retain(|(id, g)| {
            let keep = ids.contains(id);
            if !keep {
                g.item.remove();
            }
            keep
        });
        for record in waiting {
            let client_id = get(record, "client_id").as_string().unwrap_or_default();
            let name = get(record, "name").as_string().unwrap_or_default();
            let refused = get(record, "refused").as_string();
            if let Some(at) = going.iter().position(|(id, _)| *id == client_id) {
                if refused.is_none() {
                    continue;
                }
                going.remove(at).1.item.remove();
            }
            let item = el("li", "", "");
            attrs(&item, &[("data-testid", "upload")]);
            let file: web_sys::Blob = get(record, "file").unchecked_into();
            if file.type_().starts_with("image/")
                && let Ok(url) = web_sys::Url::create_object_url_with_blob(&file)
            {
                let img = el("img", "", "");
                attrs(&img, &[("src", &url), ("alt", &name)]);
                let _ = item.append_child(&img);
            }
            let label = el("span", "", &name);
            attrs(&label, &[("dir", "auto")]);
            let progress = el("progress", "", "");
            attrs(&progress, &[("max", "100"), ("aria-label", &format!("{} {name}", w.sending))]);
            let state = el("span", "", w.sending);
            append(&item, &[&label, &progress, &state]);
            if let Some(why) = &refused {
                progress.remove();
                state.set_class_name("pg-upload-refused");
                state.set_text_content(Some(&format!(" {} {why} ", w.not_sent)));
                attrs(&state, &[("role", "alert"), ("data-testid", "upload-refused")]);
                let dismiss = el("button", "pg-link", w.dismiss);
                attrs(&dismiss, &[("type", "button"), ("aria-label", &format!("{} {name}", w.dismiss))]);
                let (me, id) = (self.clone(), client_id.clone());
                on(&dismiss, "click", move |_| {
                    let (me, id) = (me.clone(), id.clone());
                    spawn_local(async move {
                        me.forget_record(&id).await;
                        me.show_going(&me.waiting().await);
                        set_waiting(&me.site, !me.waiting().await.is_empty());
                    });
                });
                let _ = item.append_child(&dismiss);
            }
            let _ = list.append_child(&item);
            going.push((client_id, Going { item, progress, state }));
        }
        self.stick();
    }

    /// A thread that was at its end stays there as files take their room (in it, or under it).
    fn stick(&self) {
        if let Some(list) = self.root.query_selector(".pg-messages").ok().flatten().filter(|l| l.has_attribute("data-end")) {
            list.set_scroll_top(list.scroll_height());
        }
    }

    /// A file refused before it was kept (type, size, unreadable): said under the thread.
    fn refused_now(self: &Rc<Self>, why: &str) {
        let Some(list) = self.uploads() else { return };
        let item = el("li", "", "");
        let state = el("span", "pg-upload-refused", &format!("{} {why} ", self.words.not_sent));
        attrs(&state, &[("role", "alert"), ("data-testid", "upload-refused")]);
        let dismiss = el("button", "pg-link", self.words.dismiss);
        attrs(&dismiss, &[("type", "button")]);
        let gone = item.clone();
        on(&dismiss, "click", move |_| gone.remove());
        append(&item, &[&state, &dismiss]);
        let _ = list.append_child(&item);
        self.stick();
    }

    /// Gives each message that is only files (empty text) its pictures and documents.
    fn decorate(self: &Rc<Self>) {
        let Ok(empty) = self.root.query_selector_all(".pg-msg[data-seq] .pg-body:empty") else { return };
        for i in 0..empty.length() {
            let Some(item) = empty.item(i).and_then(|b| b.parent_element()) else { continue };
            if item.query_selector(".pg-files").ok().flatten().is_some() {
                continue;
            }
            let seq = item.get_attribute("data-seq").unwrap_or_default();
            let box_ = el("div", "pg-files", "");
            let _ = item.query_selector(".pg-body").ok().flatten().map(|b| b.after_with_node_1(&box_));
            // Read each time: the messages in storage are always the held conversation's (a
            // cache by seq could show another conversation's files after a switch).
            let me = self.clone();
            spawn_local(async move {
                let files = me.stored_files(&seq).await;
                me.fill(&box_, &files).await;
            });
        }
    }

    /// A stored message's `attachments`, from the widget's storage.
    async fn stored_files(&self, seq: &str) -> JsValue {
        let Ok(seq) = seq.parse::<f64>() else { return JsValue::UNDEFINED };
        one(&self.site, MESSAGES, false, &|s| s.get(&seq.into())).await.map(|m| get(&m, "attachments")).unwrap_or(JsValue::UNDEFINED)
    }

    async fn fill(self: &Rc<Self>, box_: &Element, files: &JsValue) {
        let Some((id, token)) = self.session().await else { return };
        if !files.is_object() {
            return;
        }
        let stick = || self.stick();
        for f in js_sys::Array::from(files).iter() {
            let (file, name) = (get(&f, "id").as_string().unwrap_or_default(), get(&f, "name").as_string().unwrap_or_default());
            let url = format!("{}/v1/conversations/{id}/files/{file}", self.relay);
            if get(&f, "content_type").as_string().is_some_and(|t| t.starts_with("image/")) {
                let thumb = el("button", "pg-thumb", "");
                attrs(&thumb, &[("type", "button"), ("data-testid", "file-thumb"), ("aria-label", &format!("{}: {name}", self.words.photo))]);
                let img = el("img", "", "");
                let (w, h) = (get(&f, "width").as_f64().unwrap_or(200.0), get(&f, "height").as_f64().unwrap_or(200.0));
                let scale = (200.0 / w.max(h)).min(1.0);
                let side = |v: f64| ((v * scale).round().max(1.0) as u32).to_string();
                attrs(&img, &[("alt", &name), ("width", &side(w)), ("height", &side(h))]);
                let _ = thumb.append_child(&img);
                let _ = box_.append_child(&thumb);
                let cached = find(&self.urls.borrow(), &file).cloned();
                let src = match cached {
                    Some(src) => Some(src),
                    None => match fetch_blob(&url, &token).await {
                        Some(blob) => {
                            let src = web_sys::Url::create_object_url_with_blob(&blob).ok();
                            if let Some(s) = &src {
                                self.urls.borrow_mut().push((file.clone(), s.clone()));
                            }
                            src
                        }
                        None => None,
                    },
                };
                if let Some(src) = src {
                    let _ = img.set_attribute("src", &src);
                    let (me, name_) = (self.clone(), name.clone());
                    on(&thumb, "click", move |ev| me.view(&src, &name_, ev.current_target().and_then(|t| t.dyn_into().ok())));
                }
            } else {
                let size = get(&f, "size").as_f64().unwrap_or(0.0) as u64;
                let link = el("a", "pg-file", &format!("{name} ({})", human_size(size)));
                attrs(&link, &[("href", "#"), ("data-testid", "file-link"), ("dir", "auto")]);
                let (name_, token_) = (name.clone(), token.clone());
                on(&link, "click", move |ev| {
                    ev.prevent_default();
                    let (url, token, name) = (url.clone(), token_.clone(), name_.clone());
                    spawn_local(async move {
                        if let Some(blob) = fetch_blob(&url, &token).await
                            && let Ok(href) = web_sys::Url::create_object_url_with_blob(&blob)
                        {
                            let a = el("a", "", "");
                            attrs(&a, &[("href", &href), ("download", &name)]);
                            if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
                                a.click();
                            }
                        }
                    });
                });
                let _ = box_.append_child(&link);
            }
            stick();
        }
    }

    /// The picture full size over the panel, its name above it; Close or Escape returns to
    /// the thumbnail.
    fn view(&self, src: &str, name: &str, from: Option<web_sys::HtmlElement>) {
        let Some(panel) = self.root.query_selector(".pg-panel").ok().flatten() else { return };
        let viewer = el("div", "pg-viewer", "");
        attrs(&viewer, &[("role", "dialog"), ("aria-modal", "true"), ("aria-label", name), ("data-testid", "file-viewer")]);
        let head = el("div", "pg-viewer-head", "");
        let title = el("p", "", name);
        attrs(&title, &[("dir", "auto")]);
        let close = el("button", "", self.words.close);
        attrs(&close, &[("type", "button")]);
        append(&head, &[&title, &close]);
        let img = el("img", "", "");
        attrs(&img, &[("src", src), ("alt", name)]);
        append(&viewer, &[&head, &img]);
        // The panel behind it is out of reach (Tab, screen readers) until it closes.
        let behind: Vec<Element> = (0..panel.children().length()).filter_map(|i| panel.children().item(i)).collect();
        for e in &behind {
            let _ = e.set_attribute("inert", "");
        }
        let shut = {
            let viewer = viewer.clone();
            Rc::new(move || {
                viewer.remove();
                for e in &behind {
                    let _ = e.remove_attribute("inert");
                }
                if let Some(f) = &from {
                    let _ = f.focus();
                }
            })
        };
        let on_close = shut.clone();
        on(&close, "click", move |_| on_close());
        on(&viewer, "keydown", move |ev| {
            if ev.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|k| k.key() == "Escape") {
                ev.stop_propagation();
                shut();
            }
        });
        let _ = panel.append_child(&viewer);
        if let Some(c) = close.dyn_ref::<web_sys::HtmlElement>() {
            let _ = c.focus();
        }
    }
}

/// One request on one of the widget's object stores, in a transaction of its own: its result
/// once committed. It never makes the database (a `forget` in another tab may just have
/// deleted it, photos and all): [`Files::take`] makes it for a file before any message.
async fn one(site: &str, name: &str, write: bool, request: &dyn Fn(&web_sys::IdbObjectStore) -> Result<web_sys::IdbRequest, JsValue>) -> Result<JsValue, JsValue> {
    let db = open_existing(site).await?.ok_or(JsValue::UNDEFINED)?;
    let done = async {
        let t = tx(&db, &[name], if write { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly })?;
        let r = request(&store(&t, name)?)?;
        event(&t, "complete").await?;
        r.result()
    };
    let result = done.await;
    db.close();
    result
}

/// The value kept under `key` in a short list.
fn find<'a, T>(list: &'a [(String, T)], key: &str) -> Option<&'a T> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The file's bytes, fetched with the conversation's token.
async fn fetch_blob(url: &str, token: &str) -> Option<web_sys::Blob> {
    let init = web_sys::RequestInit::new();
    init.set_mode(web_sys::RequestMode::Cors);
    let headers = web_sys::Headers::new().ok()?;
    headers.set("authorization", &format!("Bearer {token}")).ok()?;
    init.set_headers(&headers);
    let answer = JsFuture::from(web_sys::window()?.fetch_with_str_and_init(url, &init)).await.ok()?;
    let answer: web_sys::Response = answer.dyn_into().ok()?;
    if !answer.ok() {
        return None;
    }
    JsFuture::from(answer.blob().ok()?).await.ok()?.dyn_into().ok()
}

/// `POST`s `file` with its progress shown in `progress`: the status (0 when the request
/// failed) and the answer's JSON.
async fn upload(url: &str, token: &str, file: &JsValue, progress: Option<&Element>) -> Result<(u16, JsValue), ()> {
    let xhr = web_sys::XmlHttpRequest::new().map_err(drop)?;
    xhr.open("POST", url).map_err(drop)?;
    xhr.set_request_header("authorization", &format!("Bearer {token}")).map_err(drop)?;
    xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Json);
    // A stalled upload ends (status 0) and is tried again.
    xhr.set_timeout(120_000);
    if let (Some(bar), Ok(up)) = (progress.cloned(), xhr.upload()) {
        let on_progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                let _ = bar.set_attribute("value", &((ev.loaded() * 100.0 / ev.total()) as u32).to_string());
            }
        });
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let done = js_sys::Promise::new(&mut |resolve, _| {
        xhr.set_onloadend(Some(&resolve));
    });
    xhr.send_with_opt_blob(file.dyn_ref::<web_sys::Blob>()).map_err(drop)?;
    JsFuture::from(done).await.map_err(drop)?;
    Ok((xhr.status().unwrap_or(0), xhr.response().unwrap_or(JsValue::UNDEFINED)))
}

/// A picture drawn anew at most [`MAX_SIDE`] on its longest side (nothing else of the file
/// is kept): PNGs stay PNG, the rest become JPEG. Its name gets the new type's extension.
async fn redraw(file: &web_sys::File, kind: &str) -> Result<(web_sys::Blob, String), ()> {
    let window = web_sys::window().ok_or(())?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file).map_err(drop)?).await.map_err(drop)?.dyn_into().map_err(drop)?;
    let (w, h) = (f64::from(bitmap.width()), f64::from(bitmap.height()));
    let scale = (MAX_SIDE / w.max(h)).min(1.0);
    let (w, h) = ((w * scale).round().max(1.0) as u32, (h * scale).round().max(1.0) as u32);
    let canvas: web_sys::HtmlCanvasElement = el("canvas", "", "").dyn_into().map_err(drop)?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").map_err(drop)?.ok_or(())?.dyn_into().map_err(drop)?;
    let png = kind == "image/png";
    if !png {
        // JPEG has no transparency: white under it, not black.
        ctx.set_fill_style_str("#fff");
        ctx.fill_rect(0.0, 0.0, f64::from(w), f64::from(h));
    }
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(w), f64::from(h)).map_err(drop)?;
    bitmap.close();
    let (out, ext) = if png { ("image/png", "png") } else { ("image/jpeg", "jpg") };
    let mut done = None;
    let encoded = js_sys::Promise::new(&mut |resolve, _| done = Some(resolve));
    let done = done.ok_or(())?;
    let on_blob = Closure::once_into_js(move |blob: JsValue| {
        let _ = done.call1(&JsValue::NULL, &blob);
    });
    canvas.to_blob_with_type_and_encoder_options(on_blob.unchecked_ref(), out, &JsValue::from_f64(0.85)).map_err(drop)?;
    let blob: web_sys::Blob = JsFuture::from(encoded).await.map_err(drop)?.dyn_into().map_err(drop)?;
    let name = file.name();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem);
    let stem = if stem.is_empty() { "photo" } else { stem };
    Ok((blob, format!("{stem}.{ext}")))
}

/// Tells the loader (next page) that files wait to go.
fn set_waiting(site: &str, waiting: bool) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else { return };
    let key = format!("{WAITING}{site}");
    let _ = if waiting { storage.set_item(&key, "1") } else { storage.remove_item(&key) };
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
