//! The geometry every tile is drawn from: a feature's positions projected once, at load, to the
//! Web Mercator unit square.

use crate::tile::{WorldPoint, WorldRect};

/// A geometry projected to the unit square, the form the renderer, the vector tile encoder and
/// the spatial index use.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One or more points.
    Points(Vec<WorldPoint>),
    /// One or more lines, each of at least two positions.
    Lines(Vec<Vec<WorldPoint>>),
    /// One or more polygons, each an outer ring followed by its holes; rings are closed.
    Polygons(Vec<Vec<Vec<WorldPoint>>>),
}

impl Shape {
    /// The smallest unit-square rectangle holding every position.
    pub fn bounds(&self) -> WorldRect {
        let mut r = WorldRect {
            min: WorldPoint::new(f64::INFINITY, f64::INFINITY),
            max: WorldPoint::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
        };
        let mut add = |p: &WorldPoint| {
            r.min.x = r.min.x.min(p.x);
            r.min.y = r.min.y.min(p.y);
            r.max.x = r.max.x.max(p.x);
            r.max.y = r.max.y.max(p.y);
        };
        match self {
            Shape::Points(ps) => ps.iter().for_each(&mut add),
            Shape::Lines(ls) => ls.iter().flatten().for_each(&mut add),
            Shape::Polygons(ps) => ps.iter().flatten().flatten().for_each(&mut add),
        }
        r
    }

    /// How many positions it has.
    pub fn vertex_count(&self) -> usize {
        match self {
            Shape::Points(p) => p.len(),
            Shape::Lines(l) => l.iter().map(Vec::len).sum(),
            Shape::Polygons(p) => p.iter().flatten().map(Vec::len).sum(),
        }
    }
}
