//! Variable scopes: layers of variables, highest precedence first, looked up lazily. A variable
//! from text the operator wrote (playbook, role, inventory, vars file, `-e`) whose value holds
//! templates is rendered when it is read, against the same scope (as Ansible does), so
//! `url: "http://{{ host }}:{{ port }}"` follows later changes of `port`.
//!
//! Data is not code: a layer of [`Trust::Data`] (registered results, facts, `set_fact`, loop
//! items, magic variables, extra vars from an API caller) is never rendered, whatever it holds,
//! and neither is a value marked unsafe (`!unsafe` in YAML, see [`super::unsafe_text`]). What a
//! template renders to is data too: it is never rendered a second time (ansible-core 2.19's trust
//! model; CVE-2016-9587 was the old way failing).

use super::{Templar, TemplateError, to_jinja};
use crate::inventory::Vars;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Error, ErrorKind, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// How deep variables may refer to variables before it counts as a loop.
const MAX_DEPTH: usize = 40;

/// Gives the scope of any host, for `hostvars`.
pub trait HostVarsSource: Send + Sync {
    fn host_scope(&self, host: &str) -> Option<Value>;
    fn host_names(&self) -> Vec<String>;
}

/// Whether a layer's strings may be templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Text the operator wrote: rendered lazily when read.
    Templates,
    /// Values that came from hosts, modules, callers or earlier rendering: never rendered.
    Data,
}

/// One layer of variables and whether its strings may be templates.
#[derive(Debug, Clone)]
pub struct Layer {
    pub vars: Arc<Vars>,
    pub trust: Trust,
}

impl Layer {
    /// Variables written by the operator (their templates are rendered when read).
    pub fn templates(vars: Arc<Vars>) -> Layer {
        Layer {
            vars,
            trust: Trust::Templates,
        }
    }

    /// Variables that are data (never rendered).
    pub fn data(vars: Arc<Vars>) -> Layer {
        Layer {
            vars,
            trust: Trust::Data,
        }
    }
}

/// A lazily templated view over variable layers.
pub struct Scope {
    layers: Vec<Layer>,
    templar: Arc<Templar>,
    hostvars: Option<Arc<dyn HostVarsSource>>,
    cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<variables>")
    }
}

impl Scope {
    /// A scope over `layers` (highest precedence first).
    pub fn new(
        layers: Vec<Layer>,
        templar: Arc<Templar>,
        hostvars: Option<Arc<dyn HostVarsSource>>,
    ) -> Arc<Scope> {
        Arc::new(Scope {
            layers,
            templar,
            hostvars,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// This scope as a template context.
    pub fn context(self: &Arc<Self>) -> Value {
        Value::from_dyn_object(self.clone())
    }

    /// The raw (untemplated) value of `name`.
    pub fn raw(&self, name: &str) -> Option<&serde_json::Value> {
        self.layers.iter().find_map(|l| l.vars.get(name))
    }

    /// The raw value of `name` and the trust of the layer it comes from.
    fn raw_with_trust(&self, name: &str) -> Option<(&serde_json::Value, Trust)> {
        self.layers
            .iter()
            .find_map(|l| l.vars.get(name).map(|v| (v, l.trust)))
    }

    /// The raw value of `name` when an operator-written layer holds it (its text is the
    /// operator's, templates and `!unsafe` markers as written).
    pub fn operator_raw(&self, name: &str) -> Option<&serde_json::Value> {
        self.raw_with_trust(name)
            .and_then(|(v, t)| (t == Trust::Templates).then_some(v))
    }

    /// Every variable name visible in this scope.
    pub fn names(&self) -> Vec<String> {
        let mut seen = indexmap::IndexSet::new();
        for l in &self.layers {
            for k in l.vars.keys() {
                seen.insert(k.clone());
            }
        }
        seen.into_iter().collect()
    }

    /// Reads `name`, rendering any templates inside it.
    pub fn lookup(self: &Arc<Self>, name: &str) -> Option<Value> {
        match name {
            "vars" => return Some(self.context()),
            "hostvars" => {
                return self
                    .hostvars
                    .as_ref()
                    .map(|h| Value::from_object(HostVars(h.clone())));
            }
            _ => {}
        }
        if let Some(v) = self.cache.lock().ok()?.get(name) {
            return Some(v.clone());
        }
        let (raw, trust) = self.raw_with_trust(name)?;
        let value = if raw.is_object() && hash_merge() {
            self.merged(name)
        } else {
            self.layer_value(name, raw, trust)
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), value.clone());
        }
        Some(value)
    }

    /// One layer's value of `name`: data as it is, operator text rendered.
    fn layer_value(self: &Arc<Self>, name: &str, raw: &serde_json::Value, trust: Trust) -> Value {
        match trust {
            Trust::Data => to_jinja(raw),
            Trust::Templates => match self.render_nested(name, raw) {
                Ok(v) => v,
                // The error travels with the value and fails whatever uses it; it counts as
                // undefined only when it is one (a missing variable or attribute).
                Err(e) => {
                    let kind = if e.undefined {
                        ErrorKind::UndefinedError
                    } else {
                        ErrorKind::InvalidOperation
                    };
                    Value::from(Error::new(kind, e.message))
                }
            },
        }
    }

    /// `hash_behaviour = merge`: the mappings every layer gives `name`, merged recursively,
    /// the higher precedence winning; each layer rendered (or not) by its own trust first.
    fn merged(self: &Arc<Self>, name: &str) -> Value {
        let mut out = serde_json::Value::Object(Default::default());
        for l in self.layers.iter().rev() {
            let Some(raw) = l.vars.get(name) else {
                continue;
            };
            let v = self.layer_value(name, raw, l.trust);
            if let Ok(json) = super::convert::from_jinja(&v) {
                if json.is_object() && out.is_object() {
                    deep_merge(&mut out, json);
                } else {
                    out = json;
                }
            } else {
                return v;
            }
        }
        to_jinja(&out)
    }

    fn render_nested(
        self: &Arc<Self>,
        name: &str,
        raw: &serde_json::Value,
    ) -> Result<Value, TemplateError> {
        if !needs_render(raw) {
            return Ok(to_jinja(raw));
        }
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        let result = if depth > MAX_DEPTH {
            Err(TemplateError::new(format!(
                "recursive loop detected in template: `{name}` refers to itself"
            )))
        } else {
            self.templar
                .render_value(raw, &self.context())
                .map(|v| to_jinja(&v))
                .map_err(|e| TemplateError {
                    undefined: e.undefined,
                    ..TemplateError::new(format!("in variable `{name}`: {}", e.message))
                })
        };
        DEPTH.with(|d| d.set(d.get() - 1));
        result
    }
}

/// True when `v` holds a template or an unsafe marker (which rendering unwraps).
fn needs_render(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => Templar::is_template(s),
        serde_json::Value::Array(a) => a.iter().any(needs_render),
        serde_json::Value::Object(m) => {
            super::unsafe_text::is_marker(m)
                || super::vaulted::envelope(m).is_some()
                || m.iter()
                    .any(|(k, v)| Templar::is_template(k) || needs_render(v))
        }
        _ => false,
    }
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lookup(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.names().into_iter().map(Value::from).collect())
    }
}

/// `hostvars`: every host's variables by name.
#[derive(Clone)]
struct HostVars(Arc<dyn HostVarsSource>);

impl std::fmt::Debug for HostVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hostvars>")
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.host_scope(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.host_names().into_iter().map(Value::from).collect())
    }
}

/// Whether variables merge mappings across precedence levels (`ANSIBLE_HASH_BEHAVIOUR=merge`,
/// deprecated in ansible-core but still honoured) instead of replacing them.
pub fn hash_merge() -> bool {
    static MERGE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MERGE.get_or_init(|| {
        std::env::var("ANSIBLE_HASH_BEHAVIOUR").is_ok_and(|v| v.eq_ignore_ascii_case("merge"))
    })
}

/// `over` merged into `base` recursively (mappings merge, anything else replaces).
pub fn deep_merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => deep_merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}
