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

use serde_json::{Value, json};

use super::pool::{PoolError, RenderPool};
use crate::cache::{CachedTile, EventSelection, TileCache, TileKey, TileSpec};
use crate::config::TileSettings;
use crate::events::{self, Change, EventStore, Marker};
use crate::glyphs::{FontStack, GlyphRange, stack_range};
use crate::layer::{Catalog, Layer};
use crate::mvt;
use crate::render::{
    EncodeError, OVERLAY_REACH_PX, Scale, SolidTiles, TileFormat, TileImage, encode, marker_color, marker_lift_px,
    marker_reach_px, render_overlay, render_tile,
};
use crate::style::Color;
use crate::tile::TileCoord;

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
        TileSpec::Overlay { .. } => Some(OVERLAY_REACH_PX),
        TileSpec::Vector { events: Some(_), .. } => Some(mvt_buffer_px()),
        TileSpec::Markers { .. } => Some(0.0),
        TileSpec::Vector { events: None, .. } | TileSpec::Raster { .. } | TileSpec::Image { .. } => None,
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
    catalog: Arc<Catalog>,
    events: Arc<dyn EventStore>,
    cache: Arc<TileCache>,
    pool: RenderPool,
    /// The background alone, in every format at 1x and 2x.
    empty: SolidTiles,
    /// A transparent tile, in every format with transparency.
    clear: SolidTiles,
}

impl TileService {
    /// The service of these layers and events, with the cache and pool of `settings`. It
    /// listens to `events` from now on, dropping the cached tiles each change touches.
    pub fn new(
        catalog: Arc<Catalog>,
        events: Arc<dyn EventStore>,
        settings: &TileSettings,
    ) -> Result<Self, EncodeError> {
        let formats = TileFormat::all(settings.jpeg_quality);
        let empty = SolidTiles::new(catalog.background, &formats)?;
        let transparent: Vec<TileFormat> = formats.into_iter().filter(|f| f.allows_transparency()).collect();
        let clear = SolidTiles::new(None, &transparent)?;
        let cache = Arc::new(TileCache::new(settings.cache_mb.saturating_mul(1024 * 1024)));
        // Every change of the events, this server's own writes (before they are acknowledged)
        // and any other's, drops the cached tiles it touches.
        let touched = Arc::clone(&cache);
        events.on_change(Box::new(move |change| match change {
            Change::At(positions) => touched.touch(positions, INVALIDATION_REACH_PX),
            Change::Everywhere => touched.touch_everywhere(),
        }));
        let pool = RenderPool::new(settings.render_workers, settings.render_queue);
        Ok(Self(Arc::new(Inner { catalog, events, cache, pool, empty, clear })))
    }

    /// The tile `spec` of `tile`: from the cache, or made on the render pool (once for any
    /// number of identical concurrent requests) and kept.
    pub async fn get(&self, tile: TileCoord, spec: TileSpec) -> Result<CachedTile, TileError> {
        let version = if spec.events().is_some() { self.0.cache.version(tile) } else { 0 };
        let key = TileKey { tile, spec: spec.clone(), version };
        let inner = Arc::clone(&self.0);
        let make = async move {
            let job = Arc::clone(&inner);
            inner.pool.run(move || job.render(tile, &spec)).await?.map(CachedTile::new)
        };
        self.0.cache.get_or_make(key, make).await.map_err(Arc::unwrap_or_clone)
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

impl Inner {
    /// Draws and encodes a tile (on a render thread).
    fn render(&self, tile: TileCoord, spec: &TileSpec) -> Result<Vec<u8>, TileError> {
        let failed = |e: EncodeError| TileError::Failed(format!("{tile}: {e}"));
        match spec {
            TileSpec::Raster { scale, format, layers, lang } => {
                let layers: Vec<&Layer> = layers.iter().filter_map(|id| self.catalog.layer(id)).collect();
                match render_tile(&self.catalog, &layers, tile, *scale, *lang) {
                    TileImage::Empty => solid(&self.empty, *format, *scale),
                    TileImage::Drawn(p) => encode(p, *format).map_err(failed),
                }
            }
            TileSpec::Overlay { scale, format, events } => {
                match render_overlay(&self.markers(tile, spec, events), tile, *scale) {
                    TileImage::Empty => solid(&self.clear, *format, *scale),
                    TileImage::Drawn(p) => encode(p, *format).map_err(failed),
                }
            }
            TileSpec::Markers { events } => Ok(markers_json(&self.markers(tile, spec, events), tile)),
            TileSpec::Vector { layers, labels, events } => {
                let layers: Vec<&Layer> = layers.iter().filter_map(|id| self.catalog.layer(id)).collect();
                let mut out = mvt::data_layers(&layers, tile);
                if *labels {
                    out.extend(mvt::labels_layer(&layers, tile, &crate::render::label::label_width));
                }
                if let Some(selection) = events {
                    out.extend(mvt::events_layer(&self.markers(tile, spec, selection), tile));
                }
                Ok(mvt::encode(out))
            }
            TileSpec::Image { id, scale, format } => {
                let image = self.catalog.image(id).ok_or_else(|| TileError::UnknownImage(id.to_string()))?;
                match crate::imagery::render_tile(image, tile, scale.pixels()) {
                    None => solid(&self.clear, *format, *scale),
                    Some(p) => encode(p, *format).map_err(failed),
                }
            }
        }
    }

    /// The clustered markers of the events a tile of `spec` shows, read within its margin.
    fn markers(&self, tile: TileCoord, spec: &TileSpec, selection: &EventSelection) -> Vec<Marker> {
        let margin = event_margin_px(spec).unwrap_or(0.0);
        let found = self.events.select(&events::fetch_rect(tile, margin), &selection.filter());
        events::cluster(&found, tile.z())
    }
}

/// The pre-encoded tile of one colour.
fn solid(tiles: &SolidTiles, format: TileFormat, scale: Scale) -> Result<Vec<u8>, TileError> {
    tiles
        .get(format, scale)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| TileError::Failed(format!("no empty tile was encoded in {}", format.key())))
}

/// The markers whose position lies in `tile`, as a GeoJSON FeatureCollection: each cluster,
/// event and region area the overlay draws, listed by the one tile that holds its position,
/// with its events' ids.
fn markers_json(markers: &[Marker], tile: TileCoord) -> Vec<u8> {
    let features: Vec<Value> = markers
        .iter()
        .filter(|m| TileCoord::containing(m.at(), tile.z()).is_ok_and(|t| t == tile))
        .map(marker_feature)
        .collect();
    json!({ "type": "FeatureCollection", "features": features }).to_string().into_bytes()
}

/// One marker: its position, what the overlay draws there, and its events' ids (sorted).
fn marker_feature(m: &Marker) -> Value {
    let p = m.at().to_lonlat();
    let (ids, kind, title, casualties, region) = match m {
        Marker::Single(e) | Marker::Region(e) => (
            vec![e.id.clone()],
            Some(e.input.kind.as_str()),
            Some(e.input.title.clone()),
            e.input.casualties(),
            matches!(m, Marker::Region(_)),
        ),
        Marker::Cluster { ids, casualties, region, .. } => (ids.clone(), None, None, *casualties, *region),
    };
    json!({
        "type": "Feature",
        "geometry": { "type": "Point", "coordinates": [p.lon, p.lat] },
        "properties": {
            "cluster": matches!(m, Marker::Cluster { .. }),
            "region": region,
            "count": m.count(),
            "casualties": casualties,
            "kind": kind,
            "title": title,
            "color": hex(marker_color(m)),
            "reach_px": marker_reach_px(m),
            "lift_px": marker_lift_px(m),
            "ids": ids,
        },
    })
}

/// `#rrggbbaa`.
fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_that_shows_events_reads_them_within_the_invalidation_reach() {
        let events = EventSelection::default();
        let layers: crate::cache::LayerIds = Arc::from(Vec::<String>::new());
        let showing = [
            TileSpec::Overlay { scale: Scale::X2, format: TileFormat::Png, events: events.clone() },
            TileSpec::Markers { events: events.clone() },
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
