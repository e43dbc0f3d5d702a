//! Modules the operator asks to run through Ansible's own code even where hoist has a native
//! version (`--ansible-module NAME`, or `HOIST_ANSIBLE_MODULES=a,b`; `all` for every one that
//! can): to compare the two, or to step around a difference until it is fixed. A module that
//! ansible-core runs through a controller-side action plugin cannot be forced (the fallback
//! runs modules on hosts, never controller Python).

use std::sync::RwLock;

/// ansible-core's modules that run with an action plugin (the module alone is not the task;
/// the fallback runs none of them).
const ACTION_PLUGINS: &[&str] = &[
    "add_host",
    "assemble",
    "assert",
    "async_status",
    "command",
    "copy",
    "debug",
    "dnf",
    "fail",
    "fetch",
    "gather_facts",
    "group_by",
    "include_vars",
    "package",
    "pause",
    "raw",
    "reboot",
    "script",
    "service",
    "set_fact",
    "set_stats",
    "shell",
    "template",
    "unarchive",
    "uri",
    "validate_argument_spec",
    "wait_for_connection",
];

static GIVEN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds names from the command line (`--ansible-module`).
pub fn force(names: &[String]) {
    if let Ok(mut g) = GIVEN.write() {
        g.extend(names.iter().cloned());
    }
}

/// How a module is forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    /// Named: it must run as Ansible's module (an error if there is none).
    Named,
    /// By `all`: as Ansible's module where one exists.
    All,
}

/// Whether (and how) the task's module `short` (its short name) runs as Ansible's own module.
pub fn forced(short: &str) -> Option<Forced> {
    let from_env = std::env::var("HOIST_ANSIBLE_MODULES").unwrap_or_default();
    let given = GIVEN.read().map(|g| g.clone()).unwrap_or_default();
    let names: Vec<String> = from_env
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .chain(given)
        .collect();
    if names
        .iter()
        .any(|n| crate::playbook::module_name(n) == short)
    {
        Some(Forced::Named)
    } else if names.iter().any(|n| n == "all") && !ACTION_PLUGINS.contains(&short) {
        Some(Forced::All)
    } else {
        None
    }
}

/// Why `short` cannot be forced, if it cannot.
pub fn refusal(short: &str) -> Option<String> {
    ACTION_PLUGINS.contains(&short).then(|| {
        format!(
            "`{short}` cannot run through Ansible's own module: ansible-core runs it with an action plugin on the controller, and hoist never runs controller-side Python (leave it out of --ansible-module / HOIST_ANSIBLE_MODULES)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_refusals() {
        force(&["ansible.builtin.lineinfile".into(), "cron".into()]);
        assert_eq!(forced("lineinfile"), Some(Forced::Named));
        assert_eq!(forced("cron"), Some(Forced::Named));
        assert_eq!(forced("stat"), None);
        assert!(refusal("copy").is_some());
        assert!(refusal("lineinfile").is_none());
    }
}
