//! What an operator sees of each request: one log line, the request metrics, and a request id
//! (`X-Request-Id`), all from [`observe`], the outermost layer, so that requests refused by the
//! limits are seen too. Also `/metrics`.
//!
//! The line and the metrics are written when the answer's body has been sent (or dropped, when
//! the client goes away), so that the bytes are those sent (compressed, if they were) and the
//! time is the whole request's. The route is the router's pattern (`/tiles/{z}/{x}/{file}`),
//! which [`matched_route`], inside the routes, hands out in the answer's extensions; a request
//! answered before or without a route (a refusal by the limits, an unknown path) is
//! `unrouted`. Per request this costs a clone of the URI (reference counted), the request id's
//! header value, a span, a box for the counting body, a few metric lookups, and the line.
//!
//! The line never holds a header (so never the token), nor the query string of a write.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tracing::Instrument;

use super::query::Query;
use super::{ApiError, AppState};
use crate::metrics::{InFlight, Metrics, State as Scraped};

/// The header carrying the request id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The log target of the request lines: `RUST_LOG=info,tessera::access=warn` keeps them out.
pub const ACCESS_TARGET: &str = "tessera::access";

/// Whether a tile came from the cache, as the tile handlers mark their answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// From the cache (or made for another request at the same time).
    Hit,
    /// Rendered for this request.
    Miss,
}

impl CacheOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// The route pattern a request matched, handed from inside the routes to [`observe`]; or the
/// pattern of the route whose answer the fast path gave without the router (see `fast`).
#[derive(Debug, Clone)]
enum Route {
    Matched(MatchedPath),
    Known(&'static str),
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Self::Matched(path) => path.as_str(),
            Self::Known(pattern) => pattern,
        }
    }
}

/// Marks an answer given outside the router as the answer of the route `pattern`, for the log
/// and the metrics, as [`matched_route`] marks the router's.
pub fn answered_for(response: &mut Response, pattern: &'static str) {
    response.extensions_mut().insert(Route::Known(pattern));
}

/// Counts and logs requests; shared by all of them.
#[derive(Debug)]
pub struct Observer {
    metrics: Arc<Metrics>,
    /// Request ids are this number plus a count, in hex: unique in the process, and unlikely to
    /// meet those of another process (the base is random).
    base: u64,
    next: AtomicU64,
}

impl Observer {
    /// An observer counting into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        let base = uuid::Uuid::new_v4().as_u64_pair().0;
        Self { metrics, base, next: AtomicU64::new(0) }
    }

    /// The request's id: the client's (or proxy's) `X-Request-Id` when it is 1-64 characters of
    /// `A-Z a-z 0-9 . _ -`, else a new one.
    fn request_id(&self, headers: &HeaderMap) -> HeaderValue {
        if let Some(given) = headers.get(&X_REQUEST_ID)
            && (1..=64).contains(&given.len())
            && given.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(b))
        {
            return given.clone();
        }
        let n = self.base.wrapping_add(self.next.fetch_add(1, Ordering::Relaxed));
        let mut text = [0u8; 16];
        for (i, slot) in text.iter_mut().enumerate() {
            *slot = b"0123456789abcdef"[((n >> (60 - 4 * i)) & 0xf) as usize];
        }
        HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("0"))
    }
}

/// Inside the routes: hands the matched route's pattern to [`observe`] in the answer.
pub async fn matched_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route::Matched(route));
    }
    response
}

/// Outermost: gives the request its id (in a span around its handling, and in the answer's
/// `X-Request-Id`), and counts and logs it when its answer has been sent.
pub async fn observe(State(observer): State<Arc<Observer>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let in_flight = observer.metrics.in_flight();
    let id = observer.request_id(req.headers());
    let method = method_label(req.method());
    let uri = req.uri().clone();
    let span = tracing::info_span!("request", id = %id.to_str().unwrap_or(""));
    let mut response = next.run(req).instrument(span).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let done = Done {
        started,
        method,
        uri,
        id,
        status: response.status().as_u16(),
        route: response.extensions().get::<Route>().cloned(),
        cache: response.extensions().get::<CacheOutcome>().copied(),
        shed: response.extensions().get::<super::error::Shed>().is_some(),
        metrics: Arc::clone(&observer.metrics),
        _in_flight: in_flight,
    };
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Body::new(Counted { inner: body, bytes: 0, done: Some(done) }))
}

/// A method as a label: the standard ones, else `other` (methods are open-ended).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What the line and the metrics of a request need once its body is sent.
struct Done {
    started: Instant,
    method: &'static str,
    uri: Uri,
    id: HeaderValue,
    status: u16,
    route: Option<Route>,
    cache: Option<CacheOutcome>,
    /// Answered 503 `overloaded`: counted, and summarised in the log by `service::Shedding`
    /// rather than a line each (a flood of them would be a flood of lines).
    shed: bool,
    metrics: Arc<Metrics>,
    _in_flight: InFlight,
}

impl Done {
    fn finish(self, bytes: u64) {
        let took = self.started.elapsed();
        let route = self.route.as_ref().map_or("unrouted", Route::as_str);
        self.metrics.request(route, self.method, self.status, took);
        if self.shed {
            return;
        }
        let target = logged_target(self.method, &self.uri);
        let path = target.as_deref().unwrap_or(self.uri.path());
        let duration_ms = (took.as_secs_f64() * 100_000.0).round() / 100.0;
        let cache = self.cache.map_or("-", CacheOutcome::as_str);
        let id = self.id.to_str().unwrap_or("");
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: ACCESS_TARGET,
                    $level,
                    method = %self.method,
                    path = %path,
                    route = %route,
                    status = self.status,
                    bytes,
                    duration_ms,
                    cache = %cache,
                    request_id = %id,
                    "request",
                )
            };
        }
        // A failure is a warning; a 503 is not: it is load being shed (counted, and summed up
        // by the limits) or a store that cannot write (which the store logs), and a burst of
        // them must not drown the log in warnings.
        if self.status >= 500 && self.status != 503 {
            line!(tracing::Level::WARN);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// A request's target as the log shows it, when it is more than the bare path: a read's path and
/// query, unless the query names a token, key or password. A write's query, and such a read's,
/// are left out (the bare path is logged): reads' queries are the map's parameters, but a
/// write's are nobody's business but the writer's, and a write refused for its token may carry
/// the token there (`?access_token=...`): the log never holds a token.
fn logged_target(method: &str, uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    let reading = matches!(method, "GET" | "HEAD" | "OPTIONS");
    let lower = query.to_ascii_lowercase();
    let secret = ["token", "key", "secret", "password", "auth"].iter().any(|w| lower.contains(w));
    (reading && !secret).then(|| format!("{}?{query}", uri.path()))
}

/// An answer's body that counts its bytes and, when it ends or is dropped, logs and counts the
/// request.
struct Counted {
    inner: Body,
    bytes: u64,
    done: Option<Done>,
}

impl Counted {
    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            done.finish(self.bytes);
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.finish();
    }
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None | Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `GET /metrics` on the main address: the metrics, unless they have an address of their own
/// (`metrics_listen`), where they are served instead.
pub async fn metrics(State(state): State<AppState>, q: Query) -> Result<Response, ApiError> {
    q.only(&[], "/metrics")?;
    if state.config.server.metrics_listen.is_some() {
        return Err(ApiError::NotFound("the metrics are served on the metrics address (metrics_listen)".into()));
    }
    metrics_text(&state).await
}

/// `GET /metrics` on the metrics address.
pub async fn metrics_here(State(state): State<AppState>) -> Result<Response, ApiError> {
    metrics_text(&state).await
}

/// Every metric in the Prometheus text format, the values read from the server now.
async fn metrics_text(state: &AppState) -> Result<Response, ApiError> {
    let cache = state.tiles.cache();
    // Pending evictions first, so that entries and bytes are those held.
    cache.sync().await;
    let catalog = state.catalog();
    state.metrics.set_state(Scraped {
        cache_entries: cache.len(),
        cache_bytes: cache.bytes(),
        cache_capacity: cache.capacity(),
        render_jobs: state.tiles.jobs(),
        layers: catalog.layers().len(),
        features: catalog.feature_count(),
        events: state.events.store().len(),
    });
    let text = state.metrics.encode().map_err(|e| ApiError::Internal(format!("encoding the metrics: {e}")))?;
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], text)
        .into_response())
}
