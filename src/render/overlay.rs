//! The event overlay: transparent tiles with a symbol per event kind, clusters with their
//! count, and region-precision events drawn as vague areas rather than pins.

use tiny_skia::{FillRule, GradientStop, Paint, PathBuilder, Pixmap, Point, RadialGradient, SpreadMode, Transform};

use super::symbol;
use super::{Scale, TileImage};
use crate::events::{Event, Marker};
use crate::style::{Color, Icon, event_style, kind_style};
use crate::tile::TileCoord;

/// Radius of the soft disc drawn for a region-precision event, CSS px.
pub const REGION_RADIUS_PX: f32 = 40.0;
/// The area and count of several region-precision events in one cell (their kinds may differ).
const REGION_CLUSTER_COLOR: Color = Color::rgba(0x5b, 0x1a, 0x1a, 0xff);
/// The disc of a cluster of located events.
const CLUSTER_COLOR: Color = Color::rgba(0x3b, 0x0a, 0x0a, 0xe6);
/// How far (CSS px) any overlay marker reaches from its position.
pub const OVERLAY_REACH_PX: f64 = 44.0;

/// Cluster diameter (CSS px) for this many events.
pub fn cluster_size(count: usize) -> f32 {
    (20.0 + 5.0 * (count as f32).log2()).min(44.0)
}

/// Radius (CSS px) of a cluster's red halo, drawn when its events killed or injured anyone.
fn halo_radius(count: usize, casualties: u64) -> f32 {
    cluster_size(count) / 2.0 + (2.0 + (casualties as f32 + 1.0).log2()).min(8.0)
}

/// How far (CSS px) a marker's drawing reaches from its position: what a click on it should
/// cover.
pub fn marker_reach_px(m: &Marker) -> f32 {
    match m {
        Marker::Single(e) => event_style(e.input.kind, e.input.casualties()).reach_px(),
        Marker::Region(_) | Marker::Cluster { region: true, .. } => REGION_RADIUS_PX,
        Marker::Cluster { count, casualties: 0, .. } => cluster_size(*count) / 2.0 + 1.5,
        Marker::Cluster { count, casualties, .. } => halo_radius(*count, *casualties),
    }
}

/// The main colour the overlay draws a marker in: its kind's, or a cluster's own.
pub fn marker_color(m: &Marker) -> Color {
    match m {
        Marker::Single(e) | Marker::Region(e) => kind_style(e.input.kind).1,
        Marker::Cluster { region: true, .. } => REGION_CLUSTER_COLOR,
        Marker::Cluster { .. } => CLUSTER_COLOR,
    }
}

/// How far (CSS px) an overlay icon (a cluster or an area) reaches from its centre; `None` for
/// the icons the overlay does not draw itself.
pub(super) fn icon_reach_px(icon: &Icon) -> Option<f32> {
    match icon {
        Icon::Cluster { count, casualties } => {
            Some(halo_radius(*count, *casualties).max(cluster_size(*count) / 2.0 + 1.5))
        }
        Icon::Region { radius, .. } | Icon::RegionCluster { radius, .. } => Some(radius + 1.0),
        Icon::Symbol(_) | Icon::Line(_) | Icon::Area(_) => None,
    }
}

/// Draws an overlay icon centred at (`x`, `y`) device px, exactly as the overlay draws such a
/// marker.
pub(super) fn draw_icon(pixmap: &mut Pixmap, icon: &Icon, x: f32, y: f32, s: f32) {
    match icon {
        Icon::Cluster { count, casualties } => cluster(pixmap, *count, *casualties, x, y, s),
        Icon::Region { kind, radius } => region(pixmap, kind_style(*kind).1, x, y, *radius * s, s),
        Icon::RegionCluster { count, radius } => region_cluster(pixmap, *count, x, y, *radius * s, s),
        Icon::Symbol(_) | Icon::Line(_) | Icon::Area(_) => {}
    }
}

/// Draws the markers that reach into `tile`.
pub fn render_overlay(markers: &[Marker], tile: TileCoord, scale: Scale) -> TileImage {
    let k = tile.world_tiles() * f64::from(scale.pixels());
    let origin = tile.bounds().min;
    let size = f64::from(scale.pixels());
    let reach = OVERLAY_REACH_PX * f64::from(scale.factor());
    let visible: Vec<(&Marker, f32, f32)> = markers
        .iter()
        .filter_map(|m| {
            let p = m.at();
            let (x, y) = ((p.x - origin.x) * k, (p.y - origin.y) * k);
            (x > -reach && x < size + reach && y > -reach && y < size + reach).then_some((m, x as f32, y as f32))
        })
        .collect();
    if visible.is_empty() {
        return TileImage::Empty;
    }
    let Some(mut pixmap) = Pixmap::new(scale.pixels(), scale.pixels()) else {
        return TileImage::Empty;
    };
    let s = scale.factor() as f32;
    // Vague areas first, so that located markers stay readable on top of them.
    for (m, x, y) in &visible {
        match m {
            Marker::Region(e) => region(&mut pixmap, kind_style(e.input.kind).1, *x, *y, REGION_RADIUS_PX * s, s),
            Marker::Cluster { region: true, count, .. } => {
                region_cluster(&mut pixmap, *count, *x, *y, REGION_RADIUS_PX * s, s);
            }
            _ => {}
        }
    }
    for (m, x, y) in &visible {
        match m {
            Marker::Single(e) => single(&mut pixmap, e, *x, *y, s),
            Marker::Cluster { region: false, count, casualties, .. } => {
                cluster(&mut pixmap, *count, *casualties, *x, *y, s);
            }
            _ => {}
        }
    }
    TileImage::Drawn(pixmap)
}

fn single(pixmap: &mut Pixmap, e: &Event, x: f32, y: f32, s: f32) {
    symbol::draw(pixmap, &event_style(e.input.kind, e.input.casualties()), x, y, s);
}

fn region_cluster(pixmap: &mut Pixmap, count: usize, x: f32, y: f32, r: f32, s: f32) {
    region(pixmap, REGION_CLUSTER_COLOR, x, y, r, s);
    let label = if count > 999 { "999+".to_owned() } else { count.to_string() };
    digits::draw(pixmap, &label, x, y, 9.0 * s, REGION_CLUSTER_COLOR);
}

fn cluster(pixmap: &mut Pixmap, count: usize, casualties: u64, x: f32, y: f32, s: f32) {
    let r = cluster_size(count) * s / 2.0;
    if casualties > 0
        && let Some(p) = PathBuilder::from_circle(x, y, halo_radius(count, casualties) * s)
    {
        symbol::fill_and_stroke(pixmap, &p, Some(Color::rgba(0xd7, 0x30, 0x1f, 0x90)), None, 0.0);
    }
    if let Some(p) = PathBuilder::from_circle(x, y, r) {
        symbol::fill_and_stroke(pixmap, &p, Some(CLUSTER_COLOR), Some(Color::rgba(255, 255, 255, 255)), 1.5 * s);
    }
    let label = if count > 999 { "999+".to_owned() } else { count.to_string() };
    digits::draw(pixmap, &label, x, y, r * 0.75, Color::rgba(255, 255, 255, 255));
}

/// A soft disc of radius `r` device px fading outwards, with a dashed rim and no centre pin:
/// "somewhere around here".
fn region(pixmap: &mut Pixmap, c: Color, x: f32, y: f32, r: f32, s: f32) {
    let stops = vec![
        GradientStop::new(0.0, tiny_skia::Color::from_rgba8(c.r, c.g, c.b, 0x50)),
        GradientStop::new(1.0, tiny_skia::Color::from_rgba8(c.r, c.g, c.b, 0x08)),
    ];
    let shader = RadialGradient::new(
        Point::from_xy(x, y),
        0.0,
        Point::from_xy(x, y),
        r,
        stops,
        SpreadMode::Pad,
        Transform::identity(),
    );
    if let (Some(shader), Some(path)) = (shader, PathBuilder::from_circle(x, y, r)) {
        let paint = Paint { shader, anti_alias: true, ..Paint::default() };
        pixmap.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
        let dash = tiny_skia::StrokeDash::new(vec![4.0 * s, 4.0 * s], 0.0);
        symbol::stroke(pixmap, &path, Color::rgba(c.r, c.g, c.b, 0x90), 1.2 * s, dash);
    }
}

/// Digits drawn as strokes (seven segments and a plus), so that cluster counts need no font.
mod digits {
    use tiny_skia::{PathBuilder, Pixmap, Transform};

    use crate::style::Color;

    /// Segments a-g of each digit, as in a seven-segment display.
    const SEGMENTS: [u8; 10] = [
        0b111_1110, 0b011_0000, 0b110_1101, 0b111_1001, 0b011_0011, 0b101_1011, 0b101_1111, 0b111_0000, 0b111_1111,
        0b111_1011,
    ];

    /// Draws `text` (digits and '+') centred at (x, y), `h` device px high.
    pub fn draw(pixmap: &mut Pixmap, text: &str, x: f32, y: f32, h: f32, color: Color) {
        let h = h.max(6.0);
        let w = h * 0.5;
        let gap = h * 0.22;
        let n = text.chars().count() as f32;
        let total = n * w + (n - 1.0) * gap;
        let mut pb = PathBuilder::new();
        for (i, ch) in text.chars().enumerate() {
            let x0 = x - total / 2.0 + i as f32 * (w + gap);
            let (top, mid, bot) = (y - h / 2.0, y, y + h / 2.0);
            let seg = |pb: &mut PathBuilder, a: (f32, f32), b: (f32, f32)| {
                pb.move_to(a.0, a.1);
                pb.line_to(b.0, b.1);
            };
            if ch == '+' {
                seg(&mut pb, (x0, mid), (x0 + w, mid));
                seg(&mut pb, (x0 + w / 2.0, mid - w / 2.0), (x0 + w / 2.0, mid + w / 2.0));
                continue;
            }
            let Some(d) = ch.to_digit(10) else { continue };
            let bits = SEGMENTS[d as usize];
            let on = |i: u8| bits & (1 << (6 - i)) != 0;
            let (l, r) = (x0, x0 + w);
            if on(0) {
                seg(&mut pb, (l, top), (r, top));
            }
            if on(1) {
                seg(&mut pb, (r, top), (r, mid));
            }
            if on(2) {
                seg(&mut pb, (r, mid), (r, bot));
            }
            if on(3) {
                seg(&mut pb, (l, bot), (r, bot));
            }
            if on(4) {
                seg(&mut pb, (l, mid), (l, bot));
            }
            if on(5) {
                seg(&mut pb, (l, top), (l, mid));
            }
            if on(6) {
                seg(&mut pb, (l, mid), (r, mid));
            }
        }
        if let Some(path) = pb.finish() {
            let stroke = tiny_skia::Stroke {
                width: (h / 6.0).max(1.2),
                line_cap: tiny_skia::LineCap::Round,
                line_join: tiny_skia::LineJoin::Round,
                ..tiny_skia::Stroke::default()
            };
            pixmap.stroke_path(&path, &super::symbol::paint(color), &stroke, Transform::identity(), None);
        }
    }
}
