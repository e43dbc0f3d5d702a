//! hoist-core: the engine behind the `hoist` CLI, usable without it.
//!
//! - [`inventory`]: Ansible-compatible inventories (YAML, INI, `group_vars/`, `host_vars/`), host
//!   patterns and variable precedence.
//! - [`ssh`]: the SSH transport on russh (keys, agent, `~/.ssh/config`, known_hosts, pooled
//!   connections, become, atomic uploads).
//! - [`facts`]: one-round-trip fact gathering and its parser.
//! - [`adhoc`]: running one command on many hosts in parallel.
//! - [`mux`]: a connection multiplexer that keeps connections open between runs (ControlPersist).
//! - [`lab`]: the throw-away lab fleet (`hoist lab`).
//! - [`glob`]: wildcard matching shared by patterns, ssh_config and known_hosts.
//! - [`source`]: positioned errors (file, line, column) shared by every parser.

pub mod adhoc;
pub mod digest;
pub mod facts;
pub mod glob;
pub mod health;
pub mod inventory;
pub mod lab;
pub mod modules;
pub mod mux;
pub mod playbook;
pub mod retention;
pub mod run;
pub mod secrets;
pub mod source;
pub mod ssh;
pub mod sys;
pub mod template;
pub mod vault;
pub mod yaml;
