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
                        match templar.render_value(item, &ctx) {
                            Ok(v) => kept.push(v),
                            Err(e) if e.undefined => {}
                            Err(e) => return Err(rendering(".")(e)),
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
}
