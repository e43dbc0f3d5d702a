//! The embedded SQLite backend: one file (WAL, foreign keys on), used from blocking threads.
//! Every write goes through one connection; reads go to a few read-only connections, which WAL
//! lets read side by side with the writer (each sees what was committed when it starts), so
//! listing runs or checking a token never waits behind a write. A single `hoist serve` owns the
//! queue; claiming a run is one `BEGIN IMMEDIATE` transaction, so two claimers never get the
//! same run.

use super::migrate::MIGRATIONS_SQLITE;
use super::rows::{self, Columns};
use super::{AuthFailure, StoreError, now};
use super::{OWNER_JOIN, OWNER_MAY_RUN};
use crate::auth::{password, token};
use crate::model::{
    AuditEntry, NewRun, Project, Role, Run, RunOptions, RunStatus, Schedule, Token, User,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Read-only connections beside the writer.
const READERS: usize = 4;

#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<AtomicUsize>,
}

type Res<T> = Result<T, StoreError>;

/// SQLite keeps flags as integers, times as RFC 3339 text, JSON as text.
impl Columns for Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, col: &str) -> rusqlite::Result<i64> {
        self.get(col)
    }
    fn opt_int(&self, col: &str) -> rusqlite::Result<Option<i64>> {
        self.get(col)
    }
    fn text(&self, col: &str) -> rusqlite::Result<String> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> rusqlite::Result<Option<String>> {
        self.get(col)
    }
    fn flag(&self, col: &str) -> rusqlite::Result<bool> {
        Ok(self.get::<_, i64>(col)? != 0)
    }
    fn time(&self, col: &str) -> rusqlite::Result<String> {
        self.get(col)
    }
    fn opt_time(&self, col: &str) -> rusqlite::Result<Option<String>> {
        self.get(col)
    }
    fn json(&self, col: &str) -> rusqlite::Result<Json> {
        Ok(serde_json::from_str(&self.get::<_, String>(col)?).unwrap_or(Json::Null))
    }
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    rows::user(r)
}

fn token_row(r: &Row<'_>) -> rusqlite::Result<Token> {
    rows::token(r)
}

fn run_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    rows::run(r)
}

fn schedule_row(r: &Row<'_>) -> rusqlite::Result<Schedule> {
    rows::schedule(r)
}

/// Applies every migration newer than the database's version.
fn migrate(c: &mut Connection) -> Res<i64> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current: i64 = c.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = MIGRATIONS_SQLITE.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    for m in MIGRATIONS_SQLITE.iter().filter(|m| m.version > current) {
        let tx = c.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now()],
        )?;
        tx.commit()?;
    }
    Ok(known)
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path` and migrates it. The database holds
    /// password hashes, token digests and run history: a directory hoist makes is 0700, and the
    /// file is made 0600 before SQLite opens it (its WAL and shared-memory files take the
    /// file's mode); an existing file others may read is made private.
    pub async fn open(path: &Path) -> Res<Sqlite> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        let fail = |what: &Path, e: std::io::Error| {
            StoreError::Db(format!("cannot prepare {}: {e}", what.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| fail(dir, e))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| fail(path, e))?;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            if let Ok(m) = std::fs::metadata(&p)
                && m.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| fail(&p, e))?;
            }
        }
        let path = path.to_path_buf();
        let (conn, readers) = tokio::task::spawn_blocking(move || -> Res<_> {
            let mut c = Connection::open(&path)?;
            c.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )?;
            c.busy_timeout(std::time::Duration::from_secs(10))?;
            migrate(&mut c)?;
            let readers = (0..READERS)
                .map(|_| {
                    let r = Connection::open(&path)?;
                    r.execute_batch("PRAGMA query_only = ON;")?;
                    r.busy_timeout(std::time::Duration::from_secs(10))?;
                    Ok(Mutex::new(r))
                })
                .collect::<Res<Vec<_>>>()?;
            Ok((c, readers))
        })
        .await
        .map_err(|e| StoreError::Db(e.to_string()))??;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            readers: readers.into(),
            next_reader: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Runs `f` with the writing connection on a blocking thread.
    async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Res<R> + Send + 'static,
    ) -> Res<R> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn
                .lock()
                .map_err(|_| StoreError::Db("connection poisoned".into()))?;
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Db(e.to_string()))?
    }

    /// Runs `f` with a read-only connection on a blocking thread: a free one, else the next in
    /// turn.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Res<R> + Send + 'static,
    ) -> Res<R> {
        let (readers, first) = (
            self.readers.clone(),
            self.next_reader.fetch_add(1, Ordering::Relaxed),
        );
        tokio::task::spawn_blocking(move || {
            let n = readers.len();
            let free = (0..n).find_map(|k| readers[(first + k) % n].try_lock().ok());
            let c = match free {
                Some(c) => c,
                None => readers[first % n]
                    .lock()
                    .map_err(|_| StoreError::Db("connection poisoned".into()))?,
            };
            f(&c)
        })
        .await
        .map_err(|e| StoreError::Db(e.to_string()))?
    }

    /// The schema version in the database.
    pub async fn schema_version(&self) -> Res<i64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    // ---- users ----

    pub async fn create_user(&self, name: &str, pw: Option<&str>, role: Role) -> Res<User> {
        super::check_user_name(name)?;
        let hash = match pw {
            Some(pw) => Some(super::hash_password(pw).await?),
            None => None,
        };
        let name = name.to_string();
        self.with(move |c| {
            c.execute(
                "INSERT INTO users (name, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, hash, role.as_str(), now()],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("user `{name}`")),
                o => o,
            })?;
            Ok(c.query_row("SELECT * FROM users WHERE name = ?1", [&name], user_row)?)
        })
        .await
    }

    pub async fn user(&self, name: &str) -> Res<User> {
        let name = name.to_string();
        self.read(move |c| {
            c.query_row("SELECT * FROM users WHERE name = ?1", [&name], user_row)
                .optional()?
                .ok_or(StoreError::NotFound(format!("user `{name}`")))
        })
        .await
    }

    pub async fn users(&self) -> Res<Vec<User>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT * FROM users ORDER BY name")?;
            let rows = st.query_map([], user_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub async fn set_role(&self, name: &str, role: Role) -> Res<User> {
        let n = name.to_string();
        self.with(move |c| {
            let changed = c.execute(
                "UPDATE users SET role = ?1 WHERE name = ?2",
                params![role.as_str(), n],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("user `{n}`")));
            }
            Ok(c.query_row("SELECT * FROM users WHERE name = ?1", [&n], user_row)?)
        })
        .await
    }

    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Res<()> {
        let n = name.to_string();
        self.with(move |c| {
            match c.execute(
                "UPDATE users SET disabled = ?1 WHERE name = ?2",
                params![disabled as i64, n],
            )? {
                0 => Err(StoreError::NotFound(format!("user `{n}`"))),
                _ => Ok(()),
            }
        })
        .await
    }

    pub async fn set_password(&self, name: &str, pw: &str) -> Res<()> {
        let hash = super::hash_password(pw).await?;
        let n = name.to_string();
        self.with(move |c| {
            match c.execute(
                "UPDATE users SET password_hash = ?1 WHERE name = ?2",
                params![hash, n],
            )? {
                0 => Err(StoreError::NotFound(format!("user `{n}`"))),
                _ => Ok(()),
            }
        })
        .await
    }

    /// Checks a user name and password (argon2 runs off the async threads).
    pub async fn login(&self, name: &str, pw: &str) -> Res<Result<User, AuthFailure>> {
        let (n, pw) = (name.to_string(), pw.to_string());
        let found = self
            .read(move |c| {
                Ok(
                    c.query_row("SELECT * FROM users WHERE name = ?1", [&n], |r| {
                        Ok((user_row(r)?, r.get::<_, Option<String>>("password_hash")?))
                    })
                    .optional()?,
                )
            })
            .await?;
        // The password hash is checked off the connections (argon2 takes a while).
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
        kind: &'static str,
        scopes: &[String],
        ttl_secs: Option<i64>,
    ) -> Res<(Token, String)> {
        super::check_scopes(scopes)?;
        let (public, secret, text) = token::generate();
        let (name, scopes) = (name.to_string(), scopes.join(","));
        let expires = ttl_secs.map(super::in_secs);
        let t = self
            .with(move |c| {
                c.execute(
                    "INSERT INTO tokens (user_id, name, kind, public_id, secret_hash, scopes, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![user_id, name, kind, public, token::digest(&secret), scopes, expires, now()],
                )?;
                Ok(c.query_row("SELECT * FROM tokens WHERE public_id = ?1", [&public], token_row)?)
            })
            .await?;
        Ok((t, text))
    }

    /// The user and token behind `text`, or why not.
    pub async fn authenticate(&self, text: &str) -> Res<Result<(User, Token), AuthFailure>> {
        let Some((public, secret)) = token::split(text) else {
            return Ok(Err(AuthFailure::BadToken));
        };
        let (public, digest) = (public.to_string(), token::digest(secret));
        let judged = self
            .read(move |c| {
                let row: Option<(Token, String)> = c
                    .query_row(
                        "SELECT * FROM tokens WHERE public_id = ?1",
                        [&public],
                        |r| Ok((token_row(r)?, r.get("secret_hash")?)),
                    )
                    .optional()?;
                let Some((t, stored)) = row else {
                    return Ok(Err(AuthFailure::BadToken));
                };
                if !token::same(&stored, &digest) {
                    return Ok(Err(AuthFailure::BadToken));
                }
                if t.revoked {
                    return Ok(Err(AuthFailure::Revoked));
                }
                if t.expires_at.as_deref().is_some_and(|e| e <= now().as_str()) {
                    return Ok(Err(AuthFailure::Expired));
                }
                let u = c.query_row("SELECT * FROM users WHERE id = ?1", [t.user_id], user_row)?;
                if u.disabled {
                    return Ok(Err(AuthFailure::Disabled));
                }
                Ok(Ok((u, t)))
            })
            .await?;
        // Recorded to the minute: a busy client does not turn every read into a write.
        if let Ok((_, t)) = &judged {
            let stale = super::in_secs(-60);
            if t.last_used_at.as_deref().is_none_or(|u| u < stale.as_str()) {
                let id = t.id;
                self.with(move |c| {
                    c.execute(
                        "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2",
                        params![now(), id],
                    )?;
                    Ok(())
                })
                .await?;
            }
        }
        Ok(judged)
    }

    pub async fn revoke_token(&self, id: i64) -> Res<()> {
        self.with(move |c| {
            match c.execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", [id])? {
                0 => Err(StoreError::NotFound(format!("token {id}"))),
                _ => Ok(()),
            }
        })
        .await
    }

    /// Revokes every token and session of `user_id` but `keep` (a password change).
    pub async fn revoke_user_tokens(&self, user_id: i64, keep: Option<i64>) -> Res<()> {
        self.with(move |c| {
            c.execute(
                "UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND id IS NOT ?2",
                params![user_id, keep],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn tokens(&self, user_id: i64) -> Res<Vec<Token>> {
        self.read(move |c| {
            let mut st = c.prepare("SELECT * FROM tokens WHERE user_id = ?1 ORDER BY id")?;
            let rows = st
                .query_map([user_id], token_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    // ---- projects and permissions ----

    pub async fn create_project(&self, name: &str, path: &str) -> Res<Project> {
        let (n, p) = (name.to_string(), path.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO projects (name, path, created_at) VALUES (?1, ?2, ?3)",
                params![n, p, now()],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("project `{n}`")),
                o => o,
            })?;
            Ok(Project {
                id: c.last_insert_rowid(),
                name: n,
                path: p,
            })
        })
        .await
    }

    pub async fn projects(&self) -> Res<Vec<Project>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT id, name, path FROM projects ORDER BY name")?;
            let rows = st
                .query_map([], |r| {
                    Ok(Project {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        path: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Sets `user_id`'s role on `project_id` (`None` removes it).
    pub async fn set_permission(
        &self,
        user_id: i64,
        project_id: i64,
        role: Option<Role>,
    ) -> Res<()> {
        self.with(move |c| {
            match role {
                Some(r) => c.execute(
                    "INSERT INTO permissions (user_id, project_id, role) VALUES (?1, ?2, ?3) ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role",
                    params![user_id, project_id, r.as_str()],
                )?,
                None => c.execute("DELETE FROM permissions WHERE user_id = ?1 AND project_id = ?2", params![user_id, project_id])?,
            };
            Ok(())
        })
        .await
    }

    /// The highest role a user holds anywhere (globally or on any project).
    pub async fn highest_role(&self, user_id: i64) -> Res<Role> {
        self.read(move |c| {
            let global: String =
                c.query_row("SELECT role FROM users WHERE id = ?1", [user_id], |r| {
                    r.get(0)
                })?;
            let mut st = c.prepare("SELECT role FROM permissions WHERE user_id = ?1")?;
            let per: Vec<String> = st
                .query_map([user_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(std::iter::once(global)
                .chain(per)
                .filter_map(|r| Role::parse(&r))
                .max()
                .unwrap_or(Role::Viewer))
        })
        .await
    }

    /// The per-project role of a user, if one was set.
    pub async fn permission(&self, user_id: i64, project_id: i64) -> Res<Option<Role>> {
        self.read(move |c| {
            let r: Option<String> = c
                .query_row(
                    "SELECT role FROM permissions WHERE user_id = ?1 AND project_id = ?2",
                    params![user_id, project_id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(r.and_then(|r| Role::parse(&r)))
        })
        .await
    }

    // ---- runs ----

    pub async fn enqueue(&self, run: NewRun) -> Res<Run> {
        let options =
            serde_json::to_string(&run.options).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id, created_at, revision) VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8)",
                params![run.project_id, run.playbook, run.inventory, options, run.created_by, run.schedule_id, now(), run.revision],
            )?;
            Ok(c.query_row("SELECT * FROM runs WHERE id = ?1", [c.last_insert_rowid()], run_row)?)
        })
        .await
    }

    /// Takes the oldest queued run for `instance`, if any.
    pub async fn claim(&self, instance: &str) -> Res<Option<Run>> {
        let instance = instance.to_string();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let id: Option<i64> = tx
                .query_row("SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1", [], |r| r.get(0))
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            let t = now();
            tx.execute(
                "UPDATE runs SET status = 'running', instance = ?1, started_at = ?2, heartbeat_at = ?2 WHERE id = ?3 AND status = 'queued'",
                params![instance, t, id],
            )?;
            let run = tx.query_row("SELECT * FROM runs WHERE id = ?1", [id], run_row)?;
            tx.commit()?;
            Ok(Some(run))
        })
        .await
    }

    /// Records that `instance` still works on `run_id`; true when a cancel was requested.
    pub async fn heartbeat(&self, run_id: i64, instance: &str) -> Res<bool> {
        let instance = instance.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE runs SET heartbeat_at = ?1 WHERE id = ?2 AND instance = ?3 AND status = 'running'",
                params![now(), run_id, instance],
            )?;
            Ok(c.query_row("SELECT cancel FROM runs WHERE id = ?1", [run_id], |r| r.get::<_, i64>(0))? != 0)
        })
        .await
    }

    /// Appends events `first_seq..` (JSON text, already masked) to a run's history.
    pub async fn append_events(&self, run_id: i64, first_seq: i64, events: Vec<String>) -> Res<()> {
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut st =
                    tx.prepare("INSERT INTO run_events (run_id, seq, event) VALUES (?1, ?2, ?3)")?;
                for (i, e) in events.iter().enumerate() {
                    st.execute(params![run_id, first_seq + i as i64, e])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Records the commit a run works on (a git project's run started without one).
    pub async fn set_run_revision(&self, run_id: i64, revision: &str) -> Res<()> {
        let rev = revision.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE runs SET revision = ?1 WHERE id = ?2",
                params![rev, run_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Events after `after_seq` (at most `limit`), in order.
    pub async fn events(&self, run_id: i64, after_seq: i64, limit: i64) -> Res<Vec<(i64, Json)>> {
        self.read(move |c| {
            let mut st = c.prepare("SELECT seq, event FROM run_events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
            let rows = st
                .query_map(params![run_id, after_seq, limit], |r| {
                    let text: String = r.get(1)?;
                    Ok((r.get(0)?, serde_json::from_str(&text).unwrap_or(Json::Null)))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Ends a run with its per-host results.
    pub async fn finish(
        &self,
        run_id: i64,
        status: RunStatus,
        exit_code: Option<i64>,
        hosts: Vec<(String, Json)>,
    ) -> Res<()> {
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE runs SET status = ?1, exit_code = ?2, finished_at = ?3 WHERE id = ?4",
                params![status.as_str(), exit_code, now(), run_id],
            )?;
            for (h, stats) in hosts {
                tx.execute(
                    "INSERT INTO run_hosts (run_id, host, stats) VALUES (?1, ?2, ?3) ON CONFLICT (run_id, host) DO UPDATE SET stats = excluded.stats",
                    params![run_id, h, stats.to_string()],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Per-host results of a run.
    pub async fn run_hosts(&self, run_id: i64) -> Res<Vec<(String, Json)>> {
        self.read(move |c| {
            let mut st =
                c.prepare("SELECT host, stats FROM run_hosts WHERE run_id = ?1 ORDER BY host")?;
            let rows = st
                .query_map([run_id], |r| {
                    let s: String = r.get(1)?;
                    Ok((r.get(0)?, serde_json::from_str(&s).unwrap_or(Json::Null)))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Asks for a run to stop: a queued run is cancelled at once, a running one at its next
    /// heartbeat.
    pub async fn request_cancel(&self, run_id: i64) -> Res<Run> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let run = tx
                .query_row("SELECT * FROM runs WHERE id = ?1", [run_id], run_row)
                .optional()?
                .ok_or(StoreError::NotFound(format!("run {run_id}")))?;
            match run.status {
                RunStatus::Queued => {
                    tx.execute("UPDATE runs SET status = 'cancelled', cancel = 1, finished_at = ?1 WHERE id = ?2", params![now(), run_id])?;
                }
                RunStatus::Running => {
                    tx.execute("UPDATE runs SET cancel = 1 WHERE id = ?1", [run_id])?;
                }
                s => return Err(StoreError::Invalid(format!("run {run_id} is already {}", s.as_str()))),
            }
            let run = tx.query_row("SELECT * FROM runs WHERE id = ?1", [run_id], run_row)?;
            tx.commit()?;
            Ok(run)
        })
        .await
    }

    pub async fn run(&self, id: i64) -> Res<Run> {
        self.read(move |c| {
            c.query_row("SELECT * FROM runs WHERE id = ?1", [id], run_row)
                .optional()?
                .ok_or(StoreError::NotFound(format!("run {id}")))
        })
        .await
    }

    /// Runs, newest first: at most `limit`, older than `before` when given.
    pub async fn runs(&self, limit: i64, before: Option<i64>) -> Res<Vec<Run>> {
        self.read(move |c| {
            let mut st = c.prepare("SELECT * FROM runs WHERE id < ?1 ORDER BY id DESC LIMIT ?2")?;
            let rows = st
                .query_map(params![before.unwrap_or(i64::MAX), limit], run_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Marks running runs whose heartbeat is older than `stale_secs` as lost (their instance
    /// died) and queues each again as a new run while it has attempts left; returns (lost run,
    /// its retry). The lost run's events stay.
    pub async fn reap_lost(
        &self,
        stale_secs: i64,
        max_attempts: i64,
    ) -> Res<Vec<(i64, Option<i64>)>> {
        let cutoff = super::in_secs(-stale_secs);
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let lost: Vec<Run> = {
                let mut st = tx.prepare(
                    "SELECT * FROM runs WHERE status = 'running' AND heartbeat_at < ?1",
                )?;
                st.query_map([&cutoff], run_row)?
                    .collect::<Result<Vec<_>, _>>()?
            };
            let mut out = Vec::new();
            for run in &lost {
                tx.execute(
                    "UPDATE runs SET status = 'lost', finished_at = ?1 WHERE id = ?2",
                    params![now(), run.id],
                )?;
                let retry = if run.attempt < max_attempts && !run.cancel {
                    tx.execute(
                        "INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id, created_at, attempt, retry_of, revision) SELECT project_id, playbook, inventory, options, 'queued', created_by, schedule_id, ?1, attempt + 1, id, revision FROM runs WHERE id = ?2",
                        params![now(), run.id],
                    )?;
                    Some(tx.last_insert_rowid())
                } else {
                    None
                };
                tx.execute(
                    "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, 'hoist', 'run.lost', ?2, ?3)",
                    params![now(), format!("run {}", run.id), super::lost_detail(run, retry).to_string()],
                )?;
                out.push((run.id, retry));
            }
            tx.commit()?;
            Ok(out)
        })
        .await
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
        let next =
            crate::schedule::next_after(cron, chrono::Utc::now()).map_err(StoreError::Invalid)?;
        super::check_schedule_name(name)?;
        let options =
            serde_json::to_string(options).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (n, c2, p, i) = (
            name.to_string(),
            cron.to_string(),
            playbook.to_string(),
            inventory.to_string(),
        );
        self.with(move |c| {
            c.execute(
                "INSERT INTO schedules (project_id, name, cron, playbook, inventory, options, next_run_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![project_id, n, c2, p, i, options, next, now()],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Exists(_) => StoreError::Exists(format!("schedule `{n}`")),
                o => o,
            })?;
            Ok(c.query_row("SELECT * FROM schedules WHERE id = ?1", [c.last_insert_rowid()], schedule_row)?)
        })
        .await
    }

    pub async fn schedules(&self) -> Res<Vec<Schedule>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT * FROM schedules ORDER BY project_id, name")?;
            let rows = st
                .query_map([], schedule_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub async fn schedule(&self, id: i64) -> Res<Schedule> {
        self.read(move |c| {
            c.query_row("SELECT * FROM schedules WHERE id = ?1", [id], schedule_row)
                .optional()?
                .ok_or(StoreError::NotFound(format!("schedule {id}")))
        })
        .await
    }

    /// Turns a schedule on or off (turning it on plans its next run from now).
    pub async fn set_schedule_enabled(&self, id: i64, enabled: bool) -> Res<Schedule> {
        let s = self.schedule(id).await?;
        let next = crate::schedule::next_after(&s.cron, chrono::Utc::now())
            .map_err(StoreError::Invalid)?;
        self.with(move |c| {
            c.execute(
                "UPDATE schedules SET enabled = ?1, next_run_at = ?2 WHERE id = ?3",
                params![enabled as i64, next, id],
            )?;
            Ok(c.query_row("SELECT * FROM schedules WHERE id = ?1", [id], schedule_row)?)
        })
        .await
    }

    /// Makes `owner_id` the user schedule `id` runs on behalf of.
    pub async fn set_schedule_owner(&self, id: i64, owner_id: i64) -> Res<Schedule> {
        self.with(move |c| {
            c.execute(
                "UPDATE schedules SET owner_id = ?1 WHERE id = ?2",
                params![owner_id, id],
            )?;
            c.query_row("SELECT * FROM schedules WHERE id = ?1", [id], schedule_row)
                .optional()?
                .ok_or(StoreError::NotFound(format!("schedule {id}")))
        })
        .await
    }

    pub async fn delete_schedule(&self, id: i64) -> Res<()> {
        self.with(
            move |c| match c.execute("DELETE FROM schedules WHERE id = ?1", [id])? {
                0 => Err(StoreError::NotFound(format!("schedule {id}"))),
                _ => Ok(()),
            },
        )
        .await
    }

    /// Queues one run for every enabled schedule that is due and moves it to its next time, in
    /// one transaction per schedule (compare-and-set on `next_run_at`): however many instances
    /// fire at once, a due time yields exactly one run. A time missed while no instance was up
    /// yields one run, not a backlog.
    pub async fn fire_due(&self, by: &str) -> Res<Vec<Run>> {
        let by = by.to_string();
        self.with(move |c| {
            let t = now();
            let due: Vec<(Schedule, bool)> = {
                let mut st = c.prepare(&format!(
                    "SELECT s.*, {OWNER_MAY_RUN} AS owner_ok FROM schedules s {OWNER_JOIN} WHERE s.enabled = 1 AND s.next_run_at <= ?1 ORDER BY s.next_run_at"
                ))?;
                st.query_map([&t], |r| Ok((schedule_row(r)?, r.get::<_, i64>("owner_ok")? != 0)))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            let mut fired = Vec::new();
            for (s, owner_ok) in due {
                let next = crate::schedule::next_after(&s.cron, chrono::Utc::now()).map_err(StoreError::Invalid)?;
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let won = tx.execute(
                    "UPDATE schedules SET next_run_at = ?1 WHERE id = ?2 AND next_run_at = ?3 AND enabled = 1",
                    params![next, s.id, s.next_run_at],
                )?;
                if won == 1 && !owner_ok {
                    tx.execute(
                        "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, 'schedule.skipped', ?3, ?4)",
                        params![now(), by, s.name, serde_json::json!({"schedule": s.id, "reason": super::OWNER_REFUSED}).to_string()],
                    )?;
                } else if won == 1 {
                    let options = serde_json::to_string(&s.options).unwrap_or_else(|_| "{}".into());
                    tx.execute(
                        "INSERT INTO runs (project_id, playbook, inventory, options, status, created_by, schedule_id, created_at) VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7)",
                        params![s.project_id, s.playbook, s.inventory, options, format!("schedule:{}", s.name), s.id, now()],
                    )?;
                    let id = tx.last_insert_rowid();
                    tx.execute("UPDATE schedules SET last_run_id = ?1 WHERE id = ?2", params![id, s.id])?;
                    tx.execute(
                        "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, 'run.start', ?3, ?4)",
                        params![now(), by, format!("run {id}"), serde_json::json!({"schedule": s.name, "via": "schedule"}).to_string()],
                    )?;
                    fired.push(tx.query_row("SELECT * FROM runs WHERE id = ?1", [id], run_row)?);
                }
                tx.commit()?;
            }
            Ok(fired)
        })
        .await
    }

    #[cfg(test)]
    pub(crate) async fn make_all_schedules_due_for_tests(&self) {
        let _ = self
            .with(|c| {
                Ok(c.execute(
                    "UPDATE schedules SET next_run_at = '2000-01-01T00:00:00.000000Z'",
                    [],
                )?)
            })
            .await;
    }

    // ---- audit ----

    /// Records a mutating action.
    pub async fn audit(&self, actor: &str, action: &str, target: &str, detail: Json) -> Res<()> {
        let (a, ac, t) = (actor.to_string(), action.to_string(), target.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now(), a, ac, t, detail.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest audit entries.
    pub async fn audit_log(&self, limit: i64) -> Res<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut st = c.prepare(
                "SELECT id, at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st
                .query_map([limit], |r| {
                    let d: String = r.get(5)?;
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        target: r.get(4)?,
                        detail: serde_json::from_str(&d).unwrap_or(Json::Null),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
