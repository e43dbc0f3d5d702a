//! Health check declarations: the kinds, their arguments, and the checks they resolve to.

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
    pub(super) fn describe(&self) -> String {
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
}
