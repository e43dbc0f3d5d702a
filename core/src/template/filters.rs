//! Ansible's filters on top of minijinja's built-ins (`map`, `select`, `selectattr`, `join`,
//! `unique`, `sort`, `default`, ...). Where Ansible's meaning differs from Jinja's (`bool`, `int`),
//! Ansible's wins.

use super::{convert, net};
use base64::Engine;
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use serde_json::Value as Json;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("mandatory", mandatory);
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", |v: Value, kw: Kwargs| yaml_text(v, kw, false));
    env.add_filter("to_nice_yaml", |v: Value, kw: Kwargs| {
        yaml_text(v, kw, true)
    });
    env.add_filter("from_yaml_all", from_yaml_all);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: String| regex::escape(&s));
    env.add_filter("b64encode", |s: String| {
        base64::engine::general_purpose::STANDARD.encode(s)
    });
    env.add_filter("b64decode", b64decode);
    env.add_filter("hash", hash);
    env.add_filter("checksum", |s: String| {
        crate::digest::hex("sha1", s.as_bytes())
    });
    env.add_filter("sha1", |s: String| crate::digest::hex("sha1", s.as_bytes()));
    env.add_filter("md5", |s: String| crate::digest::hex("md5", s.as_bytes()));
    env.add_filter("password_hash", password_hash);
    env.add_filter("basename", |s: String| {
        s.rsplit('/').next().unwrap_or("").to_string()
    });
    env.add_filter("dirname", dirname);
    env.add_filter("expanduser", expanduser);
    env.add_filter("splitext", splitext);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("flatten", flatten);
    env.add_filter("ternary", ternary);
    env.add_filter("quote", |s: String| shlex_quote(&s));
    env.add_filter("comment", comment);
    env.add_filter("type_debug", type_debug);
    env.add_filter("difference", |a: Value, b: Value| {
        set_op(a, b, SetOp::Difference)
    });
    env.add_filter("intersect", |a: Value, b: Value| {
        set_op(a, b, SetOp::Intersect)
    });
    env.add_filter("union", |a: Value, b: Value| set_op(a, b, SetOp::Union));
    env.add_filter("symmetric_difference", |a: Value, b: Value| {
        set_op(a, b, SetOp::Symmetric)
    });
    env.add_filter("extract", extract);
    env.add_filter("random", random);
    env.add_filter("ipaddr", net::ipaddr);
    env.add_filter("ansible.utils.ipaddr", net::ipaddr);
    env.add_filter("ipv4", net::ipv4);
    env.add_filter("ipv6", net::ipv6);
    env.add_filter("human_to_bytes", human_to_bytes);
}

fn json(v: &Value) -> Result<Json, Error> {
    convert::from_jinja(v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.message))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Ansible's truthiness for strings: `yes`, `on`, `1`, `true`, `y` (any case).
pub fn truthy(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::String => matches!(
            v.as_str()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        ),
        ValueKind::Number => v.as_i64().map(|i| i == 1).unwrap_or(false),
        _ => false,
    }
}

fn to_bool(v: Value) -> bool {
    truthy(&v)
}

fn to_int(v: Value, default: Option<i64>, kwargs: Kwargs) -> Result<i64, Error> {
    let base: Option<u32> = kwargs.get("base")?;
    let default: i64 = match kwargs.get::<Option<i64>>("default")? {
        Some(d) => d,
        None => default.unwrap_or(0),
    };
    kwargs.assert_all_used()?;
    Ok(match v.kind() {
        ValueKind::Bool => v.is_true() as i64,
        ValueKind::Number => match v.as_i64() {
            Some(i) => i,
            None => f64::try_from(v).map(|f| f as i64).unwrap_or(default),
        },
        ValueKind::String => {
            let s = v.as_str().unwrap_or("").trim();
            let radix = base.unwrap_or(10);
            let digits = match radix {
                16 => s.trim_start_matches("0x"),
                8 => s.trim_start_matches("0o"),
                2 => s.trim_start_matches("0b"),
                _ => s,
            };
            i64::from_str_radix(digits, radix)
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(default)
        }
        _ => default,
    })
}

fn mandatory(v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            msg.unwrap_or_else(|| "mandatory variable not defined".into()),
        ));
    }
    Ok(v)
}

fn to_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let _ = kwargs.get::<Option<bool>>("ensure_ascii");
    kwargs.assert_all_used()?;
    Ok(super::pyjson::dumps(&json(&v)?, indent, sort))
}

fn to_nice_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    let sort: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    let _ = kwargs.get::<Option<bool>>("ensure_ascii");
    kwargs.assert_all_used()?;
    Ok(super::pyjson::dumps(&json(&v)?, Some(indent), sort))
}

fn from_json(s: String) -> Result<Value, Error> {
    let v: Json = serde_json::from_str(&s).map_err(|e| invalid(format!("from_json: {e}")))?;
    Ok(convert::to_jinja(&v))
}

/// `to_yaml` (flow style for collections of scalars, indent 2) and `to_nice_yaml` (block
/// style, indent 4), as PyYAML writes them; `indent=` as ansible-core takes it.
fn yaml_text(v: Value, kw: Kwargs, nice: bool) -> Result<String, Error> {
    let indent: Option<usize> = kw.get("indent")?;
    let _: Option<bool> = kw.get("sort_keys")?;
    let _: Option<bool> = kw.get("allow_unicode")?;
    let flow: Option<bool> = kw.get("default_flow_style")?;
    let _: Option<usize> = kw.get("width")?;
    kw.assert_all_used()?;
    let indent = indent.unwrap_or(if nice { 4 } else { 2 });
    Ok(super::pyyaml::dump(
        &json(&v)?,
        indent,
        !nice && flow.is_none(),
    ))
}

/// Every document of a multi-document YAML string.
fn from_yaml_all(s: String) -> Result<Value, Error> {
    let mut docs = Vec::new();
    for d in serde_yaml::Deserializer::from_str(&s) {
        let v = <serde_json::Value as serde::Deserialize>::deserialize(d)
            .map_err(|e| invalid(format!("from_yaml_all: {e}")))?;
        docs.push(v);
    }
    Ok(convert::to_jinja(&Json::Array(docs)))
}

fn from_yaml(s: String) -> Result<Value, Error> {
    let node = crate::yaml::parse_str(std::path::Path::new("<from_yaml>"), s)
        .map_err(|e| invalid(format!("from_yaml: {}", e.message)))?;
    Ok(convert::to_jinja(&node.to_value()))
}

fn build_regex(pattern: &str, kwargs: &Kwargs) -> Result<fancy_regex::Regex, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let multiline: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    super::pyre::compile(pattern, ignorecase, multiline)
}

/// Python replacement syntax (`\1`, `\g<name>`) to Rust's (`${1}`, `${name}`).
pub fn python_replacement(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        n.push(*d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn regex_replace(
    s: String,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let re = build_regex(&pattern, &kwargs)?;
    let count: usize = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let rep = python_replacement(&replacement.unwrap_or_default());
    Ok(re
        .try_replacen(&s, count, rep.as_str())
        .map_err(super::pyre::failed)?
        .into_owned())
}

fn regex_search(
    s: String,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = build_regex(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let Some(caps) = re.captures(&s).map_err(super::pyre::failed)? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            caps.name(name)
        } else {
            return Err(invalid(format!(
                "unknown group reference `{g}`: use '\\\\1' or '\\\\g<name>'"
            )));
        };
        out.push(Value::from(m.map(|m| m.as_str()).unwrap_or("")));
    }
    Ok(Value::from(out))
}

fn regex_findall(s: String, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = build_regex(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        let caps = caps.map_err(super::pyre::failed)?;
        let text = |i: usize| Value::from(caps.get(i).map(|m| m.as_str()).unwrap_or(""));
        out.push(match groups {
            0 => text(0),
            1 => text(1),
            n => Value::from((1..=n).map(text).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

fn b64decode(s: String) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn hash(s: String, algo: Option<String>) -> Result<String, Error> {
    let algo = algo.unwrap_or_else(|| "sha1".into());
    crate::digest::try_hex(&algo, s.as_bytes())
        .ok_or_else(|| invalid(format!("unknown hash algorithm `{algo}`")))
}

fn password_hash(
    pw: String,
    scheme: Option<String>,
    salt: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let salt: Option<String> = match kwargs.get::<Option<String>>("salt")? {
        Some(s) => Some(s),
        None => salt,
    };
    let rounds: Option<usize> = kwargs.get("rounds")?;
    kwargs.assert_all_used()?;
    let salt = match salt {
        Some(s) => s,
        None => random_salt()?,
    };
    let scheme = scheme.unwrap_or_else(|| "sha512".into());
    // ansible-core hashes with passlib, whose default rounds (656000 for sha512, 535000 for
    // sha256) are written into the hash; rounds=5000 is crypt(3)'s default, left implicit.
    let r = rounds.unwrap_or(if scheme.starts_with("sha256") {
        535_000
    } else {
        656_000
    });
    let prefix = if r != 5000 {
        format!("rounds={r}$")
    } else {
        String::new()
    };
    let err = |e: sha_crypt::CryptError| invalid(format!("password_hash: {e:?}"));
    match scheme.as_str() {
        "sha512" | "sha512_crypt" => {
            let p = sha_crypt::Sha512Params::new(r).map_err(err)?;
            let h = sha_crypt::sha512_crypt_b64(pw.as_bytes(), salt.as_bytes(), &p).map_err(err)?;
            Ok(format!("$6${prefix}{salt}${h}"))
        }
        "sha256" | "sha256_crypt" => {
            let p = sha_crypt::Sha256Params::new(r).map_err(err)?;
            let h = sha_crypt::sha256_crypt_b64(pw.as_bytes(), salt.as_bytes(), &p).map_err(err)?;
            Ok(format!("$5${prefix}{salt}${h}"))
        }
        other => Err(invalid(format!(
            "password_hash: unsupported scheme `{other}` (use sha512 or sha256)"
        ))),
    }
}

fn random_salt() -> Result<String, Error> {
    use std::io::Read;
    const CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| invalid(format!("cannot read /dev/urandom: {e}")))?;
    Ok(buf
        .iter()
        .map(|b| CHARS[(*b as usize) % CHARS.len()] as char)
        .collect())
}

fn dirname(s: String) -> String {
    match s.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.to_string(),
        None => String::new(),
    }
}

/// Python's `shlex.quote`: safe words as they are, anything else in single quotes.
fn shlex_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Python's `os.path.expanduser`: `~` is $HOME, `~user` that user's home from /etc/passwd.
fn expanduser(s: String) -> String {
    let Some(rest) = s.strip_prefix('~') else {
        return s;
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        std::env::var("HOME").ok()
    } else {
        std::fs::read_to_string("/etc/passwd").ok().and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 5 && f[0] == user).then(|| f[5].to_string())
            })
        })
    };
    match home {
        Some(h) => format!("{}{tail}", h.trim_end_matches('/')).replace("//", "/"),
        None => s,
    }
}

fn splitext(s: String) -> Value {
    let base_start = s.rfind('/').map(|i| i + 1).unwrap_or(0);
    match s[base_start..].rfind('.') {
        Some(i) if i > 0 => {
            let at = base_start + i;
            Value::from(vec![s[..at].to_string(), s[at..].to_string()])
        }
        _ => Value::from(vec![s, String::new()]),
    }
}

/// ansible-core's `combine_vars(a, b, merge=True)`: mappings merged at every level, any other
/// value (lists included) replaced.
pub fn merge_hash(a: &mut Json, b: &Json) {
    merge(a, b, true, "replace")
}

fn merge(a: &mut Json, b: &Json, recursive: bool, list_merge: &str) {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge_key(existing, v, recursive, list_merge),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => match list_merge {
            "append" => a.extend(b.iter().cloned()),
            "prepend" => {
                let mut n = b.clone();
                n.append(a);
                *a = n;
            }
            "append_rp" | "prepend_rp" => {
                let rest: Vec<Json> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
                *a = if list_merge == "append_rp" {
                    rest.into_iter().chain(b.iter().cloned()).collect()
                } else {
                    b.iter().cloned().chain(rest).collect()
                };
            }
            "keep" => {}
            _ => *a = b.clone(),
        },
        (a, b) => *a = b.clone(),
    }
}

/// ansible-core's merge_hash for one key present on both sides: mappings merge only when
/// `recursive`, lists follow `list_merge` at every level, anything else is replaced.
fn merge_key(existing: &mut Json, v: &Json, recursive: bool, list_merge: &str) {
    match (&*existing, v) {
        (Json::Object(_), Json::Object(_)) if recursive => {
            merge(existing, v, recursive, list_merge)
        }
        (Json::Array(_), Json::Array(_)) => merge(existing, v, recursive, list_merge),
        _ => *existing = v.clone(),
    }
}

fn combine(base: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    let mut out = json(&base)?;
    if !out.is_object() {
        return Err(invalid(format!(
            "combine expects dictionaries, got {}",
            base.kind()
        )));
    }
    for o in others.iter() {
        let mut items = vec![json(o)?];
        if let Json::Array(list) = &items[0] {
            items = list.clone();
        }
        for item in items {
            if !item.is_object() {
                return Err(invalid("combine expects dictionaries"));
            }
            // The top level always merges key by key; `recursive` goes deeper.
            let Json::Object(m) = item else { continue };
            for (k, v) in m {
                let obj = out
                    .as_object_mut()
                    .ok_or_else(|| invalid("combine expects dictionaries"))?;
                match obj.get_mut(&k) {
                    Some(existing) => merge_key(existing, &v, recursive, &list_merge),
                    None => {
                        obj.insert(k, v);
                    }
                }
            }
        }
    }
    Ok(convert::to_jinja(&out))
}

/// `key_name` / `value_name` of dict2items and items2dict.
fn key_value_names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let key = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    Ok((key, value))
}

fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key, value) = key_value_names(&kwargs)?;
    let Json::Object(m) = json(&v)? else {
        return Err(invalid(format!(
            "dict2items requires a dictionary, got {}",
            v.kind()
        )));
    };
    let items: Vec<Json> = m
        .into_iter()
        .map(|(k, v)| {
            let mut o = serde_json::Map::new();
            o.insert(key.clone(), Json::String(k));
            o.insert(value.clone(), v);
            Json::Object(o)
        })
        .collect();
    Ok(convert::to_jinja(&Json::Array(items)))
}

fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key, value) = key_value_names(&kwargs)?;
    let Json::Array(items) = json(&v)? else {
        return Err(invalid(format!(
            "items2dict requires a list, got {}",
            v.kind()
        )));
    };
    let mut out = serde_json::Map::new();
    for item in items {
        let k = match item.get(&key) {
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return Err(invalid(format!("items2dict: an item has no `{key}` key"))),
        };
        out.insert(k, item.get(&value).cloned().unwrap_or(Json::Null));
    }
    Ok(convert::to_jinja(&Json::Object(out)))
}

fn flatten_into(v: &Json, levels: Option<usize>, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) if levels != Some(0) => {
            for i in items {
                flatten_into(i, levels.map(|l| l - 1), out);
            }
        }
        Json::Null => {}
        other => out.push(other.clone()),
    }
}

fn flatten(v: Value, levels: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels = match kwargs.get::<Option<usize>>("levels")? {
        Some(l) => Some(l),
        None => levels,
    };
    kwargs.assert_all_used()?;
    let Json::Array(items) = json(&v)? else {
        return Err(invalid("flatten requires a list"));
    };
    let mut out = Vec::new();
    for i in &items {
        flatten_into(i, levels, &mut out);
    }
    Ok(convert::to_jinja(&Json::Array(out)))
}

fn ternary(v: Value, yes: Value, no: Value, none: Option<Value>) -> Value {
    if let (true, Some(n)) = (v.is_none(), none) {
        return n;
    }
    if v.is_true() { yes } else { no }
}

fn comment(s: String, style: Option<String>) -> String {
    let prefix = match style.as_deref() {
        Some("c") | Some("cblock") => "//",
        Some("erlang") => "%",
        Some("xml") => return format!("<!--\n - {}\n-->", s.replace('\n', "\n - ")),
        _ => "#",
    };
    let body: Vec<String> = s
        .lines()
        .map(|l| format!("{prefix} {l}").trim_end().to_string())
        .collect();
    format!("{prefix}\n{}\n{prefix}", body.join("\n"))
}

fn type_debug(v: Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if v.as_i64().is_some() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

enum SetOp {
    Difference,
    Intersect,
    Union,
    Symmetric,
}

fn set_op(a: Value, b: Value, op: SetOp) -> Result<Value, Error> {
    let list = |v: &Value| -> Result<Vec<Json>, Error> {
        match json(v)? {
            Json::Array(a) => Ok(a),
            other => Err(invalid(format!("set filters need lists, got {other}"))),
        }
    };
    let (a, b) = (list(&a)?, list(&b)?);
    let mut out: Vec<Json> = Vec::new();
    let mut push = |x: &Json| {
        if !out.contains(x) {
            out.push(x.clone());
        }
    };
    match op {
        SetOp::Difference => a.iter().filter(|x| !b.contains(x)).for_each(&mut push),
        SetOp::Intersect => a.iter().filter(|x| b.contains(x)).for_each(&mut push),
        SetOp::Union => a.iter().chain(b.iter()).for_each(&mut push),
        SetOp::Symmetric => a
            .iter()
            .filter(|x| !b.contains(x))
            .chain(b.iter().filter(|x| !a.contains(x)))
            .for_each(&mut push),
    }
    Ok(convert::to_jinja(&Json::Array(out)))
}

fn extract(key: Value, container: Value, more: Option<Value>) -> Result<Value, Error> {
    let mut v = container.get_item(&key)?;
    if let Some(more) = more {
        let keys: Vec<Value> = if more.kind() == ValueKind::Seq {
            more.try_iter()?.collect()
        } else {
            vec![more]
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}

fn random(state: &State, v: Value, end: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    let start: i64 = kwargs.get::<Option<i64>>("start")?.unwrap_or(0);
    let step: i64 = kwargs.get::<Option<i64>>("step")?.unwrap_or(1).max(1);
    kwargs.assert_all_used()?;
    let _ = (state, end);
    let r = match seed {
        Some(s) => {
            let h = crate::digest::hex("sha1", s.to_string().as_bytes());
            u64::from_str_radix(&h[..15], 16).unwrap_or(0)
        }
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
            .unwrap_or(0),
    };
    if let Some(n) = v.as_i64() {
        let choices = ((n - start).max(0) + step - 1) / step;
        if choices == 0 {
            return Err(invalid("random: empty range"));
        }
        return Ok(Value::from(start + (r % choices as u64) as i64 * step));
    }
    let items: Vec<Value> = v.try_iter()?.collect();
    if items.is_empty() {
        return Err(invalid("random: empty sequence"));
    }
    Ok(items[(r % items.len() as u64) as usize].clone())
}

fn human_to_bytes(v: Value, unit: Option<String>, kwargs: Kwargs) -> Result<i64, Error> {
    let isbits: bool = kwargs.get::<Option<bool>>("isbits")?.unwrap_or(false);
    let unit = match unit {
        Some(u) => Some(u),
        None => kwargs.get::<Option<String>>("default_unit")?,
    };
    kwargs.assert_all_used()?;
    let text = match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    };
    size_to_bytes(&text, unit.as_deref(), isbits)
        .map_err(|why| invalid(format!("human_to_bytes() can't interpret the input: {why}")))
}

/// ansible-core's `human_to_bytes`: `10.5 MB` (bytes), `10 Mb` (bits with `isbits`), a bare
/// number rounded as Python rounds (half to even), `default_unit` for a number without one.
pub(crate) fn size_to_bytes(
    text: &str,
    default_unit: Option<&str>,
    isbits: bool,
) -> Result<i64, String> {
    let re = regex::Regex::new(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$")
        .map_err(|e| e.to_string())?;
    let caps = re
        .captures(text)
        .ok_or_else(|| format!("human_to_bytes() can't interpret following string: {text}"))?;
    let num: f64 = caps[1].parse().map_err(|_| {
        format!(
            "human_to_bytes() can't interpret following number: {}",
            &caps[1]
        )
    })?;
    let Some(unit) = caps.get(2).map(|m| m.as_str()).or(default_unit) else {
        return Ok(num.round_ties_even() as i64);
    };
    const RANGES: [(char, u32, &str, &str); 9] = [
        ('B', 0, "byte", "bit"),
        ('K', 10, "kilobyte", "kilobit"),
        ('M', 20, "megabyte", "megabit"),
        ('G', 30, "gigabyte", "gigabit"),
        ('T', 40, "terabyte", "terabit"),
        ('P', 50, "petabyte", "petabit"),
        ('E', 60, "exabyte", "exabit"),
        ('Z', 70, "zetabyte", "zetabit"),
        ('Y', 80, "yottabyte", "yottabit"),
    ];
    let key = unit
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or(' ');
    let Some(&(_, shift, byte_name, bit_name)) = RANGES.iter().find(|r| r.0 == key) else {
        return Err(format!(
            "human_to_bytes() failed to convert {text} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        ));
    };
    let (class, class_name, long) = if isbits {
        ('b', "bit", bit_name)
    } else {
        ('B', "byte", byte_name)
    };
    if unit.chars().count() > 1 && unit.to_lowercase() != long {
        let short = if key == 'B' {
            class.to_string()
        } else {
            format!("{key}{class}")
        };
        if unit != short {
            let expect = if key == 'B' {
                format!("expect {class} or {class_name}")
            } else {
                format!("expect {key}{class} or {key}")
            };
            return Err(format!(
                "human_to_bytes() failed to convert {text}. Value is not a valid string ({expect})"
            ));
        }
    }
    Ok((num * (1u128 << shift) as f64).round_ties_even() as i64)
}
