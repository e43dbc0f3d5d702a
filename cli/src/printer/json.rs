//! One JSON object per event and line, for CI systems and other programs.

use hoist_core::run::{Event, Sink};
use std::io::Write;
use std::sync::Mutex;

pub struct JsonLines {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonLines {
    pub fn stdout() -> Self {
        JsonLines {
            out: Mutex::new(Box::new(std::io::stdout())),
        }
    }
}

impl Sink for JsonLines {
    fn event(&self, e: &Event) {
        if let (Ok(line), Ok(mut out)) = (serde_json::to_string(e), self.out.lock()) {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
