//! Shared by the commands that work on hosts: load the inventory, select hosts by pattern and
//! `--limit`, resolve their connection targets and run work on them through one pool.

use crate::args::ConnectArgs;
use crate::diagnostic::{CliError, exit};
use hoist_core::adhoc::{self, HostResult};
use hoist_core::inventory::Inventory;
use hoist_core::ssh::{ConnectContext, Connection, KeyCache, Pool, SshConfig, SshError};
use std::future::Future;
use std::sync::Arc;

/// Loads the inventory and returns the hosts matching `pattern` (and `--limit`).
pub fn hosts(args: &ConnectArgs, pattern: &str) -> Result<(Inventory, Vec<String>), CliError> {
    let inv = Inventory::load(&args.inventory.inventory)?;
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

/// Runs `work` on every host matching `pattern`, `--forks` at a time.
pub async fn run_on<T, F, Fut>(
    args: &ConnectArgs,
    pattern: &str,
    work: F,
) -> Result<Vec<HostResult<T>>, CliError>
where
    T: Send + 'static,
    F: Fn(Arc<Connection>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, SshError>> + Send + 'static,
{
    let (inv, hosts) = hosts(args, pattern)?;
    let ssh_path = args.ssh_config_path();
    let ssh = SshConfig::load(&ssh_path)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", ssh_path.display())))?;
    let opts = args.connect_options();
    let targets = adhoc::targets(&inv, &hosts, &ssh, &opts);
    let pool = Arc::new(Pool::new(ConnectContext {
        ssh,
        opts,
        keys: KeyCache::default(),
    }));
    let results = adhoc::run_each(pool.clone(), targets, args.forks, work).await;
    pool.close_all().await;
    Ok(results)
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
