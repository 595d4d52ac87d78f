//! The landing page (OGC API - Features, and a small HTML page for browsers) and `/health`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{ApiError, AppState, query_pairs};
use crate::tile::{LonLat, TileCoord};

/// `GET /`: JSON for `?f=json` or an `Accept` without `text/html`; HTML for browsers.
pub async fn landing(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let f = query_pairs(q.as_deref())?.into_iter().find(|(k, _)| k == "f").map(|(_, v)| v);
    let wants_html = match f.as_deref() {
        Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::param("f", "use f=json or f=html")),
        None => headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html")),
    };
    let vary = [(header::VARY, HeaderValue::from_static("Accept"))];
    let base = state.base_url(&headers);
    if wants_html {
        return Ok((vary, Html(html_page(&state))).into_response());
    }
    let c = &state.catalog;
    let body = json!({
        "title": c.title,
        "description": c.description,
        "attribution": c.attribution(c.layers()),
        "links": [
            { "href": format!("{base}/?f=json"), "rel": "self", "type": "application/json", "title": "this document" },
            { "href": format!("{base}/?f=html"), "rel": "alternate", "type": "text/html", "title": "this page as HTML" },
            { "href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes" },
            { "href": format!("{base}/collections"), "rel": "data", "type": "application/json", "title": "the layers as feature collections" },
            { "href": format!("{base}/tiles.json"), "rel": "describedby", "type": "application/json", "title": "TileJSON of the raster tiles" },
        ],
    });
    Ok((vary, Json(body)).into_response())
}

/// `GET /health`.
pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "layers": state.catalog.layers().len(),
        "features": state.catalog.feature_count(),
    }))
}

/// A page with no script: a 3x3 block of tiles around the default view, and the links.
fn html_page(state: &AppState) -> String {
    let c = &state.catalog;
    let [lon, lat, zoom] = c.center();
    let z = (zoom.round() as u8).min(state.settings.max_zoom);
    let mut grid = String::new();
    if let Ok(centre) = TileCoord::containing(LonLat::new(lon, lat).to_world(), z) {
        let n = 1i64 << z;
        for dy in -1i64..=1 {
            for dx in -1i64..=1 {
                let (x, y) = (i64::from(centre.x()) + dx, i64::from(centre.y()) + dy);
                if (0..n).contains(&x) && (0..n).contains(&y) {
                    grid.push_str(&format!("<img src=\"/tiles/{z}/{x}/{y}.png\" srcset=\"/tiles/{z}/{x}/{y}@2x.png 2x\" width=\"256\" height=\"256\" alt=\"tile {z}/{x}/{y}\">"));
                }
            }
        }
    }
    let layers: String = c
        .layers()
        .iter()
        .map(|l| {
            format!(
                "<li><a href=\"/collections/{id}/items\">{title}</a>: {desc}</li>",
                id = escape(&l.meta.id),
                title = escape(&l.meta.title),
                desc = escape(&l.meta.description)
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>body{{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;max-width:60rem}}\
.grid{{display:grid;grid-template-columns:repeat(3,256px);gap:0;max-width:100%;overflow:auto}}\
.grid img{{display:block}}small{{color:#555}}</style></head><body>\
<h1>{title}</h1><p>{desc}</p><div class=\"grid\">{grid}</div><p><small>{attr}</small></p>\
<h2>Routes</h2><ul><li><a href=\"/tiles.json\">/tiles.json</a> (TileJSON)</li>\
<li><a href=\"/collections\">/collections</a> (OGC API - Features)</li>\
<li><a href=\"/?f=json\">/?f=json</a> (landing page as JSON)</li><li><a href=\"/health\">/health</a></li></ul>\
<h2>Layers</h2><ul>{layers}</ul></body></html>",
        title = escape(&c.title),
        desc = escape(&c.description),
        attr = escape(&c.attribution(c.layers())),
    )
}

/// Escapes text for HTML element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
