//! The tile service: every kind of tile the server answers with (base raster, event overlay, its
//! markers, vector, image overlay) made from its typed [`TileSpec`], through the cache (one
//! render for concurrent identical requests) and the bounded render pool.
//!
//! It also owns the link between event writes and cached tiles: it listens to the event store,
//! and drops the tiles within [`INVALIDATION_REACH_PX`] of every change. That reach is the one
//! number every tile that shows events is held to: each reads the events of the cells within
//! its own margin ([`event_margin_px`]) of the tile, and a test checks that no margin exceeds
//! the reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::geodata::LiveCatalog;
use super::maker::TileMaker;
use super::pool::{PoolError, RenderPool};
use crate::cache::{CachedTile, TileCache, TileKey, TileSpec, VERSION_ZOOM};
use crate::config::TileSettings;
use crate::events::{Change, EventStore};
use crate::glyphs::{FontStack, GlyphRange, stack_range};
use crate::layer::Catalog;
use crate::metrics::{Metrics, Shed};
use crate::mvt;
use crate::render::{EncodeError, OVERLAY_REACH_PX, View};
use crate::tile::{TileCoord, TileRange, WorldPoint, WorldRect};

/// How far (CSS px) beyond an event's cluster cell any tile can show it: the overlay's
/// markers reach farthest ([`OVERLAY_REACH_PX`]); vector tiles carry theirs within their
/// buffer, and marker lists only those inside the tile.
pub const EVENT_REACH_PX: f64 = OVERLAY_REACH_PX;

/// How far from a changed event's cell the tiles are dropped: the reach, and a pixel for the
/// rounding of positions to pixels.
pub const INVALIDATION_REACH_PX: f64 = EVENT_REACH_PX + 1.0;

/// How far (CSS px) beyond a tile a tile of this spec reads events; `None` for a tile that
/// shows none.
pub fn event_margin_px(spec: &TileSpec) -> Option<f64> {
    match spec {
        TileSpec::Overlay { .. } | TileSpec::Combined { .. } | TileSpec::Static { events: Some(_), .. } => {
            Some(OVERLAY_REACH_PX)
        }
        TileSpec::Vector { events: Some(_), .. } => Some(mvt_buffer_px()),
        TileSpec::Markers { .. } => Some(0.0),
        TileSpec::Vector { events: None, .. }
        | TileSpec::Static { events: None, .. }
        | TileSpec::Raster { .. }
        | TileSpec::Image { .. } => None,
    }
}

/// A vector tile's buffer in CSS px of a 256 px tile.
fn mvt_buffer_px() -> f64 {
    f64::from(mvt::BUFFER) / f64::from(mvt::EXTENT) * 256.0
}

/// Why a tile could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TileError {
    /// The render queue is full.
    #[error("the render queue is full")]
    Overloaded,
    /// No image overlay has this id.
    #[error("no image overlay '{0}'")]
    UnknownImage(String),
    /// Rendering or encoding failed; the text is for the log.
    #[error("{0}")]
    Failed(String),
}

impl From<PoolError> for TileError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Full => Self::Overloaded,
            PoolError::Failed(why) => Self::Failed(why),
        }
    }
}

/// Makes and caches tiles; cheap to clone.
#[derive(Debug, Clone)]
pub struct TileService(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    catalog: LiveCatalog,
    maker: Arc<TileMaker>,
    cache: Arc<TileCache>,
    pool: RenderPool,
    metrics: Arc<Metrics>,
}

/// A tile, and whether it came from the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The tile.
    pub tile: CachedTile,
    /// `true` when it was in the cache (or being made for another request), `false` when this
    /// request rendered it.
    pub hit: bool,
}

impl TileService {
    /// The service of the catalog `live` serves and these events, with the cache and pool of
    /// `settings`, counting in `metrics`. It listens to `events` from now on, dropping the
    /// cached tiles each change touches.
    pub fn new(
        live: LiveCatalog,
        events: Arc<dyn EventStore>,
        settings: &TileSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Self, EncodeError> {
        let maker = Arc::new(TileMaker::new(Arc::clone(&events), settings.jpeg_quality, live.current().background)?);
        let cache =
            Arc::new(TileCache::with_metrics(settings.cache_mb.saturating_mul(1024 * 1024), Arc::clone(&metrics)));
        // Every change of the events, this server's own writes (before they are acknowledged)
        // and any other's, drops the cached tiles it touches.
        let touched = Arc::clone(&cache);
        events.on_change(Box::new(move |change| match change {
            Change::At(positions) => touched.touch(positions, INVALIDATION_REACH_PX),
            Change::Everywhere => touched.touch_everywhere(),
        }));
        let pool = RenderPool::new(settings.render_workers, settings.render_queue);
        Ok(Self(Arc::new(Inner { catalog: live, maker, cache, pool, metrics })))
    }

    /// The tile `spec` of `tile`, drawn from the catalog served now: see [`Self::fetch`].
    pub async fn get(&self, tile: TileCoord, spec: TileSpec) -> Result<CachedTile, TileError> {
        self.fetch(&self.0.catalog.current(), tile, spec).await.map(|f| f.tile)
    }

    /// The tile `spec` of `tile`, drawn from `catalog` (the one the request read): from the
    /// cache, or made on the render pool (once for any number of identical concurrent
    /// requests) and kept.
    pub async fn fetch(&self, catalog: &Arc<Catalog>, tile: TileCoord, spec: TileSpec) -> Result<Fetched, TileError> {
        let key = self.key(catalog, tile, spec.clone());
        let inner = Arc::clone(&self.0);
        let catalog = Arc::clone(catalog);
        let made = AtomicBool::new(false);
        let make = async {
            made.store(true, Ordering::Relaxed);
            let job = Arc::clone(&inner);
            inner.pool.run(move || job.render(&catalog, tile, &spec)).await?.map(CachedTile::new)
        };
        let got = self.0.cache.get_or_make(key, make).await.map_err(Arc::unwrap_or_clone);
        match got {
            Ok(tile) => {
                let hit = !made.load(Ordering::Relaxed);
                self.0.metrics.cache_lookup(hit);
                Ok(Fetched { tile, hit })
            }
            Err(e) => {
                if matches!(e, TileError::Overloaded) {
                    self.0.metrics.shed(Shed::RenderQueue);
                }
                Err(e)
            }
        }
    }

    /// A static map image of `view` (`spec` is a [`TileSpec::Static`]) drawn from `catalog`:
    /// from the cache, or drawn on the render pool, as [`Self::fetch`].
    pub async fn fetch_static(
        &self,
        catalog: &Arc<Catalog>,
        view: &View,
        spec: TileSpec,
    ) -> Result<Fetched, TileError> {
        let tile = view.centre_tile().ok_or_else(|| TileError::Failed(format!("a view at zoom {}", view.z)))?;
        self.fetch(catalog, tile, spec).await
    }

    /// What draws the tiles: the events, the empty tiles.
    pub fn maker(&self) -> &Arc<TileMaker> {
        &self.0.maker
    }

    /// The tile `spec` of `tile` drawn from `catalog`, when the cache holds it now (under the key
    /// [`Self::fetch`] uses): never rendered, never waited for, and not counted, so that a
    /// caller that cannot use it can still [`Self::fetch`] it and be counted once.
    pub async fn cached(&self, catalog: &Catalog, tile: TileCoord, spec: TileSpec) -> Option<CachedTile> {
        self.0.cache.get(&self.key(catalog, tile, spec)).await
    }

    /// Counts a lookup answered from the cache by [`Self::cached`].
    pub fn count_hit(&self) {
        self.0.metrics.cache_lookup(true);
    }

    /// The cache key of a tile: what it shows, the version of its area when it shows events,
    /// and the revision of the data it draws.
    fn key(&self, catalog: &Catalog, tile: TileCoord, spec: TileSpec) -> TileKey {
        let version = match &spec {
            TileSpec::Static { view, events: Some(_), .. } => static_version(&self.0.cache, view),
            s if s.events().is_some() => self.0.cache.version(tile),
            _ => 0,
        };
        let data = data_revision(catalog, &spec);
        TileKey { tile, spec, version, data }
    }

    /// A glyph range of a font stack, made on the render pool (the fonts keep the ranges they
    /// have made).
    pub async fn glyphs(&self, stack: FontStack, range: GlyphRange) -> Result<Vec<u8>, TileError> {
        Ok(self.0.pool.run(move || stack_range(&stack, range)).await?)
    }

    /// The tile cache (tests and `/health` look into it).
    pub fn cache(&self) -> &TileCache {
        &self.0.cache
    }

    /// Render jobs running or waiting now.
    pub fn jobs(&self) -> usize {
        self.0.pool.load()
    }

    /// Render jobs run to the end since start-up.
    pub fn rendered(&self) -> u64 {
        self.0.pool.finished()
    }
}

/// The revision of the data a tile of `spec` draws (see [`TileKey::data`]).
fn data_revision(catalog: &Catalog, spec: &TileSpec) -> u64 {
    match spec {
        TileSpec::Raster { layers, .. } | TileSpec::Combined { layers, .. } | TileSpec::Static { layers, .. } => {
            catalog.revision_of(layers).max(catalog.background_revision())
        }
        TileSpec::Vector { layers, labels: true, .. } => catalog.label_revision_of(layers),
        TileSpec::Vector { layers, .. } => catalog.revision_of(layers),
        TileSpec::Image { id, .. } => catalog.image_revision(id),
        TileSpec::Overlay { .. } | TileSpec::Markers { .. } => 0,
    }
}

impl Inner {
    /// Draws and encodes a tile (on a render thread), counting it and its time.
    fn render(&self, catalog: &Catalog, tile: TileCoord, spec: &TileSpec) -> Result<Vec<u8>, TileError> {
        let started = Instant::now();
        let made = self.maker.make(catalog, tile, spec);
        match &made {
            Ok(_) => self.metrics.rendered(spec.kind(), tile.z(), started.elapsed()),
            Err(_) => self.metrics.render_failed(spec.kind()),
        }
        made
    }
}

/// The version of everything a static map with events shows: the sum of the versions of the
/// areas it covers. A write that changes what the image shows bumps the version of an area the
/// image covers (the areas a write touches are the tiles within the markers' reach), so the sum
/// moves and the image is drawn again.
fn static_version(cache: &TileCache, view: &View) -> u64 {
    let r = view.world_rect();
    let clamp = |p: WorldPoint| WorldPoint::new(p.x.clamp(0.0, 1.0), p.y.clamp(0.0, 1.0));
    let inside = WorldRect { min: clamp(r.min), max: clamp(r.max) };
    TileRange::covering_world(inside, view.z.min(VERSION_ZOOM))
        .iter()
        .map(|t| cache.version(t))
        .fold(0, u64::wrapping_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::EventSelection;
    use crate::events;
    use crate::render::{Scale, TileFormat};

    #[test]
    fn every_tile_that_shows_events_reads_them_within_the_invalidation_reach() {
        let events = EventSelection::default();
        let layers: crate::cache::LayerIds = Arc::from(Vec::<String>::new());
        let showing = [
            TileSpec::Overlay { scale: Scale::X2, format: TileFormat::Png, events: events.clone() },
            TileSpec::Markers { events: events.clone() },
            TileSpec::Combined {
                scale: Scale::X1,
                format: TileFormat::Png,
                layers: Arc::clone(&layers),
                lang: None,
                events: events.clone(),
            },
            TileSpec::Vector { layers: Arc::clone(&layers), labels: true, events: Some(events) },
        ];
        for spec in &showing {
            let margin = event_margin_px(spec).unwrap_or(f64::INFINITY);
            assert!(margin <= EVENT_REACH_PX, "{spec:?} reads events {margin} px out, beyond {EVENT_REACH_PX}");
        }
        assert_eq!(event_margin_px(&TileSpec::Vector { layers, labels: true, events: None }), None);
    }

    #[test]
    fn a_change_drops_every_tile_that_read_the_event() {
        // Seeded events around Idlib, and the tiles whose reads (their margin, snapped out to
        // whole cells) take each one in: every such tile's area is among the areas a change of
        // the event drops.
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let at = crate::tile::LonLat::new(rng.random_range(35.5..38.0), rng.random_range(34.5..37.0));
            let dropped = crate::cache::affected_areas(&[at], INVALIDATION_REACH_PX);
            let w = at.to_world();
            for z in [3u8, 7, 10, 12, 15] {
                let Ok(home) = TileCoord::containing(w, z) else { continue };
                let span = 1.0 / home.world_tiles();
                for (dx, dy) in (-1i32..=1).flat_map(|dx| (-1i32..=1).map(move |dy| (dx, dy))) {
                    let p = crate::tile::WorldPoint::new(w.x + f64::from(dx) * span, w.y + f64::from(dy) * span);
                    let Ok(tile) = TileCoord::containing(p, z) else { continue };
                    let reads = events::fetch_rect(tile, EVENT_REACH_PX);
                    if reads.contains(w) {
                        let area = crate::cache::version_tile(tile);
                        assert!(dropped.contains(&area), "{at:?}: {tile} reads it, its area {area} is kept");
                    }
                }
            }
        }
    }
}
