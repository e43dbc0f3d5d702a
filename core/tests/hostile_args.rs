//! Module arguments are data in the scripts hoist sends (issue 12, hole 8): every string
//! argument of every module that runs on a host is given hostile values (quotes, `$()`,
//! backticks, `;`, newlines, leading dashes, globs), for several probe answers; in every script
//! sent, the value may appear only inside single quotes (the shell's only context where nothing
//! is special). Arguments that are commands by design (`cmd`, `validate`, free-form) are left
//! out; modules that act on the controller (`get_url` downloads) too. (A value made only of
//! characters the shell gives no meaning, such as `--x`, may be written bare; that it is not
//! taken as an option is up to each command: `apt` names are checked and follow `--`.)

#[path = "support/mock_host.rs"]
mod mock_host;

use hoist_core::modules;
use serde_json::{Value as Json, json};
use std::path::PathBuf;

/// What no well-quoted script shows outside single quotes.
const MARK: &str = "HOISTPWN";

fn hostile() -> Vec<String> {
    vec![
        format!("{MARK}'; touch /tmp/{MARK}; '"),
        format!("$(touch /tmp/{MARK})"),
        format!("`touch /tmp/{MARK}`"),
        format!("x\"; touch /tmp/{MARK}; \""),
        format!("a\ntouch /tmp/{MARK}\n"),
        format!("*{MARK}*?[a]"),
        format!("x;{MARK}|{MARK}&{MARK}>{MARK}"),
        format!("${{IFS}}{MARK}\\'\\\\"),
        format!("ünï {MARK} \t{MARK}"),
    ]
}

/// A minimal valid call of each host module, and the arguments that are code by design.
fn bases(fixtures: &str) -> Vec<(&'static str, Json, &'static [&'static str])> {
    vec![
        (
            "command",
            json!({"cmd": "true"}),
            &["cmd", "argv", "_raw_params"],
        ),
        (
            "shell",
            json!({"cmd": "true"}),
            &["cmd", "_raw_params", "executable"],
        ),
        ("async_status", json!({"jid": "j1.2"}), &[]),
        (
            "copy",
            json!({"content": "x", "dest": "/tmp/d"}),
            &["validate", "src"],
        ),
        (
            "template",
            json!({"src": format!("{fixtures}/templates/app.j2"), "dest": "/tmp/d"}),
            &["validate", "src"],
        ),
        (
            "file",
            json!({"path": "/tmp/f", "state": "directory"}),
            &["src"],
        ),
        (
            "lineinfile",
            json!({"path": "/tmp/f", "line": "x"}),
            &["validate"],
        ),
        (
            "blockinfile",
            json!({"path": "/tmp/f", "block": "x"}),
            &["validate"],
        ),
        (
            "replace",
            json!({"path": "/tmp/f", "regexp": "a", "replace": "b"}),
            &["validate"],
        ),
        ("apt", json!({"name": "nginx"}), &[]),
        ("package", json!({"name": "nginx"}), &[]),
        ("service", json!({"name": "nginx", "state": "started"}), &[]),
        (
            "service",
            json!({"name": "nginx", "enabled": true, "use": "sysvinit"}),
            &[],
        ),
        ("systemd", json!({"name": "nginx", "state": "started"}), &[]),
        ("user", json!({"name": "bob"}), &[]),
        ("group", json!({"name": "devs"}), &[]),
        (
            "authorized_key",
            json!({"user": "bob", "key": "ssh-ed25519 AAAAC3Nz x"}),
            &[],
        ),
        ("cron", json!({"name": "job", "job": "true"}), &[]),
        (
            "unarchive",
            json!({"src": "/tmp/a.tgz", "dest": "/tmp/d", "remote_src": true}),
            &[],
        ),
        ("uri", json!({"url": "http://127.0.0.1/"}), &[]),
        (
            "sysctl",
            json!({"name": "net.ipv4.ip_forward", "value": "1"}),
            &[],
        ),
        (
            "backup_rotate",
            json!({"path": "/srv/b", "keep_last": 2}),
            &[],
        ),
        ("stat", json!({"path": "/tmp/x"}), &[]),
        ("setup", json!({}), &[]),
        ("ping", json!({"data": "pong"}), &[]),
    ]
}

/// Runs one call against a recording host; every script it sent.
fn scripts(module: &str, args: &Json, replies: &[(u32, &str)]) -> Vec<String> {
    mock_host::call(module, args, replies, false, true)
        .sent
        .into_iter()
        .map(|(script, _)| script)
        .collect()
}

/// `script` with every single-quoted part (and `\'`) taken out: what the shell interprets.
fn unquoted(script: &str) -> String {
    let mut out = String::new();
    let mut chars = script.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                }
            }
            '\\' => {
                chars.next();
            }
            c => out.push(c),
        }
    }
    out
}

/// True when some of a hostile value reaches the shell as code or splits into words: one of
/// the values' working parts shows outside single quotes. (Bare letters and glob characters
/// may: patterns are patterns by design, e.g. `backup_rotate`'s, and the shell's own `quote`
/// leaves harmless words bare.)
fn interpreted(script: &str) -> bool {
    let bare = unquoted(script);
    [
        format!("touch /tmp/{MARK}"),
        format!("|{MARK}"),
        format!("&{MARK}"),
        format!(">{MARK}"),
        format!("IFS}}{MARK}"),
        format!("ünï {MARK}"),
    ]
    .iter()
    .any(|part| bare.contains(part.as_str()))
}

#[test]
fn hostile_strings_in_every_module_argument_stay_inside_single_quotes() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/modules")
        .display()
        .to_string();
    // Probe answers: all empty; things absent; things present and differing.
    let answer_sets: [&[(u32, &str)]; 3] = [&[], &[(0, "absent\n"); 6], &[(1, ""); 6]];
    let mut tried = 0;
    let mut problems = Vec::new();
    for (module, base, code) in bases(&fixtures) {
        let info = modules::info(module).unwrap_or_else(|| panic!("no module {module}"));
        for field in info.fields.iter().filter(|f| !code.contains(&f.as_str())) {
            for value in hostile() {
                let mut args = base.clone();
                args[field.as_str()] = Json::String(value.clone());
                if modules::validate_static(module, &args).is_err() {
                    continue; // not a string argument, or the value is refused up front
                }
                for answers in answer_sets {
                    tried += 1;
                    for s in scripts(module, &args, answers) {
                        if interpreted(&s) {
                            problems.push(format!("{module}.{field} = {value:?}:\n  {s}"));
                        }
                    }
                }
            }
        }
    }
    assert!(tried > 500, "only {tried} calls were tried");
    assert!(
        problems.is_empty(),
        "{} scripts show a hostile value outside single quotes:\n{}",
        problems.len(),
        problems[..problems.len().min(15)].join("\n")
    );
}

#[test]
fn the_unquoting_sees_what_the_shell_sees() {
    assert_eq!(unquoted("echo 'a b' c"), "echo  c");
    assert_eq!(unquoted("echo 'it'\\''s' x"), "echo  x");
    assert!(unquoted(&format!("echo \"{MARK}\"")).contains(MARK));
    assert!(interpreted(&format!("echo \"$(touch /tmp/{MARK})\"")));
    assert!(interpreted(&format!("echo x;{MARK}|{MARK}")));
    assert!(interpreted(&format!("echo `touch /tmp/{MARK}`")));
    assert!(!interpreted(&format!(
        "for f in *{MARK}*?'[a]'; do :; done"
    )));
    assert!(!interpreted(&format!("echo '{MARK};$(x)'")));
}
