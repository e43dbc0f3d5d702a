//! The PostgreSQL backend, for teams that outgrow one machine: several `hoist serve` instances
//! share one database. The run queue is claimed with `SELECT … FOR UPDATE SKIP LOCKED` (each
//! queued run goes to exactly one instance, none waits on another), schedules fire by
//! compare-and-set on their next time (exactly once across instances), every time comes from
//! the database's clock, and migrations run under an advisory lock (instances starting together
//! migrate once).

use super::migrate::MIGRATIONS_POSTGRES;
use super::rows::{self, Columns};
use super::{AuthFailure, StoreError, stamp};
use crate::auth::{password, token};
use crate::model::{
    AuditEntry, NewRun, Project, Role, Run, RunOptions, RunStatus, Schedule, Token, User,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde_json::Value as Json;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

/// Key of the advisory lock taken while migrating.
const MIGRATION_LOCK: i64 = 0x686f_6973_7400;

#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    /// Run ids announced by any instance (notify.rs); 0: the queue gained a run.
    changes: tokio::sync::broadcast::Sender<i64>,
    _listener: std::sync::Arc<super::notify::Listener>,
}

type Res<T> = Result<T, StoreError>;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(d) if *d.code() == SqlState::UNIQUE_VIOLATION => {
                StoreError::Exists(d.message().to_string())
            }
            Some(d) => StoreError::Db(format!("{}: {}", d.code().code(), d.message())),
            None => StoreError::Db(chain(&e)),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        let why = match &e {
            deadpool_postgres::PoolError::Backend(b) => chain(b),
            other => chain(other),
        };
        StoreError::Db(format!("PostgreSQL connection: {why}"))
    }
}

/// An error with its causes (tokio-postgres says "error performing TLS handshake" and keeps
/// the reason in its source).
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// PostgreSQL has booleans, timestamptz and jsonb.
impl Columns for Row {
    type Error = tokio_postgres::Error;
    fn int(&self, col: &str) -> Result<i64, Self::Error> {
        self.try_get(col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, Self::Error> {
        self.try_get(col)
    }
    fn text(&self, col: &str) -> Result<String, Self::Error> {
        self.try_get(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, Self::Error> {
        self.try_get(col)
    }
    fn flag(&self, col: &str) -> Result<bool, Self::Error> {
        self.try_get(col)
    }
    fn time(&self, col: &str) -> Result<String, Self::Error> {
        Ok(stamp(self.try_get(col)?))
    }
    fn opt_time(&self, col: &str) -> Result<Option<String>, Self::Error> {
        Ok(self.try_get::<_, Option<DateTime<Utc>>>(col)?.map(stamp))
    }
    fn json(&self, col: &str) -> Result<Json, Self::Error> {
        self.try_get(col)
    }
}

fn user_row(r: &Row) -> Res<User> {
    Ok(rows::user(r)?)
}

fn token_row(r: &Row) -> Res<Token> {
    Ok(rows::token(r)?)
}

fn run_row(r: &Row) -> Res<Run> {
    Ok(rows::run(r)?)
}

fn schedule_row(r: &Row) -> Res<Schedule> {
    Ok(rows::schedule(r)?)
}

fn rows<T>(rows: Vec<Row>, f: fn(&Row) -> Res<T>) -> Res<Vec<T>> {
    rows.iter().map(f).collect()
}

/// The next time of `cron` after the database's now, rounded to what timestamptz keeps.
fn next_time(cron: &str, now: DateTime<Utc>) -> Res<DateTime<Utc>> {
    let next = crate::schedule::next_after(cron, now).map_err(StoreError::Invalid)?;
    DateTime::parse_from_rfc3339(&next)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("next run time `{next}`: {e}")))
}

/// Applies every migration newer than the database's version, holding an advisory lock so
/// instances starting together migrate once.
async fn migrate(c: &mut Object) -> Res<i64> {
    let tx = c.transaction().await?;
    tx.execute(
        &tx.prepare_cached("SELECT pg_advisory_xact_lock($1)")
            .await?,
        &[&MIGRATION_LOCK],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    let current: i64 = tx
        .query_one(
            &tx.prepare_cached("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .await?,
            &[],
        )
        .await?
        .try_get(0)?;
    let known = MIGRATIONS_POSTGRES.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    for m in MIGRATIONS_POSTGRES.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.sql).await?;
        tx.execute(
            &tx.prepare_cached("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .await?,
            &[&m.version, &m.name],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(known)
}

impl Postgres {
    /// Connects to `url` (`postgres://user:password@host:port/db?sslmode=…`, TLS as in libpq:
    /// pg_tls.rs) and migrates the database.
    pub async fn open(url: &str) -> Res<Postgres> {
        let target = super::pg_tls::configure(url)
            .map_err(|e| StoreError::Invalid(format!("PostgreSQL URL: {e}")))?;
        let hints = target.hints;
        let listen = (target.config.clone(), target.tls.clone());
        let manager = Manager::from_config(
            target.config,
            target.tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| StoreError::Db(e.to_string()))?;
        let mut c = pool.get().await.map_err(|e| match StoreError::from(e) {
            StoreError::Db(why) => StoreError::Db(hints.explain(&why)),
            other => other,
        })?;
        migrate(&mut c).await?;
        drop(c);
        let changes = tokio::sync::broadcast::channel(4096).0;
        let listener = super::notify::spawn(listen.0, listen.1, changes.clone());
        Ok(Postgres {
            pool,
            changes,
            _listener: std::sync::Arc::new(listener),
        })
    }

    /// True (and every connection's prepared statements forgotten) when `e` says a prepared
    /// statement no longer fits the schema: another instance migrated the database.
    pub fn forget_stale_statements(&self, e: &StoreError) -> bool {
        let stale = matches!(e, StoreError::Db(m) if m.starts_with("0A000:"));
        if stale {
            self.pool.manager().statement_caches.clear();
        }
        stale
    }

    /// Run ids as instances change them (0: the queue gained a run).
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    async fn conn(&self) -> Res<Object> {
        Ok(self.pool.get().await?)
    }

    /// The schema version in the database.
    pub async fn schema_version(&self) -> Res<i64> {
        let c = self.conn().await?;
        Ok(c.query_one(
            &c.prepare_cached("SELECT MAX(version) FROM schema_migrations")
                .await?,
            &[],
        )
        .await?
        .try_get(0)?)
    }

    // ---- users ----

    pub async fn create_user(&self, name: &str, pw: Option<&str>, role: Role) -> Res<User> {
        super::check_user_name(name)?;
        let hash = match pw {
            Some(pw) => Some(super::hash_password(pw).await?),
            None => None,
        };
        let c = self.conn().await?;
        let r = c
            .query_one(
                &c.prepare_cached(
                    "INSERT INTO users (name, password_hash, role) VALUES ($1, $2, $3) RETURNING *",
                )
                .await?,
                &[&name, &hash, &role.as_str()],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("user `{name}`")),
                o => o,
            })?;
        user_row(&r)
    }

    pub async fn user(&self, name: &str) -> Res<User> {
        let c = self.conn().await?;
        match c
            .query_opt(
                &c.prepare_cached("SELECT * FROM users WHERE name = $1")
                    .await?,
                &[&name],
            )
            .await?
        {
            Some(r) => user_row(&r),
            None => Err(StoreError::NotFound(format!("user `{name}`"))),
        }
    }

    pub async fn users(&self) -> Res<Vec<User>> {
        let c = self.conn().await?;
        rows(
            c.query(
                &c.prepare_cached("SELECT * FROM users ORDER BY name")
                    .await?,
                &[],
            )
            .await?,
            user_row,
        )
    }

    pub async fn set_role(&self, name: &str, role: Role) -> Res<User> {
        let c = self.conn().await?;
        match c
            .query_opt(
                &c.prepare_cached("UPDATE users SET role = $1 WHERE name = $2 RETURNING *")
                    .await?,
                &[&role.as_str(), &name],
            )
            .await?
        {
            Some(r) => user_row(&r),
            None => Err(StoreError::NotFound(format!("user `{name}`"))),
        }
    }

    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Res<()> {
        let c = self.conn().await?;
        match c
            .execute(
                &c.prepare_cached("UPDATE users SET disabled = $1 WHERE name = $2")
                    .await?,
                &[&disabled, &name],
            )
            .await?
        {
            0 => Err(StoreError::NotFound(format!("user `{name}`"))),
            _ => Ok(()),
        }
    }

    pub async fn set_password(&self, name: &str, pw: &str) -> Res<()> {
        let hash = super::hash_password(pw).await?;
        let c = self.conn().await?;
        match c
            .execute(
                &c.prepare_cached("UPDATE users SET password_hash = $1 WHERE name = $2")
                    .await?,
                &[&hash, &name],
            )
            .await?
        {
            0 => Err(StoreError::NotFound(format!("user `{name}`"))),
            _ => Ok(()),
        }
    }

    /// Checks a user name and password (argon2 runs on a blocking thread).
    pub async fn login(&self, name: &str, pw: &str) -> Res<Result<User, AuthFailure>> {
        let c = self.conn().await?;
        let found = match c
            .query_opt(
                &c.prepare_cached("SELECT * FROM users WHERE name = $1")
                    .await?,
                &[&name],
            )
            .await?
        {
            Some(r) => Some((
                user_row(&r)?,
                r.try_get::<_, Option<String>>("password_hash")?,
            )),
            None => None,
        };
        drop(c);
        let pw = pw.to_string();
        password::on_checker(move || super::judge_login(found, &pw))
            .await
            .ok_or_else(|| StoreError::Db("the password threads are gone".into()))
    }

    // ---- tokens ----

    /// A new API token for `user_id`; returns it and its text (shown once).
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        scopes: &[String],
        ttl_secs: Option<i64>,
    ) -> Res<(Token, String)> {
        self.insert_token(user_id, name, "api", scopes, ttl_secs)
            .await
    }

    /// A new login session for `user_id`.
    pub async fn create_session(
        &self,
        user_id: i64,
        scopes: &[String],
        ttl_secs: i64,
    ) -> Res<(Token, String)> {
        self.insert_token(user_id, "session", "session", scopes, Some(ttl_secs))
            .await
    }

    async fn insert_token(
        &self,
        user_id: i64,
        name: &str,
        kind: &str,
        scopes: &[String],
        ttl_secs: Option<i64>,
    ) -> Res<(Token, String)> {
        super::check_scopes(scopes)?;
        let (public, secret, text) = token::generate();
        let c = self.conn().await?;
        let r = c
            .query_one(
&c.prepare_cached("INSERT INTO tokens (user_id, name, kind, public_id, secret_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::bigint)) RETURNING *").await?,
                &[&user_id, &name, &kind, &public, &token::digest(&secret), &scopes.join(","), &ttl_secs],
            )
            .await?;
        Ok((token_row(&r)?, text))
    }

    /// The user and token behind `text`, or why not.
    pub async fn authenticate(&self, text: &str) -> Res<Result<(User, Token), AuthFailure>> {
        let Some((public, secret)) = token::split(text) else {
            return Ok(Err(AuthFailure::BadToken));
        };
        let c = self.conn().await?;
        let Some(r) = c
            .query_opt(
&c.prepare_cached("SELECT t.*, t.expires_at <= now() AS expired, COALESCE(t.last_used_at > now() - interval '60 seconds', FALSE) AS used_lately FROM tokens t WHERE public_id = $1").await?,
                &[&public],
            )
            .await?
        else {
            return Ok(Err(AuthFailure::BadToken));
        };
        let stored: String = r.try_get("secret_hash")?;
        if !token::same(&stored, &token::digest(secret)) {
            return Ok(Err(AuthFailure::BadToken));
        }
        let t = token_row(&r)?;
        if t.revoked {
            return Ok(Err(AuthFailure::Revoked));
        }
        if r.try_get::<_, Option<bool>>("expired")? == Some(true) {
            return Ok(Err(AuthFailure::Expired));
        }
        let u = user_row(
            &c.query_one(
                &c.prepare_cached("SELECT * FROM users WHERE id = $1")
                    .await?,
                &[&t.user_id],
            )
            .await?,
        )?;
        if u.disabled {
            return Ok(Err(AuthFailure::Disabled));
        }
        // Recorded to the minute: a busy client does not turn every read into a write.
        if r.try_get::<_, bool>("used_lately")? {
            return Ok(Ok((u, t)));
        }
        c.execute(
            &c.prepare_cached("UPDATE tokens SET last_used_at = now() WHERE id = $1")
                .await?,
            &[&t.id],
        )
        .await?;
        Ok(Ok((u, t)))
    }

    pub async fn revoke_token(&self, id: i64) -> Res<()> {
        let c = self.conn().await?;
        match c
            .execute(
                &c.prepare_cached("UPDATE tokens SET revoked = TRUE WHERE id = $1")
                    .await?,
                &[&id],
            )
            .await?
        {
            0 => Err(StoreError::NotFound(format!("token {id}"))),
            _ => Ok(()),
        }
    }

    /// Revokes every token and session of `user_id` but `keep` (a password change).
    pub async fn revoke_user_tokens(&self, user_id: i64, keep: Option<i64>) -> Res<()> {
        let c = self.conn().await?;
        c.execute(
            &c.prepare_cached(
                "UPDATE tokens SET revoked = TRUE WHERE user_id = $1 AND id IS DISTINCT FROM $2",
            )
            .await?,
            &[&user_id, &keep],
        )
        .await?;
        Ok(())
    }

    pub async fn tokens(&self, user_id: i64) -> Res<Vec<Token>> {
        let c = self.conn().await?;
        rows(
            c.query(
                &c.prepare_cached("SELECT * FROM tokens WHERE user_id = $1 ORDER BY id")
                    .await?,
                &[&user_id],
            )
            .await?,
            token_row,
        )
    }

    // ---- projects and permissions ----

    pub async fn create_project(&self, name: &str, path: &str) -> Res<Project> {
        let c = self.conn().await?;
        let r = c
            .query_one(
                &c.prepare_cached("INSERT INTO projects (name, path) VALUES ($1, $2) RETURNING id")
                    .await?,
                &[&name, &path],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("project `{name}`")),
                o => o,
            })?;
        Ok(Project {
            id: r.try_get(0)?,
            name: name.to_string(),
            path: path.to_string(),
        })
    }

    pub async fn projects(&self) -> Res<Vec<Project>> {
        let c = self.conn().await?;
        c.query(
            &c.prepare_cached("SELECT id, name, path FROM projects ORDER BY name")
                .await?,
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Project {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                path: r.try_get(2)?,
            })
        })
        .collect()
    }

    /// Sets `user_id`'s role on `project_id` (`None` removes it).
    pub async fn set_permission(
        &self,
        user_id: i64,
        project_id: i64,
        role: Option<Role>,
    ) -> Res<()> {
        let c = self.conn().await?;
        match role {
            Some(r) => c.execute(
&c.prepare_cached("INSERT INTO permissions (user_id, project_id, role) VALUES ($1, $2, $3) ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role").await?,
                &[&user_id, &project_id, &r.as_str()],
            ).await?,
            None => c.execute(
&c.prepare_cached("DELETE FROM permissions WHERE user_id = $1 AND project_id = $2").await?,
                &[&user_id, &project_id],
            ).await?,
        };
        Ok(())
    }

    /// The highest role a user holds anywhere (globally or on any project).
    pub async fn highest_role(&self, user_id: i64) -> Res<Role> {
        let c = self.conn().await?;
        let roles: Vec<String> = c
            .query(
&c.prepare_cached("SELECT role FROM users WHERE id = $1 UNION ALL SELECT role FROM permissions WHERE user_id = $1").await?,
                &[&user_id],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if roles.is_empty() {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        Ok(roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .max()
            .unwrap_or(Role::Viewer))
    }

    /// The per-project role of a user, if one was set.
    pub async fn permission(&self, user_id: i64, project_id: i64) -> Res<Option<Role>> {
        let c = self.conn().await?;
        let r = c
            .query_opt(
                &c.prepare_cached(
                    "SELECT role FROM permissions WHERE user_id = $1 AND project_id = $2",
                )
                .await?,
                &[&user_id, &project_id],
            )
            .await?;
        Ok(match r {
            Some(r) => Role::parse(&r.try_get::<_, String>(0)?),
            None => None,
        })
    }

    // ---- runs ----

    pub async fn enqueue(&self, run: NewRun) -> Res<Run> {
        let opts =
            serde_json::to_value(&run.options).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let c = self.conn().await?;
        let r = c
            .query_one(
&c.prepare_cached("INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id, revision) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7) RETURNING *").await?,
                &[&run.project_id, &run.playbook, &run.inventory, &opts, &run.created_by, &run.schedule_id, &run.revision],
            )
            .await?;
        run_row(&r)
    }

    /// Takes the oldest queued run nobody else is taking (`FOR UPDATE SKIP LOCKED`).
    pub async fn claim(&self, instance: &str) -> Res<Option<Run>> {
        let c = self.conn().await?;
        let r = c
            .query_opt(
&c.prepare_cached("UPDATE runs SET status = 'running', instance = $1, started_at = now(), heartbeat_at = now() \
                 WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING *").await?,
                &[&instance],
            )
            .await?;
        r.as_ref().map(run_row).transpose()
    }

    /// Records that `instance` still works on `run_id`; true when a cancel was requested.
    pub async fn heartbeat(&self, run_id: i64, instance: &str) -> Res<bool> {
        let c = self.conn().await?;
        c.execute(
&c.prepare_cached("UPDATE runs SET heartbeat_at = now() WHERE id = $1 AND instance = $2 AND status = 'running'").await?,
            &[&run_id, &instance],
        )
        .await?;
        Ok(c.query_one(
            &c.prepare_cached("SELECT cancel FROM runs WHERE id = $1")
                .await?,
            &[&run_id],
        )
        .await?
        .try_get(0)?)
    }

    /// Appends events `first_seq..` (JSON text, already masked) to a run's history.
    pub async fn append_events(&self, run_id: i64, first_seq: i64, events: Vec<String>) -> Res<()> {
        let c = self.conn().await?;
        let seqs: Vec<i64> = (0..events.len() as i64).map(|i| first_seq + i).collect();
        c.execute(
&c.prepare_cached("INSERT INTO run_events (run_id, seq, event) SELECT $1, s, e FROM unnest($2::bigint[], $3::text[]) AS t(s, e)").await?,
            &[&run_id, &seqs, &events],
        )
        .await?;
        Ok(())
    }

    /// Records the commit a run works on (a git project's run started without one).
    pub async fn set_run_revision(&self, run_id: i64, revision: &str) -> Res<()> {
        let c = self.conn().await?;
        c.execute(
            &c.prepare_cached("UPDATE runs SET revision = $1 WHERE id = $2")
                .await?,
            &[&revision, &run_id],
        )
        .await?;
        Ok(())
    }

    /// Events after `after_seq` (at most `limit`), in order.
    pub async fn events(&self, run_id: i64, after_seq: i64, limit: i64) -> Res<Vec<(i64, Json)>> {
        let c = self.conn().await?;
        c.query(
&c.prepare_cached("SELECT seq, event FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3").await?,
            &[&run_id, &after_seq, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            let text: String = r.try_get(1)?;
            Ok((
                r.try_get(0)?,
                serde_json::from_str(&text).unwrap_or(Json::Null),
            ))
        })
        .collect()
    }

    /// Ends a run with its per-host results.
    pub async fn finish(
        &self,
        run_id: i64,
        status: RunStatus,
        exit_code: Option<i64>,
        hosts: Vec<(String, Json)>,
    ) -> Res<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.execute(
            &tx.prepare_cached(
                "UPDATE runs SET status = $1, exit_code = $2, finished_at = now() WHERE id = $3",
            )
            .await?,
            &[&status.as_str(), &exit_code, &run_id],
        )
        .await?;
        for (h, stats) in hosts {
            tx.execute(
&tx.prepare_cached("INSERT INTO run_hosts (run_id, host, stats) VALUES ($1, $2, $3) ON CONFLICT (run_id, host) DO UPDATE SET stats = excluded.stats").await?,
                &[&run_id, &h, &stats],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Per-host results of a run.
    pub async fn run_hosts(&self, run_id: i64) -> Res<Vec<(String, Json)>> {
        let c = self.conn().await?;
        c.query(
            &c.prepare_cached("SELECT host, stats FROM run_hosts WHERE run_id = $1 ORDER BY host")
                .await?,
            &[&run_id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }

    /// Asks for a run to stop: a queued run is cancelled at once, a running one at its next
    /// heartbeat.
    pub async fn request_cancel(&self, run_id: i64) -> Res<Run> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let run = match tx
            .query_opt(
                &tx.prepare_cached("SELECT * FROM runs WHERE id = $1 FOR UPDATE")
                    .await?,
                &[&run_id],
            )
            .await?
        {
            Some(r) => run_row(&r)?,
            None => return Err(StoreError::NotFound(format!("run {run_id}"))),
        };
        let sql = match run.status {
            RunStatus::Queued => {
                "UPDATE runs SET status = 'cancelled', cancel = TRUE, finished_at = now() WHERE id = $1 RETURNING *"
            }
            RunStatus::Running => "UPDATE runs SET cancel = TRUE WHERE id = $1 RETURNING *",
            s => {
                return Err(StoreError::Invalid(format!(
                    "run {run_id} is already {}",
                    s.as_str()
                )));
            }
        };
        let run = run_row(
            &tx.query_one(&tx.prepare_cached(sql).await?, &[&run_id])
                .await?,
        )?;
        tx.commit().await?;
        Ok(run)
    }

    pub async fn run(&self, id: i64) -> Res<Run> {
        let c = self.conn().await?;
        match c
            .query_opt(
                &c.prepare_cached("SELECT * FROM runs WHERE id = $1").await?,
                &[&id],
            )
            .await?
        {
            Some(r) => run_row(&r),
            None => Err(StoreError::NotFound(format!("run {id}"))),
        }
    }

    /// Runs, newest first: at most `limit`, older than `before` when given.
    pub async fn runs(&self, limit: i64, before: Option<i64>) -> Res<Vec<Run>> {
        let c = self.conn().await?;
        rows(
            c.query(
                &c.prepare_cached("SELECT * FROM runs WHERE id < $1 ORDER BY id DESC LIMIT $2")
                    .await?,
                &[&before.unwrap_or(i64::MAX), &limit],
            )
            .await?,
            run_row,
        )
    }

    /// Marks running runs whose heartbeat is older than `stale_secs` (by the database's
    /// clock) as lost and queues each again while it has attempts left; returns (lost run, its
    /// retry). Rows another instance is reaping are skipped, so each is reaped once.
    pub async fn reap_lost(
        &self,
        stale_secs: i64,
        max_attempts: i64,
    ) -> Res<Vec<(i64, Option<i64>)>> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let lost = rows(
            tx.query(
&tx.prepare_cached("UPDATE runs SET status = 'lost', finished_at = now() WHERE id IN \
                 (SELECT id FROM runs WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1::bigint) FOR UPDATE SKIP LOCKED) \
                 RETURNING *").await?,
                &[&stale_secs],
            )
            .await?,
            run_row,
        )?;
        let mut out = Vec::new();
        for run in &lost {
            let retry = if run.attempt < max_attempts && !run.cancel {
                let r = tx
                    .query_one(
&tx.prepare_cached("INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id, attempt, retry_of, revision) \
                         SELECT project_id, playbook, inventory, options, 'queued', created_by, schedule_id, attempt + 1, id, revision FROM runs WHERE id = $1 RETURNING id").await?,
                        &[&run.id],
                    )
                    .await?;
                Some(r.try_get::<_, i64>(0)?)
            } else {
                None
            };
            tx.execute(
&tx.prepare_cached("INSERT INTO audit (actor, action, target, detail) VALUES ('hoist', 'run.lost', $1, $2)").await?,
                &[&format!("run {}", run.id), &super::lost_detail(run, retry)],
            )
            .await?;
            out.push((run.id, retry));
        }
        tx.commit().await?;
        Ok(out)
    }

    // ---- schedules ----

    /// A new schedule (its first run is the next time the pattern matches).
    pub async fn create_schedule(
        &self,
        project_id: i64,
        name: &str,
        cron: &str,
        playbook: &str,
        inventory: &str,
        options: &RunOptions,
    ) -> Res<Schedule> {
        super::check_schedule_name(name)?;
        let c = self.conn().await?;
        let now = self.db_now(&c).await?;
        let next = next_time(cron, now)?;
        let opts = serde_json::to_value(options).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let r = c
            .query_one(
&c.prepare_cached("INSERT INTO schedules (project_id, name, cron, playbook, inventory, options, next_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *").await?,
                &[&project_id, &name, &cron, &playbook, &inventory, &opts, &next],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("schedule `{name}`")),
                o => o,
            })?;
        schedule_row(&r)
    }

    async fn db_now(&self, c: &Object) -> Res<DateTime<Utc>> {
        Ok(c.query_one(&c.prepare_cached("SELECT now()").await?, &[])
            .await?
            .try_get(0)?)
    }

    pub async fn schedules(&self) -> Res<Vec<Schedule>> {
        let c = self.conn().await?;
        rows(
            c.query(
                &c.prepare_cached("SELECT * FROM schedules ORDER BY project_id, name")
                    .await?,
                &[],
            )
            .await?,
            schedule_row,
        )
    }

    pub async fn schedule(&self, id: i64) -> Res<Schedule> {
        let c = self.conn().await?;
        match c
            .query_opt(
                &c.prepare_cached("SELECT * FROM schedules WHERE id = $1")
                    .await?,
                &[&id],
            )
            .await?
        {
            Some(r) => schedule_row(&r),
            None => Err(StoreError::NotFound(format!("schedule {id}"))),
        }
    }

    /// Turns a schedule on or off (turning it on plans its next run from now).
    pub async fn set_schedule_enabled(&self, id: i64, enabled: bool) -> Res<Schedule> {
        let s = self.schedule(id).await?;
        let c = self.conn().await?;
        let next = next_time(&s.cron, self.db_now(&c).await?)?;
        let r = c
            .query_one(
                &c.prepare_cached(
                    "UPDATE schedules SET enabled = $1, next_run_at = $2 WHERE id = $3 RETURNING *",
                )
                .await?,
                &[&enabled, &next, &id],
            )
            .await?;
        schedule_row(&r)
    }

    /// Makes `owner_id` the user schedule `id` runs on behalf of.
    pub async fn set_schedule_owner(&self, id: i64, owner_id: i64) -> Res<Schedule> {
        let c = self.conn().await?;
        let r = c
            .query_opt(
                &c.prepare_cached("UPDATE schedules SET owner_id = $1 WHERE id = $2 RETURNING *")
                    .await?,
                &[&owner_id, &id],
            )
            .await?
            .ok_or(StoreError::NotFound(format!("schedule {id}")))?;
        schedule_row(&r)
    }

    pub async fn delete_schedule(&self, id: i64) -> Res<()> {
        let c = self.conn().await?;
        match c
            .execute(
                &c.prepare_cached("DELETE FROM schedules WHERE id = $1")
                    .await?,
                &[&id],
            )
            .await?
        {
            0 => Err(StoreError::NotFound(format!("schedule {id}"))),
            _ => Ok(()),
        }
    }

    /// Queues one run for every enabled schedule that is due and moves it to its next time,
    /// one transaction per schedule with a compare-and-set on `next_run_at`: however many
    /// instances fire at once, a due time yields exactly one run.
    pub async fn fire_due(&self, by: &str) -> Res<Vec<Run>> {
        let mut c = self.conn().await?;
        let due: Vec<(i64, DateTime<Utc>, Schedule, bool)> = c
            .query(
                &c.prepare_cached(&format!(
                    "SELECT s.*, {} AS owner_ok FROM schedules s {} WHERE s.enabled AND s.next_run_at <= now() ORDER BY s.next_run_at",
                    super::OWNER_MAY_RUN, super::OWNER_JOIN
                ))
                .await?,
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("next_run_at")?,
                    schedule_row(r)?,
                    r.try_get::<_, i32>("owner_ok")? != 0,
                ))
            })
            .collect::<Res<_>>()?;
        let now = self.db_now(&c).await?;
        let mut fired = Vec::new();
        for (id, was, s, owner_ok) in due {
            let next = next_time(&s.cron, now)?;
            let tx = c.transaction().await?;
            let won = tx
                .execute(
&tx.prepare_cached("UPDATE schedules SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3 AND enabled").await?,
                    &[&next, &id, &was],
                )
                .await?;
            if won == 1 && !owner_ok {
                tx.execute(
&tx.prepare_cached("INSERT INTO audit (actor, action, target, detail) VALUES ($1, 'schedule.skipped', $2, $3)").await?,
                    &[&by, &s.name, &serde_json::json!({"schedule": id, "reason": super::OWNER_REFUSED})],
                )
                .await?;
            } else if won == 1 {
                let opts = serde_json::to_value(&s.options).unwrap_or(Json::Null);
                let run = run_row(
                    &tx.query_one(
&tx.prepare_cached("INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id) VALUES ($1, $2, $3, $4, 'queued', $5, $6) RETURNING *").await?,
                        &[&s.project_id, &s.playbook, &s.inventory, &opts, &format!("schedule:{}", s.name), &id],
                    )
                    .await?,
                )?;
                tx.execute(
                    &tx.prepare_cached("UPDATE schedules SET last_run_id = $1 WHERE id = $2")
                        .await?,
                    &[&run.id, &id],
                )
                .await?;
                tx.execute(
&tx.prepare_cached("INSERT INTO audit (actor, action, target, detail) VALUES ($1, 'run.start', $2, $3)").await?,
                    &[&by, &format!("run {}", run.id), &serde_json::json!({"schedule": s.name, "via": "schedule"})],
                )
                .await?;
                fired.push(run);
            }
            tx.commit().await?;
        }
        Ok(fired)
    }

    #[cfg(test)]
    pub(crate) async fn make_all_schedules_due_for_tests(&self) {
        if let Ok(c) = self.conn().await {
            let _ = c
                .batch_execute("UPDATE schedules SET next_run_at = '2000-01-01T00:00:00Z'")
                .await;
        }
    }

    // ---- audit ----

    /// Records a mutating action.
    pub async fn audit(&self, actor: &str, action: &str, target: &str, detail: Json) -> Res<()> {
        let c = self.conn().await?;
        c.execute(
            &c.prepare_cached(
                "INSERT INTO audit (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
            )
            .await?,
            &[&actor, &action, &target, &detail],
        )
        .await?;
        Ok(())
    }

    /// The newest audit entries.
    pub async fn audit_log(&self, limit: i64) -> Res<Vec<AuditEntry>> {
        let c = self.conn().await?;
        c.query(
            &c.prepare_cached(
                "SELECT id, at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT $1",
            )
            .await?,
            &[&limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                at: stamp(r.try_get(1)?),
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                target: r.try_get(4)?,
                detail: r.try_get(5)?,
            })
        })
        .collect()
    }
}
