//! A JUnit XML report: one test suite per play, one test case per task and host.

use hoist_core::run::{Event, Sink, Status};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

struct Case {
    name: String,
    host: String,
    status: Status,
    message: String,
    secs: f64,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

pub struct Junit {
    path: PathBuf,
    suites: Mutex<Vec<Suite>>,
}

fn esc(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit {
            path,
            suites: Mutex::new(Vec::new()),
        }
    }

    /// The report as XML.
    pub fn xml(&self) -> String {
        let suites = self.suites.lock().unwrap_or_else(|p| p.into_inner());
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        for s in suites.iter() {
            let failures = s
                .cases
                .iter()
                .filter(|c| matches!(c.status, Status::Failed | Status::Unreachable))
                .count();
            let skipped = s
                .cases
                .iter()
                .filter(|c| c.status == Status::Skipped)
                .count();
            let time: f64 = s.cases.iter().map(|c| c.secs).sum();
            let _ = writeln!(
                x,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
                esc(&s.name),
                s.cases.len()
            );
            for c in &s.cases {
                let _ = write!(
                    x,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                    esc(&c.host),
                    esc(&c.name),
                    c.secs
                );
                match c.status {
                    Status::Failed | Status::Unreachable => {
                        let kind = if c.status == Status::Failed {
                            "failed"
                        } else {
                            "unreachable"
                        };
                        let _ = writeln!(
                            x,
                            ">\n      <failure type=\"{kind}\" message=\"{}\"/>\n    </testcase>",
                            esc(&c.message)
                        );
                    }
                    Status::Skipped => {
                        let _ = writeln!(x, ">\n      <skipped/>\n    </testcase>");
                    }
                    _ => {
                        let _ = writeln!(x, "/>");
                    }
                }
            }
            x.push_str("  </testsuite>\n");
        }
        x.push_str("</testsuites>\n");
        x
    }

    /// Writes the report (temp file, then rename).
    pub fn write(&self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("xml.tmp");
        std::fs::write(&tmp, self.xml())?;
        std::fs::rename(&tmp, &self.path)
    }
}

impl Sink for Junit {
    fn event(&self, e: &Event) {
        let mut suites = self.suites.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::PlayStart { name, .. } => suites.push(Suite {
                name: name.clone(),
                cases: Vec::new(),
            }),
            Event::HostResult(r) => {
                if suites.is_empty() {
                    suites.push(Suite {
                        name: "hoist".into(),
                        cases: Vec::new(),
                    });
                }
                let message = r
                    .result
                    .get("msg")
                    .and_then(|m| m.as_str())
                    .unwrap_or("")
                    .to_string();
                if let Some(s) = suites.last_mut() {
                    s.cases.push(Case {
                        name: r.task.clone(),
                        host: r.host.clone(),
                        status: r.status,
                        message,
                        secs: r.duration_ms as f64 / 1000.0,
                    });
                }
            }
            _ => {}
        }
    }
}
