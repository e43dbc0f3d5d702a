//! What a module returns: Ansible-compatible result fields plus diffs, facts and directives.

use crate::inventory::Vars;
use crate::ssh::SshError;
use serde::Serialize;
use serde_json::Value as Json;

/// A before/after pair for `--diff`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileDiff {
    pub before_header: String,
    pub after_header: String,
    pub before: String,
    pub after: String,
}

/// Directives of the `meta` module, carried out by the executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    FlushHandlers,
    EndPlay,
    EndHost,
    EndBatch,
    ClearFacts,
    ClearHostErrors,
    ResetConnection,
    Noop,
}

/// One module run's result.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub changed: bool,
    /// A failure the module reports with its data (e.g. a command's non-zero exit status).
    pub failed: bool,
    pub skipped: bool,
    pub msg: Option<String>,
    /// Return values (`rc`, `stdout`, `dest`, `checksum`, ...).
    pub data: serde_json::Map<String, Json>,
    pub diffs: Vec<FileDiff>,
    /// The registered `diff` when the module returns one structured value (ansible-core's
    /// `file`: a dict pair) rather than the text diffs it shows.
    pub diff_value: Option<Json>,
    /// Facts to set on the host (`ansible_facts` of setup and set_fact).
    pub facts: Option<Vars>,
    /// `set_fact` variables (host scoped, above play vars): data, never rendered again.
    pub set_vars: Option<Vars>,
    /// `set_fact ... cacheable`: `set_vars` go to the fact cache too.
    pub cacheable: bool,
    /// `include_vars` variables: vars-file text, templated when read.
    pub included_vars: Option<Vars>,
    pub meta: Option<Meta>,
    pub warnings: Vec<String>,
}

impl Outcome {
    /// The diffs to show: the module's own, else those its registered `diff` describes.
    pub fn shown(&self) -> Vec<FileDiff> {
        match (&self.diffs, &self.diff_value) {
            (d, Some(v)) if d.is_empty() => shown_diffs(v),
            (d, _) => d.clone(),
        }
    }

    pub fn ok() -> Self {
        Outcome::default()
    }

    pub fn changed(changed: bool) -> Self {
        Outcome {
            changed,
            ..Outcome::default()
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    /// Facts a module returns as ansible-core modules do (`ansible_facts`): `ansible_x` is
    /// filed as the fact `x` (and the variable `ansible_x`); other names (`getent_passwd`)
    /// also become variables of their own name. The result registers them as returned.
    pub fn with_module_facts(mut self, returned: serde_json::Map<String, Json>) -> Self {
        let mut facts = Vars::new();
        let mut plain = Vars::new();
        for (k, v) in &returned {
            match k.strip_prefix("ansible_") {
                Some(short) => {
                    facts.insert(short.to_string(), v.clone());
                }
                None => {
                    plain.insert(k.clone(), v.clone());
                    facts.insert(k.clone(), v.clone());
                }
            }
        }
        self.data
            .insert("ansible_facts".into(), Json::Object(returned));
        self.facts = Some(facts);
        if !plain.is_empty() {
            self.set_vars.get_or_insert_with(Vars::new).extend(plain);
        }
        self
    }

    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    pub fn diff(mut self, d: Option<FileDiff>) -> Self {
        self.diffs.extend(d);
        self
    }

    /// The result as Ansible registers it.
    pub fn to_json(&self) -> Json {
        let mut m = self.data.clone();
        m.insert("changed".into(), Json::Bool(self.changed));
        if self.failed {
            m.insert("failed".into(), Json::Bool(true));
        }
        if self.skipped {
            m.insert("skipped".into(), Json::Bool(true));
        }
        if let Some(msg) = &self.msg {
            m.insert("msg".into(), Json::String(msg.clone()));
        }
        // A module may register its facts under other names than the host keeps them.
        if let Some(f) = &self.facts
            && !m.contains_key("ansible_facts")
        {
            m.insert("ansible_facts".into(), Json::Object(f.clone()));
        }
        if let Some(d) = &self.diff_value {
            m.insert("diff".into(), d.clone());
        } else if !self.diffs.is_empty() {
            m.insert(
                "diff".into(),
                serde_json::to_value(&self.diffs).unwrap_or(Json::Null),
            );
        }
        if !self.warnings.is_empty() {
            m.insert("warnings".into(), Json::from(self.warnings.clone()));
        }
        Json::Object(m)
    }
}

/// Why a module could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The module failed (bad state on the target, a command that could not run).
    #[error("{0}")]
    Failed(String),
    /// The arguments, once templated, are not what the module takes.
    #[error("invalid arguments: {0}")]
    Args(String),
    /// The host could not be reached (or the connection dropped).
    #[error("{0}")]
    Unreachable(#[from] SshError),
}

pub type ModResult = Result<Outcome, ModuleError>;

/// `Failed` with a formatted message.
pub fn fail<T>(msg: impl Into<String>) -> Result<T, ModuleError> {
    Err(ModuleError::Failed(msg.into()))
}

/// A module's `diff` (one `{before, after}` or a list of them) as the diffs hoist shows, the
/// way ansible-core's callback reads it: a mapping side shown as sorted JSON indented by four,
/// a missing side as empty, a pair without change left out.
pub fn shown_diffs(d: &Json) -> Vec<FileDiff> {
    let list = match d {
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let side = |v: &Json| match v {
        Json::Object(_) => crate::modules::files::file_diff::shown(v),
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let header = |d: &Json, key: &str, plain: &str| match d.get(key).and_then(Json::as_str) {
        Some(h) => format!("{plain}: {h}"),
        None => plain.to_string(),
    };
    list.into_iter()
        .filter_map(|d| {
            let (b, a) = (d.get("before")?, d.get("after")?);
            let (before, after) = (side(b), side(a));
            (before != after).then(|| FileDiff {
                before_header: header(d, "before_header", "before"),
                after_header: header(d, "after_header", "after"),
                before,
                after,
            })
        })
        .collect()
}
