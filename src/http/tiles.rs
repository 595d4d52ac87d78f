//! Tiles: base raster and vector tiles (`/tiles/...`), the event overlay and its markers
//! (`/overlays/events/...`), and the raster TileJSON. Each handler reads the path and query into
//! a [`TileSpec`] and asks the tile service for it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::cached::{fetched_response, json_with_etag};
use super::extract::{Ending, TilePath};
use super::query::Query;
use super::tilejson::{TileJson, query_suffix};
use super::{ApiError, AppState};
use crate::cache::{LayerIds, TileSpec};
use crate::config::TileSettings;
use crate::layer::{Catalog, SelectError};
use crate::mvt;
use crate::style::Lang;

/// MVT media type.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
const GEOJSON: &str = "application/geo+json";

/// The route of the base tiles, as the router and the metrics name it.
pub const ROUTE: &str = "/tiles/{z}/{x}/{file}";

/// `GET /tiles/{z}/{x}/{y}.png` (and `@2x`, `.webp`, `.jpg`), optional `?layers=a,b` and
/// `?lang=en|ar|both|none`; `{y}.mvt` is the vector tile (`?layers=a,b,events`, `datetime`,
/// `from`, `to`, `kind`). Other parameters are ignored (cache busters).
pub async fn tile(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: TilePath,
    q: Query,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let asked = asked(&state.config.tiles, &catalog, &path, &q)?;
    let tile = state.tiles.fetch(&catalog, path.tile, asked.spec).await?;
    Ok(fetched_response(&headers, tile, asked.content_type, asked.max_age))
}

/// What a base tile request asks for, read from its path and query.
pub(super) struct Asked {
    /// The tile's spec, which with the tile makes its cache key.
    pub spec: TileSpec,
    /// Its media type.
    pub content_type: &'static str,
    /// Its `max-age`.
    pub max_age: u64,
}

/// Reads a base tile request ([`tile`]), or says what is wrong with it. The cached tiles' fast
/// path (`super::fast`) reads its requests with this too, so that both look up the same key.
pub(super) fn asked(tiles: &TileSettings, catalog: &Catalog, path: &TilePath, q: &Query) -> Result<Asked, ApiError> {
    if path.ending == Ending::Mvt {
        let VectorLayers { layers, labels, events: with_events } = vector_layers(catalog, q)?;
        let events = if with_events { Some(q.events()?) } else { None };
        let max_age = if with_events { tiles.events_max_age } else { tiles.tile_max_age };
        return Ok(Asked { spec: TileSpec::Vector { layers, labels, events }, content_type: MVT, max_age });
    }
    let (scale, format) = path.image(
        &["png", "webp", "jpg"],
        "{y}.png, {y}.webp or {y}.jpg (each with @2x before the dot for 512 px), or {y}.mvt",
    )?;
    let layers = layer_ids(catalog, q.last("layers"))?;
    let lang = q.lang()?.unwrap_or(Some(tiles.label_lang));
    let spec = TileSpec::Raster { scale, format, layers, lang };
    Ok(Asked { spec, content_type: format.content_type(), max_age: tiles.tile_max_age })
}

/// `GET /overlays/events/{z}/{x}/{y}.png` (and `@2x`, `.webp`): the events alone on a
/// transparent tile, with `datetime=` (or `from=`/`to=`) and `kind=`; `{y}.json` lists the
/// same tile's markers, each with its events' ids.
pub async fn overlay(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: TilePath,
    q: Query,
) -> Result<Response, ApiError> {
    let events = q.events()?;
    let max_age = state.config.tiles.events_max_age;
    if path.ending == Ending::Json {
        let tile = state.tiles.fetch(&state.catalog(), path.tile, TileSpec::Markers { events }).await?;
        return Ok(fetched_response(&headers, tile, GEOJSON, max_age));
    }
    let (scale, format) = path.image(
        &["png", "webp"],
        "{y}.png or {y}.webp (each with @2x before the dot for 512 px), or {y}.json for the markers",
    )?;
    let tile = state.tiles.fetch(&state.catalog(), path.tile, TileSpec::Overlay { scale, format, events }).await?;
    Ok(fetched_response(&headers, tile, format.content_type(), max_age))
}

/// `GET /tiles.json`: TileJSON 3.0.0 for the raster tiles (and `?layers=` and `?lang=` carried
/// into them; `?format=webp|jpg` lists tiles in that format). Any other parameter is refused.
pub async fn tilejson(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["layers", "lang", "format"], "/tiles.json")?;
    let format = q.format(state.config.tiles.jpeg_quality)?;
    let list = q.last("layers");
    let lang = q.lang()?;
    let c = &state.catalog();
    let ids = layer_ids(c, list)?;
    let layers: Vec<_> = ids.iter().filter_map(|id| c.layer(id)).collect();
    let max_zoom = state.config.tiles.max_zoom;
    let min_zoom = layers.iter().map(|l| l.meta.minzoom).min().unwrap_or(0).min(max_zoom);
    let carried: Vec<(&str, &str)> =
        [list.map(|l| ("layers", l)), lang.map(|l| ("lang", l.map_or("none", Lang::as_str)))]
            .into_iter()
            .flatten()
            .collect();
    let center = c.center();
    let doc = TileJson {
        name: c.title.clone(),
        description: c.description.clone(),
        attribution: c.attribution(layers.iter().copied()),
        tiles: format!(
            "{}/tiles/{{z}}/{{x}}/{{y}}.{}{}",
            state.base_url(&headers),
            format.extension(),
            query_suffix(&carried)
        ),
        minzoom: min_zoom,
        maxzoom: max_zoom,
        bounds: c.bounds(),
        center: (center.position.lon, center.position.lat, center.zoom),
        vector_layers: None,
    };
    Ok(json_with_etag(&headers, &doc.to_json(), "application/json", state.config.tiles.tile_max_age))
}

/// The data layers a comma-separated `layers` names (every layer when absent), in draw order.
pub(super) fn layer_ids(catalog: &Catalog, list: Option<&str>) -> Result<LayerIds, ApiError> {
    let chosen = catalog.select(list).map_err(|e| match e {
        SelectError::Unknown(_) => ApiError::UnknownLayer(format!("{e}; see /collections for the layers")),
        SelectError::Empty => ApiError::UnknownLayer(e.to_string()),
    })?;
    Ok(chosen.into_iter().map(|l| l.meta.id.clone()).collect::<Vec<_>>().into())
}

/// The layers a vector tile (or its TileJSON) asks for with `?layers=`: data layers, and
/// `labels` and `events` beside them. Without the parameter, every layer, the labels and the
/// events.
pub(super) struct VectorLayers {
    /// Data layer ids, in draw order.
    pub layers: LayerIds,
    /// Whether the `labels` layer (names of the data layers chosen) is in.
    pub labels: bool,
    /// Whether the `events` layer is in.
    pub events: bool,
}

pub(super) fn vector_layers(catalog: &Catalog, q: &Query) -> Result<VectorLayers, ApiError> {
    let Some(list) = q.last("layers") else {
        return Ok(VectorLayers { layers: layer_ids(catalog, None)?, labels: true, events: true });
    };
    let names: Vec<&str> = list.split(',').map(str::trim).collect();
    let rest: Vec<&str> = names.iter().copied().filter(|n| *n != "events" && *n != mvt::LABELS).collect();
    let layers = match rest.is_empty() {
        true => Arc::from(Vec::<String>::new()),
        false => layer_ids(catalog, Some(&rest.join(",")))?,
    };
    Ok(VectorLayers { layers, labels: names.contains(&mvt::LABELS), events: names.contains(&"events") })
}
