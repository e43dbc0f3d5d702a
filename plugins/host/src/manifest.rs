//! `plugin.toml`: what a plugin is (name, version, kind, contract version), where its
//! component is, what it may touch (capabilities) and its limits. Errors name the file, line
//! and column.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The contract version this hoist speaks (`plugins/wit/hoist-plugin.wit`).
pub const API_VERSION: (u64, u64, u64) = (0, 1, 0);

/// The four plugin kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Module,
    Filter,
    Inventory,
    Callback,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Filter => "filter",
            Kind::Inventory => "inventory",
            Kind::Callback => "callback",
        }
    }
}

/// What the plugin asks to be allowed to do. Nothing is allowed by default.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Programs a module may run on the target (`"*"` for any).
    #[serde(default)]
    pub exec: Vec<String>,
    /// Paths (files or directory trees) it may read: on the target for modules, on the
    /// controller for inventory sources and callbacks. `{cwd}`, `{plugin_dir}` and
    /// `{source_dir}` (the inventory file's folder) are expanded.
    #[serde(default)]
    pub read: Vec<String>,
    /// Paths it may write (same rules as `read`).
    #[serde(default)]
    pub write: Vec<String>,
    /// Hosts (`name` or `name:port`) it may send HTTP(S) requests to.
    #[serde(default)]
    pub http: Vec<String>,
    /// Controller environment variables it may read.
    #[serde(default)]
    pub env: Vec<String>,
}

/// Resource limits for one call.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Linear memory, MiB.
    pub memory_mb: u64,
    /// WebAssembly instructions (roughly) per call.
    pub fuel: u64,
    /// Wall-clock seconds per call, host calls included.
    pub timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: 64,
            fuel: 5_000_000_000,
            timeout_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    version: String,
    kind: Kind,
    /// Contract version, `major.minor`.
    api: String,
    #[serde(default)]
    description: String,
    /// The component file, relative to the manifest (default `<name>.wasm`).
    component: Option<String>,
    #[serde(default)]
    capabilities: Capabilities,
    #[serde(default)]
    limits: Limits,
}

/// A parsed, checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub api: String,
    pub description: String,
    /// The manifest file.
    pub path: PathBuf,
    /// The component (.wasm).
    pub component: PathBuf,
    pub capabilities: Capabilities,
    pub limits: Limits,
}

impl Manifest {
    /// The directory holding the manifest.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
#[error("{path}{at}: {message}")]
pub struct ManifestError {
    pub path: String,
    /// `:line:column` when known.
    pub at: String,
    pub message: String,
}

fn error(path: &Path, at: String, message: impl Into<String>) -> ManifestError {
    ManifestError {
        path: path.display().to_string(),
        at,
        message: message.into(),
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Reads and checks `path` (a `plugin.toml`).
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(path, String::new(), format!("cannot read: {e}")))?;
    parse(path, &text)
}

/// Parses manifest `text` read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (l, c) = line_col(text, s.start);
                format!(":{l}:{c}")
            })
            .unwrap_or_default();
        error(path, at, e.message().trim().to_string())
    })?;
    let at_key = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| format!(":{}:1", i + 1))
            .unwrap_or_default()
    };
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || raw.name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(error(
            path,
            at_key("name"),
            format!(
                "name `{}`: expected an identifier (letters, digits, `_`), as tasks use it as a key",
                raw.name
            ),
        ));
    }
    let (major, minor) = parse_api(&raw.api).ok_or_else(|| {
        error(
            path,
            at_key("api"),
            format!("api `{}`: expected `major.minor` such as `0.1`", raw.api),
        )
    })?;
    if (major, minor) != (API_VERSION.0, API_VERSION.1) {
        return Err(error(
            path,
            at_key("api"),
            format!(
                "api {}: this hoist speaks the plugin contract {}.{} (hoist:plugin@{}.{}.{}); rebuild the plugin against that SDK",
                raw.api, API_VERSION.0, API_VERSION.1, API_VERSION.0, API_VERSION.1, API_VERSION.2
            ),
        ));
    }
    let caps = &raw.capabilities;
    if raw.kind != Kind::Module && !caps.exec.is_empty() {
        return Err(error(
            path,
            at_key("exec"),
            format!(
                "capability `exec` is for modules (they run programs on the target); a {} plugin cannot have it",
                raw.kind.as_str()
            ),
        ));
    }
    if raw.kind == Kind::Filter
        && !(caps.read.is_empty()
            && caps.write.is_empty()
            && caps.http.is_empty()
            && caps.env.is_empty())
    {
        return Err(error(
            path,
            at_key("[capabilities]"),
            "filters are pure functions of their input: they take no capabilities",
        ));
    }
    for p in caps.read.iter().chain(&caps.write) {
        let expanded = p
            .replace("{cwd}", "/")
            .replace("{plugin_dir}", "/")
            .replace("{source_dir}", "/");
        if !expanded.starts_with('/') || p.split('/').any(|c| c == "..") {
            return Err(error(
                path,
                at_key(if caps.read.contains(p) {
                    "read"
                } else {
                    "write"
                }),
                format!(
                    "path `{p}`: expected an absolute path (or one starting with {{cwd}}, {{plugin_dir}}, {{source_dir}}) without `..`"
                ),
            ));
        }
    }
    if raw.limits.memory_mb == 0 || raw.limits.memory_mb > 4096 {
        return Err(error(
            path,
            at_key("memory_mb"),
            "memory_mb: expected 1 to 4096",
        ));
    }
    if raw.limits.fuel == 0 || raw.limits.timeout_secs == 0 {
        return Err(error(
            path,
            at_key("[limits]"),
            "fuel and timeout_secs must be above 0",
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let component = dir.join(
        raw.component
            .clone()
            .unwrap_or_else(|| format!("{}.wasm", raw.name)),
    );
    Ok(Manifest {
        name: raw.name,
        version: raw.version,
        kind: raw.kind,
        api: raw.api,
        description: raw.description,
        path: path.to_path_buf(),
        component,
        capabilities: raw.capabilities,
        // The operator's ceilings win over what the plugin asks for.
        limits: crate::ceilings::clamp(&raw.limits, &crate::ceilings::current()),
    })
}

fn parse_api(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Manifest, ManifestError> {
        parse(Path::new("/p/x/plugin.toml"), text)
    }

    const OK: &str = "name = \"drain\"\nversion = \"1.0.0\"\nkind = \"module\"\napi = \"0.1\"\n[capabilities]\nexec = [\"socat\"]\n";

    #[test]
    fn reads_a_manifest() {
        let m = p(OK).unwrap();
        assert_eq!(m.name, "drain");
        assert_eq!(m.kind, Kind::Module);
        assert_eq!(m.component, Path::new("/p/x/drain.wasm"));
        assert_eq!(m.capabilities.exec, ["socat"]);
        assert_eq!(m.limits, Limits::default());
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = p("name = \"a\"\nversion = \"1\"\nkind = \"modul\"\napi = \"0.1\"\n").unwrap_err();
        assert_eq!(e.at, ":3:8");
        assert!(e.message.contains("unknown variant `modul`"), "{e}");
        let e = p(&OK.replace("exec", "exek")).unwrap_err();
        assert_eq!(e.at, ":6:1");
        assert!(e.message.contains("unknown field `exek`"), "{e}");
        let e = p("name = \"a\"\nkind = \"module\"\napi = \"0.1\"\n").unwrap_err();
        assert!(e.message.contains("missing field `version`"), "{e}");
    }

    #[test]
    fn contract_version_and_capability_rules() {
        let e = p(&OK.replace("0.1", "0.2")).unwrap_err();
        assert_eq!(e.at, ":4:1");
        assert!(e.message.contains("speaks the plugin contract 0.1"), "{e}");
        let e = p(&OK.replace("module", "callback")).unwrap_err();
        assert!(e.message.contains("`exec` is for modules"), "{e}");
        let e = p(&OK.replace("exec = [\"socat\"]", "read = [\"etc/x\"]")).unwrap_err();
        assert!(e.message.contains("expected an absolute path"), "{e}");
        let e = p(&OK.replace("exec = [\"socat\"]", "read = [\"/etc/../root\"]")).unwrap_err();
        assert!(e.message.contains("without `..`"), "{e}");
        let e = p(&OK.replace("drain", "drain-it")).unwrap_err();
        assert!(e.message.contains("expected an identifier"), "{e}");
        assert!(p(&OK.replace("exec = [\"socat\"]", "read = [\"{source_dir}\"]")).is_ok());
    }
}
