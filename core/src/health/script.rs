//! The shell a host runs for its checks and metrics, and how its output is split back.

use super::spec::Check;
use crate::ssh::shell::quote;
use serde_json::Value as Json;

impl Check {
    /// The shell that gathers this check's raw output (judged by [`Check::judge`]).
    pub fn script(&self, timeout: f64) -> String {
        let t = format!("timeout {timeout}");
        match self {
            // The host is an argument of bash, never part of its script.
            Check::Tcp { host, port } => format!(
                "{t} bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' hoist-tcp {} {port} && echo open",
                quote(host)
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
}

/// One line: `primary|<streaming replicas>|<max lag bytes>` or
/// `replica|<receiver status>|<receive-replay lag bytes>`.
const PG_SQL: &str = "select case when pg_is_in_recovery() then 'replica|' || coalesce((select status from pg_stat_wal_receiver), 'none') || '|' || greatest(0, coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0))::bigint else 'primary|' || (select count(*) from pg_stat_replication where state = 'streaming') || '|' || coalesce((select max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) from pg_stat_replication), 0)::bigint end";

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
