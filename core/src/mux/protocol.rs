//! What the client and the multiplexer say to each other.

use crate::adhoc::HostResult;
use crate::ssh::{Become, ConnectOptions, ExecOutput, SshConfig, SshError, Target};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One request: run a command on targets, or stop.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Run {
        ssh: SshConfig,
        /// Boxed: the options are much larger than the other variants.
        opts: Box<ConnectOptions>,
        targets: Vec<Target>,
        forks: usize,
        command: String,
    },
    /// Run one command on one host (a playbook task's round trip), as `become_` if set.
    Exec(Box<ExecRequest>),
    /// Close every connection and exit.
    Stop,
}

/// One command for one host.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExecRequest {
    pub ssh: SshConfig,
    pub opts: ConnectOptions,
    pub target: Target,
    pub command: String,
    pub stdin: Option<Vec<u8>>,
    pub become_: Option<Become>,
}

/// The outcome on one host.
#[derive(Debug, Serialize, Deserialize)]
pub struct HostReply {
    pub host: String,
    pub output: Option<ExecOutput>,
    pub error: Option<String>,
    pub unreachable: bool,
    pub elapsed_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Results(Vec<HostReply>),
    Exec(HostReply),
    Stopped,
    Error(String),
}

impl From<HostResult<ExecOutput>> for HostReply {
    fn from(r: HostResult<ExecOutput>) -> Self {
        let elapsed_ms = r.elapsed.as_millis() as u64;
        match r.outcome {
            Ok(o) => HostReply {
                host: r.host,
                output: Some(o),
                error: None,
                unreachable: false,
                elapsed_ms,
            },
            Err(e) => HostReply {
                host: r.host,
                output: None,
                unreachable: e.is_unreachable(),
                error: Some(e.to_string()),
                elapsed_ms,
            },
        }
    }
}

impl From<HostReply> for HostResult<ExecOutput> {
    fn from(r: HostReply) -> Self {
        let outcome = match (r.output, r.error) {
            (Some(o), _) => Ok(o),
            (None, message) => Err(SshError::Relayed {
                message: message.unwrap_or_else(|| format!("{}: no result", r.host)),
                unreachable: r.unreachable,
            }),
        };
        HostResult {
            host: r.host,
            outcome,
            elapsed: Duration::from_millis(r.elapsed_ms),
        }
    }
}
