//! What kinds of values each property of a layer holds, read from the data once: the vector
//! TileJSON's `fields` and the queryables of OGC API - Features are both views of it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Layer;

/// The JSON type of a property value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer,
    /// Any other number.
    Number,
    /// Text.
    String,
    /// A list.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// The type of a value.
    pub fn of(v: &Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::Integer,
            Value::Number(_) => Self::Number,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }

    /// Its name in JSON Schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::String => "string",
            Self::Array => "array",
            Self::Object => "object",
        }
    }
}

/// The types a property's values have across a layer.
pub type PropertyTypes = BTreeMap<String, BTreeSet<JsonType>>;

impl Layer {
    /// Every property of the layer's features, with the JSON types of its values.
    pub fn property_types(&self) -> PropertyTypes {
        let mut types = PropertyTypes::new();
        for f in self.features() {
            for (k, v) in &f.properties {
                types.entry(k.clone()).or_default().insert(JsonType::of(v));
            }
        }
        types
    }
}

/// The Mapbox Vector Tile field type (TileJSON `vector_layers`) for a property with these
/// types: `Boolean` or `Number` when every non-null value is one, else `String` (lists and
/// objects travel as their JSON text); `None` when every value is null, since MVT leaves nulls out.
pub fn mvt_field_type(types: &BTreeSet<JsonType>) -> Option<&'static str> {
    let mut present = types.iter().filter(|t| **t != JsonType::Null).peekable();
    present.peek()?;
    let all = |f: fn(&JsonType) -> bool| types.iter().filter(|t| **t != JsonType::Null).all(f);
    Some(if all(|t| *t == JsonType::Boolean) {
        "Boolean"
    } else if all(|t| matches!(t, JsonType::Integer | JsonType::Number)) {
        "Number"
    } else {
        "String"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mvt_types_follow_the_values() {
        let set = |t: &[JsonType]| t.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(mvt_field_type(&set(&[JsonType::Integer, JsonType::Number, JsonType::Null])), Some("Number"));
        assert_eq!(mvt_field_type(&set(&[JsonType::Boolean])), Some("Boolean"));
        assert_eq!(mvt_field_type(&set(&[JsonType::Boolean, JsonType::Integer])), Some("String"));
        assert_eq!(mvt_field_type(&set(&[JsonType::Array])), Some("String"));
        assert_eq!(mvt_field_type(&set(&[JsonType::Null])), None);
    }
}
