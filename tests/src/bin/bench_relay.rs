//! `make bench-relay`: load on the real relay (wrangler dev on workerd) over HTTP and
//! WebSocket. For each scenario: send-to-ack (POST round trip) and send-to-delivered (until a
//! live socket of the conversation receives it) latency, p50 and p99, and sustained persisted
//! messages per second. Every acknowledged message is then checked to be stored exactly once.
//!
//!   bench-relay [--relay URL] [--seconds N] [--runs N] [--json PATH]
//! Each scenario runs `--runs` times (default 3); the table shows medians and the spread of
//! throughput, because this machine is shared and noisy.
//! Without --relay it starts its own relay with rate limits off (they would cap the load).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pigeon_protocol::ServerFrame;
use pigeon_tests::{Client, ShopperSession, Stack, StackOptions};
use serde_json::json;

struct Scenario {
    name: &'static str,
    conversations: usize,
    senders_per_conversation: usize,
}

const SCENARIOS: &[Scenario] = &[
    Scenario { name: "1 conversation, 1 sender", conversations: 1, senders_per_conversation: 1 },
    Scenario { name: "1 conversation, 16 senders", conversations: 1, senders_per_conversation: 16 },
    Scenario { name: "100 conversations, 1 sender each", conversations: 100, senders_per_conversation: 1 },
];

#[derive(Default)]
struct Samples {
    ack_ms: Vec<f64>,
    delivered_ms: Vec<f64>,
    acked: usize,
    errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(relay: &str, site: &str, s: &Scenario, seconds: f64) -> serde_json::Value {
    let client = Client::new(relay);
    let mut sessions = Vec::new();
    for _ in 0..s.conversations {
        sessions.push(client.create_conversation(site).await);
    }
    // client_id -> send instant, shared by senders and the listening sockets.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let samples: Arc<Mutex<Samples>> = Arc::default();

    let mut listeners = Vec::new();
    for session in &sessions {
        let mut live = session.live(0).await;
        live.backlog().await;
        let (sent, samples) = (sent.clone(), samples.clone());
        listeners.push(tokio::spawn(async move {
            while let Some(frame) = live.frame(Duration::from_secs(5)).await {
                if let ServerFrame::Message { message } = frame {
                    let at = sent.lock().unwrap().get(&message.client_id).copied();
                    if let Some(at) = at {
                        samples.lock().unwrap().delivered_ms.push(at.elapsed().as_secs_f64() * 1e3);
                    }
                }
            }
        }));
    }

    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut senders = Vec::new();
    for (ci, session) in sessions.iter().enumerate() {
        for si in 0..s.senders_per_conversation {
            let (session, sent, samples): (ShopperSession, _, _) = (session.clone(), sent.clone(), samples.clone());
            senders.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let client_id = format!("b{ci}-{si}-{n}");
                    let t = Instant::now();
                    sent.lock().unwrap().insert(client_id.clone(), t);
                    let a = session.post(&client_id, "How long does shipping to Oslo take?").await;
                    let mut smp = samples.lock().unwrap();
                    if a.status == 201 {
                        smp.acked += 1;
                        smp.ack_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    } else {
                        smp.errors += 1;
                    }
                }
            }));
        }
    }
    for t in senders {
        t.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for l in listeners {
        l.abort();
    }

    // Exactly once: everything acknowledged is stored, once, gap-free.
    let mut stored = 0;
    for session in &sessions {
        let mut after = 0;
        loop {
            let page = session.messages(after).await;
            if page.is_empty() {
                break;
            }
            for m in &page {
                assert_eq!(m.seq, after + 1, "seq has no gaps");
                after = m.seq;
            }
            stored += page.len();
        }
    }
    let mut smp = samples.lock().unwrap();
    assert_eq!(stored, smp.acked, "every acknowledged message is stored exactly once");
    smp.ack_ms.sort_by(f64::total_cmp);
    smp.delivered_ms.sort_by(f64::total_cmp);
    let row = json!({
        "scenario": s.name,
        "messages": smp.acked,
        "errors": smp.errors,
        "seconds": elapsed,
        "msgs_per_sec": smp.acked as f64 / elapsed,
        "ack_p50_ms": percentile(&smp.ack_ms, 0.50),
        "ack_p99_ms": percentile(&smp.ack_ms, 0.99),
        "delivered_p50_ms": percentile(&smp.delivered_ms, 0.50),
        "delivered_p99_ms": percentile(&smp.delivered_ms, 0.99),
        "delivered": smp.delivered_ms.len(),
    });
    row
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Medians over runs, with the throughput spread.
fn summarise(name: &str, runs: &[serde_json::Value]) -> serde_json::Value {
    let col = |k: &str| runs.iter().filter_map(|r| r[k].as_f64()).collect::<Vec<_>>();
    let rates = col("msgs_per_sec");
    let (lo, hi) = rates.iter().fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let m = |k: &str| median(col(k));
    println!(
        "| {:<34} | {:>5.0} ({:>3.0}–{:<3.0}) | {:>7.1} | {:>7.1} | {:>7.1} | {:>7.1} |",
        name, m("msgs_per_sec"), lo, hi, m("ack_p50_ms"), m("ack_p99_ms"), m("delivered_p50_ms"), m("delivered_p99_ms")
    );
    json!({
        "scenario": name, "runs": runs, "msgs_per_sec_median": m("msgs_per_sec"), "msgs_per_sec_min": lo, "msgs_per_sec_max": hi,
        "ack_p50_ms": m("ack_p50_ms"), "ack_p99_ms": m("ack_p99_ms"),
        "delivered_p50_ms": m("delivered_p50_ms"), "delivered_p99_ms": m("delivered_p99_ms"),
    })
}

/// The platform's own ceiling on this machine: a route that touches no Durable Object or
/// D1, with 16 requests in flight. Messages cannot go faster than this.
async fn floor(relay: &str, seconds: f64) -> serde_json::Value {
    let client = Client::new(relay);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    assert_eq!(c.get("/v1/health", None).await.status, 200);
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<f64> = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let (rate, p50, p99) = (lat.len() as f64 / elapsed, percentile(&lat, 0.5), percentile(&lat, 0.99));
    json!({ "msgs_per_sec": rate, "ack_p50_ms": p50, "ack_p99_ms": p99 })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let json_path = arg("--json").unwrap_or_else(|| pigeon_tests::root().join("target/bench/relay.json").to_string_lossy().into());

    let own_stack;
    let (relay, site) = match arg("--relay") {
        Some(relay) => (relay, arg("--site").unwrap_or_else(|| "demo".into())),
        None => {
            own_stack = Stack::start(StackOptions {
                vars: vec![("RATE_LIMITS".into(), "off".into())],
                log_level: Some("warn".into()),
                ..Default::default()
            });
            (own_stack.info.relay.clone(), own_stack.info.site.clone())
        }
    };
    println!("relay {relay}, {seconds} s per scenario, median of {runs} runs, {} cores; latencies in ms", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("| {:<34} | {:<17} | {:>7} | {:>7} | {:>7} | {:>7} |", "scenario", "msgs/s (min–max)", "ack p50", "ack p99", "dlv p50", "dlv p99");
    println!("|{:-<36}|{:-<19}|{:->9}|{:->9}|{:->9}|{:->9}|", "", "", "", "", "", "");
    let mut floor_runs = Vec::new();
    for _ in 0..runs {
        floor_runs.push(floor(&relay, seconds).await);
    }
    let mut rows = vec![summarise("floor: GET /v1/health, 16 in flight", &floor_runs)];
    for s in SCENARIOS {
        let mut results = Vec::new();
        for _ in 0..runs {
            results.push(run(&relay, &site, s, seconds).await);
        }
        rows.push(summarise(s.name, &results));
    }
    let report = json!({ "relay": rows, "unit": "ms", "seconds_per_scenario": seconds });
    if let Some(dir) = std::path::Path::new(&json_path).parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("written to {json_path}");
}
