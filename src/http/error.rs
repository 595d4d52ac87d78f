//! The one error type of the HTTP layer, and how each case answers.
//!
//! | status | code | when |
//! | --- | --- | --- |
//! | 400 | `invalid_tile` | a tile path whose z, x or y is not a non-negative integer |
//! | 404 | `tile_out_of_range` | x or y not below 2^z, or z above the maximum zoom |
//! | 404 | `unsupported_format` | a tile file name other than `{y}.png`, `.webp`, `.jpg` (each with `@2x`) or `{y}.mvt`; a `.jpg` overlay (overlays are transparent) |
//! | 400 | `unknown_layer` | `?layers=` names a layer that does not exist, or is empty |
//! | 400 | `invalid_parameter` | a bad `bbox`, `datetime`, `kind`, `limit`, `offset` or `f`, a parameter a JSON route does not take, a tile's or the style's `lang` other than `en`, `ar`, `both` or `none`, or a malformed glyph range or font stack |
//! | 404 | `not_found` | an unknown collection, feature, font, archive, archived tile or route |
//! | 400 | `invalid_view` | a static map's centre, zoom, box or size that does not parse or is out of range |
//! | 400 | `image_too_large` | a static map wider or taller than the limit |
//! | 416 | `range_not_satisfiable` | a `Range` of an archive file that is malformed, beyond its end, or names several ranges (with `Content-Range: bytes */LENGTH`) |
//! | 405 | `method_not_allowed` | a method the route does not take |
//! | 408 | `request_timeout` | the request was not received and answered within `request_timeout_secs` |
//! | 400 | `invalid_json` | a request body that is not JSON (or not UTF-8), or nested too deeply |
//! | 400 | `bad_request` | a request that is not valid HTTP/1.1 (request line, header, `Content-Length` or chunked framing), or a body that ends early |
//! | 401 | `unauthorized` | a write without `Authorization: Bearer <token>`, or with a wrong token (with `WWW-Authenticate: Bearer`) |
//! | 403 | `writes_disabled` | a write while no write token is configured |
//! | 409 | `conflict` | a new event whose id is taken |
//! | 412 | `precondition_failed` | `If-Match` names a version that is no longer current |
//! | 413 | `payload_too_large` | a body above the size limit, or a batch above the batch limit |
//! | 414 | `uri_too_long` | a path and query longer than `max_url_bytes` |
//! | 415 | `unsupported_media_type` | a body that is not `application/json`, `application/geo+json` or, for PATCH, `application/merge-patch+json` |
//! | 422 | `invalid_event` | a body that is JSON but not a valid event; `errors` lists each field and its problem |
//! | 428 | `precondition_required` | PUT, PATCH or DELETE without `If-Match` |
//! | 431 | `headers_too_large` | header lines longer than `max_header_bytes` in all, or more than 100 of them |
//! | 500 | `internal` | a failure inside the server; the details go to the log only |
//! | 503 | `overloaded` | the render queue is full, or `max_concurrent_requests` are being answered; `Retry-After: 1` |
//! | 503 | `storage_unavailable` | the event database cannot write (disk full, read-only data directory, I/O error; PostgreSQL unreachable), said which; nothing of the write is stored (but for a connection lost during the commit, which is said); `Retry-After: 30` (`5` for PostgreSQL unreachable); reads keep working |

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::events::{FieldError, StorageFault};

/// Marks an answer that shed load (503 `overloaded`), for the count of them.
#[derive(Debug, Clone, Copy)]
pub struct Shed;

/// At most the first 64 characters of something a client sent, for an error message that
/// names it (an error never echoes a client's megabyte back).
pub fn clip(v: &str) -> String {
    v.chars().take(64).collect()
}

/// An answer other than success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A tile path that does not parse.
    #[error("{0}")]
    InvalidTile(String),
    /// A tile that does not exist at this zoom, or a zoom above the maximum.
    #[error("{0}")]
    TileOutOfRange(String),
    /// A tile file name this route does not serve.
    #[error("'{ext}' is not a tile format served here: use {accepted}")]
    UnsupportedFormat {
        /// What the name ended in (clipped).
        ext: String,
        /// What the route serves, e.g. `{y}.png or {y}@2x.png`.
        accepted: &'static str,
    },
    /// A format without transparency asked of a transparent overlay.
    #[error("overlay tiles are transparent and '{0}' (JPEG) has no transparency: use .png or .webp")]
    OpaqueFormat(&'static str),
    /// `?layers=` is unusable.
    #[error("{0}")]
    UnknownLayer(String),
    /// A query parameter is unusable.
    #[error("parameter '{name}': {reason}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing here.
    #[error("{0}")]
    NotFound(String),
    /// A static map's view or size is unusable.
    #[error("{0}")]
    InvalidView(String),
    /// A static map is larger than the limit.
    #[error("{0}")]
    ImageTooLarge(String),
    /// A `Range` that cannot be served.
    #[error("{reason}")]
    RangeNotSatisfiable {
        /// The file's length, bytes (for `Content-Range: bytes */LENGTH`).
        len: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The route does not take this method.
    #[error("this route does not take that method")]
    MethodNotAllowed,
    /// The body is not JSON, not UTF-8, or nested too deeply.
    #[error("{0}")]
    InvalidJson(String),
    /// No or wrong bearer token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// No token is configured, so no write is accepted.
    #[error(
        "writes are disabled: start the server with TESSERA_WRITE_TOKEN set (or write_token in the config file) and send it as 'Authorization: Bearer <token>'"
    )]
    WritesDisabled,
    /// The id of a new event is taken.
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` is stale.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `If-Match` is missing.
    #[error(
        "this write needs an If-Match header with the event's ETag (from GET), or If-Match: * to overwrite whatever is there"
    )]
    PreconditionRequired,
    /// The body or batch is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's media type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is JSON but not a valid event.
    #[error("the event is not valid: {}", problems(.0))]
    InvalidEvent(Vec<FieldError>),
    /// The store cannot write now.
    #[error("the event database cannot accept writes: {}; {}, and reads keep working", .0.explain(), .0.outcome())]
    StorageUnavailable(StorageFault),
    /// The render queue, the heavy queue or the answer buffer is full.
    #[error(
        "the server is busy: its queue of rendering or heavy work, or its memory for large answers, is full; try again in a moment"
    )]
    Overloaded,
    /// As many requests as the server takes at once are being answered.
    #[error(
        "the server is answering {limit} requests at once, its limit (max_concurrent_requests); try again in a moment"
    )]
    Busy {
        /// `max_concurrent_requests`.
        limit: usize,
    },
    /// The request did not arrive, or was not answered, in time.
    #[error("the request was not received and answered within {} s (request_timeout_secs); send the whole request promptly", .limit.as_secs_f64())]
    RequestTimeout {
        /// `request_timeout_secs`.
        limit: std::time::Duration,
    },
    /// The path and query are too long.
    #[error("the URL (path and query) is longer than {limit} bytes (max_url_bytes)")]
    UriTooLong {
        /// `max_url_bytes`.
        limit: usize,
    },
    /// The header lines are too large, or too many.
    #[error("the request's headers are larger than {limit} bytes in all (max_header_bytes), or more than 100 lines")]
    HeadersTooLarge {
        /// `max_header_bytes`.
        limit: usize,
    },
    /// The request is not valid HTTP, or its body cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// A server-side failure; the text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Each field and its problem, `field: problem; ...` (the problem alone for the whole body).
fn problems(errors: &[FieldError]) -> String {
    let each = errors.iter().map(|e| match e.field.as_str() {
        "" => e.problem.clone(),
        field => format!("{field}: {}", e.problem),
    });
    each.collect::<Vec<_>>().join("; ")
}

impl ApiError {
    /// A tile file name ending in `ext`, which a route serving `accepted` does not serve.
    pub fn unsupported_format(ext: &str, accepted: &'static str) -> Self {
        Self::UnsupportedFormat { ext: ext.chars().take(16).collect(), accepted }
    }

    /// A bad query parameter.
    pub fn param(name: &str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { name: clip(name), reason: reason.into() }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidTile(_) => (StatusCode::BAD_REQUEST, "invalid_tile"),
            Self::TileOutOfRange(_) => (StatusCode::NOT_FOUND, "tile_out_of_range"),
            Self::UnsupportedFormat { .. } | Self::OpaqueFormat(_) => (StatusCode::NOT_FOUND, "unsupported_format"),
            Self::UnknownLayer(_) => (StatusCode::BAD_REQUEST, "unknown_layer"),
            Self::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::InvalidView(_) => (StatusCode::BAD_REQUEST, "invalid_view"),
            Self::ImageTooLarge(_) => (StatusCode::BAD_REQUEST, "image_too_large"),
            Self::RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::WritesDisabled => (StatusCode::FORBIDDEN, "writes_disabled"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
            Self::PreconditionRequired => (StatusCode::PRECONDITION_REQUIRED, "precondition_required"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::InvalidEvent(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
            Self::StorageUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable"),
            Self::Overloaded | Self::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::RequestTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::UriTooLong { .. } => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            Self::HeadersTooLarge { .. } => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl ApiError {
    /// The status and the JSON body of the answer; a 5xx logs its detail here, once.
    pub(super) fn status_and_body(&self) -> (StatusCode, serde_json::Value) {
        let (status, code) = self.status_and_code();
        let description = match self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "the server failed to answer this request; the failure has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({ "code": code, "description": description, "status": status.as_u16() });
        if let Self::InvalidEvent(errors) = self {
            body["errors"] = json!(errors);
        }
        (status, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        let mut response = (status, Json(body)).into_response();
        if let Self::Unauthorized(_) = self {
            // RFC 6750: a 401 names the scheme the client must use.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // RFC 9110 10.2.3: tells clients (and tile libraries that honour it) when to retry. A
        // full or read-only disk takes a person to mend, not a second.
        if let Self::Overloaded | Self::Busy { .. } = self {
            // Counted by the limits layer, which sees every answer or refuses it itself (see
            // `service::Shedding`); the request log leaves such answers to that count.
            response.extensions_mut().insert(Shed);
        }
        let retry = match self {
            Self::Overloaded | Self::Busy { .. } => Some(1),
            Self::StorageUnavailable(fault) => Some(fault.retry_after()),
            _ => None,
        };
        if let Some(secs) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // RFC 9110 15.5.17: a 416 says how long the representation is.
        if let Self::RangeNotSatisfiable { len, .. } = self
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}"))
        {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        response
    }
}

impl From<crate::service::TileError> for ApiError {
    fn from(e: crate::service::TileError) -> Self {
        use crate::service::TileError;
        match e {
            TileError::Overloaded => Self::Overloaded,
            TileError::UnknownImage(id) => {
                Self::NotFound(format!("no image overlay '{}'; see /overlays for the overlays", clip(&id)))
            }
            TileError::Failed(detail) => Self::Internal(detail),
        }
    }
}

impl From<crate::service::EventError> for ApiError {
    fn from(e: crate::service::EventError) -> Self {
        use crate::service::EventError;
        match e {
            EventError::NotFound(id) => Self::NotFound(format!("no event '{}'", clip(&id))),
            EventError::Conflict(_) => Self::Conflict(e.to_string()),
            EventError::Stale(why) => Self::PreconditionFailed(why),
            EventError::Invalid(errors) => Self::InvalidEvent(errors),
            EventError::TooMany { .. } => Self::PayloadTooLarge(e.to_string()),
            EventError::Unavailable(fault) => Self::StorageUnavailable(fault),
        }
    }
}
