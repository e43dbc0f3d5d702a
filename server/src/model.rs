//! The control plane's records: users, roles, tokens, projects, runs, audit entries.

use serde::{Deserialize, Serialize};

/// What a user may do: viewers read, operators also start and cancel runs and edit schedules,
/// admins also manage users, tokens of others, projects and permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
}

/// An API token as stored (its secret is only ever shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The token's public part (`hst_<public_id>_<secret>`).
    pub public_id: String,
    /// What the token may do, at most its user's role: `read`, `run`, `admin`.
    pub scopes: Vec<String>,
    /// `session` (from `/login`, for people) or `api` (created for scripts and CI).
    pub kind: String,
    pub expires_at: Option<String>,
    pub revoked: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub path: String,
}

/// A run's state. `lost`: its instance stopped heart-beating mid-run (it can be started again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Ok,
    Failed,
    Unreachable,
    Cancelled,
    Lost,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Unreachable => "unreachable",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "ok" => RunStatus::Ok,
            "failed" => RunStatus::Failed,
            "unreachable" => RunStatus::Unreachable,
            "cancelled" => RunStatus::Cancelled,
            "lost" => RunStatus::Lost,
            _ => return None,
        })
    }

    /// The run is over.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// How to run a playbook (what `hoist run` takes as flags).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOptions {
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: serde_json::Map<String, serde_json::Value>,
    pub check: bool,
    pub diff: bool,
}

impl RunOptions {
    /// These options as the API shows them: the value of an extra var whose name says it is a
    /// secret (`password`, `token`, `secret`, `key`, `credential`, `private`) is masked, as is
    /// any known secret value; what is stored (and run) is unchanged.
    pub fn shown(&self) -> RunOptions {
        let mut o = self.clone();
        for (k, v) in o.extra_vars.iter_mut() {
            mask_secret(k, v);
        }
        let mut all = serde_json::Value::Object(std::mem::take(&mut o.extra_vars));
        hoist_core::secrets::redact_json(&mut all);
        if let serde_json::Value::Object(m) = all {
            o.extra_vars = m;
        }
        o
    }
}

/// Masks `v` when `key` names a secret; looks inside mappings and lists otherwise.
fn mask_secret(key: &str, v: &mut serde_json::Value) {
    let k = key.to_ascii_lowercase();
    let secret = ["pass", "secret", "token", "key", "credential", "private"]
        .iter()
        .any(|w| k.contains(w));
    match v {
        _ if secret => *v = serde_json::Value::String("********".into()),
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                mask_secret(k, v);
            }
        }
        serde_json::Value::Array(a) => {
            for v in a.iter_mut() {
                mask_secret("", v);
            }
        }
        _ => {}
    }
}

impl Run {
    /// The run as the API shows it (secret extra vars masked).
    pub fn shown(mut self) -> Run {
        self.options = self.options.shown();
        self
    }
}

impl Schedule {
    /// The schedule as the API shows it (secret extra vars masked).
    pub fn shown(mut self) -> Schedule {
        self.options = self.options.shown();
        self
    }
}

/// A run to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub project_id: i64,
    pub playbook: String,
    pub inventory: String,
    pub options: RunOptions,
    pub created_by: String,
    pub schedule_id: Option<i64>,
    /// The commit of a git project the run works on.
    pub revision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub project_id: i64,
    pub playbook: String,
    pub inventory: String,
    pub options: RunOptions,
    pub status: RunStatus,
    pub created_by: String,
    pub schedule_id: Option<i64>,
    pub instance: Option<String>,
    pub cancel: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit_code: Option<i64>,
    /// 1 for a run as started; a run queued again after its instance died counts on.
    pub attempt: i64,
    /// The lost run this one retries.
    pub retry_of: Option<i64>,
    /// The commit of a git project the run works on.
    pub revision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

/// A playbook run on a cron schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub cron: String,
    pub playbook: String,
    pub inventory: String,
    pub options: RunOptions,
    pub enabled: bool,
    pub next_run_at: String,
    pub last_run_id: Option<i64>,
    pub created_at: String,
    /// The user it runs on behalf of (checked each time it fires).
    pub owner_id: Option<i64>,
}
