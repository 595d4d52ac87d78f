//! The map pages: the viewer (`GET /` for browsers), `/embed` for iframes, their script and
//! stylesheet (`/web/viewer.js`, `/web/viewer.css`, compiled into the binary from `src/web/`),
//! and Leaflet itself when it is served from a local directory (`/web/leaflet/...`).
//!
//! Leaflet is a dependency, not part of the repository. By default a page loads Leaflet
//! 1.9.4 from a pinned CDN URL with Subresource Integrity hashes, so a changed file
//! is refused by the browser; `--leaflet-dir` serves it from a local copy instead, for sites that
//! load no third-party script. Bundling it into the binary was rejected: it would put 160 kB of
//! someone else's code into this repository's build and its updates on this project.
//!
//! A page gets its settings as one JSON document in a `<script type="application/json">`
//! element, escaped so that no value can close the element; the page runs no inline script, so
//! the Content-Security-Policy forbids inline script altogether. `/embed` may be framed by any
//! site (`frame-ancestors *`); the viewer may not be framed (`frame-ancestors 'none'`): it is the
//! full page, and `/embed` is the page made for frames.

mod params;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::params::{MAP_LAYERS, View};
use super::{ApiError, AppState, query_pairs};
use crate::events::{CELL_PX, EventKind};
use crate::layer::Layer;
use crate::render::REGION_RADIUS_PX;
use crate::style::{Color, GeometryKind, Style, Symbol, kind_style};
use crate::tile::{LonLat, TileCoord};

/// The Leaflet release the pages are written for (the integrity hashes below are of it).
macro_rules! leaflet_version {
    () => {
        "1.9.4"
    };
}
/// Where the pages load Leaflet from by default (a path prefix, also used in the CSP).
const LEAFLET_CDN: &str = concat!("https://unpkg.com/leaflet@", leaflet_version!(), "/dist/");
/// SHA-384 of `leaflet/dist/leaflet.js` and `leaflet.css` of the npm package leaflet@1.9.4.
const LEAFLET_JS_SRI: &str = "sha384-cxOPjt7s7Iz04uaHJceBmS+qpjv2JkIHNVcuOrM+YHwZOmJGBXI00mdUXEq65HTH";
const LEAFLET_CSS_SRI: &str = "sha384-sHL9NAb7lN7rfvG5lfHpm643Xkcjzp4jFvuavGOndn6pjVqS6ny56CAt3nsEVT4H";
/// The files of Leaflet's `dist` directory a page can ask for, and their types; nothing else
/// of the directory is served.
const LEAFLET_FILES: [(&str, &str); 7] = [
    ("leaflet.js", "text/javascript; charset=utf-8"),
    ("leaflet.css", "text/css; charset=utf-8"),
    ("images/layers.png", "image/png"),
    ("images/layers-2x.png", "image/png"),
    ("images/marker-icon.png", "image/png"),
    ("images/marker-icon-2x.png", "image/png"),
    ("images/marker-shadow.png", "image/png"),
];

const PAGE_HTML: &str = include_str!("../web/page.html");
const VIEWER_JS: &str = include_str!("../web/viewer.js");
const VIEWER_CSS: &str = include_str!("../web/viewer.css");

/// The map pages and their assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/embed", get(embed))
        .route(
            "/web/viewer.js",
            get(|h: HeaderMap| async move { asset(&h, VIEWER_JS, "text/javascript; charset=utf-8") }),
        )
        .route("/web/viewer.css", get(|h: HeaderMap| async move { asset(&h, VIEWER_CSS, "text/css; charset=utf-8") }))
        .route("/web/leaflet/{*file}", get(leaflet_file))
}

/// Which page: the full viewer or the page for iframes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Viewer,
    Embed,
}

/// The viewer, `GET /` for browsers; the view comes from the same parameters as `/embed`.
pub fn viewer(state: &AppState, pairs: &[(String, String)]) -> Response {
    page(state, Page::Viewer, pairs)
}

/// `GET /embed?layers=&lat=&lon=&zoom=&from=&to=&kind=`.
async fn embed(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    // A query that is not even URL encoding still gets the default map, not a JSON error
    // inside someone's article.
    page(&state, Page::Embed, &query_pairs(q.as_deref()).unwrap_or_default())
}

fn page(state: &AppState, which: Page, pairs: &[(String, String)]) -> Response {
    let c = &state.catalog;
    let view = View::parse(pairs, c, state.settings.max_zoom);
    let local = state.settings.leaflet_dir.is_some();
    let config = page_config(state, which, &view);
    let (lib_css, lib_js) = if local {
        (
            "<link rel=\"stylesheet\" href=\"/web/leaflet/leaflet.css\">".to_owned(),
            "<script src=\"/web/leaflet/leaflet.js\" defer></script>".to_owned(),
        )
    } else {
        (
            format!(
                "<link rel=\"stylesheet\" href=\"{LEAFLET_CDN}leaflet.css\" integrity=\"{LEAFLET_CSS_SRI}\" crossorigin=\"anonymous\">"
            ),
            format!(
                "<script src=\"{LEAFLET_CDN}leaflet.js\" integrity=\"{LEAFLET_JS_SRI}\" crossorigin=\"anonymous\" defer></script>"
            ),
        )
    };
    let html = fill(
        PAGE_HTML,
        &[
            ("title", escape(&c.title)),
            ("description", escape(&c.description)),
            ("page", if which == Page::Viewer { "viewer" } else { "embed" }.to_owned()),
            ("leaflet_css", lib_css),
            ("leaflet_js", lib_js),
            ("version", asset_version().to_owned()),
            ("config", json_for_script(&config)),
            ("noscript_tiles", noscript_tiles(state)),
        ],
    );
    let mut headers = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(header::CONTENT_SECURITY_POLICY, &csp(which, local));
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(header::CACHE_CONTROL, "no-cache");
    set(header::VARY, "Accept");
    if which == Page::Viewer {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
    (headers, html).into_response()
}

/// The Content-Security-Policy of a page: its own origin, plus exactly the CDN path of Leaflet
/// when Leaflet comes from there; no inline script, no plugins, no forms, no `<base>`.
fn csp(which: Page, local: bool) -> String {
    let lib = if local { String::new() } else { format!(" {LEAFLET_CDN}") };
    let frames = if which == Page::Embed { "*" } else { "'none'" };
    format!(
        "default-src 'none'; script-src 'self'{lib}; style-src 'self'{lib}; img-src 'self' data:{lib}; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frames}"
    )
}

/// Everything the page script needs, as JSON.
fn page_config(state: &AppState, which: Page, view: &View) -> Value {
    let c = &state.catalog;
    let [lon, lat, zoom] = c.center();
    let max_zoom = state.settings.max_zoom;
    let default_zoom = (zoom.round().max(0.0) as u8).min(max_zoom);
    let shown: Vec<&Layer> = match &view.data_layers {
        Some(ids) => c.layers().iter().filter(|l| ids.contains(&l.meta.id)).collect(),
        None => c.layers().iter().collect(),
    };
    let show = view.show.unwrap_or([true; 3]);
    json!({
        "page": if which == Page::Viewer { "viewer" } else { "embed" },
        "title": c.title,
        "publicUrl": state.settings.public_url,
        "defaults": { "lat": lat, "lon": lon, "zoom": default_zoom },
        "view": {
            "lat": view.lat.unwrap_or(lat),
            "lon": view.lon.unwrap_or(lon),
            "zoom": view.zoom.unwrap_or(default_zoom),
            "from": view.from,
            "to": view.to,
            "kinds": view.kinds,
            "show": MAP_LAYERS.iter().zip(show).map(|(k, on)| (k.to_string(), Value::Bool(on))).collect::<serde_json::Map<_, _>>(),
            "dataLayers": view.data_layers,
        },
        "maxZoom": max_zoom,
        "attribution": c.attribution(shown.iter().copied()),
        "layers": shown.iter().map(|l| legend_entry(l)).collect::<Vec<_>>(),
        "events": {
            "cellPx": CELL_PX,
            "regionRadiusPx": REGION_RADIUS_PX,
            "kinds": EventKind::ALL.iter().map(|&k| {
                let (symbol, color) = kind_style(k);
                json!({ "id": k.as_str(), "label": kind_label(k), "symbol": symbol_name(symbol), "color": hex(color) })
            }).collect::<Vec<_>>(),
        },
        "notes": view.notes,
    })
}

/// One layer of the legend: its id, title, and its distinct styles (at most four).
fn legend_entry(l: &Layer) -> Value {
    let mut styles: Vec<(GeometryKind, &Style)> = Vec::new();
    for f in l.features() {
        let s = (f.shape.kind(), l.style_of(f));
        if !styles.contains(&s) {
            styles.push(s);
            if styles.len() == 4 {
                break;
            }
        }
    }
    let styles: Vec<Value> = styles
        .into_iter()
        .map(|(g, s)| {
            json!({
                "geometry": match g { GeometryKind::Point => "point", GeometryKind::Line => "line", GeometryKind::Polygon => "polygon" },
                "fill": s.fill.map(hex), "stroke": s.stroke.map(hex), "width": s.stroke_width, "dash": s.dash,
                "symbol": symbol_name(s.symbol), "size": s.size, "ring": s.ring.map(hex),
            })
        })
        .collect();
    json!({ "id": l.meta.id, "title": l.meta.title, "minzoom": l.meta.minzoom, "styles": styles })
}

fn kind_label(k: EventKind) -> &'static str {
    match k {
        EventKind::Airstrike => "Air strike",
        EventKind::Shelling => "Shelling",
        EventKind::GroundClash => "Ground fighting",
        EventKind::Casualties => "Casualties",
        EventKind::Displacement => "Displacement",
        EventKind::HospitalHit => "Hospital hit",
        EventKind::Talks => "Talks",
        EventKind::Statement => "Statement",
        EventKind::Agreement => "Agreement",
        EventKind::Other => "Other",
    }
}

fn symbol_name(s: Symbol) -> &'static str {
    match s {
        Symbol::Circle => "circle",
        Symbol::Square => "square",
        Symbol::Triangle => "triangle",
        Symbol::Diamond => "diamond",
        Symbol::Star => "star",
        Symbol::Hospital => "hospital",
        Symbol::ObservationPoint => "observation-point",
    }
}

/// `#rrggbbaa`.
fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a)
}

/// For browsers without script: the 3x3 tiles around the default view.
fn noscript_tiles(state: &AppState) -> String {
    let c = &state.catalog;
    let [lon, lat, zoom] = c.center();
    let z = (zoom.round().max(0.0) as u8).min(state.settings.max_zoom);
    let Ok(centre) = TileCoord::containing(LonLat::new(lon, lat).to_world(), z) else {
        return String::new();
    };
    let n = 1i64 << z;
    let mut out = String::new();
    for dy in -1i64..=1 {
        for dx in -1i64..=1 {
            let (x, y) = (i64::from(centre.x()) + dx, i64::from(centre.y()) + dy);
            if (0..n).contains(&x) && (0..n).contains(&y) {
                out.push_str(&format!(
                    "<img src=\"/tiles/{z}/{x}/{y}.png\" srcset=\"/tiles/{z}/{x}/{y}@2x.png 2x\" width=\"256\" height=\"256\" alt=\"tile {z}/{x}/{y}\">"
                ));
            }
        }
    }
    out
}

/// Fills `{{name}}` slots in one pass, so that a value is never searched for slots itself.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v))) {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` are written as
/// `\u` escapes (so no `</script>` or `<!--` can appear), as are U+2028 and U+2029.
fn json_for_script(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
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

/// A short hash of the page's script and stylesheet: their URLs carry it, so that a new build
/// is never mixed with a cached old script.
fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = Sha256::new().chain_update(VIEWER_JS).chain_update(VIEWER_CSS).chain_update(PAGE_HTML).finalize();
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// One of the page's own assets, with an `ETag` and `If-None-Match`.
fn asset(headers: &HeaderMap, body: &'static str, content_type: &'static str) -> Response {
    let etag = format!("\"{}\"", asset_version());
    let fresh = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag));
    let common = [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        (header::ETAG, HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

/// `GET /web/leaflet/{file}`: Leaflet from `--leaflet-dir`, when configured; only the files
/// in [`LEAFLET_FILES`].
async fn leaflet_file(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let not_here =
        || ApiError::NotFound("no such Leaflet file here (Leaflet is served locally only with --leaflet-dir)".into());
    let Path(file) = path.map_err(|_| not_here())?;
    let dir = state.settings.leaflet_dir.clone().ok_or_else(not_here)?;
    let (name, content_type) = LEAFLET_FILES.iter().find(|(n, _)| *n == file).copied().ok_or_else(not_here)?;
    let body = tokio::task::spawn_blocking(move || std::fs::read(dir.join(name)))
        .await
        .map_err(|e| ApiError::Internal(format!("reading Leaflet's {name}: {e}")))?
        .map_err(|_| not_here())?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = json!({ "title": "</script><script>alert(1)</script><!-- & \u{2028}" });
        let s = json_for_script(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&') && !s.contains('\u{2028}'), "{s}");
        assert_eq!(serde_json::from_str::<Value>(&s).ok(), Some(v));
    }

    #[test]
    fn slots_are_filled_once_and_values_are_not_read_as_slots() {
        let out = fill("<t>{{a}}</t>{{b}}{{unknown}}", &[("a", "{{b}}".into()), ("b", "B".into())]);
        assert_eq!(out, "<t>{{b}}</t>B{{unknown}}");
    }

    #[test]
    fn the_csp_allows_exactly_leaflets_cdn_path_and_frames_only_the_embed() {
        let viewer = csp(Page::Viewer, false);
        assert!(viewer.contains("script-src 'self' https://unpkg.com/leaflet@1.9.4/dist/;"), "{viewer}");
        assert!(viewer.contains("frame-ancestors 'none'") && !viewer.contains("unsafe"));
        let embed = csp(Page::Embed, true);
        assert!(embed.contains("script-src 'self';") && embed.contains("frame-ancestors *"), "{embed}");
    }

    #[test]
    fn the_page_has_every_slot_filled() {
        for slot in ["title", "description", "page", "leaflet_css", "leaflet_js", "version", "config", "noscript_tiles"]
        {
            assert!(PAGE_HTML.contains(&format!("{{{{{slot}}}}}")), "{slot}");
        }
    }
}
