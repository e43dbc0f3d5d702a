//! Modules that run on the controller: debug, set_fact, assert, fail, meta, pause, include_vars,
//! add_host, group_by, validate_argument_spec (and the argument-spec validator it uses).

pub(crate) mod argspec;
pub(crate) mod controller;
pub(crate) mod include_vars;
pub(crate) mod inventory;
pub mod set_stats;
pub(crate) mod validate_argument_spec;
