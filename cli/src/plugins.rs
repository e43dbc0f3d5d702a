//! Finding the plugins a command can use and installing them into the engine (modules,
//! filters, inventory sources; the callbacks `hoist run --callback` names).

use crate::diagnostic::CliError;
use hoist_plugins::discover::Installed;
use std::path::{Path, PathBuf};

/// Discovers plugins on the search path and installs them.
pub fn setup(
    dirs: &[PathBuf],
    playbook_dir: Option<&Path>,
    callbacks: &[String],
) -> Result<Installed, CliError> {
    let path = hoist_plugins::search_path(dirs, playbook_dir);
    let found = hoist_plugins::discover(&path).map_err(CliError::Plugin)?;
    found.install(callbacks).map_err(CliError::Plugin)
}
