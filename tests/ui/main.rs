//! The web UI in Debian's headless Chromium: `hoist serve` as a real process, driven by
//! tests/ui/drive.mjs (playwright-core) through sign-in, the runs list, a run followed live,
//! the start-a-run form, cancelling, schedules and users; then the screenshots it took are
//! checked here: size, not blank, and the status badges drawn in their colours where the page
//! said they were. Needs `npm ci` in tests/ui and /usr/bin/chromium (tests/run.sh sees to both).

#[path = "../support/serve.rs"]
mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::Serve;

const ADMIN_PW: &str = "admin-password-1";

fn project(dir: &Path) {
    support::project(
        &dir.join("proj"),
        &[
            ("site.yml", "    - command: echo hello\n"),
            ("fail.yml", "    - command: \"false\"\n"),
            (
                "live.yml",
                "    - command: echo {{ greeting }}\n    - command: sleep 4\n    - command: echo done\n",
            ),
            (
                "slow.yml",
                "    - command: echo started\n    - pause: { seconds: 60 }\n",
            ),
        ],
    );
}

fn api(base: &str, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let (_, text) = support::request(
        &support::agent(),
        &format!("{base}/api/v1{path}"),
        method,
        token,
        body.as_ref(),
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Starts `book` and waits for it to end; returns its status.
fn run_to_end(base: &str, token: &str, book: &str) -> String {
    let run = api(
        base,
        "POST",
        "/runs",
        Some(token),
        Some(json!({"project": "demo", "playbook": book, "inventory": "inventory.yml"})),
    );
    let id = run["id"].as_i64().expect("run id");
    let t0 = Instant::now();
    loop {
        let v = api(base, "GET", &format!("/runs/{id}"), Some(token), None);
        let s = v["run"]["status"].as_str().unwrap_or("").to_string();
        if s != "queued" && s != "running" {
            return s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "run {id} never ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A decoded screenshot: width, height, RGB(A) rows.
struct Shot {
    w: usize,
    h: usize,
    channels: usize,
    px: Vec<u8>,
}

fn load(path: &Path) -> Shot {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut px).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("{}: unexpected colour type {other:?}", path.display()),
    };
    px.truncate(info.buffer_size());
    Shot {
        w: info.width as usize,
        h: info.height as usize,
        channels,
        px,
    }
}

impl Shot {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.w + x) * self.channels;
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }

    /// The mean colour of the box's pixels that are not near-white (a badge's fill, not its
    /// text).
    fn fill(&self, b: &Value) -> [f64; 3] {
        let f = |k: &str| b[k].as_f64().unwrap();
        let (x0, y0) = (f("x").ceil() as usize, f("y").ceil() as usize);
        let (x1, y1) = (
            ((f("x") + f("width")).floor() as usize).min(self.w),
            ((f("y") + f("height")).floor() as usize).min(self.h),
        );
        let (mut sum, mut n) = ([0f64; 3], 0f64);
        for y in y0..y1 {
            for x in x0..x1 {
                let p = self.at(x, y);
                if p.iter().all(|&c| c > 200) {
                    continue;
                }
                for c in 0..3 {
                    sum[c] += p[c] as f64;
                }
                n += 1.0;
            }
        }
        assert!(n > 20.0, "the box {b} holds a coloured fill");
        sum.map(|s| s / n)
    }

    fn distinct_colours(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for y in (0..self.h).step_by(3) {
            for x in (0..self.w).step_by(3) {
                seen.insert(self.at(x, y));
            }
        }
        seen.len()
    }
}

fn assert_colour(name: &str, got: [f64; 3], want: [u8; 3]) {
    let close = got
        .iter()
        .zip(want)
        .all(|(g, w)| (g - w as f64).abs() < 40.0);
    assert!(close, "{name}: drawn {got:?}, expected about {want:?}");
}

#[test]
fn the_web_ui_in_headless_chromium() {
    let ui = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    assert!(
        ui.join("node_modules/playwright-core").is_dir(),
        "tests/ui/node_modules is missing: run `npm ci` in tests/ui (tests/run.sh does)"
    );
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let server = Serve::start(
        &format!("demo={}", d.path().join("proj").display()),
        &d.path().join("hoist.db").display().to_string(),
        ADMIN_PW,
        &[],
    );
    let base = server.base.clone();
    // History for the runs list: one run that succeeds and one that fails.
    let token = api(
        &base,
        "POST",
        "/login",
        None,
        Some(json!({"name": "admin", "password": ADMIN_PW})),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(run_to_end(&base, &token, "site.yml"), "ok");
    assert_eq!(run_to_end(&base, &token, "fail.yml"), "failed");

    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut child = Command::new("node")
        .arg(ui.join("drive.mjs"))
        .arg(&base)
        .arg(ADMIN_PW)
        .arg(&shots)
        .current_dir(&ui)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs (Node.js is on the machine)");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("the browser session took over 3 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        status.success(),
        "drive.mjs failed ({status}); report: {out}"
    );
    let report: Value = serde_json::from_str(out.trim()).expect("drive.mjs prints its report");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["steps"].as_array().unwrap().len(), 11, "{report}");

    // The screenshots: the viewport's size, real content, and each badge in its colour.
    for name in ["runs", "run-live", "run-done", "schedules", "users"] {
        let s = load(&shots.join(format!("{name}.png")));
        assert_eq!((s.w, s.h), (1280, 800), "{name}.png");
        assert!(
            s.distinct_colours() > 30,
            "{name}.png is not blank ({} colours)",
            s.distinct_colours()
        );
    }
    let boxes = &report["boxes"];
    let runs = load(&shots.join("runs.png"));
    assert_colour(
        "ok badge",
        runs.fill(&boxes["runs_ok_badge"]),
        [0x1f, 0x8a, 0x3b],
    );
    assert_colour(
        "failed badge",
        runs.fill(&boxes["runs_failed_badge"]),
        [0xc6, 0x28, 0x28],
    );
    let live = load(&shots.join("run-live.png"));
    assert_colour(
        "running badge",
        live.fill(&boxes["live_running_badge"]),
        [0x24, 0x57, 0xc5],
    );
    let done = load(&shots.join("run-done.png"));
    assert_colour(
        "finished badge",
        done.fill(&boxes["live_done_badge"]),
        [0x1f, 0x8a, 0x3b],
    );
}
