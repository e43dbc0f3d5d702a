//! Positioned errors: a message tied to a file, line and column, rendered with a caret snippet.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column inside a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// An error found while reading a user-written file, with where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: PathBuf,
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
    /// The file's text, kept to render the offending line (never for files that may hold secrets).
    pub text: Option<String>,
}

impl SourceError {
    pub fn new(path: &Path, pos: Option<Pos>, message: impl Into<String>) -> Self {
        SourceError {
            path: path.to_path_buf(),
            pos,
            message: message.into(),
            help: None,
            text: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_text(mut self, text: &str) -> Self {
        self.text = Some(text.to_string());
        self
    }

    /// `path:line:column` (or just the path when no position is known).
    pub fn location(&self) -> String {
        match self.pos {
            Some(p) => format!("{}:{}:{}", self.path.display(), p.line, p.column),
            None => self.path.display().to_string(),
        }
    }

    /// The offending line with a caret under the column, cargo-style.
    pub fn snippet(&self) -> Option<String> {
        let (text, pos) = (self.text.as_ref()?, self.pos?);
        let line = text.lines().nth(pos.line.checked_sub(1)?)?;
        let num = pos.line.to_string();
        let pad = " ".repeat(num.len());
        let caret_at = line
            .chars()
            .take(pos.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect::<String>();
        Some(format!("{pad} |\n{num} | {line}\n{pad} | {caret_at}^ here"))
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(snippet) = self.snippet() {
            write!(f, "\n{snippet}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

/// Converts a YAML error into a positioned error for `path`.
pub fn yaml_error(path: &Path, text: &str, err: &serde_yaml::Error) -> SourceError {
    let pos = err.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    // serde_yaml appends " at line X column Y" to messages; the position is shown separately.
    let mut msg = err.to_string();
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    SourceError::new(path, pos, msg).with_text(text)
}

impl SourceError {
    /// The error about a file decrypted from a vault: its place stays, the text is never
    /// quoted (no snippet, and no value the message would cite).
    pub fn about_secret(mut self) -> Self {
        self.text = None;
        if self.message.contains('"') || self.message.contains('`') || self.message.contains('\'') {
            let expected = self
                .message
                .find("expected ")
                .map(|i| format!(": {}", &self.message[i..]))
                .unwrap_or_default();
            self.message = format!(
                "the decrypted vault file is not what is expected here{expected} (its content is not shown)"
            );
        }
        self
    }
}

/// Where `needle` first appears in `text`, as a 1-based position (for errors found after parsing).
pub fn find_pos(text: &str, needle: &str) -> Option<Pos> {
    text.lines().enumerate().find_map(|(i, line)| {
        line.find(needle).map(|c| Pos {
            line: i + 1,
            column: line[..c].chars().count() + 1,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_column() {
        let e = SourceError::new(
            Path::new("inv.yml"),
            Some(Pos { line: 2, column: 5 }),
            "expected a mapping",
        )
        .with_text("all:\n  - x\n")
        .with_help("write `hosts:` as a mapping");
        insta::assert_snapshot!(e.to_string(), @r"
        inv.yml:2:5: expected a mapping
          |
        2 |   - x
          |     ^ here
        help: write `hosts:` as a mapping
        ");
    }
}
