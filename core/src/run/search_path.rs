//! Where a task's relative file names are looked for, as ansible-core's `get_search_path`:
//! the role, the directory of the file the task was written in, then the play's directory.

use super::inherit::Inherit;
use super::runner::PlayCtx;
use std::path::PathBuf;

/// The directories, nearest first; `role_tasks` adds the role's `tasks/` after the role (where
/// `include_tasks` and the file lookups find task files).
pub(crate) fn of(pc: &PlayCtx, inh: &Inherit, role_tasks: bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf| {
        if !v.contains(&p) {
            v.push(p);
        }
    };
    if let Some(r) = &inh.role {
        add(r.path.clone());
        if role_tasks {
            add(r.path.join("tasks"));
        }
    }
    if let Some(d) = &inh.task_dir {
        add(d.clone());
    }
    add(pc.play.base_dir.clone());
    v
}
