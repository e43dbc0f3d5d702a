//! Modules that run on the controller: debug, set_fact, assert, fail, meta, pause, include_vars, add_host, group_by.

pub(crate) mod controller;
pub(crate) mod include_vars;
pub(crate) mod inventory;
