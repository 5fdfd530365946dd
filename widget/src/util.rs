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
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

/// Casts a JS value, or explains what it was not.
pub fn cast<T: JsCast>(v: wasm_bindgen::JsValue, what: &str) -> Result<T, String> {
    v.dyn_into::<T>().map_err(|_| format!("expected {what}"))
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

/// Sleeps that [`Wake::wake`] cuts short (the browser came back online, the widget is torn
/// down). All sleepers share one promise, so nothing piles up however long the relay is down.
#[derive(Default)]
pub struct Wake {
    now: RefCell<Option<(Promise, Function)>>,
}

impl Wake {
    pub async fn sleep(&self, ms: i32) {
        let woken = self.now.borrow_mut().get_or_insert_with(deferred).0.clone();
        let (timer, done) = deferred();
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&done, ms);
        until(Promise::race(&js_sys::Array::of2(&timer, &woken))).await;
    }

    /// Ends every sleep now.
    pub fn wake(&self) {
        if let Some((_, resolve)) = self.now.borrow_mut().take() {
            settle(&resolve, &JsValue::NULL);
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

/// Waits for the lock `name`, shared by all tabs of this origin (and queueing the callers of
/// this one). `None` when the browser has no Web Locks: then each goes ahead alone.
pub async fn lock(name: &str) -> Option<Lock> {
    let locks = js::get(&window().navigator(), "locks");
    let request = js::get(&locks, "request").dyn_into::<Function>().ok()?;
    let (decided, decide) = deferred();
    let (held, release) = deferred();
    let callback = Closure::once_into_js(move |_lock: JsValue| {
        settle(&decide, &JsValue::TRUE);
        held
    });
    request.call2(&locks, &JsValue::from_str(name), &callback).ok()?;
    until(decided).await;
    Some(Lock(release))
}
