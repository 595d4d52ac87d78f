//! The event overlay: transparent tiles with a symbol per event kind, clusters with their
//! count, and region-precision events drawn as vague areas rather than pins.
//!
//! A located marker (one event, or a cluster of events on one point) hangs above its point on a
//! short leader, which stops [`LEADER_CLEAR_PX`] short of the point: the events of a town sit on
//! the town's point, and a symbol drawn there covered the town's own symbol on the base map.
//! The place stays readable, and so does its name, which the base map puts beside its symbol
//! (right or left first; a name placed above it may be covered). Rejected: a hollow symbol
//! around the place, which must be at least 25 px wide to leave a readable band around an 8 px
//! town symbol, so that a symbol's size could no longer tell the casualties; and drawing the
//! marker beside the point, which puts it where the name goes. A cluster of scattered events
//! stays centred on their mean position, which is no place.

use tiny_skia::{FillRule, GradientStop, Paint, PathBuilder, Pixmap, Point, RadialGradient, SpreadMode, Transform};

use super::symbol;
use super::{Scale, TileImage};
use crate::events::Marker;
use crate::style::{Color, Icon, event_style, kind_style};
use crate::tile::{TileCoord, WorldPoint};

/// Radius of the soft disc drawn for a region-precision event, CSS px.
pub const REGION_RADIUS_PX: f32 = 40.0;
/// The area and count of several region-precision events in one cell (their kinds may differ).
const REGION_CLUSTER_COLOR: Color = Color::rgba(0x5b, 0x1a, 0x1a, 0xff);
/// The disc of a cluster of located events.
const CLUSTER_COLOR: Color = Color::rgba(0x3b, 0x0a, 0x0a, 0xe6);
/// A leader stops this far (CSS px) from its point, leaving the symbol of a place there
/// uncovered (the largest, the hospital sign, reaches 7 px; a town's dot 5).
pub const LEADER_CLEAR_PX: f32 = 8.0;
/// Length (CSS px) of the leader seen between that clearance and the marker's edge.
pub const LEADER_STEM_PX: f32 = 5.0;
/// Casing and line width of a leader, CSS px.
const LEADER_WIDTH_PX: (f32, f32) = (3.5, 1.5);
/// The most a cluster's casualty halo adds to its radius, CSS px.
const CASUALTY_HALO_MAX_PX: f32 = 8.0;
/// How far (CSS px) any overlay marker reaches from its position. The farthest is a lifted
/// cluster of the largest size with the widest casualty halo: the clearance, the stem, then
/// twice its reach of 31 px (anti-aliasing included), 75 px in all; a region's disc reaches 41,
/// a lifted hospital sign 62. `markers_stay_within_the_reach_and_off_their_point` checks it.
pub const OVERLAY_REACH_PX: f64 = 75.0;

/// Cluster diameter (CSS px) for this many events.
pub fn cluster_size(count: usize) -> f32 {
    (20.0 + 5.0 * (count as f32).log2()).min(44.0)
}

/// Width (CSS px) of the casualty halo around a cluster; 0 without casualties.
fn halo(casualties: u64) -> f32 {
    if casualties == 0 { 0.0 } else { (2.0 + (casualties as f32 + 1.0).log2()).min(CASUALTY_HALO_MAX_PX) }
}

/// Radius (CSS px) of a cluster's red halo, drawn when its events killed or injured anyone.
fn halo_radius(count: usize, casualties: u64) -> f32 {
    cluster_size(count) / 2.0 + halo(casualties)
}

/// How far (CSS px) a cluster of `count` events reaches from its centre, with its halo and
/// anti-aliasing.
fn cluster_reach(count: usize, casualties: u64) -> f32 {
    cluster_size(count) / 2.0 + halo(casualties).max(0.75) + 1.0
}

/// How far (CSS px) a located marker reaching `reach_px` from its centre is lifted above its
/// point: the clearance, the stem, then the marker's reach below its centre.
pub fn marker_lift(reach_px: f32) -> f32 {
    LEADER_CLEAR_PX + LEADER_STEM_PX + reach_px
}

/// How far (CSS px) above its position the overlay draws a marker's centre: a located marker
/// (one event, or a cluster on one point) hangs on its leader; a region, or a cluster of
/// scattered events, is drawn where it is (0).
pub fn marker_lift_px(m: &Marker) -> f32 {
    match m {
        Marker::Single(e) => marker_lift(event_style(e.input.kind, e.input.casualties()).reach_px()),
        Marker::Cluster { region: false, one_spot: true, count, casualties, .. } => {
            marker_lift(cluster_reach(*count, *casualties))
        }
        Marker::Region(_) | Marker::Cluster { .. } => 0.0,
    }
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
    let size = scale.pixels();
    let visible = visible(markers, tile.bounds().min, k, (size, size), scale);
    if visible.is_empty() {
        return TileImage::Empty;
    }
    let Some(mut pixmap) = Pixmap::new(size, size) else {
        return TileImage::Empty;
    };
    draw_visible(&mut pixmap, &visible, scale);
    TileImage::Drawn(pixmap)
}

/// Draws the markers that reach into a pixmap whose north-west corner is `origin` (unit
/// square), at `k` device px per unit: an overlay laid over a drawn area (a static map, or a
/// base tile with its events). Whether anything was drawn.
pub fn draw_overlay(pixmap: &mut Pixmap, markers: &[Marker], origin: WorldPoint, k: f64, scale: Scale) -> bool {
    let visible = visible(markers, origin, k, (pixmap.width(), pixmap.height()), scale);
    draw_visible(pixmap, &visible, scale);
    !visible.is_empty()
}

/// The markers that reach into a canvas of `size` device px at `origin`, each with its
/// position on the canvas.
fn visible(markers: &[Marker], origin: WorldPoint, k: f64, size: (u32, u32), scale: Scale) -> Vec<(&Marker, f32, f32)> {
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let reach = OVERLAY_REACH_PX * f64::from(scale.factor());
    markers
        .iter()
        .filter_map(|m| {
            let p = m.at();
            let (x, y) = ((p.x - origin.x) * k, (p.y - origin.y) * k);
            (x > -reach && x < w + reach && y > -reach && y < h + reach).then_some((m, x as f32, y as f32))
        })
        .collect()
}

/// Draws the markers at their canvas positions: vague areas first, then located markers.
fn draw_visible(pixmap: &mut Pixmap, visible: &[(&Marker, f32, f32)], scale: Scale) {
    let s = scale.factor() as f32;
    // Vague areas first, so that located markers stay readable on top of them.
    for (m, x, y) in visible {
        match m {
            Marker::Region(e) => region(pixmap, kind_style(e.input.kind).1, *x, *y, REGION_RADIUS_PX * s, s),
            Marker::Cluster { region: true, count, .. } => {
                region_cluster(pixmap, *count, *x, *y, REGION_RADIUS_PX * s, s);
            }
            _ => {}
        }
    }
    for (m, x, y) in visible {
        let lift = marker_lift_px(m) * s;
        match m {
            Marker::Single(e) => {
                let style = event_style(e.input.kind, e.input.casualties());
                hang(pixmap, lift, style.fill, *x, *y, s);
                symbol::draw(pixmap, &style, *x, *y - lift, s);
            }
            Marker::Cluster { region: false, count, casualties, .. } => {
                if lift > 0.0 {
                    hang(pixmap, lift, Some(Color::rgba(0x3b, 0x0a, 0x0a, 0xff)), *x, *y, s);
                }
                cluster(pixmap, *count, *casualties, *x, *y - lift, s);
            }
            _ => {}
        }
    }
}

/// Draws the leader of a located marker from just above the point (x, y) up to `lift` device
/// px above it, where the marker's centre goes.
fn hang(pixmap: &mut Pixmap, lift: f32, color: Option<Color>, x: f32, y: f32, s: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x, y - LEADER_CLEAR_PX * s);
    pb.line_to(x, y - lift);
    if let Some(path) = pb.finish() {
        symbol::stroke(pixmap, &path, Color::rgba(255, 255, 255, 0xe6), LEADER_WIDTH_PX.0 * s, None);
        let c = color.unwrap_or(Color::rgba(0x3b, 0x0a, 0x0a, 0xff));
        symbol::stroke(pixmap, &path, c, LEADER_WIDTH_PX.1 * s, None);
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::events::{Event, EventInput};
    use crate::tile::WorldPoint;

    /// A tile, and its centre.
    fn tile() -> (TileCoord, WorldPoint) {
        let t = TileCoord::new(14, 10_059, 6_418).unwrap_or_else(|e| unreachable!("{e}"));
        let b = t.bounds();
        (t, WorldPoint::new((b.min.x + b.max.x) / 2.0, (b.min.y + b.max.y) / 2.0))
    }

    fn event(kind: &str, killed: u64, precision: &str) -> Arc<Event> {
        let c = tile().1;
        let lon = c.x * 360.0 - 180.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * c.y)).sinh().atan().to_degrees();
        let feature = serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"time": "2020-02-18", "kind": kind, "title": "t", "killed": killed,
                           "location_precision": precision},
        });
        let input = EventInput::from_feature(&feature, "").unwrap_or_else(|e| unreachable!("{e:?}"));
        Arc::new(Event { id: "e".into(), input, created: 0, updated: 0, version: 1 })
    }

    #[test]
    fn markers_stay_within_the_reach_and_off_their_point() {
        // The largest of each marker at the centre of a tile: every pixel it paints lies within
        // OVERLAY_REACH_PX of its point, and a located one leaves the point's surroundings
        // (LEADER_CLEAR_PX less a pixel) clear, at both scales.
        let (t, at) = tile();
        let cluster = |one_spot| Marker::Cluster {
            at,
            count: 5000,
            casualties: u64::MAX / 4,
            ids: Vec::new(),
            region: false,
            one_spot,
        };
        let markers = [
            (Marker::Single(event("hospital-hit", 1_000_000, "town")), true),
            (Marker::Single(event("airstrike", 1_000_000, "exact")), true),
            (cluster(true), true),
            (cluster(false), false),
            (Marker::Region(event("casualties", 5, "region")), false),
        ];
        let mut farthest = 0.0f64;
        for scale in [Scale::X1, Scale::X2] {
            let s = f64::from(scale.factor());
            let centre = 128.0 * s;
            for (m, located) in &markers {
                let TileImage::Drawn(p) = render_overlay(std::slice::from_ref(m), t, scale) else {
                    unreachable!("a marker on the tile is drawn")
                };
                let mut far = 0.0f64;
                let mut on_point = 0;
                for y in 0..p.height() {
                    for x in 0..p.width() {
                        if p.pixel(x, y).is_some_and(|c| c.alpha() > 0) {
                            let d = (f64::from(x) + 0.5 - centre).hypot(f64::from(y) + 0.5 - centre) / s;
                            far = far.max(d);
                            if d < f64::from(LEADER_CLEAR_PX) - 1.0 {
                                on_point += 1;
                            }
                        }
                    }
                }
                assert!(far <= OVERLAY_REACH_PX, "{m:?} at {scale:?}: painted {far:.1} px from its point");
                farthest = farthest.max(far);
                if *located {
                    assert_eq!(on_point, 0, "{m:?} at {scale:?}: painted over its point");
                }
            }
        }
        // The reach is no larger than the largest marker needs.
        assert!(farthest > OVERLAY_REACH_PX - 2.0, "the largest marker reaches {farthest:.1} px");
    }
}
