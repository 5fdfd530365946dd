//! The relay's v1 contract, tested against the real relay on local workerd (wrangler dev),
//! with real Durable Objects and D1. One relay serves all tests of this binary; tests that
//! restart it start their own.

mod access;
mod agent;
mod bad_input;
mod concurrency;
mod cors;
mod email;
mod exactly_once;
mod live;
mod order;
mod privacy;
mod rate_limits;

use pigeon_tests::{Client, shared};

pub fn client() -> Client {
    Client::new(&shared().info.relay)
}

pub fn demo() -> (&'static str, &'static str) {
    let s = shared();
    (&s.info.site, &s.info.agent_key)
}
