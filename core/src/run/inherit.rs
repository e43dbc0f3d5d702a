//! Keywords inherited from play to block to task (and into includes and roles), innermost wins;
//! `when` conditions and tags accumulate.

use crate::inventory::Vars;
use crate::playbook::{Common, RoleCtx};
use serde_json::Value as Json;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Inherit {
    pub when: Vec<String>,
    pub tags: Vec<String>,
    /// Block and task vars, outermost first.
    pub vars: Vec<Arc<Vars>>,
    /// Include parameters, outermost first.
    pub params: Vec<Arc<Vars>>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
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
    /// Inside the `block:` of a block that has a `rescue:`: a failure here is rescued, so it
    /// does not break the play (`any_errors_fatal`, `max_fail_percentage`) as in Ansible.
    pub rescuable: bool,
}

impl Inherit {
    /// This context with `c`'s keywords layered on (tags and conditions added, others replaced).
    pub fn child(&self, c: &Common) -> Inherit {
        let mut n = self.clone();
        n.when.extend(c.when.iter().cloned());
        n.tags.extend(c.tags.iter().cloned());
        if !c.vars.is_empty() {
            n.vars.push(Arc::new(c.vars.clone()));
        }
        macro_rules! over {
            ($($f:ident),*) => { $( if c.$f.is_some() { n.$f = c.$f.clone(); } )* };
        }
        over!(
            become_,
            become_user,
            ignore_errors,
            ignore_unreachable,
            delegate_to,
            run_once,
            no_log,
            check_mode,
            diff,
            any_errors_fatal
        );
        if let Some(e) = &c.environment {
            n.environment.push(e.clone());
        }
        n
    }

    /// Enters a role: its variables and search paths apply to what is inside.
    pub fn with_role(&self, role: &Arc<RoleCtx>) -> Inherit {
        let mut n = self.clone();
        n.role = Some(role.clone());
        n
    }
}
