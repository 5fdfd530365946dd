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
//! session record `{id, token}` under `kv` key `session`; notes `{type: "session", session}`,
//! `{type: "gone", id}` and `{type: "forget"}` on the BroadcastChannel of the database's name.
//! Its own mark, `kv` key `customer` (the widget never reads it), says the browser's thread is
//! a signed-in customer's: signing out (`Pigeon('identify', null)`) clears only such a thread,
//! so a shop that says "nobody" on every page of an anonymous visitor erases nothing.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, IdbDatabase, IdbTransactionMode, MessageEvent};

use crate::idb::{KV, MESSAGES, OUTBOX, SESSION, event, get, object, open, store, tx};

/// This module's mark: the customer id whose thread the browser holds.
const CUSTOMER: &str = "customer";
/// What goes with a conversation the browser lets go of (the outbox and the draft stay: they
/// go into the next one, unless they were another customer's).
/// The conversations it followed (`lifecycle`'s earlier ones, with their tokens) and a skipped
/// rating go too: on a shared computer they may be another customer's.
const WITH_CONVERSATION: [&str; 5] = ["session", "read_seq", "contact", crate::lifecycle::EARLIER, crate::lifecycle::SKIPPED];
const DRAFT: &str = "draft";

/// Who is signed in, for the conversations the widget starts later.
struct Signed {
    relay: String,
    site: String,
    who: JsValue,
}

thread_local! {
    static SIGNED: RefCell<Option<Signed>> = const { RefCell::new(None) };
    /// Counts `identify` calls: an older one still waiting on the relay never signs anyone in.
    static CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

fn failed(what: &str) -> JsValue {
    JsValue::from_str(&format!("Pigeon: identify: {what}"))
}

/// The session record the browser holds (`{id, token}`), if any, and this module's mark.
async fn held(db: &IdbDatabase) -> Result<(Option<JsValue>, JsValue), JsValue> {
    let tx = tx(db, &[KV], IdbTransactionMode::Readonly)?;
    let kv = store(&tx, KV)?;
    let (session, mark) = (kv.get(&SESSION.into())?, kv.get(&CUSTOMER.into())?);
    event(&tx, "complete").await?;
    let session = session.result()?;
    let valid = get(&session, "id").is_string() && get(&session, "token").is_string();
    Ok((valid.then_some(session), mark.result()?))
}

/// What the browser holds changes, in one transaction (aborted whole if a step fails).
#[derive(Default)]
struct Switch<'a> {
    /// Let go of the held conversation: its messages, session, read position and contact.
    drop_held: bool,
    /// ... and of unsent messages and the draft (another customer's).
    drop_unsent: bool,
    /// Hold this session from now on.
    hold: Option<&'a JsValue>,
    /// This module's mark: the customer whose thread it is.
    customer: Option<JsValue>,
}

async fn switch(db: &IdbDatabase, change: Switch<'_>) -> Result<(), JsValue> {
    let tx = tx(db, &[KV, MESSAGES, OUTBOX], IdbTransactionMode::Readwrite)?;
    let committed = event(&tx, "complete");
    let steps = || -> Result<(), JsValue> {
        let kv = store(&tx, KV)?;
        if change.drop_held {
            store(&tx, MESSAGES)?.clear()?;
            for key in WITH_CONVERSATION {
                kv.delete(&key.into())?;
            }
        }
        if change.drop_unsent {
            store(&tx, OUTBOX)?.clear()?;
            kv.delete(&DRAFT.into())?;
        }
        if let Some(next) = change.hold {
            kv.put_with_key(next, &SESSION.into())?;
        }
        match &change.customer {
            Some(id) => kv.put_with_key(id, &CUSTOMER.into())?,
            None => kv.delete(&CUSTOMER.into())?,
        };
        Ok(())
    };
    if let Err(e) = steps() {
        let _ = tx.abort();
        return Err(e);
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
                match get(&note, "type").as_string().as_deref() {
                    Some("session") => claim(get(&note, "session")),
                    // Signed out (or forgotten) in another tab: nothing more is claimed here.
                    Some("forget") => drop(SIGNED.with(|s| s.borrow_mut().take())),
                    _ => {}
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
/// makes it theirs if it is nobody's, and the browser's thread gets this module's mark. The
/// answer is not followed otherwise: the shopper is writing in it.
pub(crate) fn claim(session: JsValue) {
    let Some((relay, site, who)) = SIGNED.with(|s| s.borrow().as_ref().map(|s| (s.relay.clone(), s.site.clone(), s.who.clone()))) else { return };
    wasm_bindgen_futures::spawn_local(async move {
        let claimed = async {
            if let Some((answer, _)) = ask(&relay, &site, &who, Some(&session)).await?
                && get(&answer, "id") == get(&session, "id")
            {
                let db = open(&site).await?;
                let marked = switch(&db, Switch { customer: Some(get(&who, "id")), ..Switch::default() }).await;
                db.close();
                marked?;
            }
            Ok::<(), JsValue>(())
        };
        if let Err(e) = claimed.await {
            web_sys::console::warn_1(&e);
        }
    });
}

/// `POST /v1/sites/{site}/identify`: the session to hold (`{id, token}`) and whether the one
/// held was another customer's; `None` for none.
async fn ask(relay: &str, site: &str, who: &JsValue, held: Option<&JsValue>) -> Result<Option<(JsValue, bool)>, JsValue> {
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
    let another_customers = get(&json, "held_another_customers").is_truthy();
    Ok(Some((object(&[("id", id), ("token", token)]), another_customers)))
}

/// `Pigeon('identify', who)`: holds the customer's conversation in this browser (or none, if
/// the one held was someone else's) before the panel shows it. When the relay refuses (a wrong
/// signature, identity off) it says why in the console and rejects. `who` null (signed out):
/// nothing more is claimed, and the answer says whether the browser's thread is a signed-in
/// customer's (the loader then clears it; an anonymous visitor's stays).
#[wasm_bindgen]
pub async fn identify(relay: String, site: String, who: JsValue) -> Result<bool, JsValue> {
    let call = CALLS.with(|c| c.replace(c.get() + 1) + 1);
    SIGNED.with(|s| s.borrow_mut().take());
    let db = open(&site).await?;
    let (held, mark) = match held(&db).await {
        Ok(found) => found,
        Err(e) => {
            db.close();
            return Err(e);
        }
    };
    if who.is_null() || who.is_undefined() {
        db.close();
        return Ok(!mark.is_undefined());
    }
    let customer = Some(get(&who, "id"));
    let result = match ask(&relay, &site, &who, held.as_ref()).await {
        Ok(Some((next, _))) if held.as_ref().is_some_and(|h| get(h, "id") == get(&next, "id") && get(h, "token") == get(&next, "token")) => {
            if mark == get(&who, "id") { Ok(()) } else { switch(&db, Switch { customer, ..Switch::default() }).await }
        }
        Ok(Some((next, another_customers))) => {
            let done = switch(&db, Switch { drop_held: true, drop_unsent: another_customers, hold: Some(&next), customer }).await;
            if done.is_ok()
                && let Some(ch) = channel(&site)
            {
                let _ = ch.post_message(&object(&[("type", "session".into()), ("session", next.clone())]));
            }
            done
        }
        // Someone else's thread (a shared computer): this browser starts afresh for the
        // customer, without the other's unsent messages.
        Ok(None) if held.is_some() => {
            let done = switch(&db, Switch { drop_held: true, drop_unsent: true, ..Switch::default() }).await;
            if done.is_ok()
                && let Some(ch) = channel(&site)
            {
                let _ = ch.post_message(&object(&[("type", "gone".into()), ("id", get(held.as_ref().unwrap_or(&JsValue::NULL), "id"))]));
            }
            done
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    db.close();
    match &result {
        // Unless a later call (a sign-out, another customer) came meanwhile.
        Ok(()) if CALLS.with(|c| c.get()) == call => {
            channel(&site);
            SIGNED.with(|s| *s.borrow_mut() = Some(Signed { relay, site, who }));
        }
        Ok(()) => {}
        Err(e) => web_sys::console::warn_1(e),
    }
    result.map(|()| false)
}
