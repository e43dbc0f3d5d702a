//! `hoist lab up|status|down`: the throw-away lab fleet.

use crate::diagnostic::CliError;
use crate::output::table;
use clap::{Args, Subcommand};
use hoist_core::lab::{self, LabPaths};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub action: LabAction,
}

#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Boot N hosts (systemd + sshd each, own netns and IP on 10.77.0.0/24, no route out)
    Up {
        /// Number of hosts (lab1..labN = 10.77.0.11..)
        #[arg(long, default_value_t = 3)]
        hosts: usize,
        /// Debian packages to make installable from the lab's local repository (comma-separated;
        /// `@ha` is every package the HA stack needs)
        #[arg(long, value_delimiter = ',')]
        packages: Vec<String>,
        /// Where to write the inventory
        #[arg(short = 'i', long, default_value = "inventory/lab.yml")]
        inventory: PathBuf,
    },
    /// Show the lab's hosts
    Status,
    /// Crash a host (all its processes killed at once, its link down), to test failover
    Kill {
        /// A lab host name (lab3) or address (10.77.0.13)
        host: String,
    },
    /// Boot a crashed host again, as after a power cycle
    Start {
        /// A lab host name (lab3) or address (10.77.0.13)
        host: String,
    },
    /// Stop every host and remove namespaces, mounts, cgroups, state and the inventory
    Down,
}

pub fn run(args: LabArgs) -> Result<u8, CliError> {
    let paths = LabPaths::default();
    match args.action {
        LabAction::Up {
            hosts,
            packages,
            inventory,
        } => {
            let list = lab::up(&paths, hosts, &packages, &inventory)?;
            print_hosts(&list);
            eprintln!(
                "lab is up: {} hosts; inventory {}; known_hosts {}",
                list.len(),
                inventory.display(),
                paths.state.join("known_hosts").display()
            );
        }
        LabAction::Status => {
            let list = lab::status(&paths)?;
            if list.is_empty() {
                println!("no lab is up");
            } else {
                print_hosts(&list);
            }
        }
        LabAction::Kill { host } => {
            let h = lab::kill(&paths, &host)?;
            eprintln!("{} ({}) crashed", h.name, h.address);
        }
        LabAction::Start { host } => {
            let h = lab::start(&paths, &host)?;
            eprintln!("{} ({}) is up again", h.name, h.address);
        }
        LabAction::Down => {
            lab::down(&paths)?;
            eprintln!("lab is down");
        }
    }
    Ok(0)
}

fn print_hosts(list: &[lab::LabHost]) {
    let mut t = table(&["HOST", "ADDRESS", "STATE"]);
    for h in list {
        t.add_row(vec![&h.name, &h.address, &h.state]);
    }
    println!("{t}");
}
