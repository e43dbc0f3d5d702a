//! Lenient argument types, so module arguments read the way Ansible users write them:
//! booleans as `yes`/`no`/`true`/`1`, numbers as strings, lists as comma-separated strings,
//! and file modes as YAML octal integers (`0644`) or strings (`"0644"`, `u=rw,g=r`).

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value as Json;

/// A boolean written any way Ansible accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bool(pub bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::Bool(b) => Ok(Bool(b)),
            Json::Number(n) if n.as_i64() == Some(1) => Ok(Bool(true)),
            Json::Number(n) if n.as_i64() == Some(0) => Ok(Bool(false)),
            Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" | "y" | "t" => Ok(Bool(true)),
                "no" | "false" | "off" | "0" | "n" | "f" | "" => Ok(Bool(false)),
                _ => Err(de::Error::custom(format!(
                    "`{s}` is not a boolean (use true or false)"
                ))),
            },
            other => Err(de::Error::custom(format!("{other} is not a boolean"))),
        }
    }
}

/// An integer, also from a string (`"8080"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(Int)
                .ok_or_else(|| de::Error::custom("not an integer")),
            Json::String(s) => s
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| de::Error::custom(format!("`{s}` is not an integer"))),
            other => Err(de::Error::custom(format!("{other} is not an integer"))),
        }
    }
}

/// A number of seconds (integer or float, also from a string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::Number(n) => n
                .as_f64()
                .map(Seconds)
                .ok_or_else(|| de::Error::custom("not a number")),
            Json::String(s) => s
                .trim()
                .parse()
                .map(Seconds)
                .map_err(|_| de::Error::custom(format!("`{s}` is not a number of seconds"))),
            other => Err(de::Error::custom(format!(
                "{other} is not a number of seconds"
            ))),
        }
    }
}

/// A list, also from one string (`"a,b"` or `"a"`), as Ansible's `type='list'`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List(pub Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let scalar = |v: Json| match v {
            Json::String(s) => Ok(s),
            Json::Number(n) => Ok(n.to_string()),
            Json::Bool(b) => Ok(b.to_string()),
            other => Err(de::Error::custom(format!("{other} is not a string"))),
        };
        match Json::deserialize(d)? {
            Json::Array(items) => items
                .into_iter()
                .map(scalar)
                .collect::<Result<_, _>>()
                .map(List),
            Json::Null => Ok(List::default()),
            Json::String(s) => Ok(List(
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            )),
            other => scalar(other).map(|s| List(vec![s])),
        }
    }
}

/// A string, also from a number or boolean (`owner: 1000`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::String(s) => Ok(Text(s)),
            Json::Number(n) => Ok(Text(n.to_string())),
            Json::Bool(b) => Ok(Text(b.to_string())),
            other => Err(de::Error::custom(format!("{other} is not a string"))),
        }
    }
}

/// A file mode. YAML's `0644` arrives as the integer 420 and means octal 644; a string is used
/// as written (octal digits or a symbolic mode for `chmod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mode(pub String);

impl Mode {
    /// The mode as 4 octal digits, when it is numeric.
    pub fn octal(&self) -> Option<String> {
        let digits = self.0.trim_start_matches("0o");
        u32::from_str_radix(digits, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(|m| format!("{m:04o}"))
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::Number(n) => {
                let v = n
                    .as_u64()
                    .ok_or_else(|| de::Error::custom("a mode must be a positive number"))?;
                if v > 0o7777 {
                    return Err(de::Error::custom(format!(
                        "mode {v} is out of range; quote octal modes (\"0644\")"
                    )));
                }
                Ok(Mode(format!("{v:04o}")))
            }
            Json::String(s) => {
                let s = s.trim().to_string();
                let symbolic = s.chars().all(|c| "ugoa+-=rwxXstST,0123456789".contains(c));
                if s.is_empty() || !symbolic {
                    return Err(de::Error::custom(format!("`{s}` is not a file mode")));
                }
                if s.chars().all(|c| c.is_ascii_digit()) && u32::from_str_radix(&s, 8).is_err() {
                    return Err(de::Error::custom(format!("`{s}` is not an octal mode")));
                }
                Ok(Mode(s))
            }
            other => Err(de::Error::custom(format!("{other} is not a file mode"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_reading() {
        assert_eq!(
            serde_json::from_value::<Bool>(json!("yes")).unwrap(),
            Bool(true)
        );
        assert!(serde_json::from_value::<Bool>(json!("maybe")).is_err());
        assert_eq!(serde_json::from_value::<Int>(json!("80")).unwrap(), Int(80));
        assert_eq!(
            serde_json::from_value::<List>(json!("a, b")).unwrap().0,
            vec!["a", "b"]
        );
        assert_eq!(
            serde_json::from_value::<Mode>(json!(420)).unwrap().0,
            "0644"
        );
        assert_eq!(
            serde_json::from_value::<Mode>(json!("0755"))
                .unwrap()
                .octal()
                .as_deref(),
            Some("0755")
        );
        assert_eq!(
            serde_json::from_value::<Mode>(json!("u+x"))
                .unwrap()
                .octal(),
            None
        );
        assert!(serde_json::from_value::<Mode>(json!("0999")).is_err());
    }
}
