//! The relay's v1 contract, tested against the real relay on local workerd (wrangler dev),
//! with real Durable Objects and D1. One relay (`shared`) serves most tests of this binary; a
//! second one (`knobs`) runs with test-only settings; tests that restart a relay start
//! their own.

mod access;
mod gone;
mod hygiene;
mod jobs;
mod lifecycle;
mod agent;
mod api_tokens;
mod bad_input;
mod concurrency;
mod cors;
mod edges;
mod email;
mod exactly_once;
mod files;
mod identity;
mod inbox;
mod live;
mod metrics;
mod order;
mod privacy;
mod rate_limits;
mod settings;
mod socket_send;
mod webhooks;

use std::sync::OnceLock;

use pigeon_tests::{Client, Stack, StackOptions, shared};

pub fn client() -> Client {
    Client::new(&shared().info.relay)
}

pub fn demo() -> (&'static str, &'static str) {
    let s = shared();
    (&s.info.site, &s.info.agent_key)
}

/// A second relay with test-only settings (all off in `wrangler.toml`): no rate limits (so
/// guesses meet the token check, not the limiter), each deferred job held open for
/// `JOB_HOLD_MS` after its work (so a message can arrive while it runs), live backlogs
/// capped at `BACKLOG_CAP` messages, and inbox sign-in links valid for 2 s.
pub fn knobs() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let vars = [
            ("RATE_LIMITS", "off".to_owned()),
            ("TEST_JOB_HOLD_MS", JOB_HOLD_MS.to_string()),
            ("LIVE_MAX_BACKLOG", BACKLOG_CAP.to_string()),
            ("SIGNIN_LINK_SECONDS", "2".to_owned()),
        ];
        Stack::start(StackOptions { vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), ..Default::default() })
    })
}

pub const JOB_HOLD_MS: u64 = 2_000;
pub const BACKLOG_CAP: u64 = 5;
