//! JSON Schemas of what the collections hold: the event model (for the queryables of `events`
//! and the bodies of event writes in the OpenAPI document) and, for each data layer, the types
//! its properties have in its file.
//!
//! The event schema is written from the model's field table (`events::FIELDS`), so that a new
//! field, kind or limit reaches the API definition without an edit here. Layer schemas are
//! inferred from the data at start-up, since a GeoJSON file declares no types.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::events::{FIELDS, Field, FieldKind, MAX_ITEM, MAX_LIST};
use crate::layer::{JsonType, Layer};

/// The JSON Schema dialect of the queryables (OGC API - Features Part 3 allows 2019-09 or 2020-12).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schema of one event field, from the field table.
fn field_schema(f: &Field) -> Value {
    let mut schema = match f.kind {
        FieldKind::Id => json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$" }),
        FieldKind::Time => json!({
            "type": "string",
            "examples": ["2020-02-18", "2020-02-18T19:30:00Z", "2020-02-17/2020-02-18"],
        }),
        FieldKind::Text(max) if f.required => json!({ "type": "string", "minLength": 1, "maxLength": max }),
        FieldKind::Text(max) => json!({ "type": "string", "maxLength": max }),
        FieldKind::List => json!({
            "type": "array", "maxItems": MAX_LIST,
            "items": { "type": "string", "maxLength": MAX_ITEM },
        }),
        FieldKind::Count => json!({ "type": ["integer", "null"], "minimum": 0 }),
        FieldKind::Enum(values) => json!({ "type": "string", "enum": values }),
        FieldKind::Timestamp => json!({ "type": "string", "format": "date-time", "readOnly": true }),
    };
    schema["description"] = json!(f.doc);
    schema
}

/// The properties of an event as a client writes them, each with its type and limits.
pub fn event_properties() -> Value {
    Value::Object(FIELDS.iter().filter(|f| !f.server_kept).map(|f| (f.name.to_owned(), field_schema(f))).collect())
}

/// A JSON object's members (for building one object from another in `json!`).
fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The properties the server adds to a stored event.
pub fn event_server_properties() -> Value {
    Value::Object(FIELDS.iter().filter(|f| f.server_kept).map(|f| (f.name.to_owned(), field_schema(f))).collect())
}

/// The queryables of the events collection, from the event model.
pub fn event_queryables(id: &str) -> Value {
    let mut properties = obj(&event_properties());
    properties.extend(obj(&event_server_properties()));
    properties.insert("geometry".into(), json!({ "format": "geometry-point", "x-ogc-role": "primary-geometry" }));
    queryables(id, "Events", properties)
}

/// The queryables of a data layer: each property with the JSON types its values have in the
/// file (`null` included when some feature has it null), and the geometry's types.
pub fn layer_queryables(layer: &Layer, id: &str) -> Value {
    let geometries: BTreeSet<&'static str> = layer.features().iter().map(|f| geometry_format(&f.geometry)).collect();
    let mut properties: Map<String, Value> = layer
        .property_types()
        .into_iter()
        .map(|(k, t)| {
            // An integer among numbers is a number.
            let whole_only = !t.contains(&JsonType::Number);
            let t: Vec<&str> =
                t.into_iter().filter(|t| whole_only || *t != JsonType::Integer).map(JsonType::as_str).collect();
            let ty = match t.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (k, json!({ "type": ty }))
        })
        .collect();
    let format = match geometries.len() {
        1 => geometries.into_iter().next().unwrap_or("geometry-any"),
        _ => "geometry-any",
    };
    properties.insert("geometry".into(), json!({ "format": format, "x-ogc-role": "primary-geometry" }));
    queryables(id, &layer.meta.title, properties)
}

fn queryables(id: &str, title: &str, properties: Map<String, Value>) -> Value {
    json!({
        "$schema": DIALECT,
        "$id": id,
        "type": "object",
        "title": title,
        "properties": properties,
        // Only these properties exist.
        "additionalProperties": false,
    })
}

/// The Part 3 `format` of a geometry type.
fn geometry_format(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "geometry-point",
        geo::Geometry::MultiPoint(_) => "geometry-multipoint",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "geometry-linestring",
        geo::Geometry::MultiLineString(_) => "geometry-multilinestring",
        geo::Geometry::Polygon(_) | geo::Geometry::Rect(_) | geo::Geometry::Triangle(_) => "geometry-polygon",
        geo::Geometry::MultiPolygon(_) => "geometry-multipolygon",
        geo::Geometry::GeometryCollection(_) => "geometry-geometrycollection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventKind, MAX_TITLE};

    #[test]
    fn the_event_schema_names_every_kind_and_its_limits() {
        let p = event_properties();
        assert_eq!(p["kind"]["enum"].as_array().map(Vec::len), Some(EventKind::ALL.len()));
        assert_eq!(p["title"]["maxLength"], MAX_TITLE);
        assert_eq!(p["sources"]["type"], "array");
        assert_eq!(p["sources"]["maxItems"], MAX_LIST);
    }
}
