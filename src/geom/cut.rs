//! Cutting polygons that are already valid on an integer grid to a square of that grid, so that
//! what is left stays valid without a second repair, or saying that it cannot tell.
//!
//! Vector tiles clip each polygon to the buffered tile and then make it valid again
//! ([`super::valid_polygons`]): Sutherland-Hodgman joins the pieces of a ring along the tile's
//! edge with edges that double back, and snapping moves the new points. That repair, run on
//! every tile for every polygon crossing its edge, was half the time of the polygon tiles. Here
//! the polygon is made valid once per zoom on the zoom's grid, and a tile cuts it by walking the
//! square's edge (Weiler-Atherton for a convex window): each piece of a ring inside the square
//! runs from the point where it enters to the point where it leaves, and from there the edge of
//! the square is followed, in the direction that keeps the inside on the same side, to the next
//! point where a piece enters. Only the points on the square's edge are new, and each is
//! rounded along that edge alone.
//!
//! The cut gives up (`false`), leaving the caller to clip and repair as before, whenever it
//! could not show that its answer is valid: a vertex on the square's edge, a crossing at a
//! corner or half-way between two grid points, two crossings that round to one point or swap,
//! a ring outside the square that holds it or an edge outside that touches it, a hole inside
//! the square whose exterior is cut, or a vertex inside the sliver between a crossing and its
//! rounded point (where the rounded edge might cross another).

use super::{ClipRect, GridPoint, Px};

/// One piece of a ring inside the square: its entry and exit on the square's edge and the
/// ring's vertices between them (all strictly inside).
struct Arc {
    entry: Crossing,
    exit: Crossing,
    vertices: std::ops::Range<usize>,
}

/// Where a ring crosses the square's edge: exactly (as a position along the edge, clockwise on
/// screen from the top-left corner), rounded to the grid, and its exact point.
#[derive(Clone, Copy)]
struct Crossing {
    s: f64,
    at: [i64; 2],
    exact: [f64; 2],
}

/// Cuts `polygons` (valid by OGC rules and wound as [`super::valid_polygons`] gives them,
/// coordinates relative to `shift`: a point is `p + shift` in the square's coordinates) to the
/// square `lo..=hi` on both axes. On success, `out` holds the polygons left, valid and wound
/// alike, and the answer is `true`; `false` when the cut could not vouch for its answer.
pub fn cut_valid(
    polygons: &[Vec<Vec<GridPoint>>],
    shift: [i64; 2],
    lo: i64,
    hi: i64,
    out: &mut Vec<Vec<Vec<GridPoint>>>,
) -> bool {
    out.clear();
    let side = hi - lo;
    let mut vertices: Vec<[i64; 2]> = Vec::new();
    let mut arcs: Vec<Arc> = Vec::new();
    // Rings wholly inside, as (polygon, ring, range in `vertices`).
    let mut inside: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
    let strictly = |p: [i64; 2]| p[0] > lo && p[0] < hi && p[1] > lo && p[1] < hi;
    let touches = |p: [i64; 2]| p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi;
    let mut enclosing = false;
    for (pi, rings) in polygons.iter().enumerate() {
        for (ri, ring) in rings.iter().enumerate() {
            let n = ring.len();
            if n < 3 {
                return false;
            }
            let start = vertices.len();
            let mut n_in = 0;
            for p in ring {
                let q = [i64::from(p[0]) + shift[0], i64::from(p[1]) + shift[1]];
                if strictly(q) {
                    n_in += 1;
                } else if touches(q) {
                    return false;
                }
                vertices.push(q);
            }
            let ring_v: Vec<[i64; 2]> = vertices[start..].to_vec();
            if n_in == n {
                inside.push((pi, ri, start..start + n));
                continue;
            }
            if n_in == 0 {
                if ring_v.iter().zip(ring_v.iter().cycle().skip(1)).any(|(&a, &b)| meets(a, b, lo, hi)) {
                    return false;
                }
                let probe = [lo as f64 + 0.5, lo as f64 + 0.5];
                enclosing |= contains(&ring_v, probe);
                continue;
            }
            // The pieces inside, from each entry to the next exit, starting after an exit.
            let Some(first_exit) = (0..n).find(|&i| strictly(ring_v[i]) && !strictly(ring_v[(i + 1) % n])) else {
                return false;
            };
            let mut entry: Option<(Crossing, usize)> = None;
            for step in 1..=n {
                let i = (first_exit + step) % n;
                let (a, b) = (ring_v[i], ring_v[(i + 1) % n]);
                match (strictly(a), strictly(b)) {
                    (false, false) => {
                        if meets(a, b, lo, hi) {
                            return false;
                        }
                    }
                    (false, true) => {
                        let Some(c) = crossing(b, a, lo, hi, side) else { return false };
                        entry = Some((c, (i + 1) % n));
                    }
                    (true, false) => {
                        let Some(c) = crossing(a, b, lo, hi, side) else { return false };
                        let Some((e, from)) = entry.take() else { return false };
                        // Vertices from `from` to `i`, which may wrap round the ring's end.
                        let range = if from <= i {
                            start + from..start + i + 1
                        } else {
                            let at = vertices.len();
                            let copy: Vec<[i64; 2]> = vertices[start + from..start + n]
                                .iter()
                                .chain(&vertices[start..=start + i])
                                .copied()
                                .collect();
                            vertices.extend(copy);
                            at..vertices.len()
                        };
                        arcs.push(Arc { entry: e, exit: c, vertices: range });
                    }
                    (true, true) => {}
                }
            }
        }
    }
    let grid = |p: [i64; 2]| [p[0] as i32, p[1] as i32];
    if arcs.is_empty() {
        if enclosing {
            return false;
        }
        for (pi, ri, r) in &inside {
            if *ri == 0 {
                out.push(vec![vertices[r.clone()].iter().map(|&p| grid(p)).collect()]);
            } else if inside.iter().any(|(p, q, _)| p == pi && *q == 0) {
                if let Some(last) = out.last_mut() {
                    last.push(vertices[r.clone()].iter().map(|&p| grid(p)).collect());
                }
            } else {
                return false;
            }
        }
        return true;
    }
    // A hole wholly inside whose exterior is cut would need to find its piece: left to the repair.
    if inside.iter().any(|(pi, ri, _)| *ri > 0 && !inside.iter().any(|(p, q, _)| p == pi && *q == 0)) {
        return false;
    }
    // Crossings in order along the edge: rounding must keep them apart and in that order, and
    // each exit must be followed by an entry.
    let mut order: Vec<(f64, usize, bool)> =
        arcs.iter().enumerate().flat_map(|(k, a)| [(a.entry.s, k, true), (a.exit.s, k, false)]).collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rounded = |c: &Crossing| along(c.at, lo, hi, side);
    let crossing_of = |&(_, k, is_entry): &(f64, usize, bool)| if is_entry { arcs[k].entry } else { arcs[k].exit };
    for w in order.windows(2) {
        if rounded(&crossing_of(&w[0])) >= rounded(&crossing_of(&w[1])) {
            return false;
        }
    }
    // Next entry after each exit, by arc.
    let mut next = vec![usize::MAX; arcs.len()];
    for (n, o) in order.iter().enumerate() {
        if !o.2 {
            let after = order[(n + 1) % order.len()];
            if !after.2 {
                return false;
            }
            next[o.1] = after.1;
        }
    }
    // No vertex in the sliver between a crossing's exact and rounded points, and no two new
    // edges crossing.
    let mut new_edges: Vec<([i64; 2], [i64; 2])> = Vec::with_capacity(2 * arcs.len());
    for a in &arcs {
        let vs = &vertices[a.vertices.clone()];
        let (Some(&first), Some(&last)) = (vs.first(), vs.last()) else { return false };
        for (v, c) in [(first, a.entry), (last, a.exit)] {
            let in_sliver = |p: &[i64; 2]| *p != v && in_triangle(*p, v, c.exact, c.at);
            if arcs.iter().any(|b| vertices[b.vertices.clone()].iter().any(in_sliver))
                || inside.iter().any(|(_, _, r)| vertices[r.clone()].iter().any(in_sliver))
            {
                return false;
            }
            new_edges.push((v, c.at));
        }
        if vs.len() == 1 && cross(first, a.entry.at, a.exit.at) == 0 {
            return false;
        }
    }
    for (n, e) in new_edges.iter().enumerate() {
        if new_edges[n + 1..].iter().any(|f| e.0 != f.0 && segments_meet(e.0, e.1, f.0, f.1)) {
            return false;
        }
    }
    // Trace: each exit walks the edge clockwise (as exteriors turn) to the next entry.
    let corners = [[lo, lo], [hi, lo], [hi, hi], [lo, hi]];
    let mut done = vec![false; arcs.len()];
    for k0 in 0..arcs.len() {
        if done[k0] {
            continue;
        }
        let mut ring: Vec<[i64; 2]> = Vec::new();
        let mut k = k0;
        while !done[k] {
            done[k] = true;
            let a = &arcs[k];
            ring.push(a.entry.at);
            ring.extend_from_slice(&vertices[a.vertices.clone()]);
            ring.push(a.exit.at);
            let n = next[k];
            let (from, to) = (rounded(&a.exit), rounded(&arcs[n].entry));
            let to = if to <= from { to + 4 * side } else { to };
            for c in 1..=8 {
                let s = c * side;
                if s > from && s < to {
                    ring.push(corners[(c % 4) as usize]);
                }
            }
            k = n;
        }
        if k != k0 || ring.len() < 3 || area2(&ring) <= 0 {
            return false;
        }
        // A hole meeting its exterior at a point, both cut into one ring, would pinch it there.
        let mut seen = ring.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return false;
        }
        out.push(vec![ring.iter().map(|&p| grid(p)).collect()]);
    }
    for (pi, ri, r) in &inside {
        let ring: Vec<GridPoint> = vertices[r.clone()].iter().map(|&p| grid(p)).collect();
        if *ri == 0 {
            out.push(vec![ring]);
        } else if let Some(last) = out.last_mut()
            && inside.iter().any(|(p, q, _)| p == pi && *q == 0)
        {
            last.push(ring);
        }
    }
    true
}

/// Where the edge from `a` (strictly inside) to `b` (outside) leaves the square, or `None` at a
/// corner or when rounding along the edge is a tie.
fn crossing(a: [i64; 2], b: [i64; 2], lo: i64, hi: i64, side: i64) -> Option<Crossing> {
    let (ax, ay, dx, dy) = (a[0] as f64, a[1] as f64, (b[0] - a[0]) as f64, (b[1] - a[1]) as f64);
    let (flo, fhi) = (lo as f64, hi as f64);
    // The smallest t in (0, 1] at which a coordinate reaches lo or hi.
    let mut t = 1.0f64;
    let mut wall = 0;
    for (w, d, p, bound) in [(0, dx, ax, flo), (1, dx, ax, fhi), (2, dy, ay, flo), (3, dy, ay, fhi)] {
        if d != 0.0 {
            let tt = (bound - p) / d;
            if tt > 0.0 && tt < t {
                t = tt;
                wall = w;
            } else if tt > 0.0 && tt == t {
                return None;
            }
        }
    }
    let exact = [ax + dx * t, ay + dy * t];
    let free = if wall < 2 { exact[1] } else { exact[0] };
    let r = free.round();
    if ((free - r).abs() - 0.5).abs() < 1e-6 {
        return None;
    }
    let r = r as i64;
    if r <= lo || r >= hi {
        return None;
    }
    let at = match wall {
        0 => [lo, r],
        1 => [hi, r],
        2 => [r, lo],
        _ => [r, hi],
    };
    let s = along_f(exact, wall, lo as f64, hi as f64, side as f64);
    Some(Crossing { s, at, exact })
}

/// Position along the square's edge, clockwise on screen (y down) from the top-left corner.
fn along(p: [i64; 2], lo: i64, hi: i64, side: i64) -> i64 {
    if p[1] == lo {
        p[0] - lo
    } else if p[0] == hi {
        side + p[1] - lo
    } else if p[1] == hi {
        2 * side + hi - p[0]
    } else {
        3 * side + hi - p[1]
    }
}

fn along_f(p: [f64; 2], wall: i32, lo: f64, hi: f64, side: f64) -> f64 {
    match wall {
        2 => p[0] - lo,
        1 => side + p[1] - lo,
        3 => 2.0 * side + hi - p[0],
        _ => 3.0 * side + hi - p[1],
    }
}

/// Whether the segment `a`-`b` meets the closed square grown by half a unit.
fn meets(a: [i64; 2], b: [i64; 2], lo: i64, hi: i64) -> bool {
    let square = ClipRect { lo: lo as f64 - 0.5, hi: hi as f64 + 0.5 };
    let px = |p: [i64; 2]| Px { x: p[0] as f64, y: p[1] as f64 };
    square.segment(px(a), px(b)).is_some()
}

/// Even-odd point in ring (the point is on no vertex's row: half-integer against integers).
fn contains(ring: &[[i64; 2]], p: [f64; 2]) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let (ay, by) = (a[1] as f64, b[1] as f64);
        if (ay > p[1]) != (by > p[1]) {
            let x = a[0] as f64 + (p[1] - ay) / (by - ay) * (b[0] - a[0]) as f64;
            if x > p[0] {
                inside = !inside;
            }
        }
    }
    inside
}

/// Whether `p` lies in the closed triangle `a`, `b`, `c` (with a margin, to be safe).
fn in_triangle(p: [i64; 2], a: [i64; 2], b: [f64; 2], c: [i64; 2]) -> bool {
    let f = |q: [i64; 2]| [q[0] as f64, q[1] as f64];
    let (p, a, c) = (f(p), f(a), f(c));
    let o = |u: [f64; 2], v: [f64; 2], w: [f64; 2]| (v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0]);
    let (d1, d2, d3) = (o(a, b, p), o(b, c, p), o(c, a, p));
    let e = 1e-9;
    let has_neg = d1 < -e || d2 < -e || d3 < -e;
    let has_pos = d1 > e || d2 > e || d3 > e;
    !(has_neg && has_pos)
}

fn cross(o: [i64; 2], a: [i64; 2], b: [i64; 2]) -> i128 {
    i128::from(a[0] - o[0]) * i128::from(b[1] - o[1]) - i128::from(a[1] - o[1]) * i128::from(b[0] - o[0])
}

/// Whether two closed segments meet.
fn segments_meet(a: [i64; 2], b: [i64; 2], c: [i64; 2], d: [i64; 2]) -> bool {
    let (d1, d2, d3, d4) = (cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d));
    if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
        return true;
    }
    let on = |p: [i64; 2], q: [i64; 2], r: [i64; 2]| {
        r[0] >= p[0].min(q[0]) && r[0] <= p[0].max(q[0]) && r[1] >= p[1].min(q[1]) && r[1] <= p[1].max(q[1])
    };
    (d1 == 0 && on(c, d, a)) || (d2 == 0 && on(c, d, b)) || (d3 == 0 && on(a, b, c)) || (d4 == 0 && on(a, b, d))
}

fn area2(ring: &[[i64; 2]]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::valid_polygons;

    fn area(polygons: &[Vec<Vec<GridPoint>>]) -> i64 {
        polygons
            .iter()
            .flatten()
            .map(|r| {
                let n = r.len();
                (0..n)
                    .map(|i| {
                        i64::from(r[i][0]) * i64::from(r[(i + 1) % n][1])
                            - i64::from(r[(i + 1) % n][0]) * i64::from(r[i][1])
                    })
                    .sum::<i64>()
            })
            .sum()
    }

    fn square(x: i32, y: i32, side: i32) -> Vec<GridPoint> {
        vec![[x, y], [x + side, y], [x + side, y + side], [x, y + side]]
    }

    /// Cuts through `cut_valid` and through the repair of a Sutherland-Hodgman clip, for areas
    /// to compare.
    fn both(polygons: &[Vec<Vec<GridPoint>>], lo: i32, hi: i32) -> (Option<Vec<Vec<Vec<GridPoint>>>>, i64) {
        let valid = valid_polygons(polygons);
        let mut out = Vec::new();
        let ok = cut_valid(&valid, [0, 0], i64::from(lo), i64::from(hi), &mut out);
        let rect = crate::geom::ClipRect { lo: f64::from(lo), hi: f64::from(hi) };
        let clipped: Vec<Vec<Vec<GridPoint>>> = valid
            .iter()
            .map(|rings| {
                rings
                    .iter()
                    .map(|r| {
                        let px: Vec<crate::geom::Px> =
                            r.iter().map(|p| crate::geom::Px { x: f64::from(p[0]), y: f64::from(p[1]) }).collect();
                        rect.ring(&px).iter().map(|p| [p.x.round() as i32, p.y.round() as i32]).collect()
                    })
                    .collect()
            })
            .collect();
        (ok.then_some(out), area(&valid_polygons(&clipped)))
    }

    #[test]
    fn a_square_over_the_edge_is_cut_to_the_part_inside_wound_as_an_exterior() {
        let (got, want) = both(&[vec![square(50, 20, 100)]], 0, 100);
        let got = got.expect("cut");
        assert_eq!(got.len(), 1);
        assert_eq!(area(&got), want);
        assert_eq!(want, 2 * 50 * 80);
    }

    #[test]
    fn a_u_across_the_edge_becomes_two_pieces() {
        // A U whose arms reach up out of the square at y = 0: two pieces inside.
        let u = vec![[10, -20], [20, -20], [20, 30], [40, 30], [40, -20], [50, -20], [50, 40], [10, 40]];
        let (got, want) = both(&[vec![u.clone()]], 0, 100);
        let got = got.expect("cut");
        assert_eq!(area(&got), want);
        // Upside down, the U leaves the square and comes back: the arms are outside, the
        // bottom inside, one piece.
        let n: Vec<GridPoint> = u.iter().map(|p| [p[0], 20 - p[1]]).collect();
        let (got, want) = both(&[vec![n]], 0, 100);
        assert_eq!(area(&got.expect("cut")), want);
    }

    #[test]
    fn a_hole_cut_by_the_edge_opens_the_exterior() {
        let (got, want) = both(&[vec![square(20, 20, 100), square(60, 40, 50)]], 0, 100);
        let got = got.expect("cut");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), 1, "the hole is open to the edge: {got:?}");
        assert_eq!(area(&got), want);
        // A hole wholly inside an exterior that is cut: left to the repair.
        assert!(both(&[vec![square(20, 20, 100), square(40, 40, 20)]], 0, 100).0.is_none());
        // Wholly inside, both stay as they are.
        let (got, want) = both(&[vec![square(20, 20, 60), square(40, 40, 20)]], 0, 100);
        let got = got.expect("cut");
        assert_eq!((got.len(), got[0].len(), area(&got)), (1, 2, want));
    }

    #[test]
    fn it_gives_up_on_vertices_on_the_edge_and_on_a_ring_holding_the_square() {
        let mut out = Vec::new();
        assert!(!cut_valid(&[vec![square(0, 20, 50)]], [0, 0], 0, 100, &mut out));
        assert!(!cut_valid(&[vec![square(-50, -50, 300)]], [0, 0], 0, 100, &mut out));
        assert!(cut_valid(&[vec![square(200, 200, 10)]], [0, 0], 0, 100, &mut out) && out.is_empty());
    }
}
