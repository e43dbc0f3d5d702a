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
    /// Also check that every variable a task uses is defined, with this inventory's variables
    #[arg(short = 'i', long = "inventory", value_delimiter = ',')]
    pub inventory: Vec<PathBuf>,
    /// Extra variables, as `hoist run -e` takes them
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
}

pub fn run(args: CheckSyntaxArgs) -> Result<u8, CliError> {
    for p in &args.playbooks {
        let book = playbook::load_playbook(p).map_err(CliError::Playbook)?;
        playbook::lint::check(&book).map_err(CliError::Playbook)?;
        if !args.inventory.is_empty() {
            let mut inv = hoist_core::inventory::Inventory::load(&args.inventory)?;
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                inv.add_vars_dirs(dir)?;
            }
            let extra = super::run::extra_vars(&args.extra_vars)?;
            playbook::undefined::check(&book, &super::run::outside_names(&inv, &extra))
                .map_err(CliError::Playbook)?;
        }
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
