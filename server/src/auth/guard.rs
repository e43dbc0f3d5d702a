//! Login under abuse: password checks (argon2, 19 MiB each) run at most a few at a time, so a
//! flood of logins cannot grow memory without bound; failures are counted per user name and per
//! client address, and after too many the name or address is refused for a while (429 with the
//! time to wait) before any password is checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Password checks at once (each holds about 19 MiB for ~30 ms).
const CHECKS_AT_ONCE: usize = 2;
/// How long a login waits for a turn before it is told to come back.
const WAIT_FOR_TURN: Duration = Duration::from_secs(10);
/// Failures allowed per user name within [`WINDOW`] before a lockout.
pub const FAILURES: u32 = 5;
/// Failures allowed per client address (many people may share one) within [`WINDOW`].
pub const ADDR_FAILURES: u32 = 20;
/// The window failures are counted in, and the first lockout (doubling after each lockout, up to
/// [`MAX_LOCK`]).
const WINDOW: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most (the oldest go first), to bound memory under a spray of names.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    since: Instant,
    locked_until: Option<Instant>,
    lockouts: u32,
}

/// Why a login is refused before its password is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures: wait this long.
    Locked(Duration),
    /// The server is busy checking other passwords.
    Busy,
}

pub struct LoginGuard {
    checks: Semaphore,
    records: Mutex<HashMap<String, Record>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            checks: Semaphore::new(CHECKS_AT_ONCE),
            records: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginGuard {
    /// Refuses when any of `keys` (`name:<user>`, `addr:<ip>`) is locked out; else waits for a
    /// turn to check a password.
    pub async fn admit(&self, keys: &[String]) -> Result<SemaphorePermit<'_>, Refusal> {
        let now = Instant::now();
        {
            let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(wait) = keys
                .iter()
                .filter_map(|k| records.get(k)?.locked_until)
                .filter(|until| *until > now)
                .map(|until| until - now)
                .max()
            {
                return Err(Refusal::Locked(wait));
            }
        }
        match tokio::time::timeout(WAIT_FOR_TURN, self.checks.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Refusal::Busy),
        }
    }

    /// Records a failed password for `keys`; returns the lockout that starts now, if any.
    pub fn failed(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() >= MAX_KEYS {
            let stale: Vec<String> = records
                .iter()
                .filter(|(_, r)| r.locked_until.is_none_or(|u| u <= now))
                .map(|(k, _)| k.clone())
                .collect();
            for k in stale {
                records.remove(&k);
            }
        }
        let mut started = None;
        for k in keys {
            let r = records.entry(k.clone()).or_insert(Record {
                failures: 0,
                since: now,
                locked_until: None,
                lockouts: 0,
            });
            if now.duration_since(r.since) > WINDOW {
                r.failures = 0;
                r.since = now;
            }
            r.failures += 1;
            let limit = if k.starts_with("addr:") {
                ADDR_FAILURES
            } else {
                FAILURES
            };
            if r.failures >= limit {
                let lock = WINDOW.saturating_mul(1 << r.lockouts.min(8)).min(MAX_LOCK);
                r.locked_until = Some(now + lock);
                r.lockouts += 1;
                r.failures = 0;
                r.since = now;
                started = Some(started.map_or(lock, |s: Duration| s.max(lock)));
            }
        }
        started
    }

    /// A successful login clears its user name's failures (not the address's).
    pub fn succeeded(&self, name_key: &str) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_after_repeated_failures_and_bounds_checks() {
        let g = LoginGuard::default();
        let keys = vec!["name:alice".to_string(), "addr:10.0.0.1".to_string()];
        for _ in 0..FAILURES - 1 {
            assert!(g.admit(&keys).await.is_ok());
            assert_eq!(g.failed(&keys), None);
        }
        assert!(g.failed(&keys).is_some());
        assert!(matches!(g.admit(&keys).await, Err(Refusal::Locked(_))));
        // Another name from another address is not affected.
        assert!(
            g.admit(&["name:bob".into(), "addr:10.0.0.2".into()])
                .await
                .is_ok()
        );
        // At most CHECKS_AT_ONCE checks hold a turn.
        let a = g.admit(&["name:c".into()]).await.expect("turn");
        let b = g.admit(&["name:d".into()]).await.expect("turn");
        assert_eq!(g.checks.available_permits(), 0);
        drop((a, b));
        assert_eq!(g.checks.available_permits(), CHECKS_AT_ONCE);
    }
}
