//! The vector layers of the tiles as TileJSON's `vector_layers` describes them (id, description,
//! zooms, fields and their types): for the vector TileJSON and for archives of vector tiles.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::layer::{Catalog, Layer};

/// Every data layer's entry, then the events' (id `events`), zooms as the layers give them.
pub fn vector_layers(catalog: &Catalog) -> Vec<Value> {
    let mut out: Vec<Value> = catalog.layers().iter().map(describe_layer).collect();
    out.push(json!({
        "id": "events",
        "description": "Event markers from the event store; at every zoom, events in one 48-pixel cell merge into a cluster (cluster = true, with count and casualties). region = true marks a point that only stands for a region.",
        "minzoom": 0,
        "maxzoom": crate::tile::MAX_ZOOM,
        "fields": {
            "id": "String", "kind": "String", "title": "String", "time": "String", "killed": "Number",
            "injured": "Number", "displaced": "Number", "casualties": "Number", "location_precision": "String",
            "region": "Boolean", "cluster": "Boolean", "count": "Number", "first_id": "String",
        },
    }));
    out
}

fn describe_layer(l: &Layer) -> Value {
    let fields: BTreeMap<String, &str> =
        l.property_types().into_iter().filter_map(|(k, t)| Some((k, crate::layer::mvt_field_type(&t)?))).collect();
    json!({
        "id": l.meta.id,
        "description": l.meta.description,
        "minzoom": l.meta.minzoom,
        "maxzoom": l.meta.maxzoom,
        "fields": fields,
    })
}
