//! `dpkg_selections`: a package's dpkg selection (install, hold, deinstall, purge), read with
//! `dpkg --get-selections` and set with `dpkg --set-selections`, as ansible-core's module.

use crate::modules::types::Text;
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpkgSelections {
    name: Text,
    selection: Text,
}

impl Module for DpkgSelections {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let (name, selection) = (self.name.0, self.selection.0);
        if !["install", "hold", "deinstall", "purge"].contains(&selection.as_str()) {
            return fail(format!(
                "value of selection must be one of: install, hold, deinstall, purge, got: {selection}"
            ));
        }
        let remote = ctx.remote()?;
        let out = remote
            .exec(
                &format!("LC_ALL=C dpkg --get-selections {}", quote(&name)),
                None,
            )
            .await?;
        if out.stderr_str().contains("no packages found matching") {
            return fail(format!(
                "Failed to find package '{name}' to perform selection '{selection}'."
            ));
        }
        if !out.success() {
            return fail(format!(
                "dpkg --get-selections failed: {}",
                out.stderr_str().trim()
            ));
        }
        let text = out.stdout_str();
        let current = text
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
            .unwrap_or_else(|| "not present".into());
        let changed = current != selection;
        if changed && !ctx.check {
            remote
                .check(
                    "LC_ALL=C dpkg --set-selections",
                    Some(format!("{name} {selection}").as_bytes()),
                )
                .await?;
        }
        Ok(Outcome::changed(changed)
            .with("before", current)
            .with("after", selection))
    }
}
