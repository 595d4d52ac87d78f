//! GeoJSON layer files: parsing, validation and projection, then indexing.

use std::collections::HashSet;
use std::path::Path;

use crate::layer::{Layer, LayerMeta, LoadError, Shape, parse_geojson_bytes, validate_geometry};
use crate::style::StyleSpec;
use crate::tile::{LonLatBBox, WorldPoint, WorldRect};

/// Slack for positions projected onto the edge of the unit square.
const EDGE: f64 = 1e-9;

/// Parses `data` as a layer file, as [`crate::layer::load_dir`] does, and checks every feature
/// it accepts: ids are unique, each shape is non-empty and inside the unit square, the geometry
/// as served by the items route validates again to the same shape, and the layer's index finds
/// every feature.
pub fn geojson(data: &[u8]) {
    let features = match parse_geojson_bytes(data, Path::new("fuzz.geojson"), None) {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let mut ids = HashSet::new();
    for f in &features {
        assert!(ids.insert(f.id_text()), "two features share the id {}", f.id_text());
        check_shape(&f.shape);
        let served = geojson::Geometry::from(&f.geometry);
        assert_eq!(validate_geometry(&served.value), Ok(f.shape.clone()), "the served geometry {served:?}");
    }
    let n = features.len();
    let layer = Layer::new(meta(), features, &StyleSpec::default(), &[]);
    let everything = (0..n).collect::<Vec<_>>();
    let world = WorldRect { min: WorldPoint::new(-EDGE, -EDGE), max: WorldPoint::new(1.0 + EDGE, 1.0 + EDGE) };
    assert_eq!(layer.query(&world), everything, "the index lost a feature");
    let degrees = LonLatBBox { west: -180.0, south: -90.0, east: 180.0, north: 90.0 };
    assert_eq!(layer.query_bbox(&degrees), everything, "a whole-world bbox query lost a feature");
    for f in layer.features() {
        assert!(layer.feature_by_id(&f.id_text()).is_some(), "feature {} cannot be fetched by id", f.id_text());
    }
    if let Some(b) = layer.bounds() {
        let [w, s, e, n] = b.to_array();
        assert!(-180.0 <= w && w <= e && e <= 180.0 && -90.0 <= s && s <= n && n <= 90.0, "layer bounds {b:?}");
    }
}

fn refused(e: &LoadError) {
    // The message goes to the operator who loads the file, never to a client, so it may quote
    // the file at length (serde quotes a whole unknown `type`); it must name the file.
    let message = e.to_string();
    assert!(message.starts_with("fuzz.geojson: "), "the message does not name the file: {message:.200}");
}

fn check_shape(shape: &Shape) {
    let inside = |p: &WorldPoint| (-EDGE..=1.0 + EDGE).contains(&p.x) && (-EDGE..=1.0 + EDGE).contains(&p.y);
    let points: Vec<&WorldPoint> = match shape {
        Shape::Points(ps) => ps.iter().collect(),
        Shape::Lines(ls) => {
            assert!(ls.iter().all(|l| l.len() >= 2), "a line of fewer than 2 positions");
            ls.iter().flatten().collect()
        }
        Shape::Polygons(ps) => {
            assert!(ps.iter().all(|p| !p.is_empty()), "a polygon without rings");
            assert!(ps.iter().flatten().all(|r| r.len() >= 4 && r.first() == r.last()), "an open or short ring");
            ps.iter().flatten().flatten().collect()
        }
    };
    assert!(!points.is_empty(), "a feature without a single position: {shape:?}");
    assert!(points.iter().all(|p| inside(p)), "a position outside the unit square: {shape:?}");
}

fn meta() -> LayerMeta {
    LayerMeta {
        id: "fuzz".into(),
        title: "fuzz".into(),
        description: String::new(),
        note: None,
        attribution: String::new(),
        license: String::new(),
        minzoom: 0,
        maxzoom: crate::tile::MAX_ZOOM,
        order: 0,
    }
}
