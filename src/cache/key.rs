//! What a cached tile is: a typed key with everything that decides its bytes.

use std::sync::Arc;

use crate::events::{EventFilter, EventKind, TimeSpan};
use crate::layer::Changes;
use crate::render::{Scale, TileFormat, View};
use crate::style::Lang;
use crate::tile::TileCoord;

/// The events a tile shows: a time window and kinds, in a canonical form (kinds sorted, each
/// once), so that two requests asking for the same events share a cache entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventSelection {
    time: Option<TimeSpan>,
    kinds: Option<Vec<EventKind>>,
}

impl EventSelection {
    /// The events of this time window (`None`: any time) and these kinds (`None`: all).
    pub fn new(time: Option<TimeSpan>, kinds: Option<Vec<EventKind>>) -> Self {
        let kinds = kinds.map(|mut k| {
            k.sort_unstable_by_key(|k| k.as_str());
            k.dedup();
            k
        });
        Self { time, kinds }
    }

    /// The time window, if any.
    pub fn time(&self) -> Option<TimeSpan> {
        self.time
    }

    /// The filter a store reads these events with.
    pub fn filter(&self) -> EventFilter {
        EventFilter { time: self.time, kinds: self.kinds.clone(), ..EventFilter::default() }
    }
}

/// The data layers a tile draws, by id, in draw order.
pub type LayerIds = Arc<[String]>;

/// What a tile shows and how it is encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TileSpec {
    /// A base raster tile: data layers and their place names.
    Raster {
        /// 1x or 2x.
        scale: Scale,
        /// The image format.
        format: TileFormat,
        /// The layers drawn.
        layers: LayerIds,
        /// The language of the place names; `None` for none.
        lang: Option<Lang>,
    },
    /// A transparent raster tile of the events.
    Overlay {
        /// 1x or 2x.
        scale: Scale,
        /// The image format (one with transparency).
        format: TileFormat,
        /// The events shown.
        events: EventSelection,
    },
    /// The markers an overlay tile draws, as GeoJSON.
    Markers {
        /// The events shown.
        events: EventSelection,
    },
    /// A vector tile: data layers, their names and the events when asked for.
    Vector {
        /// The data layers.
        layers: LayerIds,
        /// Whether the tile carries the `labels` layer (names of the data layers chosen).
        labels: bool,
        /// The events, when the tile carries its `events` layer.
        events: Option<EventSelection>,
    },
    /// A base raster tile with the events drawn over it: what `tessera export` writes when asked
    /// for the base map and the events in one archive.
    Combined {
        /// 1x or 2x.
        scale: Scale,
        /// The image format.
        format: TileFormat,
        /// The layers drawn.
        layers: LayerIds,
        /// The language of the place names; `None` for none.
        lang: Option<Lang>,
        /// The events drawn over the layers.
        events: EventSelection,
    },
    /// A static map image (`/static/...`): any rectangle of the map, its names placed once.
    Static {
        /// The rectangle shown and its zoom.
        view: View,
        /// 1x or 2x.
        scale: Scale,
        /// The image format.
        format: TileFormat,
        /// The layers drawn.
        layers: LayerIds,
        /// The language of the place names; `None` for none.
        lang: Option<Lang>,
        /// The events drawn over the layers, if any.
        events: Option<EventSelection>,
    },
    /// A tile of a georeferenced image overlay.
    Image {
        /// The image's id.
        id: Arc<str>,
        /// 1x or 2x.
        scale: Scale,
        /// The image format (one with transparency).
        format: TileFormat,
    },
}

impl TileSpec {
    /// The events the tile shows; `None` for a tile that shows none, which an event write never
    /// changes.
    pub fn events(&self) -> Option<&EventSelection> {
        match self {
            Self::Overlay { events, .. } | Self::Markers { events } | Self::Combined { events, .. } => Some(events),
            Self::Vector { events, .. } | Self::Static { events, .. } => events.as_ref(),
            Self::Raster { .. } | Self::Image { .. } => None,
        }
    }

    /// The kind of tile, as metrics and logs name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Raster { .. } => "raster",
            Self::Combined { .. } => "combined",
            Self::Static { .. } => "static",
            Self::Overlay { .. } => "overlay",
            Self::Markers { .. } => "markers",
            Self::Vector { .. } => "vector",
            Self::Image { .. } => "image",
        }
    }

    /// Whether a reload that made these changes changes this tile: a raster tile drawing a
    /// changed layer or drawn over a changed background, a vector tile carrying a changed
    /// layer or the names of a layer whose names moved in the catalog's order, a tile of a
    /// changed image overlay.
    pub fn changed_by(&self, changes: &Changes) -> bool {
        let any = |layers: &LayerIds| layers.iter().any(|l| changes.layers.contains(l));
        match self {
            Self::Raster { layers, .. } | Self::Combined { layers, .. } | Self::Static { layers, .. } => {
                changes.background || any(layers)
            }
            Self::Vector { layers, labels, .. } => {
                any(layers) || (*labels && layers.iter().any(|l| changes.labels.contains(l)))
            }
            Self::Image { id, .. } => changes.images.contains(&**id),
            Self::Overlay { .. } | Self::Markers { .. } => false,
        }
    }

    /// Bytes of the key beyond its fixed part, for the cache's weighing.
    fn extra_bytes(&self) -> usize {
        let ids = |l: &LayerIds| l.iter().map(|s| s.len() + 24).sum::<usize>();
        match self {
            Self::Raster { layers, .. } => ids(layers),
            Self::Vector { layers, .. } | Self::Combined { layers, .. } | Self::Static { layers, .. } => {
                ids(layers) + 32
            }
            Self::Image { id, .. } => id.len(),
            Self::Overlay { .. } | Self::Markers { .. } => 32,
        }
    }
}

/// Everything that decides a tile's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Which tile.
    pub tile: TileCoord,
    /// What it shows and how it is encoded.
    pub spec: TileSpec,
    /// Version of the tile's area, for tiles that show events (0 for the others).
    pub version: u64,
    /// Revision of the data it draws: the newest of its layers' revisions (and the
    /// background's, for a raster tile), or its image's; 0 for tiles of events alone. A reload
    /// that changes a layer gives it a new revision, so that no tile drawn from the old data
    /// (even one whose rendering was still running) is met again.
    pub data: u64,
}

impl TileKey {
    /// Whether an event write may change this tile.
    pub fn shows_events(&self) -> bool {
        self.spec.events().is_some()
    }

    /// About how many bytes the key holds, for the cache's budget.
    pub fn weight(&self) -> usize {
        96 + self.spec.extra_bytes()
    }
}
