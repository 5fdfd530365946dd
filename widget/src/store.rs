//! The shopper's thread in IndexedDB, one database per site (`pigeon:<site>`), so a thread
//! survives tab close, reload and browser restart, and two shops never share one.
//!
//! Stores: `kv` (session, draft, read position), `messages` (by `seq`), `outbox` (by
//! `client_id`, written before a message is sent, removed once the relay acknowledged it).

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use pigeon_protocol::{Context, Message};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub type Result<T> = std::result::Result<T, String>;

const KV: &str = "kv";
const MESSAGES: &str = "messages";
const OUTBOX: &str = "outbox";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The conversation this browser holds for the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub token: String,
}

/// A message typed but not yet acknowledged by the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub client_id: String,
    pub body: String,
    pub context: Option<Context>,
    /// Milliseconds since the epoch: outbox order.
    pub queued_at: f64,
}

pub fn db_name(site: &str) -> String {
    format!("pigeon:{site}")
}

pub struct Store {
    /// `None` once forgotten (closed so the database can be deleted).
    db: std::cell::RefCell<Option<Database>>,
}

impl Store {
    /// Opens (creating on first use) the site's database. Only called after the shopper
    /// acted, or when the database already exists.
    pub async fn open(site: &str) -> Result<Store> {
        let db = Database::open(&db_name(site))
            .with_version(1u8)
            .with_on_upgrade_needed(|_event, db| {
                db.create_object_store(KV).build()?;
                db.create_object_store(MESSAGES).build()?;
                db.create_object_store(OUTBOX).build()?;
                Ok(())
            })
            .await
            .map_err(err)?;
        Ok(Store { db: std::cell::RefCell::new(Some(db)) })
    }

    fn db(&self) -> Result<std::cell::Ref<'_, Database>> {
        std::cell::Ref::filter_map(self.db.borrow(), Option::as_ref).map_err(|_| "storage was erased".to_owned())
    }

    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let db = self.db()?;
        let tx = db.transaction(KV).build().map_err(err)?;
        let store = tx.object_store(KV).map_err(err)?;
        store.get(key).serde().map_err(err)?.await.map_err(err)
    }

    pub async fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.put_in(KV, key.to_owned(), value).await
    }

    /// Every record of one object store.
    async fn get_all<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        let db = self.db()?;
        let tx = db.transaction(name).build().map_err(err)?;
        let store = tx.object_store(name).map_err(err)?;
        let all = store.get_all().serde().map_err(err)?.await.map_err(err)?;
        all.collect::<std::result::Result<Vec<T>, _>>().map_err(err)
    }

    /// Writes one record under `key` in its own transaction.
    async fn put_in<K, T>(&self, name: &str, key: K, value: &T) -> Result<()>
    where
        K: indexed_db_futures::SerialiseToJs + indexed_db_futures::DeserialiseFromJs,
        T: Serialize,
    {
        let db = self.db()?;
        let tx = db.transaction(name).with_mode(TransactionMode::Readwrite).build().map_err(err)?;
        let store = tx.object_store(name).map_err(err)?;
        store.put(value).with_key(key).serde().map_err(err)?.await.map_err(err)?;
        tx.commit().await.map_err(err)
    }

    pub async fn messages(&self) -> Result<Vec<Message>> {
        self.get_all(MESSAGES).await
    }

    /// Stores a message from the relay; the same `seq` twice is one record.
    pub async fn put_message(&self, m: &Message) -> Result<()> {
        self.put_in(MESSAGES, m.seq as f64, m).await
    }

    pub async fn outbox(&self) -> Result<Vec<Pending>> {
        let mut pending: Vec<Pending> = self.get_all(OUTBOX).await?;
        pending.sort_by(|a, b| a.queued_at.total_cmp(&b.queued_at));
        Ok(pending)
    }

    pub async fn put_pending(&self, p: &Pending) -> Result<()> {
        self.put_in(OUTBOX, p.client_id.clone(), p).await
    }

    /// The relay has it: the outbox entry goes and the stored message takes its place, in
    /// one transaction so a crash in between cannot show it twice or lose it.
    pub async fn acknowledge(&self, client_id: &str, stored: &Message) -> Result<()> {
        let db = self.db()?;
        let tx = db.transaction([OUTBOX, MESSAGES]).with_mode(TransactionMode::Readwrite).build().map_err(err)?;
        tx.object_store(OUTBOX).map_err(err)?.delete(client_id).await.map_err(err)?;
        let messages = tx.object_store(MESSAGES).map_err(err)?;
        messages.put(stored).with_key(stored.seq as f64).serde().map_err(err)?.await.map_err(err)?;
        tx.commit().await.map_err(err)
    }

    pub async fn drop_pending(&self, client_id: &str) -> Result<()> {
        let db = self.db()?;
        let tx = db.transaction(OUTBOX).with_mode(TransactionMode::Readwrite).build().map_err(err)?;
        tx.object_store(OUTBOX).map_err(err)?.delete(client_id).await.map_err(err)?;
        tx.commit().await.map_err(err)
    }

    /// Another conversation replaces this one (a resume link): its messages go, the outbox
    /// stays and is sent into the new one.
    pub async fn clear_messages(&self) -> Result<()> {
        self.clear([MESSAGES]).await
    }

    /// Empties the named object stores in one transaction.
    async fn clear<const N: usize>(&self, names: [&str; N]) -> Result<()> {
        let db = self.db()?;
        let tx = db.transaction(names).with_mode(TransactionMode::Readwrite).build().map_err(err)?;
        for name in names {
            tx.object_store(name).map_err(err)?.clear().map_err(err)?.await.map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// `Pigeon('forget')`: everything is cleared at once, then the database itself is
    /// deleted (which waits until no other tab holds it open).
    pub async fn forget(&self, site: &str) {
        let _ = self.clear([KV, MESSAGES, OUTBOX]).await;
        if let Ok(mut slot) = self.db.try_borrow_mut()
            && let Some(db) = slot.take()
        {
            db.close();
        }
        if let Ok(req) = Database::delete_by_name(&db_name(site)) {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = req.await;
            });
        }
    }
}
