//! Lookups that read a table out of a controller file: `ini` (Python configparser's rules:
//! sections, `key = value`/`key: value`, continuation lines, comments, `DEFAULT`, case-folded
//! keys unless `case_sensitive`, `%(name)s` interpolation, `type=properties`, `re=True`) and
//! `csvfile` (Excel-dialect CSV: quotes, `delimiter`, `col`, `keycol`, `default`), with
//! ansible-core's options, inline `key=value` forms and messages.

use serde_json::{Map, Value as Json};
use std::path::Path;

/// One option value as text (`True`/`False` as Python writes them).
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "1" | "on" | "y"
    )
}

/// A parsed INI file: sections of (key, value) in order (`None`: a key without a value).
type Sections = Vec<(String, Vec<(String, Option<String>)>)>;

fn parse_ini(
    text: &str,
    case_sensitive: bool,
    allow_no_value: bool,
    file: &str,
) -> Result<Sections, String> {
    let mut out: Sections = Vec::new();
    let mut current: Option<usize> = None;
    let mut last_key: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            last_key = if trimmed.is_empty() { None } else { last_key };
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented && let (Some(s), Some(k)) = (current, last_key) {
            let entry = &mut out[s].1[k];
            let v = entry.1.get_or_insert_with(String::new);
            v.push('\n');
            v.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = Some(match out.iter().position(|(s, _)| s == name) {
                Some(i) => i,
                None => {
                    out.push((name.to_string(), Vec::new()));
                    out.len() - 1
                }
            });
            last_key = None;
            continue;
        }
        let Some(s) = current else {
            return Err(format!(
                "File contains no section headers: {file}, line {}",
                n + 1
            ));
        };
        let split = trimmed.find(['=', ':']);
        let (k, v) = match split {
            Some(i) => (
                trimmed[..i].trim(),
                Some(trimmed[i + 1..].trim().to_string()),
            ),
            None if allow_no_value => (trimmed, None),
            None => {
                return Err(format!(
                    "Source contains parsing errors: {file}, line {}: {raw}",
                    n + 1
                ));
            }
        };
        let k = if case_sensitive {
            k.to_string()
        } else {
            k.to_lowercase()
        };
        if out[s].1.iter().any(|(x, _)| *x == k) {
            return Err(format!("Duplicate option in '{file}'."));
        }
        out[s].1.push((k, v));
        last_key = Some(out[s].1.len() - 1);
    }
    Ok(out)
}

/// configparser's BasicInterpolation: `%(name)s` from the same section (or DEFAULT), `%%`.
fn interpolate(
    value: &str,
    section: &[(String, Option<String>)],
    defaults: &[(String, Option<String>)],
    depth: u32,
) -> Result<String, String> {
    if depth > 10 {
        return Err("Recursion limit exceeded in value substitution".into());
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
        } else if let Some(r) = after.strip_prefix('(')
            && let Some(end) = r.find(")s")
        {
            let name = r[..end].to_lowercase();
            let found = section
                .iter()
                .chain(defaults)
                .find(|(k, _)| k.to_lowercase() == name)
                .and_then(|(_, v)| v.clone())
                .ok_or_else(|| format!("Bad value substitution: option '{name}' not found"))?;
            out.push_str(&interpolate(&found, section, defaults, depth + 1)?);
            rest = &r[end + 2..];
        } else {
            return Err(format!(
                "'%' must be followed by '%' or '(', found: '{}'",
                &rest[i..]
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The options of one lookup: keywords first, then inline `key=value` words of the term.
fn options(
    defaults: &[(&str, &str)],
    kwargs: &Map<String, Json>,
) -> Result<Map<String, Json>, String> {
    let mut o: Map<String, Json> = defaults
        .iter()
        .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
        .collect();
    for (k, v) in kwargs {
        if !o.contains_key(k) && k != "allow_none" {
            return Err(format!("'{k}' is not a valid option."));
        }
        o.insert(k.clone(), v.clone());
    }
    Ok(o)
}

/// `lookup('ini', term, **kwargs)` for one term; `find` resolves the file name.
pub fn ini(
    term: &str,
    kwargs: &Map<String, Json>,
    find: &dyn Fn(&str) -> Option<std::path::PathBuf>,
) -> Result<Vec<Json>, String> {
    let mut o = options(
        &[
            ("file", "ansible.ini"),
            ("section", "global"),
            ("re", "False"),
            ("default", ""),
            ("type", "ini"),
            ("encoding", "utf-8"),
            ("case_sensitive", "False"),
            ("allow_no_value", "False"),
            ("interpolation", "True"),
        ],
        kwargs,
    )?;
    let mut key = term.to_string();
    if term.contains('=') || term.trim().contains(' ') {
        // ansible-core's _parse_params: words join the option last named.
        let valid: Vec<String> = o.keys().cloned().collect();
        let mut params: Vec<(String, String)> = Vec::new();
        let mut this = "key".to_string();
        for (i, phrase) in term.split_whitespace().enumerate() {
            if phrase.contains('=') {
                for k in &valid {
                    if phrase.contains(&format!("{k}=")) {
                        this = k.clone();
                    }
                }
            }
            match params.iter_mut().find(|(k, _)| *k == this) {
                Some((_, v)) if i != 0 && !v.is_empty() => {
                    v.push(' ');
                    v.push_str(phrase);
                }
                Some((_, v)) => *v = phrase.to_string(),
                None => params.push((this.clone(), phrase.to_string())),
            }
        }
        let mut got_key = false;
        for (_, p) in params {
            match p.split_once('=') {
                Some((name, value)) => {
                    if !o.contains_key(name) {
                        return Err(format!("'{name}' is not a valid option."));
                    }
                    o.insert(name.to_string(), Json::String(value.to_string()));
                }
                None if !got_key => {
                    key = p;
                    got_key = true;
                }
                None => {}
            }
        }
        if !got_key {
            return Err(format!(
                "No key to look up was provided as first term within string inline options: {term}"
            ));
        }
    }
    let get = |k: &str| text(o.get(k).unwrap_or(&Json::Null));
    let file = get("file");
    let path = find(&file).ok_or_else(|| format!("could not locate file in lookup: {file}"))?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut contents = if get("encoding")
        .to_lowercase()
        .replace('_', "-")
        .starts_with("utf")
    {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        bytes.iter().map(|b| *b as char).collect()
    };
    let mut section = get("section");
    if get("type") == "properties" {
        contents = format!("[java_properties]\n{contents}");
        section = "java_properties".into();
    }
    let case = truthy(&get("case_sensitive"));
    let allow = truthy(&get("allow_no_value"))
        || kwargs.get("allow_none").is_some_and(|v| truthy(&text(v)));
    let sections = parse_ini(&contents, case, allow, &file)?;
    let defaults: Vec<(String, Option<String>)> = sections
        .iter()
        .find(|(s, _)| s == "DEFAULT")
        .map(|(_, e)| e.clone())
        .unwrap_or_default();
    let Some((_, entries)) = sections.iter().find(|(s, _)| *s == section) else {
        return Err(format!("No section '{section}' in '{file}'."));
    };
    let interp = truthy(&get("interpolation"));
    let value = |v: &Option<String>| -> Result<Json, String> {
        Ok(match v {
            Some(v) if interp => Json::String(interpolate(v, entries, &defaults, 0)?),
            Some(v) => Json::String(v.clone()),
            None => Json::Null,
        })
    };
    if truthy(&get("re")) {
        let re = fancy_regex::Regex::new(&format!("^(?:{key})")).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for (k, v) in entries.iter().chain(defaults.iter()) {
            if re.is_match(k).unwrap_or(false) {
                out.push(value(v)?);
            }
        }
        return Ok(out);
    }
    let wanted = if case {
        key.clone()
    } else {
        key.to_lowercase()
    };
    match entries
        .iter()
        .chain(defaults.iter())
        .find(|(k, _)| *k == wanted)
    {
        // A key without a value (allow_no_value) is None, which ansible-core leaves out.
        Some((_, v)) => Ok(vec![value(v)?]
            .into_iter()
            .filter(|v| !v.is_null())
            .collect()),
        None => Ok(vec![
            o.get("default")
                .cloned()
                .unwrap_or(Json::String(String::new())),
        ]),
    }
}

/// One row of Excel-dialect CSV.
fn csv_row(line: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, c) if c == delim => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// `v` without one pair of surrounding quotes.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// `lookup('csvfile', term, **kwargs)` for one term.
pub fn csvfile(
    term: &str,
    kwargs: &Map<String, Json>,
    find: &dyn Fn(&str) -> Option<std::path::PathBuf>,
) -> Result<Vec<Json>, String> {
    let default = kwargs.get("default").cloned();
    let kwargs: Map<String, Json> = kwargs
        .iter()
        .filter(|(k, _)| *k != "default")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut o = options(
        &[
            ("file", "ansible.csv"),
            ("delimiter", "TAB"),
            ("col", "1"),
            ("keycol", "0"),
            ("encoding", "utf-8"),
        ],
        &kwargs,
    )?;
    let mut key = None;
    let mut default = default;
    // As ansible-core's parse_kv: quotes in the search key are part of it; values are unquoted.
    for word in crate::playbook::split_words_as_written(term) {
        let kv = word
            .split_once('=')
            .filter(|(k, _)| !k.contains(['"', '\'']))
            .map(|(k, v)| (k, unquote(v)));
        match kv {
            Some(("default", v)) => default = Some(Json::String(v.to_string())),
            Some((k, v)) => {
                if !o.contains_key(k) {
                    return Err(format!("'{k}' is not a valid option"));
                }
                o.insert(k.to_string(), Json::String(v.to_string()));
            }
            None if key.is_none() => key = Some(word),
            None => key = key.map(|k| format!("{k} {word}")),
        }
    }
    let Some(key) = key else {
        return Err("Search key is required but was not found".into());
    };
    let get = |k: &str| text(o.get(k).unwrap_or(&Json::Null));
    let delim = match get("delimiter").as_str() {
        "TAB" | "\\t" => '\t',
        d => d.chars().next().unwrap_or('\t'),
    };
    // ansible-core's option typing (`int`), and its words when a value is not one.
    let int = |k: &str| {
        get(k).trim().parse::<usize>().map_err(|_| {
            format!("Config '{k}' for 'csvfile' lookup plugin from 'Direct' has an invalid value.")
        })
    };
    let (col, keycol) = (int("col")?, int("keycol")?);
    let file = get("file");
    let path: std::path::PathBuf =
        find(&file).ok_or_else(|| format!("csvfile: {file}: No such file or directory"))?;
    let data = std::fs::read(Path::new(&path)).map_err(|e| format!("csvfile: {e}"))?;
    let text = String::from_utf8_lossy(&data);
    for line in text.lines() {
        let row = csv_row(line, delim);
        if row.get(keycol).is_some_and(|k| *k == key) {
            return match row.get(col) {
                Some(v) => Ok(vec![Json::String(v.clone())]),
                None => Err(format!("csvfile: no column {col} in the row of {key}")),
            };
        }
    }
    // A list default contributes its items (so `lookup` joins them with commas).
    Ok(match default {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items,
        Some(d) => vec![d],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn here(dir: &Path) -> impl Fn(&str) -> Option<std::path::PathBuf> + '_ {
        move |f: &str| Some(dir.join(f)).filter(|p| p.exists())
    }

    #[test]
    fn ini_and_csv_follow_ansible_core() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.ini"), "[DEFAULT]\nbase = /srv\n[global]\nUser = yperre\npath = %(base)s/x\nlong = one\n  two\n[section1]\nvalue1 = section1/value1\n").unwrap();
        std::fs::write(
            d.path().join("p.properties"),
            "field.user=yperre\nfield.pass: secret\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("people.csv"),
            "Smith,\"Jane, Q\",35\nJones,Bob,40\n",
        )
        .unwrap();
        let find = here(d.path());
        let none = Map::new();
        let kw = |pairs: &[(&str, &str)]| -> Map<String, Json> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect()
        };
        assert_eq!(
            ini("user", &kw(&[("file", "a.ini")]), &find).unwrap(),
            vec![json!("yperre")]
        );
        assert_eq!(
            ini("path file=a.ini", &none, &find).unwrap(),
            vec![json!("/srv/x")]
        );
        assert_eq!(
            ini("long file=a.ini", &none, &find).unwrap(),
            vec![json!("one\ntwo")]
        );
        assert_eq!(
            ini("value1 section=section1 file=a.ini", &none, &find).unwrap(),
            vec![json!("section1/value1")]
        );
        assert_eq!(
            ini("nope file=a.ini default=d", &none, &find).unwrap(),
            vec![json!("d")]
        );
        assert_eq!(
            ini("field.user type=properties file=p.properties", &none, &find).unwrap(),
            vec![json!("yperre")]
        );
        assert_eq!(
            ini("x section=missing file=a.ini", &none, &find).unwrap_err(),
            "No section 'missing' in 'a.ini'."
        );
        assert_eq!(
            csvfile("Smith file=people.csv delimiter=, col=1", &none, &find).unwrap(),
            vec![json!("Jane, Q")]
        );
        assert_eq!(
            csvfile(
                "Jones",
                &kw(&[("file", "people.csv"), ("delimiter", ","), ("col", "2")]),
                &find
            )
            .unwrap(),
            vec![json!("40")]
        );
        let mut list_default = none.clone();
        list_default.insert("default".into(), json!(["a", "b"]));
        assert_eq!(
            csvfile(
                "notfound file=people.csv delimiter=, col=2",
                &list_default,
                &find
            )
            .unwrap(),
            vec![json!("a"), json!("b")]
        );
        assert_eq!(
            csvfile("file=people.csv", &none, &find).unwrap_err(),
            "Search key is required but was not found"
        );
        assert!(
            csvfile("x file=people.csv bogus=1", &none, &find)
                .unwrap_err()
                .contains("not a valid option")
        );
    }
}
