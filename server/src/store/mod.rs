//! Where the control plane keeps its state. SQLite (one file, no setup) is the default; the
//! PostgreSQL backend (several `hoist serve` instances sharing one database and its queue)
//! implements the same operations. Schema changes are versioned migrations (migrate.rs).

mod delegate;
mod migrate;
mod notify;
mod pg_tls;
#[cfg(test)]
mod pg_tls_tests;
mod postgres;
mod rows;
mod sqlite;
#[cfg(test)]
mod tests;

pub use migrate::{MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE, Migration};
pub use postgres::Postgres;
pub use sqlite::Sqlite;

use crate::auth::{password, token};
use crate::model::{Role, User};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(String),
    #[error(
        "the database is at schema version {found}, newer than this hoist knows ({known}): upgrade hoist"
    )]
    TooNew { found: i64, known: i64 },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound("record".into()),
            rusqlite::Error::SqliteFailure(f, Some(m))
                if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("UNIQUE") =>
            {
                StoreError::Exists(m)
            }
            other => StoreError::Db(other.to_string()),
        }
    }
}

/// Why a credential was refused (all map to HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("unknown user or wrong password")]
    BadPassword,
    #[error("not a valid token")]
    BadToken,
    #[error("the token has expired")]
    Expired,
    #[error("the token was revoked")]
    Revoked,
    #[error("the user is disabled")]
    Disabled,
}

/// The storage backend; its operations (delegate.rs) are the same on both.
#[derive(Clone)]
pub enum Store {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

impl Store {
    /// Opens the database named by `target`: a `postgres://` or `postgresql://` URL, else the
    /// path of a SQLite file.
    pub async fn open(target: &str) -> Result<Store, StoreError> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            Ok(Store::Postgres(Postgres::open(target).await?))
        } else {
            Ok(Store::Sqlite(
                Sqlite::open(std::path::Path::new(target)).await?,
            ))
        }
    }

    /// Which backend, for logs (`sqlite` or `postgres`).
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Run ids as other instances change them (0: the queue gained a run), on PostgreSQL;
    /// `None` on SQLite, whose one instance knows its own changes.
    pub fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<i64>> {
        match self {
            Store::Sqlite(_) => None,
            Store::Postgres(p) => Some(p.changes()),
        }
    }
}

/// User names: 1 to 64 letters, digits, `.`, `_`, `-`, `@`.
fn check_user_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(StoreError::Invalid(format!(
            "user name `{name}`: 1 to 64 letters, digits, `.`, `_`, `-`, `@`"
        )));
    }
    Ok(())
}

/// A token needs at least one scope, each a known one.
fn check_scopes(scopes: &[String]) -> Result<(), StoreError> {
    for s in scopes {
        if !token::SCOPES.contains(&s.as_str()) {
            return Err(StoreError::Invalid(format!(
                "scope `{s}`: expected {}",
                token::SCOPES.join(", ")
            )));
        }
    }
    if scopes.is_empty() {
        return Err(StoreError::Invalid(
            "a token needs at least one scope".into(),
        ));
    }
    Ok(())
}

fn check_schedule_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::Invalid(
            "a schedule needs a name (at most 100 characters)".into(),
        ));
    }
    Ok(())
}

/// Judges a login from the user found by name (and their password hash): the same argon2 work
/// is done for an unknown user, so timing tells nothing.
/// A warning for a PostgreSQL URL whose `sslmode` may fall back to plain text (libpq's default
/// `prefer`, and `allow`/`disable`) towards a host that is not this machine: passwords and run
/// history would cross the network in clear whenever the server offers no TLS.
pub fn tls_warning(url: &str) -> Option<String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let (_, params) = pg_tls::split_url(url).ok()?;
    if !matches!(
        params.mode,
        pg_tls::Mode::Prefer | pg_tls::Mode::Allow | pg_tls::Mode::Disable
    ) {
        return None;
    }
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host = host.trim_start_matches('[');
    let host = host.split([']', ':']).next().unwrap_or(host);
    if host.is_empty() || host == "localhost" || host.starts_with("127.") || host == "::1" {
        return None;
    }
    Some(format!(
        "the connection to PostgreSQL at {host} may be plain text (sslmode={}): add \
         ?sslmode=verify-full (or require) to the URL",
        params.mode.as_str()
    ))
}

#[cfg(test)]
#[test]
fn plain_text_fallback_is_warned_about_off_this_machine() {
    assert!(tls_warning("postgres://u:p@db.internal/hoist").is_some());
    assert!(tls_warning("postgres://u:p@db.internal:5432/hoist?sslmode=prefer").is_some());
    assert!(tls_warning("postgres://u:p@db.internal/hoist?sslmode=verify-full").is_none());
    assert!(tls_warning("postgres://u:p@127.0.0.1:5432/hoist").is_none());
    assert!(tls_warning("postgres://u:p@[::1]:5432/hoist").is_none());
    assert!(tls_warning("/var/lib/hoist/server.db").is_none());
}

/// SQL (both backends) joining a schedule `s` to its owner `u` and the owner's permission `p`.
const OWNER_JOIN: &str = "LEFT JOIN users u ON u.id = s.owner_id LEFT JOIN permissions p ON p.user_id = s.owner_id AND p.project_id = s.project_id";

/// SQL: whether the owner may start runs on the schedule's project now (exists, enabled, at
/// least operator there; admins everywhere) — the same rule as `effective_role`.
const OWNER_MAY_RUN: &str = "(CASE WHEN u.id IS NOT NULL AND NOT (u.disabled = TRUE) AND (u.role = 'admin' OR COALESCE(p.role, u.role) IN ('operator', 'admin')) THEN 1 ELSE 0 END)";

/// Why a due schedule started no run.
const OWNER_REFUSED: &str = "its owner is missing, disabled, or no longer an operator of the project; whoever may start runs there takes it over by changing it";

/// An argon2 hash of `pw`, made on the password threads.
async fn hash_password(pw: &str) -> Result<String, StoreError> {
    let pw = pw.to_string();
    password::on_checker(move || password::hash(&pw))
        .await
        .ok_or_else(|| StoreError::Db("the password threads are gone".into()))?
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

/// A real argon2 hash with the server's parameters, checked when there is none to check, so
/// every failed login costs the same.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash("hoist-no-such-user-placeholder").unwrap_or_default())
}

fn judge_login(found: Option<(User, Option<String>)>, pw: &str) -> Result<User, AuthFailure> {
    // Exactly one argon2 check whatever the case: no such user, or one without a password
    // (token-only), costs the same and gets the same answer as a wrong password, so a login
    // never tells which names exist.
    match found {
        Some((u, Some(h))) => {
            if !password::verify(pw, &h) {
                Err(AuthFailure::BadPassword)
            } else if u.disabled {
                Err(AuthFailure::Disabled)
            } else {
                Ok(u)
            }
        }
        _ => {
            let _ = password::verify(pw, dummy_hash());
            Err(AuthFailure::BadPassword)
        }
    }
}

/// A user's effective role on a project: the per-project permission if there is one, else the
/// global role; admins are admins everywhere.
pub fn effective_role(global: Role, project: Option<Role>) -> Role {
    if global == Role::Admin {
        return Role::Admin;
    }
    project.unwrap_or(global)
}

/// A time as the API shows it and SQLite stores it (RFC 3339, UTC, microseconds: sorts as
/// text).
pub fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Now, as stored.
pub fn now() -> String {
    stamp(chrono::Utc::now())
}

/// `secs` seconds from now, as stored.
pub fn in_secs(secs: i64) -> String {
    stamp(chrono::Utc::now() + chrono::Duration::seconds(secs))
}

/// The audit detail of a run found lost.
fn lost_detail(run: &crate::model::Run, retry: Option<i64>) -> serde_json::Value {
    serde_json::json!({
        "instance": run.instance,
        "attempt": run.attempt,
        "retry": retry,
    })
}
