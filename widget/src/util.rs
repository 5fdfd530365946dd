use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

use crate::js;

/// A fresh idempotency key for a message: 128 random bits, hex.
pub fn new_client_id() -> String {
    let mut buf = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut buf);
    }
    let mut id = String::new();
    for b in buf {
        for n in [b >> 4, b & 15] {
            id.push(char::from_digit(n.into(), 16).unwrap_or('0'));
        }
    }
    id
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}


/// A promise and the function that resolves it.
pub fn deferred() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    (promise, resolve.expect("the executor runs at once"))
}

/// Resolves `f` with `v` (a JS function cannot fail to be called with a value).
pub fn settle(f: &Function, v: &JsValue) {
    let _ = f.call1(&JsValue::NULL, v);
}

/// Waits for a promise made by [`deferred`]; `undefined` if it was rejected.
pub async fn until(p: Promise) -> JsValue {
    JsFuture::from(p).await.unwrap_or(JsValue::UNDEFINED)
}

/// Sleeps that [`Wake::wake`] cuts short (the browser came back online). Each sleeper leaves
/// the list when its sleep ends, so nothing piles up however long the relay is down.
#[derive(Default)]
pub struct Wake {
    sleepers: RefCell<Vec<Function>>,
}

impl Wake {
    pub async fn sleep(&self, ms: i32) {
        let (done, resolve) = deferred();
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        self.sleepers.borrow_mut().push(resolve.clone());
        until(done).await;
        self.sleepers.borrow_mut().retain(|f| *f != resolve);
    }

    /// Ends every sleep now.
    pub fn wake(&self) {
        for f in self.sleepers.take() {
            settle(&f, &JsValue::NULL);
        }
    }
}

/// A held Web Lock (`navigator.locks`), released by [`Lock::release`] or when the page goes
/// away.
pub struct Lock(Function);

impl Lock {
    pub fn release(&self) {
        settle(&self.0, &JsValue::NULL);
    }
}

/// Asks for the Web Lock `name`, shared by all tabs of this origin (and queueing the callers
/// of this one). Once it is held, `granted` runs and returns the promise it stays held until.
/// Returns the request's own promise (it rejects if the browser refuses); `None` when the
/// browser has no Web Locks, and then `granted` runs at once: everyone holds it.
pub fn request_lock(name: &str, granted: impl FnOnce() -> Promise + 'static) -> Option<Promise> {
    let locks = js::get(&window().navigator(), "locks");
    let Ok(request) = js::get(&locks, "request").dyn_into::<Function>() else {
        drop(granted()); // nothing to hold
        return None;
    };
    let callback = Closure::once_into_js(move |_lock: JsValue| granted());
    Some(request.call2(&locks, &JsValue::from_str(name), &callback).ok()?.unchecked_into())
}

/// Waits for the lock `name` (see [`request_lock`]). `None` when the browser has no Web Locks
/// or refuses (a sandboxed frame, say): then the caller goes ahead alone rather than wait
/// forever.
pub async fn lock(name: &str) -> Option<Lock> {
    let (decided, decide) = deferred();
    let (held, release) = deferred();
    let granted = decide.clone();
    let asked = request_lock(name, move || {
        settle(&granted, &JsValue::TRUE);
        held
    })?;
    let refused = Closure::once(move |_: JsValue| settle(&decide, &JsValue::FALSE));
    let _ = asked.catch(&refused);
    refused.forget();
    (until(decided).await == JsValue::TRUE).then_some(Lock(release))
}
