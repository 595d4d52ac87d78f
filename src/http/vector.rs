//! The vector TileJSON, the MapLibre style and its sprite (the vector tiles themselves are in
//! `tiles`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::cached::json_with_etag;
use super::extract::Segment;
use super::query::Query;
use super::tilejson::{TileJson, query_suffix};
use super::{ApiError, AppState};
use crate::layer::{Catalog, Layer};
use crate::mvt;
use crate::render::{EncodeError, Sprite, sprite};

/// What the vector routes prepare once per catalog (at start-up, and after a reload).
#[derive(Debug)]
pub struct VectorAssets {
    /// The generation of the catalog they were made from.
    pub generation: u64,
    /// `vector_layers` of the TileJSON (without URLs).
    vector_layers: Vec<Value>,
    /// Sprite sheets at 1x and 2x.
    sprites: [Sprite; 2],
}

impl VectorAssets {
    /// Describes every layer's fields and draws the sprites.
    pub fn new(catalog: &Catalog) -> Result<Self, EncodeError> {
        let entries = mvt::sprite_entries(catalog);
        let vector_layers = mvt::vector_layers(catalog);
        Ok(Self {
            generation: catalog.generation(),
            vector_layers,
            sprites: [sprite(&entries, 1)?, sprite(&entries, 2)?],
        })
    }
}

/// The parameters of a vector tile, which its TileJSON takes and carries into the tile URL.
const TILE_PARAMETERS: [&str; 5] = ["layers", "datetime", "from", "to", "kind"];

/// `GET /tiles/vector.json`: TileJSON 3.0.0 with `vector_layers`. It takes the parameters of
/// the vector tiles (`layers`, `datetime`, `from`, `to`, `kind`): `layers` narrows
/// `vector_layers`, the attribution and the zooms, and all of them are carried into the tile
/// URL. Any other parameter is refused.
pub async fn tilejson(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&TILE_PARAMETERS, "/tiles/vector.json")?;
    // Checked as the tiles will check them, so that the template never leads to a 400.
    q.events()?;
    let c = &state.catalog();
    let super::tiles::VectorLayers { layers: ids, labels: with_labels, events: with_events } =
        super::tiles::vector_layers(c, &q)?;
    let max_zoom = state.config.tiles.max_zoom;
    let layers: Vec<&Layer> = ids.iter().filter_map(|id| c.layer(id)).collect();
    let min_zoom = match with_events {
        true => 0,
        false => layers.iter().map(|l| l.meta.minzoom).min().unwrap_or(0).min(max_zoom),
    };
    // TileJSON 3.0.0: a layer's maxzoom MUST NOT exceed the tileset's (the configured maximum).
    let vector_layers: Vec<Value> = state
        .vector(c)?
        .vector_layers
        .iter()
        .filter(|l| match l["id"].as_str() {
            Some("events") => with_events,
            Some(mvt::LABELS) => with_labels,
            Some(id) => ids.iter().any(|i| i == id),
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
    let carried: Vec<(&str, &str)> =
        TILE_PARAMETERS.iter().filter_map(|&name| q.last(name).map(|v| (name, v))).collect();
    let center = c.center();
    let doc = TileJson {
        name: c.title.clone(),
        description: c.description.clone(),
        // The events carry no credit of their own.
        attribution: c.attribution(layers.iter().copied()),
        tiles: format!("{}/tiles/{{z}}/{{x}}/{{y}}.mvt{}", state.base_url(&headers), query_suffix(&carried)),
        minzoom: min_zoom,
        maxzoom: max_zoom,
        bounds: c.bounds(),
        center: (center.position.lon, center.position.lat, center.zoom),
        vector_layers: Some(vector_layers),
    };
    Ok(json_with_etag(&headers, &doc.to_json(), "application/json", state.config.tiles.tile_max_age))
}

/// `GET /style.json`: a MapLibre style for the vector tiles. It takes no parameter.
pub async fn style(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<axum::Json<Value>, ApiError> {
    q.only(&["lang"], "/style.json")?;
    let lang = q.lang()?.unwrap_or(Some(state.config.tiles.label_lang));
    Ok(axum::Json(mvt::maplibre_style(&state.catalog(), &state.base_url(&headers), lang)))
}

/// `GET /sprites/{file}`: `tessera.json`, `tessera.png`, `tessera@2x.json`, `tessera@2x.png`.
pub async fn sprite_file(State(state): State<AppState>, file: Result<Segment, ApiError>) -> Result<Response, ApiError> {
    // A name that is not UTF-8 (`%FF`) is no sprite file either: 404 naming the files.
    let file = file.map(|Segment(f)| f).unwrap_or_default();
    let assets = state.vector(&state.catalog())?;
    let (s, ext) = match file.as_str() {
        "tessera.json" => (&assets.sprites[0], "json"),
        "tessera.png" => (&assets.sprites[0], "png"),
        "tessera@2x.json" => (&assets.sprites[1], "json"),
        "tessera@2x.png" => (&assets.sprites[1], "png"),
        _ => return Err(ApiError::NotFound("the sprite is tessera.json, tessera.png and their @2x forms".into())),
    };
    Ok(if ext == "png" {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))], s.png.clone()).into_response()
    } else {
        axum::Json(s.index.clone()).into_response()
    })
}
