//! `add_host` and `group_by`: controller-side modules that grow the run's inventory. They
//! return what ansible-core's action plugins return (`add_host: {host_name, groups,
//! host_vars}`, `add_group`/`parent_groups`); the runner applies it and reports changed when
//! the inventory did change, as ansible-core's strategy does.

use crate::inventory::Vars;
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use serde::Deserialize;
use serde_json::{Value as Json, json};

/// `add_host`: `name` (or `host`/`hostname`, `host:port` sets `ansible_ssh_port`), `groups`
/// (or `groupname`/`group`; a list or comma-separated), every other argument a host variable.
#[derive(Debug)]
pub struct AddHost(Vars);

impl<'de> Deserialize<'de> for AddHost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vars::deserialize(d).map(AddHost)
    }
}

/// A list of names as text (non-strings written as JSON), for groups and parents.
fn names(a: &[Json]) -> Vec<String> {
    a.iter()
        .map(|g| {
            g.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| g.to_string())
        })
        .collect()
}

/// `name:port` or `[v6]:port` split as ansible-core's parse_address does.
fn split_port(name: &str) -> (String, Option<u64>) {
    if let Some(rest) = name.strip_prefix('[')
        && let Some((host, port)) = rest.split_once("]:")
        && let Ok(p) = port.parse()
    {
        return (host.to_string(), Some(p));
    }
    match name.split_once(':') {
        Some((host, port)) if !port.contains(':') => match port.parse() {
            Ok(p) => (host.to_string(), Some(p)),
            Err(_) => (name.to_string(), None),
        },
        _ => (name.to_string(), None),
    }
}

impl Module for AddHost {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let mut args = self.0;
        if let Some(Json::Object(raw)) = args.remove("_raw_params") {
            for (k, v) in raw {
                args.entry(k).or_insert(v);
            }
        }
        let given = ["name", "hostname", "host"]
            .iter()
            .find_map(|k| args.get(*k).cloned());
        let name = match given {
            Some(Json::String(s)) => s,
            Some(Json::Null) | None => return fail("name, host or hostname needs to be provided"),
            Some(other) => other.to_string(),
        };
        let (name, port) = split_port(&name);
        if let Some(p) = port {
            args.insert("ansible_ssh_port".into(), json!(p));
        }
        let groups = ["groupname", "groups", "group"]
            .iter()
            .find_map(|k| args.get(*k).cloned());
        let mut list: Vec<String> = Vec::new();
        let given: Vec<String> = match groups {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::String(s)) if s.is_empty() => Vec::new(),
            Some(Json::String(s)) => s.split(',').map(str::to_string).collect(),
            Some(Json::Array(a)) => names(&a),
            Some(_) => return fail("Groups must be specified as a list."),
        };
        for g in given {
            let g = g.trim().to_string();
            if !list.contains(&g) {
                list.push(g);
            }
        }
        // ansible-core keeps `group` (and the name aliases `host`) among the host variables.
        for k in ["name", "hostname", "groupname", "groups"] {
            args.remove(k);
        }
        Ok(Outcome::ok().with(
            "add_host",
            json!({"host_name": name, "groups": list, "host_vars": args}),
        ))
    }
}

/// `group_by`: puts the host into group `key` (spaces become dashes), under `parents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBy {
    key: Option<Json>,
    parents: Option<Json>,
}

impl Module for GroupBy {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let key = match self.key {
            Some(Json::String(s)) => s,
            Some(Json::Null) | None => {
                return fail("the 'key' param is required when using group_by");
            }
            Some(other) => other.to_string(),
        };
        let parents: Vec<String> = match self.parents {
            None | Some(Json::Null) => vec!["all".into()],
            Some(Json::String(s)) => vec![s],
            Some(Json::Array(a)) => names(&a),
            Some(other) => vec![other.to_string()],
        };
        Ok(Outcome::ok().with("add_group", key.replace(' ', "-")).with(
            "parent_groups",
            parents
                .iter()
                .map(|p| p.replace(' ', "-"))
                .collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_split_like_ansible_core() {
        assert_eq!(split_port("web1:2222"), ("web1".into(), Some(2222)));
        assert_eq!(split_port("[::1]:22"), ("::1".into(), Some(22)));
        assert_eq!(split_port("::1"), ("::1".into(), None));
        assert_eq!(split_port("web1"), ("web1".into(), None));
    }
}
