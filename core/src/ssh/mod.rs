//! The SSH transport on russh: targets resolved from inventory vars and `~/.ssh/config`,
//! strict known_hosts checking, key/agent auth, ProxyJump, pooled connections with capped
//! channels, become (sudo) and atomic uploads.

mod auth;
mod become_;
pub mod config;
mod connection;
mod error;
pub mod known_hosts;
mod pool;
pub mod shell;
mod shell_session;
mod target;
mod write_script;

pub use auth::KeyCache;
pub use become_::{Handshake, Progress, Step, Wrapped, wrap as become_wrap};
pub use config::SshConfig;
pub use connection::{ConnectContext, Connection, ExecOutput};
pub use error::{KeyMismatch, SshError};
pub use pool::Pool;
pub use target::{Become, ConnectOptions, HostKeyPolicy, Target};
pub use write_script::{CHANGED_SINCE_READ, Expect, WriteOpts, atomic_write_script};
