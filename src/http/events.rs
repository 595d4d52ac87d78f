//! The events collection: reads, and writes in the style of OGC API - Features Part 4.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::clip;
use super::etag::{self, Precondition};
use super::extract::Segment;
use super::paging::Page;
use super::query::Query;
use super::{ApiError, AppState};
use crate::cache::CachedTile;
use crate::events::{Event, EventExtent, EventFilter, Expect};
use crate::service::Created;

const GEOJSON: &str = "application/geo+json";
/// Deepest nesting of arrays and objects accepted in a body.
pub const MAX_DEPTH: usize = 32;

/// The events collection as listed in `/collections`, with the extent of the stored events
/// (computed from the index at each request: the store changes).
pub fn describe(base: &str, extent: Option<EventExtent>) -> Value {
    let mut extent_json = json!({
        "spatial": { "bbox": [], "crs": CRS84 },
        "temporal": { "interval": [], "trs": GREGORIAN },
    });
    if let Some(x) = extent {
        extent_json["spatial"]["bbox"] = json!([x.bbox.to_array()]);
        extent_json["temporal"]["interval"] = json!([[rfc3339(x.time.start), rfc3339(x.time.end)]]);
    }
    json!({
        "id": "events",
        "title": "Events",
        "description": "Event markers (air strikes, shelling, casualties, displacement, talks...) with their time, casualties and sources. Points with location_precision 'region' stand for 'somewhere in the region' and do not locate the event.",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent_json,
        "links": [
            { "href": format!("{base}/collections/events"), "rel": "self", "type": "application/json" },
            { "href": format!("{base}/collections/events?f=html"), "rel": "alternate", "type": "text/html", "title": "this collection as HTML" },
            { "href": format!("{base}/collections/events/items"), "rel": "items", "type": GEOJSON },
            { "href": format!("{base}/collections/events/queryables"), "rel": super::features::REL_QUERYABLES, "type": super::features::SCHEMA_JSON, "title": "the properties of an event (JSON Schema)" },
        ],
    })
}

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// The temporal reference system of OGC API - Features extents.
const GREGORIAN: &str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

/// Seconds since 1970 as an RFC 3339 UTC date-time, to the second.
fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// `GET /collections/events`.
pub async fn collection(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections/events")?;
    let base = state.base_url(&headers);
    let body = describe(&base, state.events.store().extent());
    Ok(match super::pages::negotiate(q.pairs(), &headers)? {
        super::pages::Format::Html => super::pages::collection(&body, &base),
        super::pages::Format::Json => (super::features::vary(), axum::Json(body)).into_response(),
    })
}

/// `GET /collections/events/items?bbox=&datetime=&kind=&ids=&limit=&offset=`, made on the
/// heavy pool (a page may hold 10,000 events), 503 when it is full.
pub async fn items(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    const TAKES: [&str; 7] = ["bbox", "datetime", "kind", "ids", "limit", "offset", "f"];
    q.only(&TAKES, "event items")?;
    super::features::json_only(q.pairs())?;
    let features = &state.config.features;
    let filter = EventFilter { bbox: q.bbox()?, time: q.datetime()?, kinds: q.kinds()?, ids: q.ids()? };
    let (limit, offset) = (q.limit(features.items_limit, features.items_max_limit)?, q.offset()?);
    let url = format!("{}/collections/events/items", state.base_url(&headers));
    let kept: Vec<(&'static str, String)> =
        ["bbox", "datetime", "kind", "ids"].into_iter().filter_map(|k| q.last(k).map(|v| (k, v.to_owned()))).collect();
    let store = Arc::clone(state.events.store());
    let page = move || {
        let (matched, found) = store.query(&filter, offset, limit);
        let page = Page {
            url,
            kept: kept.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            limit,
            offset,
            matched,
            returned: found.len(),
        };
        let body = json!({
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": found.len(),
            "features": found.iter().map(|e| e.to_feature()).collect::<Vec<_>>(),
            "links": page.links(GEOJSON),
        });
        Some(CachedTile::new(body.to_string().into_bytes()))
    };
    let max_age = state.config.tiles.events_max_age;
    let gone = ApiError::NotFound("the events collection".into());
    super::heavy::document(&state.heavy, &headers, GEOJSON, max_age, gone, page).await
}

/// `GET /collections/events/items/{id}`, with `If-None-Match`.
pub async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    q: Query,
) -> Result<Response, ApiError> {
    q.only(&["f"], "/collections/events/items/{id}")?;
    super::features::json_only(q.pairs())?;
    let e = find(&state, &id)?;
    let cc = super::cached::cache_control(state.config.tiles.events_max_age);
    if let Some(named) = etag::none_match(&headers, &e.etag()) {
        let tag = HeaderValue::from_str(&named).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag), (header::CACHE_CONTROL, cc)]).into_response());
    }
    let mut resp = geojson(StatusCode::OK, &e.to_feature(), Some(&e));
    resp.headers_mut().insert(header::CACHE_CONTROL, cc);
    Ok(resp)
}

/// `POST /collections/events/items`: a Feature (201 with `Location`) or a FeatureCollection
/// (a batch, all or nothing).
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Request) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let v = json_body(&state, &headers, body, &["application/json", GEOJSON]).await?;
    match state.events.create(&v).await? {
        Created::Batch(events) => {
            let body = json!({
                "type": "FeatureCollection",
                "numberReturned": events.len(),
                "features": events.iter().map(|e| e.to_feature()).collect::<Vec<_>>(),
            });
            Ok(geojson(StatusCode::CREATED, &body, None))
        }
        Created::One(e) => {
            let mut resp = geojson(StatusCode::CREATED, &e.to_feature(), Some(&e));
            let location = format!("{}/collections/events/items/{}", state.base_url(&headers), e.id);
            if let Ok(loc) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            Ok(resp)
        }
    }
}

/// `PUT /collections/events/items/{id}`: replaces the event; needs `If-Match`.
pub async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    body: Request,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, &id)?;
    let expect = if_match(&headers, &cur)?;
    let v = json_body(&state, &headers, body, &["application/json", GEOJSON]).await?;
    let e = state.events.replace(&cur, &v, expect).await?;
    Ok(geojson(StatusCode::OK, &e.to_feature(), Some(&e)))
}

/// `PATCH /collections/events/items/{id}`: a JSON Merge Patch (RFC 7396); needs `If-Match`.
pub async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
    body: Request,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, &id)?;
    let expect = if_match(&headers, &cur)?;
    let patch = json_body(&state, &headers, body, &["application/merge-patch+json"]).await?;
    let e = state.events.patch(&cur, &patch, expect).await?;
    Ok(geojson(StatusCode::OK, &e.to_feature(), Some(&e)))
}

/// `DELETE /collections/events/items/{id}`: needs `If-Match`.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Segment(id): Segment,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, &id)?;
    let expect = if_match(&headers, &cur)?;
    state.events.delete(&cur.id, expect).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn find(state: &AppState, id: &str) -> Result<Arc<Event>, ApiError> {
    state.events.get(id).ok_or_else(|| ApiError::NotFound(format!("no event '{}'", clip(id))))
}

/// Checks the bearer token in constant time (over SHA-256 digests, so that the comparison
/// does not even leak the token's length). The token is never logged.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.config.events.write_token else {
        return Err(ApiError::WritesDisabled);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("this write needs 'Authorization: Bearer <token>'"))?
        .as_bytes();
    // RFC 9110 11.1: the scheme is case-insensitive and followed by one or more spaces.
    let token = given
        .split_at_checked(b"Bearer ".len())
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(b"Bearer "))
        .map(|(_, rest)| rest.trim_ascii_start())
        .ok_or(ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    if token.is_empty() {
        return Err(ApiError::Unauthorized("the Authorization header has no token after 'Bearer'"));
    }
    let a = Sha256::digest(token);
    let b = Sha256::digest(expected.expose().as_bytes());
    if bool::from(a.ct_eq(&b)) { Ok(()) } else { Err(ApiError::Unauthorized("the token is not the write token")) }
}

/// Reads a JSON body of an accepted media type, within the size and depth limits. Handlers
/// call it last, so that a write without the token (or with a stale `If-Match`, or the wrong
/// type) is refused before a byte of its body is read or held.
async fn json_body(state: &AppState, headers: &HeaderMap, body: Request, types: &[&str]) -> Result<Value, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !types.contains(&essence.as_str()) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the body as {} (Content-Type was '{}')",
            types.join(" or "),
            clip(ct)
        )));
    }
    let too_large =
        || ApiError::PayloadTooLarge(format!("the body is larger than {} bytes", state.config.limits.max_body_bytes));
    // A body announced too large is refused before a byte of it is read.
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > state.config.limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let bytes = Bytes::from_request(body, &()).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => too_large(),
        _ => ApiError::BadRequest(
            "the body could not be read: it ended before its Content-Length, or its chunked encoding is broken".into(),
        ),
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::InvalidJson("the body is not valid UTF-8".into()))?;
    if nesting(text) > MAX_DEPTH {
        return Err(ApiError::InvalidJson(format!("the body nests arrays and objects deeper than {MAX_DEPTH} levels")));
    }
    super::strict_json::parse(text).map_err(|e| ApiError::InvalidJson(format!("the body is not valid JSON: {e}")))
}

/// The deepest nesting of `[` and `{` outside strings.
pub(crate) fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        match (in_str, b) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') => in_str = false,
            (true, _) => {}
            (false, b'"') => in_str = true,
            (false, b'[' | b'{') => {
                depth += 1;
                max = max.max(depth);
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `If-Match`: required; `*`, or the ETag of any representation of the current version (the
/// plain, gzip or brotli answer's: see [`etag`]). The store checks the version again inside
/// its transaction, so an event changed since this check is refused there.
fn if_match(headers: &HeaderMap, cur: &Event) -> Result<Expect, ApiError> {
    let current = cur.etag();
    let sent = || {
        let v = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).unwrap_or("");
        v.chars().take(80).collect::<String>()
    };
    match etag::if_match(headers, &current) {
        Precondition::Absent => Err(ApiError::PreconditionRequired),
        Precondition::Any => Ok(Expect::Any),
        Precondition::Current => Ok(Expect::Version(cur.version)),
        Precondition::Weak => Err(ApiError::PreconditionFailed(format!(
            "If-Match {} names the event by a weak ETag, and If-Match compares strongly, so a weak ETag never matches (RFC 9110 13.1.1): send the ETag as a GET answers it now ({current})",
            sent()
        ))),
        Precondition::Malformed => Err(ApiError::PreconditionFailed(format!(
            "If-Match {} holds no quoted ETag: send the ETag with its quotes, as a GET answers it ({current}), or *",
            sent()
        ))),
        Precondition::Stale => Err(ApiError::PreconditionFailed(format!(
            "the event has changed since it was read (If-Match {}); its current ETag is {current}: read it again and merge",
            sent()
        ))),
    }
}

fn etag_value(e: &Event) -> HeaderValue {
    HeaderValue::from_str(&e.etag()).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

fn geojson(status: StatusCode, body: &Value, e: Option<&Event>) -> Response {
    let mut resp =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON))], body.to_string()).into_response();
    if let Some(e) = e {
        resp.headers_mut().insert(header::ETAG, etag_value(e));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_brackets_in_strings() {
        assert_eq!(nesting(r#"{"a": "[[[[{{{", "b": [[1]]}"#), 3);
        assert_eq!(nesting(r#"{"a": "\"[["}"#), 1);
    }
}
