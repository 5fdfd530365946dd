//! The widget's storage as the extras read and change it (`widget/src/store.rs`): database
//! `pigeon:<site>` version 1 with the object stores `kv`, `messages`, `outbox`; the session
//! record `{id, token}` under `kv` key `session`.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransaction, IdbTransactionMode};

const DB_VERSION: u32 = 1;
const STORES: [&str; 3] = ["kv", "messages", "outbox"];
pub const KV: &str = "kv";
pub const MESSAGES: &str = "messages";
pub const OUTBOX: &str = "outbox";
pub const SESSION: &str = "session";

pub fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Waits for `target`'s `name` event (`success`, `complete`), or fails on `error`/`abort`.
pub async fn event(target: &web_sys::EventTarget, name: &str) -> Result<(), JsValue> {
    let promise = js_sys::Promise::new(&mut |done, fail| {
        let _ = target.add_event_listener_with_callback(name, &done);
        let _ = target.add_event_listener_with_callback("error", &fail);
        let _ = target.add_event_listener_with_callback("abort", &fail);
    });
    JsFuture::from(promise).await.map(drop).map_err(|_| JsValue::from_str("Pigeon: the browser's storage refused"))
}

/// The site's database, made as the widget makes it if this is its first use.
pub async fn open(site: &str) -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or_else(|| JsValue::from_str("Pigeon: no IndexedDB"))?;
    let req = factory.open_with_u32(&format!("pigeon:{site}"), DB_VERSION)?;
    let upgrade = Closure::once_into_js({
        let req = req.clone();
        move || {
            if let Some(db) = req.result().ok().and_then(|db| db.dyn_into::<IdbDatabase>().ok()) {
                for name in STORES {
                    let _ = db.create_object_store(name);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    event(&req, "success").await?;
    let db: IdbDatabase = req.result()?.dyn_into()?;
    let_go_on_delete(&db);
    Ok(db)
}

/// The site's database if the widget made it, without making it (an open that would create
/// it is called off): reading must not bring back a database `forget` just deleted.
pub async fn open_existing(site: &str) -> Result<Option<IdbDatabase>, JsValue> {
    let factory = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or_else(|| JsValue::from_str("Pigeon: no IndexedDB"))?;
    let req = factory.open(&format!("pigeon:{site}"))?;
    let call_off = Closure::once_into_js({
        let req = req.clone();
        move || {
            if let Some(t) = req.transaction() {
                let _ = t.abort();
            }
        }
    });
    req.set_onupgradeneeded(Some(call_off.unchecked_ref()));
    if event(&req, "success").await.is_err() {
        return Ok(None);
    }
    let db: IdbDatabase = req.result()?.dyn_into()?;
    let_go_on_delete(&db);
    Ok(Some(db))
}

/// A tab's `forget` deletes the database: let go at once, so it is not blocked.
fn let_go_on_delete(db: &IdbDatabase) {
    let closing = db.clone();
    let on_version_change = Closure::once_into_js(move || closing.close());
    db.set_onversionchange(Some(on_version_change.unchecked_ref()));
}

pub fn tx(db: &IdbDatabase, names: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, JsValue> {
    let names: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    db.transaction_with_str_sequence_and_mode(&names, mode)
}

pub fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, JsValue> {
    tx.object_store(name)
}

