//! `run_report`: a JSON report of the run, written when the recap arrives, and an optional
//! webhook post of the summary (`HOIST_REPORT_WEBHOOK`, bearer `HOIST_REPORT_TOKEN`).

use hoist_plugin_sdk::callback::Callback;
use hoist_plugin_sdk::json::Map;
use hoist_plugin_sdk::{Value, controller, http, json};
use std::cell::RefCell;

#[derive(Default)]
struct Report {
    playbook: String,
    plays: Vec<String>,
    /// host -> list of failures
    failures: Map<String, Value>,
    tasks: u64,
    results: u64,
}

thread_local! { static REPORT: RefCell<Report> = RefCell::new(Report::default()); }

struct RunReport;

fn finish(recap: &Value) -> Result<(), String> {
    let report = REPORT.with(|r| {
        let r = r.borrow();
        json!({
            "playbook": r.playbook,
            "plays": r.plays,
            "tasks": r.tasks,
            "results": r.results,
            "hosts": recap["hosts"],
            "failures": r.failures,
            "duration_ms": recap["duration_ms"],
            "ok": r.failures.is_empty(),
        })
    });
    let path = controller::env("HOIST_REPORT_FILE").unwrap_or_else(|| "hoist-report.json".into());
    let text = hoist_plugin_sdk::json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    controller::write_file(&path, text.as_bytes())?;
    if let Some(url) = controller::env("HOIST_REPORT_WEBHOOK") {
        let summary = json!({
            "text": format!("hoist: {} — {} hosts, {} failed", report["playbook"].as_str().unwrap_or(""),
                report["hosts"].as_object().map_or(0, |h| h.len()), report["failures"].as_object().map_or(0, |f| f.len())),
            "report": report,
        });
        let token = controller::env("HOIST_REPORT_TOKEN");
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let resp = http::send_json("POST", &url, &summary, &headers)?;
        if !(200..300).contains(&resp.status) {
            return Err(format!(
                "webhook answered HTTP {}: {}",
                resp.status,
                resp.text()
            ));
        }
    }
    Ok(())
}

impl Callback for RunReport {
    fn on_event(event: Value) -> Result<(), String> {
        match event["event"].as_str().unwrap_or("") {
            "playbook_start" => REPORT
                .with(|r| r.borrow_mut().playbook = event["path"].as_str().unwrap_or("").into()),
            "play_start" => REPORT.with(|r| {
                r.borrow_mut()
                    .plays
                    .push(event["name"].as_str().unwrap_or("").into())
            }),
            "task_start" => REPORT.with(|r| r.borrow_mut().tasks += 1),
            "host_result" => REPORT.with(|r| {
                let mut r = r.borrow_mut();
                r.results += 1;
                if matches!(
                    event["status"].as_str(),
                    Some("failed") | Some("unreachable")
                ) {
                    let host = event["host"].as_str().unwrap_or("?").to_string();
                    let entry = r
                        .failures
                        .entry(host)
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = entry {
                        list.push(json!({
                            "task": event["task"], "status": event["status"],
                            "msg": event["result"]["msg"], "location": event["location"],
                        }));
                    }
                }
            }),
            "recap" => finish(&event)?,
            _ => {}
        }
        Ok(())
    }
}

hoist_plugin_sdk::register_callback!(RunReport);
