//! Action plugins of the playbook's own (`action_plugins/NAME.py` beside the playbook or in a
//! role) that only re-export one of ansible-core's built-in actions
//! (`from ansible.plugins.action.debug import ActionModule`): the task runs as that action.
//! The file is read as text, never run; any other action plugin is not recognised here.

use std::path::{Path, PathBuf};

/// The `action_plugins/` directories beside `bases` (role, playbook).
pub fn dirs<'a>(bases: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for b in bases {
        let d = b.join("action_plugins");
        if d.is_dir() && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// The built-in action `name` re-exports, when an `action_plugins/` directory has it as such.
pub fn builtin_of(name: &str, dirs: &[PathBuf]) -> Option<String> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let text = dirs
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join(format!("{short}.py"))).ok())?;
    reexported(&text)
}

/// The action a plugin's source only re-exports: one `from ansible.plugins.action.X import
/// ActionModule`, and nothing defined beside it.
fn reexported(source: &str) -> Option<String> {
    let mut found = None;
    for line in source.lines().map(str::trim) {
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("from __future__ import")
            || line == "assert ActionModule"
        {
            continue;
        }
        let action = line
            .strip_prefix("from ansible.plugins.action.")
            .and_then(|rest| rest.strip_suffix(" import ActionModule"))
            .filter(|a| {
                !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })?;
        if found.is_some() {
            return None;
        }
        found = Some(action.to_string());
    }
    found.filter(|a| a != "normal")
}

#[cfg(test)]
mod tests {
    use super::reexported;

    #[test]
    fn only_a_plain_reexport_counts() {
        let alias = "from __future__ import annotations\n\nfrom ansible.plugins.action.debug import ActionModule\n\nassert ActionModule\n";
        assert_eq!(reexported(alias).as_deref(), Some("debug"));
        let own = "from ansible.plugins.action import ActionBase\n\nclass ActionModule(ActionBase):\n    pass\n";
        assert_eq!(reexported(own), None);
        let more = "from ansible.plugins.action.debug import ActionModule\nimport os\n";
        assert_eq!(reexported(more), None);
        assert_eq!(
            reexported("from ansible.plugins.action.normal import ActionModule\n"),
            None
        );
    }
}
