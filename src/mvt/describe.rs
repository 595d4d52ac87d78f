//! The vector layers of the tiles as TileJSON's `vector_layers` describes them (id, description,
//! zooms, fields and their types): for the vector TileJSON and for archives of vector tiles, so
//! that both say the same.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::events::CELL_PX;
use crate::layer::{Catalog, Layer};

/// Every data layer's entry, then the events' (id `events`) and the labels' (id
/// [`super::LABELS`]), zooms as the layers give them.
pub fn vector_layers(catalog: &Catalog) -> Vec<Value> {
    let mut out: Vec<Value> = catalog.layers().iter().map(describe_layer).collect();
    let fields: serde_json::Map<String, Value> =
        super::events_layer_fields().into_iter().map(|(name, ty)| (name.to_owned(), json!(ty))).collect();
    out.push(json!({
        "id": "events",
        "description": format!("Event markers from the event store; at every zoom, events in one {CELL_PX}-pixel cell merge into a cluster (cluster = true, with count and casualties). region = true marks a point that only stands for a region."),
        "minzoom": 0,
        "maxzoom": crate::tile::MAX_ZOOM,
        "fields": fields,
    }));
    out.push(json!({
        "id": super::LABELS,
        "description": "A point for each place or area the raster tiles name at this zoom, one per place: name and name_ar (Latin-script and Arabic, as drawn), layer (whose label settings draw it), of (the layer of its symbol), sort (the order names are placed in, lower first), symbol_px (radius of the symbol the name keeps clear of); areas have area = true and fits_en, fits_ar, fits_both (whether that name fits the area). A point without a name marks a place drawn but not named at this zoom.",
        "minzoom": 0,
        "maxzoom": crate::tile::MAX_ZOOM,
        "fields": {
            "layer": "String", "of": "String", "name": "String", "name_ar": "String", "sort": "Number",
            "symbol_px": "Number", "area": "Boolean", "fits_en": "Boolean", "fits_ar": "Boolean", "fits_both": "Boolean",
        },
    }));
    out
}

fn describe_layer(l: &Layer) -> Value {
    let mut fields: BTreeMap<String, &str> =
        l.property_types().into_iter().filter_map(|(k, t)| Some((k, crate::layer::mvt_field_type(&t)?))).collect();
    // A feature that another feature of its place may stand for carries `held_by` (see `mvt::data_layers`).
    let holdable = (0..l.features().len())
        .any(|i| l.place(i).is_some_and(|p| p.first().is_some_and(|f| f.layer != l.meta.id || f.feature != i)));
    if holdable {
        fields.insert("held_by".into(), "String");
    }
    json!({
        "id": l.meta.id,
        "description": l.meta.description,
        "minzoom": l.meta.minzoom,
        "maxzoom": l.meta.maxzoom,
        "fields": fields,
    })
}
