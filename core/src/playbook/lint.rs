//! Static checks run before any host is touched (and by `hoist check-syntax`): every template
//! and conditional compiles, loops over literals are lists, notified handlers exist.

use super::model::{Item, LoopSpec, Origin, Play, Playbook, Task};
use crate::source::SourceError;
use crate::template::Templar;
use serde_json::Value as Json;

/// Runs every static check on `book`; the first finding is the error (`hoist check-syntax`).
pub fn check(book: &Playbook) -> Result<(), SourceError> {
    match findings(book).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every static finding in `book`, at most one a task. None of these stop ansible-core before
/// a run (a template that does not compile, a loop over a non-list and a missing handler fail
/// when the task runs), so `hoist run` shows them as warnings and fails those tasks then.
pub fn findings(book: &Playbook) -> Vec<SourceError> {
    let t = Templar::new();
    let mut out = Vec::new();
    for play in &book.plays {
        if Templar::is_template(&play.hosts)
            && let Err(e) = t.check_template(&play.hosts)
        {
            out.push(play.origin.error(format!("hosts: {e}")));
        }
        let handler_names = handler_names(play);
        let dynamic_handlers = has_include_role(play);
        for items in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
            let mut found = Vec::new();
            let mut conds = Vec::new();
            visit(
                items,
                &mut |task| {
                    if let Err(e) =
                        task_findings(&t, task, &play.base_dir, &handler_names, dynamic_handlers)
                    {
                        found.push(e);
                    }
                },
                &mut conds,
            );
            out.extend(conds);
            out.extend(found);
        }
        for h in &play.handlers {
            if let Item::Task(h) = h
                && let Err(e) = check_task(&t, h, &play.base_dir)
            {
                out.push(e);
            }
        }
    }
    out
}

fn task_findings(
    t: &Templar,
    task: &Task,
    play_dir: &std::path::Path,
    handler_names: &[String],
    dynamic_handlers: bool,
) -> Result<(), SourceError> {
    check_task(t, task, play_dir)?;
    if !dynamic_handlers {
        for n in &task.notify {
            if !Templar::is_template(n) && !handler_names.iter().any(|h| h == n) {
                return Err(task
                    .origin
                    .error(format!(
                        "notified handler `{n}` does not exist in this play"
                    ))
                    .with_help(if handler_names.is_empty() {
                        "the play has no handlers".to_string()
                    } else {
                        format!("known handlers: {}", handler_names.join(", "))
                    }));
            }
        }
    }
    Ok(())
}

/// How many tasks a play holds (statically known ones).
pub fn count_tasks(play: &Play) -> usize {
    let mut n = 0;
    for items in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
        let _ = for_each_task(items, &mut |_| {
            n += 1;
            Ok(())
        });
    }
    n + play.handlers.len()
}

fn handler_names(play: &Play) -> Vec<String> {
    play.handlers.iter().flat_map(Item::handler_names).collect()
}

fn has_include_role(play: &Play) -> bool {
    fn walk(items: &[Item]) -> bool {
        items.iter().any(|i| match i {
            Item::Include(inc) => matches!(inc.kind, super::model::IncludeKind::Role { .. }),
            Item::Block(b) => walk(&b.block) || walk(&b.rescue) || walk(&b.always),
            Item::Task(_) => false,
        })
    }
    [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks]
        .iter()
        .any(|i| walk(i))
}

fn for_each_task(
    items: &[Item],
    f: &mut dyn FnMut(&Task) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    for i in items {
        match i {
            Item::Task(t) => f(t)?,
            Item::Block(b) => {
                check_conditions(&Templar::new(), &b.common.when, &b.origin, "when")?;
                for part in [&b.block, &b.rescue, &b.always] {
                    for_each_task(part, f)?;
                }
            }
            Item::Include(inc) => {
                check_conditions(&Templar::new(), &inc.common.when, &inc.origin, "when")?
            }
        }
    }
    Ok(())
}

/// Calls `f` for every task in `items`; block and include conditions that do not compile go
/// to `errs`.
fn visit(items: &[Item], f: &mut dyn FnMut(&Task), errs: &mut Vec<SourceError>) {
    let t = Templar::new();
    for i in items {
        match i {
            Item::Task(task) => f(task),
            Item::Block(b) => {
                if let Err(e) = check_conditions(&t, &b.common.when, &b.origin, "when") {
                    errs.push(e);
                }
                for part in [&b.block, &b.rescue, &b.always] {
                    visit(part, f, errs);
                }
            }
            Item::Include(inc) => {
                if let Err(e) = check_conditions(&t, &inc.common.when, &inc.origin, "when") {
                    errs.push(e);
                }
            }
        }
    }
}

fn check_conditions(
    t: &Templar,
    conds: &[String],
    at: &Origin,
    what: &str,
) -> Result<(), SourceError> {
    for c in conds {
        t.check_condition(c)
            .map_err(|e| at.error(format!("`{what}: {c}` does not compile: {e}")))?;
    }
    Ok(())
}

/// Every string inside `v` that holds a template must compile.
fn check_value(t: &Templar, v: &Json) -> Result<(), String> {
    match v {
        Json::String(s) if Templar::is_template(s) => {
            t.check_template(s).map_err(|e| format!("`{s}`: {e}"))
        }
        Json::Array(a) => a.iter().try_for_each(|x| check_value(t, x)),
        Json::Object(m) => m.iter().try_for_each(|(k, x)| {
            if Templar::is_template(k) {
                t.check_template(k).map_err(|e| format!("`{k}`: {e}"))?;
            }
            check_value(t, x)
        }),
        _ => Ok(()),
    }
}

fn check_task(t: &Templar, task: &Task, play_dir: &std::path::Path) -> Result<(), SourceError> {
    if let Some(e) = &task.arg_issue {
        return Err(e.clone());
    }
    if let Json::Object(args) = &task.args {
        for (k, v) in args {
            check_value(t, v).map_err(|e| {
                let at = task
                    .arg_origins
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, o)| o)
                    .unwrap_or(&task.origin);
                at.error(format!(
                    "{}: argument `{k}`: template error in {e}",
                    task.action
                ))
            })?;
        }
    }
    check_conditions(t, &task.common.when, &task.origin, "when")?;
    for (conds, what) in [
        (&task.changed_when, "changed_when"),
        (&task.failed_when, "failed_when"),
        (&task.until, "until"),
    ] {
        if let Some(c) = conds {
            check_conditions(t, c, &task.origin, what)?;
        }
    }
    if task.action == "template" {
        check_template_file(t, task, play_dir)?;
    }
    if let Some(name) = &task.common.name {
        check_value(t, &Json::String(name.clone())).map_err(|e| {
            task.origin
                .error(format!("task name: template error in {e}"))
        })?;
    }
    match &task.loop_ {
        Some(LoopSpec::Loop(v)) => {
            match v {
                Json::Array(_) => check_value(t, v)
                    .map_err(|e| task.origin.error(format!("loop: template error in {e}")))?,
                Json::String(s) if Templar::is_template(s) => check_value(t, v)
                    .map_err(|e| task.origin.error(format!("loop: template error in {e}")))?,
                other => {
                    return Err(task.origin.error(format!("`loop` requires a list, got {}", kind(other))).with_help("write a YAML list, or a template that gives one (`loop: \"{{ users }}\"`)"));
                }
            }
        }
        Some(LoopSpec::With { terms, .. }) => check_value(t, terms)
            .map_err(|e| task.origin.error(format!("loop: template error in {e}")))?,
        None => {}
    }
    Ok(())
}

/// A `template:` task's source file (when its name is literal) must compile; errors point into
/// the template file itself.
fn check_template_file(
    t: &Templar,
    task: &Task,
    play_dir: &std::path::Path,
) -> Result<(), SourceError> {
    let Some(src) = task.args.get("src").and_then(Json::as_str) else {
        return Ok(());
    };
    if Templar::is_template(src) {
        return Ok(());
    }
    let base = task.origin.doc.dir().to_path_buf();
    let mut dirs = Vec::new();
    if let Some(r) = &task.role {
        dirs.push(r.path.join("templates"));
        dirs.push(r.path.clone());
    }
    // As at run time: the role, then the play's directory; then next to the task file.
    dirs.push(play_dir.join("templates"));
    dirs.push(play_dir.to_path_buf());
    dirs.push(base.join("templates"));
    dirs.push(base.clone());
    if let Some(parent) = base.parent() {
        dirs.push(parent.join("templates"));
    }
    dirs.dedup();
    let found = if std::path::Path::new(src).is_absolute() {
        Some(std::path::PathBuf::from(src))
    } else {
        dirs.iter().map(|d| d.join(src)).find(|p| p.is_file())
    };
    let Some(path) = found else {
        let at = task
            .arg_origins
            .iter()
            .find(|(n, _)| n == "src")
            .map(|(_, o)| o)
            .unwrap_or(&task.origin);
        return Err(at
            .error(format!("template: `{src}` was not found"))
            .with_help(format!(
                "looked in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| SourceError::new(&path, None, format!("cannot read the template: {e}")))?;
    match t.check_template_source(&text) {
        Ok(()) => Ok(()),
        Err((msg, offset)) => {
            let pos = offset.map(|o| {
                let before = &text[..o.min(text.len())];
                crate::source::Pos {
                    line: before.matches('\n').count() + 1,
                    column: before
                        .rsplit('\n')
                        .next()
                        .map(|l| l.chars().count())
                        .unwrap_or(0)
                        + 1,
                }
            });
            Err(
                SourceError::new(&path, pos, format!("template syntax error: {msg}"))
                    .with_text(&text),
            )
        }
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}
