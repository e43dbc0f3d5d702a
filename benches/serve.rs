//! `hoist serve` under a bounded local load: API throughput and latency (p50/p99) for listing
//! runs, reading a run's events and streaming them (server-sent events), and the server's
//! memory with 1,000 runs in its history — on SQLite and, when `HOIST_TEST_POSTGRES` names a
//! server, on PostgreSQL in the same session, side by side.
//!
//! `cargo bench -p hoist --bench serve` (release build). Every load loop is bounded in count
//! and time; all traffic stays on 127.0.0.1. Figures go to stdout and target/bench-serve.json.

#[path = "../tests/support/serve.rs"]
mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Serve, agent};

const ADMIN_PW: &str = "bench-admin-password";
const RUNS: usize = 1000;
const CLIENTS: usize = 16;
const MAX_REQUESTS: usize = 20_000;
const MAX_TIME: Duration = Duration::from_secs(15);

fn start(dir: &Path, db: &str) -> Serve {
    let p = dir.join("proj");
    support::project(
        &p,
        &[
            (
                "site.yml",
                "    - command: echo one\n    - command: echo two\n    - debug: msg=three\n    - set_fact: { x: 4 }\n    - debug: var=x\n",
            ),
            (
                "ticker.yml",
                "    - pause: { seconds: 1 }\n    - command: sleep 0.02\n      loop: \"{{ range(100) | list }}\"\n",
            ),
        ],
    );
    Serve::start(
        &format!("bench={}", p.display()),
        db,
        ADMIN_PW,
        &["--max-runs", "4"],
    )
}

fn call(
    a: &ureq::Agent,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    support::request(a, &format!("{base}{path}"), method, token, body.as_ref())
}

/// Queues `RUNS` runs and waits until every one has ended; returns runs per second.
fn seed(s: &Serve, token: &str) -> f64 {
    let a = agent();
    let t0 = Instant::now();
    for _ in 0..RUNS {
        let (st, body) = call(
            &a,
            &s.base,
            "POST",
            "/api/v1/runs",
            Some(token),
            Some(json!({"project": "bench", "playbook": "site.yml", "inventory": "inventory.yml"})),
        );
        assert_eq!(st, 201, "{body}");
    }
    loop {
        // Both pages of the history (ids 1000..501 and 500..1) are all done.
        let done = [
            "/api/v1/runs?limit=500",
            "/api/v1/runs?limit=500&before=501",
        ]
        .iter()
        .all(|page| {
            let (_, body) = call(&a, &s.base, "GET", page, Some(token), None);
            let runs: Vec<Value> = serde_json::from_str(&body).unwrap();
            runs.len() == 500 && runs.iter().all(|r| r["status"] == "ok")
        });
        if done {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "seeding took over 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    RUNS as f64 / t0.elapsed().as_secs_f64()
}

struct Load {
    requests: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// `CLIENTS` clients each requesting `path(i)` until `MAX_REQUESTS` in all or `MAX_TIME`.
fn load(
    s: &Serve,
    token: &str,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
    check: fn(&str) -> bool,
) -> Load {
    let issued = Arc::new(AtomicUsize::new(0));
    let path = Arc::new(path);
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        let (issued, path, base, token) = (
            issued.clone(),
            path.clone(),
            s.base.clone(),
            token.to_string(),
        );
        handles.push(std::thread::spawn(move || {
            let a = agent();
            let mut lat = Vec::new();
            loop {
                let i = issued.fetch_add(1, Ordering::SeqCst);
                if i >= MAX_REQUESTS || t0.elapsed() > MAX_TIME {
                    break;
                }
                let t = Instant::now();
                let (st, body) = call(&a, &base, "GET", &path(i), Some(&token), None);
                lat.push(t.elapsed());
                assert!(
                    st == 200 && check(&body),
                    "{} answered {st}: {}",
                    path(i),
                    &body[..body.len().min(300)]
                );
            }
            lat
        }));
    }
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    lat.sort();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    Load {
        requests: lat.len(),
        per_sec: lat.len() as f64 / wall,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    }
}

/// Viewers following one run live.
const VIEWERS: usize = 64;

/// Starts a run of ticker.yml through `via` and has one viewer per entry of `bases` follow it
/// (`/stream`) from before it starts; each must get every event in order and the `end`.
/// Returns what each viewer saw: (seq, time since the run was started).
fn follow(via: &Serve, bases: &[String], token: &str) -> Vec<Vec<(i64, Duration)>> {
    let a = agent();
    let (st, body) = call(
        &a,
        &via.base,
        "POST",
        "/api/v1/runs",
        Some(token),
        Some(json!({"project": "bench", "playbook": "ticker.yml", "inventory": "inventory.yml"})),
    );
    assert_eq!(st, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let t0 = Instant::now();
    let viewers: Vec<_> = bases
        .iter()
        .map(|base| {
            let (base, token) = (base.clone(), token.to_string());
            std::thread::spawn(move || {
                use std::io::BufRead;
                let a = agent();
                let mut r = a
                    .get(format!("{base}/api/v1/runs/{id}/stream"))
                    .header("authorization", format!("Bearer {token}"))
                    .call()
                    .expect("stream");
                let mut seen = Vec::new();
                let mut ended = false;
                for line in std::io::BufReader::new(r.body_mut().as_reader()).lines() {
                    let line = line.expect("stream line");
                    if let Some(seq) = line.strip_prefix("id: ") {
                        seen.push((seq.parse::<i64>().unwrap(), t0.elapsed()));
                    } else if line == "event: end" {
                        ended = true;
                    }
                    if ended && line.starts_with("data: ") {
                        break;
                    }
                }
                assert!(ended, "a viewer saw the end");
                seen
            })
        })
        .collect();
    let seen: Vec<Vec<(i64, Duration)>> = viewers.into_iter().map(|v| v.join().unwrap()).collect();
    let n = seen[0].len();
    for v in &seen {
        let seqs: Vec<i64> = v.iter().map(|(q, _)| *q).collect();
        assert_eq!(
            seqs,
            (1..=n as i64).collect::<Vec<_>>(),
            "every viewer gets every event, in order"
        );
    }
    seen
}

/// For each event produced once every viewer was connected: the time from the first viewer of
/// `from` receiving it to the last viewer of `to` having it (p50, p99, max in ms). Each viewer's
/// first event marks its connection; the run's first task is a 1 s pause to leave time for
/// that, so these measure live delivery rather than a late viewer's catch-up from the history.
fn lag(from: &[Vec<(i64, Duration)>], to: &[Vec<(i64, Duration)>]) -> Value {
    let all_connected = from
        .iter()
        .chain(to)
        .map(|v| v[0].1)
        .max()
        .unwrap_or_default();
    let n = from[0].len();
    let mut lags: Vec<f64> = (0..n)
        .filter_map(|k| {
            let first = from.iter().map(|v| v[k].1).min()?;
            let last = to.iter().map(|v| v[k].1).max()?;
            (first > all_connected).then(|| last.saturating_sub(first).as_secs_f64() * 1000.0)
        })
        .collect();
    assert!(
        lags.len() >= 100,
        "the loop's events were all live: {}",
        lags.len()
    );
    lags.sort_by(f64::total_cmp);
    let m = lags.len();
    let pct = |p: f64| lags[((m as f64 * p) as usize).min(m - 1)];
    json!({"events": n, "live_events": m, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": lags[m - 1]})
}

/// `VIEWERS` viewers of one instance follow one run: the spread between the first and the last
/// viewer receiving each event, i.e. the fan-out's lag.
fn live_fanout(s: &Serve, token: &str) -> Value {
    let seen = follow(s, &vec![s.base.clone(); VIEWERS], token);
    let mut v = lag(&seen, &seen);
    v["viewers"] = json!(VIEWERS);
    v
}

/// A run executing on instance `a` followed by half the viewers on `a` and half on `b` (which
/// runs nothing, `--max-runs 0`): how much later than the first viewer on `a` the last viewer
/// on `b` receives each event, i.e. the delivery across instances through the database.
fn across_instances(a: &Serve, b: &Serve, token: &str) -> Value {
    let half = VIEWERS / 2;
    let mut bases = vec![a.base.clone(); half];
    bases.extend(vec![b.base.clone(); half]);
    let seen = follow(a, &bases, token);
    let mut v = lag(&seen[..half], &seen[half..]);
    v["viewers"] = json!(VIEWERS);
    v
}

fn bench(backend: &str, db: &str, dir: &Path) -> Value {
    let s = start(dir, db);
    let a = agent();
    let (_, body) = call(
        &a,
        &s.base,
        "POST",
        "/api/v1/login",
        None,
        Some(json!({"name": "admin", "password": ADMIN_PW})),
    );
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (idle_rss, _) = s.memory();
    eprintln!("[{backend}] seeding {RUNS} runs (real playbook runs on localhost)…");
    let seeded = seed(&s, &token);
    let (_, body) = call(
        &a,
        &s.base,
        "GET",
        "/api/v1/runs/1/events",
        Some(&token),
        None,
    );
    let events_per_run = serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    let (rss_history, _) = s.memory();
    eprintln!("[{backend}] load: run listing…");
    let list = load(
        &s,
        &token,
        |_| "/api/v1/runs?limit=50".into(),
        |b| b.starts_with('['),
    );
    eprintln!("[{backend}] load: run events…");
    let events = load(
        &s,
        &token,
        |i| format!("/api/v1/runs/{}/events", 1 + (i * 7919) % RUNS),
        |b| b.starts_with('['),
    );
    eprintln!("[{backend}] load: event streams (SSE)…");
    let stream = load(
        &s,
        &token,
        |i| format!("/api/v1/runs/{}/stream", 1 + (i * 7919) % RUNS),
        |b| b.contains("event: end"),
    );
    eprintln!("[{backend}] live: {VIEWERS} viewers follow one run…");
    let live = live_fanout(&s, &token);
    let (rss_after, peak) = s.memory();
    // Several instances share PostgreSQL: a second one that only serves viewers.
    let across = (backend == "postgres").then(|| {
        eprintln!("[{backend}] live: viewers on a second instance follow a run of the first…");
        let b = Serve::start(
            &format!("bench={}", dir.join("proj").display()),
            db,
            ADMIN_PW,
            &["--max-runs", "0", "--instance", "viewers"],
        );
        across_instances(&s, &b, &token)
    });
    let fig = |l: &Load| json!({"requests": l.requests, "per_sec": l.per_sec, "p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "max_ms": l.max_ms});
    json!({
        "backend": backend,
        "runs": RUNS,
        "events_per_run": events_per_run,
        "seed_runs_per_sec": seeded,
        "rss_kib_idle": idle_rss,
        "rss_kib_with_history": rss_history,
        "rss_kib_after_load": rss_after,
        "peak_rss_kib": peak,
        "list_runs": fig(&list),
        "run_events": fig(&events),
        "event_stream": fig(&stream),
        "live_fanout": live,
        "across_instances": across,
    })
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let mut results = Vec::new();
    let d = tempfile::tempdir().unwrap();
    let sqlite_dir = d.path().join("sqlite");
    results.push(bench(
        "sqlite",
        &sqlite_dir.join("hoist.db").display().to_string(),
        &sqlite_dir,
    ));
    if let Ok(base) = std::env::var("HOIST_TEST_POSTGRES") {
        let name = format!("hoist_bench_{}", std::process::id());
        let mut c = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
            .expect("PostgreSQL");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        // HOIST_BENCH_PG_PARAMS: the URL's query, e.g. `sslmode=disable` to measure without TLS.
        let params = std::env::var("HOIST_BENCH_PG_PARAMS")
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        results.push(bench(
            "postgres",
            &format!("{base}/{name}{params}"),
            &d.path().join("pg"),
        ));
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
    println!(
        "\nhoist serve, {CLIENTS} clients on loopback, at most {MAX_REQUESTS} requests or {} s per load, {RUNS} runs in history:",
        MAX_TIME.as_secs()
    );
    println!(
        "{:<10} {:<14} {:>10} {:>9} {:>9} {:>9}",
        "backend", "endpoint", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    for r in &results {
        for (name, key) in [
            ("list runs", "list_runs"),
            ("run events", "run_events"),
            ("SSE stream", "event_stream"),
        ] {
            let f = &r[key];
            println!(
                "{:<10} {:<14} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
                r["backend"].as_str().unwrap(),
                name,
                f["per_sec"].as_f64().unwrap(),
                f["p50_ms"].as_f64().unwrap(),
                f["p99_ms"].as_f64().unwrap(),
                f["max_ms"].as_f64().unwrap()
            );
        }
        let live = &r["live_fanout"];
        println!(
            "{:<10} live: {} viewers each got all {} events of a running run in order; over the {} produced while all were connected, lag between the first and the last viewer per event: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            r["backend"].as_str().unwrap(),
            live["viewers"],
            live["events"],
            live["live_events"],
            live["p50_ms"].as_f64().unwrap(),
            live["p99_ms"].as_f64().unwrap(),
            live["max_ms"].as_f64().unwrap(),
        );
        let across = &r["across_instances"];
        if !across.is_null() {
            println!(
                "{:<10} across instances: {} viewers, half on the instance running the run, half on another; over {} live events, the last viewer on the other instance had each event p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms after the first viewer on the running one",
                r["backend"].as_str().unwrap(),
                across["viewers"],
                across["live_events"],
                across["p50_ms"].as_f64().unwrap(),
                across["p99_ms"].as_f64().unwrap(),
                across["max_ms"].as_f64().unwrap(),
            );
        }
        println!(
            "{:<10} memory: {:.1} MiB idle, {:.1} MiB with {RUNS} runs ({} events each), {:.1} MiB after the load, peak {:.1} MiB; seeded {:.0} runs/s",
            r["backend"].as_str().unwrap(),
            r["rss_kib_idle"].as_f64().unwrap() / 1024.0,
            r["rss_kib_with_history"].as_f64().unwrap() / 1024.0,
            r["events_per_run"],
            r["rss_kib_after_load"].as_f64().unwrap() / 1024.0,
            r["peak_rss_kib"].as_f64().unwrap() / 1024.0,
            r["seed_runs_per_sec"].as_f64().unwrap(),
        );
    }
    if results.len() == 2 {
        for key in ["list_runs", "run_events", "event_stream"] {
            println!(
                "postgres/sqlite {key}: throughput {:.2}x, p99 {:.2}x",
                results[1][key]["per_sec"].as_f64().unwrap()
                    / results[0][key]["per_sec"].as_f64().unwrap(),
                results[1][key]["p99_ms"].as_f64().unwrap()
                    / results[0][key]["p99_ms"].as_f64().unwrap()
            );
        }
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-serve.json");
    let _ = std::fs::write(&out, serde_json::to_string_pretty(&json!(results)).unwrap());
    println!("figures: {}", out.display());
}
