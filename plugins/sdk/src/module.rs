//! Module plugins: a task action. Implement [`Module`], register with
//! [`register_module!`](crate::register_module).

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "module",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_module",
        default_bindings_module: "hoist_plugin_sdk::module::bindings",
    });
}

use bindings::hoist::plugin::target as host;
use serde_json::{Map, Value};

pub use bindings::ArgKind;

/// One argument a module takes (for `hoist plugin inspect` and the static check).
#[derive(Debug, Clone)]
pub struct Arg {
    pub name: String,
    pub kind: ArgKind,
    pub required: bool,
    pub description: String,
}

/// What the module says about itself.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub description: String,
    pub args: Vec<Arg>,
    pub free_form: bool,
    pub supports_check: bool,
}

impl ModuleInfo {
    pub fn new(description: &str) -> Self {
        ModuleInfo {
            description: description.into(),
            args: Vec::new(),
            free_form: false,
            supports_check: true,
        }
    }
    /// A required argument.
    pub fn required(mut self, name: &str, kind: ArgKind, description: &str) -> Self {
        self.args.push(Arg {
            name: name.into(),
            kind,
            required: true,
            description: description.into(),
        });
        self
    }
    /// An optional argument.
    pub fn optional(mut self, name: &str, kind: ArgKind, description: &str) -> Self {
        self.args.push(Arg {
            name: name.into(),
            kind,
            required: false,
            description: description.into(),
        });
        self
    }
    pub fn free_form(mut self) -> Self {
        self.free_form = true;
        self
    }
    /// The module cannot predict its change in check mode: hoist skips it there.
    pub fn no_check_mode(mut self) -> Self {
        self.supports_check = false;
        self
    }
}

/// One call of the module for one host.
#[derive(Debug, Clone)]
pub struct Call {
    pub host: String,
    pub args: Map<String, Value>,
    pub facts: Value,
    pub check: bool,
    pub diff: bool,
}

impl Call {
    /// A string argument, if given.
    pub fn str(&self, name: &str) -> Result<Option<String>, String> {
        match self.args.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(format!("argument `{name}` must be a string")),
        }
    }
    /// A string argument that must be there.
    pub fn required_str(&self, name: &str) -> Result<String, String> {
        self.str(name)?
            .ok_or_else(|| format!("missing required argument `{name}`"))
    }
    /// A boolean argument (Ansible's yes/no/true/false strings accepted).
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, String> {
        match self.args.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => Ok(true),
                "no" | "false" | "off" | "0" => Ok(false),
                _ => Err(format!("argument `{name}`: `{s}` is not a boolean")),
            },
            Some(_) => Err(format!("argument `{name}` must be a boolean")),
        }
    }
    /// An integer argument.
    pub fn int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.args.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| format!("argument `{name}` must be an integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("argument `{name}`: `{s}` is not an integer")),
            Some(_) => Err(format!("argument `{name}` must be an integer")),
        }
    }
}

/// A before/after text diff shown with `--diff`.
#[derive(Debug, Clone, Default)]
pub struct FileDiff {
    pub before_header: String,
    pub after_header: String,
    pub before: String,
    pub after: String,
}

/// What the module did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub changed: bool,
    pub failed: bool,
    pub msg: Option<String>,
    pub data: Map<String, Value>,
    pub diffs: Vec<FileDiff>,
}

impl Outcome {
    pub fn ok() -> Self {
        Outcome::default()
    }
    pub fn changed(changed: bool) -> Self {
        Outcome {
            changed,
            ..Outcome::default()
        }
    }
    pub fn failed(msg: impl Into<String>) -> Self {
        Outcome {
            failed: true,
            msg: Some(msg.into()),
            ..Outcome::default()
        }
    }
    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }
    /// A return value, visible through `register`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
    pub fn diff(mut self, d: FileDiff) -> Self {
        self.diffs.push(d);
        self
    }
}

/// A task action.
pub trait Module {
    fn describe() -> ModuleInfo;
    fn run(call: Call) -> Result<Outcome, String>;
}

/// What a program run on the target returned.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The task's target host, reached through hoist's connection.
pub mod target {
    use super::{Output, host};

    /// Runs `argv` (no shell) on the target (needs `exec` for `argv[0]`).
    pub fn run(argv: &[&str], stdin: Option<&[u8]>) -> Result<Output, String> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let out = host::run(&argv, stdin)?;
        Ok(Output {
            status: out.status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
    /// A file's contents, `None` when absent (needs `read`).
    pub fn read_file(path: &str) -> Result<Option<Vec<u8>>, String> {
        host::read_file(path)
    }
    /// Atomic replace (needs `write`).
    pub fn write_file(path: &str, contents: &[u8], mode: Option<u32>) -> Result<(), String> {
        host::write_file(path, contents, mode)
    }
}

#[doc(hidden)]
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: Module> bindings::Guest for Adapter<T> {
    fn describe() -> bindings::ModuleInfo {
        let i = T::describe();
        bindings::ModuleInfo {
            description: i.description,
            args: i
                .args
                .into_iter()
                .map(|a| bindings::ArgSpec {
                    name: a.name,
                    kind: a.kind,
                    required: a.required,
                    description: a.description,
                })
                .collect(),
            free_form: i.free_form,
            supports_check: i.supports_check,
        }
    }

    fn run(call: bindings::ModuleCall) -> Result<bindings::ModuleResult, String> {
        let args = match serde_json::from_str::<Value>(&call.args) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("arguments must be a mapping".into()),
            Err(e) => return Err(format!("arguments are not JSON: {e}")),
        };
        let facts = serde_json::from_str(&call.facts).unwrap_or(Value::Null);
        let out = T::run(Call {
            host: call.host,
            args,
            facts,
            check: call.check,
            diff: call.diff,
        })?;
        Ok(bindings::ModuleResult {
            changed: out.changed,
            failed: out.failed,
            msg: out.msg,
            data: Value::Object(out.data).to_string(),
            diffs: out
                .diffs
                .into_iter()
                .map(|d| bindings::FileDiff {
                    before_header: d.before_header,
                    after_header: d.after_header,
                    before: d.before,
                    after: d.after,
                })
                .collect(),
        })
    }
}

/// Registers the plugin's [`Module`] type.
#[macro_export]
macro_rules! register_module {
    ($t:ty) => {
        type __HoistModuleExport = $crate::module::Adapter<$t>;
        $crate::module::bindings::__export_module!(__HoistModuleExport with_types_in $crate::module::bindings);
    };
}
