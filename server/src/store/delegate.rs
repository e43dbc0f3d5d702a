//! `Store`'s operations: each is the same call on whichever backend the server opened.

use super::{AuthFailure, Store, StoreError};
use crate::model::{
    AuditEntry, NewRun, Project, Role, Run, RunOptions, RunStatus, Schedule, Token, User,
};
use serde_json::Value as Json;

/// An argument kept for a second try.
fn again<T: Clone>(t: &T) -> T {
    t.clone()
}

macro_rules! delegate {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$m])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    match self {
                        Store::Sqlite(s) => s.$name($($arg),*).await,
                        // Statements are prepared once per connection; when another instance
                        // changes the schema under them, they are prepared again and the
                        // operation (which failed as a whole) is tried once more.
                        Store::Postgres(p) => match p.$name($(again(&$arg)),*).await {
                            Err(e) if p.forget_stale_statements(&e) => p.$name($($arg),*).await,
                            r => r,
                        },
                    }
                }
            )*
        }
    };
}

delegate! {
    /// The schema version in the database.
    fn schema_version(&self) -> i64;
    fn create_user(&self, name: &str, pw: Option<&str>, role: Role) -> User;
    fn user(&self, name: &str) -> User;
    fn users(&self) -> Vec<User>;
    fn set_role(&self, name: &str, role: Role) -> User;
    fn set_disabled(&self, name: &str, disabled: bool) -> ();
    fn set_password(&self, name: &str, pw: &str) -> ();
    /// Checks a user name and password.
    fn login(&self, name: &str, pw: &str) -> Result<User, AuthFailure>;
    /// A new token for `user_id`; returns it and its text (shown once).
    fn create_token(&self, user_id: i64, name: &str, scopes: &[String], ttl_secs: Option<i64>) -> (Token, String);
    /// The user and token behind `text`, or why not.
    fn authenticate(&self, text: &str) -> Result<(User, Token), AuthFailure>;
    fn revoke_token(&self, id: i64) -> ();
    /// A new login session for `user_id`; returns it and its text.
    fn create_session(&self, user_id: i64, scopes: &[String], ttl_secs: i64) -> (Token, String);
    /// Revokes every token and session of `user_id` but `keep` (a password change).
    fn revoke_user_tokens(&self, user_id: i64, keep: Option<i64>) -> ();
    fn tokens(&self, user_id: i64) -> Vec<Token>;
    fn create_project(&self, name: &str, path: &str) -> Project;
    fn projects(&self) -> Vec<Project>;
    /// Sets `user_id`'s role on `project_id` (`None` removes it).
    fn set_permission(&self, user_id: i64, project_id: i64, role: Option<Role>) -> ();
    /// The highest role a user holds anywhere (globally or on any project).
    fn highest_role(&self, user_id: i64) -> Role;
    /// The per-project role of a user, if one was set.
    fn permission(&self, user_id: i64, project_id: i64) -> Option<Role>;
    fn enqueue(&self, run: NewRun) -> Run;
    /// Takes the oldest queued run for `instance`, if any (each run goes to one claimer).
    fn claim(&self, instance: &str) -> Option<Run>;
    /// Records that `instance` still works on `run_id`; true when a cancel was requested.
    fn heartbeat(&self, run_id: i64, instance: &str) -> bool;
    /// Appends events `first_seq..` (JSON text, already masked) to a run's history.
    fn append_events(&self, run_id: i64, first_seq: i64, events: Vec<String>) -> ();
    /// Records the commit a run works on.
    fn set_run_revision(&self, run_id: i64, revision: &str) -> ();
    /// Events after `after_seq` (at most `limit`), in order.
    fn events(&self, run_id: i64, after_seq: i64, limit: i64) -> Vec<(i64, Json)>;
    /// Ends a run with its per-host results.
    fn finish(&self, run_id: i64, status: RunStatus, exit_code: Option<i64>, hosts: Vec<(String, Json)>) -> ();
    /// Per-host results of a run.
    fn run_hosts(&self, run_id: i64) -> Vec<(String, Json)>;
    /// Asks for a run to stop (queued: at once; running: at its next heartbeat).
    fn request_cancel(&self, run_id: i64) -> Run;
    fn run(&self, id: i64) -> Run;
    /// Runs, newest first: at most `limit`, older than `before` when given.
    fn runs(&self, limit: i64, before: Option<i64>) -> Vec<Run>;
    /// Marks runs of dead instances lost and queues their retries: (lost run, its retry).
    fn reap_lost(&self, stale_secs: i64, max_attempts: i64) -> Vec<(i64, Option<i64>)>;
    fn create_schedule(&self, project_id: i64, name: &str, cron: &str, playbook: &str, inventory: &str, options: &RunOptions) -> Schedule;
    fn schedules(&self) -> Vec<Schedule>;
    fn schedule(&self, id: i64) -> Schedule;
    /// Turns a schedule on or off (turning it on plans its next run from now).
    fn set_schedule_enabled(&self, id: i64, enabled: bool) -> Schedule;
    fn delete_schedule(&self, id: i64) -> ();
    /// Makes `owner_id` the user schedule `id` runs on behalf of.
    fn set_schedule_owner(&self, id: i64, owner_id: i64) -> Schedule;
    /// Queues one run per due schedule, exactly once across instances.
    fn fire_due(&self, by: &str) -> Vec<Run>;
    /// Records a mutating action.
    fn audit(&self, actor: &str, action: &str, target: &str, detail: Json) -> ();
    /// The newest audit entries.
    fn audit_log(&self, limit: i64) -> Vec<AuditEntry>;
}

impl Store {
    #[cfg(test)]
    pub(crate) async fn make_all_schedules_due_for_tests(&self) {
        match self {
            Store::Sqlite(s) => s.make_all_schedules_due_for_tests().await,
            Store::Postgres(p) => p.make_all_schedules_due_for_tests().await,
        }
    }
}
