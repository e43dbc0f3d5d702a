//! Capabilities, checked on every host call: a plugin reaches a program, a path, a web host or
//! an environment variable only when its manifest grants it. Refusals name the plugin, its
//! manifest and the grant that is missing.

use crate::manifest::Manifest;
use std::path::{Component, Path, PathBuf};

/// The grants of one plugin instance, placeholders expanded.
#[derive(Debug, Clone)]
pub struct Grants {
    plugin: String,
    manifest: String,
    exec: Vec<String>,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    http: Vec<String>,
    env: Vec<String>,
    /// Where relative controller paths are resolved.
    pub cwd: PathBuf,
}

/// Collapses `.` and `..` without touching the file system; `None` for a relative path.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    Some(out)
}

impl Grants {
    /// `source_dir`: the inventory file's folder, for `{source_dir}`.
    pub fn new(m: &Manifest, source_dir: Option<&Path>) -> Grants {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let expand = |p: &String| {
            let s = p
                .replace("{cwd}", &cwd.display().to_string())
                .replace("{plugin_dir}", &m.dir().display().to_string())
                .replace(
                    "{source_dir}",
                    &source_dir.unwrap_or(&cwd).display().to_string(),
                );
            normalize(Path::new(&s)).unwrap_or_else(|| PathBuf::from("/nonexistent-grant"))
        };
        Grants {
            plugin: m.name.clone(),
            manifest: m.path.display().to_string(),
            exec: m.capabilities.exec.clone(),
            read: m.capabilities.read.iter().map(expand).collect(),
            write: m.capabilities.write.iter().map(expand).collect(),
            http: m
                .capabilities
                .http
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            env: m.capabilities.env.clone(),
            cwd,
        }
    }

    fn refuse(&self, what: String, grant: &str) -> String {
        format!(
            "plugin `{}` may not {what}: {} grants no such capability (add it to [capabilities] {grant})",
            self.plugin, self.manifest
        )
    }

    /// May the plugin run `program` on the target?
    pub fn exec(&self, program: &str) -> Result<(), String> {
        let base = program.rsplit('/').next().unwrap_or(program);
        if self
            .exec
            .iter()
            .any(|g| g == "*" || g == program || (!program.contains('/') && g == base))
        {
            Ok(())
        } else {
            Err(self.refuse(format!("run `{program}`"), "exec"))
        }
    }

    fn covered(list: &[PathBuf], path: &Path) -> bool {
        list.iter().any(|g| path.starts_with(g))
    }

    /// May the plugin read `path` (already absolute and normalized)?
    pub fn read(&self, path: &Path, where_: &str) -> Result<(), String> {
        if Self::covered(&self.read, path) || Self::covered(&self.write, path) {
            Ok(())
        } else {
            Err(self.refuse(format!("read {} on the {where_}", path.display()), "read"))
        }
    }

    /// May the plugin write `path` (already absolute and normalized)?
    pub fn write(&self, path: &Path, where_: &str) -> Result<(), String> {
        if Self::covered(&self.write, path) {
            Ok(())
        } else {
            Err(self.refuse(format!("write {} on the {where_}", path.display()), "write"))
        }
    }

    /// A controller path: relative ones under the working directory, then normalized.
    pub fn controller_path(&self, path: &str) -> Result<PathBuf, String> {
        let p = Path::new(path);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        };
        normalize(&abs).ok_or_else(|| format!("bad path `{path}`"))
    }

    /// May the plugin send a request to `host` on `port`?
    pub fn http(&self, host: &str, port: u16) -> Result<(), String> {
        let host = host.to_ascii_lowercase();
        let with_port = format!("{host}:{port}");
        if self.http.iter().any(|g| *g == host || *g == with_port) {
            Ok(())
        } else {
            Err(self.refuse(format!("connect to {with_port}"), "http"))
        }
    }

    /// May the plugin read environment variable `name`?
    pub fn env(&self, name: &str) -> bool {
        self.env.iter().any(|g| g == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    fn grants(caps: &str) -> Grants {
        let text = format!(
            "name = \"t\"\nversion = \"1\"\nkind = \"module\"\napi = \"0.1\"\n[capabilities]\n{caps}\n"
        );
        Grants::new(&parse(Path::new("/p/t/plugin.toml"), &text).unwrap(), None)
    }

    #[test]
    fn exec_by_program_name() {
        let g = grants("exec = [\"socat\"]");
        assert!(g.exec("socat").is_ok());
        let e = g.exec("rm").unwrap_err();
        assert!(
            e.contains("plugin `t` may not run `rm`") && e.contains("/p/t/plugin.toml"),
            "{e}"
        );
        assert!(
            g.exec("/tmp/socat").is_err(),
            "a path is not the granted program"
        );
        assert!(grants("exec = [\"*\"]").exec("anything").is_ok());
    }

    #[test]
    fn paths_are_prefixes_after_normalizing() {
        let g = grants("read = [\"/etc/haproxy\"]\nwrite = [\"{plugin_dir}/out\"]");
        assert!(
            g.read(Path::new("/etc/haproxy/haproxy.cfg"), "target")
                .is_ok()
        );
        assert!(g.read(Path::new("/etc/haproxy2"), "target").is_err());
        let sneaky = normalize(Path::new("/etc/haproxy/../passwd")).unwrap();
        assert!(g.read(&sneaky, "target").is_err());
        assert!(g.write(Path::new("/p/t/out/r.json"), "controller").is_ok());
        assert!(g.write(Path::new("/etc/haproxy/x"), "controller").is_err());
    }

    // The WIT boundary, fuzzed: whatever paths, programs and hosts a guest sends across it,
    // a grant covers exactly what it should (checked against an independent model).
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "..", ".", "", "etc", "haproxy", "haproxy2", "out", "p", "t", "x y", "\n", "'",
            "$(id)", "*", "\u{0}",
        ])
        .prop_map(str::to_string)
    }

    /// The model: resolve `.`/`..` by hand; is the result under a granted prefix, component-wise?
    fn model_allows(path: &str, grants: &[&str]) -> Option<bool> {
        if !path.starts_with('/') {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        for s in path.split('/') {
            match s {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        Some(grants.iter().any(|g| {
            let gp: Vec<&str> = g.split('/').filter(|s| !s.is_empty()).collect();
            parts.len() >= gp.len() && parts[..gp.len()] == gp[..]
        }))
    }

    proptest! {
        #[test]
        fn guest_paths_are_covered_exactly_as_granted(
            absolute in any::<bool>(),
            segs in prop::collection::vec(segment(), 0..10),
        ) {
            let path = format!("{}{}", if absolute { "/" } else { "" }, segs.join("/"));
            let g = grants("read = [\"/etc/haproxy\"]\nwrite = [\"{plugin_dir}/out\"]");
            match normalize(Path::new(&path)) {
                None => prop_assert!(!absolute || path.is_empty()),
                Some(n) => {
                    prop_assert!(!n.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir)));
                    let read = g.read(&n, "target").is_ok();
                    let write = g.write(&n, "target").is_ok();
                    prop_assert_eq!(Some(read), model_allows(&path, &["/etc/haproxy", "/p/t/out"]), "{} -> {}", path, n.display());
                    prop_assert_eq!(Some(write), model_allows(&path, &["/p/t/out"]), "{} -> {}", path, n.display());
                }
            }
        }

        #[test]
        fn guest_programs_and_hosts_are_granted_by_name(
            program in "[a-z/.*$ ]{0,12}",
            host in "[A-Za-z0-9.:-]{0,20}",
            port in any::<u16>(),
        ) {
            let g = grants("exec = [\"socat\", \"/usr/bin/ip\"]\nhttp = [\"api.example.com\", \"10.0.0.1:8080\"]");
            let base = program.rsplit('/').next().unwrap_or(&program);
            let want = program == "socat" || program == "/usr/bin/ip" || (!program.contains('/') && base == "socat");
            prop_assert_eq!(g.exec(&program).is_ok(), want);
            let h = host.to_ascii_lowercase();
            let want = h == "api.example.com" || (h == "10.0.0.1" && port == 8080);
            prop_assert_eq!(g.http(&host, port).is_ok(), want);
        }
    }

    #[test]
    fn http_and_env() {
        let g = grants("http = [\"127.0.0.1:8080\", \"hooks.example.com\"]\nenv = [\"TOKEN\"]");
        assert!(g.http("127.0.0.1", 8080).is_ok());
        assert!(g.http("127.0.0.1", 22).is_err());
        assert!(g.http("Hooks.Example.com", 443).is_ok());
        assert!(g.env("TOKEN") && !g.env("HOME"));
    }
}
