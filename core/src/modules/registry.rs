//! Reading a module's argument schema from its serde type: the accepted field names (aliases
//! included) come from the type itself, so the static check and the run can never disagree.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::Value as Json;

struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The argument names `T` accepts, or `None` when it takes any mapping (e.g. `set_fact`).
pub fn fields_of<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut out = None;
    let _ = T::deserialize(FieldProbe(&mut out));
    out
}

/// A problem with one task's module arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgIssue {
    /// The argument at fault, when there is one.
    pub arg: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

/// Deserializes module arguments (with ansible-core's coercion of scalars to text), naming
/// the argument at fault.
pub fn parse_args<T: DeserializeOwned>(args: Json) -> Result<T, ArgIssue> {
    serde_path_to_error::deserialize::<_, T>(super::lenient_args::Lenient(args)).map_err(|e| {
        let path = e.path().to_string();
        let arg = path
            .split(['.', '['])
            .next()
            .filter(|p| !p.is_empty() && *p != "?")
            .map(str::to_string);
        let inner = e.into_inner().to_string();
        let message = match &arg {
            Some(a) => format!("argument `{a}`: {inner}"),
            None => inner,
        };
        ArgIssue {
            arg,
            message,
            help: None,
        }
    })
}

/// ansible-core's action plugins that list their valid options (`_VALID_ARGS`).
const ACTIONS_WITH_VALID_ARGS: [&str; 5] = [
    "fail",
    "group_by",
    "reboot",
    "set_stats",
    "wait_for_connection",
];

/// ansible-core's message for arguments module `name` does not take: `Unsupported parameters
/// for (copy) module: a, b. Supported parameters include: ...` (None when all are taken).
pub fn unsupported<T: DeserializeOwned>(name: &str, args: &Json) -> Option<String> {
    let fields = fields_of::<T>()?;
    let mut unknown: Vec<&str> = args
        .as_object()?
        .keys()
        .map(String::as_str)
        .filter(|k| !fields.contains(k))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    unknown.sort_unstable();
    // ansible-core's action plugins that check their own options say it their way.
    if ACTIONS_WITH_VALID_ARGS.contains(&name) {
        return Some(format!("Invalid options for {name}: {}", unknown.join(",")));
    }
    let mut supported = fields.to_vec();
    supported.sort_unstable();
    Some(format!(
        "Unsupported parameters for ({name}) module: {}. Supported parameters include: {}.",
        unknown.join(", "),
        supported.join(", ")
    ))
}

/// True when any string inside `v` holds template syntax.
pub fn has_templates(v: &Json) -> bool {
    match v {
        Json::String(s) => crate::template::Templar::is_template(s),
        Json::Array(a) => a.iter().any(has_templates),
        Json::Object(m) => m
            .iter()
            .any(|(k, v)| crate::template::Templar::is_template(k) || has_templates(v)),
        _ => false,
    }
}
