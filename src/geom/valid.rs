//! Polygons made valid by OGC rules on the integer grid of a vector tile, as MVT 2.1 (section
//! 4.3.4.4) requires: simple rings that neither cross nor touch themselves, holes inside their
//! exterior, a connected interior, and the polygons of one feature meeting at points only.
//!
//! A vector tile's polygon comes from a shape simplified ring by ring, clipped to the buffered
//! tile (Sutherland-Hodgman, which joins the pieces of a ring that leaves the tile and comes
//! back with edges doubling back along the clip rectangle) and snapped to the integer grid.
//! Each step can break a valid ring, and seven countries of `world-countries.geojson` cross
//! themselves in the file already. So the tile does not try to avoid every breakage but
//! resolves what it gets: all the rings of a feature go through i_overlay's "simplify shape"
//! with the even-odd rule (the rule the raster tiles fill with, so both kinds of tile cover the
//! same area) in its OGC mode, which splits pinched rings and disconnected interiors. i_overlay
//! (the crate under `geo`'s boolean operations) works in integer coordinates, so its answer is
//! exact on the grid and needs no snapping afterwards. Where two polygons of one feature
//! overlap, even-odd leaves the overlap out; in the default data they overlap only by slivers
//! (the United Kingdom and the United States, under 1e-6 square degrees each).
//!
//! Measured on the polygon layers of the default data at every zoom (the sweep of
//! `tests/integration/mvt_validity.rs`, 15,098 tiles, judged by GEOS): before, 3,640 of
//! 32,183 polygons were invalid (439 of 1,214 at zooms 0-3, 1,021 at 4-8, 2,180 at 9-20, the
//! deep ones from clipping and snapping alone); after, none.
//!
//! The cost, in instructions per vector tile (valgrind, warm, slicing to encoding; a count the
//! load of a shared machine does not blur), before and after: 3.0 M and 11.3 M at zooms 0-3
//! of the default data (a zoom-0 tile: 20 M and 141 M, for 41,000 positions in 1,845
//! polygons, 40% of its features invalid); 0.83 M and 0.92 M at zooms 4-8 (5,430 tiles);
//! 146 k and 154 k at zooms 9-20 (11,212 tiles along polygon edges); 7.7 M and 9.5 M on the
//! peers' list (630 tiles at zooms 8-12 of `bench/`'s synthetic data, whose 500 districts
//! have holes and many parts). In CPU time on this machine: 0.24 and 1.1 ms a tile at zooms
//! 0-3, 1.2-1.4 and 1.4-1.6 ms on the peers' list, 12 and 13 us at zooms 9-20. Two shortcuts
//! keep deep tiles cheap: a feature of one convex ring (the tile-sized square inside a polygon)
//! skips i_overlay, and one of one simple ring takes its fast path; the overlay's buffers are
//! kept per thread.
//!
//! Rejected: topology-preserving simplification (geo's `SimplifyVwPreserve`) in place of
//! Douglas-Peucker: without the repair it left 3,303 polygons invalid instead of 3,372 (on an
//! earlier sweep of the same kind), since the crossings come from clipping, snapping and the
//! source rather than from simplification, and it was several times slower to prepare a zoom
//! (see [`super::simplify`]). Resolving each polygon alone, then uniting those of a feature
//! whose boxes meet, cost a third more at zoom 0 than one even-odd pass, for slivers.

use std::cell::RefCell;

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay};
use i_overlay::core::solver::Solver;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::{IntContour, IntShape};

/// A position on a vector tile's integer grid: extent units from the tile's top-left corner,
/// y down.
pub type GridPoint = [i32; 2];

/// Makes one feature's polygons valid: `polygons` holds each polygon's rings (exterior first,
/// then holes, each open: the first point is not repeated), wound any way; a polygon whose
/// exterior has fewer than three points is dropped with its holes.
///
/// The answer covers the even-odd area of all the rings together (for polygons that do not
/// overlap, the area of each polygon), as polygons that are valid by OGC rules, each an
/// exterior of positive area by the surveyor's formula with y down (clockwise on screen, as
/// MVT 2.1 section 4.3.4.3 asks) followed by its holes of negative area. Rings are open, with
/// no repeated or collinear points.
///
/// # Examples
/// ```
/// use tessera::geom::valid_polygons;
/// // A bow tie: the ring crosses itself at (5, 5).
/// let bow = vec![vec![vec![[0, 0], [10, 10], [10, 0], [0, 10]]]];
/// let fixed = valid_polygons(&bow);
/// assert_eq!(fixed.len(), 2, "two triangles meeting at a point");
/// assert!(fixed.iter().all(|p| p.len() == 1 && p[0].len() == 3));
/// ```
pub fn valid_polygons(polygons: &[Vec<Vec<GridPoint>>]) -> Vec<Vec<Vec<GridPoint>>> {
    let kept = || polygons.iter().filter(|rings| rings.first().is_some_and(|r| r.len() >= 3));
    // One convex ring (the tile-sized square inside a polygon, most often) is valid as it is.
    if let [rings] = kept().collect::<Vec<_>>()[..]
        && let [ring] = &rings[..]
        && convex(ring)
    {
        let mut ring = ring.clone();
        if area2(&contour(&ring)) < 0 {
            ring.reverse();
        }
        return vec![vec![ring]];
    }
    let contours: Vec<IntContour> =
        kept().flat_map(|rings| rings.iter().filter(|r| r.len() >= 3).map(|r| contour(r))).collect();
    let resolved = OVERLAY.with_borrow_mut(|overlay| overlay.simplify_shape(&contours, FillRule::EvenOdd));
    let shapes = match resolved {
        Some(shapes) => wound(shapes),
        // A single simple ring, already wound as asked.
        None => vec![contours],
    };
    shapes.into_iter().map(|s| s.into_iter().map(|c| c.into_iter().map(|p| [p.x, p.y]).collect()).collect()).collect()
}

thread_local! {
    /// One overlay per thread, reused: its buffers outlive a feature, so that a tile of many
    /// small polygons does not allocate them for each.
    static OVERLAY: RefCell<Overlay> = RefCell::new(Overlay::new_custom(
        0,
        IntOverlayOptions { output_direction: ContourDirection::CounterClockwise, ..IntOverlayOptions::ogc() },
        Solver::default(),
    ));
}

/// Whether a ring is convex and goes round once: every turn the same way (none straight or
/// back), and its edges head right, then left (and down, then up) once each. Such a ring is
/// simple.
fn convex(ring: &[GridPoint]) -> bool {
    let n = ring.len();
    let edge = |i: usize| {
        let (a, b) = (ring[i % n], ring[(i + 1) % n]);
        (i64::from(b[0]) - i64::from(a[0]), i64::from(b[1]) - i64::from(a[1]))
    };
    let mut turn = 0;
    let (mut x_flips, mut y_flips) = (0, 0);
    let (mut x_was, mut y_was) = (0, 0);
    // Edges that all turn one way head right and left in turn twice for each time round the
    // ring; counted from the second edge, the flip across the start may be missed, so a ring
    // that goes round twice still shows at least three.
    for i in 0..n {
        let ((dx, dy), (ex, ey)) = (edge(i), edge(i + 1));
        let cross = (dx * ey - dy * ex).signum();
        if cross == 0 || (turn != 0 && cross != turn) {
            return false;
        }
        turn = cross;
        for (d, was, flips) in [(ex.signum(), &mut x_was, &mut x_flips), (ey.signum(), &mut y_was, &mut y_flips)] {
            if d != 0 {
                if *was != 0 && d != *was {
                    *flips += 1;
                }
                *was = d;
            }
        }
    }
    x_flips <= 2 && y_flips <= 2
}

/// The shapes with each exterior wound positive and each hole negative: i_overlay's OGC mode
/// can hand back a hole wound like its exterior (seen on Chile at zoom 0, in 4.5.2).
fn wound(mut shapes: Vec<IntShape>) -> Vec<IntShape> {
    for shape in &mut shapes {
        for (i, ring) in shape.iter_mut().enumerate() {
            if (i == 0) != (area2(ring) > 0) {
                ring.reverse();
            }
        }
    }
    shapes
}

/// Twice the signed area by the surveyor's formula: positive is clockwise with y down.
fn area2(ring: &[IntPoint]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.x) * i64::from(b.y) - i64::from(b.x) * i64::from(a.y)
        })
        .sum()
}

fn contour(ring: &[GridPoint]) -> IntContour {
    ring.iter().map(|p| IntPoint::new(p[0], p[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twice the signed area by the surveyor's formula (y down: positive is clockwise on screen).
    fn area2(ring: &[GridPoint]) -> i64 {
        let n = ring.len();
        (0..n)
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
            })
            .sum()
    }

    /// The polygons with each ring started at its smallest point, to compare them.
    fn normal(mut polygons: Vec<Vec<Vec<GridPoint>>>) -> Vec<Vec<Vec<GridPoint>>> {
        for r in polygons.iter_mut().flatten() {
            let first = (0..r.len()).min_by_key(|&i| r[i]).unwrap_or(0);
            r.rotate_left(first);
        }
        polygons
    }

    fn square(x: i32, y: i32, side: i32) -> Vec<GridPoint> {
        vec![[x, y], [x + side, y], [x + side, y + side], [x, y + side]]
    }

    #[test]
    fn exteriors_come_out_positive_and_holes_negative_whatever_the_input_winding() {
        for flip in [false, true] {
            let mut outer = square(0, 0, 100);
            let mut hole = square(40, 40, 20);
            if flip {
                outer.reverse();
            } else {
                hole.reverse();
            }
            let got = valid_polygons(&[vec![outer, hole]]);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].len(), 2);
            assert_eq!(area2(&got[0][0]), 2 * 100 * 100);
            assert_eq!(area2(&got[0][1]), -2 * 20 * 20);
        }
    }

    #[test]
    fn a_hole_handed_back_wound_like_its_exterior_is_reversed() {
        let (mut outer, hole) = (contour(&square(0, 0, 10)), contour(&square(2, 2, 2)));
        outer.reverse();
        let got = wound(vec![vec![outer, hole]]);
        assert_eq!(got[0].iter().map(|r| super::area2(r)).collect::<Vec<_>>(), vec![200, -8]);
    }

    #[test]
    fn only_rings_that_turn_one_way_and_go_round_once_are_taken_as_convex() {
        assert!(convex(&square(0, 0, 10)) && convex(&[[0, 0], [0, 10], [10, 0]]));
        let pentagram = [[0, 10], [6, -8], [-10, 3], [10, 3], [-6, -8]];
        assert!(!convex(&pentagram), "turns one way, but goes round twice");
        assert!(!convex(&[[0, 0], [10, 0], [20, 0], [10, 10]]), "a straight vertex");
        assert!(!convex(&[[0, 0], [10, 0], [5, 0], [5, 10]]), "a spike");
        assert!(!convex(&[[0, 0], [10, 0], [10, 10], [5, 2], [0, 10]]), "a dent");
        // Resolved even-odd, the pentagram is its five points, meeting at the corners of the
        // empty pentagon in its middle.
        let star = valid_polygons(&[vec![pentagram.to_vec()]]);
        assert_eq!(star.len(), 5);
        assert!(star.iter().all(|p| p.len() == 1 && p[0].len() == 3 && area2(&p[0]) > 0));
    }

    #[test]
    fn a_ring_pinched_at_a_vertex_becomes_two_polygons_meeting_there() {
        // Two squares joined at (10, 10), drawn as one ring through that vertex twice.
        let ring = vec![[0, 0], [10, 0], [10, 10], [20, 10], [20, 20], [10, 20], [10, 10], [0, 10]];
        let got = valid_polygons(&[vec![ring]]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|p| p.len() == 1 && area2(&p[0]) == 200));
    }

    #[test]
    fn the_spur_that_clipping_leaves_along_the_edge_goes() {
        // A U clipped at its top: Sutherland-Hodgman joins the two arms along the clip edge
        // y = 0 with an edge that doubles back over itself.
        let ring = vec![[0, 0], [10, 0], [10, 20], [20, 20], [20, 0], [30, 0], [30, 30], [0, 30]];
        let clipped_join = vec![[0, 0], [30, 0], [30, 30], [0, 30], [0, 0], [10, 0], [10, 20], [20, 20], [20, 0]];
        let plain = valid_polygons(&[vec![ring]]);
        let joined = valid_polygons(&[vec![clipped_join]]);
        assert_eq!(plain.len(), 1);
        let area = |ps: &[Vec<Vec<GridPoint>>]| ps.iter().flatten().map(|r| area2(r)).sum::<i64>();
        assert_eq!(area(&plain), 2 * (30 * 30 - 10 * 20));
        assert_eq!(area(&joined), area(&plain), "{joined:?}");
    }

    #[test]
    fn polygons_of_one_feature_that_share_an_edge_merge_and_apart_ones_stay_apart() {
        // Overlapping parts (even-odd): the overlap is left out, and what is left meets at
        // no more than points.
        let overlapping = normal(valid_polygons(&[vec![square(0, 0, 10)], vec![square(5, 0, 10)]]));
        let halves =
            vec![vec![vec![[0, 0], [5, 0], [5, 10], [0, 10]]], vec![vec![[10, 0], [15, 0], [15, 10], [10, 10]]]];
        assert_eq!(overlapping, halves);
        let sharing_an_edge = valid_polygons(&[vec![square(0, 0, 10)], vec![square(10, 0, 10)]]);
        assert_eq!(sharing_an_edge.len(), 1);
        let apart = valid_polygons(&[vec![square(0, 0, 10)], vec![square(20, 0, 10)]]);
        assert_eq!(apart.len(), 2);
        assert!(apart.iter().all(|p| area2(&p[0]) == 200));
    }

    #[test]
    fn a_polygon_without_an_exterior_is_dropped_and_a_degenerate_hole_ignored() {
        let polygons = [vec![vec![[0, 0], [5, 5]], square(1, 1, 2)], vec![square(10, 10, 4), vec![[11, 11]]]];
        let got = normal(valid_polygons(&polygons));
        assert_eq!(got, vec![vec![vec![[10, 10], [14, 10], [14, 14], [10, 14]]]]);
    }
}
