//! The two drawing operations a busy tile repeats thousands of times, written for that, beside
//! tiny-skia: stamping a point symbol's small premultiplied image, and stroking a solid line.
//!
//! Why not tiny-skia for these: each `draw_pixmap` call builds and compiles a raster pipeline
//! with a pattern shader for a 9 x 9 image, and each `stroke_path` turns a 1.2 px line into a
//! polygon (joins as curves), then fills it with 4x vertical supersampling through the same
//! pipeline. On the peers' tile list (`benches/tile_list.rs`), stroking took over half of the
//! raster time and stamping a tenth (perf, self and children). Here a stamp is a plain
//! premultiplied source-over of its pixels, and a solid stroke is gathered as a coverage byte
//! per pixel, the most any segment of the line gives it (so that joins and self-crossings are
//! not drawn twice), then the line's colour is blended once over the covered pixels. Dashed
//! lines stay with tiny-skia's dasher and stroker.
//!
//! Thin lines (up to [`THIN_MAX_PX`], every line of the default style at 1x and most at 2x)
//! are walked a column at a time along each segment's major axis, as hairline rasterisers do:
//! the line's thickness along the minor axis gives each of the two or three pixels across it
//! its coverage, and lines of at most a pixel get tiny-skia's hairline tent. That costs a
//! column per pixel of length. The first version measured each pixel's distance to each
//! segment instead: on the bench data (2 million segments a pass, 2.8 px long on average, most
//! roads and district outlines) it evaluated 12 pixels per pixel of line, for 40% of the
//! raster time; the column walk took the tile list from 379 to 583 tiles a second. Wider lines
//! keep that distance rasteriser, for its round joins, which a wide line shows.
//!
//! Not pixel for pixel tiny-skia's: its 4x supersampling rounds a 1.2 px line to whole
//! quarters, and its hairlines along the canvas's top row split their coverage the other way.
//! The column walk moved about 1% of the pixels of the z6 overview golden (thin wiggly
//! outlines, where the outside of each bend is now a short square reach rather than a round
//! join) by more than 8 levels; those goldens were rewritten after comparing them side by side.
//!
//! Everything is premultiplied RGBA8, as in a tiny-skia `Pixmap`; a `Mask`, when given, scales
//! the coverage of each pixel, as tiny-skia's does.

use tiny_skia::{Mask, Pixmap};

use crate::geom::Px;
use crate::style::Color;

/// `v / 255`, rounded to nearest, for `v` up to 255 * 255.
#[inline]
pub(super) fn div255(v: u32) -> u32 {
    let v = v + 128;
    (v + (v >> 8)) >> 8
}

/// Premultiplied source-over of `src` (premultiplied RGBA) onto the pixel `dst`.
#[inline]
pub(super) fn over(dst: &mut [u8], src: [u32; 4]) {
    let inv = 255 - src[3];
    for (d, s) in dst.iter_mut().zip(src) {
        *d = (s + div255(u32::from(*d) * inv)).min(255) as u8;
    }
}

/// Blends the premultiplied image `img` with its top-left corner at (`x`, `y`) device pixels,
/// painting only where `mask` allows.
pub fn stamp(dst: &mut Pixmap, img: &Pixmap, x: i32, y: i32, mask: Option<&Mask>) {
    let (dw, dh) = (dst.width() as i32, dst.height() as i32);
    let (sw, sh) = (img.width() as i32, img.height() as i32);
    let (x0, y0, x1, y1) = (x.max(0), y.max(0), (x + sw).min(dw), (y + sh).min(dh));
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let src = img.data();
    let data = dst.data_mut();
    for yy in y0..y1 {
        let srow = ((yy - y) * sw) as usize;
        let drow = (yy * dw) as usize;
        for xx in x0..x1 {
            let si = (srow + (xx - x) as usize) * 4;
            let s = &src[si..si + 4];
            if s[3] == 0 {
                continue;
            }
            let di = (drow + xx as usize) * 4;
            let d = &mut data[di..di + 4];
            let m = mask.map_or(255, |m| u32::from(m.data()[drow + xx as usize]));
            if m == 255 && s[3] == 255 {
                d.copy_from_slice(s);
            } else if m == 255 {
                over(d, [s[0], s[1], s[2], s[3]].map(u32::from));
            } else if m > 0 {
                over(d, [s[0], s[1], s[2], s[3]].map(|c| div255(u32::from(c) * m)));
            }
        }
    }
}

/// The widest line, in device pixels, drawn by [`Strokes`]' column-at-a-time path; wider lines
/// are drawn with round joins from the distance to each segment.
pub const THIN_MAX_PX: f32 = 3.0;

/// `x.floor()` as an integer, without a call to libm (the baseline x86-64 target has no
/// rounding instruction). Saturates far outside the canvas, where it is clamped anyway.
#[inline]
fn floor_i(x: f32) -> i64 {
    let i = x as i64;
    if (i as f32) > x { i - 1 } else { i }
}

/// `x.ceil()` as an integer; see [`floor_i`].
#[inline]
fn ceil_i(x: f32) -> i64 {
    let i = x as i64;
    if (i as f32) < x { i + 1 } else { i }
}

/// Coverage of a solid stroke being drawn, kept between tiles (one per render thread): a byte
/// per device pixel, and the list of pixels touched, so that blending and clearing visit only
/// the pixels of the line. (A span of columns per row, as before, cost more to keep up than
/// the list: two comparisons and a store per pixel drawn, and the blend read untouched pixels
/// between the ends of each span.)
#[derive(Debug, Default)]
pub struct Strokes {
    w: usize,
    h: usize,
    cover: Vec<u8>,
    /// The index of each pixel whose coverage went from zero since the last flush.
    touched: Vec<u32>,
}

impl Strokes {
    /// Ready for a canvas of `w` x `h` device pixels, every pixel uncovered.
    pub fn begin(&mut self, w: u32, h: u32) {
        let (w, h) = (w as usize, h as usize);
        if (w, h) != (self.w, self.h) {
            self.w = w;
            self.h = h;
            self.cover = vec![0; w * h];
        }
        for &i in &self.touched {
            self.cover[i as usize] = 0;
        }
        self.touched.clear();
    }

    /// Adds a polyline of `width` device pixels, with butt ends at its first and last point.
    /// Lines up to [`THIN_MAX_PX`] wide are drawn a column (or row) at a time along each
    /// segment's major axis; wider ones pixel by pixel from the distance to each segment, with
    /// round joins.
    pub fn polyline(&mut self, pts: &[Px], width: f32) {
        if self.w == 0 || self.h == 0 {
            return;
        }
        let moves = |i: &usize| pts[*i] != pts[*i + 1];
        let n = pts.len().saturating_sub(1);
        let (Some(first), Some(last)) = ((0..n).find(moves), (0..n).rev().find(moves)) else { return };
        let thin = width <= THIN_MAX_PX;
        for i in first..=last {
            if !moves(&i) {
                continue;
            }
            let (a, b, butt_a, butt_b) = (pts[i], pts[i + 1], i == first, i == last);
            if !thin {
                self.segment(a, b, width / 2.0, butt_a, butt_b);
                continue;
            }
            let (ax, ay, bx, by) = (a.x as f32, a.y as f32, b.x as f32, b.y as f32);
            if !(ax.is_finite() && ay.is_finite() && bx.is_finite() && by.is_finite()) {
                continue;
            }
            if (bx - ax).abs() >= (by - ay).abs() {
                self.thin::<true>([ax, ay], [bx, by], width, butt_a, butt_b);
            } else {
                self.thin::<false>([ay, ax], [by, bx], width, butt_a, butt_b);
            }
        }
    }

    /// A thin segment from `a` to `b`, each given as (major, minor) coordinates: x and y when
    /// `X_MAJOR`, y and x otherwise. Each column along the major axis whose centre the
    /// segment spans gets the line's coverage across the minor axis at that centre: for a
    /// line of at most a pixel, tiny-skia's hairline tent times the width; wider, the part of
    /// each pixel the line's thickness along the minor axis covers (width x length / major
    /// extent, so that a column holds the line's true area). A butt end covers the part of its
    /// column up to the end; an inner end reaches half the width past the joint, so that the
    /// outside of a bend is filled, and the neighbour drawn over it keeps the larger coverage.
    fn thin<const X_MAJOR: bool>(&mut self, a: [f32; 2], b: [f32; 2], width: f32, butt_a: bool, butt_b: bool) {
        let (lo, hi, butt_lo, butt_hi) = if b[0] >= a[0] { (a, b, butt_a, butt_b) } else { (b, a, butt_b, butt_a) };
        let run = hi[0] - lo[0];
        if run <= 0.0 {
            return;
        }
        let slope = (hi[1] - lo[1]) / run;
        let hairline = width <= 1.0;
        let half = width * (1.0 + slope * slope).sqrt() / 2.0;
        let (n_major, n_minor) = if X_MAJOR { (self.w, self.h) } else { (self.h, self.w) };
        let reach = width / 2.0;
        let from = if butt_lo { lo[0] - 0.5 } else { lo[0] - reach };
        let to = if butt_hi { hi[0] + 0.5 } else { hi[0] + reach };
        // Columns whose centre (i + 0.5) lies in [from, to].
        let i0 = ceil_i(from - 0.5).max(0);
        let i1 = floor_i(to - 0.5).min(n_major as i64 - 1);
        let last_minor = n_minor as i64 - 1;
        for i in i0..=i1 {
            let c = i as f32 + 0.5;
            let m = lo[1] + (c - lo[0]) * slope;
            let mut end = 1.0f32;
            if butt_lo {
                end = (c + 0.5 - lo[0]).clamp(0.0, 1.0);
            }
            if butt_hi {
                end *= (hi[0] - (c - 0.5)).clamp(0.0, 1.0);
            }
            let (j0, j1) = if hairline {
                let j = floor_i(m - 0.5);
                (j, j + 1)
            } else {
                (floor_i(m - half), floor_i(m + half))
            };
            for j in j0.max(0)..=j1.min(last_minor) {
                let cover = if hairline {
                    width * (1.0 - (j as f32 + 0.5 - m).abs())
                } else {
                    (m + half).min(j as f32 + 1.0) - (m - half).max(j as f32)
                } * end;
                // Cover is at least 0 here: a plain conversion, without the saturating one's
                // checks.
                let v = (cover.min(1.0) * 255.0 + 0.5) as i32 as u8;
                if v == 0 {
                    continue;
                }
                let (x, y) = if X_MAJOR { (i as usize, j as usize) } else { (j as usize, i as usize) };
                self.mark(x, y, v);
            }
        }
    }

    /// Raises the coverage of pixel (`x`, `y`) to `v` and notes the pixel as touched.
    #[inline]
    fn mark(&mut self, x: usize, y: usize, v: u8) {
        let i = y * self.w + x;
        let cell = &mut self.cover[i];
        if *cell == 0 {
            self.touched.push(i as u32);
        }
        if v > *cell {
            *cell = v;
        }
    }

    fn segment(&mut self, a: Px, b: Px, hw: f32, butt_a: bool, butt_b: bool) {
        let (ax, ay, bx, by) = (a.x as f32, a.y as f32, b.x as f32, b.y as f32);
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        // Also stops a NaN length.
        if len.is_nan() || len <= 1e-6 || self.h == 0 {
            return;
        }
        let inv = 1.0 / len;
        // Lines of at most one pixel are drawn as tiny-skia draws them (as anti-aliased
        // hairlines with their alpha scaled by the width): a tent of one pixel across the
        // line, measured along the minor axis, times the width. The box filter below gives
        // such lines a flat top and sharper sides, which moved thin borders by up to 70 levels.
        let hairline = hw <= 0.5;
        let minor = len / dx.abs().max(dy.abs());
        // Pixel centres farther than hw + 0.5 from the segment get nothing; r bounds the rows
        // and columns looked at.
        let r = hw + 1.0;
        let ylo = (ay.min(by) - r).floor().max(0.0);
        let yhi = (ay.max(by) + r).ceil().min(self.h as f32 - 1.0);
        if ylo > yhi {
            return;
        }
        let wmax = self.w as f32 - 1.0;
        for yi in ylo as usize..=yhi as usize {
            let yc = yi as f32 + 0.5;
            // The columns within r of the part of the segment within r of this row.
            let (xa, xb) = if dy.abs() < 1e-6 {
                (ax.min(bx), ax.max(bx))
            } else {
                let t0 = ((yc - r - ay) / dy).clamp(0.0, 1.0);
                let t1 = ((yc + r - ay) / dy).clamp(0.0, 1.0);
                let (u, v) = (ax + dx * t0, ax + dx * t1);
                (u.min(v), u.max(v))
            };
            let xlo = (xa - r).floor().max(0.0);
            let xhi = (xb + r).ceil().min(wmax);
            if xlo > xhi {
                continue;
            }
            let py = yc - ay;
            for xi in xlo as usize..=xhi as usize {
                let px = xi as f32 + 0.5 - ax;
                let along = (px * dx + py * dy) * inv;
                let across = (px * dy - py * dx).abs() * inv;
                let (d, beside) = if along < 0.0 && !butt_a {
                    ((px * px + py * py).sqrt(), false)
                } else if along > len && !butt_b {
                    let (qx, qy) = (px - dx, py - dy);
                    ((qx * qx + qy * qy).sqrt(), false)
                } else {
                    (across, true)
                };
                let mut c = if hairline {
                    // Beside the segment, the distance along the minor axis; around a joint,
                    // the distance to it.
                    let d = if beside { across * minor } else { d };
                    2.0 * hw * (1.0 - d)
                } else {
                    // Box filter across the line: the part of the pixel's width the line covers.
                    (d + hw).min(0.5) - (d - hw).max(-0.5)
                };
                if c <= 0.0 {
                    continue;
                }
                if butt_a {
                    c *= (along + 0.5).clamp(0.0, 1.0);
                }
                if butt_b {
                    c *= (len - along + 0.5).clamp(0.0, 1.0);
                }
                let v = (c.min(1.0) * 255.0 + 0.5) as u8;
                if v == 0 {
                    continue;
                }
                self.mark(xi, yi, v);
            }
        }
    }

    /// Blends `color` over the covered pixels (scaled by `mask`) and clears the coverage.
    pub fn flush(&mut self, pixmap: &mut Pixmap, color: Color, mask: Option<&Mask>) {
        let data = pixmap.data_mut();
        let (r, g, b, a) = (u32::from(color.r), u32::from(color.g), u32::from(color.b), u32::from(color.a));
        for &i in &self.touched {
            let i = i as usize;
            let c = u32::from(std::mem::take(&mut self.cover[i]));
            let c = mask.map_or(c, |m| div255(c * u32::from(m.data()[i])));
            let sa = div255(a * c);
            if sa == 0 {
                continue;
            }
            over(&mut data[i * 4..i * 4 + 4], [div255(r * sa), div255(g * sa), div255(b * sa), sa]);
        }
        self.touched.clear();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A white canvas of `n` x `n` pixels (the fill's tests draw on it too).
    pub(in crate::render) fn canvas(n: u32) -> Pixmap {
        let mut p = Pixmap::new(n, n).unwrap_or_else(|| unreachable!("size"));
        p.fill(tiny_skia::Color::WHITE);
        p
    }

    pub(in crate::render) fn px(x: f64, y: f64) -> Px {
        Px { x, y }
    }

    /// The alpha that black ink left at a pixel of a white canvas: 255 minus its red.
    pub(in crate::render) fn ink(p: &Pixmap, x: u32, y: u32) -> u32 {
        255 - u32::from(p.pixel(x, y).map_or(255, |c| c.red()))
    }

    #[test]
    fn a_horizontal_stroke_covers_its_width_across_and_stops_at_its_ends() {
        let mut p = canvas(20);
        let mut s = Strokes::default();
        s.begin(20, 20);
        // 2 px wide along y = 10: rows 9 and 10 full, from x = 4 to x = 16.
        s.polyline(&[px(4.0, 10.0), px(16.0, 10.0)], 2.0);
        s.flush(&mut p, Color::rgba(0, 0, 0, 255), None);
        for x in 4..16 {
            assert_eq!((ink(&p, x, 9), ink(&p, x, 10)), (255, 255), "x = {x}");
            assert_eq!((ink(&p, x, 8), ink(&p, x, 11)), (0, 0), "x = {x}");
        }
        assert_eq!((ink(&p, 3, 10), ink(&p, 16, 10)), (0, 0), "butt ends");
        // A line 1.2 px wide centred on a row's middle covers that row and a tenth of each
        // neighbour (the coverage is rounded to 1/255).
        let mut q = canvas(20);
        s.begin(20, 20);
        s.polyline(&[px(2.0, 10.5), px(18.0, 10.5)], 1.2);
        s.flush(&mut q, Color::rgba(0, 0, 0, 255), None);
        assert_eq!(ink(&q, 10, 10), 255);
        assert!((ink(&q, 10, 9) as i32 - 26).abs() <= 1 && (ink(&q, 10, 11) as i32 - 26).abs() <= 1);
    }

    #[test]
    fn a_line_under_a_pixel_wide_is_a_hairline_of_its_width() {
        // 0.6 px along y = 10.75: a quarter pixel below row 10's middle, so row 10 gets three
        // quarters of 0.6 and row 11 one quarter, as tiny-skia's hairlines split it.
        let mut p = canvas(20);
        let mut s = Strokes::default();
        s.begin(20, 20);
        s.polyline(&[px(2.0, 10.75), px(18.0, 10.75)], 0.6);
        s.flush(&mut p, Color::rgba(0, 0, 0, 255), None);
        let near = |got: u32, want: f32| (got as f32 - want * 255.0).abs() <= 1.5;
        assert!(near(ink(&p, 10, 10), 0.6 * 0.75), "row 10: {}", ink(&p, 10, 10));
        assert!(near(ink(&p, 10, 11), 0.6 * 0.25), "row 11: {}", ink(&p, 10, 11));
        assert_eq!((ink(&p, 10, 9), ink(&p, 10, 12)), (0, 0));
    }

    #[test]
    fn a_joint_and_a_line_crossing_itself_are_blended_once() {
        // A half-transparent line doubling back over itself: wherever it is drawn, the pixel
        // has one layer of its colour, never two.
        let mut p = canvas(20);
        let mut s = Strokes::default();
        s.begin(20, 20);
        s.polyline(&[px(2.0, 10.5), px(15.0, 10.5), px(3.0, 10.5), px(10.0, 3.0)], 1.0);
        s.flush(&mut p, Color::rgba(0, 0, 0, 128), None);
        let max = (0..20).flat_map(|x| (0..20).map(move |y| (x, y))).map(|(x, y)| ink(&p, x, y)).max();
        assert_eq!(max, Some(128));
        assert_eq!(ink(&p, 8, 10), 128);
    }

    #[test]
    fn a_thin_diagonal_line_holds_its_area_in_each_column_and_stops_at_its_ends() {
        // 1.5 px wide at 30 degrees: each column it crosses holds 1.5 / cos(30) of ink.
        let mut p = canvas(40);
        let mut s = Strokes::default();
        s.begin(40, 40);
        let (dx, dy) = (30.0f64, 30.0 * (30f64).to_radians().tan());
        s.polyline(&[px(5.0, 10.0), px(5.0 + dx, 10.0 + dy)], 1.5);
        s.flush(&mut p, Color::rgba(0, 0, 0, 255), None);
        let want = 1.5 / (30f64).to_radians().cos();
        for x in 8..32 {
            let column: u32 = (0..40).map(|y| ink(&p, x, y)).sum();
            let got = f64::from(column) / 255.0;
            assert!((got - want).abs() < 0.03, "column {x}: {got:.3} px of ink, want {want:.3}");
        }
        let outside: u32 = (0..40).map(|y| ink(&p, 4, y) + ink(&p, 36, y)).sum();
        assert_eq!(outside, 0, "nothing before the first point or after the last");
    }

    #[test]
    fn the_outside_of_a_right_angle_bend_is_filled() {
        // 2 px wide, right then down: the corner pixels outside the bend are inked.
        let mut p = canvas(20);
        let mut s = Strokes::default();
        s.begin(20, 20);
        s.polyline(&[px(2.0, 5.0), px(12.0, 5.0), px(12.0, 16.0)], 2.0);
        s.flush(&mut p, Color::rgba(0, 0, 0, 255), None);
        assert_eq!(ink(&p, 12, 4), 255, "outer corner, above the bend");
        assert_eq!(ink(&p, 11, 5), 255, "inner side");
        assert_eq!(ink(&p, 13, 6), 0, "one pixel past the line's edge");
        assert_eq!(ink(&p, 14, 10), 0, "right of the vertical run");
    }

    #[test]
    fn a_stamp_is_blended_over_and_cut_at_the_canvas_edge() {
        let mut img = Pixmap::new(3, 3).unwrap_or_else(|| unreachable!("size"));
        img.fill(tiny_skia::Color::from_rgba8(0, 0, 0, 128));
        let mut p = canvas(4);
        stamp(&mut p, &img, 2, -1, None);
        assert_eq!(ink(&p, 2, 0), 128);
        assert_eq!(ink(&p, 3, 1), 128);
        assert_eq!(ink(&p, 1, 0), 0);
        assert_eq!(ink(&p, 2, 2), 0);
    }
}
