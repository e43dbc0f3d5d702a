//! Module arguments read with ansible-core's type coercion for `str` options: a number or a
//! boolean given where a module takes text becomes that text (`data: 5.0` is `"5.0"`,
//! `version: 1.2` is `"1.2"`, `x: true` is `"True"`), at any depth. Everything else reads as
//! serde_json reads it; the lenient types of [`super::types`] do the rest.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value as Json};

/// A JSON value that deserializes as ansible-core coerces module arguments.
pub struct Lenient(pub Json);

/// Python's `str()` of a scalar.
fn python_str(v: &Json) -> Option<String> {
    match v {
        Json::Bool(true) => Some("True".into()),
        Json::Bool(false) => Some("False".into()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

macro_rules! forward {
    ($($name:ident),*) => {
        $(
            fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$name(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Json::Object(m) => visitor.visit_map(Fields::new(m)),
            Json::Array(a) => visitor.visit_seq(Items(a.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let kind = match &self.0 {
            Json::Object(_) => "dict",
            Json::Array(_) => "list",
            _ => match python_str(&self.0) {
                Some(s) => return visitor.visit_string(s),
                None => return self.0.deserialize_str(visitor),
            },
        };
        // ansible-core's words, which playbooks test for.
        Err(de::Error::custom(format!(
            "is of type {kind} and we were unable to convert to str: '{}' is not a string and conversion is not allowed",
            self.0
        )))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Json::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Json::Array(a) => visitor.visit_seq(Items(a.into_iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Json::Object(m) => visitor.visit_map(Fields::new(m)),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match python_str(&self.0) {
            Some(s) => Json::String(s).deserialize_enum(name, variants, visitor),
            None => self.0.deserialize_enum(name, variants, visitor),
        }
    }

    forward!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for Lenient {
    type Deserializer = Lenient;
    fn into_deserializer(self) -> Lenient {
        self
    }
}

struct Items(std::vec::IntoIter<Json>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Lenient(v)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Fields {
    iter: serde_json::map::IntoIter,
    value: Option<Json>,
}

impl Fields {
    fn new(m: Map<String, Json>) -> Fields {
        Fields {
            iter: m.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(Json::String(k)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Lenient(v)),
            None => Err(de::Error::custom("a value without its key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Args {
        data: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        items: Vec<String>,
        #[serde(default)]
        nested: Option<Inner>,
        #[serde(default)]
        count: Option<i64>,
        #[serde(default)]
        state: Option<State>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        version: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum State {
        Present,
    }

    #[test]
    fn scalars_become_text_where_text_is_taken() {
        let a = Args::deserialize(Lenient(json!({
            "data": 5.0, "name": true, "items": [1, "b", false], "nested": {"version": 1.2},
            "count": 3, "state": "present"
        })))
        .unwrap();
        assert_eq!(a.data, "5.0");
        assert_eq!(a.name.as_deref(), Some("True"));
        assert_eq!(a.items, ["1", "b", "False"]);
        assert_eq!(
            a.nested,
            Some(Inner {
                version: "1.2".into()
            })
        );
        assert_eq!(a.count, Some(3));
        assert_eq!(a.state, Some(State::Present));
        // What is not text stays an error, and unknown arguments are still refused.
        assert!(Args::deserialize(Lenient(json!({"data": [1]}))).is_err());
        assert!(Args::deserialize(Lenient(json!({"data": "x", "bogus": 1}))).is_err());
        assert!(Args::deserialize(Lenient(json!({"data": "x", "count": "many"}))).is_err());
    }
}
