//! `validate_argument_spec`: the task's variables (and `provided_arguments`) checked against
//! an argument spec, as ansible-core's action does it — and as every role with
//! `meta/argument_specs.yml` does first, through a task the loader puts at its start.

use super::argspec;
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateArgumentSpec {
    argument_spec: Option<Json>,
    #[serde(default)]
    provided_arguments: Option<Json>,
    #[serde(default)]
    validate_args_context: Option<Json>,
}

impl Module for ValidateArgumentSpec {
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let context = self
            .validate_args_context
            .unwrap_or_else(|| Json::Object(Map::new()));
        let Some(spec) = self.argument_spec else {
            return Err(ModuleError::Failed(
                "\"argument_spec\" arg is required in args".into(),
            ));
        };
        let Json::Object(spec) = spec else {
            return Err(ModuleError::Failed(format!(
                "Incorrect type for argument_spec, expected dict and got {}",
                crate::template::list_lookups::python_type(&spec)
            )));
        };
        let provided = match self.provided_arguments {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                return Err(ModuleError::Failed(format!(
                    "Incorrect type for provided_arguments, expected dict and got {}",
                    crate::template::list_lookups::python_type(&other)
                )));
            }
        };
        // The task's variables named in the spec, then what was passed in.
        let mut params = Map::new();
        for name in spec.keys() {
            if let Ok(v) = ctx.vars.get_attr(name)
                && !v.is_undefined()
                && let Ok(j) = crate::template::from_jinja(&v)
            {
                params.insert(name.clone(), j);
            }
        }
        params.extend(provided);
        let (_, errors) = argspec::validate(&spec, params);
        let mut o = Outcome::ok().with("validate_args_context", context);
        if errors.is_empty() {
            return Ok(o.msg("The arg spec validation passed"));
        }
        o.failed = true;
        o.msg = Some(format!(
            "Validation of arguments failed:\n{}",
            errors.join("\n")
        ));
        Ok(o.with("argument_spec_data", Json::Object(spec))
            .with("argument_errors", errors))
    }
}
