//! The `file` module's diff as ansible-core returns it: one `{before: {...}, after: {...}}`
//! pair of dicts that always names the path and adds each property the run changes (`state`,
//! `src`, `mode`, `owner`, `group`, `mtime`, `atime`, and what an `absent` directory held),
//! shown as ansible-core's callback shows dict diffs (sorted JSON, indented by four).

use crate::modules::{FileDiff, Outcome};
use serde_json::{Map, Value as Json};

/// Before and after of one path.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDiff {
    before: Map<String, Json>,
    after: Map<String, Json>,
}

impl StateDiff {
    pub fn new(path: &str) -> Self {
        let mut before = Map::new();
        before.insert("path".into(), Json::String(path.to_string()));
        StateDiff {
            after: before.clone(),
            before,
        }
    }

    /// Records that `key` goes from `before` to `after`.
    pub fn set(&mut self, key: &str, before: impl Into<Json>, after: impl Into<Json>) {
        self.before.insert(key.to_string(), before.into());
        self.after.insert(key.to_string(), after.into());
    }

    /// Records something only the before side has (an absent directory's content).
    pub fn set_before(&mut self, key: &str, value: Json) {
        self.before.insert(key.to_string(), value);
    }

    /// Puts the diff into `out`: registered as a dict pair, shown when something changed.
    pub fn finish(self, out: &mut Outcome) {
        let (before, after) = (Json::Object(self.before), Json::Object(self.after));
        if before != after {
            out.diffs.push(FileDiff {
                before_header: "before".into(),
                after_header: "after".into(),
                before: shown(&before),
                after: shown(&after),
            });
        }
        let mut m = Map::new();
        m.insert("before".into(), before);
        m.insert("after".into(), after);
        out.diff_value = Some(Json::Object(m));
    }
}

/// Keys sorted at every level, as Python's `json.dumps(sort_keys=True)`.
fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A dict as ansible-core's callback prints one side of a dict diff.
pub(crate) fn shown(v: &Json) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let text = match sorted(v).serialize(&mut ser) {
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => v.to_string(),
    };
    text + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diff_names_the_path_and_what_changed() {
        let mut d = StateDiff::new("/tmp/l");
        d.set("state", "absent", "link");
        d.set("src", "/a", "b");
        let mut out = Outcome::ok();
        d.finish(&mut out);
        assert_eq!(
            out.diff_value,
            Some(json!({
                "before": {"path": "/tmp/l", "state": "absent", "src": "/a"},
                "after": {"path": "/tmp/l", "state": "link", "src": "b"}
            }))
        );
        insta::assert_snapshot!(out.diffs[0].after, @r#"
        {
            "path": "/tmp/l",
            "src": "b",
            "state": "link"
        }
        "#);
    }

    #[test]
    fn an_unchanged_path_is_registered_but_not_shown() {
        let mut out = Outcome::ok();
        StateDiff::new("/tmp/x").finish(&mut out);
        assert!(out.diffs.is_empty());
        assert_eq!(
            out.diff_value,
            Some(json!({"before": {"path": "/tmp/x"}, "after": {"path": "/tmp/x"}}))
        );
    }
}
