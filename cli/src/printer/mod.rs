//! Printers for run events: the live human view, JSON lines for CI, a JUnit XML report.

pub mod adhoc;
pub mod human;
pub mod json;
pub mod junit;
