//! `hoist plugin new|build|list|inspect`: the plugin author's workflow.

use crate::args::Output;
use crate::diagnostic::CliError;
use clap::{Args, Subcommand, ValueEnum};
use hoist_plugins::kinds::filter::PluginFilters;
use hoist_plugins::kinds::module::PluginModule;
use hoist_plugins::{Kind, Manifest, manifest};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Module,
    Filter,
    Inventory,
    Callback,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a plugin project (Cargo crate + plugin.toml) from a template
    New {
        /// Plugin name (an identifier: tasks and templates use it)
        name: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Where to create it (default: ./NAME)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The guest SDK to depend on (default: $HOIST_PLUGIN_SDK, hoist's source tree, else a
        /// copy written into the project)
        #[arg(long, env = "HOIST_PLUGIN_SDK")]
        sdk: Option<PathBuf>,
        /// Write a copy of the SDK and contract into the project instead (self-contained)
        #[arg(long, conflicts_with = "sdk")]
        vendor_sdk: bool,
    },
    /// Build a plugin for wasm32-wasip2 and check it loads (cargo build --release)
    Build {
        /// The plugin directory (holding plugin.toml)
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// List the plugins on the plugin path
    List {
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Show a plugin's manifest, capabilities, contract and what it declares
    Inspect {
        /// A plugin name on the plugin path, or a plugin directory
        plugin: String,
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

pub fn run(args: PluginArgs, dirs: &[PathBuf]) -> Result<u8, CliError> {
    match args.command {
        PluginCommand::New {
            name,
            kind,
            dir,
            sdk,
            vendor_sdk,
        } => super::plugin_new::create(&name, kind, dir, sdk, vendor_sdk),
        PluginCommand::Build { dir } => build(&dir),
        PluginCommand::List { output } => list(dirs, output),
        PluginCommand::Inspect { plugin, output } => inspect(dirs, &plugin, output),
    }
}

fn found(dirs: &[PathBuf]) -> Result<hoist_plugins::Plugins, CliError> {
    let cwd = std::env::current_dir().ok();
    hoist_plugins::discover(&hoist_plugins::search_path(dirs, cwd.as_deref()))
        .map_err(CliError::Plugin)
}

fn caps(m: &Manifest) -> Vec<String> {
    let c = &m.capabilities;
    let mut out = Vec::new();
    for (what, list) in [
        ("exec", &c.exec),
        ("read", &c.read),
        ("write", &c.write),
        ("http", &c.http),
        ("env", &c.env),
    ] {
        if !list.is_empty() {
            out.push(format!("{what}: {}", list.join(", ")));
        }
    }
    if out.is_empty() {
        out.push("none".into());
    }
    out
}

fn list(dirs: &[PathBuf], output: Output) -> Result<u8, CliError> {
    let p = found(dirs)?;
    match output {
        Output::Json => {
            let v: Vec<_> = p
                .manifests
                .iter()
                .map(|m| {
                    json!({"name": m.name, "kind": m.kind.as_str(), "version": m.version, "api": m.api,
                           "description": m.description, "manifest": m.path, "built": m.component.is_file(),
                           "capabilities": caps(m)})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = crate::output::table(&[
                "plugin",
                "kind",
                "version",
                "capabilities",
                "built",
                "manifest",
            ]);
            for m in &p.manifests {
                t.add_row(vec![
                    m.name.clone(),
                    m.kind.as_str().into(),
                    m.version.clone(),
                    caps(m).join("\n"),
                    if m.component.is_file() { "yes" } else { "no" }.into(),
                    m.path.display().to_string(),
                ]);
            }
            println!("{t}");
            for s in &p.shadowed {
                eprintln!(
                    "note: {} is hidden by an earlier plugin called `{}`",
                    s.path.display(),
                    s.name
                );
            }
        }
    }
    Ok(0)
}

fn manifest_for(dirs: &[PathBuf], plugin: &str) -> Result<Arc<Manifest>, CliError> {
    let as_dir = Path::new(plugin);
    if as_dir.join("plugin.toml").is_file() {
        return manifest::load(&as_dir.join("plugin.toml"))
            .map(Arc::new)
            .map_err(|e| CliError::Plugin(e.to_string()));
    }
    found(dirs)?.get(plugin).cloned().ok_or_else(|| {
        CliError::Plugin(format!(
            "no plugin `{plugin}` on the plugin path (see `hoist plugin list`)"
        ))
    })
}

fn inspect(dirs: &[PathBuf], plugin: &str, output: Output) -> Result<u8, CliError> {
    let m = manifest_for(dirs, plugin)?;
    let t0 = std::time::Instant::now();
    let (declared, load) = describe(&m)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    match output {
        Output::Json => {
            let v = json!({
                "name": m.name, "kind": m.kind.as_str(), "version": m.version,
                "contract": format!("hoist:plugin@{}.{}", hoist_plugins::manifest::API_VERSION.0, hoist_plugins::manifest::API_VERSION.1),
                "description": m.description, "manifest": m.path, "component": m.component,
                "capabilities": m.capabilities,
                "limits": {"memory_mb": m.limits.memory_mb, "fuel": m.limits.fuel, "timeout_secs": m.limits.timeout_secs},
                "declares": declared, "load": load, "load_ms": load_ms,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = crate::output::table(&["", ""]);
            t.add_row(vec![
                "plugin".to_string(),
                format!("{} {} ({})", m.name, m.version, m.kind.as_str()),
            ]);
            t.add_row(vec!["description".to_string(), m.description.clone()]);
            t.add_row(vec!["manifest".to_string(), m.path.display().to_string()]);
            t.add_row(vec![
                "component".to_string(),
                format!("{} ({load}, {load_ms:.1} ms)", m.component.display()),
            ]);
            t.add_row(vec![
                "contract".to_string(),
                format!("hoist:plugin@{}", m.api),
            ]);
            t.add_row(vec!["capabilities".to_string(), caps(&m).join("\n")]);
            t.add_row(vec![
                "limits".to_string(),
                format!(
                    "memory {} MiB, fuel {}, timeout {} s",
                    m.limits.memory_mb, m.limits.fuel, m.limits.timeout_secs
                ),
            ]);
            let mut lines = Vec::new();
            for d in declared.as_array().into_iter().flatten() {
                lines.push(
                    d.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| d.to_string()),
                );
            }
            t.add_row(vec!["declares".to_string(), lines.join("\n")]);
            println!("{t}");
        }
    }
    Ok(0)
}

/// Loads the component and asks it what it declares (modules: arguments; filters: names).
fn describe(m: &Arc<Manifest>) -> Result<(serde_json::Value, String), CliError> {
    let cached = hoist_plugins::engine::is_cached(&m.component);
    let decl = match m.kind {
        Kind::Module => {
            let d = PluginModule::new(m.clone())
                .described()
                .map_err(CliError::Plugin)?;
            let mut v = vec![json!(format!(
                "module: {}{}",
                d.description,
                if d.supports_check {
                    ""
                } else {
                    " (no check mode)"
                }
            ))];
            for a in d.args {
                v.push(json!(format!(
                    "  {}{}: {} — {}",
                    a.name,
                    if a.required { " (required)" } else { "" },
                    a.kind,
                    a.description
                )));
            }
            v
        }
        Kind::Filter => PluginFilters::load(m.clone())
            .map_err(CliError::Plugin)?
            .declared
            .iter()
            .map(|f| {
                json!(format!(
                    "{} {}: {}",
                    if f.test { "test" } else { "filter" },
                    f.name,
                    f.description
                ))
            })
            .collect(),
        Kind::Inventory | Kind::Callback => {
            hoist_plugins::kinds::check(m).map_err(CliError::Plugin)?;
            vec![json!(format!("{} (component links)", m.kind.as_str()))]
        }
    };
    Ok((
        json!(decl),
        if cached {
            "cache".into()
        } else {
            "compiled".into()
        },
    ))
}

/// `cargo build --release --target wasm32-wasip2` in `dir`, then the artifact is copied next to
/// the manifest and loaded once (compiled into the cache, contract and kind checked).
fn build(dir: &Path) -> Result<u8, CliError> {
    let mpath = dir.join("plugin.toml");
    let m = manifest::load(&mpath).map_err(|e| CliError::Plugin(e.to_string()))?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(CliError::Plugin(format!(
            "{}: no Cargo.toml: `hoist plugin build` builds Rust plugins (see `hoist plugin new`)",
            dir.display()
        )));
    }
    let out = std::process::Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| CliError::Plugin(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Plugin(format!(
            "cargo build failed for {} (is the target installed? `rustup target add wasm32-wasip2`)",
            dir.display()
        )));
    }
    let wasm = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact")
        .flat_map(|v| {
            v["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| CliError::Plugin("cargo built no .wasm (is the crate a cdylib?)".into()))?;
    let bytes =
        std::fs::read(&wasm).map_err(|e| CliError::Plugin(format!("{}: {e}", wasm.display())))?;
    hoist_plugins::files::write_atomic(&m.component, &bytes)
        .map_err(|e| CliError::Plugin(format!("cannot write {}: {e}", m.component.display())))?;
    let m = Arc::new(m);
    let t0 = std::time::Instant::now();
    describe(&m)?;
    println!(
        "built {} ({}) -> {} ({} KiB); contract hoist:plugin@{} ok; loads in {:.1} ms",
        m.name,
        m.kind.as_str(),
        m.component.display(),
        bytes.len() / 1024,
        m.api,
        t0.elapsed().as_secs_f64() * 1000.0
    );
    Ok(0)
}
