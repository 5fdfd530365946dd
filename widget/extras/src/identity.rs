//! Signed identity in the browser: the loader calls [`identify`] when the page said who is
//! signed in (`Pigeon('identify', {id, signature, email?, name?})`) and the panel is about to
//! show. The relay checks the signature and answers which conversation this browser holds
//! for the customer (`POST /v1/sites/{site}/identify`); this module puts it in the widget's
//! storage and tells the site's tabs, exactly as a tab that opened an email's resume link
//! does, so the widget (which holds no identity code: its first load has a size budget)
//! shows the customer's thread. Conversations the widget starts later are reported to the
//! relay as the customer's, heard on the tabs' channel.
//!
//! It speaks the widget's storage and tab notes (`widget/src/store.rs`, `widget/src/tabs.rs`):
//! database `pigeon:<site>` version 1 with the object stores `kv`, `messages`, `outbox`; the
//! session record `{id, token}` under `kv` key `session`; notes `{type: "session", session}` and
//! `{type: "gone", id}` on the BroadcastChannel of the database's name.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode, MessageEvent};

const DB_VERSION: u32 = 1;
const STORES: [&str; 3] = ["kv", "messages", "outbox"];
const KV: &str = "kv";
const MESSAGES: &str = "messages";
const SESSION: &str = "session";
/// What goes with a conversation the browser lets go of (the outbox and the draft stay: they
/// go into the next one).
const WITH_CONVERSATION: [&str; 3] = ["session", "read_seq", "contact"];

/// Who is signed in, for the conversations the widget starts later.
struct Signed {
    relay: String,
    site: String,
    who: JsValue,
}

thread_local! {
    static SIGNED: RefCell<Option<Signed>> = const { RefCell::new(None) };
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

fn failed(what: &str) -> JsValue {
    JsValue::from_str(&format!("Pigeon: identify: {what}"))
}

/// Waits for `target`'s `name` event (`success`, `complete`), or fails on `error`/`abort`.
async fn event(target: &web_sys::EventTarget, name: &str) -> Result<(), JsValue> {
    let promise = js_sys::Promise::new(&mut |done, fail| {
        let _ = target.add_event_listener_with_callback(name, &done);
        let _ = target.add_event_listener_with_callback("error", &fail);
        let _ = target.add_event_listener_with_callback("abort", &fail);
    });
    JsFuture::from(promise).await.map(drop).map_err(|_| failed("the browser's storage refused"))
}

/// The site's database, made as the widget makes it if this is its first use.
async fn open(site: &str) -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or_else(|| failed("no IndexedDB"))?;
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
    // A tab's `forget` deletes the database: let go at once, so it is not blocked.
    let closing = db.clone();
    let on_version_change = Closure::once_into_js(move || closing.close());
    db.set_onversionchange(Some(on_version_change.unchecked_ref()));
    Ok(db)
}

fn tx(db: &IdbDatabase, names: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, JsValue> {
    let names: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    db.transaction_with_str_sequence_and_mode(&names, mode)
}

fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, JsValue> {
    tx.object_store(name)
}

/// The session record the browser holds, if any: `{id, token}`.
async fn held(db: &IdbDatabase) -> Result<Option<JsValue>, JsValue> {
    let tx = tx(db, &[KV], IdbTransactionMode::Readonly)?;
    let req: IdbRequest = store(&tx, KV)?.get(&SESSION.into())?;
    event(&tx, "complete").await?;
    let session = req.result()?;
    Ok((get(&session, "id").is_string() && get(&session, "token").is_string()).then_some(session))
}

/// Lets go of the held conversation (its messages, session, read position and contact) and
/// holds `next` instead, if any, in one transaction.
async fn switch(db: &IdbDatabase, next: Option<&JsValue>) -> Result<(), JsValue> {
    let tx = tx(db, &[KV, MESSAGES], IdbTransactionMode::Readwrite)?;
    let committed = event(&tx, "complete");
    store(&tx, MESSAGES)?.clear()?;
    let kv = store(&tx, KV)?;
    for key in WITH_CONVERSATION {
        kv.delete(&key.into())?;
    }
    if let Some(next) = next {
        kv.put_with_key(next, &SESSION.into())?;
    }
    committed.await
}

/// The site's tabs' channel, joined once; what the widget says there is listened to.
fn channel(site: &str) -> Option<BroadcastChannel> {
    CHANNEL.with(|c| {
        if c.borrow().is_none() {
            let joined = BroadcastChannel::new(&format!("pigeon:{site}")).ok()?;
            let on_note = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
                let note = ev.data();
                if get(&note, "type").as_string().as_deref() == Some("session") {
                    claim(get(&note, "session"));
                }
            });
            joined.set_onmessage(Some(on_note.as_ref().unchecked_ref()));
            on_note.forget();
            *c.borrow_mut() = Some(joined);
        }
        c.borrow().clone()
    })
}

/// A tab started (or opened) conversation `session` while a customer is signed in: the relay
/// makes it theirs if it is nobody's. The answer is not followed: the shopper is writing in it.
fn claim(session: JsValue) {
    let Some((relay, site, who)) = SIGNED.with(|s| s.borrow().as_ref().map(|s| (s.relay.clone(), s.site.clone(), s.who.clone()))) else { return };
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = ask(&relay, &site, &who, Some(&session)).await {
            web_sys::console::warn_1(&e);
        }
    });
}

/// `POST /v1/sites/{site}/identify`: the session to hold (`{id, token}`), `None` for none.
async fn ask(relay: &str, site: &str, who: &JsValue, held: Option<&JsValue>) -> Result<Option<JsValue>, JsValue> {
    let mut body = vec![("customer", who.clone())];
    if let Some(held) = held {
        body.push(("conversation", object(&[("id", get(held, "id")), ("token", get(held, "token"))])));
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    init.set_headers(&headers);
    init.set_body(&js_sys::JSON::stringify(&object(&body))?.into());
    let window = web_sys::window().ok_or_else(|| failed("no window"))?;
    let answer = JsFuture::from(window.fetch_with_str_and_init(&format!("{relay}/v1/sites/{site}/identify"), &init)).await.map_err(|_| failed("the relay could not be reached"))?;
    let answer: web_sys::Response = answer.dyn_into()?;
    if answer.status() == 204 {
        return Ok(None);
    }
    let json = JsFuture::from(answer.json()?).await.unwrap_or(JsValue::UNDEFINED);
    if !answer.ok() {
        let message = get(&get(&json, "error"), "message").as_string().unwrap_or_else(|| format!("HTTP {}", answer.status()));
        return Err(failed(&message));
    }
    let (id, token) = (get(&get(&json, "conversation"), "id"), get(&json, "token"));
    if !id.is_string() || !token.is_string() {
        return Err(failed("the relay's answer has no conversation"));
    }
    Ok(Some(object(&[("id", id), ("token", token)])))
}

/// `Pigeon('identify', who)`: holds the customer's conversation in this browser (or none, if
/// the one held was someone else's) before the panel shows it; `who` null (signed out) stops
/// claiming new conversations (the loader then clears the browser's thread). When the relay
/// refuses (a wrong signature, identity off) it says why in the console and rejects.
#[wasm_bindgen]
pub async fn identify(relay: String, site: String, who: JsValue) -> Result<(), JsValue> {
    if who.is_null() || who.is_undefined() {
        SIGNED.with(|s| s.borrow_mut().take());
        return Ok(());
    }
    SIGNED.with(|s| s.borrow_mut().take());
    let db = open(&site).await?;
    let held = held(&db).await?;
    let next = ask(&relay, &site, &who, held.as_ref()).await;
    let same = |a: &JsValue, b: &JsValue| get(a, "id") == get(b, "id") && get(a, "token") == get(b, "token");
    let result = match (&next, &held) {
        (Ok(Some(next)), Some(held)) if same(next, held) => Ok(()),
        (Ok(Some(next)), _) => {
            let r = switch(&db, Some(next)).await;
            if r.is_ok()
                && let Some(ch) = channel(&site)
            {
                let _ = ch.post_message(&object(&[("type", "session".into()), ("session", next.clone())]));
            }
            r
        }
        // Someone else's thread: this browser starts afresh for the customer.
        (Ok(None), Some(held)) => {
            let r = switch(&db, None).await;
            if r.is_ok()
                && let Some(ch) = channel(&site)
            {
                let _ = ch.post_message(&object(&[("type", "gone".into()), ("id", get(held, "id"))]));
            }
            r
        }
        (Ok(None), None) => Ok(()),
        (Err(e), _) => Err(e.clone()),
    };
    db.close();
    match &result {
        Ok(()) => {
            channel(&site);
            SIGNED.with(|s| *s.borrow_mut() = Some(Signed { relay, site, who }));
        }
        Err(e) => web_sys::console::warn_1(e),
    }
    result
}
