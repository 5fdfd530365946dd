//! Settings' frame: its title bar, and the management module (`inbox/manage`, a second wasm
//! module) drawn into it when it first opens, through `window.pigeonManage` (`boot.js`).
//! Until it has loaded the section says so; if it cannot load, it says why.

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use crate::state::Inbox;

/// `window.pigeonManage[name]`, if boot.js set it up.
fn manage_fn(name: &str) -> Option<js_sys::Function> {
    let manage = js_sys::Reflect::get(&js_sys::global(), &"pigeonManage".into()).ok()?;
    js_sys::Reflect::get(&manage, &name.into()).ok()?.dyn_into().ok()
}

thread_local! {
    /// Called with the shop's new name when Settings saves one (one at a time).
    static RENAMED: std::cell::RefCell<Option<Closure<dyn Fn(String)>>> = const { std::cell::RefCell::new(None) };
}

#[component]
pub fn SettingsView(inbox: Inbox, on_close: impl Fn() + Copy + 'static) -> impl IntoView {
    let body = NodeRef::<Div>::new();
    let loaded = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let site = inbox.site.get_untracked();
    Effect::new(move || {
        let Some(el) = body.get() else { return };
        let renamed = Closure::<dyn Fn(String)>::new(move |name: String| {
            let site = inbox.site.get_untracked();
            inbox.me.update(|m| {
                if let Some(x) = m.sites.iter_mut().find(|x| x.site == site) {
                    x.site_name = name.clone();
                }
            });
        });
        let Some(open) = manage_fn("open") else { return failed.set(true) };
        let promise = open.call3(&JsValue::NULL, &el, &JsValue::from_str(&site), renamed.as_ref());
        RENAMED.with(|r| *r.borrow_mut() = Some(renamed));
        spawn_local(async move {
            let done = match promise {
                Ok(p) => JsFuture::from(js_sys::Promise::from(p)).await.is_ok(),
                Err(_) => false,
            };
            if done { loaded.set(true) } else { failed.set(true) }
        });
    });
    on_cleanup(|| {
        if let Some(shut) = manage_fn("shut") {
            let _ = shut.call0(&JsValue::NULL);
        }
    });
    view! {
        <section class="team settings" aria-labelledby="settings-title" data-testid="settings">
            <div class="bar">
                <h2 id="settings-title">"Settings"</h2>
                <button type="button" class="link" on:click=move |_| on_close()>"Close"</button>
            </div>
            <p class="muted" role="status" hidden=move || loaded.get() || failed.get()>"Loading settings…"</p>
            <p class="error" role="alert" data-testid="settings-unavailable" hidden=move || !failed.get()>
                "Settings could not be loaded: check the connection, then close and open Settings again."
            </p>
            <div node_ref=body></div>
        </section>
    }
}
