//! Raster tiles: the features of a tile drawn anti-aliased with tiny-skia and encoded as PNG.
//!
//! Synchronous and free of any HTTP type. A tile fetches from each layer's R-tree the features
//! whose bounding box comes within the layer's reach (half its largest symbol plus its widest
//! stroke) of the tile, so a symbol or stroke crossing an edge is drawn whole on both tiles.
//! When no visible layer has anything there, [`render_tile`] says so without allocating a
//! canvas, and the caller answers with a pre-encoded empty tile.
//!
//! Place names go on top of everything, in the language asked for; where they go is decided in
//! world space, the same for every tile (see [`label`]).

mod blend;
mod encode;
mod fill;
pub mod label;
mod overlay;
mod sprite;
mod symbol;
pub mod text;
mod view;

pub use encode::{EncodeError, SolidTiles, TileFormat, encode, encode_png, solid, solid_png};
pub use overlay::{
    LEADER_CLEAR_PX, LEADER_STEM_PX, OVERLAY_REACH_PX, REGION_RADIUS_PX, cluster_size, draw_overlay, marker_color,
    marker_lift, marker_lift_px, marker_reach_px, render_overlay,
};
pub use sprite::{Sprite, sprite};
pub use view::{View, draw_credit, render_view};

use std::cell::RefCell;
use std::collections::HashSet;

use tiny_skia::{FillRule, Mask, PathBuilder, Pixmap, Transform};

use crate::geom::{ClipRect, Px};
use crate::layer::{Catalog, Hit, Layer, Shape};
use crate::style::{Color, Icon, Lang, Style};
use crate::tile::{TileCoord, WorldPoint, WorldRect};
use label::{Placement, PxRect, draw_labels, held_by_another, place, world_px};

/// Tile edge in CSS pixels; `@2x` tiles have twice as many device pixels.
pub const TILE_SIZE: u32 = 256;

/// The device-pixel density of a tile: 1 for 256 px, 2 for 512 px (`@2x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// 256 x 256 pixels.
    X1,
    /// 512 x 512 pixels.
    X2,
}

impl Scale {
    /// Device pixels per CSS pixel.
    pub const fn factor(self) -> u32 {
        match self {
            Scale::X1 => 1,
            Scale::X2 => 2,
        }
    }

    /// Edge of the tile in device pixels.
    pub const fn pixels(self) -> u32 {
        TILE_SIZE * self.factor()
    }
}

/// What a tile came to.
#[derive(Debug)]
pub enum TileImage {
    /// Nothing of the chosen layers reaches the tile: only the background.
    Empty,
    /// The drawn tile, premultiplied RGBA.
    Drawn(Pixmap),
}

/// Draws the chosen layers (already in draw order) onto one tile, with their place names in
/// `labels` (`None`: no names).
pub fn render_tile(
    catalog: &Catalog,
    layers: &[&Layer],
    tile: TileCoord,
    scale: Scale,
    labels: Option<Lang>,
) -> TileImage {
    let (x, y) = (f64::from(tile.x()) * 256.0, f64::from(tile.y()) * 256.0);
    render_area(catalog, layers, tile.z(), PxRect::new(x, y, 256.0, 256.0), scale, labels)
}

/// Draws a square area of the map: `area` in world CSS px at zoom `z`, with whole-pixel corners
/// (a tile is the area of 256 px at its corner). Tiles and larger areas draw each label at the
/// same world pixels, which the seam tests rely on.
pub fn render_area(
    catalog: &Catalog,
    layers: &[&Layer],
    z: u8,
    area: PxRect,
    scale: Scale,
    labels: Option<Lang>,
) -> TileImage {
    // Names are placed for the blocks that the area and the symbols reaching into it touch, so
    // that a place left out for a name is left out on every tile.
    let placement = match labels {
        Some(lang) => {
            let reach = layers.iter().filter(|l| l.label_spec().is_some()).map(|l| l.reach_px()).fold(0.0, f32::max);
            let m = f64::from(reach) + 1.0;
            let mut p =
                place(layers, z, PxRect { x0: area.x0 - m, y0: area.y0 - m, x1: area.x1 + m, y1: area.y1 + m }, lang);
            p.labels.retain(|l| l.rect.overlaps(&area));
            p
        }
        None => Placement::default(),
    };
    draw_area(catalog, layers, z, area, scale, &placement)
}

/// Draws a rectangle of the map (`area` in world CSS px at zoom `z`, whole-pixel corners) with
/// the names of `placement`, whose left-out places are not drawn.
fn draw_area(
    catalog: &Catalog,
    layers: &[&Layer],
    z: u8,
    area: PxRect,
    scale: Scale,
    placement: &Placement,
) -> TileImage {
    let world = world_px(z);
    let factor = f64::from(scale.factor());
    let k = world * factor;
    let bounds = WorldRect {
        min: WorldPoint::new(area.x0 / world, area.y0 / world),
        max: WorldPoint::new(area.x1 / world, area.y1 / world),
    };
    let work: Vec<(usize, &Layer, Vec<Hit>)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.visible_at(z) && !l.not_within().is_some_and(|b| covers(&b, &bounds, k)))
        .filter_map(|(li, l)| {
            let margin = f64::from(l.reach_px() * scale.factor() as f32 + 2.0);
            let hits = l.hits(&bounds.expand(margin / k));
            (!hits.is_empty()).then_some((li, *l, hits))
        })
        .collect();
    if work.is_empty() && placement.labels.is_empty() {
        return TileImage::Empty;
    }
    let hidden: HashSet<(usize, usize)> = placement.hidden.iter().copied().collect();
    let (width, height) =
        (((area.x1 - area.x0) * factor).round() as u32, ((area.y1 - area.y0) * factor).round() as u32);
    let Some(mut pixmap) = Pixmap::new(width, height) else {
        return TileImage::Empty;
    };
    if let Some(bg) = catalog.background {
        pixmap.fill(tiny_skia::Color::from_rgba8(bg.r, bg.g, bg.b, bg.a));
    }
    let mut scratch = SCRATCH.take();
    scratch.strokes.begin(width, height);
    scratch.fills.begin(width, height);
    let mut canvas = Canvas {
        pixmap: &mut pixmap,
        origin: bounds.min,
        k,
        scale: scale.factor() as f32,
        stamps: Vec::new(),
        mask: None,
        uncut: None,
        s: &mut scratch,
    };
    for (li, layer, hits) in work {
        let margin = f64::from(layer.reach_px() * canvas.scale + 4.0);
        // One square clip for both axes: it only keeps coordinates near the canvas.
        let clip = ClipRect { lo: -margin, hi: f64::from(width.max(height)) + margin };
        canvas.mask = layer.not_within().and_then(|b| canvas.outside(&b, width, height));
        canvas.uncut = layer.clipped_to();
        let places = layer.label_spec().is_some();
        for Hit { i, point } in hits {
            if places && (hidden.contains(&(li, i)) || held_by_another(layers, layer, i, z)) {
                continue;
            }
            match point {
                Some(p) => canvas.point(p, layer.style_of(i), clip),
                None => canvas.draw(layer.shape_at(i, z), layer.style_of(i), clip),
            }
        }
    }
    SCRATCH.set(scratch);
    let origin = ((area.x0 * factor).round() as i64, (area.y0 * factor).round() as i64);
    draw_labels(&mut pixmap, &placement.labels, origin, scale.factor());
    TileImage::Drawn(pixmap)
}

/// Whether `inner`, shrunk by one device pixel (`k` device px per unit), still holds `area`:
/// then a layer kept out of `inner` draws nothing there.
fn covers(inner: &WorldRect, area: &WorldRect, k: f64) -> bool {
    let d = 1.0 / k;
    inner.min.x + d <= area.min.x
        && inner.min.y + d <= area.min.y
        && inner.max.x - d >= area.max.x
        && inner.max.y - d >= area.max.y
}

/// Renders and encodes a tile; an empty tile is encoded as the background alone.
pub fn render_png(
    catalog: &Catalog,
    layers: &[&Layer],
    tile: TileCoord,
    scale: Scale,
    labels: Option<Lang>,
) -> Result<Vec<u8>, EncodeError> {
    match render_tile(catalog, layers, tile, scale, labels) {
        TileImage::Drawn(p) => encode_png(p),
        TileImage::Empty => solid_png(catalog.background, scale.pixels()),
    }
}

/// Draws a legend swatch of a line or polygon style into the cell at `corner` (device px) with
/// the tiles' own stroking, dashing and filling: a line across the cell, or a rectangle inset by
/// 3 px.
fn swatch(pixmap: &mut Pixmap, icon: &Icon, style: &Style, corner: (u32, u32), cell: (u32, u32), scale: f32) {
    let (x0, y0, w, h) = (f64::from(corner.0), f64::from(corner.1), f64::from(cell.0), f64::from(cell.1));
    let m = 3.0 * f64::from(scale);
    let p = |x: f64, y: f64| WorldPoint::new(x0 + x, y0 + y);
    let shape = match icon {
        Icon::Line(_) => Shape::Lines(vec![vec![p(m, h / 2.0), p(w - m, h / 2.0)]]),
        _ => Shape::Polygons(vec![vec![vec![p(m, m), p(w - m, m), p(w - m, h - m), p(m, h - m), p(m, m)]]]),
    };
    // One device pixel per unit: the shape is already in the sheet's pixels.
    let mut scratch = Scratch::default();
    scratch.strokes.begin(pixmap.width(), pixmap.height());
    scratch.fills.begin(pixmap.width(), pixmap.height());
    let mut canvas = Canvas {
        pixmap,
        origin: WorldPoint::new(0.0, 0.0),
        k: 1.0,
        scale,
        stamps: Vec::new(),
        mask: None,
        uncut: None,
        s: &mut scratch,
    };
    canvas.draw(&shape, style, ClipRect { lo: -1.0, hi: f64::from(u32::MAX) });
}

/// Buffers a render thread keeps from tile to tile, so that drawing a feature allocates
/// nothing once they have grown.
#[derive(Default)]
struct Scratch {
    /// The shape being drawn in device pixels: a line, or a polygon's rings one after another.
    px: Vec<Px>,
    /// Where each ring ends in `px`.
    ends: Vec<usize>,
    /// A ring's runs of edges to stroke, as index ranges (both ends included).
    runs: Vec<(usize, usize)>,
    /// Clipping buffers and the reusable path builder.
    clip_a: Vec<Px>,
    clip_b: Vec<Px>,
    pieces: Vec<(f64, usize)>,
    path: Option<PathBuilder>,
    strokes: blend::Strokes,
    fills: fill::Fills,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// A point style's stamp on one tile: its image (drawn once) and the pixels stamped already.
struct Stamp {
    key: *const Style,
    img: Option<(Pixmap, i32)>,
    /// One bit per device pixel of the canvas and the margin around it (`off` on each side).
    seen: Vec<u64>,
    off: i32,
    dim: i32,
}

struct Canvas<'a> {
    pixmap: &'a mut Pixmap,
    origin: WorldPoint,
    /// Device pixels per unit-square unit at this zoom.
    k: f64,
    /// Device pixels per CSS pixel.
    scale: f32,
    /// Each point style drawn once into a small pixmap, then stamped at every point: a layer
    /// of 50,000 points costs 50,000 small blends rather than 50,000 anti-aliased paths.
    /// Points falling on a pixel already stamped with their style are drawn once.
    stamps: Vec<Stamp>,
    /// Where the layer being drawn may paint (`None`: everywhere).
    mask: Option<Mask>,
    /// The box the layer being drawn was cut to: ring edges along it are not stroked.
    uncut: Option<WorldRect>,
    s: &'a mut Scratch,
}

impl Canvas<'_> {
    fn px(&self, p: WorldPoint) -> Px {
        Px { x: (p.x - self.origin.x) * self.k, y: (p.y - self.origin.y) * self.k }
    }

    /// A mask of the canvas outside `inner` shrunk by one device pixel; `None` when `inner`
    /// misses the canvas. The layer beneath the detailed ones reaches one pixel into their box,
    /// so that no pixel along its edge is left half covered (a seam of background); hard-edged,
    /// so that the pixels either side of the edge show one fill.
    fn outside(&self, inner: &WorldRect, width: u32, height: u32) -> Option<Mask> {
        let (a, b) = (self.px(inner.min), self.px(inner.max));
        let (w, h) = (f64::from(width), f64::from(height));
        if b.x <= 0.0 || b.y <= 0.0 || a.x >= w || a.y >= h {
            return None;
        }
        let mut pb = PathBuilder::new();
        pb.push_rect(tiny_skia::Rect::from_ltrb(-4.0, -4.0, (w + 4.0) as f32, (h + 4.0) as f32)?);
        let (x0, y0) = ((a.x + 1.0).max(-2.0), (a.y + 1.0).max(-2.0));
        let (x1, y1) = ((b.x - 1.0).min(w + 2.0), (b.y - 1.0).min(h + 2.0));
        if let Some(r) = tiny_skia::Rect::from_ltrb(x0 as f32, y0 as f32, x1 as f32, y1 as f32) {
            pb.push_rect(r);
        }
        let path = pb.finish()?;
        let mut mask = Mask::new(width, height)?;
        mask.fill_path(&path, FillRule::EvenOdd, false, Transform::identity());
        Some(mask)
    }

    fn draw(&mut self, shape: &Shape, style: &Style, clip: ClipRect) {
        let (origin, k) = (self.origin, self.k);
        let project = |p: &WorldPoint| Px { x: (p.x - origin.x) * k, y: (p.y - origin.y) * k };
        match shape {
            Shape::Points(ps) => {
                for &p in ps {
                    self.point(p, style, clip);
                }
            }
            Shape::Lines(lines) => {
                for l in lines {
                    self.s.px.clear();
                    self.s.px.extend(l.iter().map(project));
                    let n = self.s.px.len();
                    self.stroke(0, n, style, clip);
                    self.flush(style);
                }
            }
            Shape::Polygons(polys) => {
                for rings in polys {
                    // Each ring projected once, for its fill and its outline.
                    self.s.px.clear();
                    self.s.ends.clear();
                    for r in rings {
                        self.s.px.extend(r.iter().map(project));
                        self.s.ends.push(self.s.px.len());
                    }
                    self.fill_polygon(style.fill, clip);
                    if style.stroke.is_none() {
                        continue;
                    }
                    let mut start = 0;
                    for (ri, r) in rings.iter().enumerate() {
                        uncut_runs(self.uncut, r, &mut self.s.runs);
                        for ru in 0..self.s.runs.len() {
                            let (i, j) = self.s.runs[ru];
                            self.stroke(start + i, start + j + 1, style, clip);
                        }
                        start = self.s.ends[ri];
                    }
                    self.flush(style);
                }
            }
        }
    }

    /// Draws a point's symbol when the point is within `clip`.
    fn point(&mut self, p: WorldPoint, style: &Style, clip: ClipRect) {
        let d = self.px(p);
        if d.x >= clip.lo && d.x <= clip.hi && d.y >= clip.lo && d.y <= clip.hi {
            self.stamp(style, d, clip);
        }
    }

    /// Draws a point symbol by stamping its pre-drawn image, centred on the pixel that holds
    /// the point (at most half a pixel off).
    fn stamp(&mut self, style: &Style, d: Px, clip: ClipRect) {
        let key = style as *const Style;
        let (x, y) = (d.x.floor() as i32, d.y.floor() as i32);
        let at = match self.stamps.iter().position(|s| s.key == key) {
            Some(at) => at,
            None => {
                let scale = self.scale;
                let half = (style.reach_px() * scale).ceil() as i32 + 1;
                let size = (2 * half + 1) as u32;
                let img = Pixmap::new(size, size).map(|mut p| {
                    symbol::draw(&mut p, style, half as f32 + 0.5, half as f32 + 0.5, scale);
                    (p, half)
                });
                let off = (-clip.lo).max(0.0).ceil() as i32 + 2;
                let dim = self.pixmap.width() as i32 + 2 * off;
                let bits = (dim as usize * dim as usize).div_ceil(64);
                self.stamps.push(Stamp { key, img, seen: vec![0; bits], off, dim });
                self.stamps.len() - 1
            }
        };
        let s = &mut self.stamps[at];
        let (ix, iy) = (x + s.off, y + s.off);
        if (0..s.dim).contains(&ix) && (0..s.dim).contains(&iy) {
            let bit = iy as usize * s.dim as usize + ix as usize;
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            if s.seen[word] & mask != 0 {
                return;
            }
            s.seen[word] |= mask;
        }
        if let Some((img, half)) = &s.img {
            blend::stamp(self.pixmap, img, x - *half, y - *half, self.mask.as_ref());
        }
    }

    /// Fills the rings in `s.px` (ends in `s.ends`) even-odd.
    fn fill_polygon(&mut self, fill: Option<Color>, clip: ClipRect) {
        let Some(c) = fill.filter(|c| c.a > 0) else {
            return;
        };
        let s = &mut *self.s;
        let mut start = 0;
        for &end in &s.ends {
            clip.ring_into(&s.px[start..end], &mut s.clip_a, &mut s.clip_b);
            start = end;
            if fillable(&s.clip_a) {
                s.fills.ring(&s.clip_a);
            }
        }
        s.fills.fill(self.pixmap, c, self.mask.as_ref());
    }

    /// Strokes `s.px[from..to]`: a solid line into the coverage that [`Canvas::flush`] blends,
    /// a dashed one through tiny-skia at once.
    fn stroke(&mut self, from: usize, to: usize, style: &Style, clip: ClipRect) {
        let Some(color) = style.stroke else { return };
        let width = style.stroke_width * self.scale;
        if color.a == 0 || width <= 0.0 || to < from + 2 {
            return;
        }
        let s = &mut *self.s;
        clip.line_into(&s.px[from..to], &mut s.clip_a, &mut s.pieces);
        let dashed = style.dash.len() >= 2 && style.dash.iter().sum::<f32>() > 0.0;
        for (n, &(start, at)) in s.pieces.iter().enumerate() {
            let end = s.pieces.get(n + 1).map_or(s.clip_a.len(), |p| p.1);
            let piece = &s.clip_a[at..end];
            if !dashed {
                s.strokes.polyline(piece, width);
                continue;
            }
            let pattern: Vec<f32> = style.dash.iter().map(|d| d * self.scale).collect();
            let period: f64 = pattern.iter().map(|&d| f64::from(d)).sum();
            let mut b = s.path.take().unwrap_or_default();
            if let Some((first, rest)) = piece.split_first() {
                b.move_to(first.x as f32, first.y as f32);
                for p in rest {
                    b.line_to(p.x as f32, p.y as f32);
                }
            }
            let Some(path) = b.finish() else { continue };
            // The phase is the distance along the whole line, so dashes line up across tiles.
            let dash = tiny_skia::StrokeDash::new(pattern, (start % period) as f32);
            symbol::stroke_masked(self.pixmap, &path, color, width, dash, self.mask.as_ref());
            s.path = Some(path.clear());
        }
    }

    /// Blends the solid strokes gathered since the last flush in the style's stroke colour.
    fn flush(&mut self, style: &Style) {
        if let Some(color) = style.stroke {
            self.s.strokes.flush(self.pixmap, color, self.mask.as_ref());
        }
    }
}

/// The ring's runs of edges that are not along the box `uncut` it was cut to, as index ranges
/// into the ring (both ends included), into `runs`.
fn uncut_runs(uncut: Option<WorldRect>, ring: &[WorldPoint], runs: &mut Vec<(usize, usize)>) {
    runs.clear();
    let Some(b) = uncut else {
        if ring.len() >= 2 {
            runs.push((0, ring.len() - 1));
        }
        return;
    };
    let eq = |u: f64, v: f64| (u - v).abs() < 1e-12;
    let on_cut = |p: WorldPoint, q: WorldPoint| {
        (eq(p.x, q.x) && (eq(p.x, b.min.x) || eq(p.x, b.max.x)))
            || (eq(p.y, q.y) && (eq(p.y, b.min.y) || eq(p.y, b.max.y)))
    };
    let mut start: Option<usize> = None;
    for i in 0..ring.len().saturating_sub(1) {
        if on_cut(ring[i], ring[i + 1]) {
            if let Some(s) = start.take() {
                runs.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        runs.push((s, ring.len() - 1));
    }
}

/// Whether a clipped ring (pixels, as drawn) encloses any area: three points or more, not all
/// on one horizontal or vertical line. A ring clipped to a sliver along a tile edge is such a
/// line; tiny-skia paints nothing for a path of them and logs a warning at each, so such rings
/// are left out.
fn fillable(ring: &[Px]) -> bool {
    /// tiny-skia's own "nearly zero" (1/4096 px).
    const NEARLY_ZERO: f64 = 1.0 / 4096.0;
    let span = |coord: fn(&Px) -> f64| {
        let (lo, hi) =
            ring.iter().map(coord).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        hi - lo
    };
    ring.len() >= 3 && span(|p| p.x) > NEARLY_ZERO && span(|p| p.y) > NEARLY_ZERO
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Feature, LayerMeta};
    use crate::style::StyleSpec;
    use crate::tile::LonLat;

    #[test]
    fn rings_clipped_to_a_line_are_not_filled() {
        let ring = |pts: &[(f64, f64)]| pts.iter().map(|&(x, y)| Px { x, y }).collect::<Vec<_>>();
        let square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)];
        assert!(fillable(&ring(&square)));
        // A ring clipped to the tile's left edge: a vertical line, with and without width.
        assert!(!fillable(&ring(&[(0.0, 0.0), (0.0, 40.0), (0.0, 80.0), (0.0, 0.0)])));
        assert!(!fillable(&ring(&[(256.0, 3.0), (256.0001, 9.0), (256.0, 3.0)])));
        assert!(!fillable(&ring(&[(5.0, 7.0), (90.0, 7.0), (5.0, 7.0)])), "a horizontal line");
        assert!(!fillable(&ring(&[(1.0, 1.0), (2.0, 2.0)])), "two points");
        assert!(!fillable(&ring(&[])));
    }

    /// One layer with a point at (lon, lat) and a line from it to one degree east.
    fn point_and_line(lon: f64, lat: f64, dash: Option<Vec<f32>>) -> Catalog {
        let p = LonLat::new(lon, lat).to_world();
        let q = LonLat::new(lon + 1.0, lat).to_world();
        let feature = |shape, i: usize| Feature {
            id: serde_json::Value::from(i),
            properties: Default::default(),
            geometry: geo::Geometry::Point(geo::Point::new(lon, lat)),
            shape,
        };
        let features = vec![feature(Shape::Points(vec![p]), 0), feature(Shape::Lines(vec![vec![p, q]]), 1)];
        let meta = LayerMeta {
            id: "p".into(),
            title: "p".into(),
            description: String::new(),
            note: None,
            attribution: String::new(),
            license: String::new(),
            minzoom: 0,
            maxzoom: 20,
            order: 0,
        };
        let spec = StyleSpec {
            fill: Some(Color::rgba(255, 0, 0, 255)),
            stroke: Some(Color::rgba(0, 0, 255, 255)),
            stroke_width: Some(2.0),
            size: Some(10.0),
            dash,
            ..StyleSpec::default()
        };
        Catalog::new(None, None, None, None, None, vec![Layer::new(meta, features, &spec, &[])])
    }

    fn pixel(p: &Pixmap, x: u32, y: u32) -> [u8; 4] {
        p.pixel(x, y).map_or([0; 4], |c| {
            let c = c.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
    }

    fn draw(c: &Catalog, tile: TileCoord) -> Pixmap {
        let layers = c.select(None).unwrap();
        match render_tile(c, &layers, tile, Scale::X1, None) {
            TileImage::Drawn(p) => p,
            TileImage::Empty => unreachable!("tile {tile} came out empty"),
        }
    }

    #[test]
    fn a_symbol_on_a_tile_edge_is_drawn_whole_on_both_tiles() {
        // A point exactly on the meridian between two z4 tiles: half a symbol on each.
        let c = point_and_line(0.0, 10.0, None);
        let w = LonLat::new(0.0, 10.0).to_world();
        let left = TileCoord::containing(WorldPoint::new(w.x - 1e-9, w.y), 4).unwrap();
        let right = TileCoord::containing(w, 4).unwrap();
        assert_eq!(right.x(), left.x() + 1);
        let y = ((w.y * 16.0).fract() * 256.0) as u32;
        let (l, r) = (draw(&c, left), draw(&c, right));
        // 2 px either side of the edge and 2 px above the line drawn from the point, the
        // symbol's red fill (radius 5 px, 2 px outline).
        let red = |p: [u8; 4]| p[0] > 200 && p[1] < 40 && p[2] < 60;
        assert!(red(pixel(&l, 254, y - 2)), "left tile: {:?}", pixel(&l, 254, y - 2));
        assert!(red(pixel(&r, 1, y - 2)), "right tile: {:?}", pixel(&r, 1, y - 2));
    }

    #[test]
    fn an_empty_area_is_reported_empty() {
        let c = point_and_line(36.8, 36.2, None);
        let layers = c.select(None).unwrap();
        let far = TileCoord::new(8, 0, 0).unwrap();
        assert!(matches!(render_tile(&c, &layers, far, Scale::X1, None), TileImage::Empty));
    }

    #[test]
    fn dashes_continue_across_a_tile_edge() {
        // A dashed line from 0.5 W to 0.5 E crosses the edge between two z6 tiles: sampled
        // along the line on both tiles, the dashes follow one 7-on 5-off pattern measured from
        // the line's start, instead of restarting at the edge.
        let c = point_and_line(-0.5, 10.0, Some(vec![7.0, 5.0]));
        let w = LonLat::new(0.0, 10.0).to_world();
        let right = TileCoord::containing(w, 6).unwrap();
        let left = TileCoord::new(6, u64::from(right.x() - 1), u64::from(right.y())).unwrap();
        let y = ((w.y * 64.0).fract() * 256.0) as u32;
        let (l, r) = (draw(&c, left), draw(&c, right));
        let blue = |p: &Pixmap, x: u32| pixel(p, x, y)[2] > 128 && pixel(p, x, y)[0] < 128;
        let start = LonLat::new(-0.5, 10.0).to_world().x * 64.0 * 256.0;
        let edge = f64::from(right.x()) * 256.0;
        let check = |p: &Pixmap, x: u32, world_x: f64| {
            let phase = (world_x + 0.5 - start).rem_euclid(12.0);
            // Skip the anti-aliased pixels at each dash end.
            if phase > 1.0 && (phase - 7.0).abs() > 1.0 && phase < 11.0 {
                assert_eq!(blue(p, x), phase < 7.0, "x={x} phase={phase:.1}");
            }
        };
        // The line runs 22.7 px either side of the edge; the symbol sits at its start.
        for x in 238..256u32 {
            check(&l, x, edge - 256.0 + f64::from(x));
        }
        for x in 0..20u32 {
            check(&r, x, edge + f64::from(x));
        }
    }
}
