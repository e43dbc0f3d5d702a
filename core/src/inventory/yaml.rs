//! The YAML inventory format (`all: {hosts, vars, children}`), parsed strictly: unknown keys
//! and duplicate keys are errors with their line and column.

use super::unique_map::UniqueMap;
use super::{Inventory, InventoryError, Vars, merge_vars, range};
use crate::source::{SourceError, find_pos, yaml_error};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlGroup {
    #[serde(default)]
    hosts: Option<UniqueMap<Option<UniqueMap<Value>>>>,
    #[serde(default)]
    vars: Option<UniqueMap<Value>>,
    #[serde(default)]
    children: Option<UniqueMap<Option<YamlGroup>>>,
}

/// Parses YAML inventory `text` (read from `path`) into `inv`.
pub fn parse(inv: &mut Inventory, path: &Path, text: &str) -> Result<(), InventoryError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let top: Option<UniqueMap<Option<YamlGroup>>> =
        serde_yaml::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
    for (name, group) in top.map(|t| t.0).unwrap_or_default() {
        add_group(inv, path, text, &name, group)?;
    }
    Ok(())
}

fn add_group(
    inv: &mut Inventory,
    path: &Path,
    text: &str,
    name: &str,
    group: Option<YamlGroup>,
) -> Result<(), InventoryError> {
    check_group_name(path, text, name)?;
    inv.group_mut(name);
    let Some(group) = group else { return Ok(()) };
    if let Some(vars) = group.vars {
        merge_vars(&mut inv.group_mut(name).vars, vars.0.into_iter().collect());
    }
    for (pattern, vars) in group.hosts.map(|h| h.0).unwrap_or_default() {
        let names = range::expand(&pattern)
            .map_err(|msg| SourceError::new(path, find_pos(text, &pattern), msg).with_text(text))?;
        let vars: Vars = vars.map(|v| v.0.into_iter().collect()).unwrap_or_default();
        for host in names {
            inv.add_host(&host, name, vars.clone());
        }
    }
    for (child, sub) in group.children.map(|c| c.0).unwrap_or_default() {
        inv.add_child(name, &child);
        add_group(inv, path, text, &child, sub)?;
    }
    Ok(())
}

/// Group names follow Ansible's rule: letters, digits and underscores, not starting with a digit.
pub(super) fn check_group_name(path: &Path, text: &str, name: &str) -> Result<(), SourceError> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(SourceError::new(
            path,
            find_pos(text, name),
            format!("`{name}` is not a valid group name"),
        )
        .with_text(text)
        .with_help("group names use letters, digits, `_` and `-`, and do not start with a digit"))
    }
}
