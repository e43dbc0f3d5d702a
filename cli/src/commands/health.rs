//! `hoist health [PATTERN]`: runs the health checks declared in the inventory (`health_checks`:
//! a list, or a mapping from group name to a list) on every matching host, with its CPU, memory,
//! disk and network figures; adds fleet verdicts (each VIP held by exactly one host). A table or
//! JSON; exit code 2 when anything is unhealthy, 4 when a host is unreachable.

use super::run::{pool, relay, run_error};
use crate::args::{ConnectArgs, Output};
use crate::diagnostic::{CliError, exit};
use crate::output::table;
use clap::Args;
use hoist_core::health::{CheckResult, fleet_verdicts};
use hoist_core::run::{Event, HostEvent, RunOptions, Runner, Sink, Status};
use serde_json::{Value as Json, json};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Host pattern
    #[arg(default_value = "all")]
    pub pattern: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Keeps each host's health result.
#[derive(Default)]
struct Collect(Mutex<Vec<HostEvent>>);

impl Sink for Collect {
    fn event(&self, e: &Event) {
        if let Event::HostResult(h) = e {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h.clone());
        }
    }
}

/// One host's verdict.
struct HostHealth {
    host: String,
    unreachable: Option<String>,
    error: Option<String>,
    checks: Vec<CheckResult>,
    metrics: serde_json::Map<String, Json>,
}

fn playbook_text(pattern: &str) -> String {
    let pattern = Json::String(pattern.to_string());
    format!(
        "- name: health\n  hosts: {pattern}\n  gather_facts: false\n  tasks:\n    - name: health\n      health_check:\n        checks: \"{{{{ health_checks | default([]) }}}}\"\n"
    )
}

fn read(ev: &HostEvent) -> HostHealth {
    let r = &ev.result;
    let checks: Vec<CheckResult> = r
        .get("checks")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|c| CheckResult {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    kind: c["kind"].as_str().unwrap_or_default().to_string(),
                    ok: c["ok"].as_bool().unwrap_or(false),
                    detail: c["detail"].as_str().unwrap_or_default().to_string(),
                    vip: c.get("vip").and_then(Json::as_str).map(str::to_string),
                    holds: c.get("holds").and_then(Json::as_bool),
                })
                .collect()
        })
        .unwrap_or_default();
    let msg = r.get("msg").and_then(Json::as_str).unwrap_or_default();
    HostHealth {
        host: ev.host.clone(),
        unreachable: (ev.status == Status::Unreachable).then(|| msg.to_string()),
        // A failure without check results: the checks could not run (bad declaration).
        error: (ev.status == Status::Failed && checks.is_empty()).then(|| msg.to_string()),
        checks,
        metrics: r
            .get("metrics")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default(),
    }
}

pub async fn run(args: HealthArgs) -> Result<u8, CliError> {
    let book = hoist_core::playbook::load_playbook_str(
        Path::new("<hoist health>"),
        playbook_text(&args.pattern),
    )
    .map_err(CliError::Playbook)?;
    let inv = Arc::new(args.connect.inventory.load(false)?);
    let order: Vec<String> = inv.hosts.keys().cloned().collect();
    let collect = Arc::new(Collect::default());
    let opts = RunOptions {
        limit: args.connect.limit.clone(),
        forks: args.connect.forks,
        relay: relay(&args.connect),
        ..RunOptions::default()
    };
    let runner = Runner::new(inv, pool(&args.connect)?, collect.clone(), opts);
    runner.run(&book).await.map_err(run_error)?;
    let events = collect.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut hosts: Vec<HostHealth> = events.iter().map(read).collect();
    hosts.sort_by_key(|h| {
        order
            .iter()
            .position(|o| *o == h.host)
            .unwrap_or(usize::MAX)
    });
    let fleet = fleet_verdicts(hosts.iter().map(|h| (h.host.as_str(), h.checks.as_slice())));
    let unreachable = hosts.iter().any(|h| h.unreachable.is_some());
    let healthy = !unreachable
        && hosts
            .iter()
            .all(|h| h.error.is_none() && h.checks.iter().all(|c| c.ok))
        && fleet.iter().all(|c| c.ok);
    match args.connect.output {
        Output::Json => print_json(&hosts, &fleet, healthy),
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            print_tables(&hosts, &fleet, healthy)
        }
    }
    Ok(if unreachable {
        exit::UNREACHABLE
    } else if healthy {
        exit::OK
    } else {
        exit::FAILED
    })
}

fn print_json(hosts: &[HostHealth], fleet: &[CheckResult], healthy: bool) {
    let mut map = serde_json::Map::new();
    for h in hosts {
        map.insert(
            h.host.clone(),
            json!({
                "healthy": h.unreachable.is_none() && h.error.is_none() && h.checks.iter().all(|c| c.ok),
                "unreachable": h.unreachable,
                "error": h.error,
                "checks": h.checks,
                "metrics": h.metrics,
            }),
        );
    }
    let doc = json!({"healthy": healthy, "hosts": map, "fleet": fleet});
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

fn metric(m: &serde_json::Map<String, Json>, k: &str, unit: &str) -> String {
    m.get(k)
        .and_then(Json::as_f64)
        .map(|v| format!("{v:.1}{unit}"))
        .unwrap_or_else(|| "-".into())
}

fn bytes(m: &serde_json::Map<String, Json>, k: &str) -> String {
    m.get(k)
        .and_then(Json::as_f64)
        .map(|v| crate::output::size_kb((v / 1024.0) as u64))
        .unwrap_or_else(|| "-".into())
}

fn print_tables(hosts: &[HostHealth], fleet: &[CheckResult], healthy: bool) {
    let mut t = table(&["HOST", "CHECK", "STATUS", "DETAIL"]);
    for h in hosts {
        if let Some(why) = &h.unreachable {
            t.add_row(vec![
                h.host.as_str(),
                "(connection)",
                "UNREACHABLE",
                why.as_str(),
            ]);
        }
        if let Some(why) = &h.error {
            t.add_row(vec![h.host.as_str(), "(checks)", "ERROR", why.as_str()]);
        }
        for c in &h.checks {
            t.add_row(vec![
                h.host.as_str(),
                c.name.as_str(),
                if c.ok { "ok" } else { "FAILED" },
                c.detail.as_str(),
            ]);
        }
    }
    for c in fleet {
        t.add_row(vec![
            "(fleet)",
            c.name.as_str(),
            if c.ok { "ok" } else { "FAILED" },
            c.detail.as_str(),
        ]);
    }
    println!("{t}");
    let mut m = table(&[
        "HOST", "CPU", "LOAD", "MEMORY", "DISK /", "NET RX", "NET TX",
    ]);
    for h in hosts.iter().filter(|h| !h.metrics.is_empty()) {
        m.add_row(vec![
            h.host.clone(),
            metric(&h.metrics, "cpu_pct", "%"),
            metric(&h.metrics, "load1", ""),
            metric(&h.metrics, "mem_used_pct", "%"),
            metric(&h.metrics, "disk_used_pct", "%"),
            bytes(&h.metrics, "net_rx_bytes"),
            bytes(&h.metrics, "net_tx_bytes"),
        ]);
    }
    println!("{m}");
    let failed: usize = hosts
        .iter()
        .map(|h| h.checks.iter().filter(|c| !c.ok).count())
        .sum::<usize>()
        + fleet.iter().filter(|c| !c.ok).count();
    println!(
        "{}: {} host(s), {} failed check(s)",
        if healthy { "healthy" } else { "UNHEALTHY" },
        hosts.len(),
        failed
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_playbook_quotes_the_pattern() {
        let t = playbook_text("web:&\"odd\"");
        let book = hoist_core::playbook::load_playbook_str(Path::new("x"), t).unwrap();
        assert_eq!(book.plays[0].hosts, "web:&\"odd\"");
    }
}
