//! The layer store: every loaded layer in draw order, with the map's title, view and credits.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

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
    /// A hash of each image overlay's manifest entry and file, in the order of `images` (set
    /// by the loader; an image without one counts as changed at every reload).
    pub image_fingerprints: Vec<u64>,
    /// When the loader began reading the files (set by the loader): a file changed since may
    /// not be in this catalog.
    pub read_at: Option<std::time::SystemTime>,
    layers: Vec<Layer>,
    by_id: HashMap<String, usize>,
    bounds: LonLatBBox,
    center: Center,
    /// How many reloads this catalog follows (0: loaded at start-up).
    generation: u64,
    /// The generation in which each image overlay last changed, by id.
    image_revisions: HashMap<String, u64>,
    /// The generation in which the background colour last changed.
    background_revision: u64,
}

/// What a reload changed, compared with the catalog served before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Layers added, removed, or changed: their file, their manifest entry, their draw order, or
    /// the places they share with other layers.
    pub layers: BTreeSet<String>,
    /// Layers whose names moved in the catalog's order of names though the layers themselves
    /// did not change (another layer gained or lost a name): their vector tiles with labels
    /// change, their raster tiles do not. Not repeated from `layers`.
    pub labels: BTreeSet<String>,
    /// Image overlays added, removed or changed (entry or file).
    pub images: BTreeSet<String>,
    /// The background colour changed, and with it every raster tile.
    pub background: bool,
}

impl Changes {
    /// Whether no tile changes.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty() && self.labels.is_empty() && self.images.is_empty() && !self.background
    }
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
        // A layer also changes when the places it shares with other layers do (which of its
        // points is named, and by which feature), though its own file did not. Where its names
        // stand in the catalog's order is kept apart: it moves whenever another layer gains or
        // loses a name, yet only the vector tiles' `sort` shows it, not the raster tiles.
        for layer in &mut layers {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            layer.fingerprint.hash(&mut h);
            layer.labels.places.hash(&mut h);
            layer.fingerprint = h.finish();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            layer.labels.order.hash(&mut h);
            layer.label_fingerprint = h.finish();
        }
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
            image_fingerprints: Vec::new(),
            read_at: None,
            layers,
            by_id,
            bounds,
            center,
            generation: 0,
            image_revisions: HashMap::new(),
            background_revision: 0,
        }
    }

    /// Makes this (newly loaded) catalog the successor of `old`: a layer or image that is the
    /// same as in `old` keeps its revision, so that its cached tiles stay valid; one that changed
    /// takes this catalog's generation, so that its tiles get new cache keys. Returns what
    /// changed.
    pub fn follow(&mut self, old: &Catalog) -> Changes {
        self.generation = old.generation + 1;
        let mut changes = Changes::default();
        for layer in &mut self.layers {
            match old.layer(&layer.meta.id) {
                Some(before) if before.fingerprint == layer.fingerprint => {
                    layer.revision = before.revision;
                    if before.label_fingerprint == layer.label_fingerprint {
                        layer.label_revision = before.label_revision;
                    } else {
                        layer.label_revision = self.generation;
                        changes.labels.insert(layer.meta.id.clone());
                    }
                }
                _ => {
                    layer.revision = self.generation;
                    layer.label_revision = self.generation;
                    changes.layers.insert(layer.meta.id.clone());
                }
            }
        }
        let gone = old.layers.iter().filter(|l| self.layer(&l.meta.id).is_none()).map(|l| l.meta.id.clone());
        changes.layers.extend(gone);
        let before: HashMap<&str, (u64, u64)> = old
            .images
            .iter()
            .enumerate()
            .filter_map(|(i, im)| {
                let id = im.meta.id.as_str();
                Some((id, (*old.image_fingerprints.get(i)?, old.image_revision(id))))
            })
            .collect();
        for (i, image) in self.images.iter().enumerate() {
            let id = image.meta.id.as_str();
            let revision = match (before.get(id), self.image_fingerprints.get(i)) {
                (Some(&(was, revision)), Some(&now)) if was == now => revision,
                _ => {
                    changes.images.insert(id.to_owned());
                    self.generation
                }
            };
            self.image_revisions.insert(id.to_owned(), revision);
        }
        changes
            .images
            .extend(old.images.iter().filter(|im| self.image(&im.meta.id).is_none()).map(|im| im.meta.id.clone()));
        if self.background == old.background {
            self.background_revision = old.background_revision;
        } else {
            self.background_revision = self.generation;
            changes.background = true;
        }
        changes
    }

    /// How many reloads this catalog follows (0: loaded at start-up).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The newest revision among these layers (see [`Layer::revision`]): a tile drawing them
    /// changes when it does.
    pub fn revision_of(&self, ids: &[String]) -> u64 {
        ids.iter().filter_map(|id| self.layer(id)).map(Layer::revision).max().unwrap_or(0)
    }

    /// The newest label revision among these layers (see [`Layer::label_revision`]): a vector
    /// tile carrying their names changes when it does.
    pub fn label_revision_of(&self, ids: &[String]) -> u64 {
        ids.iter().filter_map(|id| self.layer(id)).map(Layer::label_revision).max().unwrap_or(0)
    }

    /// The generation in which the background colour last changed.
    pub fn background_revision(&self) -> u64 {
        self.background_revision
    }

    /// The generation in which an image overlay last changed.
    pub fn image_revision(&self, id: &str) -> u64 {
        self.image_revisions.get(id).copied().unwrap_or(0)
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
