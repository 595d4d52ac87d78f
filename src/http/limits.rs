//! Limits on each request, checked in front of every route: the length of the URL and of the
//! header lines, how many requests are answered at once, and how long one may take. Each
//! refusal is an [`ApiError`], so a JSON answer like any other.
//!
//! The number of requests in progress is bounded with a semaphore that is tried, never
//! awaited: past the limit a request is refused at once with 503 and `Retry-After`, rather than
//! queued, so that latency cannot grow without bound and a client learns to back off. (The
//! number of connections is bounded apart, in `server`, by not accepting more.) The timeout
//! covers reading the body too, since the handlers read it: a client that sends its headers
//! and part of a body, then stalls, is answered 408 and its connection closed; it holds no
//! thread meanwhile, only a task waiting on its socket.
//!
//! [`error_answers`] is the net under all of this: an error answer made without JSON (an
//! extractor's plain-text rejection, say) is given the JSON shape, so that no client ever meets
//! a bare or plain-text error. Requests that hyper cannot parse at all never reach these layers;
//! `server` gives their answers the same shape. It also closes the connection after an error
//! answer to a request that came with a body: the body may not have been read (a write without
//! the token is refused before its body is read, a 413 as soon as its `Content-Length` says so),
//! and a connection with unread bytes in it cannot carry the next request. Saying
//! `Connection: close` keeps a client from reusing it, instead of finding it closed later.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::ApiError;
use super::error::Shed;
use crate::config::Config;
use crate::metrics::{Metrics, Shed as ShedReason};
use crate::service::Shedding;

/// The limits every request meets, shared by all of them.
#[derive(Debug)]
pub struct RequestLimits {
    max_url_bytes: usize,
    max_header_bytes: usize,
    timeout: Duration,
    in_progress: Semaphore,
    max_in_progress: usize,
    /// Where refusals are counted by reason.
    metrics: Arc<Metrics>,
    /// Counts every request answered 503 `overloaded`, here or further in, and summarises
    /// them in the log.
    shedding: Arc<Shedding>,
}

impl RequestLimits {
    /// The limits of this configuration, counting the requests they shed in `metrics` (by
    /// reason) and `shedding` (every one, wherever it was shed).
    pub fn new(config: &Config, metrics: Arc<Metrics>, shedding: Arc<Shedding>) -> Self {
        Self {
            metrics,
            max_url_bytes: config.limits.max_url_bytes,
            max_header_bytes: config.limits.max_header_bytes,
            timeout: config.request_timeout(),
            in_progress: Semaphore::new(config.limits.max_concurrent_requests),
            max_in_progress: config.limits.max_concurrent_requests,
            shedding,
        }
    }

    /// The refusal of a request whose URL or headers are too large (414, 431), if it is one.
    pub fn oversize(&self, uri: &Uri, headers: &HeaderMap) -> Option<ApiError> {
        if url_bytes(uri) > self.max_url_bytes {
            return Some(ApiError::UriTooLong { limit: self.max_url_bytes });
        }
        if header_bytes(headers) > self.max_header_bytes {
            return Some(ApiError::HeadersTooLarge { limit: self.max_header_bytes });
        }
        None
    }

    /// A place among the `max_concurrent_requests` in progress, held until dropped; `None` when
    /// they are all taken.
    pub fn place(&self) -> Option<SemaphorePermit<'_>> {
        self.in_progress.try_acquire().ok()
    }
}

/// Whether a request comes with a body (a `Content-Length` other than 0, or chunked).
pub fn has_body(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
        || headers.contains_key(header::TRANSFER_ENCODING)
}

/// The length of a request target in bytes: path and query, and the scheme and host when the
/// client sent an absolute URL.
pub fn url_bytes(uri: &Uri) -> usize {
    uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.scheme_str().map_or(0, |s| s.len() + "://".len())
        + uri.authority().map_or(0, |a| a.as_str().len())
}

/// The size of the header lines in bytes, as hyper parsed them: each line's name, `: `, value
/// and CRLF.
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len()).sum()
}

/// Refuses a request whose URL or headers are too large (414, 431) or that comes when
/// `max_concurrent_requests` are in progress (503), and answers 408 when the rest of the stack
/// takes longer than the request timeout.
pub async fn enforce(State(limits): State<Arc<RequestLimits>>, req: Request, next: Next) -> Response {
    if let Some(refusal) = limits.oversize(req.uri(), req.headers()) {
        return refusal.into_response();
    }
    let Some(_place) = limits.place() else {
        limits.metrics.shed(ShedReason::Concurrency);
        limits.shedding.record();
        return ApiError::Busy { limit: limits.max_in_progress }.into_response();
    };
    let response = match tokio::time::timeout(limits.timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout { limit: limits.timeout }.into_response(),
    };
    if response.extensions().get::<Shed>().is_some() {
        limits.shedding.record();
    }
    response
}

/// Gives the JSON error shape to an error answer that lacks it, and `Connection: close` to an
/// error answer to a request with a body.
pub async fn error_answers(req: Request, next: Next) -> Response {
    let with_body = has_body(req.headers());
    let mut response = next.run(req).await;
    let status = response.status();
    if with_body && (status.is_client_error() || status.is_server_error()) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    tracing::warn!(status = status.as_u16(), "an error answer without JSON was given the JSON shape");
    let mut answer = standing_in_for(status).into_response();
    for name in [header::ALLOW, header::CONNECTION] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// The error that answers in place of a bare one with this status.
fn standing_in_for(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::NotFound("no such route; see / for the routes".into()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the body is larger than this route takes".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("this route does not take a body of that type".into())
        }
        s if s.is_client_error() => {
            ApiError::BadRequest("the request could not be read: its path, query or body is malformed".into())
        }
        s => ApiError::Internal(format!("a {s} answer without a JSON body")),
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Path;
    use axum::routing::get;
    use hyper::service::Service;
    use hyper_util::service::TowerToHyperService;

    use super::*;

    /// The answer of a router with [`error_answers`] and one route that takes a number.
    async fn answer(request: Request) -> (StatusCode, HeaderMap, serde_json::Value) {
        let router = Router::new()
            .route("/n/{n}", get(|Path(n): Path<u32>| async move { n.to_string() }))
            .layer(axum::middleware::from_fn(error_answers));
        let response = match TowerToHyperService::new(router).call(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap_or_default();
        (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn a_plain_text_rejection_is_given_the_json_shape() {
        let request = Request::get("/n/abc").body(Body::empty()).unwrap_or_else(|_| unreachable!());
        let (status, headers, body) = answer(request).await;
        assert_eq!(
            (status, body["code"].as_str(), body["status"].as_u64()),
            (StatusCode::BAD_REQUEST, Some("bad_request"), Some(400))
        );
        assert_eq!(headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/json"));
        assert_eq!(headers.get(header::CONNECTION), None, "no body, so the connection may be reused");
    }

    #[tokio::test]
    async fn an_error_to_a_request_with_a_body_closes_the_connection() {
        let request = Request::post("/n/1")
            .header(header::CONTENT_LENGTH, "3")
            .body(Body::from("abc"))
            .unwrap_or_else(|_| unreachable!());
        let (status, headers, body) = answer(request).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
        assert_eq!(headers.get(header::CONNECTION).map(HeaderValue::as_bytes), Some(&b"close"[..]));
        assert!(headers.contains_key(header::ALLOW), "the Allow header is kept");
    }

    #[test]
    fn sizes_count_what_the_client_sent() {
        let uri: Uri = "/tiles/1/2/3.png?layers=a".parse().unwrap_or_default();
        assert_eq!(url_bytes(&uri), "/tiles/1/2/3.png?layers=a".len());
        let absolute: Uri = "http://example.org/health".parse().unwrap_or_default();
        assert_eq!(url_bytes(&absolute), "http://example.org/health".len());
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "x".parse().unwrap_or_else(|_| unreachable!()));
        headers.append("x-a", "12".parse().unwrap_or_else(|_| unreachable!()));
        headers.append("x-a", "3".parse().unwrap_or_else(|_| unreachable!()));
        // "host: x\r\n" + "x-a: 12\r\n" + "x-a: 3\r\n"
        assert_eq!(header_bytes(&headers), 9 + 9 + 8);
    }

    #[test]
    fn a_bare_error_is_stood_in_for_with_its_status_or_400_or_500() {
        assert_eq!(standing_in_for(StatusCode::NOT_FOUND).status_and_body().0, StatusCode::NOT_FOUND);
        assert_eq!(standing_in_for(StatusCode::IM_A_TEAPOT).status_and_body().0, StatusCode::BAD_REQUEST);
        assert_eq!(standing_in_for(StatusCode::BAD_GATEWAY).status_and_body().0, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
