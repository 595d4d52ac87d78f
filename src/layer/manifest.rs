//! The manifest, `layers.toml`: which files are layers, and their titles, credits, zooms,
//! draw order and style.

use serde::Deserialize;

use crate::style::{Color, Rule, StyleSpec};

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
    /// Default view: longitude, latitude (degrees) and zoom.
    pub center: Option<[f64; 3]>,
    /// Area of interest in degrees: west, south, east, north.
    pub bounds: Option<[f64; 4]>,
    /// GeoJSON file of events imported into the event store at first start (each id once).
    pub events: Option<String>,
    /// The layers, in any order (`order` decides drawing).
    pub layers: Vec<LayerEntry>,
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
