//! Tile archives: what `tessera export` writes and `tessera serve --archive` serves. Two
//! formats, each through the crate made for it: PMTiles v3 (the `pmtiles` crate; one file that
//! a CDN or object store serves with HTTP Range requests) and MBTiles 1.3 (SQLite through
//! rusqlite; what GDAL, QGIS and most tile servers read).
//!
//! Both store each distinct tile once: identical tiles (the empty sea, the background of an
//! empty land) share one stored copy. The exporter finds them by a 128-bit key of their bytes
//! (the first half of a SHA-256), computed on the threads that render them; PMTiles points
//! several directory entries (and runs of consecutive tiles) at one offset, MBTiles uses the
//! `map` and `images` tables behind a `tiles` view, as mbutil and tippecanoe write it. Tiles
//! with no bytes (an empty vector tile) are not stored: a reader takes a missing tile as
//! empty.
//!
//! Writing is synchronous (the exporter runs it on its own thread); reading for the server
//! is in `crate::service::archives`.

mod mbtiles;
mod pmtiles;

pub use mbtiles::{MbtilesReader, MbtilesSink};
pub use pmtiles::PmtilesSink;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::render::TileFormat;
use crate::tile::{LonLatBBox, TileCoord};

/// Which archive format a file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// PMTiles v3 (`.pmtiles`).
    Pmtiles,
    /// MBTiles 1.3 (`.mbtiles`).
    Mbtiles,
}

impl ArchiveKind {
    /// The kind of a path ending in `.pmtiles` or `.mbtiles`; `None` for any other.
    ///
    /// # Examples
    /// ```
    /// use tessera::archive::ArchiveKind;
    /// assert_eq!(ArchiveKind::of(std::path::Path::new("out/idlib.pmtiles")), Some(ArchiveKind::Pmtiles));
    /// assert_eq!(ArchiveKind::of(std::path::Path::new("idlib.zip")), None);
    /// ```
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("pmtiles") => Some(Self::Pmtiles),
            Some("mbtiles") => Some(Self::Mbtiles),
            _ => None,
        }
    }
}

/// What an archive's tiles are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// PNG images.
    Png,
    /// WebP images.
    Webp,
    /// JPEG images.
    Jpeg,
    /// Mapbox Vector Tiles.
    Mvt,
}

impl Content {
    /// The content of raster tiles in `format`.
    pub fn of(format: TileFormat) -> Self {
        match format {
            TileFormat::Png => Self::Png,
            TileFormat::Webp => Self::Webp,
            TileFormat::Jpeg { .. } => Self::Jpeg,
        }
    }

    /// The file extension of a tile, without the dot (the one the live tile routes use).
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
            Self::Mvt => "mvt",
        }
    }

    /// The `Content-Type` of a tile.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
            Self::Mvt => "application/vnd.mapbox-vector-tile",
        }
    }

    /// The MBTiles `format` of the tiles.
    const fn mbtiles_format(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
            Self::Mvt => "pbf",
        }
    }

    /// The content an MBTiles `format` names.
    fn from_mbtiles(format: &str) -> Option<Self> {
        match format {
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "pbf" | "mvt" => Some(Self::Mvt),
            _ => None,
        }
    }
}

/// What an archive says of itself: the header fields and metadata both formats carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// The tileset's name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The credit the data's licences ask for.
    pub attribution: String,
    /// What the tiles are.
    pub content: Content,
    /// Lowest zoom stored.
    pub minzoom: u8,
    /// Highest zoom stored.
    pub maxzoom: u8,
    /// The area exported, degrees.
    pub bounds: LonLatBBox,
    /// Default view: longitude, latitude (degrees) and a zoom.
    pub center: (f64, f64, u8),
    /// The vector layers (TileJSON `vector_layers`) of vector tiles.
    pub vector_layers: Option<Vec<Value>>,
    /// Whether the tiles are transparent, to lay over a base map (MBTiles `type` `overlay`).
    pub overlay: bool,
    /// How tessera made the tiles (layers, language, events, scale, when); `Null` when unknown.
    pub made_with: Value,
}

impl Metadata {
    /// The metadata document: PMTiles' metadata, and MBTiles' `json` row (with more).
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "name": self.name,
            "description": self.description,
            "attribution": self.attribution,
            "type": if self.overlay { "overlay" } else { "baselayer" },
            "format": self.content.mbtiles_format(),
            "version": "1",
        });
        if let Some(layers) = &self.vector_layers {
            doc["vector_layers"] = json!(layers);
        }
        if !self.made_with.is_null() {
            doc["tessera"] = self.made_with.clone();
        }
        doc
    }

    /// Reads the name, description, attribution, vector layers and `tessera` section from a
    /// metadata document, keeping the rest of `self` (which the header gives).
    pub(crate) fn read_json(&mut self, doc: &Value) {
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
        self.name = text("name").unwrap_or_default();
        self.description = text("description").unwrap_or_default();
        self.attribution = text("attribution").unwrap_or_default();
        self.overlay = text("type").as_deref() == Some("overlay");
        self.vector_layers = doc.get("vector_layers").and_then(Value::as_array).cloned();
        self.made_with = doc.get("tessera").cloned().unwrap_or(Value::Null);
    }
}

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file could not be created, read or renamed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PMTiles crate refused.
    #[error("{}: PMTiles: {source}", .path.display())]
    Pmtiles {
        /// The file.
        path: PathBuf,
        /// Its error.
        source: ::pmtiles::PmtError,
    },
    /// SQLite refused.
    #[error("{}: MBTiles: {source}", .path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Its error.
        source: rusqlite::Error,
    },
    /// The file is not an archive tessera can serve.
    #[error("{}: {reason}", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A key of a tile's bytes: identical tiles have one key, and different ones (but for a
/// collision of SHA-256's first 128 bits, which does not happen) different keys.
pub type ContentKey = [u8; 16];

/// The key of `data`.
pub fn content_key(data: &[u8]) -> ContentKey {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data);
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// A writer of one archive: tiles in, then the finished file.
pub trait Sink: Send {
    /// Stores a tile whose bytes have `key` (see [`content_key`]); an empty tile is skipped.
    fn add(&mut self, tile: TileCoord, data: &[u8], key: ContentKey) -> Result<(), ArchiveError>;
    /// Completes the file (directories, indexes, metadata) and closes it.
    fn finish(self: Box<Self>) -> Result<(), ArchiveError>;
}

/// A new archive of `kind` at `path` (created or truncated), described by `meta`.
pub fn create(kind: ArchiveKind, path: &Path, meta: &Metadata) -> Result<Box<dyn Sink>, ArchiveError> {
    Ok(match kind {
        ArchiveKind::Pmtiles => Box::new(PmtilesSink::create(path, meta)?),
        ArchiveKind::Mbtiles => Box::new(MbtilesSink::create(path, meta)?),
    })
}

/// The order tiles are best written in: PMTiles' tile ids (zoom by zoom, along a Hilbert curve),
/// which lets runs of identical neighbours share one directory entry and readers fetch
/// neighbours together.
pub fn write_order(tile: TileCoord) -> u64 {
    // Only a zoom above 31 has no id, and tile math stops at 30.
    ::pmtiles::TileCoord::new(tile.z(), tile.x(), tile.y()).map_or(u64::MAX, |c| ::pmtiles::TileId::from(c).value())
}
