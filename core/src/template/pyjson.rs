//! JSON written exactly as Python's `json.dumps` writes it, which is what Ansible's `to_json`
//! and `to_nice_json` produce: `", "`/`": "` separators when compact, non-ASCII escaped,
//! optional indentation and sorted keys.

use serde_json::Value as Json;

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(v: &Json, indent: Option<usize>, level: usize, sort: bool, out: &mut String) {
    let (open_sep, item_sep, close_sep) = match indent {
        Some(n) => (
            format!("\n{}", " ".repeat(n * (level + 1))),
            format!(",\n{}", " ".repeat(n * (level + 1))),
            format!("\n{}", " ".repeat(n * level)),
        ),
        None => (String::new(), ", ".to_string(), String::new()),
    };
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => string(s, out),
        Json::Array(a) if a.is_empty() => out.push_str("[]"),
        Json::Array(a) => {
            out.push('[');
            out.push_str(&open_sep);
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(&item_sep);
                }
                write(x, indent, level + 1, sort, out);
            }
            out.push_str(&close_sep);
            out.push(']');
        }
        Json::Object(m) if m.is_empty() => out.push_str("{}"),
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            out.push('{');
            out.push_str(&open_sep);
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&item_sep);
                }
                string(k, out);
                out.push_str(": ");
                write(&m[k], indent, level + 1, sort, out);
            }
            out.push_str(&close_sep);
            out.push('}');
        }
    }
}

/// `json.dumps(v, indent=indent, sort_keys=sort)`.
pub fn dumps(v: &Json, indent: Option<usize>, sort: bool) -> String {
    let mut out = String::new();
    write(v, indent, 0, sort, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::dumps;
    use serde_json::json;

    #[test]
    fn like_python() {
        let v = json!({"b": [1, 2.5, "é"], "a": {}, "c": null});
        assert_eq!(
            dumps(&v, None, false),
            r#"{"b": [1, 2.5, "\u00e9"], "a": {}, "c": null}"#
        );
        assert_eq!(
            dumps(&v, Some(4), true),
            "{\n    \"a\": {},\n    \"b\": [\n        1,\n        2.5,\n        \"\\u00e9\"\n    ],\n    \"c\": null\n}"
        );
    }
}
