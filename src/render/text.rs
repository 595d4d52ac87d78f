//! Text for labels: the embedded fonts, bidirectional ordering, shaping and glyph outlines.
//!
//! A line of text is ordered with the Unicode Bidirectional Algorithm (unicode-bidi) into
//! visual runs of one direction; each run is cut where the font changes (Noto Sans Arabic for
//! Arabic letters, Noto Sans for the rest; spaces, digits and punctuation stay with the letters
//! before them) and each piece is shaped by rustybuzz, the Rust port of HarfBuzz, in the run's
//! direction. Shaping is what joins Arabic letters (initial, medial, final and isolated forms,
//! lam-alef ligatures) and places marks; rustybuzz returns a right-to-left run's glyphs already
//! in visual order, left to right. Glyph outlines come from ttf-parser and become tiny-skia paths.
//!
//! The fonts are compiled into the binary (`assets/fonts/`, SIL Open Font License); nothing looks
//! up system fonts. Shaped lines are kept in a small process-wide memo keyed by text, size and
//! weight, so that a name shaped for one tile is not shaped again for its neighbours.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use rustybuzz::ttf_parser::{GlyphId, OutlineBuilder};
use rustybuzz::{Direction, Face, UnicodeBuffer};
use tiny_skia::PathBuilder;

static NOTO_SANS: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
static NOTO_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");
static NOTO_SANS_ARABIC: &[u8] = include_bytes!("../../assets/fonts/NotoSansArabic-Regular.ttf");
static NOTO_SANS_ARABIC_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSansArabic-Bold.ttf");

/// One of the embedded fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Font {
    /// Noto Sans Regular.
    Latin,
    /// Noto Sans Bold.
    LatinBold,
    /// Noto Sans Arabic Regular.
    Arabic,
    /// Noto Sans Arabic Bold.
    ArabicBold,
}

impl Font {
    const fn index(self) -> usize {
        match self {
            Font::Latin => 0,
            Font::LatinBold => 1,
            Font::Arabic => 2,
            Font::ArabicBold => 3,
        }
    }

    fn pick(arabic: bool, bold: bool) -> Self {
        match (arabic, bold) {
            (false, false) => Font::Latin,
            (false, true) => Font::LatinBold,
            (true, false) => Font::Arabic,
            (true, true) => Font::ArabicBold,
        }
    }

    fn is_arabic(self) -> bool {
        matches!(self, Font::Arabic | Font::ArabicBold)
    }

    /// The parsed font face; `None` only if an embedded font failed to parse (a test checks
    /// that they all do).
    pub fn face(self) -> Option<&'static Face<'static>> {
        static FACES: OnceLock<[Option<Face<'static>>; 4]> = OnceLock::new();
        FACES
            .get_or_init(|| {
                [NOTO_SANS, NOTO_SANS_BOLD, NOTO_SANS_ARABIC, NOTO_SANS_ARABIC_BOLD].map(|d| Face::from_slice(d, 0))
            })
            .get(self.index())
            .and_then(Option::as_ref)
    }
}

/// A positioned glyph of a shaped line, in CSS px at the line's size: `x` from the line's left
/// end, `y` down from the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    /// Font it comes from.
    pub font: Font,
    /// Glyph id in that font.
    pub id: u16,
    /// Left edge of the glyph's origin, CSS px from the line's start.
    pub x: f32,
    /// Offset below the baseline, CSS px (marks sit above: negative).
    pub y: f32,
    /// Byte offset in the text of the character(s) this glyph comes from (its cluster).
    pub cluster: u32,
}

/// A line of text shaped and laid out left to right in visual order.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedLine {
    /// Glyphs in visual order, left to right.
    pub glyphs: Vec<Glyph>,
    /// Text size, CSS px.
    pub size: f32,
    /// Advance width, CSS px.
    pub width: f32,
    /// Height above the baseline that the line occupies, CSS px.
    pub ascent: f32,
    /// Depth below the baseline, CSS px.
    pub descent: f32,
}

/// Whether a character belongs to the Arabic script (letters, marks, Arabic punctuation and
/// digits, presentation forms).
pub fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06ff}' | '\u{0750}'..='\u{077f}' | '\u{08a0}'..='\u{08ff}' | '\u{fb50}'..='\u{fdff}' | '\u{fe70}'..='\u{feff}')
}

fn has_glyph(font: Font, c: char) -> bool {
    font.face().is_some_and(|f| f.glyph_index(c).is_some())
}

/// Cuts a run of one direction into pieces of one font, in logical order.
fn font_pieces(text: &str, run: Range<usize>, rtl: bool, bold: bool) -> Vec<(Font, Range<usize>)> {
    let mut out: Vec<(Font, Range<usize>)> = Vec::new();
    let mut prev: Option<Font> = None;
    for (i, c) in text[run.clone()].char_indices() {
        let at = run.start + i;
        let mut font = if is_arabic(c) {
            Font::pick(true, bold)
        } else if c.is_alphabetic() {
            Font::pick(false, bold)
        } else {
            prev.unwrap_or(Font::pick(rtl, bold))
        };
        if !has_glyph(font, c) {
            font = Font::pick(!font.is_arabic(), bold);
        }
        prev = Some(font);
        match out.last_mut() {
            Some((f, r)) if *f == font => r.end = at + c.len_utf8(),
            _ => out.push((font, at..at + c.len_utf8())),
        }
    }
    out
}

/// Shapes one line of text at `size` CSS px (without the memo).
pub fn shape_uncached(text: &str, size: f32, bold: bool) -> ShapedLine {
    let mut line = ShapedLine { glyphs: Vec::new(), size, width: 0.0, ascent: 0.75 * size, descent: 0.25 * size };
    let info = unicode_bidi::BidiInfo::new(text, None);
    let Some(para) = info.paragraphs.first() else {
        return line;
    };
    let (levels, runs) = info.visual_runs(para, para.range.clone());
    let mut pen = 0.0f32;
    for run in runs {
        let rtl = levels[run.start].is_rtl();
        let mut pieces = font_pieces(text, run, rtl, bold);
        if rtl {
            pieces.reverse();
        }
        for (font, range) in pieces {
            let Some(face) = font.face() else { continue };
            let k = size / face.units_per_em() as f32;
            let mut buffer = UnicodeBuffer::new();
            buffer.push_str(&text[range.clone()]);
            buffer.set_direction(if rtl { Direction::RightToLeft } else { Direction::LeftToRight });
            buffer.guess_segment_properties();
            let shaped = rustybuzz::shape(face, &[], buffer);
            for (g, p) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
                let glyph = Glyph {
                    font,
                    id: g.glyph_id as u16,
                    x: pen + p.x_offset as f32 * k,
                    y: -(p.y_offset as f32) * k,
                    cluster: range.start as u32 + g.cluster,
                };
                if let Some(b) = face.glyph_bounding_box(GlyphId(glyph.id)) {
                    line.ascent = line.ascent.max(f32::from(b.y_max) * k - glyph.y);
                    line.descent = line.descent.max(-f32::from(b.y_min) * k + glyph.y);
                }
                line.glyphs.push(glyph);
                pen += p.x_advance as f32 * k;
            }
        }
    }
    line.width = pen;
    line
}

/// Shapes one line of text at `size` CSS px, from the memo when it was shaped before.
pub fn shape(text: &str, size: f32, bold: bool) -> Arc<ShapedLine> {
    type Memo = Mutex<HashMap<(String, u32, bool), Arc<ShapedLine>>>;
    /// Entries kept before the memo is emptied: a few MB at most.
    const MEMO_MAX: usize = 20_000;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let key = (text.to_owned(), size.to_bits(), bold);
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let line = Arc::new(shape_uncached(text, size, bold));
    if let Ok(mut m) = memo.lock() {
        if m.len() >= MEMO_MAX {
            m.clear();
        }
        m.insert(key, line.clone());
    }
    line
}

/// Adds a line's glyph outlines to a path, with its baseline's left end at (`x`, `y`) device
/// px and `scale` device px per CSS px.
pub fn outline_line(pb: &mut PathBuilder, line: &ShapedLine, x: f32, y: f32, scale: f32) {
    for g in &line.glyphs {
        let Some(face) = g.font.face() else { continue };
        let k = line.size * scale / face.units_per_em() as f32;
        outline_glyph(pb, g.font, g.id, (x + g.x * scale, y + g.y * scale), k);
    }
}

/// Adds the outline of glyph `id` of `font` to a path, with the glyph's origin at `origin`
/// (device px, y down) and `k` device px per font unit. False when the glyph has no outline
/// (a space).
pub fn outline_glyph(pb: &mut PathBuilder, font: Font, id: u16, origin: (f32, f32), k: f32) -> bool {
    let Some(face) = font.face() else { return false };
    let mut o = Outline { pb, x: origin.0, y: origin.1, k };
    face.outline_glyph(GlyphId(id), &mut o).is_some()
}

/// Turns font-unit outlines (y up) into device-pixel path segments (y down).
struct Outline<'a> {
    pb: &'a mut PathBuilder,
    x: f32,
    y: f32,
    k: f32,
}

impl Outline<'_> {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.k, self.y - y * self.k)
    }
}

impl OutlineBuilder for Outline<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.move_to(x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.line_to(x, y);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let ((x1, y1), (x, y)) = (self.p(x1, y1), self.p(x, y));
        self.pb.quad_to(x1, y1, x, y);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let ((x1, y1), (x2, y2), (x, y)) = (self.p(x1, y1), self.p(x2, y2), self.p(x, y));
        self.pb.cubic_to(x1, y1, x2, y2, x, y);
    }

    fn close(&mut self) {
        self.pb.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_font_parses() {
        for f in [Font::Latin, Font::LatinBold, Font::Arabic, Font::ArabicBold] {
            assert!(f.face().is_some(), "{f:?}");
        }
    }

    /// The glyph of `c` on its own (its isolated form) in the Arabic font.
    fn isolated(c: char) -> u16 {
        let line = shape_uncached(&c.to_string(), 12.0, false);
        assert_eq!(line.glyphs.len(), 1, "{c}");
        line.glyphs[0].id
    }

    /// rustybuzz driven directly, as a reference: glyph ids in its output order.
    fn reference(text: &str) -> Vec<(u16, u32)> {
        let face = Font::Arabic.face().unwrap_or_else(|| unreachable!("fonts parse"));
        let mut b = UnicodeBuffer::new();
        b.push_str(text);
        b.guess_segment_properties();
        assert_eq!(b.direction(), Direction::RightToLeft);
        let out = rustybuzz::shape(face, &[], b);
        out.glyph_infos().iter().map(|g| (g.glyph_id as u16, g.cluster)).collect()
    }

    #[test]
    fn arabic_names_are_joined_and_right_to_left() {
        for name in ["إدلب", "ترمانين", "دارة عزة"] {
            let line = shape_uncached(name, 12.0, false);
            let got: Vec<(u16, u32)> = line.glyphs.iter().map(|g| (g.id, g.cluster)).collect();
            // The same glyphs, in the same (visual) order, as the shaping engine gives.
            assert_eq!(got, reference(name), "{name}");
            assert!(line.glyphs.iter().all(|g| g.font == Font::Arabic), "{name}");
            // Right to left: the first character (cluster 0) is drawn rightmost, so clusters
            // fall from left to right.
            let clusters: Vec<u32> = line.glyphs.iter().map(|g| g.cluster).collect();
            assert!(clusters.windows(2).all(|w| w[0] >= w[1]), "{name}: clusters {clusters:?}");
            assert_eq!(clusters.last(), Some(&0), "{name}");
            // Joined: letters that connect take contextual forms, whose glyphs differ from
            // the letters drawn alone.
            let joined = line
                .glyphs
                .iter()
                .filter(|g| {
                    let c = name[g.cluster as usize..].chars().next().unwrap_or(' ');
                    c != ' ' && g.id != isolated(c)
                })
                .count();
            assert!(joined >= 2, "{name}: only {joined} glyphs differ from the isolated forms");
        }
        // ت in ترمانين starts a word: initial form; ي before the final ن: medial form.
        let t = shape_uncached("ترمانين", 12.0, false);
        let first_letter = t.glyphs.iter().find(|g| g.cluster == 0).map(|g| g.id);
        assert_ne!(first_letter, Some(isolated('ت')));
    }

    #[test]
    fn a_mixed_line_keeps_each_script_in_its_order() {
        // An Arabic line with a Latin road number: the Latin run reads left to right inside
        // the right-to-left line, in Noto Sans.
        let line = shape_uncached("الطريق M5 الدولي", 12.0, false);
        let latin: Vec<&Glyph> = line.glyphs.iter().filter(|g| g.font == Font::Latin).collect();
        assert_eq!(latin.len(), 2, "M and 5 from the Latin font");
        assert!(latin[0].cluster < latin[1].cluster && latin[0].x < latin[1].x, "M5 left to right");
        // The first Arabic word (logically first) is drawn at the right end.
        let rightmost = line.glyphs.iter().max_by(|a, b| a.x.total_cmp(&b.x)).map(|g| g.cluster);
        assert!(rightmost < Some(4), "{rightmost:?}");
    }

    #[test]
    fn latin_text_is_measured() {
        let a = shape_uncached("Idlib", 12.0, false);
        let b = shape_uncached("Idlib", 24.0, false);
        assert_eq!(a.glyphs.len(), 5);
        assert!((b.width - 2.0 * a.width).abs() < 0.01);
        assert!(a.width > 20.0 && a.width < 40.0, "{}", a.width);
    }
}
