//! `backup_rotate`: applies a retention policy (restic's `forget` rules, see `crate::retention`)
//! to the timestamped backups in a directory: keeps what `keep_last`/`keep_hourly`/`keep_daily`/
//! `keep_weekly`/`keep_monthly`/`keep_yearly` select, deletes the rest together with their
//! companion files (`NAME.sha256` and any `suffixes`). Files without a `YYYYMMDDTHHMMSSZ`
//! timestamp are never touched. With `verify`, every kept backup's `.sha256` must match.
//! Returns `kept` (name, time, reasons), `pruned`, `ignored`; changed when something was deleted.

use crate::modules::types::{Bool, Int, Text};
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::retention::{self, Policy};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRotate {
    /// The directory holding the backups.
    path: Text,
    /// Which files are backups (a shell glob on the file name), e.g. `db-*.dump`.
    pattern: Text,
    keep_last: Option<Int>,
    keep_hourly: Option<Int>,
    keep_daily: Option<Int>,
    keep_weekly: Option<Int>,
    keep_monthly: Option<Int>,
    keep_yearly: Option<Int>,
    /// Companion files deleted with a backup (default `[".sha256"]`).
    suffixes: Option<Vec<String>>,
    /// Check every kept backup against its `.sha256` file.
    #[serde(default)]
    verify: Bool,
}

fn count(v: &Option<Int>, name: &str) -> Result<usize, String> {
    match v {
        None => Ok(0),
        Some(Int(n)) if *n >= 0 => Ok(*n as usize),
        Some(Int(n)) => Err(format!("`{name}` must be 0 or more, got {n}")),
    }
}

impl Module for BackupRotate {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let policy = match (|| -> Result<Policy, String> {
            Ok(Policy {
                last: count(&self.keep_last, "keep_last")?,
                hourly: count(&self.keep_hourly, "keep_hourly")?,
                daily: count(&self.keep_daily, "keep_daily")?,
                weekly: count(&self.keep_weekly, "keep_weekly")?,
                monthly: count(&self.keep_monthly, "keep_monthly")?,
                yearly: count(&self.keep_yearly, "keep_yearly")?,
            })
        })() {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        if policy.is_empty() {
            return fail("no keep_* rule is set: that would delete every backup; set at least one");
        }
        let dir = self.path.0.trim_end_matches('/').to_string();
        let dir = if dir.is_empty() { "/".to_string() } else { dir };
        let listing = remote
            .exec(
                &format!(
                    "cd {} || exit 3; for f in {}; do [ -f \"$f\" ] && printf '%s\\n' \"$f\"; done; exit 0",
                    quote(&dir),
                    glob(&self.pattern.0)
                ),
                None,
            )
            .await?;
        if listing.status == Some(3) {
            return fail(format!("{dir} is not a directory"));
        }
        let suffixes = self
            .suffixes
            .clone()
            .unwrap_or_else(|| vec![".sha256".into()]);
        let mut backups = Vec::new();
        let mut ignored = Vec::new();
        for name in listing.stdout_str().lines().filter(|l| !l.is_empty()) {
            if suffixes
                .iter()
                .any(|s| !s.is_empty() && name.ends_with(s.as_str()))
            {
                continue;
            }
            match retention::timestamp_of(name) {
                Some(t) => backups.push((name.to_string(), t)),
                None => ignored.push(name.to_string()),
            }
        }
        let decisions = retention::plan(&backups, &policy);
        let (kept, pruned): (Vec<_>, Vec<_>) =
            decisions.into_iter().partition(|d| !d.reasons.is_empty());
        if self.verify.0 && !kept.is_empty() {
            let files: Vec<String> = kept.iter().map(|d| quote(&d.name)).collect();
            let out = remote
                .exec(
                    &format!(
                        "cd {} || exit 3; bad=0; for f in {}; do if [ ! -f \"$f.sha256\" ]; then echo \"$f: no checksum file\"; bad=1; \
                         elif ! sha256sum --status -c \"$f.sha256\"; then echo \"$f: checksum mismatch\"; bad=1; fi; done; exit $bad",
                        quote(&dir),
                        files.join(" ")
                    ),
                    None,
                )
                .await?;
            if !out.success() {
                return fail(format!(
                    "kept backups fail verification in {dir}: {}",
                    out.stdout_str().trim().replace('\n', "; ")
                ));
            }
        }
        if !pruned.is_empty() && !ctx.check {
            let mut victims = Vec::new();
            for d in &pruned {
                victims.push(quote(&d.name));
                for s in &suffixes {
                    if !s.is_empty() {
                        victims.push(quote(&format!("{}{s}", d.name)));
                    }
                }
            }
            let out = remote
                .exec(
                    &format!("cd {} && rm -f -- {}", quote(&dir), victims.join(" ")),
                    None,
                )
                .await?;
            if !out.success() {
                return fail(format!(
                    "could not delete pruned backups in {dir}: {}",
                    out.stderr_str().trim()
                ));
            }
        }
        let names = |v: &[retention::Decision]| -> Vec<String> {
            v.iter().map(|d| d.name.clone()).collect()
        };
        Ok(Outcome::changed(!pruned.is_empty())
            .msg(format!(
                "{} kept, {} pruned{}",
                kept.len(),
                pruned.len(),
                if ignored.is_empty() {
                    String::new()
                } else {
                    format!(", {} without a timestamp left alone", ignored.len())
                }
            ))
            .with("kept", serde_json::to_value(&kept).unwrap_or_default())
            .with("pruned", json!(names(&pruned)))
            .with("ignored", json!(ignored)))
    }
}

/// The pattern for the shell: glob characters stay active, everything else is quoted.
fn glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut lit = String::new();
    for c in pattern.chars() {
        if matches!(c, '*' | '?') {
            if !lit.is_empty() {
                out.push_str(&quote(&lit));
                lit.clear();
            }
            out.push(c);
        } else {
            lit.push(c);
        }
    }
    if !lit.is_empty() {
        out.push_str(&quote(&lit));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs_keep_wildcards_and_quote_the_rest() {
        assert_eq!(super::glob("db-*.dump"), "db-*.dump");
        assert_eq!(super::glob("a b*"), "'a b'*");
        assert_eq!(super::glob("x;rm *"), "'x;rm '*");
    }
}
