//! One pooled connection per host: the first user connects, everyone else shares it.

use super::connection::{ConnectContext, Connection};
use super::error::SshError;
use super::target::Target;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Slot = Arc<OnceCell<Result<Arc<Connection>, SshError>>>;

/// Connections by inventory host name, opened on first use and kept for the run.
pub struct Pool {
    ctx: Arc<ConnectContext>,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Pool {
    pub fn new(ctx: ConnectContext) -> Pool {
        Pool {
            ctx: Arc::new(ctx),
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn context(&self) -> &ConnectContext {
        &self.ctx
    }

    /// The connection to `target`: shared while it is open; connected anew when the previous
    /// attempt failed or the connection has since closed. Concurrent callers share one attempt.
    pub async fn get(&self, target: &Target) -> Result<Arc<Connection>, SshError> {
        // Same host, same settings: same connection (a host may be reached two ways).
        let key = serde_json::to_string(target).unwrap_or_else(|_| target.name.clone());
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let slot = slots.entry(key.clone()).or_default().clone();
            let stale = match slot.get() {
                Some(Ok(c)) => c.is_closed(),
                Some(Err(_)) => true,
                None => false,
            };
            if stale {
                let fresh = Slot::default();
                slots.insert(key, fresh.clone());
                fresh
            } else {
                slot
            }
        };
        slot.get_or_init(|| async { Connection::connect(target, &self.ctx).await })
            .await
            .clone()
    }

    /// Drops the connection to `target` (closing it), so the next `get` connects anew: for
    /// a host that went away (a reboot) whose connection may only look open.
    pub async fn forget(&self, target: &Target) {
        let key = serde_json::to_string(target).unwrap_or_else(|_| target.name.clone());
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        if let Some(Ok(c)) = slot.as_ref().and_then(|s| s.get()) {
            c.close().await;
        }
    }

    /// Closes every open connection.
    pub async fn close_all(&self) {
        let slots: Vec<Slot> = {
            let mut s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            s.drain().map(|(_, v)| v).collect()
        };
        for slot in slots {
            if let Some(Ok(c)) = slot.get() {
                c.close().await;
            }
        }
    }
}
