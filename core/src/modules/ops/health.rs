//! `health_check`: runs a host's declared health checks and samples its metrics (CPU, memory,
//! disk, network) in one round trip; fails when any check fails. Never changes anything.
//! `checks` is a list, or a mapping from group name to a list: then the host runs the lists of
//! `all` and of each group it is in (so groups add checks instead of replacing each other).
//! Returns `checks` (name, kind, ok, detail) and `metrics`.

use crate::health::{self, CheckResult, CheckSpec};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use serde_json::{Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// The checks (see `crate::health::CheckSpec`); none: metrics only.
    #[serde(default)]
    checks: Json,
}

/// The host's checks out of a list or a by-group mapping.
fn host_checks(checks: &Json, ctx: &Ctx<'_>) -> Result<Vec<CheckSpec>, ModuleError> {
    let lists: Vec<&Json> = match checks {
        Json::Null => Vec::new(),
        Json::Array(_) => vec![checks],
        Json::Object(by_group) => {
            let mut groups = vec!["all".to_string()];
            if let Ok(names) = ctx.vars.get_attr("group_names")
                && let Ok(iter) = names.try_iter()
            {
                groups.extend(iter.map(|g| g.to_string()));
            }
            groups.iter().filter_map(|g| by_group.get(g)).collect()
        }
        _ => {
            return Err(ModuleError::Args(
                "`checks` must be a list, or a mapping from group name to a list".into(),
            ));
        }
    };
    let mut out = Vec::new();
    for list in lists {
        let Json::Array(items) = list else {
            return Err(ModuleError::Args(
                "`checks`: each group's checks must be a list".into(),
            ));
        };
        for item in items {
            let n = out.len() + 1;
            out.push(
                serde_json::from_value::<CheckSpec>(item.clone())
                    .map_err(|e| ModuleError::Args(format!("health check #{n}: {e}")))?,
            );
        }
    }
    Ok(out)
}

impl Module for HealthCheck {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let specs = host_checks(&self.checks, ctx)?;
        let mut resolved = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let (name, check) = spec
                .resolve(i + 1)
                .map_err(|e| ModuleError::Args(e.to_string()))?;
            resolved.push((name, check, spec.timeout.unwrap_or(5.0).clamp(0.1, 300.0)));
        }
        let plan: Vec<_> = resolved.iter().map(|(_, c, t)| (c.clone(), *t)).collect();
        // Check mode changes nothing either way: health checks run as usual.
        let out = remote.exec(&health::host_script(&plan), None).await?;
        let text = out.stdout_str();
        let (metrics, raw) = health::split_output(&text, plan.len());
        let mut results = Vec::new();
        for ((name, check, _), raw) in resolved.iter().zip(raw) {
            let kind = kind_of(check);
            let (ok, detail, holds) = match raw {
                Some((rc, output)) => check.judge(rc, &output),
                None => (false, "no answer (the script was cut short)".into(), None),
            };
            results.push(CheckResult {
                name: name.clone(),
                kind: kind.into(),
                ok,
                detail,
                vip: match check {
                    health::Check::Vip { address } => Some(address.clone()),
                    _ => None,
                },
                holds,
            });
        }
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| !r.ok)
            .map(|r| r.name.as_str())
            .collect();
        let mut o = Outcome::ok()
            .with(
                "checks",
                serde_json::to_value(&results).unwrap_or(Json::Null),
            )
            .with("metrics", Json::Object(health::parse_metrics(&metrics)))
            .with("healthy", json!(failed.is_empty()));
        if failed.is_empty() {
            o = o.msg(format!("{} check(s) passed", results.len()));
        } else {
            o.failed = true;
            o = o.msg(format!(
                "{} of {} check(s) failed: {}",
                failed.len(),
                results.len(),
                failed.join(", ")
            ));
        }
        Ok(o)
    }
}

fn kind_of(c: &health::Check) -> &'static str {
    match c {
        health::Check::Tcp { .. } => "tcp",
        health::Check::Http { .. } => "http",
        health::Check::Command { .. } => "command",
        health::Check::Systemd { .. } => "systemd",
        health::Check::PgReplication { .. } => "pg_replication",
        health::Check::MfsChunks { .. } => "mfs_chunks",
        health::Check::Vip { .. } => "vip",
        health::Check::Disk { .. } => "disk",
    }
}
