//! One read-modify-write at a time per file and host within this process: lineinfile,
//! blockinfile and replace run from many hosts delegating to one (or from two tasks of a
//! block) take turns on the same path instead of racing. Across processes the write itself
//! checks that the file is still what was read (see `Expect` in the write script).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Locks = Mutex<HashMap<String, Weak<AsyncMutex<()>>>>;

static LOCKS: LazyLock<Locks> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Waits for the turn on `path` of `host`; the turn ends when the guard is dropped.
pub async fn lock(host: &str, path: &str) -> OwnedMutexGuard<()> {
    let key = format!("{host}\0{path}");
    let lock = {
        let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = locks.get(&key).and_then(Weak::upgrade) {
            l
        } else {
            // Forget the paths nobody holds any more before adding one.
            locks.retain(|_, w| w.strong_count() > 0);
            let l = Arc::new(AsyncMutex::new(()));
            locks.insert(key, Arc::downgrade(&l));
            l
        }
    };
    lock.lock_owned().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_turn_per_path_and_host() {
        let a = lock("h1", "/etc/x").await;
        // Another path, or the same path on another host, is not held up.
        let _b = lock("h1", "/etc/y").await;
        let _c = lock("h2", "/etc/x").await;
        let waiting = tokio::spawn(async { lock("h1", "/etc/x").await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "the second writer waits for the first"
        );
        drop(a);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the turn passes once the first writer is done")
            .unwrap();
    }
}
