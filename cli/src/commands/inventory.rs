//! `hoist inventory list|graph|host`: the inventory as tables, trees or JSON.

use crate::args::{InventoryOpts, Output};
use crate::diagnostic::CliError;
use crate::output::table;
use clap::{Args, Subcommand};
use hoist_core::inventory::{Inventory, graph_lines};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(subcommand)]
    pub action: InventoryAction,
    #[command(flatten)]
    pub inventory: InventoryOpts,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum InventoryAction {
    /// Every host (or those matching PATTERN) with its address and groups
    List {
        #[arg(default_value = "all")]
        pattern: String,
    },
    /// The group tree
    Graph {
        #[arg(default_value = "all")]
        group: String,
    },
    /// A host's variables after precedence
    Host { name: String },
}

pub fn run(args: InventoryArgs) -> Result<u8, CliError> {
    let inv = args.inventory.load(false)?;
    match args.action {
        InventoryAction::List { pattern } => list(&inv, &pattern, args.output)?,
        InventoryAction::Graph { group } => {
            if !inv.groups.contains_key(&group) {
                return Err(CliError::Other(format!(
                    "no group `{group}` in the inventory"
                )));
            }
            match args.output {
                Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
                    println!("{}", graph_lines(&inv, &group).join("\n"))
                }
                Output::Json => println!("{}", pretty(&ansible_list(&inv))),
            }
        }
        InventoryAction::Host { name } => {
            let vars = inv
                .host_vars(&name)
                .ok_or_else(|| CliError::Other(format!("no host `{name}` in the inventory")))?;
            match args.output {
                Output::Json => println!("{}", pretty(&Value::Object(vars))),
                Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
                    let mut t = table(&["VARIABLE", "VALUE"]);
                    for (k, v) in &vars {
                        let v = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        t.add_row(vec![k.clone(), v]);
                    }
                    println!("{t}");
                }
            }
        }
    }
    Ok(0)
}

fn list(inv: &Inventory, pattern: &str, output: Output) -> Result<(), CliError> {
    let hosts = inv.select(pattern)?;
    match output {
        Output::Json => println!("{}", pretty(&ansible_list(inv))),
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = table(&["HOST", "ADDRESS", "GROUPS"]);
            for h in &hosts {
                let vars = inv.host_vars(h).unwrap_or_default();
                let addr = match (vars.get("ansible_host"), vars.get("ansible_port")) {
                    (Some(a), Some(p)) => format!("{}:{}", plain(a), plain(p)),
                    (Some(a), None) => plain(a),
                    (None, Some(p)) => format!("{h}:{}", plain(p)),
                    (None, None) => h.clone(),
                };
                t.add_row(vec![h.clone(), addr, inv.group_names(h).join(", ")]);
            }
            println!("{t}");
            eprintln!("{} hosts", hosts.len());
        }
    }
    Ok(())
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The shape of `ansible-inventory --list`: groups with hosts/children/vars, and `_meta.hostvars`.
fn ansible_list(inv: &Inventory) -> Value {
    let mut out = serde_json::Map::new();
    let mut hostvars = serde_json::Map::new();
    for h in inv.hosts.keys() {
        let mut v = inv.host_vars(h).unwrap_or_default();
        for magic in [
            "inventory_hostname",
            "inventory_hostname_short",
            "group_names",
        ] {
            v.remove(magic);
        }
        hostvars.insert(h.clone(), Value::Object(v));
    }
    out.insert("_meta".into(), json!({ "hostvars": hostvars }));
    for g in inv.groups.values() {
        let mut entry = serde_json::Map::new();
        if !g.hosts.is_empty() {
            entry.insert("hosts".into(), json!(g.hosts));
        }
        if !g.children.is_empty() {
            entry.insert("children".into(), json!(g.children));
        }
        let mut vars = g.vars.clone();
        vars.extend(g.file_vars.clone());
        if !vars.is_empty() {
            entry.insert("vars".into(), Value::Object(vars));
        }
        out.insert(g.name.clone(), Value::Object(entry));
    }
    Value::Object(out)
}
