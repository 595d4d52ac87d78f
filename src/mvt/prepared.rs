//! A layer made ready for vector tiles once, on the first tile that shows it, so that a tile
//! reads only small flat arrays for the features it holds.
//!
//! Profiled on the peers' tile list (50,000 points, 2,000 roads, 500 districts), a vector tile
//! spent most of its time waiting on memory, not computing: each point's position sat in its own
//! heap allocation behind its `Feature` (tens of megabytes of parsed JSON between two of them),
//! its zoom's simplified shape behind a 32-byte slot, its id in a JSON value and its place in yet
//! another array; a busy tile touched all of them for thousands of points. Here the positions of
//! point features lie one after another, the ids in one array, and whether any feature of the
//! layer shares a place is one flag.
//!
//! Polygons were the other half: every tile clipped each one and made it valid again
//! ([`crate::geom::valid_polygons`]). Here a polygon feature is snapped to the zoom's grid
//! (extent units from the world's corner) and made valid once per zoom, on the first tile that
//! shows it. A tile that holds it whole moves it by whole grid units, which keeps it valid; a
//! tile across its edge cuts it ([`crate::geom::cut_valid`]), which keeps it valid or says it
//! cannot tell, and then the tile clips and repairs the shape as before.

use std::sync::OnceLock;

use super::geometry::{EXTENT, snap_grid};
use super::tags::LayerTags;
use crate::geom::{GridPoint, PREPARED_MAX_ZOOM, Shape, valid_polygons};
use crate::layer::Layer;
use crate::tile::{WorldPoint, WorldRect};

/// The kinds of geometry, as a tile needs to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Points, kept flat in [`Prepared::points`].
    Points,
    /// Lines.
    Lines,
    /// Polygons.
    Polygons,
}

/// A polygon feature made valid on a zoom's grid: its polygons as [`valid_polygons`] gives
/// them, relative to `base` (extent units of the zoom from the world's top-left corner).
#[derive(Debug)]
pub struct Valid {
    /// Where the polygons' origin lies on the zoom's grid.
    pub base: [i64; 2],
    /// Each polygon's rings, exterior first.
    pub polygons: Vec<Vec<Vec<GridPoint>>>,
}

/// The vector tile form of a layer, made once.
#[derive(Debug)]
pub struct Prepared {
    /// The layer's numbered keys and values and each feature's tags.
    pub tags: LayerTags,
    /// Each feature's MVT id.
    pub ids: Vec<u64>,
    /// Each feature's kind.
    pub kinds: Vec<Kind>,
    /// Each feature's unit-square box (its shape as loaded: simplified shapes lie inside it).
    pub bounds: Vec<WorldRect>,
    /// Whether any feature shares its place with another (only then can `held_by` answer).
    pub places: bool,
    /// The positions of point features, one after another; feature `i`'s are
    /// `points[point_at[i]..point_at[i + 1]]` (none for other kinds).
    points: Vec<WorldPoint>,
    point_at: Vec<u32>,
    /// Per zoom up to [`PREPARED_MAX_ZOOM`], per polygon feature (numbered by `polygon_slot`):
    /// the feature made valid on the zoom's grid, on the first tile that shows it.
    valid: Vec<OnceLock<Vec<OnceLock<Valid>>>>,
    polygon_slot: Vec<u32>,
    polygon_count: usize,
}

impl Prepared {
    /// Prepares `layer`.
    pub fn new(layer: &Layer) -> Self {
        let features = layer.features();
        let (mut points, mut point_at) = (Vec::new(), Vec::with_capacity(features.len() + 1));
        let mut polygon_slot = Vec::with_capacity(features.len());
        let mut polygon_count = 0;
        let mut kinds = Vec::with_capacity(features.len());
        point_at.push(0);
        for f in features {
            let kind = match &f.shape {
                Shape::Points(ps) => {
                    points.extend_from_slice(ps);
                    Kind::Points
                }
                Shape::Lines(_) => Kind::Lines,
                Shape::Polygons(_) => Kind::Polygons,
            };
            kinds.push(kind);
            point_at.push(points.len() as u32);
            if kind == Kind::Polygons {
                polygon_slot.push(polygon_count as u32);
                polygon_count += 1;
            } else {
                polygon_slot.push(u32::MAX);
            }
        }
        Self {
            tags: LayerTags::new(features),
            ids: features.iter().enumerate().map(|(i, f)| super::feature_id(&f.id, i)).collect(),
            kinds,
            bounds: features.iter().map(|f| f.shape.bounds()).collect(),
            places: (0..features.len()).any(|i| layer.place(i).is_some()),
            points,
            point_at,
            valid: (0..=PREPARED_MAX_ZOOM).map(|_| OnceLock::new()).collect(),
            polygon_slot,
            polygon_count,
        }
    }

    /// The positions of point feature `i`.
    pub fn points(&self, i: usize) -> &[WorldPoint] {
        match (self.point_at.get(i), self.point_at.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.points[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Polygon feature `i` of `layer` made valid on zoom `z`'s grid on the first call; `None`
    /// deeper than [`PREPARED_MAX_ZOOM`] (the caller clips and repairs the shape itself).
    pub fn valid(&self, layer: &Layer, z: u8, i: usize) -> Option<&Valid> {
        let slots = self.valid.get(usize::from(z))?.get_or_init(|| {
            let mut v = Vec::new();
            v.resize_with(self.polygon_count, OnceLock::new);
            v
        });
        let slot = slots.get(*self.polygon_slot.get(i)? as usize)?;
        Some(slot.get_or_init(|| valid(layer.shape_at(i, z), z)))
    }
}

/// A polygon shape snapped to zoom `z`'s grid and made valid there.
fn valid(shape: &Shape, z: u8) -> Valid {
    let k = f64::from(1u32 << z) * f64::from(EXTENT);
    let b = shape.bounds();
    // Snapped relative to the corner of the shape's box, so that the repair works on small
    // numbers whatever the zoom.
    let base = [(b.min.x * k).round() as i64, (b.min.y * k).round() as i64];
    let Shape::Polygons(polys) = shape else { return Valid { base, polygons: Vec::new() } };
    let mut snapped: Vec<Vec<Vec<GridPoint>>> = Vec::with_capacity(polys.len());
    for rings in polys {
        let mut out = Vec::with_capacity(rings.len());
        for (n, ring) in rings.iter().enumerate() {
            let mut pts: Vec<GridPoint> = ring.iter().map(|&p| snap_grid(p, k, base)).collect();
            pts.dedup();
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            if pts.len() < 3 {
                if n == 0 {
                    break;
                }
                continue;
            }
            out.push(pts);
        }
        snapped.push(out);
    }
    Valid { base, polygons: valid_polygons(&snapped) }
}
