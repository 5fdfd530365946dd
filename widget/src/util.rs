use wasm_bindgen::JsCast;

/// A fresh idempotency key for a message: 128 random bits, hex.
pub fn new_client_id() -> String {
    let mut buf = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut buf);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

/// Casts a JS value, or explains what it was not.
pub fn cast<T: JsCast>(v: wasm_bindgen::JsValue, what: &str) -> Result<T, String> {
    v.dyn_into::<T>().map_err(|_| format!("expected {what}"))
}
