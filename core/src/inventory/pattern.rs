//! Ansible host patterns: `all`, `*`, groups, hosts, `a:b` / `a,b` (union), `a:&b`
//! (intersection), `a:!b` (exclusion), globs (`web*`), regexes (`~web\d+`), subscripts
//! (`web[0]`, `web[1:3]`, `web[-1]`) and ranges (`web[01:20]`).

use super::{Inventory, range};
use crate::glob::glob;
use std::collections::HashSet;

/// A pattern that names nothing, or cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    #[error(
        "host pattern `{pattern}`: `{term}` is neither a group nor a host of the inventory{hint}"
    )]
    Unknown {
        pattern: String,
        term: String,
        hint: String,
    },
    #[error("host pattern `{pattern}`: {message}")]
    Invalid { pattern: String, message: String },
}

impl Inventory {
    /// The hosts `pattern` selects, in inventory order.
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, PatternError> {
        let mut terms = split_terms(pattern);
        terms.retain(|t| !t.is_empty());
        // Ansible evaluates plain terms first, then `&`, then `!`; a leading `!` starts from all.
        terms.sort_by_key(|t| match t.chars().next() {
            Some('&') => 1,
            Some('!') => 2,
            _ => 0,
        });
        if terms.first().is_some_and(|t| t.starts_with('!')) {
            terms.insert(0, "all".to_string());
        }
        let mut selected: indexmap::IndexSet<&str> = indexmap::IndexSet::new();
        for term in &terms {
            if let Some(t) = term.strip_prefix('&') {
                let hosts: HashSet<&str> = self.resolve(pattern, t)?.into_iter().collect();
                selected.retain(|h| hosts.contains(h));
            } else if let Some(t) = term.strip_prefix('!') {
                let hosts: HashSet<&str> = self.resolve(pattern, t)?.into_iter().collect();
                selected.retain(|h| !hosts.contains(h));
            } else {
                selected.extend(self.resolve(pattern, term)?);
            }
        }
        Ok(self
            .hosts
            .keys()
            .filter(|h| selected.contains(&h.as_str()))
            .cloned()
            .collect())
    }

    fn resolve<'a>(&'a self, pattern: &str, term: &str) -> Result<Vec<&'a str>, PatternError> {
        let invalid = |message: String| PatternError::Invalid {
            pattern: pattern.to_string(),
            message,
        };
        if term == "all" || term == "*" {
            return Ok(self.hosts.keys().map(String::as_str).collect());
        }
        if let Some(re) = term.strip_prefix('~') {
            let re =
                regex::Regex::new(re).map_err(|e| invalid(format!("bad regex `{re}`: {e}")))?;
            return Ok(self
                .hosts
                .keys()
                .map(String::as_str)
                .filter(|h| re.is_match(h))
                .collect());
        }
        if self.groups.contains_key(term) {
            return Ok(self.hosts_of_group(term));
        }
        if let Some((name, _)) = self.hosts.get_key_value(term) {
            return Ok(vec![name.as_str()]);
        }
        if let Some((group, sub)) = subscript(term)
            && self.groups.contains_key(group)
        {
            let hosts = self.hosts_of_group(group);
            return slice(&hosts, sub).ok_or_else(|| {
                invalid(format!(
                    "subscript `[{sub}]` is out of range for group `{group}` ({} hosts)",
                    hosts.len()
                ))
            });
        }
        if term.contains('*') || term.contains('?') {
            let mut out: Vec<&str> = Vec::new();
            for g in self.groups.keys().filter(|g| glob(term, g)) {
                out.extend(self.hosts_of_group(g));
            }
            out.extend(
                self.hosts
                    .keys()
                    .map(String::as_str)
                    .filter(|h| glob(term, h)),
            );
            return Ok(out);
        }
        if range::has_range(term) {
            let names: std::collections::HashSet<String> =
                range::expand(term).map_err(invalid)?.into_iter().collect();
            let found: Vec<&str> = self
                .hosts
                .keys()
                .map(String::as_str)
                .filter(|h| names.contains(*h))
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
        }
        let mut groups: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        groups.sort();
        Err(PatternError::Unknown {
            pattern: pattern.to_string(),
            term: term.to_string(),
            hint: format!(" (groups: {})", groups.join(", ")),
        })
    }
}

/// Splits on `,` when present, else on `:` outside `[...]` (ranges and subscripts keep theirs).
fn split_terms(pattern: &str) -> Vec<String> {
    if pattern.contains(',') {
        return pattern.split(',').map(|t| t.trim().to_string()).collect();
    }
    if pattern.parse::<std::net::Ipv6Addr>().is_ok() {
        return vec![pattern.to_string()];
    }
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    for c in pattern.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.into_iter().map(|t| t.trim().to_string()).collect()
}

fn subscript(term: &str) -> Option<(&str, &str)> {
    let (name, rest) = term.split_once('[')?;
    Some((name, rest.strip_suffix(']')?))
}

/// Python-style `[i]`, `[a:b]` (inclusive end, as Ansible), `[-1]`, `[a:]`, `[:b]`.
fn slice<'a>(hosts: &[&'a str], sub: &str) -> Option<Vec<&'a str>> {
    let n = hosts.len() as i64;
    let idx = |s: &str, default: i64| -> Option<i64> {
        if s.is_empty() {
            return Some(default);
        }
        let i: i64 = s.parse().ok()?;
        Some(if i < 0 { n + i } else { i })
    };
    match sub.split_once(':') {
        None => {
            let i = idx(sub, 0)?;
            (0..n).contains(&i).then(|| vec![hosts[i as usize]])
        }
        Some((a, b)) => {
            let (a, b) = (idx(a, 0)?, idx(b, n - 1)?.min(n - 1));
            if a < 0 || a > b {
                return None;
            }
            Some(hosts[a as usize..=b as usize].to_vec())
        }
    }
}
