//! Conversions between plain JSON values and template values.

use super::TemplateError;
use minijinja::Value;
use minijinja::value::Serde;
use serde_json::Value as Json;

/// A plain value as a template value.
pub fn to_jinja(v: &Json) -> Value {
    Value::from(Serde(v))
}

/// A template value as a plain value (objects such as scopes are read out in full).
pub fn from_jinja(v: &Value) -> Result<Json, TemplateError> {
    if v.is_undefined() {
        return Err(TemplateError::undefined("the value is undefined"));
    }
    serde_json::to_value(v).map_err(|e| TemplateError::new(e.to_string()))
}
