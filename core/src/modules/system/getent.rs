//! `getent`: entries of a name-service database (passwd, group, hosts, services...) as the
//! fact `getent_<database>`, each record split on `:` for the colon databases and on runs of
//! whitespace otherwise (or on `split`), with ansible-core's messages for getent's exit codes.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Getent {
    database: Text,
    key: Option<Text>,
    service: Option<Text>,
    split: Option<String>,
    #[serde(default = "crate::modules::files_common::yes")]
    fail_key: Bool,
}

const COLON: [&str; 4] = ["passwd", "shadow", "group", "gshadow"];

/// The records of getent's output, by their first field (a key seen twice holds a list).
pub fn records(out: &str, split: Option<&str>) -> Map<String, Json> {
    let mut tree = Map::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in out.lines() {
        let fields: Vec<Json> = match split {
            Some(s) => line.split(s).map(Json::from).collect(),
            None => line.split_whitespace().map(Json::from).collect(),
        };
        let Some(Json::String(first)) = fields.first().cloned() else {
            continue;
        };
        let rest = Json::Array(fields[1..].to_vec());
        match seen.get_mut(&first) {
            Some(n) => {
                if *n == 1
                    && let Some(prev) = tree.remove(&first)
                {
                    tree.insert(first.clone(), Json::Array(vec![prev]));
                }
                if let Some(Json::Array(all)) = tree.get_mut(&first) {
                    all.push(rest);
                }
                *n += 1;
            }
            None => {
                tree.insert(first.clone(), rest);
                seen.insert(first, 1);
            }
        }
    }
    tree
}

impl Module for Getent {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let db = self.database.0;
        let mut cmd = format!("getent {}", quote(&db));
        if let Some(k) = &self.key {
            cmd.push_str(&format!(" {}", quote(&k.0)));
        }
        if let Some(s) = &self.service {
            cmd.push_str(&format!(" -s {}", quote(&s.0)));
        }
        let out = ctx.remote()?.exec(&cmd, None).await?;
        let split = self
            .split
            .clone()
            .or_else(|| COLON.contains(&db.as_str()).then(|| ":".to_string()));
        let tree_name = format!("getent_{db}");
        let facts = |tree: Map<String, Json>| {
            let mut f = Map::new();
            f.insert(tree_name.clone(), Json::Object(tree));
            f
        };
        match out.status {
            Some(0) => Ok(Outcome::ok()
                .with_module_facts(facts(records(&out.stdout_str(), split.as_deref())))),
            Some(1) => fail("Missing arguments, or database unknown."),
            Some(2) if !self.fail_key.0 => {
                let mut tree = Map::new();
                tree.insert(self.key.map(|k| k.0).unwrap_or_default(), Json::Null);
                Ok(Outcome::ok()
                    .msg("One or more supplied key could not be found in the database.")
                    .with_module_facts(facts(tree)))
            }
            Some(2) => fail("One or more supplied key could not be found in the database."),
            Some(3) => fail("Enumeration not supported on this database."),
            Some(127) => fail("Failed to find required executable \"getent\""),
            _ => fail("Unexpected failure!"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_split_as_ansible_core_splits_them() {
        let t = records("root:x:0:0:root:/root:/bin/bash\n", Some(":"));
        assert_eq!(
            t["root"],
            json!(["x", "0", "0", "root", "/root", "/bin/bash"])
        );
        let t = records(
            "127.0.0.1       localhost\n::1  localhost ip6-localhost\n",
            None,
        );
        assert_eq!(t["127.0.0.1"], json!(["localhost"]));
        let t = records("http 80/tcp\nhttp 80/udp\nhttp 8080/tcp\n", None);
        assert_eq!(t["http"], json!([["80/tcp"], ["80/udp"], ["8080/tcp"]]));
    }
}
