//! ansible-core's `version` test (`version_compare`): loose (the default), strict (distutils'
//! StrictVersion), semver/semantic and pep440 comparisons, with ansible-core's errors.

use super::predicates::compare_versions;
use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, Value};
use std::cmp::Ordering;

const TYPES: [&str; 5] = ["loose", "strict", "semver", "semantic", "pep440"];

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

/// `value is version(other, operator='eq', strict=None, version_type=None)`.
pub fn version(
    v: Value,
    other: Value,
    op: Option<String>,
    strict: Option<bool>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    let op = match kwargs.get::<Option<String>>("operator")? {
        Some(o) => o,
        None => op.unwrap_or_else(|| "eq".into()),
    };
    let strict = match kwargs.get::<Option<bool>>("strict")? {
        Some(s) => Some(s),
        None => strict,
    };
    let vt: Option<String> = kwargs.get("version_type")?;
    kwargs.assert_all_used()?;
    let want: &[Ordering] = match op.as_str() {
        "==" | "=" | "eq" => &[Ordering::Equal],
        "!=" | "<>" | "ne" => &[Ordering::Less, Ordering::Greater],
        "<" | "lt" => &[Ordering::Less],
        "<=" | "le" => &[Ordering::Less, Ordering::Equal],
        ">" | "gt" => &[Ordering::Greater],
        ">=" | "ge" => &[Ordering::Greater, Ordering::Equal],
        other => return Err(invalid(format!("Invalid operator type ({other})"))),
    };
    let (a, b) = (v.to_string(), other.to_string());
    if a.is_empty() {
        return Err(invalid("Input version value cannot be empty".into()));
    }
    if b.is_empty() {
        return Err(invalid(
            "Version parameter to compare against cannot be empty".into(),
        ));
    }
    if strict.is_some() && vt.is_some() {
        return Err(invalid(
            "Cannot specify both 'strict' and 'version_type'".into(),
        ));
    }
    let kind = match (&vt, strict) {
        (Some(t), _) if TYPES.contains(&t.as_str()) => t.as_str(),
        (Some(t), _) => {
            return Err(invalid(format!(
                "Invalid version type ({t}). Must be one of {}",
                TYPES.join(", ")
            )));
        }
        (None, Some(true)) => "strict",
        (None, _) => "loose",
    };
    let ord = match kind {
        "strict" => strict_key(&a)?.cmp(&strict_key(&b)?),
        "semver" | "semantic" => semver_cmp(&semver(&a)?, &semver(&b)?),
        "pep440" => pep440_key(&a)?.cmp(&pep440_key(&b)?),
        _ => compare_versions(&a, &b),
    };
    Ok(want.contains(&ord))
}

fn number(s: &str, whole: &str) -> Result<u64, Error> {
    s.parse().map_err(|_| {
        invalid(format!(
            "Version comparison failed: invalid version number '{whole}'"
        ))
    })
}

/// distutils' StrictVersion: `N.N[.N]` with an optional `aN`/`bN` pre-release (which sorts
/// before the release).
fn strict_key(s: &str) -> Result<(Vec<u64>, (u8, u64)), Error> {
    let bad = || {
        invalid(format!(
            "Version comparison failed: invalid version number '{s}'"
        ))
    };
    let (nums, pre) = match s.find(['a', 'b']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let parts: Vec<&str> = nums.split('.').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let mut v = parts
        .iter()
        .map(|p| number(p, s))
        .collect::<Result<Vec<_>, _>>()?;
    v.resize(3, 0);
    let pre = match pre {
        None => (2, 0),
        Some(p) => {
            let (tag, n) = p.split_at(1);
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            (if tag == "a" { 0 } else { 1 }, number(n, s)?)
        }
    };
    Ok((v, pre))
}

/// A semantic version: major.minor.patch, pre-release identifiers, build metadata (ignored).
struct Semver {
    core: [u64; 3],
    pre: Vec<String>,
}

fn semver(s: &str) -> Result<Semver, Error> {
    let bad = || {
        invalid(format!(
            "Version comparison failed: invalid semantic version '{s}'"
        ))
    };
    let s2 = s.split('+').next().unwrap_or(s);
    let (core, pre) = match s2.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s2, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if nums.len() != 3
        || nums.iter().any(|n| {
            n.is_empty()
                || !n.bytes().all(|b| b.is_ascii_digit())
                || (n.len() > 1 && n.starts_with('0'))
        })
    {
        return Err(bad());
    }
    let mut c = [0u64; 3];
    for (i, n) in nums.iter().enumerate() {
        c[i] = number(n, s)?;
    }
    let pre: Vec<String> = match pre {
        Some(p) if p.is_empty() || p.split('.').any(str::is_empty) => return Err(bad()),
        Some(p) => p.split('.').map(String::from).collect(),
        None => Vec::new(),
    };
    Ok(Semver { core: c, pre })
}

fn semver_cmp(a: &Semver, b: &Semver) -> Ordering {
    a.core
        .cmp(&b.core)
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.pre.iter().zip(&b.pre) {
                    let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(p), Ok(q)) => p.cmp(&q),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => x.cmp(y),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.pre.len().cmp(&b.pre.len())
            }
        })
}

/// PEP 440's ordering key for the common forms: `[N!]N(.N)*[{a|b|rc}N][.postN][.devN]`.
/// Returns (epoch, release, pre, post, dev) where a missing pre-release sorts after any
/// pre-release, and a dev release before everything else of its release.
#[allow(clippy::type_complexity)]
fn pep440_key(s: &str) -> Result<(u64, Vec<u64>, (u8, u64), (u8, u64), (u8, u64)), Error> {
    let bad = || invalid(format!("Version comparison failed: Invalid version: '{s}'"));
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_prefix('v').unwrap_or(&t).to_string();
    let (epoch, rest) = match t.split_once('!') {
        Some((e, r)) => (number(e, s)?, r.to_string()),
        None => (0, t.clone()),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (rel, mut tail) = (rest[..end].trim_end_matches('.'), &rest[end..]);
    if rel.is_empty() {
        return Err(bad());
    }
    let mut release = rel
        .split('.')
        .map(|p| number(p, s))
        .collect::<Result<Vec<_>, _>>()?;
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let take = |tail: &mut &str, tags: &[(&str, u8)]| -> Result<Option<(u8, u64)>, Error> {
        let t2 = tail.trim_start_matches(['.', '-', '_']);
        for (tag, rank) in tags {
            if let Some(after) = t2.strip_prefix(tag) {
                let after = after.trim_start_matches(['.', '-', '_']);
                let n_end = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                let n = if n_end == 0 {
                    0
                } else {
                    number(&after[..n_end], s)?
                };
                *tail = &after[n_end..];
                return Ok(Some((*rank, n)));
            }
        }
        Ok(None)
    };
    let pre = take(
        &mut tail,
        &[
            ("alpha", 1),
            ("a", 1),
            ("beta", 2),
            ("b", 2),
            ("rc", 3),
            ("c", 3),
            ("preview", 3),
            ("pre", 3),
        ],
    )?;
    let post = take(&mut tail, &[("post", 0), ("rev", 0), ("r", 0)])?;
    let dev = take(&mut tail, &[("dev", 0)])?;
    if !tail.is_empty() {
        return Err(bad());
    }
    // packaging's order: a dev-only release before every pre-release, no pre-release after all.
    let pre_key = match (pre, post, dev) {
        (Some(p), _, _) => p,
        (None, None, Some(_)) => (0, 0),
        (None, _, _) => (4, 0),
    };
    let post_key = post.map(|(_, n)| (1, n)).unwrap_or((0, 0));
    let dev_key = dev.map(|(_, n)| (0, n)).unwrap_or((1, 0));
    Ok((epoch, release, pre_key, post_key, dev_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_semver_and_pep440_order_as_python_does() {
        assert!(strict_key("1.0").unwrap() == strict_key("1.0.0").unwrap());
        assert!(strict_key("1.0a1").unwrap() < strict_key("1.0").unwrap());
        assert!(strict_key("nope").is_err());
        assert_eq!(
            semver_cmp(&semver("1.2.3").unwrap(), &semver("2.0.0").unwrap()),
            Ordering::Less
        );
        assert_eq!(
            semver_cmp(&semver("1.0.0-alpha").unwrap(), &semver("1.0.0").unwrap()),
            Ordering::Less
        );
        assert!(semver("nopenope").is_err());
        assert!(pep440_key("2.14.0rc1").unwrap() < pep440_key("2.14.0").unwrap());
        assert!(pep440_key("2.14.0.dev1").unwrap() < pep440_key("2.14.0a1").unwrap());
        assert!(pep440_key("2.14.0.post1").unwrap() > pep440_key("2.14.0").unwrap());
        assert!(pep440_key("1.0").unwrap() == pep440_key("1.0.0").unwrap());
    }
}
