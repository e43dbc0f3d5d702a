//! ansible-core's path filters beyond basename/dirname: `realpath`, `relpath`, `normpath`,
//! `commonpath`, `expandvars`, `fileglob`, and the Windows-path ones (`win_basename`,
//! `win_dirname`, `win_splitdrive`). Evaluated on the controller, as in ansible-core.

use minijinja::{Environment, Error, ErrorKind, Value};
use std::path::{Component, Path, PathBuf};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("realpath", |p: String| realpath(&p));
    env.add_filter("relpath", |p: String, start: Option<String>| {
        let start = start.unwrap_or_else(|| cwd().display().to_string());
        relpath(&p, &start)
    });
    env.add_filter("normpath", |p: String| normpath(&p));
    env.add_filter("commonpath", commonpath);
    env.add_filter("expandvars", |p: String| expandvars(&p));
    env.add_filter("fileglob", |p: String| fileglob(&p));
    env.add_filter("win_basename", |p: String| {
        win_splitdrive(&p)
            .1
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or("")
            .to_string()
    });
    env.add_filter("win_dirname", |p: String| {
        let (drive, rest) = win_splitdrive(&p);
        let dir = match rest.rfind(['\\', '/']) {
            Some(0) => &rest[..1],
            Some(i) => &rest[..i],
            None => "",
        };
        format!("{drive}{dir}")
    });
    env.add_filter("win_splitdrive", |p: String| {
        let (d, r) = win_splitdrive(&p);
        Value::from(vec![d.to_string(), r.to_string()])
    });
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// Python's `os.path.normpath`: `.` and `..` folded, repeated slashes merged.
pub fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let absolute = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Python's `os.path.realpath`: links resolved as far as the path exists.
fn realpath(p: &str) -> String {
    let abs = if Path::new(p).is_absolute() {
        PathBuf::from(p)
    } else {
        cwd().join(p)
    };
    if let Ok(c) = std::fs::canonicalize(&abs) {
        return c.display().to_string();
    }
    // Resolve the longest existing prefix, keep the rest as written.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for n in rest.into_iter().rev() {
        out.push(n);
    }
    normpath(&out.display().to_string())
}

/// Python's `os.path.relpath`.
fn relpath(p: &str, start: &str) -> Result<String, Error> {
    let abs = |s: &str| {
        let p = if Path::new(s).is_absolute() {
            PathBuf::from(s)
        } else {
            cwd().join(s)
        };
        PathBuf::from(normpath(&p.display().to_string()))
    };
    let (p, start) = (abs(p), abs(start));
    let pc: Vec<Component> = p.components().collect();
    let sc: Vec<Component> = start.components().collect();
    let common = pc.iter().zip(&sc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..sc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c.as_os_str());
    }
    let s = out.display().to_string();
    Ok(if s.is_empty() { ".".into() } else { s })
}

/// Python's `os.path.commonpath` over a list of paths.
fn commonpath(paths: Value) -> Result<String, Error> {
    let list: Vec<String> = paths.try_iter()?.map(|v| v.to_string()).collect();
    let Some(first) = list.first() else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "commonpath() arg is an empty sequence",
        ));
    };
    let absolute = first.starts_with('/');
    if list.iter().any(|p| p.starts_with('/') != absolute) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "Can't mix absolute and relative paths",
        ));
    }
    let split = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_string)
            .collect()
    };
    let mut common = split(first);
    for p in &list[1..] {
        let parts = split(p);
        let n = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n);
    }
    let joined = common.join("/");
    Ok(if absolute {
        format!("/{joined}")
    } else {
        joined
    })
}

/// `$VAR` and `${VAR}` from the controller's environment; unknown ones stay as written.
fn expandvars(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let (name, end) = if chars.get(i + 1) == Some(&'{') {
            match chars[i + 2..].iter().position(|c| *c == '}') {
                Some(n) => (
                    chars[i + 2..i + 2 + n].iter().collect::<String>(),
                    i + 3 + n,
                ),
                None => (String::new(), i + 1),
            }
        } else {
            let n = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            (chars[i + 1..i + 1 + n].iter().collect(), i + 1 + n)
        };
        match std::env::var(&name) {
            Ok(v) if !name.is_empty() => out.push_str(&v),
            _ => out.extend(&chars[i..end.max(i + 1)]),
        }
        i = end.max(i + 1);
    }
    out
}

/// The files (not directories) matching a glob on the controller, sorted.
fn fileglob(pattern: &str) -> Value {
    let (dir, pat) = match pattern.rsplit_once('/') {
        Some(("", p)) => ("/", p),
        Some((d, p)) => (d, p),
        None => (".", pattern),
    };
    Value::from(crate::glob::matching_files(Path::new(dir), pat))
}

/// `C:\dir\file` → (`C:`, `\dir\file`); a UNC path keeps `\\server\share` as its drive.
fn win_splitdrive(p: &str) -> (&str, &str) {
    let b = p.as_bytes();
    if b.len() >= 2 && b[1] == b':' {
        return p.split_at(2);
    }
    if p.starts_with("\\\\") || p.starts_with("//") {
        let rest = &p[2..];
        if let Some(i) = rest.find(['\\', '/']) {
            let after = &rest[i + 1..];
            let j = after
                .find(['\\', '/'])
                .map(|j| 2 + i + 1 + j)
                .unwrap_or(p.len());
            return p.split_at(j);
        }
    }
    ("", p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_semantics() {
        assert_eq!(normpath("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(normpath("a/../../b"), "../b");
        assert_eq!(normpath(""), ".");
        assert_eq!(relpath("/a/b/c", "/a/d").unwrap(), "../b/c");
        assert_eq!(relpath("/a", "/a").unwrap(), ".");
        assert_eq!(
            commonpath(Value::from(vec!["/a/b/c", "/a/b/d", "/a/bx"])).unwrap(),
            "/a"
        );
        assert!(commonpath(Value::from(vec!["/a", "b"])).is_err());
        assert_eq!(win_splitdrive("C:\\x\\y"), ("C:", "\\x\\y"));
        assert_eq!(
            win_splitdrive("\\\\srv\\share\\f"),
            ("\\\\srv\\share", "\\f")
        );
        // SAFETY of the test: HOME is set for the test process.
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(
            expandvars("$HOME/x ${HOME} $NOPE_NOT_SET"),
            format!("{home}/x {home} $NOPE_NOT_SET")
        );
    }
}
