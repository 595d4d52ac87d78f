//! JSON Schemas of what the collections hold: the event model (for the queryables of `events`
//! and the bodies of event writes in the OpenAPI document) and, for each data layer, the types
//! its properties have in its file.
//!
//! The event schema is written from the model's own constants and enumerations, so that a new
//! kind or a changed limit reaches the API definition without an edit here. Layer schemas are
//! inferred from the data at start-up, since a GeoJSON file declares no types.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::events::{DatePrecision, EventKind, LocationPrecision, MAX_ITEM, MAX_LIST, MAX_TEXT, MAX_TITLE};
use crate::layer::{JsonType, Layer};

/// The JSON Schema dialect of the queryables (OGC API - Features Part 3 allows 2019-09 or 2020-12).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|&v| name(v)).collect()
}

/// The properties of an event as a client writes them, each with its type and limits.
pub fn event_properties() -> Value {
    let count = json!({ "type": ["integer", "null"], "minimum": 0, "description": "null when not known" });
    let list = json!({
        "type": "array", "maxItems": MAX_LIST,
        "items": { "type": "string", "maxLength": MAX_ITEM },
    });
    let mut sources = list.clone();
    sources["description"] = json!("URLs or citations");
    json!({
        "time": {
            "type": "string",
            "description": "An RFC 3339 date (2020-02-18, its whole UTC day) or date-time, or an ISO 8601 interval start/end with both ends",
            "examples": ["2020-02-18", "2020-02-18T19:30:00Z", "2020-02-17/2020-02-18"],
        },
        "kind": { "type": "string", "enum": names(EventKind::ALL, EventKind::as_str) },
        "title": { "type": "string", "minLength": 1, "maxLength": MAX_TITLE },
        "title_ar": { "type": "string", "maxLength": MAX_TITLE, "description": "the title in Arabic" },
        "description": { "type": "string", "maxLength": MAX_TEXT },
        "actors": list.clone(),
        "sources": sources,
        "killed": count.clone(),
        "injured": count.clone(),
        "displaced": count,
        "location_precision": {
            "type": "string",
            "enum": names(LocationPrecision::ALL, LocationPrecision::as_str),
            "description": "region: the point only stands for somewhere in the region",
        },
        "date_precision": { "type": "string", "enum": names(DatePrecision::ALL, DatePrecision::as_str) },
        "id": {
            "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$",
            "description": "chosen by the client, else a UUID made by the server",
        },
    })
}

/// A JSON object's members (for building one object from another in `json!`).
fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The properties the server adds to a stored event.
pub fn event_server_properties() -> Value {
    json!({
        "created": { "type": "string", "format": "date-time", "readOnly": true },
        "updated": { "type": "string", "format": "date-time", "readOnly": true },
    })
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

    #[test]
    fn the_event_schema_names_every_kind_and_its_limits() {
        let p = event_properties();
        assert_eq!(p["kind"]["enum"].as_array().map(Vec::len), Some(EventKind::ALL.len()));
        assert_eq!(p["title"]["maxLength"], MAX_TITLE);
        assert_eq!(p["sources"]["type"], "array");
        assert_eq!(p["sources"]["maxItems"], MAX_LIST);
    }
}
