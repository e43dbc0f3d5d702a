//! Health checks: what each kind of check runs on a host (one shell script for all of a host's
//! checks and its metrics), and how its raw output is judged. Judging happens here, on the
//! controller, so it is pure and tested without hosts. Used by the `health_check` module, and so
//! by `hoist health` and `playbooks/health.yml`.

use crate::ssh::shell::quote;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One declared check (exactly one kind per check).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Shown in reports; defaults to a description of the check.
    pub name: Option<String>,
    /// `host:port` (or a bare port on 127.0.0.1) accepts TCP connections.
    pub tcp: Option<Json>,
    /// An HTTP(S) URL (fetched with curl on the host) or `{url, status, body, ca, insecure}`.
    pub http: Option<Json>,
    /// A shell command that must exit 0 (`expect_rc` to change).
    pub command: Option<String>,
    pub expect_rc: Option<i64>,
    /// A systemd unit that must be active.
    pub systemd: Option<String>,
    /// PostgreSQL streaming replication: `{max_lag_bytes, min_replicas}` (either may be left out).
    pub pg_replication: Option<Json>,
    /// MooseFS chunk replication, asked of the master: `{master, min_chunkservers}`.
    pub mfs_chunks: Option<Json>,
    /// Whether this host holds the address (a fact; the fleet must have exactly one holder).
    pub vip: Option<String>,
    /// `{path, max_used_pct}`: disk usage of the file system holding `path`.
    pub disk: Option<Json>,
    /// Seconds before the check counts as failed (default 5).
    pub timeout: Option<f64>,
}

/// A check's verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub kind: String,
    pub ok: bool,
    pub detail: String,
    /// Set by `vip` checks: the address, and whether this host holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<bool>,
}

/// Why a declared check cannot run.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("health check #{index}: {message}")]
pub struct SpecError {
    pub index: usize,
    pub message: String,
}

const KINDS: [&str; 8] = [
    "tcp",
    "http",
    "command",
    "systemd",
    "pg_replication",
    "mfs_chunks",
    "vip",
    "disk",
];

/// A check with its kind resolved and its arguments read.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Tcp {
        host: String,
        port: u16,
    },
    Http {
        url: String,
        status: u16,
        body: Option<String>,
        ca: Option<String>,
        insecure: bool,
    },
    Command {
        cmd: String,
        expect_rc: i64,
    },
    Systemd {
        unit: String,
    },
    PgReplication {
        max_lag_bytes: Option<i64>,
        min_replicas: i64,
    },
    MfsChunks {
        master: String,
        min_chunkservers: i64,
    },
    Vip {
        address: String,
    },
    Disk {
        path: String,
        max_used_pct: f64,
    },
}

fn int(v: &Json, what: &str) -> Result<i64, String> {
    match v {
        Json::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("`{what}` must be an integer")),
        Json::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{what}` must be an integer, got `{s}`")),
        _ => Err(format!("`{what}` must be an integer")),
    }
}

fn obj<'a>(
    v: &'a Json,
    kind: &str,
    allowed: &[&str],
) -> Result<&'a serde_json::Map<String, Json>, String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("`{kind}` takes a mapping"))?;
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "`{kind}` does not take `{k}` (it takes: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(m)
}

fn string(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl CheckSpec {
    /// Resolves the kind and reads its arguments.
    pub fn resolve(&self, index: usize) -> Result<(String, Check), SpecError> {
        let err = |message: String| SpecError { index, message };
        let set: Vec<&str> = KINDS
            .iter()
            .copied()
            .filter(|k| match *k {
                "tcp" => self.tcp.is_some(),
                "http" => self.http.is_some(),
                "command" => self.command.is_some(),
                "systemd" => self.systemd.is_some(),
                "pg_replication" => self.pg_replication.is_some(),
                "mfs_chunks" => self.mfs_chunks.is_some(),
                "vip" => self.vip.is_some(),
                _ => self.disk.is_some(),
            })
            .collect();
        let kind = match set.as_slice() {
            [one] => *one,
            [] => return Err(err(format!("give one of: {}", KINDS.join(", ")))),
            many => {
                return Err(err(format!(
                    "give only one kind, got {}",
                    many.join(" and ")
                )));
            }
        };
        let check = self.read(kind).map_err(err)?;
        let name = self.name.clone().unwrap_or_else(|| check.describe());
        Ok((name, check))
    }

    fn read(&self, kind: &str) -> Result<Check, String> {
        Ok(match kind {
            "tcp" => {
                let v = self.tcp.as_ref().map(string).unwrap_or_default();
                let (host, port) = match v.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p.to_string()),
                    None => ("127.0.0.1".to_string(), v.clone()),
                };
                let port = port
                    .parse()
                    .map_err(|_| format!("`tcp` wants host:port or a port, got `{v}`"))?;
                Check::Tcp { host, port }
            }
            "http" => match self.http.as_ref() {
                Some(Json::String(url)) => Check::Http {
                    url: url.clone(),
                    status: 200,
                    body: None,
                    ca: None,
                    insecure: false,
                },
                Some(v) => {
                    let m = obj(v, "http", &["url", "status", "body", "ca", "insecure"])?;
                    let url = m.get("url").map(string).ok_or("`http` needs `url`")?;
                    let status = match m.get("status") {
                        Some(s) => u16::try_from(int(s, "status")?)
                            .map_err(|_| "`status` is not an HTTP status".to_string())?,
                        None => 200,
                    };
                    let insecure = match m.get("insecure") {
                        Some(Json::Bool(b)) => *b,
                        Some(Json::String(s)) => matches!(s.as_str(), "true" | "yes" | "True"),
                        _ => false,
                    };
                    Check::Http {
                        url,
                        status,
                        body: m.get("body").map(string),
                        ca: m.get("ca").map(string),
                        insecure,
                    }
                }
                None => return Err("`http` needs a URL".into()),
            },
            "command" => Check::Command {
                cmd: self.command.clone().unwrap_or_default(),
                expect_rc: self.expect_rc.unwrap_or(0),
            },
            "systemd" => Check::Systemd {
                unit: self.systemd.clone().unwrap_or_default(),
            },
            "pg_replication" => {
                let v = self.pg_replication.as_ref().unwrap_or(&Json::Null);
                let empty = serde_json::Map::new();
                let m = if v.is_null() {
                    &empty
                } else {
                    obj(v, "pg_replication", &["max_lag_bytes", "min_replicas"])?
                };
                Check::PgReplication {
                    max_lag_bytes: m
                        .get("max_lag_bytes")
                        .map(|v| int(v, "max_lag_bytes"))
                        .transpose()?,
                    min_replicas: m
                        .get("min_replicas")
                        .map(|v| int(v, "min_replicas"))
                        .transpose()?
                        .unwrap_or(1),
                }
            }
            "mfs_chunks" => {
                let v = self.mfs_chunks.as_ref().unwrap_or(&Json::Null);
                let m = obj(v, "mfs_chunks", &["master", "min_chunkservers"])?;
                Check::MfsChunks {
                    master: m
                        .get("master")
                        .map(string)
                        .ok_or("`mfs_chunks` needs `master`")?,
                    min_chunkservers: m
                        .get("min_chunkservers")
                        .map(|v| int(v, "min_chunkservers"))
                        .transpose()?
                        .unwrap_or(1),
                }
            }
            "vip" => Check::Vip {
                address: self.vip.clone().unwrap_or_default(),
            },
            _ => {
                let v = self.disk.as_ref().unwrap_or(&Json::Null);
                let m = obj(v, "disk", &["path", "max_used_pct"])?;
                Check::Disk {
                    path: m.get("path").map(string).unwrap_or_else(|| "/".into()),
                    max_used_pct: m
                        .get("max_used_pct")
                        .map(|v| int(v, "max_used_pct"))
                        .transpose()?
                        .unwrap_or(90) as f64,
                }
            }
        })
    }
}

impl Check {
    fn describe(&self) -> String {
        match self {
            Check::Tcp { host, port } => format!("tcp {host}:{port}"),
            Check::Http { url, .. } => format!("http {url}"),
            Check::Command { cmd, .. } => format!("command {cmd}"),
            Check::Systemd { unit } => format!("systemd {unit}"),
            Check::PgReplication { .. } => "postgresql replication".into(),
            Check::MfsChunks { .. } => "moosefs chunk replication".into(),
            Check::Vip { address } => format!("vip {address}"),
            Check::Disk { path, .. } => format!("disk {path}"),
        }
    }

    /// The shell that gathers this check's raw output (judged by [`Check::judge`]).
    pub fn script(&self, timeout: f64) -> String {
        let t = format!("timeout {timeout}");
        match self {
            Check::Tcp { host, port } => format!(
                "{t} bash -c {} && echo open",
                quote(&format!("exec 3<>/dev/tcp/{host}/{port}"))
            ),
            Check::Http {
                url, ca, insecure, ..
            } => {
                let mut opts = String::new();
                if let Some(ca) = ca {
                    opts.push_str(&format!(" --cacert {}", quote(ca)));
                }
                if *insecure {
                    opts.push_str(" -k");
                }
                format!(
                    "b=$(mktemp); code=$(curl -sS -o \"$b\" -w '%{{http_code}}' --max-time {timeout}{opts} {} 2>&1); rc=$?; echo \"$code\"; head -c 4096 \"$b\"; rm -f \"$b\"; exit $rc",
                    quote(url)
                )
            }
            Check::Command { cmd, .. } => format!(
                "o=$(mktemp); {t} sh -c {} > \"$o\" 2>&1; rc=$?; tail -c 2048 \"$o\"; rm -f \"$o\"; exit $rc",
                quote(cmd)
            ),
            Check::Systemd { unit } => format!("systemctl is-active {}", quote(unit)),
            Check::PgReplication { .. } => format!(
                "cd / && {t} runuser -u postgres -- psql -XtA -c {}",
                quote(PG_SQL)
            ),
            Check::MfsChunks { master, .. } => {
                format!("{t} mfscli -H {} -p -SIC -SCS", quote(master))
            }
            Check::Vip { address } => format!(
                "if ip -o addr show | awk '{{print $4}}' | cut -d/ -f1 | grep -qx {}; then echo holds; else echo standby; fi",
                quote(address)
            ),
            Check::Disk { path, .. } => format!("df -Pk {} | tail -1", quote(path)),
        }
    }

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

/// One line: `primary|<streaming replicas>|<max lag bytes>` or
/// `replica|<receiver status>|<receive-replay lag bytes>`.
const PG_SQL: &str = "select case when pg_is_in_recovery() then 'replica|' || coalesce((select status from pg_stat_wal_receiver), 'none') || '|' || greatest(0, coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0))::bigint else 'primary|' || (select count(*) from pg_stat_replication where state = 'streaming') || '|' || coalesce((select max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) from pg_stat_replication), 0)::bigint end";

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

/// Node metrics sampled with the checks.
pub const METRICS_SCRIPT: &str = r#"read -r _ a b c d e f g _ < /proc/stat; t1=$((a+b+c+d+e+f+g)); i1=$((d+e)); sleep 0.2
read -r _ a b c d e f g _ < /proc/stat; t2=$((a+b+c+d+e+f+g)); i2=$((d+e))
echo "cpu_pct $(( (t2-t1) > 0 ? 100 * ((t2-t1) - (i2-i1)) / (t2-t1) : 0 ))"
echo "cpus $(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"
echo "load1 $(cut -d' ' -f1 /proc/loadavg)"
awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{printf "mem_used_pct %.1f\n", t ? 100*(t-a)/t : 0}' /proc/meminfo
df -Pk / | awk 'NR==2{printf "disk_used_pct %.1f\n", $2 ? 100*$3/$2 : 0}'
awk 'NR>2 && $1 != "lo:" {rx+=$2; tx+=$10} END{printf "net_rx_bytes %d\nnet_tx_bytes %d\n", rx, tx}' /proc/net/dev"#;

/// Reads the `name value` lines of [`METRICS_SCRIPT`].
pub fn parse_metrics(out: &str) -> serde_json::Map<String, Json> {
    let mut m = serde_json::Map::new();
    for l in out.lines() {
        if let Some((k, v)) = l.trim().split_once(' ')
            && let Ok(n) = v.trim().parse::<f64>()
        {
            m.insert(k.to_string(), serde_json::json!(n));
        }
    }
    m
}

/// The whole script for a host: metrics, then each check between markers.
pub fn host_script(checks: &[(Check, f64)]) -> String {
    let mut s = String::from("export LC_ALL=C\necho @@metrics\n(\n");
    s.push_str(METRICS_SCRIPT);
    s.push_str("\n) 2>/dev/null\n");
    for (i, (c, timeout)) in checks.iter().enumerate() {
        s.push_str(&format!(
            "echo @@check {i}\n( {} ) 2>&1 < /dev/null; printf '\\n@@rc {i} %d\\n' $?\n",
            c.script(*timeout)
        ));
    }
    s.push_str("echo @@end\n");
    s
}

/// Splits [`host_script`]'s output into the metrics text and each check's `(rc, output)`.
pub fn split_output(out: &str, n: usize) -> (String, Vec<Option<(i64, String)>>) {
    let mut metrics = String::new();
    let mut results: Vec<Option<(i64, String)>> = vec![None; n];
    let mut current: Option<usize> = None;
    let mut buf = String::new();
    let mut in_metrics = false;
    for line in out.lines() {
        if line == "@@metrics" {
            in_metrics = true;
            continue;
        }
        if let Some(i) = line
            .strip_prefix("@@check ")
            .and_then(|v| v.trim().parse().ok())
        {
            in_metrics = false;
            current = Some(i);
            buf.clear();
            continue;
        }
        if let Some(rest) = line.strip_prefix("@@rc ") {
            let mut f = rest.split_whitespace();
            if let (Some(i), Some(rc)) = (
                f.next().and_then(|v| v.parse::<usize>().ok()),
                f.next().and_then(|v| v.parse::<i64>().ok()),
            ) && current == Some(i)
                && i < n
            {
                results[i] = Some((rc, std::mem::take(&mut buf)));
            }
            current = None;
            continue;
        }
        if in_metrics {
            metrics.push_str(line);
            metrics.push('\n');
        } else if current.is_some() {
            buf.push_str(line);
            buf.push('\n');
        }
    }
    (metrics, results)
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

#[cfg(test)]
mod tests;
