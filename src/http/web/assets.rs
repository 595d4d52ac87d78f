//! The page's own assets (compiled in from `src/web/`) and Leaflet, from the CDN by default or
//! from `--leaflet-dir`.
//!
//! The page's script is a set of small ES modules. They are served under a path that carries a
//! hash of all the assets (`/web/{version}/main.js`), so that the modules' relative imports
//! (`./map.js`) carry it too: a browser never mixes a cached module of one build with another
//! build's, and each file can be cached for good. Bundling them into one file was rejected: it
//! needs a build step (a JavaScript toolchain) that `cargo build` does not have.

use std::sync::OnceLock;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::http::{ApiError, AppState};

/// The template of the viewer and of `/embed`, with `{{slot}}`s.
pub const PAGE_HTML: &str = include_str!("../../web/page.html");
/// The template of the desk editor's page, `/edit`.
pub const EDIT_HTML: &str = include_str!("../../web/edit.html");

/// The pages' own files under `/web/{version}/`: their stylesheets and their modules (`main.js`
/// and `edit.js` import the others), with their types.
pub const ASSETS: [(&str, &str, &str); 30] = [
    ("viewer.css", CSS, include_str!("../../web/viewer.css")),
    ("timeline.css", CSS, include_str!("../../web/timeline.css")),
    ("edit.css", CSS, include_str!("../../web/edit.css")),
    ("main.js", JS, include_str!("../../web/main.js")),
    ("checks.js", JS, include_str!("../../web/checks.js")),
    ("config.js", JS, include_str!("../../web/config.js")),
    ("dom.js", JS, include_str!("../../web/dom.js")),
    ("embed.js", JS, include_str!("../../web/embed.js")),
    ("event-section.js", JS, include_str!("../../web/event-section.js")),
    ("events.js", JS, include_str!("../../web/events.js")),
    ("filters.js", JS, include_str!("../../web/filters.js")),
    ("images.js", JS, include_str!("../../web/images.js")),
    ("legend.js", JS, include_str!("../../web/legend.js")),
    ("map.js", JS, include_str!("../../web/map.js")),
    ("messages.js", JS, include_str!("../../web/messages.js")),
    ("panel.js", JS, include_str!("../../web/panel.js")),
    ("popup.js", JS, include_str!("../../web/popup.js")),
    ("sprite.js", JS, include_str!("../../web/sprite.js")),
    ("state.js", JS, include_str!("../../web/state.js")),
    ("timeline.js", JS, include_str!("../../web/timeline.js")),
    ("urls.js", JS, include_str!("../../web/urls.js")),
    ("edit.js", JS, include_str!("../../web/edit.js")),
    ("edit-api.js", JS, include_str!("../../web/edit-api.js")),
    ("edit-conflict.js", JS, include_str!("../../web/edit-conflict.js")),
    ("edit-fields.js", JS, include_str!("../../web/edit-fields.js")),
    ("edit-form.js", JS, include_str!("../../web/edit-form.js")),
    ("edit-import.js", JS, include_str!("../../web/edit-import.js")),
    ("edit-list.js", JS, include_str!("../../web/edit-list.js")),
    ("edit-map.js", JS, include_str!("../../web/edit-map.js")),
    ("vector.js", JS, include_str!("../../web/vector.js")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The Leaflet release the pages are written for (the integrity hashes below are of it).
macro_rules! leaflet_version {
    () => {
        "1.9.4"
    };
}
/// Where the pages load Leaflet from by default (a path prefix, also used in the CSP).
pub const LEAFLET_CDN: &str = concat!("https://unpkg.com/leaflet@", leaflet_version!(), "/dist/");
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

/// The `<link>` and `<script>` elements that bring Leaflet into a page: the pinned CDN URLs with
/// their integrity hashes, or the server's own copy.
pub fn leaflet_tags(local: bool) -> (String, String) {
    if local {
        return (
            "<link rel=\"stylesheet\" href=\"/web/leaflet/leaflet.css\">".to_owned(),
            "<script src=\"/web/leaflet/leaflet.js\" defer></script>".to_owned(),
        );
    }
    (
        format!(
            "<link rel=\"stylesheet\" href=\"{LEAFLET_CDN}leaflet.css\" integrity=\"{LEAFLET_CSS_SRI}\" crossorigin=\"anonymous\">"
        ),
        format!(
            "<script src=\"{LEAFLET_CDN}leaflet.js\" integrity=\"{LEAFLET_JS_SRI}\" crossorigin=\"anonymous\" defer></script>"
        ),
    )
}

/// A short hash of the page and its assets: their path carries it, so that a new build is never
/// mixed with a cached old file.
pub fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new().chain_update(PAGE_HTML).chain_update(EDIT_HTML);
        for (name, _, body) in ASSETS {
            hash = hash.chain_update(name).chain_update(body);
        }
        hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// `GET /web/{version}/{file}`: one of the page's own files, with an `ETag` and
/// `If-None-Match`. Only the current version is served: its files never change, so they are
/// cached for a year.
pub async fn asset(
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let not_here = || ApiError::NotFound("no such file of the map page in this version of tessera".into());
    let Path((version, file)) = path.map_err(|_| not_here())?;
    let (_, content_type, body) =
        ASSETS.iter().find(|(n, ..)| *n == file).filter(|_| version == asset_version()).ok_or_else(not_here)?;
    let plain = format!("\"{}\"", asset_version());
    // A 304 carries the tag the client named (a compressed answer's is its own, see `etag`).
    let named = crate::http::etag::none_match(&headers, &plain);
    let etag = named.as_deref().unwrap_or(&plain);
    let common = [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        (header::ETAG, HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))),
    ];
    if named.is_some() {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((common, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], *body).into_response())
}

/// `GET /web/leaflet/{file}`: Leaflet from `--leaflet-dir`, when configured; only the files
/// in [`LEAFLET_FILES`].
pub async fn leaflet_file(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let not_here =
        || ApiError::NotFound("no such Leaflet file here (Leaflet is served locally only with --leaflet-dir)".into());
    let Path(file) = path.map_err(|_| not_here())?;
    let dir = state.config.server.leaflet_dir.clone().ok_or_else(not_here)?;
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
