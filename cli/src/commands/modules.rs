//! `hoist modules [NAME] [--all]`: the modules a task can name, and for each what runs it:
//! `native` (hoist's own, no Python on the host), `plugin` (a WASM plugin) or `ansible`
//! (Ansible's own module through the fallback, which needs Python on the host and
//! ansible-core on the controller), with where it runs and the arguments it accepts.

use crate::args::Output;
use crate::diagnostic::{CliError, exit};
use crate::output::table;
use clap::Args;
use hoist_core::modules;

#[derive(Debug, Args)]
pub struct ModulesArgs {
    /// Show one module
    pub name: Option<String>,
    /// Also list Ansible's own modules found on the controller (they run through the fallback)
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// One listed module.
struct Row {
    name: String,
    kind: &'static str,
    runs_on: String,
    args: Vec<String>,
}

fn native_row(i: modules::ModuleInfo) -> Row {
    let runs_on = match (i.controller, i.free_form) {
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
    Row {
        kind: if i.origin == "built-in" {
            "native"
        } else {
            "plugin"
        },
        name: i.name,
        runs_on: runs_on.to_string(),
        args,
    }
}

/// Ansible's modules the controller has, leaving out those hoist runs natively.
fn fallback_rows(native: &[String]) -> Result<Vec<Row>, CliError> {
    let found = modules::ansible::ansible_modules().map_err(|e| CliError::Other(e.to_string()))?;
    Ok(found
        .into_iter()
        .filter(|(n, _)| {
            let short = n.strip_prefix("ansible.builtin.").unwrap_or(n);
            // include_*/import_* are task keywords in hoist, not modules.
            let keyword = n.starts_with("ansible.builtin.")
                && (short.starts_with("include_") || short.starts_with("import_"));
            !keyword && !native.iter().any(|m| m == short || m == n)
        })
        .map(|(name, path)| Row {
            name,
            kind: "ansible",
            runs_on: "host (Python)".into(),
            args: vec![format!("(Ansible's own: {})", path.display())],
        })
        .collect())
}

pub fn run(args: ModulesArgs) -> Result<u8, CliError> {
    let all = modules::names();
    let mut rows: Vec<Row> = match &args.name {
        Some(n) => {
            let short = n.strip_prefix("ansible.builtin.").unwrap_or(n);
            match modules::info(short) {
                Some(i) => vec![native_row(i)],
                None => {
                    let hit: Vec<Row> = fallback_rows(&all)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| r.name == *n || r.name.rsplit('.').next() == Some(n.as_str()))
                        .collect();
                    if hit.is_empty() {
                        return Err(CliError::Other(format!(
                            "`{n}` is not a known module (see `hoist modules --all`)"
                        )));
                    }
                    hit
                }
            }
        }
        None => all
            .iter()
            .filter_map(|n| modules::info(n))
            .map(native_row)
            .collect(),
    };
    let mut note = None;
    if args.name.is_none() {
        match (args.all, fallback_rows(&all)) {
            (true, Ok(more)) => rows.extend(more),
            (true, Err(e)) => return Err(e),
            (false, Ok(more)) if !more.is_empty() => {
                note = Some(format!(
                    "{} more of Ansible's own modules run through the fallback: hoist modules --all",
                    more.len()
                ));
            }
            _ => {}
        }
    }
    match args.output {
        Output::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({"module": r.name, "kind": r.kind, "runs_on": r.runs_on, "arguments": r.args})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = table(&["module", "kind", "runs on", "arguments"]);
            for r in rows {
                t.add_row(vec![
                    r.name,
                    r.kind.to_string(),
                    r.runs_on,
                    r.args.join(", "),
                ]);
            }
            println!("{t}");
            if let Some(n) = note {
                println!("{n}");
            }
        }
    }
    Ok(exit::OK)
}
