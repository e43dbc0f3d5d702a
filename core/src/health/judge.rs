//! Verdicts: a check's raw output judged, and the fleet-wide verdicts over every host.

use super::spec::{Check, CheckResult};

impl Check {
    /// Judges the raw output of [`Check::script`].
    pub fn judge(&self, rc: i64, out: &str) -> (bool, String, Option<bool>) {
        let first = |s: &str| s.lines().next().unwrap_or_default().trim().to_string();
        let tail = |s: &str| {
            let t = s.trim();
            let last = t.lines().last().unwrap_or_default();
            last.chars().take(200).collect::<String>()
        };
        match self {
            Check::Tcp { host, port } => {
                if rc == 0 {
                    (true, format!("{host}:{port} accepts connections"), None)
                } else if rc == 124 {
                    (false, format!("{host}:{port} timed out"), None)
                } else {
                    (false, format!("{host}:{port} refused: {}", tail(out)), None)
                }
            }
            Check::Http { status, body, .. } => {
                let code = first(out);
                let text: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
                if rc != 0 {
                    return (false, format!("request failed: {code}"), None);
                }
                if code != status.to_string() {
                    return (false, format!("HTTP {code}, expected {status}"), None);
                }
                match body {
                    Some(b) if !text.contains(b.as_str()) => {
                        (false, format!("HTTP {code}, body lacks `{b}`"), None)
                    }
                    _ => (true, format!("HTTP {code}"), None),
                }
            }
            Check::Command { expect_rc, .. } => (
                rc == *expect_rc,
                if rc == *expect_rc {
                    format!("rc={rc} {}", tail(out))
                } else {
                    format!("rc={rc} (expected {expect_rc}) {}", tail(out))
                },
                None,
            ),
            Check::Systemd { .. } => {
                let state = first(out);
                (state == "active", state, None)
            }
            Check::PgReplication {
                max_lag_bytes,
                min_replicas,
            } => judge_pg(rc, out, *max_lag_bytes, *min_replicas),
            Check::MfsChunks {
                min_chunkservers, ..
            } => judge_mfs(rc, out, *min_chunkservers),
            Check::Vip { address } => {
                let holds = first(out) == "holds";
                (
                    rc == 0,
                    if holds {
                        format!("holds {address}")
                    } else {
                        format!("standby for {address}")
                    },
                    Some(holds),
                )
            }
            Check::Disk { max_used_pct, .. } => {
                let f: Vec<&str> = out.split_whitespace().collect();
                let (Some(size), Some(used)) = (
                    f.get(1).and_then(|s| s.parse::<f64>().ok()),
                    f.get(2).and_then(|s| s.parse::<f64>().ok()),
                ) else {
                    return (false, format!("cannot read df: {}", tail(out)), None);
                };
                let pct = if size > 0.0 { used * 100.0 / size } else { 0.0 };
                (
                    pct <= *max_used_pct,
                    format!("{pct:.1}% used (max {max_used_pct}%)"),
                    None,
                )
            }
        }
    }
}

fn judge_pg(
    rc: i64,
    out: &str,
    max_lag: Option<i64>,
    min_replicas: i64,
) -> (bool, String, Option<bool>) {
    let line = out
        .lines()
        .map(str::trim)
        .find(|l| l.contains('|'))
        .unwrap_or_default();
    let f: Vec<&str> = line.split('|').collect();
    if rc != 0 || f.len() != 3 {
        return (
            false,
            format!("postgresql does not answer: {}", out.trim()),
            None,
        );
    }
    let lag: i64 = f[2].parse().unwrap_or(i64::MAX);
    let lag_ok = max_lag.is_none_or(|m| lag <= m);
    match f[0] {
        "primary" => {
            let n: i64 = f[1].parse().unwrap_or(0);
            let ok = n >= min_replicas && lag_ok;
            (
                ok,
                format!(
                    "primary, {n} streaming replica(s) (min {min_replicas}), max lag {lag} bytes"
                ),
                None,
            )
        }
        _ => {
            let ok = f[1] == "streaming" && lag_ok;
            (
                ok,
                format!("replica, {} , replay lag {lag} bytes", f[1]).replace(" ,", ","),
                None,
            )
        }
    }
}

fn judge_mfs(rc: i64, out: &str, min_cs: i64) -> (bool, String, Option<bool>) {
    if rc != 0 {
        return (
            false,
            format!("master does not answer: {}", out.trim()),
            None,
        );
    }
    let count = |class: &str| -> Option<i64> {
        out.lines()
            .find(|l| l.contains(&format!("chunkclass {class}:")))
            .and_then(|l| l.rsplit('\t').next())
            .and_then(|v| v.trim().parse().ok())
    };
    let servers = out
        .lines()
        .filter(|l| l.starts_with("chunk servers:"))
        .count() as i64;
    let (Some(missing), Some(endangered), Some(undergoal)) =
        (count("missing"), count("endangered"), count("undergoal"))
    else {
        return (false, "unexpected mfscli output".into(), None);
    };
    let ok = missing == 0 && endangered == 0 && undergoal == 0 && servers >= min_cs;
    (
        ok,
        format!(
            "{servers} chunkserver(s) (min {min_cs}); chunks missing {missing}, endangered {endangered}, undergoal {undergoal}"
        ),
        None,
    )
}

/// Fleet-wide verdicts over every host's results: each VIP is held by exactly one host.
pub fn fleet_verdicts<'a>(
    hosts: impl IntoIterator<Item = (&'a str, &'a [CheckResult])>,
) -> Vec<CheckResult> {
    let mut holders: indexmap::IndexMap<String, Vec<String>> = indexmap::IndexMap::new();
    for (host, results) in hosts {
        for r in results {
            if let (Some(h), Some(addr)) = (r.holds, &r.vip) {
                let e = holders.entry(addr.clone()).or_default();
                if h {
                    e.push(host.to_string());
                }
            }
        }
    }
    holders
        .into_iter()
        .map(|(addr, who)| CheckResult {
            name: format!("vip {addr} has one owner"),
            kind: "vip".into(),
            ok: who.len() == 1,
            detail: match who.len() {
                0 => "no host holds it".into(),
                1 => format!("held by {}", who[0]),
                _ => format!("held by several hosts: {}", who.join(", ")),
            },
            vip: Some(addr),
            holds: None,
        })
        .collect()
}
