//! The events collection: reads, and writes in the style of OGC API - Features Part 4.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, PathRejection};
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::etag::{self, Precondition};
use super::{ApiError, AppState, query_pairs};
use crate::events::{
    Event, EventExtent, EventFilter, EventInput, EventKind, Expect, FieldError, StorageFault, StoreError, TimeSpan,
};

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
pub async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections/events")?;
    let base = state.base_url(&headers);
    let body = describe(&base, state.events.extent());
    Ok(match super::pages::negotiate(&pairs, &headers)? {
        super::pages::Format::Html => super::pages::collection(&body, &base),
        super::pages::Format::Json => (super::features::vary(), axum::Json(body)).into_response(),
    })
}

/// Most ids one `ids=` takes: a page of a marker's events, well within the URL limit.
pub const MAX_IDS: usize = 100;

/// `GET /collections/events/items?bbox=&datetime=&kind=&ids=&limit=&offset=`.
pub async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut filter = EventFilter::default();
    let (mut limit, mut offset) = (state.config.features.items_limit, 0usize);
    let mut kept: Vec<(String, String)> = Vec::new();
    for (k, v) in query_pairs(q.as_deref())? {
        match k.as_str() {
            "bbox" => filter.bbox = Some(super::features::parse_bbox(&v)?),
            "datetime" => filter.time = Some(parse_datetime("datetime", &v)?),
            "kind" => filter.kinds = Some(parse_kinds(&v)?),
            "ids" => filter.ids = Some(parse_ids(&v)?),
            "limit" => limit = super::features::parse_limit(&v, state.config.features.items_max_limit)?,
            "offset" => {
                offset = super::features::parse_count("offset", &v)?;
                continue;
            }
            "f" if v == "json" => continue,
            "f" => return Err(ApiError::param("f", "only f=json is served here")),
            other => {
                return Err(ApiError::param(
                    other,
                    "unknown parameter; event items take bbox, datetime, kind, ids, limit, offset and f",
                ));
            }
        }
        if k != "limit" {
            kept.push((k, v));
        }
    }
    let store = Arc::clone(&state.events);
    let f = filter.clone();
    let (matched, page) = tokio::task::spawn_blocking(move || store.query(&f, offset, limit))
        .await
        .map_err(|e| ApiError::Internal(format!("events query: {e}")))?;
    let base = format!("{}/collections/events/items", state.base_url(&headers));
    let href = |off: usize| {
        let mut pairs = kept.clone();
        pairs.push(("limit".into(), limit.to_string()));
        pairs.push(("offset".into(), off.to_string()));
        format!("{base}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let mut links = vec![json!({ "href": href(offset), "rel": "self", "type": GEOJSON })];
    if offset + page.len() < matched {
        links.push(json!({ "href": href(offset + page.len()), "rel": "next", "type": GEOJSON }));
    }
    if offset > 0 {
        links.push(json!({ "href": href(offset.min(matched).saturating_sub(limit)), "rel": "prev", "type": GEOJSON }));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.len(),
        "features": page.iter().map(|e| e.to_feature()).collect::<Vec<_>>(),
        "links": links,
    });
    Ok(super::cached::json_with_etag(&headers, &body, GEOJSON, state.config.tiles.events_max_age))
}

/// `GET /collections/events/items/{id}`, with `If-None-Match`.
pub async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(q.as_deref())?;
    super::refuse_unknown(&pairs, &["f"], "/collections/events/items/{id}")?;
    super::features::json_only(&pairs)?;
    let e = find(&state, path)?;
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
    let (inputs, batch) = match v.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let Some(features) = v.get("features").and_then(Value::as_array) else {
                return Err(ApiError::InvalidEvent(vec![field("features", "must be an array of Features")]));
            };
            if features.len() > state.config.events.max_batch {
                return Err(ApiError::PayloadTooLarge(format!(
                    "a batch holds at most {} events; this one has {}",
                    state.config.events.max_batch,
                    features.len()
                )));
            }
            if features.is_empty() {
                return Err(ApiError::InvalidEvent(vec![field("features", "is empty")]));
            }
            let mut errors = Vec::new();
            let mut inputs = Vec::new();
            for (i, f) in features.iter().enumerate() {
                match EventInput::from_feature(f, &format!("features[{i}].")) {
                    Ok(e) => inputs.push(e),
                    Err(mut errs) => errors.append(&mut errs),
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::InvalidEvent(errors));
            }
            (inputs, true)
        }
        _ => (vec![EventInput::from_feature(&v, "").map_err(ApiError::InvalidEvent)?], false),
    };
    let store = Arc::clone(&state.events);
    let created = blocking(move || store.insert(inputs)).await?;
    let base = format!("{}/collections/events/items", state.base_url(&headers));
    if batch {
        let body = json!({
            "type": "FeatureCollection",
            "numberReturned": created.len(),
            "features": created.iter().map(|e| e.to_feature()).collect::<Vec<_>>(),
        });
        return Ok(geojson(StatusCode::CREATED, &body, None));
    }
    let e = created.first().ok_or_else(|| ApiError::Internal("insert returned nothing".into()))?;
    let mut resp = geojson(StatusCode::CREATED, &e.to_feature(), Some(e));
    if let Ok(loc) = HeaderValue::from_str(&format!("{base}/{}", e.id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `PUT /collections/events/items/{id}`: replaces the event; needs `If-Match`.
pub async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Request,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, path)?;
    let expect = if_match(&headers, &cur)?;
    let v = json_body(&state, &headers, body, &["application/json", GEOJSON]).await?;
    let input = EventInput::from_feature(&v, "").map_err(ApiError::InvalidEvent)?;
    store_replacement(&state, &cur, input, expect, "differs from the id in the URL").await
}

/// `PATCH /collections/events/items/{id}`: a JSON Merge Patch (RFC 7396); needs `If-Match`.
pub async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Request,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, path)?;
    let expect = if_match(&headers, &cur)?;
    let patch = json_body(&state, &headers, body, &["application/merge-patch+json"]).await?;
    let mut doc = cur.to_feature();
    merge_patch(&mut doc, &patch);
    let input = EventInput::from_feature(&doc, "").map_err(ApiError::InvalidEvent)?;
    store_replacement(&state, &cur, input, expect, "cannot be changed").await
}

/// The end of PUT and PATCH: the id must stay, the store replaces the event, and the tiles at
/// its old and new position are dropped before the answer.
async fn store_replacement(
    state: &AppState,
    cur: &Event,
    input: EventInput,
    expect: Expect,
    id_problem: &str,
) -> Result<Response, ApiError> {
    if input.id.as_ref().is_some_and(|id| *id != cur.id) {
        return Err(ApiError::InvalidEvent(vec![field("id", id_problem)]));
    }
    let (store, id) = (Arc::clone(&state.events), cur.id.clone());
    let e = blocking(move || store.replace(&id, input, expect)).await?;
    Ok(geojson(StatusCode::OK, &e.to_feature(), Some(&e)))
}

/// `DELETE /collections/events/items/{id}`: needs `If-Match`.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let cur = find(&state, path)?;
    let expect = if_match(&headers, &cur)?;
    let (store, id) = (Arc::clone(&state.events), cur.id.clone());
    blocking(move || store.delete(&id, expect)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn find(state: &AppState, path: Result<Path<String>, PathRejection>) -> Result<Arc<Event>, ApiError> {
    let Path(id) = path.map_err(|_| ApiError::NotFound("the path is not valid UTF-8".into()))?;
    state
        .events
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no event '{}'", id.chars().take(64).collect::<String>())))
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
            ct.chars().take(64).collect::<String>()
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
    serde_json::from_str(text).map_err(|e| ApiError::InvalidJson(format!("the body is not valid JSON: {e}")))
}

/// The deepest nesting of `[` and `{` outside strings.
pub(super) fn nesting(text: &str) -> usize {
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

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
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

fn field(name: &str, problem: &str) -> FieldError {
    FieldError { field: name.into(), problem: problem.into() }
}

/// Runs a store write off the executor and maps its errors.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("store task: {e}")))?.map_err(|e| {
        match e {
            StoreError::NotFound(id) => ApiError::NotFound(format!("no event '{id}'")),
            StoreError::Conflict(_) => ApiError::Conflict(e.to_string()),
            StoreError::Stale { .. } => ApiError::PreconditionFailed(e.to_string()),
            // The store has logged what failed.
            StoreError::Unwritable { fault, .. } => ApiError::StorageUnavailable(fault),
            other => {
                tracing::error!(error = %other, "an event write failed");
                ApiError::StorageUnavailable(StorageFault::Failed)
            }
        }
    })
}

/// A `datetime` (or `from`/`to`) value.
pub fn parse_datetime(name: &str, v: &str) -> Result<TimeSpan, ApiError> {
    TimeSpan::parse_filter(v).map_err(|e| ApiError::param(name, e.to_string()))
}

/// A comma-separated list of kinds.
/// `ids`: comma-separated event ids, at most [`MAX_IDS`], each one an id the server could hold.
pub fn parse_ids(v: &str) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
    if ids.len() > MAX_IDS {
        return Err(ApiError::param("ids", format!("at most {MAX_IDS} ids in one request")));
    }
    if let Some(bad) = ids.iter().position(|id| !crate::events::valid_id(id)) {
        return Err(ApiError::param(
            "ids",
            format!("id {} is not an event id (1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-')", bad + 1),
        ));
    }
    Ok(ids)
}

pub fn parse_kinds(v: &str) -> Result<Vec<EventKind>, ApiError> {
    v.split(',')
        .map(|k| {
            EventKind::parse(k.trim()).ok_or_else(|| {
                ApiError::param(
                    "kind",
                    format!("'{}' is not one of: {}", k.chars().take(40).collect::<String>(), EventKind::list()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_brackets_in_strings() {
        assert_eq!(nesting(r#"{"a": "[[[[{{{", "b": [[1]]}"#), 3);
        assert_eq!(nesting(r#"{"a": "\"[["}"#), 1);
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }
}
