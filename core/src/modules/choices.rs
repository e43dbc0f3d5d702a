//! The arguments whose values come from a fixed list, per module, checked before the run when
//! they are written out (a template is checked when it renders, by the module itself), with
//! ansible-core's message: `value of state must be one of: ..., got: directry`.

use super::ArgIssue;
use serde_json::Value as Json;

/// (module, argument, allowed values).
const CHOICES: &[(&str, &str, &[&str])] = &[
    (
        "file",
        "state",
        &["absent", "directory", "file", "hard", "link", "touch"],
    ),
    (
        "copy",
        "checksum_algorithm",
        &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"],
    ),
    (
        "stat",
        "checksum_algorithm",
        &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"],
    ),
    (
        "service",
        "state",
        &["reloaded", "restarted", "started", "stopped"],
    ),
    (
        "systemd",
        "state",
        &["reloaded", "restarted", "started", "stopped"],
    ),
    (
        "systemd_service",
        "state",
        &["reloaded", "restarted", "started", "stopped"],
    ),
    ("systemd", "scope", &["system", "user", "global"]),
    (
        "apt",
        "state",
        &["absent", "build-dep", "latest", "present", "fixed"],
    ),
    ("apt", "upgrade", &["dist", "full", "no", "safe", "yes"]),
    (
        "package",
        "state",
        &["absent", "installed", "latest", "present", "removed"],
    ),
    ("user", "state", &["absent", "present"]),
    ("group", "state", &["absent", "present"]),
    ("lineinfile", "state", &["absent", "present"]),
    ("blockinfile", "state", &["absent", "present"]),
    ("authorized_key", "state", &["absent", "present"]),
    ("cron", "state", &["absent", "present"]),
    (
        "cron",
        "special_time",
        &[
            "annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly",
        ],
    ),
    ("sysctl", "state", &["absent", "present"]),
    ("tempfile", "state", &["directory", "file"]),
    (
        "wait_for",
        "state",
        &["absent", "drained", "present", "started", "stopped"],
    ),
    ("template", "newline_sequence", &["\n", "\r", "\r\n"]),
    ("async_status", "mode", &["cleanup", "status"]),
];

/// Checks the written-out values of `module`'s arguments against their lists.
pub fn check(module: &str, args: &serde_json::Map<String, Json>) -> Result<(), ArgIssue> {
    for (m, arg, allowed) in CHOICES {
        if *m != module {
            continue;
        }
        let Some(Json::String(v)) = args.get(*arg) else {
            continue;
        };
        if crate::template::Templar::is_template(v) || allowed.contains(&v.as_str()) {
            continue;
        }
        let help = crate::playbook::closest(v, allowed.iter().copied())
            .map(|s| format!("did you mean `{s}`?"));
        return Err(ArgIssue {
            arg: Some(arg.to_string()),
            message: format!(
                "value of {arg} must be one of: {}, got: {v}",
                allowed.join(", ")
            ),
            help,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listed_values_only() {
        let args = |v: Json| v.as_object().cloned().unwrap();
        let e = check("file", &args(json!({"path": "/x", "state": "directry"}))).unwrap_err();
        assert_eq!(
            e.message,
            "value of state must be one of: absent, directory, file, hard, link, touch, got: directry"
        );
        assert_eq!(e.help.as_deref(), Some("did you mean `directory`?"));
        assert!(check("file", &args(json!({"state": "{{ s }}"}))).is_ok());
        assert!(check("file", &args(json!({"state": "touch"}))).is_ok());
        assert!(check("debug", &args(json!({"state": "x"}))).is_ok());
    }
}
