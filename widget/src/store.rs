//! The shopper's thread in IndexedDB, one database per site (`pigeon:<site>`), so a thread
//! survives tab close, reload and browser restart, and two shops never share one.
//!
//! Stores: `kv` (session, draft, read position, contact), `messages` (the relay's message
//! objects by `seq`), `outbox` (by `client_id`, written before a message is sent, removed once
//! the relay acknowledged it). Records are the plain objects of the wire format, kept as the
//! browser parsed them: nothing is serialised in Rust.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::js;
use crate::wire::field;

/// IndexedDB refused or failed (private mode, quota, erased). Callers go on in memory; the
/// browser's own error is not kept (its formatting code would be most of this module's size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreError;

pub type Result<T> = std::result::Result<T, StoreError>;

const KV: &str = "kv";
const MESSAGES: &str = "messages";
const OUTBOX: &str = "outbox";

/// The keys of the `kv` store.
pub mod key {
    /// The session record, `{id, token}`.
    pub const SESSION: &str = "session";
    /// The highest `seq` the shopper has seen.
    pub const READ_SEQ: &str = "read_seq";
    /// The email address given for replies.
    pub const CONTACT: &str = "contact";
    /// What is typed in the composer and not sent yet.
    pub const DRAFT: &str = "draft";
}

fn err(_: impl Sized) -> StoreError {
    StoreError
}

/// The conversation this browser holds for the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub token: String,
}

impl Session {
    pub fn to_js(&self) -> JsValue {
        js::object(&[(field::ID, self.id.as_str().into()), (field::TOKEN, self.token.as_str().into())])
    }

    pub fn from_js(v: &JsValue) -> Option<Session> {
        Some(Session { id: js::string(v, field::ID)?, token: js::string(v, field::TOKEN)? })
    }
}

/// A message typed but not yet acknowledged by the relay. `context` is the wire object
/// sent with it (what the shopper saw shared when they pressed Send).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_id: String,
    pub body: String,
    pub context: JsValue,
    /// Milliseconds since the epoch: outbox order.
    pub queued_at: f64,
}

impl Pending {
    /// The outbox record: the body of `POST .../messages` ([`crate::wire::post`]) plus `queued_at`.
    pub fn to_js(&self) -> JsValue {
        js::object(&[
            (field::CLIENT_ID, self.client_id.as_str().into()),
            (field::BODY, self.body.as_str().into()),
            (field::CONTEXT, self.context.clone()),
            (field::QUEUED_AT, self.queued_at.into()),
        ])
    }

    fn from_js(v: &JsValue) -> Option<Pending> {
        Some(Pending {
            client_id: js::string(v, field::CLIENT_ID)?,
            body: js::string(v, field::BODY)?,
            context: js::get(v, field::CONTEXT),
            queued_at: js::get(v, field::QUEUED_AT).as_f64().unwrap_or(0.0),
        })
    }
}

/// The outbox records, oldest first.
fn pending(records: &JsValue) -> Vec<Pending> {
    let mut pending: Vec<Pending> = js::items(records).iter().filter_map(Pending::from_js).collect();
    pending.sort_by(|a, b| a.queued_at.total_cmp(&b.queued_at));
    pending
}

pub fn db_name(site: &str) -> String {
    format!("pigeon:{site}")
}

pub struct Store {
    site: String,
    /// `None` once closed (another tab deletes it, or this one forgot it).
    db: Rc<RefCell<Option<IdbDatabase>>>,
}

/// Settles when `target` fires `ok` (then `Ok`) or `error`/`abort` (then `Err`). The
/// resolve/reject functions are the handlers themselves: no Rust closure per request. It
/// listens and handles the promise at once, not when first polled: no event can be missed,
/// and one dropped unawaited (an aborted write) is not an unhandled rejection.
fn event(target: &web_sys::EventTarget, ok: &str) -> impl Future<Output = Result<()>> + use<> {
    let promise = Promise::new(&mut |resolve, reject| {
        let _ = target.add_event_listener_with_callback(ok, &resolve);
        let _ = target.add_event_listener_with_callback("error", &reject);
        let _ = target.add_event_listener_with_callback("abort", &reject);
    });
    let settled = JsFuture::from(promise);
    async move { settled.await.map(drop).map_err(err) }
}

impl Store {
    /// Opens (creating on first use) the site's database. Only called after the shopper
    /// acted, or when the database already exists.
    pub async fn open(site: &str) -> Result<Store> {
        let factory = web_sys::window().ok_or(StoreError)?.indexed_db().map_err(err)?.ok_or(StoreError)?;
        let req = factory.open_with_u32(&db_name(site), 1).map_err(err)?;
        let upgrade = Closure::once_into_js({
            let req = req.clone();
            move || {
                if let Some(db) = req.result().ok().and_then(|db| db.dyn_into::<IdbDatabase>().ok()) {
                    for name in [KV, MESSAGES, OUTBOX] {
                        let _ = db.create_object_store(name);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
        event(&req, "success").await?;
        let db = req.result().map_err(err)?.dyn_into::<IdbDatabase>().map_err(err)?;
        let store = Store { site: site.to_owned(), db: Rc::new(RefCell::new(Some(db.clone()))) };
        // Another tab deletes the database (forget): let go at once, so it is not blocked.
        let slot = Rc::downgrade(&store.db);
        let on_version_change = Closure::once_into_js(move || {
            if let Some(db) = slot.upgrade().and_then(|s| s.borrow_mut().take()) {
                db.close();
            }
        });
        db.set_onversionchange(Some(on_version_change.unchecked_ref()));
        Ok(store)
    }

    /// A transaction over `names`, read-only unless `write`.
    fn tx(&self, names: &[&str], write: bool) -> Result<IdbTransaction> {
        let db = self.db.borrow();
        let db = db.as_ref().ok_or(StoreError)?;
        let names: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
        let mode = if write { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
        db.transaction_with_str_sequence_and_mode(&names, mode).map_err(err)
    }

    fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore> {
        tx.object_store(name).map_err(err)
    }

    /// Runs `write` in a read-write transaction and waits until it is committed.
    async fn write(&self, names: &[&str], write: impl FnOnce(&IdbTransaction) -> Result<()>) -> Result<()> {
        let tx = self.tx(names, true)?;
        let committed = event(&tx, "complete");
        if let Err(e) = write(&tx) {
            let _ = tx.abort();
            return Err(e);
        }
        committed.await
    }

    /// Everything a restore needs in one read-only transaction, its requests running
    /// together: the `kv` values of `keys` (`undefined` if never written), the message
    /// objects in `seq` order, and the outbox oldest first.
    pub async fn load(&self, keys: &[&str]) -> Result<(Vec<JsValue>, Vec<JsValue>, Vec<Pending>)> {
        let tx = self.tx(&[KV, MESSAGES, OUTBOX], false)?;
        let done = event(&tx, "complete");
        let kv = Self::store(&tx, KV)?;
        let values = keys.iter().map(|k| kv.get(&JsValue::from_str(k)).map_err(err)).collect::<Result<Vec<_>>>()?;
        let messages = Self::store(&tx, MESSAGES)?.get_all().map_err(err)?;
        let outbox = Self::store(&tx, OUTBOX)?.get_all().map_err(err)?;
        done.await?;
        let read = |r: &IdbRequest| r.result().unwrap_or(JsValue::UNDEFINED);
        Ok((values.iter().map(read).collect(), js::items(&read(&messages)), pending(&read(&outbox))))
    }

    /// One `kv` value (`undefined` if never written).
    pub async fn get(&self, key: &str) -> Result<JsValue> {
        let tx = self.tx(&[KV], false)?;
        let req = Self::store(&tx, KV)?.get(&JsValue::from_str(key)).map_err(err)?;
        event(&tx, "complete").await?;
        req.result().map_err(err)
    }

    /// The conversation is gone: its messages, session, read position and contact go; the
    /// outbox and the draft stay (they go into the next conversation).
    pub async fn drop_conversation(&self) -> Result<()> {
        self.write(&[KV, MESSAGES], |tx| {
            Self::store(tx, MESSAGES)?.clear().map_err(err)?;
            let kv = Self::store(tx, KV)?;
            [key::SESSION, key::READ_SEQ, key::CONTACT].iter().try_for_each(|k| kv.delete(&JsValue::from_str(k)).map(drop).map_err(err))
        })
        .await
    }

    pub async fn put(&self, key: &str, value: &JsValue) -> Result<()> {
        self.put_in(KV, &JsValue::from_str(key), value).await
    }

    /// Writes one record under `key` in its own transaction.
    async fn put_in(&self, name: &str, key: &JsValue, value: &JsValue) -> Result<()> {
        self.write(&[name], |tx| Self::store(tx, name)?.put_with_key(value, key).map(drop).map_err(err)).await
    }

    /// Stores a message object from the relay; the same `seq` twice is one record.
    pub async fn put_message(&self, seq: u64, message: &JsValue) -> Result<()> {
        self.put_in(MESSAGES, &JsValue::from_f64(seq as f64), message).await
    }

    pub async fn put_pending(&self, p: &Pending) -> Result<()> {
        self.put_in(OUTBOX, &JsValue::from_str(&p.client_id), &p.to_js()).await
    }

    /// The relay has it: the outbox entry goes and the stored message takes its place, in
    /// one transaction so a crash in between cannot show it twice or lose it.
    pub async fn acknowledge(&self, client_id: &str, seq: u64, message: &JsValue) -> Result<()> {
        self.write(&[OUTBOX, MESSAGES], |tx| {
            Self::store(tx, OUTBOX)?.delete(&JsValue::from_str(client_id)).map_err(err)?;
            Self::store(tx, MESSAGES)?.put_with_key(message, &JsValue::from_f64(seq as f64)).map(drop).map_err(err)
        })
        .await
    }

    pub async fn drop_pending(&self, client_id: &str) -> Result<()> {
        self.write(&[OUTBOX], |tx| Self::store(tx, OUTBOX)?.delete(&JsValue::from_str(client_id)).map(drop).map_err(err)).await
    }

    /// Empties the named object stores in one transaction.
    async fn clear(&self, names: &[&str]) -> Result<()> {
        self.write(names, |tx| names.iter().try_for_each(|name| Self::store(tx, name)?.clear().map(drop).map_err(err))).await
    }

    /// `Pigeon('forget')`: everything is cleared at once, then the database itself is
    /// deleted (which waits until no other tab holds it open).
    pub async fn forget(&self) {
        let _ = self.clear(&[KV, MESSAGES, OUTBOX]).await;
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
        if let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) {
            let _ = factory.delete_database(&db_name(&self.site));
        }
    }
}
