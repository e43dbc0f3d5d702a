//! What every request handler and the executor share: the store, the projects this server
//! serves, its instance name and the live event channels of running runs.

use crate::store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// A project: a directory of playbooks and inventories.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    pub id: i64,
    pub name: String,
    /// Canonical path.
    pub root: PathBuf,
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
    pub projects: Vec<ProjectDir>,
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
}

impl AppState {
    pub fn project(&self, name: &str) -> Option<&ProjectDir> {
        self.projects.iter().find(|p| p.name == name)
    }

    pub fn project_by_id(&self, id: i64) -> Option<&ProjectDir> {
        self.projects.iter().find(|p| p.id == id)
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

    pub fn close_channel(&self, id: i64) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
}

pub type Shared = Arc<AppState>;
