//! Shapes prepared per zoom: Douglas-Peucker (geo's `Simplify`), ring by ring, at a tolerance
//! of [`TOLERANCE_PX`] of a pixel at that zoom, so that a tile never walks thousands of
//! vertices that land on one pixel. [`ZoomShapes`] keeps them, made on first use of a zoom.
//!
//! Douglas-Peucker ring by ring may let a ring cross itself or a neighbour, within the
//! tolerance (one MVT extent unit). The raster tiles fill even-odd, so such a crossing is at
//! most a sub-pixel speck there; vector tiles make their polygons valid after clipping and
//! snapping anyway ([`super::valid_polygons`]), as they must for what snapping and the source
//! data break. Topology-preserving Visvalingam-Whyatt (geo's `SimplifyVwPreserve`, per polygon,
//! area threshold the tolerance squared) was measured instead and rejected: the vector tiles
//! kept nearly as many invalid polygons before the repair (3,303 against 3,372 over all
//! zooms), preparing a zoom took 2 to 100 times as long (governorates at zoom 0: 23-33 ms
//! against 0.2-0.5 ms), the world's countries kept 62,000 vertices at zoom 0 against 43,000,
//! and the raster tiles would have changed.

use std::sync::OnceLock;

use geo::Simplify;

use super::Shape;
use crate::tile::WorldPoint;

/// Tolerance in CSS pixels of a 256-pixel tile: 1/16, one MVT extent unit, invisible even on
/// a 512-pixel (`@2x`) tile.
pub const TOLERANCE_PX: f64 = 1.0 / 16.0;

/// Deepest zoom with simplified shapes; deeper tiles use the shapes as loaded.
pub const PREPARED_MAX_ZOOM: u8 = 14;

/// A set of shapes (a layer's, in its order) simplified for each zoom up to
/// [`PREPARED_MAX_ZOOM`]; a zoom is made for the whole set on its first use.
#[derive(Debug)]
pub struct ZoomShapes {
    /// Per zoom, per shape: the simplified shape, or `None` when the shape itself serves.
    zooms: Vec<OnceLock<Vec<Option<Shape>>>>,
}

impl Default for ZoomShapes {
    fn default() -> Self {
        Self { zooms: (0..=PREPARED_MAX_ZOOM).map(|_| OnceLock::new()).collect() }
    }
}

impl ZoomShapes {
    /// Shape `i` of the set as drawn at zoom `z`, or `None` when the shape as loaded serves
    /// (deeper than [`PREPARED_MAX_ZOOM`], or too little to gain). `shapes` lists the whole
    /// set, in order; it is walked on the first use of a zoom only.
    pub fn get<'s, I>(&self, z: u8, i: usize, shapes: impl FnOnce() -> I) -> Option<&Shape>
    where
        I: Iterator<Item = &'s Shape>,
    {
        let cell = self.zooms.get(usize::from(z))?;
        cell.get_or_init(|| shapes().map(|s| simplify_for_zoom(s, z)).collect()).get(i)?.as_ref()
    }
}

/// A shape simplified for zoom `z`, or `None` when simplifying would not save a fifth of its
/// vertices (then the original serves). Rings that collapse are dropped, and a polygon whose
/// outer ring collapses is dropped with its holes.
pub fn simplify_for_zoom(shape: &Shape, z: u8) -> Option<Shape> {
    let eps = TOLERANCE_PX / (256.0 * f64::from(1u32 << z));
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
    (out.vertex_count() * 5 < shape.vertex_count() * 4).then_some(out)
}

fn run(pts: &[WorldPoint], eps: f64) -> Vec<WorldPoint> {
    if pts.len() <= 3 {
        return pts.to_vec();
    }
    let line: geo::LineString<f64> = pts.iter().map(|p| geo::coord! { x: p.x, y: p.y }).collect();
    line.simplify(eps).0.into_iter().map(|c| WorldPoint::new(c.x, c.y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zigzag of `n` points whose teeth are `tooth` high, in the unit square.
    fn zigzag(n: usize, tooth: f64) -> Shape {
        Shape::Lines(vec![
            (0..n).map(|i| WorldPoint::new(0.5 + i as f64 * 1e-4, 0.5 + (i % 2) as f64 * tooth)).collect(),
        ])
    }

    #[test]
    fn teeth_under_the_tolerance_go_and_teeth_over_it_stay() {
        // At zoom 4 a pixel is 1/4096 of the unit square; teeth of 1/100 px go, of 1 px stay.
        let px = 1.0 / 4096.0;
        let flat = zigzag(50, px / 100.0);
        assert!(matches!(simplify_for_zoom(&flat, 4), Some(Shape::Lines(l)) if l[0].len() == 2));
        assert_eq!(simplify_for_zoom(&zigzag(50, px), 4), None);
    }

    #[test]
    fn a_zoom_is_made_once_and_deep_zooms_use_the_shapes_as_loaded() {
        let shapes = [zigzag(50, 1e-9), Shape::Points(vec![WorldPoint::new(0.5, 0.5)])];
        let cache = ZoomShapes::default();
        let mut walks = 0;
        for _ in 0..3 {
            let got = cache.get(3, 0, || {
                walks += 1;
                shapes.iter()
            });
            assert!(matches!(got, Some(Shape::Lines(_))));
        }
        assert_eq!(walks, 1);
        assert_eq!(cache.get(3, 1, || shapes.iter()), None, "points are never simplified");
        assert_eq!(cache.get(PREPARED_MAX_ZOOM + 1, 0, || shapes.iter()), None);
    }
}
