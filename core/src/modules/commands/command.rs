//! `command` (no shell: words are quoted one by one), `shell` (through `/bin/sh` or
//! `executable`) and `raw`. `creates`/`removes` make them idempotent; in check mode they run
//! only those probes.

use crate::modules::types::{Bool, List, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::ExecOutput;
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::Value as Json;
use std::time::{Duration, SystemTime};

const SKIP_MARK: &str = "__hoist_command_skipped__";
/// Printed when `chdir` cannot be entered (the command never ran).
const CHDIR_MARK: &str = "__hoist_command_no_chdir__";
/// Printed when `command`'s program is not there (the command never ran).
const MISSING_MARK: &str = "__hoist_command_not_found__";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    #[serde(rename = "_raw_params")]
    raw: Option<String>,
    cmd: Option<String>,
    argv: Option<List>,
    chdir: Option<Text>,
    creates: Option<Text>,
    removes: Option<Text>,
    stdin: Option<String>,
    #[serde(default = "yes")]
    stdin_add_newline: Bool,
    #[serde(default = "yes")]
    strip_empty_ends: Bool,
    #[serde(default)]
    expand_argument_vars: Option<Bool>,
    /// Accepted with ansible-core's warning: `command` runs no shell to change.
    executable: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    #[serde(rename = "_raw_params")]
    raw: Option<String>,
    cmd: Option<String>,
    chdir: Option<Text>,
    creates: Option<Text>,
    removes: Option<Text>,
    executable: Option<Text>,
    stdin: Option<String>,
    #[serde(default = "yes")]
    stdin_add_newline: Bool,
    #[serde(default = "yes")]
    strip_empty_ends: Bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raw {
    #[serde(rename = "_raw_params")]
    raw: Option<String>,
    executable: Option<Text>,
}

fn yes() -> Bool {
    Bool(true)
}

/// Splits like Python's shlex (quotes and backslashes), for `command`.
pub fn shlex(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c)
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// What any of the three runs: the script, where, and its guards.
pub(super) struct Plan {
    /// The command as the result's `cmd` shows it (`command`: its words; others: the text).
    pub shown: Json,
    pub script: String,
    pub chdir: Option<String>,
    pub creates: Option<String>,
    pub removes: Option<String>,
    pub stdin: Option<Vec<u8>>,
    pub strip: bool,
    pub check_supported: bool,
}

/// The script sent to the target for `plan`: `cd`, then the guards (relative `creates` and
/// `removes` paths are relative to `chdir`, as in Ansible), then the command.
fn full_script(plan: &Plan) -> String {
    let mut s = String::new();
    if let Some(d) = &plan.chdir {
        s.push_str(&format!(
            "cd -P {} 2>/dev/null || {{ printf {CHDIR_MARK}; exit 1; }}; ",
            quote(d)
        ));
    }
    if let Some(c) = &plan.creates {
        s.push_str(&format!(
            "if {}; then printf {SKIP_MARK}; exit 0; fi; ",
            super::expand::glob_exists(c)
        ));
    }
    if let Some(r) = &plan.removes {
        s.push_str(&format!(
            "if ! {}; then printf {SKIP_MARK}; exit 0; fi; ",
            super::expand::glob_exists(r)
        ));
    }
    s.push_str(&plan.script);
    s
}

fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, dd) = civil(days);
    format!(
        "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

fn delta(d: Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}:{:02}:{:02}.{:06}",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        d.subsec_micros()
    )
}

fn text(bytes: &[u8], strip: bool) -> String {
    let s = String::from_utf8_lossy(bytes).into_owned();
    if strip {
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        s
    }
}

pub(super) async fn execute(plan: Plan, ctx: &Ctx<'_>) -> ModResult {
    let remote = ctx.remote()?;
    if ctx.check {
        if !plan.check_supported || (plan.creates.is_none() && plan.removes.is_none()) {
            let mut o = Outcome::ok().msg("Command would have run if not in check mode");
            o.skipped = true;
            return Ok(o);
        }
        let probe = Plan {
            script: "true".into(),
            ..plan
        };
        let out = remote.exec(&full_script(&probe), None).await?;
        if out.stdout_str() == SKIP_MARK {
            let (creates, removes) = (probe.creates.clone(), probe.removes.clone());
            let now = SystemTime::now();
            return Ok(result(
                &probe.shown,
                &out,
                false,
                &creates,
                &removes,
                now,
                now,
            ));
        }
        return Ok(Outcome::changed(true).msg("Command would have run if not in check mode"));
    }
    if let Some(bg) = ctx.background {
        return crate::modules::async_job::run(
            remote,
            &plan.shown,
            &full_script(&plan),
            plan.stdin.as_deref(),
            plan.strip,
            bg,
        )
        .await;
    }
    let started = SystemTime::now();
    let out: ExecOutput = remote
        .exec(&full_script(&plan), plan.stdin.as_deref())
        .await?;
    let ended = SystemTime::now();
    if let Some(d) = plan
        .chdir
        .as_ref()
        .filter(|_| out.stdout_str() == CHDIR_MARK)
    {
        return crate::modules::outcome::fail(format!(
            "Unable to change directory before execution: [Errno 2] No such file or directory: '{d}'"
        ));
    }
    Ok(result(
        &plan.shown,
        &out,
        plan.strip,
        &plan.creates,
        &plan.removes,
        started,
        ended,
    ))
}

/// The result of a command that ran (in the foreground or as a background job): `rc`,
/// `stdout`/`stderr` (and their lines), `start`/`end`/`delta`, failed on a non-zero code; or
/// the skip a `creates`/`removes` guard decided (unknown guards: a background job's).
pub(super) fn result(
    shown: &Json,
    out: &ExecOutput,
    strip: bool,
    creates: &Option<String>,
    removes: &Option<String>,
    started: SystemTime,
    ended: SystemTime,
) -> Outcome {
    if out.stdout_str() == SKIP_MARK && out.success() {
        let why = match (creates, removes) {
            (Some(c), _) => format!("Did not run command since '{c}' exists"),
            (_, Some(r)) => format!("Did not run command since '{r}' does not exist"),
            _ => "Did not run command: a `creates`/`removes` guard held".to_string(),
        };
        return Outcome::ok()
            .msg(why)
            .with("cmd", shown.clone())
            .with("rc", 0)
            .with("stdout", "")
            .with("stdout_lines", Json::Array(vec![]));
    }
    let stdout = text(&out.stdout, strip);
    let stderr = text(&out.stderr, strip);
    let rc: i64 = out.status.map(|s| s as i64).unwrap_or(-1);
    let mut o = Outcome::changed(true)
        .with("cmd", shown.clone())
        .with("rc", rc)
        .with(
            "stdout_lines",
            stdout.lines().map(Json::from).collect::<Vec<_>>(),
        )
        .with("stdout", stdout)
        .with(
            "stderr_lines",
            stderr.lines().map(Json::from).collect::<Vec<_>>(),
        )
        .with("stderr", stderr)
        .with("start", stamp(started))
        .with("end", stamp(ended))
        .with(
            "delta",
            delta(ended.duration_since(started).unwrap_or_default()),
        );
    if rc != 0 {
        o.failed = true;
        o.msg = Some(match &out.signal {
            Some(sig) => format!("killed by {sig}"),
            None => "non-zero return code".into(),
        });
    }
    o
}

/// `cmd` as is, or handed to another interpreter (`executable: /bin/bash`).
fn through(executable: Option<&Text>, cmd: &str) -> String {
    match executable {
        Some(exe) => format!("exec {} -c {}", quote(&exe.0), quote(cmd)),
        None => cmd.to_string(),
    }
}

fn stdin_bytes(stdin: Option<String>, newline: bool) -> Option<Vec<u8>> {
    stdin.map(|s| {
        let mut b = s.into_bytes();
        if newline {
            b.push(b'\n');
        }
        b
    })
}

impl Module for Command {
    const FREE_FORM: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let words = match (self.argv, self.cmd.or(self.raw)) {
            (Some(argv), None) if !argv.0.is_empty() => argv.0,
            (None, Some(cmd)) => shlex(&cmd)
                .map_err(|e| ModuleError::Args(format!("cannot split the command: {e}")))?,
            (Some(_), Some(_)) => {
                return fail("parameters are mutually exclusive: _raw_params|argv");
            }
            _ => return fail("one of the following is required: _raw_params, argv"),
        };
        if words.is_empty() {
            return fail("one of the following is required: _raw_params, argv");
        }
        // ansible-core expands `$VAR` and `~` in the words unless told not to.
        let expand = self.expand_argument_vars.is_none_or(|e| e.0);
        let expanded = expand && words.iter().any(|w| super::expand::needs(w));
        let script: Vec<String> = words
            .iter()
            .map(|w| {
                if expanded && super::expand::needs(w) {
                    super::expand::word(w)
                } else {
                    quote(w)
                }
            })
            .collect();
        let prelude = if expanded { super::expand::PRELUDE } else { "" };
        let warning = self.executable.map(|e| {
            format!("As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{e}'.")
        });
        // A program that is not there fails as Python's exec does in ansible-core (no shell
        // ran it, so no shell's "not found").
        let program = script.first().cloned().unwrap_or_default();
        let mut o = execute(
            Plan {
                shown: Json::from(words.clone()),
                script: format!(
                    "{prelude}command -v -- {program} >/dev/null 2>&1 || {{ printf {MISSING_MARK}; exit 2; }}; exec {}",
                    script.join(" ")
                ),
                chdir: self.chdir.map(|t| t.0),
                creates: self.creates.map(|t| t.0),
                removes: self.removes.map(|t| t.0),
                stdin: stdin_bytes(self.stdin, self.stdin_add_newline.0),
                strip: self.strip_empty_ends.0,
                check_supported: true,
            },
            ctx,
        )
        .await?;
        if o.data.get("stdout").and_then(Json::as_str) == Some(MISSING_MARK) {
            let mut missing = Outcome::ok()
                .msg(format!(
                    "[Errno 2] No such file or directory: b'{}'",
                    words[0]
                ))
                .with("cmd", words.join(" "))
                .with("rc", 2)
                .with("stdout", "")
                .with("stderr", "");
            missing.failed = true;
            return Ok(missing);
        }
        o.warnings.extend(warning);
        Ok(o)
    }
}

impl Module for Shell {
    const FREE_FORM: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let Some(cmd) = self.cmd.or(self.raw) else {
            return fail("no command given");
        };
        let script = through(self.executable.as_ref(), &cmd);
        execute(
            Plan {
                shown: Json::from(cmd),
                script,
                chdir: self.chdir.map(|t| t.0),
                creates: self.creates.map(|t| t.0),
                removes: self.removes.map(|t| t.0),
                stdin: stdin_bytes(self.stdin, self.stdin_add_newline.0),
                strip: self.strip_empty_ends.0,
                check_supported: true,
            },
            ctx,
        )
        .await
    }
}

impl Module for Raw {
    const FREE_FORM: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let Some(cmd) = self.raw else {
            return fail("no command given");
        };
        let script = through(self.executable.as_ref(), &cmd);
        let plan = Plan {
            shown: Json::from(cmd),
            script,
            chdir: None,
            creates: None,
            removes: None,
            stdin: None,
            strip: false,
            check_supported: false,
        };
        execute(plan, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_splits_like_python() {
        assert_eq!(
            shlex(r#"echo "a b" 'c d' e\ f"#).unwrap(),
            vec!["echo", "a b", "c d", "e f"]
        );
        assert!(shlex("echo 'oops").is_err());
    }

    #[test]
    fn guards_and_chdir() {
        let plan = Plan {
            shown: "make".into(),
            script: "exec make".into(),
            chdir: Some("/src".into()),
            creates: Some("/src/out".into()),
            removes: None,
            stdin: None,
            strip: true,
            check_supported: true,
        };
        insta::assert_snapshot!(full_script(&plan), @r#"cd -P /src 2>/dev/null || { printf __hoist_command_no_chdir__; exit 1; }; if { set -- /src/out; [ -e "$1" ] || [ -L "$1" ]; }; then printf __hoist_command_skipped__; exit 0; fi; exec make"#);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14 22:13:20.000000"
        );
        assert_eq!(delta(Duration::from_millis(3_723_500)), "1:02:03.500000");
    }
}
