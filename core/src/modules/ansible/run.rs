//! Running a located Ansible module on the host: Python modules as ansible-core's own
//! AnsiballZ payload piped into the host's Python (pipelining: nothing left on disk), other
//! modules copied into a private temporary directory with their arguments file beside them and
//! removed afterwards. Arguments carry ansible-core's internal `_ansible_*` settings. Under
//! `async` the same script runs as a background job (see `async_job`).

use super::helper;
use super::locate::{Located, Style};
use super::result;
use crate::modules::async_job;
use crate::modules::{Ctx, ModResult, ModuleError, fail};
use crate::ssh::shell::quote;
use base64::Engine;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The ansible-core release whose module interface hoist speaks.
pub const ANSIBLE_VERSION: &str = "2.19.14";

/// The task's arguments plus ansible-core's internal settings for the module.
fn module_args(m: &Located, ctx: &Ctx<'_>, args: Json) -> Map<String, Json> {
    let mut a = match args {
        Json::Object(a) => a,
        _ => Map::new(),
    };
    let verbosity = ctx
        .vars
        .get_attr("ansible_verbosity")
        .ok()
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(0);
    let internal = json!({
        "_ansible_check_mode": ctx.check,
        "_ansible_no_log": false,
        "_ansible_debug": false,
        "_ansible_diff": ctx.diff,
        "_ansible_verbosity": verbosity,
        "_ansible_version": ANSIBLE_VERSION,
        "_ansible_module_name": m.short(),
        "_ansible_syslog_facility": "LOG_USER",
        "_ansible_selinux_special_fs": ["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"],
        "_ansible_socket": null,
        "_ansible_shell_executable": "/bin/sh",
        "_ansible_keep_remote_files": false,
        "_ansible_tmpdir": null,
        "_ansible_remote_tmp": "~/.ansible/tmp",
        "_ansible_ignore_unknown_opts": false,
        "_ansible_target_log_info": null,
        "_ansible_tracebacks_for": [],
    });
    if let Json::Object(i) = internal {
        a.extend(i);
    }
    a
}

/// `ansible_python_interpreter` for this host, when set.
fn interpreter(ctx: &Ctx<'_>) -> Option<String> {
    let v = ctx.vars.get_attr("ansible_python_interpreter").ok()?;
    let s = v.as_str()?.trim().to_string();
    (!s.is_empty() && !s.starts_with("auto")).then_some(s)
}

/// Shell that sets `$p` to the host's Python (the configured one, else the first found).
fn find_python(configured: Option<&str>, module: &str) -> String {
    let pick = match configured {
        Some(p) => format!("p={}", quote(p)),
        None => "p=; for c in /usr/bin/python3 python3 /usr/libexec/platform-python python; do if command -v \"$c\" >/dev/null 2>&1; then p=$(command -v \"$c\"); break; fi; done".to_string(),
    };
    format!(
        "{pick}; [ -n \"$p\" ] || {{ echo {} >&2; exit 127; }}",
        quote(&format!(
            "no Python interpreter on this host to run Ansible's module `{module}`"
        ))
    )
}

type PayloadCache = HashMap<(String, String, String), Arc<Vec<u8>>>;
static PAYLOADS: Mutex<Option<PayloadCache>> = Mutex::new(None);

/// ansible-core's AnsiballZ payload for `m` with `args` (built by the helper, cached: every
/// host running the same task with the same arguments shares one).
async fn payload(
    m: &Located,
    args: &Map<String, Json>,
    interp: &str,
) -> Result<Arc<Vec<u8>>, ModuleError> {
    let key = (
        m.path.display().to_string(),
        Json::Object(args.clone()).to_string(),
        interp.to_string(),
    );
    if let Some(p) = PAYLOADS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return Ok(p.clone());
    }
    let req = json!({"op": "build", "name": m.short(), "path": m.path, "args": args, "interpreter": interp});
    let answer = tokio::task::spawn_blocking(move || helper::ask(&req))
        .await
        .map_err(|e| ModuleError::Failed(format!("the module helper stopped: {e}")))?
        .map_err(|e| ModuleError::Failed(e.to_string()))?;
    let b64 = answer
        .get("payload")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| ModuleError::Failed(format!("the module helper sent a bad payload: {e}")))?;
    let p = Arc::new(bytes);
    let mut cache = PAYLOADS.lock().unwrap_or_else(|p| p.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(key, p.clone());
    Ok(p)
}

/// A scalar as Python's `str()` writes it (old-style `key=value` arguments).
fn py_str(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Null => "None".into(),
        other => other.to_string(),
    }
}

/// Whether a script's `#!` line names Python (it then runs under the host's Python).
fn python_script(data: &[u8]) -> bool {
    data.starts_with(b"#!")
        && data
            .split(|b| *b == b'\n')
            .next()
            .is_some_and(|l| String::from_utf8_lossy(l).contains("python"))
}

/// Runs Ansible module `m` with templated `args` on the task's host.
pub async fn run(m: &Located, ctx: &Ctx<'_>, args: Json) -> ModResult {
    if let Some(why) = &m.refusal {
        return fail(why.clone());
    }
    let remote = ctx.remote()?;
    let args = module_args(m, ctx, args);
    let configured = interpreter(ctx);
    let python = find_python(configured.as_deref(), m.short());
    let (script, input) = match m.style {
        Style::NewPython => {
            let interp = configured
                .clone()
                .unwrap_or_else(|| "/usr/bin/python3".into());
            let code = payload(m, &args, &interp).await?;
            (format!("{python}; \"$p\" -"), code.to_vec())
        }
        style => {
            let mut data = std::fs::read(&m.path).map_err(|e| {
                ModuleError::Failed(format!("cannot read {}: {e}", m.path.display()))
            })?;
            let json_args = Json::Object(args.clone()).to_string();
            let args_file = match style {
                Style::Old => args
                    .iter()
                    .map(|(k, v)| format!("{k}={}", quote(&py_str(v))))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => json_args.clone(),
            };
            if style == Style::JsonArgs {
                let text = String::from_utf8_lossy(&data)
                    .replace("<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>", &json_args)
                    .replace("\"<<ANSIBLE_VERSION>>\"", &format!("'{ANSIBLE_VERSION}'"));
                data = text.into_bytes();
            }
            let runner = if style != Style::Binary && python_script(&data) {
                format!("{python}; \"$p\"")
            } else {
                String::from(":;")
            };
            let script = format!(
                "t=$(mktemp -d) || exit 1; cat > \"$t/module\" && chmod 0700 \"$t/module\" && printf '%s' {} > \"$t/args\" && {{ {runner} \"$t/module\" \"$t/args\"; }}; rc=$?; rm -rf \"$t\"; exit $rc",
                quote(&args_file)
            );
            (script, data)
        }
    };
    // `async`: a background job on the host, as ansible-core's async_wrapper runs one.
    if let Some(bg) = ctx.background {
        let shown = json!({ "module": m.short() });
        return async_job::run(remote, &shown, &script, Some(&input), true, bg).await;
    }
    let out = remote.exec(&script, Some(&input)).await?;
    result::outcome(m.short(), &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_scalars_as_str_writes_them() {
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!("a b")), "a b");
        assert_eq!(py_str(&json!(3)), "3");
        assert!(python_script(b"#!/usr/bin/env python\nx"));
        assert!(!python_script(b"#!/bin/sh\npython"));
    }
}
