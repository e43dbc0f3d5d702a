//! `wait_for`: wait on the host until a TCP port opens or closes, a file appears (optionally
//! holding a pattern — Python's `re`, matched on the controller with its groups returned) or
//! goes away, or a fixed time passes.

use crate::modules::types::{Int, Seconds, Text};
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitFor {
    host: Option<Text>,
    port: Option<Int>,
    path: Option<Text>,
    state: Option<String>,
    timeout: Option<Seconds>,
    delay: Option<Seconds>,
    sleep: Option<Seconds>,
    connect_timeout: Option<Seconds>,
    search_regex: Option<String>,
    msg: Option<String>,
    active_connection_states: Option<serde_json::Value>,
    exclude_hosts: Option<serde_json::Value>,
}

/// The shell test that is true once the condition holds.
pub fn condition(
    host: &str,
    port: Option<i64>,
    path: Option<&str>,
    state: &str,
    regex: Option<&str>,
    connect: f64,
) -> Result<String, String> {
    let probe =
        |p: i64| format!("timeout {connect} bash -c 'exec 3<>/dev/tcp/{host}/{p}' 2>/dev/null");
    Ok(match (port, path, state) {
        (Some(p), None, "started" | "present") => probe(p),
        (Some(p), None, "stopped" | "absent") => format!("! {}", probe(p)),
        (Some(p), None, "drained") => {
            format!("[ -z \"$(ss -Htn state established '( sport = :{p} )' 2>/dev/null)\" ]")
        }
        (None, Some(f), "present" | "started") => match regex {
            Some(r) => format!("grep -Eq {} {} 2>/dev/null", quote(r), quote(f)),
            None => format!("[ -e {} ]", quote(f)),
        },
        (None, Some(f), "absent" | "stopped") => format!("[ ! -e {} ]", quote(f)),
        (Some(_), Some(_), _) => return Err("give `port` or `path`, not both".into()),
        (None, None, _) => "true".into(),
        (_, _, other) => return Err(format!("state `{other}` does not apply here")),
    })
}

impl Module for WaitFor {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.active_connection_states, &self.exclude_hosts);
        let timeout = self
            .timeout
            .map(|t| t.0)
            .unwrap_or(300.0)
            .clamp(0.0, 86_400.0);
        let delay = self.delay.map(|d| d.0).unwrap_or(0.0).clamp(0.0, 86_400.0);
        let sleep = self.sleep.map(|s| s.0).unwrap_or(1.0).clamp(0.05, 3600.0);
        let state = self.state.clone().unwrap_or_else(|| "started".into());
        let host = self
            .host
            .as_ref()
            .map(|h| h.0.clone())
            .unwrap_or_else(|| "127.0.0.1".into());
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
        {
            return fail(format!("`{host}` is not a host name or address"));
        }
        let connect = self
            .connect_timeout
            .map(|c| c.0)
            .unwrap_or(5.0)
            .clamp(0.1, 600.0);
        let cond = condition(
            &host,
            self.port.map(|p| p.0),
            self.path.as_ref().map(|p| p.0.as_str()),
            &state,
            self.search_regex.as_deref(),
            connect,
        )
        .map_err(crate::modules::ModuleError::Args)?;
        // As ansible-core: with nothing to wait for, it sleeps `delay` and then `timeout`;
        // `elapsed` counts from before the delay.
        if self.port.is_none() && self.path.is_none() {
            let started = std::time::Instant::now();
            tokio::time::sleep(std::time::Duration::from_secs_f64(delay + timeout)).await;
            return Ok(Outcome::ok()
                .with("elapsed", started.elapsed().as_secs())
                .with("state", state));
        }
        // A pattern in a file is Python's `re` (named groups, look-around), matched here on
        // what is read from the host, as ansible-core matches it there.
        if let (Some(f), Some(r), "present" | "started") =
            (&self.path, &self.search_regex, state.as_str())
        {
            let re = fancy_regex::Regex::new(&format!("(?m){r}"))
                .map_err(|e| crate::modules::ModuleError::Args(format!("search_regex: {e}")))?;
            let started = std::time::Instant::now();
            tokio::time::sleep(std::time::Duration::from_secs_f64(delay)).await;
            let deadline = started + std::time::Duration::from_secs_f64(delay + timeout);
            let remote = ctx.remote()?;
            loop {
                let out = remote
                    .exec(&format!("cat -- {} 2>/dev/null", quote(&f.0)), None)
                    .await?;
                let text = String::from_utf8_lossy(&out.stdout);
                if out.status == Some(0)
                    && let Ok(Some(caps)) = re.captures(text.as_ref())
                {
                    let groups: Vec<serde_json::Value> = caps
                        .iter()
                        .skip(1)
                        .map(|g| {
                            g.map(|m| m.as_str().into())
                                .unwrap_or(serde_json::Value::Null)
                        })
                        .collect();
                    let named: serde_json::Map<String, serde_json::Value> = re
                        .capture_names()
                        .flatten()
                        .map(|n| {
                            let v = caps
                                .name(n)
                                .map(|m| m.as_str().into())
                                .unwrap_or(serde_json::Value::Null);
                            (n.to_string(), v)
                        })
                        .collect();
                    let mut out = Outcome::ok()
                        .with("elapsed", started.elapsed().as_secs())
                        .with("state", state)
                        .with("path", f.0.clone())
                        .with("port", serde_json::Value::Null)
                        .with("search_regex", r.clone())
                        .with("match_groups", groups)
                        .with("match_groupdict", named);
                    crate::modules::files_common::add_path_info(remote, &f.0, &mut out).await?;
                    return Ok(out);
                }
                if std::time::Instant::now() >= deadline {
                    return Ok(timed_out(
                        self.msg.clone().unwrap_or_else(|| {
                            format!("Timeout when waiting for search string {r} in {}", f.0)
                        }),
                        timeout,
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_secs_f64(sleep)).await;
            }
        }
        let script = format!(
            "start=$(date +%s); sleep {delay}; end=$(($(date +%s) + {t})); while :; do if {cond}; then echo $(( $(date +%s) - start )); exit 0; fi; [ $(date +%s) -ge $end ] && exit 3; sleep {sleep}; done",
            t = timeout.ceil() as u64
        );
        let remote = ctx.remote()?;
        let out = remote.exec(&script, None).await?;
        match out.status {
            Some(0) => {
                let mut done = Outcome::ok()
                    .with(
                        "elapsed",
                        out.stdout_str().trim().parse::<u64>().unwrap_or(0),
                    )
                    .with("state", state)
                    .with("port", self.port.map(|p| p.0))
                    .with("path", self.path.as_ref().map(|p| p.0.clone()))
                    .with("search_regex", self.search_regex.clone())
                    .with("match_groups", serde_json::json!([]))
                    .with("match_groupdict", serde_json::json!({}));
                if let Some(p) = &self.path {
                    crate::modules::files_common::add_path_info(remote, &p.0, &mut done).await?;
                }
                Ok(done)
            }
            Some(3) => Ok(timed_out(
                self.msg.unwrap_or_else(|| {
                    format!(
                        "Timeout when waiting for {}",
                        match (&self.port, &self.path) {
                            (Some(p), _) if state == "stopped" || state == "absent" => {
                                format!("{host}:{} to stop.", p.0)
                            }
                            (Some(p), _) if state == "drained" => {
                                format!("{host}:{} to drain", p.0)
                            }
                            (Some(p), _) => match &self.search_regex {
                                Some(r) => format!("search string {r} in {host}:{}", p.0),
                                None => format!("{host}:{}", p.0),
                            },
                            (_, Some(p)) if state == "absent" => format!("{} to be absent.", p.0),
                            (_, Some(p)) => format!("file {}", p.0),
                            _ => String::new(),
                        }
                    )
                }),
                timeout,
            )),
            _ => fail(format!(
                "wait_for could not run: {}",
                out.stderr_str().trim()
            )),
        }
    }
}

/// The failure at the end of the wait: ansible-core's message and `elapsed` (the whole
/// seconds waited, which is the timeout).
fn timed_out(msg: String, timeout: f64) -> Outcome {
    let mut o = Outcome::ok()
        .msg(msg)
        .with("elapsed", timeout.floor() as u64);
    o.failed = true;
    o
}
