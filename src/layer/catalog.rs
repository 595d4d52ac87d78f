//! The layer store: every loaded layer in draw order, with the map's title, view and credits.

use std::collections::HashMap;

use serde::Deserialize;

use super::Layer;
use crate::style::Color;
use crate::tile::{LonLat, LonLatBBox, MAX_LATITUDE};

/// The default view of the map: a WGS84 position and a whole zoom level.
///
/// Written `[lon, lat, zoom]` in the manifest. The zoom is a `u8`, not a float: TileJSON's
/// `center` and the viewer need a whole zoom level, and a `[f64; 3]` once served `8.0`, which
/// strict TileJSON readers (the Rust `tilejson` crate) refuse.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(from = "(f64, f64, u8)")]
pub struct Center {
    /// Position in degrees.
    pub position: LonLat,
    /// Zoom level.
    pub zoom: u8,
}

impl From<(f64, f64, u8)> for Center {
    fn from((lon, lat, zoom): (f64, f64, u8)) -> Self {
        Self { position: LonLat::new(lon, lat), zoom }
    }
}

/// The events file a data set names (`events = ...` in its manifest), read at load.
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// Its name in the data set: the seed's source, which the store remembers each id under.
    pub name: String,
    /// How messages name it (its path, or `(built-in)/NAME`).
    pub path: std::path::PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Every layer of a geodata directory, sorted by draw order.
#[derive(Debug)]
pub struct Catalog {
    /// Title of the map.
    pub title: String,
    /// Description of the map.
    pub description: String,
    /// Colour behind every layer; `None` for transparent.
    pub background: Option<Color>,
    /// GeoJSON file of events to import into the event store once, if any.
    pub events_seed: Option<SeedFile>,
    /// Georeferenced image overlays, decoded, in manifest order.
    pub images: Vec<crate::imagery::GeoImage>,
    layers: Vec<Layer>,
    by_id: HashMap<String, usize>,
    bounds: LonLatBBox,
    center: Center,
}

impl Catalog {
    /// Gathers layers (in draw order) and links the features that stand for one place; bounds
    /// and centre default to the extent of the data.
    pub fn new(
        title: Option<String>,
        description: Option<String>,
        background: Option<Color>,
        center: Option<Center>,
        bounds: Option<LonLatBBox>,
        mut layers: Vec<Layer>,
    ) -> Self {
        super::place::link(&mut layers);
        super::naming::order_labels(&mut layers);
        let world = LonLatBBox { west: -180.0, south: -MAX_LATITUDE, east: 180.0, north: MAX_LATITUDE };
        let data_bounds = layers.iter().filter_map(Layer::bounds).reduce(LonLatBBox::union);
        let bounds = bounds.or(data_bounds).unwrap_or(world);
        let center = center.unwrap_or(Center {
            position: LonLat::new((bounds.west + bounds.east) / 2.0, (bounds.south + bounds.north) / 2.0),
            zoom: 2,
        });
        let by_id = layers.iter().enumerate().map(|(i, l)| (l.meta.id.clone(), i)).collect();
        Self {
            title: title.unwrap_or_else(|| "tessera".into()),
            description: description.unwrap_or_default(),
            background,
            events_seed: None,
            images: Vec::new(),
            layers,
            by_id,
            bounds,
            center,
        }
    }

    /// Every layer, in draw order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer with this id.
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.by_id.get(id).map(|&i| &self.layers[i])
    }

    /// The image overlay with this id.
    pub fn image(&self, id: &str) -> Option<&crate::imagery::GeoImage> {
        self.images.iter().find(|i| i.meta.id == id)
    }

    /// Area of interest in degrees.
    pub fn bounds(&self) -> LonLatBBox {
        self.bounds
    }

    /// Default view: position and zoom.
    pub fn center(&self) -> Center {
        self.center
    }

    /// Total number of features over all layers.
    pub fn feature_count(&self) -> usize {
        self.layers.iter().map(|l| l.features().len()).sum()
    }

    /// The distinct attributions of the given layers, joined for display, in draw order.
    pub fn attribution<'a>(&self, layers: impl IntoIterator<Item = &'a Layer>) -> String {
        // Layers often share credits ("Made with Natural Earth"): each credit once, in order.
        let mut parts: Vec<&str> = Vec::new();
        for l in layers {
            for a in l.meta.attribution.split(';').map(str::trim) {
                if !a.is_empty() && !parts.contains(&a) {
                    parts.push(a);
                }
            }
        }
        parts.join("; ")
    }
}

/// A `layers` selection named a layer that does not exist, or was empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// No such layer.
    #[error("unknown layer '{0}'")]
    Unknown(String),
    /// The list was empty or had an empty item.
    #[error("the layer list is empty or has an empty item")]
    Empty,
}

impl Catalog {
    /// The layers named in a comma-separated list (all layers for `None`), in draw order
    /// whatever the order of the list.
    ///
    /// # Examples
    /// ```
    /// # let catalog = tessera::layer::Catalog::new(None, None, None, None, None, Vec::new());
    /// assert!(catalog.select(None).unwrap().is_empty());
    /// assert!(catalog.select(Some("nope")).is_err());
    /// ```
    pub fn select(&self, list: Option<&str>) -> Result<Vec<&Layer>, SelectError> {
        let Some(list) = list else {
            return Ok(self.layers.iter().collect());
        };
        let mut chosen = vec![false; self.layers.len()];
        for name in list.split(',') {
            let name = name.trim();
            if name.is_empty() {
                return Err(SelectError::Empty);
            }
            let i = *self.by_id.get(name).ok_or_else(|| SelectError::Unknown(name.chars().take(64).collect()))?;
            chosen[i] = true;
        }
        Ok(self.layers.iter().zip(chosen).filter_map(|(l, c)| c.then_some(l)).collect())
    }
}
