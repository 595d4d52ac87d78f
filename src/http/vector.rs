//! Vector tiles, their TileJSON, the MapLibre style and its sprite.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
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
        Ok(Self { vector_layers, sprites: [sprite(&entries, 1)?, sprite(&entries, 2)?] })
    }
}

fn describe_layer(l: &Layer) -> Value {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for f in l.features() {
        for (k, v) in &f.properties {
            let t = match v {
                Value::Bool(_) => "Boolean",
                Value::Number(_) => "Number",
                Value::Null => continue,
                _ => "String",
            };
            fields
                .entry(k.as_str())
                .and_modify(|old| {
                    if *old != t {
                        *old = "String"
                    }
                })
                .or_insert(t);
        }
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
    let list = pairs.iter().rev().find(|(k, _)| k == "layers").map(|(_, v)| v.clone());
    let filter: EventFilter = super::tiles::overlay_filter(query.as_deref())?;
    // `events` may be named in the list beside the data layers.
    let (with_events, data_list) = match &list {
        None => (true, None),
        Some(l) => {
            let names: Vec<&str> = l.split(',').map(str::trim).collect();
            let rest: Vec<&str> = names.iter().copied().filter(|n| *n != "events").collect();
            (names.contains(&"events"), (!rest.is_empty()).then(|| rest.join(",")))
        }
    };
    let ids: Vec<String> = match (&list, &data_list) {
        (Some(_), None) => Vec::new(),
        _ => super::tiles::select_ids(&state, data_list.as_deref())?,
    };
    let key = TileKey {
        kind: TileKind::Vector,
        tile,
        scale: 0,
        variant: format!("{}|{}|{}", ids.join(","), with_events, super::tiles::filter_key(&filter)).into(),
        version: if with_events { state.cache.version(tile) } else { 0 },
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        let layers: Vec<&Layer> = ids.iter().filter_map(|id| st.catalog.layer(id)).collect();
        let mut out = mvt::data_layers(&layers, tile);
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

/// `GET /tiles/vector.json`: TileJSON 3.0.0 with `vector_layers`.
pub async fn tilejson(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = &state.catalog;
    let [lon, lat, zoom] = c.center();
    let base = state.base_url(&headers);
    let max_zoom = state.config.tiles.max_zoom;
    // TileJSON 3.0.0: a layer's maxzoom MUST NOT exceed the tileset's (the configured maximum).
    let vector_layers: Vec<Value> = state
        .vector
        .vector_layers
        .iter()
        .map(|l| {
            let mut l = l.clone();
            if let Some(z) = l["maxzoom"].as_u64() {
                l["maxzoom"] = json!(z.min(u64::from(max_zoom)));
            }
            l
        })
        .collect();
    let body = json!({
        "tilejson": "3.0.0",
        "name": c.title,
        "description": c.description,
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": c.attribution(c.layers()),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": max_zoom,
        "bounds": c.bounds().to_array(),
        "center": [lon, lat, zoom],
        "vector_layers": vector_layers,
    });
    json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age)
}

/// `GET /style.json`: a MapLibre style for the vector tiles.
pub async fn style(State(state): State<AppState>, headers: HeaderMap) -> axum::Json<Value> {
    axum::Json(mvt::maplibre_style(&state.catalog, &state.base_url(&headers)))
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
