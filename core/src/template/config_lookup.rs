//! The `config` lookup: ansible-core's configuration settings by name, read as ansible-core
//! reads them from the environment (`ANSIBLE_*`), else their documented defaults, typed
//! (booleans, integers, lists). The table holds the settings hoist honours or that playbooks
//! commonly read; any other name is "No config definition exists" (`on_missing` decides).

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, Value};

/// How a setting's text is read.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Text,
    /// Separated by `:` (paths) or `,` (lists).
    List(char),
}

/// (name, environment variable, default as written in ansible-core's base.yml, kind)
const SETTINGS: &[(&str, &str, Option<&str>, Kind)] = &[
    (
        "BECOME_ALLOW_SAME_USER",
        "ANSIBLE_BECOME_ALLOW_SAME_USER",
        Some("false"),
        Kind::Bool,
    ),
    (
        "ALLOW_BROKEN_CONDITIONALS",
        "ANSIBLE_ALLOW_BROKEN_CONDITIONALS",
        Some("false"),
        Kind::Bool,
    ),
    (
        "ANSIBLE_NOCOLOR",
        "ANSIBLE_NOCOLOR",
        Some("false"),
        Kind::Bool,
    ),
    (
        "CACHE_PLUGIN",
        "ANSIBLE_CACHE_PLUGIN",
        Some("memory"),
        Kind::Text,
    ),
    (
        "CACHE_PLUGIN_CONNECTION",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION",
        None,
        Kind::Text,
    ),
    (
        "CACHE_PLUGIN_PREFIX",
        "ANSIBLE_CACHE_PLUGIN_PREFIX",
        Some("ansible_facts"),
        Kind::Text,
    ),
    (
        "CACHE_PLUGIN_TIMEOUT",
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT",
        Some("86400"),
        Kind::Int,
    ),
    (
        "COLLECTIONS_PATHS",
        "ANSIBLE_COLLECTIONS_PATH",
        Some("~/.ansible/collections:/usr/share/ansible/collections"),
        Kind::List(':'),
    ),
    (
        "DEFAULT_BECOME_USER",
        "ANSIBLE_BECOME_USER",
        Some("root"),
        Kind::Text,
    ),
    (
        "DEFAULT_FORCE_HANDLERS",
        "ANSIBLE_FORCE_HANDLERS",
        Some("false"),
        Kind::Bool,
    ),
    ("DEFAULT_FORKS", "ANSIBLE_FORKS", Some("5"), Kind::Int),
    (
        "DEFAULT_GATHERING",
        "ANSIBLE_GATHERING",
        Some("implicit"),
        Kind::Text,
    ),
    (
        "DEFAULT_HASH_BEHAVIOUR",
        "ANSIBLE_HASH_BEHAVIOUR",
        Some("replace"),
        Kind::Text,
    ),
    (
        "DEFAULT_KEEP_REMOTE_FILES",
        "ANSIBLE_KEEP_REMOTE_FILES",
        Some("false"),
        Kind::Bool,
    ),
    (
        "DEFAULT_LIBRARY",
        "ANSIBLE_LIBRARY",
        Some("~/.ansible/plugins/modules:/usr/share/ansible/plugins/modules"),
        Kind::List(':'),
    ),
    (
        "DEFAULT_POLL_INTERVAL",
        "ANSIBLE_POLL_INTERVAL",
        Some("15"),
        Kind::Int,
    ),
    (
        "DEFAULT_REMOTE_PORT",
        "ANSIBLE_REMOTE_PORT",
        None,
        Kind::Int,
    ),
    (
        "DEFAULT_REMOTE_USER",
        "ANSIBLE_REMOTE_USER",
        None,
        Kind::Text,
    ),
    (
        "DEFAULT_ROLES_PATH",
        "ANSIBLE_ROLES_PATH",
        Some("~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles"),
        Kind::List(':'),
    ),
    ("DEFAULT_TIMEOUT", "ANSIBLE_TIMEOUT", Some("10"), Kind::Int),
    (
        "DEFAULT_TRANSPORT",
        "ANSIBLE_TRANSPORT",
        Some("ssh"),
        Kind::Text,
    ),
    (
        "DEFAULT_VAULT_IDENTITY_LIST",
        "ANSIBLE_VAULT_IDENTITY_LIST",
        Some(""),
        Kind::List(','),
    ),
    (
        "DEFAULT_VAULT_PASSWORD_FILE",
        "ANSIBLE_VAULT_PASSWORD_FILE",
        None,
        Kind::Text,
    ),
    (
        "DEPRECATION_WARNINGS",
        "ANSIBLE_DEPRECATION_WARNINGS",
        Some("true"),
        Kind::Bool,
    ),
    (
        "HOST_KEY_CHECKING",
        "ANSIBLE_HOST_KEY_CHECKING",
        Some("true"),
        Kind::Bool,
    ),
    (
        "INJECT_FACTS_AS_VARS",
        "ANSIBLE_INJECT_FACT_VARS",
        Some("true"),
        Kind::Bool,
    ),
];

fn typed(text: &str, kind: Kind) -> Value {
    let home = std::env::var("HOME").unwrap_or_default();
    match kind {
        Kind::Bool => Value::from(matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on" | "y" | "t"
        )),
        Kind::Int => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(text)),
        Kind::Text => Value::from(text),
        Kind::List(sep) => Value::from(
            text.split(sep)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix("~/") {
                    Some(rest) if sep == ':' => format!("{home}/{rest}"),
                    _ => s.to_string(),
                })
                .collect::<Vec<_>>(),
        ),
    }
}

/// Settings of ansible-core's plugins hoist knows: (type, plugin, name, environment
/// variables, default).
const PLUGIN_SETTINGS: &[(&str, &str, &str, &[&str], &str)] = &[
    (
        "become",
        "sudo",
        "become_flags",
        &["ANSIBLE_SUDO_FLAGS", "ANSIBLE_BECOME_FLAGS"],
        "-H -S -n",
    ),
    (
        "become",
        "sudo",
        "become_exe",
        &["ANSIBLE_SUDO_EXE", "ANSIBLE_BECOME_EXE"],
        "sudo",
    ),
    (
        "become",
        "sudo",
        "become_user",
        &["ANSIBLE_SUDO_USER", "ANSIBLE_BECOME_USER"],
        "root",
    ),
    (
        "become",
        "su",
        "become_flags",
        &["ANSIBLE_SU_FLAGS", "ANSIBLE_BECOME_FLAGS"],
        "",
    ),
    (
        "become",
        "su",
        "become_exe",
        &["ANSIBLE_SU_EXE", "ANSIBLE_BECOME_EXE"],
        "su",
    ),
    (
        "become",
        "su",
        "become_user",
        &["ANSIBLE_SU_USER", "ANSIBLE_BECOME_USER"],
        "root",
    ),
];

/// A plugin's setting, `None` when hoist does not know it.
pub fn plugin_setting(kind: &str, plugin: &str, name: &str) -> Option<Value> {
    let plugin = plugin.strip_prefix("ansible.builtin.").unwrap_or(plugin);
    let (.., envs, default) = PLUGIN_SETTINGS
        .iter()
        .find(|(k, p, n, ..)| *k == kind && *p == plugin && *n == name)?;
    let value = envs
        .iter()
        .find_map(|e| std::env::var(e).ok())
        .unwrap_or_else(|| default.to_string());
    Some(Value::from(value))
}

/// The value of one setting, `None` when ansible-core has no such setting.
pub fn setting(name: &str) -> Option<Value> {
    let (_, env, default, kind) = SETTINGS.iter().find(|(n, ..)| *n == name)?;
    Some(
        match std::env::var(env).ok().or(default.map(str::to_string)) {
            Some(text) => typed(&text, *kind),
            None => Value::from(()),
        },
    )
}

/// `lookup('config', NAME, ..., on_missing='error'|'warn'|'skip')`.
pub fn run(terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let missing: Option<String> = kwargs.get("on_missing")?;
    let ptype: Option<String> = kwargs.get("plugin_type")?;
    let pname: Option<String> = kwargs.get("plugin_name")?;
    let fail = |m: String| Error::new(ErrorKind::InvalidOperation, m);
    let plugin = match (ptype, pname) {
        (Some(t), Some(n)) => Some((t, n)),
        (None, None) => None,
        _ => {
            return Err(fail(
                "Both plugin_type and plugin_name are required, cannot use one without the other."
                    .into(),
            ));
        }
    };
    let mut out = Vec::new();
    for t in terms {
        let Some(name) = t.as_str() else {
            return Err(fail(format!(
                "Invalid setting identifier, {t} is not a <class 'str'>, its a <class '{}'>.",
                super::lookups::python_type(t)
            )));
        };
        let found = match &plugin {
            Some((t, n)) => plugin_setting(t, n, name),
            None => setting(name),
        };
        match (found, missing.as_deref().unwrap_or("error")) {
            (Some(v), _) => out.push(v),
            (None, "skip" | "warn") => {}
            (None, "error") => {
                return Err(fail(match &plugin {
                    Some((t, n)) => {
                        format!("No config definition exists for '{name}' for {t} plugin '{n}'.")
                    }
                    None => format!("No config definition exists for '{name}'."),
                }));
            }
            (None, other) => {
                return Err(fail(format!(
                    "Invalid option for error handling, missing must be error, warn or skip, got: {other}."
                )));
            }
        }
    }
    Ok(out)
}
