//! Unsafe text: a string that must never be rendered, wherever it sits in operator-written
//! variables (`!unsafe` in YAML, or data wrapped on its way into an operator layer). In JSON it
//! is the one-key object `{"__ansible_unsafe": "text"}`, the form ansible-core's own JSON
//! encoder gives unsafe values; rendering unwraps it to the plain string without looking inside.

use serde_json::{Map, Value as Json};

/// The key of the marker object.
pub const UNSAFE_KEY: &str = "__ansible_unsafe";

/// `text` marked as never to be rendered.
pub fn mark(text: impl Into<String>) -> Json {
    let mut m = Map::new();
    m.insert(UNSAFE_KEY.to_string(), Json::String(text.into()));
    Json::Object(m)
}

/// True when `m` is a marker object.
pub fn is_marker(m: &Map<String, Json>) -> bool {
    m.len() == 1 && matches!(m.get(UNSAFE_KEY), Some(Json::String(_)))
}

/// The text inside a marker object.
pub fn unwrap(m: &Map<String, Json>) -> Option<&str> {
    if m.len() == 1 {
        m.get(UNSAFE_KEY).and_then(Json::as_str)
    } else {
        None
    }
}

/// `v` with every string value that holds template syntax marked unsafe, recursively: for data
/// that must travel through an operator-written layer (an inventory plugin's variables) without
/// ever being rendered. Plain strings stay plain, so readers of raw values (`ansible_host`) see
/// them unchanged. Keys cannot be marked: callers refuse data whose keys hold template syntax
/// ([`template_key`]).
pub fn mark_templates(v: Json) -> Json {
    match v {
        Json::String(s) if super::Templar::is_template(&s) => mark(s),
        Json::Array(a) => Json::Array(a.into_iter().map(mark_templates).collect()),
        Json::Object(m) if is_marker(&m) => Json::Object(m),
        Json::Object(m) => {
            Json::Object(m.into_iter().map(|(k, v)| (k, mark_templates(v))).collect())
        }
        other => other,
    }
}

/// `v` with every marker replaced by its plain text (nothing is rendered).
pub fn strip(v: &Json) -> Json {
    match v {
        Json::Object(m) => match unwrap(m) {
            Some(t) => Json::String(t.to_string()),
            None => Json::Object(m.iter().map(|(k, v)| (k.clone(), strip(v))).collect()),
        },
        Json::Array(a) => Json::Array(a.iter().map(strip).collect()),
        other => other.clone(),
    }
}

/// The first key in `v` (at any depth) that holds template syntax.
pub fn template_key(v: &Json) -> Option<&str> {
    match v {
        Json::Object(m) => m.iter().find_map(|(k, v)| {
            if super::Templar::is_template(k) {
                Some(k.as_str())
            } else {
                template_key(v)
            }
        }),
        Json::Array(a) => a.iter().find_map(template_key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_template_text_is_marked_and_keys_are_found() {
        let v = json!({"ansible_host": "10.0.0.1", "x": ["{{ lookup('pipe', 'id') }}", 3]});
        assert_eq!(
            mark_templates(v.clone()),
            json!({"ansible_host": "10.0.0.1", "x": [{"__ansible_unsafe": "{{ lookup('pipe', 'id') }}"}, 3]})
        );
        assert_eq!(strip(&mark_templates(v.clone())), v);
        assert_eq!(template_key(&json!({"a": {"{{ k }}": 1}})), Some("{{ k }}"));
        assert_eq!(template_key(&v), None);
    }
}
