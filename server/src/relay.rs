//! Follows a run executing on another instance for this instance's viewers: one task per run
//! reads the new events from the database each time the run changes (`AppState::changes`) and
//! broadcasts them on the run's live channel, as the executing instance does for its own
//! viewers; so any number of viewers here cost one query per change, not one each. The task
//! ends with the run (sending the same final `end` as the executor) or when its last viewer
//! has gone.

use crate::state::{Shared, wait_change};
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast;

/// A live view of run `id`, executing on another instance, for a viewer who has read its
/// history up to `after`. The viewer reads the history again after subscribing, so nothing
/// falls between (and drops what it already has by sequence number).
pub fn follow(st: &Shared, id: i64, after: i64) -> broadcast::Receiver<(i64, String)> {
    let mut live = st.live.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = live.get(&id) {
        return tx.subscribe();
    }
    let tx = broadcast::channel(1024).0;
    let rx = tx.subscribe();
    live.insert(id, tx.clone());
    tokio::spawn(relay(st.clone(), id, tx, after));
    rx
}

async fn relay(st: Shared, id: i64, tx: broadcast::Sender<(i64, String)>, mut last: i64) {
    const BATCH: i64 = 500;
    // Subscribed before the first read, so no change falls between a read and the wait.
    let mut changes = st.changes.subscribe();
    loop {
        let batch = st.store.events(id, last, BATCH).await.unwrap_or_default();
        let full = batch.len() as i64 == BATCH;
        for (seq, e) in batch {
            let _ = tx.send((seq, e.to_string()));
            last = seq;
        }
        if full {
            continue;
        }
        // (A failed read is tried again at the next change.)
        let ended = st
            .store
            .run(id)
            .await
            .ok()
            .map(|r| r.status)
            .filter(|s| s.is_final());
        {
            let mut live = st.live.lock().unwrap_or_else(|p| p.into_inner());
            if ended.is_some() || tx.receiver_count() == 0 {
                if let Some(status) = ended {
                    // Whatever was stored after the last read is in the viewers' catch-up.
                    let _ = tx.send((
                        i64::MAX,
                        json!({"event": "end", "status": status.as_str()}).to_string(),
                    ));
                }
                if live.get(&id).is_some_and(|t| t.same_channel(&tx)) {
                    live.remove(&id);
                }
                return;
            }
        }
        wait_change(&mut changes, id, Duration::from_secs(1)).await;
    }
}
