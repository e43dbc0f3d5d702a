//! Loop items: `loop:` (a list, or a template giving one) and the `with_<lookup>` forms.

use crate::playbook::LoopSpec;
use crate::template::{Scope, Templar, TemplateError, list_lookups};
use serde_json::{Value as Json, json};
use std::sync::Arc;

fn list(v: Json, what: &str) -> Result<Vec<Json>, TemplateError> {
    match v {
        Json::Array(a) => Ok(a),
        other => Err(TemplateError::new(format!(
            "Invalid data passed to '{what}', it requires a list, got this instead: {other}"
        ))),
    }
}

/// The items a task loops over, templated against `scope`; `action` is the task's module as
/// written (`with_first_found` looks in the subdirectory it names, as ansible-core does).
pub fn items(
    templar: &Templar,
    spec: &LoopSpec,
    scope: &Arc<Scope>,
    action: &str,
) -> Result<Vec<Json>, TemplateError> {
    let ctx = scope.context();
    // ansible-core's words for a loop that cannot be templated (an undefined value keeps its
    // own): `Error rendering template: ...` for `loop`, `... template. ...` for `with_*`.
    let rendering = |sep: &'static str| {
        move |e: TemplateError| {
            if e.undefined {
                e
            } else {
                TemplateError::new(format!("Error rendering template{sep} {}", e.message))
            }
        }
    };
    match spec {
        LoopSpec::Loop(v) => {
            let rendered = templar.render_value(v, &ctx).map_err(rendering(":"))?;
            list(rendered, "loop")
        }
        LoopSpec::With { lookup, terms } => {
            // `with_first_found` leaves out a term that is undefined, as ansible-core does.
            let terms = match terms {
                Json::Array(items) if lookup == "first_found" => {
                    let mut kept = Vec::new();
                    for item in items {
                        if let Some(v) =
                            lazily(templar, scope, &ctx, item, 0).map_err(rendering("."))?
                        {
                            kept.push(v);
                        }
                    }
                    Json::Array(kept)
                }
                _ => templar.render_value(terms, &ctx).map_err(rendering("."))?,
            };
            let what = format!("with_{lookup}");
            match lookup.as_str() {
                // ansible-core's `list` lookup returns its terms: one value is a list of one.
                "list" => Ok(match terms {
                    Json::Array(a) => a,
                    other => vec![other],
                }),
                n if list_lookups::NAMES.contains(&n) => {
                    list_lookups::run(n, &list_lookups::listify(terms)).map_err(TemplateError::new)
                }
                other => {
                    // Lookups: query('<name>', terms).
                    let args = match terms {
                        Json::Array(a) => a,
                        t => vec![t],
                    };
                    let ctx = minijinja::context! { __hoist_terms => crate::template::to_jinja(&Json::Array(args)), ..ctx };
                    let call = if other == "first_found" {
                        let subdir = ["template", "var", "file"]
                            .into_iter()
                            .find(|s| action.contains(s))
                            .unwrap_or("file");
                        format!("query('first_found', __hoist_terms, _hoist_subdir='{subdir}s')")
                    } else {
                        format!("query('{other}', __hoist_terms)")
                    };
                    let v = templar.eval(&call, &ctx)?;
                    list(v, &what)
                }
            }
        }
    }
}

/// A `with_first_found` term templated as ansible-core's lazy templating sees it: `None` when
/// the term is undefined. A list (written in the term, or a variable the term names alone, as
/// `files: "{{ files }}"`) keeps the entries that are defined and leaves out the others; any
/// other undefined value makes the whole term undefined. Other errors stay errors.
fn lazily(
    templar: &Templar,
    scope: &Arc<Scope>,
    ctx: &minijinja::Value,
    v: &Json,
    depth: usize,
) -> Result<Option<Json>, TemplateError> {
    let e = match templar.render_value(v, ctx) {
        Ok(v) => return Ok(Some(v)),
        Err(e) if e.undefined => e,
        Err(e) => return Err(e),
    };
    // Lists nested in variables naming variables: bounded, so a cycle ends.
    if depth > 8 {
        return Err(e);
    }
    match v {
        Json::Array(items) => {
            let mut kept = Vec::new();
            for item in items {
                if let Some(v) = lazily(templar, scope, ctx, item, depth + 1)? {
                    kept.push(v);
                }
            }
            Ok(Some(Json::Array(kept)))
        }
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, val) in m {
                match lazily(templar, scope, ctx, val, depth + 1)? {
                    Some(v) => {
                        out.insert(k.clone(), v);
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some(Json::Object(out)))
        }
        Json::String(s) => match sole_variable(s).and_then(|n| scope.operator_raw(n)) {
            Some(list @ Json::Array(_)) => lazily(templar, scope, ctx, list, depth + 1),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The variable a string names when it is exactly one `{{ name }}` and nothing else.
fn sole_variable(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let mut chars = inner.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(inner)
}

/// `ansible_loop` for item `i` of `all` (loop_control.extended).
pub fn extended(all: &[Json], i: usize, allitems: bool) -> Json {
    let n = all.len();
    let mut v = json!({
        "allitems": all,
        "index": i + 1,
        "index0": i,
        "revindex": n - i,
        "revindex0": n - i - 1,
        "first": i == 0,
        "last": i + 1 == n,
        "length": n,
        "previtem": if i > 0 { all[i - 1].clone() } else { Json::Null },
        "nextitem": all.get(i + 1).cloned().unwrap_or(Json::Null),
    });
    if let Json::Object(m) = &mut v {
        if !allitems {
            m.remove("allitems");
        }
        // The first item has no `previtem` and the last no `nextitem` (undefined, not null).
        if i == 0 {
            m.remove("previtem");
        }
        if i + 1 >= n {
            m.remove("nextitem");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Vars;
    use crate::template::Templar;

    fn run(spec: LoopSpec) -> Result<Vec<Json>, String> {
        let t = Arc::new(Templar::new());
        let vars: Vars = json!({"users": ["a", "b"], "ports": {"http": 80, "https": 443}})
            .as_object()
            .cloned()
            .unwrap();
        let scope = Scope::new(
            vec![crate::template::Layer::templates(Arc::new(vars))],
            t.clone(),
            None,
        );
        items(&t, &spec, &scope, "debug").map_err(|e| e.message)
    }

    fn with(lookup: &str, terms: Json) -> LoopSpec {
        LoopSpec::With {
            lookup: lookup.into(),
            terms,
        }
    }

    #[test]
    fn loop_forms() {
        assert_eq!(
            run(LoopSpec::Loop(json!("{{ users }}"))).unwrap(),
            vec![json!("a"), json!("b")]
        );
        assert!(
            run(LoopSpec::Loop(json!("{{ ports }}")))
                .unwrap_err()
                .contains("requires a list")
        );
        assert_eq!(
            run(with("items", json!([[1, 2], 3]))).unwrap(),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            run(with("dict", json!("{{ ports }}"))).unwrap()[1],
            json!({"key": "https", "value": 443})
        );
        assert_eq!(
            run(with("indexed_items", json!(["x"]))).unwrap(),
            vec![json!([0, "x"])]
        );
        assert_eq!(
            run(with("together", json!([[1, 2], ["a"]]))).unwrap(),
            vec![json!([1, "a"]), json!([2, null])]
        );
        assert_eq!(
            run(with("nested", json!([[1, 2], ["a", "b"]])))
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            run(with("subelements", json!([[{"n": "x", "k": [1, 2]}], "k"]))).unwrap(),
            vec![json!([{"n": "x"}, 1]), json!([{"n": "x"}, 2])],
            "ansible-core returns the element without the sub-list it loops over"
        );
        assert_eq!(
            run(with("sequence", json!("start=1 end=3"))).unwrap(),
            vec![json!("1"), json!("2"), json!("3")]
        );
        assert_eq!(
            extended(&[json!(1), json!(2)], 1, true)["last"],
            json!(true)
        );
    }

    #[test]
    fn first_found_terms_keep_their_defined_entries() {
        let t = Arc::new(Templar::new());
        let vars: Vars = json!({
            "files": ["{{ missing_var }}foo1", "bar1"],
            "name": "x",
            "loop_a": "{{ loop_b }}",
            "loop_b": "{{ loop_a }}"
        })
        .as_object()
        .cloned()
        .unwrap();
        let scope = Scope::new(
            vec![crate::template::Layer::templates(Arc::new(vars))],
            t.clone(),
            None,
        );
        let ctx = scope.context();
        let lazy = |v: Json| lazily(&t, &scope, &ctx, &v, 0).map_err(|e| e.message);
        // A variable holding a list: its undefined entry is left out.
        assert_eq!(
            lazy(json!({"files": "{{ files }}"})).unwrap(),
            Some(json!({"files": ["bar1"]}))
        );
        // A list written in the term, the same.
        assert_eq!(
            lazy(json!({"files": ["{{ nope }}.yml", "{{ name }}.yml"], "paths": ["/p"]})).unwrap(),
            Some(json!({"files": ["x.yml"], "paths": ["/p"]}))
        );
        // Any other undefined value: the whole term is undefined.
        assert_eq!(lazy(json!({"files": "{{ nope }}"})).unwrap(), None);
        assert_eq!(lazy(json!("{{ nope }}/a")).unwrap(), None);
        // Other errors stay errors.
        assert!(lazy(json!(["{{ 1 / 0 }}"])).is_err());
    }
}
