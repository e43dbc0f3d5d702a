//! Undefined variables found statically: every variable a task's templates and conditions use
//! must be defined somewhere the play can see (inventory, play/role/block/task vars, vars files,
//! registered results, set_fact, loop variables, extra vars, facts, magic variables). Uses guarded
//! by `default`, `is defined` or `mandatory` are left to run time, and so is a play that loads
//! variables in ways only the run knows (`include_vars`, includes whose file name is templated).

use super::model::{Include, IncludeKind, Item, LoopSpec, Play, Playbook, Task};
use crate::source::SourceError;
use crate::template::Templar;
use serde_json::Value as Json;
use std::collections::HashSet;

/// Names every task can use.
const MAGIC: &[&str] = &[
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "vars",
    "play_hosts",
    "playbook_dir",
    "role_path",
    "role_name",
    "omit",
    "item",
    "environment",
    "lookup",
    "query",
    "q",
    "range",
    "dict",
    "namespace",
    "cycler",
    "joiner",
    "debug",
    "now",
    "secret",
    "inventory_dir",
    "inventory_file",
    "hoist_version",
    "hoist_search_paths",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
];

#[derive(Default)]
struct Names {
    set: HashSet<String>,
    /// Registered results and set_fact names: they stay with the host for the later plays.
    host_scoped: HashSet<String>,
    /// Something defines variables only the run can know.
    dynamic: bool,
    depth: usize,
}

impl Names {
    fn task(&mut self, t: &Task) {
        self.set.extend(t.common.vars.keys().cloned());
        self.set.extend(t.register.iter().cloned());
        self.host_scoped.extend(t.register.iter().cloned());
        self.set.extend(t.loop_control.loop_var.iter().cloned());
        self.set.extend(t.loop_control.index_var.iter().cloned());
        if let Some(r) = &t.role {
            self.set.extend(
                r.defaults
                    .keys()
                    .chain(r.vars.keys())
                    .chain(r.params.keys())
                    .cloned(),
            );
        }
        match (t.action.as_str(), &t.args) {
            ("set_fact", Json::Object(m)) => {
                self.set.extend(m.keys().cloned());
                self.host_scoped.extend(m.keys().cloned());
            }
            ("include_vars", _) => self.dynamic = true,
            _ => {}
        }
    }

    fn items(&mut self, items: &[Item], play: &Play) {
        for i in items {
            match i {
                Item::Task(t) => self.task(t),
                Item::Block(b) => {
                    self.set.extend(b.common.vars.keys().cloned());
                    if let Some(r) = &b.role {
                        self.set.extend(
                            r.defaults
                                .keys()
                                .chain(r.vars.keys())
                                .chain(r.params.keys())
                                .cloned(),
                        );
                    }
                    for part in [&b.block, &b.rescue, &b.always] {
                        self.items(part, play);
                    }
                }
                Item::Include(inc) => self.include(inc, play),
            }
        }
    }

    /// Reads what a literal include defines (it is loaded again at run time).
    fn include(&mut self, inc: &Include, play: &Play) {
        self.set.extend(inc.params.keys().cloned());
        self.set.insert(
            inc.loop_control
                .loop_var
                .clone()
                .unwrap_or_else(|| "item".into()),
        );
        self.set.extend(inc.loop_control.index_var.iter().cloned());
        if Templar::is_template(&inc.target) || self.depth > 8 {
            self.dynamic = true;
            return;
        }
        let loaded = match &inc.kind {
            IncludeKind::Tasks => {
                let mut dirs = vec![inc.base_dir.clone()];
                if let Some(r) = &inc.role {
                    dirs.push(r.path.join("tasks"));
                }
                dirs.push(play.base_dir.clone());
                dirs.iter()
                    .map(|d| d.join(&inc.target))
                    .find(|p| p.is_file())
                    .and_then(|p| {
                        super::load_tasks_file(
                            &p,
                            inc.role.clone(),
                            &play.base_dir,
                            &play.collections,
                        )
                        .ok()
                    })
            }
            IncludeKind::Role { from, .. } => super::load_role_dynamic(
                &inc.target,
                from,
                &play.base_dir,
                &inc.origin,
                &play.collections,
            )
            .ok()
            .map(|(items, handlers)| items.into_iter().chain(handlers).collect()),
        };
        match loaded {
            Some(items) => {
                self.depth += 1;
                self.items(&items, play);
                self.depth -= 1;
            }
            None => self.dynamic = true,
        }
    }
}

/// The variables `s` uses that are not guarded (empty when the template is guarded or broken).
fn used(t: &Templar, s: &str, expression: bool) -> HashSet<String> {
    let guarded = [
        "default(",
        "| d(",
        "|d(",
        "is defined",
        "is not defined",
        "is undefined",
        "mandatory",
    ];
    if guarded.iter().any(|g| s.contains(g)) {
        return HashSet::new();
    }
    t.undeclared(s, expression)
}

fn strings<'a>(v: &'a Json, out: &mut Vec<&'a str>) {
    match v {
        Json::String(s) if Templar::is_template(s) => out.push(s),
        Json::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Json::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn check_task(t: &Templar, task: &Task, known: &HashSet<String>) -> Result<(), SourceError> {
    let unknown = |names: HashSet<String>| -> Option<String> {
        let mut bad: Vec<String> = names
            .into_iter()
            .filter(|n| !known.contains(n) && !n.starts_with("ansible_"))
            .collect();
        bad.sort();
        bad.into_iter().next()
    };
    let mut arg_strings: Vec<(String, Vec<&str>)> = Vec::new();
    if let Json::Object(args) = &task.args {
        for (k, v) in args {
            let mut s = Vec::new();
            strings(v, &mut s);
            arg_strings.push((k.clone(), s));
        }
    }
    let expression_module = matches!(task.action.as_str(), "assert" | "debug");
    for (arg, list) in &arg_strings {
        for s in list {
            if let Some(name) = unknown(used(t, s, false)) {
                let at = task
                    .arg_origins
                    .iter()
                    .find(|(n, _)| n == arg)
                    .map(|(_, o)| o)
                    .unwrap_or(&task.origin);
                return Err(at.error(format!("{}: argument `{arg}` uses the undefined variable `{name}`", task.action)).with_help(format!(
                    "define `{name}` (play or role vars, group_vars, vars_files, set_fact, register) or pass it with `-e {name}=...`; guard optional ones with `| default(...)`"
                )));
            }
        }
    }
    if expression_module && let Json::Object(args) = &task.args {
        let exprs: Vec<&str> = match (args.get("that"), args.get("var")) {
            (Some(Json::String(s)), _) | (_, Some(Json::String(s))) => vec![s.as_str()],
            (Some(Json::Array(a)), _) => a.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        for e in exprs {
            if let Some(name) = unknown(used(t, e, true)) {
                return Err(task.origin.error(format!(
                    "{}: `{e}` uses the undefined variable `{name}`",
                    task.action
                )));
            }
        }
    }
    let mut conds: Vec<(&str, &String)> = task.common.when.iter().map(|c| ("when", c)).collect();
    for (what, list) in [
        ("changed_when", &task.changed_when),
        ("failed_when", &task.failed_when),
        ("until", &task.until),
    ] {
        conds.extend(list.iter().flatten().map(|c| (what, c)));
    }
    let mut known_here = known.clone();
    known_here.extend(task.register.iter().cloned());
    for (what, c) in conds {
        let names = used(t, c, true);
        let bad: Vec<&String> = names
            .iter()
            .filter(|n| !known_here.contains(*n) && !n.starts_with("ansible_"))
            .collect();
        if let Some(name) = bad.first() {
            return Err(task.origin.error(format!(
                "`{what}: {c}` uses the undefined variable `{name}`"
            )));
        }
    }
    if let Some(LoopSpec::Loop(Json::String(s))) = &task.loop_
        && let Some(name) = unknown(used(t, s, false))
    {
        return Err(task
            .origin
            .error(format!("`loop` uses the undefined variable `{name}`")));
    }
    Ok(())
}

fn check_items(t: &Templar, items: &[Item], known: &HashSet<String>, out: &mut Vec<SourceError>) {
    for i in items {
        match i {
            Item::Task(task) => {
                if let Err(e) = check_task(t, task, known) {
                    out.push(e);
                }
            }
            Item::Block(b) => {
                for part in [&b.block, &b.rescue, &b.always] {
                    check_items(t, part, known, out);
                }
            }
            Item::Include(_) => {}
        }
    }
}

/// The names defined outside the playbook: every inventory host's variables and the extra vars.
pub fn outside_names(
    inv: &crate::inventory::Inventory,
    extra: &crate::inventory::Vars,
) -> HashSet<String> {
    let mut names: HashSet<String> = extra.keys().cloned().collect();
    for h in inv.hosts.keys() {
        names.extend(inv.host_vars(h).unwrap_or_default().keys().cloned());
    }
    names
}

/// Checks every play of `book`; `outside` holds inventory and extra-vars names. The first
/// finding is the error (`hoist check-syntax -i`).
pub fn check(book: &Playbook, outside: &HashSet<String>) -> Result<(), SourceError> {
    match findings(book, outside).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every variable a task uses that nothing defines, at most one a task. ansible-core meets
/// these only when the task runs (where `ignore_errors`, `rescue` or a skipping `when` may
/// be waiting), so `hoist run` shows them as warnings.
pub fn findings(book: &Playbook, outside: &HashSet<String>) -> Vec<SourceError> {
    let mut out = Vec::new();
    let t = Templar::new();
    let mut carried: HashSet<String> = HashSet::new();
    for play in &book.plays {
        let mut names = Names::default();
        names.set.extend(carried.iter().cloned());
        names.set.extend(MAGIC.iter().map(|s| s.to_string()));
        names.set.extend(outside.iter().cloned());
        names.set.extend(play.common.vars.keys().cloned());
        for vf in &play.vars_files {
            match vf.candidates.as_slice() {
                [file] if !Templar::is_template(file) => {
                    match super::load_vars(&play.base_dir.join(file)) {
                        Ok(v) => names.set.extend(v.keys().cloned()),
                        Err(_) => names.dynamic = true,
                    }
                }
                _ => names.dynamic = true,
            }
        }
        for items in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
            names.items(items, play);
        }
        names.items(&play.handlers, play);
        carried.extend(names.host_scoped.iter().cloned());
        if names.dynamic {
            continue;
        }
        // Failure details exist inside rescue sections.
        names
            .set
            .extend(["ansible_failed_task", "ansible_failed_result"].map(String::from));
        for items in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
            check_items(&t, items, &names.set, &mut out);
        }
        check_items(&t, &play.handlers, &names.set, &mut out);
    }
    out
}
