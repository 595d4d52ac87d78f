//! A layer's styles resolved once: one [`Style`] per geometry kind and matching rule, and which
//! of them each feature is drawn with.
//!
//! Kept apart from the layer's data so that the layer's features say only what the file says:
//! a feature's style is an index held here, next to the styles it points into, not a field
//! written into the feature.

use super::{GeometryKind, Rule, Style, StyleSpec};

const KINDS: [GeometryKind; 3] = [GeometryKind::Point, GeometryKind::Line, GeometryKind::Polygon];

/// The resolved styles of one layer and each feature's choice among them.
#[derive(Debug, Clone)]
pub struct LayerStyles {
    /// For each geometry kind (in `KINDS` order), the base style and then one per rule.
    styles: Vec<Style>,
    base: StyleSpec,
    rules: Vec<Rule>,
    /// Index into `styles`, per feature in file order.
    of_feature: Vec<u32>,
    reach_px: f32,
}

impl LayerStyles {
    /// Resolves the base and rules over each kind's default, and picks each feature's style:
    /// its geometry kind and the first rule its properties match.
    pub fn resolve<'a>(
        base: &StyleSpec,
        rules: &[Rule],
        features: impl Iterator<Item = (GeometryKind, &'a serde_json::Map<String, serde_json::Value>)>,
    ) -> Self {
        let per_kind = rules.len() + 1;
        let styles: Vec<Style> = KINDS
            .iter()
            .flat_map(|&k| {
                let s = Style::default_for(k).overridden(base);
                std::iter::once(s.clone()).chain(rules.iter().map(move |r| s.overridden(&r.style)))
            })
            .collect();
        let of_feature = features
            .map(|(kind, props)| {
                let k = KINDS.iter().position(|&g| g == kind).unwrap_or(0);
                let rule = rules.iter().position(|r| r.matches(props)).map_or(0, |i| i + 1);
                (k * per_kind + rule) as u32
            })
            .collect();
        let reach_px = styles.iter().map(Style::reach_px).fold(0.0, f32::max);
        Self { styles, base: base.clone(), rules: rules.to_vec(), of_feature, reach_px }
    }

    /// The style as written: its base keys and its rules.
    pub fn source(&self) -> (&StyleSpec, &[Rule]) {
        (&self.base, &self.rules)
    }

    /// The resolved style for a geometry kind and a rule (`None`: no rule matched).
    pub fn resolved(&self, kind: GeometryKind, rule: Option<usize>) -> &Style {
        let k = KINDS.iter().position(|&g| g == kind).unwrap_or(0);
        self.at(k * (self.rules.len() + 1) + rule.map_or(0, |r| r + 1))
    }

    /// The style feature `i` is drawn with.
    pub fn of(&self, i: usize) -> &Style {
        self.at(self.of_feature.get(i).map_or(0, |&s| s as usize))
    }

    /// The rule feature `i` matched (first match wins); `None` when it matched none.
    pub fn rule_of(&self, i: usize) -> Option<usize> {
        let s = *self.of_feature.get(i)? as usize;
        (s % (self.rules.len() + 1)).checked_sub(1)
    }

    /// How far (CSS px) any of the styles reaches beyond its geometry.
    pub fn reach_px(&self) -> f32 {
        self.reach_px
    }

    fn at(&self, i: usize) -> &Style {
        &self.styles[i.min(self.styles.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kind: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::json!({ "kind": kind }).as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn each_feature_gets_its_kinds_style_and_its_first_matching_rule() {
        let rule = |equals: &str, style: StyleSpec| Rule {
            property: "kind".into(),
            equals: toml::Value::String(equals.into()),
            style,
        };
        let red = crate::style::Color::rgba(255, 0, 0, 255);
        let rules = [
            rule("city", StyleSpec { size: Some(11.0), ..StyleSpec::default() }),
            rule("city", StyleSpec { size: Some(20.0), ..StyleSpec::default() }),
            rule("road", StyleSpec { stroke: Some(red), ..StyleSpec::default() }),
        ];
        let (city, road, other) = (props("city"), props("road"), props("village"));
        let features =
            [(GeometryKind::Point, &city), (GeometryKind::Line, &road), (GeometryKind::Point, &other)].into_iter();
        let s = LayerStyles::resolve(&StyleSpec::default(), &rules, features);
        assert_eq!(s.rule_of(0), Some(0), "the first matching rule wins");
        assert_eq!(s.of(0).size, 11.0);
        assert_eq!(s.rule_of(1), Some(2));
        assert_eq!(s.of(1).stroke, Some(red));
        assert_eq!(s.rule_of(2), None);
        assert_eq!(s.of(2), &Style::default_for(GeometryKind::Point));
        assert_eq!(s.resolved(GeometryKind::Point, Some(1)).size, 20.0);
        assert!(s.reach_px() >= 10.0, "at least the half of the 20 px symbol");
    }
}
