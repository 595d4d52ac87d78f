//! The fast path of cached raster tiles: a `GET` or `HEAD` of `/tiles/{z}/{x}/{y}[@2x].{png,
//! webp,jpg}` whose tile the cache holds is answered here, in front of the router, from the
//! cache and nothing else.
//!
//! Why: a cache hit is a hash lookup and a write of bytes, but through the router it paid for
//! the whole stack of each route. axum clones a route's layered service for every request, and
//! every `from_fn` layer clones the layers under it again, so each hit cloned the server's state
//! and the layers a few dozen times (atomic counts shared by both cores), besides running the
//! checks of limits, host, compression and ETag codings that a cached image does not need. The
//! profile of a cached-PNG load put more time in those clones than in the lookup.
//!
//! The answer is the normal path's, byte for byte: this layer sits inside the request log and
//! metrics (`observe`), `nosniff` and CORS, which add their headers as to any answer; the
//! request is read by the handler's own functions (`TilePath::parse`, `tiles::asked`), the key
//! is the tile service's, and the answer is made by `cached::fetched_response` (ETag,
//! `If-None-Match` -> 304, `Cache-Control`, `Content-Type`), marked with the route's pattern and
//! the cache hit. What the layers skipped would do to it is done or checked here:
//!
//! - limits: the URL and header sizes are checked, and a place among the requests in progress
//!   is held while the answer is made (the timeout cannot apply to an answer made at once);
//! - host: only a plain, valid `Host` is served here;
//! - compression and ETag codings: images are never compressed, so there is nothing to do,
//!   unless the client refuses the identity coding (the compression layer answers 406);
//! - large answers: an answer of `heavy::LARGE` bytes or more holds its share of the answer
//!   buffer until it is sent;
//! - `HEAD`: `Content-Length` as for `GET`, no body, as the router does.
//!
//! Anything else (a miss, a tile being made, another route or method, a malformed path or
//! query, a percent-encoded path, a request with a body, a full answer buffer, vector tiles,
//! whose answers the compression layer encodes per client) goes on to the router unchanged,
//! which answers it as before, errors included.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

use super::extract::{Ending, TilePath};
use super::limits::{self, RequestLimits};
use super::query::Query;
use super::{AppState, cached, heavy, host, observe, tiles};
use crate::service::Fetched;

/// What the fast path needs: the server's state and the request limits it holds requests to.
#[derive(Debug)]
pub struct FastPath {
    state: AppState,
    limits: Arc<RequestLimits>,
}

impl FastPath {
    /// The fast path of `state`'s tiles, within `limits` (those of the normal path).
    pub fn new(state: AppState, limits: Arc<RequestLimits>) -> Self {
        Self { state, limits }
    }

    /// The answer to a request from the cache, or `None` when the router should answer it.
    /// (The request's parts, not the request: its body cannot be shared across an `await`.)
    async fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        let head = match *method {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let rest = uri.path().strip_prefix("/tiles/")?;
        let mut segments = rest.split('/');
        let (z, x, file) = (segments.next()?, segments.next()?, segments.next()?);
        // Percent-encoded segments are decoded by the router's extractor: left to it.
        if segments.next().is_some() || rest.contains('%') {
            return None;
        }
        if self.limits.oversize(uri, headers).is_some()
            || !host::plain(uri, headers)
            || limits::has_body(headers)
            || refuses_identity(headers)
        {
            return None;
        }
        let _place = self.limits.place()?;
        let settings = &self.state.config.tiles;
        let path = TilePath::parse(z, x, file, None, settings).ok()?;
        if !matches!(path.ending, Ending::Image(..)) {
            return None;
        }
        let q = Query::parse(uri.query()).ok()?;
        let catalog = self.state.catalog();
        let asked = tiles::asked(settings, &catalog, &path, &q).ok()?;
        let tile = self.state.tiles.cached(&catalog, path.tile, asked.spec).await?;
        let fetched = Fetched { tile, hit: true };
        let mut response = cached::fetched_response(headers, fetched, asked.content_type, asked.max_age);
        let length = response.body().size_hint().exact().unwrap_or(0);
        if !head && length >= heavy::LARGE as u64 {
            let bytes = axum::body::to_bytes(std::mem::take(response.body_mut()), usize::MAX).await.ok()?;
            *response.body_mut() = self.state.heavy.held_body(bytes)?;
        }
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        if head {
            *response.body_mut() = Body::empty();
        }
        self.state.tiles.count_hit();
        observe::answered_for(&mut response, tiles::ROUTE);
        Some(response)
    }
}

/// Answers a cached raster tile at once; passes every other request on.
pub async fn cached_tiles(State(fast): State<Arc<FastPath>>, req: Request, next: Next) -> Response {
    match fast.answer(req.method(), req.uri(), req.headers()).await {
        Some(response) => response,
        None => next.run(req).await,
    }
}

/// Whether `Accept-Encoding` may refuse the identity coding (`identity;q=0`, `*;q=0`), which the
/// compression layer answers with 406: such a request is left to it.
fn refuses_identity(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        let v = v.as_bytes();
        v.contains(&b'*') || v.windows(8).any(|w| w.eq_ignore_ascii_case(b"identity"))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::config::Config;

    /// A fast path over the default geodata, and the app it stands in front of.
    fn fast_path() -> (FastPath, axum::Router) {
        let catalog = crate::layer::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata"))
            .unwrap_or_else(|e| panic!("the default geodata: {e}"));
        let store = crate::events::SqliteStore::in_memory().unwrap_or_else(|e| panic!("a store: {e}"));
        let state = AppState::new(catalog, Arc::new(store), Config::default()).unwrap_or_else(|e| panic!("{e}"));
        let limits =
            Arc::new(RequestLimits::new(&state.config, Arc::clone(&state.metrics), Arc::clone(&state.shedding)));
        (FastPath::new(state.clone(), limits), super::super::app(state))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[tokio::test]
    async fn cached_raster_tiles_are_answered_here_and_everything_else_goes_on_to_the_router() {
        let (fast, app) = fast_path();
        let host = headers(&[("host", "localhost")]);
        let answer = |method: Method, uri: &'static str, h: HeaderMap| {
            let fast = &fast;
            async move { fast.answer(&method, &Uri::from_static(uri), &h).await.map(|r| r.status().as_u16()) }
        };
        assert_eq!(answer(Method::GET, "/tiles/8/154/100.png", host.clone()).await, None, "a miss");
        for uri in ["/tiles/8/154/100.png", "/tiles/8/154/100.mvt"] {
            let request = Request::get(uri).header("host", "localhost").body(Body::empty());
            let rendered = app.clone().oneshot(request.unwrap_or_else(|e| panic!("{e}"))).await;
            assert!(rendered.is_ok_and(|r| r.status().is_success()), "{uri} through the router");
        }
        assert_eq!(answer(Method::GET, "/tiles/8/154/100.png", host.clone()).await, Some(200), "a hit");
        assert_eq!(answer(Method::HEAD, "/tiles/8/154/100.png", host.clone()).await, Some(200), "HEAD");
        assert_eq!(answer(Method::GET, "/tiles/8/154/100.png?v=3", host.clone()).await, Some(200), "a cache buster");

        let left = [
            (Method::POST, "/tiles/8/154/100.png", host.clone(), "another method"),
            (Method::GET, "/tiles/8/154/%31%30%30.png", host.clone(), "percent-encoded"),
            (Method::GET, "/tiles/8/154/100.mvt", host.clone(), "a vector tile (compressed per client)"),
            (Method::GET, "/tiles/8/154/100.png/", host.clone(), "a segment too many"),
            (Method::GET, "/tiles/8/154/100.gif", host.clone(), "an unknown format"),
            (Method::GET, "/tiles/21/154/100.png", host.clone(), "beyond the maximum zoom"),
            (Method::GET, "/tiles/8/154/100.png?lang=xx", host.clone(), "a bad parameter"),
            (Method::GET, "/tiles/8/154/100.png?layers=nowhere", host.clone(), "an unknown layer"),
            (Method::GET, "/tiles/8/154/100.png", HeaderMap::new(), "no Host"),
            (Method::GET, "/tiles/8/154/100.png", headers(&[("host", "a"), ("host", "b")]), "two Hosts"),
            (Method::GET, "/tiles/8/154/100.png", headers(&[("host", "a b")]), "a bad Host"),
            (Method::GET, "http://localhost/tiles/8/154/100.png", host.clone(), "an absolute target"),
            (Method::GET, "/tiles/8/154/100.png", headers(&[("host", "l"), ("content-length", "3")]), "a body"),
            (
                Method::GET,
                "/tiles/8/154/100.png",
                headers(&[("host", "l"), ("accept-encoding", "identity;q=0")]),
                "406",
            ),
        ];
        for (method, uri, h, why) in left {
            assert_eq!(answer(method, uri, h).await, None, "{why}: {uri}");
        }
    }
}
