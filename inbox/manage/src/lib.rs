//! The inbox's management views, a second wasm module the inbox page loads the first time
//! Settings or Reports opens (`window.pigeonManage` in `inbox/static/boot.js`): the
//! teammate's notifications, the shop's settings, their API tokens, (owners) signed identity
//! and webhooks; and the shop's reports. The
//! inbox's first load stays small while these grow; they use the inbox's calls to the relay
//! (`pigeon_inbox::api`) and its wire types.
//!
//! `open(parent, site, renamed)` draws them into `parent` (the inbox's Settings section);
//! `renamed(name)` tells the inbox the shop's new name. `shut()` removes them.

pub mod api_tokens;
pub mod identity;
pub mod reports;
pub mod settings;
pub mod webhooks;

use std::any::Any;
use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

thread_local! {
    /// What is drawn now (dropping it removes the views and their reactive state).
    static MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Draws `part` (`settings` or `reports`) for `site` into `parent`, in place of what was
/// drawn before.
#[wasm_bindgen]
pub fn open(parent: web_sys::HtmlElement, site: String, renamed: js_sys::Function, part: String) {
    shut();
    let renamed = move |name: String| {
        let _ = renamed.call1(&JsValue::NULL, &JsValue::from_str(&name));
    };
    let handle = if part == "reports" {
        leptos::mount::mount_to(parent, move || view! { <reports::Reports site=site /> }.into_any())
    } else {
        leptos::mount::mount_to(parent, move || view! { <settings::SettingsBody site=site renamed=renamed /> }.into_any())
    };
    MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(handle)));
}

/// Removes what `open` drew.
#[wasm_bindgen]
pub fn shut() {
    let was = MOUNTED.with(|m| m.borrow_mut().take());
    drop(was);
}
