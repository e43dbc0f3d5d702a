//! `hoist facts PATTERN`: OS, kernel, CPUs and load, memory, disks, interfaces and traffic,
//! uptime, gathered in one round trip per host.

use super::select;
use crate::args::{ConnectArgs, Output};
use crate::diagnostic::CliError;
use crate::output::{duration_secs, size_kb, table};
use clap::Args;
use hoist_core::adhoc::HostResult;
use hoist_core::facts::{self, Facts};
use hoist_core::ssh::SshError;
use serde_json::json;

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Host pattern
    #[arg(default_value = "all")]
    pub pattern: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: FactsArgs) -> Result<u8, CliError> {
    let results: Vec<HostResult<Facts>> =
        select::run_command(&args.connect, &args.pattern, &facts::script())
            .await?
            .into_iter()
            .map(|r| HostResult {
                outcome: r.outcome.and_then(|out| {
                    facts::parse(&out.stdout_str()).map_err(|message| SshError::Protocol {
                        host: r.host.clone(),
                        message: format!(
                            "fact gathering failed: {message}; stderr: {}",
                            out.stderr_str().trim()
                        ),
                    })
                }),
                host: r.host,
                elapsed: r.elapsed,
            })
            .collect();
    match args.connect.output {
        Output::Json => {
            let mut map = serde_json::Map::new();
            for r in &results {
                let v = match &r.outcome {
                    Ok(f) => serde_json::to_value(f).unwrap_or_default(),
                    Err(e) => json!({"unreachable": e.is_unreachable(), "error": e.to_string()}),
                };
                map.insert(r.host.clone(), v);
            }
            println!("{}", serde_json::to_string_pretty(&map).unwrap_or_default());
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = table(&[
                "HOST",
                "OS",
                "KERNEL",
                "CPUS",
                "LOAD 1/5/15",
                "MEMORY used/total",
                "ROOT DISK used/total",
                "NETWORK rx/tx",
                "UPTIME",
            ]);
            for r in &results {
                match &r.outcome {
                    Ok(f) => {
                        t.add_row(row(&r.host, f));
                    }
                    Err(e) => {
                        t.add_row(vec![r.host.clone(), format!("UNREACHABLE: {e}")]);
                    }
                }
            }
            println!("{t}");
            super::exec::summary(&results, |_| true);
        }
    }
    Ok(select::exit_code(&results, |_| false))
}

fn row(host: &str, f: &Facts) -> Vec<String> {
    let mem_used = f.memory.total_kb.saturating_sub(f.memory.available_kb);
    let disk = f
        .root_disk()
        .map(|d| format!("{}/{}", size_kb(d.used_kb), size_kb(d.size_kb)))
        .unwrap_or_else(|| "-".into());
    let net = f
        .interfaces
        .iter()
        .filter(|i| i.name != "lo")
        .map(|i| {
            format!(
                "{} {}/{}",
                i.name,
                size_kb(i.rx_bytes / 1024),
                size_kb(i.tx_bytes / 1024)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        host.to_string(),
        if f.os.pretty_name.is_empty() {
            f.os.id.clone()
        } else {
            f.os.pretty_name.clone()
        },
        f.kernel.clone(),
        f.cpus.to_string(),
        format!("{:.2} {:.2} {:.2}", f.load[0], f.load[1], f.load[2]),
        format!("{}/{}", size_kb(mem_used), size_kb(f.memory.total_kb)),
        disk,
        net,
        duration_secs(f.uptime_seconds),
    ]
}
