//! Pigeon's inbox for merchants, served by the relay at `/inbox/`: sign in with a link by
//! email, see the site's conversations live, answer with the shopper's page and cart in view.
//! Leptos (client-side rendering); the protocol crate's types on the wire.

mod api;
pub mod api_tokens;
pub mod keys;
mod live;
pub mod model;
mod replies;
mod search;
pub mod settings;
mod state;
mod store;
mod view;
pub mod webhooks;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(view::App);
}
