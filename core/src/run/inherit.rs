//! Keywords inherited from play to block to task (and into includes and roles), innermost wins;
//! `when` conditions and tags accumulate.

use crate::inventory::Vars;
use crate::playbook::{Common, RoleCtx};
use crate::template::Layer;
use serde_json::Value as Json;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Inherit {
    pub when: Vec<String>,
    pub tags: Vec<String>,
    /// Block and task vars, outermost first.
    pub vars: Vec<Arc<Vars>>,
    /// Include parameters (templates) and include loop variables (data), outermost first.
    pub params: Vec<Layer>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub connection: Option<String>,
    pub remote_user: Option<String>,
    /// `notify` of enclosing blocks and imports, outermost first.
    pub notify: Vec<String>,
    /// `environment:` maps, outermost first.
    pub environment: Vec<Json>,
    pub ignore_errors: Option<bool>,
    pub ignore_unreachable: Option<bool>,
    pub delegate_to: Option<String>,
    pub run_once: Option<bool>,
    pub no_log: Option<bool>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    pub any_errors_fatal: Option<bool>,
    pub role: Option<Arc<RoleCtx>>,
    /// The roles that brought `role` in at run time (an `include_role` inside a role),
    /// outermost first.
    pub role_parents: Vec<Arc<RoleCtx>>,
    /// `throttle` and `timeout`: the innermost given (a number or a template).
    pub throttle: Option<Json>,
    pub timeout: Option<Json>,
    /// `module_defaults` maps, outermost first.
    pub module_defaults: Vec<Json>,
    /// Boolean keywords given as templates, innermost last (see `Common::templated`).
    pub templated: Vec<(String, String)>,
    /// Why deciding them failed: the task fails with it, unless `when` skips it.
    pub undecided: Option<String>,
    /// Inside the `block:` of a block that has a `rescue:`: a failure here is rescued, so it
    /// does not break the play (`any_errors_fatal`, `max_fail_percentage`) as in Ansible.
    pub rescuable: bool,
    /// The directory of the file the running task was written in (ansible-core searches it
    /// for relative files after the roles').
    pub task_dir: Option<std::path::PathBuf>,
}

impl Inherit {
    /// This context with `c`'s keywords layered on (tags and conditions added, others replaced).
    pub fn child(&self, c: &Common) -> Inherit {
        let mut n = self.clone();
        n.when.extend(c.when.iter().cloned());
        n.tags.extend(c.tags.iter().cloned());
        n.notify.extend(c.notify.iter().cloned());
        if !c.vars.is_empty() {
            n.vars.push(Arc::new(c.vars.clone()));
        }
        macro_rules! over {
            ($($f:ident),*) => { $( if c.$f.is_some() { n.$f = c.$f.clone(); } )* };
        }
        over!(
            become_,
            become_user,
            connection,
            remote_user,
            ignore_errors,
            ignore_unreachable,
            delegate_to,
            run_once,
            no_log,
            check_mode,
            diff,
            any_errors_fatal,
            throttle,
            timeout
        );
        if let Some(d) = &c.module_defaults {
            n.module_defaults.push(d.clone());
        }
        if let Some(e) = &c.environment {
            n.environment.push(e.clone());
        }
        // An inner literal or template replaces an outer template of the same keyword.
        let literal = [
            ("become", c.become_.is_some()),
            ("ignore_errors", c.ignore_errors.is_some()),
            ("ignore_unreachable", c.ignore_unreachable.is_some()),
            ("no_log", c.no_log.is_some()),
            ("check_mode", c.check_mode.is_some()),
            ("diff", c.diff.is_some()),
            ("run_once", c.run_once.is_some()),
        ];
        n.templated.retain(|(k, _)| {
            !literal.iter().any(|(l, set)| *set && l == k)
                && !c.templated.iter().any(|(ck, _)| ck == k)
        });
        n.templated.extend(c.templated.iter().cloned());
        n
    }

    /// Decides the templated keywords with `render` (a template to its value) for one host.
    pub fn decide(
        &self,
        render: impl Fn(&str) -> Result<serde_json::Value, String>,
    ) -> Result<Inherit, String> {
        let mut n = self.clone();
        for (k, t) in std::mem::take(&mut n.templated) {
            let b = templated_bool(&k, &t, &render)?;
            n.set_bool(&k, b);
        }
        Ok(n)
    }

    /// Decides one templated keyword (`run_once`, decided once for a batch with its first
    /// host's variables), leaving the others for [`Inherit::decide`].
    pub fn decide_one(
        &mut self,
        key: &str,
        render: impl Fn(&str) -> Result<serde_json::Value, String>,
    ) -> Result<(), String> {
        let Some(i) = self.templated.iter().position(|(k, _)| k == key) else {
            return Ok(());
        };
        let (k, t) = self.templated.remove(i);
        let b = templated_bool(&k, &t, &render)?;
        self.set_bool(&k, b);
        Ok(())
    }

    fn set_bool(&mut self, key: &str, b: bool) {
        match key {
            "become" => self.become_ = Some(b),
            "ignore_errors" => self.ignore_errors = Some(b),
            "ignore_unreachable" => self.ignore_unreachable = Some(b),
            "no_log" => self.no_log = Some(b),
            "check_mode" => self.check_mode = Some(b),
            "run_once" => self.run_once = Some(b),
            _ => self.diff = Some(b),
        }
    }

    /// Enters a role: its variables and search paths apply to what is inside.
    pub fn with_role(&self, role: &Arc<RoleCtx>) -> Inherit {
        let mut n = self.clone();
        if let Some(prev) = &self.role
            && !Arc::ptr_eq(prev, role)
        {
            n.role_parents = self.parent_roles();
            n.role_parents.push(prev.clone());
        }
        n.role = Some(role.clone());
        n
    }

    /// The roles above the current one, outermost first: those that included it at run time
    /// and those whose `meta/main.yml` depends on it (ansible-core's dependency chain).
    pub fn parent_roles(&self) -> Vec<Arc<RoleCtx>> {
        let mut out: Vec<Arc<RoleCtx>> = Vec::new();
        let statics = self.role.iter().flat_map(|r| r.parents.iter());
        for r in self.role_parents.iter().chain(statics) {
            if !out.iter().any(|o| Arc::ptr_eq(o, r)) {
                out.push(r.clone());
            }
        }
        out
    }
}

/// A templated boolean keyword's value, read as ansible-core's boolean conversion reads it.
fn templated_bool(
    k: &str,
    t: &str,
    render: impl Fn(&str) -> Result<serde_json::Value, String>,
) -> Result<bool, String> {
    let v = render(t).map_err(|e| format!("`{k}`: {e}"))?;
    match &v {
        serde_json::Value::Bool(b) => Ok(*b),
        serde_json::Value::Number(x) => Ok(x.as_f64().is_some_and(|f| f != 0.0)),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" | "y" | "t" => Ok(true),
            "no" | "false" | "off" | "0" | "n" | "f" | "" => Ok(false),
            _ => Err(format!("`{k}`: `{t}` gave `{s}`, not a boolean")),
        },
        serde_json::Value::Null => Ok(false),
        other => Err(format!("`{k}`: `{t}` gave {other}, not a boolean")),
    }
}
