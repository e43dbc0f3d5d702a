//! Filters and tests from outside hoist-core (WebAssembly plugins): a process-wide registry
//! every new template environment picks up.

use minijinja::value::Rest;
use minijinja::{Environment, Error, ErrorKind, Value};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// A filter (`value | name(args)`) or a test (`value is name(args)`, returns a boolean).
pub type Call = Arc<dyn Fn(Json, Vec<Json>) -> Result<Json, String> + Send + Sync>;

#[derive(Clone)]
struct Entry {
    test: bool,
    call: Call,
}

static REGISTRY: RwLock<BTreeMap<String, Entry>> = RwLock::new(BTreeMap::new());

/// Registers a filter (or, with `test`, a test) called `name`; a name another plugin took is
/// refused.
pub fn register(name: &str, test: bool, call: Call) -> Result<(), String> {
    let mut r = REGISTRY
        .write()
        .map_err(|_| "filter registry poisoned".to_string())?;
    let key = format!("{}:{name}", if test { "test" } else { "filter" });
    if r.contains_key(&key) {
        return Err(format!(
            "two plugins provide the {} `{name}`",
            if test { "test" } else { "filter" }
        ));
    }
    r.insert(key, Entry { test, call });
    Ok(())
}

/// Removes every external filter and test.
pub fn clear() {
    if let Ok(mut r) = REGISTRY.write() {
        r.clear();
    }
}

fn to_json(v: &Value) -> Result<Json, Error> {
    super::convert::from_jinja(v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.message))
}

/// Adds every registered filter and test to `env` (plugins may override built-in names).
pub fn install(env: &mut Environment<'static>) {
    let Ok(r) = REGISTRY.read() else { return };
    for (key, entry) in r.iter() {
        let name = key
            .split_once(':')
            .map_or(key.as_str(), |(_, n)| n)
            .to_string();
        let call = entry.call.clone();
        let run = move |value: &Value, args: &[Value]| -> Result<Json, Error> {
            let v = to_json(value)?;
            let a = args.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
            call(v, a).map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
        };
        if entry.test {
            env.add_test(
                name,
                move |value: &Value, args: Rest<Value>| -> Result<bool, Error> {
                    match run(value, &args)? {
                        Json::Bool(b) => Ok(b),
                        other => Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!("test returned {other}, not a boolean"),
                        )),
                    }
                },
            );
        } else {
            env.add_filter(
                name,
                move |value: &Value, args: Rest<Value>| -> Result<Value, Error> {
                    Ok(super::convert::to_jinja(&run(value, &args)?))
                },
            );
        }
    }
}
