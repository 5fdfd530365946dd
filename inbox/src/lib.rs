//! Pigeon's inbox for merchants, served by the relay at `/inbox/`: sign in with a link by
//! email, see the site's conversations live, answer with the shopper's page and cart in view.
//! Leptos (client-side rendering); the protocol crate's types on the wire.

pub mod api;
pub mod keys;
mod live;
pub mod model;
mod replies;
mod search;
mod state;
mod store;
pub mod view;
mod manage;

#[cfg(feature = "app")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(view::App);
}
