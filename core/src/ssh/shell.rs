//! POSIX shell quoting for commands sent to targets.

/// Quotes `s` as one word for `/bin/sh` (single quotes, `'` written as `'\''`).
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quotes a path on the target, leaving a leading `~` or `~user` unquoted so that the shell
/// expands it to that home directory, as ansible-core's modules expand it (the user name is
/// only letters, digits, `.`, `_` and `-`; anything else is quoted whole).
pub fn quote_path(p: &str) -> String {
    if let Some(rest) = p.strip_prefix('~') {
        let (user, tail) = match rest.split_once('/') {
            Some((u, t)) => (u, Some(t)),
            None => (rest, None),
        };
        if !user.starts_with('-')
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return match tail {
                Some(t) if !t.is_empty() => format!("~{user}/{}", quote(t)),
                Some(_) => format!("~{user}/"),
                None => format!("~{user}"),
            };
        }
    }
    quote(p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("abc/d.txt"), "abc/d.txt");
        assert_eq!(super::quote("a b"), "'a b'");
        assert_eq!(super::quote("it's"), r"'it'\''s'");
        assert_eq!(super::quote(""), "''");
        assert_eq!(super::quote_path("~bob/a b"), "~bob/'a b'");
        assert_eq!(super::quote_path("~"), "~");
        assert_eq!(super::quote_path("~/x"), "~/x");
        assert_eq!(super::quote_path("~$(id)/x"), "'~$(id)/x'");
        assert_eq!(super::quote_path("/etc/x y"), "'/etc/x y'");
    }
}
