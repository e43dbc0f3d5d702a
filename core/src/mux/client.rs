//! The client side: send a request, starting the multiplexer first when none answers.

use super::protocol::{Request, Response};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// `$HOIST_MUX_SOCKET`, else `$XDG_RUNTIME_DIR/hoist/mux.sock`, else `/tmp/hoist-<uid>/mux.sock`.
pub fn default_socket() -> PathBuf {
    if let Some(s) = std::env::var_os("HOIST_MUX_SOCKET") {
        return PathBuf::from(s);
    }
    standard_socket()
}

/// hoist's own place for the socket (not one given with `HOIST_MUX_SOCKET` or `--socket`).
fn standard_socket() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) => PathBuf::from(d).join("hoist/mux.sock"),
        None => {
            let uid = crate::sys::effective_uid().unwrap_or(0);
            PathBuf::from(format!("/tmp/hoist-{uid}/mux.sock"))
        }
    }
}

/// True when the socket's place was chosen by the user, not hoist's standard one: only then may
/// its directory be a shared sticky one such as /tmp.
pub(super) fn explicit_socket(socket: &Path) -> bool {
    socket != standard_socket()
}

/// Sends `req` to the multiplexer on `socket`; when none answers, calls `spawn` to start one
/// and waits up to 5 s for its socket. The socket's directory and the server's user are checked
/// first: a multiplexer someone else planted is refused, never sent a request.
pub async fn request(
    socket: &Path,
    req: &Request,
    spawn: impl FnOnce() -> std::io::Result<()>,
) -> std::io::Result<Response> {
    super::private_dir::ensure(socket, explicit_socket(socket)).map_err(std::io::Error::other)?;
    let mut stream = match UnixStream::connect(socket).await {
        Ok(s) => s,
        Err(_) => {
            spawn()?;
            let mut waited = Duration::ZERO;
            loop {
                match UnixStream::connect(socket).await {
                    Ok(s) => break s,
                    Err(e) if waited >= Duration::from_secs(5) => {
                        return Err(std::io::Error::other(format!(
                            "the connection multiplexer did not start on {}: {e}",
                            socket.display()
                        )));
                    }
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        waited += Duration::from_millis(10);
                    }
                }
            }
        }
    };
    super::private_dir::check_peer(&stream).map_err(std::io::Error::other)?;
    let mut body = serde_json::to_vec(req).map_err(std::io::Error::other)?;
    body.push(b'\n');
    stream.write_all(&body).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    serde_json::from_slice(&reply)
        .map_err(|e| std::io::Error::other(format!("bad reply from the multiplexer: {e}")))
}
