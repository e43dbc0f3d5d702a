//! Semantic versions in templates: `semver_max`, `semver_bump(part)`, `semver_compare(other)`
//! filters and the `semver_satisfies(requirement)` test. Versions may carry a `v` prefix and
//! a Debian-style suffix (`15.4-1.pgdg120+1` counts as 15.4.0 with a pre-release tag).

use hoist_plugin_sdk::Value;
use hoist_plugin_sdk::filter::{FilterInfo, Filters};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

fn parse(s: &str) -> Result<Version, String> {
    let t = s.trim().trim_start_matches(['v', 'V']);
    let cut = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (nums, rest) = t.split_at(cut);
    let mut parts = nums.split('.').filter(|p| !p.is_empty());
    let mut next = |what: &str| -> Result<u64, String> {
        match parts.next() {
            None => Ok(0),
            Some(p) => p.parse().map_err(|_| format!("`{s}`: bad {what} number")),
        }
    };
    let v = Version {
        major: next("major")?,
        minor: next("minor")?,
        patch: next("patch")?,
        pre: rest.trim_start_matches(['-', '+', '~']).to_string(),
    };
    if nums.is_empty() {
        return Err(format!("`{s}` is not a version"));
    }
    Ok(v)
}

fn cmp(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a version string, got {other}")),
    }
}

/// `>=1.2, <2` (comma-separated, all must hold); operators `= == != > >= < <= ^ ~`.
fn satisfies(v: &Version, req: &str) -> Result<bool, String> {
    for clause in req.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let op_len = clause
            .find(|c: char| c.is_ascii_digit() || c == 'v')
            .ok_or_else(|| format!("requirement `{clause}` has no version"))?;
        let (op, ver) = clause.split_at(op_len);
        let want = parse(ver)?;
        let o = cmp(v, &want);
        let ok = match op.trim() {
            "" | "=" | "==" => o == Ordering::Equal,
            "!=" => o != Ordering::Equal,
            ">" => o == Ordering::Greater,
            ">=" => o != Ordering::Less,
            "<" => o == Ordering::Less,
            "<=" => o != Ordering::Greater,
            // Caret: same major (same minor below 1.0), not older.
            "^" => {
                o != Ordering::Less
                    && v.major == want.major
                    && (want.major > 0 || v.minor == want.minor)
            }
            // Tilde: same major.minor, not older.
            "~" => o != Ordering::Less && v.major == want.major && v.minor == want.minor,
            other => return Err(format!("unknown operator `{other}` in `{clause}`")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn show(v: &Version) -> String {
    if v.pre.is_empty() {
        format!("{}.{}.{}", v.major, v.minor, v.patch)
    } else {
        format!("{}.{}.{}-{}", v.major, v.minor, v.patch, v.pre)
    }
}

struct Semver;

impl Filters for Semver {
    fn describe() -> Vec<FilterInfo> {
        vec![
            FilterInfo::filter("semver_max", "the highest version of a list"),
            FilterInfo::filter("semver_bump", "next major, minor or patch version"),
            FilterInfo::filter("semver_compare", "-1, 0 or 1 against another version"),
            FilterInfo::test(
                "semver_satisfies",
                "matches a requirement such as '>=1.2, <2'",
            ),
        ]
    }

    fn call(name: &str, value: Value, args: Vec<Value>) -> Result<Value, String> {
        let arg = |i: usize| args.get(i).map(text).transpose();
        match name {
            "semver_max" => {
                let list = value.as_array().ok_or("semver_max expects a list")?;
                let mut best: Option<(Version, Value)> = None;
                for item in list {
                    let v = parse(&text(item)?)?;
                    if best
                        .as_ref()
                        .is_none_or(|(b, _)| cmp(&v, b) == Ordering::Greater)
                    {
                        best = Some((v, item.clone()));
                    }
                }
                Ok(best.map(|(_, item)| item).unwrap_or(Value::Null))
            }
            "semver_bump" => {
                let mut v = parse(&text(&value)?)?;
                match arg(0)?.as_deref().unwrap_or("patch") {
                    "major" => (v.major, v.minor, v.patch) = (v.major + 1, 0, 0),
                    "minor" => (v.minor, v.patch) = (v.minor + 1, 0),
                    "patch" => v.patch += 1,
                    other => {
                        return Err(format!(
                            "semver_bump: `{other}` is not major, minor or patch"
                        ));
                    }
                }
                v.pre.clear();
                Ok(Value::from(show(&v)))
            }
            "semver_compare" => {
                let other = arg(0)?.ok_or("semver_compare needs a version to compare with")?;
                let o = cmp(&parse(&text(&value)?)?, &parse(&other)?);
                Ok(Value::from(o as i32))
            }
            "semver_satisfies" => {
                let req = arg(0)?.ok_or("semver_satisfies needs a requirement")?;
                Ok(Value::from(satisfies(&parse(&text(&value)?)?, &req)?))
            }
            other => Err(format!("no filter `{other}` in this plugin")),
        }
    }
}

hoist_plugin_sdk::register_filters!(Semver);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixes_and_debian_suffixes() {
        let v = parse("15.4-1.pgdg120+1").unwrap();
        assert_eq!(
            (v.major, v.minor, v.patch, v.pre.as_str()),
            (15, 4, 0, "1.pgdg120+1")
        );
        assert_eq!(parse("v2").unwrap(), parse("2.0.0").unwrap());
        assert!(parse("x").is_err());
    }

    #[test]
    fn orders_and_requirements() {
        let v = |s| parse(s).unwrap();
        assert_eq!(cmp(&v("1.10.0"), &v("1.9.9")), Ordering::Greater);
        assert_eq!(cmp(&v("1.0.0-rc1"), &v("1.0.0")), Ordering::Less);
        assert!(satisfies(&v("15.4"), ">=15, <17").unwrap());
        assert!(!satisfies(&v("17.0"), ">=15, <17").unwrap());
        assert!(
            satisfies(&v("1.4.2"), "^1.2").unwrap() && !satisfies(&v("2.0.0"), "^1.2").unwrap()
        );
        assert!(
            satisfies(&v("0.2.5"), "^0.2.1").unwrap() && !satisfies(&v("0.3.0"), "^0.2.1").unwrap()
        );
        assert!(
            satisfies(&v("1.2.9"), "~1.2").unwrap() && !satisfies(&v("1.3.0"), "~1.2").unwrap()
        );
        assert!(satisfies(&v("1.0"), "=>1").is_err());
    }

    #[test]
    fn filters() {
        let list = Value::from(vec!["1.2.3", "1.10.0", "1.9.9"]);
        assert_eq!(Semver::call("semver_max", list, vec![]).unwrap(), "1.10.0");
        let bump = |p: &str| {
            Semver::call(
                "semver_bump",
                Value::from("1.4.2-rc1"),
                vec![Value::from(p)],
            )
        };
        assert_eq!(bump("major").unwrap(), "2.0.0");
        assert_eq!(bump("minor").unwrap(), "1.5.0");
        assert_eq!(bump("patch").unwrap(), "1.4.3");
        assert!(
            bump("sideways")
                .unwrap_err()
                .contains("not major, minor or patch")
        );
    }
}
