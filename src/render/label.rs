//! Labels on raster tiles: which names are drawn where, decided in world space so that a label
//! crossing a tile edge is drawn whole, and identically, on both tiles.
//!
//! # Placement
//!
//! At each zoom the world (in CSS px, the same for 1x and 2x tiles) is cut into square
//! *blocks* of [`BLOCK_PX`] (4 x 4 tiles; the whole world below zoom 2). A label belongs to
//! the block that holds its anchor (a point, or a polygon's interior point), and its box must
//! lie inside that block. Within a block, candidates are taken in a fixed order, highest
//! priority first (the layer's `label_priority`, then its `label_rank` property such as
//! population, then the layer's position and the feature's index in its file), and each takes
//! the first of its positions (right of its symbol, left, above, below; centred for polygons)
//! that stays inside the block and overlaps no label or symbol placed before it.
//!
//! A tile computes the placement of the block it lies in and draws the labels that reach into
//! it. Every tile of a block computes the same placement from the same candidates, so a label
//! is either drawn whole on every tile it touches or on none, and a label never depends on
//! anything outside its block: the chains of collisions that make other placement schemes
//! depend on an unbounded neighbourhood stop at the block's edge.
//!
//! What a name keeps clear of: every other name; the symbol of every place labelled at this zoom
//! (placed or not), and of unlabelled places at least as important (the places of the report
//! at zoom 6, under a city's name). When every position of a name is blocked so, the name may
//! still cover the symbols of places less important than itself (later in the order), taking
//! the position whose most important covered place is the least important; a place whose
//! symbol lies under a name placed before it is left out at that zoom, symbol and name (the
//! renderer does not draw it). So a capital is not left unnamed because small towns crowd it.
//!
//! A place that several features hold (a Natural Earth city, a GeoNames town and a place of the
//! report; see [`crate::layer::PlaceRef`]) is one candidate: its most important feature drawn
//! at this zoom gives the symbol and position, and its most important feature named at this
//! zoom gives the name (the place of the report, drawn from zoom 6, is named by the Natural
//! Earth city until its own names start at zoom 7). The other features are not drawn.
//!
//! The price, and the alternatives: labels of neighbouring blocks never collide because none
//! crosses a block edge, but a name whose box fits on no side of its symbol within the block is
//! not drawn (a polygon's label is shifted back inside; a point near an edge takes the side
//! facing into the block), and a name near a block edge may cover a symbol just across it.
//! Placing per tile with a margin (what Mapnik's buffers do) cuts or doubles labels at seams
//! when collisions chain beyond the margin; a global placement per zoom is exact but costs the
//! whole layer at every zoom, and a placement computed once and stored goes stale with the
//! data. Blocks of 1024 px keep the work per tile to the candidates of 16 tiles (0.15-0.2 ms on
//! the default data at zoom 8-9, with names shaped once per process), and the edges that names
//! may not cross to one in four tile edges.
//!
//! # Drawing
//!
//! Each label is drawn into its own small image (the letters over a white halo) and blitted at
//! whole device pixels, its box's corner being a whole CSS pixel in world space. Two tiles blit
//! the same image at offsets 256 (or 512) px apart, so the pixels on either side of a seam are
//! those of one image. A labelled tile costs about twice an unlabelled one (`cargo bench
//! --bench labels`): mostly filling the glyph outlines and encoding the busier PNG.

use std::sync::Arc;

use tiny_skia::{FillRule, PathBuilder, Pixmap, PixmapPaint, Transform};

use super::symbol::paint;
use super::text::{ShapedLine, shape};
pub use crate::layer::held_by_another;
use crate::layer::{Layer, namer, place_names};
use crate::style::{Color, Lang, Names};

/// Edge of a placement block, CSS px.
pub const BLOCK_PX: f64 = 1024.0;

/// Width of the white halo around the letters, CSS px.
const HALO_PX: f32 = 1.75;

/// Space around the text inside a label's box (the halo and one pixel), CSS px.
const PAD_PX: f64 = 3.0;

/// A line wider than this many text sizes is wrapped at spaces.
const WRAP_EMS: f32 = 10.0;

/// A rectangle in world pixels at one zoom: CSS px from the north-west corner of the world,
/// `x` east and `y` south.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PxRect {
    /// West edge.
    pub x0: f64,
    /// North edge.
    pub y0: f64,
    /// East edge.
    pub x1: f64,
    /// South edge.
    pub y1: f64,
}

impl PxRect {
    /// A rectangle from its north-west corner and size.
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self { x0: x, y0: y, x1: x + w, y1: y + h }
    }

    /// Whether the two overlap (touching edges do not count).
    pub fn overlaps(&self, o: &PxRect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// Whether `o` lies inside this rectangle.
    pub fn contains(&self, o: &PxRect) -> bool {
        o.x0 >= self.x0 && o.x1 <= self.x1 && o.y0 >= self.y0 && o.y1 <= self.y1
    }

    fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// How the lines of a label line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Centre,
    Right,
}

/// A label as placed: whose it is, its text and its box.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLabel {
    /// Id of the layer of the feature.
    pub layer: String,
    /// Index of the feature in its layer.
    pub feature: usize,
    /// The text, one entry per drawn line.
    pub text: Vec<String>,
    /// The label's box (text and halo) in world CSS px at the tile's zoom; its corners are whole
    /// pixels.
    pub rect: PxRect,
    lines: Vec<Arc<ShapedLine>>,
    align: Align,
    color: Color,
}

/// What placement decided for an area: the names drawn, and the places left out.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The placed names that meet the area.
    pub labels: Vec<PlacedLabel>,
    /// Places whose symbol lies under a more important name, as (index in the layers given,
    /// feature index): neither drawn nor named at this zoom.
    pub hidden: Vec<(usize, usize)>,
}

struct Candidate<'a> {
    priority: i32,
    class: u32,
    rank: f64,
    /// Index of the layer whose symbol this is, in the layers given.
    layer: usize,
    feature: usize,
    anchor: (f64, f64),
    symbol_px: f64,
    area_px: Option<f64>,
    /// The feature whose name is drawn: the place's own, or that of a more important feature
    /// of the same place named at this zoom. `None`: a place drawn at this zoom but not named
    /// (its layers' `label_minzoom` is deeper): only its symbol counts.
    namer: Option<(&'a Layer, usize)>,
    /// The namer's names; a script it lacks is taken from the next feature of the place that
    /// has it (Natural Earth's Hatay has no Arabic name, its Antioch has).
    names: Names,
}

impl Candidate<'_> {
    fn symbol_only(&self) -> bool {
        self.namer.is_none()
    }

    /// Whether it is more important than `o` by priority, class or rank (not by a tie-break).
    fn outranks(&self, o: &Candidate<'_>) -> bool {
        (self.priority, std::cmp::Reverse(self.class)) > (o.priority, std::cmp::Reverse(o.class))
            || (self.priority == o.priority && self.class == o.class && self.rank > o.rank)
    }

    /// The lines of its name in a language.
    fn text(&self, lang: Lang) -> Vec<String> {
        self.names.lines(lang).into_iter().map(str::to_owned).collect()
    }

    /// The square its symbol covers, one pixel short of the symbol's reach on every side, so
    /// that a label beside it may touch it.
    fn symbol_rect(&self) -> PxRect {
        let ((x, y), r) = (self.anchor, self.symbol_px - 1.0);
        PxRect { x0: x - r, y0: y - r, x1: x + r, y1: y + r }
    }
}

/// World size in CSS px at zoom `z`.
pub fn world_px(z: u8) -> f64 {
    256.0 * f64::from(1u32 << z.min(crate::tile::MAX_ZOOM))
}

/// Edge of the placement blocks at zoom `z`, CSS px.
fn block_px(z: u8) -> f64 {
    BLOCK_PX.min(world_px(z))
}

/// The placed labels that meet `area` (world CSS px at zoom `z`), from every block it touches.
pub fn labels_in(layers: &[&Layer], z: u8, area: PxRect, lang: Lang) -> Vec<PlacedLabel> {
    place(layers, z, area, lang).labels
}

/// The placement of every block that `area` (world CSS px at zoom `z`) touches: its names that
/// meet the area, and the places it leaves out.
pub fn place(layers: &[&Layer], z: u8, area: PxRect, lang: Lang) -> Placement {
    let b = block_px(z);
    let last = (world_px(z) / b - 1.0).max(0.0);
    let (bx0, bx1) = ((area.x0 / b).floor().clamp(0.0, last), ((area.x1 / b).ceil() - 1.0).clamp(0.0, last));
    let (by0, by1) = ((area.y0 / b).floor().clamp(0.0, last), ((area.y1 / b).ceil() - 1.0).clamp(0.0, last));
    let mut out = Placement::default();
    for by in by0 as u32..=by1 as u32 {
        for bx in bx0 as u32..=bx1 as u32 {
            let block = PxRect::new(f64::from(bx) * b, f64::from(by) * b, b, b);
            let (labels, hidden) = place_block(layers, z, block, lang);
            out.labels.extend(labels.into_iter().filter(|l| l.rect.overlaps(&area)));
            out.hidden.extend(hidden);
        }
    }
    out
}

/// The placement of `area` (world CSS px at zoom `z`) taken as one block of its own: every name
/// anchored in it placed once, in the same order as within a block, each kept inside the area.
/// What a static map image uses: its names may cross any tile or block edge inside it, and none
/// is cut by its own edge (see `view.rs`).
pub fn place_once(layers: &[&Layer], z: u8, area: PxRect, lang: Lang) -> Placement {
    let (labels, hidden) = place_block(layers, z, area, lang);
    Placement { labels, hidden }
}

/// The labels of one block, placed in priority order, and the places it leaves out.
fn place_block(layers: &[&Layer], z: u8, block: PxRect, lang: Lang) -> (Vec<PlacedLabel>, Vec<(usize, usize)>) {
    let mut cands = candidates(layers, z, block);
    cands.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.class.cmp(&b.class))
            .then(b.rank.total_cmp(&a.rank))
            .then(a.layer.cmp(&b.layer))
            .then(a.feature.cmp(&b.feature))
    });
    // Symbols on one point (the Kenana hospital drawn on the Darat Izza town point): each name
    // keeps clear of the largest of them, and none pushes the others' names away.
    let coincident =
        |a: &Candidate<'_>, b: &Candidate<'_>| (a.anchor.0 - b.anchor.0).hypot(a.anchor.1 - b.anchor.1) < 1.0;
    let widest: Vec<f64> = cands
        .iter()
        .map(|c| cands.iter().filter(|o| coincident(c, o)).map(|o| o.symbol_px).fold(0.0, f64::max))
        .collect();
    for (c, r) in cands.iter_mut().zip(widest) {
        c.symbol_px = r;
    }
    let texts: Vec<Vec<String>> = cands.iter().map(|c| c.text(lang)).collect();
    let symbols: Vec<Option<PxRect>> = cands.iter().map(|c| (c.symbol_px > 0.0).then(|| c.symbol_rect())).collect();
    // A name keeps clear of the symbol of every place that is labelled at this zoom, and of the
    // symbols of places at least as important that are not labelled yet (the places of the
    // report at zoom 6 under a city's name).
    let blocks = |si: usize, ci: usize| {
        si != ci
            && !coincident(&cands[si], &cands[ci])
            && (!cands[si].symbol_only() || cands[si].priority >= cands[ci].priority)
    };
    let mut taken: Vec<PxRect> = Vec::new();
    let mut placed: Vec<PlacedLabel> = Vec::new();
    let mut left_out = vec![false; cands.len()];
    for (ci, c) in cands.iter().enumerate() {
        // A place whose symbol lies under a more important name is left out.
        if symbols[ci].is_some_and(|s| taken.iter().any(|t| t.overlaps(&s))) {
            left_out[ci] = true;
            continue;
        }
        let Some((named_layer, named_feature)) = c.namer else { continue };
        let Some(spec) = named_layer.label_spec() else { continue };
        let lines: Vec<Arc<ShapedLine>> = texts[ci].iter().flat_map(|t| wrap(t, spec.size, spec.bold)).collect();
        let inner_w = lines.iter().map(|l| l.width).fold(0.0, f32::max);
        if lines.is_empty() || c.area_px.is_some_and(|a| f64::from(inner_w) > a) {
            continue;
        }
        let (w, h) = box_size(&lines);
        // For each position that no name takes: the places whose symbols it would cover.
        let covered = |r: &PxRect| -> Option<Vec<usize>> {
            if taken.iter().any(|t| t.overlaps(r)) {
                return None;
            }
            let gone = |si: usize| left_out[si] || symbols[si].is_some_and(|s| taken.iter().any(|t| t.overlaps(&s)));
            Some(
                (0..cands.len())
                    .filter(|&si| symbols[si].is_some_and(|s| s.overlaps(r)) && blocks(si, ci) && !gone(si))
                    .collect(),
            )
        };
        let options: Vec<(PxRect, Align, Vec<usize>)> =
            positions(c, w, h, block).into_iter().filter_map(|(r, a)| covered(&r).map(|cov| (r, a, cov))).collect();
        // The first position that covers no symbol; else, for a place's name (an area's name
        // never hides a place), the one whose most important covered place is the least
        // important, if this place outranks every place it covers (a tie in the order of the
        // file is no reason to hide a place).
        let choice = options.iter().find(|o| o.2.is_empty()).or_else(|| {
            options
                .iter()
                .filter(|o| c.area_px.is_none() && o.2.iter().all(|&si| c.outranks(&cands[si])))
                .min_by_key(|o| std::cmp::Reverse(o.2.iter().copied().min().unwrap_or(usize::MAX)))
        });
        let Some((rect, align, _)) = choice else { continue };
        taken.push(*rect);
        placed.push(PlacedLabel {
            layer: named_layer.meta.id.clone(),
            feature: named_feature,
            text: texts[ci].clone(),
            rect: *rect,
            lines,
            align: *align,
            color: spec.color,
        });
    }
    let hidden = cands.iter().zip(left_out).filter(|(_, out)| *out).map(|(c, _)| (c.layer, c.feature)).collect();
    (placed, hidden)
}

/// Every labelled feature anchored in the block (half-open: a point on the east or south edge
/// belongs to the next block), with the layers' order as given, one per place; and the symbols
/// of labelled layers drawn at this zoom whose names are not.
fn candidates<'a>(layers: &[&'a Layer], z: u8, block: PxRect) -> Vec<Candidate<'a>> {
    let world = world_px(z);
    let rect = crate::tile::WorldRect {
        min: crate::tile::WorldPoint::new(block.x0 / world, block.y0 / world),
        max: crate::tile::WorldPoint::new(block.x1 / world, block.y1 / world),
    };
    let mut out = Vec::new();
    for (li, layer) in layers.iter().enumerate() {
        let Some(spec) = layer.label_spec() else { continue };
        if !layer.visible_at(z) {
            continue;
        }
        for i in layer.query(&rect) {
            let Some(label) = layer.label(i) else { continue };
            let (x, y) = (label.anchor.x * world, label.anchor.y * world);
            if x < block.x0 || x >= block.x1 || y < block.y0 || y >= block.y1 || held_by_another(layers, layer, i, z) {
                continue;
            }
            let namer = namer(layers, layer, i, z);
            let names = namer.map(|(l, f)| place_names(layers, l, f)).unwrap_or_default();
            // A place is ranked as the feature that names it.
            let (priority, class, rank) = match namer {
                Some((l, f)) => {
                    let named = l.label(f);
                    (
                        l.label_spec().map_or(spec.priority, |s| s.priority),
                        named.map_or(label.class, |n| n.class),
                        named.map_or(label.rank, |n| n.rank),
                    )
                }
                None => (spec.priority, label.class, label.rank),
            };
            out.push(Candidate {
                priority,
                class,
                rank,
                layer: li,
                feature: i,
                anchor: (x, y),
                symbol_px: f64::from(label.symbol_px),
                area_px: label.area_width.map(|w| w * world),
                namer,
                names,
            });
        }
    }
    out
}

/// A name shaped, and wrapped at spaces into lines of at most [`WRAP_EMS`] sizes where it is
/// longer (a single word is never cut).
fn wrap(text: &str, size: f32, bold: bool) -> Vec<Arc<ShapedLine>> {
    let whole = shape(text, size, bold);
    let max = WRAP_EMS * size;
    if whole.width <= max || !text.contains(' ') {
        return vec![whole];
    }
    let mut out = Vec::new();
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let Some(first) = words.next() else { return vec![whole] };
    let mut current = first.to_owned();
    for w in words {
        let longer = format!("{current} {w}");
        if shape(&longer, size, bold).width <= max {
            current = longer;
        } else {
            out.push(shape(&current, size, bold));
            current = w.to_owned();
        }
    }
    out.push(shape(&current, size, bold));
    out
}

/// Width (CSS px) of a name as a label draws it: its widest line once wrapped, at `size` CSS
/// px. (The vector tiles tell with it whether an area's name fits the area.)
pub fn label_width(text: &str, size: f32, bold: bool) -> f32 {
    wrap(text, size, bold).iter().map(|l| l.width).fold(0.0, f32::max)
}

/// Space between two lines of a label, in text sizes.
const LINE_GAP: f32 = 0.1;

/// Width and height of a label's box, whole CSS px.
fn box_size(lines: &[Arc<ShapedLine>]) -> (f64, f64) {
    let w = lines.iter().map(|l| l.width).fold(0.0, f32::max);
    let h: f32 = lines.iter().map(|l| l.ascent + l.descent).sum::<f32>()
        + lines.windows(2).map(|p| LINE_GAP * p[0].size).sum::<f32>();
    ((f64::from(w) + 2.0 * PAD_PX).ceil(), (f64::from(h) + 2.0 * PAD_PX).ceil())
}

/// The boxes a candidate may take, in order of preference, snapped to whole pixels and kept
/// inside the block.
fn positions(c: &Candidate<'_>, w: f64, h: f64, block: PxRect) -> Vec<(PxRect, Align)> {
    let (x, y) = c.anchor;
    let at = |x0: f64, y0: f64, a: Align| (PxRect::new(x0.round(), y0.round(), w, h), a);
    let mut out = if c.area_px.is_some() {
        // A polygon's name: centred, shifted back into the block if it sticks out.
        let x0 = (x - w / 2.0).clamp(block.x0, (block.x1 - w).max(block.x0));
        let y0 = (y - h / 2.0).clamp(block.y0, (block.y1 - h).max(block.y0));
        vec![at(x0, y0, Align::Centre)]
    } else {
        // Beside the symbol, the box touching its square; the box's padding keeps the letters
        // clear of it.
        let g = c.symbol_px - 1.0;
        vec![
            at(x + g, y - h / 2.0, Align::Left),
            at(x - g - w, y - h / 2.0, Align::Right),
            at(x - w / 2.0, y - g - h, Align::Centre),
            at(x - w / 2.0, y + g, Align::Centre),
        ]
    };
    out.retain(|(r, _)| block.contains(r) && r.width() > 0.0 && r.height() > 0.0);
    out
}

/// Draws placed labels onto a pixmap whose top-left corner is the world pixel (`origin_x`,
/// `origin_y`) in device px at `scale` device px per CSS px.
pub fn draw_labels(pixmap: &mut Pixmap, labels: &[PlacedLabel], origin: (i64, i64), scale: u32) {
    for l in labels {
        let Some(img) = label_image(l, scale) else { continue };
        let s = i64::from(scale);
        let (dx, dy) = (l.rect.x0 as i64 * s - origin.0, l.rect.y0 as i64 * s - origin.1);
        let (Ok(dx), Ok(dy)) = (i32::try_from(dx), i32::try_from(dy)) else { continue };
        pixmap.draw_pixmap(dx, dy, img.as_ref(), &PixmapPaint::default(), Transform::identity(), None);
    }
}

/// One label drawn alone: the letters over their halo.
///
/// The halo is made from the letters' coverage with a distance transform rather than by
/// stroking the glyph outlines: tiny-skia's stroker on the curves of a dozen glyphs cost about
/// 0.5 ms per label, four times the rest of a labelled tile, where two passes over the label's
/// pixels cost a few microseconds.
fn label_image(l: &PlacedLabel, scale: u32) -> Option<Pixmap> {
    let s = scale as f32;
    let (w, h) = ((l.rect.width() as u32) * scale, (l.rect.height() as u32) * scale);
    let mut img = Pixmap::new(w, h)?;
    let inner_w = l.lines.iter().map(|x| x.width).fold(0.0, f32::max);
    let mut pb = PathBuilder::new();
    let mut top = PAD_PX as f32;
    for line in &l.lines {
        let left = PAD_PX as f32
            + match l.align {
                Align::Left => 0.0,
                Align::Centre => (inner_w - line.width) / 2.0,
                Align::Right => inner_w - line.width,
            };
        super::text::outline_line(&mut pb, line, left * s, (top + line.ascent) * s, s);
        top += line.ascent + line.descent + LINE_GAP * line.size;
    }
    let path = pb.finish()?;
    img.fill_path(&path, &paint(Color::rgba(0, 0, 0, 255)), FillRule::Winding, Transform::identity(), None);
    let cover: Vec<f32> = img.data().chunks_exact(4).map(|p| f32::from(p[3]) / 255.0).collect();
    let dist = distance_outside(&cover, w as usize, h as usize);
    let reach = HALO_PX * s;
    let (c, ca) = (l.color, f32::from(l.color.a) / 255.0);
    for ((px, &a), &d) in img.data_mut().chunks_exact_mut(4).zip(&cover).zip(&dist) {
        let text = a * ca;
        let halo = (reach + 0.5 - d).clamp(0.0, 1.0) * HALO_ALPHA * (1.0 - text);
        let premul = |v: u8| (f32::from(v) * text + 255.0 * halo).round().clamp(0.0, 255.0) as u8;
        px.copy_from_slice(&[
            premul(c.r),
            premul(c.g),
            premul(c.b),
            (255.0 * (text + halo)).round().clamp(0.0, 255.0) as u8,
        ]);
    }
    Some(img)
}

/// Opacity of the white halo.
const HALO_ALPHA: f32 = 0.92;

/// For each pixel, its distance (px) to the letters: about `0.5 - coverage` on their
/// anti-aliased edge, growing outwards by a two-pass chamfer transform (steps 1 and sqrt 2,
/// within 8% of the Euclidean distance).
fn distance_outside(cover: &[f32], w: usize, h: usize) -> Vec<f32> {
    const DIAG: f32 = std::f32::consts::SQRT_2;
    let mut d: Vec<f32> = cover.iter().map(|&a| if a > 0.0 { 0.5 - a } else { f32::INFINITY }).collect();
    for y in 0..h {
        for x in 0..w {
            let mut v = d[y * w + x];
            if x > 0 {
                v = v.min(d[y * w + x - 1] + 1.0);
            }
            if y > 0 {
                v = v.min(d[(y - 1) * w + x] + 1.0);
                if x > 0 {
                    v = v.min(d[(y - 1) * w + x - 1] + DIAG);
                }
                if x + 1 < w {
                    v = v.min(d[(y - 1) * w + x + 1] + DIAG);
                }
            }
            d[y * w + x] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let mut v = d[y * w + x];
            if x + 1 < w {
                v = v.min(d[y * w + x + 1] + 1.0);
            }
            if y + 1 < h {
                v = v.min(d[(y + 1) * w + x] + 1.0);
                if x + 1 < w {
                    v = v.min(d[(y + 1) * w + x + 1] + DIAG);
                }
                if x > 0 {
                    v = v.min(d[(y + 1) * w + x - 1] + DIAG);
                }
            }
            d[y * w + x] = v;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Catalog, load_dir};
    use crate::tile::LonLat;

    fn catalog() -> Catalog {
        load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata"))
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn labels_never_overlap_and_stay_in_their_block() {
        let c = catalog();
        let layers = c.select(None).unwrap_or_else(|e| unreachable!("{e}"));
        let idlib = LonLat::new(36.63, 35.93).to_world();
        let mut total = 0;
        for z in 5..=13u8 {
            let b = block_px(z);
            let (cx, cy) = ((idlib.x * world_px(z) / b).floor(), (idlib.y * world_px(z) / b).floor());
            for lang in Lang::ALL {
                for (dx, dy) in [(-1.0, 0.0), (0.0, 0.0), (0.0, -1.0), (1.0, 1.0)] {
                    let block = PxRect::new((cx + dx) * b, (cy + dy) * b, b, b);
                    let placed = labels_in(&layers, z, block, lang);
                    for (i, a) in placed.iter().enumerate() {
                        assert!(block.contains(&a.rect), "z{z} {lang}: {:?} leaves its block", a.text);
                        assert_eq!(a.rect.x0.fract() + a.rect.y0.fract(), 0.0, "whole pixels");
                        for o in &placed[i + 1..] {
                            assert!(!a.rect.overlaps(&o.rect), "z{z} {lang}: {:?} overlaps {:?}", a.text, o.text);
                        }
                    }
                    total += placed.len();
                }
            }
        }
        assert!(total > 200, "only {total} labels placed");
    }

    #[test]
    fn a_place_in_two_layers_is_named_once() {
        // Idlib is a place of the report, a Natural Earth city and a GeoNames town.
        let c = catalog();
        let layers = c.select(None).unwrap_or_else(|e| unreachable!("{e}"));
        for z in [8u8, 11, 12] {
            let p = LonLat::new(36.634, 35.931).to_world();
            let (x, y) = (p.x * world_px(z), p.y * world_px(z));
            let placed = labels_in(&layers, z, PxRect::new(x - 128.0, y - 128.0, 256.0, 256.0), Lang::En);
            let idlibs: Vec<&PlacedLabel> = placed.iter().filter(|l| l.text == ["Idlib"]).collect();
            assert_eq!(idlibs.len(), 1, "z{z}: {:?}", placed.iter().map(|l| &l.text).collect::<Vec<_>>());
            assert_eq!(idlibs[0].layer, "report-places", "z{z}: the most important layer names it");
        }
    }
}
