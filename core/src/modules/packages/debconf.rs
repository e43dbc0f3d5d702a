//! `debconf`: a package's debconf answers, read with `debconf-show` (passwords with
//! `debconf-get-selections`) and set with `debconf-set-selections`, as ansible-core's module:
//! booleans compared as `true`/`false`, multiselect lists compared sorted, a diff of the
//! question's previous and new value.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debconf {
    #[serde(alias = "pkg")]
    name: Text,
    #[serde(alias = "selection", alias = "setting")]
    question: Option<Text>,
    vtype: Option<Text>,
    #[serde(alias = "answer")]
    value: Option<Json>,
    #[serde(default)]
    unseen: Bool,
}

const VTYPES: [&str; 10] = [
    "boolean",
    "error",
    "multiselect",
    "note",
    "password",
    "seen",
    "select",
    "string",
    "text",
    "title",
];

/// `debconf-show` output: question to value (`* q: v` for seen ones).
pub fn selections(out: &str) -> Map<String, Json> {
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            (
                k.trim().trim_start_matches('*').trim().to_string(),
                json!(v.trim()),
            )
        })
        .collect()
}

/// A password answer from `debconf-get-selections` output ('' when there is none).
pub fn password(out: &str, pkg: &str, question: &str, vtype: &str) -> String {
    for line in out.lines().filter(|l| l.starts_with(pkg)) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() <= 3 {
            return String::new();
        }
        if f[1] == question && f[2] == vtype {
            return f[3].to_string();
        }
    }
    String::new()
}

/// A value as ansible-core's module compares it (Python's `str`, booleans lowered).
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Bool(b) => if *b { "True" } else { "False" }.into(),
        Json::Null => "None".into(),
        other => other.to_string(),
    }
}

impl Module for Debconf {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let pkg = self.name.0;
        let given = [
            self.question.is_some(),
            self.vtype.is_some(),
            self.value.is_some(),
        ];
        if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
            return fail("parameters are required together: question, vtype, value");
        }
        if let Some(v) = &self.vtype
            && !VTYPES.contains(&v.0.as_str())
        {
            return fail(format!(
                "value of vtype must be one of: {}, got: {}",
                VTYPES.join(", "),
                v.0
            ));
        }
        let remote = ctx.remote()?;
        let shown = remote
            .exec(&format!("debconf-show {}", quote(&pkg)), None)
            .await?;
        if !shown.success() {
            return fail(shown.stderr_str().trim().to_string());
        }
        let prev = selections(&shown.stdout_str());
        let (Some(question), Some(vtype), Some(value)) = (self.question, self.vtype, self.value)
        else {
            return Ok(Outcome::ok().msg("").with("current", Json::Object(prev)));
        };
        let (question, vtype) = (question.0, vtype.0);
        // What is compared and what is written.
        let (want, written): (Json, String) = match (&value, vtype.as_str()) {
            (v, "boolean") => {
                let t = text(v).to_lowercase();
                (json!(t), t)
            }
            (Json::Array(items), "multiselect") => {
                let mut sorted: Vec<String> = items.iter().map(text).collect();
                let joined = items.iter().map(text).collect::<Vec<_>>().join(", ");
                sorted.sort();
                (json!(sorted), joined)
            }
            (v, _) => (json!(text(v)), text(v)),
        };
        let changed = match prev.get(&question) {
            None => true,
            Some(existing) => {
                let existing = match (vtype.as_str(), &value) {
                    ("boolean", _) => json!(text(existing).to_lowercase()),
                    ("password", _) => {
                        let all = remote.exec("debconf-get-selections", None).await?;
                        if !all.success() {
                            return fail(format!(
                                "Failed to get the value '{question}' from '{pkg}': {}",
                                all.stderr_str().trim()
                            ));
                        }
                        json!(password(&all.stdout_str(), &pkg, &question, &vtype))
                    }
                    ("multiselect", Json::Array(_)) => {
                        let mut v: Vec<String> = text(existing)
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .collect();
                        v.sort();
                        json!(v)
                    }
                    _ => existing.clone(),
                };
                existing != want
            }
        };
        if !changed {
            return Ok(Outcome::ok().msg("").with("current", Json::Object(prev)));
        }
        let mut msg = String::new();
        if !ctx.check {
            let u = if self.unseen.0 { " -u" } else { "" };
            let out = remote
                .exec(
                    &format!("debconf-set-selections{u}"),
                    Some(format!("{pkg} {question} {vtype} {written}").as_bytes()),
                )
                .await?;
            if !out.success() {
                return fail(out.stderr_str().trim().to_string());
            }
            msg = out.stdout_str();
        }
        let mut current = Map::new();
        current.insert(question.clone(), value.clone());
        let mut previous = Map::new();
        previous.insert(
            question.clone(),
            prev.get(&question).cloned().unwrap_or_else(|| json!("")),
        );
        let mut o = Outcome::changed(true)
            .msg(msg)
            .with("current", Json::Object(current.clone()))
            .with("previous", Json::Object(previous.clone()));
        if ctx.diff {
            let mut after = previous.clone();
            after.extend(current);
            o.diff_value = Some(json!({"before": previous, "after": after}));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debconf_output_is_read() {
        let s = selections("* tzdata/Areas: Europe\n  tzdata/Zones/Etc: UTC\n");
        assert_eq!(s["tzdata/Areas"], json!("Europe"));
        assert_eq!(s["tzdata/Zones/Etc"], json!("UTC"));
        let all =
            "mysql-server\tmysql-server/root_password\tpassword\tsecret\nother\tq\tstring\tx\n";
        assert_eq!(
            password(
                all,
                "mysql-server",
                "mysql-server/root_password",
                "password"
            ),
            "secret"
        );
        assert_eq!(password("pkg\tq\tpassword\n", "pkg", "q", "password"), "");
    }
}
