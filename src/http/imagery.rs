//! Georeferenced image overlays (see [`crate::imagery`]): the list of overlays (`/overlays`),
//! each image's TileJSON (`/overlays/{id}/tiles.json`) and its transparent tiles
//! (`/overlays/{id}/{z}/{x}/{y}.png`, `.webp`, and `@2x`). The event overlay keeps its own
//! route, `/overlays/events/...`, which the router matches before these; no image may be
//! called `events`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::cached::{fetched_response, json_with_etag};
use super::error::clip;
use super::extract::{Segment, TilePath};
use super::query::Query;
use super::tilejson::TileJson;
use super::{ApiError, AppState};
use crate::cache::TileSpec;
use crate::imagery::GeoImage;
use crate::render::TileFormat;
use crate::tile::{LonLatBBox, MAX_LATITUDE};

/// `GET /overlays/{id}/{z}/{x}/{y}.png` (and `@2x`, and `.webp`): the image reprojected onto the
/// tile, transparent beyond its bounds and zooms. Parameters are ignored.
pub async fn tile(State(state): State<AppState>, headers: HeaderMap, path: TilePath) -> Result<Response, ApiError> {
    let id = path.id.clone().unwrap_or_default();
    let catalog = state.catalog();
    if catalog.image(&id).is_none() {
        return Err(unknown(&id));
    }
    let (scale, format) =
        path.image(&["png", "webp"], "{y}.png or {y}.webp, each with @2x before the dot for 512 px")?;
    let spec = TileSpec::Image { id: Arc::from(id), scale, format };
    let tile = state.tiles.fetch(&catalog, path.tile, spec).await?;
    Ok(fetched_response(&headers, tile, format.content_type(), state.config.tiles.tile_max_age))
}

/// `GET /overlays/{id}/tiles.json`: TileJSON 3.0.0 of one image overlay; `?format=webp` lists
/// WebP tiles (`jpg` is refused: the tiles are transparent).
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    q: Query,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let image = catalog.image(&id).ok_or_else(|| unknown(&id))?;
    q.only(&["format"], "an overlay's tiles.json")?;
    let format = q.format(state.config.tiles.jpeg_quality)?;
    if !format.allows_transparency() {
        return Err(ApiError::param(
            "format",
            "overlay tiles are transparent and JPEG has no transparency: use png or webp",
        ));
    }
    let m = &image.meta;
    let max_zoom = state.config.tiles.max_zoom;
    let (minzoom, maxzoom) = (m.minzoom.min(max_zoom), m.maxzoom.min(max_zoom));
    let b = m.bounds;
    let (south, north) = (b.south.max(-MAX_LATITUDE), b.north.min(MAX_LATITUDE));
    // A zoom at which the image spans about one tile.
    let fit = (360.0 / (b.east - b.west)).log2().floor().clamp(0.0, 30.0) as u8;
    let doc = TileJson {
        name: m.title.clone(),
        description: m.description.clone(),
        attribution: m.attribution.clone(),
        tiles: tile_url(&state, &headers, &m.id, format),
        minzoom,
        maxzoom,
        bounds: LonLatBBox { west: b.west, south, east: b.east, north },
        center: ((b.west + b.east) / 2.0, (south + north) / 2.0, fit),
        vector_layers: None,
    };
    Ok(json_with_etag(&headers, &doc.to_json(), "application/json", state.config.tiles.tile_max_age))
}

/// `GET /overlays`: every overlay: the events, and each image with its TileJSON.
pub async fn list(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&[], "/overlays")?;
    let base = state.base_url(&headers);
    let mut overlays = vec![json!({
        "id": "events",
        "kind": "events",
        "title": "Events",
        "description": "The event store's markers, clustered; filter with datetime (or from and to) and kind",
        "tiles": [format!("{base}/overlays/events/{{z}}/{{x}}/{{y}}.png")],
    })];
    overlays.extend(state.catalog().images.iter().map(|i| entry(&state, &headers, i)));
    let body = json!({ "overlays": overlays });
    Ok(json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age))
}

/// An image overlay as `/overlays` lists it.
fn entry(state: &AppState, headers: &HeaderMap, image: &GeoImage) -> Value {
    let m = &image.meta;
    let max_zoom = state.config.tiles.max_zoom;
    json!({
        "id": m.id,
        "kind": "image",
        "title": m.title,
        "description": m.description,
        "attribution": m.attribution,
        "bounds": m.bounds.to_array(),
        "minzoom": m.minzoom.min(max_zoom),
        "maxzoom": m.maxzoom.min(max_zoom),
        "opacity": m.opacity,
        "size": [m.source_size.0, m.source_size.1],
        "tilejson": format!("{}/overlays/{}/tiles.json", state.base_url(headers), m.id),
        "tiles": [tile_url(state, headers, &m.id, TileFormat::Png)],
    })
}

fn tile_url(state: &AppState, headers: &HeaderMap, id: &str, format: TileFormat) -> String {
    format!("{}/overlays/{id}/{{z}}/{{x}}/{{y}}.{}", state.base_url(headers), format.extension())
}

fn unknown(id: &str) -> ApiError {
    let shown = clip(id);
    ApiError::NotFound(format!("no image overlay '{shown}'; see /overlays for the overlays"))
}
