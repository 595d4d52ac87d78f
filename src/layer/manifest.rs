//! The manifest, `layers.toml`: which files are layers, and their titles, credits, zooms,
//! draw order and style.

use serde::Deserialize;

use crate::style::{Color, LabelSpec, Rule, StyleSpec};
use crate::tile::LonLatBBox;

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
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// A short line for the map's legend, where its symbols need words ("Dashed: schematic").
    pub note: Option<String>,
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
    /// Property whose values rank the layer's names by class before `label_rank`
    /// (`featurecla`: capitals before other places).
    pub label_class: Option<String>,
    /// The values of `label_class`, most important first; other values come after them.
    #[serde(default)]
    pub label_class_order: Vec<String>,
    /// Property naming the place a point stands for across layers (`geonameid`): points of two
    /// layers with the same value are one place, drawn and named once.
    pub place_id: Option<String>,
    /// Points of this layer closer than this many km to each other are one place (a source
    /// that lists a city twice).
    pub place_merge_km: Option<f64>,
    /// West, south, east and north (degrees) of the box the layer's source was cut to: polygon
    /// edges along it are the cut, not a coast or a border, and are not stroked.
    pub clipped_to: Option<[f64; 4]>,
    /// West, south, east and north (degrees) of a box inside which the layer is not drawn,
    /// because more detailed layers cover it.
    pub not_within: Option<[f64; 4]>,
}

impl LayerEntry {
    /// `clipped_to` and `not_within` as boxes; the error names a key whose box is not one.
    pub fn boxes(&self) -> Result<(Option<LonLatBBox>, Option<LonLatBBox>), String> {
        let check = |key: &str, b: Option<[f64; 4]>| match b {
            None => Ok(None),
            Some([west, south, east, north]) => {
                let ok = (-180.0..=180.0).contains(&west)
                    && (-180.0..=180.0).contains(&east)
                    && (-90.0..=90.0).contains(&south)
                    && (-90.0..=90.0).contains(&north)
                    && west < east
                    && south < north;
                if ok {
                    Ok(Some(LonLatBBox { west, south, east, north }))
                } else {
                    Err(format!("{key} must be [west, south, east, north] in degrees, west < east, south < north"))
                }
            }
        };
        Ok((check("clipped_to", self.clipped_to)?, check("not_within", self.not_within)?))
    }

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
        if self.label_class.is_none() && !self.label_class_order.is_empty() {
            return Err("label_class_order needs label_class (the property it orders)".into());
        }
        spec.class = self.label_class.clone();
        spec.class_order = self.label_class_order.clone();
        Ok(Some(spec))
    }
}

/// Layer ids taken by the server itself: `/collections/events` is the event store, and the
/// vector tiles' `events` and `labels` layers are the server's own.
pub const RESERVED_IDS: [&str; 2] = ["events", "labels"];

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
    fn a_note_is_read_and_any_other_unknown_key_refused() {
        assert_eq!(entry("note = \"Dashed: schematic.\"").note.as_deref(), Some("Dashed: schematic."));
        assert_eq!(entry("").note, None);
        assert!(toml::from_str::<LayerEntry>("id = \"t\"\nfile = \"t\"\nnotes = \"x\"").is_err());
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
