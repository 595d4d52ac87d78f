//! Writing PMTiles v3 with the `pmtiles` crate's stream writer: the header and metadata at the
//! start, tiles as they come (in tile-id order, so runs of identical neighbours make one
//! directory entry), directories at the end. Vector tiles are stored gzip-compressed, as the
//! format's readers (MapLibre's PMTiles protocol, the `pmtiles` tools) expect; images as they are.

use std::fs::File;
use std::path::{Path, PathBuf};

use pmtiles::{CallerKey, PmTilesStreamWriter, PmTilesWriter, TileType};

use super::{ArchiveError, Content, ContentKey, Metadata, Sink};
use crate::tile::TileCoord;

/// A PMTiles archive being written.
pub struct PmtilesSink {
    path: PathBuf,
    writer: PmTilesStreamWriter<File, CallerKey<ContentKey>>,
}

impl PmtilesSink {
    /// Creates the file and writes its metadata.
    pub fn create(path: &Path, meta: &Metadata) -> Result<Self, ArchiveError> {
        let file = File::create(path).map_err(|source| ArchiveError::Io { path: path.to_owned(), source })?;
        let tile_type = match meta.content {
            Content::Png => TileType::Png,
            Content::Webp => TileType::Webp,
            Content::Jpeg => TileType::Jpeg,
            Content::Mvt => TileType::Mvt,
        };
        let b = meta.bounds;
        let (lon, lat, zoom) = meta.center;
        let writer = PmTilesWriter::new(tile_type)
            .dedup_by_key::<ContentKey>()
            .min_zoom(meta.minzoom)
            .max_zoom(meta.maxzoom)
            .bounds(b.west, b.south, b.east, b.north)
            .center(lon, lat)
            .center_zoom(zoom)
            .metadata(meta.to_json().to_string())
            .create(file)
            .map_err(|source| ArchiveError::Pmtiles { path: path.to_owned(), source })?;
        Ok(Self { path: path.to_owned(), writer })
    }

    fn failed(&self) -> impl Fn(pmtiles::PmtError) -> ArchiveError + '_ {
        |source| ArchiveError::Pmtiles { path: self.path.clone(), source }
    }
}

impl Sink for PmtilesSink {
    fn add(&mut self, tile: TileCoord, data: &[u8], key: ContentKey) -> Result<(), ArchiveError> {
        let coord = pmtiles::TileCoord::new(tile.z(), tile.x(), tile.y()).map_err(self.failed())?;
        let path = self.path.clone();
        self.writer.add_tile(coord, data, Some(key)).map_err(|source| ArchiveError::Pmtiles { path, source })
    }

    fn finish(self: Box<Self>) -> Result<(), ArchiveError> {
        let Self { path, writer } = *self;
        writer.finalize().map_err(|source| ArchiveError::Pmtiles { path, source })
    }
}
