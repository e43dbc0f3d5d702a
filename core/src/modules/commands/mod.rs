//! Commands on the host: command, shell, raw, script, and background jobs.

pub(crate) mod async_job;
pub(crate) mod async_status;
pub(crate) mod command;
mod expand;
pub(crate) mod script;
