//! How each layer is drawn: colours, strokes, dashes and point symbols, with per-feature rules.
//!
//! A layer's style comes from the manifest (`layers.toml`) or, for a plain directory of GeoJSON
//! files, from [`Style::default_for`]. Sizes and widths are CSS pixels on a 256-pixel tile; the
//! renderer multiplies them by the tile scale (2 for `@2x`).

mod color;
mod events;
mod icon;
mod label;
mod layer;

pub use color::{Color, ColorError};
pub use events::{event_size, event_style, kind_style};
pub use icon::Icon;
pub use label::{LabelSpec, Lang, LangError, Names};
pub use layer::LayerStyles;

use serde::Deserialize;

/// Point symbol shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symbol {
    /// A filled disc.
    Circle,
    /// An axis-aligned square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A square turned 45 degrees.
    Diamond,
    /// A five-pointed star (capitals).
    Star,
    /// A white square with a red cross (hospitals).
    Hospital,
    /// A shield-like pentagon with a dot (military observation points).
    ObservationPoint,
}

/// Style keys as written in the manifest: every key optional, so that a rule can override only
/// what it names.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleSpec {
    /// Polygon fill, or the fill of a point symbol.
    pub fill: Option<Color>,
    /// Outline or line colour.
    pub stroke: Option<Color>,
    /// Outline or line width in CSS px.
    pub stroke_width: Option<f32>,
    /// Dash pattern: alternating on/off lengths in CSS px.
    pub dash: Option<Vec<f32>>,
    /// Point symbol.
    pub symbol: Option<Symbol>,
    /// Symbol diameter in CSS px.
    pub size: Option<f32>,
    /// Colour of a circle drawn around a point symbol.
    pub ring: Option<Color>,
}

/// A complete style, every key resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// Polygon fill or point-symbol fill; `None` draws no fill.
    pub fill: Option<Color>,
    /// Outline or line colour; `None` draws no outline.
    pub stroke: Option<Color>,
    /// Outline or line width in CSS px.
    pub stroke_width: f32,
    /// Dash pattern in CSS px; empty for a solid line.
    pub dash: Vec<f32>,
    /// Point symbol.
    pub symbol: Symbol,
    /// Symbol diameter in CSS px.
    pub size: f32,
    /// Ring around a point symbol.
    pub ring: Option<Color>,
}

/// Which geometry a default style is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// Points and multi-points.
    Point,
    /// Line strings.
    Line,
    /// Polygons.
    Polygon,
}

impl Style {
    /// The style a layer gets when nothing says otherwise, by the geometry it mostly holds.
    pub fn default_for(kind: GeometryKind) -> Self {
        let blue = Color::rgba(0x1f, 0x5f, 0x99, 0xff);
        match kind {
            GeometryKind::Point => Self {
                fill: Some(Color::rgba(0xd3, 0x54, 0x00, 0xff)),
                stroke: Some(Color::rgba(0xff, 0xff, 0xff, 0xff)),
                stroke_width: 1.0,
                ..Self::base()
            },
            GeometryKind::Line => Self { stroke: Some(blue), stroke_width: 1.5, ..Self::base() },
            GeometryKind::Polygon => Self {
                fill: Some(Color::rgba(0x1f, 0x5f, 0x99, 0x40)),
                stroke: Some(blue),
                stroke_width: 1.0,
                ..Self::base()
            },
        }
    }

    fn base() -> Self {
        Self {
            fill: None,
            stroke: None,
            stroke_width: 1.0,
            dash: Vec::new(),
            symbol: Symbol::Circle,
            size: 8.0,
            ring: None,
        }
    }

    /// This style with the keys that `spec` sets replaced.
    pub fn overridden(&self, spec: &StyleSpec) -> Self {
        Self {
            fill: spec.fill.or(self.fill),
            stroke: spec.stroke.or(self.stroke),
            stroke_width: spec.stroke_width.unwrap_or(self.stroke_width),
            dash: spec.dash.clone().unwrap_or_else(|| self.dash.clone()),
            symbol: spec.symbol.unwrap_or(self.symbol),
            size: spec.size.unwrap_or(self.size),
            ring: spec.ring.or(self.ring),
        }
    }

    /// How far (CSS px) anything drawn with this style can reach beyond its geometry: half a
    /// symbol, a ring and a stroke. Tiles fetch features this far past their edges so that
    /// symbols and strokes crossing an edge are drawn whole on both sides.
    pub fn reach_px(&self) -> f32 {
        let ring = if self.ring.is_some() { 0.15 * self.size + 2.5 } else { 0.0 };
        self.size / 2.0 + ring + self.stroke_width + 1.0
    }
}

/// A per-feature override: when the feature's `property` equals `equals`, the style keys set
/// here replace the layer's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Property name to test.
    pub property: String,
    /// Value it must equal (string, number or boolean).
    pub equals: toml::Value,
    /// Style keys to override.
    #[serde(flatten)]
    pub style: StyleSpec,
}

impl Rule {
    /// Whether a feature with these properties matches.
    pub fn matches(&self, props: &serde_json::Map<String, serde_json::Value>) -> bool {
        use serde_json::Value as J;
        use toml::Value as T;
        match (props.get(&self.property), &self.equals) {
            (Some(J::String(a)), T::String(b)) => a == b,
            (Some(J::Bool(a)), T::Boolean(b)) => a == b,
            (Some(J::Number(a)), T::Integer(b)) => a.as_f64() == Some(*b as f64),
            (Some(J::Number(a)), T::Float(b)) => a.as_f64() == Some(*b),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_overrides_only_what_it_sets() {
        let base = Style::default_for(GeometryKind::Point);
        let spec = StyleSpec { symbol: Some(Symbol::Hospital), ..StyleSpec::default() };
        let s = base.overridden(&spec);
        assert_eq!(s.symbol, Symbol::Hospital);
        assert_eq!(s.fill, base.fill);
    }

    #[test]
    fn rules_compare_typed_values() {
        let rule: Rule = toml::from_str("property = \"encircled\"\nequals = true\nring = \"#000\"")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let mut props = serde_json::Map::new();
        props.insert("encircled".into(), serde_json::Value::Bool(true));
        assert!(rule.matches(&props));
        props.insert("encircled".into(), serde_json::Value::String("true".into()));
        assert!(!rule.matches(&props));
    }
}
