//! `hoist serve`: the control plane — HTTP API over the embedded SQLite database, with the
//! executor running queued playbook runs in this process.

use crate::diagnostic::CliError;
use clap::Args;
use hoist_server::state::{AppState, ConnectDefaults, ProjectDir};
use hoist_server::store::Sqlite;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8700", env = "HOIST_LISTEN")]
    pub listen: String,
    /// The database file (SQLite)
    #[arg(long, env = "HOIST_DB")]
    pub db: Option<PathBuf>,
    /// A project to serve: NAME=DIR (repeatable)
    #[arg(long = "project", required = true)]
    pub projects: Vec<String>,
    /// This instance's name in the run history (default: host name and process id)
    #[arg(long)]
    pub instance: Option<String>,
    /// known_hosts for runs (repeatable; default ~/.ssh/known_hosts)
    #[arg(long = "known-hosts")]
    pub known_hosts: Vec<PathBuf>,
    /// Private key for runs (repeatable)
    #[arg(long = "private-key")]
    pub private_keys: Vec<PathBuf>,
    /// Hosts worked on at once per run
    #[arg(short = 'f', long, default_value_t = 50)]
    pub forks: usize,
    /// Largest request body accepted, bytes
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Seconds without a heartbeat after which another instance's running run counts as lost
    #[arg(long, default_value_t = hoist_server::exec::STALE_SECS)]
    pub stale_secs: i64,
}

fn default_db() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("hoist/server.db")
}

pub async fn run(args: ServeArgs) -> Result<u8, CliError> {
    let db = args.db.clone().unwrap_or_else(default_db);
    let store = Sqlite::open(&db)
        .await
        .map_err(|e| CliError::Other(format!("{}: {e}", db.display())))?;
    if store
        .users()
        .await
        .map_err(|e| CliError::Other(e.to_string()))?
        .is_empty()
    {
        let pw = std::env::var("HOIST_ADMIN_PASSWORD").map_err(|_| {
            CliError::Other(format!(
                "{} has no users yet: set HOIST_ADMIN_PASSWORD for the first start (it creates the user `admin`)",
                db.display()
            ))
        })?;
        store
            .create_user("admin", Some(&pw), hoist_server::model::Role::Admin)
            .await
            .map_err(|e| CliError::Other(e.to_string()))?;
        store
            .audit(
                "hoist serve",
                "user.create",
                "admin",
                serde_json::json!({"role": "admin", "bootstrap": true}),
            )
            .await
            .map_err(|e| CliError::Other(e.to_string()))?;
    }
    let known = store
        .projects()
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let mut projects = Vec::new();
    for spec in &args.projects {
        let (name, dir) = spec
            .split_once('=')
            .ok_or_else(|| CliError::Other(format!("--project {spec}: expected NAME=DIR")))?;
        let root = std::fs::canonicalize(dir)
            .map_err(|e| CliError::Other(format!("--project {spec}: {dir}: {e}")))?;
        let id = match known.iter().find(|p| p.name == name) {
            Some(p) => p.id,
            None => {
                store
                    .create_project(name, &root.display().to_string())
                    .await
                    .map_err(|e| CliError::Other(e.to_string()))?
                    .id
            }
        };
        projects.push(ProjectDir {
            id,
            name: name.to_string(),
            root,
        });
    }
    let instance = args.instance.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let state = Arc::new(AppState {
        store,
        projects,
        instance,
        connect: ConnectDefaults {
            known_hosts: args.known_hosts.clone(),
            private_keys: args.private_keys.clone(),
            forks: args.forks,
        },
        live: Default::default(),
        max_body: args.max_body,
        stale_secs: args.stale_secs.max(3),
    });
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::Other(format!("cannot listen on {}: {e}", args.listen)))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(hoist_server::exec::worker(state.clone(), stop_rx));
    eprintln!(
        "hoist serve: listening on http://{} (database {}, instance {})",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        db.display(),
        state.instance
    );
    let app = hoist_server::api::router(state.clone());
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| CliError::Other(format!("server: {e}")))?;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    Ok(0)
}
