//! `include_vars`: variables from a file, or from every vars file under a directory, read on
//! the controller (as ansible-core's action plugin: `file`/free-form or `dir` with `depth`,
//! `files_matching`, `ignore_files`, `extensions`, `ignore_unknown_extensions`; `name` to
//! nest them; `hash_behaviour: merge` to merge into the variables' current values). The text
//! is the operator's vars-file text: it stays templated, as vars files are.

use crate::inventory::Vars;
use crate::modules::types::{Bool, Int, List};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeVars {
    #[serde(rename = "_raw_params")]
    raw: Option<String>,
    file: Option<String>,
    dir: Option<String>,
    name: Option<String>,
    depth: Option<Int>,
    files_matching: Option<String>,
    ignore_files: Option<List>,
    extensions: Option<List>,
    #[serde(default)]
    ignore_unknown_extensions: Bool,
    hash_behaviour: Option<String>,
}

/// The vars files under `dir`, in ansible-core's order (directories sorted, files sorted in
/// each), down to `depth` levels (0: all).
fn walk(dir: &Path, depth: usize) -> Vec<PathBuf> {
    fn visit(d: &Path, level: usize, depth: usize, out: &mut Vec<(PathBuf, Vec<PathBuf>)>) {
        if depth != 0 && level > depth {
            return;
        }
        let Ok(rd) = std::fs::read_dir(d) else { return };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
        files.sort();
        out.push((d.to_path_buf(), files));
        for sub in dirs {
            visit(&sub, level + 1, depth, out);
        }
    }
    let mut all = Vec::new();
    visit(dir, 1, depth, &mut all);
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.into_iter().flat_map(|(_, f)| f).collect()
}

impl IncludeVars {
    /// The files to read, with their checks applied.
    fn files(&self, ctx: &Ctx<'_>) -> Result<Vec<PathBuf>, ModuleError> {
        match (&self.dir, self.file.as_ref().or(self.raw.as_ref())) {
            (Some(_), Some(_)) => {
                fail("You are mixing file only and dir only arguments, these are incompatible")
            }
            // ansible-core looks for no file at all and says so.
            (None, None) => fail("Could not find file"),
            (None, Some(file)) => {
                let file = file.trim();
                if file.is_empty() {
                    return fail("Could not find file");
                }
                ctx.find_file(file, "vars")
                    .map(|p| vec![p])
                    .map_err(|_| ModuleError::Failed(format!("Could not find or access '{file}'")))
            }
            (Some(dir), None) => {
                let base = ctx
                    .find_file(dir, "vars")
                    .map_err(|_| ModuleError::Failed(format!("{dir} directory does not exist")))?;
                if !base.is_dir() {
                    return fail(format!("{dir} is not a directory"));
                }
                let exts: Vec<String> = self
                    .extensions
                    .as_ref()
                    .map(|l| l.0.clone())
                    .unwrap_or_else(|| vec!["json".into(), "yaml".into(), "yml".into()]);
                let matcher = match &self.files_matching {
                    Some(m) => Some(fancy_regex::Regex::new(m).map_err(|e| {
                        ModuleError::Failed(format!("invalid files_matching `{m}`: {e}"))
                    })?),
                    None => None,
                };
                let ignore: Vec<fancy_regex::Regex> = self
                    .ignore_files
                    .as_ref()
                    .map(|l| {
                        l.0.iter()
                            .filter_map(|p| fancy_regex::Regex::new(&format!("{p}$")).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                let depth = self.depth.map(|d| d.0.max(0) as usize).unwrap_or(0);
                let mut out = Vec::new();
                for p in walk(&base, depth) {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if ignore.iter().any(|r| r.is_match(&name).unwrap_or(false)) {
                        continue;
                    }
                    let ext = p
                        .extension()
                        .map(|e| e.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if !exts.contains(&ext) {
                        if self.ignore_unknown_extensions.0 {
                            continue;
                        }
                        return fail(format!(
                            "{} does not have a valid extension: {}",
                            p.display(),
                            exts.join(", ")
                        ));
                    }
                    if let Some(m) = &matcher
                        && !m.is_match(&name).unwrap_or(false)
                    {
                        continue;
                    }
                    out.push(p);
                }
                Ok(out)
            }
        }
    }
}

impl Module for IncludeVars {
    const FREE_FORM: bool = true;
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let merge = match self.hash_behaviour.as_deref() {
            None | Some("replace") => false,
            Some("merge") => true,
            Some(other) => {
                return fail(format!(
                    "hash_behaviour must be replace or merge, got {other}"
                ));
            }
        };
        // ansible-core reports these failures under `message` (and hoist also under `msg`).
        let failed = |m: String| {
            let mut o = Outcome::ok().msg(m.clone()).with("message", m);
            o.failed = true;
            Ok(o)
        };
        let files = match self.files(ctx) {
            Ok(f) => f,
            Err(e) => return failed(e.to_string()),
        };
        let mut vars = Vars::new();
        for path in &files {
            match crate::playbook::load_vars(path) {
                Ok(v) => vars.extend(v),
                Err(e) => return failed(e.to_string()),
            }
        }
        if merge {
            for (k, v) in vars.iter_mut() {
                if let Ok(old) = ctx.vars.get_attr(k)
                    && !old.is_undefined()
                    && let Ok(mut base) = serde_json::to_value(&old)
                {
                    crate::template::merge_hash(&mut base, v);
                    *v = base;
                }
            }
        }
        let vars = match &self.name {
            Some(n) => Vars::from_iter([(n.clone(), Json::Object(vars))]),
            None => vars,
        };
        let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        let mut o = Outcome::ok().with("ansible_included_var_files", json!(shown));
        o.data.insert(
            "ansible_facts".into(),
            crate::template::unsafe_text::strip(&Json::Object(vars.clone())),
        );
        o.included_vars = Some(vars);
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_sorted_and_to_depth() {
        let d = std::env::temp_dir().join(format!("hoist-iv-{}", std::process::id()));
        std::fs::create_dir_all(d.join("b/deep")).unwrap();
        for f in ["z.yml", "a.yml", "b/x.yml", "b/deep/y.yml"] {
            std::fs::write(d.join(f), "k: 1\n").unwrap();
        }
        let rel = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(&d).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(walk(&d, 0)),
            ["a.yml", "z.yml", "b/x.yml", "b/deep/y.yml"]
        );
        assert_eq!(rel(walk(&d, 1)), ["a.yml", "z.yml"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
