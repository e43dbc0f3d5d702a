//! Lookups, evaluated on the controller: `env`, `file`, `template`, `pipe`, `lines`, `fileglob`,
//! `first_found`, `items`/`list`, `dict`, `vars`, `sequence`, `password` (see password.rs). `lookup()` joins several results
//! with commas (Ansible's `wantlist=False`); `query()`/`q()` always return a list.
//! Relative paths are searched in `hoist_search_paths` (the role's and the playbook's `files/` and
//! `templates/` directories), as Ansible does.

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use std::path::{Path, PathBuf};

/// Every lookup hoist has (each also a `with_<name>` loop).
pub const NAMES: &[&str] = &[
    "config",
    "env",
    "file",
    "template",
    "pipe",
    "lines",
    "fileglob",
    "first_found",
    "password",
    "items",
    "list",
    "flattened",
    "dict",
    "indexed_items",
    "together",
    "nested",
    "subelements",
    "vars",
    "sequence",
    "varnames",
    "random_choice",
    "ini",
    "csvfile",
];

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Runs a lookup with ansible-core's `errors=`: `strict` (the default) fails the template,
/// `warn` and `ignore` make a failing lookup give nothing (`None`, or `[]` as a list); an
/// undefined value in its terms fails it in every case.
fn guarded(
    state: &State,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Option<Vec<Value>>, Error> {
    let errors: Option<String> = kwargs.peek("errors")?;
    match errors.as_deref() {
        None | Some("strict" | "warn" | "ignore") => {}
        Some(other) => {
            return Err(err(format!(
                "Invalid value {other:?} for 'errors' (choose from strict, warn, ignore)"
            )));
        }
    }
    match super::blocking::off_async(|| run(state, name, terms, kwargs)) {
        Ok(v) => Ok(Some(v)),
        Err(e)
            if e.kind() != ErrorKind::UndefinedError
                && matches!(errors.as_deref(), Some("warn" | "ignore")) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn lookup(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist: bool = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let Some(results) = guarded(state, &name, &terms, &kwargs)? else {
        return Ok(if wantlist {
            Value::from(Vec::<Value>::new())
        } else {
            Value::from(())
        });
    };
    if wantlist {
        return Ok(Value::from(results));
    }
    Ok(match results.len() {
        0 => Value::from(Vec::<Value>::new()),
        1 => results.into_iter().next().unwrap_or_default(),
        _ if results.iter().all(|r| r.kind() == ValueKind::String) => Value::from(
            results
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Value::from(results),
    })
}

fn query(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    Ok(Value::from(
        guarded(state, &name, &terms, &kwargs)?.unwrap_or_default(),
    ))
}

/// The terms as strings, with lists flattened one level.
fn strings(terms: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for t in terms {
        if t.kind() == ValueKind::Seq {
            if let Ok(items) = t.try_iter() {
                out.extend(items.map(|i| i.to_string()));
            }
        } else {
            out.push(t.to_string());
        }
    }
    out
}

/// Where relative files are looked for.
fn search_paths(state: &State, subdir: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let paths = state.lookup("hoist_search_paths");
    if let Some(Ok(items)) = paths.as_ref().map(|p| p.try_iter()) {
        for p in items {
            let p = PathBuf::from(p.to_string());
            dirs.push(p.join(subdir));
            dirs.push(p);
        }
    }
    dirs.push(PathBuf::from("."));
    dirs
}

/// Finds `name` in the search path (`files/` or `templates/` first).
pub fn find_file(state: &State, name: &str, subdir: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    search_paths(state, subdir)
        .into_iter()
        .map(|d| d.join(p))
        .find(|c| c.exists())
}

/// Python's name for the type of `v` (messages quote it).
pub(crate) fn python_type(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Bool => "bool",
        ValueKind::Number if v.as_i64().is_some() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::None | ValueKind::Undefined => "NoneType",
        _ => "object",
    }
}

fn run(state: &State, name: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let out = match name {
        "config" => super::config_lookup::run(terms, kwargs)?,
        "env" => {
            let default: Option<String> = kwargs.get("default")?;
            strings(terms)
                .iter()
                .map(|t| {
                    Value::from(
                        std::env::var(t)
                            .ok()
                            .or_else(|| default.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        }
        "file" => {
            let rstrip: bool = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            let lstrip: bool = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
            let mut out = Vec::new();
            for t in strings(terms) {
                let path = find_file(state, &t, "files")
                    .ok_or_else(|| err(format!("lookup('file'): could not find `{t}`")))?;
                // A vaulted file is decrypted with the run's passwords, as ansible-core does.
                let mut s = crate::vault::read_text(&path)
                    .map_err(|e| err(format!("lookup('file'): {}: {e}", path.display())))?;
                if rstrip {
                    s.truncate(s.trim_end().len());
                }
                if lstrip {
                    s = s.trim_start().to_string();
                }
                out.push(Value::from(s));
            }
            out
        }
        "template" => {
            let mut out = Vec::new();
            for t in strings(terms) {
                let path = find_file(state, &t, "templates")
                    .ok_or_else(|| err(format!("lookup('template'): could not find `{t}`")))?;
                let source = crate::vault::read_text(&path)
                    .map_err(|e| err(format!("lookup('template'): {}: {e}", path.display())))?;
                // The task's variables (`vars`), else everything the template context knows.
                let ctx = state.lookup("vars").unwrap_or_else(|| {
                    let all: indexmap::IndexMap<Value, Value> = state
                        .known_variables()
                        .iter()
                        .filter_map(|k| Some((Value::from(k.as_ref()), state.lookup(k)?)))
                        .collect();
                    Value::from_object(all)
                });
                let name = std::fs::canonicalize(&path)
                    .unwrap_or(path)
                    .display()
                    .to_string();
                let source = super::pyformat::rewrite_template(&source);
                out.push(Value::from(
                    state.env().render_named_str(&name, &source, ctx)?,
                ));
            }
            out
        }
        "pipe" | "lines" => {
            let mut out = Vec::new();
            for t in strings(terms) {
                let o = super::blocking::command(&t, super::blocking::limit())
                    .map_err(|e| err(format!("lookup('{name}'): {e}")))?;
                if !o.success {
                    return Err(err(format!(
                        "lookup('{name}'): `{t}` exited with {}",
                        o.status
                    )));
                }
                let s = String::from_utf8_lossy(&o.stdout);
                if name == "pipe" {
                    out.push(Value::from(s.trim_end().to_string()));
                } else {
                    out.extend(s.lines().map(|l| Value::from(l.to_string())));
                }
            }
            out
        }
        "fileglob" => {
            let mut out = Vec::new();
            for t in strings(terms) {
                // As ansible-core: a pattern with a directory globs in the one directory the
                // search path finds; a bare pattern tries each search path's `files/` and the
                // path itself, and the first with a match wins.
                let (dirs, pat) = match t.rsplit_once('/') {
                    Some((d, p)) if Path::new(d).is_absolute() || d.is_empty() => {
                        (vec![PathBuf::from(if d.is_empty() { "/" } else { d })], p)
                    }
                    Some((d, p)) => (find_file(state, d, "files").into_iter().collect(), p),
                    None => (search_paths(state, "files"), t.as_str()),
                };
                if let Some(found) = dirs
                    .iter()
                    .map(|d| crate::glob::matching_files(d, pat))
                    .find(|m| !m.is_empty())
                {
                    out.extend(found.into_iter().map(Value::from));
                }
            }
            out
        }
        "first_found" => {
            // `with_first_found` looks in the subdirectory the task's action names.
            let subdir = kwargs
                .get::<Option<String>>("_hoist_subdir")?
                .unwrap_or_else(|| "files".into());
            // As ansible-core: `files` split on `,` and `;`, `paths` also on `:`.
            let split = |v: Vec<String>, seps: &[char]| -> Vec<String> {
                v.iter()
                    .flat_map(|s| s.split(seps).map(str::trim).map(str::to_string))
                    .filter(|p| !p.is_empty() && p != "undefined")
                    .collect()
            };
            let option = |v: Option<Value>| v.filter(|v| !v.is_undefined() && !v.is_none());
            // The options as ansible-core sets them: from the keyword arguments first, then
            // from each mapping term, which replaces them all (a mapping without `paths`
            // searches no paths; the last mapping's `skip` decides).
            let mut paths: Vec<String> = option(kwargs.get::<Option<Value>>("paths")?)
                .map(|p| split(strings(&[p]), &[',', ';', ':']))
                .unwrap_or_default();
            let mut skip: bool = kwargs.get::<Option<bool>>("skip")?.unwrap_or(false);
            let mut terms: Vec<Value> = terms.to_vec();
            if terms.is_empty() {
                terms.extend(option(kwargs.get::<Option<Value>>("files")?));
            }
            // The candidates in ansible-core's order: each term's files, under each of its
            // paths in turn when it has any; strings, mappings and lists of them, nested as
            // deep as they come.
            let mut search: Vec<String> = Vec::new();
            let mut add = |files: Vec<String>, paths: &[String]| {
                if paths.is_empty() {
                    search.extend(files);
                } else {
                    for p in paths {
                        search.extend(
                            files
                                .iter()
                                .map(|f| Path::new(p).join(f).display().to_string()),
                        );
                    }
                }
            };
            let mut stack: Vec<Value> = terms.into_iter().rev().collect();
            while let Some(t) = stack.pop() {
                match t.kind() {
                    ValueKind::String => add(vec![t.to_string()], &paths),
                    ValueKind::Seq => {
                        let items: Vec<Value> = t.try_iter()?.collect();
                        stack.extend(items.into_iter().rev());
                    }
                    ValueKind::Map => {
                        let given = |key: &str| option(t.get_attr(key).ok());
                        paths = given("paths")
                            .map(|p| split(strings(&[p]), &[',', ';', ':']))
                            .unwrap_or_default();
                        skip = given("skip").is_some_and(|v| v.is_true());
                        let files = given("files")
                            .map(|f| split(strings(&[f]), &[',', ';']))
                            .unwrap_or_default();
                        add(files, &paths);
                    }
                    _ => {
                        return Err(err(format!(
                            "Invalid term supplied. A string, dict or list is required, not '{}').",
                            python_type(&t)
                        )));
                    }
                }
            }
            // Each candidate is looked for where a relative file name is: absolute as is, else
            // in the role's and the playbook's directories (and their `files/`).
            let found = search.iter().find_map(|f| find_file(state, f, &subdir));
            match found {
                Some(p) => vec![Value::from(p.display().to_string())],
                None if skip => Vec::new(),
                None => {
                    return Err(err("No file was found when using first_found."));
                }
            }
        }
        "password" => {
            let base = PathBuf::from(
                state
                    .lookup("playbook_dir")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| ".".into()),
            );
            let mut out = Vec::new();
            for t in strings(terms) {
                let spec = super::password::parse(&t).map_err(err)?;
                out.push(Value::from(
                    super::password::get(&spec, &base).map_err(err)?,
                ));
            }
            out
        }
        // `list` gives its terms as they are; the list reshapers are shared with the loops.
        "list" => terms.to_vec(),
        n if super::list_lookups::NAMES.contains(&n) => {
            let json: Vec<serde_json::Value> = terms
                .iter()
                .map(|t| serde_json::to_value(t).map_err(|e| err(e.to_string())))
                .collect::<Result<_, _>>()?;
            super::list_lookups::run(n, &json)
                .map_err(err)?
                .iter()
                .map(super::to_jinja)
                .collect()
        }
        "vars" => {
            let default: Option<Value> = kwargs.get("default")?;
            let mut out = Vec::new();
            for t in strings(terms) {
                if let Some(bad) = terms.iter().find(|v| v.kind() != ValueKind::String) {
                    return Err(err(format!(
                        "Variable name must be 'str' not '{}'",
                        python_type(bad)
                    )));
                }
                match state
                    .lookup(&t)
                    .filter(|v| !v.is_undefined())
                    .or_else(|| default.clone())
                {
                    Some(v) => out.push(v),
                    None => {
                        return Err(Error::new(
                            ErrorKind::UndefinedError,
                            format!("No variable named '{t}' was found"),
                        ));
                    }
                }
            }
            out
        }
        "ini" | "csvfile" => {
            let mut options = serde_json::Map::new();
            for k in [
                "file",
                "section",
                "re",
                "default",
                "type",
                "encoding",
                "case_sensitive",
                "allow_no_value",
                "allow_none",
                "interpolation",
                "delimiter",
                "col",
                "keycol",
            ] {
                if let Some(v) = kwargs.get::<Option<Value>>(k)? {
                    options.insert(
                        k.to_string(),
                        serde_json::to_value(&v).map_err(|e| err(e.to_string()))?,
                    );
                }
            }
            let find = |f: &str| find_file(state, f, "files");
            let mut out = Vec::new();
            for t in strings(terms) {
                let got = if name == "ini" {
                    super::file_lookups::ini(&t, &options, &find)
                } else {
                    super::file_lookups::csvfile(&t, &options, &find)
                };
                out.extend(got.map_err(err)?.iter().map(super::to_jinja));
            }
            if terms.is_empty() && name == "csvfile" {
                return Err(err("Search key is required but was not found"));
            }
            out
        }
        "varnames" => {
            let names = state.known_variables();
            let mut out = Vec::new();
            for term in terms {
                if term.kind() != ValueKind::String {
                    return Err(err(format!(
                        "Invalid setting identifier, \"{term}\" is not a string, it is a <class '{}'>",
                        python_type(term)
                    )));
                }
                let t = term.to_string();
                let re = fancy_regex::Regex::new(&t).map_err(|e| {
                    err(format!(
                        "Unable to use \"{t}\" as a search parameter: {}",
                        super::pyre::python_message(&e)
                    ))
                })?;
                out.extend(
                    names
                        .iter()
                        .filter(|n| {
                            !n.starts_with("hoist_") && re.is_match(n.as_ref()).unwrap_or(false)
                        })
                        .map(|n| Value::from(n.to_string())),
                );
            }
            out
        }
        "random_choice" => {
            use rand::seq::IndexedRandom;
            let all: Vec<Value> = terms
                .iter()
                .flat_map(|t| match t.kind() {
                    ValueKind::Seq => t.try_iter().map(|i| i.collect()).unwrap_or_default(),
                    _ => vec![t.clone()],
                })
                .collect();
            all.choose(&mut rand::rng()).cloned().into_iter().collect()
        }
        "sequence" => {
            let mut options = serde_json::Map::new();
            for k in ["start", "end", "stride", "count", "format"] {
                if let Some(v) = kwargs.get::<Option<Value>>(k)? {
                    options.insert(
                        k.to_string(),
                        serde_json::to_value(&v).map_err(|e| err(e.to_string()))?,
                    );
                }
            }
            let mut terms = strings(terms);
            if terms.is_empty() && !options.is_empty() {
                terms.push(String::new());
            }
            let mut out = Vec::new();
            for t in terms {
                out.extend(
                    super::sequence::run(&t, &options)
                        .map_err(err)?
                        .into_iter()
                        .map(Value::from),
                );
            }
            out
        }
        other => {
            return Err(err(format!(
                "The lookup plugin {} was not found.",
                super::pyformat::py_repr(&Value::from(other))
            )));
        }
    };
    let _ = kwargs.get::<Option<bool>>("wantlist");
    let _ = kwargs.get::<Option<Value>>("errors");
    kwargs.assert_all_used()?;
    Ok(out)
}
