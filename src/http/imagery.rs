//! Georeferenced image overlays (see [`crate::imagery`]): the list of overlays (`/overlays`),
//! each image's TileJSON (`/overlays/{id}/tiles.json`) and its transparent tiles
//! (`/overlays/{id}/{z}/{x}/{y}.png`, `.webp`, and `@2x`). The event overlay keeps its own
//! route, `/overlays/events/...`, which the router matches before these; no image may be
//! called `events`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::cached::{get_or_render, json_with_etag, tile_response};
use super::tiles::{format_key, format_param, missing, overlay_tile};
use super::{ApiError, AppState, query_pairs};
use crate::cache::{TileKey, TileKind};
use crate::imagery::{GeoImage, render_tile};
use crate::render::{TileFormat, TileImage, encode};
use crate::tile::MAX_LATITUDE;

/// `GET /overlays/{id}/{z}/{x}/{y}.png` (and `@2x`, and `.webp`): the image reprojected onto the
/// tile, transparent beyond its bounds and zooms. Parameters are ignored.
pub async fn tile(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((id, z, x, file)) = path.map_err(|_| ApiError::InvalidTile("the tile path is not valid UTF-8".into()))?;
    if state.catalog.image(&id).is_none() {
        return Err(unknown(&id));
    }
    let (tile, scale, format) = overlay_tile(&z, &x, &file, &state.config.tiles)?;
    let key = TileKey {
        kind: TileKind::Image,
        tile,
        scale: scale.factor() as u8,
        variant: format!("{id}{}", format_key(format)).into(),
        version: 0,
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        let image = st.catalog.image(&id).ok_or_else(|| unknown(&id))?;
        match render_tile(image, tile, scale) {
            TileImage::Empty => st.clear.get(format, scale).map(<[u8]>::to_vec).ok_or_else(|| missing(format)),
            TileImage::Drawn(p) => encode(p, format).map_err(|e| ApiError::Internal(format!("{id} {tile}: {e}"))),
        }
    })
    .await?;
    Ok(tile_response(&headers, cached, format.content_type(), state.config.tiles.tile_max_age))
}

/// `GET /overlays/{id}/tiles.json`: TileJSON 3.0.0 of one image overlay; `?format=webp` lists
/// WebP tiles (`jpg` is refused: the tiles are transparent).
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let image = state.catalog.image(&id).ok_or_else(|| unknown(&id))?;
    super::refuse_unknown(&query_pairs(query.as_deref())?, &["format"], "an overlay's tiles.json")?;
    let format = format_param(query.as_deref(), &state.config.tiles)?;
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
    let body = json!({
        "tilejson": "3.0.0",
        "name": m.title,
        "description": m.description,
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": m.attribution,
        "scheme": "xyz",
        "tiles": [tile_url(&state, &headers, &m.id, format)],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [b.west, south, b.east, north],
        "center": [(b.west + b.east) / 2.0, (south + north) / 2.0, fit.clamp(minzoom, maxzoom)],
        "tileSize": 256,
    });
    Ok(json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age))
}

/// `GET /overlays`: every overlay: the events, and each image with its TileJSON.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    super::refuse_unknown(&query_pairs(query.as_deref())?, &[], "/overlays")?;
    let base = state.base_url(&headers);
    let mut overlays = vec![json!({
        "id": "events",
        "kind": "events",
        "title": "Events",
        "description": "The event store's markers, clustered; filter with datetime (or from and to) and kind",
        "tiles": [format!("{base}/overlays/events/{{z}}/{{x}}/{{y}}.png")],
    })];
    overlays.extend(state.catalog.images.iter().map(|i| entry(&state, &headers, i)));
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
    let shown: String = id.chars().take(64).collect();
    ApiError::NotFound(format!("no image overlay '{shown}'; see /overlays for the overlays"))
}
