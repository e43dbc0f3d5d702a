//! One task on one host: `when`, loops, argument templating, delegation, the module itself,
//! `until`/`retries`, `changed_when`/`failed_when`, `ignore_errors`, and the registered result.

use super::events::{Event, HostEvent, Status};
use super::inherit::Inherit;
use super::loops;
use super::runner::{PlayCtx, Runner};
use crate::inventory::Vars;
use crate::modules::{self, Ctx, Meta, ModuleError, Outcome};
use crate::playbook::Task;
use crate::template::{OMIT, Scope, TemplateError};
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// Data is not code: the expressions `assert` evaluates (`that`) and the variable `debug`
/// shows (`var`) must be written by the operator. One that came out of data (a loop item
/// splatted into the arguments) or is marked `!unsafe` is refused, as ansible-core refuses
/// untrusted expressions.
fn untrusted_expression(
    task: &Task,
    given: &Json,
    args: &Json,
    operator_raw: impl Fn(&str) -> Option<Json>,
    play_loop_texts: &std::collections::HashSet<String>,
) -> Option<String> {
    let action = task.action.as_str();
    // `{{ name }}` alone, naming a variable the operator wrote, gives the operator's own text
    // wherever rendering left it as written (ansible-core keeps such values trusted); text a
    // template inside it produced, or an `!unsafe` item, is not.
    fn as_written(raw: &Json, rendered: &Json) -> bool {
        match (raw, rendered) {
            (Json::Object(m), _) if crate::template::unsafe_text::is_marker(m) => false,
            (_, r) if !r.is_string() && !r.is_array() => true,
            (Json::String(a), Json::String(b)) => {
                a == b && !crate::template::Templar::is_template(a)
            }
            (Json::Array(a), Json::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| as_written(x, y))
            }
            _ => false,
        }
    }
    let operator_var = |w: &Json, rendered: Option<&Json>, key: Option<&str>| {
        let Some(name) = w
            .as_str()
            .and_then(|s| s.trim().strip_prefix("{{")?.strip_suffix("}}"))
            .map(str::trim)
            .filter(|n| crate::template::var_name::valid(n))
        else {
            return false;
        };
        let Some(raw) = operator_raw(name) else {
            return false;
        };
        let raw = match key {
            Some(k) => raw.get(k).cloned().unwrap_or(Json::Null),
            None => raw,
        };
        rendered.is_some_and(|r| as_written(&raw, r))
    };
    // An expression written out in a loop list of the play (this task's, or another's whose
    // item came back in a registered result) is the operator's text; one that came out of
    // templating (or of a templated loop) is data.
    let mut own_loop = std::collections::HashSet::new();
    match &task.loop_ {
        Some(crate::playbook::LoopSpec::Loop(v)) if !v.is_string() => {
            super::loop_texts::strings_into(v, &mut own_loop)
        }
        Some(crate::playbook::LoopSpec::With { terms, .. }) if !terms.is_string() => {
            super::loop_texts::strings_into(terms, &mut own_loop)
        }
        _ => {}
    }
    let in_loop_text = |v: &Json| {
        let mut exprs = std::collections::HashSet::new();
        super::loop_texts::strings_into(v, &mut exprs);
        !exprs.is_empty()
            && exprs
                .iter()
                .all(|e| own_loop.contains(e) || play_loop_texts.contains(e))
    };
    let key = match action {
        "assert" => "that",
        "debug" => "var",
        _ => return None,
    };
    let rendered = args.get(key)?;
    let written = given.get(key);
    let marked = |v: &Json| {
        v.as_object()
            .is_some_and(crate::template::unsafe_text::is_marker)
    };
    // A written template that renders to text gives an expression that came out of
    // rendering (a variable's value): not the operator's expression, so not evaluated.
    // A conditional with constant templates inside it (`"{{ 'hi' }}" == "hi"`) is still the
    // operator's expression; one wholly a template gives whatever the template renders.
    // Templates inside an expression's string literals give values, not code (the
    // conditional renders them); one outside a literal is meta-templating, refused where the
    // conditional is evaluated.
    let templated_text = |w: &Json, r: Option<&Json>| {
        w.as_str()
            .is_some_and(crate::template::Templar::is_all_template)
            && !operator_var(w, r, None)
            && r.is_some_and(|r| (r.is_string() || r.is_array()) && !in_loop_text(r))
    };
    let from_data = match written {
        // The whole arguments written as one `{{ name }}`.
        None if operator_var(given, Some(rendered), Some(key))
            || given
                .get("_raw_params")
                .is_some_and(|g| operator_var(g, Some(rendered), Some(key))) =>
        {
            false
        }
        None => (rendered.is_string() || rendered.is_array()) && !in_loop_text(rendered),
        Some(w) => {
            marked(w)
                || templated_text(w, Some(rendered))
                || w.as_array().is_some_and(|a| {
                    a.iter()
                        .enumerate()
                        .any(|(i, x)| marked(x) || templated_text(x, rendered.get(i)))
                })
        }
    };
    from_data.then(|| {
        format!(
            "{action}: `{key}` is an untrusted template or expression: it came from data (or is !unsafe), which is never evaluated"
        )
    })
}

/// An expression with templates inside it that is not wholly one template.
fn embedded(v: &Json) -> bool {
    v.as_str().is_some_and(|s| {
        crate::template::Templar::is_template(s) && !crate::template::Templar::is_all_template(s)
    })
}

/// The task's arguments with `assert`'s embedded expressions blanked, for rendering the rest
/// (keep_embedded_expressions puts them back as written).
fn mask_embedded_expressions<'a>(action: &str, given: &'a Json) -> std::borrow::Cow<'a, Json> {
    let that = given.get("that");
    let any =
        that.is_some_and(|t| embedded(t) || t.as_array().is_some_and(|a| a.iter().any(embedded)));
    if action != "assert" || !any {
        return std::borrow::Cow::Borrowed(given);
    }
    let mut masked = given.clone();
    if let Some(t) = masked.get_mut("that") {
        match t {
            Json::Array(a) => a
                .iter_mut()
                .filter(|x| embedded(x))
                .for_each(|x| *x = Json::String(String::new())),
            t => *t = Json::String(String::new()),
        }
    }
    std::borrow::Cow::Owned(masked)
}

/// An `assert` expression with templates embedded in it (`'{{ dir }}/x' in paths`) is
/// evaluated as written: the conditional renders the templates inside its string literals
/// as values, so their text never becomes code (pre-rendering would paste it in).
fn keep_embedded_expressions(action: &str, given: &Json, args: &mut Json) {
    if action != "assert" {
        return;
    }
    let (Some(written), Some(rendered)) = (given.get("that"), args.get_mut("that")) else {
        return;
    };
    match (written, rendered) {
        (w, r) if embedded(w) => *r = w.clone(),
        (Json::Array(ws), Json::Array(rs)) if ws.len() == rs.len() => {
            for (w, r) in ws.iter().zip(rs.iter_mut()) {
                if embedded(w) {
                    *r = w.clone();
                }
            }
        }
        _ => {}
    }
}

/// ansible-core's deprecation for an `assert` conditional written wholly as a template that
/// does not give an expression (`that: '{{ true }}'`).
fn conditional_deprecations(task: &Task, given: &Json, args: &Json) -> Vec<Json> {
    if task.action != "assert" {
        return Vec::new();
    }
    let (Some(written), Some(rendered)) = (given.get("that"), args.get("that")) else {
        return Vec::new();
    };
    let pairs: Vec<(&Json, Option<&Json>)> = match written {
        Json::Array(w) => w
            .iter()
            .enumerate()
            .map(|(i, x)| (x, rendered.get(i)))
            .collect(),
        w => vec![(w, Some(rendered))],
    };
    pairs
        .into_iter()
        .filter(|(w, r)| {
            w.as_str()
                .is_some_and(crate::template::Templar::is_all_template)
                && r.is_some_and(|r| !r.is_string())
        })
        .map(|_| {
            json!({
                "msg": "Conditionals should not be surrounded by templating delimiters such as {{ }} or {% %}.",
                "version": "2.23",
            })
        })
        .take(1)
        .collect()
}

/// Modules that are ansible-core action plugins without async support: `async` fails them.
const NO_ASYNC: &[&str] = &[
    "script",
    "copy",
    "template",
    "fetch",
    "unarchive",
    "assemble",
    "debug",
    "set_fact",
    "assert",
    "fail",
    "include_vars",
    "add_host",
    "group_by",
    "pause",
    "wait_for_connection",
];

/// What one task did on one host.
#[derive(Debug, Clone)]
pub struct TaskRun {
    pub host: String,
    pub status: Status,
    /// The result as `register` stores it.
    pub result: Json,
    pub diffs: Vec<modules::FileDiff>,
    pub facts: Option<Vars>,
    pub set_vars: Option<Vars>,
    /// `set_vars` are to be kept in the fact cache (`set_fact ... cacheable`).
    pub cacheable: bool,
    pub included_vars: Option<Vars>,
    pub meta: Option<Meta>,
    pub delegated_to: Option<String>,
    pub duration: Duration,
    /// `no_log` as decided on this host (it may be a template).
    pub no_log: bool,
}

impl TaskRun {
    fn new(host: &str, status: Status, result: Json) -> TaskRun {
        TaskRun {
            host: host.to_string(),
            status,
            result,
            diffs: Vec::new(),
            facts: None,
            set_vars: None,
            cacheable: false,
            included_vars: None,
            meta: None,
            delegated_to: None,
            duration: Duration::ZERO,
            no_log: false,
        }
    }

    pub(crate) fn new_failed(host: &str, msg: String) -> TaskRun {
        Self::failed(host, msg)
    }

    pub(crate) fn failed(host: &str, msg: String) -> TaskRun {
        TaskRun::new(
            host,
            Status::Failed,
            // What fails on the controller before or around the module (a template, an
            // include, a keyword) is an exception in ansible-core, and its result says so.
            json!({"failed": true, "changed": false, "msg": msg, "exception": "(traceback unavailable)"}),
        )
    }
}

/// Evaluates all of `conds` (all must hold).
fn all_true(
    runner: &Runner,
    conds: &[String],
    scope: &Arc<Scope>,
) -> Result<Option<String>, TemplateError> {
    let ctx = scope.context();
    for c in conds {
        if !runner.templar.condition(c, &ctx)? {
            return Ok(Some(c.clone()));
        }
    }
    Ok(None)
}

/// A condition as the result's `false_condition` shows it: a literal boolean (`when: false`,
/// which the playbook loader keeps as `False`) stays a boolean, as in ansible-core.
fn condition_json(c: &str) -> Json {
    match c {
        "True" => Json::Bool(true),
        "False" => Json::Bool(false),
        other => Json::String(other.to_string()),
    }
}

fn strip_omit(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .filter(|(_, v)| v.as_str() != Some(OMIT))
                .map(|(k, v)| (k, strip_omit(v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.into_iter().filter(|v| v.as_str() != Some(OMIT)).collect()),
        other => other,
    }
}

fn layer(pairs: Vec<(String, Json)>) -> Arc<Vars> {
    Arc::new(pairs.into_iter().collect())
}

impl Runner {
    /// `async`/`poll` rendered: a background job for `command`/`shell` and Ansible's modules;
    /// other native modules with a positive `poll` run in the foreground (hoist's connection
    /// does not time out).
    fn background(
        &self,
        task: &Task,
        ctx: &minijinja::Value,
    ) -> Result<Option<modules::Background>, String> {
        use crate::playbook::{BACKGROUND_MODULES, whole_seconds};
        let Some(limit) = &task.async_ else {
            return Ok(None);
        };
        let secs = |v: &Json, key: &str| {
            let v = self
                .templar
                .render_value(v, ctx)
                .map_err(|e| format!("`{key}`: {}", e.message))?;
            whole_seconds(&v)
                .and_then(|n| {
                    n.ok_or_else(|| format!("expected a whole number of seconds, got `{v}`"))
                })
                .map_err(|e| format!("`{key}`: {e}"))
        };
        let limit_secs = secs(limit, "async")?;
        let poll_secs = match &task.poll {
            Some(p) => secs(p, "poll")?,
            None => 15,
        };
        if limit_secs == 0 {
            return Ok(None);
        }
        // ansible-core's action plugins (those that are more than a module) refuse async.
        if NO_ASYNC.contains(&task.action.as_str()) {
            return Err(format!(
                "This action ({}) does not support async.",
                task.action
            ));
        }
        // Ansible's own modules (the fallback) run as background jobs as under ansible-core.
        if !BACKGROUND_MODULES.contains(&task.action.as_str()) && task.ansible_module.is_none() {
            return match poll_secs {
                0 => Err(format!(
                    "`async` with `poll: 0` runs only `command` and `shell` in the background, not `{}`",
                    task.action
                )),
                _ => Ok(None),
            };
        }
        Ok(Some(modules::Background {
            limit_secs,
            poll_secs,
        }))
    }

    /// Which argument's template failed, where it is written and what it says:
    /// `FILE:LINE:COL: copy: argument `content`: 'prot' is undefined (in `{{ prot }}`)`.
    fn arg_error(
        &self,
        task: &Task,
        args: &Json,
        ctx: &minijinja::Value,
        whole: crate::template::TemplateError,
    ) -> String {
        let failing = match args {
            Json::Object(m) => m
                .iter()
                .find_map(|(k, v)| self.templar.render_value(v, ctx).err().map(|e| (k, v, e))),
            _ => None,
        };
        let Some((k, v, e)) = failing else {
            return format!(
                "{}: {}: {}",
                task.origin.location(),
                task.action,
                whole.message
            );
        };
        let at = task
            .arg_origins
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, o)| o.location())
            .unwrap_or_else(|| task.origin.location());
        let shown = match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let shown: String = shown.chars().take(200).collect();
        // ansible-core's words first (playbooks match them), then where it was met.
        let arg = if k == "_raw_params" {
            "_raw_params"
        } else {
            k.as_str()
        };
        let (why, via) = crate::template::innermost(&e.message);
        let through: String = via.iter().map(|v| format!("in variable `{v}`, ")).collect();
        format!(
            "{at}: {}: Error while resolving value for '{arg}'. {why} ({through}in `{shown}`)",
            task.action
        )
    }

    fn search_paths(&self, pc: &PlayCtx, inh: &Inherit) -> Vec<PathBuf> {
        super::search_path::of(pc, inh, false)
    }

    /// Runs `task` on `host` (all its loop items), without touching the host's state.
    pub(crate) async fn task_on_host(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        host: &str,
        inh: &Inherit,
    ) -> TaskRun {
        let started = Instant::now();
        let placed;
        let inh = match task.origin.doc.path.parent() {
            Some(d) if inh.task_dir.as_deref() != Some(d) => {
                placed = Inherit {
                    task_dir: Some(d.to_path_buf()),
                    ..inh.clone()
                };
                &placed
            }
            _ => inh,
        };
        let scope = self.scope(pc, host, inh, Vec::new());
        let decided;
        let inh = if inh.templated.is_empty() {
            inh
        } else {
            let ctx = scope.context();
            decided = inh
                .decide(|t| {
                    self.templar
                        .render_value(&serde_json::Value::String(t.to_string()), &ctx)
                        .map_err(|e| e.message)
                })
                .unwrap_or_else(|e| {
                    let mut d = inh.clone();
                    d.templated.clear();
                    d.undecided = Some(format!("{}: {e}", task.origin.location()));
                    d
                });
            &decided
        };
        let mut run = match &task.loop_ {
            None => self.guarded(pc, task, host, inh, &scope, Vec::new()).await,
            Some(spec) => self.looped(pc, task, host, inh, &scope, spec).await,
        };
        // A task that failed before its module ran (a template error, an invalid keyword)
        // is ignored like any other failure, as in ansible-core.
        if run.status == Status::Failed && inh.ignore_errors == Some(true) {
            run.status = Status::Ignored;
        }
        run.duration = started.elapsed();
        run.no_log = inh.no_log == Some(true);
        run
    }

    async fn looped(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        host: &str,
        inh: &Inherit,
        scope: &Arc<Scope>,
        spec: &crate::playbook::LoopSpec,
    ) -> TaskRun {
        let action = task.action_written.as_deref().unwrap_or(&task.action);
        let items = match loops::items(&self.templar, spec, scope, action) {
            Ok(i) => i,
            // As ansible-core: a loop that cannot be templated fails the task only when its
            // `when` (evaluated without an item) holds, so `when: false` skips it.
            Err(e) => {
                if let Ok(Some(cond)) = all_true(self, &inh.when, scope) {
                    return TaskRun::new(
                        host,
                        Status::Skipped,
                        json!({"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": condition_json(&cond)}),
                    );
                }
                return TaskRun::failed(host, format!("{}: {}", task.origin.location(), e.message));
            }
        };
        let lc = &task.loop_control;
        let var = match &lc.loop_var {
            Some(v) => match self.templar.render_str(v, &scope.context()) {
                Ok(v) => v,
                Err(e) => {
                    return TaskRun::failed(
                        host,
                        format!("{}: loop_var: {}", task.origin.location(), e.message),
                    );
                }
            },
            None => "item".into(),
        };
        let mut results = Vec::new();
        let mut agg = TaskRun::new(host, Status::Skipped, Json::Null);
        let (mut changed, mut failed, mut all_skipped) = (false, false, true);
        for (i, item) in items.iter().enumerate() {
            let mut pairs = vec![
                (var.clone(), item.clone()),
                ("ansible_loop_var".into(), json!(var)),
            ];
            if let Some(iv) = &lc.index_var {
                pairs.push((iv.clone(), json!(i)));
            }
            if lc.extended {
                pairs.push((
                    "ansible_loop".into(),
                    loops::extended(&items, i, lc.extended_allitems != Some(false)),
                ));
            }
            let mut top = vec![layer(pairs)];
            // What earlier items set (set_fact, include_vars, facts) is seen by later ones, as
            // ansible-core updates the loop's variables after each item.
            let earlier: Vec<(String, Json)> = [&agg.facts, &agg.included_vars, &agg.set_vars]
                .into_iter()
                .flatten()
                .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect();
            if !earlier.is_empty() {
                top.push(layer(earlier));
            }
            let iscope = self.scope(pc, host, inh, top.clone());
            let mut r = self
                .guarded(pc, task, host, inh, &iscope, top.clone())
                .await;
            if let Json::Object(m) = &mut r.result {
                m.insert(var.clone(), item.clone());
                m.insert("ansible_loop_var".into(), json!(var));
                if let Some(iv) = &lc.index_var {
                    m.insert("ansible_index_var".into(), json!(iv));
                    m.insert(iv.clone(), json!(i));
                }
            }
            // As ansible-core, the label is templated after the item ran, with the registered
            // variable holding this item's result; a label that cannot be templated fails it.
            let label = match &lc.label {
                Some(l) => {
                    let mut with_result = top;
                    if let Some(reg) = &task.register {
                        with_result.push(layer(vec![(reg.clone(), r.result.clone())]));
                    }
                    let lscope = self.scope(pc, host, inh, with_result);
                    match self.templar.render_string_value(l, &lscope.context()) {
                        Ok(label) => label,
                        Err(e) => {
                            if let Json::Object(m) = &mut r.result {
                                m.insert("failed".into(), json!(true));
                                m.insert(
                                    "msg".into(),
                                    json!(format!(
                                        "Failed to template loop_control.label: {}",
                                        e.message
                                    )),
                                );
                            }
                            r.status = Status::Failed;
                            json!(l)
                        }
                    }
                }
                None => item.clone(),
            };
            self.emit(Event::ItemResult(self.host_event(
                task,
                inh,
                &r,
                Some(label),
            )));
            changed |= r.status == Status::Changed;
            failed |= matches!(r.status, Status::Failed | Status::Ignored);
            all_skipped &= r.status == Status::Skipped;
            if r.status == Status::Unreachable {
                return r;
            }
            agg.diffs.extend(r.diffs.clone());
            if let Some(f) = r.facts.take() {
                agg.facts.get_or_insert_with(Vars::new).extend(f);
            }
            if let Some(v) = r.set_vars.take() {
                agg.set_vars.get_or_insert_with(Vars::new).extend(v);
            }
            agg.cacheable |= r.cacheable;
            if let Some(v) = r.included_vars.take() {
                agg.included_vars.get_or_insert_with(Vars::new).extend(v);
            }
            agg.delegated_to = r.delegated_to.clone();
            results.push(r.result);
            // `break_when`: evaluated with this item's variables, as ansible-core does.
            if !lc.break_when.is_empty() {
                match all_true(self, &lc.break_when, &iscope) {
                    Ok(None) => break,
                    Ok(Some(_)) => {}
                    Err(e) => {
                        failed = true;
                        results.push(json!({"failed": true, "msg": format!("{}: error in `break_when`: {}", task.origin.location(), e.message)}));
                        break;
                    }
                }
            }
            if let Some(p) = lc.pause.filter(|p| *p > 0.0 && i + 1 < items.len()) {
                tokio::time::sleep(Duration::from_secs_f64(p.min(3600.0))).await;
            }
        }
        agg.status = if failed {
            if inh.ignore_errors == Some(true) {
                Status::Ignored
            } else {
                Status::Failed
            }
        } else if items.is_empty() || all_skipped {
            Status::Skipped
        } else if changed {
            Status::Changed
        } else {
            Status::Ok
        };
        let mut result =
            json!({"changed": changed, "results": results, "msg": "All items completed"});
        if failed {
            result["failed"] = json!(true);
            result["msg"] = json!("One or more items failed");
        }
        if items.is_empty() || all_skipped {
            result["skipped"] = json!(true);
            if items.is_empty() {
                result["skipped_reason"] = json!("No items in the list");
            }
        }
        agg.result = result;
        agg
    }

    /// `when`, then the module: skipped when a condition is false.
    async fn guarded(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        host: &str,
        inh: &Inherit,
        scope: &Arc<Scope>,
        top: Vec<Arc<Vars>>,
    ) -> TaskRun {
        match all_true(self, &inh.when, scope) {
            Err(e) => TaskRun::failed(
                host,
                format!("{}: error in `when`: {e}", task.origin.location()),
            ),
            Ok(Some(cond)) => TaskRun::new(
                host,
                Status::Skipped,
                json!({"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": condition_json(&cond)}),
            ),
            Ok(None) => match &inh.undecided {
                Some(e) => TaskRun::failed(host, e.clone()),
                None => self.attempt(pc, task, host, inh, scope, top).await,
            },
        }
    }

    /// One try of the module (with `until` retries), then `changed_when`/`failed_when`.
    async fn attempt(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        host: &str,
        inh: &Inherit,
        scope: &Arc<Scope>,
        top: Vec<Arc<Vars>>,
    ) -> TaskRun {
        let ctx = scope.context();
        let loc = task.origin.location();
        // A templated module name is decided here, for this host.
        let resolved_task;
        let task = if crate::template::Templar::is_template(&task.action) {
            match self.resolve_action(task, &ctx, inh, pc) {
                Ok(t) => {
                    resolved_task = Arc::new(t);
                    &resolved_task
                }
                Err(e) => return TaskRun::failed(host, format!("{loc}: {e}")),
            }
        } else {
            task
        };
        let info = modules::info(&task.action);
        let mut defaults =
            crate::playbook::module_defaults::for_module(&inh.module_defaults, &task.action);
        // `service` and `package` run a backend module (by the service or package manager
        // facts), and that module's defaults apply too, as ansible-core's action plugins do.
        let backend_fact = match task.action.as_str() {
            "service" => Some("ansible_service_mgr"),
            "package" => Some("ansible_pkg_mgr"),
            _ => None,
        };
        if let Some(backend) =
            backend_fact.and_then(|f| scope.raw(f).and_then(Json::as_str).map(str::to_string))
        {
            let backend = match backend.as_str() {
                "systemd" => "systemd_service".to_string(),
                other => other.to_string(),
            };
            for name in [backend.as_str(), backend.trim_end_matches("_service")] {
                for (k, v) in
                    crate::playbook::module_defaults::for_module(&inh.module_defaults, name)
                {
                    defaults.entry(k).or_insert(v);
                }
            }
        }
        let given = if defaults.is_empty() {
            std::borrow::Cow::Borrowed(&task.args)
        } else {
            let mut a = task.args.clone();
            if let Json::Object(m) = &mut a {
                for (k, v) in defaults {
                    m.entry(k).or_insert(v);
                }
            }
            std::borrow::Cow::Owned(a)
        };
        let timeout = match int_keyword(&self.templar, inh.timeout.as_ref(), &ctx) {
            Ok(Some(t)) if !(0..=100_000_000).contains(&t) => {
                return TaskRun::failed(
                    host,
                    format!("{loc}: Timeout {t} is invalid, it must be between 0 and 100000000."),
                );
            }
            Ok(t) => t.filter(|t| *t > 0).map(|t| t as u64),
            Err(e) => return TaskRun::failed(host, format!("{loc}: `timeout`: {e}")),
        };
        // An `assert` expression with templates inside it is evaluated as written (see
        // keep_embedded_expressions), never rendered first: its templates may be a lookup's
        // arguments that only the lookup reads.
        let unrendered = mask_embedded_expressions(&task.action, &given);
        let mut args = match self.templar.render_value(unrendered.as_ref(), &ctx) {
            Ok(a) => splat(info.as_ref().is_some_and(|i| i.free_form), strip_omit(a)),
            Err(e) => return TaskRun::failed(host, self.arg_error(task, &given, &ctx, e)),
        };
        keep_embedded_expressions(&task.action, &given, &mut args);
        // `args: '{{ mapping }}'`: rendered arguments under the ones written on the task.
        if let Some(expr) = &task.args_expr {
            let finalize = |why: String| {
                format!(
                    "{loc}: Finalization of task args for 'ansible.builtin.{}' failed: {why}",
                    task.action
                )
            };
            match self.templar.render_string_value(expr, &ctx).map(strip_omit) {
                Ok(Json::Object(extra)) => {
                    if let Json::Object(a) = &mut args {
                        for (k, v) in extra {
                            a.entry(k).or_insert(v);
                        }
                    }
                }
                Ok(Json::Null) => {}
                Ok(Json::String(s)) if s == OMIT => {}
                Ok(other) => {
                    return TaskRun::failed(
                        host,
                        finalize(format!(
                            "`args` must be a mapping, got {}",
                            crate::template::list_lookups::python_type(&other)
                        )),
                    );
                }
                Err(e) => return TaskRun::failed(host, finalize(e.message)),
            }
        }
        // ansible-core validates the arguments before it evaluates any of them.
        if task.action == "debug" && args.get("msg").is_some() && args.get("var").is_some() {
            return TaskRun::failed(host, "parameters are mutually exclusive: msg|var".into());
        }
        let deprecations = conditional_deprecations(task, &given, &args);
        if let Some(e) = untrusted_expression(
            task,
            &given,
            &args,
            |n| scope.operator_raw(n).cloned(),
            &pc.loop_texts(),
        ) {
            return TaskRun::failed(host, format!("{loc}: {e}"));
        }
        let delegate = match &inh.delegate_to {
            Some(d) => match self.templar.render_str(d, &ctx) {
                Ok(d) => Some(d),
                Err(e) => {
                    return TaskRun::failed(host, format!("{loc}: delegate_to: {}", e.message));
                }
            },
            None => None,
        };
        let env = match self.environment(inh, scope) {
            Ok(e) => e,
            Err(e) => return TaskRun::failed(host, format!("{loc}: environment: {}", e.message)),
        };
        let check = inh.check_mode.unwrap_or(self.opts.check);
        let diff = inh.diff.unwrap_or(self.opts.diff);
        let background = match self.background(task, &ctx) {
            Ok(b) => b,
            Err(e) if e.starts_with("This action (") => return TaskRun::failed(host, e),
            Err(e) => return TaskRun::failed(host, format!("{loc}: {e}")),
        };
        let controller = info.as_ref().is_some_and(|i| i.controller);
        // `wait_for_connection` connects on its own, anew each time it tries.
        let env_again = env.clone();
        let reconnect = {
            let (runner, pc, host, inh) = (self.clone(), pc.clone(), host.to_string(), inh.clone());
            let (ctx, delegate) = (ctx.clone(), delegate.clone());
            move || -> futures::future::BoxFuture<'static, Result<modules::Remote, modules::ModuleError>> {
                let (runner, pc, host, inh) = (runner.clone(), pc.clone(), host.clone(), inh.clone());
                let (ctx, env, delegate) = (ctx.clone(), env_again.clone(), delegate.clone());
                Box::pin(async move {
                    runner
                        .forget_connection(&pc, delegate.as_deref().unwrap_or(&host), &inh)
                        .await;
                    runner
                        .remote(&pc, &host, delegate.as_deref(), &inh, env, Some(&ctx))
                        .await
                })
            }
        };
        let remote = if controller {
            None
        } else {
            match self
                .remote(pc, host, delegate.as_deref(), inh, env, Some(&ctx))
                .await
            {
                Ok(r) => Some(r),
                Err(e) => {
                    let ignore = inh.ignore_unreachable == Some(true);
                    let status = if ignore {
                        Status::Skipped
                    } else {
                        Status::Unreachable
                    };
                    let mut r = TaskRun::new(
                        host,
                        status,
                        json!({"unreachable": true, "changed": false, "msg": e.to_string()}),
                    );
                    if ignore {
                        r.result["skipped"] = json!(true);
                    }
                    return r;
                }
            }
        };
        let search = self.search_paths(pc, inh);
        let facts = self
            .with_host(host, |s| s.facts.get("ansible_facts").cloned())
            .unwrap_or(Json::Object(Default::default()));
        let retries = match &task.retries {
            Some(r) => self
                .templar
                .render_value(r, &ctx)
                .ok()
                .and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(3),
            None if task.until.is_some() => 3,
            None => 0,
        };
        let delay = match &task.delay {
            Some(d) => self
                .templar
                .render_value(d, &ctx)
                .ok()
                .and_then(|v| {
                    v.as_f64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(5.0),
            None => 5.0,
        };
        let mut attempts = 0i64;
        loop {
            attempts += 1;
            let mctx = Ctx {
                host,
                remote: remote.as_ref(),
                check,
                diff,
                templar: &self.templar,
                vars: &ctx,
                search_paths: &search,
                facts: &facts,
                background,
                reconnect: Some(&reconnect),
            };
            let run = async {
                match &task.ansible_module {
                    Some(m) => modules::ansible::run(m, &mctx, args.clone()).await,
                    None => modules::run(&task.action, &mctx, args.clone()).await,
                }
            };
            let outcome = match timeout {
                Some(secs) => match tokio::time::timeout(Duration::from_secs(secs), run).await {
                    Ok(o) => o,
                    Err(_) => {
                        let mut r =
                            TaskRun::failed(host, format!("Timed out after {secs} second(s)."));
                        r.result["timedout"] = json!({"period": secs});
                        r.delegated_to = delegate.clone();
                        return r;
                    }
                },
                None => run.await,
            };
            let outcome = match outcome {
                Ok(o) if matches!(task.action.as_str(), "add_host" | "group_by") => {
                    self.grow_inventory(&task.action, host, o)
                }
                other => other,
            };
            // Retried tasks count their attempts where `changed_when`/`failed_when` see them.
            let outcome = match outcome {
                Ok(mut o) if task.until.is_some() => {
                    o.data.insert("attempts".into(), json!(attempts));
                    Ok(o)
                }
                other => other,
            };
            let mut run = self.judge(pc, task, host, inh, outcome, &top);
            run.delegated_to = delegate.clone();
            if !deprecations.is_empty() && run.result.is_object() {
                for d in &deprecations {
                    self.emit(Event::Warning {
                        host: Some(host.to_string()),
                        message: format!(
                            "[DEPRECATION WARNING]: {} This feature will be removed from ansible-core version 2.23.",
                            d["msg"].as_str().unwrap_or_default()
                        ),
                    });
                }
                run.result["deprecations"] = Json::Array(deprecations.clone());
            }
            let Some(until) = &task.until else { return run };
            if run.status == Status::Unreachable {
                return run;
            }
            run.result["attempts"] = json!(attempts);
            let reg = self.result_scope(pc, host, inh, &top, task, &run.result);
            match all_true(self, until, &reg) {
                Ok(None) => return run,
                Err(e) => return TaskRun::failed(host, format!("{loc}: error in `until`: {e}")),
                Ok(Some(_)) if attempts > retries => {
                    // ansible-core counts the retries, not the first try, once they ran out.
                    run.result["attempts"] = json!(retries);
                    run.result["failed"] = json!(true);
                    // As ansible-core's task result: a `failed_when` that held false decides.
                    if run.result.get("failed_when_result") == Some(&json!(false)) {
                        return run;
                    }
                    run.status = if inh.ignore_errors == Some(true) {
                        Status::Ignored
                    } else {
                        Status::Failed
                    };
                    run.result["failed"] = json!(true);
                    run.result["msg"] = json!(format!(
                        "Retried {retries} times; the `until` condition never held"
                    ));
                    return run;
                }
                Ok(Some(_)) => {
                    self.emit(Event::Warning {
                        host: Some(host.to_string()),
                        message: format!(
                            "{}: retrying ({} retries left)",
                            task.display_name(),
                            retries - attempts + 1
                        ),
                    });
                    tokio::time::sleep(Duration::from_secs_f64(delay.clamp(0.0, 3600.0))).await;
                }
            }
        }
    }

    /// Applies what `add_host` / `group_by` returned to the run's inventory: changed when it
    /// changed it (ansible-core's strategy decides the same way).
    fn grow_inventory(
        &self,
        action: &str,
        host: &str,
        mut o: modules::Outcome,
    ) -> modules::ModResult {
        let Some(change) =
            super::inventory_view::InvChange::from_result(action, host, &o.to_json())
        else {
            return Ok(o);
        };
        o.changed = self
            .change_inventory(&change)
            .map_err(modules::ModuleError::Failed)?;
        Ok(o)
    }

    /// `task` with its templated module name rendered and resolved (native, a plugin's, or
    /// Ansible's own through the fallback).
    fn resolve_action(
        &self,
        task: &Task,
        ctx: &minijinja::Value,
        inh: &Inherit,
        pc: &PlayCtx,
    ) -> Result<Task, String> {
        let name = self
            .templar
            .render_str(&task.action, ctx)
            .map_err(|e| format!("the module name `{}`: {}", task.action, e.message))?;
        let name = name.trim().to_string();
        let short = crate::playbook::module_name(&name).to_string();
        let mut t = task.clone();
        if modules::info(&short).is_some() {
            t.action = short;
            t.ansible_module = None;
        } else {
            let dirs = modules::ansible::library_dirs(
                self.search_paths(pc, inh).iter().map(PathBuf::as_path),
            );
            let located = modules::ansible::locate(&name, &dirs)
                .map_err(|why| format!("couldn't resolve module/action '{name}': {why}"))?;
            t.action = name;
            t.ansible_module = Some(located);
        }
        Ok(t)
    }

    /// A scope where the task's own result is visible under its `register` name.
    fn result_scope(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        host: &str,
        inh: &Inherit,
        top: &[Arc<Vars>],
        task: &Task,
        result: &Json,
    ) -> Arc<Scope> {
        let mut layers = vec![];
        if let Some(reg) = &task.register {
            layers.push(layer(vec![(reg.clone(), result.clone())]));
        }
        layers.extend(top.iter().cloned());
        self.scope(pc, host, inh, layers)
    }

    /// Turns a module's outcome into a status and registered result.
    fn judge(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        host: &str,
        inh: &Inherit,
        outcome: Result<Outcome, ModuleError>,
        top: &[Arc<Vars>],
    ) -> TaskRun {
        let loc = task.origin.location();
        let o = match outcome {
            Ok(o) => o,
            // A reachable host whose command could not run (timeout, upload, become): a failure.
            Err(ModuleError::Unreachable(e)) if !e.is_unreachable() => {
                let mut r = TaskRun::failed(host, e.to_string());
                if inh.ignore_errors == Some(true) {
                    r.status = Status::Ignored;
                }
                return r;
            }
            Err(ModuleError::Unreachable(e)) => {
                let status = if inh.ignore_unreachable == Some(true) {
                    Status::Skipped
                } else {
                    Status::Unreachable
                };
                return TaskRun::new(
                    host,
                    status,
                    json!({"unreachable": true, "changed": false, "msg": e.to_string()}),
                );
            }
            Err(ModuleError::Args(m)) => {
                let mut r = TaskRun::failed(
                    host,
                    format!("{loc}: {}: invalid arguments: {m}", task.action),
                );
                if inh.ignore_errors == Some(true) {
                    r.status = Status::Ignored;
                }
                return r;
            }
            Err(ModuleError::Failed(m)) => {
                let mut o = Outcome::ok().msg(m);
                o.failed = true;
                o
            }
        };
        let mut result = o.to_json();
        let mut changed = o.changed;
        let mut failed = o.failed;
        // ansible-core marks a module's own failure with `exception` (the traceback, when one
        // is shown); controller-side actions (assert, fail, ...) fail without one.
        let controller = modules::info(&task.action).is_some_and(|i| i.controller);
        if failed && !controller && result.get("exception").is_none() {
            result["exception"] = json!("(traceback unavailable)");
        }
        let conditional_error =
            |e: TemplateError| format!("Error while evaluating conditional: {}", e.message);
        let mut bad_condition = false;
        if task.changed_when.is_some() || task.failed_when.is_some() {
            if let Some(conds) = &task.changed_when {
                let scope = self.result_scope(pc, host, inh, top, task, &result);
                match all_true(self, conds, &scope) {
                    Ok(none) => changed = none.is_none() && !conds.is_empty(),
                    Err(e) => {
                        result["changed_when_result"] = json!(conditional_error(e));
                        bad_condition = true;
                    }
                }
                if conds.is_empty() {
                    changed = false;
                }
            }
            if let Some(conds) = &task.failed_when
                && !bad_condition
            {
                let scope = self.result_scope(pc, host, inh, top, task, &result);
                match all_true(self, conds, &scope) {
                    Ok(none) => {
                        failed = none.is_none() && !conds.is_empty();
                        result["failed_when_result"] = json!(failed);
                        if !failed
                            && let Some(x) =
                                result.as_object_mut().and_then(|m| m.remove("exception"))
                        {
                            result["failed_when_suppressed_exception"] = x;
                        }
                    }
                    Err(e) => {
                        result["failed_when_result"] = json!(conditional_error(e));
                        bad_condition = true;
                    }
                }
            }
        }
        if bad_condition {
            failed = true;
            if result.get("exception").is_none() {
                result["exception"] = json!("(traceback unavailable)");
            }
            if result.get("msg").is_none() {
                result["msg"] = json!(format!(
                    "{loc}: a `changed_when`/`failed_when` condition could not be evaluated"
                ));
            }
        }
        result["changed"] = json!(changed);
        // ansible-core registers `failed` on every result of a task that ran.
        result["failed"] = json!(failed);
        let status = if failed {
            if inh.ignore_errors == Some(true) {
                Status::Ignored
            } else {
                Status::Failed
            }
        } else if o.skipped {
            Status::Skipped
        } else if changed {
            Status::Changed
        } else {
            Status::Ok
        };
        TaskRun {
            host: host.to_string(),
            status,
            result,
            diffs: o.shown(),
            facts: o.facts,
            set_vars: o.set_vars,
            cacheable: o.cacheable,
            included_vars: o.included_vars,
            meta: o.meta,
            delegated_to: None,
            duration: Duration::ZERO,
            no_log: false,
        }
    }

    /// The environment for fact gathering: as [`Runner::environment`], but each variable on
    /// its own, and one whose template cannot be rendered yet (it needs facts) left out.
    pub(crate) fn environment_before_facts(
        &self,
        inh: &Inherit,
        scope: &Arc<Scope>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in &inh.environment {
            let maps: Vec<Json> = match e {
                Json::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for m in maps {
                let Json::Object(m) = m else { continue };
                for (k, v) in m {
                    let one = Inherit {
                        environment: vec![Json::Object([(k.clone(), v)].into_iter().collect())],
                        ..Inherit::default()
                    };
                    if let Ok(vars) = self.environment(&one, scope) {
                        for (k, v) in vars {
                            out.retain(|(x, _)| *x != k);
                            out.push((k, v));
                        }
                    }
                }
            }
        }
        out
    }

    /// `environment:` maps merged outermost first, templated.
    pub(crate) fn environment(
        &self,
        inh: &Inherit,
        scope: &Arc<Scope>,
    ) -> Result<Vec<(String, String)>, TemplateError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in &inh.environment {
            let v = self.templar.render_value(e, &scope.context())?;
            // A mapping, or (as ansible-core takes it) a list of mappings merged in order.
            let maps = match v {
                Json::Object(m) => vec![m],
                Json::Array(a) => a
                    .into_iter()
                    .filter(|m| !m.as_str().is_some_and(|s| s.starts_with(OMIT)))
                    .map(|m| match m {
                        Json::Object(m) => Ok(m),
                        _ => Err(TemplateError::new(
                            "environment must be a mapping or a list of mappings",
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                Json::Null => Vec::new(),
                _ => return Err(TemplateError::new("environment must be a mapping")),
            };
            for (k, v) in maps.into_iter().flatten() {
                if v.as_str().is_some_and(|s| s.starts_with(OMIT)) {
                    continue;
                }
                if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || k.is_empty() {
                    return Err(TemplateError::new(format!(
                        "`{k}` is not a valid environment variable name"
                    )));
                }
                let v = match v {
                    Json::String(s) => s,
                    Json::Null => String::new(),
                    other => other.to_string(),
                };
                out.retain(|(x, _)| *x != k);
                out.push((k, v));
            }
        }
        Ok(out)
    }

    /// The event for one result (censored under `no_log`).
    pub(crate) fn host_event(
        &self,
        task: &Task,
        inh: &Inherit,
        r: &TaskRun,
        item: Option<Json>,
    ) -> HostEvent {
        let no_log = inh.no_log == Some(true) || r.no_log;
        let (result, diffs) = if no_log {
            (
                json!({"censored": CENSORED, "changed": r.status == Status::Changed}),
                Vec::new(),
            )
        } else {
            (r.result.clone(), r.diffs.clone())
        };
        HostEvent {
            host: r.host.clone(),
            task: task.display_name(),
            action: task.action.clone(),
            status: r.status,
            item: if no_log {
                item.map(|_| json!("(censored)"))
            } else {
                item
            },
            result,
            diffs,
            delegated_to: r.delegated_to.clone(),
            duration_ms: r.duration.as_millis() as u64,
            location: task.origin.location(),
        }
    }
}

/// An integer keyword (`timeout`, `throttle`): a number, or a template rendering to one.
pub(crate) fn int_keyword(
    templar: &crate::template::Templar,
    v: Option<&Json>,
    ctx: &minijinja::Value,
) -> Result<Option<i64>, String> {
    let Some(v) = v else { return Ok(None) };
    let v = match v {
        Json::String(t) => templar.render_string_value(t, ctx).map_err(|e| e.message)?,
        other => other.clone(),
    };
    match &v {
        Json::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{n}` is not an integer")),
        Json::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid literal for int() with base 10: '{s}'")),
        other => Err(format!("{other} is not an integer")),
    }
}

/// A free-form template given to a module that takes `key: value` arguments
/// (`assert: "{{ item }}"`) is, once rendered to a mapping, its arguments; arguments written
/// beside it win, as in ansible-core.
fn splat(free_form: bool, mut args: Json) -> Json {
    if free_form {
        return args;
    }
    if let Json::Object(m) = &mut args
        && let Some(Json::Object(raw)) = m.get("_raw_params").cloned()
    {
        m.remove("_raw_params");
        for (k, v) in raw {
            m.entry(k).or_insert(v);
        }
    }
    args
}
