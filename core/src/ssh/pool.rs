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

    /// The connection to `target`, connecting once; a failed connect is remembered for the run.
    pub async fn get(&self, target: &Target) -> Result<Arc<Connection>, SshError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(target.name.clone()).or_default().clone()
        };
        slot.get_or_init(|| async { Connection::connect(target, &self.ctx).await })
            .await
            .clone()
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
