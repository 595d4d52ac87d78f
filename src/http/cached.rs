//! The path every tile takes: the cache (with single flight), the bounded render pool, and an
//! answer with a strong ETag, `If-None-Match` -> 304, and the route's `Cache-Control`.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::cache::{CachedTile, TileKey};

/// Looks a tile up, or renders it once on the pool (concurrent identical requests share the
/// render) and keeps it.
pub async fn get_or_render(
    state: &AppState,
    key: TileKey,
    render: impl FnOnce() -> Result<Vec<u8>, ApiError> + Send + 'static,
) -> Result<CachedTile, ApiError> {
    let pool = Arc::clone(&state.pool);
    state
        .cache
        .get_or_make(key, async move { pool.run(render).await?.map(CachedTile::new) })
        .await
        .map_err(Arc::unwrap_or_clone)
}

/// `Cache-Control` for a `max-age` in seconds (0: revalidate every time).
pub fn cache_control(max_age: u64) -> HeaderValue {
    if max_age == 0 {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(HeaderValue::from_static("no-cache"))
    }
}

/// Whether `If-None-Match` names this ETag (or `*`).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag))
}

/// The answer for a tile: 304 when the client has it, 204 for an empty vector tile, else 200.
pub fn tile_response(headers: &HeaderMap, tile: CachedTile, content_type: &'static str, max_age: u64) -> Response {
    let etag = HeaderValue::from_str(&tile.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cc = cache_control(max_age);
    if not_modified(headers, &tile.etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cc)]).into_response();
    }
    if tile.body.is_empty() {
        return (StatusCode::NO_CONTENT, [(header::ETAG, etag), (header::CACHE_CONTROL, cc)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cc),
        ],
        tile.body,
    )
        .into_response()
}

/// A JSON answer (a layer, items, TileJSON) with a strong ETag computed from its bytes,
/// `If-None-Match` -> 304, and `Cache-Control` for `max_age`.
pub fn json_with_etag(
    headers: &HeaderMap,
    body: &serde_json::Value,
    content_type: &'static str,
    max_age: u64,
) -> Response {
    tile_response(headers, CachedTile::new(body.to_string().into_bytes()), content_type, max_age)
}

/// Makes the ETag of a compressed answer weak (`W/"..."`). The cache keeps one body per tile and
/// the compression layer encodes it per request, so gzip, br and identity answers would share
/// one strong ETag, which RFC 9110 (8.8.3) forbids: a strong ETag names one exact sequence of
/// bytes. A weak one says "the same content", which they are, and `If-None-Match` compares
/// weakly, so a client holding any of them still gets its 304; the 304 echoes the weak form when
/// the client sent it. Runs outside the compression layer.
pub async fn weak_etag_when_encoded(request: Request, next: Next) -> Response {
    let sent_weak = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim_start().starts_with("W/")));
    let mut response = next.run(request).await;
    let encoded = response.headers().contains_key(header::CONTENT_ENCODING);
    if encoded || (response.status() == StatusCode::NOT_MODIFIED && sent_weak) {
        let headers = response.headers_mut();
        let weak = headers
            .get(header::ETAG)
            .and_then(|tag| tag.to_str().ok())
            .filter(|tag| !tag.starts_with("W/"))
            .and_then(|tag| HeaderValue::from_str(&format!("W/{tag}")).ok());
        if let Some(weak) = weak {
            headers.insert(header::ETAG, weak);
        }
    }
    response
}
