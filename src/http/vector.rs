//! Vector tiles, their TileJSON, the MapLibre style and its sprite.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::cached::{get_or_render, json_with_etag, tile_response};
use super::{ApiError, AppState};
use crate::cache::{TileKey, TileKind};
use crate::events::{self, EventFilter};
use crate::layer::{Catalog, Layer};
use crate::mvt;
use crate::render::{EncodeError, Sprite, sprite};
use crate::tile::TileCoord;

/// MVT media type.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// What the vector routes prepare once at start-up.
#[derive(Debug)]
pub struct VectorAssets {
    /// `vector_layers` of the TileJSON (without URLs).
    vector_layers: Vec<Value>,
    /// Sprite sheets at 1x and 2x.
    sprites: [Sprite; 2],
}

impl VectorAssets {
    /// Describes every layer's fields and draws the sprites.
    pub fn new(catalog: &Catalog) -> Result<Self, EncodeError> {
        let entries = mvt::sprite_entries(catalog);
        let mut vector_layers: Vec<Value> = catalog.layers().iter().map(describe_layer).collect();
        vector_layers.push(json!({
            "id": "events",
            "description": "Event markers from the event store; at every zoom, events in one 48-pixel cell merge into a cluster (cluster = true, with count and casualties). region = true marks a point that only stands for a region.",
            "minzoom": 0,
            "maxzoom": crate::tile::MAX_ZOOM,
            "fields": {
                "id": "String", "kind": "String", "title": "String", "time": "String", "killed": "Number",
                "injured": "Number", "displaced": "Number", "casualties": "Number", "location_precision": "String",
                "region": "Boolean", "cluster": "Boolean", "count": "Number", "first_id": "String",
            },
        }));
        vector_layers.push(json!({
            "id": mvt::LABELS,
            "description": "A point for each place or area the raster tiles name at this zoom, one per place: name and name_ar (Latin-script and Arabic, as drawn), layer (whose label settings draw it), of (the layer of its symbol), sort (the order names are placed in, lower first), symbol_px (radius of the symbol the name keeps clear of); areas have area = true and fits_en, fits_ar, fits_both (whether that name fits the area). A point without a name marks a place drawn but not named at this zoom.",
            "minzoom": 0,
            "maxzoom": crate::tile::MAX_ZOOM,
            "fields": {
                "layer": "String", "of": "String", "name": "String", "name_ar": "String", "sort": "Number",
                "symbol_px": "Number", "area": "Boolean", "fits_en": "Boolean", "fits_ar": "Boolean", "fits_both": "Boolean",
            },
        }));
        Ok(Self { vector_layers, sprites: [sprite(&entries, 1)?, sprite(&entries, 2)?] })
    }
}

fn describe_layer(l: &Layer) -> Value {
    let mut fields: BTreeMap<String, &str> =
        l.property_types().into_iter().filter_map(|(k, t)| Some((k, crate::layer::mvt_field_type(&t)?))).collect();
    // A feature that another feature of its place may stand for carries `held_by` (see `mvt::data_layers`).
    let holdable = (0..l.features().len())
        .any(|i| l.place(i).is_some_and(|p| p.first().is_some_and(|f| f.layer != l.meta.id || f.feature != i)));
    if holdable {
        fields.insert("held_by".into(), "String");
    }
    json!({
        "id": l.meta.id,
        "description": l.meta.description,
        "minzoom": l.meta.minzoom,
        "maxzoom": l.meta.maxzoom,
        "fields": fields,
    })
}

/// `GET /tiles/{z}/{x}/{y}.mvt`, with `?layers=a,b,events`, `datetime=`, `kind=`.
/// An empty tile is answered `204 No Content`.
pub async fn tile(
    state: AppState,
    headers: &HeaderMap,
    tile: TileCoord,
    query: Option<String>,
) -> Result<Response, ApiError> {
    let pairs = super::query_pairs(query.as_deref())?;
    let filter: EventFilter = super::tiles::overlay_filter(query.as_deref())?;
    let Selection { ids, with_events, with_labels } = select(&state, &pairs)?;
    let key = TileKey {
        kind: TileKind::Vector,
        tile,
        scale: 0,
        variant: format!("{}|{}|{}|{}", ids.join(","), with_events, with_labels, super::tiles::filter_key(&filter))
            .into(),
        version: if with_events { state.cache.version(tile) } else { 0 },
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        let layers: Vec<&Layer> = ids.iter().filter_map(|id| st.catalog.layer(id)).collect();
        let mut out = mvt::data_layers(&layers, tile);
        if with_labels {
            out.extend(mvt::labels_layer(&layers, tile, &crate::render::label::label_width));
        }
        if with_events {
            let margin = f64::from(mvt::BUFFER) / f64::from(mvt::EXTENT) * 256.0;
            let found = st.events.select(&events::fetch_rect(tile, margin), &filter);
            out.extend(mvt::events_layer(&events::cluster(&found, tile.z()), tile));
        }
        Ok(mvt::encode(out))
    })
    .await?;
    let max_age = if with_events { state.config.tiles.events_max_age } else { state.config.tiles.tile_max_age };
    Ok(tile_response(headers, cached, MVT, max_age))
}

/// The layers a vector tile (or its TileJSON) asks for with `?layers=`: data layers, and
/// `labels` and `events` beside them. Without the parameter, every layer, the labels and the
/// events.
struct Selection {
    /// Data layer ids, in draw order.
    ids: Vec<String>,
    /// Whether the `events` layer is in.
    with_events: bool,
    /// Whether the `labels` layer (of the data layers chosen) is in.
    with_labels: bool,
}

fn select(state: &AppState, pairs: &[(String, String)]) -> Result<Selection, ApiError> {
    let Some((_, l)) = pairs.iter().rev().find(|(k, _)| k == "layers") else {
        return Ok(Selection { ids: super::tiles::select_ids(state, None)?, with_events: true, with_labels: true });
    };
    let names: Vec<&str> = l.split(',').map(str::trim).collect();
    let rest: Vec<&str> = names.iter().copied().filter(|n| *n != "events" && *n != mvt::LABELS).collect();
    let with_events = names.contains(&"events");
    let with_labels = names.contains(&mvt::LABELS);
    let ids = match rest.is_empty() {
        true => Vec::new(),
        false => super::tiles::select_ids(state, Some(&rest.join(",")))?,
    };
    Ok(Selection { ids, with_events, with_labels })
}

/// The parameters of a vector tile, which its TileJSON takes and carries into the tile URL.
const TILE_PARAMETERS: [&str; 5] = ["layers", "datetime", "from", "to", "kind"];

/// `GET /tiles/vector.json`: TileJSON 3.0.0 with `vector_layers`. It takes the parameters of
/// the vector tiles (`layers`, `datetime`, `from`, `to`, `kind`): `layers` narrows
/// `vector_layers`, the attribution and the zooms, and all of them are carried into the tile
/// URL. Any other parameter is refused.
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = super::query_pairs(query.as_deref())?;
    super::refuse_unknown(&pairs, &TILE_PARAMETERS, "/tiles/vector.json")?;
    // Checked as the tiles will check them, so that the template never leads to a 400.
    super::tiles::overlay_filter(query.as_deref())?;
    let sel = select(&state, &pairs)?;
    let c = &state.catalog;
    let base = state.base_url(&headers);
    let max_zoom = state.config.tiles.max_zoom;
    let layers: Vec<&Layer> = sel.ids.iter().filter_map(|id| c.layer(id)).collect();
    let min_zoom = match sel.with_events {
        true => 0,
        false => layers.iter().map(|l| l.meta.minzoom).min().unwrap_or(0).min(max_zoom),
    };
    // TileJSON 3.0.0: a layer's maxzoom MUST NOT exceed the tileset's (the configured maximum).
    let vector_layers: Vec<Value> = state
        .vector
        .vector_layers
        .iter()
        .filter(|l| match l["id"].as_str() {
            Some("events") => sel.with_events,
            Some(mvt::LABELS) => sel.with_labels,
            Some(id) => sel.ids.iter().any(|i| i == id),
            None => false,
        })
        .map(|l| {
            let mut l = l.clone();
            if let Some(z) = l["maxzoom"].as_u64() {
                l["maxzoom"] = json!(z.min(u64::from(max_zoom)));
            }
            l
        })
        .collect();
    // The last of a repeated parameter counts, as in the tile route.
    let carried: Vec<(&str, &str)> = TILE_PARAMETERS
        .iter()
        .filter_map(|&name| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| (name, v.as_str())))
        .collect();
    let mut body = json!({
        "tilejson": "3.0.0",
        "name": c.title,
        "description": c.description,
        "version": env!("CARGO_PKG_VERSION"),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt{}", super::tiles::query_suffix(&carried))],
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "bounds": c.bounds().to_array(),
        "center": super::tiles::center(&state, min_zoom, max_zoom),
        "vector_layers": vector_layers,
    });
    // The events carry no credit of their own; an empty attribution is left out.
    let attribution = c.attribution(layers.iter().copied());
    if !attribution.is_empty() {
        body["attribution"] = json!(attribution);
    }
    Ok(json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age))
}

/// `GET /style.json`: a MapLibre style for the vector tiles, naming places in `?lang=` (`en`,
/// `ar`, `both`, or `none` for no names; the raster tiles' default when absent).
pub async fn style(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Value>, ApiError> {
    super::refuse_unknown(&super::query_pairs(query.as_deref())?, &["lang"], "/style.json")?;
    let lang = super::tiles::lang_param(query.as_deref())?.unwrap_or(Some(state.config.tiles.label_lang));
    Ok(axum::Json(mvt::maplibre_style(&state.catalog, &state.base_url(&headers), lang)))
}

/// `GET /sprites/{file}`: `tessera.json`, `tessera.png`, `tessera@2x.json`, `tessera@2x.png`.
pub async fn sprite_file(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    // A name that is not UTF-8 (`%FF`) is no sprite file either: 404 like any other name.
    let file = path.map(|Path(f)| f).unwrap_or_default();
    let (s, ext) = match file.as_str() {
        "tessera.json" => (&state.vector.sprites[0], "json"),
        "tessera.png" => (&state.vector.sprites[0], "png"),
        "tessera@2x.json" => (&state.vector.sprites[1], "json"),
        "tessera@2x.png" => (&state.vector.sprites[1], "png"),
        _ => return Err(ApiError::NotFound("the sprite is tessera.json, tessera.png and their @2x forms".into())),
    };
    Ok(if ext == "png" {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))], s.png.clone()).into_response()
    } else {
        axum::Json(s.index.clone()).into_response()
    })
}
