//! Modules that run on the controller only: `debug`, `set_fact`, `assert`, `fail`, `meta`,
//! and `pause`.

use crate::inventory::Vars;
use crate::modules::types::{Bool, Int, Seconds};
use crate::modules::{Ctx, Meta, ModResult, Module, ModuleError, Outcome, fail};
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debug {
    msg: Option<Json>,
    var: Option<String>,
    verbosity: Option<Int>,
}

impl Module for Debug {
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        if self.var.is_some() && self.msg.is_some() {
            return fail("parameters are mutually exclusive: msg|var");
        }
        // Shown only from that many `-v` on, as ansible-core does; skipped below it.
        let run_verbosity = ctx
            .vars
            .get_attr("ansible_verbosity")
            .ok()
            .and_then(|v| i64::try_from(v).ok())
            .unwrap_or(0);
        if self.verbosity.is_some_and(|v| v.0 > run_verbosity) {
            let mut o = Outcome::ok().with("skipped_reason", "Verbosity threshold not met.");
            o.skipped = true;
            return Ok(o);
        }
        if let Some(var) = self.var {
            // As ansible-core 2.19: an undefined value is shown as a numbered placeholder with
            // its error, and a warning says which; any other error fails the task.
            let mut warnings = Vec::new();
            let value = match ctx.templar.eval(&var, ctx.vars) {
                Ok(Json::String(s)) if s == crate::template::OMIT => {
                    warnings.push("The result of the `var` expression could not be omitted; a placeholder was used instead.".into());
                    Json::String("<<Omit>>".into())
                }
                Ok(v) => v,
                Err(e) if e.undefined => {
                    let why = crate::template::innermost(&e.message).0;
                    warnings.push(format!("Encountered 1 template error.\nerror 1 - {why}"));
                    Json::String(format!("<< error 1 - {why} >>"))
                }
                Err(e) => return fail(format!("{var}: {}", e.message)),
            };
            let mut o = Outcome::ok().with(&var, value);
            o.warnings = warnings;
            return Ok(o);
        }
        let msg = self
            .msg
            .unwrap_or_else(|| Json::String("Hello world!".into()));
        Ok(Outcome::ok().with("msg", msg))
    }
}

/// `set_fact`: any `name: value` pairs, plus `cacheable`.
#[derive(Debug)]
pub struct SetFact(Vars, bool);

impl<'de> Deserialize<'de> for SetFact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Vars::deserialize(d)?;
        let cacheable = match m.remove("cacheable") {
            None => false,
            Some(v) => {
                crate::modules::types::Bool::deserialize(v)
                    .map_err(|e| serde::de::Error::custom(format!("argument `cacheable`: {e}")))?
                    .0
            }
        };
        if m.is_empty() {
            return Err(serde::de::Error::custom(
                "set_fact needs at least one `name: value`",
            ));
        }
        for k in m.keys() {
            crate::template::var_name::check(k).map_err(serde::de::Error::custom)?;
        }
        Ok(SetFact(m, cacheable))
    }
}

impl Module for SetFact {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let mut o = Outcome::ok();
        o.data
            .insert("ansible_facts".into(), Json::Object(self.0.clone()));
        o.set_vars = Some(self.0);
        o.cacheable = self.1;
        Ok(o)
    }
}

/// An argument that was given, null included (`Some(Null)`), as opposed to a missing one.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// A condition or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Conditions {
    One(String),
    Bool(bool),
    Many(Vec<Json>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assert {
    /// Checked when the task runs, with ansible-core's messages (missing, or null).
    #[serde(default, deserialize_with = "present")]
    that: Option<Json>,
    #[serde(alias = "msg")]
    fail_msg: Option<Json>,
    success_msg: Option<Json>,
    #[serde(default)]
    quiet: Bool,
}

impl Module for Assert {
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let that = match self.that {
            None => return fail("missing required arguments: that"),
            Some(Json::Null) => return fail("Empty conditional expression"),
            Some(v) => serde_json::from_value::<Conditions>(v).map_err(|_| {
                ModuleError::Args("argument `that`: a condition or a list of conditions".into())
            })?,
        };
        let conds: Vec<String> = match that {
            Conditions::One(s) => vec![s],
            Conditions::Bool(b) => vec![if b { "True".into() } else { "False".into() }],
            Conditions::Many(v) => v
                .into_iter()
                .map(|c| match c {
                    Json::String(s) => s,
                    Json::Bool(true) => "True".into(),
                    Json::Bool(false) => "False".into(),
                    other => other.to_string(),
                })
                .collect(),
        };
        for c in &conds {
            let ok = ctx.templar.condition(c, ctx.vars).map_err(|e| {
                ModuleError::Failed(format!(
                    "assertion `{c}` could not be evaluated: {}",
                    e.message
                ))
            })?;
            if !ok {
                let mut o = Outcome::ok()
                    .with("assertion", c.as_str())
                    .with("evaluated_to", false);
                o.failed = true;
                o.msg = Some(match &self.fail_msg {
                    Some(Json::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "Assertion failed".into(),
                });
                return Ok(o);
            }
        }
        let msg = match &self.success_msg {
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "All assertions passed".into(),
        };
        let _ = self.quiet;
        Ok(Outcome::ok().msg(msg))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fail {
    msg: Option<Json>,
}

impl Module for Fail {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let mut o = Outcome::ok();
        o.failed = true;
        o.msg = Some(match self.msg {
            Some(Json::String(s)) => s,
            Some(other) => other.to_string(),
            None => "Failed as requested from task".into(),
        });
        Ok(o)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaModule {
    #[serde(rename = "_raw_params")]
    action: String,
}

impl Module for MetaModule {
    const FREE_FORM: bool = true;
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let meta = match self.action.trim() {
            "flush_handlers" => Meta::FlushHandlers,
            "end_play" => Meta::EndPlay,
            "end_host" => Meta::EndHost,
            "end_batch" => Meta::EndBatch,
            "clear_facts" => Meta::ClearFacts,
            "clear_host_errors" => Meta::ClearHostErrors,
            "reset_connection" => Meta::ResetConnection,
            "noop" | "refresh_inventory" => Meta::Noop,
            other => return fail(format!("unknown meta action `{other}`")),
        };
        let mut o = Outcome::ok();
        o.meta = Some(meta);
        Ok(o)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    seconds: Option<Seconds>,
    minutes: Option<Seconds>,
    prompt: Option<String>,
    #[serde(default)]
    echo: Option<Bool>,
}

impl Module for Pause {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let _ = self.echo;
        let secs = match (self.seconds, self.minutes) {
            (Some(s), _) => s.0,
            (None, Some(m)) => m.0 * 60.0,
            (None, None) => {
                return fail(format!(
                    "pause without `seconds` or `minutes` waits for a keypress; hoist runs non-interactively{}",
                    self.prompt
                        .map(|p| format!(" (prompt: {p})"))
                        .unwrap_or_default()
                ));
            }
        };
        if !(0.0..=86_400.0).contains(&secs) {
            return fail("pause must be between 0 and 86400 seconds");
        }
        let start = std::time::Instant::now();
        tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
        Ok(Outcome::ok()
            .with("delta", start.elapsed().as_secs())
            .with("echo", true))
    }
}
