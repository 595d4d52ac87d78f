//! MapLibre GL JS and its RTL text plugin for the vector view (`?renderer=vector`): from pinned
//! CDN URLs with Subresource Integrity hashes by default, or from the server's own copies
//! (`--maplibre-dir`, `--rtl-text-dir`), as Leaflet is (see `assets`).
//!
//! MapLibre does not shape Arabic: without the plugin a name comes out as isolated letters in
//! logical order, left to right. The plugin (ICU compiled to WebAssembly) reorders each line
//! and writes Arabic in its presentation forms, which the glyphs of `/fonts` cover. MapLibre
//! loads it into its workers with `importScripts`, which takes no integrity hash: from the CDN,
//! the page fetches it with its hash and hands MapLibre a `blob:` URL of the checked bytes.
//! Hence the vector page's Content-Security-Policy: `blob:` workers (MapLibre's own) and
//! scripts (the checked plugin), and `'wasm-unsafe-eval'` to compile the plugin's WebAssembly,
//! which allows WebAssembly and not JavaScript `eval`.

use std::path::PathBuf;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::config::Config;
use crate::http::{ApiError, AppState};

/// Where MapLibre GL JS comes from by default (a path prefix, also used in the CSP).
pub const MAPLIBRE_CDN: &str = "https://unpkg.com/maplibre-gl@5.24.1/dist/";
/// SHA-384 of `dist/maplibre-gl.js` and `dist/maplibre-gl.css` of the npm package maplibre-gl@5.24.1.
const MAPLIBRE_JS_SRI: &str = "sha384-nXMl9YiLoSG5KBPTFgvxVuIqQQcqIvo0bFrvoEaGJC6r7IibIzF1S36Zbf/sKBtL";
const MAPLIBRE_CSS_SRI: &str = "sha384-uTttxo/aOKbdE5RlD/SPzSDoDmNvGlUYPjONi2MN/b7c9HPSvW07OIuyP7uL6jxK";
/// Where the RTL text plugin comes from by default (a path prefix, also used in the CSP).
pub const RTL_TEXT_CDN: &str = "https://unpkg.com/@mapbox/mapbox-gl-rtl-text@0.3.0/dist/";
/// The plugin's file.
const RTL_TEXT_FILE: &str = "mapbox-gl-rtl-text.js";
/// SHA-384 of `dist/mapbox-gl-rtl-text.js` of the npm package @mapbox/mapbox-gl-rtl-text@0.3.0.
const RTL_TEXT_SRI: &str = "sha384-gHAz8LjU4G81gHzalWNF5uIP0VHZYTwqHrYDKIHbc2L4IFafxWBVWR0/I9NIaHuj";

/// The `<link>` and `<script>` elements that bring MapLibre into the vector page.
pub fn maplibre_tags(config: &Config) -> (String, String) {
    if config.server.maplibre_dir.is_some() {
        return (
            "<link rel=\"stylesheet\" href=\"/web/maplibre/maplibre-gl.css\">".to_owned(),
            "<script src=\"/web/maplibre/maplibre-gl.js\" defer></script>".to_owned(),
        );
    }
    (
        format!(
            "<link rel=\"stylesheet\" href=\"{MAPLIBRE_CDN}maplibre-gl.css\" integrity=\"{MAPLIBRE_CSS_SRI}\" crossorigin=\"anonymous\">"
        ),
        format!(
            "<script src=\"{MAPLIBRE_CDN}maplibre-gl.js\" integrity=\"{MAPLIBRE_JS_SRI}\" crossorigin=\"anonymous\" defer></script>"
        ),
    )
}

/// Where the page gets the RTL plugin: `{ url, integrity }`, the integrity `null` for the
/// server's own copy.
pub fn rtl_plugin(config: &Config) -> serde_json::Value {
    match config.server.rtl_text_dir.is_some() {
        true => serde_json::json!({ "url": format!("/web/rtl-text/{RTL_TEXT_FILE}"), "integrity": null }),
        false => serde_json::json!({ "url": format!("{RTL_TEXT_CDN}{RTL_TEXT_FILE}"), "integrity": RTL_TEXT_SRI }),
    }
}

/// The vector page's Content-Security-Policy (see the module docs); `frames` is its
/// `frame-ancestors`.
pub fn vector_csp(config: &Config, frames: &str) -> String {
    let lib = match config.server.maplibre_dir {
        Some(_) => String::new(),
        None => format!(" {MAPLIBRE_CDN}"),
    };
    let plugin = match config.server.rtl_text_dir {
        Some(_) => String::new(),
        None => format!(" {RTL_TEXT_CDN}"),
    };
    format!(
        "default-src 'none'; script-src 'self'{lib} blob: 'wasm-unsafe-eval'; style-src 'self'{lib}; \
img-src 'self' data: blob:; connect-src 'self'{plugin}; worker-src blob:; child-src blob:; base-uri 'none'; \
form-action 'none'; frame-ancestors {frames}"
    )
}

/// `GET /web/maplibre/{file}`: `maplibre-gl.js` or `maplibre-gl.css` from `--maplibre-dir`.
pub async fn maplibre_file(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let files = [("maplibre-gl.js", JS), ("maplibre-gl.css", "text/css; charset=utf-8")];
    let dir = state.config.server.maplibre_dir.clone();
    library_file(dir, &files, path, "MapLibre is served locally only with --maplibre-dir").await
}

/// `GET /web/rtl-text/mapbox-gl-rtl-text.js`: the RTL text plugin from `--rtl-text-dir`.
pub async fn rtl_text_file(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let dir = state.config.server.rtl_text_dir.clone();
    library_file(dir, &[(RTL_TEXT_FILE, JS)], path, "the RTL plugin is served locally only with --rtl-text-dir").await
}

const JS: &str = "text/javascript; charset=utf-8";

/// One of a library's `files` from its directory, if configured; nothing else of it.
async fn library_file(
    dir: Option<PathBuf>,
    files: &[(&'static str, &'static str)],
    path: Result<Path<String>, PathRejection>,
    hint: &str,
) -> Result<Response, ApiError> {
    let not_here = || ApiError::NotFound(format!("no such file here ({hint})"));
    let Path(file) = path.map_err(|_| not_here())?;
    let dir = dir.ok_or_else(not_here)?;
    let (name, content_type) = files.iter().find(|(n, _)| *n == file).copied().ok_or_else(not_here)?;
    let body = tokio::task::spawn_blocking(move || std::fs::read(dir.join(name)))
        .await
        .map_err(|e| ApiError::Internal(format!("reading {name}: {e}")))?
        .map_err(|_| not_here())?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
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
    fn the_vector_csp_allows_maplibres_workers_and_exactly_the_pinned_paths() {
        let mut config = Config::default();
        let csp = vector_csp(&config, "'none'");
        assert!(csp.contains(&format!("script-src 'self' {MAPLIBRE_CDN} blob: 'wasm-unsafe-eval';")), "{csp}");
        assert!(csp.contains(&format!("connect-src 'self' {RTL_TEXT_CDN};")), "{csp}");
        assert!(csp.contains("worker-src blob:; child-src blob:") && !csp.contains("unsafe-inline"), "{csp}");
        config.server.maplibre_dir = Some("m".into());
        config.server.rtl_text_dir = Some("r".into());
        let local = vector_csp(&config, "*");
        assert!(local.contains("script-src 'self' blob:") && local.contains("connect-src 'self';"), "{local}");
        assert!(!local.contains("https:"), "{local}");
    }
}
