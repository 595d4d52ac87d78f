//! The landing page (OGC API - Features; the map viewer for browsers, see `web`) and `/health`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, AppState, query_pairs};

/// `GET /`: JSON for `?f=json` or an `Accept` without `text/html`; HTML for browsers.
pub async fn landing(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    let f = pairs.iter().find(|(k, _)| k == "f").map(|(_, v)| v.as_str());
    let wants_html = match f {
        Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::param("f", "use f=json or f=html")),
        None => headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html")),
    };
    let vary = [(header::VARY, HeaderValue::from_static("Accept"))];
    let base = state.base_url(&headers);
    if wants_html {
        return Ok(super::web::viewer(&state, &pairs));
    }
    // The JSON landing page takes the viewer's parameters too (the same URL serves both), and
    // refuses any other.
    super::refuse_unknown(&pairs, &LANDING_PARAMETERS, "/")?;
    let c = &state.catalog;
    let body = json!({
        "title": c.title,
        "description": c.description,
        "attribution": c.attribution(c.layers()),
        "links": [
            { "href": format!("{base}/?f=json"), "rel": "self", "type": "application/json", "title": "this document" },
            { "href": format!("{base}/?f=html"), "rel": "alternate", "type": "text/html", "title": "this page as HTML" },
            { "href": format!("{base}/openapi.json"), "rel": "service-desc", "type": super::openapi::OPENAPI_JSON, "title": "the API definition (OpenAPI 3.0)" },
            { "href": format!("{base}/api?f=html"), "rel": "service-doc", "type": "text/html", "title": "the API documentation" },
            { "href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes" },
            { "href": format!("{base}/collections"), "rel": "data", "type": "application/json", "title": "the layers as feature collections" },
            { "href": format!("{base}/tiles.json"), "rel": "describedby", "type": "application/json", "title": "TileJSON of the raster tiles" },
        ],
    });
    Ok((vary, Json(body)).into_response())
}

/// The parameters of `/`: `f`, and the view of the map page.
const LANDING_PARAMETERS: [&str; 8] = ["f", "lat", "lon", "zoom", "from", "to", "kind", "layers"];

/// `GET /health`.
pub async fn health(State(state): State<AppState>, RawQuery(q): RawQuery) -> Result<Json<serde_json::Value>, ApiError> {
    super::refuse_unknown(&query_pairs(q.as_deref())?, &[], "/health")?;
    Ok(Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "layers": state.catalog.layers().len(),
        "features": state.catalog.feature_count(),
        "events": state.events.len(),
        "events_read_only": state.events.read_only(),
        "events_store": state.events.backend(),
        "events_in_sync": state.events.in_sync(),
        "cached_tiles": state.cache.len(),
        "cached_bytes": state.cache.bytes(),
        "render_jobs": state.pool.load(),
        "tiles_rendered": state.pool.finished(),
    })))
}
