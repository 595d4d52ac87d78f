//! Geometry prepared per zoom: Douglas-Peucker (geo's `Simplify`) at a tolerance of
//! [`TOLERANCE_PX`] of a pixel at that zoom, so a tile never walks thousands of vertices that
//! land on the same pixel.

use geo::Simplify;

use crate::layer::Shape;
use crate::tile::WorldPoint;

/// Tolerance in CSS pixels of a 256-pixel tile: 1/16, one MVT extent unit, invisible even on
/// a 512-pixel (`@2x`) tile.
pub const TOLERANCE_PX: f64 = 1.0 / 16.0;

/// A shape simplified for zoom `z`, or `None` when simplifying would not save a fifth of its
/// vertices (then the original serves). Rings that collapse are dropped, and a polygon whose
/// outer ring collapses is dropped with its holes.
pub fn simplify_for_zoom(shape: &Shape, z: u8) -> Option<Shape> {
    let eps = TOLERANCE_PX / (256.0 * f64::from(1u32 << z));
    let before = count(shape);
    let out = match shape {
        Shape::Points(_) => return None,
        Shape::Lines(lines) => Shape::Lines(lines.iter().map(|l| run(l, eps)).filter(|l| l.len() >= 2).collect()),
        Shape::Polygons(polys) => Shape::Polygons(
            polys
                .iter()
                .filter_map(|rings| {
                    let mut out = Vec::with_capacity(rings.len());
                    for (i, r) in rings.iter().enumerate() {
                        let s = run(r, eps);
                        if s.len() >= 4 {
                            out.push(s);
                        } else if i == 0 {
                            return None;
                        }
                    }
                    Some(out)
                })
                .collect(),
        ),
    };
    (count(&out) * 5 < before * 4).then_some(out)
}

fn run(pts: &[WorldPoint], eps: f64) -> Vec<WorldPoint> {
    if pts.len() <= 3 {
        return pts.to_vec();
    }
    let line: geo::LineString<f64> = pts.iter().map(|p| geo::coord! { x: p.x, y: p.y }).collect();
    line.simplify(eps).0.into_iter().map(|c| WorldPoint::new(c.x, c.y)).collect()
}

fn count(shape: &Shape) -> usize {
    match shape {
        Shape::Points(p) => p.len(),
        Shape::Lines(l) => l.iter().map(Vec::len).sum(),
        Shape::Polygons(p) => p.iter().flatten().map(Vec::len).sum(),
    }
}
