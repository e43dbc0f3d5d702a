//! Loop items: `loop:` (a list, or a template giving one) and the `with_<lookup>` forms.

use crate::playbook::LoopSpec;
use crate::template::{Scope, Templar, TemplateError};
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

fn flatten(v: &Json, depth: Option<usize>, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) if depth != Some(0) => {
            for i in items {
                flatten(i, depth.map(|d| d - 1), out);
            }
        }
        other => out.push(other.clone()),
    }
}

/// The items a task loops over, templated against `scope`.
pub fn items(
    templar: &Templar,
    spec: &LoopSpec,
    scope: &Arc<Scope>,
) -> Result<Vec<Json>, TemplateError> {
    let ctx = scope.context();
    match spec {
        LoopSpec::Loop(v) => {
            let rendered = templar.render_value(v, &ctx)?;
            list(rendered, "loop")
        }
        LoopSpec::With { lookup, terms } => {
            let terms = templar.render_value(terms, &ctx)?;
            let what = format!("with_{lookup}");
            match lookup.as_str() {
                "items" => {
                    let mut out = Vec::new();
                    match terms {
                        Json::Array(a) => a.iter().for_each(|t| flatten(t, Some(1), &mut out)),
                        other => out.push(other),
                    }
                    Ok(out)
                }
                "list" => list(terms, &what),
                "flattened" => {
                    let mut out = Vec::new();
                    flatten(&terms, None, &mut out);
                    Ok(out)
                }
                "dict" => match terms {
                    Json::Object(m) => Ok(m
                        .into_iter()
                        .map(|(k, v)| json!({"key": k, "value": v}))
                        .collect()),
                    other => Err(TemplateError::new(format!(
                        "with_dict expects a dict, got {other}"
                    ))),
                },
                "indexed_items" => Ok(list(terms, &what)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| json!([i, v]))
                    .collect()),
                "together" => {
                    let lists: Vec<Vec<Json>> = list(terms, &what)?
                        .into_iter()
                        .map(|l| list(l, &what))
                        .collect::<Result<_, _>>()?;
                    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
                    Ok((0..n)
                        .map(|i| {
                            Json::Array(
                                lists
                                    .iter()
                                    .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                                    .collect(),
                            )
                        })
                        .collect())
                }
                "nested" => {
                    let lists: Vec<Vec<Json>> = list(terms, &what)?
                        .into_iter()
                        .map(|l| list(l, &what))
                        .collect::<Result<_, _>>()?;
                    let mut out: Vec<Vec<Json>> = vec![Vec::new()];
                    for l in lists {
                        out = out
                            .into_iter()
                            .flat_map(|prefix| {
                                l.iter()
                                    .map(move |x| [prefix.clone(), vec![x.clone()]].concat())
                            })
                            .collect();
                        if out.len() > 100_000 {
                            return Err(TemplateError::new(
                                "with_nested: more than 100000 combinations",
                            ));
                        }
                    }
                    Ok(out.into_iter().map(Json::Array).collect())
                }
                "subelements" => {
                    let parts = list(terms, &what)?;
                    let (Some(elements), Some(Json::String(key))) = (parts.first(), parts.get(1))
                    else {
                        return Err(TemplateError::new("with_subelements takes [list, 'key']"));
                    };
                    let mut out = Vec::new();
                    for e in list(elements.clone(), &what)? {
                        let subs = e
                            .get(key.as_str())
                            .cloned()
                            .unwrap_or(Json::Array(Vec::new()));
                        for s in list(subs, &what)? {
                            out.push(json!([e.clone(), s]));
                        }
                    }
                    Ok(out)
                }
                other => {
                    // Lookups: query('<name>', terms).
                    let args = match terms {
                        Json::Array(a) => a,
                        t => vec![t],
                    };
                    let ctx = minijinja::context! { __hoist_terms => crate::template::to_jinja(&Json::Array(args)), ..ctx };
                    let v = templar.eval(&format!("query('{other}', __hoist_terms)"), &ctx)?;
                    list(v, &what)
                }
            }
        }
    }
}

/// `ansible_loop` for item `i` of `all` (loop_control.extended).
pub fn extended(all: &[Json], i: usize) -> Json {
    let n = all.len();
    json!({
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
    })
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
        items(&t, &spec, &scope).map_err(|e| e.message)
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
            vec![
                json!([{"n": "x", "k": [1, 2]}, 1]),
                json!([{"n": "x", "k": [1, 2]}, 2])
            ]
        );
        assert_eq!(
            run(with("sequence", json!("start=1 end=3"))).unwrap(),
            vec![json!("1"), json!("2"), json!("3")]
        );
        assert_eq!(extended(&[json!(1), json!(2)], 1)["last"], json!(true));
    }
}
