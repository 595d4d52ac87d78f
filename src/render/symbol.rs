//! Point symbols, drawn centred on a device-pixel position.

use tiny_skia::{FillRule, Paint, Path, PathBuilder, Pixmap, Stroke, Transform};

use crate::style::{Color, Style, Symbol};

/// Draws `style`'s symbol at (`x`, `y`) device pixels; `scale` turns CSS px into device px.
pub fn draw(pixmap: &mut Pixmap, style: &Style, x: f32, y: f32, scale: f32) {
    let r = style.size * scale / 2.0;
    let stroke_w = style.stroke_width * scale;
    if let Some(ring) = style.ring {
        let gap = (0.15 * style.size + 1.5) * scale;
        if let Some(p) = PathBuilder::from_circle(x, y, r + gap) {
            stroke(pixmap, &p, ring, 1.5 * scale, None);
        }
    }
    match style.symbol {
        Symbol::Hospital => hospital(pixmap, style, x, y, r, stroke_w),
        Symbol::ObservationPoint => observation_point(pixmap, style, x, y, r, stroke_w),
        shape => {
            if let Some(p) = outline(shape, x, y, r) {
                fill_and_stroke(pixmap, &p, style.fill, style.stroke, stroke_w);
            }
        }
    }
}

fn outline(shape: Symbol, x: f32, y: f32, r: f32) -> Option<Path> {
    match shape {
        Symbol::Circle => PathBuilder::from_circle(x, y, r),
        Symbol::Square | Symbol::Hospital => {
            let s = r * 0.886; // same area as the circle of radius r
            polygon(&[(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)])
        }
        Symbol::Triangle => {
            let h = r * 1.2;
            polygon(&[(x, y - h), (x + h * 0.866, y + h * 0.5), (x - h * 0.866, y + h * 0.5)])
        }
        Symbol::Diamond => polygon(&[(x, y - r), (x + r, y), (x, y + r), (x - r, y)]),
        Symbol::Star => {
            let pts: Vec<(f32, f32)> = (0..10)
                .map(|i| {
                    let a = std::f32::consts::PI * (i as f32) / 5.0 - std::f32::consts::FRAC_PI_2;
                    let rr = if i % 2 == 0 { r } else { r * 0.45 };
                    (x + rr * a.cos(), y + rr * a.sin())
                })
                .collect();
            polygon(&pts)
        }
        // A shield: flat top, straight sides, pointed bottom.
        Symbol::ObservationPoint => polygon(&[
            (x - r * 0.85, y - r * 0.9),
            (x + r * 0.85, y - r * 0.9),
            (x + r * 0.85, y + r * 0.2),
            (x, y + r),
            (x - r * 0.85, y + r * 0.2),
        ]),
    }
}

/// A white square with a cross in the style's fill colour (red by default for hospitals).
fn hospital(pixmap: &mut Pixmap, style: &Style, x: f32, y: f32, r: f32, stroke_w: f32) {
    let red = style.fill.unwrap_or(Color::rgba(0xc0, 0x1c, 0x28, 0xff));
    if let Some(p) = outline(Symbol::Square, x, y, r) {
        let edge = style.stroke.unwrap_or(red);
        fill_and_stroke(pixmap, &p, Some(Color::rgba(255, 255, 255, 255)), Some(edge), stroke_w.max(1.0));
    }
    let (a, b) = (r * 0.6, r * 0.2);
    let cross = polygon(&[
        (x - b, y - a),
        (x + b, y - a),
        (x + b, y - b),
        (x + a, y - b),
        (x + a, y + b),
        (x + b, y + b),
        (x + b, y + a),
        (x - b, y + a),
        (x - b, y + b),
        (x - a, y + b),
        (x - a, y - b),
        (x - b, y - b),
    ]);
    if let Some(c) = cross {
        fill_and_stroke(pixmap, &c, Some(red), None, 0.0);
    }
}

/// A shield in the fill colour with a white dot: a military post.
fn observation_point(pixmap: &mut Pixmap, style: &Style, x: f32, y: f32, r: f32, stroke_w: f32) {
    if let Some(p) = outline(Symbol::ObservationPoint, x, y, r) {
        fill_and_stroke(pixmap, &p, style.fill, style.stroke, stroke_w);
    }
    if let Some(dot) = PathBuilder::from_circle(x, y - r * 0.2, r * 0.3) {
        fill_and_stroke(pixmap, &dot, Some(Color::rgba(255, 255, 255, 255)), None, 0.0);
    }
}

fn polygon(pts: &[(f32, f32)]) -> Option<Path> {
    let mut b = PathBuilder::new();
    let (first, rest) = pts.split_first()?;
    b.move_to(first.0, first.1);
    for p in rest {
        b.line_to(p.0, p.1);
    }
    b.close();
    b.finish()
}

/// Paint of a solid colour, anti-aliased.
pub fn paint(c: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.r, c.g, c.b, c.a);
    p.anti_alias = true;
    p
}

/// Fills then outlines a closed path; colours that are `None` or fully transparent are skipped.
pub fn fill_and_stroke(pixmap: &mut Pixmap, path: &Path, fill: Option<Color>, edge: Option<Color>, width: f32) {
    if let Some(c) = fill.filter(|c| c.a > 0) {
        pixmap.fill_path(path, &paint(c), FillRule::EvenOdd, Transform::identity(), None);
    }
    if let Some(c) = edge {
        stroke(pixmap, path, c, width, None);
    }
}

/// Strokes a path, dashed when `dash` is given (pattern and phase in device px).
pub fn stroke(pixmap: &mut Pixmap, path: &Path, color: Color, width: f32, dash: Option<tiny_skia::StrokeDash>) {
    stroke_masked(pixmap, path, color, width, dash, None);
}

/// [`stroke`], painting only where `mask` allows.
pub fn stroke_masked(
    pixmap: &mut Pixmap,
    path: &Path,
    color: Color,
    width: f32,
    dash: Option<tiny_skia::StrokeDash>,
    mask: Option<&tiny_skia::Mask>,
) {
    if color.a == 0 || width <= 0.0 {
        return;
    }
    let s = Stroke {
        width,
        line_join: tiny_skia::LineJoin::Round,
        line_cap: tiny_skia::LineCap::Butt,
        dash,
        ..Stroke::default()
    };
    pixmap.stroke_path(path, &paint(color), &s, Transform::identity(), mask);
}
