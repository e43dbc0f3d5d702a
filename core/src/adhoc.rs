//! Running work on many hosts in parallel: at most `forks` hosts at once, one pooled connection
//! each, results in inventory order. A host that cannot be reached is reported, not fatal.

use crate::inventory::Inventory;
use crate::ssh::{ConnectOptions, Connection, Pool, SshConfig, SshError, Target};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What happened on one host.
#[derive(Debug)]
pub struct HostResult<T> {
    pub host: String,
    pub outcome: Result<T, SshError>,
    pub elapsed: Duration,
}

/// Resolves connection targets for `hosts` of `inv`.
pub fn targets(
    inv: &Inventory,
    hosts: &[String],
    ssh: &SshConfig,
    opts: &ConnectOptions,
) -> Vec<Target> {
    hosts
        .iter()
        .map(|h| {
            let vars = inv.host_vars(h).unwrap_or_default();
            Target::resolve(h, &vars, ssh, opts)
        })
        .collect()
}

/// Connects to every target and runs `work` on its connection, `forks` hosts at a time.
pub async fn run_each<T, F, Fut>(
    pool: Arc<Pool>,
    targets: Vec<Target>,
    forks: usize,
    work: F,
) -> Vec<HostResult<T>>
where
    T: Send + 'static,
    F: Fn(Arc<Connection>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, SshError>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(forks.max(1)));
    let work = Arc::new(work);
    let mut set = tokio::task::JoinSet::new();
    for (i, target) in targets.into_iter().enumerate() {
        let (pool, limit, work) = (pool.clone(), limit.clone(), work.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let start = Instant::now();
            let outcome = match pool.get(&target).await {
                Ok(conn) => work(conn).await,
                Err(e) => Err(e),
            };
            (
                i,
                HostResult {
                    host: target.name.clone(),
                    outcome,
                    elapsed: start.elapsed(),
                },
            )
        });
    }
    let mut results: Vec<(usize, HostResult<T>)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
