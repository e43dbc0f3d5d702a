//! `hoist serve`: the control plane — HTTP API and web UI over the embedded SQLite database
//! (or a shared PostgreSQL one), with the executor running queued playbook runs in this
//! process.

use crate::diagnostic::CliError;
use clap::Args;
use hoist_server::git::GitProject;
use hoist_server::state::{AppState, ConnectDefaults, Project, Source};
use hoist_server::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8700", env = "HOIST_LISTEN")]
    pub listen: String,
    /// The database: a SQLite file (default ~/.local/share/hoist/server.db), or a
    /// postgres://user:password@host/db URL shared by several instances
    #[arg(long, env = "HOIST_DB")]
    pub db: Option<String>,
    /// A project to serve: NAME=DIR, or NAME=git+URL[#BRANCH|TAG|COMMIT] for a git
    /// repository (repeatable)
    #[arg(long = "project", required = true)]
    pub projects: Vec<String>,
    /// A project whose API-supplied extra vars (runs, CI hooks, schedules) may hold templates
    /// (repeatable). Without it they are data and never rendered: a caller who may start runs
    /// cannot run code on this server through `{{ lookup('pipe', ...) }}`
    #[arg(long = "templated-extra-vars", value_name = "PROJECT")]
    pub templated_extra_vars: Vec<String>,
    /// Where git projects are fetched and checked out (default: beside a SQLite database, else
    /// ~/.local/share/hoist/projects)
    #[arg(long)]
    pub checkouts: Option<PathBuf>,
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
    /// Serve HTTPS with this certificate (PEM; with --tls-key)
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM)
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate made on first start and kept beside the database
    #[arg(long, conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,
    /// Seconds without a heartbeat after which another instance's running run counts as lost
    #[arg(long, default_value_t = hoist_server::exec::STALE_SECS)]
    pub stale_secs: i64,
    /// Times a run is tried in all when the instance running it dies (1: never again)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i64).range(1..=10))]
    pub max_attempts: i64,
    /// Runs this instance executes at once (more wait in the queue); 0: this instance executes
    /// none (API, web UI and schedules only; other instances sharing the database run them)
    #[arg(long, default_value_t = 4)]
    pub max_runs: usize,
    /// Connections open at once; more are closed at once
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
}

/// A request's headers must arrive within `HEADER_TIMEOUT` (hyper needs a timer for that).
fn limit_headers(b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    b.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(hoist_server::listen::HEADER_TIMEOUT);
}

fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("hoist")
}

/// Where this server keeps files of its own (certificate, checkouts): beside a SQLite
/// database, else the data directory.
fn state_dir(store: &Store, db: &str) -> PathBuf {
    match store {
        Store::Sqlite(_) => std::path::Path::new(db)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        Store::Postgres(_) => data_dir(),
    }
}

/// The database as shown in messages: a URL without its password.
fn shown(db: &str) -> String {
    match db.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((cred, host)) => {
                let user = cred.split(':').next().unwrap_or("");
                format!("{scheme}://{user}@{host}")
            }
            None => db.to_string(),
        },
        None => db.to_string(),
    }
}

/// `Exists` (another instance made it first) is success here.
fn tolerate_exists<T>(r: Result<T, StoreError>) -> Result<Option<T>, CliError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Exists(_)) => Ok(None),
        Err(e) => Err(CliError::Other(e.to_string())),
    }
}

pub async fn run(args: ServeArgs) -> Result<u8, CliError> {
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| data_dir().join("server.db").display().to_string());
    if let Some(w) = hoist_server::store::tls_warning(&db) {
        eprintln!("hoist serve: warning: {w}");
    }
    let store = Store::open(&db)
        .await
        .map_err(|e| CliError::Other(format!("{}: {e}", shown(&db))))?;
    if args.max_runs == 0 && store.kind() == "sqlite" {
        return Err(CliError::Other(
            "--max-runs 0: runs would wait forever, since no other instance shares a SQLite \
             database; use --db postgres://… with instances that run them"
                .into(),
        ));
    }
    if store
        .users()
        .await
        .map_err(|e| CliError::Other(e.to_string()))?
        .is_empty()
    {
        let pw = std::env::var("HOIST_ADMIN_PASSWORD").map_err(|_| {
            CliError::Other(format!(
                "{} has no users yet: set HOIST_ADMIN_PASSWORD for the first start (it creates the user `admin`)",
                shown(&db)
            ))
        })?;
        let made = tolerate_exists(
            store
                .create_user("admin", Some(&pw), hoist_server::model::Role::Admin)
                .await,
        )?;
        if made.is_some() {
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
    }
    let known = store
        .projects()
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let checkouts = args
        .checkouts
        .clone()
        .unwrap_or_else(|| state_dir(&store, &db).join("projects"));
    let mut projects = Vec::new();
    for spec in &args.projects {
        let (name, target) = spec.split_once('=').ok_or_else(|| {
            CliError::Other(format!(
                "--project {spec}: expected NAME=DIR or NAME=git+URL[#REF]"
            ))
        })?;
        let (source, recorded) = match hoist_server::git::parse(target) {
            Some((url, reference)) => std::fs::create_dir_all(&checkouts)
                .and_then(|()| std::fs::canonicalize(&checkouts))
                .map_err(|e| CliError::Other(format!("{}: {e}", checkouts.display())))
                .map(|dir| {
                    let g = Arc::new(GitProject::new(url.clone(), reference, dir.join(name)));
                    (Source::Git(g), url)
                })?,
            None => {
                let root = std::fs::canonicalize(target)
                    .map_err(|e| CliError::Other(format!("--project {spec}: {target}: {e}")))?;
                let shown = root.display().to_string();
                (Source::Dir(root), shown)
            }
        };
        if let Source::Git(g) = &source {
            let (commit, _) = g
                .sync()
                .await
                .map_err(|e| CliError::Other(format!("--project {spec}: {e}")))?;
            eprintln!("hoist serve: project {name} at {commit} ({})", g.url);
        }
        let id = match known.iter().find(|p| p.name == name) {
            Some(p) => p.id,
            None => match tolerate_exists(store.create_project(name, &recorded).await)? {
                Some(p) => p.id,
                // Another instance starting at the same time registered it.
                None => store
                    .projects()
                    .await
                    .map_err(|e| CliError::Other(e.to_string()))?
                    .into_iter()
                    .find(|p| p.name == name)
                    .map(|p| p.id)
                    .ok_or_else(|| CliError::Other(format!("project `{name}` vanished")))?,
            },
        };
        projects.push(Project {
            id,
            name: name.to_string(),
            source,
            templated_extra_vars: args.templated_extra_vars.iter().any(|p| p == name),
        });
    }
    if let Some(unknown) = args
        .templated_extra_vars
        .iter()
        .find(|t| !projects.iter().any(|p| &p.name == *t))
    {
        return Err(CliError::Other(format!(
            "--templated-extra-vars {unknown}: no such project (give its --project NAME)"
        )));
    }
    let instance = args.instance.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let changes = hoist_server::state::changes(&store);
    let state = Arc::new(AppState {
        changes,
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
        max_attempts: args.max_attempts,
        max_runs: args.max_runs,
        logins: Default::default(),
    });
    let tls = match (&args.tls_cert, &args.tls_key, args.tls_self_signed) {
        (Some(cert), Some(key), _) => Some(hoist_server::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (_, _, true) => {
            let dir = state_dir(&state.store, &db);
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            Some(
                hoist_server::tls::self_signed(&dir, &[host.trim().to_string()])
                    .map_err(CliError::Other)?,
            )
        }
        _ => None,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = hoist_server::api::router(state.clone());
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    let worker = tokio::spawn(hoist_server::exec::worker(state.clone(), stop_rx));
    let addr: std::net::SocketAddr = tokio::net::lookup_host(&args.listen)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| CliError::Other(format!("--listen {}: not an address", args.listen)))?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Connections are capped and TCP_NODELAY (small writes such as server-sent events go out at
    // once, not after the peer's delayed ACK); a request's headers must arrive within
    // HEADER_TIMEOUT.
    let max = args.max_connections;
    let serving = match &tls {
        Some(files) => {
            let config = hoist_server::tls::config(files)
                .await
                .map_err(CliError::Other)?;
            let mut server = axum_server::bind(addr)
                .acceptor(hoist_server::listen::Capped::new(
                    axum_server::tls_rustls::RustlsAcceptor::new(config),
                    max,
                ))
                .handle(handle.clone());
            limit_headers(server.http_builder());
            tokio::spawn(server.serve(app))
        }
        None => {
            let mut server = axum_server::bind(addr)
                .acceptor(hoist_server::listen::Capped::new(
                    axum_server::accept::DefaultAcceptor::new(),
                    max,
                ))
                .handle(handle.clone());
            limit_headers(server.http_builder());
            tokio::spawn(server.serve(app))
        }
    };
    let bound = handle
        .listening()
        .await
        .map(|a| a.to_string())
        .unwrap_or_else(|| args.listen.clone());
    match &tls {
        Some(files) => eprintln!(
            "hoist serve: listening on https://{bound} (certificate {}, database {} {}, instance {})",
            files.cert.display(),
            state.store.kind(),
            shown(&db),
            state.instance
        ),
        None => eprintln!(
            "hoist serve: listening on http://{bound} (database {} {}, instance {})",
            state.store.kind(),
            shown(&db),
            state.instance
        ),
    }
    serving
        .await
        .map_err(|e| CliError::Other(format!("server: {e}")))?
        .map_err(|e| CliError::Other(format!("cannot serve on {}: {e}", args.listen)))?;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    Ok(0)
}
