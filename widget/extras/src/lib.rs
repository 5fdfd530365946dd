//! What few shops need, kept out of the widget's first load: the loader imports this module
//! (`/widget/pigeon_extras.js`) before the panel first shows on a page that called
//! `Pigeon('identify', ...)` (see [`identity`]), and the first time the shopper opens the
//! panel on a page whose script tag says `data-platform="shopify"` or `"woocommerce"`.
//!
//! With `data-platform`, it reads the shop system's
//! cart from the shop's own origin, hands it to the widget as `Pigeon('cart', ...)`, and reads
//! it again whenever the page changes the cart (seen as the page's own requests, through a
//! `PerformanceObserver`), the panel opens again or the tab comes back into view. Nothing runs before the shopper
//! opens the panel.

pub mod carts;
pub mod files;
mod idb;
pub mod identity;
pub mod lifecycle;

use std::cell::Cell;

use carts::Platform;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

thread_local! {
    /// A read is due after the current one (the cart changed while it was being read).
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    static READING: Cell<bool> = const { Cell::new(false) };
    /// `Pigeon('forget')` was called: no cart is read until the panel opens again.
    static STOPPED: Cell<bool> = const { Cell::new(false) };
    /// [`carts`] ran.
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Reads follow each other at least this far apart, whatever asks for them.
const READ_GAP_MS: i32 = 1000;

/// A promise resolved after `ms`.
async fn pause(ms: i32) {
    let wait = js_sys::Promise::new(&mut |done, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&done, ms);
        }
    });
    let _ = JsFuture::from(wait).await;
}

fn warn(what: &str) {
    web_sys::console::warn_1(&format!("Pigeon: {what}").into());
}

/// The loader's script tag.
fn script() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.query_selector("script[data-site][data-platform]").ok().flatten()
}

/// Reads the shop system's cart from now on: the loader calls it when the panel opens on a
/// `data-platform` page (again at each opening: only the first call starts anything; the
/// module may have been loaded earlier, for signed identity).
#[wasm_bindgen]
pub fn carts() {
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    let Some(tag) = script() else { return };
    let named = tag.get_attribute("data-platform").unwrap_or_default();
    let Some(platform) = Platform::parse(&named) else {
        return warn(&format!("data-platform=\"{named}\" is not a shop system Pigeon reads carts from (shopify, woocommerce)."));
    };
    // `data-cart-url` for shops whose cart lives elsewhere (a WordPress in a folder).
    let path = tag.get_attribute("data-cart-url").unwrap_or_else(|| platform.cart_path(shopify_root().as_deref()));
    let path: &'static str = Box::leak(path.into_boxed_str());
    read(platform, path);
    watch(platform, path);
}

/// `Shopify.routes.root`, the storefront's root for the shopper's market.
fn shopify_root() -> Option<String> {
    let shopify = js_sys::Reflect::get(&js_sys::global(), &"Shopify".into()).ok()?;
    let routes = js_sys::Reflect::get(&shopify, &"routes".into()).ok()?;
    js_sys::Reflect::get(&routes, &"root".into()).ok()?.as_string()
}

/// Reads the cart and tells the widget; one read at a time, and one more if asked meanwhile.
fn read(platform: Platform, path: &'static str) {
    if STOPPED.with(Cell::get) {
        return;
    }
    if READING.with(|r| r.replace(true)) {
        return AGAIN.with(|a| a.set(true));
    }
    spawn_local(async move {
        loop {
            match fetch_cart(platform, path).await {
                Ok(cart) if !STOPPED.with(Cell::get) => tell(cart.as_ref()),
                Ok(_) => {}
                Err(why) => warn(&format!("the shop's cart could not be read from {path}: {why}")),
            }
            pause(READ_GAP_MS).await;
            if !AGAIN.with(|a| a.replace(false)) || STOPPED.with(Cell::get) {
                break;
            }
        }
        READING.with(|r| r.set(false));
    });
}


async fn fetch_cart(platform: Platform, path: &str) -> Result<Option<pigeon_protocol::Cart>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let origin = window.location().origin().map_err(|_| "no origin")?;
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(|_| "no headers")?;
    let _ = headers.set("accept", "application/json");
    init.set_headers(&headers);
    let answer = JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(|_| "no answer (offline?)")?;
    let answer: web_sys::Response = answer.dyn_into().map_err(|_| "not a response")?;
    if !answer.ok() {
        return Err(format!("HTTP {}", answer.status()));
    }
    let text = JsFuture::from(answer.text().map_err(|_| "no body")?).await.map_err(|_| "the body could not be read")?;
    platform.convert(&text.as_string().unwrap_or_default(), &origin)
}

/// `Pigeon('cart', cart)`, or `Pigeon('cart', null)` for an empty cart.
fn tell(cart: Option<&pigeon_protocol::Cart>) {
    let Ok(pigeon) = js_sys::Reflect::get(&js_sys::global(), &"Pigeon".into()).and_then(|p| p.dyn_into::<js_sys::Function>()) else { return };
    let value = match cart {
        Some(c) => serde_json::to_string(c).ok().and_then(|s| js_sys::JSON::parse(&s).ok()).unwrap_or(JsValue::NULL),
        None => JsValue::NULL,
    };
    let _ = pigeon.call2(&JsValue::NULL, &"cart".into(), &value);
}

/// Reads again after the page's own requests that change the cart (once the page has read
/// their answers: that is when the browser reports them), each time the panel opens, and when
/// the tab is shown again (the cart may have changed in another tab).
fn watch(platform: Platform, path: &'static str) {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let on_entries = Closure::<dyn Fn(web_sys::PerformanceObserverEntryList)>::new(move |list: web_sys::PerformanceObserverEntryList| {
        let changed = list.get_entries().iter().filter_map(|e| e.dyn_into::<web_sys::PerformanceEntry>().ok()).any(|e| {
            let url = e.name();
            platform.changes_cart(&url) && !carts::own_read(&url, &origin, path)
        });
        if changed {
            read(platform, path);
        }
    });
    if let Ok(observer) = web_sys::PerformanceObserver::new(on_entries.as_ref().unchecked_ref()) {
        observer.observe(&web_sys::PerformanceObserverInit::new(&js_sys::Array::of1(&"resource".into())));
    }
    on_entries.forget();
    // Each time the panel opens (the loader's `open` event). `Pigeon('forget')` stops the
    // watching until the shopper opens the panel again.
    if let Ok(pigeon) = js_sys::Reflect::get(&js_sys::global(), &"Pigeon".into()).and_then(|p| p.dyn_into::<js_sys::Function>()) {
        let on_open = Closure::<dyn Fn()>::new(move || {
            STOPPED.with(|s| s.set(false));
            read(platform, path);
        });
        let _ = pigeon.call3(&JsValue::NULL, &"on".into(), &"open".into(), on_open.as_ref());
        on_open.forget();
        let on_forget = Closure::<dyn Fn()>::new(|| STOPPED.with(|s| s.set(true)));
        let _ = pigeon.call3(&JsValue::NULL, &"on".into(), &"forget".into(), on_forget.as_ref());
        on_forget.forget();
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let on_shown = Closure::<dyn Fn()>::new(move || {
        if web_sys::window().and_then(|w| w.document()).is_some_and(|d| !d.hidden()) {
            read(platform, path);
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", on_shown.as_ref().unchecked_ref());
    on_shown.forget();
}
