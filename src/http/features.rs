//! OGC API - Features, read side (Part 1: Core, GeoJSON, HTML pages; Part 3: queryables):
//! conformance, collections, queryables, items.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::cached::json_with_etag;
use super::pages::{self, Format};
use super::{ApiError, AppState, query_pairs, schema};
use crate::layer::{Feature, Layer};
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
pub async fn conformance(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/conformance")?;
    let body = json!({ "conformsTo": CONFORMANCE });
    Ok(match pages::negotiate(&pairs, &headers)? {
        Format::Html => pages::conformance(&body, &state.base_url(&headers)),
        Format::Json => (vary(), Json(body)).into_response(),
    })
}

/// `Vary: Accept`, for the routes whose answer depends on it.
pub(super) fn vary() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::VARY, HeaderValue::from_static("Accept"))]
}

/// `GET /collections`.
pub async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections")?;
    let format = pages::negotiate(&pairs, &headers)?;
    let base = state.base_url(&headers);
    let mut list: Vec<Value> = state.catalog.layers().iter().map(|l| describe(l, &base)).collect();
    list.push(super::events::describe(&base, state.events.extent()));
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
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections/{id}")?;
    let format = pages::negotiate(&pairs, &headers)?;
    let layer = find_layer(&state, path)?;
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
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections/{id}/queryables")?;
    json_only(&pairs)?;
    let Path(id) = path.map_err(|_| ApiError::NotFound("the path is not valid UTF-8".into()))?;
    let base = state.base_url(&headers);
    // Part 3: `$id` is the URI of the resource without query parameters.
    let uri = format!("{base}/collections/{id}/queryables");
    let body = match state.catalog.layer(&id) {
        Some(layer) => schema::layer_queryables(layer, &uri),
        None if id == "events" => schema::event_queryables(&uri),
        None => return Err(unknown_collection(&id)),
    };
    Ok(json_with_etag(&headers, &body, SCHEMA_JSON, state.config.tiles.tile_max_age))
}

/// The media type of JSON Schema documents.
pub const SCHEMA_JSON: &str = "application/schema+json";

/// `GET /collections/{id}/items?bbox=&datetime=&limit=&offset=`.
pub async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let layer = find_layer(&state, path)?;
    let params =
        ItemsQuery::parse(q.as_deref(), state.config.features.items_limit, state.config.features.items_max_limit)?;
    let matched: Vec<usize> = match &params.bbox {
        None => (0..layer.features().len()).collect(),
        Some(boxes) => {
            let mut all: Vec<usize> = boxes.iter().flat_map(|b| layer.query_bbox(b)).collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    };
    let page: Vec<Value> =
        matched.iter().skip(params.offset).take(params.limit).map(|&i| feature_json(&layer.features()[i])).collect();
    let base = state.base_url(&headers);
    let href = |offset: usize| params.href(&format!("{base}/collections/{}/items", layer.meta.id), offset);
    let mut links = vec![
        json!({ "href": href(params.offset), "rel": "self", "type": GEOJSON, "title": "this page" }),
        json!({ "href": format!("{base}/collections/{}", layer.meta.id), "rel": "collection", "type": "application/json" }),
    ];
    if params.offset + page.len() < matched.len() {
        links.push(
            json!({ "href": href(params.offset + page.len()), "rel": "next", "type": GEOJSON, "title": "next page" }),
        );
    }
    if params.offset > 0 {
        // From past the end, "previous" is the last page.
        let prev = params.offset.min(matched.len()).saturating_sub(params.limit);
        links.push(json!({ "href": href(prev), "rel": "prev", "type": GEOJSON, "title": "previous page" }));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched.len(),
        "numberReturned": page.len(),
        "features": page,
        "links": links,
    });
    Ok(json_with_etag(&headers, &body, GEOJSON, state.config.tiles.tile_max_age))
}

/// `GET /collections/{id}/items/{fid}`.
pub async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections/{id}/items/{fid}")?;
    json_only(&pairs)?;
    let Path((id, fid)) = path.map_err(|_| ApiError::NotFound("the path is not valid UTF-8".into()))?;
    let layer = state.catalog.layer(&id).ok_or_else(|| unknown_collection(&id))?;
    let feature = layer.feature_by_id(&fid).ok_or_else(|| {
        ApiError::NotFound(format!("collection '{id}' has no feature '{}'", fid.chars().take(64).collect::<String>()))
    })?;
    let base = state.base_url(&headers);
    let mut body = feature_json(feature);
    body["links"] = json!([
        { "href": format!("{base}/collections/{id}/items/{}", encode_segment(&fid)), "rel": "self", "type": GEOJSON },
        { "href": format!("{base}/collections/{id}"), "rel": "collection", "type": "application/json" },
    ]);
    Ok(json_with_etag(&headers, &body, GEOJSON, state.config.tiles.tile_max_age))
}

fn find_layer(state: &AppState, path: Result<Path<String>, PathRejection>) -> Result<&Layer, ApiError> {
    let Path(id) = path.map_err(|_| ApiError::NotFound("the path is not valid UTF-8".into()))?;
    state.catalog.layer(&id).ok_or_else(|| unknown_collection(&id))
}

fn unknown_collection(id: &str) -> ApiError {
    ApiError::NotFound(format!("no collection '{}'; see /collections", id.chars().take(64).collect::<String>()))
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

/// The parameters of an items query, validated.
struct ItemsQuery {
    /// One box, or two when the box crosses the antimeridian.
    bbox: Option<Vec<LonLatBBox>>,
    bbox_text: Option<String>,
    /// Checked, and carried into the links; a layer's features have no time, so every one matches.
    datetime: Option<String>,
    limit: usize,
    offset: usize,
}

impl ItemsQuery {
    fn parse(q: Option<&str>, default_limit: usize, max_limit: usize) -> Result<Self, ApiError> {
        let mut out = Self { bbox: None, bbox_text: None, datetime: None, limit: default_limit, offset: 0 };
        for (k, v) in query_pairs(q)? {
            match k.as_str() {
                "bbox" => {
                    out.bbox = Some(parse_bbox(&v)?);
                    out.bbox_text = Some(v);
                }
                "datetime" => {
                    super::events::parse_datetime("datetime", &v)?;
                    out.datetime = Some(v);
                }
                "limit" => out.limit = parse_limit(&v, max_limit)?,
                "offset" => out.offset = parse_count("offset", &v)?,
                "f" if v == "json" => {}
                "f" => return Err(ApiError::param("f", "only f=json is served here")),
                other => {
                    return Err(ApiError::param(
                        other,
                        "unknown parameter; items take bbox, datetime, limit, offset and f",
                    ));
                }
            }
        }
        Ok(out)
    }

    fn href(&self, path: &str, offset: usize) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(b) = &self.bbox_text {
            pairs.push(("bbox", b.clone()));
        }
        if let Some(d) = &self.datetime {
            pairs.push(("datetime", d.clone()));
        }
        pairs.push(("limit", self.limit.to_string()));
        pairs.push(("offset", offset.to_string()));
        format!("{path}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

/// A `limit`: at least 1; above the maximum it is lowered to it, as OGC API - Features asks.
pub(crate) fn parse_limit(v: &str, max_limit: usize) -> Result<usize, ApiError> {
    match parse_count("limit", v)? {
        0 => Err(ApiError::param("limit", "must be at least 1")),
        n => Ok(n.min(max_limit)),
    }
}

/// A non-negative integer parameter.
pub(crate) fn parse_count(name: &str, v: &str) -> Result<usize, ApiError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(name, format!("'{}' is not a non-negative integer", truncate(v))));
    }
    // Too large for usize means "as many as you have": a huge limit is lowered like any limit
    // above the maximum, and a huge offset is past the end.
    Ok(v.parse().unwrap_or(usize::MAX))
}

fn truncate(v: &str) -> String {
    v.chars().take(32).collect()
}

/// `minLon,minLat,maxLon,maxLat` (or the six-number form with heights, which are ignored).
pub(crate) fn parse_bbox(v: &str) -> Result<Vec<LonLatBBox>, ApiError> {
    let bad = |why: &str| ApiError::param("bbox", format!("'{}' {why}", truncate(v)));
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("is not a list of numbers"))?;
    let [west, south, east, north] = match nums.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(bad("must have 4 numbers: west,south,east,north")),
    };
    if !nums.iter().all(|n| n.is_finite()) {
        return Err(bad("has a number that is not finite"));
    }
    if ![west, east].iter().all(|x| (-180.0..=180.0).contains(x))
        || ![south, north].iter().all(|y| (-90.0..=90.0).contains(y))
    {
        return Err(bad("is out of range: longitudes -180..180, latitudes -90..90"));
    }
    if south > north {
        return Err(bad("has its south edge north of its north edge"));
    }
    Ok(LonLatBBox::crossing(west, south, east, north))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_forms() {
        assert_eq!(parse_bbox("36,35,37,36").map(|b| b.len()).ok(), Some(1));
        assert_eq!(parse_bbox("170,-10,-170,10").map(|b| b.len()).ok(), Some(2));
        assert_eq!(parse_bbox("36,35,0,37,36,100").map(|b| b.len()).ok(), Some(1));
        for bad in ["", "1,2,3", "a,b,c,d", "0,0,200,1", "0,10,1,5", "0,0,1,inf", "0,0,1,NaN"] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }
}
