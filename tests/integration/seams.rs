//! Tile seams: a dashed road or a point symbol that crosses the edge between two horizontally
//! adjacent tiles must be drawn whole on both, with the dash pattern continuing across the edge.
//!
//! The crossings are found in the test from the GeoJSON files and the Web Mercator formula; the
//! dash phase at a crossing is the distance along the road from its first position, in pixels
//! at that zoom, modulo the pattern's period (the way a continuous line would be dashed).

use crate::common::{background, close, distance2, features, get_tile, layer_color, layer_entry, mercator_px, point};

/// Where a road crosses the vertical line between tile columns `column - 1` and `column`.
#[derive(Debug, Clone)]
struct Crossing {
    z: u8,
    #[expect(dead_code, reason = "read only by Debug, in failure messages")]
    road: String,
    column: u32,
    tile_row: u32,
    /// Global pixel row of the road at the edge.
    y: f64,
    /// Rows per column of the road there.
    slope: f64,
    /// Distance along the road modulo the dash period, in pixels.
    phase: f64,
}

fn roads_projected(z: u8) -> Vec<(String, Vec<(f64, f64)>)> {
    features("roads.geojson")
        .iter()
        .map(|f| {
            let id = f["id"].as_str().expect("road id").to_owned();
            let pts = f["geometry"]["coordinates"]
                .as_array()
                .expect("a LineString")
                .iter()
                .map(|c| mercator_px(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"), z))
                .collect();
            (id, pts)
        })
        .collect()
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    (a.0 + t * dx - p.0).hypot(a.1 + t * dy - p.1)
}

/// Every crossing of a tile column edge by a road at zoom `z`, away from the other road and
/// from vertices (where the expected row would be harder to state).
fn crossings(z: u8, period: f64) -> Vec<Crossing> {
    let roads = roads_projected(z);
    let mut out = Vec::new();
    for (id, pts) in &roads {
        let mut along = 0.0;
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let first = (a.0.min(b.0) / 256.0).floor() as u32 + 1;
            for column in (first..).take_while(|&k| f64::from(k) * 256.0 < a.0.max(b.0)) {
                let x = f64::from(column) * 256.0;
                let t = (x - a.0) / (b.0 - a.0);
                let y = a.1 + t * (b.1 - a.1);
                let clear_of_others = roads
                    .iter()
                    .filter(|(other, _)| other != id)
                    .flat_map(|(_, o)| o.windows(2))
                    .all(|s| segment_distance((x, y), s[0], s[1]) > 24.0);
                let clear_of_vertices =
                    roads.iter().flat_map(|(_, o)| o.iter()).all(|v| (v.0 - x).hypot(v.1 - y) > 6.0);
                if clear_of_others && clear_of_vertices && (24.0..232.0).contains(&(y % 256.0)) {
                    out.push(Crossing {
                        z,
                        road: id.clone(),
                        column,
                        tile_row: (y / 256.0) as u32,
                        y,
                        slope: (b.1 - a.1) / (b.0 - a.0),
                        phase: (along + t * len) % period,
                    });
                }
            }
            along += len;
        }
    }
    out
}

/// Rows (pixel centres, global) of a tile column that are nearer the road colour than the
/// background, within 12 rows of `y`.
fn road_rows(image: &crate::common::Image, column: u32, tile_row: u32, y: f64) -> Vec<f64> {
    let (road, bg) = (layer_color("roads", "stroke"), background());
    let top = f64::from(tile_row) * 256.0;
    (0..256)
        .map(|r| (r, top + f64::from(r) + 0.5))
        .filter(|&(_, cy)| (cy - y).abs() <= 12.0)
        .filter(|&(r, _)| {
            let p = image.pixel(column, r);
            distance2(p, road) < distance2(p, bg)
        })
        .map(|(_, cy)| cy)
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Renders both tiles of a crossing with only the roads, and returns the road rows of the left
/// tile's last column and of the right tile's first column.
fn edge_rows(c: &Crossing) -> (Vec<f64>, Vec<f64>) {
    let path = |x: u32| format!("/tiles/{}/{x}/{}.png?layers=roads", c.z, c.tile_row);
    let left = get_tile(&path(c.column - 1), 256);
    let right = get_tile(&path(c.column), 256);
    (road_rows(&left, 255, c.tile_row, c.y - 0.5 * c.slope), road_rows(&right, 0, c.tile_row, c.y + 0.5 * c.slope))
}

fn dash() -> (f64, f64) {
    let style = &layer_entry("roads")["style"];
    let d: Vec<f64> = style["dash"]
        .as_array()
        .expect("the roads are dashed")
        .iter()
        .map(|v| v.as_float().expect("dash length"))
        .collect();
    assert_eq!(d.len(), 2, "one dash and one gap");
    (d[0], d[1])
}

#[test]
fn a_dashed_road_crossing_a_tile_edge_in_a_dash_is_drawn_on_both_sides_at_the_same_rows() {
    let (on, off) = dash();
    let chosen: Vec<Crossing> = (10..=13)
        .flat_map(|z| crossings(z, on + off))
        .filter(|c| c.slope.abs() < 1.0 && (on * 0.3..on * 0.7).contains(&c.phase))
        .take(4)
        .collect();
    assert!(chosen.len() >= 2, "the roads should cross tile edges mid-dash");
    for c in &chosen {
        let (left, right) = edge_rows(c);
        assert!(!left.is_empty() && !right.is_empty(), "{c:?}: {left:?} | {right:?}");
        let (l, r) = (mean(&left), mean(&right));
        assert!((l - (c.y - 0.5 * c.slope)).abs() < 1.5, "{c:?}: left at {l}");
        assert!((r - (c.y + 0.5 * c.slope)).abs() < 1.5, "{c:?}: right at {r}");
        assert!((l - r).abs() <= c.slope.abs() + 1.0, "{c:?}: {l} vs {r}");
    }
}

#[test]
fn a_dashed_road_crossing_a_tile_edge_in_a_gap_is_blank_on_both_sides() {
    let (on, off) = dash();
    let mid_gap = on + off / 2.0;
    let chosen: Vec<Crossing> = (10..=14)
        .flat_map(|z| crossings(z, on + off))
        .filter(|c| c.slope.abs() < 0.5 && (c.phase - mid_gap).abs() < off * 0.15)
        .take(3)
        .collect();
    assert!(!chosen.is_empty(), "the roads should cross tile edges mid-gap");
    for c in &chosen {
        let (left, right) = edge_rows(c);
        assert!(left.is_empty() && right.is_empty(), "{c:?}: {left:?} | {right:?}");
    }
}

#[test]
fn a_point_symbol_on_a_tile_edge_is_drawn_on_both_tiles() {
    // A circle symbol (a town or city of the report) whose centre is less than 2 px from a
    // vertical tile edge, away from the other places.
    let places = features("report-places.geojson");
    let circles: Vec<_> =
        places.iter().filter(|f| matches!(f["properties"]["kind"].as_str(), Some("city" | "town"))).collect();
    let found = (6u8..=18).flat_map(|z| circles.iter().map(move |f| (z, *f))).find(|&(z, f)| {
        let (x, y) = mercator_px(point(f).0, point(f).1, z);
        let edge = (x / 256.0).round() * 256.0;
        let alone = places.iter().filter(|g| *g != f).all(|g| {
            let (gx, gy) = mercator_px(point(g).0, point(g).1, z);
            (gx - x).hypot(gy - y) > 30.0
        });
        (x - edge).abs() < 2.0 && (24.0..232.0).contains(&(y % 256.0)) && alone
    });
    let (z, f) = found.expect("a report place lies on a tile edge at some zoom");
    // Today: Idlib at zoom 16, 0.9 px east of the edge between columns 39436 and 39437.
    let (x, y) = mercator_px(point(f).0, point(f).1, z);
    let column = (x / 256.0).round() as u32;
    let (tile_row, row) = ((y / 256.0) as u32, (y % 256.0) as u32);
    let path = |c: u32| format!("/tiles/{z}/{c}/{tile_row}.png?layers=report-places");
    let fill = layer_color("report-places", "fill");
    let left = get_tile(&path(column - 1), 256).pixel(255, row);
    let right = get_tile(&path(column), 256).pixel(0, row);
    assert!(close(left, fill, 8), "{} z{z}: left {left:?}", f["id"]);
    assert!(close(right, fill, 8), "{} z{z}: right {right:?}", f["id"]);
}
