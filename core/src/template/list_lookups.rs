//! The lookups that reshape lists (`items`, `flattened`, `dict`, `indexed_items`, `together`,
//! `nested`, `subelements`), with ansible-core's exact results and error messages. One
//! implementation serves `lookup()`/`query()` in templates and the `with_<name>` loops.

use serde_json::{Value as Json, json};

/// The lookups this module answers.
pub const NAMES: &[&str] = &[
    "items",
    "flattened",
    "dict",
    "indexed_items",
    "together",
    "nested",
    "subelements",
];

/// ansible-core's `LookupBase._flatten`: lists inside `terms` unpacked one level.
fn flatten_once(terms: &[Json]) -> Vec<Json> {
    let mut out = Vec::new();
    for t in terms {
        match t {
            Json::Array(a) => out.extend(a.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    out
}

fn flatten_all(v: &Json, out: &mut Vec<Json>) {
    match v {
        Json::Array(a) => a.iter().for_each(|x| flatten_all(x, out)),
        Json::Null => {}
        Json::String(s) if s == "None" || s == "null" => {}
        other => out.push(other.clone()),
    }
}

/// The elements of `v` as Python iterates them (a string gives its characters).
fn elements(v: &Json) -> Vec<Json> {
    match v {
        Json::Array(a) => a.clone(),
        Json::String(s) => s.chars().map(|c| json!(c.to_string())).collect(),
        Json::Object(m) => m.keys().map(|k| json!(k)).collect(),
        other => vec![other.clone()],
    }
}

fn subelements(terms: &[Json]) -> Result<Vec<Json>, String> {
    if !(2..=3).contains(&terms.len()) {
        return Err("subelements lookup expects a list of two or three items, ".into());
    }
    let list = match &terms[0] {
        Json::Object(m) => {
            if m.get("skipped").is_some_and(|s| s != &Json::Bool(false)) {
                return Ok(Vec::new());
            }
            m.values().cloned().collect()
        }
        Json::Array(a) => a.clone(),
        _ => return Err("subelements lookup expects a list of two or three items, first a dict or a list, second a string pointing to the subkey".into()),
    };
    let Json::String(path) = &terms[1] else {
        return Err("subelements lookup expects a list of two or three items, first a dict or a list, second a string pointing to the subkey".into());
    };
    let keys: Vec<&str> = path.split('.').collect();
    let mut skip_missing = false;
    if let Some(flags) = terms.get(2) {
        let Json::Object(f) = flags else {
            return Err(
                "the optional third item must be a dict with flags {'skip_missing': False}".into(),
            );
        };
        for (k, v) in f {
            if k != "skip_missing" {
                return Err(format!(
                    "the optional third item must be a dict with flags {{'skip_missing': False}}, got {k}"
                ));
            }
            skip_missing = match v {
                Json::Bool(b) => *b,
                Json::String(s) => {
                    matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1")
                }
                _ => false,
            };
        }
    }
    let mut out = Vec::new();
    'items: for item in list {
        let Json::Object(_) = &item else {
            return Err(format!(
                "subelements lookup expects a dictionary, got '{item}'"
            ));
        };
        if item.get("skipped").is_some_and(|s| s != &Json::Bool(false)) {
            continue;
        }
        // The sub-list is taken out of the element it is returned with, as ansible-core does.
        let mut element = item.clone();
        let mut at: &mut Json = &mut element;
        let mut sublist = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            let Some(value) = at.get(*key) else {
                if skip_missing {
                    continue 'items;
                }
                return Err(format!(
                    "could not find '{key}' key in iterated item '{at}'"
                ));
            };
            if !last {
                if !value.is_object() {
                    if skip_missing {
                        continue 'items;
                    }
                    return Err(format!(
                        "the key {key} should point to a dictionary, got '{value}'"
                    ));
                }
                at = at.get_mut(*key).ok_or("vanished key")?;
            } else {
                let Json::Array(a) = value else {
                    return Err(format!(
                        "the key {key} should point to a list, got '{value}'"
                    ));
                };
                sublist = a.clone();
                if let Json::Object(m) = at {
                    m.remove(*key);
                }
            }
        }
        for s in sublist {
            out.push(json!([element.clone(), s]));
        }
    }
    Ok(out)
}

/// Runs lookup `name` on `terms` (already a list, as ansible-core passes them).
pub fn run(name: &str, terms: &[Json]) -> Result<Vec<Json>, String> {
    Ok(match name {
        "items" => flatten_once(terms),
        "flattened" => {
            let mut out = Vec::new();
            terms.iter().for_each(|t| flatten_all(t, &mut out));
            out
        }
        "dict" => {
            let mut out = Vec::new();
            for t in terms {
                let Json::Object(m) = t else {
                    return Err(format!(
                        "the 'dict' lookup plugin expects a dictionary, got '{t}' of type {}",
                        python_type(t)
                    ));
                };
                out.extend(m.iter().map(|(k, v)| json!({"key": k, "value": v})));
            }
            out
        }
        "indexed_items" => flatten_once(terms)
            .into_iter()
            .enumerate()
            .map(|(i, v)| json!([i, v]))
            .collect(),
        "together" => {
            if terms.is_empty() {
                return Err("with_together requires at least one element in each list".into());
            }
            let lists: Vec<Vec<Json>> = terms.iter().map(elements).collect();
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            (0..n)
                .map(|i| {
                    let row: Vec<Json> = lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                        .collect();
                    Json::Array(flatten_once(&row))
                })
                .collect()
        }
        "nested" => {
            if terms.is_empty() {
                return Err("with_nested requires at least one element in the nested list".into());
            }
            let mut result: Vec<Json> = elements(&terms[0]);
            for next in &terms[1..] {
                let mut combined = Vec::new();
                for x in &result {
                    for y in elements(next) {
                        combined.push(Json::Array(flatten_once(&[x.clone(), y])));
                        if combined.len() > 100_000 {
                            return Err("with_nested: more than 100000 combinations".into());
                        }
                    }
                }
                result = combined;
            }
            result
                .iter()
                .map(|x| Json::Array(flatten_once(std::slice::from_ref(x))))
                .collect()
        }
        "subelements" => subelements(terms)?,
        other => {
            return Err(format!(
                "The lookup plugin {} was not found.",
                super::pyformat::py_repr(&minijinja::Value::from(other))
            ));
        }
    })
}

/// A `with_<name>` value as the terms list ansible-core hands the lookup: a list as is,
/// anything else (a mapping, a string) as a list of one.
pub fn listify(terms: Json) -> Vec<Json> {
    match terms {
        Json::Array(a) => a,
        other => vec![other],
    }
}

/// Python's type name of a JSON value, for ansible-core's messages.
pub fn python_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "<class 'NoneType'>",
        Json::Bool(_) => "<class 'bool'>",
        Json::Number(n) if n.is_f64() => "<class 'float'>",
        Json::Number(_) => "<class 'int'>",
        Json::String(_) => "<class 'str'>",
        Json::Array(_) => "<class 'list'>",
        Json::Object(_) => "<class 'dict'>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_ansible_core() {
        assert_eq!(
            run("items", &[json!([1, [2]]), json!(3)]).unwrap(),
            vec![json!(1), json!([2]), json!(3)]
        );
        assert_eq!(
            run("indexed_items", &[json!({"a": 1})]).unwrap(),
            vec![json!([0, {"a": 1}])]
        );
        assert_eq!(
            run("together", &[json!([1, 2]), json!(["a"])]).unwrap(),
            vec![json!([1, "a"]), json!([2, null])]
        );
        assert!(
            run("together", &[])
                .unwrap_err()
                .contains("requires at least one element")
        );
        assert_eq!(
            run("nested", &[json!([1, 2]), json!(["a", "b"])]).unwrap(),
            vec![
                json!([1, "a"]),
                json!([1, "b"]),
                json!([2, "a"]),
                json!([2, "b"])
            ]
        );
        let data = json!([{"id": "x", "the": {"sub": {"list": ["q", "r"]}}}]);
        let r = run("subelements", &[data, json!("the.sub.list")]).unwrap();
        assert_eq!(r[0], json!([{"id": "x", "the": {"sub": {}}}, "q"]));
        assert_eq!(r.len(), 2);
        let missing = json!([{"id": "y"}]);
        assert!(
            run("subelements", &[missing.clone(), json!("k")])
                .unwrap_err()
                .contains("could not find 'k'")
        );
        assert!(
            run(
                "subelements",
                &[missing, json!("k"), json!({"skip_missing": true})]
            )
            .unwrap()
            .is_empty()
        );
        assert!(
            run("dict", &[json!([1])])
                .unwrap_err()
                .contains("the 'dict' lookup plugin expects a dictionary")
        );
    }
}
