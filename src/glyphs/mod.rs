//! Glyphs for MapLibre GL: the embedded Noto fonts as signed-distance-field glyph ranges, the
//! format MapLibre's `glyphs` URL serves (`/fonts/{fontstack}/{start}-{end}.pbf`, 256 code
//! points a range, protobuf `llmr.glyphs`).
//!
//! A glyph is drawn from its outline (ttf-parser, through the faces of [`crate::render::text`])
//! by tiny-skia at MapLibre's glyph size of 24 px, and the coverage becomes a distance field with
//! `sdf_glyph_renderer` (Felzenszwalb-Huttenlocher distance transform, 3 px border, 8 px radius,
//! a quarter of the byte range inside the outline: the values of node-fontnik, which made the
//! fonts MapLibre is tuned for); the protobuf messages and the merging of a stack are
//! `pbf_font_tools`'. Going through FreeType (`sdf_glyph_renderer`'s own front end) was
//! rejected: it is a C library that the build and CI would have to bring, for the rasterising
//! that tiny-skia already does here.
//!
//! Every font's glyphs stand on one baseline: a glyph's `top` is measured from the ascender of
//! Noto Sans (26 px at 24 px, as Open Sans, the metrics MapLibre's text placement assumes), not
//! from each font's own. Noto Sans Arabic's ascender is 33 px; with its own, Arabic letters
//! would sit 7 px lower than Latin ones in the same label.
//!
//! Ranges are made on first request, once per font and range, and kept for the life of the
//! process: the fonts are compiled in and never change. A range takes 15-25 ms to make; a
//! stack's range is merged (first font wins for each code point) and encoded at each request in
//! 50-65 µs (`cargo bench --bench vector_names`, on a loaded 2-core machine). Caching the
//! encoded stacks too was left out: there are as many as orders of four fonts, for a saving of
//! microseconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use pbf_font_tools::prost::Message;
use pbf_font_tools::{Fontstack, Glyph, Glyphs};
use sdf_glyph_renderer::{BitmapGlyph, clamp_to_u8};
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};

use crate::render::text::{Font, outline_glyph};

/// Code points per range.
pub const RANGE_SIZE: u32 = 256;
/// Size (px) glyphs are drawn at: MapLibre scales them from this size.
pub const GLYPH_PX: f32 = 24.0;
/// Border (px) around each glyph's bitmap.
const BORDER: usize = 3;
/// Distance (px) the field reaches from the outline.
const RADIUS: usize = 8;
/// Share of the byte range that encodes the inside of the outline.
const CUTOFF: f64 = 0.25;
/// Ascender (px at [`GLYPH_PX`]) every glyph's `top` is measured from: Noto Sans's 1069/1000 em,
/// rounded up.
const ASCENDER_PX: i32 = 26;
/// Most fonts a stack may name (each font once).
pub const MAX_STACK: usize = 4;
/// Highest code point.
const MAX_CODE_POINT: u32 = 0x10_FFFF;

/// The fonts served, by the names a style's `text-font` uses.
pub const FONTS: [(&str, Font); 4] = [
    ("Noto Sans Regular", Font::Latin),
    ("Noto Sans Bold", Font::LatinBold),
    ("Noto Sans Arabic Regular", Font::Arabic),
    ("Noto Sans Arabic Bold", Font::ArabicBold),
];

/// A font stack or a glyph range that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlyphError {
    /// A name that is not one of [`FONTS`].
    #[error("no font named '{0}' here; the fonts are listed at /fonts.json")]
    UnknownFont(String),
    /// A stack with no name in it, or with more than [`MAX_STACK`] names.
    #[error("a font stack names 1 to {MAX_STACK} fonts, separated by commas")]
    StackSize,
    /// A range that is not `{start}-{end}` with `start` a multiple of 256 and `end` 255 more.
    #[error(
        "'{0}' is not a glyph range: write {{start}}-{{end}}.pbf with start a multiple of 256 and end = start + 255 (0-255, 256-511, ...), up to 1114111"
    )]
    BadRange(String),
}

/// Fonts in order of preference: for each code point, the first font that has it gives its
/// glyph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontStack {
    fonts: Vec<Font>,
    name: String,
}

impl FontStack {
    /// Parses a stack as MapLibre writes it in a glyph URL: font names separated by commas
    /// (spaces around them are dropped; a font named twice counts once).
    ///
    /// # Examples
    /// ```
    /// use tessera::glyphs::FontStack;
    /// assert!(FontStack::parse("Noto Sans Regular,Noto Sans Arabic Regular").is_ok());
    /// assert!(FontStack::parse("Open Sans Regular").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, GlyphError> {
        let mut fonts = Vec::new();
        let mut names = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let font = FONTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| *f)
                .ok_or_else(|| GlyphError::UnknownFont(name.chars().take(64).collect()))?;
            if !fonts.contains(&font) {
                fonts.push(font);
                names.push(name);
            }
        }
        if fonts.is_empty() || fonts.len() > MAX_STACK {
            return Err(GlyphError::StackSize);
        }
        Ok(Self { fonts, name: names.join(", ") })
    }

    /// The fonts, first preferred.
    pub fn fonts(&self) -> &[Font] {
        &self.fonts
    }
}

/// A range of [`RANGE_SIZE`] code points, starting at a multiple of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlyphRange {
    start: u32,
}

impl GlyphRange {
    /// Parses `{start}-{end}` (the file name without `.pbf`).
    ///
    /// # Examples
    /// ```
    /// use tessera::glyphs::GlyphRange;
    /// assert_eq!(GlyphRange::parse("1536-1791").map(|r| r.start()), Ok(1536));
    /// assert!(GlyphRange::parse("0-256").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, GlyphError> {
        let bad = || GlyphError::BadRange(text.chars().take(32).collect());
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let digits = |s: &str| !s.is_empty() && s.len() <= 7 && s.bytes().all(|c| c.is_ascii_digit());
        if !digits(a) || !digits(b) {
            return Err(bad());
        }
        let (start, end): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        if start % RANGE_SIZE != 0 || end != start + RANGE_SIZE - 1 || end > MAX_CODE_POINT {
            return Err(bad());
        }
        Ok(Self { start })
    }

    /// First code point.
    pub fn start(self) -> u32 {
        self.start
    }

    /// Last code point.
    pub fn end(self) -> u32 {
        self.start + RANGE_SIZE - 1
    }

    fn label(self) -> String {
        format!("{}-{}", self.start, self.end())
    }
}

/// The glyphs of one font in one range, made from its outlines (no cache).
pub fn render_range(font: Font, range: GlyphRange) -> Fontstack {
    let name = FONTS.iter().find(|(_, f)| *f == font).map_or("", |(n, _)| *n);
    let glyphs = (range.start()..=range.end())
        .filter_map(char::from_u32)
        .filter_map(|c| {
            let face = font.face()?;
            let id = face.glyph_index(c)?;
            Some(render_glyph(font, u32::from(c), id.0))
        })
        .collect();
    Fontstack { name: name.to_owned(), range: range.label(), glyphs }
}

/// One glyph as MapLibre reads it: its distance field and its metrics in px at [`GLYPH_PX`].
fn render_glyph(font: Font, code_point: u32, id: u16) -> Glyph {
    let Some(face) = font.face() else { return empty_glyph(code_point, 0) };
    let k = GLYPH_PX / face.units_per_em() as f32;
    let advance = face.glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(id)).map_or(0.0, |a| f32::from(a) * k);
    let advance = advance.round().max(0.0) as u32;
    let Some(b) = face.glyph_bounding_box(rustybuzz::ttf_parser::GlyphId(id)) else {
        return empty_glyph(code_point, advance);
    };
    let left = (f32::from(b.x_min) * k).floor() as i32;
    let right = (f32::from(b.x_max) * k).ceil() as i32;
    let top = (f32::from(b.y_max) * k).ceil() as i32;
    let bottom = (f32::from(b.y_min) * k).floor() as i32;
    let (w, h) = ((right - left).max(0) as u32, (top - bottom).max(0) as u32);
    let Some(alpha) = coverage(font, id, (w, h), (-left as f32, top as f32), k) else {
        return empty_glyph(code_point, advance);
    };
    Glyph {
        id: code_point,
        bitmap: distance_field(&alpha, w as usize, h as usize),
        width: w,
        height: h,
        left,
        top: top - ASCENDER_PX,
        advance,
    }
}

/// A glyph that draws nothing (a space): its advance only, and the border's field.
fn empty_glyph(code_point: u32, advance: u32) -> Glyph {
    Glyph {
        id: code_point,
        bitmap: distance_field(&[], 0, 0),
        width: 0,
        height: 0,
        left: 0,
        top: -ASCENDER_PX,
        advance,
    }
}

/// The glyph's coverage (0-255) in a `w` x `h` bitmap, its origin at `origin` px.
fn coverage(font: Font, id: u16, (w, h): (u32, u32), origin: (f32, f32), k: f32) -> Option<Vec<u8>> {
    let mut pixmap = Pixmap::new(w, h)?;
    let mut pb = PathBuilder::new();
    if !outline_glyph(&mut pb, font, id, origin, k) {
        return None;
    }
    let path = pb.finish()?;
    let mut paint = Paint::default();
    paint.set_color_rgba8(0, 0, 0, 255);
    paint.anti_alias = true;
    pixmap.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
    Some(pixmap.data().chunks_exact(4).map(|p| p[3]).collect())
}

/// The bordered distance field of a coverage bitmap, one byte a pixel.
fn distance_field(alpha: &[u8], w: usize, h: usize) -> Option<Vec<u8>> {
    let bitmap = BitmapGlyph::from_unbuffered(alpha, w, h, BORDER).ok()?;
    clamp_to_u8(&bitmap.render_sdf(RADIUS), CUTOFF).ok()
}

/// One font's range, made on first use and kept.
fn cached_range(font: Font, range: GlyphRange) -> Arc<Fontstack> {
    type Cell = Arc<OnceLock<Arc<Fontstack>>>;
    static RANGES: OnceLock<Mutex<HashMap<(Font, GlyphRange), Cell>>> = OnceLock::new();
    let cell: Cell = match RANGES.get_or_init(Default::default).lock() {
        Ok(mut map) => Arc::clone(map.entry((font, range)).or_default()),
        // A poisoned map (a panic while it was held) still serves: the range is made anew.
        Err(_) => Arc::default(),
    };
    // Made outside the map's lock: requests for other ranges go on meanwhile, and requests for
    // this one wait for it rather than make it again.
    Arc::clone(cell.get_or_init(|| Arc::new(render_range(font, range))))
}

/// The glyph range of a stack, encoded as MapLibre reads it: one `Fontstack` named after the
/// stack, each code point's glyph from the first font of the stack that has it. A range that no
/// font covers is an empty stack.
pub fn stack_range(stack: &FontStack, range: GlyphRange) -> Vec<u8> {
    let parts: Vec<Glyphs> =
        stack.fonts.iter().map(|&f| Glyphs { stacks: vec![(*cached_range(f, range)).clone()] }).collect();
    let mut merged = pbf_font_tools::combine_glyphs(parts).unwrap_or_default();
    let glyphs = merged.stacks.pop().map(|s| s.glyphs).unwrap_or_default();
    Glyphs { stacks: vec![Fontstack { name: stack.name.clone(), range: range.label(), glyphs }] }.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Fontstack {
        let mut g = Glyphs::decode(bytes).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(g.stacks.len(), 1);
        g.stacks.remove(0)
    }

    fn stack(text: &str) -> FontStack {
        FontStack::parse(text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn range(text: &str) -> GlyphRange {
        GlyphRange::parse(text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn font_names_are_the_names_in_the_fonts() {
        use rustybuzz::ttf_parser::name_id;
        for (name, font) in FONTS {
            let face = font.face().unwrap_or_else(|| unreachable!("fonts parse"));
            let read = |id: u16| {
                face.names().into_iter().find(|n| n.name_id == id && n.is_unicode()).and_then(|n| n.to_string())
            };
            let full = format!(
                "{} {}",
                read(name_id::FAMILY).unwrap_or_default(),
                read(name_id::SUBFAMILY).unwrap_or_default()
            );
            assert_eq!(full, name);
        }
    }

    #[test]
    fn ranges_and_stacks_parse_or_say_why_not() {
        assert_eq!(range("0-255").start(), 0);
        assert_eq!(range("65280-65535").end(), 65535);
        for bad in ["0-256", "1-256", "256-255", "-0-255", "0_255", "a-b", "0-", "1114112-1114367", "00000000-255"] {
            assert!(matches!(GlyphRange::parse(bad), Err(GlyphError::BadRange(_))), "{bad}");
        }
        let s = FontStack::parse(" Noto Sans Bold , Noto Sans Arabic Bold,Noto Sans Bold")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.fonts(), [Font::LatinBold, Font::ArabicBold]);
        assert_eq!(FontStack::parse("Noto Sans Regular,Arial"), Err(GlyphError::UnknownFont("Arial".into())));
        assert_eq!(FontStack::parse(" , "), Err(GlyphError::StackSize));
    }

    #[test]
    fn a_latin_glyph_has_the_metrics_of_its_outline_and_a_field_around_it() {
        let stack = decode(&stack_range(&stack("Noto Sans Regular"), range("0-255")));
        assert_eq!((stack.name.as_str(), stack.range.as_str()), ("Noto Sans Regular", "0-255"));
        let g = |c: char| {
            stack.glyphs.iter().find(|g| g.id == u32::from(c)).cloned().unwrap_or_else(|| unreachable!("{c}"))
        };
        // 'H' in Noto Sans: 714/1000 em high (17.1 px at 24 px), standing on the baseline.
        let h = g('H');
        assert_eq!((h.height, h.top), (18, 18 - ASCENDER_PX));
        let bitmap = h.bitmap.clone().unwrap_or_default();
        assert_eq!(bitmap.len(), ((h.width + 6) * (h.height + 6)) as usize);
        // Inside the stem the field is above the edge value (192), outside in the border below it.
        let at = |x: u32, y: u32| bitmap[(y * (h.width + 6) + x) as usize];
        assert!(at(3 + 1, 3 + h.height / 2) > 192, "{}", at(4, 3 + h.height / 2));
        assert!(at(0, 0) < 100);
        // A space draws nothing and advances.
        let space = g(' ');
        assert_eq!((space.width, space.height), (0, 0));
        assert!(space.advance >= 5 && space.advance <= 8, "{}", space.advance);
        assert!(stack.glyphs.iter().all(|g| g.id <= 255));
    }

    #[test]
    fn a_stack_takes_each_glyph_from_its_first_font_that_has_it() {
        let both = stack("Noto Sans Regular,Noto Sans Arabic Regular");
        // Arabic letters come from the Arabic font, which Noto Sans lacks.
        let arabic = decode(&stack_range(&both, range("1536-1791")));
        let alone = render_range(Font::Arabic, range("1536-1791"));
        assert_eq!(arabic.glyphs.len(), alone.glyphs.len());
        assert!(arabic.glyphs.iter().any(|g| g.id == 0x0644), "lam");
        // Where both fonts have a code point (space, digits, punctuation), the first font of the
        // stack gives it, in either order; the fonts differ on some of them.
        let (sans, arabic_font) =
            (render_range(Font::Latin, range("0-255")), render_range(Font::Arabic, range("0-255")));
        let find = |s: &Fontstack, id: u32| s.glyphs.iter().find(|g| g.id == id).cloned();
        let shared: Vec<u32> =
            arabic_font.glyphs.iter().map(|g| g.id).filter(|&id| find(&sans, id).is_some()).collect();
        assert!(shared.iter().any(|&id| find(&sans, id) != find(&arabic_font, id)), "{shared:?}");
        for (order, first) in [
            ("Noto Sans Regular,Noto Sans Arabic Regular", &sans),
            ("Noto Sans Arabic Regular,Noto Sans Regular", &arabic_font),
        ] {
            let merged = decode(&stack_range(&stack(order), range("0-255")));
            assert_eq!(merged.glyphs.len(), sans.glyphs.len(), "Noto Sans covers all the Arabic font has here");
            for &id in &shared {
                assert_eq!(find(&merged, id), find(first, id), "{order}: U+{id:04X}");
            }
        }
        // The presentation forms the RTL plugin writes are in the Arabic font: final alef.
        let forms = decode(&stack_range(&both, range("65024-65279")));
        assert!(forms.glyphs.iter().any(|g| g.id == 0xFE8E && g.width > 0));
        // A range no font covers is an empty stack.
        let none = decode(&stack_range(&both, range("69632-69887")));
        assert!(none.glyphs.is_empty() && none.range == "69632-69887");
    }
}
