//! Task lists: tasks, blocks, includes and imports, each key checked, each error positioned.

use super::keywords::{self, module_name};
use super::load::LoadCtx;
use super::model::{
    Block, Common, Include, IncludeKind, Item, LoopControl, LoopSpec, Origin, RoleFiles, Task,
};
use super::resolve_module::{Resolved, resolve};
use crate::modules;
use crate::source::SourceError;
use crate::yaml::{Node, NodeKind};
use serde_json::Value as Json;
use std::sync::Arc;

/// Parses a task list (`tasks:`, `block:`, a tasks file).
pub fn parse_items(node: &Node, ctx: &LoadCtx) -> Result<Vec<Item>, SourceError> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in node.expect_seq("a task list")? {
        let entries = item.expect_map("a task")?;
        let has = |k: &str| entries.iter().any(|(key, _, _)| key == k);
        if has("block") {
            out.push(Item::Block(Arc::new(parse_block(item, ctx)?)));
        } else if let Some(imported) = parse_import(item, ctx)? {
            out.push(imported);
        } else if has("include_tasks")
            || has("ansible.builtin.include_tasks")
            || has("include_role")
            || has("ansible.builtin.include_role")
        {
            out.push(Item::Include(Arc::new(parse_include(item, ctx)?)));
        } else {
            out.push(Item::Task(Arc::new(parse_task(item, ctx)?)));
        }
    }
    Ok(out)
}

fn origin(node: &Node) -> Origin {
    Origin {
        doc: node.doc.clone(),
        pos: node.pos,
    }
}

/// A per-host boolean keyword: a literal now, or a template decided when the task runs.
fn bool_or_template(
    slot: &mut Option<bool>,
    templated: &mut Vec<(String, String)>,
    what: &str,
    node: &Node,
) -> Result<(), SourceError> {
    match &node.kind {
        NodeKind::Str(s) if crate::template::Templar::is_template(s) => {
            templated.push((what.to_string(), s.clone()))
        }
        _ => *slot = Some(bool_of(node, what)?),
    }
    Ok(())
}

fn bool_of(node: &Node, what: &str) -> Result<bool, SourceError> {
    match &node.kind {
        NodeKind::Bool(b) => Ok(*b),
        NodeKind::Str(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Ok(true),
            "no" | "false" | "off" | "0" => Ok(false),
            _ => Err(node.error(format!("`{what}` must be a boolean, found `{s}`"))),
        },
        NodeKind::Int(i) => Ok(*i != 0),
        _ => Err(node.error(format!(
            "`{what}` must be a boolean, found {}",
            node.type_name()
        ))),
    }
}

/// An integer keyword (`throttle`, `timeout`): a number, a numeric string or a template.
fn int_or_template(node: &Node, what: &str) -> Result<Json, SourceError> {
    match &node.kind {
        NodeKind::Int(i) => Ok(Json::from(*i)),
        NodeKind::Str(s) if crate::template::Templar::is_template(s) => Ok(Json::from(s.clone())),
        NodeKind::Str(s) => s
            .trim()
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| node.error(format!("`{what}` must be an integer, found `{s}`"))),
        _ => Err(node.error(format!(
            "`{what}` must be an integer, found {}",
            node.type_name()
        ))),
    }
}

/// Conditions: a string, a boolean, or a list of them (all must hold).
pub fn conditions(node: &Node, what: &str) -> Result<Vec<String>, SourceError> {
    let one = |n: &Node| -> Result<String, SourceError> {
        match &n.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            NodeKind::Bool(b) => Ok(if *b { "True".into() } else { "False".into() }),
            NodeKind::Unsafe(s) => Ok(format!("{}{s}", crate::template::UNTRUSTED_CONDITION)),
            _ => Err(n.error(format!(
                "`{what}` must be a conditional expression, found {}",
                n.type_name()
            ))),
        }
    };
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(one).collect(),
        NodeKind::Null => Ok(Vec::new()),
        _ => Ok(vec![one(node)?]),
    }
}

/// Reads the shared keywords of `node`, calling `other` for every key that is not one.
pub fn parse_common(
    node: &Node,
    allowed: &[&str],
    what: &str,
    mut other: impl FnMut(&str, &Node, &Node) -> Result<bool, SourceError>,
) -> Result<Common, SourceError> {
    let mut c = Common::default();
    for (key, knode, value) in node.expect_map(what)? {
        let k = key.as_str();
        if other(k, knode, value)? {
            continue;
        }
        if !allowed.contains(&k) {
            let hint = keywords::closest(k, allowed.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("valid keys are: {}", allowed.join(", ")));
            // ansible-core's words for plays and blocks, which scripts look for.
            let message = match what {
                "a play" => format!("'{k}' is not a valid attribute for a Play"),
                "a block" => format!("'{k}' is not a valid attribute for a Block"),
                _ => format!("`{k}` is not a valid key for {what}"),
            };
            return Err(knode.error(message).with_help(hint));
        }
        if let Some(why) = keywords::unsupported(k) {
            return Err(knode
                .error(format!("`{k}` is not supported"))
                .with_help(why));
        }
        match k {
            "name" if value.is_null() => c.name = None,
            "name" => c.name = Some(value.expect_scalar_string("`name`")?),
            "when" => c.when = conditions(value, "when")?,
            "tags" => c.tags = value.string_list("`tags`")?,
            "vars" if !value.is_null() => {
                value.expect_map("`vars`")?;
                if let Json::Object(m) = value.to_value() {
                    c.vars = m;
                }
            }
            "become" => bool_or_template(&mut c.become_, &mut c.templated, k, value)?,
            "become_user" => c.become_user = Some(value.expect_scalar_string("`become_user`")?),
            "connection" => c.connection = Some(value.expect_scalar_string("`connection`")?),
            "notify" => c.notify = value.string_list("`notify`")?,
            "environment" => c.environment = Some(value.to_value()),
            "ignore_errors" => bool_or_template(&mut c.ignore_errors, &mut c.templated, k, value)?,
            "ignore_unreachable" => {
                bool_or_template(&mut c.ignore_unreachable, &mut c.templated, k, value)?
            }
            "delegate_to" => c.delegate_to = Some(value.expect_scalar_string("`delegate_to`")?),
            "run_once" => bool_or_template(&mut c.run_once, &mut c.templated, k, value)?,
            "no_log" => bool_or_template(&mut c.no_log, &mut c.templated, k, value)?,
            "check_mode" => bool_or_template(&mut c.check_mode, &mut c.templated, k, value)?,
            "diff" => bool_or_template(&mut c.diff, &mut c.templated, k, value)?,
            "any_errors_fatal" => c.any_errors_fatal = Some(bool_of(value, k)?),
            "remote_user" => c.remote_user = Some(value.expect_scalar_string("`remote_user`")?),
            "throttle" => c.throttle = Some(int_or_template(value, k)?),
            "timeout" => c.timeout = Some(int_or_template(value, k)?),
            "module_defaults" if !value.is_null() => {
                c.module_defaults = Some(super::module_defaults::parse(value)?)
            }
            _ => {}
        }
    }
    Ok(c)
}

fn parse_block(node: &Node, ctx: &LoadCtx) -> Result<Block, SourceError> {
    let (mut block, mut rescue, mut always) = (Vec::new(), Vec::new(), Vec::new());
    let common = parse_common(node, keywords::BLOCK, "a block", |k, _, v| {
        match k {
            "block" => block = parse_items(v, ctx)?,
            "rescue" => rescue = parse_items(v, ctx)?,
            "always" => always = parse_items(v, ctx)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Block {
        origin: origin(node),
        common,
        block,
        rescue,
        always,
        role: None,
    })
}

fn parse_loop(key: &str, value: &Node) -> Result<Option<LoopSpec>, SourceError> {
    if key == "loop" {
        return Ok(Some(LoopSpec::Loop(value.to_value())));
    }
    if let Some(lookup) = key.strip_prefix("with_") {
        // Lookups, and the loops that exist only as `with_*` (their lookups are loop logic).
        let known: Vec<&str> = crate::template::LOOKUP_NAMES
            .iter()
            .copied()
            .chain(["indexed_items", "nested", "together", "subelements"])
            .collect();
        if !known.contains(&lookup) {
            return Err(value
                .error(format!("`{key}` is not a supported loop"))
                .with_help(format!(
                    "use `loop:` or one of: {}",
                    known
                        .iter()
                        .map(|k| format!("with_{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
        }
        return Ok(Some(LoopSpec::With {
            lookup: lookup.to_string(),
            terms: value.to_value(),
        }));
    }
    Ok(None)
}

fn parse_loop_control(node: &Node) -> Result<LoopControl, SourceError> {
    let mut lc = LoopControl::default();
    for (k, kn, v) in node.expect_map("`loop_control`")? {
        match k.as_str() {
            "loop_var" => lc.loop_var = Some(v.expect_scalar_string("`loop_var`")?),
            "index_var" => lc.index_var = Some(v.expect_scalar_string("`index_var`")?),
            "label" => lc.label = Some(v.expect_scalar_string("`label`")?),
            "pause" => {
                lc.pause = Some(match &v.kind {
                    NodeKind::Int(i) => *i as f64,
                    NodeKind::Float(f) => *f,
                    _ => return Err(v.error("`pause` must be a number of seconds")),
                })
            }
            "extended" => lc.extended = bool_of(v, "extended")?,
            "extended_allitems" => lc.extended_allitems = Some(bool_of(v, "extended_allitems")?),
            "break_when" => lc.break_when = conditions(v, "break_when")?,
            other => {
                return Err(kn
                    .error(format!("`{other}` is not a valid `loop_control` option"))
                    .with_help("valid options are: loop_var, index_var, label, pause, extended, extended_allitems, break_when"));
            }
        }
    }
    Ok(lc)
}

/// `k=v k2="v 2"` words, honouring quotes.
/// Python's escape sequences in a `key=value` word, decoded as ansible-core's parse_kv does
/// (`\n`, `\t`, `\b`, `\xHH`, `\uHHHH`, quotes and backslashes; no octal, as there).
pub fn decode_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Option<char> {
            let digits: String = (0..n).filter_map(|_| chars.next()).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        match chars.peek().copied() {
            Some(e @ ('\\' | '\'' | '"')) => {
                chars.next();
                out.push(e);
            }
            Some(e @ ('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v')) => {
                chars.next();
                out.push(match e {
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => '\u{b}',
                });
            }
            Some(e @ ('x' | 'u' | 'U')) => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let ahead: String = chars.clone().skip(1).take(n).collect();
                if ahead.len() == n && ahead.chars().all(|d| d.is_ascii_hexdigit()) {
                    chars.next();
                    out.extend(hex(&mut chars, n));
                } else {
                    out.push('\\');
                }
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Splits `k=v` text into words on unquoted whitespace outside `{...}`, unquoting them.
pub fn split_words(s: &str) -> Vec<String> {
    split(s, false)
}

/// As [`split_words`], keeping the quotes as written (ansible-core's `split_args`).
pub fn split_words_as_written(s: &str) -> Vec<String> {
    split(s, true)
}

fn split(s: &str, keep_quotes: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                if keep_quotes {
                    cur.push(c)
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') if depth == 0 => {
                quote = Some(c);
                if keep_quotes {
                    cur.push(c)
                }
            }
            (None, '{') => {
                depth += 1;
                cur.push(c)
            }
            (None, '}') => {
                depth -= 1;
                cur.push(c)
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Turns a module's value (`copy: src=a dest=b`, `shell: echo hi`, or a mapping) into args.
fn module_args(
    module: &str,
    info: Option<&modules::ModuleInfo>,
    value: &Node,
) -> Result<Json, SourceError> {
    match &value.kind {
        NodeKind::Null => Ok(Json::Object(Default::default())),
        NodeKind::Map(_) => Ok(value.to_value()),
        NodeKind::Str(s) => Ok(Json::Object(free_form_args(s, info))),
        NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => {
            let s = value.expect_scalar_string("module arguments")?;
            Ok(Json::Object(free_form_args(&s, info)))
        }
        _ => Err(value.error(format!(
            "arguments of `{module}` must be a mapping or a `key=value` string"
        ))),
    }
}

fn free_form_args(s: &str, info: Option<&modules::ModuleInfo>) -> serde_json::Map<String, Json> {
    let mut args = serde_json::Map::new();
    let free_form = info.is_some_and(|i| i.free_form);
    let mut raw = Vec::new();
    for word in split_words(s) {
        match word.split_once('=') {
            Some((k, v)) if !free_form || info.is_some_and(|i| i.fields.iter().any(|f| f == k)) => {
                args.insert(k.to_string(), Json::String(decode_escapes(v)));
            }
            _ => raw.push(word),
        }
    }
    if free_form {
        // Keep the command's text as written, minus the recognised `key=value` options; a
        // lone `\` ending a line outside quotes joins it to the next, and a block's final
        // newline stays, as ansible-core's split_args/join_args give it.
        let kept = if raw.len() == split_words(s).len() {
            s.to_string()
        } else {
            rebuild(s, &args)
        };
        let joined = join_continuations(kept.trim());
        let text = if s.ends_with('\n') && !joined.is_empty() {
            joined + "\n"
        } else {
            joined
        };
        if !text.is_empty() {
            args.insert("_raw_params".into(), Json::String(text));
        }
    } else if !raw.is_empty() {
        args.insert("_raw_params".into(), Json::String(raw.join(" ")));
    }
    args
}

/// Removes line continuations: a `\` standing alone as the last word of a line, outside
/// quotes, and the newline after it.
fn join_continuations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q && !out.ends_with('\\') => quote = None,
            (None, '\\')
                if chars.peek() == Some(&'\n')
                    && (out.is_empty() || out.ends_with(' ') || out.ends_with('\n')) =>
            {
                chars.next();
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The free-form text with recognised `key=value` words removed.
fn rebuild(s: &str, options: &serde_json::Map<String, Json>) -> String {
    let mut text = s.to_string();
    for (k, v) in options {
        let v = v.as_str().unwrap_or_default();
        for candidate in [
            format!("{k}={v}"),
            format!("{k}='{v}'"),
            format!("{k}=\"{v}\""),
        ] {
            if let Some(i) = text.find(&candidate) {
                // The option and one separator after it go; the rest stays as written.
                let mut end = i + candidate.len();
                if text[end..].starts_with([' ', '\n'])
                    && (i == 0 || text[..i].ends_with([' ', '\n']))
                {
                    end += 1;
                }
                text.replace_range(i..end, "");
                break;
            }
        }
    }
    text
}

pub fn parse_task(node: &Node, ctx: &LoadCtx) -> Result<Task, SourceError> {
    let mut module: Option<(Resolved, Json, Node)> = None;
    let mut extra_args: Option<Json> = None;
    let mut loop_: Option<LoopSpec> = None;
    let mut lc = LoopControl::default();
    let mut t = TaskFields::default();
    let mut local = false;
    let mut common = parse_common(node, keywords::TASK, "a task", |k, knode, v| {
        if let Some(l) = parse_loop(k, v)? {
            if loop_.is_some() {
                return Err(knode.error("a task can have only one loop (`loop` or one `with_*`)"));
            }
            loop_ = Some(l);
            return Ok(true);
        }
        match k {
            "loop_control" => lc = parse_loop_control(v)?,
            "register" => {
                let name = v.expect_scalar_string("`register`")?;
                if !crate::template::var_name::valid(&name) {
                    return Err(v.error(format!(
                        "Invalid variable name in 'register' specified: '{name}'"
                    )));
                }
                t.register = Some(name);
            }
            "notify" => t.notify = v.string_list("`notify`")?,
            "listen" => t.listen = v.string_list("`listen`")?,
            "changed_when" => t.changed_when = Some(conditions(v, k)?),
            "failed_when" => t.failed_when = Some(conditions(v, k)?),
            "until" => t.until = Some(conditions(v, k)?),
            "retries" => t.retries = Some(v.to_value()),
            "delay" => t.delay = Some(v.to_value()),
            "async" => {
                t.async_ = Some(v.to_value());
                t.async_at = Some(origin(knode));
            }
            "poll" => t.poll = Some(v.to_value()),
            "delegate_facts" => t.delegate_facts = bool_of(v, k)?,
            "args" => extra_args = Some(v.to_value()),
            "action" | "local_action" => {
                local = k == "local_action";
                let (name, args) = action_form(v, ctx)?;
                set_module(&mut module, knode, name, args, v)?;
            }
            _ if keywords::TASK.contains(&k) => return Ok(false),
            _ => {
                if let Some(Err(e)) = modules::external::get(module_name(k)).map(|m| m.info()) {
                    return Err(knode.error(e));
                }
                let resolved = resolve(k, ctx).map_err(|why| {
                    knode
                        .error(format!("`{k}` is not a task keyword or a known module"))
                        .with_help(not_found_help(k, &why))
                })?;
                let args = module_args(k, resolved.info().as_ref(), v)?;
                set_module(&mut module, knode, resolved, args, v)?;
            }
        }
        Ok(true)
    })?;
    let Some((resolved, mut args, args_node)) = module else {
        return Err(node
            .error("no module or action in this task")
            .with_help("add a module such as `command:`, `copy:` or `debug:`"));
    };
    let mut args_expr = None;
    match (extra_args, &mut args) {
        (Some(Json::Object(extra)), Json::Object(a)) => {
            for (k, v) in extra {
                a.entry(k).or_insert(v);
            }
        }
        (Some(Json::String(expr)), _) => args_expr = Some(expr),
        _ => {}
    }
    if local {
        common.delegate_to = Some("localhost".into());
    }
    let action = resolved.name();
    let action_written = resolved.written().map(str::to_string);
    let ansible_module = resolved.located();
    let mut background_issue = None;
    if let Some(at) = &t.async_at {
        check_async(t.async_.as_ref(), t.poll.as_ref(), at)?;
        if ansible_module.is_none() {
            background_issue = background_issue_at(&action, t.async_.as_ref(), t.poll.as_ref(), at);
        }
    }
    let arg_origins = arg_positions(&args_node);
    let issue = match &ansible_module {
        Some(m) => m.refusal.clone().map(|message| modules::ArgIssue {
            arg: None,
            message,
            help: None,
        }),
        None if crate::template::Templar::is_template(&action) => None,
        None => modules::validate_static(&action, &args).err(),
    };
    let arg_issue = issue.map(|issue| {
        let at = issue
            .arg
            .as_ref()
            .and_then(|a| arg_origins.iter().find(|(k, _)| k == a))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| origin(&args_node));
        let e = at.error(format!("{action}: {}", issue.message));
        match issue.help {
            Some(h) => e.with_help(h),
            None => e,
        }
    });
    let arg_issue = arg_issue.or(background_issue);
    Ok(Task {
        origin: origin(node),
        common,
        action,
        action_written,
        ansible_module,
        args,
        args_expr,
        arg_origins,
        arg_issue,
        loop_,
        loop_control: lc,
        register: t.register,
        notify: t.notify,
        listen: t.listen,
        changed_when: t.changed_when,
        failed_when: t.failed_when,
        until: t.until,
        retries: t.retries,
        delay: t.delay,
        async_: t.async_,
        poll: t.poll,
        delegate_facts: t.delegate_facts,
        role: ctx.role.clone(),
    })
}

#[derive(Default)]
struct TaskFields {
    register: Option<String>,
    notify: Vec<String>,
    listen: Vec<String>,
    changed_when: Option<Vec<String>>,
    failed_when: Option<Vec<String>>,
    until: Option<Vec<String>>,
    retries: Option<Json>,
    delay: Option<Json>,
    async_: Option<Json>,
    async_at: Option<Origin>,
    poll: Option<Json>,
    delegate_facts: bool,
}

/// The modules `async` with `poll: 0` can run as background jobs.
pub const BACKGROUND_MODULES: [&str; 2] = ["command", "shell"];

/// A whole number of seconds, as `async` and `poll` take them: `Some(n)`, `None` for a
/// template (decided at run time), or why not.
pub fn whole_seconds(v: &Json) -> Result<Option<u64>, String> {
    match v {
        Json::Number(n) => n.as_u64().map(Some),
        Json::String(s) if crate::template::Templar::is_template(s) => return Ok(None),
        Json::String(s) => s.trim().parse().ok().map(Some),
        _ => None,
    }
    .ok_or_else(|| format!("expected a whole number of seconds, got `{v}`"))
}

/// `async`/`poll` as written: numbers of seconds (which modules can run in the background is
/// decided when the task runs, where ansible-core decides it).
/// `async` with `poll: 0` (a job nobody waits for) runs only `command`, `shell` and Ansible's
/// own modules (through the fallback): for another native module it is a finding
/// (strict in check-syntax, a warning in runs; the task fails when it runs).
fn background_issue_at(
    action: &str,
    async_: Option<&Json>,
    poll: Option<&Json>,
    at: &Origin,
) -> Option<SourceError> {
    let secs = |v: &Json| whole_seconds(v).ok().flatten();
    let limit = async_.and_then(secs);
    let poll = match poll {
        Some(p) => secs(p),
        None => Some(15),
    };
    (limit != Some(0) && poll == Some(0) && !BACKGROUND_MODULES.contains(&action)).then(|| {
        at.error(format!(
            "`async` with `poll: 0` runs only `command` and `shell` in the background, not `{action}`"
        ))
        .with_help(
            "other modules run in the foreground: hoist's connection to the host does not time out, so they need no `async`",
        )
    })
}

fn check_async(async_: Option<&Json>, poll: Option<&Json>, at: &Origin) -> Result<(), SourceError> {
    if let Some(v) = async_ {
        whole_seconds(v).map_err(|e| at.error(format!("`async`: {e}")))?;
    }
    if let Some(v) = poll {
        whole_seconds(v).map_err(|e| at.error(format!("`poll`: {e}")))?;
    }
    Ok(())
}

fn set_module(
    slot: &mut Option<(Resolved, Json, Node)>,
    key: &Node,
    name: Resolved,
    args: Json,
    v: &Node,
) -> Result<(), SourceError> {
    if let Some((prev, _, _)) = slot {
        return Err(key
            .error(format!(
                "conflicting action statements: `{}` and `{}`",
                prev.name(),
                name.name()
            ))
            .with_help("a task runs exactly one module"));
    }
    *slot = Some((name, args, v.clone()));
    Ok(())
}

/// `action: copy src=a dest=b` or `action: {module: copy, src: a}`.
fn action_form(v: &Node, ctx: &LoadCtx) -> Result<(Resolved, Json), SourceError> {
    let resolve_or = |name: &str| {
        resolve(name, ctx).map_err(|why| {
            v.error(format!("`{name}` is not a known module"))
                .with_help(not_found_help(name, &why))
        })
    };
    match &v.kind {
        NodeKind::Str(s) => {
            let s = s.trim();
            // The name is the first word, or a whole `{{ ... }}` template.
            let (name, rest) = match s.strip_prefix("{{").and_then(|r| r.find("}}")) {
                Some(end) => (&s[..end + 4], s[end + 4..].trim_start()),
                None => s.split_once(char::is_whitespace).unwrap_or((s, "")),
            };
            let resolved = resolve_or(name)?;
            let args = free_form_args(rest, resolved.info().as_ref());
            Ok((resolved, Json::Object(args)))
        }
        NodeKind::Map(_) => {
            let mut args = v.to_value();
            let name = args
                .as_object_mut()
                .and_then(|m| m.remove("module"))
                .and_then(|m| m.as_str().map(str::to_string))
                .ok_or_else(|| v.error("`action` needs a `module:` key"))?;
            // An `args:` mapping inside the action's mapping adds to its arguments.
            if let Some(m) = args.as_object_mut()
                && let Some(Json::Object(inner)) = m.remove("args")
            {
                m.extend(inner);
            }
            Ok((resolve_or(&name)?, args))
        }
        _ => Err(v.error("`action` must be a string or a mapping")),
    }
}

/// The help under "not a known module": a close native name, else why the fallback found none.
fn not_found_help(name: &str, why: &str) -> String {
    // A native module asked to run as Ansible's own (--ansible-module): the reason says it.
    if modules::info(module_name(name)).is_some() {
        return why.to_string();
    }
    let all = modules::names();
    match keywords::closest(module_name(name), all.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("neither hoist nor Ansible has a module `{name}`: {why}"),
    }
}

fn arg_positions(args: &Node) -> Vec<(String, Origin)> {
    args.as_map()
        .map(|m| m.iter().map(|(k, kn, _)| (k.clone(), origin(kn))).collect())
        .unwrap_or_default()
}

/// `include_tasks` / `include_role`: resolved on each host at run time.
fn parse_include(node: &Node, ctx: &LoadCtx) -> Result<Include, SourceError> {
    let mut kind = None;
    let mut target = String::new();
    let mut params = serde_json::Map::new();
    let mut loop_ = None;
    let mut lc = LoopControl::default();
    let mut apply = None;
    let mut listen = Vec::new();
    let mut common = parse_common(node, keywords::TASK, "an include", |k, knode, v| {
        if let Some(l) = parse_loop(k, v)? {
            loop_ = Some(l);
            return Ok(true);
        }
        // `apply:` keywords for the included tasks, as a block around them would give.
        if matches!(module_name(k), "include_tasks" | "include_role")
            && let Some(a) = v.as_map().and_then(|_| v.get("apply"))
        {
            apply = Some(parse_common(a, keywords::BLOCK, "`apply`", |_, _, _| {
                Ok(false)
            })?);
        }
        match module_name(k) {
            "include_tasks" => {
                kind = Some(IncludeKind::Tasks);
                target = match &v.kind {
                    NodeKind::Map(_) => v
                        .get("file")
                        .or_else(|| v.get("_raw_params"))
                        .ok_or_else(|| v.error("`include_tasks` needs `file:`"))?
                        .expect_scalar_string("`file`")?,
                    _ => v.expect_scalar_string("`include_tasks`")?,
                };
            }
            "include_role" => {
                let opts = role_options(v, "include_role")?;
                // `role:` is ansible-core's other spelling of `name:`.
                target = opts
                    .get("name")
                    .or_else(|| opts.get("role"))
                    .ok_or_else(|| v.error("`include_role` needs `name:`"))?
                    .clone();
                let from = RoleFiles::from_options(&opts);
                let public = opts.get("public").is_some_and(|p| {
                    ["yes", "true", "on", "1"].contains(&p.to_ascii_lowercase().as_str())
                });
                for opt in opts.keys() {
                    if ![
                        "name",
                        "role",
                        "tasks_from",
                        "vars_from",
                        "defaults_from",
                        "handlers_from",
                        "public",
                        "apply",
                        "allow_duplicates",
                        "rolespec_validate",
                    ]
                    .contains(&opt.as_str())
                    {
                        return Err(v.error(format!("`{opt}` is not an `include_role` option")));
                    }
                }
                kind = Some(IncludeKind::Role { from, public });
            }
            "loop_control" => lc = parse_loop_control(v)?,
            "listen" => listen = v.string_list("`listen`")?,
            _ if keywords::TASK.contains(&k) => return Ok(false),
            _ => return Err(knode.error(format!("`{k}` cannot be used on an include"))),
        }
        Ok(true)
    })?;
    if let Some(extra) = node
        .get("vars")
        .and_then(|v| v.to_value().as_object().cloned())
    {
        params.extend(extra);
    }
    common.vars = Default::default();
    Ok(Include {
        origin: origin(node),
        common,
        kind: kind.ok_or_else(|| node.error("not an include"))?,
        target,
        loop_,
        loop_control: lc,
        params,
        base_dir: ctx.base_dir.clone(),
        role: ctx.role.clone(),
        apply,
        listen,
    })
}

/// The options of `include_role` / `import_role`, written as a mapping or as `key=value` words.
fn role_options(
    v: &Node,
    what: &str,
) -> Result<std::collections::BTreeMap<String, String>, SourceError> {
    let mut out = std::collections::BTreeMap::new();
    match &v.kind {
        NodeKind::Str(s) => {
            for word in split_words(s) {
                match word.split_once('=') {
                    Some((k, val)) => {
                        out.insert(k.to_string(), val.trim_matches(['"', '\'']).to_string());
                    }
                    None => {
                        return Err(v.error(format!(
                            "`{what}` takes `key=value` options, found `{word}`"
                        )));
                    }
                }
            }
        }
        _ => {
            for (k, _, val) in v.expect_map(&format!("`{what}`"))? {
                let text = match &val.kind {
                    NodeKind::Map(_) | NodeKind::Seq(_) => val.to_value().to_string(),
                    _ => val.expect_scalar_string(&format!("`{k}`"))?,
                };
                out.insert(k.clone(), text);
            }
        }
    }
    Ok(out)
}

/// `import_tasks` / `import_role`: expanded now, into a block carrying the import's keywords.
fn parse_import(node: &Node, ctx: &LoadCtx) -> Result<Option<Item>, SourceError> {
    let entries = node.expect_map("a task")?;
    let Some((key, _, value)) = entries
        .iter()
        .find(|(k, _, _)| matches!(module_name(k), "import_tasks" | "import_role"))
    else {
        return Ok(None);
    };
    let is_role = module_name(key) == "import_role";
    let mut common = parse_common(node, keywords::TASK, "an import", |k, knode, _| {
        if k == key {
            return Ok(true);
        }
        if !keywords::BLOCK.contains(&k) || matches!(k, "block" | "rescue" | "always") {
            return Err(knode.error(format!("`{k}` cannot be used on `{key}`")));
        }
        Ok(false)
    })?;
    let block = if is_role {
        let opts = role_options(value, "import_role")?;
        let name = opts
            .get("name")
            .or_else(|| opts.get("role"))
            .ok_or_else(|| value.error("`import_role` needs `name:`"))?
            .clone();
        let from = RoleFiles::from_options(&opts);
        Block {
            origin: origin(node),
            common: Common::default(),
            block: ctx.load_role(
                &name,
                &from,
                Default::default(),
                &Default::default(),
                value,
                false,
            )?,
            rescue: Vec::new(),
            always: Vec::new(),
            role: None,
        }
    } else {
        let file = match &value.kind {
            NodeKind::Map(_) => value
                .get("file")
                .ok_or_else(|| value.error("`import_tasks` needs `file:`"))?
                .expect_scalar_string("`file`")?,
            _ => value.expect_scalar_string("`import_tasks`")?,
        };
        let items = ctx.import_tasks(&file, value)?;
        Block {
            origin: origin(node),
            common: Common::default(),
            block: items,
            rescue: Vec::new(),
            always: Vec::new(),
            role: None,
        }
    };
    // The import's own keywords (when, tags, vars, become...) apply to every imported task.
    common.name = common.name.take();
    Ok(Some(Item::Block(Arc::new(Block { common, ..block }))))
}

#[cfg(test)]
mod escape_tests {
    use super::decode_escapes;

    #[test]
    fn key_value_words_decode_python_escapes() {
        assert_eq!(decode_escapes(r"\b(.+)\b"), "\u{8}(.+)\u{8}");
        assert_eq!(decode_escapes(r"a\nb\tc"), "a\nb\tc");
        assert_eq!(decode_escapes(r"\\b"), r"\b");
        assert_eq!(decode_escapes(r"\x41\u00e9"), "Aé");
        assert_eq!(
            decode_escapes(r"\1"),
            r"\1",
            "no octal escapes: group references survive"
        );
        assert_eq!(decode_escapes(r"\d+ \w"), r"\d+ \w");
        assert_eq!(decode_escapes(r"end\"), r"end\");
    }
}
