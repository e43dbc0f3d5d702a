//! ansible-core's math and set filters minijinja lacks: `log`, `pow`, `root`,
//! `human_readable`, `permutations`, `combinations`, `shuffle`, `rekey_on_member`, and
//! `to_uuid` (UUID v5 in Ansible's namespace); `unique` as ansible-core's (Jinja's, refusing
//! `case_sensitive=false` on items only Python's fallback could compare).

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};

/// A number for the math filters, which take what Python's `math` takes (numbers and
/// booleans, not numeric text), failing with ansible-core's words (`log() can only be used on
/// numbers`).
fn number(v: &Value, fails: impl Fn() -> String) -> Result<f64, Error> {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::Number => {
            f64::try_from(v.clone()).map_err(|_| Error::new(ErrorKind::InvalidOperation, fails()))
        }
        ValueKind::Bool => Ok(if v.is_true() { 1.0 } else { 0.0 }),
        _ => Err(Error::new(ErrorKind::InvalidOperation, fails())),
    }
}

/// `number` for the filter `name`.
fn operand(name: &str, v: &Value) -> Result<f64, Error> {
    number(v, || format!("{name}() can only be used on numbers"))
}

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("log", |x: Value, base: Option<Value>| {
        let x = operand("log", &x)?;
        Ok::<_, Error>(match base {
            Some(b) => x.ln() / operand("log", &b)?.ln(),
            None => x.ln(),
        })
    });
    env.add_filter("pow", |x: Value, y: Value| {
        Ok::<_, Error>(operand("pow", &x)?.powf(operand("pow", &y)?))
    });
    env.add_filter("root", |x: Value, base: Option<Value>| {
        let x = operand("root", &x)?;
        Ok::<_, Error>(match base.map(|b| operand("root", &b)).transpose()? {
            None | Some(2.0) => x.sqrt(),
            Some(b) => x.powf(1.0 / b),
        })
    });
    env.add_filter("human_readable", human_readable);
    env.add_filter(
        "unique",
        |state: &minijinja::State, values: Value, kwargs: Kwargs| {
            let insensitive = kwargs.peek::<Option<bool>>("case_sensitive")? == Some(false);
            if insensitive
                && let Ok(items) = values.try_iter()
                && items
                    .into_iter()
                    .any(|i| matches!(i.kind(), minijinja::value::ValueKind::Map | minijinja::value::ValueKind::Seq))
            {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not support the parameters supplied",
                ));
            }
            minijinja::filters::unique(state, values, kwargs)
        },
    );
    env.add_filter("permutations", |v: Value, r: Option<usize>| {
        let items: Vec<Value> = v.try_iter()?.collect();
        let r = r.unwrap_or(items.len());
        Ok::<_, Error>(Value::from(permutations(&items, r)))
    });
    env.add_filter("combinations", |v: Value, r: usize| {
        let items: Vec<Value> = v.try_iter()?.collect();
        Ok::<_, Error>(Value::from(combinations(&items, r)))
    });
    env.add_filter("shuffle", |v: Value, seed: Option<Value>| {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let mut items: Vec<Value> = v.try_iter()?.collect();
        match seed {
            Some(s) => {
                let digest = crate::digest::hex("sha256", s.to_string().as_bytes());
                let n = u64::from_str_radix(&digest[..16], 16).unwrap_or(0);
                items.shuffle(&mut rand::rngs::StdRng::seed_from_u64(n));
            }
            None => items.shuffle(&mut rand::rng()),
        }
        Ok::<_, Error>(Value::from(items))
    });
    env.add_filter("rekey_on_member", rekey_on_member);
    env.add_filter("to_uuid", |s: String, namespace: Option<String>| {
        to_uuid(&s, namespace.as_deref())
    });
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `1.0 KB`-style sizes (powers of 1024, Ansible's units and format).
fn human_readable(
    size: Value,
    isbits: Option<bool>,
    unit: Option<String>,
    kw: Kwargs,
) -> Result<String, Error> {
    let isbits = match isbits {
        Some(b) => b,
        None => kw.get::<Option<bool>>("isbits")?.unwrap_or(false),
    };
    let unit = match unit {
        Some(u) => Some(u),
        None => kw.get::<Option<String>>("unit")?,
    };
    kw.assert_all_used()?;
    let size = number(&size, || "human_readable() failed on bad input".to_string())?;
    readable(size, isbits, unit)
}

fn readable(size: f64, isbits: bool, unit: Option<String>) -> Result<String, Error> {
    let (units, suffix) = if isbits {
        (["b", "Kb", "Mb", "Gb", "Tb", "Pb", "Eb", "Zb", "Yb"], "")
    } else {
        (["B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"], "")
    };
    let pick = match unit {
        Some(u) => units
            .iter()
            .position(|x| {
                x.starts_with(&u[..1].to_ascii_uppercase())
                    || (u.len() == 1 && x[..1].eq_ignore_ascii_case(&u))
            })
            .ok_or_else(|| bad(format!("human_readable: unknown unit `{u}`")))?,
        None => {
            let mut i = 0;
            while i + 1 < units.len() && size.abs() >= 1024f64.powi(i as i32 + 1) {
                i += 1;
            }
            i
        }
    };
    let v = size / 1024f64.powi(pick as i32);
    let name = if pick == 0 {
        if isbits { "bits" } else { "Bytes" }.to_string()
    } else {
        units[pick].to_string()
    };
    Ok(format!("{v:.2} {name}{suffix}"))
}

fn permutations(items: &[Value], r: usize) -> Vec<Value> {
    fn go(
        items: &[Value],
        r: usize,
        used: &mut Vec<bool>,
        cur: &mut Vec<Value>,
        out: &mut Vec<Value>,
    ) {
        if cur.len() == r {
            out.push(Value::from(cur.clone()));
            return;
        }
        for i in 0..items.len() {
            if !used[i] {
                used[i] = true;
                cur.push(items[i].clone());
                go(items, r, used, cur, out);
                cur.pop();
                used[i] = false;
            }
        }
    }
    let mut out = Vec::new();
    if r <= items.len() {
        go(
            items,
            r,
            &mut vec![false; items.len()],
            &mut Vec::new(),
            &mut out,
        );
    }
    out
}

fn combinations(items: &[Value], r: usize) -> Vec<Value> {
    fn go(items: &[Value], r: usize, start: usize, cur: &mut Vec<Value>, out: &mut Vec<Value>) {
        if cur.len() == r {
            out.push(Value::from(cur.clone()));
            return;
        }
        for i in start..items.len() {
            cur.push(items[i].clone());
            go(items, r, i + 1, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(items, r, 0, &mut Vec::new(), &mut out);
    out
}

/// A list of mappings (or a mapping of them) keyed by one member's value.
fn rekey_on_member(data: Value, key: String, kw: Kwargs) -> Result<Value, Error> {
    let duplicates: String = kw
        .get::<Option<String>>("duplicates")?
        .unwrap_or_else(|| "error".into());
    kw.assert_all_used()?;
    // ansible-core's checks and words, with Python's repr of the values named.
    let repr = |v: &Value| py_repr(v);
    if !["error", "overwrite"].contains(&duplicates.as_str()) {
        return Err(bad(format!(
            "duplicates parameter to rekey_on_member has unknown value {}",
            repr(&Value::from(duplicates.as_str()))
        )));
    }
    use minijinja::value::ValueKind;
    let items: Vec<Value> = match data.kind() {
        ValueKind::Map => data
            .try_iter()?
            .map(|k| data.get_item(&k).unwrap_or_default())
            .collect(),
        ValueKind::Seq | ValueKind::Iterable => data.try_iter()?.collect(),
        _ => return Err(bad("Type is not a valid list, set, or dict".to_string())),
    };
    let mut out: indexmap::IndexMap<Value, Value> = indexmap::IndexMap::new();
    for item in items {
        if item.kind() != ValueKind::Map {
            return Err(bad("List item is not a valid dict".to_string()));
        }
        let k = item.get_item(&Value::from(key.as_str()))?;
        if k.is_undefined() {
            return Err(bad(format!(
                "Key {} was not found.",
                repr(&Value::from(key.as_str()))
            )));
        }
        if out.contains_key(&k) && duplicates == "error" {
            return Err(bad(format!(
                "Key {} is not unique, cannot convert to dict.",
                repr(&k)
            )));
        }
        out.insert(k, item);
    }
    Ok(Value::from_object(out))
}

/// Python's `repr` of a scalar (`'text'`, `True`, `None`, `3`); other values as printed.
fn py_repr(v: &Value) -> String {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        ValueKind::Bool if v.is_true() => "True".into(),
        ValueKind::Bool => "False".into(),
        ValueKind::None | ValueKind::Undefined => "None".into(),
        _ => v.to_string(),
    }
}

/// UUID v5 of `name` in `namespace` (default: Ansible's `361E6D51-FAEC-444A-9079-341386DA8E2E`).
fn to_uuid(name: &str, namespace: Option<&str>) -> Result<String, Error> {
    use sha1::Digest;
    let ns = namespace.unwrap_or("361E6D51-FAEC-444A-9079-341386DA8E2E");
    let hex: String = ns.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return Err(bad(format!("to_uuid: `{ns}` is not a UUID")));
    }
    let mut bytes = Vec::with_capacity(16 + name.len());
    for i in 0..16 {
        bytes.push(
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| bad(format!("to_uuid: `{ns}` is not a UUID")))?,
        );
    }
    bytes.extend_from_slice(name.as_bytes());
    let mut h: Vec<u8> = sha1::Sha1::digest(&bytes)[..16].to_vec();
    h[6] = (h[6] & 0x0f) | 0x50;
    h[8] = (h[8] & 0x3f) | 0x80;
    let x: String = h.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn math_filters_take_numbers_as_python_math_does() {
        assert_eq!(operand("log", &Value::from(100)).unwrap(), 100.0);
        assert_eq!(operand("log", &Value::from(true)).unwrap(), 1.0);
        for v in [Value::from("100"), Value::from(vec![1])] {
            assert_eq!(
                operand("log", &v).unwrap_err().detail(),
                Some("log() can only be used on numbers")
            );
        }
    }

    #[test]
    fn values_python_gives() {
        // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('361E6D51-FAEC-444A-9079-341386DA8E2E'), 'example.com'))"
        assert_eq!(
            to_uuid("example.com", None).unwrap(),
            "ae780c3a-a3ab-53c2-bfb4-098da300b3fe"
        );
        assert_eq!(readable(1024.0, false, None).unwrap(), "1.00 KB");
        assert_eq!(readable(10.0, false, None).unwrap(), "10.00 Bytes");
        assert_eq!(readable(1048576.0, true, None).unwrap(), "1.00 Mb");
        let v: Vec<Value> = [1, 2, 3].into_iter().map(Value::from).collect();
        assert_eq!(permutations(&v, 2).len(), 6);
        assert_eq!(combinations(&v, 2).len(), 3);
    }
}
