//! Places held by several features: the same city as a Natural Earth point, a GeoNames town and
//! a place of the report, or twice in one source. Each such place is drawn with one symbol and
//! named once, by its most important feature.
//!
//! The features of one place are found once, when the catalog is made, from the data alone (so
//! every tile and zoom agrees on them):
//!
//! - two points of one layer closer than the layer's `place_merge_km` (Natural Earth lists
//!   Antakya twice, as Antioch and as Hatay, 0.45 km apart);
//! - points of two layers with the same `place_id` value (Natural Earth's cities carry the
//!   GeoNames id of the town they stand for);
//! - points of two layers with the same name within [`SAME_NAME_KM`] (a Natural Earth point can
//!   lie several km from the GeoNames centroid of the same city: Aleppo, 3.5 km);
//! - points of two layers on one spot (a place of the report drawn on its GeoNames point).
//!
//! Links are taken in that order, strongest evidence first, and one that would put two features
//! of one layer into a place is refused unless the layer itself merges them: the Kenana hospital
//! and the town of Darat Izza share a point in one layer and stay two places, so the GeoNames
//! town on that point joins the first of them (the town, earlier in the file) only.
//!
//! Matching by distance in pixels instead (what placement did before) breaks with the zoom:
//! 3.5 km is 12 px at zoom 9 and 55 px at zoom 11, so Aleppo came out named twice from zoom 11.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Layer, Shape};

/// Points of two layers with the same name closer than this (km) are one place.
pub const SAME_NAME_KM: f64 = 8.0;

/// Points of two layers closer than this (km) are on one spot.
const SAME_SPOT_KM: f64 = 0.01;

/// One feature of a place: its layer's id and its index in the layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaceRef {
    /// The layer's id.
    pub layer: String,
    /// The feature's index in its layer.
    pub feature: usize,
}

/// A labelled point, as the linking needs it.
struct Point {
    layer: usize,
    feature: usize,
    lon: f64,
    lat: f64,
    name: Option<String>,
    id: Option<String>,
}

/// Distance in km between two positions (an equirectangular approximation, exact enough over
/// the few km compared here).
fn km(a: &Point, b: &Point) -> f64 {
    let lat = ((a.lat + b.lat) / 2.0).to_radians();
    let dx = (a.lon - b.lon).to_radians() * lat.cos();
    let dy = (a.lat - b.lat).to_radians();
    6371.0 * dx.hypot(dy)
}

/// Finds the places held by several features and records them in each of those features'
/// layers. `layers` are in draw order.
pub(super) fn link(layers: &mut [Layer]) {
    let points = labelled_points(layers);
    let mut groups = Groups::new(&points);
    let n = points.len();
    let pairs = || (0..n).flat_map(move |i| (i + 1..n).map(move |j| (i, j)));
    // Strongest evidence first: a layer merging its own points, a shared id, a shared name
    // nearby, a shared spot.
    for (i, j) in pairs() {
        let (a, b) = (&points[i], &points[j]);
        let merge = layers[a.layer].labels.place_keys.1.unwrap_or(0.0);
        if a.layer == b.layer && km(a, b) < merge {
            groups.union(i, j, true);
        }
    }
    for (i, j) in pairs() {
        let (a, b) = (&points[i], &points[j]);
        if a.layer != b.layer && a.id.is_some() && a.id == b.id {
            groups.union(i, j, false);
        }
    }
    for (i, j) in pairs() {
        let (a, b) = (&points[i], &points[j]);
        if a.layer != b.layer && a.name.is_some() && a.name == b.name && km(a, b) < SAME_NAME_KM {
            groups.union(i, j, false);
        }
    }
    for (i, j) in pairs() {
        let (a, b) = (&points[i], &points[j]);
        if a.layer != b.layer && km(a, b) < SAME_SPOT_KM {
            groups.union(i, j, false);
        }
    }
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        members.entry(groups.find(i)).or_default().push(i);
    }
    for layer in layers.iter_mut() {
        layer.labels.places = vec![None; layer.features().len()];
    }
    for mut group in members.into_values().filter(|g| g.len() > 1) {
        group.sort_by(|&a, &b| importance(layers, &points[a], &points[b]));
        let refs: Arc<[PlaceRef]> = group
            .iter()
            .map(|&i| PlaceRef { layer: layers[points[i].layer].meta.id.clone(), feature: points[i].feature })
            .collect();
        for &i in &group {
            layers[points[i].layer].labels.places[points[i].feature] = Some(Arc::clone(&refs));
        }
    }
}

/// The order in which features name a place, the order of label placement: the layer's
/// `label_priority` (higher first), the feature's class, its rank (higher first), then the
/// layer's draw order and the feature's index.
fn importance(layers: &[Layer], a: &Point, b: &Point) -> Ordering {
    let key = |p: &Point| {
        let layer = &layers[p.layer];
        let priority = layer.label_spec().map_or(i32::MIN, |s| s.priority);
        let label = layer.label(p.feature);
        (priority, label.map_or(u32::MAX, |l| l.class), label.map_or(f64::NEG_INFINITY, |l| l.rank))
    };
    let ((pa, ca, ra), (pb, cb, rb)) = (key(a), key(b));
    pb.cmp(&pa).then(ca.cmp(&cb)).then(rb.total_cmp(&ra)).then(a.layer.cmp(&b.layer)).then(a.feature.cmp(&b.feature))
}

/// Every named point of every labelled layer.
fn labelled_points(layers: &[Layer]) -> Vec<Point> {
    let mut out = Vec::new();
    for (li, layer) in layers.iter().enumerate() {
        if layer.label_spec().is_none() {
            continue;
        }
        for (i, f) in layer.features().iter().enumerate() {
            let (Some(label), Shape::Points(_), geo::Geometry::Point(p)) = (layer.label(i), &f.shape, &f.geometry)
            else {
                continue;
            };
            let id = layer.labels.place_keys.0.as_ref().and_then(|k| f.properties.get(k)).filter(|v| !v.is_null());
            out.push(Point {
                layer: li,
                feature: i,
                lon: p.x(),
                lat: p.y(),
                name: label.names.latin.as_ref().map(|n| n.to_lowercase()),
                id: id.map(|v| v.to_string()),
            });
        }
    }
    out
}

/// Union-find over the points, remembering which layers each group holds.
struct Groups {
    parent: Vec<usize>,
    layers: Vec<Vec<usize>>,
}

impl Groups {
    fn new(points: &[Point]) -> Self {
        Self { parent: (0..points.len()).collect(), layers: points.iter().map(|p| vec![p.layer]).collect() }
    }

    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.parent[r] != r {
            r = self.parent[r];
        }
        let mut c = i;
        while self.parent[c] != r {
            let next = self.parent[c];
            self.parent[c] = r;
            c = next;
        }
        r
    }

    /// Joins the groups of `i` and `j`, unless (and `same_layer` is false) both hold a feature
    /// of one layer.
    fn union(&mut self, i: usize, j: usize, same_layer: bool) {
        let (a, b) = (self.find(i), self.find(j));
        if a == b || (!same_layer && self.layers[a].iter().any(|l| self.layers[b].contains(l))) {
            return;
        }
        self.parent[b] = a;
        let moved = std::mem::take(&mut self.layers[b]);
        self.layers[a].extend(moved);
    }
}

#[cfg(test)]
mod tests {
    use crate::layer::{Catalog, load_dir};

    fn catalog() -> Catalog {
        load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata"))
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The place of the feature with this id in a layer, as (layer, feature id) pairs.
    fn place_of(c: &Catalog, layer: &str, id: &str) -> Vec<(String, String)> {
        let l = c.layer(layer).unwrap_or_else(|| unreachable!("{layer}"));
        let i = l.features().iter().position(|f| f.id_text() == id).unwrap_or_else(|| unreachable!("{id}"));
        l.place(i)
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let other = c.layer(&p.layer).unwrap_or_else(|| unreachable!("{}", p.layer));
                (p.layer.clone(), other.features()[p.feature].id_text())
            })
            .collect()
    }

    #[test]
    fn features_of_one_place_are_linked_and_two_places_on_one_point_are_not() {
        let c = catalog();
        // Darat Izza: the report's town and the GeoNames town on its point; the Kenana hospital,
        // on the same point in the report's layer, stays a place of its own.
        let darat_izza = place_of(&c, "report-places", "darat-izza");
        assert_eq!(darat_izza, [("report-places".into(), "darat-izza".into()), ("towns".into(), "170857".into())]);
        assert!(place_of(&c, "report-places", "kenana-hospital-darat-izza").is_empty());
        // Aleppo: the report's place first, then the Natural Earth city (3.5 km away, same name)
        // and the GeoNames town (same geonameid as the city, on the report's point).
        let aleppo = place_of(&c, "report-places", "aleppo");
        assert_eq!(aleppo.len(), 3, "{aleppo:?}");
        assert_eq!(aleppo[0], ("report-places".into(), "aleppo".into()));
        // Antakya: Natural Earth's Hatay and Antioch (0.45 km apart) and GeoNames' Antakya.
        let antakya = place_of(&c, "towns", "323779");
        let ids: Vec<&str> = antakya.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(antakya.len(), 3, "{antakya:?}");
        assert!(ids.contains(&"323779"), "{ids:?}");
        // Beirut and B'abda, 5 km apart, stay two cities.
        let beirut = place_of(&c, "cities", "276781");
        assert!(beirut.iter().all(|(l, id)| l != "cities" || id == "276781"), "{beirut:?}");
    }
}
