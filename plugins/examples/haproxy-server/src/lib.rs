//! `haproxy_server`: an HAProxy backend server's administrative state, set through the admin
//! socket on the balancer (`socat`), changed only when it differs.
//!
//! ```yaml
//! - haproxy_server: { backend: gateways, server: st1, state: drain }
//! ```
//! Returns `status_before`, `status` (HAProxy's `show stat` status column) and `sessions`
//! (current sessions on the server), so a playbook can wait for an idle server with `until`.

use hoist_plugin_sdk::module::{ArgKind, Call, FileDiff, Module, ModuleInfo, Outcome, target};

struct HaproxyServer;

/// One server's row in `show stat`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    status: String,
    sessions: u64,
}

fn admin(socket: &str, command: &str) -> Result<String, String> {
    let out = target::run(
        &[
            "socat",
            "-t",
            "2",
            "stdio",
            &format!("unix-connect:{socket}"),
        ],
        Some(format!("{command}\n").as_bytes()),
    )?;
    if !out.success() {
        return Err(format!(
            "socat {socket} failed (exit {}): {}",
            out.status,
            out.stderr_str().trim()
        ));
    }
    Ok(out.stdout_str())
}

/// Finds `backend/server` in `show stat` CSV (`# pxname,svname,qcur,qmax,scur,...,status,...`).
fn find(csv: &str, backend: &str, server: &str) -> Result<Row, String> {
    let header = csv
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .ok_or_else(|| format!("unexpected answer from HAProxy: {}", csv.trim()))?;
    let cols: Vec<&str> = header.split(',').collect();
    let col = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or_else(|| format!("HAProxy's show stat has no `{name}` column"))
    };
    let (scur, status) = (col("scur")?, col("status")?);
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.first() == Some(&backend) && f.get(1) == Some(&server) {
            return Ok(Row {
                status: f.get(status).unwrap_or(&"").to_string(),
                sessions: f.get(scur).and_then(|s| s.parse().ok()).unwrap_or(0),
            });
        }
    }
    Err(format!("HAProxy has no server `{backend}/{server}`"))
}

/// Whether `status` already is the administrative state `want`.
fn is_in(status: &str, want: &str) -> bool {
    let maint = status.starts_with("MAINT");
    let drain = status.starts_with("DRAIN");
    match want {
        "maint" => maint,
        "drain" => drain,
        _ => !maint && !drain,
    }
}

impl Module for HaproxyServer {
    fn describe() -> ModuleInfo {
        ModuleInfo::new("Set an HAProxy server's administrative state over the admin socket")
            .required("backend", ArgKind::Str, "backend name")
            .required("server", ArgKind::Str, "server name in the backend")
            .required("state", ArgKind::Str, "ready | drain | maint")
            .optional(
                "socket",
                ArgKind::Path,
                "admin socket (default /run/haproxy/admin.sock)",
            )
    }

    fn run(call: Call) -> Result<Outcome, String> {
        let backend = call.required_str("backend")?;
        let server = call.required_str("server")?;
        let state = call.required_str("state")?;
        if !matches!(state.as_str(), "ready" | "drain" | "maint") {
            return Err(format!(
                "argument `state`: `{state}` is not one of ready, drain, maint"
            ));
        }
        let socket = call
            .str("socket")?
            .unwrap_or_else(|| "/run/haproxy/admin.sock".into());
        let before = find(&admin(&socket, "show stat")?, &backend, &server)?;
        let changed = !is_in(&before.status, &state);
        let mut outcome = Outcome::changed(changed)
            .with("status_before", before.status.clone())
            .with("sessions", before.sessions);
        if changed && call.diff {
            outcome = outcome.diff(FileDiff {
                before_header: format!("{backend}/{server} (before)"),
                after_header: format!("{backend}/{server} (after)"),
                before: format!("{}\n", before.status),
                after: format!("{state}\n"),
            });
        }
        if !changed || call.check {
            return Ok(outcome.with("status", before.status));
        }
        let answer = admin(
            &socket,
            &format!("set server {backend}/{server} state {state}"),
        )?;
        if !answer.trim().is_empty() {
            return Err(format!("HAProxy refused: {}", answer.trim()));
        }
        let after = find(&admin(&socket, "show stat")?, &backend, &server)?;
        if !is_in(&after.status, &state) {
            return Err(format!(
                "{backend}/{server} is {} after setting it to {state}",
                after.status
            ));
        }
        hoist_plugin_sdk::log::info(&format!(
            "{backend}/{server}: {} -> {}",
            before.status, after.status
        ));
        Ok(outcome
            .with("status", after.status)
            .msg(format!("{backend}/{server} set to {state}")))
    }
}

hoist_plugin_sdk::register_module!(HaproxyServer);

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight\n\
gateways,FRONTEND,,,0,1,2000,1,0,0,0,0,0,,,,,OPEN,\n\
gateways,st1,0,0,3,5,,20,0,0,,0,,0,0,0,0,UP,1\n\
gateways,st2,0,0,0,5,,20,0,0,,0,,0,0,0,0,DRAIN,1\n";

    #[test]
    fn reads_a_row() {
        let r = find(STAT, "gateways", "st1").unwrap();
        assert_eq!(
            r,
            Row {
                status: "UP".into(),
                sessions: 3
            }
        );
        assert_eq!(find(STAT, "gateways", "st2").unwrap().status, "DRAIN");
        assert!(
            find(STAT, "gateways", "st9")
                .unwrap_err()
                .contains("no server")
        );
    }

    #[test]
    fn states() {
        assert!(is_in("UP", "ready") && is_in("DOWN", "ready"));
        assert!(is_in("DRAIN", "drain") && !is_in("DRAIN", "ready"));
        assert!(is_in("MAINT (via x)", "maint") && !is_in("MAINT", "drain"));
    }
}
