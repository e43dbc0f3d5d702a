//! Background jobs for `async` tasks (`command`, `shell` and Ansible's modules): the command runs on the target
//! detached from hoist's connection (under `nohup`), limited to the task's `async` seconds (by
//! `timeout`), and leaves its output and exit status in `~/.ansible_async/<job id>.*`, where
//! Ansible keeps its own jobs. `poll: 0` returns the job id at once, for `async_status` to read
//! later; a positive `poll` checks the job until it ends (sooner than every `poll` seconds at
//! first, so short jobs are not held up).

use crate::modules::{ModResult, ModuleError, Outcome};
use crate::ssh::ExecOutput;
use crate::ssh::shell::quote;
use serde_json::Value as Json;
use std::time::{Duration, Instant, SystemTime};

/// What `async` and `poll` ask of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Background {
    /// The longest the job may run (`async`).
    pub limit_secs: u64,
    /// How often to check it (`poll`); 0: do not wait for it.
    pub poll_secs: u64,
}

/// Where the jobs live on the target (a shell expression).
const DIR: &str = "\"$HOME/.ansible_async\"";

/// `timeout`'s exit status when it had to stop the command, and when it had to KILL it.
const TIMED_OUT: i64 = 124;
const KILLED: i64 = 137;

/// A fresh job id, shaped like Ansible's (`j` + digits + `.` + digits).
pub fn new_id() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    format!(
        "j{}.{}",
        r.random_range(100_000_000_000u64..1_000_000_000_000),
        r.random_range(1000u32..100_000)
    )
}

/// Job ids name files: only ids hoist (or Ansible) could have made are accepted.
pub fn valid_id(jid: &str) -> bool {
    !jid.is_empty()
        && jid.len() <= 64
        && !jid.starts_with('.')
        && jid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
}

/// Starts `script` as job `jid` (stdin from what the exec receives when `stdin`); prints the
/// job's results file. The job's files are private (umask 077) while the command itself runs
/// with the shell's own umask; the job writes `<jid>.rc` (`rc start end`, epoch seconds) last,
/// through a rename, so a reader sees the job either running or finished with all its output.
/// The script goes into the private file `<jid>.sh` (written by the shell's printf builtin) and
/// runs from there, so no process's argv holds it (nor the secrets in it); the job removes the
/// file when it ends.
pub fn start_script(jid: &str, shown: &str, script: &str, stdin: bool, limit: u64) -> String {
    let input = if stdin {
        "cat >\"$j.in\""
    } else {
        ": >\"$j.in\""
    };
    let job = format!(
        "s=$(date +%s.%N); umask \"$um\"; \
         if command -v timeout >/dev/null 2>&1; then \
         timeout -k 5 {limit} sh \"$j.sh\" <\"$j.in\" >>\"$j.out\" 2>>\"$j.err\"; \
         else sh \"$j.sh\" <\"$j.in\" >>\"$j.out\" 2>>\"$j.err\"; fi; \
         rc=$?; rm -f \"$j.sh\"; umask 077; printf '%s %s %s\\n' \"$rc\" \"$s\" \"$(date +%s.%N)\" >\"$j.rc.tmp\" && mv \"$j.rc.tmp\" \"$j.rc\""
    );
    format!(
        "d={DIR}; j=\"$d/{jid}\"; um=$(umask); umask 077; mkdir -p \"$d\" || exit 1; \
         printf '%s\\n%s' {limit} {shown} >\"$j.meta\" || exit 1; \
         printf '%s\\n' {script} >\"$j.sh\" || exit 1; {input} || exit 1; \
         : >\"$j.out\"; : >\"$j.err\"; export j um; \
         nohup sh -c {job} >/dev/null 2>&1 </dev/null & \
         umask \"$um\"; printf '%s' \"$j\"",
        shown = quote(shown),
        script = quote(script),
        job = quote(&job),
    )
}

/// Prints `missing`, `running`, or the job's `rc start end`.
pub fn status_script(jid: &str) -> String {
    format!(
        "j={DIR}/{jid}; if [ -f \"$j.rc\" ]; then cat \"$j.rc\"; \
         elif [ -f \"$j.meta\" ]; then echo running; else echo missing; fi"
    )
}

/// Removes the job's files.
pub fn cleanup_script(jid: &str) -> String {
    format!(
        "j={DIR}/{jid}; rm -f \"$j.meta\" \"$j.sh\" \"$j.in\" \"$j.out\" \"$j.err\" \"$j.rc\" \"$j.rc.tmp\"; printf '%s' \"$j\""
    )
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Missing,
    Running,
    Finished {
        rc: i64,
        started: SystemTime,
        ended: SystemTime,
    },
}

/// Reads `status_script`'s answer.
pub fn parse_state(text: &str) -> Result<State, String> {
    let t = text.trim();
    match t {
        "missing" => return Ok(State::Missing),
        "running" => return Ok(State::Running),
        _ => {}
    }
    let parts: Vec<&str> = t.split_whitespace().collect();
    let time = |s: &str| {
        // `%N` is printed as is where `date` lacks it: whole seconds then.
        let secs: f64 = s
            .parse()
            .or_else(|_| s.split('.').next().unwrap_or("").parse())
            .map_err(|_| format!("unreadable job status `{t}`"))?;
        Ok::<_, String>(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs.max(0.0)))
    };
    match parts.as_slice() {
        [rc, s, e] => Ok(State::Finished {
            rc: rc
                .parse()
                .map_err(|_| format!("unreadable job status `{t}`"))?,
            started: time(s)?,
            ended: time(e)?,
        }),
        _ => Err(format!("unreadable job status `{t}`")),
    }
}

/// Where job `jid` stands on the target.
pub async fn state(
    remote: &crate::modules::remote::Remote,
    jid: &str,
) -> Result<State, ModuleError> {
    let out = remote.exec(&status_script(jid), None).await?;
    parse_state(&out.stdout_str()).map_err(ModuleError::Failed)
}

/// The result of finished job `jid`: the command's, as if it had run in the foreground, with
/// the job's id; a job stopped at its time limit fails saying so.
pub async fn finished(
    remote: &crate::modules::remote::Remote,
    jid: &str,
    rc: i64,
    started: SystemTime,
    ended: SystemTime,
    strip: bool,
) -> ModResult {
    let cat = |suffix: &'static str| {
        let script = format!("j={DIR}/{jid}; cat \"$j.{suffix}\" 2>/dev/null; true");
        async move { remote.exec(&script, None).await }
    };
    let meta = cat("meta").await?;
    let meta = meta.stdout_str();
    let (limit, shown) = meta.split_once('\n').unwrap_or((meta.as_str(), ""));
    let out = ExecOutput {
        stdout: cat("out").await?.stdout,
        stderr: cat("err").await?.stdout,
        status: u32::try_from(rc).ok(),
        signal: None,
    };
    // The job's meta file holds the command as JSON (a string or, for `command`, its words),
    // or `{"module": NAME}` for an Ansible module, whose printed JSON is its result.
    let shown: Json =
        serde_json::from_str(shown).unwrap_or_else(|_| Json::String(shown.to_string()));
    let mut o = match shown.get("module").and_then(Json::as_str) {
        Some(name) => crate::modules::ansible::module_outcome(name, &out)?,
        None => crate::modules::command::result(&shown, &out, strip, &None, &None, started, ended),
    };
    let limit: u64 = limit.trim().parse().unwrap_or(0);
    let took = ended.duration_since(started).unwrap_or_default();
    if (rc == TIMED_OUT || rc == KILLED) && limit > 0 && took.as_secs() + 1 >= limit {
        o.failed = true;
        o.msg = Some(format!(
            "async task did not complete within the requested time - {limit}s"
        ));
    }
    Ok(o.with("ansible_job_id", jid).with("finished", true))
}

/// Runs a command as a background job: with `poll: 0`, returns at once with the job's id;
/// else waits for it, checking every `poll` seconds (more often at first).
pub async fn run(
    remote: &crate::modules::remote::Remote,
    shown: &Json,
    script: &str,
    stdin: Option<&[u8]>,
    strip: bool,
    bg: Background,
) -> ModResult {
    let jid = new_id();
    let started = remote
        .exec(
            &start_script(
                &jid,
                &shown.to_string(),
                script,
                stdin.is_some(),
                bg.limit_secs,
            ),
            stdin,
        )
        .await?;
    if !started.success() {
        return Err(ModuleError::Failed(format!(
            "could not start the background job: {}",
            String::from_utf8_lossy(&started.stderr).trim()
        )));
    }
    let results_file = started.stdout_str();
    if bg.poll_secs == 0 {
        // Reported as a change, as Ansible does: what the command did is only known later.
        return Ok(Outcome::changed(true)
            .with("ansible_job_id", jid)
            .with("started", true)
            .with("finished", false)
            .with("results_file", results_file));
    }
    let t0 = Instant::now();
    let mut wait = Duration::from_millis(100);
    let poll = Duration::from_secs(bg.poll_secs);
    // The job stops itself at its limit (`timeout`, then KILL 5 s later); past that and a
    // margin, it is given up on.
    let give_up = Duration::from_secs(bg.limit_secs + 15);
    loop {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(poll);
        match state(remote, &jid).await? {
            State::Finished { rc, started, ended } => {
                return Ok(finished(remote, &jid, rc, started, ended, strip)
                    .await?
                    .with("results_file", results_file));
            }
            State::Missing => {
                return Err(ModuleError::Failed(format!(
                    "background job {jid} vanished from the target ({results_file})"
                )));
            }
            State::Running if t0.elapsed() > give_up => {
                let mut o = Outcome::changed(true)
                    .with("ansible_job_id", jid)
                    .with("finished", false)
                    .with("results_file", results_file);
                o.failed = true;
                o.msg = Some(format!(
                    "async task did not complete within the requested time - {}s",
                    bg.limit_secs
                ));
                return Ok(o);
            }
            State::Running => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_checked_before_naming_files() {
        for _ in 0..20 {
            assert!(valid_id(&new_id()));
        }
        assert!(valid_id("j508134652545.3154"));
        for bad in ["", "../etc/passwd", "a/b", ".hidden", "j1; rm -rf /", "j 1"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn job_states_are_read_back() {
        assert_eq!(parse_state("missing\n"), Ok(State::Missing));
        assert_eq!(parse_state("running\n"), Ok(State::Running));
        let t = |s: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s);
        assert_eq!(
            parse_state("0 1700000000.250000000 1700000002.500000000\n"),
            Ok(State::Finished {
                rc: 0,
                started: t(1_700_000_000.25),
                ended: t(1_700_000_002.5)
            })
        );
        // A `date` without %N.
        assert_eq!(
            parse_state("124 1700000000.%N 1700000010.%N"),
            Ok(State::Finished {
                rc: 124,
                started: t(1_700_000_000.0),
                ended: t(1_700_000_010.0)
            })
        );
        assert!(parse_state("garbage").is_err());
    }

    #[test]
    fn the_scripts() {
        insta::assert_snapshot!(start_script(
            "j1.2",
            "sleep 5; echo 'done'",
            "cd /srv || exit 1; sleep 5; echo 'done'",
            false,
            30
        ));
        insta::assert_snapshot!(status_script("j1.2"), @r#"j="$HOME/.ansible_async"/j1.2; if [ -f "$j.rc" ]; then cat "$j.rc"; elif [ -f "$j.meta" ]; then echo running; else echo missing; fi"#);
        insta::assert_snapshot!(cleanup_script("j1.2"), @r#"j="$HOME/.ansible_async"/j1.2; rm -f "$j.meta" "$j.sh" "$j.in" "$j.out" "$j.err" "$j.rc" "$j.rc.tmp"; printf '%s' "$j""#);
    }
}
