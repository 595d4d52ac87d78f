//! Raster tiles and their TileJSON.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::cached::{get_or_render, json_with_etag, tile_response};
use super::{ApiError, AppState, query_pairs};
use crate::cache::{TileKey, TileKind};
use crate::config::TileSettings;
use crate::events::{self, EventFilter, TimeSpan};
use crate::layer::{Layer, SelectError};
use crate::render::{OVERLAY_REACH_PX, Scale, TileFormat, TileImage, encode, render_overlay, render_tile};
use crate::style::Lang;
use crate::tile::{TileCoord, TileError, TileParseError};

/// `GET /tiles/{z}/{x}/{y}.png` and `/tiles/{z}/{x}/{y}@2x.png` (and `.webp`, `.jpg`), optional
/// `?layers=a,b` and `?lang=en|ar|both|none` (the place names; the configured default when absent).
pub async fn raster(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Path((z, x, file)) = path.map_err(|_| ApiError::InvalidTile("the tile path is not valid UTF-8".into()))?;
    if let Some(y) = file.strip_suffix(".mvt") {
        let tile = parse_tile(&z, &x, y, state.config.tiles.max_zoom)?;
        return super::vector::tile(state, &headers, tile, query).await;
    }
    let (tile, scale, format) = image_tile(&z, &x, &file, &state.config.tiles)?;
    let layers_param = layers_param(query.as_deref())?;
    let layer_ids = select_ids(&state, layers_param.as_deref())?;
    let lang = lang_param(query.as_deref())?.unwrap_or(Some(state.config.tiles.label_lang));
    let key = TileKey {
        kind: TileKind::Raster,
        tile,
        scale: scale.factor() as u8,
        variant: format!("{};lang={}{}", layer_ids.join(","), lang.map_or("none", Lang::as_str), format_key(format))
            .into(),
        version: 0,
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        let layers: Vec<&Layer> = layer_ids.iter().filter_map(|id| st.catalog.layer(id)).collect();
        match render_tile(&st.catalog, &layers, tile, scale, lang) {
            TileImage::Empty => st.empty.get(format, scale).map(<[u8]>::to_vec).ok_or_else(|| missing(format)),
            TileImage::Drawn(p) => encode(p, format).map_err(|e| ApiError::Internal(format!("{tile}: {e}"))),
        }
    })
    .await?;
    Ok(tile_response(&headers, cached, format.content_type(), state.config.tiles.tile_max_age))
}

/// An image tile address (`{z}/{x}/{y}.{png,webp,jpg}` or `{y}@2x.{...}`) into the tile, its
/// scale and its format (JPEG at the configured quality).
pub(super) fn image_tile(
    z: &str,
    x: &str,
    file: &str,
    settings: &TileSettings,
) -> Result<(TileCoord, Scale, TileFormat), ApiError> {
    let (y, scale, ext) = split_file(file)?;
    if y.contains('@') {
        return Err(ApiError::UnsupportedFormat(file.chars().take(24).collect()));
    }
    let format = TileFormat::from_extension(ext, settings.jpeg_quality)
        .ok_or_else(|| ApiError::UnsupportedFormat(ext.chars().take(16).collect()))?;
    Ok((parse_tile(z, x, y, settings.max_zoom)?, scale, format))
}

/// An image tile address of a transparent overlay: as [`image_tile`], and a format without
/// transparency (JPEG) is refused with what to ask for instead.
pub(super) fn overlay_tile(
    z: &str,
    x: &str,
    file: &str,
    settings: &TileSettings,
) -> Result<(TileCoord, Scale, TileFormat), ApiError> {
    let (tile, scale, format) = image_tile(z, x, file, settings)?;
    if !format.allows_transparency() {
        return Err(ApiError::OpaqueFormat(format.extension()));
    }
    Ok((tile, scale, format))
}

/// `{y}.{ext}` or `{y}@2x.{ext}` into the row text, the scale and the extension, for the
/// image extensions tiles are served in (`png`, `webp`, `jpg`).
pub(super) fn split_file(file: &str) -> Result<(&str, Scale, &str), ApiError> {
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    if TileFormat::from_extension(ext, 1).is_none() {
        return Err(ApiError::UnsupportedFormat(ext.chars().take(16).collect()));
    }
    Ok(match stem.strip_suffix("@2x") {
        Some(y) => (y, Scale::X2, ext),
        None => (stem, Scale::X1, ext),
    })
}

/// What a cache key's variant gets for a format: nothing for PNG (so that PNG keys read as
/// they always have), `;webp` or `;jpg85` otherwise.
pub(super) fn format_key(format: TileFormat) -> String {
    match format {
        TileFormat::Png => String::new(),
        other => format!(";{}", other.key()),
    }
}

/// The error for an empty tile that was not encoded at start-up in a format (it never happens:
/// every served format is).
pub(super) fn missing(format: TileFormat) -> ApiError {
    ApiError::Internal(format!("no empty tile was encoded in {}", format.key()))
}

/// Parses and validates a tile address against the configured maximum zoom.
pub(super) fn parse_tile(z: &str, x: &str, y: &str, max_zoom: u8) -> Result<TileCoord, ApiError> {
    let tile = TileCoord::parse_parts(z, x, y).map_err(|e| match e {
        TileParseError::Tile(t @ TileError::ZoomTooDeep { .. }) => {
            ApiError::TileOutOfRange(format!("{t}; this server goes to zoom {max_zoom}"))
        }
        TileParseError::Tile(t) => ApiError::TileOutOfRange(t.to_string()),
        other => ApiError::InvalidTile(other.to_string()),
    })?;
    if tile.z() > max_zoom {
        return Err(ApiError::TileOutOfRange(format!(
            "zoom {} is above this server's maximum zoom {max_zoom}",
            tile.z()
        )));
    }
    Ok(tile)
}

/// The `layers` parameter of a tile or TileJSON request; other parameters are ignored (so that
/// cache-busting parameters do no harm).
fn layers_param(query: Option<&str>) -> Result<Option<String>, ApiError> {
    Ok(query_pairs(query)?.into_iter().rev().find(|(k, _)| k == "layers").map(|(_, v)| v))
}

/// The `lang` parameter of a raster tile or TileJSON request: `en`, `ar`, `both`, or `none`
/// for no place names (`Some(None)`); `None` when absent.
pub(super) fn lang_param(query: Option<&str>) -> Result<Option<Option<Lang>>, ApiError> {
    let Some((_, v)) = query_pairs(query)?.into_iter().rev().find(|(k, _)| k == "lang") else {
        return Ok(None);
    };
    match v.as_str() {
        "none" => Ok(Some(None)),
        _ => v.parse::<Lang>().map(|l| Some(Some(l))).map_err(|e| ApiError::param("lang", format!("{e}, or none"))),
    }
}

pub(crate) fn select_ids(state: &AppState, list: Option<&str>) -> Result<Vec<String>, ApiError> {
    let chosen = state.catalog.select(list).map_err(|e| match e {
        SelectError::Unknown(_) => ApiError::UnknownLayer(format!("{e}; see /collections for the layers")),
        SelectError::Empty => ApiError::UnknownLayer(e.to_string()),
    })?;
    Ok(chosen.into_iter().map(|l| l.meta.id.clone()).collect())
}

/// `GET /tiles.json`: TileJSON 3.0.0 for the raster tiles (and `?layers=` and `?lang=` carried
/// into them; `?format=webp|jpg` lists tiles in that format). Any other parameter is refused.
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    super::refuse_unknown(&query_pairs(query.as_deref())?, &["layers", "lang", "format"], "/tiles.json")?;
    let format = format_param(query.as_deref(), &state.config.tiles)?;
    let list = layers_param(query.as_deref())?;
    let lang = lang_param(query.as_deref())?;
    let ids = select_ids(&state, list.as_deref())?;
    let layers: Vec<&Layer> = ids.iter().filter_map(|id| state.catalog.layer(id)).collect();
    let c = &state.catalog;
    let max_zoom = state.config.tiles.max_zoom;
    let min_zoom = layers.iter().map(|l| l.meta.minzoom).min().unwrap_or(0).min(max_zoom);
    let carried: Vec<(&str, &str)> =
        [list.as_deref().map(|l| ("layers", l)), lang.map(|l| ("lang", l.map_or("none", Lang::as_str)))]
            .into_iter()
            .flatten()
            .collect();
    let body = json!({
        "tilejson": "3.0.0",
        "name": c.title,
        "description": c.description,
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": c.attribution(layers.iter().copied()),
        "scheme": "xyz",
        "tiles": [format!(
            "{}/tiles/{{z}}/{{x}}/{{y}}.{}{}",
            state.base_url(&headers),
            format.extension(),
            query_suffix(&carried)
        )],
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "bounds": c.bounds().to_array(),
        "center": center(&state, min_zoom, max_zoom),
        "tileSize": 256,
    });
    Ok(json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age))
}

/// The `format` parameter of a TileJSON request: the extension of the tiles it lists (`png`,
/// the default, `webp` or `jpg`).
pub(super) fn format_param(query: Option<&str>, settings: &TileSettings) -> Result<TileFormat, ApiError> {
    match query_pairs(query)?.into_iter().rev().find(|(k, _)| k == "format") {
        None => Ok(TileFormat::Png),
        Some((_, v)) => TileFormat::from_extension(&v, settings.jpeg_quality)
            .ok_or_else(|| ApiError::param("format", "must be png, webp or jpg")),
    }
}

/// `?a=b&c=d` for the parameters carried into a tile URL; empty for none.
pub(super) fn query_suffix(carried: &[(&str, &str)]) -> String {
    match carried.is_empty() {
        false => format!("?{}", serde_urlencoded::to_string(carried).unwrap_or_default()),
        true => String::new(),
    }
}

/// TileJSON's `center`: longitude, latitude and a whole zoom within the tileset's zooms.
pub(super) fn center(state: &AppState, min_zoom: u8, max_zoom: u8) -> serde_json::Value {
    let c = state.catalog.center();
    json!([c.position.lon, c.position.lat, c.zoom.clamp(min_zoom, max_zoom)])
}

/// `GET /overlays/events/{z}/{x}/{y}.png` (and `@2x`, and `.webp`): the events alone on a
/// transparent tile, with `datetime=` (or `from=`/`to=`) and `kind=` filters; `{y}.json` lists
/// the same tile's markers (see [`super::markers`]).
pub async fn overlay(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Path((z, x, file)) = path.map_err(|_| ApiError::InvalidTile("the tile path is not valid UTF-8".into()))?;
    if let Some(y) = file.strip_suffix(".json") {
        let tile = parse_tile(&z, &x, y, state.config.tiles.max_zoom)?;
        return super::markers::tile(state.clone(), &headers, tile, overlay_filter(query.as_deref())?).await;
    }
    let (tile, scale, format) = overlay_tile(&z, &x, &file, &state.config.tiles)?;
    let filter = overlay_filter(query.as_deref())?;
    let key = TileKey {
        kind: TileKind::Overlay,
        tile,
        scale: scale.factor() as u8,
        variant: format!("{}{}", filter_key(&filter), format_key(format)).into(),
        version: state.cache.version(tile),
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        let rect = events::fetch_rect(tile, OVERLAY_REACH_PX);
        let markers = events::cluster(&st.events.select(&rect, &filter), tile.z());
        match render_overlay(&markers, tile, scale) {
            TileImage::Empty => st.clear.get(format, scale).map(<[u8]>::to_vec).ok_or_else(|| missing(format)),
            TileImage::Drawn(p) => encode(p, format).map_err(|e| ApiError::Internal(format!("{tile}: {e}"))),
        }
    })
    .await?;
    Ok(tile_response(&headers, cached, format.content_type(), state.config.tiles.events_max_age))
}

/// A canonical text of an event filter, for cache keys.
pub(crate) fn filter_key(f: &EventFilter) -> String {
    let time = f.time.map(|t| format!("{}..{}", t.start, t.end)).unwrap_or_default();
    let kinds = f.kinds.as_ref().map(|k| {
        let mut v: Vec<&str> = k.iter().map(|k| k.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v.join(",")
    });
    format!("t={time};k={}", kinds.unwrap_or_default())
}

/// The `datetime`, `from`, `to` and `kind` parameters of an overlay; others are ignored.
pub(crate) fn overlay_filter(query: Option<&str>) -> Result<EventFilter, ApiError> {
    let mut filter = EventFilter::default();
    let (mut from, mut to) = (None, None);
    for (k, v) in query_pairs(query)? {
        match k.as_str() {
            "datetime" => filter.time = Some(super::events::parse_datetime("datetime", &v)?),
            "from" if !v.is_empty() => from = Some(super::events::parse_datetime("from", &v)?.start),
            "to" if !v.is_empty() => to = Some(super::events::parse_datetime("to", &v)?.end),
            "kind" if !v.is_empty() => filter.kinds = Some(super::events::parse_kinds(&v)?),
            _ => {}
        }
    }
    if from.is_some() || to.is_some() {
        if filter.time.is_some() {
            return Err(ApiError::param("datetime", "give either datetime or from/to, not both"));
        }
        let span = TimeSpan { start: from.unwrap_or(i64::MIN), end: to.unwrap_or(i64::MAX) };
        if span.end < span.start {
            return Err(ApiError::param("to", "is before from"));
        }
        filter.time = Some(span);
    }
    Ok(filter)
}
