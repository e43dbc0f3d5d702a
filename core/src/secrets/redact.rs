//! The one redaction layer: every secret value this process has read is masked wherever text
//! leaves it (events for all printers and callbacks, diffs, errors, logs). Also masked: the
//! value as it appears JSON-escaped and base64-encoded.

use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const MASK: &str = "********";

static PATTERNS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Masks `value` from now on.
pub fn remember(value: &str) {
    if value.chars().count() < super::MIN_LEN {
        return;
    }
    use base64::Engine;
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    let Ok(mut p) = PATTERNS.write() else { return };
    let mut forms = vec![value.to_string(), json, b64];
    // A multi-line secret (a PEM key) also leaks line by line (`stdout_lines`, a diff): each
    // of its lines long enough to be secret is masked on its own too.
    if value.contains('\n') {
        forms.extend(
            value
                .lines()
                .map(str::trim)
                // Lines long enough to be secret material; PEM's armour lines are not.
                .filter(|l| l.chars().count() >= 16 && !l.starts_with("-----"))
                .map(str::to_string),
        );
    }
    for v in forms {
        if !p.contains(&v) {
            p.push(v);
        }
    }
    // Longest first, so a secret containing another is masked whole.
    p.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `s` with every known secret masked.
pub fn redact(s: &str) -> Cow<'_, str> {
    let Ok(p) = PATTERNS.read() else {
        return Cow::Owned(MASK.to_string());
    };
    if p.is_empty() || !p.iter().any(|x| s.contains(x.as_str())) {
        return Cow::Borrowed(s);
    }
    let mut out = s.to_string();
    for x in p.iter() {
        if out.contains(x.as_str()) {
            out = out.replace(x.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// Masks secrets in every string (keys included) of `v`.
pub fn redact_json(v: &mut Json) {
    if PATTERNS.read().map(|p| p.is_empty()).unwrap_or(false) {
        return;
    }
    match v {
        Json::String(s) => {
            if let Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        Json::Array(a) => a.iter_mut().for_each(redact_json),
        Json::Object(m) => {
            let dirty = m.keys().any(|k| matches!(redact(k), Cow::Owned(_)));
            if dirty {
                let old = std::mem::take(m);
                for (k, mut val) in old {
                    redact_json(&mut val);
                    m.insert(redact(&k).into_owned(), val);
                }
            } else {
                m.values_mut().for_each(redact_json);
            }
        }
        _ => {}
    }
}

/// True when no secret was read yet (nothing to mask).
pub fn nothing_to_mask() -> bool {
    PATTERNS.read().map(|p| p.is_empty()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_plain_escaped_and_encoded_forms() {
        remember("s3cr\"et-XYZ");
        assert_eq!(redact("pw=s3cr\"et-XYZ;"), format!("pw={MASK};"));
        assert_eq!(
            redact("{\"pw\":\"s3cr\\\"et-XYZ\"}"),
            format!("{{\"pw\":\"{MASK}\"}}")
        );
        assert_eq!(redact("czNjciJldC1YWVo="), MASK);
        let mut v = json!({"a": ["x s3cr\"et-XYZ y"], "s3cr\"et-XYZ": 1});
        redact_json(&mut v);
        assert_eq!(v, json!({"a": [format!("x {MASK} y")], MASK: 1}));
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        remember("ab");
        assert_eq!(redact("abc"), "abc", "too short to mask");
        // A PEM key registered whole is masked line by line too (stdout_lines).
        let pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n";
        remember(pem);
        let mut lines = json!(pem.lines().collect::<Vec<_>>());
        redact_json(&mut lines);
        assert!(
            !lines.to_string().contains("MIIEvQIBADANBgkq")
                && !lines.to_string().contains("AASCBKcwggSjAgEA"),
            "{lines}"
        );
    }
}
