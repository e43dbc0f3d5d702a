//! `hoist check-syntax PLAYBOOK...`: every static check the run does (YAML, keys, modules and
//! their arguments, templates and conditionals, handlers), without touching any host.

use crate::diagnostic::{CliError, exit};
use clap::Args;
use hoist_core::playbook;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckSyntaxArgs {
    /// Playbook file(s)
    #[arg(required = true)]
    pub playbooks: Vec<PathBuf>,
}

pub fn run(args: CheckSyntaxArgs) -> Result<u8, CliError> {
    for p in &args.playbooks {
        let book = playbook::load_playbook(p).map_err(CliError::Playbook)?;
        playbook::lint::check(&book).map_err(CliError::Playbook)?;
        let tasks: usize = book
            .plays
            .iter()
            .map(|p| playbook::lint::count_tasks(p))
            .sum();
        println!(
            "{}: OK ({} plays, {tasks} tasks)",
            p.display(),
            book.plays.len()
        );
    }
    Ok(exit::OK)
}
