//! The frames of Settings and Reports: a title bar, and the management module
//! (`inbox/manage`, a second wasm module) drawn into it, loaded the first time either opens,
//! through `window.pigeonManage` (`boot.js`). Until it has loaded the section says so; if it
//! cannot load, it says why.

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

/// Which part of the management module a frame shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Settings,
    Reports,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Settings => "settings",
            Part::Reports => "reports",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Part::Settings => "Settings",
            Part::Reports => "Reports",
        }
    }
}

#[component]
pub fn Managed(inbox: Inbox, on_close: impl Fn() + Copy + 'static, part: Part) -> impl IntoView {
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
        let args = js_sys::Array::of4(&el, &JsValue::from_str(&site), renamed.as_ref(), &JsValue::from_str(part.name()));
        let promise = open.apply(&JsValue::NULL, &args);
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
        <section class="team settings" aria-labelledby=format!("{}-title", part.name()) data-testid=part.name()>
            <div class="bar">
                <h2 id=format!("{}-title", part.name())>{part.title()}</h2>
                <button type="button" class="link" on:click=move |_| on_close()>"Close"</button>
            </div>
            <p class="muted" role="status" hidden=move || loaded.get() || failed.get()>{format!("Loading {}…", part.name())}</p>
            <p class="error" role="alert" data-testid=format!("{}-unavailable", part.name()) hidden=move || !failed.get()>
                {format!("{} could not be loaded: check the connection, then close and open {} again.", part.title(), part.title())}
            </p>
            <div node_ref=body></div>
        </section>
    }
}
