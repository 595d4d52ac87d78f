//! Clipping to a rectangle in device pixels, before anything reaches the rasteriser.
//!
//! At deep zooms a country outline spans millions of pixels; handing those coordinates to the
//! rasteriser as `f32` loses precision and time. Fills are clipped with Sutherland-Hodgman
//! (cheap, and the extra edges it adds along the clip rectangle lie outside the tile, because
//! the rectangle is the tile plus a margin). Lines and outlines are clipped segment by segment
//! (Liang-Barsky), and each visible piece remembers how far along the original line it starts,
//! so that a dash pattern continues across tile edges instead of restarting on every tile.

/// A point in the coordinates of the tile being drawn: device pixels, or MVT extent units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px {
    /// Pixels from the tile's left edge.
    pub x: f64,
    /// Pixels from the tile's top edge.
    pub y: f64,
}

/// The clip rectangle, in device pixels: `lo..=hi` on both axes.
#[derive(Debug, Clone, Copy)]
pub struct ClipRect {
    /// Smallest coordinate kept.
    pub lo: f64,
    /// Largest coordinate kept.
    pub hi: f64,
}

/// A visible stretch of a line: its points and the distance (px) from the line's first
/// position to the stretch's first point.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// Distance along the whole line at which this piece starts, in device pixels.
    pub start: f64,
    /// The points of the piece.
    pub points: Vec<Px>,
}

impl ClipRect {
    /// Clips a polyline. Pieces are returned in order along the line.
    pub fn line(&self, points: &[Px]) -> Vec<Piece> {
        let (mut pts, mut starts) = (Vec::new(), Vec::new());
        self.line_into(points, &mut pts, &mut starts);
        let ends = starts.iter().skip(1).map(|s| s.1).chain(std::iter::once(pts.len()));
        starts.iter().zip(ends).map(|(&(start, from), to)| Piece { start, points: pts[from..to].to_vec() }).collect()
    }

    /// [`ClipRect::line`] into buffers the caller keeps: the pieces' points one after another
    /// in `pts`, and for each piece its distance along the line and the index in `pts` where
    /// its points begin (a piece ends where the next begins). Both are cleared first.
    pub fn line_into(&self, points: &[Px], pts: &mut Vec<Px>, pieces: &mut Vec<(f64, usize)>) {
        pts.clear();
        pieces.clear();
        let mut open = false;
        let mut dist = 0.0;
        for w in points.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
            match self.segment(a, b) {
                Some((t0, t1)) => {
                    let p1 = lerp(a, b, t1);
                    if !(open && t0 == 0.0 && !pieces.is_empty()) {
                        pieces.push((dist + t0 * len, pts.len()));
                        pts.push(lerp(a, b, t0));
                    }
                    pts.push(p1);
                    open = t1 == 1.0;
                }
                None => open = false,
            }
            dist += len;
        }
    }

    /// Liang-Barsky: the parameter range of segment `a`-`b` inside the rectangle.
    pub(crate) fn segment(&self, a: Px, b: Px) -> Option<(f64, f64)> {
        // Most segments of a tile lie inside: no division for them (the general case below
        // gives them exactly 0 and 1 as well).
        let inside = |p: Px| p.x >= self.lo && p.x <= self.hi && p.y >= self.lo && p.y <= self.hi;
        if inside(a) && inside(b) {
            return Some((0.0, 1.0));
        }
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [(-dx, a.x - self.lo), (dx, self.hi - a.x), (-dy, a.y - self.lo), (dy, self.hi - a.y)] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
                if t0 > t1 {
                    return None;
                }
            }
        }
        Some((t0, t1))
    }

    /// Clips a closed ring (first point repeated last or not) for filling. Returns an open
    /// ring, empty when nothing of it is inside.
    pub fn ring(&self, ring: &[Px]) -> Vec<Px> {
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        self.ring_into(ring, &mut out, &mut tmp);
        out
    }

    /// [`ClipRect::ring`] into `out`, with `tmp` as the second buffer of the four passes: both
    /// kept by the caller, so that clipping allocates nothing once they have grown.
    pub fn ring_into(&self, ring: &[Px], out: &mut Vec<Px>, tmp: &mut Vec<Px>) {
        out.clear();
        let n = if ring.len() > 1 && ring.first() == ring.last() { ring.len() - 1 } else { ring.len() };
        out.extend_from_slice(&ring[..n]);
        let edges: [Edge; 4] = [
            (|p, v| p.x >= v, |a, b, v| at_x(a, b, v), self.lo),
            (|p, v| p.x <= v, |a, b, v| at_x(a, b, v), self.hi),
            (|p, v| p.y >= v, |a, b, v| at_y(a, b, v), self.lo),
            (|p, v| p.y <= v, |a, b, v| at_y(a, b, v), self.hi),
        ];
        for (inside, cross, v) in edges {
            if out.is_empty() {
                break;
            }
            // A ring wholly inside this edge passes as it is.
            if out.iter().all(|&p| inside(p, v)) {
                continue;
            }
            tmp.clear();
            let mut prev = out[out.len() - 1];
            for &cur in out.iter() {
                match (inside(prev, v), inside(cur, v)) {
                    (true, true) => tmp.push(cur),
                    (true, false) => tmp.push(cross(prev, cur, v)),
                    (false, true) => {
                        tmp.push(cross(prev, cur, v));
                        tmp.push(cur);
                    }
                    (false, false) => {}
                }
                prev = cur;
            }
            std::mem::swap(out, tmp);
        }
        if out.len() < 3 {
            out.clear();
        }
    }
}

/// One side of the clip rectangle: which points are inside, where a segment crosses it, and
/// its coordinate.
type Edge = (fn(Px, f64) -> bool, fn(Px, Px, f64) -> Px, f64);

fn lerp(a: Px, b: Px, t: f64) -> Px {
    Px { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }
}

fn at_x(a: Px, b: Px, x: f64) -> Px {
    let t = (x - a.x) / (b.x - a.x);
    Px { x, y: a.y + (b.y - a.y) * t }
}

fn at_y(a: Px, b: Px, y: f64) -> Px {
    let t = (y - a.y) / (b.y - a.y);
    Px { x: a.x + (b.x - a.x) * t, y }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: ClipRect = ClipRect { lo: 0.0, hi: 10.0 };

    fn px(x: f64, y: f64) -> Px {
        Px { x, y }
    }

    #[test]
    fn a_line_leaving_and_coming_back_makes_two_pieces_with_their_distances() {
        let pieces = R.line(&[px(5.0, 5.0), px(15.0, 5.0), px(15.0, 8.0), px(5.0, 8.0)]);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].points, vec![px(5.0, 5.0), px(10.0, 5.0)]);
        assert_eq!(pieces[0].start, 0.0);
        assert_eq!(pieces[1].points, vec![px(10.0, 8.0), px(5.0, 8.0)]);
        assert!((pieces[1].start - 18.0).abs() < 1e-9);
    }

    #[test]
    fn a_line_inside_stays_one_piece() {
        let pts = [px(1.0, 1.0), px(2.0, 3.0), px(9.0, 9.0)];
        let pieces = R.line(&pts);
        assert_eq!(pieces, vec![Piece { start: 0.0, points: pts.to_vec() }]);
    }

    #[test]
    fn a_ring_around_the_rect_becomes_the_rect() {
        let ring = [px(-5.0, -5.0), px(15.0, -5.0), px(15.0, 15.0), px(-5.0, 15.0), px(-5.0, -5.0)];
        let out = R.ring(&ring);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|p| (p.x == 0.0 || p.x == 10.0) && (p.y == 0.0 || p.y == 10.0)));
    }

    #[test]
    fn a_ring_outside_vanishes() {
        let ring = [px(20.0, 20.0), px(30.0, 20.0), px(30.0, 30.0), px(20.0, 20.0)];
        assert!(R.ring(&ring).is_empty());
    }
}
