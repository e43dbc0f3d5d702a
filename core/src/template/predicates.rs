//! Ansible's Jinja tests: `version`, `match`/`search`/`regex`, task result tests (`succeeded`,
//! `failed`, `changed`, `skipped`), `truthy`/`falsy`, `subset`/`superset`, `contains`, and
//! controller path tests (`exists`, `file`, `directory`, `link`, `abs`).

use super::filters::truthy;
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use std::cmp::Ordering;
use std::path::Path;

pub fn register(env: &mut Environment<'static>) {
    env.add_test("version", super::version_test::version);
    env.add_test("version_compare", super::version_test::version);
    env.add_test("match", |s: String, p: String, kw: Kwargs| {
        regex_test(&s, &p, kw, Mode::Match)
    });
    env.add_test("search", |s: String, p: String, kw: Kwargs| {
        regex_test(&s, &p, kw, Mode::Search)
    });
    env.add_test("regex", regex_any);
    // Task result tests take a result (a mapping), as ansible-core's do.
    for name in ["success", "succeeded", "successful"] {
        env.add_test(name, move |r: Value| Ok(!result_flag(&r, "failed", name)?));
    }
    for (name, key, want) in [
        ("failed", "failed", true),
        ("failure", "failed", true),
        ("changed", "changed", true),
        ("change", "changed", true),
        ("skipped", "skipped", true),
        ("skip", "skipped", true),
        ("unreachable", "unreachable", true),
        ("reachable", "unreachable", false),
    ] {
        env.add_test(name, move |r: Value| {
            result_flag(&r, key, name).map(|f| f == want)
        });
    }
    env.add_test("timedout", |r: Value| {
        result_flag(&r, "timedout", "timedout")?;
        Ok::<_, Error>(
            r.get_attr("timedout")
                .is_ok_and(|t| t.is_true() && t.get_attr("period").is_ok_and(|p| p.is_true())),
        )
    });
    // Background jobs (`async`); a result that was not one counts as started and finished.
    for name in ["finished", "started"] {
        env.add_test(name, move |r: Value| {
            result_flag(&r, name, name)?;
            Ok::<_, Error>(job_flag(&r, name))
        });
    }
    // Python's bool(value); with convert_bool, ansible's boolean() of it first.
    fn truthiness(v: &Value, kw: &Kwargs) -> Result<bool, Error> {
        let convert: bool = kw.get::<Option<bool>>("convert_bool")?.unwrap_or(false);
        kw.assert_all_used()?;
        // convert_bool: ansible's boolean() of the value when it is one of its words (or
        // 0/1), else Python's truth of the value itself.
        let word = v.as_str().map(|s| s.trim().to_ascii_lowercase());
        let boolean_word = |w: &str| {
            [
                "yes", "on", "1", "true", "y", "t", "no", "off", "0", "false", "n", "f",
            ]
            .contains(&w)
        };
        Ok(match word {
            Some(w) if convert && boolean_word(&w) => truthy(v),
            _ if convert && matches!(v.as_i64(), Some(0 | 1)) => truthy(v),
            _ => v.is_true(),
        })
    }
    env.add_test("truthy", |v: Value, kw: Kwargs| truthiness(&v, &kw));
    env.add_test("falsy", |v: Value, kw: Kwargs| {
        truthiness(&v, &kw).map(|t| !t)
    });
    for name in ["subset", "issubset"] {
        env.add_test(name, |a: Value, b: Value| subset(&a, &b));
    }
    for name in ["superset", "issuperset"] {
        env.add_test(name, |a: Value, b: Value| subset(&b, &a));
    }
    for name in ["nan", "isnan"] {
        env.add_test(name, |v: Value| f64::try_from(v).is_ok_and(f64::is_nan));
    }
    // Vaulted variables are decrypted when a template reads them, so what a template meets is
    // vault-encrypted only as vault text in a string (a difference from ansible-core, whose
    // `set_fact` keeps a `!vault` value encrypted); a file is when it starts with the header.
    env.add_test("vault_encrypted", |v: Value| {
        v.as_str()
            .is_some_and(|s| s.trim_start().starts_with("$ANSIBLE_VAULT;"))
    });
    env.add_test("vaulted_file", |p: String| {
        std::fs::read(&p).is_ok_and(|b| b.starts_with(b"$ANSIBLE_VAULT;"))
    });
    env.add_test("contains", |seq: Value, item: Value| {
        // Python's `in`: a substring of a string, an element of anything else.
        if let (Some(s), Some(i)) = (seq.as_str(), item.as_str()) {
            return s.contains(i);
        }
        seq.try_iter()
            .map(|mut i| i.any(|x| x == item))
            .unwrap_or(false)
    });
    env.add_test("any", |v: Value| {
        v.try_iter()
            .map(|mut i| i.any(|x| x.is_true()))
            .unwrap_or(false)
    });
    env.add_test("all", |v: Value| {
        v.try_iter()
            .map(|mut i| i.all(|x| x.is_true()))
            .unwrap_or(false)
    });
    env.add_test("exists", |p: String| Path::new(&p).exists());
    env.add_test("link_exists", |p: String| {
        Path::new(&p).symlink_metadata().is_ok()
    });
    for name in ["file", "is_file"] {
        env.add_test(name, |p: String| Path::new(&p).is_file());
    }
    for name in ["directory", "is_dir"] {
        env.add_test(name, |p: String| Path::new(&p).is_dir());
    }
    for name in ["link", "is_link"] {
        env.add_test(name, |p: String| Path::new(&p).is_symlink());
    }
    for name in ["abs", "is_abs"] {
        env.add_test(name, |p: String| p.starts_with('/'));
    }
    for name in ["same_file", "is_same_file"] {
        env.add_test(name, |a: String, b: String| {
            use std::os::unix::fs::MetadataExt;
            match (std::fs::metadata(&a), std::fs::metadata(&b)) {
                (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
                _ => false,
            }
        });
    }
    for name in ["mount", "is_mount"] {
        env.add_test(name, |p: String| is_mount(Path::new(&p)));
    }
}

/// Python's `os.path.ismount`: the root, or a directory on another device than its parent.
fn is_mount(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(me) = std::fs::symlink_metadata(p) else {
        return false;
    };
    if me.file_type().is_symlink() {
        return false;
    }
    let parent = p.join("..");
    match std::fs::metadata(&parent) {
        Ok(up) => up.dev() != me.dev() || up.ino() == me.ino(),
        Err(_) => false,
    }
}

/// `key` of a task result, for the test `test`; anything but a mapping is an error.
fn result_flag(r: &Value, key: &str, test: &str) -> Result<bool, Error> {
    if r.kind() != ValueKind::Map {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("The '{test}' test expects a dictionary"),
        ));
    }
    let v = r.get_attr(key).unwrap_or(Value::UNDEFINED);
    // A loop's result has no `changed` of its own: changed when an item changed.
    if key == "changed" && v.is_undefined() {
        let results = r.get_attr("results").unwrap_or(Value::UNDEFINED);
        if results.kind() == ValueKind::Seq
            && let Ok(items) = results.try_iter()
        {
            return Ok(items
                .into_iter()
                .any(|i| i.get_attr("changed").is_ok_and(|c| c.is_true())));
        }
    }
    Ok(v.is_true())
}

fn job_flag(r: &Value, key: &str) -> bool {
    match r.get_attr(key) {
        Ok(v) if !v.is_undefined() && !v.is_none() => v.is_true(),
        _ => true,
    }
}

fn subset(a: &Value, b: &Value) -> bool {
    let Ok(items) = a.try_iter() else {
        return false;
    };
    let other: Vec<Value> = b.try_iter().map(|i| i.collect()).unwrap_or_default();
    items.into_iter().all(|x| other.contains(&x))
}

enum Mode {
    Match,
    Search,
}

fn regex_test(s: &str, pattern: &str, kwargs: Kwargs, mode: Mode) -> Result<bool, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let pattern = match mode {
        Mode::Match => format!("^(?:{pattern})"),
        Mode::Search => pattern.to_string(),
    };
    let re = super::pyre::compile(&pattern, ignorecase, multiline)?;
    re.is_match(s).map_err(super::pyre::failed)
}

fn regex_any(s: String, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let mode: Option<String> = kwargs.peek("match_type")?;
    let _ = kwargs.get::<Option<String>>("match_type")?;
    let mode = if mode.as_deref() == Some("match") {
        Mode::Match
    } else {
        Mode::Search
    };
    regex_test(&s, &pattern, kwargs, mode)
}

/// Loose version ordering: numeric parts compare as numbers, others as text (`1.10 > 1.9`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut digit = None;
        for c in s.chars() {
            if !c.is_ascii_alphanumeric() {
                if !cur.is_empty() {
                    out.push(cur.parse::<u64>().map_err(|_| cur.clone()));
                    cur.clear();
                }
                digit = None;
                continue;
            }
            let d = c.is_ascii_digit();
            if digit.is_some_and(|p| p != d) && !cur.is_empty() {
                out.push(cur.parse::<u64>().map_err(|_| cur.clone()));
                cur.clear();
            }
            digit = Some(d);
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur.parse::<u64>().map_err(|_| cur.clone()));
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let ord = match (pa.get(i), pb.get(i)) {
            (Some(Ok(x)), Some(Ok(y))) => x.cmp(y),
            (Some(Ok(_)), Some(Err(_))) => Ordering::Greater,
            (Some(Err(_)), Some(Ok(_))) => Ordering::Less,
            (Some(Err(x)), Some(Err(y))) => x.cmp(y),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
