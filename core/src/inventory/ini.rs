//! The INI inventory format: host lines, `[group]`, `[group:vars]` and `[group:children]`.
//!
//! As Ansible documents it, values written on a host line are read as literals (numbers,
//! `True`/`False`, `None`, JSON lists and dicts), values in a `:vars` section stay strings.

use super::yaml::check_group_name;
use super::{Inventory, InventoryError, Vars, range};
use crate::source::{Pos, SourceError};
use serde_json::Value;
use std::path::Path;

enum Section {
    Hosts(String),
    Vars(String),
    Children(String),
}

/// Parses INI inventory `text` (read from `path`) into `inv`.
pub fn parse(inv: &mut Inventory, path: &Path, text: &str) -> Result<(), InventoryError> {
    let mut section = Section::Hosts("ungrouped".to_string());
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        let indent = raw.len() - raw.trim_start().len();
        let err = |col: usize, msg: String| {
            SourceError::new(
                path,
                Some(Pos {
                    line: lineno,
                    column: indent + col + 1,
                }),
                msg,
            )
            .with_text(text)
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(head) = rest.strip_suffix(']') else {
                return Err(err(
                    line.len(),
                    "expected `]` to close the section header".into(),
                )
                .into());
            };
            let (name, kind) = head.split_once(':').unwrap_or((head, "hosts"));
            check_group_name(path, text, name)?;
            inv.group_mut(name);
            section = match kind {
                "hosts" => Section::Hosts(name.to_string()),
                "vars" => Section::Vars(name.to_string()),
                "children" => Section::Children(name.to_string()),
                other => {
                    return Err(err(
                        name.len() + 2,
                        format!("unknown section type `:{other}`, expected `:vars` or `:children`"),
                    )
                    .into());
                }
            };
            continue;
        }
        let tokens = split_words(line).map_err(|(col, msg)| err(col, msg))?;
        // A line of nothing but escapes (`\`): no word at all (found by tests/fuzz).
        if tokens.is_empty() {
            return Err(err(
                1,
                "expected a host, group or `key=value` on this line".to_string(),
            )
            .into());
        }
        match &section {
            Section::Hosts(group) => {
                let (host, _) = &tokens[0];
                let mut vars = Vars::new();
                let (name, port) = split_port(host);
                if let Some(port) = port {
                    vars.insert("ansible_port".into(), Value::from(port));
                }
                for (tok, col) in &tokens[1..] {
                    let Some((k, v)) = tok.split_once('=') else {
                        return Err(err(
                            *col,
                            format!("expected `key=value` after the host name, found `{tok}`"),
                        )
                        .into());
                    };
                    vars.insert(k.to_string(), literal(v));
                }
                let names = range::expand(name).map_err(|m| err(0, m))?;
                for h in names {
                    inv.add_host(&h, group, vars.clone());
                }
            }
            Section::Vars(group) => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(
                        0,
                        format!("expected `key=value` in [{group}:vars], found `{line}`"),
                    )
                    .into());
                };
                let v = unquote(v.trim());
                inv.group_mut(group)
                    .vars
                    .insert(k.trim().to_string(), Value::String(v));
            }
            Section::Children(group) => {
                if tokens.len() != 1 {
                    return Err(err(
                        tokens[1].1,
                        format!("expected one group name per line in [{group}:children]"),
                    )
                    .into());
                }
                check_group_name(path, text, line)?;
                inv.add_child(group, line);
            }
        }
    }
    Ok(())
}

/// `host:port` (not an IPv6 address) into its parts.
fn split_port(host: &str) -> (&str, Option<u16>) {
    if host.matches(':').count() == 1
        && let Some((h, p)) = host.rsplit_once(':')
        && let Ok(port) = p.parse::<u16>()
    {
        return (h, Some(port));
    }
    (host, None)
}

/// Python-literal-like reading of a host-line value.
fn literal(v: &str) -> Value {
    match v {
        "True" | "true" => return Value::Bool(true),
        "False" | "false" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = v.parse::<f64>()
        && f.is_finite()
        && v.contains('.')
    {
        return Value::from(f);
    }
    if (v.starts_with('[') || v.starts_with('{'))
        && let Ok(j) = serde_json::from_str::<Value>(&v.replace('\'', "\""))
    {
        return j;
    }
    Value::String(v.to_string())
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

/// Shell-like word split (quotes and backslashes), each word with its 0-based start column.
/// A `#` starting a word begins a comment.
fn split_words(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    let mut quote: Option<(char, usize)> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some((q, _)), c) if c == q => quote = None,
            (Some(_), '\\') => {
                if let Some((_, n)) = chars.next() {
                    cur.get_or_insert((String::new(), i)).0.push(n);
                }
            }
            (Some(_), c) => cur.get_or_insert((String::new(), i)).0.push(c),
            (None, '"' | '\'') => {
                quote = Some((c, i));
                cur.get_or_insert((String::new(), i));
            }
            (None, '#') if cur.is_none() => break,
            (None, c) if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    out.push(w);
                }
            }
            (None, '\\') => {
                if let Some((_, n)) = chars.next() {
                    cur.get_or_insert((String::new(), i)).0.push(n);
                }
            }
            (None, c) => cur.get_or_insert((String::new(), i)).0.push(c),
        }
    }
    if let Some((q, at)) = quote {
        return Err((at, format!("unclosed quote `{q}`")));
    }
    out.extend(cur);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_literals() {
        let w = split_words(r#"h1 a=1 b="x y" c='[1, 2]' # comment"#).unwrap();
        let words: Vec<&str> = w.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(words, vec!["h1", "a=1", "b=x y", "c=[1, 2]"]);
        assert_eq!(literal("1"), Value::from(1));
        assert_eq!(literal("True"), Value::Bool(true));
        assert_eq!(literal("yes"), Value::from("yes"));
        assert_eq!(literal("[1, 2]"), serde_json::json!([1, 2]));
        assert_eq!(literal("1.5"), Value::from(1.5));
        assert_eq!(split_port("h:2222"), ("h", Some(2222)));
        assert_eq!(split_port("fe80::1"), ("fe80::1", None));
    }

    #[test]
    fn a_line_of_only_a_backslash_is_an_error_not_a_crash() {
        // Found by tests/fuzz (core/tests/fuzz.rs, ini_inventory).
        for section in ["", "[web]\n", "[web:vars]\n", "[web:children]\n"] {
            let mut inv = Inventory::new();
            let r = parse(&mut inv, Path::new("h.ini"), &format!("{section}\\\n"));
            assert!(r.is_err(), "{section:?}");
        }
    }

    #[test]
    fn unclosed_quote() {
        assert_eq!(split_words("h a='x").unwrap_err().0, 4);
    }
}
