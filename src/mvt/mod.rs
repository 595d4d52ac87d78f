//! Vector tiles (Mapbox Vector Tile 2.1): clipping, simplification and encoding, synchronous and
//! free of any HTTP type.
//!
//! A tile holds one MVT layer per data layer visible at its zoom, sliced on the fly from the
//! layer's R-tree (only features whose box meets the buffered tile are touched), plus an
//! `events` layer with the same server-side clusters as the overlay tiles. Encoding uses prost
//! over hand-written `vector_tile.proto` structs.

mod describe;
mod geometry;
mod labels;
pub mod proto;
mod sprite;
mod style;
mod text_style;

pub use describe::vector_layers;
pub use geometry::{BUFFER, EXTENT, Frame, TOLERANCE, area2};
pub use labels::{LABELS, Measure, labels_layer};
pub use sprite::{EventLegend, event_icon, layer_legend, sprite_entries};
pub use style::maplibre_style;
pub use text_style::{LABEL_BOX, LABEL_BOX_PX, font_stack, name_field};

use std::collections::HashMap;

use prost::Message;
use serde_json::Value as Json;

use crate::events::{FIELDS, LocationPrecision, Marker};
use crate::layer::Layer;
use crate::tile::TileCoord;

/// Collects the features of one MVT layer, sharing keys and values.
struct LayerBuilder {
    layer: proto::Layer,
    keys: HashMap<String, u32>,
    values: HashMap<ValueKey, u32>,
}

#[derive(PartialEq, Eq, Hash)]
enum ValueKey {
    Str(String),
    Int(i64),
    Uint(u64),
    Double(u64),
    Bool(bool),
}

impl LayerBuilder {
    fn new(name: &str) -> Self {
        Self {
            layer: proto::Layer {
                version: 2,
                name: name.to_owned(),
                features: Vec::new(),
                keys: Vec::new(),
                values: Vec::new(),
                extent: Some(EXTENT),
            },
            keys: HashMap::new(),
            values: HashMap::new(),
        }
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.keys.get(k) {
            return i;
        }
        let i = self.layer.keys.len() as u32;
        self.layer.keys.push(k.to_owned());
        self.keys.insert(k.to_owned(), i);
        i
    }

    fn value(&mut self, v: &Json) -> Option<u32> {
        let (key, value) = match v {
            Json::Null => return None,
            Json::Bool(b) => (ValueKey::Bool(*b), proto::Value { bool_value: Some(*b), ..Default::default() }),
            Json::Number(n) => {
                if let Some(u) = n.as_u64() {
                    (ValueKey::Uint(u), proto::Value { uint_value: Some(u), ..Default::default() })
                } else if let Some(i) = n.as_i64() {
                    (ValueKey::Int(i), proto::Value { sint_value: Some(i), ..Default::default() })
                } else {
                    let f = n.as_f64().unwrap_or(0.0);
                    (ValueKey::Double(f.to_bits()), proto::Value { double_value: Some(f), ..Default::default() })
                }
            }
            Json::String(s) => {
                (ValueKey::Str(s.clone()), proto::Value { string_value: Some(s.clone()), ..Default::default() })
            }
            // MVT values are scalars: arrays and objects travel as their JSON text.
            other => {
                let s = other.to_string();
                (ValueKey::Str(s.clone()), proto::Value { string_value: Some(s), ..Default::default() })
            }
        };
        if let Some(&i) = self.values.get(&key) {
            return Some(i);
        }
        let i = self.layer.values.len() as u32;
        self.layer.values.push(value);
        self.values.insert(key, i);
        Some(i)
    }

    fn push<'a>(
        &mut self,
        id: Option<u64>,
        geom: (proto::GeomType, Vec<u32>),
        props: impl IntoIterator<Item = (&'a str, Json)>,
    ) {
        let mut tags = Vec::new();
        for (k, v) in props {
            if let Some(vi) = self.value(&v) {
                tags.push(self.key(k));
                tags.push(vi);
            }
        }
        self.layer.features.push(proto::Feature { id, tags, r#type: Some(geom.0 as i32), geometry: geom.1 });
    }
}

/// A feature's MVT id: its id when that is a non-negative integer, else its index in the layer
/// plus one (the `id` property, when present, keeps the textual id).
fn feature_id(id: &Json, index: usize) -> u64 {
    id.as_u64().unwrap_or(index as u64 + 1)
}

/// Slices the data layers visible at the tile's zoom, each feature with its properties, and
/// `held_by` (the id of the layer whose feature stands for its place at this zoom: a Natural
/// Earth city on a place of the report) on a point that the raster tiles leave out for another
/// of its place. Layers with no feature in the tile are
/// left out, and so is a layer kept out of a box (`not_within`) that holds the whole tile with
/// its buffer: a vector style cannot cut a layer by a box, so the world's 3 km coasts would show
/// under the detailed ones there. (Tiles across the box's edge still carry it whole.)
pub fn data_layers(layers: &[&Layer], tile: TileCoord) -> Vec<proto::Layer> {
    let frame = Frame::new(tile);
    let margin = f64::from(BUFFER) / (tile.world_tiles() * f64::from(EXTENT));
    let rect = tile.bounds().expand(margin);
    let holds = |b: crate::tile::WorldRect| {
        b.min.x <= rect.min.x && b.min.y <= rect.min.y && b.max.x >= rect.max.x && b.max.y >= rect.max.y
    };
    layers
        .iter()
        .filter(|l| l.visible_at(tile.z()) && !l.not_within().is_some_and(holds))
        .filter_map(|l| {
            let mut b = LayerBuilder::new(&l.meta.id);
            for i in l.query(&rect) {
                let f = &l.features()[i];
                if let Some(geom) = frame.encode(l.shape_at(i, tile.z())) {
                    // A place that a more important feature holds at this zoom (see `labels`):
                    // the raster tiles leave it out, and the style too.
                    let held = crate::layer::held_by(layers, l, i, tile.z())
                        .map(|h| ("held_by", Json::from(h.meta.id.as_str())));
                    let props = f.properties.iter().map(|(k, v)| (k.as_str(), v.clone())).chain(held);
                    b.push(Some(feature_id(&f.id, i)), geom, props);
                }
            }
            (!b.layer.features.is_empty()).then_some(b.layer)
        })
        .collect()
}

/// The `events` layer from clustered markers: single events with their fields, clusters with
/// `cluster = true`, `count` and `casualties`, region-precision events (one, or a cluster of
/// them) with `region = true` (to be drawn as vague areas).
pub fn events_layer(markers: &[Marker], tile: TileCoord) -> Option<proto::Layer> {
    let frame = Frame::new(tile);
    let mut b = LayerBuilder::new("events");
    for (i, m) in markers.iter().enumerate() {
        let Some(geom) = frame.encode(&crate::geom::Shape::Points(vec![m.at()])) else { continue };
        match m {
            Marker::Single(e) | Marker::Region(e) => {
                let tiled = FIELDS.iter().filter(|f| f.in_tiles).filter_map(|f| Some((f.name, e.field(f.name)?)));
                let derived = [
                    ("casualties", Json::from(e.input.casualties())),
                    ("region", Json::from(e.input.location_precision == LocationPrecision::Region)),
                    ("cluster", Json::from(false)),
                    ("count", Json::from(1)),
                ];
                b.push(Some(i as u64 + 1), geom, tiled.chain(derived));
            }
            Marker::Cluster { count, casualties, ids, region, .. } => {
                let props = [
                    ("cluster", Json::from(true)),
                    ("region", Json::from(*region)),
                    ("count", Json::from(*count)),
                    ("casualties", Json::from(*casualties)),
                    ("first_id", Json::from(ids.first().cloned().unwrap_or_default())),
                ];
                b.push(Some(i as u64 + 1), geom, props);
            }
        }
    }
    (!b.layer.features.is_empty()).then_some(b.layer)
}

/// The fields of the `events` layer and their MVT types: the event fields tiles carry
/// ([`FIELDS`] with `in_tiles`) and the ones the layer adds (a cluster's count, casualties and
/// first event).
pub fn events_layer_fields() -> Vec<(&'static str, &'static str)> {
    let derived = [
        ("casualties", "Number"),
        ("region", "Boolean"),
        ("cluster", "Boolean"),
        ("count", "Number"),
        ("first_id", "String"),
    ];
    FIELDS.iter().filter(|f| f.in_tiles).map(|f| (f.name, f.kind.mvt_type())).chain(derived).collect()
}

/// Encodes layers as a tile; an empty list gives an empty byte string.
pub fn encode(layers: Vec<proto::Layer>) -> Vec<u8> {
    if layers.is_empty() {
        return Vec::new();
    }
    proto::Tile { layers }.encode_to_vec()
}
