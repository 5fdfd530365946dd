use wasm_bindgen::JsCast;

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

/// A one-shot signal from a JS callback to an async task.
pub fn oneshot() -> (impl FnOnce() + 'static, impl std::future::Future<Output = ()>) {
    use std::{cell::RefCell, rc::Rc};
    let slot: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
    let fill = slot.clone();
    let promise = js_sys::Promise::new(&mut |resolve, _| *fill.borrow_mut() = Some(resolve));
    let fire = move || {
        if let Some(f) = slot.borrow_mut().take() {
            let _ = f.call0(&wasm_bindgen::JsValue::NULL);
        }
    };
    (fire, async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    })
}
