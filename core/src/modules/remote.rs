//! The target as modules see it: run a shell script (as the task's become user, with its
//! environment), stat, read and atomically write files. Over SSH, or on the controller for
//! `delegate_to: localhost`.

use super::outcome::ModuleError;
use crate::ssh::shell::{quote, quote_path};
use crate::ssh::{Become, Connection, ExecOutput, WriteOpts, atomic_write_script, become_wrap};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How commands reach the host.
#[derive(Clone)]
pub enum Transport {
    Ssh(Arc<Connection>),
    /// The controller itself.
    Local,
    /// A scripted stand-in (tests and snapshots of what modules send).
    Mock(Arc<Mock>),
    /// Through the connection multiplexer, which keeps connections warm between runs.
    Relay(Arc<Relay>, Box<crate::ssh::Target>),
}

/// Where the connection multiplexer listens and how to start it.
#[derive(Clone)]
pub struct RelaySpec {
    pub socket: std::path::PathBuf,
    pub spawn: Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>,
}

impl std::fmt::Debug for RelaySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelaySpec({})", self.socket.display())
    }
}

/// A run's connection settings, sent with every relayed command.
pub struct Relay {
    pub spec: RelaySpec,
    pub ssh: crate::ssh::SshConfig,
    pub opts: crate::ssh::ConnectOptions,
}

async fn relay_exec(
    relay: &Relay,
    target: &crate::ssh::Target,
    script: String,
    stdin: Option<&[u8]>,
    become_: Option<&Become>,
) -> Result<ExecOutput, ModuleError> {
    use crate::mux::{ExecRequest, Request, Response};
    let req = Request::Exec(Box::new(ExecRequest {
        ssh: relay.ssh.clone(),
        opts: relay.opts.clone(),
        target: target.clone(),
        command: script,
        stdin: stdin.map(<[u8]>::to_vec),
        become_: become_.cloned(),
    }));
    let spawn = relay.spec.spawn.clone();
    let reply = crate::mux::request(&relay.spec.socket, &req, move || spawn())
        .await
        .map_err(|e| ModuleError::Failed(format!("connection multiplexer: {e}")))?;
    match reply {
        Response::Exec(r) => Ok(crate::adhoc::HostResult::from(r).outcome?),
        Response::Error(e) => Err(ModuleError::Failed(format!("connection multiplexer: {e}"))),
        _ => Err(ModuleError::Failed(
            "connection multiplexer: unexpected reply".into(),
        )),
    }
}

/// Records every script a module sends and answers from a queue (exit 0 and no output once
/// the queue is empty).
#[derive(Default)]
pub struct Mock {
    pub replies: Mutex<VecDeque<ExecOutput>>,
    /// Each script as sent, with its stdin (lossy UTF-8) when there was one.
    pub log: Mutex<Vec<(String, Option<String>)>>,
}

impl Mock {
    /// Queues a reply: exit status and stdout.
    pub fn reply(&self, status: u32, stdout: &str) {
        if let Ok(mut r) = self.replies.lock() {
            r.push_back(ExecOutput {
                stdout: stdout.as_bytes().to_vec(),
                status: Some(status),
                ..ExecOutput::default()
            });
        }
    }
}

/// Receives a run's connection-level lines (host, line): what `-vvv` shows.
pub type Tracer = Arc<dyn Fn(&str, String) + Send + Sync>;

/// A host, ready for one task.
#[derive(Clone)]
pub struct Remote {
    pub host: String,
    pub transport: Transport,
    pub become_: Option<Become>,
    /// `environment:` of the task.
    pub env: Vec<(String, String)>,
    /// Set when the run shows the commands it runs on hosts.
    pub trace: Option<Tracer>,
}

/// What `stat` found at a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    /// `file`, `directory`, `link` or `other`.
    pub kind: String,
    /// Four octal digits.
    pub mode: String,
    pub owner: String,
    pub group: String,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    /// How many names the file has (more than one: ansible-core calls it `hard`).
    pub nlink: u64,
    pub link_target: Option<String>,
    pub checksum: Option<String>,
}

impl Remote {
    fn script(&self, script: &str) -> String {
        if self.env.is_empty() {
            return script.to_string();
        }
        let exports: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("export {k}={};", quote(v)))
            .collect();
        format!("{} {script}", exports.join(" "))
    }

    /// The user commands log in as.
    fn login_user(&self) -> String {
        match &self.transport {
            Transport::Ssh(conn) => conn.target.user.clone(),
            Transport::Relay(_, target) => target.user.clone(),
            Transport::Local => local_user(),
            Transport::Mock(_) => String::new(),
        }
    }

    /// The `EXEC` line `-vvv` shows for a script: the command line as it starts on the host
    /// (become included), with the script itself summed up, never shown (it may carry
    /// arguments the task keeps out of its logs).
    fn exec_line(&self, script: &str) -> String {
        let summary = format!("/bin/sh -c <script of {} bytes>", script.len());
        let wrapped = become_wrap(self.become_.as_ref(), &self.login_user(), &summary);
        format!("EXEC {}", wrapped.command)
    }

    /// Runs `script` with `/bin/sh`, feeding `stdin`.
    pub async fn exec(
        &self,
        script: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, ModuleError> {
        let script = self.script(script);
        if let Some(trace) = &self.trace {
            trace(&self.host, self.exec_line(&script));
        }
        match &self.transport {
            Transport::Ssh(conn) => Ok(conn.exec_as(&script, stdin, self.become_.as_ref()).await?),
            Transport::Local => local_exec(&script, stdin, self.become_.as_ref()).await,
            Transport::Relay(relay, target) => {
                relay_exec(relay, target, script, stdin, self.become_.as_ref()).await
            }
            Transport::Mock(m) => {
                if let Ok(mut log) = m.log.lock() {
                    log.push((
                        script,
                        stdin.map(|s| String::from_utf8_lossy(s).into_owned()),
                    ));
                }
                let next = m.replies.lock().ok().and_then(|mut r| r.pop_front());
                Ok(next.unwrap_or(ExecOutput {
                    status: Some(0),
                    ..ExecOutput::default()
                }))
            }
        }
    }

    /// Runs `script`; a non-zero exit is a module failure carrying stderr.
    pub async fn check(
        &self,
        script: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, ModuleError> {
        let out = self.exec(script, stdin).await?;
        if out.success() {
            Ok(out)
        } else {
            let err = out.stderr_str();
            let msg = if err.trim().is_empty() {
                out.stdout_str()
            } else {
                err
            };
            Err(ModuleError::Failed(format!(
                "command failed (exit {}): {}",
                out.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| out.signal.clone().unwrap_or_default()),
                msg.trim()
            )))
        }
    }

    /// Stats `path` (not following a final symlink unless `follow`), with a sha1 checksum of
    /// regular files when `checksum` is set. `None` when nothing is there.
    pub async fn stat(
        &self,
        path: &str,
        follow: bool,
        checksum: bool,
    ) -> Result<Option<Stat>, ModuleError> {
        let out = self
            .check(&stat_script(path, follow, checksum), None)
            .await?;
        Ok(parse_stat(&out.stdout_str()))
    }

    /// Stat (following links) and, for a regular file, its contents, in one round trip.
    pub async fn stat_read(
        &self,
        path: &str,
    ) -> Result<(Option<Stat>, Option<Vec<u8>>), ModuleError> {
        const MARK: &[u8] = b"__HOIST_CONTENT__\n";
        let p = quote_path(path);
        let script = format!(
            "{}; if [ -f {p} ]; then printf '__HOIST_CONTENT__\\n'; cat -- {p}; fi",
            stat_script(path, true, false)
        );
        let out = self.check(&script, None).await?;
        let at = out.stdout.windows(MARK.len()).position(|w| w == MARK);
        let (head, body) = match at {
            Some(i) => (
                &out.stdout[..i],
                Some(out.stdout[i + MARK.len()..].to_vec()),
            ),
            None => (&out.stdout[..], None),
        };
        Ok((parse_stat(&String::from_utf8_lossy(head)), body))
    }

    /// The contents of a regular file, or `None` when it does not exist.
    pub async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, ModuleError> {
        let p = quote_path(path);
        let out = self.exec(&format!("if [ -f {p} ]; then cat {p}; elif [ -e {p} ]; then echo 'not a regular file' >&2; exit 2; else exit 3; fi"), None).await?;
        match out.status {
            Some(0) => Ok(Some(out.stdout)),
            Some(3) => Ok(None),
            _ => Err(ModuleError::Failed(format!(
                "cannot read {path}: {}",
                out.stderr_str().trim()
            ))),
        }
    }

    /// Writes `data` to `path` atomically; returns the backup's path when one was made.
    pub async fn write(
        &self,
        path: &str,
        data: &[u8],
        opts: &WriteOpts,
    ) -> Result<Option<String>, ModuleError> {
        match self.write_checked(path, data, opts).await? {
            Written::Done(backup) => Ok(backup),
            Written::ChangedSinceRead => Err(ModuleError::Failed(format!(
                "cannot write {path}: it changed since it was read"
            ))),
        }
    }

    /// Like [`write`](Self::write), telling apart a destination that no longer matches
    /// `opts.expect` (nothing was written) from a failure.
    pub async fn write_checked(
        &self,
        path: &str,
        data: &[u8],
        opts: &WriteOpts,
    ) -> Result<Written, ModuleError> {
        let out = self
            .exec(&atomic_write_script(path, opts), Some(data))
            .await?;
        if opts.expect.is_some() && out.status == Some(crate::ssh::CHANGED_SINCE_READ) {
            return Ok(Written::ChangedSinceRead);
        }
        if !out.success() {
            return Err(ModuleError::Failed(format!(
                "cannot write {path}: {}",
                out.stderr_str().trim()
            )));
        }
        Ok(Written::Done(out.stdout_str().lines().find_map(|l| {
            l.strip_prefix("backup=").map(str::to_string)
        })))
    }
}

/// How a checked write ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// Written; the backup's path when one was made.
    Done(Option<String>),
    /// The destination changed since it was read: nothing was written.
    ChangedSinceRead,
}

/// The user hoist runs as on the controller.
fn local_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| {
        if crate::sys::effective_uid().ok() == Some(0) {
            "root".into()
        } else {
            String::new()
        }
    })
}

async fn local_exec(
    script: &str,
    stdin: Option<&[u8]>,
    become_: Option<&Become>,
) -> Result<ExecOutput, ModuleError> {
    use tokio::io::AsyncWriteExt;
    let wrapped = become_wrap(become_, &local_user(), script);
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&wrapped.command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ModuleError::Failed(format!("cannot run /bin/sh on the controller: {e}")))?;
    let mut early = Vec::new();
    if let Some(hs) = &wrapped.handshake {
        early = local_handshake(&mut child, hs)
            .await
            .map_err(|e| ModuleError::Failed(format!("become on the controller: {e}")))?;
    }
    if let Some(mut sin) = child.stdin.take() {
        let _ = sin.write_all(stdin.unwrap_or_default()).await;
    }
    // The output is read until the command exits and its pipes end, or briefly after the exit:
    // a process it left in the background (`cmd &`) holds the pipes open, and waiting for
    // their end would wait for it, which ansible-core does not.
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let status = child
        .wait()
        .await
        .map_err(|e| ModuleError::Failed(format!("controller command failed: {e}")))?;
    let (stdout, stderr) = (out.finish().await, err.finish().await);
    early.extend_from_slice(&stdout);
    use std::os::unix::process::ExitStatusExt;
    Ok(ExecOutput {
        stdout: early,
        stderr,
        status: status.code().map(|c| c as u32),
        signal: status.signal().map(|s| format!("signal {s}")),
    })
}

/// A pipe being read into memory in the background.
struct Drain {
    buf: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

fn drain(pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>) -> Drain {
    use tokio::io::AsyncReadExt;
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let task = pipe.map(|mut pipe| {
        let buf = buf.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = buf.lock() {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
        })
    });
    Drain { buf, task }
}

impl Drain {
    /// What was read, once the pipe ended (or a moment after the command exited, when a
    /// process it left behind keeps the pipe open).
    async fn finish(mut self) -> Vec<u8> {
        if let Some(mut task) = self.task.take() {
            let grace = std::time::Duration::from_millis(200);
            if tokio::time::timeout(grace, &mut task).await.is_err() {
                task.abort();
            }
        }
        self.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// sudo's side of a become start on the controller (see [`crate::ssh::become_`]): the password
/// only in answer to the random prompt; returns the stdout that followed the ready line.
async fn local_handshake(
    child: &mut tokio::process::Child,
    hs: &crate::ssh::Handshake,
) -> Result<Vec<u8>, String> {
    use crate::ssh::{Progress, Step};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (Some(out), Some(err), Some(sin)) = (
        child.stdout.as_mut(),
        child.stderr.as_mut(),
        child.stdin.as_mut(),
    ) else {
        return Err("no pipes to sudo".into());
    };
    let work = async {
        let mut p = Progress::new(hs);
        let (mut ob, mut eb) = ([0u8; 4096], [0u8; 4096]);
        let (mut out_open, mut err_open) = (true, true);
        loop {
            if !out_open && !err_open {
                return Err(p.ended());
            }
            let step = tokio::select! {
                n = out.read(&mut ob), if out_open => match n {
                    Ok(0) | Err(_) => { out_open = false; Step::More }
                    Ok(n) => p.stdout(&ob[..n]),
                },
                n = err.read(&mut eb), if err_open => match n {
                    Ok(0) | Err(_) => { err_open = false; Step::More }
                    Ok(n) => p.stderr(&eb[..n]),
                },
            };
            match step {
                Step::More => {}
                Step::Send(bytes) => sin.write_all(&bytes).await.map_err(|e| e.to_string())?,
                Step::Ready(rest) => return Ok(rest),
                Step::Refused(why) => return Err(why),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), work)
        .await
        .unwrap_or_else(|_| Err("sudo did not start the command within 30 s".into()))
}

/// The stat probe: one line of fields, the link target, the checksum (or `absent`).
pub fn stat_script(path: &str, follow: bool, checksum: bool) -> String {
    let p = quote_path(path);
    let l = if follow { "-L " } else { "" };
    // Few processes: every spawn costs on a busy host; `[` is a shell builtin.
    let sum = if checksum {
        format!("if [ -f {p} ] && [ -r {p} ]; then sha1sum -- {p}; else echo; fi")
    } else {
        "echo".to_string()
    };
    format!(
        "if [ -e {p} ] || [ -L {p} ]; then stat {l}-c '%F|%a|%U|%G|%u|%g|%s|%Y|%h' -- {p}; if [ -L {p} ]; then readlink -- {p}; else echo; fi; {sum}; else echo absent; fi"
    )
}

/// Parses [`stat_script`]'s output.
pub fn parse_stat(out: &str) -> Option<Stat> {
    let mut lines = out.lines();
    let first = lines.next()?;
    if first == "absent" {
        return None;
    }
    let f: Vec<&str> = first.split('|').collect();
    if f.len() < 8 {
        return None;
    }
    let kind = match f[0] {
        "regular file" | "regular empty file" => "file",
        "directory" => "directory",
        "symbolic link" => "link",
        _ => "other",
    };
    let link = lines
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let checksum = lines
        .next()
        .and_then(|l| l.get(..40))
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    Some(Stat {
        kind: kind.to_string(),
        mode: format!("{:0>4}", f[1]),
        owner: f[2].to_string(),
        group: f[3].to_string(),
        uid: f[4].parse().unwrap_or(0),
        gid: f[5].parse().unwrap_or(0),
        size: f[6].parse().unwrap_or(0),
        mtime: f[7].parse().unwrap_or(0),
        nlink: f.get(8).and_then(|n| n.parse().ok()).unwrap_or(1),
        link_target: if kind == "link" { link } else { None },
        checksum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing() {
        let s = parse_stat("regular file|644|root|root|0|0|12|1700000000\n\nda39a3ee5e6b4b0d3255bfef95601890afd80709  /etc/x\n").unwrap();
        assert_eq!(
            (s.kind.as_str(), s.mode.as_str(), s.size),
            ("file", "0644", 12)
        );
        assert_eq!(
            s.checksum.as_deref(),
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        let l = parse_stat("symbolic link|777|root|root|0|0|4|1|\n/etc/x\n\n").unwrap();
        assert_eq!(l.link_target.as_deref(), Some("/etc/x"));
        assert!(parse_stat("absent\n").is_none());
    }
}
