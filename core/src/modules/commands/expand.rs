//! `command`'s `expand_argument_vars` (on by default, as in ansible-core): each word gets
//! Python's `os.path.expandvars` and `expanduser` on the target, with the target's environment.
//! The word becomes shell text that expands only `$name` / `${name}` of set variables (unset
//! ones stay as written, as Python leaves them) and a leading `~` / `~user`; everything else
//! stays quoted, so nothing in the word is ever run. Also `creates`/`removes` patterns as
//! Python's `glob` reads them.

use crate::ssh::shell::quote;

/// The shell function the expanded words call: the value of variable `$1` when it is set,
/// else the text `$2`.
pub const PRELUDE: &str = "_hoist_var() { if eval \"[ -n \\\"\\${$1+x}\\\" ]\"; then eval \"printf %s \\\"\\${$1}\\\"\"; else printf %s \"$2\"; fi; }; ";

/// Whether `w` needs expanding at all.
pub fn needs(w: &str) -> bool {
    w.contains('$') || w.starts_with('~')
}

/// `w` as shell text with ansible-core's expansions.
pub fn word(w: &str) -> String {
    let mut out = String::new();
    let mut rest = w;
    // expanduser: `~` or `~user` up to the first `/`.
    if let Some(after) = w.strip_prefix('~') {
        let end = after.find('/').unwrap_or(after.len());
        let user = &after[..end];
        if user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            out.push('~');
            out.push_str(user);
            rest = &after[end..];
            if let Some(r) = rest.strip_prefix('/') {
                out.push('/');
                rest = r;
            }
        }
    }
    let mut literal = String::new();
    let flush = |literal: &mut String, out: &mut String| {
        if !literal.is_empty() {
            out.push_str(&quote(literal));
            literal.clear();
        }
    };
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            literal.push(c);
            continue;
        }
        let tail = &rest[i + 1..];
        let (name, written) = if let Some(inner) = tail.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], &rest[i..i + 1 + end + 2]),
                None => ("", ""),
            }
        } else {
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            (&tail[..end], &rest[i..i + 1 + end])
        };
        // Only names a shell variable can have are looked up; others stay as written (an
        // environment variable cannot have another name).
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            literal.push(c);
            continue;
        }
        flush(&mut literal, &mut out);
        out.push_str(&format!("\"$(_hoist_var {name} {})\"", quote(written)));
        for _ in 0..written.chars().count() - 1 {
            chars.next();
        }
    }
    flush(&mut literal, &mut out);
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

/// `pattern` as a shell word whose `*`, `?` and `[...]` glob (nothing else is special).
pub fn glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    for c in pattern.chars() {
        if "*?[]".contains(c) {
            if !literal.is_empty() {
                out.push_str(&quote(&literal));
                literal.clear();
            }
            out.push(c);
        } else {
            literal.push(c);
        }
    }
    if !literal.is_empty() || out.is_empty() {
        out.push_str(&quote(&literal));
    }
    out
}

/// Shell text that is true when `pattern` (a glob) matches an existing path.
pub fn glob_exists(pattern: &str) -> String {
    format!(
        "{{ set -- {}; [ -e \"$1\" ] || [ -L \"$1\" ]; }}",
        glob(pattern)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through_sh(words: &[&str]) -> Vec<String> {
        let script = format!(
            "{PRELUDE}for w in {}; do printf '%s\\n' \"$w\"; done",
            words.iter().map(|w| word(w)).collect::<Vec<_>>().join(" ")
        );
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .env_clear()
            .env("HOME", "/h")
            .env("FOO", "bar")
            .env("EMPTY", "")
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn globs_match_existing_paths_only() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("afile.txt"), "").unwrap();
        let base = d.path().display().to_string();
        let check = |p: &str| {
            std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(glob_exists(p))
                .status()
                .unwrap()
                .success()
        };
        assert!(check(&format!("{base}/afile.*")));
        assert!(check(&format!("{base}/afile.txt")));
        assert!(check(&format!("{base}/a?ile.[t]xt")));
        assert!(!check(&format!("{base}/bfile.*")));
        assert!(!check(&format!("{base}/$(touch x)*")));
    }

    #[test]
    fn expands_as_python_does() {
        let words = [
            "$FOO", "${FOO}x", "$NOPE", "${NOPE}", "$EMPTY|", "~/a", "~", "a~b", "$(id)", "'q'",
            "a b", "$1x", "${a-b}", "$", "x$", "`id`", "$FOO$FOO", "*",
        ];
        assert_eq!(
            through_sh(&words),
            [
                "bar", "barx", "$NOPE", "${NOPE}", "|", "/h/a", "/h", "a~b", "$(id)", "'q'", "a b",
                "$1x", "${a-b}", "$", "x$", "`id`", "barbar", "*",
            ]
        );
    }
}
