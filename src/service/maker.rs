//! Making the bytes of one tile (or static map) from its [`TileSpec`] and a catalog,
//! synchronously: the one place where tiles are drawn and encoded. The server calls it through
//! the cache and the bounded render pool (`tiles.rs`), with the catalog the request read (a
//! reload may swap it); `tessera export` calls it on every core with its one catalog
//! (`crate::export`), so an archived tile is the served tile, byte for byte.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::{Value, json};

use super::tiles::{TileError, event_margin_px};
use crate::cache::{EventSelection, TileSpec};
use crate::events::{self, CELL_PX, EventStore, Marker};
use crate::layer::{Catalog, Layer};
use crate::mvt;
use crate::render::label::world_px;
use crate::render::{
    EncodeError, OVERLAY_REACH_PX, Scale, SolidTiles, TileFormat, TileImage, View, draw_credit, draw_overlay, encode,
    marker_color, marker_lift_px, marker_reach_px, render_overlay, render_tile, render_view,
};
use crate::style::{Color, Lang};
use crate::tile::{TileCoord, WorldPoint, WorldRect};

/// Draws and encodes tiles of an event store and any catalog; cheap to share between threads.
#[derive(Debug)]
pub struct TileMaker {
    events: Arc<dyn EventStore>,
    /// The formats tiles are encoded in.
    formats: Vec<TileFormat>,
    /// The background alone, in every format at 1x and 2x, for the background it was made
    /// with (a reload may change it).
    empty: ArcSwap<Background>,
    /// A transparent tile, in every format with transparency.
    clear: SolidTiles,
}

/// The empty tiles of one background colour.
#[derive(Debug)]
struct Background {
    color: Option<Color>,
    tiles: SolidTiles,
}

impl TileMaker {
    /// A maker of tiles with these events, JPEG at `jpeg_quality`; the empty tiles of
    /// `background` are encoded now, once.
    pub fn new(events: Arc<dyn EventStore>, jpeg_quality: u8, background: Option<Color>) -> Result<Self, EncodeError> {
        let formats = TileFormat::all(jpeg_quality);
        let empty =
            ArcSwap::from_pointee(Background { color: background, tiles: SolidTiles::new(background, &formats)? });
        let transparent: Vec<TileFormat> = formats.iter().copied().filter(|f| f.allows_transparency()).collect();
        let clear = SolidTiles::new(None, &transparent)?;
        Ok(Self { events, formats: formats.to_vec(), empty, clear })
    }

    /// The event store read.
    pub fn events(&self) -> &Arc<dyn EventStore> {
        &self.events
    }

    /// The empty tiles of this background colour: those made before, or new ones after a
    /// reload changed it.
    fn empty(&self, color: Option<Color>) -> Result<Arc<Background>, TileError> {
        let held = self.empty.load_full();
        if held.color == color {
            return Ok(held);
        }
        let tiles =
            SolidTiles::new(color, &self.formats).map_err(|e| TileError::Failed(format!("empty tiles: {e}")))?;
        let made = Arc::new(Background { color, tiles });
        self.empty.store(Arc::clone(&made));
        Ok(made)
    }

    /// Draws and encodes the tile `spec` of `tile` from `catalog` (for a static map, `tile` is
    /// not used: its view says what it shows).
    pub fn make(&self, catalog: &Catalog, tile: TileCoord, spec: &TileSpec) -> Result<Vec<u8>, TileError> {
        let failed = |e: EncodeError| TileError::Failed(format!("{tile}: {e}"));
        let pick = |ids: &[String]| -> Vec<&Layer> { ids.iter().filter_map(|id| catalog.layer(id)).collect() };
        match spec {
            TileSpec::Raster { scale, format, layers, lang } => {
                match render_tile(catalog, &pick(layers), tile, *scale, *lang) {
                    TileImage::Empty => solid(&self.empty(catalog.background)?.tiles, *format, *scale),
                    TileImage::Drawn(p) => encode(p, *format).map_err(failed),
                }
            }
            TileSpec::Combined { scale, format, layers, lang, events } => {
                let empty =
                    || -> Result<Vec<u8>, TileError> { solid(&self.empty(catalog.background)?.tiles, *format, *scale) };
                let (mut pixmap, base) = match render_tile(catalog, &pick(layers), tile, *scale, *lang) {
                    TileImage::Drawn(p) => (p, true),
                    TileImage::Empty => match background(catalog, *scale) {
                        Some(p) => (p, false),
                        None => return empty(),
                    },
                };
                let k = tile.world_tiles() * f64::from(scale.pixels());
                let markers = self.markers(tile, spec, events);
                // Where neither the layers nor an event is drawn, the one pre-encoded empty
                // tile, as for a base tile: an archive stores it once.
                if !draw_overlay(&mut pixmap, &markers, tile.bounds().min, k, *scale) && !base {
                    return empty();
                }
                encode(pixmap, *format).map_err(failed)
            }
            TileSpec::Overlay { scale, format, events } => {
                match render_overlay(&self.markers(tile, spec, events), tile, *scale) {
                    TileImage::Empty => solid(&self.clear, *format, *scale),
                    TileImage::Drawn(p) => encode(p, *format).map_err(failed),
                }
            }
            TileSpec::Markers { events } => Ok(markers_json(&self.markers(tile, spec, events), tile)),
            TileSpec::Vector { layers: ids, labels, events } => {
                let layers = pick(ids);
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
                let image = catalog.image(id).ok_or_else(|| TileError::UnknownImage(id.to_string()))?;
                match crate::imagery::render_tile(image, tile, scale.pixels()) {
                    None => solid(&self.clear, *format, *scale),
                    Some(p) => encode(p, *format).map_err(failed),
                }
            }
            TileSpec::Static { view, scale, format, layers, lang, events } => {
                self.make_static(catalog, view, *scale, *format, &pick(layers), *lang, events.as_ref())
            }
        }
    }

    /// A static map: the view drawn with its names placed once, the events over it, the
    /// credit of the layers drawn in its corner.
    #[allow(clippy::too_many_arguments, reason = "the fields of a TileSpec::Static, and the catalog")]
    fn make_static(
        &self,
        catalog: &Catalog,
        view: &View,
        scale: Scale,
        format: TileFormat,
        layers: &[&Layer],
        lang: Option<Lang>,
        events: Option<&EventSelection>,
    ) -> Result<Vec<u8>, TileError> {
        let mut pixmap = render_view(catalog, layers, view, scale, lang)
            .ok_or_else(|| TileError::Failed(format!("a static map of {} x {} px", view.width, view.height)))?;
        if let Some(selection) = events {
            let found =
                self.events.select(&fetch_area(view.world_rect(), view.z, OVERLAY_REACH_PX), &selection.filter());
            let markers = events::cluster(&found, view.z);
            let k = world_px(view.z) * f64::from(scale.factor());
            draw_overlay(&mut pixmap, &markers, view.world_rect().min, k, scale);
        }
        draw_credit(&mut pixmap, &catalog.attribution(layers.iter().copied()), scale);
        encode(pixmap, format).map_err(|e| TileError::Failed(format!("static map: {e}")))
    }

    /// The clustered markers of the events a tile of `spec` shows, read within its margin.
    fn markers(&self, tile: TileCoord, spec: &TileSpec, selection: &EventSelection) -> Vec<Marker> {
        let margin = event_margin_px(spec).unwrap_or(0.0);
        let found = self.events.select(&events::fetch_rect(tile, margin), &selection.filter());
        events::cluster(&found, tile.z())
    }
}

/// A tile of the catalog's background alone, to draw events on.
fn background(catalog: &Catalog, scale: Scale) -> Option<tiny_skia::Pixmap> {
    let mut p = tiny_skia::Pixmap::new(scale.pixels(), scale.pixels())?;
    if let Some(bg) = catalog.background {
        p.fill(tiny_skia::Color::from_rgba8(bg.r, bg.g, bg.b, bg.a));
    }
    Some(p)
}

/// The unit-square rectangle to read events from so that every cluster cell reaching within
/// `margin_px` of `rect` (at zoom `z`) is complete: [`events::fetch_rect`] for any rectangle.
fn fetch_area(rect: WorldRect, z: u8, margin_px: f64) -> WorldRect {
    let world = world_px(z);
    let cells = world / CELL_PX;
    let b = rect.expand(margin_px / world);
    let snap_lo = |v: f64| (v * cells).floor() / cells;
    let snap_hi = |v: f64| ((v * cells).floor() + 1.0) / cells;
    WorldRect {
        min: WorldPoint::new(snap_lo(b.min.x), snap_lo(b.min.y)),
        max: WorldPoint::new(snap_hi(b.max.x), snap_hi(b.max.y)),
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
