//! Reading what an Ansible module printed: the JSON object among its output (ansible-core
//! skips lines before and after it), turned into hoist's result the way ansible-core's task
//! executor does (`rc` ≠ 0 without `failed` is a failure, internal `_ansible_*` keys dropped,
//! `ansible_facts` set on the host, `stdout_lines`/`stderr_lines` added). Data only.

use crate::modules::{ModResult, Outcome};
use crate::ssh::ExecOutput;
use serde_json::{Map, Value as Json, json};

/// The JSON object in `stdout`, as ansible-core's `_filter_non_json_lines` finds it: from the
/// first line that starts with `{` to the last line that ends with `}`.
fn json_object(stdout: &str) -> Option<Map<String, Json>> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().position(|l| l.trim_start().starts_with('{'))?;
    let end = lines.iter().rposition(|l| l.trim_end().ends_with('}'))?;
    if end < start {
        return None;
    }
    match serde_json::from_str(&lines[start..=end].join("\n")) {
        Ok(Json::Object(m)) => Some(m),
        _ => None,
    }
}

fn truthy(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        ),
        _ => false,
    }
}

/// hoist's result for a module run that printed `out`.
pub fn outcome(module: &str, out: &ExecOutput) -> ModResult {
    let stdout = out.stdout_str();
    let Some(mut m) = json_object(&stdout) else {
        let stderr = out.stderr_str();
        let interp_missing = out.status == Some(127);
        let msg = if interp_missing {
            format!(
                "The module interpreter was not found on the host: {}",
                stderr.trim()
            )
        } else {
            "Module result deserialization failed. See stdout/stderr for the returned output."
                .to_string()
        };
        let mut o = Outcome {
            failed: true,
            msg: Some(msg),
            ..Outcome::default()
        };
        o.data.insert("module_stdout".into(), json!(stdout));
        o.data.insert("module_stderr".into(), json!(stderr));
        o.data.insert("rc".into(), json!(out.status.unwrap_or(1)));
        return Ok(o);
    };
    m.retain(|k, _| !k.starts_with("_ansible_"));
    if let Some(r) = m.get("results")
        && !r.is_array()
    {
        let r = m.remove("results").unwrap_or(Json::Null);
        m.insert("ansible_module_results".into(), r);
    }
    let changed = m.remove("changed").is_some_and(|v| truthy(&v));
    let skipped = m.remove("skipped").is_some_and(|v| truthy(&v));
    let failed = match m.remove("failed") {
        Some(v) => truthy(&v),
        None => m
            .get("rc")
            .is_some_and(|rc| !matches!(rc, Json::Number(n) if n.as_i64() == Some(0)) && rc != "0"),
    };
    let mut o = Outcome {
        changed,
        skipped,
        failed,
        ..Outcome::default()
    };
    o.msg = match m.remove("msg") {
        Some(Json::String(s)) => Some(s),
        Some(Json::Null) | None => None,
        Some(other) => {
            m.insert("msg".into(), other);
            None
        }
    };
    if let Some(Json::Object(f)) = m.get("ansible_facts").cloned() {
        o = o.with_module_facts(f);
    }
    for key in ["warnings", "deprecations"] {
        if let Some(Json::Array(ws)) = m.remove(key) {
            for w in ws {
                o.warnings.push(match w {
                    Json::String(s) => s,
                    Json::Object(d) => {
                        let text = d.get("msg").and_then(Json::as_str).unwrap_or_default();
                        format!("[DEPRECATION WARNING]: {text}")
                    }
                    other => other.to_string(),
                });
            }
        }
    }
    for (key, lines) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
        if !m.contains_key(lines)
            && let Some(v) = m.get(key)
        {
            let text = v.as_str().unwrap_or_default();
            let l: Vec<Json> = text.lines().map(|s| json!(s)).collect();
            m.insert(lines.into(), Json::Array(l));
        }
    }
    if o.failed && o.msg.is_none() {
        o.msg = Some(format!("{module} failed"));
    }
    if let Some(d) = m.get("diff") {
        o.diffs = crate::modules::outcome::shown_diffs(d);
    }
    o.data = m;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str, status: u32) -> ExecOutput {
        ExecOutput {
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
            status: Some(status),
            signal: None,
        }
    }

    #[test]
    fn results_read_like_ansible_core() {
        let o = outcome(
            "m",
            &out(
                "noise before\n{\"changed\": true, \"rc\": 0, \"stdout\": \"a\\nb\",\n \"_ansible_no_log\": false,\n \"ansible_facts\": {\"x\": 1}, \"warnings\": [\"w\"]}\ntrailing\n",
                0,
            ),
        )
        .unwrap();
        assert!(o.changed && !o.failed);
        assert_eq!(o.data["stdout_lines"], json!(["a", "b"]));
        assert!(!o.data.contains_key("_ansible_no_log"));
        assert_eq!(o.facts.unwrap()["x"], json!(1));
        assert_eq!(o.set_vars.unwrap()["x"], json!(1));
        assert_eq!(o.warnings, vec!["w".to_string()]);
        let o = outcome("m", &out("{\"rc\": 2}", 2)).unwrap();
        assert!(o.failed, "a non-zero rc without `failed` is a failure");
        let o = outcome("m", &out("not json", 1)).unwrap();
        assert!(o.failed && o.data["module_stdout"] == json!("not json"));
        let o = outcome("m", &out("{\"msg\": {\"k\": 1}}", 0)).unwrap();
        assert_eq!(o.data["msg"], json!({"k": 1}));
    }
}
