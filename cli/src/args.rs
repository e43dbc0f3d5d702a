//! Command-line arguments shared by every command: inventory sources, connection options and
//! output format.

use clap::{Args, Parser, Subcommand, ValueEnum};
use hoist_core::ssh::{ConnectOptions, HostKeyPolicy};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about = "Agentless operations over SSH: playbooks, inventory, ad-hoc commands, facts and a lab fleet"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Directory holding plugins (a `plugin.toml`, or sub-directories with one); searched before
    /// $HOIST_PLUGIN_PATH, `plugins/` beside the playbook and ~/.local/share/hoist/plugins
    #[arg(long = "plugin-dir", global = true)]
    pub plugin_dirs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A throw-away fleet of Debian hosts on this machine (needs root)
    Lab(crate::commands::lab::LabArgs),
    /// Show the inventory: hosts, groups, variables
    Inventory(crate::commands::inventory::InventoryArgs),
    /// Run a shell command on every host matching PATTERN
    Exec(crate::commands::exec::ExecArgs),
    /// Check that hosts matching PATTERN answer over SSH
    Ping(crate::commands::ping::PingArgs),
    /// The connection multiplexer behind `--persist` (started on demand)
    Mux(crate::commands::mux::MuxArgs),
    /// Gather facts (OS, kernel, CPU, load, memory, disks, network, uptime) in one round trip
    Facts(crate::commands::facts::FactsArgs),
    /// Run the health checks declared in the inventory; exit 2 when anything is unhealthy
    Health(crate::commands::health::HealthArgs),
    /// Apply an Ansible-compatible playbook to the inventory's hosts
    Run(crate::commands::run::RunArgs),
    /// List the built-in modules and their arguments
    Modules(crate::commands::modules::ModulesArgs),
    /// Check playbooks statically (YAML, modules, arguments, templates) without running them
    #[command(alias = "lint")]
    CheckSyntax(crate::commands::check_syntax::CheckSyntaxArgs),
    /// WebAssembly plugins: create, build, list, inspect
    Plugin(crate::commands::plugin::PluginArgs),
    /// Secrets in the OS keyring (or the headless fallback); values are never printed
    Secret(crate::commands::secret::SecretArgs),
    /// The control plane: HTTP API, run queue and history (SQLite), users and tokens
    Serve(crate::commands::serve::ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
    /// As ansible-playbook prints it (its recap lines), for scripts that parse them.
    Ansible,
    /// As `ansible` prints ad-hoc results (`host | SUCCESS => {...}`).
    Adhoc,
    /// Ad-hoc results one line each (`ansible -o`).
    AdhocOneLine,
}

/// Where the inventory comes from.
#[derive(Debug, Args)]
pub struct InventoryOpts {
    /// Inventory file or directory (YAML or INI), or a comma-separated host list
    /// (`-i web1,web2,`); repeat to merge several
    #[arg(
        short = 'i',
        long = "inventory",
        env = "HOIST_INVENTORY",
        default_value = "inventory/lab.yml",
        global = true
    )]
    pub inventory: Vec<PathBuf>,
}

/// How to reach hosts.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub inventory: InventoryOpts,
    /// Further limit the selected hosts with another pattern
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Hosts worked on at once
    #[arg(short = 'f', long, default_value_t = 50)]
    pub forks: usize,
    /// Default remote user (inventory and ssh_config win)
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Private key file to offer (repeatable)
    #[arg(long = "private-key", alias = "key-file")]
    pub private_key: Vec<PathBuf>,
    /// known_hosts file to check host keys against (repeatable; default ~/.ssh/known_hosts)
    #[arg(long = "known-hosts")]
    pub known_hosts: Vec<PathBuf>,
    /// Record unknown host keys on first connection (a changed key is still refused)
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// ssh_config file to read
    #[arg(short = 'F', long = "ssh-config")]
    pub ssh_config: Option<PathBuf>,
    /// Seconds to wait for a connection (TCP, handshake and authentication)
    #[arg(long, default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds a command may run (default: no limit)
    #[arg(short = 'T', long)]
    pub timeout: Option<u64>,
    /// Seconds between keepalives on an idle connection (ssh_config's ServerAliveInterval wins)
    #[arg(long, default_value_t = 5)]
    pub keepalive_interval: u64,
    /// Unanswered keepalives before a host counts as unreachable (ssh_config's
    /// ServerAliveCountMax wins): a host that dies mid-task is reported after about
    /// interval × count seconds
    #[arg(long, default_value_t = 3)]
    pub keepalive_count: u32,
    /// Channels opened at once on one connection (OpenSSH allows 10 sessions by default)
    #[arg(long, default_value_t = 5)]
    pub max_channels: usize,
    /// Keep connections open this many seconds after the run in a background multiplexer, so the
    /// next run skips key exchange and authentication (like OpenSSH ControlPersist); 0 = off
    #[arg(long, env = "HOIST_PERSIST", default_value_t = 0)]
    pub persist: u64,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

impl ConnectArgs {
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            user: self.user.clone(),
            private_keys: self.private_key.clone(),
            known_hosts: self.known_hosts.clone(),
            policy: if self.accept_new_host_keys {
                HostKeyPolicy::AcceptNew
            } else {
                HostKeyPolicy::Strict
            },
            connect_timeout: Duration::from_secs(self.connect_timeout),
            command_timeout: self.timeout.map(Duration::from_secs),
            key_passphrase: std::env::var("HOIST_SSH_KEY_PASSPHRASE").ok(),
            max_channels: self.max_channels,
            keepalive: Duration::from_secs(self.keepalive_interval.max(1)),
            keepalive_max: self.keepalive_count.max(1),
            agent: std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
            ..ConnectOptions::default()
        }
    }

    pub fn ssh_config_path(&self) -> PathBuf {
        self.ssh_config.clone().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".ssh/config")
        })
    }
}

/// The arguments as hoist's own: invoked as `ansible-playbook` (a link to hoist), the command
/// line is `hoist run --output ansible ...`, so scripts written for ansible-playbook run hoist.
pub fn as_invoked(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.collect();
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "ansible-playbook" {
        args.splice(
            1..1,
            ["run", "--output", "ansible"].map(std::ffi::OsString::from),
        );
    }
    args
}

#[cfg(test)]
mod invoked_tests {
    use super::as_invoked;
    use std::ffi::OsString;

    #[test]
    fn ansible_playbook_is_hoist_run() {
        let v = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            as_invoked(
                v(&["/usr/local/bin/ansible-playbook", "site.yml", "-i", "inv"]).into_iter()
            ),
            v(&[
                "/usr/local/bin/ansible-playbook",
                "run",
                "--output",
                "ansible",
                "site.yml",
                "-i",
                "inv"
            ])
        );
        assert_eq!(
            as_invoked(v(&["hoist", "run", "x.yml"]).into_iter()),
            v(&["hoist", "run", "x.yml"])
        );
    }
}
