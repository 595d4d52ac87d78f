//! The tile cache: encoded tiles in memory, bounded in bytes, and invalidation that drops only
//! the tiles an event write touches.
//!
//! Keys ([`TileKey`]) carry everything that changes a tile: z/x/y and a typed [`TileSpec`] (its
//! kind, scale, format, layers, language and events), and, for tiles that show events, the
//! *version of their area*. A write bumps the version of
//! every area it touches, at every zoom; a later lookup then asks for the new version and
//! cannot meet a tile drawn before the write, even one whose rendering was still running when
//! the write landed. Stale entries are also dropped from memory at once.
//!
//! Areas are tiles at zoom 0 to [`VERSION_ZOOM`]; deeper tiles share the version of their
//! ancestor at that zoom, so that the version table stays small (a few dozen entries per written
//! event) while a write still only touches the tiles within some kilometres of it.

mod key;

pub use key::{EventSelection, LayerIds, TileKey, TileSpec};

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::events::CELL_PX;
use crate::layer::Changes;
use crate::metrics::{Eviction, Metrics};
use crate::tile::{LonLat, MAX_ZOOM, TileCoord, TileRange, WorldPoint, WorldRect};

/// Deepest zoom whose tiles have versions of their own.
pub const VERSION_ZOOM: u8 = 12;

/// An encoded tile with its strong ETag.
#[derive(Debug, Clone)]
pub struct CachedTile {
    /// The body (empty for an empty vector tile).
    pub body: Bytes,
    /// Strong ETag, quoted.
    pub etag: Arc<str>,
}

impl CachedTile {
    /// Wraps a body, computing its ETag from the bytes. The body's spare capacity is given
    /// back first: encoders reserve ahead (16 KiB for a PNG that may take 2), and the cache
    /// weighs a tile by its length, so spare capacity would be memory it does not count.
    pub fn new(mut body: Vec<u8>) -> Self {
        body.shrink_to_fit();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut h);
        let etag = format!("\"{:016x}-{:x}\"", h.finish(), body.len());
        Self { body: Bytes::from(body), etag: etag.into() }
    }
}

/// The cache of encoded tiles and the versions of areas.
#[derive(Debug)]
pub struct TileCache {
    tiles: Option<moka::future::Cache<TileKey, CachedTile>>,
    versions: RwLock<HashMap<TileCoord, u64>>,
    /// Added to every area's version: moved when the events may have changed anywhere.
    epoch: std::sync::atomic::AtomicU64,
    max_bytes: u64,
}

impl TileCache {
    /// A cache holding at most `max_bytes` of tiles; 0 turns caching off (versions are still
    /// kept, so that nothing changes but speed).
    pub fn new(max_bytes: u64) -> Self {
        Self::build(max_bytes, None)
    }

    /// Like [`TileCache::new`], counting in `metrics` each tile it lets go, by cause.
    pub fn with_metrics(max_bytes: u64, metrics: Arc<Metrics>) -> Self {
        Self::build(max_bytes, Some(metrics))
    }

    fn build(max_bytes: u64, metrics: Option<Arc<Metrics>>) -> Self {
        let tiles = (max_bytes > 0).then(|| {
            let builder = moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &TileKey, v: &CachedTile| {
                    u32::try_from(v.body.len() + v.etag.len() + k.weight()).unwrap_or(u32::MAX)
                })
                .support_invalidation_closures();
            match metrics {
                Some(m) => builder
                    .eviction_listener(move |_k, _v, cause| {
                        use moka::notification::RemovalCause;
                        m.evicted(match cause {
                            RemovalCause::Size | RemovalCause::Expired => Eviction::Size,
                            RemovalCause::Explicit => Eviction::Invalidated,
                            RemovalCause::Replaced => Eviction::Replaced,
                        });
                    })
                    .build(),
                None => builder.build(),
            }
        });
        Self { tiles, versions: RwLock::new(HashMap::new()), epoch: Default::default(), max_bytes }
    }

    /// The budget in bytes (0: caching is off).
    pub fn capacity(&self) -> u64 {
        self.max_bytes
    }

    /// Whether tiles are kept at all.
    pub fn enabled(&self) -> bool {
        self.tiles.is_some()
    }

    /// The current version of the area a tile belongs to.
    pub fn version(&self, tile: TileCoord) -> u64 {
        let area = version_tile(tile);
        let own = self.versions.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&area).copied();
        own.unwrap_or(0) + self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The cached tile for `key`, or the one `make` produces; concurrent calls for the same key
    /// share one `make`. Errors are not cached.
    pub async fn get_or_make<E, F>(&self, key: TileKey, make: F) -> Result<CachedTile, Arc<E>>
    where
        E: Send + Sync + 'static,
        F: std::future::Future<Output = Result<CachedTile, E>>,
    {
        match &self.tiles {
            Some(c) => c.try_get_with(key, make).await,
            None => make.await.map_err(Arc::new),
        }
    }

    /// The cached tile for `key`, when it is held now; nothing is made, and a tile being made
    /// for another request is not waited for.
    pub async fn get(&self, key: &TileKey) -> Option<CachedTile> {
        self.tiles.as_ref()?.get(key).await
    }

    /// Records that events at these positions changed: bumps the version of every area whose
    /// tiles show them, at every zoom, and drops those tiles from memory.
    pub fn touch(&self, positions: &[LonLat], margin_px: f64) {
        if positions.is_empty() {
            return;
        }
        let areas = affected_areas(positions, margin_px);
        {
            let mut v = self.versions.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for a in &areas {
                *v.entry(*a).or_insert(0) += 1;
            }
        }
        if let Some(c) = &self.tiles {
            let areas = Arc::new(areas);
            // Registered closures only ever see entries inserted before them: exactly the
            // ones that may be stale. The versioned keys already keep them from being served.
            let _ = c.invalidate_entries_if(move |k, _| k.shows_events() && areas.contains(&version_tile(k.tile)));
        }
    }

    /// Records that events may have changed anywhere: every tile showing events gets a new
    /// version, and those held are dropped.
    pub fn touch_everywhere(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Some(c) = &self.tiles {
            let _ = c.invalidate_entries_if(|k, _| k.shows_events());
        }
    }

    /// Drops the tiles a reload of the geodata changed (see [`TileSpec::changed_by`]) from
    /// memory. Their keys are already out of use, since the changed layers have new revisions.
    pub fn drop_changed(&self, changes: &Changes) {
        if changes.is_empty() {
            return;
        }
        if let Some(c) = &self.tiles {
            let changes = Arc::new(changes.clone());
            let _ = c.invalidate_entries_if(move |k, _| k.spec.changed_by(&changes));
        }
    }

    /// Number of tiles held (approximate, for metrics and tests).
    pub fn len(&self) -> u64 {
        self.tiles.as_ref().map_or(0, |c| c.entry_count())
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held, as the budget counts them (bodies, ETags and keys; approximate until
    /// [`Self::sync`]), for metrics and tests.
    pub fn bytes(&self) -> u64 {
        self.tiles.as_ref().map_or(0, |c| c.weighted_size())
    }

    /// Runs pending evictions and invalidations now (tests, metrics).
    pub async fn sync(&self) {
        if let Some(c) = &self.tiles {
            c.run_pending_tasks().await;
        }
    }

    /// Whether a key is cached right now (tests).
    pub fn contains(&self, key: &TileKey) -> bool {
        self.tiles.as_ref().is_some_and(|c| c.contains_key(key))
    }
}

/// The tile whose version a tile uses: itself up to [`VERSION_ZOOM`], else its ancestor there.
pub fn version_tile(tile: TileCoord) -> TileCoord {
    let mut t = tile;
    while t.z() > VERSION_ZOOM {
        match t.parent() {
            Some(p) => t = p,
            None => break,
        }
    }
    t
}

/// Every area (tile at zoom 0..=VERSION_ZOOM) whose tiles can show an event at one of these
/// positions: the tiles within `margin_px` of the event's cluster cell, at each zoom. Deeper
/// zooms need nothing more, since their cells and margins lie inside the ones at
/// [`VERSION_ZOOM`].
pub fn affected_areas(positions: &[LonLat], margin_px: f64) -> HashSet<TileCoord> {
    let mut out = HashSet::new();
    for p in positions {
        let w = p.to_world();
        for z in 0..=VERSION_ZOOM.min(MAX_ZOOM) {
            let px = f64::from(1u32 << z) * 256.0;
            let cells = px / CELL_PX;
            let (cx, cy) = ((w.x * cells).floor(), (w.y * cells).floor());
            let m = margin_px / px;
            let rect = WorldRect {
                min: WorldPoint::new(cx / cells - m, cy / cells - m),
                max: WorldPoint::new((cx + 1.0) / cells + m, (cy + 1.0) / cells + m),
            };
            out.extend(TileRange::covering_world(rect, z).iter());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_touches_few_areas_and_only_near_it() {
        let termanin = LonLat::new(36.817, 36.233);
        // The margin the server touches with: the overlay's reach, and a pixel.
        let areas = affected_areas(&[termanin], crate::render::OVERLAY_REACH_PX + 1.0);
        assert!(areas.len() <= 4 * (usize::from(VERSION_ZOOM) + 1), "{}", areas.len());
        let t12 = TileCoord::containing(termanin.to_world(), 12).unwrap();
        assert!(areas.contains(&t12));
        let far = TileCoord::containing(LonLat::new(2.35, 48.85).to_world(), 12).unwrap();
        assert!(!areas.contains(&far));
        // Deep tiles share their z12 ancestor's version.
        let t16 = TileCoord::containing(termanin.to_world(), 16).unwrap();
        assert_eq!(version_tile(t16), t12);
    }

    #[test]
    fn touch_bumps_versions_of_touched_areas_only() {
        let cache = TileCache::new(0);
        let termanin = LonLat::new(36.817, 36.233);
        let near = TileCoord::containing(termanin.to_world(), 14).unwrap();
        let far = TileCoord::containing(LonLat::new(2.35, 48.85).to_world(), 14).unwrap();
        cache.touch(&[termanin], crate::render::OVERLAY_REACH_PX + 1.0);
        assert_eq!(cache.version(near), 1);
        assert_eq!(cache.version(far), 0);
    }
}
