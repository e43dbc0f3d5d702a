//! Versioned schema migrations, embedded in the binary and applied in order inside one
//! transaction each; the applied versions are recorded in `schema_migrations`. A database
//! newer than this binary is refused rather than touched.

/// One migration.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// SQLite's migrations, oldest first.
pub const MIGRATIONS_SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "run_attempts",
        sql: include_str!("../../migrations/sqlite/0002_run_attempts.sql"),
    },
    Migration {
        version: 3,
        name: "run_revision",
        sql: include_str!("../../migrations/sqlite/0003_run_revision.sql"),
    },
    Migration {
        version: 4,
        name: "run_notify",
        sql: include_str!("../../migrations/sqlite/0004_run_notify.sql"),
    },
    Migration {
        version: 5,
        name: "sessions_and_owners",
        sql: include_str!("../../migrations/sqlite/0005_sessions_and_owners.sql"),
    },
];

/// PostgreSQL's migrations, oldest first (same versions and meaning as SQLite's).
pub const MIGRATIONS_POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "run_attempts",
        sql: include_str!("../../migrations/postgres/0002_run_attempts.sql"),
    },
    Migration {
        version: 3,
        name: "run_revision",
        sql: include_str!("../../migrations/postgres/0003_run_revision.sql"),
    },
    Migration {
        version: 4,
        name: "run_notify",
        sql: include_str!("../../migrations/postgres/0004_run_notify.sql"),
    },
    Migration {
        version: 5,
        name: "sessions_and_owners",
        sql: include_str!("../../migrations/postgres/0005_sessions_and_owners.sql"),
    },
];
