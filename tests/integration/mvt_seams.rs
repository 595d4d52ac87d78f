//! Vector tile geometry across tiles and zooms, decoded by `mvt::decode` (which already refuses
//! empty, degenerate, out-of-buffer or wrongly wound geometry in every tile): polygons valid
//! and clipped whole, a road that crosses a tile edge continuing on the next tile, few
//! vertices at zoom 0 and an unchanged border shape at zooms 10 and 12.
//!
//! The truth comes from the GeoJSON files projected with `common::mercator_px`, in extent units
//! of the tile at hand (4096 across; one 256-px pixel is 16 units).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::features;
use crate::mvt::{BUFFER, EXTENT, Geom, IDLIB, Pt, TileAt, area2, extent_xy, fetch, tile_of, tile_path};

/// A point inside the one hole of the governorates (the Damascus enclave in Rif Dimashq).
const DAMASCUS: (f64, f64) = (36.27, 33.51);
/// A point in Lesotho, a hole in South Africa in world-countries.
const LESOTHO: (f64, f64) = (28.2, -29.6);
const POLYGON_LAYERS: &str = "?layers=world-countries,countries,governorates,lakes,de-escalation-zone";

/// A tile and its (up to) eight neighbours.
fn neighbourhood((z, x, y): TileAt) -> Vec<TileAt> {
    let n = 1i64 << z;
    let mut out = Vec::new();
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (cx, cy) = (i64::from(x) + dx, i64::from(y) + dy);
            if (0..n).contains(&cx) && (0..n).contains(&cy) {
                out.push((z, cx as u32, cy as u32));
            }
        }
    }
    out
}

fn lonlat(c: &Value) -> (f64, f64) {
    (c[0].as_f64().expect("longitude"), c[1].as_f64().expect("latitude"))
}

/// The rings of a Polygon or MultiPolygon feature, as (lon, lat), closing position included.
fn polygon_rings(f: &Value) -> Vec<Vec<Vec<(f64, f64)>>> {
    let g = &f["geometry"];
    let polys = match g["type"].as_str() {
        Some("Polygon") => vec![g["coordinates"].clone()],
        Some("MultiPolygon") => g["coordinates"].as_array().expect("polygons").clone(),
        other => panic!("not a polygon: {other:?}"),
    };
    polys
        .iter()
        .map(|p| p.as_array().expect("rings").iter().map(|r| r.as_array().expect("ring").iter().map(lonlat).collect()).collect())
        .collect()
}

fn orient(a: Pt, b: Pt, c: Pt) -> i64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether segments ab and cd cross at a point strictly inside both.
fn cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let s = |v: i64| v.signum();
    s(orient(a, b, c)) * s(orient(a, b, d)) < 0 && s(orient(c, d, a)) * s(orient(c, d, b)) < 0
}

fn on_segment(p: Pt, a: Pt, b: Pt) -> bool {
    orient(a, b, p) == 0 && (a[0].min(b[0])..=a[0].max(b[0])).contains(&p[0]) && (a[1].min(b[1])..=a[1].max(b[1])).contains(&p[1])
}

/// Whether `p` lies inside a ring or on its boundary (even-odd rule).
fn inside_or_on(p: Pt, ring: &[Pt]) -> bool {
    let edges = || (0..ring.len()).map(|i| (ring[i], ring[(i + 1) % ring.len()]));
    if edges().any(|(a, b)| on_segment(p, a, b)) {
        return true;
    }
    edges().filter(|(a, b)| (a[1] > p[1]) != (b[1] > p[1])).filter(|(a, b)| {
        let x = a[0] as f64 + (p[1] - a[1]) as f64 * (b[0] - a[0]) as f64 / (b[1] - a[1]) as f64;
        x > p[0] as f64
    })
    .count()
        % 2
        == 1
}

/// Asserts that no two edges of a ring cross each other.
fn assert_simple(what: &str, ring: &[Pt]) {
    let n = ring.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue;
            }
            let (a, b, c, d) = (ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]);
            assert!(!cross(a, b, c, d), "{what}: edges {a:?}-{b:?} and {c:?}-{d:?} cross");
        }
    }
}

#[test]
fn polygons_are_valid_and_wound_as_mvt_2_1_requires() {
    let mut tiles = BTreeSet::new();
    for z in [6, 8, 10] {
        tiles.extend(neighbourhood(tile_of(IDLIB, z)));
        tiles.extend(neighbourhood(tile_of(DAMASCUS, z)));
    }
    tiles.extend([2, 4].map(|z| tile_of(LESOTHO, z)));
    // (exteriors, holes) per layer
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for t in tiles {
        for (name, layer) in fetch(&tile_path(t, POLYGON_LAYERS)) {
            for f in &layer.features {
                let Geom::Rings(rings) = &f.geom else { panic!("{name}: not a polygon in {t:?}") };
                // MVT 2.1: a ring of positive area starts a polygon, negative ones are its holes.
                let mut polygons: Vec<Vec<&Vec<Pt>>> = Vec::new();
                for r in rings {
                    match polygons.last_mut() {
                        Some(p) if area2(r) < 0 => p.push(r),
                        _ => polygons.push(vec![r]),
                    }
                }
                let what = format!("{name} {:?} in {t:?}", f.id);
                for p in &polygons {
                    p.iter().for_each(|r| assert_simple(&what, r));
                    for hole in &p[1..] {
                        assert!(hole.iter().all(|&v| inside_or_on(v, p[0])), "{what}: a hole leaves its exterior");
                    }
                }
                let count = seen.entry(name.clone()).or_default();
                count.0 += polygons.len();
                count.1 += rings.len() - polygons.len();
            }
        }
    }
    for (layer, min) in [("countries", 10), ("governorates", 20), ("world-countries", 5)] {
        assert!(seen.get(layer).is_some_and(|s| s.0 >= min), "{layer}: {seen:?}");
    }
    // The Damascus enclave and Lesotho were met as holes, wound negative.
    assert!(seen["governorates"].1 >= 1 && seen["world-countries"].1 >= 1, "{seen:?}");
}

/// Whether a segment meets the square `lo..=hi` on both axes (Liang-Barsky).
fn meets_square(a: (f64, f64), b: (f64, f64), lo: f64, hi: f64) -> bool {
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    for (p, q) in [(-dx, a.0 - lo), (dx, hi - a.0), (-dy, a.1 - lo), (dy, hi - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else if p < 0.0 {
            t0 = t0.max(q / p);
        } else {
            t1 = t1.min(q / p);
        }
    }
    t0 <= t1
}

fn inside_ring(p: (f64, f64), ring: &[(f64, f64)]) -> bool {
    ring.windows(2).filter(|w| (w[0].1 > p.1) != (w[1].1 > p.1)).filter(|w| {
        w[0].0 + (p.1 - w[0].1) * (w[1].0 - w[0].0) / (w[1].1 - w[0].1) > p.0
    })
    .count()
        % 2
        == 1
}

#[test]
fn a_tile_inside_idlib_governorate_is_one_buffered_square_of_it() {
    let idlib = features("governorates.geojson").into_iter().find(|f| f["properties"]["iso_3166_2"] == "SY-ID").expect("SY-ID");
    let rings = polygon_rings(&idlib);
    let (lo, hi) = (-(BUFFER as f64), EXTENT + BUFFER as f64);
    // A tile whose buffered square no edge of the governorate meets, with its centre inside.
    let t = neighbourhood(tile_of(IDLIB, 10))
        .into_iter()
        .find(|&t| {
            let proj: Vec<Vec<(f64, f64)>> = rings.iter().flatten().map(|r| r.iter().map(|&p| extent_xy(p, t)).collect()).collect();
            let clear = proj.iter().all(|r| r.windows(2).all(|w| !meets_square(w[0], w[1], lo, hi)));
            let centre = (EXTENT / 2.0, EXTENT / 2.0);
            clear && proj.iter().filter(|r| inside_ring(centre, r)).count() % 2 == 1
        })
        .expect("a z10 tile near Idlib city lies inside the governorate");
    let tile = fetch(&tile_path(t, "?layers=governorates"));
    let got: Vec<_> = tile["governorates"].features.iter().filter(|f| f.str("iso_3166_2") == Some("SY-ID")).collect();
    assert_eq!(got.len(), 1, "{t:?}");
    let Geom::Rings(rings) = &got[0].geom else { panic!("not a polygon") };
    assert_eq!(rings.len(), 1, "{rings:?}");
    let (l, h) = (-BUFFER, EXTENT as i64 + BUFFER);
    let corners: BTreeSet<Pt> = rings[0].iter().copied().collect();
    assert_eq!(corners, BTreeSet::from([[l, l], [l, h], [h, l], [h, h]]));
    assert_eq!(area2(&rings[0]), 2 * (h - l) * (h - l), "the square is wound clockwise (y down)");
}
