//! Ansible's undefined values, which chain: `result.stat.exists | default(false)` is `false`
//! when `result` (or its `stat`) is missing, while printing, comparing or testing the truth of
//! a missing value is an error. minijinja has no such mode, so a template is evaluated strictly
//! first and, only when that fails on an undefined value, once more in an environment whose
//! undefined values chain; that second result stands only if a `default`/`d` filter or a
//! `defined`/`undefined` test consumed an undefined value on the way (otherwise the strict
//! error stands), and printing an undefined value is still an error there.

use minijinja::value::{Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use std::cell::Cell;

thread_local! {
    /// Set when the chained environment handed an undefined value to `default` or a test.
    static CONSUMED: Cell<bool> = const { Cell::new(false) };
}

fn consumed(v: &Value) {
    if v.is_undefined() {
        CONSUMED.with(|c| c.set(true));
    }
}

/// Turns a copy of the strict environment into the chained one.
pub fn chained(strict: &Environment<'static>) -> Environment<'static> {
    let mut env = strict.clone();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    let default = |state: &State, value: &Value, args: Rest<Value>| {
        consumed(value);
        minijinja::filters::default(state, value, args)
    };
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_test("defined", |v: &Value| {
        consumed(v);
        !v.is_undefined()
    });
    env.add_test("undefined", |v: &Value| {
        consumed(v);
        v.is_undefined()
    });
    env.set_formatter(|out, state, value| {
        if value.is_undefined() {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "an undefined value is printed",
            ));
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
}

/// Runs `eval` strictly and, when that fails on an undefined value, in the chained
/// environment; the chained result stands only when an undefined value was consumed.
pub fn evaluate<'a, T>(
    strict: &'a Environment<'static>,
    chained: impl FnOnce() -> &'a Environment<'static>,
    eval: impl Fn(&Environment<'static>) -> Result<T, Error>,
) -> Result<T, Error> {
    let err = match eval(strict) {
        Err(e) if e.kind() == ErrorKind::UndefinedError => e,
        done => return done,
    };
    let before = CONSUMED.with(|c| c.replace(false));
    let again = eval(chained());
    let used = CONSUMED.with(|c| c.replace(before));
    match again {
        Ok(v) if used => Ok(v),
        _ => Err(err),
    }
}
