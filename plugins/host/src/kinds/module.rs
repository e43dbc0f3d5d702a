//! Module plugins: a task action run in the sandbox, reaching its host only through hoist's
//! connection (`target` interface). Registered into hoist-core's external-module registry.

use super::worlds::module as world;
use crate::component::{Prepared, linker, prepare};
use crate::grants::Grants;
use crate::manifest::Manifest;
use crate::sandbox::{self, HostState, Settled};
use hoist_core::modules::external::{External, RunFuture};
use hoist_core::modules::{ArgIssue, Ctx, FileDiff, ModResult, ModuleError, ModuleInfo, Outcome};
use serde_json::{Value as Json, json};
use std::sync::{Arc, OnceLock};
use wasmtime::component::{HasSelf, Linker};
use world::{ArgKind, Module as World, ModuleCall, ModulePre};

fn module_linker() -> Result<&'static Linker<HostState>, String> {
    static L: OnceLock<Result<Linker<HostState>, String>> = OnceLock::new();
    L.get_or_init(|| linker(|l| World::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)))
        .as_ref()
        .map_err(Clone::clone)
}

/// One argument as the plugin declared it.
#[derive(Debug, Clone)]
pub struct ArgSpec {
    pub name: String,
    pub kind: &'static str,
    pub required: bool,
    pub description: String,
}

/// What the plugin said about itself (`describe`).
#[derive(Debug, Clone)]
pub struct Described {
    pub description: String,
    pub args: Vec<ArgSpec>,
    pub free_form: bool,
    pub supports_check: bool,
}

struct Loaded {
    pre: ModulePre<HostState>,
    described: Described,
}

/// A module plugin, loaded on first use.
pub struct PluginModule {
    pub manifest: Arc<Manifest>,
    grants: Arc<Grants>,
    loaded: OnceLock<Result<Loaded, String>>,
}

fn kind_name(k: ArgKind) -> &'static str {
    match k {
        ArgKind::Str => "str",
        ArgKind::Int => "int",
        ArgKind::Float => "float",
        ArgKind::Bool => "bool",
        ArgKind::List => "list",
        ArgKind::Dict => "dict",
        ArgKind::Path => "path",
        ArgKind::Any => "any",
    }
}

impl PluginModule {
    pub fn new(manifest: Arc<Manifest>) -> PluginModule {
        let grants = Arc::new(Grants::new(&manifest, None));
        PluginModule {
            manifest,
            grants,
            loaded: OnceLock::new(),
        }
    }

    fn loaded(&self) -> Result<&Loaded, String> {
        self.loaded
            .get_or_init(|| {
                let Prepared { pre, .. } = prepare(&self.manifest, module_linker()?)?;
                let pre = ModulePre::new(pre).map_err(|e| {
                    format!(
                        "plugin `{}` ({}): not a module component: {e:#}",
                        self.manifest.name,
                        self.manifest.path.display()
                    )
                })?;
                let described = futures::executor::block_on(self.describe_with(&pre))?;
                Ok(Loaded { pre, described })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    async fn describe_with(&self, pre: &ModulePre<HostState>) -> Result<Described, String> {
        let m = &self.manifest;
        let mut store = sandbox::store(m, self.grants.clone(), None)?;
        let inst = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| sandbox::explain(m, "instantiation", &e, ""))?;
        let call = inst.call_describe(&mut store);
        let info = match sandbox::guarded(m, "", "describe", call).await {
            Ok(i) => i,
            Err(e) => {
                let out = store.data().output();
                return Err(if out.trim().is_empty() {
                    e
                } else {
                    format!("{e}; it said: {}", out.trim())
                });
            }
        };
        Ok(Described {
            description: info.description,
            args: info
                .args
                .into_iter()
                .map(|a| ArgSpec {
                    name: a.name,
                    kind: kind_name(a.kind),
                    required: a.required,
                    description: a.description,
                })
                .collect(),
            free_form: info.free_form,
            supports_check: info.supports_check,
        })
    }

    /// What the plugin declares (loads it if needed).
    pub fn described(&self) -> Result<Described, String> {
        self.loaded().map(|l| l.described.clone())
    }

    /// Runs one call; used by the registry and by benchmarks.
    pub async fn call(&self, ctx: &Ctx<'_>, args: Json) -> ModResult {
        let m = &self.manifest;
        let loaded = self.loaded().map_err(ModuleError::Failed)?;
        if ctx.check && !loaded.described.supports_check {
            let mut o = Outcome::ok().msg(format!(
                "skipped: plugin `{}` does not support check mode",
                m.name
            ));
            o.skipped = true;
            return Ok(o);
        }
        check_values(&loaded.described, &args, true).map_err(|i| ModuleError::Args(i.message))?;
        let remote = ctx.remote()?.clone();
        let mut store =
            sandbox::store(m, self.grants.clone(), Some(remote)).map_err(ModuleError::Failed)?;
        let inst = loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| ModuleError::Failed(sandbox::explain(m, "instantiation", &e, "")))?;
        let call = ModuleCall {
            host: ctx.host.to_string(),
            args: args.to_string(),
            facts: ctx.facts.to_string(),
            check: ctx.check,
            diff: ctx.diff,
        };
        let res = sandbox::deadline(m.limits.timeout_secs, inst.call_run(&mut store, &call)).await;
        let state = store.data();
        let logs: Vec<Json> = state
            .logs
            .iter()
            .map(|l| json!({"level": l.level, "message": l.message}))
            .collect();
        let warnings: Vec<String> = state
            .logs
            .iter()
            .filter(|l| l.level == "warn" || l.level == "error")
            .map(|l| format!("{}: {}", m.name, l.message))
            .collect();
        let result = match sandbox::settle(m, "run", res, &state.output()) {
            Settled::Broke(e) | Settled::Refused(e) => return Err(ModuleError::Failed(e)),
            Settled::Value(r) => r,
        };
        let data = match serde_json::from_str::<Json>(&result.data) {
            Ok(Json::Object(map)) => map,
            _ => {
                return Err(ModuleError::Failed(format!(
                    "plugin `{}` returned data that is not a JSON object",
                    m.name
                )));
            }
        };
        let mut out = Outcome::changed(result.changed);
        out.failed = result.failed;
        out.msg = result.msg;
        out.data = data;
        if !logs.is_empty() {
            out.data.insert("plugin_log".into(), Json::Array(logs));
        }
        out.warnings = warnings;
        out.diffs = result
            .diffs
            .into_iter()
            .map(|d| FileDiff {
                before_header: d.before_header,
                after_header: d.after_header,
                before: d.before,
                after: d.after,
            })
            .collect();
        Ok(out)
    }
}

/// Checks argument values against the declared kinds; `rendered` when templates are done
/// (before the run, templated values are left for later).
fn check_values(d: &Described, args: &Json, rendered: bool) -> Result<(), ArgIssue> {
    let Json::Object(map) = args else {
        return Err(issue(None, "arguments must be a mapping".into()));
    };
    for spec in &d.args {
        let v = map.get(&spec.name);
        match v {
            None | Some(Json::Null) if spec.required => {
                return Err(issue(
                    Some(&spec.name),
                    format!("missing required argument `{}`", spec.name),
                ));
            }
            None | Some(Json::Null) => continue,
            Some(v) if !rendered && hoist_core::modules::has_templates(v) => continue,
            Some(v) => {
                let ok = match spec.kind {
                    "str" | "path" => v.is_string() || v.is_number() || v.is_boolean(),
                    "int" => {
                        v.is_i64()
                            || v.is_u64()
                            || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok())
                    }
                    "float" => {
                        v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok())
                    }
                    "bool" => {
                        v.is_boolean()
                            || v.as_str().is_some_and(|s| {
                                matches!(
                                    s.to_ascii_lowercase().as_str(),
                                    "yes" | "no" | "true" | "false" | "on" | "off" | "1" | "0"
                                )
                            })
                    }
                    "list" => v.is_array(),
                    "dict" => v.is_object(),
                    _ => true,
                };
                if !ok {
                    return Err(issue(
                        Some(&spec.name),
                        format!("argument `{}`: expected {}, got {v}", spec.name, spec.kind),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn issue(arg: Option<&str>, message: String) -> ArgIssue {
    ArgIssue {
        arg: arg.map(str::to_string),
        message,
        help: None,
    }
}

impl External for PluginModule {
    fn info(&self) -> Result<ModuleInfo, String> {
        let d = self.described()?;
        let mut fields: Vec<String> = d.args.iter().map(|a| a.name.clone()).collect();
        if d.free_form {
            fields.push("_raw_params".into());
        }
        Ok(ModuleInfo {
            name: self.manifest.name.clone(),
            free_form: d.free_form,
            controller: false,
            fields,
            any_args: false,
            origin: self.manifest.path.display().to_string(),
        })
    }

    fn validate(&self, args: &Json) -> Result<(), ArgIssue> {
        let d = self.described().map_err(|e| issue(None, e))?;
        check_values(&d, args, false)
    }

    fn run<'a>(&'a self, ctx: &'a Ctx<'a>, args: Json) -> RunFuture<'a> {
        Box::pin(self.call(ctx, args))
    }
}
