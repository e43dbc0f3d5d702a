//! hoist as `ansible` (ad-hoc): `ansible PATTERN -m MODULE -a ARGS [options]` becomes a one-task
//! playbook run by `hoist run`, printed as ansible prints ad-hoc results (`host | SUCCESS =>
//! {...}`, `host | CHANGED | rc=0 >>`). The playbook is a hidden file in the current directory
//! (ansible's playbook directory for ad-hoc runs), removed when the run ends.

use std::ffi::OsString;
use std::path::PathBuf;

/// The command line `ansible ...` stands for, and the file to remove afterwards.
pub fn rewrite(args: &[OsString]) -> Result<(Vec<OsString>, PathBuf), String> {
    let text: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut module = "command".to_string();
    let mut module_args: Option<String> = None;
    let mut one_line = false;
    let mut pattern: Option<String> = None;
    let mut rest: Vec<String> = Vec::new();
    // Options of `ansible` that take a value and pass through to `hoist run` as they are.
    let with_value = [
        "-i",
        "--inventory",
        "-e",
        "--extra-vars",
        "-l",
        "--limit",
        "-f",
        "--forks",
        "-u",
        "--user",
        "-c",
        "--connection",
        "--become-user",
        "--private-key",
        "--key-file",
        "-t",
        "--tree",
        "--vault-password-file",
        "--vault-id",
        "-T",
        "--timeout",
        "-B",
        "--background",
        "-P",
        "--poll",
    ];
    let mut i = 1;
    while i < text.len() {
        let a = &text[i];
        match a.as_str() {
            "-m" | "--module-name" => {
                module = text.get(i + 1).cloned().ok_or("-m needs a module name")?;
                i += 2;
                continue;
            }
            "-a" | "--args" => {
                module_args = Some(text.get(i + 1).cloned().ok_or("-a needs arguments")?);
                i += 2;
                continue;
            }
            "-o" | "--one-line" => one_line = true,
            "-t" | "--tree" | "-B" | "--background" | "-P" | "--poll" => {
                i += 2;
                continue;
            }
            s if with_value.contains(&s) => {
                rest.push(a.clone());
                rest.extend(text.get(i + 1).cloned());
                i += 2;
                continue;
            }
            s if s.starts_with('-') => rest.push(a.clone()),
            _ if pattern.is_none() => pattern = Some(a.clone()),
            _ => rest.push(a.clone()),
        }
        i += 1;
    }
    let pattern = pattern.ok_or("usage: ansible PATTERN [-m MODULE] [-a ARGS] [options]")?;
    let task = match &module_args {
        Some(a) => format!("{module}: {}", serde_json::Value::String(a.clone())),
        None => format!("{module}: {{}}"),
    };
    let play = format!(
        "- hosts: {}\n  gather_facts: false\n  tasks:\n    - {task}\n",
        serde_json::Value::String(pattern)
    );
    let file = PathBuf::from(format!(".hoist-adhoc-{}.yml", std::process::id()));
    std::fs::write(&file, play).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let mut out: Vec<OsString> = ["hoist", "run", "--output"].map(OsString::from).to_vec();
    out.push(OsString::from(if one_line {
        "adhoc-one-line"
    } else {
        "adhoc"
    }));
    out.push(file.clone().into_os_string());
    out.extend(rest.into_iter().map(OsString::from));
    Ok((out, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ad_hoc_command_line_becomes_a_run() {
        let args: Vec<OsString> = [
            "ansible", "web", "-m", "ping", "-i", "inv", "-o", "-e", "x=1", "-b",
        ]
        .map(OsString::from)
        .to_vec();
        let (out, file) = rewrite(&args).unwrap();
        let play = std::fs::read_to_string(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(
            play.contains("hosts: \"web\"") && play.contains("- ping: {}"),
            "{play}"
        );
        let shown: Vec<String> = out
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&shown[..4], ["hoist", "run", "--output", "adhoc-one-line"]);
        assert_eq!(&shown[5..], ["-i", "inv", "-e", "x=1", "-b"]);
    }
}
