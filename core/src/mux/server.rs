//! The multiplexer process: accepts requests on a Unix socket, keeps one pool of connections
//! per (ssh config, options) and exits after `persist` without requests.

use super::protocol::{ExecRequest, HostReply, Request, Response};
use crate::adhoc;
use crate::ssh::{ConnectContext, KeyCache, Pool};
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// Largest request accepted (targets and command), to bound memory.
const MAX_REQUEST: u64 = 16 << 20;

struct State {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    last_used: Mutex<Instant>,
    busy: std::sync::atomic::AtomicUsize,
    stop: tokio::sync::Notify,
}

/// Serves on `socket` until idle for `persist` (or told to stop), then closes every connection.
pub async fn serve(socket: &Path, persist: Duration) -> std::io::Result<()> {
    // The directory must be ours and private (made 0700 when missing); a socket placed in a
    // shared sticky directory on purpose is guarded by the peer checks alone.
    super::private_dir::ensure(socket, super::client::explicit_socket(socket))
        .map_err(std::io::Error::other)?;
    // One server per socket: the lock is held for the server's life; a second one exits.
    let mut lock_path = socket.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    if lock.try_lock().is_err() {
        return Ok(());
    }
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    let state = Arc::new(State {
        pools: Mutex::new(HashMap::new()),
        last_used: Mutex::new(Instant::now()),
        busy: Default::default(),
        stop: tokio::sync::Notify::new(),
    });
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    // Only this user's processes may use our connections.
                    if super::private_dir::check_peer(&stream).is_err() {
                        continue;
                    }
                    let st = state.clone();
                    st.busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        let _ = handle(&st, stream).await;
                        *st.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                        st.busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    });
                }
            }
            _ = state.stop.notified() => break,
            _ = tick.tick() => {
                let idle = state.last_used.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
                if state.busy.load(std::sync::atomic::Ordering::SeqCst) == 0 && idle > persist {
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_file(socket);
    let _ = std::fs::remove_file(&lock_path);
    drop(lock);
    let pools: Vec<Arc<Pool>> = state
        .pools
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain()
        .map(|(_, p)| p)
        .collect();
    for p in pools {
        p.close_all().await;
    }
    Ok(())
}

/// The pool for one (ssh config, options) pair, created on first use.
fn pool_for(
    state: &State,
    ssh: crate::ssh::SshConfig,
    opts: crate::ssh::ConnectOptions,
) -> Arc<Pool> {
    let key = serde_json::to_string(&(&ssh, &opts)).unwrap_or_default();
    let mut pools = state.pools.lock().unwrap_or_else(|p| p.into_inner());
    pools
        .entry(key)
        .or_insert_with(|| {
            // The key passphrase never crosses the socket: the multiplexer reads it from its own
            // environment (inherited from the hoist that started it) or the secret store.
            let mut opts = opts;
            opts.key_passphrase = std::env::var("HOIST_SSH_KEY_PASSPHRASE").ok();
            Arc::new(Pool::new(ConnectContext {
                ssh,
                opts,
                keys: KeyCache::default(),
            }))
        })
        .clone()
}

async fn handle(state: &State, stream: UnixStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(read, MAX_REQUEST));
    reader.read_line(&mut line).await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Err(e) => Response::Error(format!("malformed request: {e}")),
        Ok(Request::Stop) => Response::Stopped,
        Ok(Request::Exec(req)) => {
            let start = Instant::now();
            let ExecRequest {
                ssh,
                opts,
                target,
                command,
                stdin,
                become_,
            } = *req;
            let pool = pool_for(state, ssh, opts);
            let outcome = match pool.get(&target).await {
                Ok(conn) => {
                    conn.exec_as(&command, stdin.as_deref(), become_.as_ref())
                        .await
                }
                Err(e) => Err(e),
            };
            Response::Exec(HostReply::from(adhoc::HostResult {
                host: target.name.clone(),
                outcome,
                elapsed: start.elapsed(),
            }))
        }
        Ok(Request::Run {
            ssh,
            opts,
            targets,
            forks,
            command,
        }) => {
            let pool = pool_for(state, ssh, *opts);
            let results = adhoc::run_each(pool, targets, forks, move |conn| {
                let command = command.clone();
                async move { conn.exec(&command, None).await }
            })
            .await;
            Response::Results(results.into_iter().map(HostReply::from).collect())
        }
    };
    let mut out = serde_json::to_vec(&response).map_err(std::io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await?;
    // Stop only once the client has its answer.
    if matches!(response, Response::Stopped) {
        state.stop.notify_one();
    }
    Ok(())
}
