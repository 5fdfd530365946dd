//! Pigeon's chat panel. The loader (`loader/pigeon.js`) draws the launcher and imports this
//! module only when the shopper shows intent (or when idle, if this browser already has a
//! thread); `mount` then restores the thread from IndexedDB and renders the panel into the
//! loader's Shadow DOM.

mod api;
mod i18n;
pub mod js;
pub mod links;
mod live;
mod outbox;
mod panel;
mod session;
mod socket;
pub mod store;
mod sync;
mod tabs;
pub mod thread;
mod util;
pub mod wire;

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;
use pigeon_protocol::{Context, Page, validate};
use wasm_bindgen::prelude::*;

use crate::api::Api;
use crate::sync::Engine;

/// What the loader holds after mounting: commands from `Pigeon(...)` go through it.
#[wasm_bindgen]
pub struct Widget {
    engine: Rc<Engine>,
    open: RwSignal<bool>,
}

fn hook(hooks: &JsValue, name: &str) -> Option<js_sys::Function> {
    js_sys::Reflect::get(hooks, &name.into()).ok().and_then(|f| f.dyn_into().ok())
}

/// Only colours, so a site's setting can never inject other CSS.
fn safe_color(c: &str) -> bool {
    c.len() <= 9 && c.starts_with('#') && c.len() >= 4 && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `performance.mark(name)`, if the browser has it.
pub(crate) fn mark(name: &str) {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    if let Some(mark) = performance.as_ref().and_then(|p| js_sys::Reflect::get(p, &"mark".into()).ok()).and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = mark.call1(performance.as_ref().unwrap(), &name.into());
    }
}

/// The token of an email's "Continue the conversation" link (`#pigeon-resume=<token>`),
/// taken out of the address bar so it is not bookmarked or shared by accident.
fn take_resume_token() -> Option<String> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let (page, fragment) = href.split_once('#')?;
    let token = fragment.split('&').find_map(|p| p.strip_prefix("pigeon-resume="))?;
    let _ = window.history().ok()?.replace_state_with_url(&JsValue::NULL, "", Some(page));
    (!token.is_empty() && token.len() <= 128 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')).then(|| token.to_owned())
}

/// Renders the panel into `container` (inside the Shadow DOM). `hooks`: `{on_close(),
/// on_unread(n)}`. Resolves once the thread from IndexedDB is on screen.
#[wasm_bindgen]
pub async fn mount(container: web_sys::HtmlElement, relay: String, site: String, hooks: JsValue) -> Widget {
    // For `make bench`: restore time is measured from here.
    mark("pigeon:mount");
    let site_config = RwSignal::new(None);
    let open = RwSignal::new(false);
    let doc_lang = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()).map(|e| e.get_attribute("lang").unwrap_or_default()).unwrap_or_default();
    let lang = i18n::Lang::pick(&doc_lang, &web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_default());
    let engine = Engine::start(Api { relay, site }, take_resume_token(), i18n::words(lang)).await;

    let on_close = hook(&hooks, "on_close").unwrap_or_else(|| js_sys::Function::new_no_args(""));
    let on_unread = hook(&hooks, "on_unread");
    let host = container.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok().map(|r| r.host());
    {
        let api = engine.api.clone();
        spawn_local(async move {
            if let Some(cfg) = api.site_config().await.ok().as_ref().and_then(wire::site) {
                if let Some(host) = host.and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok())
                    && safe_color(&cfg.brand_color)
                {
                    let _ = host.style().set_property("--pg-brand", &cfg.brand_color);
                }
                site_config.set(Some(cfg));
            }
        });
    }
    let view_engine = engine.clone();
    let root: web_sys::Element = container.clone().into();
    leptos::mount::mount_to(container, move || {
        let props = panel::PanelProps { engine: view_engine.clone(), site: site_config, lang, open, on_close: on_close.clone(), on_unread: on_unread.clone(), root: root.clone() };
        panel::Panel(props)
    })
    .forget();
    Widget { engine, open }
}

#[wasm_bindgen]
impl Widget {
    /// The loader shows or hides the panel.
    pub fn set_open(&self, open: bool) {
        self.open.set(open);
    }

    /// `Pigeon('cart', cart)`. An invalid cart is dropped with a console warning, so the
    /// shopper's messages are never refused because of it.
    pub fn set_cart(&self, cart: JsValue) {
        if cart.is_null() || cart.is_undefined() {
            return self.engine.set_cart(None);
        }
        let valid = wire::cart(&cart).filter(|c| validate::context(&Context { cart: Some(c.clone()), ..Default::default() }).is_ok());
        match valid {
            Some(c) => self.engine.set_cart(Some(c)),
            None => web_sys::console::warn_1(&"Pigeon: ignored a cart that does not match {currency, total, items:[{name, quantity, unit_price}]}".into()),
        }
    }

    /// `Pigeon('page', {url?, title?})`: for single-page shops that change page without a load.
    pub fn set_page(&self, page: JsValue) {
        let get = |k: &str| js_sys::Reflect::get(&page, &k.into()).ok().and_then(|v| v.as_string());
        let current = sync::page_context().page;
        self.engine.set_page(Page { url: get(wire::field::URL).unwrap_or(current.url), title: get(wire::field::TITLE).unwrap_or(current.title), referrer: current.referrer });
    }

    /// `Pigeon('forget')`: erases the thread on the relay (unless `erase` is false: a signed-in
    /// customer logging out keeps theirs) and in this browser, and tears the engine down (the
    /// loader drops this panel and mounts a new one when the shopper comes back; the old view
    /// stays inert in memory: unmounting it would cost more code than it frees).
    pub fn forget(&self, erase: bool) -> js_sys::Promise {
        let engine = self.engine.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            engine.forget(erase).await.map(|()| JsValue::TRUE).map_err(|e| match e {
                api::ApiError::Offline => JsValue::from_str("Pigeon: the relay could not be reached; nothing was erased."),
                api::ApiError::Relay { message, .. } => JsValue::from_str(&message),
            })
        })
    }
}
