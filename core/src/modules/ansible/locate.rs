//! Finding an Ansible module hoist has no native version of: `library/` directories beside the
//! playbook and in the role (and `ANSIBLE_LIBRARY`) first, as ansible-core does, then
//! ansible-core's own modules and installed collections through the helper. The answer says
//! how the module reads its arguments and whether hoist can run it at all.

use super::helper;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How a module takes its arguments (ansible-core's module styles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Python importing `ansible.module_utils`: built into an AnsiballZ payload by the helper.
    NewPython,
    /// Reads a JSON file named by its first argument (`WANT_JSON`).
    WantJson,
    /// Has the JSON arguments pasted in place of `<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>`.
    JsonArgs,
    /// A program of any kind: reads `key=value` words from a file named by its first argument.
    Old,
    /// A compiled program: reads a JSON file named by its first argument.
    Binary,
}

/// A module found for a task.
#[derive(Debug, Clone)]
pub struct Located {
    /// The name as the task wrote it.
    pub name: String,
    /// Its fully qualified name (`ansible.builtin.slurp`, `ansible.legacy.my_module`).
    pub fqcn: String,
    pub path: PathBuf,
    pub style: Style,
    /// Why hoist cannot run it (it needs an action plugin on the controller), if so.
    pub refusal: Option<String>,
}

impl Located {
    /// The short name modules see as `_ansible_module_name`.
    pub fn short(&self) -> &str {
        self.fqcn.rsplit('.').next().unwrap_or(&self.fqcn)
    }
}

/// ansible-core's action plugins that only choose the module to run (hoist runs the module).
const PLAIN_ACTIONS: &[&str] = &["ansible.builtin.dnf", "ansible.builtin.service"];

const JSONARGS: &[u8] = b"<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>";

/// The style of a module's source, as ansible-core decides it.
pub fn style_of(data: &[u8]) -> Style {
    let head = &data[..data.len().min(1024)];
    let text =
        |b: &u8| matches!(b, 7..=10 | 12 | 13 | 27) || (0x20..=0xff).contains(b) && *b != 0x7f;
    if !head.iter().all(text) {
        return Style::Binary;
    }
    let s = String::from_utf8_lossy(data);
    let new_style = s.contains("#<<INCLUDE_ANSIBLE_MODULE_COMMON>>")
        || s.lines().any(|l| {
            let l = l.trim_start();
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                ["from", m, "import", ..] => {
                    m.starts_with("ansible.module_utils")
                        || m.starts_with("..")
                        || (m.starts_with("ansible_collections.")
                            && m.contains(".plugins.module_utils"))
                }
                ["import", m, ..] => {
                    m.starts_with("ansible.module_utils.")
                        || (m.starts_with("ansible_collections.")
                            && m.contains(".plugins.module_utils"))
                }
                _ => false,
            }
        });
    if new_style {
        Style::NewPython
    } else if data.windows(JSONARGS.len()).any(|w| w == JSONARGS) {
        Style::JsonArgs
    } else if data.windows(9).any(|w| w == b"WANT_JSON") {
        Style::WantJson
    } else {
        Style::Old
    }
}

/// The library directories for a task: `library/` in each of `bases`, then `ANSIBLE_LIBRARY`.
pub fn library_dirs<'a>(bases: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for b in bases {
        let d = b.join("library");
        if d.is_dir() && !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    if let Some(v) = std::env::var_os("ANSIBLE_LIBRARY") {
        dirs.extend(std::env::split_paths(&v).filter(|d| d.is_dir()));
    }
    dirs
}

/// A module file called `name` in `dir`: `name`, or `name.<ext>` (not compiled Python,
/// PowerShell or documentation).
fn in_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.is_file() {
        return Some(exact);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_stem().and_then(|s| s.to_str()) == Some(name)
                && !matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some(
                        "pyc"
                            | "pyo"
                            | "ps1"
                            | "psm1"
                            | "cs"
                            | "yml"
                            | "yaml"
                            | "md"
                            | "rst"
                            | "txt"
                    )
                )
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

fn located(
    name: &str,
    fqcn: String,
    path: PathBuf,
    refusal: Option<String>,
) -> Result<Located, String> {
    let path = std::path::absolute(&path).unwrap_or(path);
    let data = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Located {
        name: name.to_string(),
        fqcn,
        style: style_of(&data),
        path,
        refusal,
    })
}

/// Module `name` in a library directory, when one holds it (only short names and
/// `ansible.legacy.` names are looked up there, as in ansible-core).
pub fn in_library(name: &str, dirs: &[PathBuf]) -> Option<Result<Arc<Located>, String>> {
    let short = name.strip_prefix("ansible.legacy.").unwrap_or(name);
    if short.contains('.') {
        return None;
    }
    let p = dirs.iter().find_map(|d| in_dir(d, short))?;
    Some(located(name, format!("ansible.legacy.{short}"), p, None).map(Arc::new))
}

fn lookup(name: &str, dirs: &[PathBuf], collections: &[String]) -> Result<Located, String> {
    if let Some(found) = in_library(name, dirs) {
        return found.map(|l| (*l).clone());
    }
    let answer = helper::find(name, dirs, collections).map_err(|e| e.to_string())?;
    if answer.get("found").and_then(Json::as_bool) != Some(true) {
        return Err("ansible-core does not have it either".into());
    }
    let text = |k: &str| answer.get(k).and_then(Json::as_str).map(str::to_string);
    let path = text("path").ok_or("the helper gave no path")?;
    let fqcn = text("fqcn").unwrap_or_else(|| name.to_string());
    let refusal = text("action")
        .filter(|a| !PLAIN_ACTIONS.contains(&a.as_str()))
        .map(|a| {
            format!(
                "`{name}` needs ansible-core's controller-side action plugin `{a}`, which hoist does not run, and hoist has no native `{name}`"
            )
        });
    located(name, fqcn, PathBuf::from(path), refusal)
}

type Cache = HashMap<(String, Vec<PathBuf>, Vec<String>), Result<Arc<Located>, String>>;
static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// Finds module `name` for a task whose library directories are `dirs`. Blocking (it may
/// start the helper); answers are cached for the process.
pub fn locate(name: &str, dirs: &[PathBuf]) -> Result<Arc<Located>, String> {
    locate_in(name, dirs, &[])
}

/// Like [`locate`], a short name searched in `collections` first (the `collections:` keyword
/// in force), as ansible-core searches it.
pub fn locate_in(
    name: &str,
    dirs: &[PathBuf],
    collections: &[String],
) -> Result<Arc<Located>, String> {
    let key = (name.to_string(), dirs.to_vec(), collections.to_vec());
    if let Some(hit) = CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return hit.clone();
    }
    let found = lookup(name, dirs, collections).map(Arc::new);
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(key, found.clone());
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_follow_ansible_core() {
        assert_eq!(
            style_of(b"#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n"),
            Style::NewPython
        );
        assert_eq!(
            style_of(b"import ansible.module_utils.basic\n"),
            Style::NewPython
        );
        assert_eq!(
            style_of(b"from ansible_collections.ns.c.plugins.module_utils.x import y\n"),
            Style::NewPython
        );
        assert_eq!(
            style_of(b"#!/bin/sh\n# WANT_JSON\ncat $1\n"),
            Style::WantJson
        );
        assert_eq!(
            style_of(b"#!/usr/bin/python\nargs = '<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>'\n"),
            Style::JsonArgs
        );
        assert_eq!(style_of(b"#!/bin/sh\nsource $1\necho '{}'\n"), Style::Old);
        assert_eq!(style_of(b"\x7fELF\x02\x01\x01\0\0\0"), Style::Binary);
    }

    #[test]
    fn library_files_match_by_stem() {
        let dir = std::env::temp_dir().join(format!("hoist-lib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("my_mod.py"), "#!/usr/bin/python\n").unwrap();
        std::fs::write(dir.join("other.ps1"), "").unwrap();
        std::fs::write(dir.join("plain"), "#!/bin/sh\n").unwrap();
        assert_eq!(in_dir(&dir, "my_mod"), Some(dir.join("my_mod.py")));
        assert_eq!(in_dir(&dir, "plain"), Some(dir.join("plain")));
        assert_eq!(in_dir(&dir, "other"), None);
        let l = locate("plain", std::slice::from_ref(&dir)).unwrap();
        assert_eq!(
            (l.fqcn.as_str(), l.style, l.short()),
            ("ansible.legacy.plain", Style::Old, "plain")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
