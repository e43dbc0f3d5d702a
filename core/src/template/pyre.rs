//! Regular expressions as templates write them, for Python's `re`: look-around and
//! back-references included (fancy-regex, with its backtracking limit so a pathological
//! pattern fails instead of hanging). Used by the `regex_*` filters, the `match`/`search`/
//! `regex` tests and the `varnames` lookup.

use fancy_regex::Regex;
use minijinja::{Error, ErrorKind};

/// Compiles `pattern` with Python's `re.IGNORECASE` / `re.MULTILINE` when asked.
pub fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    let mut flags = String::new();
    if ignorecase {
        flags.push('i');
    }
    if multiline {
        flags.push('m');
    }
    let full = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    Regex::new(&full).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid regular expression: {e}"),
        )
    })
}

/// The message Python's `re` gives for the most common compile errors (playbooks assert on
/// them), else the parser's own.
pub fn python_message(e: &fancy_regex::Error) -> String {
    let text = e.to_string();
    if text.contains("Target of repeat operator is invalid")
        || text.contains("repetition operator missing expression")
    {
        let at = text
            .split("position ")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .unwrap_or("0");
        return format!("nothing to repeat at position {at}");
    }
    text
}

/// A matching failure (the backtracking limit) as a template error.
pub fn failed(e: fancy_regex::Error) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("regular expression failed: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_features() {
        let re = compile("(?=.*qa_1)(?=.*qz_1)", false, false).unwrap();
        assert!(re.is_match("qz_1 qa_1").unwrap());
        assert!(
            compile(r"(a)\1", false, false)
                .unwrap()
                .is_match("aa")
                .unwrap()
        );
        assert!(compile("^B", true, true).unwrap().is_match("x\nb").unwrap());
        assert!(compile("(", false, false).is_err());
    }
}
