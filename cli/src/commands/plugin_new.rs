//! `hoist plugin new`: a plugin project that builds as is — Cargo crate (cdylib for
//! wasm32-wasip2) depending on the guest SDK, `plugin.toml`, and a working example of the kind.

use super::plugin::KindArg;
use crate::diagnostic::CliError;
use std::path::{Path, PathBuf};

/// The SDK and contract, embedded so a project can be created anywhere.
const SDK_FILES: [(&str, &str); 8] = [
    (
        "sdk/Cargo.toml",
        include_str!("../../../plugins/sdk/Cargo.toml"),
    ),
    (
        "sdk/src/lib.rs",
        include_str!("../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "sdk/src/shared.rs",
        include_str!("../../../plugins/sdk/src/shared.rs"),
    ),
    (
        "sdk/src/module.rs",
        include_str!("../../../plugins/sdk/src/module.rs"),
    ),
    (
        "sdk/src/filter.rs",
        include_str!("../../../plugins/sdk/src/filter.rs"),
    ),
    (
        "sdk/src/inventory.rs",
        include_str!("../../../plugins/sdk/src/inventory.rs"),
    ),
    (
        "sdk/src/callback.rs",
        include_str!("../../../plugins/sdk/src/callback.rs"),
    ),
    (
        "wit/hoist-plugin.wit",
        include_str!("../../../plugins/wit/hoist-plugin.wit"),
    ),
];

fn kind_str(k: KindArg) -> &'static str {
    match k {
        KindArg::Module => "module",
        KindArg::Filter => "filter",
        KindArg::Inventory => "inventory",
        KindArg::Callback => "callback",
    }
}

fn lib_rs(name: &str, kind: KindArg) -> String {
    let ty: String = name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    match kind {
        KindArg::Module => format!(
            r#"//! `{name}`: a hoist module. Reads a file on the target and reports whether it holds a line.

use hoist_plugin_sdk::module::{{ArgKind, Call, Module, ModuleInfo, Outcome, target}};

struct {ty};

impl Module for {ty} {{
    fn describe() -> ModuleInfo {{
        ModuleInfo::new("Reports whether a file on the target contains a line")
            .required("path", ArgKind::Path, "file to look in")
            .required("line", ArgKind::Str, "the line to look for")
    }}

    fn run(call: Call) -> Result<Outcome, String> {{
        let path = call.required_str("path")?;
        let line = call.required_str("line")?;
        let text = target::read_file(&path)?.unwrap_or_default();
        let found = String::from_utf8_lossy(&text).lines().any(|l| l == line);
        Ok(Outcome::ok().with("found", found).msg(format!("{{path}}: found={{found}}")))
    }}
}}

hoist_plugin_sdk::register_module!({ty});
"#
        ),
        KindArg::Filter => format!(
            r#"//! `{name}`: template filters and tests.

use hoist_plugin_sdk::filter::{{FilterInfo, Filters}};
use hoist_plugin_sdk::Value;

struct {ty};

impl Filters for {ty} {{
    fn describe() -> Vec<FilterInfo> {{
        vec![
            FilterInfo::filter("{name}_shout", "upper-cases a string and adds `!`"),
            FilterInfo::test("{name}_even", "true for an even integer"),
        ]
    }}

    fn call(name: &str, value: Value, _args: Vec<Value>) -> Result<Value, String> {{
        match name {{
            "{name}_shout" => Ok(Value::from(format!("{{}}!", value.as_str().unwrap_or_default().to_uppercase()))),
            "{name}_even" => Ok(Value::from(value.as_i64().ok_or("expected an integer")? % 2 == 0)),
            other => Err(format!("no filter `{{other}}`")),
        }}
    }}
}}

hoist_plugin_sdk::register_filters!({ty});
"#
        ),
        KindArg::Inventory => format!(
            r#"//! `{name}`: an inventory source. `-i fleet.yml` with `plugin: {name}` and `hosts: [a, b]`.

use hoist_plugin_sdk::inventory::{{Host, Inventory, Source}};
use hoist_plugin_sdk::{{Value, json}};

struct {ty};

impl Source for {ty} {{
    fn load(config: json::Map<String, Value>, _source_dir: &str) -> Result<Inventory, String> {{
        let mut inv = Inventory::default();
        let hosts = config.get("hosts").and_then(Value::as_array).ok_or("expected `hosts:` as a list")?;
        for h in hosts {{
            let name = h.as_str().ok_or("host names must be strings")?.to_string();
            inv.group("{name}").hosts.push(name.clone());
            inv.hosts.push(Host {{ name, ..Host::default() }});
        }}
        Ok(inv)
    }}
}}

hoist_plugin_sdk::register_inventory!({ty});
"#
        ),
        KindArg::Callback => format!(
            r#"//! `{name}`: a callback. Counts host results and logs the count with the recap.

use hoist_plugin_sdk::callback::Callback;
use hoist_plugin_sdk::{{Value, log}};
use std::cell::Cell;

thread_local! {{ static RESULTS: Cell<u64> = const {{ Cell::new(0) }}; }}

struct {ty};

impl Callback for {ty} {{
    fn on_event(event: Value) -> Result<(), String> {{
        match event["event"].as_str() {{
            Some("host_result") => RESULTS.with(|r| r.set(r.get() + 1)),
            Some("recap") => log::info(&format!("{{}} host results", RESULTS.with(Cell::get))),
            _ => {{}}
        }}
        Ok(())
    }}
}}

hoist_plugin_sdk::register_callback!({ty});
"#
        ),
    }
}

fn manifest(name: &str, kind: KindArg) -> String {
    let caps = match kind {
        KindArg::Module => {
            "# Programs run on the target, paths read/written there.\nread = [\"/etc\"]\n"
        }
        KindArg::Filter => "# Filters take no capabilities.\n",
        KindArg::Inventory => "read = [\"{source_dir}\"]\n",
        KindArg::Callback => {
            "# write = [\"{cwd}/reports\"]\n# http = [\"hooks.example.com\"]\n# env = [\"WEBHOOK_TOKEN\"]\n"
        }
    };
    format!(
        "name = \"{name}\"\nversion = \"0.1.0\"\nkind = \"{}\"\napi = \"0.1\"\ndescription = \"\"\n\n# Nothing is allowed unless listed here.\n[capabilities]\n{caps}\n[limits]\nmemory_mb = 64\nfuel = 5_000_000_000\ntimeout_secs = 300\n",
        kind_str(kind)
    )
}

fn cargo_toml(name: &str, kind: KindArg, sdk: &Path) -> String {
    format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nhoist-plugin-sdk = {{ path = \"{}\", features = [\"{}\"] }}\n\n# A project of its own, even inside another workspace.\n[workspace]\n\n[profile.release]\nopt-level = \"s\"\nstrip = true\n",
        name.replace('_', "-"),
        sdk.display(),
        kind_str(kind)
    )
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::Other(format!("cannot create {}: {e}", d.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

pub fn create(
    name: &str,
    kind: KindArg,
    dir: Option<PathBuf>,
    sdk: Option<PathBuf>,
    vendor: bool,
) -> Result<u8, CliError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(CliError::Plugin(format!(
            "plugin name `{name}`: expected lower-case letters, digits and `_`, starting with a letter"
        )));
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.join("plugin.toml").exists() || dir.join("Cargo.toml").exists() {
        return Err(CliError::Plugin(format!(
            "{} already holds a project; nothing written",
            dir.display()
        )));
    }
    let source_sdk = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk"));
    let found = sdk.or_else(|| (!vendor && source_sdk.is_dir()).then_some(source_sdk));
    let sdk = match found {
        Some(p) => std::fs::canonicalize(&p)
            .map_err(|e| CliError::Plugin(format!("SDK {}: {e}", p.display())))?,
        None => {
            let base = dir.join("hoist-sdk");
            for (rel, text) in SDK_FILES {
                write(&base.join(rel), text)?;
            }
            PathBuf::from("hoist-sdk/sdk")
        }
    };
    write(&dir.join("Cargo.toml"), &cargo_toml(name, kind, &sdk))?;
    write(&dir.join("plugin.toml"), &manifest(name, kind))?;
    write(&dir.join("src/lib.rs"), &lib_rs(name, kind))?;
    write(&dir.join(".gitignore"), "/target\n/*.wasm\n")?;
    println!(
        "created {} plugin `{name}` in {} (SDK: {}); next: hoist plugin build {}",
        kind_str(kind),
        dir.display(),
        sdk.display(),
        dir.display()
    );
    Ok(0)
}
