//! OGC API - Features, read side (Part 1: Core, GeoJSON, HTML pages; Part 3: queryables):
//! conformance, collections, queryables, items.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::cached::json_with_etag;
use super::error::clip;
use super::extract::{Segment, Segments};
use super::pages::{self, Format};
use super::paging::Page;
use super::query::Query;
use super::{ApiError, AppState, schema};
use crate::cache::CachedTile;
use crate::layer::{Catalog, Feature, Layer};
use crate::tile::LonLatBBox;

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GEOJSON: &str = "application/geo+json";

/// The conformance classes this server implements: Part 1 Core and GeoJSON, HTML (the
/// landing page, conformance, collections and each collection have pages; items are GeoJSON
/// only, so HTML is not claimed), OpenAPI 3.0, and Part 3's Queryables (the resource and its
/// link; not Filter, CQL2 or queryables as query parameters, which are not implemented).
pub const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
];

/// The link relation of a collection's queryables (OGC API - Features Part 3).
pub const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// What `datetime` means on a collection whose features have no time.
pub const NO_TIME: &str =
    "Its features have no time: datetime is accepted on its items, checked, and matches every feature.";

/// `GET /conformance`.
pub async fn conformance(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["f"], "/conformance")?;
    let body = json!({ "conformsTo": CONFORMANCE });
    Ok(match pages::negotiate(q.pairs(), &headers)? {
        Format::Html => pages::conformance(&body, &state.base_url(&headers)),
        Format::Json => (vary(), Json(body)).into_response(),
    })
}

/// `Vary: Accept`, for the routes whose answer depends on it.
pub(super) fn vary() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::VARY, HeaderValue::from_static("Accept"))]
}

/// `GET /collections`.
pub async fn collections(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections")?;
    let format = pages::negotiate(q.pairs(), &headers)?;
    let base = state.base_url(&headers);
    let mut list: Vec<Value> = state.catalog().layers().iter().map(|l| describe(l, &base)).collect();
    list.push(super::events::describe(&base, state.events.store().extent()));
    let body = json!({
        "links": [
            { "href": format!("{base}/collections"), "rel": "self", "type": "application/json", "title": "the collections" },
            { "href": format!("{base}/collections?f=html"), "rel": "alternate", "type": "text/html", "title": "the collections as HTML" },
        ],
        "collections": list,
    });
    Ok(match format {
        Format::Html => pages::collections(&body, &base),
        Format::Json => (vary(), Json(body)).into_response(),
    })
}

/// `GET /collections/{id}` (the events collection has its own route).
pub async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    q: Query,
) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections/{id}")?;
    let format = pages::negotiate(q.pairs(), &headers)?;
    let catalog = state.catalog();
    let layer = find_layer(&catalog, &id)?;
    let base = state.base_url(&headers);
    let body = describe(layer, &base);
    Ok(match format {
        Format::Html => pages::collection(&body, &base),
        Format::Json => {
            let mut r = json_with_etag(&headers, &body, "application/json", state.config.tiles.tile_max_age);
            r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
            r
        }
    })
}

/// `GET /collections/{id}/queryables`: the properties of the collection's features as a JSON
/// Schema (OGC API - Features Part 3), inferred from the data for layers, from the event model
/// for `events`.
pub async fn queryables(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    q: Query,
) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections/{id}/queryables")?;
    json_only(q.pairs())?;
    let base = state.base_url(&headers);
    // Part 3: `$id` is the URI of the resource without query parameters.
    let uri = format!("{base}/collections/{id}/queryables");
    let body = match state.catalog().layer(&id) {
        Some(layer) => schema::layer_queryables(layer, &uri),
        None if id == "events" => schema::event_queryables(&uri),
        None => return Err(unknown_collection(&id)),
    };
    Ok(json_with_etag(&headers, &body, SCHEMA_JSON, state.config.tiles.tile_max_age))
}

/// The media type of JSON Schema documents.
pub const SCHEMA_JSON: &str = "application/schema+json";

/// `GET /collections/{id}/items?bbox=&datetime=&limit=&offset=`. `datetime` is checked and
/// carried into the links; a layer's features have no time, so every one matches. The page is
/// made on the heavy pool (10,000 features are megabytes of JSON), 503 when it is full.
pub async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    q: Query,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    find_layer(&catalog, &id)?;
    let gone = unknown_collection(&id);
    q.only(&["bbox", "datetime", "limit", "offset", "f"], "items")?;
    json_only(q.pairs())?;
    let features = &state.config.features;
    let (bbox, _) = (q.bbox()?, q.datetime()?);
    let (limit, offset) = (q.limit(features.items_limit, features.items_max_limit)?, q.offset()?);
    let base = state.base_url(&headers);
    let kept: Vec<(&'static str, String)> =
        ["bbox", "datetime"].into_iter().filter_map(|k| q.last(k).map(|v| (k, v.to_owned()))).collect();
    let page = move || {
        let layer = catalog.layer(&id)?;
        let matched: Vec<usize> = match &bbox {
            None => (0..layer.features().len()).collect(),
            Some(boxes) => {
                let mut all: Vec<usize> = boxes.iter().flat_map(|b| layer.query_bbox(b)).collect();
                all.sort_unstable();
                all.dedup();
                all
            }
        };
        let found: Vec<Value> =
            matched.iter().skip(offset).take(limit).map(|&i| feature_json(&layer.features()[i])).collect();
        let page = Page {
            url: format!("{base}/collections/{}/items", layer.meta.id),
            kept: kept.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            limit,
            offset,
            matched: matched.len(),
            returned: found.len(),
        };
        let mut links = page.links(GEOJSON);
        links.insert(1, json!({ "href": format!("{base}/collections/{}", layer.meta.id), "rel": "collection", "type": "application/json" }));
        let body = json!({
            "type": "FeatureCollection",
            "numberMatched": matched.len(),
            "numberReturned": found.len(),
            "features": found,
            "links": links,
        });
        Some(CachedTile::new(body.to_string().into_bytes()))
    };
    super::heavy::document(&state.heavy, &headers, GEOJSON, state.config.tiles.tile_max_age, gone, page).await
}

/// `GET /collections/{id}/items/{fid}`.
pub async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segments(id, fid): Segments,
    q: Query,
) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections/{id}/items/{fid}")?;
    json_only(q.pairs())?;
    let catalog = state.catalog();
    let layer = catalog.layer(&id).ok_or_else(|| unknown_collection(&id))?;
    let feature = layer
        .feature_by_id(&fid)
        .ok_or_else(|| ApiError::NotFound(format!("collection '{id}' has no feature '{}'", clip(&fid))))?;
    let base = state.base_url(&headers);
    let mut body = feature_json(feature);
    body["links"] = json!([
        { "href": format!("{base}/collections/{id}/items/{}", encode_segment(&fid)), "rel": "self", "type": GEOJSON },
        { "href": format!("{base}/collections/{id}"), "rel": "collection", "type": "application/json" },
    ]);
    Ok(json_with_etag(&headers, &body, GEOJSON, state.config.tiles.tile_max_age))
}

fn find_layer<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a Layer, ApiError> {
    catalog.layer(id).ok_or_else(|| unknown_collection(id))
}

fn unknown_collection(id: &str) -> ApiError {
    ApiError::NotFound(format!("no collection '{}'; see /collections", clip(id)))
}

/// Refuses `f=` values other than `json`.
pub(super) fn json_only(pairs: &[(String, String)]) -> Result<(), ApiError> {
    match pairs.iter().find(|(k, _)| k == "f") {
        Some((_, f)) if f != "json" => Err(ApiError::param("f", "only f=json is served here")),
        _ => Ok(()),
    }
}

fn describe(l: &Layer, base: &str) -> Value {
    let bbox = l.bounds().map(LonLatBBox::to_array);
    let description = match l.meta.description.as_str() {
        "" => NO_TIME.to_owned(),
        d => format!("{d} {NO_TIME}"),
    };
    let mut body = json!({
        "id": l.meta.id,
        "title": l.meta.title,
        "description": description,
        "attribution": l.meta.attribution,
        "license": l.meta.license,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": { "spatial": { "bbox": bbox.map(|b| vec![b]).unwrap_or_default(), "crs": CRS84 } },
        "minzoom": l.meta.minzoom,
        "maxzoom": l.meta.maxzoom,
        "links": [
            { "href": format!("{base}/collections/{}", l.meta.id), "rel": "self", "type": "application/json" },
            { "href": format!("{base}/collections/{}?f=html", l.meta.id), "rel": "alternate", "type": "text/html", "title": "this collection as HTML" },
            { "href": format!("{base}/collections/{}/items", l.meta.id), "rel": "items", "type": GEOJSON },
            { "href": format!("{base}/collections/{}/queryables", l.meta.id), "rel": REL_QUERYABLES, "type": SCHEMA_JSON, "title": "the properties of its features (JSON Schema)" },
            { "href": format!("{base}/tiles.json?layers={}", l.meta.id), "rel": "tiles", "type": "application/json", "title": "raster tiles of this layer alone (TileJSON)" },
        ],
    });
    // The legend's words for the layer's symbols, for clients that draw their own legend.
    if let Some(note) = &l.meta.note {
        body["note"] = json!(note);
    }
    body
}

fn feature_json(f: &Feature) -> Value {
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geojson::Geometry::from(&f.geometry),
        "properties": f.properties,
    })
}

fn encode_segment(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap_or_default().trim_start_matches('=').replace('+', "%20")
}
