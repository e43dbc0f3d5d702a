//! Validation against an Ansible argument spec (a role's `meta/argument_specs.yml`, or the
//! `validate_argument_spec` module): ansible-core's ArgumentSpecValidator rules and words —
//! aliases, unsupported options, required and `required_*` checks, defaults, type coercion
//! (str, int, float, bool, list, dict, path, raw, json, jsonarg, bytes, bits), `elements`,
//! `choices`, and nested `options` (a dict, or a list of dicts).

use serde_json::{Map, Value as Json};

/// ansible-core's name for a value's type.
fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "int",
        Json::Number(_) => "float",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

fn class(v: &Json) -> String {
    format!("<class '{}'>", type_name(v))
}

/// Python's `repr` of a scalar (for type errors).
fn repr(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(b) => if *b { "True" } else { "False" }.into(),
        Json::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn str_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Bool(b) => if *b { "True" } else { "False" }.into(),
        other => other.to_string(),
    }
}

/// Coerces `v` to `wanted`, or says why not (ansible-core's check_type_* messages).
pub fn coerce(v: &Json, wanted: &str) -> Result<Json, String> {
    match wanted {
        "str" | "path" => Ok(Json::String(str_of(v))),
        "raw" => Ok(v.clone()),
        "int" => match v {
            Json::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Json::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => Ok(Json::from(f as i64)),
                _ => Err(format!("\"{}\" cannot be converted to an int", repr(v))),
            },
            Json::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Json::from)
                .or_else(|_| match s.trim().parse::<f64>() {
                    Ok(f) if f.fract() == 0.0 && f.is_finite() => Ok(Json::from(f as i64)),
                    _ => Err(()),
                })
                .map_err(|_| format!("\"{}\" cannot be converted to an int", repr(v))),
            Json::Bool(b) => Ok(Json::from(i64::from(*b))),
            _ => Err(format!("\"{}\" cannot be converted to an int", repr(v))),
        },
        "float" => match v {
            Json::Number(n) => Ok(Json::from(n.as_f64().unwrap_or(0.0))),
            Json::String(s) => s
                .trim()
                .parse::<f64>()
                .map(Json::from)
                .map_err(|_| format!("{} cannot be converted to a float", class(v))),
            _ => Err(format!("{} cannot be converted to a float", class(v))),
        },
        "bool" => match v {
            Json::Bool(_) => Ok(v.clone()),
            Json::String(_) | Json::Number(_) => {
                let t = str_of(v).to_lowercase();
                match t.as_str() {
                    "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => Ok(Json::Bool(true)),
                    "n" | "no" | "off" | "0" | "false" | "f" | "0.0" => Ok(Json::Bool(false)),
                    _ => Err(format!(
                        "The value '{}' is not a valid boolean.  Valid booleans include: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
                        str_of(v)
                    )),
                }
            }
            _ => Err(format!("{} cannot be converted to a bool", class(v))),
        },
        "list" => match v {
            Json::Array(_) => Ok(v.clone()),
            Json::String(s) => Ok(Json::Array(s.split(',').map(Json::from).collect())),
            Json::Number(_) => Ok(Json::Array(vec![Json::String(v.to_string())])),
            _ => Err(format!("{} cannot be converted to a list", class(v))),
        },
        "dict" => match v {
            Json::Object(_) => Ok(v.clone()),
            Json::String(s) if s.trim_start().starts_with('{') => serde_json::from_str(s)
                .ok()
                .filter(Json::is_object)
                .ok_or_else(|| "unable to evaluate string as dictionary".to_string()),
            Json::String(s) if s.contains('=') => {
                let mut m = Map::new();
                for field in s.split([',', ' ']).filter(|f| !f.is_empty()) {
                    let (k, val) = field.split_once('=').ok_or_else(|| {
                        "unable to evaluate string in the \"key=value\" format as dictionary"
                            .to_string()
                    })?;
                    m.insert(
                        k.to_string(),
                        Json::String(val.trim_matches(['\'', '"']).to_string()),
                    );
                }
                Ok(Json::Object(m))
            }
            Json::String(_) => {
                Err("dictionary requested, could not parse JSON or key=value".into())
            }
            _ => Err(format!("{} cannot be converted to a dict", class(v))),
        },
        "json" | "jsonarg" => match v {
            Json::String(s) => Ok(Json::String(s.trim().to_string())),
            Json::Array(_) | Json::Object(_) => Ok(Json::String(v.to_string())),
            _ => Err(format!("{} cannot be converted to a json string", class(v))),
        },
        "bytes" | "bits" => {
            let text = str_of(v);
            crate::template::filters::size_to_bytes(&text, None, wanted == "bits")
                .map(Json::from)
                .map_err(|_| {
                    format!(
                        "{} cannot be converted to a {} value",
                        class(v),
                        if wanted == "bits" { "Bit" } else { "Byte" }
                    )
                })
        }
        other => Err(format!("unsupported type {other}")),
    }
}

/// Where an error was found (` found in a -> b`).
fn found_in(ctx: &[String]) -> String {
    if ctx.is_empty() {
        String::new()
    } else {
        format!(" found in {}", ctx.join(" -> "))
    }
}

/// The names (and aliases) a spec accepts.
fn legal(spec: &Map<String, Json>) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = spec.keys().cloned().collect();
    let mut aliases = Vec::new();
    for s in spec.values() {
        if let Some(a) = s.get("aliases").and_then(Json::as_array) {
            aliases.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)));
        }
    }
    names.sort();
    aliases.sort();
    (names, aliases)
}

fn names(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| a.iter().map(str_of).collect())
        .unwrap_or_default()
}

fn groups(v: Option<&Json>) -> Vec<Vec<String>> {
    v.and_then(Json::as_array)
        .map(|a| a.iter().map(|g| names(Some(g))).collect())
        .unwrap_or_default()
}

/// The checks of one level: `spec` against `params` (changed in place: aliases resolved,
/// defaults set, values coerced). Errors are appended; unsupported names collected with
/// their path.
fn level(
    spec: &Map<String, Json>,
    holder: &Json,
    params: &mut Map<String, Json>,
    ctx: &[String],
    prefix: &str,
    errors: &mut Vec<String>,
    unsupported: &mut Vec<(String, Vec<String>, Vec<String>)>,
) {
    // Aliases: the option's own name wins.
    for (name, s) in spec {
        for alias in names(s.get("aliases")) {
            if let Some(v) = params.get(&alias).cloned()
                && !params.contains_key(name)
            {
                params.insert(name.clone(), v);
            }
        }
    }
    let (legal_names, legal_aliases) = legal(spec);
    let mut extra: Vec<String> = params
        .keys()
        .filter(|k| !legal_names.contains(k) && !legal_aliases.contains(k))
        .map(|k| format!("{prefix}{k}"))
        .collect();
    extra.sort();
    if !extra.is_empty() {
        unsupported.push((extra.join(", "), legal_names.clone(), legal_aliases.clone()));
    }
    let present = |p: &Map<String, Json>, n: &str| p.get(n).is_some_and(|v| !v.is_null());
    for group in groups(holder.get("mutually_exclusive")) {
        let set: Vec<&String> = group.iter().filter(|n| present(params, n)).collect();
        if set.len() > 1 {
            let list: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
            errors.push(format!(
                "parameters are mutually exclusive: {}{}",
                list.join("|"),
                found_in(ctx)
            ));
        }
    }
    // Defaults of options not given (not yet for required checks: a default never
    // satisfies `required`).
    let mut missing: Vec<String> = spec
        .iter()
        .filter(|(n, s)| {
            s.get("required").and_then(Json::as_bool) == Some(true) && !params.contains_key(*n)
        })
        .map(|(n, _)| n.clone())
        .collect();
    missing.sort();
    if !missing.is_empty() {
        errors.push(format!(
            "missing required arguments: {}{}",
            missing.join(", "),
            found_in(ctx)
        ));
    }
    for (name, s) in spec {
        if !params.contains_key(name)
            && let Some(d) = s.get("default")
            && !d.is_null()
        {
            params.insert(name.clone(), d.clone());
        }
    }
    // Types.
    for (name, s) in spec {
        let Some(v) = params.get(name).cloned() else {
            continue;
        };
        let required = s.get("required").and_then(Json::as_bool) == Some(true);
        if v.is_null() && !required && s.get("default").is_none_or(Json::is_null) {
            continue;
        }
        let wanted = s.get("type").and_then(Json::as_str).unwrap_or("str");
        match coerce(&v, wanted) {
            Ok(mut c) => {
                if let Some(el) = s.get("elements").and_then(Json::as_str) {
                    match &mut c {
                        Json::Array(items) if el != "dict" || s.get("options").is_none() => {
                            for (i, item) in items.iter_mut().enumerate() {
                                match coerce(item, el) {
                                    Ok(x) => *item = x,
                                    Err(e) => errors.push(format!(
                                        "Elements value for option '{name}'{} is of type {} and we were unable to convert to {el}: {e}",
                                        if ctx.is_empty() { String::new() } else { format!(" found in '{}'", ctx.join(" -> ")) },
                                        type_name(item)
                                    )),
                                }
                                let _ = i;
                            }
                        }
                        Json::Array(_) => {}
                        _ => errors.push(format!(
                            "Invalid type {wanted} for option '{c}'{}, elements value check is supported only with 'list' type",
                            if ctx.is_empty() { String::new() } else { format!(" found in '{}'.", ctx.join(" -> ")) }
                        )),
                    }
                }
                params.insert(name.clone(), c);
            }
            Err(e) => errors.push(format!(
                "argument '{name}' is of type {}{} and we were unable to convert to {wanted}: {e}",
                type_name(&v),
                if ctx.is_empty() {
                    String::new()
                } else {
                    format!(" found in '{}'.", ctx.join(" -> "))
                }
            )),
        }
    }
    // Choices.
    for (name, s) in spec {
        let Some(choices) = s.get("choices").and_then(Json::as_array) else {
            continue;
        };
        let Some(v) = params.get(name) else { continue };
        let shown: Vec<String> = choices.iter().map(str_of).collect();
        match v {
            Json::Array(items) => {
                let bad: Vec<String> = items
                    .iter()
                    .filter(|i| !choices.contains(i))
                    .map(str_of)
                    .collect();
                if !bad.is_empty() {
                    errors.push(format!(
                        "value of {name} must be one or more of: {}. Got no match for: {}{}",
                        shown.join(", "),
                        bad.join(", "),
                        found_in(ctx)
                    ));
                }
            }
            v if !choices.contains(v) && !v.is_null() => errors.push(format!(
                "value of {name} must be one of: {}, got: {}{}",
                shown.join(", "),
                str_of(v),
                found_in(ctx)
            )),
            _ => {}
        }
    }
    for group in groups(holder.get("required_together")) {
        let n = group.iter().filter(|g| present(params, g)).count();
        if n > 0 && n < group.len() {
            errors.push(format!(
                "parameters are required together: {}{}",
                group.join(", "),
                found_in(ctx)
            ));
        }
    }
    for group in groups(holder.get("required_one_of")) {
        if !group.iter().any(|g| present(params, g)) {
            errors.push(format!(
                "one of the following is required: {}{}",
                group.join(", "),
                found_in(ctx)
            ));
        }
    }
    if let Some(ifs) = holder.get("required_if").and_then(Json::as_array) {
        for rule in ifs {
            let Some(r) = rule.as_array() else { continue };
            let (Some(key), Some(val), Some(reqs)) = (r.first(), r.get(1), r.get(2)) else {
                continue;
            };
            let any = r.get(3).and_then(Json::as_bool) == Some(true);
            let key = str_of(key);
            if params.get(&key) != Some(val) {
                continue;
            }
            let reqs = names(Some(reqs));
            let missing: Vec<String> = reqs
                .iter()
                .filter(|x| !present(params, x))
                .cloned()
                .collect();
            let fail = if any {
                missing.len() == reqs.len()
            } else {
                !missing.is_empty()
            };
            if fail {
                errors.push(format!(
                    "{key} is {} but {} of the following are missing: {}{}",
                    str_of(val),
                    if any { "any" } else { "all" },
                    missing.join(", "),
                    found_in(ctx)
                ));
            }
        }
    }
    if let Some(Json::Object(by)) = holder.get("required_by") {
        for (key, reqs) in by {
            if !present(params, key) {
                continue;
            }
            let reqs = match reqs {
                Json::String(s) => vec![s.clone()],
                other => names(Some(other)),
            };
            let missing: Vec<String> = reqs
                .iter()
                .filter(|x| !present(params, x))
                .cloned()
                .collect();
            if !missing.is_empty() {
                errors.push(format!(
                    "missing parameter(s) required by '{key}': {}{}",
                    missing.join(", "),
                    found_in(ctx)
                ));
            }
        }
    }
    // Nested options.
    for (name, s) in spec {
        let wanted = s.get("type").and_then(Json::as_str).unwrap_or("str");
        let nested = wanted == "dict"
            || (wanted == "list" && s.get("elements").and_then(Json::as_str) == Some("dict"));
        let Some(Json::Object(sub)) = s.get("options") else {
            continue;
        };
        if !nested {
            continue;
        }
        if s.get("apply_defaults").and_then(Json::as_bool) == Some(true)
            && params.get(name).is_none_or(Json::is_null)
        {
            params.insert(name.clone(), Json::Object(Map::new()));
        }
        let Some(value) = params.get_mut(name).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut sub_ctx = ctx.to_vec();
        sub_ctx.push(name.clone());
        let many = wanted == "list";
        let items: Vec<&mut Json> = match value {
            Json::Array(a) => a.iter_mut().collect(),
            other => vec![other],
        };
        for (i, item) in items.into_iter().enumerate() {
            let Json::Object(m) = item else {
                errors.push(format!(
                    "value of '{name}' must be of type dict or list of dicts"
                ));
                continue;
            };
            let new_prefix = if many {
                format!("{prefix}{name}[{i}].")
            } else {
                format!("{prefix}{name}.")
            };
            level(sub, s, m, &sub_ctx, &new_prefix, errors, unsupported);
        }
    }
}

/// Validates `params` against `spec` (an argument spec's `options`); the validated values
/// and ansible-core's error messages.
pub fn validate(
    spec: &Map<String, Json>,
    params: Map<String, Json>,
) -> (Map<String, Json>, Vec<String>) {
    let mut params = params;
    let mut errors = Vec::new();
    let mut unsupported = Vec::new();
    level(
        spec,
        &Json::Null,
        &mut params,
        &[],
        "",
        &mut errors,
        &mut unsupported,
    );
    for (names, legal, aliases) in unsupported {
        let mut supported = legal.join(", ");
        if !aliases.is_empty() {
            supported.push_str(&format!(" ({})", aliases.join(", ")));
        }
        errors.push(format!(
            "{names}. Supported parameters include: {supported}."
        ));
    }
    (params, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn messages_are_ansible_core_s() {
        let s = spec(json!({
            "c_int": {"required": true, "type": "int"},
            "c_list": {"required": true, "type": "list"},
            "name": {"type": "str", "choices": ["a", "b"]},
            "multi": {"type": "dict", "options": {"second": {"type": "dict", "options": {"third": {"type": "int", "required": true}}}}}
        }));
        let (_, e) = validate(&s, spec(json!({"c_int": null, "c_list": null})));
        assert_eq!(
            e,
            vec![
                "argument 'c_int' is of type NoneType and we were unable to convert to int: \"None\" cannot be converted to an int",
                "argument 'c_list' is of type NoneType and we were unable to convert to list: <class 'NoneType'> cannot be converted to a list",
            ]
        );
        let (_, e) = validate(&s, spec(json!({"name": "z"})));
        assert!(
            e.contains(&"missing required arguments: c_int, c_list".to_string()),
            "{e:?}"
        );
        assert!(
            e.contains(&"value of name must be one of: a, b, got: z".to_string()),
            "{e:?}"
        );
        let (_, e) = validate(
            &s,
            spec(json!({"c_int": "5", "c_list": "a,b", "multi": {"second": {"bogus": true}}})),
        );
        assert_eq!(
            e,
            vec![
                "missing required arguments: third found in multi -> second",
                "multi.second.bogus. Supported parameters include: third.",
            ]
        );
        let (v, e) = validate(&s, spec(json!({"c_int": "5", "c_list": "a,b"})));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(v["c_int"], json!(5));
        assert_eq!(v["c_list"], json!(["a", "b"]));
    }
}
