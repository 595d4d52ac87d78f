//! The answer every tile (and cached JSON document) gets: a strong ETag, `If-None-Match` -> 304
//! (see [`super::etag`]), and the route's `Cache-Control`. The tile itself comes from the tile
//! service (`crate::service`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::observe::CacheOutcome;
use crate::cache::CachedTile;
use crate::service::Fetched;

/// `Cache-Control` for a `max-age` in seconds (0: revalidate every time).
pub fn cache_control(max_age: u64) -> HeaderValue {
    if max_age == 0 {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(HeaderValue::from_static("no-cache"))
    }
}

/// The answer for a tile: 304 when the client has it, 204 for an empty vector tile, else 200.
pub fn tile_response(headers: &HeaderMap, tile: CachedTile, content_type: &'static str, max_age: u64) -> Response {
    let cc = cache_control(max_age);
    if let Some(named) = super::etag::none_match(headers, &tile.etag) {
        let etag = HeaderValue::from_str(&named).unwrap_or(HeaderValue::from_static("\"\""));
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cc)]).into_response();
    }
    let etag = HeaderValue::from_str(&tile.etag).unwrap_or(HeaderValue::from_static("\"\""));
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

/// A tile from the tile service, as [`tile_response`] answers it, marked for the request log
/// with whether it came from the cache.
pub fn fetched_response(headers: &HeaderMap, fetched: Fetched, content_type: &'static str, max_age: u64) -> Response {
    let mut response = tile_response(headers, fetched.tile, content_type, max_age);
    response.extensions_mut().insert(if fetched.hit { CacheOutcome::Hit } else { CacheOutcome::Miss });
    response
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
