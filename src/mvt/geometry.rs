//! Geometry for vector tiles: projection to tile extent units, clipping to the buffered tile,
//! snapping to the integer grid, polygons made valid and wound on that grid
//! ([`crate::geom::valid_polygons`]), and command encoding.

use super::prepared::Valid;
use super::proto::GeomType;
use crate::geom::{ClipRect, GridPoint, Px, Shape, cut_valid, valid_polygons};
use crate::tile::{TileCoord, WorldPoint, WorldRect};

/// Tile extent: coordinates run 0..EXTENT across the tile.
pub const EXTENT: u32 = 4096;
/// Buffer around the tile in extent units (64/4096 of a tile: 4 px at 256 px), so that lines
/// and polygon edges drawn by a client join without seams.
pub const BUFFER: u32 = 64;
/// Simplification tolerance in extent units: 1/16 of a pixel at 256 px, invisible at the
/// tile's own zoom, yet it removes most vertices of detailed outlines at low zoom. The shapes
/// come simplified from the layer ([`crate::layer::Layer::shape_at`]); here they are only
/// clipped and snapped to the grid.
pub const TOLERANCE: f64 = crate::geom::TOLERANCE_PX * EXTENT as f64 / 256.0;

/// Buffers for [`Frame::encode_into`], kept between features and tiles.
#[derive(Debug, Default)]
pub struct Buffers {
    px: Vec<Px>,
    clipped: Vec<Px>,
    pieces: Vec<(f64, usize)>,
    pub(super) grid: Vec<GridPoint>,
    cut: Vec<Vec<Vec<GridPoint>>>,
}

/// Projects unit-square points into a tile's extent coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    origin: WorldPoint,
    k: f64,
    /// The tile's top-left corner on its zoom's grid (extent units from the world's corner).
    corner: [i64; 2],
}

impl Frame {
    /// The frame of a tile.
    pub fn new(tile: TileCoord) -> Self {
        let corner = [i64::from(tile.x()) * i64::from(EXTENT), i64::from(tile.y()) * i64::from(EXTENT)];
        Self { origin: tile.bounds().min, k: tile.world_tiles() * f64::from(EXTENT), corner }
    }

    /// Whether a unit-square box lies inside the buffered tile, so that nothing of a shape
    /// inside it would be clipped.
    pub fn holds(&self, b: &WorldRect) -> bool {
        let (clip, lo, hi) = (Self::clip(), self.px(b.min), self.px(b.max));
        lo.x >= clip.lo && lo.y >= clip.lo && hi.x <= clip.hi && hi.y <= clip.hi
    }

    /// A polygon feature made valid on the zoom's grid ([`Valid`]) as this tile's commands, into
    /// `out` (cleared first): moved as it is when it lies wholly in the buffered tile, else cut
    /// to it ([`cut_valid`]). `None` when the cut cannot vouch for its answer: then the
    /// caller clips and repairs the shape as [`Frame::encode_into`] does.
    pub fn valid_into(&self, v: &Valid, whole: bool, out: &mut Vec<u32>, b: &mut Buffers) -> Option<Option<GeomType>> {
        out.clear();
        let shift = [v.base[0] - self.corner[0], v.base[1] - self.corner[1]];
        let mut c = Cursor { at: [0, 0], out };
        if whole {
            let moved = |p: &GridPoint| [(i64::from(p[0]) + shift[0]) as i32, (i64::from(p[1]) + shift[1]) as i32];
            for ring in v.polygons.iter().flatten() {
                c.ring(ring.iter().map(moved), ring.len());
            }
        } else {
            let clip = Self::clip();
            if !cut_valid(&v.polygons, shift, clip.lo as i64, clip.hi as i64, &mut b.cut) {
                return None;
            }
            for ring in b.cut.iter().flatten() {
                c.ring(ring.iter().copied(), ring.len());
            }
        }
        Some((!out.is_empty()).then_some(GeomType::Polygon))
    }

    /// Point positions as commands into `out` (cleared first); `None` when none is in the
    /// buffered tile.
    pub fn points_into(&self, ps: &[WorldPoint], out: &mut Vec<u32>, grid: &mut Vec<GridPoint>) -> Option<GeomType> {
        let clip = Self::clip();
        out.clear();
        grid.clear();
        for &p in ps {
            let p = self.px(p);
            if p.x >= clip.lo && p.x <= clip.hi && p.y >= clip.lo && p.y <= clip.hi {
                grid.push(snap(p));
            }
        }
        if grid.is_empty() {
            return None;
        }
        let mut c = Cursor { at: [0, 0], out };
        c.out.push(command(1, grid.len()));
        grid.iter().for_each(|&p| c.to(p));
        Some(GeomType::Point)
    }

    fn px(&self, p: WorldPoint) -> Px {
        Px { x: (p.x - self.origin.x) * self.k, y: (p.y - self.origin.y) * self.k }
    }

    fn clip() -> ClipRect {
        ClipRect { lo: -f64::from(BUFFER), hi: f64::from(EXTENT + BUFFER) }
    }

    /// A shape as MVT geometry commands, or `None` when nothing of it is left in the
    /// buffered tile after clipping and snapping. Polygons come out valid by OGC rules,
    /// exteriors of positive area (clockwise with y down) and holes negative, as MVT 2.1 asks.
    pub fn encode(&self, shape: &Shape) -> Option<(GeomType, Vec<u32>)> {
        let mut out = Vec::new();
        self.encode_into(shape, &mut out, &mut Buffers::default()).map(|kind| (kind, out))
    }

    /// [`Frame::encode`] into `out` (cleared first), with buffers kept by the caller, so that
    /// points and lines allocate nothing once the buffers have grown.
    pub fn encode_into(&self, shape: &Shape, out: &mut Vec<u32>, b: &mut Buffers) -> Option<GeomType> {
        let clip = Self::clip();
        out.clear();
        match shape {
            Shape::Points(ps) => self.points_into(ps, out, &mut b.grid),
            Shape::Lines(lines) => {
                let mut c = Cursor { at: [0, 0], out };
                for l in lines {
                    b.px.clear();
                    b.px.extend(l.iter().map(|&p| self.px(p)));
                    clip.line_into(&b.px, &mut b.clipped, &mut b.pieces);
                    for (n, &(_, from)) in b.pieces.iter().enumerate() {
                        let to = b.pieces.get(n + 1).map_or(b.clipped.len(), |p| p.1);
                        b.grid.clear();
                        b.grid.extend(b.clipped[from..to].iter().map(|&p| snap(p)));
                        b.grid.dedup();
                        if b.grid.len() >= 2 {
                            c.out.push(command(1, 1));
                            c.to(b.grid[0]);
                            c.out.push(command(2, b.grid.len() - 1));
                            b.grid[1..].iter().for_each(|&p| c.to(p));
                        }
                    }
                }
                (!c.out.is_empty()).then_some(GeomType::Linestring)
            }
            Shape::Polygons(polys) => {
                let rings = self.polygons(polys, clip);
                if rings.is_empty() {
                    return None;
                }
                out.extend(rings_cmd(&rings));
                Some(GeomType::Polygon)
            }
        }
    }

    /// The rings of a shape's polygons in the buffered tile, valid and wound as MVT 2.1 asks,
    /// each exterior followed by its holes.
    fn polygons(&self, polys: &[Vec<Vec<WorldPoint>>], clip: ClipRect) -> Vec<Vec<GridPoint>> {
        let snapped: Vec<Vec<Vec<GridPoint>>> = polys.iter().map(|p| self.polygon(p, clip)).collect();
        valid_polygons(&snapped).into_iter().flatten().collect()
    }

    /// One polygon's rings clipped to the buffered tile and snapped to the grid, open and wound
    /// as they come; a polygon whose exterior vanishes loses its holes too.
    fn polygon(&self, rings: &[Vec<WorldPoint>], clip: ClipRect) -> Vec<Vec<GridPoint>> {
        let mut out = Vec::with_capacity(rings.len());
        for (i, ring) in rings.iter().enumerate() {
            let px: Vec<Px> = ring.iter().map(|&p| self.px(p)).collect();
            let mut pts = dedup(clip.ring(&px).into_iter().map(snap).collect());
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            if pts.len() < 3 {
                if i == 0 {
                    return Vec::new();
                }
                continue;
            }
            out.push(pts);
        }
        out
    }
}

fn snap(p: Px) -> [i32; 2] {
    [p.x.round() as i32, p.y.round() as i32]
}

/// A unit-square point on the grid of a zoom whose world is `k` extent units wide, relative to
/// `base` on that grid.
pub(super) fn snap_grid(p: WorldPoint, k: f64, base: [i64; 2]) -> GridPoint {
    [((p.x * k).round() as i64 - base[0]) as i32, ((p.y * k).round() as i64 - base[1]) as i32]
}

fn dedup(mut pts: Vec<[i32; 2]>) -> Vec<[i32; 2]> {
    pts.dedup();
    pts
}

/// Twice the signed area by the surveyor's formula, in tile coordinates (y down).
pub fn area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

struct Cursor<'a> {
    at: [i32; 2],
    out: &'a mut Vec<u32>,
}

impl Cursor<'_> {
    fn to(&mut self, p: [i32; 2]) {
        self.out.push(zigzag(p[0] - self.at[0]));
        self.out.push(zigzag(p[1] - self.at[1]));
        self.at = p;
    }

    /// A closed ring of `n` points.
    fn ring(&mut self, mut ring: impl Iterator<Item = GridPoint>, n: usize) {
        self.out.push(command(1, 1));
        if let Some(p) = ring.next() {
            self.to(p);
        }
        self.out.push(command(2, n - 1));
        ring.for_each(|p| self.to(p));
        self.out.push(command(7, 1));
    }
}

#[cfg(test)]
fn points(pts: &[[i32; 2]]) -> Vec<u32> {
    let mut out = vec![command(1, pts.len())];
    let mut c = Cursor { at: [0, 0], out: &mut out };
    pts.iter().for_each(|&p| c.to(p));
    out
}

#[cfg(test)]
fn lines_cmd(parts: &[Vec<[i32; 2]>]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut c = Cursor { at: [0, 0], out: &mut out };
    for part in parts {
        c.out.push(command(1, 1));
        c.to(part[0]);
        c.out.push(command(2, part.len() - 1));
        part[1..].iter().for_each(|&p| c.to(p));
    }
    out
}

pub(super) fn rings_cmd(rings: &[Vec<[i32; 2]>]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut c = Cursor { at: [0, 0], out: &mut out };
    for ring in rings {
        c.out.push(command(1, 1));
        c.to(ring[0]);
        c.out.push(command(2, ring.len() - 1));
        ring[1..].iter().for_each(|&p| c.to(p));
        c.out.push(command(7, 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_and_commands_follow_the_spec() {
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [0, 1, 2, 3]);
        // The spec's example: a point at (25, 17) is [9, 50, 34].
        assert_eq!(points(&[[25, 17]]), vec![9, 50, 34]);
        // Its line example: (2,2) (2,10) (10,10) is [9, 4, 4, 18, 0, 16, 16, 0].
        assert_eq!(lines_cmd(&[vec![[2, 2], [2, 10], [10, 10]]]), vec![9, 4, 4, 18, 0, 16, 16, 0]);
        // Its polygon example: (3,6) (8,12) (20,34) is [9, 6, 12, 18, 10, 12, 24, 44, 15].
        assert_eq!(rings_cmd(&[vec![[3, 6], [8, 12], [20, 34]]]), vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn exterior_rings_have_positive_area_and_holes_negative() {
        let tile = TileCoord::new(0, 0, 0).unwrap_or_else(|e| unreachable!("{e}"));
        let f = Frame::new(tile);
        let sq = |a: f64, b: f64| {
            vec![
                WorldPoint::new(a, a),
                WorldPoint::new(a, b),
                WorldPoint::new(b, b),
                WorldPoint::new(b, a),
                WorldPoint::new(a, a),
            ]
        };
        // Both rings wound alike in the source: the hole comes out reversed.
        let rings = f.polygons(&[vec![sq(0.1, 0.9), sq(0.4, 0.6)]], Frame::clip());
        assert_eq!(rings.len(), 2);
        assert!(area2(&rings[0]) > 0);
        assert!(area2(&rings[1]) < 0);
    }
}
