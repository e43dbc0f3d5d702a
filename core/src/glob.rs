//! Wildcard matching shared by host patterns, ssh_config `Host` lines and known_hosts entries.

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

/// The regular files directly in `dir` whose names match `pattern`, as full paths, sorted
/// (the `fileglob` lookup and filter).
pub fn matching_files(dir: &std::path::Path, pattern: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter(|e| glob(pattern, &e.file_name().to_string_lossy()))
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
