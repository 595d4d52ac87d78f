//! JSON bodies parsed strictly: an object that names a key twice is refused.
//!
//! RFC 8259 leaves the meaning of a duplicate key open, and parsers differ (serde_json keeps the
//! last, others the first or both), so `{"killed": 3, "killed": 300}` could mean one thing to
//! the desk's tools and another to the store. A write is refused instead, naming the key.
//! serde_json has no such setting; this is its `Value` built by a visitor that checks each
//! object's keys as they arrive.

use super::error::clip;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `text` as JSON, refusing an object with a duplicate key.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let Strict(value) = Strict::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A JSON value without duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let shown = clip(&key);
                return Err(de::Error::custom(format!("the key '{shown}' appears twice in one object")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_parses_as_serde_json_does() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e300, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#,
            "[]",
            "\"\\u00e9\"",
            "-0",
        ] {
            let strict = parse(text).map_err(|e| e.to_string());
            let loose = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
            assert_eq!(strict, loose, "{text}");
        }
        assert!(parse("{} x").is_err(), "trailing characters");
        assert!(parse("[1,]").is_err());
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        for text in [r#"{"killed": 3, "killed": 300}"#, r#"{"p": {"a": 1, "b": 2, "a": 1}}"#, r#"[{"x": 1, "x": 1}]"#] {
            let e = parse(text).map_err(|e| e.to_string());
            assert!(e.as_ref().is_err_and(|e| e.contains("appears twice")), "{text}: {e:?}");
        }
        assert!(parse(r#"{"a": {"k": 1}, "b": {"k": 1}}"#).is_ok(), "the same key in two objects");
    }
}
