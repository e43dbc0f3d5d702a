//! Wake-ups across instances on PostgreSQL: one connection per instance LISTENs on
//! `hoist_runs`, which migration 4's triggers notify with a run's id whenever its status, its
//! cancel flag or its events change (and with `0` when the queue gains a run); each
//! notification is passed on through a broadcast channel. A lost connection is made again, and
//! `0` is sent after every (re)connection, since anything may have changed meanwhile.

use super::postgres::chain;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The channel the triggers notify.
pub const CHANNEL: &str = "hoist_runs";

/// Aborts the listener when the last handle of the store is dropped.
pub struct Listener(tokio::task::AbortHandle);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts listening; notifications go to `tx`.
pub fn spawn(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tx: broadcast::Sender<i64>,
) -> Listener {
    let task = tokio::spawn(async move {
        let mut failing = false;
        loop {
            let (connected, why) = session(&config, tls.clone(), &tx).await;
            // Said once when the connection is lost, not every second while it stays lost.
            if connected || !failing {
                eprintln!(
                    "hoist serve: listening for other instances' changes: {why}; trying again every second"
                );
            }
            failing = !connected;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Listener(task.abort_handle())
}

/// One listening connection, until it fails; returns (whether it was listening, why it ended).
async fn session(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tx: &broadcast::Sender<i64>,
) -> (bool, String) {
    let (client, mut connection) = match config.connect(tls).await {
        Ok(c) => c,
        Err(e) => return (false, chain(&e)),
    };
    let forward = tx.clone();
    let driver = async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Ok(id) = n.payload().parse::<i64>() {
                        let _ = forward.send(id);
                    }
                }
                Ok(_) => {}
                Err(e) => return chain(&e),
            }
        }
        "the server closed the connection".to_string()
    };
    tokio::pin!(driver);
    // The connection must be driven for LISTEN to complete.
    let listen = format!("LISTEN {CHANNEL}");
    tokio::select! {
        r = client.batch_execute(&listen) => {
            if let Err(e) = r {
                return (false, chain(&e));
            }
        }
        why = &mut driver => return (false, why),
    }
    let _ = tx.send(0);
    let why = driver.await;
    drop(client);
    (true, why)
}
