//! Where and how to connect to one host: inventory variables (`ansible_host`, `ansible_port`,
//! `ansible_user`, `ansible_ssh_private_key_file`, `ansible_ssh_common_args`, `ansible_become*`)
//! over `~/.ssh/config`, over hoist's command-line defaults.

use super::config::{HostConfig, SshConfig, options_from_args};
use crate::inventory::Vars;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// What to do with a host key that no known_hosts file lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostKeyPolicy {
    /// Refuse unknown keys (OpenSSH `StrictHostKeyChecking yes`).
    Strict,
    /// Record unknown keys in the first known_hosts file (`accept-new`); changed keys still fail.
    AcceptNew,
}

/// Privilege escalation with sudo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Become {
    pub user: String,
    pub password: Option<String>,
    /// `ansible_become_exe`: the sudo to run (`sudo` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// `ansible_become_flags`: sudo's flags instead of `-H -S -n` (`-n` dropped when a
    /// password is given, as ansible-core drops it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
    /// `ansible_sudo_chdir`: the directory to be in when sudo starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chdir: Option<String>,
}

/// Defaults from the command line, overridden by inventory and ssh_config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectOptions {
    pub user: Option<String>,
    pub private_keys: Vec<PathBuf>,
    pub known_hosts: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub command_timeout: Option<Duration>,
    /// Dead-peer detection: a keepalive every `keepalive`, the connection given up after
    /// `keepalive_max` unanswered (ssh_config's ServerAliveInterval / ServerAliveCountMax win).
    pub keepalive: Duration,
    pub keepalive_max: u32,
    /// Never serialized: it must not travel to the multiplexer (which reads its own).
    #[serde(skip)]
    pub key_passphrase: Option<String>,
    /// ssh-agent socket to ask for identities (the CLI passes `SSH_AUTH_SOCK`).
    pub agent: Option<PathBuf>,
    /// Channels open at once per connection, below the server's `MaxSessions` (10 by default).
    pub max_channels: usize,
    /// Run commands through persistent shells instead of one SSH session each (playbooks).
    #[serde(default)]
    pub persistent_shell: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            user: None,
            private_keys: Vec::new(),
            known_hosts: Vec::new(),
            policy: HostKeyPolicy::Strict,
            connect_timeout: Duration::from_secs(10),
            command_timeout: None,
            keepalive: Duration::from_secs(5),
            keepalive_max: 3,
            key_passphrase: None,
            agent: None,
            max_channels: 5,
            persistent_shell: false,
        }
    }
}

/// Everything needed to open one connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    /// The inventory name, used in every message.
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub proxy_jump: Option<String>,
    pub known_hosts: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub keepalive: Duration,
    #[serde(default = "default_keepalive_max")]
    pub keepalive_max: u32,
    pub become_: Option<Become>,
    /// `ansible_become_password`, for a task or play that turns `become` on itself.
    #[serde(default)]
    pub become_password: Option<String>,
}

fn var_str(vars: &Vars, key: &str) -> Option<String> {
    match vars.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn var_bool(vars: &Vars, key: &str) -> bool {
    match vars.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on")
        }
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn default_known_hosts() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    vec![home.join(".ssh/known_hosts")]
}

impl Target {
    /// Resolves inventory host `name` with its merged `vars`.
    pub fn resolve(name: &str, vars: &Vars, ssh: &SshConfig, opts: &ConnectOptions) -> Target {
        let mut ssh = ssh.clone();
        let mut args = String::new();
        for k in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            if let Some(a) = var_str(vars, k) {
                args.push(' ');
                args.push_str(&a);
            }
        }
        ssh.prepend_options(options_from_args(&args));
        let alias = var_str(vars, "ansible_host").unwrap_or_else(|| name.to_string());
        let hc: HostConfig = ssh.resolve(&alias);
        let port = var_str(vars, "ansible_port")
            .and_then(|p| p.parse().ok())
            .or(hc.port)
            .unwrap_or(22);
        let user = var_str(vars, "ansible_user")
            .or(hc.user.clone())
            .or(opts.user.clone())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "root".to_string());
        let mut identity_files: Vec<PathBuf> = var_str(vars, "ansible_ssh_private_key_file")
            .or_else(|| var_str(vars, "ansible_private_key_file"))
            .map(|p| PathBuf::from(super::config::expand_tokens(&p, &alias, None, None)))
            .into_iter()
            .collect();
        identity_files.extend(opts.private_keys.iter().cloned());
        identity_files.extend(hc.identity_files.iter().cloned());
        let mut known_hosts = opts.known_hosts.clone();
        known_hosts.extend(hc.user_known_hosts_files.iter().cloned());
        if known_hosts.is_empty() {
            known_hosts = default_known_hosts();
        }
        let policy = match hc.strict_host_key_checking.as_deref() {
            Some("accept-new") => HostKeyPolicy::AcceptNew,
            _ => opts.policy,
        };
        let become_password = var_str(vars, "ansible_become_password")
            .or_else(|| var_str(vars, "ansible_become_pass"));
        let become_ = var_bool(vars, "ansible_become").then(|| Become {
            user: var_str(vars, "ansible_become_user").unwrap_or_else(|| "root".into()),
            password: become_password.clone(),
            exe: var_str(vars, "ansible_become_exe").or_else(|| var_str(vars, "ansible_sudo_exe")),
            flags: var_str(vars, "ansible_become_flags")
                .or_else(|| var_str(vars, "ansible_sudo_flags")),
            chdir: var_str(vars, "ansible_sudo_chdir"),
        });
        let timeout = var_str(vars, "ansible_ssh_timeout")
            .or_else(|| var_str(vars, "ansible_timeout"))
            .and_then(|t| t.parse().ok())
            .or(hc.connect_timeout)
            .map(Duration::from_secs)
            .unwrap_or(opts.connect_timeout);
        Target {
            name: name.to_string(),
            address: hc.hostname.clone().unwrap_or(alias),
            port,
            user,
            identity_files,
            identities_only: hc.identities_only,
            proxy_jump: hc.proxy_jump.filter(|j| j != "none"),
            known_hosts,
            policy,
            connect_timeout: timeout,
            keepalive: hc
                .server_alive_interval
                .map(Duration::from_secs)
                .unwrap_or(opts.keepalive),
            keepalive_max: hc.server_alive_count_max.unwrap_or(opts.keepalive_max),
            become_,
            become_password,
        }
    }

    /// The first hop of `ProxyJump` (`[user@]host[:port]`, comma-separated for chains) as a
    /// target of its own, resolved through ssh_config, with the rest of the chain kept.
    pub fn jump_target(&self, ssh: &SshConfig, opts: &ConnectOptions) -> Option<Target> {
        let chain = self.proxy_jump.as_ref()?;
        // `-J a,b` goes through a, then b: b is the hop next to the target, reached through a.
        let (rest, first) = match chain.rsplit_once(',') {
            Some((a, b)) => (Some(a.to_string()), b),
            None => (None, chain.as_str()),
        };
        let (user, hostport) = match first.split_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, first),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<u16>().ok()),
            _ => (hostport, None),
        };
        let mut vars = Vars::new();
        if let Some(u) = user {
            vars.insert("ansible_user".into(), Value::from(u));
        }
        if let Some(p) = port {
            vars.insert("ansible_port".into(), Value::from(p));
        }
        let mut jump = Target::resolve(host, &vars, ssh, opts);
        // Keys given for the target (inventory or -i) are offered to the jump host too.
        for k in &self.identity_files {
            if !jump.identity_files.contains(k) {
                jump.identity_files.push(k.clone());
            }
        }
        if jump.known_hosts == default_known_hosts() {
            jump.known_hosts = self.known_hosts.clone();
        }
        jump.policy = self.policy;
        if let Some(rest) = rest {
            jump.proxy_jump = Some(rest);
        }
        Some(jump)
    }
}

fn default_keepalive_max() -> u32 {
    3
}
