//! `tessera export`: every tile of an area and a range of zooms, rendered on every core and
//! written to a PMTiles or MBTiles archive, for a CDN, object storage or a team offline.
//!
//! Tiles are made by the server's own [`TileMaker`], so an archived tile is byte for byte the
//! tile the server answers with the same parameters. They are listed in the archive's write
//! order (see [`archive::write_order`]) and rendered in batches on rayon's pool (one thread per
//! core), each batch in parallel and handed in order to one writer thread, which stores it while
//! the next batch renders. Each tile's content key is computed on the rendering threads; the
//! archive stores each distinct content once.
//!
//! The archive is written under a temporary name (`OUT.partial`, beside it) and renamed into
//! place only when complete and on disk, so no file named like the archive is ever incomplete:
//! interrupted (Ctrl-C, SIGTERM), the export stops after the batch it is rendering, removes the
//! partial file and says so; killed outright, it leaves the `.partial` file, which no reader
//! takes for an archive. An existing archive of that name is replaced only at the rename.

mod command;
mod progress;

pub use command::{ExportArgs, export};
pub use progress::Progress;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;

use crate::archive::{self, ArchiveError, ArchiveKind, ContentKey, Metadata};
use crate::cache::TileSpec;
use crate::layer::Catalog;
use crate::service::{TileError, TileMaker};
use crate::tile::{LonLatBBox, TileCoord, TileRange};

/// What to export.
#[derive(Debug, Clone)]
pub struct Job {
    /// The archive to write; its extension says the format.
    pub out: PathBuf,
    /// The format.
    pub kind: ArchiveKind,
    /// The area, degrees: one box, or two for a box across the antimeridian.
    pub areas: Vec<LonLatBBox>,
    /// Lowest and highest zoom, inclusive.
    pub zooms: (u8, u8),
    /// What every tile shows and how it is encoded.
    pub spec: TileSpec,
    /// What the archive says of itself.
    pub meta: Metadata,
}

/// What an export did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Tiles rendered.
    pub tiles: u64,
    /// Tiles stored: those with any bytes (an empty vector tile is not stored).
    pub stored: u64,
    /// Distinct contents stored.
    pub distinct: u64,
    /// Size of the archive, bytes.
    pub bytes: u64,
    /// Wall-clock time, seconds.
    pub seconds: f64,
}

/// Why an export did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the archive failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A tile could not be made.
    #[error("tile {tile}: {source}")]
    Tile {
        /// The tile.
        tile: TileCoord,
        /// Why.
        source: TileError,
    },
    /// Ctrl-C or SIGTERM: the export stopped and its partial file was removed.
    #[error("interrupted after {done} of {total} tiles; nothing was written (the partial file was removed)")]
    Interrupted {
        /// Tiles rendered when it stopped.
        done: u64,
        /// Tiles it had to render.
        total: u64,
    },
    /// The writer thread failed.
    #[error("the archive writer stopped: {0}")]
    Writer(String),
}

/// Every tile of the areas at the zooms, each once, in the archive's write order.
pub fn tiles(areas: &[LonLatBBox], zooms: (u8, u8)) -> Vec<TileCoord> {
    let mut out: Vec<TileCoord> = (zooms.0..=zooms.1)
        .flat_map(|z| areas.iter().flat_map(move |a| TileRange::covering(*a, z).iter().collect::<Vec<_>>()))
        .collect();
    out.sort_by_key(|t| archive::write_order(*t));
    out.dedup();
    out
}

/// The file an archive is written to until it is complete: `OUT.partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// One rendered tile on its way to the writer.
type Rendered = (TileCoord, Vec<u8>, ContentKey);

/// Runs the export of `tiles` (from [`tiles`]): renders on every core with `maker`, writes the
/// archive, reports each finished batch to `progress`, and stops when `stop` is set.
pub fn run(
    job: &Job,
    tiles: &[TileCoord],
    maker: &TileMaker,
    catalog: &Catalog,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<Report, ExportError> {
    let started = Instant::now();
    let partial = partial_path(&job.out);
    let outcome = write(job, tiles, maker, catalog, stop, progress, &partial);
    let (stored, distinct) = match outcome {
        Ok(counts) => counts,
        Err(e) => {
            // Nothing incomplete stays behind under any name.
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ExportError::Archive(ArchiveError::Io { path, source })
    };
    // On disk before it takes the archive's name, so that a crash never leaves a short file
    // under it.
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(io(&partial))?;
    std::fs::rename(&partial, &job.out).map_err(io(&job.out))?;
    let bytes = std::fs::metadata(&job.out).map_err(io(&job.out))?.len();
    Ok(Report { tiles: tiles.len() as u64, stored, distinct, bytes, seconds: started.elapsed().as_secs_f64() })
}

/// Renders and stores every tile into `partial`; the tiles stored and the distinct contents.
fn write(
    job: &Job,
    tiles: &[TileCoord],
    maker: &TileMaker,
    catalog: &Catalog,
    stop: &AtomicBool,
    progress: &Progress,
    partial: &Path,
) -> Result<(u64, u64), ExportError> {
    let mut sink = archive::create(job.kind, partial, &job.meta)?;
    let total = tiles.len() as u64;
    // Two batches may wait for the writer: enough to keep it busy, and a bound on memory.
    let (tx, rx) = sync_channel::<Vec<Rendered>>(2);
    let writer = std::thread::spawn(move || -> Result<(u64, u64), ArchiveError> {
        let (mut stored, mut seen) = (0u64, std::collections::HashSet::new());
        for batch in rx {
            for (tile, data, key) in batch {
                if !data.is_empty() {
                    stored += 1;
                    seen.insert(key);
                }
                sink.add(tile, &data, key)?;
            }
        }
        sink.finish()?;
        Ok((stored, seen.len() as u64))
    });
    let batch = (32 * rayon::current_num_threads()).max(64);
    let mut done = 0u64;
    let mut failure = None;
    for chunk in tiles.chunks(batch) {
        if stop.load(Ordering::SeqCst) {
            failure = Some(ExportError::Interrupted { done, total });
            break;
        }
        let rendered: Result<Vec<Rendered>, ExportError> = chunk
            .par_iter()
            .map(|&tile| {
                if stop.load(Ordering::SeqCst) {
                    return Err(ExportError::Interrupted { done, total });
                }
                let data = maker.make(catalog, tile, &job.spec).map_err(|source| ExportError::Tile { tile, source })?;
                let key = archive::content_key(&data);
                Ok((tile, data, key))
            })
            .collect();
        match rendered {
            Ok(batch) => {
                if tx.send(batch).is_err() {
                    // The writer stopped on an error, which joining it gives.
                    break;
                }
                done += chunk.len() as u64;
                progress.set(done);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let written = writer.join().map_err(|_| ExportError::Writer("its thread panicked".into()))?;
    match failure {
        Some(e) => Err(e),
        None => Ok(written?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_of_the_area_is_listed_once_in_write_order() {
        let idlib = LonLatBBox { west: 36.0, south: 35.5, east: 37.0, north: 36.5 };
        let list = tiles(&[idlib], (0, 10));
        let expected: u64 = (0..=10).map(|z| TileRange::covering(idlib, z).count()).sum();
        assert_eq!(list.len() as u64, expected);
        assert!(list.windows(2).all(|w| archive::write_order(w[0]) < archive::write_order(w[1])));
        // Across the antimeridian: the two halves, and zoom 0's one tile once.
        let pacific = LonLatBBox::crossing(170.0, -10.0, -170.0, 10.0);
        let list = tiles(&pacific, (0, 3));
        assert_eq!(list.iter().filter(|t| t.z() == 0).count(), 1);
        assert!(list.iter().any(|t| t.z() == 3 && t.x() == 0) && list.iter().any(|t| t.z() == 3 && t.x() == 7));
    }

    #[test]
    fn the_partial_file_is_beside_the_archive() {
        assert_eq!(partial_path(Path::new("out/idlib.pmtiles")), Path::new("out/idlib.pmtiles.partial"));
    }
}
