//! hoist's control plane (`hoist serve`): storage with versioned migrations (embedded SQLite by
//! default; PostgreSQL for several instances), users with argon2 passwords, scoped expiring API
//! tokens, roles and per-project permissions, the run queue with event history, schedules and the
//! audit log. The HTTP API and web UI sit on top of this crate.

pub mod api;
pub mod auth;
pub mod exec;
pub mod git;
pub mod listen;
pub mod model;
pub mod relay;
pub mod schedule;
pub mod state;
pub mod store;
pub mod tls;
pub mod ui;

pub use store::{Store, StoreError};
