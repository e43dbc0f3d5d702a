//! Shared by the commands that work on hosts: load the inventory, select hosts by pattern and
//! `--limit`, resolve their connection targets and run one command on each, through a pool of
//! this process or, with `--persist`, through the connection multiplexer.

use crate::args::ConnectArgs;
use crate::diagnostic::{CliError, exit};
use hoist_core::adhoc::{self, HostResult};
use hoist_core::inventory::Inventory;
use hoist_core::mux;
use hoist_core::ssh::{ConnectContext, ExecOutput, KeyCache, Pool, SshConfig};
use std::sync::Arc;

/// Loads the inventory and returns the hosts matching `pattern` (and `--limit`).
pub fn hosts(args: &ConnectArgs, pattern: &str) -> Result<(Inventory, Vec<String>), CliError> {
    let inv = args.inventory.load(false)?;
    let mut hosts = inv.select(pattern)?;
    if let Some(limit) = &args.limit {
        let allowed = inv.select(limit)?;
        hosts.retain(|h| allowed.contains(h));
    }
    if hosts.is_empty() {
        return Err(CliError::NoHosts(pattern.to_string()));
    }
    Ok((inv, hosts))
}

/// Runs `command` on every host matching `pattern`, `--forks` at a time.
pub async fn run_command(
    args: &ConnectArgs,
    pattern: &str,
    command: &str,
) -> Result<Vec<HostResult<ExecOutput>>, CliError> {
    let (inv, hosts) = hosts(args, pattern)?;
    let ssh_path = args.ssh_config_path();
    let ssh = SshConfig::load(&ssh_path)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", ssh_path.display())))?;
    let opts = args.connect_options();
    let targets = adhoc::targets(&inv, &hosts, &ssh, &opts);
    if args.persist > 0 {
        return through_mux(args.persist, ssh, opts, targets, args.forks, command).await;
    }
    let pool = Arc::new(Pool::new(ConnectContext {
        ssh,
        opts,
        keys: KeyCache::default(),
    }));
    let command = command.to_string();
    let results = adhoc::run_each(pool.clone(), targets, args.forks, move |conn| {
        let command = command.clone();
        async move { conn.exec(&command, None).await }
    })
    .await;
    pool.close_all().await;
    Ok(results)
}

async fn through_mux(
    persist: u64,
    ssh: SshConfig,
    opts: hoist_core::ssh::ConnectOptions,
    targets: Vec<hoist_core::ssh::Target>,
    forks: usize,
    command: &str,
) -> Result<Vec<HostResult<ExecOutput>>, CliError> {
    let socket = mux::default_socket();
    let req = mux::Request::Run {
        ssh,
        opts: Box::new(opts),
        targets,
        forks,
        command: command.to_string(),
    };
    let reply = mux::request(&socket, &req, || super::mux::spawn(&socket, persist))
        .await
        .map_err(|e| CliError::Other(format!("connection multiplexer: {e}")))?;
    match reply {
        mux::Response::Results(r) => Ok(r.into_iter().map(HostResult::from).collect()),
        mux::Response::Error(e) => Err(CliError::Other(format!("connection multiplexer: {e}"))),
        mux::Response::Stopped | mux::Response::Exec(_) => Err(CliError::Other(
            "connection multiplexer: unexpected reply".into(),
        )),
    }
}

/// The exit code for a set of results: 4 if any host was unreachable, else 2 if any failed.
pub fn exit_code<T>(results: &[HostResult<T>], failed: impl Fn(&T) -> bool) -> u8 {
    let unreachable = results
        .iter()
        .any(|r| r.outcome.as_ref().is_err_and(|e| e.is_unreachable()));
    let any_failed = results.iter().any(|r| match &r.outcome {
        Ok(v) => failed(v),
        Err(_) => true,
    });
    if unreachable {
        exit::UNREACHABLE
    } else if any_failed {
        exit::FAILED
    } else {
        exit::OK
    }
}
