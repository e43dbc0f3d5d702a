//! Wildcard matching shared by host patterns, ssh_config `Host` lines and known_hosts entries,
//! and Python's `fnmatch` (with `[...]` classes) for file globs.

/// `*` and `?` wildcards, as fnmatch.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// OpenSSH pattern lists (`web*,!web9,db?`): true when a pattern matches `name` and no negated
/// pattern (`!p`) does.
pub fn match_list<'a>(patterns: impl IntoIterator<Item = &'a str>, name: &str) -> bool {
    let mut matched = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg, name) {
                return false;
            }
        } else if glob(p, name) {
            matched = true;
        }
    }
    matched
}

/// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[abc]`, `[a-z]` and `[!abc]`; a `[` without its
/// `]` is literal.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fnmatch_at(&p, &n)
}

/// The class at the start of `p` (just after `[`): whether `c` is in it and its length with
/// the closing `]`, or None when unclosed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let (negate, mut i) = match p.first() {
        Some('!') => (true, 1),
        _ => (false, 0),
    };
    let start = i;
    let mut hit = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((hit != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

fn fnmatch_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|k| fnmatch_at(&p[1..], &n[k..])),
        Some('?') => !n.is_empty() && fnmatch_at(&p[1..], &n[1..]),
        Some('[') => match (
            n.first(),
            class(&p[1..], n.first().copied().unwrap_or('\0')),
        ) {
            (Some(_), Some((hit, len))) => hit && fnmatch_at(&p[1 + len..], &n[1..]),
            (None, Some(_)) => false,
            (Some(c), None) => *c == '[' && fnmatch_at(&p[1..], &n[1..]),
            (None, None) => false,
        },
        Some(c) => n.first() == Some(c) && fnmatch_at(&p[1..], &n[1..]),
    }
}

/// The regular files directly in `dir` whose names match `pattern`, as full paths, sorted
/// (the `fileglob` lookup and filter).
pub fn matching_files(dir: &std::path::Path, pattern: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter(|e| fnmatch(pattern, &e.file_name().to_string_lossy()))
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_as_python() {
        assert!(fnmatch("*.[ch]", "json.c"));
        assert!(fnmatch("*.[ch]", "json.h"));
        assert!(!fnmatch("*.[ch]", "setvars.bat"));
        assert!(fnmatch("f[!o]o", "fxo"));
        assert!(!fnmatch("f[!o]o", "foo"));
        assert!(fnmatch("[a-c]*", "bee"));
        assert!(!fnmatch("[a-c]*", "dee"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("[]]x", "]x"));
        assert!(fnmatch("play_adj.*", "play_adj.txt"));
        assert!(!fnmatch("play_adj.*", "play_adj_subdir.txt"));
    }

    #[test]
    fn globs_and_lists() {
        assert!(glob("web*", "web01"));
        assert!(glob("w?b*1", "web01"));
        assert!(!glob("web?", "web01"));
        assert!(glob("*", ""));
        assert!(match_list(["web*", "!web9"], "web1"));
        assert!(!match_list(["web*", "!web9"], "web9"));
        assert!(!match_list(["db"], "web1"));
    }
}
