//! The HTTP service (axum): tiles, TileJSON, OGC API - Features and health.
//!
//! Handlers are thin: they parse the request, call the domain (`layer`, `render`) and shape
//! the answer. Rendering runs on tokio's blocking pool, never on the async executor.

mod cached;
mod error;
mod events;
mod features;
#[doc(hidden)]
pub mod fuzz_api;
mod landing;
mod limits;
mod markers;
mod pool;
mod server;
mod tiles;
mod vector;
mod web;

pub use error::ApiError;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::cache::TileCache;
use crate::config::{Config, Secret};
use crate::events::EventStore;
use crate::layer::Catalog;
use crate::render::{EncodeError, Scale, solid_png};

/// What the handlers need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Deepest zoom served.
    pub max_zoom: u8,
    /// Default `limit` of items queries.
    pub items_limit: usize,
    /// Largest `limit` of items queries.
    pub items_max_limit: usize,
    /// Base URL for links, when configured.
    pub public_url: Option<String>,
    /// Token that event writes must carry; `None` refuses every write.
    pub write_token: Option<Secret>,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Most events in one batch.
    pub max_batch: usize,
    /// Directory Leaflet is served from; `None` loads it from the pinned CDN URL.
    pub leaflet_dir: Option<std::path::PathBuf>,
    /// Memory for cached tiles, MiB (0: no cache).
    pub cache_mb: u64,
    /// Rendering jobs at once.
    pub render_workers: usize,
    /// Rendering jobs waiting before 503.
    pub render_queue: usize,
    /// `max-age` of base tiles, TileJSON and layers, seconds.
    pub tile_max_age: u64,
    /// `max-age` of overlays, vector tiles and events, seconds (0: `no-cache`).
    pub events_max_age: u64,
    /// Language of the place names on raster tiles when a request has no `?lang=`.
    pub label_lang: crate::style::Lang,
    /// Time for a request to arrive whole and be answered (408 past it), and for a connection
    /// to send a request's head (closed past it).
    pub request_timeout: std::time::Duration,
    /// Longest path and query, bytes (414 past it).
    pub max_url_bytes: usize,
    /// Most bytes of header lines in one request (431 past it).
    pub max_header_bytes: usize,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests answered at once (503 past it).
    pub max_concurrent_requests: usize,
}

impl Default for Settings {
    /// The defaults of [`crate::config::defaults`], with writes disabled.
    fn default() -> Self {
        use crate::config::defaults as d;
        Self {
            max_zoom: d::MAX_ZOOM,
            items_limit: d::ITEMS_LIMIT,
            items_max_limit: d::ITEMS_MAX_LIMIT,
            public_url: None,
            write_token: None,
            max_body_bytes: d::MAX_BODY_BYTES,
            max_batch: d::MAX_BATCH,
            leaflet_dir: None,
            cache_mb: d::CACHE_MB,
            render_workers: 2,
            render_queue: d::RENDER_QUEUE,
            tile_max_age: d::TILE_MAX_AGE,
            events_max_age: d::EVENTS_MAX_AGE,
            label_lang: d::LABEL_LANG,
            request_timeout: std::time::Duration::from_secs(d::REQUEST_TIMEOUT_SECS),
            max_url_bytes: d::MAX_URL_BYTES,
            max_header_bytes: d::MAX_HEADER_BYTES,
            max_connections: d::MAX_CONNECTIONS,
            max_concurrent_requests: d::MAX_CONCURRENT_REQUESTS,
        }
    }
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Self {
            max_zoom: c.max_zoom,
            items_limit: c.items_limit,
            items_max_limit: c.items_max_limit,
            public_url: c.public_url.clone(),
            write_token: c.write_token.clone(),
            max_body_bytes: c.max_body_bytes,
            max_batch: c.max_batch,
            leaflet_dir: c.leaflet_dir.clone(),
            cache_mb: c.cache_mb,
            render_workers: c.render_workers,
            render_queue: c.render_queue,
            tile_max_age: c.tile_max_age,
            events_max_age: c.events_max_age,
            label_lang: c.label_lang,
            request_timeout: std::time::Duration::from_secs(c.request_timeout_secs),
            max_url_bytes: c.max_url_bytes,
            max_header_bytes: c.max_header_bytes,
            max_connections: c.max_connections,
            max_concurrent_requests: c.max_concurrent_requests,
        }
    }
}

/// Shared state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    catalog: Arc<Catalog>,
    events: Arc<dyn EventStore>,
    settings: Arc<Settings>,
    /// Pre-encoded background-only tiles, at 1x and 2x.
    empty: Arc<[Vec<u8>; 2]>,
    /// Pre-encoded transparent tiles (empty overlays), at 1x and 2x.
    clear: Arc<[Vec<u8>; 2]>,
    /// Vector TileJSON fields and the MapLibre sprite, prepared once.
    vector: Arc<vector::VectorAssets>,
    /// Encoded tiles, and the versions of areas that events change.
    cache: Arc<TileCache>,
    /// Admission control for rendering and encoding.
    pool: Arc<pool::RenderPool>,
}

impl AppState {
    /// Prepares the state, encoding the empty tiles once.
    pub fn new(catalog: Catalog, events: Arc<dyn EventStore>, settings: Settings) -> Result<Self, EncodeError> {
        let empty =
            [solid_png(catalog.background, Scale::X1.pixels())?, solid_png(catalog.background, Scale::X2.pixels())?];
        let clear = [solid_png(None, Scale::X1.pixels())?, solid_png(None, Scale::X2.pixels())?];
        let vector = Arc::new(vector::VectorAssets::new(&catalog)?);
        let cache = Arc::new(TileCache::new(settings.cache_mb.saturating_mul(1024 * 1024)));
        let pool = Arc::new(pool::RenderPool::new(settings.render_workers, settings.render_queue));
        Ok(Self {
            catalog: Arc::new(catalog),
            events,
            settings: Arc::new(settings),
            empty: Arc::new(empty),
            clear: Arc::new(clear),
            vector,
            cache,
            pool,
        })
    }

    /// The tile cache (tests look into it).
    pub fn cache(&self) -> &TileCache {
        &self.cache
    }

    /// Base URL for absolute links: the configured public URL, else `http://{Host}`.
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.settings.public_url {
            return u.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
            .unwrap_or("localhost");
        format!("http://{host}")
    }
}

/// The router with every route.
pub fn app(state: AppState) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD, Method::OPTIONS]);
    Router::new()
        .route("/", get(landing::landing))
        .route("/health", get(landing::health))
        .route("/conformance", get(features::conformance))
        .route("/collections", get(features::collections))
        .route("/collections/events", get(events::collection))
        .route("/collections/events/items", get(events::items).post(events::create))
        .route(
            "/collections/events/items/{fid}",
            get(events::item).put(events::replace).patch(events::patch).delete(events::delete),
        )
        .route("/overlays/events/{z}/{x}/{file}", get(tiles::overlay))
        .route("/collections/{id}", get(features::collection))
        .route("/collections/{id}/items", get(features::items))
        .route("/collections/{id}/items/{fid}", get(features::item))
        .route("/tiles.json", get(tiles::tilejson))
        .route("/tiles/{z}/{x}/{file}", get(tiles::raster))
        .route("/tiles/vector.json", get(vector::tilejson))
        .route("/style.json", get(vector::style))
        .route("/sprites/{file}", get(vector::sprite_file))
        .merge(web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(cached::weak_etag_when_encoded))
        // Outside the routes, so that the limits hold for every route and the fallbacks alike;
        // inside CORS, so that a browser's script can read a 408, 414, 431 or 503 too.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits::RequestLimits::new(&state.settings)),
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn(limits::error_answers))
        .layer(cors)
        // Every answer, errors included: a browser must never guess a JSON error or a tile to be
        // HTML and run it.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see / for the routes".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves `catalog` and `events` on `config.listen` until Ctrl-C or SIGTERM.
pub async fn serve(config: Config, catalog: Catalog, events: Arc<dyn EventStore>) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(catalog, events, Settings::from(&config)).map_err(std::io::Error::other)?;
    if config.write_token.is_none() {
        tracing::info!("no write token configured: event writes are refused (set TESSERA_WRITE_TOKEN)");
    }
    let stop = shutdown();
    println!("tessera is serving {} at http://{addr}/ (open it in a browser)", config.geodata.display());
    run(listener, state, stop).await
}

/// Serves `state` on a bound listener until `shutdown` resolves: the [`app`] behind the
/// connection limits of its settings (see `server`). [`serve`] runs this; tests run it on
/// `127.0.0.1:0`.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let settings = Arc::clone(&state.settings);
    server::run(listener, app(state), &settings, shutdown).await
}

/// Resolves at Ctrl-C or SIGTERM. The handlers are installed now, not at the first poll, so
/// that a signal sent as soon as the URL is printed stops the server cleanly instead of killing it.
fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let (term, int) = signals;
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! { () = wait(term) => {}, () = wait(int) => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Query parameters as name-value pairs; malformed encoding is a 400.
pub(crate) fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| ApiError::param("query", "the query string is not valid URL encoding"))
}
