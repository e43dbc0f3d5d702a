//! `set_stats`: custom statistics of a run (`data`), for the whole run or per host
//! (`per_host`), added to earlier ones (`aggregate`: dicts merged, numbers added, lists and
//! text joined) or replacing them. The recap carries them (and shows them when
//! `ANSIBLE_SHOW_CUSTOM_STATS` is set), as ansible-core's default callback does.

use crate::modules::types::Bool;
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStats {
    #[serde(default)]
    data: Option<Json>,
    per_host: Option<Bool>,
    aggregate: Option<Bool>,
}

impl Module for SetStats {
    const CONTROLLER: bool = true;

    async fn run(self, _ctx: &Ctx<'_>) -> ModResult {
        let data = match self.data {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m,
            Some(_) => {
                let mut o = Outcome::ok().msg("The 'data' option needs to be a dictionary/hash");
                o.failed = true;
                return Ok(o);
            }
        };
        for k in data.keys() {
            crate::template::var_name::check(k).map_err(ModuleError::Failed)?;
        }
        Ok(Outcome::ok().with(
            "ansible_stats",
            json!({
                "data": data,
                "per_host": self.per_host.is_some_and(|b| b.0),
                "aggregate": self.aggregate.is_none_or(|b| b.0),
            }),
        ))
    }
}

/// Adds `what` to the stat `which` of `scope` (`_run` or a host), as ansible-core's
/// `update_custom_stats` does (a value of another type is left out); with `aggregate` false
/// it replaces it.
pub fn record(all: &mut Map<String, Json>, scope: &str, which: &str, what: Json, aggregate: bool) {
    let Json::Object(stats) = all
        .entry(scope.to_string())
        .or_insert_with(|| Json::Object(Map::new()))
    else {
        return;
    };
    let Some(old) = stats.get_mut(which) else {
        stats.insert(which.to_string(), what);
        return;
    };
    if !aggregate {
        *old = what;
        return;
    }
    match (old, what) {
        (old @ Json::Object(_), w @ Json::Object(_)) => crate::template::merge_hash(old, &w),
        (Json::Number(a), Json::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                *a = (x + y).into();
            } else if let (Some(x), Some(y), false, false) =
                (a.as_f64(), b.as_f64(), a.is_i64(), b.is_i64())
                && let Some(n) = serde_json::Number::from_f64(x + y)
            {
                *a = n;
            }
        }
        (Json::String(a), Json::String(b)) => a.push_str(&b),
        (Json::Array(a), Json::Array(b)) => a.extend(b),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_aggregate_as_ansible_core_aggregates_them() {
        let mut all = Map::new();
        record(&mut all, "_run", "n", json!(1), true);
        record(&mut all, "_run", "n", json!(2), true);
        record(&mut all, "_run", "d", json!({"a": 1}), true);
        record(&mut all, "_run", "d", json!({"b": 2}), true);
        record(&mut all, "_run", "l", json!([1]), true);
        record(&mut all, "_run", "l", json!([2]), true);
        record(&mut all, "_run", "n", json!("x"), true);
        record(&mut all, "web1", "s", json!("a"), true);
        record(&mut all, "web1", "s", json!("b"), false);
        assert_eq!(
            Json::Object(all),
            json!({"_run": {"n": 3, "d": {"a": 1, "b": 2}, "l": [1, 2]}, "web1": {"s": "b"}})
        );
    }
}
