//! Health checks: what each kind of check runs on a host (one shell script for all of a host's
//! checks and its metrics), and how its raw output is judged. Judging happens here, on the
//! controller, so it is pure and tested without hosts. Used by the `health_check` module, and so
//! by `hoist health` and `playbooks/health.yml`. `spec` reads declarations, `script` builds what
//! runs on the host, `judge` decides.

mod judge;
mod script;
mod spec;

pub use judge::fleet_verdicts;
pub use script::{METRICS_SCRIPT, host_script, parse_metrics, split_output};
pub use spec::{Check, CheckResult, CheckSpec, SpecError};

#[cfg(test)]
mod tests;
