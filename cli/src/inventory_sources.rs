//! What `-i` names, as ansible-core reads it: inventory files or directories, or a
//! comma-separated host list (`-i web1,web2,` or `-i localhost,`) when the value is not a path.

use crate::args::InventoryOpts;
use crate::diagnostic::CliError;
use hoist_core::inventory::{Inventory, Vars};
use std::path::PathBuf;

/// One `-i` value.
#[derive(Debug, PartialEq)]
enum Source {
    Path(PathBuf),
    Hosts(Vec<String>),
}

/// Splits the `-i` values: a value that exists is a path; a value with commas is a list of
/// paths when every part exists, else a host list; anything else is a missing path.
fn classify(values: &[PathBuf]) -> Vec<Source> {
    let mut out = Vec::new();
    for v in values {
        let text = v.to_string_lossy();
        if v.exists() || !text.contains(',') {
            out.push(Source::Path(v.clone()));
            continue;
        }
        let parts: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.iter().all(|p| std::path::Path::new(p).exists()) {
            out.extend(parts.into_iter().map(|p| Source::Path(PathBuf::from(p))));
        } else {
            out.push(Source::Hosts(parts.into_iter().map(String::from).collect()));
        }
    }
    out
}

impl InventoryOpts {
    /// Loads the inventory. `lenient`: a source that does not exist is a warning and the rest
    /// load (ansible-playbook's behaviour); otherwise it is an error.
    pub fn load(&self, lenient: bool) -> Result<Inventory, CliError> {
        let mut paths = Vec::new();
        let mut hosts = Vec::new();
        for s in classify(&self.inventory) {
            match s {
                Source::Path(p) if lenient && !p.exists() => eprintln!(
                    "[WARNING]: Unable to parse {} as an inventory source (it does not exist)",
                    p.display()
                ),
                Source::Path(p) => paths.push(p),
                Source::Hosts(h) => hosts.extend(h),
            }
        }
        let mut inv = Inventory::load(&paths)?;
        for h in hosts {
            // `host:port` as ansible-core's host_list source reads it.
            let (name, port) = match h.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') && p.parse::<u16>().is_ok() => (n, Some(p)),
                _ => (h.as_str(), None),
            };
            let mut vars = Vars::new();
            if let Some(p) = port.and_then(|p| p.parse::<u16>().ok()) {
                vars.insert("ansible_port".into(), p.into());
            }
            inv.add_host(name, "ungrouped", vars);
        }
        Ok(inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_and_paths() {
        let d = tempfile::tempdir().expect("tempdir");
        let a = d.path().join("a.yml");
        std::fs::write(&a, "all: {}\n").expect("write");
        let both = PathBuf::from(format!("{},{}", a.display(), a.display()));
        assert_eq!(
            classify(&[both]),
            vec![Source::Path(a.clone()), Source::Path(a.clone())]
        );
        assert_eq!(
            classify(&[PathBuf::from("web1,web2:2222,")]),
            vec![Source::Hosts(vec!["web1".into(), "web2:2222".into()])]
        );
        assert_eq!(
            classify(&[PathBuf::from("missing.yml")]),
            vec![Source::Path(PathBuf::from("missing.yml"))]
        );
    }
}
