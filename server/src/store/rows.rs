//! Records from a row of either backend. The backends differ in how a column holds a flag, a
//! time or a JSON document (SQLite: integers and text; PostgreSQL: booleans, timestamptz,
//! jsonb), not in which columns make a record: each backend reads its columns (`Columns`), and
//! the records are put together here once.

use crate::model::{Role, Run, RunStatus, Schedule, Token, User};
use serde_json::Value as Json;

/// Typed reads of one row's columns, by name.
pub trait Columns {
    type Error;
    fn int(&self, col: &str) -> Result<i64, Self::Error>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, Self::Error>;
    fn text(&self, col: &str) -> Result<String, Self::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, Self::Error>;
    fn flag(&self, col: &str) -> Result<bool, Self::Error>;
    /// A time as the API shows it (`stamp`).
    fn time(&self, col: &str) -> Result<String, Self::Error>;
    fn opt_time(&self, col: &str) -> Result<Option<String>, Self::Error>;
    fn json(&self, col: &str) -> Result<Json, Self::Error>;
}

pub fn user<R: Columns>(r: &R) -> Result<User, R::Error> {
    Ok(User {
        id: r.int("id")?,
        name: r.text("name")?,
        role: Role::parse(&r.text("role")?).unwrap_or(Role::Viewer),
        disabled: r.flag("disabled")?,
        created_at: r.time("created_at")?,
    })
}

pub fn token<R: Columns>(r: &R) -> Result<Token, R::Error> {
    Ok(Token {
        id: r.int("id")?,
        user_id: r.int("user_id")?,
        name: r.text("name")?,
        public_id: r.text("public_id")?,
        scopes: r
            .text("scopes")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        kind: r.text("kind")?,
        expires_at: r.opt_time("expires_at")?,
        revoked: r.flag("revoked")?,
        created_at: r.time("created_at")?,
        last_used_at: r.opt_time("last_used_at")?,
    })
}

pub fn run<R: Columns>(r: &R) -> Result<Run, R::Error> {
    Ok(Run {
        id: r.int("id")?,
        project_id: r.int("project_id")?,
        playbook: r.text("playbook")?,
        inventory: r.text("inventory")?,
        options: serde_json::from_value(r.json("options")?).unwrap_or_default(),
        status: RunStatus::parse(&r.text("status")?).unwrap_or(RunStatus::Failed),
        created_by: r.text("created_by")?,
        schedule_id: r.opt_int("schedule_id")?,
        instance: r.opt_text("instance")?,
        cancel: r.flag("cancel")?,
        created_at: r.time("created_at")?,
        started_at: r.opt_time("started_at")?,
        finished_at: r.opt_time("finished_at")?,
        exit_code: r.opt_int("exit_code")?,
        attempt: r.int("attempt")?,
        retry_of: r.opt_int("retry_of")?,
        revision: r.opt_text("revision")?,
    })
}

pub fn schedule<R: Columns>(r: &R) -> Result<Schedule, R::Error> {
    Ok(Schedule {
        id: r.int("id")?,
        project_id: r.int("project_id")?,
        name: r.text("name")?,
        cron: r.text("cron")?,
        playbook: r.text("playbook")?,
        inventory: r.text("inventory")?,
        options: serde_json::from_value(r.json("options")?).unwrap_or_default(),
        enabled: r.flag("enabled")?,
        next_run_at: r.time("next_run_at")?,
        last_run_id: r.opt_int("last_run_id")?,
        created_at: r.time("created_at")?,
        owner_id: r.opt_int("owner_id")?,
    })
}
