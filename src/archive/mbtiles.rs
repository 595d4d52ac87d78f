//! MBTiles 1.3 through rusqlite: written in the deduplicating layout (a `map` of tiles to
//! content ids, the contents once each in `images`, and the `tiles` view that readers query),
//! rows `y` counted from the south as the format has it (TMS), vector tiles gzip-compressed as it
//! asks. Read back by the server with read-only connections.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{ArchiveError, Content, ContentKey, Metadata, Sink};
use crate::tile::{LonLatBBox, TileCoord};

const SCHEMA: &str = "
    CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
    CREATE UNIQUE INDEX metadata_name ON metadata (name);
    CREATE TABLE images (tile_id TEXT NOT NULL, tile_data BLOB NOT NULL);
    CREATE UNIQUE INDEX images_id ON images (tile_id);
    CREATE TABLE map (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL,
                      tile_id TEXT NOT NULL);
    CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);
    CREATE VIEW tiles AS
        SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column, map.tile_row AS tile_row,
               images.tile_data AS tile_data
        FROM map JOIN images ON images.tile_id = map.tile_id;
";

/// An MBTiles file being written, in one transaction.
pub struct MbtilesSink {
    path: PathBuf,
    conn: Connection,
    gzip: bool,
    stored: HashSet<ContentKey>,
}

impl MbtilesSink {
    /// Creates the file (replacing any), its tables and its metadata.
    pub fn create(path: &Path, meta: &Metadata) -> Result<Self, ArchiveError> {
        let failed = |source| ArchiveError::Sqlite { path: path.to_owned(), source };
        if path.exists() {
            std::fs::remove_file(path).map_err(|source| ArchiveError::Io { path: path.to_owned(), source })?;
        }
        let conn = Connection::open(path).map_err(failed)?;
        // The file is renamed into place only when complete, so it needs no journal: a crash
        // leaves a partial file under the temporary name, never a damaged archive.
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;").map_err(failed)?;
        conn.execute_batch(SCHEMA).map_err(failed)?;
        conn.execute_batch("BEGIN").map_err(failed)?;
        let b = meta.bounds;
        let (lon, lat, zoom) = meta.center;
        let rows = [
            ("name", meta.name.clone()),
            ("description", meta.description.clone()),
            ("attribution", meta.attribution.clone()),
            ("format", meta.content.mbtiles_format().to_owned()),
            ("type", if meta.overlay { "overlay" } else { "baselayer" }.to_owned()),
            ("version", "1".to_owned()),
            ("minzoom", meta.minzoom.to_string()),
            ("maxzoom", meta.maxzoom.to_string()),
            ("bounds", format!("{},{},{},{}", b.west, b.south, b.east, b.north)),
            ("center", format!("{lon},{lat},{zoom}")),
            ("json", meta.to_json().to_string()),
        ];
        for (name, value) in rows {
            conn.execute("INSERT INTO metadata (name, value) VALUES (?1, ?2)", params![name, value]).map_err(failed)?;
        }
        Ok(Self { path: path.to_owned(), conn, gzip: meta.content == Content::Mvt, stored: HashSet::new() })
    }

    fn failed(&self, source: rusqlite::Error) -> ArchiveError {
        ArchiveError::Sqlite { path: self.path.clone(), source }
    }
}

/// A content key as the `tile_id` text of the `images` table.
fn hex(key: &ContentKey) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sink for MbtilesSink {
    fn add(&mut self, tile: TileCoord, data: &[u8], key: ContentKey) -> Result<(), ArchiveError> {
        if data.is_empty() {
            return Ok(());
        }
        let id = hex(&key);
        if self.stored.insert(key) {
            let blob = match self.gzip {
                true => gzip(data).map_err(|source| ArchiveError::Io { path: self.path.clone(), source })?,
                false => data.to_vec(),
            };
            self.conn
                .execute("INSERT INTO images (tile_id, tile_data) VALUES (?1, ?2)", params![id, blob])
                .map_err(|e| self.failed(e))?;
        }
        let row = (1u32 << tile.z()) - 1 - tile.y();
        self.conn
            .execute(
                "INSERT INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?1, ?2, ?3, ?4)",
                params![tile.z(), tile.x(), row, id],
            )
            .map_err(|e| self.failed(e))?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ArchiveError> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.failed(e))?;
        let Self { path, conn, .. } = *self;
        conn.close().map_err(|(_, source)| ArchiveError::Sqlite { path, source })
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 2), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// An MBTiles file open for reading: a few read-only connections, taken in turn, so that
/// concurrent requests seldom wait on one another.
#[derive(Debug)]
pub struct MbtilesReader {
    path: PathBuf,
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    /// What the file says of itself.
    pub meta: Metadata,
}

/// Connections per file.
const CONNECTIONS: usize = 4;

impl MbtilesReader {
    /// Opens the file read-only and reads its metadata; a file that is not MBTiles (no
    /// `metadata` table, no `tiles`, a `format` tessera does not serve) is refused, saying why.
    pub fn open(path: &Path) -> Result<Self, ArchiveError> {
        let failed = |source| ArchiveError::Sqlite { path: path.to_owned(), source };
        let bad = |reason: String| ArchiveError::Format { path: path.to_owned(), reason };
        if !path.is_file() {
            return Err(ArchiveError::Io { path: path.to_owned(), source: std::io::ErrorKind::NotFound.into() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conns = (0..CONNECTIONS)
            .map(|_| Connection::open_with_flags(path, flags).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        let rows: Vec<(String, String)> = {
            let conn = conns[0].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut stmt = conn
                .prepare("SELECT name, value FROM metadata")
                .map_err(|e| bad(format!("not an MBTiles file (no metadata table: {e})")))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())))
                .map_err(failed)?;
            rows.collect::<Result<_, _>>().map_err(failed)?
        };
        let get = |k: &str| rows.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let format = get("format").unwrap_or("png");
        let content = Content::from_mbtiles(format)
            .ok_or_else(|| bad(format!("tiles of format '{format}' are not served (png, webp, jpg or pbf)")))?;
        let zooms = {
            let conn = conns[0].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            conn.query_row("SELECT min(zoom_level), max(zoom_level) FROM tiles", [], |r| {
                Ok((r.get::<_, Option<u8>>(0)?, r.get::<_, Option<u8>>(1)?))
            })
            .map_err(|e| bad(format!("not an MBTiles file (no tiles: {e})")))?
        };
        let zoom = |k: &str, found: Option<u8>| get(k).and_then(|v| v.trim().parse().ok()).or(found).unwrap_or(0);
        let (minzoom, maxzoom) = (zoom("minzoom", zooms.0), zoom("maxzoom", zooms.1));
        let nums = |k: &str| -> Vec<f64> {
            get(k).map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect()).unwrap_or_default()
        };
        let bounds = match nums("bounds").as_slice() {
            [w, s, e, n] => LonLatBBox { west: *w, south: *s, east: *e, north: *n },
            _ => LonLatBBox { west: -180.0, south: -85.051_128_78, east: 180.0, north: 85.051_128_78 },
        };
        let center = match nums("center").as_slice() {
            [lon, lat, z] => (*lon, *lat, *z as u8),
            _ => ((bounds.west + bounds.east) / 2.0, (bounds.south + bounds.north) / 2.0, minzoom),
        };
        let mut meta = Metadata {
            name: String::new(),
            description: String::new(),
            attribution: String::new(),
            content,
            minzoom,
            maxzoom,
            bounds,
            center,
            vector_layers: None,
            overlay: false,
            made_with: serde_json::Value::Null,
        };
        // `json` holds the vector layers (and, from tessera, the rest); the plain rows win.
        if let Some(doc) = get("json").and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) {
            meta.read_json(&doc);
        }
        meta.name = get("name").map(str::to_owned).unwrap_or(meta.name);
        meta.description = get("description").map(str::to_owned).unwrap_or(meta.description);
        meta.attribution = get("attribution").map(str::to_owned).unwrap_or(meta.attribution);
        meta.overlay = get("type").map_or(meta.overlay, |t| t == "overlay");
        Ok(Self { path: path.to_owned(), conns, next: AtomicUsize::new(0), meta })
    }

    /// The tile's bytes (vector tiles decompressed); `None` when the file does not hold it.
    /// Blocking: a query of SQLite.
    pub fn tile(&self, tile: TileCoord) -> Result<Option<Vec<u8>>, ArchiveError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let conn = self.conns[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let row = (1u32 << tile.z()) - 1 - tile.y();
        let data: Option<Vec<u8>> = conn
            .query_row(
                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                params![tile.z(), tile.x(), row],
                |r| r.get(0),
            )
            .optional()
            .map_err(|source| ArchiveError::Sqlite { path: self.path.clone(), source })?;
        match data {
            Some(d) if self.meta.content == Content::Mvt && d.starts_with(&[0x1f, 0x8b]) => {
                let mut out = Vec::with_capacity(d.len() * 3);
                flate2::read::GzDecoder::new(d.as_slice())
                    .read_to_end(&mut out)
                    .map_err(|source| ArchiveError::Io { path: self.path.clone(), source })?;
                Ok(Some(out))
            }
            other => Ok(other),
        }
    }
}
