//! Static map images: a rectangle of the map of any size, drawn in one pass rather than stitched
//! from tiles, with the event markers over it and the data's credit in a corner.
//!
//! # Names
//!
//! Place names are placed once for the whole image: the image is a placement block of its own
//! ([`label::place_once`]), taking its candidates in the same order as the tiles' blocks do. So a
//! name may cross the tile and block edges that lie inside the image, and every name lies whole
//! inside the image: none is cut by its edge. The price: near the tiles' block edges (every
//! 1,024 CSS px of the world) a static map may name a place that the tiles leave unnamed, and the
//! other way round near the image's own edge. Rejected: stitching tiles (names cut at the image's
//! edge, and a name left out wherever one of the tiles' blocks would cut it); placing with the
//! tiles' blocks over the image (the same names as the tiles, but the same gaps, and names cut at
//! the image's edge). The work grows with the image's area, which the route bounds.
//!
//! # Zoom
//!
//! The whole image is drawn at one whole zoom, where the symbols, strokes and names have their
//! sizes. A view fitted to a box takes the deepest zoom at which the box fits in the image, and
//! is centred on the box's centre (in Web Mercator). Beyond the edges of the world (north of 85°
//! or past the antimeridian) the image shows the background only: the world is not repeated.
//!
//! # Credit
//!
//! The credit of the layers drawn (their licences ask for it) goes into the bottom-right corner,
//! in 10 px type on a translucent white band, one credit per line when they do not fit on one,
//! and a credit wider than the image wrapped at spaces.

use tiny_skia::{FillRule, PathBuilder, Pixmap, Rect, Transform};

use super::label::{PxRect, place_once, world_px};
use super::symbol::paint;
use super::text::{outline_line, shape};
use super::{Scale, TileImage, draw_area};
use crate::layer::{Catalog, Layer};
use crate::style::{Color, Lang};
use crate::tile::{LonLat, LonLatBBox, MAX_LATITUDE, TileCoord, WorldPoint, WorldRect};

/// Size of the credit's type, CSS px.
const CREDIT_PX: f32 = 10.0;
/// Space between the credit's text and the edge of its band, CSS px.
const CREDIT_PAD_PX: f32 = 3.0;

/// The rectangle of the map an image shows: its north-west corner in world CSS px at zoom `z`
/// (whole pixels, so that names and symbols fall on the same pixels as on the tiles), and its
/// size in CSS px (device px are `scale` times more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct View {
    /// The zoom drawn.
    pub z: u8,
    /// West edge, world CSS px from the antimeridian at zoom `z`.
    pub x: i64,
    /// North edge, world CSS px from the north edge of the world at zoom `z`.
    pub y: i64,
    /// Width, CSS px.
    pub width: u32,
    /// Height, CSS px.
    pub height: u32,
}

impl View {
    /// The view of `width` x `height` CSS px centred on `center` at zoom `z` (the corner rounded
    /// to the nearest whole pixel).
    ///
    /// # Examples
    /// ```
    /// use tessera::render::View;
    /// use tessera::tile::LonLat;
    /// let v = View::centred(LonLat::new(0.0, 0.0), 1, 100, 50);
    /// assert_eq!((v.x, v.y), (206, 231)); // the world is 512 px wide at zoom 1
    /// ```
    pub fn centred(center: LonLat, z: u8, width: u32, height: u32) -> Self {
        let c = center.to_world();
        Self::around(c, z, width, height)
    }

    /// The view of `width` x `height` CSS px at the deepest zoom up to `max_zoom` at which
    /// `bbox` fits in it (zoom 0 when it fits at none), centred on the box's centre in Web
    /// Mercator.
    pub fn fitted(bbox: LonLatBBox, width: u32, height: u32, max_zoom: u8) -> Self {
        let r = bbox.to_world();
        let (w, h) = (r.max.x - r.min.x, r.max.y - r.min.y);
        let fits = |z: u8| w * world_px(z) <= f64::from(width) && h * world_px(z) <= f64::from(height);
        let z = (0..=max_zoom).take_while(|&z| fits(z)).last().unwrap_or(0);
        let centre = WorldPoint::new((r.min.x + r.max.x) / 2.0, (r.min.y + r.max.y) / 2.0);
        Self::around(centre, z, width, height)
    }

    fn around(c: WorldPoint, z: u8, width: u32, height: u32) -> Self {
        let world = world_px(z);
        let x = (c.x * world - f64::from(width) / 2.0).round() as i64;
        let y = (c.y * world - f64::from(height) / 2.0).round() as i64;
        Self { z, x, y, width, height }
    }

    /// The view's rectangle in world CSS px.
    pub fn area(&self) -> PxRect {
        PxRect::new(self.x as f64, self.y as f64, f64::from(self.width), f64::from(self.height))
    }

    /// The view's rectangle in the unit square (it may reach beyond the world's edges).
    pub fn world_rect(&self) -> WorldRect {
        let (a, world) = (self.area(), world_px(self.z));
        WorldRect { min: WorldPoint::new(a.x0 / world, a.y0 / world), max: WorldPoint::new(a.x1 / world, a.y1 / world) }
    }

    /// Where a point falls in the image, CSS px from its north-west corner.
    pub fn pixel(&self, p: LonLat) -> (f64, f64) {
        let (w, world) = (p.to_world(), world_px(self.z));
        (w.x * world - self.x as f64, w.y * world - self.y as f64)
    }

    /// The part of the view inside the world, in degrees (`None` when it shows none of it).
    pub fn lonlat_bounds(&self) -> Option<LonLatBBox> {
        let r = self.world_rect();
        let clamp = |v: f64| v.clamp(0.0, 1.0);
        let (nw, se) = (
            WorldPoint::new(clamp(r.min.x), clamp(r.min.y)).to_lonlat(),
            WorldPoint::new(clamp(r.max.x), clamp(r.max.y)).to_lonlat(),
        );
        (nw.lon < se.lon && se.lat < nw.lat).then(|| LonLatBBox {
            west: nw.lon,
            south: se.lat.max(-MAX_LATITUDE),
            east: se.lon,
            north: nw.lat.min(MAX_LATITUDE),
        })
    }

    /// The tile of zoom `z` under the view's centre (clamped into the world); `None` for a zoom
    /// beyond tile math's.
    pub fn centre_tile(&self) -> Option<TileCoord> {
        let r = self.world_rect();
        let c =
            WorldPoint::new(((r.min.x + r.max.x) / 2.0).clamp(0.0, 1.0), ((r.min.y + r.max.y) / 2.0).clamp(0.0, 1.0));
        TileCoord::containing(c, self.z).ok()
    }
}

/// Draws the view: the chosen layers (in draw order) with the names of `labels` placed once for
/// the whole image (see the module documentation), on the background; `None` only when the
/// pixmap cannot be made (a size of 0).
pub fn render_view(
    catalog: &Catalog,
    layers: &[&Layer],
    view: &View,
    scale: Scale,
    labels: Option<Lang>,
) -> Option<Pixmap> {
    let area = view.area();
    let placement = labels.map(|lang| place_once(layers, view.z, area, lang)).unwrap_or_default();
    match draw_area(catalog, layers, view.z, area, scale, &placement) {
        TileImage::Drawn(p) => Some(p),
        TileImage::Empty => {
            let f = scale.factor();
            let mut p = Pixmap::new(view.width * f, view.height * f)?;
            if let Some(bg) = catalog.background {
                p.fill(tiny_skia::Color::from_rgba8(bg.r, bg.g, bg.b, bg.a));
            }
            Some(p)
        }
    }
}

/// Draws `credit` (credits separated by `; `) into the bottom-right corner of an image drawn at
/// `scale`; nothing for an empty credit.
pub fn draw_credit(pixmap: &mut Pixmap, credit: &str, scale: Scale) {
    let s = scale.factor() as f32;
    let max = pixmap.width() as f32 / s - 2.0 * CREDIT_PAD_PX;
    let lines = credit_lines(credit, max);
    if lines.is_empty() {
        return;
    }
    let shaped: Vec<_> = lines.iter().map(|l| shape(l, CREDIT_PX, false)).collect();
    let width = shaped.iter().map(|l| l.width).fold(0.0, f32::max) + 2.0 * CREDIT_PAD_PX;
    let line_h = shaped.iter().map(|l| l.ascent + l.descent).fold(0.0, f32::max);
    let height = line_h * shaped.len() as f32 + 2.0 * CREDIT_PAD_PX;
    let (w, h) = (pixmap.width() as f32, pixmap.height() as f32);
    let (x0, y0) = ((w - width * s).max(0.0).floor(), (h - height * s).max(0.0).floor());
    if let Some(band) = Rect::from_ltrb(x0, y0, w, h) {
        pixmap.fill_rect(band, &paint(Color::rgba(255, 255, 255, 0xc0)), Transform::identity(), None);
    }
    let mut pb = PathBuilder::new();
    for (i, line) in shaped.iter().enumerate() {
        // Right-aligned, each line on its own baseline.
        let x = w - (CREDIT_PAD_PX + line.width) * s;
        let baseline = y0 + (CREDIT_PAD_PX + line_h * i as f32 + line.ascent) * s;
        outline_line(&mut pb, line, x, baseline, s);
    }
    if let Some(path) = pb.finish() {
        pixmap.fill_path(
            &path,
            &paint(Color::rgba(0x33, 0x33, 0x33, 255)),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
    }
}

/// The credit's lines for a band of `max` CSS px: credits joined while they fit, a credit wider
/// than the band wrapped at spaces (a word wider than the band stays whole).
fn credit_lines(credit: &str, max: f32) -> Vec<String> {
    let fits = |t: &str| shape(t, CREDIT_PX, false).width <= max;
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut push = |current: &mut String, piece: &str, sep: &str| {
        let joined = if current.is_empty() { piece.to_owned() } else { format!("{current}{sep}{piece}") };
        if current.is_empty() || fits(&joined) {
            *current = joined;
        } else {
            lines.push(std::mem::replace(current, piece.to_owned()));
        }
    };
    for part in credit.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if fits(part) {
            push(&mut current, part, "; ");
        } else {
            for word in part.split(' ').filter(|w| !w.is_empty()) {
                push(&mut current, word, " ");
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_is_fitted_at_the_deepest_zoom_that_holds_it() {
        // Idlib governorate's box, about 1.4 x 1.1 degrees: 256 px wide at zoom 6 is 1.4 / 360
        // * 256 * 64 = 64 px; at zoom 8 it is 255 px, at zoom 9 510 px.
        let idlib = LonLatBBox { west: 35.9, south: 35.3, east: 37.3, north: 36.4 };
        let v = View::fitted(idlib, 300, 300, 20);
        assert_eq!(v.z, 8);
        let (x, y) = v.pixel(LonLat::new(36.6, 35.85));
        assert!((x - 150.0).abs() < 3.0 && (y - 150.0).abs() < 3.0, "the box's centre near the image's: {x}, {y}");
        let (w, n) = v.pixel(LonLat::new(idlib.west, idlib.north));
        let (e, s) = v.pixel(LonLat::new(idlib.east, idlib.south));
        assert!(w >= 0.0 && n >= 0.0 && e <= 300.0 && s <= 300.0, "the box inside the image: {w} {n} {e} {s}");
        assert_eq!(View::fitted(idlib, 300, 300, 5).z, 5, "no deeper than the maximum zoom");
        let world = LonLatBBox { west: -180.0, south: -85.0, east: 180.0, north: 85.0 };
        assert_eq!(View::fitted(world, 100, 100, 20).z, 0, "too big for zoom 0 still gets zoom 0");
    }

    #[test]
    fn names_are_placed_once_for_the_whole_view_across_block_edges_and_inside_it() {
        let catalog =
            crate::layer::load(&crate::layer::Geodata::from_option(None)).unwrap_or_else(|e| unreachable!("{e}"));
        let layers = catalog.select(None).unwrap_or_else(|e| unreachable!("{e}"));
        let block = super::super::label::BLOCK_PX;
        let mut across = 0;
        // Views over the report's area at zoom 9, where names are dense, each 800 x 600 px and
        // so crossing at least one edge of the tiles' placement blocks.
        for (lon, lat) in [(36.63, 35.93), (36.8, 36.2), (36.6, 35.6), (36.2, 35.9), (37.1, 36.2)] {
            let v = View::centred(LonLat::new(lon, lat), 9, 800, 600);
            let area = v.area();
            let p = place_once(&layers, 9, area, Lang::En);
            assert!(!p.labels.is_empty(), "names at {lon},{lat}");
            for l in &p.labels {
                assert!(area.contains(&l.rect), "{:?} is cut by the image's edge", l.text);
            }
            // A name that crosses a block edge is one that the tiles could not draw.
            across += p
                .labels
                .iter()
                .filter(|l| {
                    (l.rect.x0 / block).floor() != ((l.rect.x1 - 1.0) / block).floor()
                        || (l.rect.y0 / block).floor() != ((l.rect.y1 - 1.0) / block).floor()
                })
                .count();
        }
        assert!(across > 0, "no name crossed a block edge");
    }

    #[test]
    fn credits_share_a_line_while_they_fit_and_wrap_when_not() {
        let both = "Made with Natural Earth; Place data © GeoNames";
        assert_eq!(credit_lines(both, 1000.0), vec![both.to_owned()]);
        let narrow = credit_lines(both, 130.0);
        assert_eq!(narrow.first().map(String::as_str), Some("Made with Natural Earth"), "{narrow:?}");
        assert!(narrow.len() >= 2 && narrow.iter().all(|l| shape(l, CREDIT_PX, false).width <= 130.0), "{narrow:?}");
        assert!(credit_lines("", 100.0).is_empty());
    }
}
