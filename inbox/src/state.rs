//! The signed-in inbox: the site's list (live), the open conversation, replies on their way.
//! Every change goes through these methods; the views only read the signals.

use std::rc::Rc;

use leptos::prelude::*;
use pigeon_protocol::{ConversationDetails, InboxClientFrame, InboxConversation, InboxFrame, InboxReply, Me, Note, PostNote, Ratings, SavedReply, Status, TeammateInfo};
use wasm_bindgen_futures::spawn_local;

use crate::api::{self, Failure};
use crate::model::{Pending, Tab, Thread, changed, insert_note, merge_row};
use crate::store;

#[derive(Clone, Copy)]
pub struct Inbox {
    pub me: RwSignal<Me>,
    /// The site shown (the person may answer for several).
    pub site: RwSignal<String>,
    pub tab: RwSignal<Tab>,
    /// The site's teammates (for assigning).
    pub team: RwSignal<Vec<TeammateInfo>>,
    /// The site's saved replies (for the composer's `/`).
    pub saved_replies: RwSignal<Vec<SavedReply>>,
    pub list: RwSignal<Vec<InboxConversation>>,
    /// The list came from this browser's copy (offline).
    pub stale: RwSignal<bool>,
    /// The relay has older rows than the list holds.
    pub more: RwSignal<bool>,
    pub selected: RwSignal<Option<String>>,
    pub thread: RwSignal<Thread>,
    /// The open conversation's internal notes, oldest first.
    pub notes: RwSignal<Vec<Note>>,
    /// The composer writes an internal note (not a reply); back to replies on each open.
    pub note_mode: RwSignal<bool>,
    /// The conversation whose newest page is on its way.
    newest_pending: RwSignal<Option<String>>,
    pub details: RwSignal<Option<ConversationDetails>>,
    pub pending: RwSignal<Vec<Pending>>,
    pub connected: RwSignal<bool>,
    pub problem: RwSignal<Option<String>>,
    pub signed_out: RwSignal<bool>,
    /// Files on their way to the shopper (and the ones refused, with the relay's reason).
    pub uploads: RwSignal<Vec<Upload>>,
    /// The site's socket: replies travel on it while it is open.
    socket: StoredValue<Option<Rc<crate::live::Live>>, LocalStorage>,
    /// The reply on its way over the socket (one at a time): its `client_id`, and what ends
    /// the wait for its answer.
    waiting: StoredValue<Option<(String, js_sys::Function)>, LocalStorage>,
    /// The newest change to the open conversation heard on the socket while its details were
    /// on their way: applied to them when they come (they may be older).
    heard_early: StoredValue<Option<InboxConversation>, LocalStorage>,
}

fn list_key(site: &str, tab: Tab) -> String {
    format!("list:{site}:{}", tab.key())
}

fn thread_key(id: &str) -> String {
    format!("thread:{id}")
}

pub fn draft_key(id: &str) -> String {
    format!("draft:{id}")
}

const OUTBOX: &str = "outbox";

/// A file on its way (see [`Inbox::attach`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub client_id: String,
    pub conversation: String,
    pub name: String,
    /// Why the relay refused it.
    pub refused: Option<String>,
}

/// A fresh client id: 128 random bits.
fn client_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("i-{hex}")
}

impl Inbox {
    pub fn new(me: Me, signed_out: RwSignal<bool>) -> Self {
        // The site chosen last time in this browser, else the first.
        let last: Option<String> = store::get("site");
        let site = last.filter(|s| me.sites.iter().any(|m| &m.site == s)).or_else(|| me.sites.first().map(|m| m.site.clone())).unwrap_or_default();
        Self {
            me: RwSignal::new(me),
            site: RwSignal::new(site),
            tab: RwSignal::new(Tab::default()),
            team: RwSignal::new(vec![]),
            saved_replies: RwSignal::new(vec![]),
            list: RwSignal::new(vec![]),
            stale: RwSignal::new(false),
            more: RwSignal::new(false),
            selected: RwSignal::new(None),
            thread: RwSignal::new(Thread::default()),
            notes: RwSignal::new(vec![]),
            note_mode: RwSignal::new(false),
            newest_pending: RwSignal::new(None),
            details: RwSignal::new(None),
            pending: RwSignal::new(store::get(OUTBOX).unwrap_or_default()),
            connected: RwSignal::new(false),
            problem: RwSignal::new(None),
            signed_out,
            uploads: RwSignal::new(vec![]),
            socket: StoredValue::new_local(None),
            waiting: StoredValue::new_local(None),
            heard_early: StoredValue::new_local(None),
        }
    }

    fn failed(&self, f: &Failure) {
        if *f == Failure::SignedOut {
            self.signed_out.set(true);
        } else {
            self.problem.set(Some(f.sentence()));
        }
    }

    /// The signed-in teammate's address.
    pub fn me_email(&self) -> String {
        self.me.with_untracked(|m| m.email.clone())
    }

    /// The site's teammates, for the assignee picker, and its saved replies.
    pub fn load_team(self) {
        let site = self.site.get_untracked();
        spawn_local(async move {
            if let Ok(team) = api::team(&site).await
                && self.site.get_untracked() == site
            {
                self.team.set(team.teammates);
            }
            if let Ok(replies) = api::saved_replies(&site).await
                && self.site.get_untracked() == site
            {
                self.saved_replies.set(replies.replies);
            }
        });
    }

    /// Hands the open conversation to `assignee` (an address) or to nobody.
    pub fn assign(self, assignee: Option<String>) {
        let Some(id) = self.selected.get_untracked() else { return };
        spawn_local(async move {
            if let Err(f) = api::assign(&id, assignee).await {
                self.failed(&f);
            }
        });
    }

    /// The list of the current site and tab, from the relay (or this browser's copy).
    pub fn load_list(self) {
        let (site, tab) = (self.site.get_untracked(), self.tab.get_untracked());
        spawn_local(async move {
            match api::conversations(&site, tab, None).await {
                Ok(list) => {
                    store::set(&list_key(&site, tab), &list.conversations);
                    if self.site.get_untracked() == site && self.tab.get_untracked() == tab {
                        self.more.set(list.conversations.len() >= api::LIST_PAGE);
                        self.list.set(list.conversations);
                        self.stale.set(false);
                        self.problem.set(None);
                    }
                }
                Err(f) => {
                    if let Some(cached) = store::get(&list_key(&site, tab)) {
                        self.list.set(cached);
                        self.stale.set(true);
                    }
                    self.failed(&f);
                }
            }
        });
    }

    /// The next page of older rows.
    pub fn load_more(self) {
        let (site, tab) = (self.site.get_untracked(), self.tab.get_untracked());
        let last = self.list.with_untracked(|l| l.last().map(|c| (crate::model::activity(c).to_owned(), c.summary.id.clone())));
        let Some((at, id)) = last else { return };
        let me = self.me_email();
        spawn_local(async move {
            match api::conversations(&site, tab, Some((&at, &id))).await {
                Ok(page) if self.site.get_untracked() == site && self.tab.get_untracked() == tab => {
                    self.more.set(page.conversations.len() >= api::LIST_PAGE);
                    self.list.update(|l| {
                        for row in page.conversations {
                            merge_row(l, row, tab, &me);
                        }
                    });
                }
                Ok(_) => {}
                Err(f) => self.failed(&f),
            }
        });
    }

    /// Opens a conversation: this browser's copy of its thread at once, then its newest
    /// messages (one page, however long the thread), details and read mark.
    pub fn open(self, id: String) {
        self.selected.set(Some(id.clone()));
        let mut thread = Thread::new(&id);
        thread.insert(store::get::<Vec<pigeon_protocol::Message>>(&thread_key(&id)).unwrap_or_default());
        self.thread.set(thread);
        self.details.set(None);
        self.heard_early.set_value(None);
        self.notes.set(vec![]);
        self.note_mode.set(false);
        self.load_newest(id.clone());
        let notes_of = id.clone();
        spawn_local(async move {
            match api::notes(&notes_of).await {
                Ok(n) if self.selected.get_untracked().as_deref() == Some(notes_of.as_str()) => self.notes.update(|notes| {
                    for note in n.notes {
                        insert_note(notes, note);
                    }
                }),
                Ok(_) => {}
                Err(f) => self.failed(&f),
            }
        });
        spawn_local(async move {
            match api::details(&id).await {
                Ok(mut d) if self.selected.get_untracked().as_deref() == Some(id.as_str()) => {
                    if let Some(heard) = self.heard_early.try_update_value(Option::take).flatten().filter(|c| c.summary.id == id) {
                        changed(&mut d, &heard);
                    }
                    self.details.set(Some(d));
                }
                Ok(_) => {}
                Err(f) => self.failed(&f),
            }
        });
    }

    /// The newest page of thread `id`, joined to what the thread holds; then marks it read.
    /// Asked once at a time: a socket opening while it is on its way does not ask again.
    fn load_newest(self, id: String) {
        if self.newest_pending.with_untracked(|p| p.as_deref() == Some(id.as_str())) {
            return;
        }
        self.newest_pending.set(Some(id.clone()));
        spawn_local(async move {
            let answer = api::newest(&id, api::THREAD_PAGE).await;
            self.newest_pending.update(|p| {
                if p.as_deref() == Some(id.as_str()) {
                    *p = None;
                }
            });
            match answer {
                Ok(page) if self.selected.get_untracked().as_deref() == Some(id.as_str()) => {
                    self.thread.update(|t| t.insert_newest(page.messages));
                    self.keep_thread();
                    self.mark_read();
                }
                Ok(_) => {}
                Err(f) => self.failed(&f),
            }
        });
    }

    /// The page of the open thread before the oldest message held ("Show earlier messages").
    pub fn load_earlier(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        let before = self.thread.with_untracked(|t| (t.id == id && t.has_earlier()).then(|| t.first_seq()));
        let Some(before) = before else { return };
        spawn_local(async move {
            match api::earlier(&id, before, api::THREAD_PAGE).await {
                Ok(page) if self.selected.get_untracked().as_deref() == Some(id.as_str()) => self.thread.update(|t| {
                    t.insert(page.messages);
                }),
                Ok(_) => {}
                Err(f) => self.failed(&f),
            }
        });
    }

    /// Fetches what the open thread is missing after its last message without a gap (pages of
    /// 500), then marks it read. A thread holding nothing yet gets its newest page instead.
    pub fn catch_up(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        if self.thread.with_untracked(|t| t.id != id || t.messages.is_empty()) {
            return self.load_newest(id);
        }
        spawn_local(async move {
            loop {
                let after = self.thread.with_untracked(|t| if t.id == id { t.through() } else { 0 });
                match api::messages(&id, after).await {
                    Ok(page) => {
                        if self.selected.get_untracked().as_deref() != Some(id.as_str()) {
                            return;
                        }
                        self.thread.update(|t| {
                            t.insert(page.messages);
                        });
                        if !page.has_more {
                            break;
                        }
                    }
                    Err(f) => return self.failed(&f),
                }
            }
            self.keep_thread();
            self.mark_read();
        });
    }

    /// This browser's copy of the open thread: its newest 200 messages.
    fn keep_thread(self) {
        self.thread.with_untracked(|t| {
            let keep = &t.messages[t.messages.len().saturating_sub(200)..];
            store::set(&thread_key(&t.id), &keep);
        });
    }

    /// The open conversation is read up to its newest message (when it has unread ones).
    fn mark_read(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        let seq = self.thread.with_untracked(|t| t.through());
        let unread = self.list.with_untracked(|l| l.iter().any(|c| c.summary.id == id && c.summary.unread_count > 0));
        if seq == 0 || !unread || !visible() {
            return;
        }
        spawn_local(async move {
            if let Err(f) = api::mark_read(&id, seq).await {
                self.failed(&f);
            }
        });
    }

    /// A frame from the site's socket.
    pub fn on_frame(self, frame: InboxFrame) {
        match frame {
            InboxFrame::Conversation { conversation } => {
                let id = conversation.summary.id.clone();
                let open = self.selected.get_untracked().as_deref() == Some(id.as_str());
                if open {
                    match self.details.with_untracked(Option::is_some) {
                        true => self.details.update(|d| {
                            if let Some(d) = d.as_mut() {
                                changed(d, &conversation);
                            }
                        }),
                        // Its details are on their way, perhaps from before this change.
                        false => self.heard_early.set_value(Some(conversation.clone())),
                    }
                }
                let (tab, me) = (self.tab.get_untracked(), self.me_email());
                self.list.update(|l| merge_row(l, conversation, tab, &me));
                if open {
                    self.mark_read();
                }
            }
            InboxFrame::Message { conversation, message } => {
                // Our own reply, stored: it is no longer waiting, whichever arrives first (this
                // frame or the answer to the POST).
                let mine = |r: &Pending| !r.note && r.conversation == conversation && r.client_id == message.client_id;
                if self.pending.with_untracked(|p| p.iter().any(mine)) {
                    self.pending.update(|p| p.retain(|r| !mine(r)));
                    self.save_outbox();
                    // The socket's answer to it, if it went that way: the wait ends.
                    self.end_wait(Some(&message.client_id));
                }
                if self.selected.get_untracked().as_deref() == Some(conversation.as_str()) {
                    let seq = message.seq;
                    // (An empty thread is waiting for its newest page, which will join this.)
                    let gap = self.thread.with_untracked(|t| !t.messages.is_empty() && seq > t.through() + 1);
                    self.thread.update(|t| {
                        t.insert([message]);
                    });
                    if gap {
                        self.catch_up();
                    }
                }
            }
            InboxFrame::Note { conversation, note } => {
                let mine = |r: &Pending| r.note && r.conversation == conversation && r.client_id == note.client_id;
                if self.pending.with_untracked(|p| p.iter().any(mine)) {
                    self.pending.update(|p| p.retain(|r| !mine(r)));
                    self.save_outbox();
                }
                if self.selected.get_untracked().as_deref() == Some(conversation.as_str()) {
                    self.notes.update(|n| insert_note(n, note));
                }
            }
            InboxFrame::Gone { conversation } => {
                self.list.update(|l| l.retain(|c| c.summary.id != conversation));
                if self.selected.get_untracked().as_deref() == Some(conversation.as_str()) {
                    self.selected.set(None);
                    self.problem.set(Some("The shopper deleted this conversation.".into()));
                }
                store::remove(&thread_key(&conversation));
            }
        }
    }

    /// Files for the open conversation's shopper, each a message of its own, sent one after
    /// another in the order chosen. A lost connection is tried again (same `client_id`, so
    /// stored once); a refusal (type, size) stays listed with the relay's reason.
    pub fn attach(self, files: Vec<web_sys::File>, notify_shopper: bool) {
        let Some(conversation) = self.selected.get_untracked() else { return };
        let batch: Vec<(Upload, web_sys::File)> = files
            .into_iter()
            .map(|f| (Upload { client_id: client_id(), conversation: conversation.clone(), name: f.name(), refused: None }, f))
            .collect();
        self.uploads.update(|u| u.extend(batch.iter().map(|(u, _)| u.clone())));
        spawn_local(async move {
            for (up, file) in batch {
                let mut tries = 0;
                let sent = loop {
                    match api::upload(&up.conversation, &up.client_id, &file, notify_shopper).await {
                        Err(f) if f.retryable() && tries < 5 => {
                            tries += 1;
                            crate::live::pause(2_000 * tries).await;
                        }
                        other => break other,
                    }
                };
                match sent {
                    Ok(stored) => {
                        self.uploads.update(|u| u.retain(|x| x.client_id != up.client_id));
                        if self.selected.get_untracked().as_deref() == Some(up.conversation.as_str()) {
                            self.thread.update(|t| {
                                t.insert([stored.message]);
                            });
                        }
                    }
                    Err(f) => {
                        if f == Failure::SignedOut {
                            self.signed_out.set(true);
                        }
                        self.uploads.update(|u| {
                            if let Some(x) = u.iter_mut().find(|x| x.client_id == up.client_id) {
                                x.refused = Some(f.sentence());
                            }
                        });
                    }
                }
            }
        });
    }

    /// A reply to the open conversation: kept in this browser until stored.
    pub fn reply(self, body: String, notify_shopper: bool, note: bool) {
        let Some(conversation) = self.selected.get_untracked() else { return };
        let pending = Pending { conversation, client_id: client_id(), body, notify_shopper, note, refused: None };
        self.pending.update(|p| p.push(pending));
        self.save_outbox();
        self.flush();
    }

    fn save_outbox(&self) {
        self.pending.with_untracked(|p| store::set(OUTBOX, p));
    }

    /// Sends waiting replies in order; a network failure waits and tries again with the same
    /// `client_id`, a refusal stays with its reason until the teammate drops it.
    pub fn flush(self) {
        let next = self.pending.with_untracked(|p| p.iter().find(|r| r.refused.is_none()).cloned());
        let Some(reply) = next else { return };
        spawn_local(async move {
            let open = || self.selected.get_untracked().as_deref() == Some(reply.conversation.as_str());
            let sent = if reply.note {
                let body = PostNote { client_id: reply.client_id.clone(), body: reply.body.clone() };
                api::add_note(&reply.conversation, &body).await.map(|note| {
                    if open() {
                        self.notes.update(|n| insert_note(n, note));
                    }
                })
            } else {
                if self.reply_live(&reply).await {
                    return self.flush();
                }
                let body = InboxReply { client_id: reply.client_id.clone(), body: reply.body.clone(), notify_shopper: reply.notify_shopper };
                api::reply(&reply.conversation, &body).await.map(|stored| {
                    if open() {
                        self.thread.update(|t| {
                            t.insert([stored.message]);
                        });
                    }
                })
            };
            match sent {
                Ok(()) => {
                    self.pending.update(|p| p.retain(|r| r.client_id != reply.client_id));
                    self.save_outbox();
                    self.flush();
                }
                Err(f) if f.retryable() => {
                    self.failed(&f);
                    let again = wasm_bindgen::closure::Closure::once(move || self.flush());
                    if let Some(w) = web_sys::window() {
                        use wasm_bindgen::JsCast;
                        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(again.as_ref().unchecked_ref(), 3000);
                    }
                    again.forget();
                }
                Err(f) => {
                    self.failed(&f);
                    self.pending.update(|p| {
                        if let Some(r) = p.iter_mut().find(|r| r.client_id == reply.client_id) {
                            r.refused = Some(f.sentence());
                        }
                    });
                    self.save_outbox();
                    self.flush();
                }
            }
        });
    }

    /// Sends `reply` on the site's socket when it is open; true once it is stored (its
    /// `message` frame came back and took it out of the outbox). False when there is no open
    /// socket, the relay refused it, the socket closed or 10 s passed: the caller then POSTs
    /// it under the same `client_id`, and the POST's answer says what happened.
    async fn reply_live(self, reply: &Pending) -> bool {
        let frame = InboxClientFrame::Reply { conversation: reply.conversation.clone(), client_id: reply.client_id.clone(), body: reply.body.clone(), notify_shopper: reply.notify_shopper };
        let mut wake = None;
        let answered = js_sys::Promise::new(&mut |resolve, _| wake = Some(resolve));
        let (Some(wake), Some(window)) = (wake, web_sys::window()) else { return false };
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&wake, 10_000);
        let text = serde_json::to_string(&frame).unwrap_or_default();
        if !self.socket.with_value(|s| s.as_ref().is_some_and(|live| live.send(&text))) {
            return false;
        }
        self.waiting.set_value(Some((reply.client_id.clone(), wake)));
        let _ = wasm_bindgen_futures::JsFuture::from(answered).await;
        !self.pending.with_untracked(|p| p.iter().any(|r| r.client_id == reply.client_id))
    }

    /// Ends the wait for the socket's answer to a reply: `client_id`'s (stored), or whichever
    /// is waiting (`None`: refused, or the socket closed).
    pub fn end_wait(self, client_id: Option<&str>) {
        self.waiting.update_value(|w| {
            if w.as_ref().is_some_and(|(id, _)| client_id.is_none_or(|c| c == id))
                && let Some((_, wake)) = w.take()
            {
                let _ = wake.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
    }

    /// Drops a refused reply (its text goes back to the composer).
    pub fn discard(self, client_id: &str) -> Option<String> {
        let mut body = None;
        self.pending.update(|p| {
            if let Some(at) = p.iter().position(|r| r.client_id == client_id) {
                body = Some(p.remove(at).body);
            }
        });
        self.save_outbox();
        body
    }

    /// Reopen the open conversation.
    pub fn set_status(self, status: Status) {
        self.change_status(status, false);
    }

    /// Close the open conversation, asking the shopper for a rating if `ask_rating` (on a site
    /// whose ratings are `on`, every close asks).
    pub fn close(self, ask_rating: bool) {
        self.change_status(Status::Closed, ask_rating);
    }

    fn change_status(self, status: Status, ask_rating: bool) {
        let Some(id) = self.selected.get_untracked() else { return };
        let asks = status == Status::Closed && (ask_rating || self.ratings_untracked() == Ratings::On);
        spawn_local(async move {
            match api::set_status(&id, status, ask_rating).await {
                Ok(()) => self.details.update(|d| {
                    if let Some(d) = d.as_mut() {
                        d.status = status;
                        // A close ends any earlier unanswered ask; a reopen keeps it.
                        if status == Status::Closed {
                            d.rating.asked = asks;
                        }
                    }
                }),
                Err(f) => self.failed(&f),
            }
        });
    }

    /// Whether closing asks for a rating on the chosen site (tracked).
    pub fn ratings(&self) -> Ratings {
        let site = self.site.get();
        self.me.with(|m| m.sites.iter().find(|s| s.site == site).map(|s| s.ratings).unwrap_or_default())
    }

    fn ratings_untracked(&self) -> Ratings {
        untrack(|| self.ratings())
    }

    pub fn sign_out(self) {
        spawn_local(async move {
            let _ = api::sign_out().await;
            store::clear();
            self.signed_out.set(true);
        });
    }
}

/// Whether the teammate can see the page (read marks only then).
pub fn visible() -> bool {
    web_sys::window().and_then(|w| w.document()).is_none_or(|d| !d.hidden())
}

/// What this tab tells the site's socket it shows: the open conversation while the page is
/// visible, so that nobody is notified about what they are looking at.
fn viewing_frame(conversation: Option<String>) -> String {
    serde_json::to_string(&pigeon_protocol::InboxClientFrame::Viewing { conversation }).unwrap_or_default()
}

/// Keeps the socket of the current site open for the life of the view.
pub fn keep_live(inbox: Inbox) {
    let socket = inbox.socket;
    let shown = RwSignal::new(visible());
    let handle = window_event_listener(leptos::ev::visibilitychange, move |_| shown.set(visible()));
    on_cleanup(move || handle.remove());
    let viewing = move || if shown.get() { inbox.selected.get() } else { None };
    Effect::new(move |_| {
        let text = viewing_frame(viewing());
        socket.with_value(|s| {
            if let Some(live) = s {
                live.send(&text);
            }
        });
    });
    Effect::new(move |_| {
        let site = inbox.site.get();
        inbox.load_team();
        let live = crate::live::connect(
            &site,
            move |frame| inbox.on_frame(frame),
            move || {
                socket.with_value(|s| {
                    if let Some(live) = s {
                        live.send(&viewing_frame(if visible() { inbox.selected.get_untracked() } else { None }));
                    }
                });
                inbox.load_list();
                inbox.catch_up();
                inbox.flush();
            },
            move |up| {
                inbox.connected.set(up);
                if !up {
                    inbox.end_wait(None);
                }
            },
            move || inbox.end_wait(None),
        );
        socket.set_value(Some(Rc::new(live)));
    });
}
