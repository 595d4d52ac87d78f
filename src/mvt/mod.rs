//! Vector tiles (Mapbox Vector Tile 2.1): clipping, simplification and encoding, synchronous and
//! free of any HTTP type.
//!
//! A tile holds one MVT layer per data layer visible at its zoom, sliced on the fly from the
//! layer's R-tree (only features whose box meets the buffered tile are touched), plus an
//! `events` layer with the same server-side clusters as the overlay tiles. Each layer's
//! properties are numbered once for the whole layer ([`LayerTags`]); features are written
//! straight into protobuf bytes (`write`), the bytes prost would give for the structs of
//! [`proto`].

mod describe;
mod geometry;
mod labels;
mod prepared;
pub mod proto;
mod sprite;
mod style;
mod tags;
mod text_style;
mod write;

pub use describe::vector_layers;
pub use geometry::{BUFFER, Buffers, EXTENT, Frame, TOLERANCE, area2};
pub use labels::{LABELS, Measure, labels_layer};
pub use sprite::{EventLegend, event_icon, layer_legend, sprite_entries};
pub use style::maplibre_style;
pub use tags::LayerTags;
pub use text_style::{LABEL_BOX, LABEL_BOX_PX, font_stack, name_field};

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value as Json;

use crate::events::{FIELDS, LocationPrecision, Marker};
use crate::layer::Layer;
use crate::tile::TileCoord;
use prepared::{Kind, Prepared};
use tags::{Renumber, ValueKey, value_key};

/// One layer of a vector tile, encoded: the `Layer` message with its key and length, ready to
/// be laid in a tile by [`encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedLayer(Vec<u8>);

/// Buffers a thread keeps from tile to tile.
#[derive(Default)]
struct Scratch {
    geometry: Vec<u32>,
    tags: Vec<u32>,
    features: Vec<u8>,
    buffers: Buffers,
    renumber: Renumber,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
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
///
/// Each feature's tags come from the layer's [`LayerTags`], made on the first tile of the layer
/// and renumbered for this tile; its geometry and fields go straight into the layer's bytes.
pub fn data_layers(layers: &[&Layer], tile: TileCoord) -> Vec<EncodedLayer> {
    let (frame, z) = (Frame::new(tile), tile.z());
    let margin = f64::from(BUFFER) / (tile.world_tiles() * f64::from(EXTENT));
    let rect = tile.bounds().expand(margin);
    let holds = |b: crate::tile::WorldRect| {
        b.min.x <= rect.min.x && b.min.y <= rect.min.y && b.max.x >= rect.max.x && b.max.y >= rect.max.y
    };
    let mut s = SCRATCH.take();
    let out = layers
        .iter()
        .filter(|l| l.visible_at(z) && !l.not_within().is_some_and(holds))
        .filter_map(|l| {
            let hits = l.query(&rect);
            if hits.is_empty() {
                return None;
            }
            let made;
            let prep = match l.derived(|_| Prepared::new(l)) {
                Some(kept) => kept,
                None => {
                    made = Prepared::new(l);
                    &made
                }
            };
            let table = &prep.tags;
            let Scratch { geometry, tags, features, buffers, renumber } = &mut s;
            renumber.begin(table.counts());
            features.clear();
            for i in hits {
                let kind = match prep.kinds[i] {
                    Kind::Points => frame.points_into(prep.points(i), geometry, &mut buffers.grid),
                    Kind::Polygons => match prep.valid(l, z, i) {
                        Some(v) => frame
                            .valid_into(v, frame.holds(&prep.bounds[i]), geometry, buffers)
                            .unwrap_or_else(|| frame.encode_into(l.shape_at(i, z), geometry, buffers)),
                        None => frame.encode_into(l.shape_at(i, z), geometry, buffers),
                    },
                    Kind::Lines => frame.encode_into(l.shape_at(i, z), geometry, buffers),
                };
                let Some(kind) = kind else { continue };
                tags.clear();
                renumber.tags(table.of(i), tags);
                // A place that a more important feature holds at this zoom (see `labels`): the
                // raster tiles leave it out, and the style too.
                if prep.places
                    && let Some(h) = crate::layer::held_by(layers, l, i, z)
                {
                    renumber.extra("held_by", write::Value::Str(&h.meta.id), tags);
                }
                write::feature(features, Some(prep.ids[i]), kind, tags, geometry);
            }
            if features.is_empty() {
                return None;
            }
            let mut bytes = Vec::with_capacity(features.len() + 64 * renumber.used_values.len() + 64);
            write::layer(
                &mut bytes,
                &l.meta.id,
                EXTENT,
                features,
                renumber.used_keys.iter().map(|&k| renumber.key(table, k)),
                renumber.used_values.iter().map(|&v| renumber.value(table, v)),
            );
            Some(EncodedLayer(bytes))
        })
        .collect();
    SCRATCH.set(s);
    out
}

/// Collects the features of a layer whose properties are made per tile (the events), sharing
/// keys and values.
struct LayerBuilder {
    name: String,
    features: Vec<u8>,
    keys: Vec<String>,
    key_of: HashMap<String, u32>,
    values: Vec<Vec<u8>>,
    value_of: HashMap<ValueKey, u32>,
    geometry: Vec<u32>,
    buffers: Buffers,
}

impl LayerBuilder {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            features: Vec::new(),
            keys: Vec::new(),
            key_of: HashMap::new(),
            values: Vec::new(),
            value_of: HashMap::new(),
            geometry: Vec::new(),
            buffers: Buffers::default(),
        }
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.key_of.get(k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_owned());
        self.key_of.insert(k.to_owned(), i);
        i
    }

    fn value(&mut self, v: &Json) -> Option<u32> {
        let key = value_key(v)?;
        if let Some(&i) = self.value_of.get(&key) {
            return Some(i);
        }
        let mut body = Vec::new();
        key.value().write(&mut body);
        let i = self.values.len() as u32;
        self.values.push(body);
        self.value_of.insert(key, i);
        Some(i)
    }

    /// Adds a feature at `shape`, if anything of it is in the tile.
    fn push<'a>(
        &mut self,
        frame: &Frame,
        shape: &crate::geom::Shape,
        id: Option<u64>,
        props: impl IntoIterator<Item = (&'a str, Json)>,
    ) {
        let mut geometry = std::mem::take(&mut self.geometry);
        if let Some(kind) = frame.encode_into(shape, &mut geometry, &mut self.buffers) {
            let mut tags = Vec::new();
            for (k, v) in props {
                if let Some(vi) = self.value(&v) {
                    tags.push(self.key(k));
                    tags.push(vi);
                }
            }
            write::feature(&mut self.features, id, kind, &tags, &geometry);
        }
        self.geometry = geometry;
    }

    fn finish(self) -> Option<EncodedLayer> {
        if self.features.is_empty() {
            return None;
        }
        let mut bytes = Vec::new();
        write::layer(
            &mut bytes,
            &self.name,
            EXTENT,
            &self.features,
            self.keys.iter().map(String::as_str),
            self.values.iter().map(Vec::as_slice),
        );
        Some(EncodedLayer(bytes))
    }
}

/// The `events` layer from clustered markers: single events with their fields, clusters with
/// `cluster = true`, `count` and `casualties`, region-precision events (one, or a cluster of
/// them) with `region = true` (to be drawn as vague areas).
pub fn events_layer(markers: &[Marker], tile: TileCoord) -> Option<EncodedLayer> {
    let frame = Frame::new(tile);
    let mut b = LayerBuilder::new("events");
    for (i, m) in markers.iter().enumerate() {
        let shape = crate::geom::Shape::Points(vec![m.at()]);
        let id = Some(i as u64 + 1);
        match m {
            Marker::Single(e) | Marker::Region(e) => {
                let tiled = FIELDS.iter().filter(|f| f.in_tiles).filter_map(|f| Some((f.name, e.field(f.name)?)));
                let derived = [
                    ("casualties", Json::from(e.input.casualties())),
                    ("region", Json::from(e.input.location_precision == LocationPrecision::Region)),
                    ("cluster", Json::from(false)),
                    ("count", Json::from(1)),
                ];
                b.push(&frame, &shape, id, tiled.chain(derived));
            }
            Marker::Cluster { count, casualties, ids, region, .. } => {
                let props = [
                    ("cluster", Json::from(true)),
                    ("region", Json::from(*region)),
                    ("count", Json::from(*count)),
                    ("casualties", Json::from(*casualties)),
                    ("first_id", Json::from(ids.first().cloned().unwrap_or_default())),
                ];
                b.push(&frame, &shape, id, props);
            }
        }
    }
    b.finish()
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

/// Lays encoded layers out as a tile; an empty list gives an empty byte string.
pub fn encode(layers: Vec<EncodedLayer>) -> Vec<u8> {
    let mut out = Vec::with_capacity(layers.iter().map(|l| l.0.len()).sum());
    for l in layers {
        out.extend_from_slice(&l.0);
    }
    out
}
