//! Python's `%` string formatting in templates (`"%s is %d" % (name, n)`), which playbooks
//! use and Jinja's own `%` (a number's remainder) does not do: a `%` whose left operand is a
//! string literal is rewritten to the `__py_percent` filter before compiling, and the filter
//! formats as Python's `str % args` does (`%s %r %d %i %f %e %g %x %o %c %%`, flags, width,
//! precision, `%(name)s` with a mapping).

use minijinja::value::ValueKind;
use minijinja::{Environment, Error, ErrorKind, Value};
use std::borrow::Cow;

/// The end (exclusive) of the string literal starting at `i` (a quote).
fn string_end(s: &[char], i: usize) -> usize {
    let q = s[i];
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            '\\' => j += 2,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    s.len()
}

/// The end of the bracketed group starting at `i`.
fn group_end(s: &[char], i: usize) -> usize {
    let mut depth = 0;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            '\'' | '"' => {
                j = string_end(s, j);
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    s.len()
}

fn skip_ws(s: &[char], mut i: usize) -> usize {
    while i < s.len() && s[i].is_whitespace() {
        i += 1;
    }
    i
}

fn ident_end(s: &[char], mut i: usize) -> usize {
    while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
        i += 1;
    }
    i
}

/// The end of the right operand of `%` starting at `i`: a primary with its attribute,
/// subscript and call suffixes, then any filters (which bind tighter than `%`).
fn operand_end(s: &[char], i: usize) -> Option<usize> {
    let mut j = skip_ws(s, i);
    while j < s.len() && (s[j] == '-' || s[j] == '+') {
        j = skip_ws(s, j + 1);
    }
    j = match s.get(j)? {
        '(' | '[' | '{' => group_end(s, j),
        '\'' | '"' => string_end(s, j),
        c if c.is_alphanumeric() || *c == '_' => {
            let mut k = ident_end(s, j);
            // A number's fraction.
            if k < s.len() && s[k] == '.' && s.get(k + 1).is_some_and(char::is_ascii_digit) {
                k = ident_end(s, k + 1);
            }
            k
        }
        _ => return None,
    };
    loop {
        match s.get(j) {
            Some('.') if s.get(j + 1).is_some_and(|c| c.is_alphabetic() || *c == '_') => {
                j = ident_end(s, j + 1)
            }
            Some('[') | Some('(') => j = group_end(s, j),
            _ => break,
        }
    }
    loop {
        let k = skip_ws(s, j);
        if s.get(k) != Some(&'|') || s.get(k + 1) == Some(&'|') {
            return Some(j);
        }
        let mut n = skip_ws(s, k + 1);
        let start = n;
        while n < s.len() && (s[n].is_alphanumeric() || s[n] == '_' || s[n] == '.') {
            n += 1;
        }
        if n == start {
            return Some(j);
        }
        j = if s.get(n) == Some(&'(') {
            group_end(s, n)
        } else {
            n
        };
    }
}

/// Rewrites `'literal' % operand` in one expression.
pub fn rewrite_expr(src: &str) -> Cow<'_, str> {
    if !src.contains('%') {
        return Cow::Borrowed(src);
    }
    let s: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 16);
    // Where the last string literal written to `out` starts, while only spaces follow it.
    let mut last_literal: Option<usize> = None;
    let mut i = 0;
    let mut changed = false;
    while i < s.len() {
        match s[i] {
            '\'' | '"' => {
                let end = string_end(&s, i);
                last_literal = Some(out.len());
                out.extend(&s[i..end]);
                i = end;
            }
            '%' if last_literal.is_some() => {
                let Some(end) = operand_end(&s, i + 1) else {
                    out.push('%');
                    i += 1;
                    last_literal = None;
                    continue;
                };
                let start = last_literal.take().unwrap_or(0);
                let lhs = out[start..].trim_end().to_string();
                out.truncate(start);
                let rhs: String = s[i + 1..end].iter().collect();
                out.push_str(&format!(
                    "({lhs} | __py_percent({}))",
                    rewrite_expr(rhs.trim())
                ));
                changed = true;
                i = end;
            }
            c => {
                if !c.is_whitespace() {
                    last_literal = None;
                }
                out.push(c);
                i += 1;
            }
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(src)
    }
}

/// Rewrites the code (`{{ }}`, `{% %}`) of a template with the default delimiters.
pub fn rewrite_template(src: &str) -> Cow<'_, str> {
    if !src.contains('%') || !(src.contains("{{") || src.contains("{%")) {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut rest = src;
    let mut changed = false;
    while let Some(open) = rest.find(['{']) {
        let (closing, start) = match rest.get(open..open + 2) {
            Some("{{") => ("}}", open + 2),
            Some("{%") => ("%}", open + 2),
            _ => {
                out.push_str(&rest[..open + 1]);
                rest = &rest[open + 1..];
                continue;
            }
        };
        let Some(len) = rest[start..].find(closing) else {
            break;
        };
        out.push_str(&rest[..start]);
        let code = &rest[start..start + len];
        // `{% raw %}` blocks stay as written.
        if closing == "%}" && code.trim().trim_start_matches('-').trim() == "raw" {
            let after = start + len + 2;
            let end = rest[after..]
                .find("endraw")
                .and_then(|e| rest[after + e..].find("%}").map(|c| after + e + c + 2))
                .unwrap_or(rest.len());
            out.push_str(&rest[start..end]);
            rest = &rest[end..];
            continue;
        }
        let new = rewrite_expr(code);
        changed |= matches!(new, Cow::Owned(_));
        out.push_str(&new);
        out.push_str(closing);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(src)
    }
}

/// Python's `str()` of a value.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        _ => py_repr(v),
    }
}

/// Python's `repr()` of a value.
pub fn py_repr(v: &Value) -> String {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => "None".into(),
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.into(),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        ValueKind::Seq => {
            let items: Vec<String> = v
                .try_iter()
                .map(|i| i.map(|x| py_repr(&x)).collect())
                .unwrap_or_default();
            format!("[{}]", items.join(", "))
        }
        ValueKind::Map => {
            let items: Vec<String> = v
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let val = v.get_item(&k).unwrap_or_default();
                        format!("{}: {}", py_repr(&k), py_repr(&val))
                    })
                    .collect()
                })
                .unwrap_or_default();
            format!("{{{}}}", items.join(", "))
        }
        ValueKind::Number => match (v.as_i64(), f64::try_from(v.clone())) {
            (Some(i), _) if !v.to_string().contains(['.', 'e', 'E']) => i.to_string(),
            (_, Ok(f)) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            (_, Ok(f)) => f.to_string(),
            _ => v.to_string(),
        },
        _ => v.to_string(),
    }
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// One conversion spec: flags, width, precision and type.
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
    prec: Option<usize>,
    conv: char,
}

fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let len = body.chars().count();
    if len >= spec.width {
        return body;
    }
    let fill = spec.width - len;
    if spec.left {
        body + &" ".repeat(fill)
    } else if spec.zero && numeric {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_string()),
            _ => (String::new(), body),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        " ".repeat(fill) + &body
    }
}

fn number(v: &Value, conv: char) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => {
            f64::try_from(v.clone()).map_err(|_| err("a number is required"))
        }
        _ => Err(err(format!(
            "%{conv} format: a real number is required, not {}",
            super::lookups::python_type(v)
        ))),
    }
}

fn one(spec: &Spec, v: &Value) -> Result<String, Error> {
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if spec.plus {
            "+"
        } else if spec.space {
            " "
        } else {
            ""
        }
    };
    let body = match spec.conv {
        's' => {
            let s = py_str(v);
            return Ok(pad(
                spec,
                match spec.prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                },
                false,
            ));
        }
        'r' | 'a' => return Ok(pad(spec, py_repr(v), false)),
        'c' => {
            let c = match (v.as_str(), v.as_i64()) {
                (Some(s), _) if s.chars().count() == 1 => s.to_string(),
                (_, Some(n)) => char::from_u32(n as u32)
                    .map(String::from)
                    .unwrap_or_default(),
                _ => return Err(err("%c requires int or char")),
            };
            return Ok(pad(spec, c, false));
        }
        'd' | 'i' | 'u' => {
            let n = number(v, spec.conv)?.trunc();
            format!("{}{}", sign(n < 0.0), n.abs() as i128)
        }
        'x' | 'X' | 'o' => {
            let n = v.as_i64().ok_or_else(|| {
                err(format!(
                    "%{} format: an integer is required, not {}",
                    spec.conv,
                    super::lookups::python_type(v)
                ))
            })?;
            let digits = match spec.conv {
                'x' => format!("{:x}", n.unsigned_abs()),
                'X' => format!("{:X}", n.unsigned_abs()),
                _ => format!("{:o}", n.unsigned_abs()),
            };
            let prefix = match (spec.alt, spec.conv) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, _) => "0o",
                _ => "",
            };
            format!("{}{prefix}{digits}", sign(n < 0))
        }
        'f' | 'F' => {
            let n = number(v, spec.conv)?;
            format!("{}{:.*}", sign(n < 0.0), spec.prec.unwrap_or(6), n.abs())
        }
        'e' | 'E' => {
            let n = number(v, spec.conv)?;
            let s = format!("{:.*e}", spec.prec.unwrap_or(6), n.abs());
            // Python writes the exponent with a sign and at least two digits.
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            let text = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
            let text = if spec.conv == 'E' {
                text.to_uppercase()
            } else {
                text
            };
            format!("{}{text}", sign(n < 0.0))
        }
        'g' | 'G' => {
            let n = number(v, spec.conv)?;
            let p = spec.prec.unwrap_or(6).max(1);
            let exp = if n == 0.0 {
                0
            } else {
                n.abs().log10().floor() as i32
            };
            let text = if exp < -4 || exp >= p as i32 {
                let s = format!("{:.*e}", p - 1, n.abs());
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                let e: i32 = e.parse().unwrap_or(0);
                format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
            } else {
                let s = format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, n.abs());
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            };
            let text = if spec.conv == 'G' {
                text.to_uppercase()
            } else {
                text
            };
            format!("{}{text}", sign(n < 0.0))
        }
        other => return Err(err(format!("unsupported format character '{other}'"))),
    };
    Ok(pad(spec, body, true))
}

/// Python's `fmt % args`.
pub fn percent(fmt: &str, args: &Value) -> Result<String, Error> {
    let specs = fmt.matches('%').count() - fmt.matches("%%").count() * 2;
    let mapping = args.kind() == ValueKind::Map && fmt.contains("%(");
    // A sequence is the tuple of arguments when the format takes several (or exactly as many).
    let list: Vec<Value> = match args.kind() {
        ValueKind::Seq if !mapping && (specs != 1 || args.len() == Some(1)) => {
            args.try_iter().map(|i| i.collect()).unwrap_or_default()
        }
        _ if mapping => Vec::new(),
        _ => vec![args.clone()],
    };
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next = 0usize;
    let mut i = 0;
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        if c.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut key = None;
        if c.get(i) == Some(&'(') {
            let close = c[i..]
                .iter()
                .position(|x| *x == ')')
                .map(|p| p + i)
                .ok_or_else(|| err("incomplete format key"))?;
            key = Some(c[i + 1..close].iter().collect::<String>());
            i = close + 1;
        }
        let mut spec = Spec {
            left: false,
            zero: false,
            plus: false,
            space: false,
            alt: false,
            width: 0,
            prec: None,
            conv: 's',
        };
        while let Some(f) = c.get(i) {
            match f {
                '-' => spec.left = true,
                '0' => spec.zero = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        let digits = |i: &mut usize| {
            let start = *i;
            while c.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            c[start..*i]
                .iter()
                .collect::<String>()
                .parse::<usize>()
                .ok()
        };
        spec.width = digits(&mut i).unwrap_or(0);
        if c.get(i) == Some(&'.') {
            i += 1;
            spec.prec = Some(digits(&mut i).unwrap_or(0));
        }
        // Length modifiers are accepted and ignored, as in Python.
        while matches!(c.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        spec.conv = *c.get(i).ok_or_else(|| err("incomplete format"))?;
        i += 1;
        let value = match &key {
            Some(k) => args
                .get_item(&Value::from(k.as_str()))
                .ok()
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| err(format!("'{k}'")))?,
            None => {
                let v = list
                    .get(next)
                    .cloned()
                    .ok_or_else(|| err("not enough arguments for format string"))?;
                next += 1;
                v
            }
        };
        out.push_str(&one(&spec, &value)?);
    }
    if !mapping && next < list.len() {
        return Err(err("not all arguments converted during string formatting"));
    }
    Ok(out)
}

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("__py_percent", |fmt: String, args: Value| {
        percent(&fmt, &args)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_after_a_string_literal_is_rewritten() {
        assert_eq!(rewrite_expr("'%s-x' % (d)"), "('%s-x' | __py_percent((d)))");
        assert_eq!(
            rewrite_expr("\"a %s\" % x.y[0] | upper == z"),
            "(\"a %s\" | __py_percent(x.y[0] | upper)) == z"
        );
        assert_eq!(rewrite_expr("n % 2 == 0"), "n % 2 == 0");
        assert_eq!(rewrite_expr("'%d%%' % 5"), "('%d%%' | __py_percent(5))");
        assert_eq!(
            rewrite_template("a {{ '%s' % x }} {% if 'a%s' % y %}b{% endif %} 10 % 3"),
            "a {{ ('%s' | __py_percent(x)) }} {% if ('a%s' | __py_percent(y)) %}b{% endif %} 10 % 3"
        );
        assert_eq!(
            rewrite_template("{% raw %}{{ '%s' % x }}{% endraw %}"),
            "{% raw %}{{ '%s' % x }}{% endraw %}"
        );
    }

    #[test]
    fn formats_as_python() {
        let v = |j: serde_json::Value| super::super::to_jinja(&j);
        assert_eq!(
            percent("%s/%s", &v(serde_json::json!(["a", 1]))).unwrap(),
            "a/1"
        );
        assert_eq!(
            percent("%s", &v(serde_json::json!([1, "b"]))).unwrap(),
            "[1, 'b']"
        );
        assert_eq!(
            percent(
                "%05.2f|%-4d|%x|%r",
                &v(serde_json::json!([1.23456, 7, 255, "q"]))
            )
            .unwrap(),
            "01.23|7   |ff|'q'"
        );
        assert_eq!(
            percent("%(a)s and %(b)d", &v(serde_json::json!({"a": "x", "b": 2}))).unwrap(),
            "x and 2"
        );
        assert_eq!(
            percent("%e", &v(serde_json::json!(12345.678))).unwrap(),
            "1.234568e+04"
        );
        assert_eq!(
            percent("%g %g", &v(serde_json::json!([0.0001, 1234567.0]))).unwrap(),
            "0.0001 1.23457e+06"
        );
        assert!(
            percent("%s %s", &v(serde_json::json!(["x"])))
                .unwrap_err()
                .to_string()
                .contains("not enough")
        );
        assert!(
            percent("%d", &v(serde_json::json!("x")))
                .unwrap_err()
                .to_string()
                .contains("real number is required")
        );
    }
}
