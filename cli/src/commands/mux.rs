//! `hoist mux serve|stop`: the background connection multiplexer behind `--persist`.

use crate::diagnostic::CliError;
use clap::{Args, Subcommand};
use hoist_core::mux;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct MuxArgs {
    #[command(subcommand)]
    pub action: MuxAction,
}

#[derive(Debug, Subcommand)]
pub enum MuxAction {
    /// Run the multiplexer in the foreground (hoist starts it by itself with --persist)
    Serve {
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Exit after this many seconds without requests
        #[arg(long, default_value_t = 60)]
        persist: u64,
    },
    /// Close the multiplexer's connections and stop it
    Stop {
        #[arg(long)]
        socket: Option<PathBuf>,
    },
}

pub async fn run(args: MuxArgs) -> Result<u8, CliError> {
    match args.action {
        MuxAction::Serve { socket, persist } => {
            let socket = socket.unwrap_or_else(mux::default_socket);
            mux::serve(&socket, Duration::from_secs(persist))
                .await
                .map_err(|e| {
                    CliError::Other(format!("multiplexer on {}: {e}", socket.display()))
                })?;
        }
        MuxAction::Stop { socket } => {
            let socket = socket.unwrap_or_else(mux::default_socket);
            if tokio::net::UnixStream::connect(&socket).await.is_err() {
                eprintln!("no multiplexer is running on {}", socket.display());
                return Ok(0);
            }
            mux::request(&socket, &mux::Request::Stop, || Ok(()))
                .await
                .map_err(|e| CliError::Other(format!("multiplexer: {e}")))?;
            eprintln!("multiplexer stopped");
        }
    }
    Ok(0)
}

/// Starts `hoist mux serve` detached (own session, no terminal, no inherited output), once per
/// process: concurrent callers then wait for the socket (the server itself refuses to start
/// twice for one socket).
pub fn spawn(socket: &Path, persist: u64) -> std::io::Result<()> {
    static SPAWNED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut spawned = SPAWNED.lock().unwrap_or_else(|p| p.into_inner());
    if *spawned {
        return Ok(());
    }
    *spawned = true;
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .args([
            "mux",
            "serve",
            "--persist",
            &persist.to_string(),
            "--socket",
        ])
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_| ())
}
