//! Vector tile geometry across tiles and zooms, decoded by `mvt::decode` (which already refuses
//! empty, degenerate, out-of-buffer or wrongly wound geometry in every tile): polygons valid
//! and clipped whole around Idlib (every polygon at every zoom is in `mvt_validity.rs`), a road
//! that crosses a tile edge continuing on the next tile, few vertices at zoom 0 and an
//! unchanged border shape at zooms 10 and 12.
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
        .map(|p| {
            p.as_array()
                .expect("rings")
                .iter()
                .map(|r| r.as_array().expect("ring").iter().map(lonlat).collect())
                .collect()
        })
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
    orient(a, b, p) == 0
        && (a[0].min(b[0])..=a[0].max(b[0])).contains(&p[0])
        && (a[1].min(b[1])..=a[1].max(b[1])).contains(&p[1])
}

/// Whether `p` lies inside a ring or on its boundary (even-odd rule).
fn inside_or_on(p: Pt, ring: &[Pt]) -> bool {
    let edges = || (0..ring.len()).map(|i| (ring[i], ring[(i + 1) % ring.len()]));
    if edges().any(|(a, b)| on_segment(p, a, b)) {
        return true;
    }
    edges()
        .filter(|(a, b)| (a[1] > p[1]) != (b[1] > p[1]))
        .filter(|(a, b)| {
            let x = a[0] as f64 + (p[1] - a[1]) as f64 * (b[0] - a[0]) as f64 / (b[1] - a[1]) as f64;
            x > p[0] as f64
        })
        .count()
        % 2
        == 1
}

/// The first two edges of a ring that cross each other, by their first vertices.
fn crossing(ring: &[Pt]) -> Option<(Pt, Pt)> {
    let n = ring.len();
    let edge = |i: usize| (ring[i], ring[(i + 1) % n]);
    (0..n)
        .flat_map(|i| (i + 2..n).filter(move |&j| !(i == 0 && j == n - 1)).map(move |j| (i, j)))
        .find(|&(i, j)| cross(edge(i).0, edge(i).1, edge(j).0, edge(j).1))
        .map(|(i, j)| (ring[i], ring[j]))
}

#[test]
fn polygons_are_valid_and_wound_as_mvt_2_1_requires() {
    let mut tiles = BTreeSet::new();
    for z in [6, 8, 10] {
        tiles.extend(neighbourhood(tile_of(IDLIB, z)));
        tiles.extend(neighbourhood(tile_of(DAMASCUS, z)));
    }
    // Every zoom, with full OGC rules, is in `mvt_validity.rs`.
    tiles.extend([4, 5].map(|z| tile_of(LESOTHO, z)));
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
                    for r in p {
                        assert_eq!(crossing(r), None, "{what}: a ring crosses itself at these edges");
                    }
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
    ring.windows(2)
        .filter(|w| (w[0].1 > p.1) != (w[1].1 > p.1))
        .filter(|w| w[0].0 + (p.1 - w[0].1) * (w[1].0 - w[0].0) / (w[1].1 - w[0].1) > p.0)
        .count()
        % 2
        == 1
}

#[test]
fn a_tile_inside_idlib_governorate_is_one_buffered_square_of_it() {
    let idlib =
        features("governorates.geojson").into_iter().find(|f| f["properties"]["iso_3166_2"] == "SY-ID").expect("SY-ID");
    let rings = polygon_rings(&idlib);
    let (lo, hi) = (-(BUFFER as f64), EXTENT + BUFFER as f64);
    // A tile whose buffered square no edge of the governorate meets, with its centre inside.
    let t = neighbourhood(tile_of(IDLIB, 10))
        .into_iter()
        .find(|&t| {
            let proj: Vec<Vec<(f64, f64)>> =
                rings.iter().flatten().map(|r| r.iter().map(|&p| extent_xy(p, t)).collect()).collect();
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

/// The y values where some segment of some line meets the vertical `x`.
fn ys_at(lines: &[Vec<Pt>], x: f64) -> Vec<f64> {
    let mut out = Vec::new();
    for w in lines.iter().flat_map(|l| l.windows(2)) {
        let (a, b) = ([w[0][0] as f64, w[0][1] as f64], [w[1][0] as f64, w[1][1] as f64]);
        if a[0] != b[0] && (a[0].min(b[0])..=a[0].max(b[0])).contains(&x) {
            out.push(a[1] + (x - a[0]) / (b[0] - a[0]) * (b[1] - a[1]));
        }
    }
    out
}

/// The M5's lines in a tile.
fn m5(t: TileAt) -> Vec<Vec<Pt>> {
    let tile = fetch(&tile_path(t, "?layers=roads"));
    let road = tile["roads"].features.iter().find(|f| f.str("id") == Some("m5-highway")).expect("the M5");
    match &road.geom {
        Geom::Lines(l) => l.clone(),
        other => panic!("the M5 is not a line: {other:?}"),
    }
}

#[test]
fn the_m5_crossing_a_tile_edge_continues_on_the_next_tile() {
    const Z: u8 = 10;
    let road = features("roads.geojson").into_iter().find(|f| f["id"] == "m5-highway").expect("the M5");
    let pts: Vec<(f64, f64)> = road["geometry"]["coordinates"]
        .as_array()
        .expect("a LineString")
        .iter()
        .map(|c| crate::common::mercator_px(lonlat(c).0, lonlat(c).1, Z))
        .collect();
    let mut checked = 0;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let first = (a.0.min(b.0) / 256.0).floor() as u32 + 1;
        for column in (first..).take_while(|&k| f64::from(k) * 256.0 < a.0.max(b.0)) {
            let x = f64::from(column) * 256.0;
            let y = a.1 + (x - a.0) / (b.0 - a.0) * (b.1 - a.1);
            // Away from the tile's top and bottom and from the road's vertices (8 px).
            if !(16.0..240.0).contains(&(y % 256.0)) || pts.iter().any(|v| (v.0 - x).hypot(v.1 - y) < 8.0) {
                continue;
            }
            let row = (y / 256.0).floor() as u32;
            let want = (y - f64::from(row) * 256.0) * 16.0;
            let (left, right) = (m5((Z, column - 1, row)), m5((Z, column, row)));
            let at = |lines: &[Vec<Pt>], x: f64| {
                ys_at(lines, x)
                    .into_iter()
                    .min_by(|p, q| (p - want).abs().total_cmp(&(q - want).abs()))
                    .expect("a crossing")
            };
            let (yl, yr) = (at(&left, EXTENT), at(&right, 0.0));
            let what = format!("column {column}, row {row}: want y {want:.1}, left {yl:.1}, right {yr:.1}");
            assert!((yl - want).abs() <= 2.0 && (yr - want).abs() <= 2.0 && (yl - yr).abs() <= 2.0, "{what}");
            assert!(left.iter().flatten().any(|p| p[0] > EXTENT as i64), "{what}: the left tile stops at its edge");
            assert!(right.iter().flatten().any(|p| p[0] < 0), "{what}: the right tile starts at its edge");
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} crossings checked");
}

#[test]
fn zoom_0_has_far_fewer_vertices_than_the_file_and_keeps_every_country_of_2x2_px() {
    let source = features("world-countries.geojson");
    let in_file: usize = source.iter().flat_map(polygon_rings).flatten().map(|r| r.len() - 1).sum();
    let tile = fetch("/tiles/0/0/0.mvt?layers=world-countries");
    let layer = &tile["world-countries"];
    let rings = |g: &Geom| match g {
        Geom::Rings(r) => r.iter().map(Vec::len).sum::<usize>(),
        other => panic!("not a polygon: {other:?}"),
    };
    let in_tile: usize = layer.features.iter().map(|f| rings(&f.geom)).sum();
    assert!(in_tile * 2 < in_file, "{in_tile} vertices at zoom 0, {in_file} in the file");

    // Simplification drops islands smaller than a pixel, never a country with a part of 2x2 px.
    let names: BTreeSet<&str> = layer.features.iter().filter_map(|f| f.str("name")).collect();
    for f in &source {
        let largest = polygon_rings(f)
            .iter()
            .map(|p| {
                let ring: Vec<(f64, f64)> = p[0].iter().map(|&q| extent_xy(q, (0, 0, 0))).collect();
                ring.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum::<f64>().abs() / 2.0
            })
            .fold(0.0, f64::max);
        let name = f["properties"]["name"].as_str().expect("name");
        assert!(largest < 4.0 * 256.0 || names.contains(name), "{name} ({largest:.0} units²) is missing at zoom 0");
    }
}

fn distance(p: (f64, f64), line: &[(f64, f64)]) -> f64 {
    line.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let t = if dx == 0.0 && dy == 0.0 {
                0.0
            } else {
                (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0)
            };
            (a.0 + t * dx - p.0).hypot(a.1 + t * dy - p.1)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn the_syria_turkey_border_keeps_its_shape_within_an_eighth_of_a_pixel() {
    // Simplification (1 unit) plus snapping (half a unit per axis) stay under 2 units: 1/8 px.
    const TOLERANCE: f64 = 2.0;
    let is_border = |p: &Value| p["left"] == "SYR" && p["right"] == "TUR";
    let border = features("borders.geojson").into_iter().find(|f| is_border(&f["properties"])).expect("SYR-TUR");
    let line: Vec<(f64, f64)> =
        border["geometry"]["coordinates"].as_array().expect("a LineString").iter().map(lonlat).collect();
    let mut tiles: BTreeSet<TileAt> = line.iter().map(|&p| tile_of(p, 10)).collect();
    tiles.extend(neighbourhood(tile_of((36.69264, 36.23064), 12)));
    let mut checked = 0;
    for t in tiles {
        let src: Vec<(f64, f64)> = line.iter().map(|&p| extent_xy(p, t)).collect();
        let in_tile: Vec<(f64, f64)> =
            src.iter().copied().filter(|p| (0.0..=EXTENT).contains(&p.0) && (0.0..=EXTENT).contains(&p.1)).collect();
        let tile = fetch(&tile_path(t, "?layers=borders"));
        let got: Vec<Vec<(f64, f64)>> = tile
            .get("borders")
            .into_iter()
            .flat_map(|l| &l.features)
            .filter(|f| f.str("left") == Some("SYR") && f.str("right") == Some("TUR"))
            .flat_map(|f| -> Vec<Vec<(f64, f64)>> {
                match &f.geom {
                    Geom::Lines(l) => {
                        l.iter().map(|l| l.iter().map(|p| (p[0] as f64, p[1] as f64)).collect()).collect()
                    }
                    other => panic!("not a line: {other:?}"),
                }
            })
            .collect();
        assert!(in_tile.is_empty() || !got.is_empty(), "{t:?}: the border is missing");
        for &v in got.iter().flatten() {
            assert!(distance(v, &src) <= TOLERANCE, "{t:?}: {v:?} is {:.2} units off the border", distance(v, &src));
        }
        for &s in &in_tile {
            let d = got.iter().map(|l| distance(s, l)).fold(f64::INFINITY, f64::min);
            assert!(d <= TOLERANCE, "{t:?}: the border's vertex {s:?} is {d:.2} units from the tile's line");
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} vertices checked");
}

#[test]
fn no_tile_around_idlib_has_empty_degenerate_or_mistyped_geometry() {
    let manifest = crate::common::manifest();
    let mut kinds: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for l in manifest["layers"].as_array().expect("layers") {
        let set = kinds.entry(l["id"].as_str().expect("id").to_owned()).or_default();
        for f in features(l["file"].as_str().expect("file")) {
            set.insert(match f["geometry"]["type"].as_str().expect("type") {
                "Point" | "MultiPoint" => "points",
                "LineString" | "MultiLineString" => "lines",
                _ => "polygons",
            });
        }
    }
    kinds.insert("events".into(), BTreeSet::from(["points"]));
    kinds.insert("labels".into(), BTreeSet::from(["points"]));
    let mut seen = 0;
    for z in 0..=12 {
        for t in neighbourhood(tile_of(IDLIB, z)) {
            // `fetch` decodes and refuses empty or degenerate geometry; here the type too.
            for (name, layer) in fetch(&tile_path(t, "")) {
                for f in &layer.features {
                    let kind = match f.geom {
                        Geom::Points(_) => "points",
                        Geom::Lines(_) => "lines",
                        Geom::Rings(_) => "polygons",
                    };
                    assert!(kinds[&name].contains(kind), "{name} in {t:?}: {kind}");
                }
                seen += layer.features.len();
            }
        }
    }
    assert!(seen > 1000, "only {seen} features");
}
