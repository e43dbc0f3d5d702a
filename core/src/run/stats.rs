//! Per-host counters for the recap, as Ansible's: a changed task also counts as ok.

use super::events::Status;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl Stats {
    pub fn count(&mut self, s: Status) {
        match s {
            Status::Ok => self.ok += 1,
            Status::Changed => {
                self.ok += 1;
                self.changed += 1
            }
            Status::Failed => self.failed += 1,
            Status::Ignored => self.ignored += 1,
            Status::Skipped => self.skipped += 1,
            Status::Unreachable => self.unreachable += 1,
        }
    }
}
