//! Ad-hoc results as `ansible` prints them: `host | SUCCESS => {...}` (JSON with four-space
//! indents, keys sorted), `host | CHANGED | rc=0 >>` and the output for command modules, and
//! one line per host with `-o`.

use hoist_core::run::{Event, Sink, Status};
use serde_json::Value as Json;
use std::io::Write;

pub struct Adhoc {
    pub one_line: bool,
}

fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn pretty(v: &Json) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let _ = serde::Serialize::serialize(&sorted(v), &mut ser);
    String::from_utf8_lossy(&buf).into_owned()
}

impl Adhoc {
    fn line(&self, host: &str, status: Status, action: &str, result: &Json) -> String {
        let word = match status {
            Status::Changed => "CHANGED",
            Status::Ok => "SUCCESS",
            Status::Skipped => "SKIPPED",
            Status::Unreachable => "UNREACHABLE!",
            _ => "FAILED!",
        };
        let command = matches!(action, "command" | "shell" | "raw" | "script");
        if command && status != Status::Unreachable && result.get("rc").is_some() {
            let rc = result.get("rc").cloned().unwrap_or(Json::Null);
            let out = result
                .get("stdout")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let err = result
                .get("stderr")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let word = word.trim_end_matches('!');
            if self.one_line {
                return format!(
                    "{host} | {word} | rc={rc} | (stdout) {}",
                    out.replace('\n', "\\n")
                );
            }
            let mut s = format!("{host} | {word} | rc={rc} >>\n{out}");
            if !err.is_empty() {
                s.push_str(&format!("\n{err}"));
            }
            return s;
        }
        let mut shown = result.clone();
        if let Json::Object(m) = &mut shown
            && m.get("failed") == Some(&Json::Bool(false))
        {
            m.remove("failed");
        }
        if self.one_line {
            format!("{host} | {word} => {}", sorted(&shown))
        } else {
            format!("{host} | {word} => {}", pretty(&shown))
        }
    }
}

impl Sink for Adhoc {
    fn event(&self, e: &Event) {
        let text = match e {
            Event::HostResult(h) => self.line(&h.host, h.status, &h.action, &h.result),
            Event::Warning { message, .. } => {
                eprintln!("[WARNING]: {message}");
                return;
            }
            _ => return,
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_read_as_ansible_prints_them() {
        let a = Adhoc { one_line: false };
        assert_eq!(
            a.line(
                "h",
                Status::Ok,
                "ping",
                &json!({"ping": "pong", "changed": false})
            ),
            "h | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}"
        );
        assert_eq!(
            a.line(
                "h",
                Status::Changed,
                "command",
                &json!({"rc": 0, "stdout": "hi", "stderr": ""})
            ),
            "h | CHANGED | rc=0 >>\nhi"
        );
        let o = Adhoc { one_line: true };
        assert_eq!(
            o.line("h", Status::Ok, "ping", &json!({"ping": "pong"})),
            "h | SUCCESS => {\"ping\":\"pong\"}"
        );
    }
}
