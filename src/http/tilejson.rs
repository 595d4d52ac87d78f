//! TileJSON 3.0.0 documents: one builder for every tileset the server lists (raster tiles,
//! vector tiles, image overlays).

use serde_json::{Value, json};

use crate::tile::LonLatBBox;

/// A tileset as TileJSON describes it.
#[derive(Debug, Clone)]
pub struct TileJson {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The credit the data's licences ask for; left out when empty.
    pub attribution: String,
    /// The tile URL template, `{z}/{x}/{y}`.
    pub tiles: String,
    /// Lowest zoom.
    pub minzoom: u8,
    /// Highest zoom.
    pub maxzoom: u8,
    /// Area of the data, degrees.
    pub bounds: LonLatBBox,
    /// Default view: longitude, latitude (degrees) and a zoom, clamped to the zooms.
    pub center: (f64, f64, u8),
    /// The vector layers of a vector tileset; `None` for raster tiles (which are 256 px).
    pub vector_layers: Option<Vec<Value>>,
}

impl TileJson {
    /// The document.
    pub fn to_json(&self) -> Value {
        let (lon, lat, zoom) = self.center;
        let mut doc = json!({
            "tilejson": "3.0.0",
            "name": self.name,
            "description": self.description,
            "version": env!("CARGO_PKG_VERSION"),
            "scheme": "xyz",
            "tiles": [self.tiles],
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": self.bounds.to_array(),
            "center": [lon, lat, zoom.clamp(self.minzoom, self.maxzoom)],
        });
        if !self.attribution.is_empty() {
            doc["attribution"] = json!(self.attribution);
        }
        match &self.vector_layers {
            Some(layers) => doc["vector_layers"] = json!(layers),
            None => doc["tileSize"] = json!(256),
        }
        doc
    }
}

/// `?a=b&c=d` for the parameters carried into a tile URL; empty for none.
pub fn query_suffix(carried: &[(&str, &str)]) -> String {
    match carried.is_empty() {
        false => format!("?{}", serde_urlencoded::to_string(carried).unwrap_or_default()),
        true => String::new(),
    }
}
