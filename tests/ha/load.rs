//! The load client of the HA proof: keeps writing and reading through the VIP while the stack
//! is upgraded and broken. Files over HTTPS (PUT then GET, the CA of the stack verified) and rows
//! over PostgreSQL (INSERT on the read-write port, SELECT on the read-only port). A request is a
//! logical operation retried for up to `deadline`: it fails only when no attempt succeeded in
//! that time; every attempt is recorded so interruptions can be measured. Bounded: it stops when
//! told to or after `max_ops` operations per worker, whichever comes first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    HttpWrite,
    HttpRead,
    PgWrite,
    PgRead,
}

/// Everything the workers report.
#[derive(Default)]
pub struct Record {
    /// Every attempt: when it ended, on which channel, whether it succeeded.
    pub attempts: Vec<(Instant, Channel, bool)>,
    /// Logical operations that never succeeded within the deadline: (channel, last error).
    pub failed_ops: Vec<(Channel, String)>,
    pub ok_ops: usize,
    /// Files whose PUT was acknowledged: (name, body).
    pub acked_files: Vec<(String, String)>,
    /// Rows whose INSERT was acknowledged (paths).
    pub acked_rows: Vec<String>,
    /// A read that returned other content than what was written.
    pub wrong_reads: Vec<String>,
}

pub struct Config {
    pub vip: String,
    pub ca_pem: Vec<u8>,
    pub pg_password: String,
    pub run_id: String,
    pub deadline: Duration,
    pub max_ops: usize,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    record: Arc<Mutex<Record>>,
    workers: Vec<JoinHandle<()>>,
}

/// An HTTPS agent that trusts only the stack's CA.
pub fn agent(ca_pem: &[u8]) -> ureq::Agent {
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca_pem)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
            _ => None,
        })
        .collect();
    assert!(!certs.is_empty(), "no certificate in the CA file");
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(Duration::from_secs(5)))
        .timeout_connect(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .new_agent()
}

pub fn pg_config(host: &str, port: u16, password: &str) -> postgres::Config {
    let mut c = postgres::Config::new();
    c.host(host)
        .port(port)
        .user("files_app")
        .password(password)
        .dbname("files")
        .connect_timeout(Duration::from_secs(2))
        .options("-c statement_timeout=5000");
    c
}

/// A tiny deterministic generator (no dependency, reproducible runs).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl Load {
    pub fn start(cfg: Config) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let record = Arc::new(Mutex::new(Record::default()));
        let cfg = Arc::new(cfg);
        let mut workers = Vec::new();
        for ch in [
            Channel::HttpWrite,
            Channel::HttpRead,
            Channel::PgWrite,
            Channel::PgRead,
        ] {
            let (stop, record, cfg) = (stop.clone(), record.clone(), cfg.clone());
            workers.push(std::thread::spawn(move || worker(ch, &cfg, &stop, &record)));
        }
        Load {
            stop,
            record,
            workers,
        }
    }

    /// Stops the workers and returns what they recorded.
    pub fn finish(self) -> Record {
        self.stop.store(true, Ordering::SeqCst);
        for w in self.workers {
            let _ = w.join();
        }
        std::mem::take(&mut *self.record.lock().unwrap())
    }
}

/// Retries `attempt` until it succeeds, the deadline passes, or the run stops.
fn op<T>(
    ch: Channel,
    cfg: &Config,
    stop: &AtomicBool,
    record: &Mutex<Record>,
    mut attempt: impl FnMut() -> Result<T, String>,
) -> Option<T> {
    let begun = Instant::now();
    loop {
        let r = attempt();
        let ok = r.is_ok();
        record
            .lock()
            .unwrap()
            .attempts
            .push((Instant::now(), ch, ok));
        match r {
            Ok(v) => {
                record.lock().unwrap().ok_ops += 1;
                return Some(v);
            }
            Err(e) => {
                if begun.elapsed() >= cfg.deadline {
                    record.lock().unwrap().failed_ops.push((ch, e));
                    return None;
                }
                // A stop during retries of a read is not a failure; a write keeps trying.
                if stop.load(Ordering::SeqCst) && matches!(ch, Channel::HttpRead | Channel::PgRead)
                {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn worker(ch: Channel, cfg: &Config, stop: &AtomicBool, record: &Mutex<Record>) {
    let agent = agent(&cfg.ca_pem);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ch as u64);
    let mut pg: Option<postgres::Client> = None;
    let base = format!("https://{}", cfg.vip);
    for n in 0..cfg.max_ops {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match ch {
            Channel::HttpWrite => {
                let name = format!("{}-{n}.txt", cfg.run_id);
                let body = format!("{} {n} {:016x}\n", cfg.run_id, rng.next());
                let url = format!("{base}/files/{name}");
                let done = op(ch, cfg, stop, record, || {
                    let r = agent
                        .put(&url)
                        .send(body.as_bytes())
                        .map_err(|e| e.to_string())?;
                    match r.status().as_u16() {
                        200..=204 => Ok(()),
                        s => Err(format!("PUT {name}: HTTP {s}")),
                    }
                });
                if done.is_some() {
                    record.lock().unwrap().acked_files.push((name, body));
                }
            }
            Channel::HttpRead => {
                let pick = {
                    let r = record.lock().unwrap();
                    (!r.acked_files.is_empty()).then(|| {
                        r.acked_files[(rng.next() % r.acked_files.len() as u64) as usize].clone()
                    })
                };
                let Some((name, body)) = pick else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let url = format!("{base}/files/{name}");
                let got = op(ch, cfg, stop, record, || {
                    let mut r = agent.get(&url).call().map_err(|e| e.to_string())?;
                    if r.status().as_u16() != 200 {
                        return Err(format!("GET {name}: HTTP {}", r.status()));
                    }
                    r.body_mut().read_to_string().map_err(|e| e.to_string())
                });
                if let Some(got) = got
                    && got != body
                {
                    record
                        .lock()
                        .unwrap()
                        .wrong_reads
                        .push(format!("{name}: wrote {body:?}, read {got:?}"));
                }
            }
            Channel::PgWrite | Channel::PgRead => {
                let port = if ch == Channel::PgWrite { 5432 } else { 5433 };
                let path = format!("/pg/{}-{n}", cfg.run_id);
                let done = op(ch, cfg, stop, record, || {
                    if pg.is_none() {
                        pg = Some(
                            pg_config(&cfg.vip, port, &cfg.pg_password)
                                .connect(postgres::NoTls)
                                .map_err(|e| format!("connect: {e}"))?,
                        );
                    }
                    let c = pg.as_mut().ok_or("no connection")?;
                    let r = if ch == Channel::PgWrite {
                        c.execute(
                            "insert into files (path, size, sha256) values ($1, $2, $3) on conflict (path) do nothing",
                            &[&path, &(n as i64), &format!("{:064x}", n)],
                        )
                        .map(|_| ())
                    } else {
                        c.query_one("select count(*) from files", &[]).map(|_| ())
                    };
                    r.map_err(|e| {
                        pg = None; // reconnect on the next attempt
                        e.to_string()
                    })
                });
                if done.is_some() && ch == Channel::PgWrite {
                    record.lock().unwrap().acked_rows.push(path);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The longest time a channel went without a successful attempt within `[from, to]`.
pub fn longest_gap(r: &Record, ch: &[Channel], from: Instant, to: Instant) -> Duration {
    let mut last = from;
    let mut worst = Duration::ZERO;
    for (t, c, ok) in &r.attempts {
        if !ok || !ch.contains(c) || *t < from || *t > to {
            continue;
        }
        worst = worst.max(t.duration_since(last));
        last = *t;
    }
    worst.max(to.saturating_duration_since(last))
}

/// Failed attempts (that a retry then covered) of `ch` within `[from, to]`.
pub fn failed_attempts(r: &Record, ch: &[Channel], from: Instant, to: Instant) -> usize {
    r.attempts
        .iter()
        .filter(|(t, c, ok)| !ok && ch.contains(c) && *t >= from && *t <= to)
        .count()
}
