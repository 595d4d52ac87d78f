//! The manifest, `layers.toml`: which files are layers, and their titles, credits, zooms,
//! draw order and style.

use serde::Deserialize;

use crate::style::{Color, LabelSpec, Rule, StyleSpec};

/// The whole manifest as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Title of the map, shown in TileJSON and the landing page.
    pub title: Option<String>,
    /// One or two sentences about the map.
    pub description: Option<String>,
    /// Colour behind every layer (the sea); transparent when absent.
    pub background: Option<Color>,
    /// Default view: `[longitude, latitude, zoom]`, degrees and a whole zoom level.
    pub center: Option<super::Center>,
    /// Area of interest in degrees: west, south, east, north.
    pub bounds: Option<[f64; 4]>,
    /// GeoJSON file of events imported into the event store at first start (each id once).
    pub events: Option<String>,
    /// The layers, in any order (`order` decides drawing).
    pub layers: Vec<LayerEntry>,
    /// Georeferenced images served as overlays (`[[images]]`, see [`crate::imagery`]).
    #[serde(default)]
    pub images: Vec<crate::imagery::ImageEntry>,
}

/// One `[[layers]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerEntry {
    /// Identifier used in URLs (`?layers=`, `/collections/{id}`): `[a-z0-9_-]+`.
    pub id: String,
    /// GeoJSON file, relative to the manifest.
    pub file: String,
    /// Property whose value is the feature id (in `/items/{fid}`), for files whose features
    /// carry no GeoJSON `id`; without it, the `id` property, else the index in the file.
    pub id_property: Option<String>,
    /// Human title.
    pub title: Option<String>,
    /// What the layer shows and how far it can be trusted.
    pub description: Option<String>,
    /// The credit that the data's licence asks for.
    pub attribution: Option<String>,
    /// Licence of the data.
    pub license: Option<String>,
    /// Lowest zoom at which the layer is drawn.
    pub minzoom: Option<u8>,
    /// Highest zoom at which the layer is drawn.
    pub maxzoom: Option<u8>,
    /// Draw order: lower is drawn first (underneath).
    pub order: Option<i32>,
    /// Base style.
    #[serde(default)]
    pub style: StyleSpec,
    /// Per-feature overrides, first match wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Property holding the feature's label (its Latin-script name); no labels without it.
    pub label: Option<String>,
    /// Property holding the Arabic name: a string, or a list whose first entry in the Arabic
    /// alphabet is taken.
    pub label_ar: Option<String>,
    /// Lowest zoom with labels [default: the layer's `minzoom`].
    pub label_minzoom: Option<u8>,
    /// Highest zoom with labels [default: the layer's `maxzoom`].
    pub label_maxzoom: Option<u8>,
    /// Importance against other layers' labels, higher placed first [default: `order`].
    pub label_priority: Option<i32>,
    /// Numeric property ranking this layer's labels, higher placed first (e.g. population).
    pub label_rank: Option<String>,
    /// Text size in CSS px [default: 12].
    pub label_size: Option<f32>,
    /// Bold type [default: false].
    pub label_bold: Option<bool>,
    /// Text colour [default: #222222]; the halo is white.
    pub label_color: Option<Color>,
    /// Latin-script names in capitals [default: false].
    pub label_upper: Option<bool>,
    /// Keep only the text after the first occurrence of this separator (e.g. `" - "`).
    pub label_after: Option<String>,
}

impl LayerEntry {
    /// The layer's label settings, resolved against its zoom range and draw order; `None`
    /// when it has no `label` key. The error says which key is wrong.
    pub fn label_spec(&self, minzoom: u8, maxzoom: u8, order: i32) -> Result<Option<LabelSpec>, String> {
        let Some(text) = &self.label else {
            return match self.label_ar {
                Some(_) => Err("label_ar needs label (the Latin-script name) as well".into()),
                None => Ok(None),
            };
        };
        let mut spec = LabelSpec::new(text.clone());
        spec.text_ar = self.label_ar.clone();
        spec.minzoom = self.label_minzoom.unwrap_or(minzoom);
        spec.maxzoom = self.label_maxzoom.unwrap_or(maxzoom);
        if spec.minzoom > spec.maxzoom {
            return Err(format!("label_minzoom {} is above label_maxzoom {}", spec.minzoom, spec.maxzoom));
        }
        spec.priority = self.label_priority.unwrap_or(order);
        spec.rank = self.label_rank.clone();
        spec.size = self.label_size.unwrap_or(LabelSpec::SIZE);
        if !(6.0..=48.0).contains(&spec.size) {
            return Err(format!("label_size {} is outside 6-48 px", spec.size));
        }
        spec.bold = self.label_bold.unwrap_or(false);
        spec.color = self.label_color.unwrap_or(LabelSpec::COLOR);
        spec.upper = self.label_upper.unwrap_or(false);
        spec.after = self.label_after.clone();
        Ok(Some(spec))
    }
}

/// Layer ids taken by the server itself: `/collections/events` is the event store.
pub const RESERVED_IDS: [&str; 1] = ["events"];

/// Whether a string may serve as a layer id in a URL.
pub fn valid_layer_id(id: &str) -> bool {
    !RESERVED_IDS.contains(&id)
        && !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(extra: &str) -> LayerEntry {
        toml::from_str(&format!("id = \"t\"\nfile = \"t.geojson\"\n{extra}")).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn the_centre_zoom_is_a_whole_number() {
        let m: Manifest =
            toml::from_str("center = [36.7, 36.0, 8]\nlayers = []").unwrap_or_else(|e| unreachable!("{e}"));
        let c = m.center.unwrap_or_else(|| unreachable!("center"));
        assert_eq!((c.position.lon, c.position.lat, c.zoom), (36.7, 36.0, 8));
        let e = toml::from_str::<Manifest>("center = [36.7, 36.0, 8.0]\nlayers = []").err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| e.contains("u8") && e.contains("center")), "{e:?}");
    }

    #[test]
    fn label_keys_resolve_against_the_layer() {
        let spec = entry("label = \"name\"\nlabel_ar = \"names_ar\"\nlabel_rank = \"population\"")
            .label_spec(9, 20, 80)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let spec = spec.unwrap_or_else(|| unreachable!("labels"));
        assert_eq!((spec.minzoom, spec.maxzoom, spec.priority), (9, 20, 80));
        assert_eq!(spec.text_ar.as_deref(), Some("names_ar"));
        assert_eq!(entry("").label_spec(0, 20, 0), Ok(None));
    }

    #[test]
    fn bad_label_keys_are_named() {
        for (keys, word) in [
            ("label_ar = \"name_ar\"", "label_ar"),
            ("label = \"name\"\nlabel_minzoom = 9\nlabel_maxzoom = 8", "label_minzoom"),
            ("label = \"name\"\nlabel_size = 100.0", "label_size"),
        ] {
            let err = entry(keys).label_spec(0, 20, 0).err().unwrap_or_default();
            assert!(err.contains(word), "{keys}: {err}");
        }
        assert!(toml::from_str::<LayerEntry>("id = \"t\"\nfile = \"t\"\nlabel_colour = \"#000\"").is_err());
    }
}
