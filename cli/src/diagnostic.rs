//! User-facing errors: one clear message (with a source snippet for file errors) and an exit
//! code per kind: 1 other, 2 a host failed, 4 unreachable, 5 bad input (inventory, pattern,
//! playbook syntax).

use hoist_core::inventory::{InventoryError, PatternError};
use hoist_core::lab::LabError;
use hoist_core::source::SourceError;
use hoist_core::ssh::SshError;
use miette::{Diagnostic, NamedSource, SourceSpan};
use std::process::ExitCode;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 2;
    pub const UNREACHABLE: u8 = 4;
    pub const BAD_INPUT: u8 = 5;
    pub const OTHER: u8 = 1;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("host pattern `{0}` matched no hosts")]
    NoHosts(String),
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("{0}")]
    Playbook(SourceError),
    /// A plugin that cannot be used (manifest, component, contract, capability).
    #[error("{0}")]
    Plugin(String),
    #[error("{0}")]
    Other(String),
}

impl CliError {
    fn code(&self) -> u8 {
        match self {
            CliError::Inventory(_)
            | CliError::Pattern(_)
            | CliError::NoHosts(_)
            | CliError::Playbook(_)
            | CliError::Plugin(_) => exit::BAD_INPUT,
            CliError::Ssh(e) if e.is_unreachable() => exit::UNREACHABLE,
            _ => exit::OTHER,
        }
    }
}

/// A file error as miette renders it: the line, a caret label, the help.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
struct FileDiagnostic {
    location: String,
    message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: SourceSpan,
    #[help]
    help: Option<String>,
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + col.min(l.len());
        }
        offset += l.len();
    }
    offset.min(text.len())
}

fn render_source(e: &SourceError) -> String {
    match (&e.text, e.pos) {
        (Some(text), Some(pos)) => {
            let d = FileDiagnostic {
                location: e.location(),
                message: e.message.clone(),
                src: NamedSource::new(e.path.display().to_string(), text.clone()),
                span: (offset_of(text, pos.line, pos.column), 1).into(),
                help: e.help.clone(),
            };
            format!("{:?}", miette::Report::new(d))
        }
        _ => format!("error: {e}"),
    }
}

/// Prints `err` to stderr and returns its exit code.
pub fn report(err: CliError) -> ExitCode {
    let text = match &err {
        CliError::Inventory(InventoryError::Source(s)) | CliError::Playbook(s) => render_source(s),
        other => {
            let mut s = format!("error: {other}");
            let mut src = std::error::Error::source(other);
            while let Some(cause) = src {
                s.push_str(&format!("\n  caused by: {cause}"));
                src = cause.source();
            }
            s
        }
    };
    // Secrets read during the run never reach the terminal, errors included.
    eprintln!("{}", hoist_core::secrets::redact(&text));
    ExitCode::from(err.code())
}
