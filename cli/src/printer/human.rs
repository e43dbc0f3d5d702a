//! The live human view, in the shape Ansible users know: PLAY and TASK banners, one line per
//! host result (coloured on a terminal), unified diffs with `--diff`, and a recap table.

use crate::output::table;
use hoist_core::modules::FileDiff;
use hoist_core::run::{Event, HostEvent, Sink, Status};
use serde_json::Value as Json;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

pub struct Human {
    verbose: u8,
    diff: bool,
    color: bool,
    ansible_recap: bool,
    lock: Mutex<()>,
    /// Hosts whose failure in the current task was explained already (`[ERROR]` once per task
    /// and host, as ansible-core: a loop's first failed item carries it).
    explained: Mutex<std::collections::HashSet<String>>,
}

const GREEN: &str = "32";
const YELLOW: &str = "33";
const RED: &str = "31";
const CYAN: &str = "36";
const MAGENTA: &str = "35";
const BLUE: &str = "34";

impl Human {
    pub fn new(verbose: u8, diff: bool) -> Self {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Human {
            verbose,
            diff,
            color,
            ansible_recap: false,
            lock: Mutex::new(()),
            explained: Mutex::new(Default::default()),
        }
    }

    /// Prints the recap as ansible-playbook's `host : ok=N changed=N ...` lines.
    pub fn ansible_recap(mut self) -> Self {
        self.ansible_recap = true;
        self
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn banner(&self, s: &str) -> String {
        let stars = 79usize.saturating_sub(s.chars().count() + 1).max(3);
        format!("\n{s} {}", "*".repeat(stars))
    }

    fn show_result(&self, r: &HostEvent) -> bool {
        self.verbose > 0
            || matches!(
                r.status,
                Status::Failed | Status::Ignored | Status::Unreachable
            )
            || (r.action == "debug" && r.status != Status::Skipped)
    }

    fn body(&self, r: &HostEvent, pretty: bool) -> String {
        let mut v = r.result.clone();
        if let Json::Object(m) = &mut v {
            if self.verbose < 2 {
                for k in [
                    "stdout_lines",
                    "stderr_lines",
                    "diff",
                    "results",
                    "ansible_facts",
                    "invocation",
                ] {
                    m.remove(k);
                }
            }
            if pretty && m.get("changed") == Some(&Json::Bool(false)) {
                m.remove("changed");
            }
        }
        if pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        }
        .unwrap_or_default()
    }

    fn line(&self, r: &HostEvent, item: bool) -> String {
        let host = match &r.delegated_to {
            Some(d) if *d != r.host => format!("[{} -> {d}]", r.host),
            _ => format!("[{}]", r.host),
        };
        let label = match &r.item {
            Some(i) if item => {
                let t = match i {
                    Json::String(s) => s.clone(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                format!(" => (item={t})")
            }
            _ => String::new(),
        };
        let (word, code) = match r.status {
            Status::Ok => ("ok", GREEN),
            Status::Changed => ("changed", YELLOW),
            Status::Skipped => ("skipping", CYAN),
            Status::Failed | Status::Ignored => ("failed", RED),
            Status::Unreachable => ("fatal", RED),
        };
        let mut s = match r.status {
            Status::Failed | Status::Ignored if !item => {
                format!("fatal: {host}: FAILED! => {}", self.body(r, false))
            }
            Status::Unreachable => {
                format!("fatal: {host}: UNREACHABLE! => {}", self.body(r, false))
            }
            // ansible-core: `failed: [host] (item=x) => {...}`, `ok: [host] => (item=x)`.
            Status::Failed | Status::Ignored => format!(
                "{word}: {host} {} => {}",
                label.trim_start_matches(" => "),
                self.body(r, false)
            ),
            _ if self.show_result(r) => format!("{word}: {host}{label} => {}", self.body(r, true)),
            _ => format!("{word}: {host}{label}"),
        };
        if r.status == Status::Ignored {
            s.push_str("\n...ignoring");
        }
        self.paint(code, &s)
    }

    /// ansible-core 2.19's `[ERROR]: Task failed: ...` block before a failed result (in the
    /// `ansible-playbook` output only): the kind of failure, the message, and where the task is.
    fn error_block(&self, r: &HostEvent) -> Option<String> {
        if !self.ansible_recap || !matches!(r.status, Status::Failed | Status::Ignored) {
            return None;
        }
        if let Ok(mut seen) = self.explained.lock()
            && !seen.insert(r.host.clone())
        {
            return None;
        }
        let msg = r.result.get("msg").and_then(Json::as_str).unwrap_or("");
        let kind = if r.result.get("failed_when_result") == Some(&Json::Bool(true))
            || ACTION_PLUGINS.contains(&r.action.trim_start_matches("ansible.builtin."))
        {
            "Action failed"
        } else {
            "Module failed"
        };
        let what = if msg.is_empty() {
            format!("{kind}.")
        } else {
            format!("{kind}: {msg}")
        };
        Some(format!(
            "[ERROR]: Task failed: {what}\nOrigin: {}{}",
            r.location,
            source_context(&r.location)
        ))
    }

    fn diff_text(&self, d: &FileDiff) -> String {
        let diff = similar::TextDiff::from_lines(&d.before, &d.after);
        let mut out = String::new();
        for line in diff
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("before: {}", d.before_header),
                &format!("after: {}", d.after_header),
            )
            .to_string()
            .lines()
        {
            let code = if line.starts_with('+') && !line.starts_with("+++") {
                GREEN
            } else if line.starts_with('-') && !line.starts_with("---") {
                RED
            } else if line.starts_with("@@") {
                CYAN
            } else {
                ""
            };
            out.push_str(&if code.is_empty() {
                line.to_string()
            } else {
                self.paint(code, line)
            });
            out.push('\n');
        }
        out
    }

    fn render(&self, e: &Event) -> Option<String> {
        Some(match e {
            // ansible-playbook's -vv lines, which scripts count.
            Event::PlaybookStart { path, plays, .. } if self.ansible_recap && self.verbose >= 2 => {
                format!(
                    "PLAYBOOK: {}\n{plays} plays in {path}",
                    std::path::Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )
            }
            Event::PlaybookStart { check: true, .. } => {
                "hoist: check mode, nothing will be changed".into()
            }
            Event::PlaybookStart { .. } => return None,
            Event::PlayStart { name, .. } => self.banner(&format!("PLAY [{name}]")),
            Event::TaskStart { name, handler, .. } => {
                if let Ok(mut seen) = self.explained.lock() {
                    seen.clear();
                }
                self.banner(&format!(
                    "{} [{name}]",
                    if *handler { "RUNNING HANDLER" } else { "TASK" }
                ))
            }
            Event::ItemResult(r) => {
                let mut s = self
                    .error_block(r)
                    .map(|e| format!("{e}\n"))
                    .unwrap_or_default();
                s.push_str(&self.line(r, true));
                if self.diff {
                    r.diffs
                        .iter()
                        .for_each(|d| s.push_str(&format!("\n{}", self.diff_text(d).trim_end())));
                }
                s
            }
            Event::HostResult(r) => {
                let looped = r.result.get("results").is_some();
                if looped && !matches!(r.status, Status::Failed | Status::Unreachable) {
                    return None;
                }
                let mut s = String::new();
                if self.diff && !looped {
                    r.diffs.iter().for_each(|d| s.push_str(&self.diff_text(d)));
                }
                if !looped && let Some(e) = self.error_block(r) {
                    s.push_str(&e);
                    s.push('\n');
                }
                s.push_str(&self.line(r, false));
                s
            }
            Event::Included { file, hosts } => format!("included: {file} for {}", hosts.join(", ")),
            Event::Warning { host, message } => self.paint(
                MAGENTA,
                &format!(
                    "[WARNING]: {}{message}",
                    host.as_ref().map(|h| format!("[{h}] ")).unwrap_or_default()
                ),
            ),
            Event::Verbose {
                host,
                message,
                level,
            } => {
                if self.verbose < *level {
                    return None;
                }
                self.paint(BLUE, &format!("<{host}> {message}"))
            }
            Event::PlayAborted { reason } => {
                self.paint(RED, &format!("\nNO MORE HOSTS LEFT: {reason}"))
            }
            Event::Recap {
                hosts,
                custom_stats,
                ..
            } if self.ansible_recap => {
                let mut s = self.banner("PLAY RECAP");
                s.push('\n');
                for (h, st) in hosts {
                    s.push_str(&format!(
                        "{h:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={:<4}\n",
                        st.ok, st.changed, st.unreachable, st.failed, st.skipped, st.rescued, st.ignored
                    ));
                }
                s.push_str(&self.custom_stats(custom_stats.as_ref()));
                s
            }
            Event::Recap {
                hosts,
                duration_ms,
                custom_stats,
            } => {
                let mut t = table(&[
                    "host",
                    "ok",
                    "changed",
                    "unreachable",
                    "failed",
                    "skipped",
                    "rescued",
                    "ignored",
                ]);
                for (h, s) in hosts {
                    t.add_row(vec![
                        h.clone(),
                        s.ok.to_string(),
                        s.changed.to_string(),
                        s.unreachable.to_string(),
                        s.failed.to_string(),
                        s.skipped.to_string(),
                        s.rescued.to_string(),
                        s.ignored.to_string(),
                    ]);
                }
                format!(
                    "{}\n{t}\ntook {:.2}s{}",
                    self.banner("PLAY RECAP"),
                    *duration_ms as f64 / 1000.0,
                    self.custom_stats(custom_stats.as_ref())
                )
            }
        })
    }
}

impl Human {
    /// `set_stats` data after the recap, as ansible-core's default callback shows it when
    /// `ANSIBLE_SHOW_CUSTOM_STATS` is set: each host's, then the run's.
    fn custom_stats(&self, stats: Option<&serde_json::Value>) -> String {
        let on = std::env::var("ANSIBLE_SHOW_CUSTOM_STATS").is_ok_and(|v| {
            ["1", "true", "yes", "on", "y", "t"].contains(&v.to_ascii_lowercase().as_str())
        });
        let Some(serde_json::Value::Object(all)) = stats.filter(|_| on) else {
            return String::new();
        };
        let one_line = |v: &serde_json::Value| {
            use serde::Serialize;
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            let _ = v.serialize(&mut ser);
            String::from_utf8_lossy(&buf).replace('\n', "")
        };
        let mut s = format!("\n{}\n", self.banner("CUSTOM STATS: "));
        let mut hosts: Vec<&String> = all.keys().filter(|k| *k != "_run").collect();
        hosts.sort();
        for h in hosts {
            s.push_str(&format!("\t{h}: {}\n", one_line(&all[h])));
        }
        if let Some(run) = all.get("_run") {
            s.push_str(&format!("\n\tRUN: {}\n", one_line(run)));
        }
        s
    }
}

impl Sink for Human {
    fn event(&self, e: &Event) {
        if let Some(text) = self.render(e) {
            let _g = self.lock.lock();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

/// ansible-core's action plugins that fail on the controller ("Action failed"); other modules'
/// failures are "Module failed".
const ACTION_PLUGINS: [&str; 12] = [
    "fail",
    "assert",
    "debug",
    "set_fact",
    "include_vars",
    "add_host",
    "group_by",
    "set_stats",
    "pause",
    "wait_for_connection",
    "validate_argument_spec",
    "meta",
];

/// The lines around `file:line:column` as ansible-core shows them under `Origin:`: up to two
/// lines before, the line, and a caret under the column.
fn source_context(location: &str) -> String {
    let mut parts = location.rsplitn(3, ':');
    let (Some(col), Some(line), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return String::new();
    };
    let (Ok(col), Ok(line)) = (col.parse::<usize>(), line.parse::<usize>()) else {
        return String::new();
    };
    let Ok(text) = std::fs::read_to_string(file) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return String::new();
    }
    let width = line.to_string().len();
    let mut out = String::from("\n\n");
    for n in line.saturating_sub(2).max(1)..=line {
        out.push_str(&format!("{n:>width$} {}\n", lines[n - 1]));
    }
    out.push_str(&format!("{}^ column {col}\n", " ".repeat(width + col)));
    out
}
