//! `module_defaults` on plays, blocks and tasks: arguments a module gets when the task does not
//! give them. Parsed into one map (module name → arguments); at run time the maps of the play,
//! blocks and task are merged outermost first and matched against the task's module by its short
//! name, so `file`, `ansible.builtin.file` and `ansible.legacy.file` are one entry.

use crate::source::SourceError;
use crate::yaml::Node;
use serde_json::{Map, Value as Json};

/// The map form, from a mapping or Ansible's older list of mappings.
pub fn parse(node: &Node) -> Result<Json, SourceError> {
    let mut out = Map::new();
    let maps: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    for m in maps {
        for (name, knode, args) in m.expect_map("`module_defaults`")? {
            let args = match args.to_value() {
                Json::Object(a) => a,
                Json::Null => Map::new(),
                _ => {
                    return Err(knode.error(format!(
                        "`module_defaults` for `{name}` must be a mapping of arguments, found {}",
                        args.type_name()
                    )));
                }
            };
            let slot = out
                .entry(name.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(s) = slot {
                s.extend(args);
            }
        }
    }
    Ok(Json::Object(out))
}

/// The defaults for `module` from `layers` (outermost first): later layers win per argument.
/// `group/...` entries name collection action groups, which no native module belongs to.
pub fn for_module(layers: &[Json], module: &str) -> Map<String, Json> {
    let want = super::keywords::module_name(module);
    let mut out = Map::new();
    for layer in layers {
        let Json::Object(m) = layer else { continue };
        for (name, args) in m {
            if name.starts_with("group/") || super::keywords::module_name(name) != want {
                continue;
            }
            if let Json::Object(a) = args {
                out.extend(a.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    out
}

/// The `group/...` names in `layers`, which hoist cannot resolve (for a warning).
pub fn groups(layers: &[Json]) -> Vec<String> {
    layers
        .iter()
        .filter_map(Json::as_object)
        .flat_map(|m| m.keys())
        .filter(|k| k.starts_with("group/"))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layers_merge_and_names_match_by_short_name() {
        let play = json!({"ansible.builtin.file": {"owner": "root", "mode": "0644"}});
        let task = json!({"file": {"mode": "0600"}, "copy": {"force": false}});
        let got = for_module(&[play, task], "ansible.legacy.file");
        assert_eq!(Json::Object(got), json!({"owner": "root", "mode": "0600"}));
        assert!(for_module(&[json!({"group/aws": {"region": "x"}})], "file").is_empty());
    }
}
