//! What every request handler and the executor share: the store, the projects this server
//! serves, its instance name and the live event channels of running runs.

use crate::git::GitProject;
use crate::store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Where a project's playbooks and inventories come from.
#[derive(Debug)]
pub enum Source {
    /// A directory on this machine (canonical path).
    Dir(PathBuf),
    /// A git repository, checked out per commit.
    Git(Arc<GitProject>),
}

/// A project this server serves.
#[derive(Debug)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub source: Source,
    /// Extra vars sent by API callers may hold templates (`--templated-extra-vars`); off by
    /// default: they are data, never rendered.
    pub templated_extra_vars: bool,
}

/// A project as it is now (or at a given commit): the directory to read it from.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    pub id: i64,
    pub name: String,
    /// Canonical path.
    pub root: PathBuf,
    /// The commit, for a git project.
    pub revision: Option<String>,
    /// See [`Project::templated_extra_vars`].
    pub templated_extra_vars: bool,
}

impl Project {
    /// The project as it is now (a git project after its last sync).
    pub fn now(&self) -> Option<ProjectDir> {
        let (root, revision) = match &self.source {
            Source::Dir(d) => (d.clone(), None),
            Source::Git(g) => {
                let (commit, tree) = g.current()?;
                (tree, Some(commit))
            }
        };
        Some(ProjectDir {
            id: self.id,
            name: self.name.clone(),
            root,
            revision,
            templated_extra_vars: self.templated_extra_vars,
        })
    }
}

/// How the executor connects to hosts.
#[derive(Debug, Clone, Default)]
pub struct ConnectDefaults {
    pub known_hosts: Vec<PathBuf>,
    pub private_keys: Vec<PathBuf>,
    pub forks: usize,
}

pub struct AppState {
    pub store: Store,
    pub projects: Vec<Project>,
    pub instance: String,
    pub connect: ConnectDefaults,
    /// Live events of the runs this instance executes: (seq, JSON).
    pub live: Mutex<HashMap<i64, broadcast::Sender<(i64, String)>>>,
    /// Largest accepted request body.
    pub max_body: usize,
    /// Heartbeat age after which a running run counts as lost.
    pub stale_secs: i64,
    /// Times a run is tried in all when the instance running it dies.
    pub max_attempts: i64,
    /// Runs this instance executes at once.
    pub max_runs: usize,
    /// Run ids as they change, here or (PostgreSQL) on any instance; 0: the queue gained a run.
    pub changes: broadcast::Sender<i64>,
    /// Login throttling and the bound on password checks at once.
    pub logins: crate::auth::guard::LoginGuard,
}

/// The channel of run changes for `AppState::changes`: this instance's own, and on PostgreSQL
/// every instance's (forwarded from the store's listener).
pub fn changes(store: &Store) -> broadcast::Sender<i64> {
    let hub = broadcast::channel(4096).0;
    if let Some(mut rx) = store.changes() {
        let tx = hub.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(id) => {
                        let _ = tx.send(id);
                    }
                    // Some were missed: whoever waits checks again.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(0);
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
    hub
}

/// Waits until run `id` (0: the queue) changes, some change was missed, or `limit` passes.
pub async fn wait_change(rx: &mut broadcast::Receiver<i64>, id: i64, limit: std::time::Duration) {
    let _ = tokio::time::timeout(limit, async {
        loop {
            match rx.recv().await {
                Ok(changed) if changed != id => {}
                Err(broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await;
                }
                _ => return,
            }
        }
    })
    .await;
}

impl AppState {
    /// The project called `name`, as it is now.
    pub fn project(&self, name: &str) -> Option<ProjectDir> {
        self.projects.iter().find(|p| p.name == name)?.now()
    }

    /// Every project, as it is now.
    pub fn project_dirs(&self) -> Vec<ProjectDir> {
        self.projects.iter().filter_map(Project::now).collect()
    }

    /// Project `id` for a run: at `revision` when the run was started on a commit, else as it
    /// is after fetching the newest commit (a git project) or as it is (a directory).
    pub async fn project_for_run(
        &self,
        id: i64,
        revision: Option<&str>,
    ) -> Result<ProjectDir, String> {
        let p =
            self.projects.iter().find(|p| p.id == id).ok_or_else(|| {
                format!("project {id} is not served by instance {}", self.instance)
            })?;
        match (&p.source, revision) {
            (Source::Dir(_), _) => p.now().ok_or_else(|| "no project".to_string()),
            (Source::Git(g), Some(commit)) => Ok(ProjectDir {
                id,
                name: p.name.clone(),
                root: g.tree(commit).await?,
                revision: Some(commit.to_string()),
                templated_extra_vars: p.templated_extra_vars,
            }),
            (Source::Git(g), None) => {
                let (commit, root) = g.sync().await?;
                Ok(ProjectDir {
                    id,
                    name: p.name.clone(),
                    root,
                    revision: Some(commit),
                    templated_extra_vars: p.templated_extra_vars,
                })
            }
        }
    }

    /// A file inside a project: relative, no `..`, resolving inside the project after symlinks.
    pub fn resolve(&self, project: &ProjectDir, rel: &str) -> Result<PathBuf, String> {
        let p = Path::new(rel);
        if rel.is_empty()
            || p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!(
                "`{rel}`: expected a relative path inside the project, without `..`"
            ));
        }
        let full = project.root.join(p);
        let real = std::fs::canonicalize(&full)
            .map_err(|_| format!("`{rel}` does not exist in project `{}`", project.name))?;
        if !real.starts_with(&project.root) {
            return Err(format!("`{rel}` leads outside project `{}`", project.name));
        }
        if !real.is_file() {
            return Err(format!("`{rel}` is not a file"));
        }
        Ok(real)
    }

    /// A live view of run `id` if this instance is running it (runs elsewhere are followed
    /// through the database).
    pub fn subscribe(&self, id: i64) -> Option<broadcast::Receiver<(i64, String)>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .map(|tx| tx.subscribe())
    }

    /// The live channel of run `id`, which this instance is about to run (created on first use).
    pub fn channel(&self, id: i64) -> broadcast::Sender<(i64, String)> {
        let mut m = self.live.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(id)
            .or_insert_with(|| broadcast::channel(1024).0)
            .clone()
    }

    /// Tells this instance's waiters that run `id` changed (0: the queue gained a run).
    pub fn changed(&self, id: i64) {
        let _ = self.changes.send(id);
    }

    pub fn close_channel(&self, id: i64) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
}

pub type Shared = Arc<AppState>;
