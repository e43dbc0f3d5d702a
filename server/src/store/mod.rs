//! Where the control plane keeps its state. SQLite (one file, no setup) is the default; the
//! PostgreSQL backend (several `hoist serve` instances sharing one database and its queue)
//! implements the same operations. Schema changes are versioned migrations (migrate.rs).

mod migrate;
mod sqlite;
#[cfg(test)]
mod tests;

pub use migrate::{MIGRATIONS_SQLITE, Migration};
pub use sqlite::Sqlite;

use crate::model::Role;

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

/// The storage backend.
#[derive(Clone)]
pub enum Store {
    Sqlite(Sqlite),
}

/// A user's effective role on a project: the per-project permission if there is one, else the
/// global role; admins are admins everywhere.
pub fn effective_role(global: Role, project: Option<Role>) -> Role {
    if global == Role::Admin {
        return Role::Admin;
    }
    project.unwrap_or(global)
}

/// Now, as stored (RFC 3339, UTC, microseconds: sorts as text).
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// `secs` seconds from now, as stored.
pub fn in_secs(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
