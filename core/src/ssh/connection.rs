//! One SSH connection to one host: host-key verification, authentication, ProxyJump,
//! multiplexed exec channels capped below the server's `MaxSessions`, keepalives, become,
//! and atomic uploads (temp file then rename on the target).

use super::auth::{KeyCache, authenticate};
use super::config::SshConfig;
use super::error::{KeyMismatch, SshError};
use super::known_hosts::{self, Verdict};
use super::target::{ConnectOptions, HostKeyPolicy, Target};
use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};
use std::future::Future;
use std::pin::Pin;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

use super::shell_session::Shell;

/// What every connection of a run shares.
pub struct ConnectContext {
    pub ssh: SshConfig,
    pub opts: ConnectOptions,
    pub keys: KeyCache,
}

/// The russh client handler: verifies the server's host key against known_hosts.
pub struct ClientHandler {
    target: Target,
    verdict: Arc<Mutex<Option<SshError>>>,
}

impl ClientHandler {
    fn verify(&self, key: &PublicKey) -> Result<(), SshError> {
        let t = &self.target;
        let lookup = known_hosts::lookup_name(&t.address, t.port);
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = known_hosts::check(&t.known_hosts, &t.address, t.port, key).map_err(|e| {
            SshError::KnownHosts {
                host: t.name.clone(),
                message: e.to_string(),
            }
        })?;
        match verdict {
            Verdict::Match { .. } => Ok(()),
            Verdict::Changed { path, line } => {
                Err(SshError::HostKeyChanged(Box::new(KeyMismatch {
                    host: t.name.clone(),
                    lookup,
                    path,
                    line,
                    algo: key.algorithm().as_str().to_string(),
                    fingerprint,
                })))
            }
            Verdict::Revoked { path, line } => Err(SshError::HostKeyRevoked {
                host: t.name.clone(),
                fingerprint,
                path,
                line,
            }),
            Verdict::Unknown if t.policy == HostKeyPolicy::AcceptNew => {
                let file = t.known_hosts.first().ok_or_else(|| SshError::KnownHosts {
                    host: t.name.clone(),
                    message: "no known_hosts file to record the new key in".into(),
                })?;
                known_hosts::append(file, &t.address, t.port, key).map_err(|e| {
                    SshError::KnownHosts {
                        host: t.name.clone(),
                        message: format!("cannot record the new key in {}: {e}", file.display()),
                    }
                })
            }
            Verdict::Unknown => Err(SshError::HostKeyUnknown {
                host: t.name.clone(),
                lookup,
                fingerprint,
                files: t
                    .known_hosts
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => PublicKey::new(c.public_key().clone(), ""),
        };
        match self.verify(&key) {
            Ok(()) => Ok(true),
            Err(e) => {
                if let Ok(mut v) = self.verdict.lock() {
                    *v = Some(e);
                }
                Ok(false)
            }
        }
    }
}

/// The result of one remote command.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit status; `None` when the command died from a signal.
    pub status: Option<u32>,
    pub signal: Option<String>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// An authenticated connection, shared by every task on that host.
pub struct Connection {
    pub target: Target,
    handle: Handle<ClientHandler>,
    /// Open channels (persistent shells, idle or not, and one-off exec sessions).
    channels: Arc<Semaphore>,
    /// Commands in flight, at most as many as channels: callers queue here, first come first
    /// served, so a caller never waits for a channel an idle shell keeps (a permit of `channels`
    /// is always free or held by an idle shell that may be closed once this one is granted).
    busy: Semaphore,
    command_timeout: Option<Duration>,
    /// Run commands through persistent shells (playbooks) instead of a session each.
    persistent: bool,
    /// Idle persistent shells.
    shells: Mutex<Vec<Shell>>,
    next_id: std::sync::atomic::AtomicU64,
    /// Keeps the jump host's connection (and its tunnel) open.
    _jump: Option<Arc<Connection>>,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How many times a dropped handshake is tried.
const CONNECT_ATTEMPTS: u64 = 3;

/// A connection the server accepted and then dropped before the session was set up (not a
/// refusal, an unreachable address, a host key or an authentication failure).
fn dropped_handshake(e: &SshError) -> bool {
    match e {
        SshError::Connect { message, .. } => {
            let m = message.to_ascii_lowercase();
            ![
                "refused",
                "no route",
                "unreachable",
                "lookup address",
                "name or service",
            ]
            .iter()
            .any(|w| m.contains(w))
        }
        _ => false,
    }
}

impl Connection {
    /// Connects (through any ProxyJump chain), verifies the host key and authenticates.
    pub fn connect<'a>(
        target: &'a Target,
        ctx: &'a ConnectContext,
    ) -> BoxFut<'a, Result<Arc<Connection>, SshError>> {
        Box::pin(async move {
            let secs = target.connect_timeout.as_secs();
            let addr = format!("{}:{}", target.address, target.port);
            // A handshake the server dropped (sshd's MaxStartups sheds connections while many
            // are being set up at once) is tried again, as OpenSSH's ConnectionAttempts would;
            // all attempts together stay within the connect timeout.
            let attempts = async {
                let mut tries = 0u64;
                loop {
                    tries += 1;
                    match Self::establish(target, ctx).await {
                        Err(e) if tries < CONNECT_ATTEMPTS && dropped_handshake(&e) => {
                            tokio::time::sleep(std::time::Duration::from_millis(
                                100 * tries * tries,
                            ))
                            .await;
                        }
                        other => return other,
                    }
                }
            };
            match tokio::time::timeout(target.connect_timeout, attempts).await {
                Ok(r) => r,
                Err(_) => Err(SshError::ConnectTimeout {
                    host: target.name.clone(),
                    addr,
                    secs,
                }),
            }
        })
    }

    async fn establish(target: &Target, ctx: &ConnectContext) -> Result<Arc<Connection>, SshError> {
        let config = Arc::new(client::Config {
            nodelay: true,
            keepalive_interval: Some(target.keepalive),
            keepalive_max: target.keepalive_max.max(1) as usize,
            ..Default::default()
        });
        let verdict = Arc::new(Mutex::new(None));
        let handler = ClientHandler {
            target: target.clone(),
            verdict: verdict.clone(),
        };
        let addr = format!("{}:{}", target.address, target.port);
        let connect_err = |message: String| SshError::Connect {
            host: target.name.clone(),
            addr: addr.clone(),
            message,
        };
        let (handle, jump) = match target.jump_target(&ctx.ssh, &ctx.opts) {
            Some(jt) => {
                let jump = Self::connect(&jt, ctx).await.map_err(|e| SshError::Jump {
                    host: target.name.clone(),
                    jump: jt.name.clone(),
                    source: Box::new(e),
                })?;
                let ch = jump
                    .handle
                    .channel_open_direct_tcpip(
                        target.address.clone(),
                        target.port as u32,
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| {
                        connect_err(format!(
                            "jump host {} could not open a tunnel: {e}",
                            jt.name
                        ))
                    })?;
                let h = client::connect_stream(config, ch.into_stream(), handler).await;
                (h, Some(jump))
            }
            None => {
                let tcp = tokio::net::TcpStream::connect((target.address.as_str(), target.port))
                    .await
                    .map_err(|e| connect_err(e.to_string()))?;
                let _ = tcp.set_nodelay(true);
                (client::connect_stream(config, tcp, handler).await, None)
            }
        };
        let mut handle = handle.map_err(|e| {
            verdict
                .lock()
                .ok()
                .and_then(|mut v| v.take())
                .unwrap_or_else(|| connect_err(format!("SSH handshake failed: {e}")))
        })?;
        authenticate(
            &mut handle,
            target,
            &ctx.keys,
            ctx.opts.key_passphrase.as_deref(),
            ctx.opts.agent.as_deref(),
        )
        .await?;
        Ok(Arc::new(Connection {
            target: target.clone(),
            handle,
            channels: Arc::new(Semaphore::new(ctx.opts.max_channels.max(1))),
            busy: Semaphore::new(ctx.opts.max_channels.max(1)),
            command_timeout: ctx.opts.command_timeout,
            persistent: ctx.opts.persistent_shell,
            shells: Mutex::new(Vec::new()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            _jump: jump,
        }))
    }

    fn protocol(&self, e: impl std::fmt::Display) -> SshError {
        SshError::Protocol {
            host: self.target.name.clone(),
            message: e.to_string(),
        }
    }

    /// Runs `command` through the login shell (wrapped in sudo when become is set), feeding it
    /// `stdin`, and collects its output and exit status.
    pub async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, SshError> {
        self.exec_as(command, stdin, self.target.become_.as_ref())
            .await
    }

    /// Like [`exec`](Self::exec), with the become settings of one task instead of the host's.
    pub async fn exec_as(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        become_: Option<&super::Become>,
    ) -> Result<ExecOutput, SshError> {
        let _turn = self.busy.acquire().await.map_err(|e| self.protocol(e))?;
        if self.persistent {
            return self.exec_persistent(command, stdin, become_).await;
        }
        let wrapped = super::become_::wrap(become_, &self.target.user, command);
        let run = self.exec_raw(wrapped, stdin.unwrap_or_default());
        match self.command_timeout {
            Some(t) => {
                tokio::time::timeout(t, run)
                    .await
                    .map_err(|_| SshError::CommandTimeout {
                        host: self.target.name.clone(),
                        secs: t.as_secs(),
                    })?
            }
            None => run.await,
        }
    }

    /// Runs `command` in an idle persistent shell of the right user, opening one if needed.
    async fn exec_persistent(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        become_: Option<&super::Become>,
    ) -> Result<ExecOutput, SshError> {
        // A shell is reused only for the same user started the same way: another password,
        // sudo or flags start (and check) sudo anew, as ansible-core runs sudo every time.
        let key = match become_ {
            Some(b) if super::become_::needed(b, &self.target.user) => {
                let pw = b
                    .password
                    .as_deref()
                    .map(|p| crate::digest::hex("sha256", p.as_bytes()))
                    .unwrap_or_default();
                format!(
                    "{}\0{}\0{}\0{}\0{pw}",
                    b.user,
                    b.exe.as_deref().unwrap_or_default(),
                    b.flags.as_deref().unwrap_or_default(),
                    b.chdir.as_deref().unwrap_or_default()
                )
            }
            _ => String::new(),
        };
        let idle = {
            let mut shells = self.shells.lock().unwrap_or_else(|p| p.into_inner());
            shells
                .iter()
                .position(|s| s.key == key)
                .map(|i| shells.swap_remove(i))
        };
        let mut shell = match idle {
            Some(s) => s,
            None => {
                let permit = self.channel_permit().await?;
                let wrapped = super::become_::wrap(become_, &self.target.user, "exec /bin/sh");
                Shell::open(&self.handle, wrapped, key, permit)
                    .await
                    .map_err(|e| match e {
                        super::shell_session::OpenError::Channel(m) => self.protocol(m),
                        super::shell_session::OpenError::Become(message) => SshError::Become {
                            host: self.target.name.clone(),
                            message,
                        },
                    })?
            }
        };
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let run = shell.run(command, stdin, id);
        let result = match self.command_timeout {
            Some(t) => match tokio::time::timeout(t, run).await {
                Ok(r) => r,
                Err(_) => {
                    shell.close().await;
                    return Err(SshError::CommandTimeout {
                        host: self.target.name.clone(),
                        secs: t.as_secs(),
                    });
                }
            },
            None => run.await,
        };
        match result {
            Ok(out) => {
                self.shells
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(shell);
                Ok(out)
            }
            Err(e) => {
                shell.close().await;
                Err(self.protocol(e))
            }
        }
    }

    /// A channel slot for a caller holding a `busy` turn; closes an idle persistent shell when
    /// all slots are taken. With no idle shell left, another caller is closing one: its slot
    /// comes free at once, and the short wait re-checks in case that caller took it back.
    async fn channel_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, SshError> {
        loop {
            if let Ok(p) = self.channels.clone().try_acquire_owned() {
                return Ok(p);
            }
            let idle = self.shells.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(s) => s.close().await,
                None => {
                    let wait = self.channels.clone().acquire_owned();
                    if let Ok(p) = tokio::time::timeout(Duration::from_millis(20), wait).await {
                        return p.map_err(|e| self.protocol(e));
                    }
                }
            }
        }
    }

    async fn exec_raw(
        &self,
        wrapped: super::become_::Wrapped,
        input: &[u8],
    ) -> Result<ExecOutput, SshError> {
        let _permit = self.channel_permit().await?;
        let mut attempt = 0u64;
        let mut ch = loop {
            match self.handle.channel_open_session().await {
                Ok(ch) => break ch,
                // The server frees a session slot only after it processes a close: wait and retry.
                Err(russh::Error::ChannelOpenFailure(_)) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 * attempt)).await;
                }
                Err(e) => return Err(self.protocol(format!("cannot open a channel: {e}"))),
            }
        };
        ch.exec(true, wrapped.command.into_bytes())
            .await
            .map_err(|e| self.protocol(e))?;
        let mut out = ExecOutput::default();
        if let Some(hs) = &wrapped.handshake {
            out.stdout = super::shell_session::handshake(&mut ch, hs)
                .await
                .map_err(|message| SshError::Become {
                    host: self.target.name.clone(),
                    message,
                })?;
        }
        if !input.is_empty() {
            ch.data(input).await.map_err(|e| self.protocol(e))?;
        }
        ch.eof().await.map_err(|e| self.protocol(e))?;
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    out.signal = Some(format!("{signal_name:?}"))
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        if out.status.is_none() && out.signal.is_none() {
            return Err(self.protocol("the channel closed without an exit status"));
        }
        Ok(out)
    }

    /// Writes `data` to `dest` atomically: a temp file in the same directory, then `mv`.
    /// `mode` is octal (e.g. `"0644"`); without it an existing file keeps its mode.
    pub async fn upload(
        &self,
        data: &[u8],
        dest: &str,
        mode: Option<&str>,
    ) -> Result<(), SshError> {
        let opts = super::WriteOpts {
            mode: mode.map(str::to_string),
            ..Default::default()
        };
        let out = self
            .exec(&super::atomic_write_script(dest, &opts), Some(data))
            .await?;
        if out.success() {
            Ok(())
        } else {
            Err(SshError::Upload {
                host: self.target.name.clone(),
                path: dest.to_string(),
                message: out.stderr_str().trim().to_string(),
            })
        }
    }

    /// True once the connection has gone away (server closed it, network dropped, keepalives lost).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Closes the connection politely.
    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}
