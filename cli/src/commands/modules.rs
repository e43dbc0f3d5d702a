//! `hoist modules [NAME]`: the built-in modules and the arguments each accepts.

use crate::args::Output;
use crate::diagnostic::{CliError, exit};
use crate::output::table;
use clap::Args;
use hoist_core::modules;

#[derive(Debug, Args)]
pub struct ModulesArgs {
    /// Show one module's arguments
    pub name: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

pub fn run(args: ModulesArgs) -> Result<u8, CliError> {
    let all = modules::names();
    let names: Vec<&str> = match &args.name {
        Some(n) => {
            let n = n.strip_prefix("ansible.builtin.").unwrap_or(n);
            if modules::info(n).is_none() {
                return Err(CliError::Other(format!(
                    "`{n}` is not a known module (see `hoist modules`)"
                )));
            }
            all.iter().map(String::as_str).filter(|m| *m == n).collect()
        }
        None => all.iter().map(String::as_str).collect(),
    };
    let rows: Vec<(String, String, Vec<String>)> = names
        .iter()
        .filter_map(|n| modules::info(n))
        .map(|i| {
            let kind = match (i.controller, i.free_form) {
                (true, _) => "controller",
                (false, true) => "host, free-form",
                (false, false) => "host",
            };
            let args = if i.any_args {
                vec!["(any name: value)".to_string()]
            } else {
                i.fields
                    .iter()
                    .filter(|f| !f.starts_with('_'))
                    .map(|f| f.to_string())
                    .collect()
            };
            (i.name.to_string(), kind.to_string(), args)
        })
        .collect();
    match args.output {
        Output::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(n, k, a)| serde_json::json!({"module": n, "runs_on": k, "arguments": a}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = table(&["module", "runs on", "arguments"]);
            for (n, k, a) in rows {
                t.add_row(vec![n, k, a.join(", ")]);
            }
            println!("{t}");
        }
    }
    Ok(exit::OK)
}
