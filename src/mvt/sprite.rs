//! The sprite's contents, named once: the icons the MapLibre style draws, and the swatches of
//! the viewer's legend (every layer style in use, the event kinds, symbol sizes, clusters and
//! region areas). Both come out of one sheet drawn by the renderer (`render::sprite`), so the
//! legend shows the tiles' own drawings rather than copies made in the browser.

use super::style::{kinds_of, needs_icon, variants};
use super::text_style::{LABEL_BOX, LABEL_BOX_PX};
use crate::events::EventKind;
use crate::layer::{Catalog, Layer};
use crate::style::{GeometryKind, Icon, Style, event_style};

/// Name of the icon of a layer's point variant (`base` or `rule{i}`), used by the style.
pub(super) fn icon_name(layer: &str, variant: &str) -> String {
    format!("{layer}-{variant}")
}

/// Name of the icon of an event kind (0 killed or injured; the style scales it).
pub fn event_icon(kind: EventKind) -> String {
    format!("event-{}", kind.as_str())
}

/// How many swatches a layer gets in the legend at most.
const LEGEND_SWATCHES: usize = 4;

/// The legend's swatches of a layer: one per style its features use (geometry and matching
/// rule), in file order, at most [`LEGEND_SWATCHES`].
pub fn layer_legend(layer: &Layer) -> Vec<(String, Icon)> {
    let mut seen: Vec<(GeometryKind, Option<usize>)> = Vec::new();
    for f in layer.features() {
        let key = (f.shape.kind(), layer.rule_of(f));
        if !seen.contains(&key) {
            seen.push(key);
            if seen.len() == LEGEND_SWATCHES {
                break;
            }
        }
    }
    seen.into_iter().map(|(g, rule)| layer_swatch(layer, g, rule)).collect()
}

fn layer_swatch(layer: &Layer, g: GeometryKind, rule: Option<usize>) -> (String, Icon) {
    let variant = rule.map_or_else(|| "base".to_owned(), |i| format!("rule{i}"));
    let style = layer.resolved_style(g, rule).clone();
    let id = &layer.meta.id;
    match g {
        GeometryKind::Point => (icon_name(id, &variant), Icon::Symbol(style)),
        GeometryKind::Line => (format!("{id}-{variant}-line"), Icon::Line(style)),
        GeometryKind::Polygon => (format!("{id}-{variant}-area"), Icon::Area(style)),
    }
}

/// An item of the events' legend: which symbols it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLegend {
    /// Symbol size grows with killed plus injured.
    Size,
    /// Several events in one cell.
    Cluster,
    /// Region-precision events: a vague area, alone or several in one cell.
    Region,
}

impl EventLegend {
    /// Every item, in the legend's order.
    pub const ALL: [EventLegend; 3] = [EventLegend::Size, EventLegend::Cluster, EventLegend::Region];

    /// The swatches of the item, drawn as the overlay draws such markers.
    pub fn icons(self) -> Vec<(String, Icon)> {
        match self {
            Self::Size => [0u64, 15]
                .map(|n| (format!("legend-size-{n}"), Icon::Symbol(event_style(EventKind::Casualties, n))))
                .into(),
            Self::Cluster => vec![
                ("legend-cluster".into(), Icon::Cluster { count: 3, casualties: 0 }),
                ("legend-cluster-casualties".into(), Icon::Cluster { count: 3, casualties: 12 }),
            ],
            // Smaller than on the map, where they are 80 px across, so that a legend line holds them.
            Self::Region => vec![
                ("legend-region".into(), Icon::Region { kind: EventKind::Casualties, radius: 13.0 }),
                ("legend-region-cluster".into(), Icon::RegionCluster { count: 4, radius: 13.0 }),
            ],
        }
    }
}

/// The invisible icon of [`LABEL_BOX_PX`] standing for a place's symbol in the style (a
/// symbol without fill or outline, whose cell is its reach plus a pixel on each side).
fn label_box() -> Style {
    let size = (LABEL_BOX_PX - 4.0) as f32;
    Style { fill: None, stroke: None, stroke_width: 0.0, ring: None, size, ..Style::default_for(GeometryKind::Point) }
}

/// Every icon of the sheet, each name once: the style's icons, then the legend's swatches.
pub fn sprite_entries(catalog: &Catalog) -> Vec<(String, Icon)> {
    let mut out: Vec<(String, Icon)> = Vec::new();
    for l in catalog.layers() {
        if kinds_of(l)[0] {
            for (name, _, rule) in variants(l) {
                let s = l.resolved_style(GeometryKind::Point, rule);
                if needs_icon(s) {
                    out.push((icon_name(&l.meta.id, &name), Icon::Symbol(s.clone())));
                }
            }
        }
        out.extend(layer_legend(l));
    }
    out.extend(EventKind::ALL.iter().map(|&k| (event_icon(k), Icon::Symbol(event_style(k, 0)))));
    out.extend(EventLegend::ALL.iter().flat_map(|e| e.icons()));
    out.push((LABEL_BOX.to_owned(), Icon::Symbol(label_box())));
    let mut seen = std::collections::HashSet::new();
    out.retain(|(name, _)| seen.insert(name.clone()));
    out
}
