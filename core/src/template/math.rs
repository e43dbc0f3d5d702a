//! ansible-core's math and set filters minijinja lacks: `log`, `pow`, `root`,
//! `human_readable`, `permutations`, `combinations`, `shuffle`, `rekey_on_member`, and
//! `to_uuid` (UUID v5 in Ansible's namespace); `unique` as ansible-core's (Jinja's, refusing
//! `case_sensitive=false` on items only Python's fallback could compare).

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("log", |x: f64, base: Option<f64>| match base {
        Some(b) => x.ln() / b.ln(),
        None => x.ln(),
    });
    env.add_filter("pow", |x: f64, y: f64| x.powf(y));
    env.add_filter("root", |x: f64, base: Option<f64>| match base {
        None | Some(2.0) => x.sqrt(),
        Some(b) => x.powf(1.0 / b),
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
    size: f64,
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
    if !["error", "overwrite"].contains(&duplicates.as_str()) {
        return Err(bad(format!(
            "duplicates parameter to rekey_on_member has unknown value: {duplicates}"
        )));
    }
    let items: Vec<Value> = match data.kind() {
        minijinja::value::ValueKind::Map => data
            .try_iter()?
            .map(|k| data.get_item(&k).unwrap_or_default())
            .collect(),
        _ => data.try_iter()?.collect(),
    };
    let mut out: indexmap::IndexMap<Value, Value> = indexmap::IndexMap::new();
    for item in items {
        if item.kind() != minijinja::value::ValueKind::Map {
            return Err(bad(format!("List item is not a valid dict: {item}")));
        }
        let k = item.get_attr(&key)?;
        if k.is_undefined() {
            return Err(bad(format!("Key {key} was not found")));
        }
        if out.contains_key(&k) && duplicates == "error" {
            return Err(bad(format!(
                "Key {k} is not unique, cannot correctly turn into dict"
            )));
        }
        out.insert(k, item);
    }
    Ok(Value::from_object(out))
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
