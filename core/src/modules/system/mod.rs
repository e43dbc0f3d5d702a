//! The host's system: services, users and groups, cron, sysctl, SSH keys, facts.

pub(crate) mod authorized_key;
pub(crate) mod cron;
pub(crate) mod getent;
pub(crate) mod hostname;
pub(crate) mod reboot;
pub(crate) mod service;
pub(crate) mod service_facts;
pub(crate) mod setup;
pub(crate) mod sysctl;
pub(crate) mod user;
