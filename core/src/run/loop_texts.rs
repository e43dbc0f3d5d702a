//! The strings an operator wrote in a play's loop lists (`loop:` or `with_*:` given as a
//! literal list, not a template). An `assert`/`debug` expression equal to one of them is the
//! operator's own text wherever it travelled (a loop item echoed in a registered result, as
//! `item.item.checks`), so it may be evaluated: whatever data picks, only operator-written
//! text ever becomes code.

use crate::playbook::{Item, LoopSpec, Play};
use serde_json::Value as Json;
use std::collections::HashSet;

/// Every string written in a literal loop list of `play` (tasks, blocks, includes, handlers).
pub(crate) fn of(play: &Play) -> HashSet<String> {
    let mut out = HashSet::new();
    for items in [
        &play.pre_tasks,
        &play.roles,
        &play.tasks,
        &play.post_tasks,
        &play.handlers,
    ] {
        items_into(items, &mut out);
    }
    out
}

fn items_into(items: &[Item], out: &mut HashSet<String>) {
    for item in items {
        match item {
            Item::Task(t) => loop_into(t.loop_.as_ref(), out),
            Item::Include(i) => loop_into(i.loop_.as_ref(), out),
            Item::Block(b) => {
                items_into(&b.block, out);
                items_into(&b.rescue, out);
                items_into(&b.always, out);
            }
        }
    }
}

fn loop_into(spec: Option<&LoopSpec>, out: &mut HashSet<String>) {
    let written = match spec {
        Some(LoopSpec::Loop(v)) if !v.is_string() => v,
        Some(LoopSpec::With { terms, .. }) if !terms.is_string() => terms,
        _ => return,
    };
    strings_into(written, out);
}

/// The strings inside a written value, at any depth (mapping values, list items).
pub(crate) fn strings_into(v: &Json, out: &mut HashSet<String>) {
    match v {
        Json::String(s) => {
            out.insert(s.clone());
        }
        Json::Array(a) => a.iter().for_each(|x| strings_into(x, out)),
        // `!unsafe` text is never the operator's code.
        Json::Object(m) if crate::template::unsafe_text::is_marker(m) => {}
        Json::Object(m) => m.values().for_each(|x| strings_into(x, out)),
        _ => {}
    }
}
