//! Pre-rendered archives served as they were exported: their tiles (read through the `pmtiles`
//! crate's memory-mapped reader, or SQLite for MBTiles), their metadata for TileJSON, and, for
//! PMTiles, the file itself in byte ranges, which is how MapLibre's PMTiles protocol and CDNs
//! read an archive.
//!
//! Archives are opened at start-up, and a file that cannot be read stops it, naming the file and
//! why. Each is held open for the server's life: replacing the file by a rename (as `tessera
//! export` does) leaves the server on the old one until it restarts; writing into the file in
//! place while it is served is not supported (the mapping would change under the reader).

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use pmtiles::{AsyncPmTilesReader, HashMapCache, MmapBackend};

use crate::archive::{ArchiveError, Content, MbtilesReader, Metadata};
use crate::config::ArchiveSource;
use crate::tile::{LonLatBBox, TileCoord};

/// Every archive the server was given, by name.
#[derive(Debug, Default, Clone)]
pub struct Archives(Vec<Arc<Served>>);

impl Archives {
    /// Opens every archive; the first that cannot be read is the error.
    pub async fn open(sources: &[ArchiveSource]) -> Result<Self, ArchiveError> {
        let mut out = Vec::with_capacity(sources.len());
        for s in sources {
            out.push(Arc::new(Served::open(s).await?));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self(out))
    }

    /// The archive of this name.
    pub fn get(&self, name: &str) -> Option<&Arc<Served>> {
        self.0.iter().find(|a| a.name == name)
    }

    /// Every archive, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Served>> {
        self.0.iter()
    }
}

/// One archive being served.
pub struct Served {
    /// Its name in URLs.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What it says of itself.
    pub meta: Metadata,
    source: Source,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served").field("name", &self.name).field("path", &self.path).finish_non_exhaustive()
    }
}

enum Source {
    Pmtiles { reader: Box<AsyncPmTilesReader<MmapBackend, HashMapCache>>, file: ArchiveFile },
    Mbtiles(Arc<MbtilesReader>),
}

impl Served {
    async fn open(source: &ArchiveSource) -> Result<Self, ArchiveError> {
        let path = source.path.clone();
        let src = match crate::archive::ArchiveKind::of(&path) {
            Some(crate::archive::ArchiveKind::Mbtiles) => {
                let p = path.clone();
                let reader = tokio::task::spawn_blocking(move || MbtilesReader::open(&p))
                    .await
                    .map_err(|e| ArchiveError::Format { path: path.clone(), reason: e.to_string() })??;
                Source::Mbtiles(Arc::new(reader))
            }
            _ => {
                // The file is opened first: the reader maps it, and the handle kept for ranges
                // is the same file whatever happens to the path afterwards.
                let file = ArchiveFile::open(&path)?;
                let failed = |source| ArchiveError::Pmtiles { path: path.clone(), source };
                let reader =
                    AsyncPmTilesReader::new_with_cached_path(HashMapCache::default(), &path).await.map_err(failed)?;
                Source::Pmtiles { reader: Box::new(reader), file }
            }
        };
        let meta = match &src {
            Source::Mbtiles(r) => r.meta.clone(),
            Source::Pmtiles { reader, .. } => pmtiles_meta(reader, &path).await?,
        };
        Ok(Self { name: source.name.clone(), path, meta, source: src })
    }

    /// The tile's bytes (vector tiles decompressed); `None` when the archive does not hold it.
    pub async fn tile(&self, tile: TileCoord) -> Result<Option<Bytes>, ArchiveError> {
        match &self.source {
            Source::Pmtiles { reader, .. } => {
                let coord = pmtiles::TileCoord::new(tile.z(), tile.x(), tile.y())
                    .map_err(|source| ArchiveError::Pmtiles { path: self.path.clone(), source })?;
                reader
                    .get_tile_decompressed(coord)
                    .await
                    .map_err(|source| ArchiveError::Pmtiles { path: self.path.clone(), source })
            }
            Source::Mbtiles(reader) => {
                let reader = Arc::clone(reader);
                let path = self.path.clone();
                tokio::task::spawn_blocking(move || reader.tile(tile))
                    .await
                    .map_err(|e| ArchiveError::Format { path, reason: e.to_string() })?
                    .map(|t| t.map(Bytes::from))
            }
        }
    }

    /// The file, for archives that are served whole (PMTiles).
    pub fn file(&self) -> Option<&ArchiveFile> {
        match &self.source {
            Source::Pmtiles { file, .. } => Some(file),
            Source::Mbtiles(_) => None,
        }
    }
}

/// The header and metadata of a PMTiles archive as [`Metadata`].
async fn pmtiles_meta(
    reader: &AsyncPmTilesReader<MmapBackend, HashMapCache>,
    path: &std::path::Path,
) -> Result<Metadata, ArchiveError> {
    let h = reader.get_header();
    let content = match h.tile_type {
        pmtiles::TileType::Png => Content::Png,
        pmtiles::TileType::Webp => Content::Webp,
        pmtiles::TileType::Jpeg => Content::Jpeg,
        pmtiles::TileType::Mvt => Content::Mvt,
        other => {
            return Err(ArchiveError::Format {
                path: path.to_owned(),
                reason: format!("tiles of type {other:?} are not served (PNG, WebP, JPEG or MVT)"),
            });
        }
    };
    let text = reader.get_metadata().await.map_err(|source| ArchiveError::Pmtiles { path: path.to_owned(), source })?;
    let mut meta = Metadata {
        name: String::new(),
        description: String::new(),
        attribution: String::new(),
        content,
        minzoom: h.min_zoom,
        maxzoom: h.max_zoom,
        bounds: LonLatBBox {
            west: h.min_longitude,
            south: h.min_latitude,
            east: h.max_longitude,
            north: h.max_latitude,
        },
        center: (h.center_longitude, h.center_latitude, h.center_zoom),
        vector_layers: None,
        overlay: false,
        made_with: serde_json::Value::Null,
    };
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) {
        meta.read_json(&doc);
    }
    Ok(meta)
}

/// An archive's file, held open, read in byte ranges.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    file: Arc<std::fs::File>,
    /// Its length, bytes.
    pub len: u64,
    /// A strong ETag: its length and modification time (the file is not changed while served).
    pub etag: String,
}

/// Bytes read at once when streaming a range.
const CHUNK: u64 = 256 * 1024;

impl ArchiveFile {
    fn open(path: &std::path::Path) -> Result<Self, ArchiveError> {
        let io = |source| ArchiveError::Io { path: path.to_owned(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let m = file.metadata().map_err(io)?;
        let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
        let etag = format!("\"{:x}-{:x}\"", m.len(), modified.as_nanos());
        Ok(Self { file: Arc::new(file), len: m.len(), etag })
    }

    /// The bytes of `range` (inclusive, within the file), read off the async executor in
    /// chunks as the client takes them.
    pub fn stream(&self, range: RangeInclusive<u64>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        let file = Arc::clone(&self.file);
        let end = range.end().saturating_add(1).min(self.len);
        futures_util::stream::try_unfold(*range.start(), move |at| {
            let file = Arc::clone(&file);
            async move {
                if at >= end {
                    return Ok(None);
                }
                let n = (end - at).min(CHUNK);
                let chunk = tokio::task::spawn_blocking(move || read_at(&file, at, n))
                    .await
                    .map_err(std::io::Error::other)??;
                Ok(Some((Bytes::from(chunk), at + n)))
            }
        })
    }
}

/// `n` bytes at `offset` of an open file, without moving a shared cursor.
fn read_at(file: &std::fs::File, offset: u64, n: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(n).map_err(std::io::Error::other)?];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(file, &mut buf, offset)?;
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let got = std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64)?;
            if got == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += got;
        }
    }
    Ok(buf)
}
