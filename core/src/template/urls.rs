//! `urldecode`, `urlsplit` and `urlencode` as ansible-core has them (Python's `unquote_plus`
//! and `urlsplit`, Jinja's `do_urlencode`).

use minijinja::{Environment, Error, ErrorKind};
use std::collections::BTreeMap;

/// Python's `quote` (safe `/` unless for a query string, where spaces become `+`).
fn url_quote(v: &minijinja::Value, for_qs: bool) -> String {
    let text = match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    };
    let mut out = String::new();
    for b in text.as_bytes() {
        let c = *b as char;
        if c.is_ascii_alphanumeric() || "_.-~".contains(c) || (!for_qs && c == '/') {
            out.push(c);
        } else if for_qs && c == ' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jinja's `urlencode`: a string quoted as a path; a mapping or a list of pairs as a query.
fn urlencode(v: minijinja::Value) -> Result<String, Error> {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::Map => {
            let mut parts = Vec::new();
            for k in v.try_iter()? {
                let val = v.get_item(&k)?;
                parts.push(format!("{}={}", url_quote(&k, true), url_quote(&val, true)));
            }
            Ok(parts.join("&"))
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut parts = Vec::new();
            for pair in v.try_iter()? {
                let (k, val) = (pair.get_item_by_index(0)?, pair.get_item_by_index(1)?);
                parts.push(format!("{}={}", url_quote(&k, true), url_quote(&val, true)));
            }
            Ok(parts.join("&"))
        }
        _ => Ok(url_quote(&v, false)),
    }
}

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("urlencode", urlencode);
    env.add_filter("urldecode", |s: String| unquote_plus(&s));
    env.add_filter("urlsplit", |s: String, part: Option<String>| {
        let parts = urlsplit(&s);
        match part {
            None => Ok(super::to_jinja(
                &serde_json::to_value(&parts).unwrap_or_default(),
            )),
            Some(p) => parts.get(p.as_str()).map(super::to_jinja).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("urlsplit: unknown URL component: {p}"),
                )
            }),
        }
    });
}

/// `+` is a space, `%XX` a byte; the bytes are read as UTF-8 (bad sequences replaced).
pub fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 1) && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.urlsplit`, with the derived parts ansible-core adds.
fn urlsplit(url: &str) -> BTreeMap<&'static str, serde_json::Value> {
    use serde_json::Value as J;
    let (scheme, rest) = match url.split_once(':') {
        Some((s, r))
            if !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_ascii_lowercase(), r)
        }
        _ => (String::new(), url),
    };
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        },
        None => ("", rest),
    };
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (J::from(n), J::from(p)),
            None => (J::from(u), J::Null),
        },
        None => (J::Null, J::Null),
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        match h.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("")),
            None => (h.to_string(), ""),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let mut m = BTreeMap::new();
    m.insert("scheme", J::from(scheme));
    m.insert("netloc", J::from(netloc));
    m.insert("path", J::from(path));
    m.insert("query", J::from(query));
    m.insert("fragment", J::from(fragment));
    m.insert("username", username);
    m.insert("password", password);
    m.insert(
        "hostname",
        if host.is_empty() {
            J::Null
        } else {
            J::from(host.to_ascii_lowercase())
        },
    );
    m.insert("port", port.parse::<u16>().map(J::from).unwrap_or(J::Null));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_url_semantics() {
        assert_eq!(unquote_plus("a+b%20c%2Fd%zz%"), "a b c/d%zz%");
        assert_eq!(unquote_plus("%C3%A9"), "é");
        let p =
            urlsplit("http://mary:MySecret@www.acme.com:9000/dir/index.html?query=term#fragment");
        assert_eq!(p["scheme"], "http");
        assert_eq!(p["netloc"], "mary:MySecret@www.acme.com:9000");
        assert_eq!(p["hostname"], "www.acme.com");
        assert_eq!(p["port"], 9000);
        assert_eq!(p["username"], "mary");
        assert_eq!(p["password"], "MySecret");
        assert_eq!(p["path"], "/dir/index.html");
        assert_eq!(p["query"], "query=term");
        assert_eq!(p["fragment"], "fragment");
        let q = urlsplit("/just/a/path");
        assert_eq!(q["scheme"], "");
        assert_eq!(q["hostname"], serde_json::Value::Null);
    }
}
