//! Layers: loading and validating GeoJSON, the layer store, and a spatial index per layer.
//!
//! Every geometry is validated and projected to the Web Mercator unit square once, at load, and
//! its bounding box goes into an R-tree (rstar). Fetching what a tile shows is then a window
//! query on the tree: its cost follows the number of features near the tile, not the size of
//! the layer.

mod catalog;
mod error;
mod feature;
mod fields;
mod labels;
mod load;
mod manifest;
mod naming;
mod place;
mod source;

pub use crate::geom::Shape;
pub use catalog::{Catalog, Center, Changes, SeedFile, SelectError};
pub use error::{FeatureProblem, LoadError, Problem};
pub use feature::{Feature, id_text, validate_geometry};
pub use fields::{JsonType, PropertyTypes, mvt_field_type};
pub use labels::FeatureLabel;
use labels::LayerLabels;
pub use load::{MANIFEST, load, load_dir, parse_geojson_bytes};
pub use manifest::valid_layer_id;
pub use naming::{held_by, held_by_another, namer, place_names};
pub use place::{PlaceRef, SAME_NAME_KM};
pub use source::Geodata;

use std::collections::HashMap;
use std::sync::OnceLock;

use geo::Intersects;
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};

use crate::geom::ZoomShapes;
use crate::style::{GeometryKind, LabelSpec, LayerStyles, Rule, Style, StyleSpec};
use crate::tile::{LonLatBBox, WorldPoint, WorldRect};

/// What the manifest says about a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMeta {
    /// URL-safe identifier.
    pub id: String,
    /// Human title.
    pub title: String,
    /// What it shows and how far it can be trusted.
    pub description: String,
    /// A short line for the legend, where the layer's symbols need words; `None` when they do not.
    pub note: Option<String>,
    /// Credit required by the data's licence (may be empty).
    pub attribution: String,
    /// Licence of the data.
    pub license: String,
    /// Lowest zoom at which it is drawn.
    pub minzoom: u8,
    /// Highest zoom at which it is drawn.
    pub maxzoom: u8,
    /// Draw order, lower first.
    pub order: i32,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Marks an index entry whose feature is a single point (its box is the point), beside the
/// feature's index in the low bits.
const LONE_POINT: u32 = 1 << 31;

/// A feature the index found in a box: its index, and its point when the feature is a single
/// point. The point comes from the index itself, so that a tile of thousands of points reads
/// no feature, shape or heap allocation per point (those reads were cache misses that took a
/// seventh of the raster time on the bench data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The feature's index in the layer.
    pub i: usize,
    /// The feature's point, when it is a single point.
    pub point: Option<WorldPoint>,
}

/// One layer: its features, their styles, and an R-tree over their unit-square bounding boxes.
#[derive(Debug)]
pub struct Layer {
    /// Identity, credits and zoom range.
    pub meta: LayerMeta,
    features: Vec<Feature>,
    index: RTree<Entry>,
    by_id: HashMap<String, usize>,
    bounds: Option<LonLatBBox>,
    /// The features' shapes simplified per zoom.
    simplified: ZoomShapes,
    /// How each feature is drawn.
    styles: LayerStyles,
    /// What each feature is called and where its name goes; the places it shares with others.
    labels: LayerLabels,
    /// What a renderer derives from the features once and keeps with the layer (the vector
    /// tiles' numbered properties, see [`Layer::derived`]).
    derived: OnceLock<Box<dyn std::any::Any + Send + Sync>>,
    /// `clipped_to` in the unit square: ring edges along it are not stroked.
    clipped_to: Option<WorldRect>,
    /// `not_within` in the unit square: nothing of the layer is drawn inside it.
    not_within: Option<WorldRect>,
    /// A hash of everything the layer is made from (its file, its manifest entry, its draw
    /// order, the places it shares with other layers): a reload compares it to tell whether the
    /// layer changed.
    fingerprint: u64,
    /// The catalog generation in which the layer last changed; part of its tiles' cache keys.
    revision: u64,
    /// A hash of `label_order`, which the vector tiles' labels carry (`sort`) and which moves
    /// when another layer's names do.
    label_fingerprint: u64,
    /// The catalog generation in which the layer or its `label_order` last changed; part of
    /// the cache keys of the vector tiles that carry its names.
    label_revision: u64,
}

impl Layer {
    /// Builds a layer from validated features: resolves each feature's style and indexes it.
    pub fn new(meta: LayerMeta, features: Vec<Feature>, base: &StyleSpec, rules: &[Rule]) -> Self {
        let styles = LayerStyles::resolve(base, rules, features.iter().map(|f| (f.shape.kind(), &f.properties)));
        let entries = features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let b = f.shape.bounds();
                let lone = matches!(&f.shape, Shape::Points(ps) if ps.len() == 1);
                let data = i as u32 | if lone { LONE_POINT } else { 0 };
                GeomWithData::new(Rectangle::from_corners([b.min.x, b.min.y], [b.max.x, b.max.y]), data)
            })
            .collect();
        let bounds = features.iter().map(|f| lonlat_bounds(&f.geometry)).reduce(LonLatBBox::union);
        let by_id = features.iter().enumerate().map(|(i, f)| (f.id_text(), i)).collect();
        Self {
            meta,
            features,
            index: RTree::bulk_load(entries),
            by_id,
            bounds,
            simplified: ZoomShapes::default(),
            styles,
            labels: LayerLabels::default(),
            derived: OnceLock::new(),
            clipped_to: None,
            not_within: None,
            fingerprint: 0,
            revision: 0,
            label_fingerprint: 0,
            label_revision: 0,
        }
    }

    /// This layer with a hash of what it is made from (see [`Layer::fingerprint`]); the
    /// catalog adds the places it shares with other layers.
    pub fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.fingerprint = fingerprint;
        self
    }

    /// A hash of everything the layer is made from: two loads with the same fingerprint draw the
    /// same tiles.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The catalog generation in which the layer last changed (0: since the first load).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The catalog generation in which the layer or the place of its names in the catalog's
    /// order (see [`Layer::label_order`]) last changed: the vector tiles carrying its names
    /// change with it.
    pub fn label_revision(&self) -> u64 {
        self.label_revision
    }

    /// This layer with the boxes of `clipped_to` (ring edges along it are not stroked) and
    /// `not_within` (nothing is drawn inside it).
    pub fn with_boxes(mut self, clipped_to: Option<LonLatBBox>, not_within: Option<LonLatBBox>) -> Self {
        self.clipped_to = clipped_to.map(|b| b.to_world());
        self.not_within = not_within.map(|b| b.to_world());
        self
    }

    /// This layer with the keys that tell which of its points are places held by other layers
    /// too: the property naming a point's place (`place_id`) and the distance within which two
    /// of its own points are one place (`place_merge_km`). The catalog links the places.
    pub fn with_place_keys(mut self, place_id: Option<String>, merge_km: Option<f64>) -> Self {
        self.labels.place_keys = (place_id, merge_km);
        self
    }

    /// The box its source was cut to, in the unit square.
    pub fn clipped_to(&self) -> Option<WorldRect> {
        self.clipped_to
    }

    /// The box inside which it is not drawn, in the unit square.
    pub fn not_within(&self) -> Option<WorldRect> {
        self.not_within
    }

    /// Every feature of the place that feature `i` stands for, most important first, when
    /// another feature (of this layer or another) stands for it too.
    pub fn place(&self, i: usize) -> Option<&[PlaceRef]> {
        self.labels.places.get(i).and_then(Option::as_deref)
    }

    /// The position of feature `i` in the order names are placed over the whole catalog, most
    /// important first (see `naming`); `None` when it is not labelled.
    pub fn label_order(&self, i: usize) -> Option<u32> {
        self.labels.order.get(i).copied().filter(|&o| o != u32::MAX)
    }

    /// This layer with labels: reads every feature's names and anchor once. Points are
    /// labelled beside their symbol, polygons at their interior point; lines are not labelled.
    pub fn with_labels(mut self, spec: LabelSpec) -> Self {
        self.labels.read(spec, &self.features, &self.styles);
        self
    }

    /// How the layer's features are labelled; `None` when they are not.
    pub fn label_spec(&self) -> Option<&LabelSpec> {
        self.labels.spec.as_ref()
    }

    /// The label of feature `i`, if it has one.
    pub fn label(&self, i: usize) -> Option<&FeatureLabel> {
        self.labels.items.get(i).and_then(Option::as_ref)
    }

    /// All features, in file order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The shape of feature `i` as drawn at zoom `z`: simplified to 1/16 px at that zoom.
    pub fn shape_at(&self, i: usize, z: u8) -> &Shape {
        let all = || self.features.iter().map(|f| &f.shape);
        self.simplified.get(z, i, all).unwrap_or(&self.features[i].shape)
    }

    /// Data derived from the features by `make` on the first call and kept with the layer, for
    /// as long as it lives (a reload makes a new layer). The renderer that wants it (`mvt`'s
    /// numbered properties) sits above `layer` and names the type, so the layer holds it as
    /// `Any` and never imports its user. One kind of data per layer: `None` when another type
    /// was kept first.
    pub fn derived<T: std::any::Any + Send + Sync>(&self, make: impl FnOnce(&[Feature]) -> T) -> Option<&T> {
        self.derived.get_or_init(|| Box::new(make(&self.features))).downcast_ref::<T>()
    }

    /// The layer's style as written: its base keys and its rules.
    pub fn style_source(&self) -> (&StyleSpec, &[Rule]) {
        self.styles.source()
    }

    /// The resolved style for a geometry kind and a rule (`None`: no rule matched).
    pub fn resolved_style(&self, kind: GeometryKind, rule: Option<usize>) -> &Style {
        self.styles.resolved(kind, rule)
    }

    /// The rule feature `i` matched (first match wins); `None` when it matched none.
    pub fn rule_of(&self, i: usize) -> Option<usize> {
        self.styles.rule_of(i)
    }

    /// The resolved style of feature `i`.
    pub fn style_of(&self, i: usize) -> &Style {
        self.styles.of(i)
    }

    /// The feature with this id (as text, see [`Feature::id_text`]).
    pub fn feature_by_id(&self, id: &str) -> Option<&Feature> {
        self.by_id.get(id).map(|&i| &self.features[i])
    }

    /// Extent of the data in degrees; `None` for an empty layer.
    pub fn bounds(&self) -> Option<LonLatBBox> {
        self.bounds
    }

    /// How far (CSS px) its symbols and strokes can reach beyond their geometry.
    pub fn reach_px(&self) -> f32 {
        self.styles.reach_px()
    }

    /// Whether the layer is drawn at zoom `z`.
    pub fn visible_at(&self, z: u8) -> bool {
        (self.meta.minzoom..=self.meta.maxzoom).contains(&z)
    }

    /// Indices of the features whose bounding box meets `rect`, in file order.
    pub fn query(&self, rect: &WorldRect) -> Vec<usize> {
        let env = AABB::from_corners([rect.min.x, rect.min.y], [rect.max.x, rect.max.y]);
        let mut hits: Vec<usize> =
            self.index.locate_in_envelope_intersecting(env).map(|e| (e.data & !LONE_POINT) as usize).collect();
        hits.sort_unstable();
        hits
    }

    /// The features whose bounding box meets `rect`, in file order, each with its point when
    /// it is a single point.
    pub fn hits(&self, rect: &WorldRect) -> Vec<Hit> {
        let env = AABB::from_corners([rect.min.x, rect.min.y], [rect.max.x, rect.max.y]);
        let mut hits: Vec<Hit> = self
            .index
            .locate_in_envelope_intersecting(env)
            .map(|e| {
                let i = (e.data & !LONE_POINT) as usize;
                let lo = e.geom().lower();
                let point = (e.data & LONE_POINT != 0).then(|| WorldPoint::new(lo[0], lo[1]));
                Hit { i, point }
            })
            .collect();
        hits.sort_unstable_by_key(|h| h.i);
        hits
    }

    /// Indices of the features whose geometry meets the box (degrees), in file order.
    pub fn query_bbox(&self, bbox: &LonLatBBox) -> Vec<usize> {
        let rect =
            geo::Rect::new(geo::coord! { x: bbox.west, y: bbox.south }, geo::coord! { x: bbox.east, y: bbox.north });
        self.query(&bbox.to_world()).into_iter().filter(|&i| self.features[i].geometry.intersects(&rect)).collect()
    }
}

fn lonlat_bounds(g: &geo::Geometry<f64>) -> LonLatBBox {
    use geo::BoundingRect;
    g.bounding_rect().map_or(LonLatBBox { west: 0.0, south: 0.0, east: 0.0, north: 0.0 }, |r| LonLatBBox {
        west: r.min().x,
        south: r.min().y,
        east: r.max().x,
        north: r.max().y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::{LonLat, WorldPoint};
    use rand::{RngExt, SeedableRng};

    fn point_layer(n: usize, seed: u64) -> Layer {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let features = (0..n)
            .map(|i| {
                let (lon, lat) = (rng.random_range(35.0..38.0), rng.random_range(34.0..37.0));
                let p = LonLat::new(lon, lat).to_world();
                let dx: f64 = rng.random_range(0.0..0.0005);
                let shape = if i % 3 == 0 {
                    Shape::Points(vec![p])
                } else {
                    Shape::Lines(vec![vec![p, WorldPoint::new(p.x + dx, p.y + dx)]])
                };
                Feature {
                    id: serde_json::Value::from(i),
                    properties: Default::default(),
                    geometry: geo::Geometry::Point(geo::Point::new(lon, lat)),
                    shape,
                }
            })
            .collect();
        let meta = LayerMeta {
            id: "t".into(),
            title: "t".into(),
            description: String::new(),
            note: None,
            attribution: String::new(),
            license: String::new(),
            minzoom: 0,
            maxzoom: 20,
            order: 0,
        };
        Layer::new(meta, features, &StyleSpec::default(), &[])
    }

    #[test]
    fn window_query_matches_brute_force() {
        let layer = point_layer(5000, 7);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..200 {
            let a = LonLat::new(rng.random_range(34.5..38.5), rng.random_range(33.5..37.5)).to_world();
            let d: f64 = rng.random_range(0.0..0.01);
            let rect = WorldRect::from_corners(a, WorldPoint::new(a.x + d, a.y + d));
            let brute: Vec<usize> = layer
                .features()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.shape.bounds().intersects(&rect))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(layer.query(&rect), brute);
            // The hits name the same features, each single point with its own coordinates and
            // each line without one.
            let hits = layer.hits(&rect);
            assert_eq!(hits.iter().map(|h| h.i).collect::<Vec<_>>(), brute);
            for h in hits {
                let want = match &layer.features()[h.i].shape {
                    Shape::Points(ps) if ps.len() == 1 => Some(ps[0]),
                    _ => None,
                };
                assert_eq!(h.point, want);
            }
        }
    }
}
