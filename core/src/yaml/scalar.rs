//! Plain-scalar resolution as PyYAML (YAML 1.1) does it, which is what Ansible users write against.

use super::node::NodeKind;

/// Resolves an untagged plain scalar.
pub fn resolve_plain(s: &str) -> NodeKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return NodeKind::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return NodeKind::Bool(false);
        }
        _ => {}
    }
    if let Some(i) = parse_int(s) {
        return NodeKind::Int(i);
    }
    if let Some(f) = parse_float(s) {
        return NodeKind::Float(f);
    }
    NodeKind::Str(s.to_string())
}

/// Resolves a scalar with an explicit core-schema tag (`!!str`, `!!int`, ...).
pub fn resolve_tagged(suffix: &str, s: &str) -> Option<NodeKind> {
    Some(match suffix {
        "str" => NodeKind::Str(s.to_string()),
        "int" => NodeKind::Int(parse_int(s)?),
        "float" => NodeKind::Float(parse_float(s).or_else(|| parse_int(s).map(|i| i as f64))?),
        "bool" => match resolve_plain(s) {
            b @ NodeKind::Bool(_) => b,
            _ => return None,
        },
        "null" => NodeKind::Null,
        // Base64 (line breaks and spaces ignored); JSON has no bytes, so the decoded bytes are
        // text (invalid UTF-8 replaced).
        "binary" => {
            use base64::Engine;
            let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            NodeKind::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => return None,
    })
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let body = body.replace('_', "");
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let v = if let Some(hex) = body.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = body.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = body.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        // YAML 1.1: a leading zero means octal (`mode: 0644` is 420).
        i64::from_str_radix(&body[1..], 8).ok()?
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = s.trim_start_matches(['-', '+']);
    // PyYAML requires a dot (or exponent) and digits: `1.5`, `1e3` is a string in 1.1 but 1.0e3 is not.
    let shaped = body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.contains('.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+' | '_'));
    if !shaped {
        return None;
    }
    s.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        format!("{:?}", resolve_plain(s))
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(show("yes"), "Bool(true)");
        assert_eq!(show("Off"), "Bool(false)");
        assert_eq!(show("0644"), "Int(420)");
        assert_eq!(show("0x1f"), "Int(31)");
        assert_eq!(show("-12"), "Int(-12)");
        assert_eq!(show("1_000"), "Int(1000)");
        assert_eq!(show("1.5"), "Float(1.5)");
        assert_eq!(show("~"), "Null");
        assert_eq!(show("09"), "Str(\"09\")");
        assert_eq!(show("1.2.3"), "Str(\"1.2.3\")");
        assert_eq!(show("web01"), "Str(\"web01\")");
        assert_eq!(show("y"), "Str(\"y\")");
    }
}
