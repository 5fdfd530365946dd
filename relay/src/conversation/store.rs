//! The conversation's SQLite storage. Every method is synchronous: within one call nothing
//! else runs in this object, so check-then-insert is atomic, and writes are committed
//! before the object's response leaves (output gate).

use pigeon_protocol::{Attachment, Author, CartStep, Context, Note, ConversationSummary, Export, ExportedConversation, InboxConversation, Message, MessagesPage, Status};
use std::cell::RefCell;

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue as V};

use super::op::{Assignee, Init, NewMessage, Via, Window};
use crate::{Error, Result, tokens};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversation (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  id TEXT NOT NULL,
  site TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  context TEXT,
  status TEXT NOT NULL DEFAULT 'open',
  contact_email TEXT,
  shopper_read_seq INTEGER NOT NULL DEFAULT 0,
  agent_read_seq INTEGER NOT NULL DEFAULT 0,
  -- The D1 index lags behind this object: counts changes not yet written there.
  index_dirty INTEGER NOT NULL DEFAULT 0,
  -- The teammate who answers it (their address and name), or nobody.
  assignee TEXT,
  assignee_name TEXT,
  -- The last message copied to the site's search index in D1.
  search_seq INTEGER NOT NULL DEFAULT 0,
  -- This relay's origin when the conversation was made (its emails link files there).
  relay_origin TEXT
);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  author TEXT NOT NULL,
  client_id TEXT NOT NULL,
  author_name TEXT,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  context TEXT,
  -- An agent's reply the shopper is not emailed about.
  quiet INTEGER NOT NULL DEFAULT 0,
  -- An agent's reply: its way in (inbox, email, api) and the teammate's address, for reports.
  via TEXT,
  teammate TEXT,
  -- Files sent with it (JSON array of Attachment; the bytes are in R2 under `{id}/{file id}`).
  attachments TEXT,
  UNIQUE (author, client_id)
);
-- More tokens for the same conversation: one per browser that opened a resume link.
-- Internal notes: teammates only, never in `messages` (no seq, nothing the shopper reads).
CREATE TABLE IF NOT EXISTS notes (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL UNIQUE,
  author_email TEXT NOT NULL,
  author_name TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_tokens (
  token_hash TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
-- Deferred work on the object's one alarm (see jobs.rs).
CREATE TABLE IF NOT EXISTS jobs (
  name TEXT PRIMARY KEY,
  due_ms REAL NOT NULL,
  -- When first scheduled: bounds how far a burst can postpone it.
  first_ms REAL NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Bumped by every schedule; a run removes the row only if it is unchanged (see jobs.rs).
  generation INTEGER NOT NULL DEFAULT 0,
  -- 1 while the alarm runs this generation.
  running INTEGER NOT NULL DEFAULT 0
);
-- One email thread per recipient ('merchant', 'shopper').
CREATE TABLE IF NOT EXISTS mail (
  role TEXT PRIMARY KEY,
  -- The last message a sent notification covered.
  notified_seq INTEGER NOT NULL DEFAULT 0,
  -- Notifications sent; numbers the next Message-ID, so a retried send keeps its id.
  sent INTEGER NOT NULL DEFAULT 0,
  -- Message-IDs of the thread (ours and the recipient's replies), oldest first, JSON.
  thread TEXT NOT NULL DEFAULT '[]'
);";

/// A shopper's message reopens the conversation, makes the context they shared the latest, and
/// puts the index behind: done by SQLite within the message's insert (one statement per
/// message on the hot path). `Store::append` changes the remembered row the same way.
const SHOPPER_MESSAGE_TRIGGER: &str = "
CREATE TRIGGER IF NOT EXISTS shopper_message AFTER INSERT ON messages WHEN NEW.author = 'shopper'
BEGIN
  UPDATE conversation SET status = 'open', context = COALESCE(NEW.context, context), index_dirty = index_dirty + 1;
END;";

pub struct Store {
    pub(super) sql: SqlStorage,
    /// What the hot path would otherwise read again for every message. This object is the
    /// only writer of its storage, so what it wrote it knows: each write below updates (or
    /// forgets) what it changes, in the same synchronous call. Empty after a restart or
    /// eviction (filled on first read) and after an erase ([`Store::forget`]).
    pub(super) memo: RefCell<Memo>,
}

#[derive(Default)]
pub(super) struct Memo {
    meta: Option<Meta>,
    last_seq: Option<u64>,
    /// The newest message (`Some(None)`: there is none).
    last: Option<Option<Message>>,
    /// Shopper messages after the agent's read position.
    unread: Option<u64>,
    token_hashes: Option<Vec<String>>,
    /// Jobs known to be scheduled and not running, with a time they are due by (see
    /// `jobs.rs`).
    pub(super) pending: Vec<(super::jobs::Job, f64)>,
    /// Quiet jobs whose stored row this object wrote and no run has started since: the row
    /// as written, and a later due time asked for since (kept here, see `jobs.rs`).
    pub(super) quiet: Vec<super::jobs::QuietRow>,
}

/// A validated message to store, with its author.
#[derive(Debug)]
pub struct Append {
    pub author: Author,
    pub client_id: String,
    pub body: String,
    pub author_name: Option<String>,
    pub context: Option<Context>,
    /// Not emailed to the shopper.
    pub quiet: bool,
    /// A teammate's reply: they answer it from now on if nobody does yet.
    pub claim: Option<Assignee>,
    /// An agent's reply's way in, and the teammate who wrote it (reports).
    pub via: Option<Via>,
    pub teammate: Option<String>,
    pub attachments: Vec<Attachment>,
}

impl Append {
    /// Only agents sign their messages with a name (and claim the conversation).
    pub fn new(author: Author, m: NewMessage) -> Self {
        let agent = author == Author::Agent;
        let author_name = if agent { m.author_name } else { None };
        let claim = if agent { m.claim } else { None };
        let teammate = claim.as_ref().map(|c| c.email.clone());
        let via = agent.then_some(m.via);
        Self { author, client_id: m.client_id, body: m.body, author_name, context: m.context, quiet: m.quiet, claim, via, teammate, attachments: m.attachments }
    }
}

/// The conversation's own row, for export and the index.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Meta {
    pub id: String,
    pub site: String,
    pub created_at: String,
    pub status: Status,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    pub shopper_read_seq: u64,
    pub agent_read_seq: u64,
    pub index_dirty: u32,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub assignee_name: Option<String>,
    #[serde(default)]
    pub search_seq: u64,
    #[serde(default)]
    pub relay_origin: Option<String>,
}

/// What the merchant's list shows for this conversation (the D1 index row).
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub id: String,
    pub site: String,
    pub created_at: String,
    /// The change count this row reflects.
    pub changes: u32,
    pub status: Status,
    pub last: Option<Message>,
    pub unread: u64,
    pub context: Option<String>,
    pub contact_email: Option<String>,
    pub assignee: Option<String>,
    /// The search index holds the messages up to this one.
    pub search_seq: u64,
}

/// Messages copied to the search index per index write; a longer backlog (a conversation
/// from before search existed) takes several writes.
pub const SEARCH_BATCH: u32 = 100;

impl IndexRow {
    /// The row as the inbox shows it.
    pub fn summary(&self) -> InboxConversation {
        let last = self.last.as_ref();
        InboxConversation {
            summary: ConversationSummary {
                id: self.id.clone(),
                status: self.status,
                created_at: self.created_at.clone(),
                last_seq: last.map_or(0, |m| m.seq),
                last_message_at: last.map(|m| m.created_at.clone()),
                last_message_preview: last.map(|m| preview(&super::rating::for_team(m.clone()).preview())),
                last_author: last.map(|m| m.author),
                unread_count: self.unread,
                context: self.context.as_deref().and_then(|c| serde_json::from_str(c).ok()),
            },
            contact_email: self.contact_email.clone(),
            assignee: self.assignee.clone(),
        }
    }
}

/// What the list shows of the last message: its first 140 characters.
pub fn preview(body: &str) -> String {
    body.chars().take(140).collect()
}

/// Which side's read position.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    Shopper,
    Agent,
}

pub enum AppendOutcome {
    Created(Message),
    Duplicate(Message),
    Conflict,
}

#[derive(Deserialize)]
struct Row {
    seq: u64,
    id: String,
    author: String,
    client_id: String,
    author_name: Option<String>,
    body: String,
    created_at: String,
    context: Option<String>,
    #[serde(default)]
    attachments: Option<String>,
}

impl Row {
    fn into_message(self) -> Message {
        Message {
            id: self.id,
            seq: self.seq,
            client_id: self.client_id,
            author: Author::parse(&self.author).unwrap_or(Author::System),
            author_name: self.author_name,
            body: self.body,
            created_at: self.created_at,
            context: self.context.and_then(|c| serde_json::from_str(&c).ok()),
            attachments: self.attachments.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default(),
        }
    }
}

/// Messages per JSON value read (`Store::window`). A stored message is at most about 42 KB as
/// JSON: 4,000 characters of body each escaped to six bytes, a 16 KiB context, a few
/// attachments. 32 of them stay under the 2 MB SQLite allows one value on Cloudflare.
const JSON_CHUNK: usize = 32;

/// Which side of a `seq` a window of messages lies on (`None`: from the newest).
#[derive(Clone, Copy)]
enum Side {
    After(u64),
    Before(Option<u64>),
}

const COLUMNS: &str = "seq, id, author, client_id, author_name, body, created_at, context, attachments";
const NOTE_COLUMNS: &str = "id, client_id, author_email, author_name, body, created_at";

fn opt(s: &Option<String>) -> V {
    s.clone().map(V::String).unwrap_or(V::Null)
}

impl Store {
    pub fn new(sql: SqlStorage) -> Self {
        let store = Self { sql, memo: RefCell::default() };
        store.ensure_schema();
        store
    }

    /// Forgets everything remembered (after the storage was erased).
    pub fn forget(&self) {
        *self.memo.borrow_mut() = Memo::default();
    }

    /// Changes the remembered conversation row, if it is remembered.
    fn edit_meta(&self, edit: impl FnOnce(&mut Meta)) {
        if let Some(meta) = self.memo.borrow_mut().meta.as_mut() {
            edit(meta);
        }
    }

    /// Creates the tables if missing: on first use, and again after `deleteAll` erased them.
    pub fn ensure_schema(&self) {
        let made = self.sql.exec(SCHEMA, None).map_err(crate::Error::from).and_then(|_| self.migrate_jobs()).and_then(|_| self.migrate_messages());
        if let Err(e) = made.and_then(|_| Ok(self.sql.exec(SHOPPER_MESSAGE_TRIGGER, None).map(|_| ())?)) {
            worker::console_error!("conversation schema: {e}");
        }
        // On their own: webhooks and ratings never stand in the way of the rest.
        for schema in [super::hooks::SCHEMA, super::rating::SCHEMA] {
            if let Err(e) = self.sql.exec(schema, None) {
                worker::console_error!("conversation schema: {e}");
            }
        }
    }

    /// Objects created before replies could be quiet (or assigned) get the columns.
    fn migrate_messages(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Column {
            name: String,
        }
        let columns: Vec<Column> = self.sql.exec("PRAGMA table_info(messages)", None)?.to_array()?;
        if !columns.iter().any(|c| c.name == "quiet") {
            self.sql.exec("ALTER TABLE messages ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0", None)?;
        }
        // Objects from before reports: their earlier replies count as the API's, nobody's.
        if !columns.iter().any(|c| c.name == "via") {
            self.sql.exec("ALTER TABLE messages ADD COLUMN via TEXT", None)?;
            self.sql.exec("ALTER TABLE messages ADD COLUMN teammate TEXT", None)?;
        }
        // Objects from before files.
        if !columns.iter().any(|c| c.name == "attachments") {
            self.sql.exec("ALTER TABLE messages ADD COLUMN attachments TEXT", None)?;
        }
        // Objects created before assignment get its columns.
        let columns: Vec<Column> = self.sql.exec("PRAGMA table_info(conversation)", None)?.to_array()?;
        if !columns.iter().any(|c| c.name == "assignee") {
            self.sql.exec("ALTER TABLE conversation ADD COLUMN assignee TEXT", None)?;
            self.sql.exec("ALTER TABLE conversation ADD COLUMN assignee_name TEXT", None)?;
        }
        // Objects created before search: their messages are copied by the next index write.
        if !columns.iter().any(|c| c.name == "search_seq") {
            self.sql.exec("ALTER TABLE conversation ADD COLUMN search_seq INTEGER NOT NULL DEFAULT 0", None)?;
        }
        // Objects from before files: their emails name files without links.
        if !columns.iter().any(|c| c.name == "relay_origin") {
            self.sql.exec("ALTER TABLE conversation ADD COLUMN relay_origin TEXT", None)?;
        }
        Ok(())
    }

    pub fn meta(&self) -> Result<Option<Meta>> {
        if let Some(meta) = &self.memo.borrow().meta {
            return Ok(Some(meta.clone()));
        }
        let rows: Vec<Meta> = self
            .sql
            .exec(
                "SELECT id, site, created_at, status, context, contact_email, shopper_read_seq, agent_read_seq, index_dirty, \
                 assignee, assignee_name, search_seq, relay_origin FROM conversation",
                None,
            )?
            .to_array()?;
        let meta = rows.into_iter().next();
        self.memo.borrow_mut().meta.clone_from(&meta);
        Ok(meta)
    }

    /// Who answers it from now on (`None`: nobody).
    pub fn set_assignee(&self, assignee: Option<&Assignee>) -> Result<()> {
        let (email, name) = assignee.map_or((V::Null, V::Null), |a| (a.email.clone().into(), a.name.clone().into()));
        self.sql.exec("UPDATE conversation SET assignee = ?, assignee_name = ?, index_dirty = index_dirty + 1", vec![email, name])?;
        self.edit_meta(|m| {
            (m.assignee, m.assignee_name) = assignee.map(|a| (a.email.clone(), a.name.clone())).unzip();
            m.index_dirty += 1;
        });
        Ok(())
    }

    pub fn set_contact(&self, email: &str) -> Result<()> {
        if self.meta()?.is_some_and(|m| m.contact_email.as_deref() != Some(email)) {
            self.record("contact.updated", &super::now_iso(), serde_json::json!({ "email": email }))?;
        }
        self.sql.exec("UPDATE conversation SET contact_email = ?, index_dirty = index_dirty + 1", vec![email.into()])?;
        self.edit_meta(|m| {
            m.contact_email = Some(email.to_owned());
            m.index_dirty += 1;
        });
        Ok(())
    }

    pub fn set_status(&self, status: Status) -> Result<()> {
        self.set_status_saying(status, serde_json::json!({ "status": status }), None)
    }

    /// The status, with `data` for its webhook event when it changes; asks for a rating but
    /// `keep` end.
    pub fn set_status_saying(&self, status: Status, data: serde_json::Value, keep: Option<i64>) -> Result<()> {
        if self.meta()?.is_some_and(|m| m.status != status) {
            self.status_event(status, data, keep)?;
        }
        self.sql.exec("UPDATE conversation SET status = ?, index_dirty = index_dirty + 1", vec![status.as_str().into()])?;
        self.edit_meta(|m| {
            m.status = status;
            m.index_dirty += 1;
        });
        Ok(())
    }

    /// `conversation.closed` or `conversation.reopened`, with `data`; asks for a rating but
    /// `keep` end.
    fn status_event(&self, status: Status, data: serde_json::Value, keep: Option<i64>) -> Result<()> {
        let kind = if status == Status::Closed { "conversation.closed" } else { "conversation.reopened" };
        let at = super::now_iso();
        self.status_changed(status, &at, keep)?;
        self.record(kind, &at, data)
    }

    /// The conversation's own record, without its messages.
    pub fn about(&self) -> Result<ExportedConversation> {
        let meta = self.meta()?.ok_or(Error::NotFound)?;
        Ok(ExportedConversation {
            id: meta.id,
            site: meta.site,
            created_at: meta.created_at,
            status: meta.status,
            context: meta.context.as_deref().and_then(|c| serde_json::from_str(c).ok()),
            contact_email: meta.contact_email,
            shopper_read_seq: meta.shopper_read_seq,
            agent_read_seq: meta.agent_read_seq,
        })
    }

    /// Everything stored about the conversation, for the shopper.
    pub fn export(&self, exported_at: String) -> Result<Export> {
        Ok(Export { conversation: self.about()?, messages: self.all_messages()?, ratings: self.ratings_given()?, exported_at })
    }

    pub fn mark_index_dirty(&self) -> Result<()> {
        self.sql.exec("UPDATE conversation SET index_dirty = index_dirty + 1", None)?;
        self.edit_meta(|m| m.index_dirty += 1);
        Ok(())
    }

    /// After writing the index as it was at `changes`: clean, unless more changed meanwhile.
    pub fn mark_index_clean(&self, changes: u32) -> Result<()> {
        self.sql.exec("UPDATE conversation SET index_dirty = 0 WHERE index_dirty = ?", vec![V::Integer(i64::from(changes))])?;
        self.edit_meta(|m| {
            if m.index_dirty == changes {
                m.index_dirty = 0;
            }
        });
        Ok(())
    }

    pub fn index_row(&self) -> Result<Option<IndexRow>> {
        let Some(meta) = self.meta()? else { return Ok(None) };
        let last = self.last_message()?;
        Ok(Some(IndexRow {
            id: meta.id,
            site: meta.site,
            created_at: meta.created_at,
            contact_email: meta.contact_email,
            changes: meta.index_dirty,
            status: meta.status,
            last,
            unread: self.unread_for_agent()?,
            context: meta.context,
            assignee: meta.assignee,
            search_seq: meta.search_seq,
        }))
    }

    /// The search index holds every message up to `seq`.
    pub fn mark_searched(&self, seq: u64) -> Result<()> {
        self.sql.exec("UPDATE conversation SET search_seq = MAX(search_seq, ?)", vec![V::try_from_i64(seq as i64)?])?;
        self.edit_meta(|m| m.search_seq = m.search_seq.max(seq));
        Ok(())
    }

    /// Read positions only move forward and never past the last message.
    pub fn mark_read(&self, reader: Reader, seq: u64) -> Result<u64> {
        let last_seq = self.last_seq()?;
        let seq = seq.min(last_seq);
        let column = match reader {
            Reader::Shopper => "shopper_read_seq",
            // The agent's position drives the unread count in the index.
            Reader::Agent => "agent_read_seq",
        };
        let dirty = if matches!(reader, Reader::Agent) { ", index_dirty = index_dirty + 1" } else { "" };
        self.sql.exec(
            &format!("UPDATE conversation SET {column} = MAX({column}, ?){dirty}"),
            vec![V::try_from_i64(seq as i64)?],
        )?;
        self.edit_meta(|m| match reader {
            Reader::Shopper => m.shopper_read_seq = m.shopper_read_seq.max(seq),
            Reader::Agent => {
                m.agent_read_seq = m.agent_read_seq.max(seq);
                m.index_dirty += 1;
            }
        });
        if matches!(reader, Reader::Agent) {
            let mut memo = self.memo.borrow_mut();
            // Read up to the last message: nothing is unread; otherwise count again when asked.
            memo.unread = (memo.meta.as_ref().is_some_and(|m| m.agent_read_seq >= last_seq)).then_some(0);
        }
        Ok(seq)
    }

    /// Shopper messages after the agent's read position.
    pub fn unread_for_agent(&self) -> Result<u64> {
        if let Some(n) = self.memo.borrow().unread {
            return Ok(n);
        }
        #[derive(Deserialize)]
        struct N {
            n: u64,
        }
        let rows: Vec<N> = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM messages WHERE author = 'shopper' \
                 AND seq > (SELECT agent_read_seq FROM conversation)",
                None,
            )?
            .to_array()?;
        let n = rows.first().map_or(0, |r| r.n);
        self.memo.borrow_mut().unread = Some(n);
        Ok(n)
    }

    pub fn all_messages(&self) -> Result<Vec<Message>> {
        self.after(0, u32::MAX >> 1)
    }

    /// Idempotent: a second init of the same object changes nothing.
    pub fn init(&self, init: &Init) -> Result<()> {
        let context = init.context.as_ref().map(|c| serde_json::to_string(c)).transpose().map_err(|e| Error::Internal(e.to_string()))?;
        self.sql.exec(
            "INSERT INTO conversation (one, id, site, token_hash, created_at, context, relay_origin) VALUES (1, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (one) DO NOTHING",
            vec![init.id.clone().into(), init.site.clone().into(), init.token_hash.clone().into(), init.created_at.clone().into(), opt(&context), opt(&init.origin)],
        )?;
        self.forget();
        // Once, however often init is asked; never in the way of creating it.
        let created = self.sql.exec(
            "INSERT OR IGNORE INTO events (id, type, after_seq, at, data) VALUES (1, 'conversation.created', 0, ?, ?)",
            vec![init.created_at.clone().into(), serde_json::json!({ "conversation_id": init.id, "site_id": init.site, "created_at": init.created_at, "context": init.context }).to_string().into()],
        );
        if let Err(e) = created {
            worker::console_error!("webhook event conversation.created not recorded: {e}");
        }
        Ok(())
    }

    pub fn exists(&self) -> Result<bool> {
        if self.memo.borrow().meta.is_some() {
            return Ok(true);
        }
        #[derive(Deserialize)]
        struct N {
            n: u32,
        }
        let rows: Vec<N> = self.sql.exec("SELECT COUNT(*) AS n FROM conversation", None)?.to_array()?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }

    /// The token from creation, or one minted for a browser that opened a resume link.
    pub fn token_matches(&self, token: &str) -> Result<bool> {
        #[derive(Deserialize)]
        struct T {
            token_hash: String,
        }
        if self.memo.borrow().token_hashes.is_none() {
            let rows: Vec<T> = self
                .sql
                .exec("SELECT token_hash FROM conversation UNION ALL SELECT token_hash FROM device_tokens", None)?
                .to_array()?;
            self.memo.borrow_mut().token_hashes = Some(rows.into_iter().map(|r| r.token_hash).collect());
        }
        let memo = self.memo.borrow();
        // Every hash is compared, so timing does not tell which one matched.
        Ok(memo.token_hashes.iter().flatten().fold(false, |found, hash| tokens::verify(token, hash) | found))
    }

    pub fn add_device_token(&self, token_hash: &str, created_at: &str) -> Result<()> {
        self.sql.exec(
            "INSERT INTO device_tokens (token_hash, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            vec![token_hash.into(), created_at.into()],
        )?;
        self.memo.borrow_mut().token_hashes = None;
        Ok(())
    }

    /// The latest 50 messages by `author` after `seq` that may be emailed (not quiet), oldest
    /// first (an email, not an archive).
    pub fn by_author_after(&self, author: Author, seq: u64) -> Result<Vec<Message>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                &format!("SELECT {COLUMNS} FROM messages WHERE author = ? AND seq > ? AND quiet = 0 ORDER BY seq DESC LIMIT 50"),
                vec![author.as_str().into(), V::try_from_i64(seq as i64)?],
            )?
            .to_array()?;
        Ok(rows.into_iter().rev().map(Row::into_message).collect())
    }

    /// The highest stored `seq` (0 for none).
    pub fn last_seq(&self) -> Result<u64> {
        if let Some(seq) = self.memo.borrow().last_seq {
            return Ok(seq);
        }
        #[derive(Deserialize)]
        struct S {
            s: u64,
        }
        let rows: Vec<S> = self.sql.exec("SELECT COALESCE(MAX(seq), 0) AS s FROM messages", None)?.to_array()?;
        let seq = rows.first().map_or(0, |r| r.s);
        self.memo.borrow_mut().last_seq = Some(seq);
        Ok(seq)
    }

    /// The newest message, if any.
    pub fn last_message(&self) -> Result<Option<Message>> {
        if let Some(last) = &self.memo.borrow().last {
            return Ok(last.clone());
        }
        let last = self.before(None, 1)?.pop();
        self.memo.borrow_mut().last = Some(last.clone());
        Ok(last)
    }

    /// The first `limit` messages after `after`, oldest first.
    pub fn after(&self, after: u64, limit: u32) -> Result<Vec<Message>> {
        self.window(Side::After(after), limit)
    }

    /// The last `limit` messages before `before` (`None`: the newest), oldest first.
    fn before(&self, before: Option<u64>, limit: u32) -> Result<Vec<Message>> {
        self.window(Side::Before(before), limit)
    }

    /// Up to `limit` messages on one side of a `seq`, oldest first. SQLite makes each chunk of
    /// [`JSON_CHUNK`] one JSON value, read in one call and parsed here: taking every row apart
    /// column by column across the JS boundary (`to_array`) was most of what a page, a webhook
    /// batch or an index flush cost. The chunks keep each value under the 2 MB SQLite allows
    /// one on Cloudflare.
    fn window(&self, side: Side, limit: u32) -> Result<Vec<Message>> {
        let mut out: Vec<Message> = Vec::new();
        let mut edge = side;
        while out.len() < limit as usize {
            let n = (limit as usize - out.len()).min(JSON_CHUNK);
            let (filter, mut params) = match edge {
                Side::After(seq) => ("WHERE seq > ? ORDER BY seq", vec![V::try_from_i64(seq as i64)?]),
                Side::Before(Some(seq)) => ("WHERE seq < ? ORDER BY seq DESC", vec![V::try_from_i64(seq as i64)?]),
                Side::Before(None) => ("ORDER BY seq DESC", vec![]),
            };
            params.push(V::Integer(n as i64));
            let chunk = self.messages_as_json(filter, params)?;
            let got = chunk.len();
            edge = match (edge, chunk.first(), chunk.last()) {
                (Side::After(_), _, Some(last)) => Side::After(last.seq),
                (Side::Before(_), Some(first), _) => Side::Before(Some(first.seq)),
                _ => edge,
            };
            out.extend(chunk);
            if got < n {
                break;
            }
        }
        out.sort_by_key(|m| m.seq);
        Ok(out)
    }

    /// The messages `filter` (`WHERE … ORDER BY …`, then `LIMIT` the last parameter) picks, in
    /// seq order, from one JSON value SQLite makes.
    fn messages_as_json(&self, filter: &str, params: Vec<V>) -> Result<Vec<Message>> {
        #[derive(Deserialize)]
        struct Batch {
            rows: Option<String>,
        }
        let batch: Vec<Batch> = self
            .sql
            .exec(
                &format!(
                    "SELECT json_group_array(json_object('seq', seq, 'id', id, 'author', author, 'client_id', client_id, \
                     'author_name', author_name, 'body', body, 'created_at', created_at, 'context', json(context), \
                     'attachments', json(coalesce(attachments, '[]')))) AS rows FROM (SELECT {COLUMNS} FROM messages {filter} LIMIT ?)"
                ),
                params,
            )?
            .to_array()?;
        let rows = batch.into_iter().next().and_then(|b| b.rows).unwrap_or_else(|| "[]".into());
        let mut messages: Vec<Message> = serde_json::from_str(&rows).map_err(|e| Error::Internal(format!("stored messages: {e}")))?;
        // (An aggregate takes its rows in the subquery's order in SQLite; nothing here relies on it.)
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }

    /// A page of the window: one row more than asked tells whether there are more beyond it.
    pub fn page(&self, window: Window, limit: u32) -> Result<MessagesPage> {
        let mut messages = match window {
            Window::After(after) => self.after(after, limit + 1)?,
            Window::Before(before) => self.before(Some(before), limit + 1)?,
            Window::Newest => self.before(None, limit + 1)?,
        };
        let has_more = messages.len() > limit as usize;
        if has_more {
            match window {
                Window::After(_) => messages.truncate(limit as usize),
                // The extra row is the oldest: it only says that earlier ones exist.
                Window::Before(_) | Window::Newest => drop(messages.remove(0)),
            }
        }
        Ok(MessagesPage { messages, has_more })
    }

    /// How the shopper's cart changed over the whole conversation: each cart they shared
    /// when it differed from the one before.
    pub fn cart_history(&self) -> Result<Vec<CartStep>> {
        #[derive(Deserialize)]
        struct Shared {
            created_at: String,
            context: String,
        }
        let rows: Vec<Shared> = self
            .sql
            .exec("SELECT created_at, context FROM messages WHERE author = 'shopper' AND context IS NOT NULL ORDER BY seq", None)?
            .to_array()?;
        let carts = rows.into_iter().filter_map(|r| {
            let context: Context = serde_json::from_str(&r.context).ok()?;
            Some((r.created_at, context.cart?))
        });
        Ok(CartStep::history(carts))
    }

    /// Stores a note once per `client_id`: the note and whether it is new; the same
    /// `client_id` with another body is a conflict.
    pub fn add_note(&self, note: &Note) -> Result<(Note, bool)> {
        if !self.exists()? {
            return Err(Error::NotFound);
        }
        let existing: Vec<Note> = self
            .sql
            .exec(&format!("SELECT {NOTE_COLUMNS} FROM notes WHERE client_id = ?"), vec![note.client_id.clone().into()])?
            .to_array()?;
        if let Some(existing) = existing.into_iter().next() {
            return if existing.body == note.body { Ok((existing, false)) } else { Err(Error::ClientIdConflict) };
        }
        self.sql.exec(
            &format!("INSERT INTO notes ({NOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"),
            vec![
                note.id.clone().into(),
                note.client_id.clone().into(),
                note.author_email.clone().into(),
                note.author_name.clone().into(),
                note.body.clone().into(),
                note.created_at.clone().into(),
            ],
        )?;
        Ok((note.clone(), true))
    }

    /// Every note, oldest first.
    pub fn notes(&self) -> Result<Vec<Note>> {
        Ok(self.sql.exec(&format!("SELECT {NOTE_COLUMNS} FROM notes ORDER BY created_at, id"), None)?.to_array()?)
    }

    /// The message `author` stored under `client_id`, if any.
    pub fn sent(&self, author: Author, client_id: &str) -> Result<Option<Message>> {
        if !self.exists()? {
            return Err(Error::NotFound);
        }
        self.by_client_id(author, client_id)
    }

    fn by_client_id(&self, author: Author, client_id: &str) -> Result<Option<Message>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                &format!("SELECT {COLUMNS} FROM messages WHERE author = ? AND client_id = ?"),
                vec![author.as_str().into(), client_id.into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().map(Row::into_message))
    }

    /// Stores a message exactly once per (author, client_id), with the next gap-free `seq`.
    /// `admit` runs only for a message not stored yet (a retry is never rate limited); its
    /// error refuses the message. It may run before the store finds the message stored: then
    /// `refund` gives its token back.
    pub fn append(&self, a: &Append, id: &str, created_at: &str, admit: impl FnOnce() -> Result<()>, refund: impl FnOnce()) -> Result<AppendOutcome> {
        if !self.exists()? {
            return Err(Error::NotFound);
        }
        let stored = |existing: Message| if existing.body == a.body { AppendOutcome::Duplicate(existing) } else { AppendOutcome::Conflict };
        // A shopper writing to a closed conversation reopens it (before their message): looked
        // up first. Otherwise the insert itself finds a stored client_id (one statement for
        // a new message), unless the limit refuses, which a retry must not meet.
        let reopens = a.author == Author::Shopper && self.meta()?.is_some_and(|m| m.status == Status::Closed);
        if reopens {
            if let Some(existing) = self.by_client_id(a.author, &a.client_id)? {
                return Ok(stored(existing));
            }
            admit()?;
            self.status_event(Status::Open, serde_json::json!({ "status": Status::Open }), None)?;
        } else if let Err(refused) = admit() {
            return match self.by_client_id(a.author, &a.client_id)? {
                Some(existing) => Ok(stored(existing)),
                None => Err(refused),
            };
        }
        let seq = self.last_seq()? + 1;
        let context = a.context.as_ref().map(|c| serde_json::to_string(c)).transpose().map_err(|e| Error::Internal(e.to_string()))?;
        let files = (!a.attachments.is_empty()).then(|| serde_json::to_string(&a.attachments)).transpose().map_err(|e| Error::Internal(e.to_string()))?;
        let inserted = self.sql.exec(
            "INSERT INTO messages (seq, id, author, client_id, author_name, body, created_at, context, quiet, via, teammate, attachments) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (author, client_id) DO NOTHING",
            vec![
                V::try_from_i64(seq as i64)?,
                id.into(),
                a.author.as_str().into(),
                a.client_id.clone().into(),
                opt(&a.author_name),
                a.body.clone().into(),
                created_at.into(),
                opt(&context),
                V::Integer(i64::from(a.quiet)),
                opt(&a.via.map(|v| v.as_str().to_owned())),
                opt(&a.teammate),
                opt(&files),
            ],
        )?;
        // A statement without result rows has run to its end when `exec` returns; a client_id
        // stored already wrote nothing (and what is stored under it is not this message).
        if inserted.rows_written() == 0 {
            let existing = self.by_client_id(a.author, &a.client_id)?.ok_or_else(|| Error::Internal("client_id neither new nor stored".into()))?;
            if existing.id != id {
                refund();
                return Ok(stored(existing));
            }
        }
        let message = Message {
            id: id.to_owned(),
            seq,
            client_id: a.client_id.clone(),
            author: a.author,
            author_name: a.author_name.clone(),
            body: a.body.clone(),
            created_at: created_at.to_owned(),
            context: a.context.clone(),
            attachments: a.attachments.clone(),
        };
        {
            let mut memo = self.memo.borrow_mut();
            memo.last_seq = Some(seq);
            memo.last = Some(Some(message.clone()));
            if a.author == Author::Shopper && let Some(n) = memo.unread.as_mut() {
                *n += 1;
            }
        }
        // Each arm also marks the D1 index as behind.
        match a.author {
            // Replying means the agent has seen everything before the reply.
            Author::Agent => {
                self.mark_read(Reader::Agent, seq)?;
                if let Some(claim) = &a.claim {
                    self.sql.exec(
                        "UPDATE conversation SET assignee = ?, assignee_name = ? WHERE assignee IS NULL",
                        vec![claim.email.clone().into(), claim.name.clone().into()],
                    )?;
                    self.edit_meta(|m| {
                        if m.assignee.is_none() {
                            (m.assignee, m.assignee_name) = (Some(claim.email.clone()), Some(claim.name.clone()));
                        }
                    });
                }
            }
            // A shopper writing again reopens a closed conversation; the latest context
            // they shared is what the merchant sees (stored by SHOPPER_MESSAGE_TRIGGER).
            Author::Shopper => {
                self.edit_meta(|m| {
                    m.status = Status::Open;
                    if context.is_some() {
                        m.context.clone_from(&context);
                    }
                    m.index_dirty += 1;
                });
            }
            Author::System => self.mark_index_dirty()?,
        }
        Ok(AppendOutcome::Created(message))
    }
}
