//! `to_yaml` / `to_nice_yaml` text as ansible-core writes it (PyYAML's `dump` with sorted keys):
//! block style with indentless sequences under mappings, `-   ` items when the indent is 4,
//! flow style for collections of scalars in `to_yaml` (`default_flow_style=None`), plain
//! scalars only where PyYAML would write them plain, single quotes otherwise, long lines
//! folded at spaces past 80 columns. Files templated with these filters come out byte-identical
//! to the ones ansible-core writes, so switching tools changes nothing on the hosts.

use serde_json::Value as Json;

const WIDTH: usize = 80;

/// Dumps `v`; `indent` 2 for `to_yaml`, 4 for `to_nice_yaml`; `flow_leaves` writes collections
/// holding only scalars in flow style.
pub fn dump(v: &Json, indent: usize, flow_leaves: bool) -> String {
    let e = Emitter {
        step: indent.max(2),
        flow_leaves,
    };
    let mut out = String::new();
    match v {
        Json::Object(m) if !m.is_empty() && !e.flow(v) => e.mapping(v, 0, &mut out),
        Json::Array(a) if !a.is_empty() && !e.flow(v) => e.sequence(v, 0, &mut out),
        Json::Object(_) | Json::Array(_) => {
            out.push_str(&flow(v));
            out.push('\n');
        }
        scalar => {
            out.push_str(&e.scalar(scalar, 0, 0));
            // PyYAML ends a document holding one plain scalar with an explicit end marker.
            out.push_str("\n...\n");
        }
    }
    out
}

struct Emitter {
    step: usize,
    flow_leaves: bool,
}

fn is_collection(v: &Json) -> bool {
    matches!(v, Json::Object(_) | Json::Array(_))
}

impl Emitter {
    /// Whether `v` is written inline: empty collections always, collections of scalars when
    /// `flow_leaves`.
    fn flow(&self, v: &Json) -> bool {
        match v {
            Json::Object(m) => m.is_empty() || (self.flow_leaves && !m.values().any(is_collection)),
            Json::Array(a) => a.is_empty() || (self.flow_leaves && !a.iter().any(is_collection)),
            _ => false,
        }
    }

    fn mapping(&self, v: &Json, at: usize, out: &mut String) {
        let Json::Object(m) = v else { return };
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for (i, k) in keys.into_iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(at));
            }
            let val = &m[k];
            out.push_str(&self.scalar(&Json::String(k.clone()), at, at));
            out.push(':');
            self.value_after(val, at, true, out);
        }
    }

    fn sequence(&self, v: &Json, at: usize, out: &mut String) {
        let Json::Array(a) = v else { return };
        for (i, item) in a.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(at));
            }
            out.push('-');
            if is_collection(item) && !self.flow(item) {
                // The item's own block starts on the dash's line, one indent step in.
                out.push_str(&" ".repeat(self.step - 1));
                match item {
                    Json::Object(_) => self.mapping(item, at + self.step, out),
                    _ => self.sequence(item, at + self.step, out),
                }
            } else {
                self.value_after(item, at, false, out);
            }
        }
    }

    /// What follows `key:` or `-`: an inline scalar or flow collection, or a nested block.
    fn value_after(&self, v: &Json, at: usize, in_mapping: bool, out: &mut String) {
        if is_collection(v) && !self.flow(v) {
            out.push('\n');
            match v {
                Json::Object(_) => {
                    out.push_str(&" ".repeat(at + self.step));
                    self.mapping(v, at + self.step, out);
                }
                // Sequences under a mapping key are not indented (PyYAML's indentless style).
                _ => {
                    let inner = if in_mapping { at } else { at + self.step };
                    out.push_str(&" ".repeat(inner));
                    self.sequence(v, inner, out);
                }
            }
            return;
        }
        out.push(' ');
        let col = out.rsplit('\n').next().map(str::len).unwrap_or(0);
        if is_collection(v) {
            out.push_str(&flow(v));
        } else {
            out.push_str(&self.scalar(v, at + self.step, col));
        }
        out.push('\n');
    }

    /// A scalar starting at column `col`; continuation lines are indented to `cont`.
    fn scalar(&self, v: &Json, cont: usize, col: usize) -> String {
        match v {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => number(n),
            Json::String(s) => {
                if needs_double(s) {
                    return serde_json::to_string(s).unwrap_or_default();
                }
                if plain_ok(s, false) {
                    fold(s, cont, col, false)
                } else {
                    fold(s, cont, col, true)
                }
            }
            other => flow(other),
        }
    }
}

/// A float as Python's repr writes it, an integer as it is.
fn number(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) if f.is_finite() => {
            let s = format!("{f:?}");
            if s.contains('e') {
                // YAML floats need the dot: 1e+20 → 1.0e+20.
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let m = if m.contains('.') {
                    m.to_string()
                } else {
                    format!("{m}.0")
                };
                let e = if e.starts_with('-') {
                    e.to_string()
                } else {
                    format!("+{e}")
                };
                format!("{m}e{e}")
            } else {
                s
            }
        }
        _ => ".nan".into(),
    }
}

/// Flow style: `[1, 2]`, `{a: 1}` (keys sorted).
fn flow(v: &Json) -> String {
    match v {
        Json::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}: {}", flow(&Json::String(k.clone())), flow(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Json::String(s) if needs_double(s) => serde_json::to_string(s).unwrap_or_default(),
        Json::String(s) if plain_ok(s, true) => s.clone(),
        Json::String(s) => format!("'{}'", s.replace('\'', "''")),
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => number(n),
    }
}

/// Characters PyYAML will not write in single quotes (it uses double quotes and escapes).
fn needs_double(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\n') || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}'
    }) || s.starts_with('\n')
        || s.ends_with(' ') && s.contains('\n')
}

/// PyYAML's rules for a plain scalar: nothing that reads as another type, no indicator at the
/// start, no `: ` or ` #`, no leading or trailing space, no line breaks.
fn plain_ok(s: &str, in_flow: bool) -> bool {
    if s.is_empty() || s != s.trim() || s.contains('\n') || resolves_to_other_type(s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "-?:".contains(first) && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if in_flow && s.chars().any(|c| ",[]{}".contains(c)) {
        return false;
    }
    !(s.starts_with("---") || s.starts_with("..."))
}

/// Strings YAML 1.1 would read back as null, a boolean, a number or a timestamp.
fn resolves_to_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE", "yes",
        "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf",
        ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN", "=", "<<",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let t = s.replace('_', "");
    let t = t.strip_prefix(['+', '-']).unwrap_or(&t);
    let numeric = !t.is_empty()
        && (t.parse::<f64>().is_ok()
            || t.strip_prefix("0x")
                .is_some_and(|h| u64::from_str_radix(h, 16).is_ok())
            || t.strip_prefix("0o")
                .is_some_and(|o| u64::from_str_radix(o, 8).is_ok())
            || t.strip_prefix("0b")
                .is_some_and(|b| u64::from_str_radix(b, 2).is_ok())
            || t.split(':')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                && t.contains(':'));
    let date = s.len() >= 8
        && s.as_bytes().get(4) == Some(&b'-')
        && s[..4].chars().all(|c| c.is_ascii_digit());
    numeric || date
}

/// A plain or single-quoted scalar, folded at spaces once a line passes 80 columns; inside
/// single quotes a line break is written as a blank line.
fn fold(s: &str, cont: usize, col: usize, quoted: bool) -> String {
    let pad = " ".repeat(cont);
    let mut out = String::new();
    let mut column = col;
    if quoted {
        out.push('\'');
        column += 1;
    }
    let text = if quoted {
        s.replace('\'', "''")
    } else {
        s.to_string()
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for (li, line) in lines.iter().enumerate() {
        if li > 0 {
            out.push_str("\n\n");
            if !(li == lines.len() - 1 && line.is_empty()) || quoted {
                out.push_str(&pad);
            }
            column = cont;
        }
        let words: Vec<&str> = line.split(' ').collect();
        for (wi, w) in words.iter().enumerate() {
            if wi > 0 {
                // A break replaces one space when the line is already past the width and
                // neither neighbour is a space.
                let next_is_word = !w.is_empty();
                let prev_is_word = !words[wi - 1].is_empty();
                if column > WIDTH && next_is_word && prev_is_word {
                    out.push('\n');
                    out.push_str(&pad);
                    column = cont;
                } else {
                    out.push(' ');
                    column += 1;
                }
            }
            out.push_str(w);
            column += w.chars().count();
        }
    }
    if quoted {
        out.push('\'');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pyyaml_layout() {
        let d = json!({"b": [1, "x", {"k": "v", "j": [1, 2]}, [3, 4]], "a": {"c": "x", "d": {"e": null}},
            "e": [], "f": {}, "s": "it's: a \"q\"", "n": "123", "t": "true", "em": "", "fl": 1.5, "bo": true});
        assert_eq!(
            dump(&d, 2, true),
            "a:\n  c: x\n  d: {e: null}\nb:\n- 1\n- x\n- j: [1, 2]\n  k: v\n- [3, 4]\nbo: true\ne: []\nem: ''\nf: {}\nfl: 1.5\nn: '123'\ns: 'it''s: a \"q\"'\nt: 'true'\n"
        );
        assert_eq!(
            dump(&d, 4, false),
            "a:\n    c: x\n    d:\n        e: null\nb:\n- 1\n- x\n-   j:\n    - 1\n    - 2\n    k: v\n-   - 3\n    - 4\nbo: true\ne: []\nem: ''\nf: {}\nfl: 1.5\nn: '123'\ns: 'it''s: a \"q\"'\nt: 'true'\n"
        );
        assert_eq!(dump(&json!("plain"), 2, true), "plain\n...\n");
        assert_eq!(
            dump(&json!({"m": "multi\nline\n", "x": [1]}), 2, true),
            "m: 'multi\n\n  line\n\n  '\nx: [1]\n"
        );
        // Long text folds at a space once past 80 columns (PyYAML's width).
        let long = "word ".repeat(30);
        assert_eq!(
            dump(&json!({"a": long}), 2, false),
            format!(
                "a: '{}\n  {}'\n",
                "word ".repeat(16).trim_end(),
                "word ".repeat(14)
            )
        );
        let long = format!("{}end", "word ".repeat(30));
        assert_eq!(
            dump(&json!({"a": {"b": long}}), 4, false),
            format!(
                "a:\n    b: {}\n        {}\n        end\n",
                "word ".repeat(15).trim_end(),
                "word ".repeat(15).trim_end()
            )
        );
    }
}
