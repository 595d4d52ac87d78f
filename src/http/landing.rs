//! The landing page (OGC API - Features; the map viewer for browsers, see `web`) and `/health`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::query::Query;
use super::{ApiError, AppState};

/// `GET /`: JSON for `?f=json` or an `Accept` without `text/html`; HTML for browsers.
pub async fn landing(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    let f = q.pairs().iter().find(|(k, _)| k == "f").map(|(_, v)| v.as_str());
    let wants_html = match f {
        Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::param("f", "use f=json or f=html")),
        None => headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html")),
    };
    let vary = [(header::VARY, HeaderValue::from_static("Accept"))];
    let base = state.base_url(&headers);
    if wants_html {
        return Ok(super::web::viewer(&state, q.pairs()));
    }
    // The JSON landing page takes the viewer's parameters too (the same URL serves both), and
    // refuses any other.
    q.only(&LANDING_PARAMETERS, "/")?;
    let c = &state.catalog();
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
pub async fn health(State(state): State<AppState>, q: Query) -> Result<Json<serde_json::Value>, ApiError> {
    q.only(&[], "/health")?;
    let events = state.events.store();
    let catalog = state.catalog();
    Ok(Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "layers": catalog.layers().len(),
        "features": catalog.feature_count(),
        "geodata": state.geodata_status(),
        "events": events.len(),
        "events_read_only": events.read_only(),
        "events_store": events.backend(),
        "events_in_sync": events.in_sync(),
        "cached_tiles": state.tiles.cache().len(),
        "cached_bytes": state.tiles.cache().bytes(),
        "render_jobs": state.tiles.jobs(),
        "tiles_rendered": state.tiles.rendered(),
        "heavy_jobs": state.heavy.jobs(),
        "answer_buffer_kib": state.heavy.buffered_kib(),
        "shed_requests": state.shedding.total(),
    })))
}
