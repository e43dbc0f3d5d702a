//! Persistent shells: one long-lived `/bin/sh` per channel that runs command after command, so a
//! playbook's many small probes do not each pay for a new SSH session (a fork of sshd and a login
//! shell on the host). Each command runs as `( eval 'SCRIPT' )`: a subshell, so it cannot change
//! the session's state, and `eval` of one quoted word, so even a syntax error in it cannot break
//! the session; no new program is started for it. Stdin comes from a here-document (base64) or
//! /dev/null; markers on stdout (carrying the exit status) and stderr end each command.

use super::ExecOutput;
use super::connection::ClientHandler;
use base64::Engine;
use russh::ChannelMsg;
use russh::client::{Handle, Msg};
use tokio::sync::OwnedSemaphorePermit;

/// One persistent shell, holding a channel slot while it lives.
pub struct Shell {
    /// Always `Some` until the shell is closed or dropped.
    ch: Option<russh::Channel<Msg>>,
    /// Who the shell runs as (`""` for the login user).
    pub key: String,
    _permit: OwnedSemaphorePermit,
}

/// What the shell's channel delivered.
enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
    /// The shell (or its channel) ended.
    End,
}

/// Why a shell could not be opened.
pub enum OpenError {
    /// The channel (the connection is in trouble).
    Channel(String),
    /// sudo refused (a wrong or missing password, no sudo rights): the task fails.
    Become(String),
}

/// The text sent to the shell for one command.
pub fn frame(script: &str, stdin: Option<&[u8]>, id: u64) -> String {
    let quoted = super::shell::quote(script);
    let end =
        format!("printf '\\n__HOIST_END_{id} %d\\n' \"$?\"; printf '\\n__HOIST_END_{id}\\n' >&2");
    match stdin {
        None => format!("( eval {quoted} ) </dev/null; {end}\n"),
        Some(data) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(data);
            let mut body = String::with_capacity(b64.len() + b64.len() / 76 + 64);
            for chunk in b64.as_bytes().chunks(76) {
                body.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                body.push('\n');
            }
            format!(
                "base64 -d <<'__HOIST_IN_{id}' | ( eval {quoted} ); {end}\n{body}__HOIST_IN_{id}\n"
            )
        }
    }
}

/// Finds `marker` in `buf`; returns (data before it, text after it up to the next newline).
/// The next piece of output of `ch`, skipping channel messages that carry none.
async fn next_chunk(ch: &mut russh::Channel<Msg>) -> Chunk {
    loop {
        match ch.wait().await {
            Some(ChannelMsg::Data { data }) => return Chunk::Out(data.into()),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                return Chunk::Err(data.to_vec());
            }
            Some(
                ChannelMsg::Eof
                | ChannelMsg::Close
                | ChannelMsg::ExitStatus { .. }
                | ChannelMsg::ExitSignal { .. },
            )
            | None => return Chunk::End,
            Some(_) => {}
        }
    }
}

/// Runs sudo's side of a become start on `ch` (see [`super::become_`]): the password goes out
/// only in answer to the random prompt; returns the command's stdout that followed the ready
/// line. Bounded: sudo has 30 s to start the command.
pub async fn handshake(
    ch: &mut russh::Channel<Msg>,
    hs: &super::become_::Handshake,
) -> Result<Vec<u8>, String> {
    use super::become_::{Progress, Step};
    let work = async {
        let mut p = Progress::new(hs);
        loop {
            let step = match next_chunk(ch).await {
                Chunk::Out(d) => p.stdout(&d),
                Chunk::Err(d) => p.stderr(&d),
                Chunk::End => return Err(p.ended()),
            };
            match step {
                Step::More => {}
                Step::Send(bytes) => ch.data(&bytes[..]).await.map_err(|e| e.to_string())?,
                Step::Ready(rest) => return Ok(rest),
                Step::Refused(why) => return Err(why),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), work)
        .await
        .unwrap_or_else(|_| Err("sudo did not start the command within 30 s".into()))
}

fn split_marker(buf: &[u8], marker: &[u8]) -> Option<(usize, Option<String>)> {
    let at = buf.windows(marker.len()).position(|w| w == marker)?;
    let rest = &buf[at + marker.len()..];
    let nl = rest.iter().position(|b| *b == b'\n')?;
    Some((at, Some(String::from_utf8_lossy(&rest[..nl]).into_owned())))
}

impl Shell {
    /// Opens a channel and starts `command` (a shell, possibly under sudo) on it; under sudo,
    /// the handshake runs first, so a refused password is an error now rather than sudo
    /// reading the first command as its next password attempt.
    pub async fn open(
        handle: &Handle<ClientHandler>,
        wrapped: super::become_::Wrapped,
        key: String,
        permit: OwnedSemaphorePermit,
    ) -> Result<Shell, OpenError> {
        let mut attempt = 0u64;
        let ch = loop {
            match handle.channel_open_session().await {
                Ok(ch) => break ch,
                Err(russh::Error::ChannelOpenFailure(_)) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                }
                Err(e) => return Err(OpenError::Channel(format!("cannot open a channel: {e}"))),
            }
        };
        ch.exec(true, wrapped.command.into_bytes())
            .await
            .map_err(|e| OpenError::Channel(e.to_string()))?;
        let mut shell = Shell {
            ch: Some(ch),
            key,
            _permit: permit,
        };
        if let Some(hs) = &wrapped.handshake
            && let Err(e) = handshake(shell.channel(), hs).await
        {
            shell.close().await;
            return Err(OpenError::Become(e));
        }
        Ok(shell)
    }

    fn channel(&mut self) -> &mut russh::Channel<Msg> {
        self.ch.as_mut().expect("a live shell has its channel")
    }

    async fn next(&mut self) -> Chunk {
        next_chunk(self.channel()).await
    }

    /// Runs one command; an error means the shell is unusable and must be dropped.
    pub async fn run(
        &mut self,
        script: &str,
        stdin: Option<&[u8]>,
        id: u64,
    ) -> Result<ExecOutput, String> {
        self.channel()
            .data(frame(script, stdin, id).as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let out_marker = format!("\n__HOIST_END_{id} ").into_bytes();
        let err_marker = format!("\n__HOIST_END_{id}").into_bytes();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (mut status, mut err_done, mut out_len) = (None::<u32>, false, None::<usize>);
        // Markers start with a newline; prefix one so output that is empty still matches.
        out.push(b'\n');
        err.push(b'\n');
        while status.is_none() || !err_done {
            match self.next().await {
                Chunk::Out(data) => {
                    out.extend_from_slice(&data);
                    if status.is_none()
                        && let Some((at, Some(rc))) = split_marker(&out, &out_marker)
                    {
                        status = Some(
                            rc.trim()
                                .parse()
                                .map_err(|_| format!("bad exit status `{rc}` from the shell"))?,
                        );
                        out_len = Some(at);
                    }
                }
                Chunk::Err(data) => {
                    err.extend_from_slice(&data);
                    if !err_done && let Some((at, _)) = split_marker(&err, &err_marker) {
                        err.truncate(at);
                        err_done = true;
                    }
                }
                Chunk::End => {
                    let said = String::from_utf8_lossy(&err).trim().to_string();
                    return Err(if said.is_empty() {
                        "the host's shell session ended".into()
                    } else {
                        format!("the host's shell session ended: {said}")
                    });
                }
            }
        }
        out.truncate(out_len.unwrap_or(out.len()));
        Ok(ExecOutput {
            stdout: out.split_off(1),
            stderr: err.split_off(1),
            status,
            signal: None,
        })
    }

    /// Ends the shell politely.
    pub async fn close(mut self) {
        if let Some(ch) = self.ch.take() {
            let _ = ch.eof().await;
            let _ = ch.close().await;
        }
    }
}

impl Drop for Shell {
    /// A shell dropped mid-command (a task's `timeout`, a cancelled run) closes its channel, so
    /// the server's session slot is not kept by a shell nobody reads.
    fn drop(&mut self) {
        if let (Some(ch), Ok(rt)) = (self.ch.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = ch.close().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        insta::assert_snapshot!(frame("echo 'hi'", None, 7), @r#"( eval 'echo '\''hi'\''' ) </dev/null; printf '\n__HOIST_END_7 %d\n' "$?"; printf '\n__HOIST_END_7\n' >&2"#);
        let f = frame("cat > /tmp/x", Some(b"data"), 8);
        assert!(
            f.starts_with("base64 -d <<'__HOIST_IN_8' | ( eval 'cat > /tmp/x' ); printf"),
            "{f}"
        );
        assert!(f.ends_with("\nZGF0YQ==\n__HOIST_IN_8\n"), "{f}");
        assert_eq!(
            split_marker(b"\nout\n__HOIST_END_7 3\n", b"\n__HOIST_END_7 "),
            Some((4, Some("3".into())))
        );
    }
}
