//! The HTTP service (axum): tiles, TileJSON, OGC API - Features and health.
//!
//! Handlers are thin: they parse the request, call the domain (`layer`, `render`) and shape
//! the answer. Rendering runs on tokio's blocking pool, never on the async executor.

mod archives;
mod cached;
mod conn;
mod error;
mod etag;
pub(crate) mod events;
pub(crate) mod extract;
mod fast;
mod features;
mod fonts;
mod heavy;
mod host;
mod imagery;
mod landing;
mod limits;
mod observe;
mod openapi;
mod pages;
mod paging;
pub(crate) mod query;
mod schema;
mod server;
mod statics;
mod strict_json;
mod tilejson;
mod tiles;
mod vector;
pub(crate) mod web;

pub use error::ApiError;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::routing::{MethodRouter, get};
use tokio::net::TcpListener;
use tower_http::compression::Predicate;
use tower_http::compression::predicate::DefaultPredicate;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::cache::TileCache;
use crate::config::Config;
use crate::events::EventStore;
use crate::layer::{Catalog, Geodata};
use crate::metrics::Metrics;
use crate::render::EncodeError;
use crate::service::{Archives, EventService, LiveCatalog, ReloadStatus, Reloader, Shedding, TileService, Trigger};

/// Shared state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The catalog served now; read it once per request ([`AppState::catalog`]).
    geodata: LiveCatalog,
    config: Arc<Config>,
    /// Every kind of tile, through the cache and the render pool.
    tiles: TileService,
    /// Event reads and writes.
    events: EventService,
    /// Vector TileJSON fields and the MapLibre sprite, prepared once per catalog.
    vector: Arc<ArcSwap<vector::VectorAssets>>,
    /// The server's Prometheus metrics.
    metrics: Arc<Metrics>,
    /// Loads the geodata again and swaps it in.
    reloader: Reloader,
    /// The heavy pool and the answer buffer (see `heavy`).
    heavy: Arc<heavy::Heavy>,
    /// Requests shed with 503 since start-up, and their summary in the log.
    shedding: Arc<Shedding>,
    /// Pre-rendered archives (`--archive`), opened at start-up.
    archives: Archives,
}

/// Why the server's state could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// An empty tile or the sprite could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The metrics could not be registered.
    #[error("the metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl AppState {
    /// Prepares the state: the tile service (its empty tiles encoded once, its cache listening
    /// to the event store), the event service, the metrics, and the reloader of the geodata
    /// `config.data.geodata` names (the directory `catalog` was loaded from).
    pub fn new(catalog: Catalog, events: Arc<dyn EventStore>, config: Config) -> Result<Self, StateError> {
        let metrics = Arc::new(Metrics::new()?);
        let vector = Arc::new(ArcSwap::from_pointee(vector::VectorAssets::new(&catalog)?));
        let geodata = LiveCatalog::new(catalog, Geodata::from_option(config.data.geodata.as_deref()));
        let tiles = TileService::new(geodata.clone(), Arc::clone(&events), &config.tiles, Arc::clone(&metrics))?;
        let events = EventService::new(events, config.events.max_batch, Arc::clone(&metrics));
        let reloader = Reloader::new(geodata.clone(), tiles.clone(), Arc::clone(&metrics));
        let heavy = Arc::new(heavy::Heavy::new(&config.limits, Arc::clone(&metrics)));
        let shedding = Arc::new(Shedding::new());
        Ok(Self {
            geodata,
            config: Arc::new(config),
            tiles,
            events,
            vector,
            metrics,
            reloader,
            heavy,
            shedding,
            archives: Archives::default(),
        })
    }

    /// The state serving these archives too (see [`Archives::open`]).
    pub fn with_archives(mut self, archives: Archives) -> Self {
        self.archives = archives;
        self
    }

    /// The count of requests shed with 503 `overloaded`.
    pub fn shedding(&self) -> &Shedding {
        &self.shedding
    }

    /// The catalog served now. A handler reads it once and keeps the `Arc` to the end, so that
    /// a reload never changes the data under a request.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.geodata.current()
    }

    /// The vector routes' assets of `catalog`: those made before, or made now after a reload.
    fn vector(&self, catalog: &Catalog) -> Result<Arc<vector::VectorAssets>, ApiError> {
        let held = self.vector.load_full();
        if held.generation == catalog.generation() {
            return Ok(held);
        }
        let made = Arc::new(
            vector::VectorAssets::new(catalog)
                .map_err(|e| ApiError::Internal(format!("the sprite of the reloaded geodata: {e}")))?,
        );
        self.vector.store(Arc::clone(&made));
        Ok(made)
    }

    /// The tile service (tests draw tiles from a catalog of their choosing with it).
    pub fn tiles(&self) -> &TileService {
        &self.tiles
    }

    /// The tile cache (tests look into it).
    pub fn cache(&self) -> &TileCache {
        self.tiles.cache()
    }

    /// The server's metrics: other layers count into them (a request shed is one call).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The reloader of the geodata (a reload now, for tests and tools).
    pub fn reloader(&self) -> &Reloader {
        &self.reloader
    }

    /// Where the geodata comes from and how its reloads went.
    pub fn geodata_status(&self) -> ReloadStatus {
        self.geodata.status()
    }

    /// Base URL for absolute links: the configured public URL, else `http://{Host}` (checked
    /// in front of the routes; the answer is then marked as depending on it, see `host`).
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.config.server.public_url {
            return u.as_str().to_owned();
        }
        host::note_used();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| host::valid(h));
        format!("http://{}", host.unwrap_or("localhost"))
    }
}

/// The routes, recorded as they are added, so that the API definition can be checked against
/// the router (see `openapi`): a route added here and not described there fails a test.
struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn route(mut self, path: &'static str, handlers: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handlers);
        self.paths.push(path);
        self
    }
}

/// Every route: the path (in the router's syntax) and its handlers.
fn routes() -> Routes {
    Routes { router: Router::new(), paths: Vec::new() }
        .route("/", get(landing::landing))
        .route("/api", get(openapi::api))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/health", get(landing::health))
        .route("/metrics", get(observe::metrics))
        .route("/conformance", get(features::conformance))
        .route("/collections", get(features::collections))
        .route("/collections/events", get(events::collection))
        .route("/collections/events/items", get(events::items).post(events::create))
        .route(
            "/collections/events/items/{fid}",
            get(events::item).put(events::replace).patch(events::patch).delete(events::delete),
        )
        .route("/overlays/events/{z}/{x}/{file}", get(tiles::overlay))
        .route("/overlays", get(imagery::list))
        .route("/overlays/{id}/tiles.json", get(imagery::tilejson))
        .route("/overlays/{id}/{z}/{x}/{file}", get(imagery::tile))
        .route("/archives", get(archives::list))
        .route("/archives/{file}", get(archives::file))
        .route("/archives/{id}/{z}/{x}/{file}", get(archives::tile))
        .route("/static/{view}/{size}", get(statics::image))
        .route("/collections/{id}", get(features::collection))
        .route("/collections/{id}/queryables", get(features::queryables))
        .route("/collections/{id}/items", get(features::items))
        .route("/collections/{id}/items/{fid}", get(features::item))
        .route("/tiles.json", get(tiles::tilejson))
        .route(tiles::ROUTE, get(tiles::tile))
        .route("/tiles/vector.json", get(vector::tilejson))
        .route("/style.json", get(vector::style))
        .route("/sprites/{file}", get(vector::sprite_file))
        .route("/fonts.json", get(fonts::list))
        .route("/fonts/{fontstack}/{file}", get(fonts::glyphs))
        .route("/embed", get(web::embed))
        .route("/edit", get(web::edit))
        .route("/web/leaflet/{*file}", get(web::leaflet_file))
        .route("/web/maplibre/{file}", get(web::maplibre_file))
        .route("/web/rtl-text/{file}", get(web::rtl_text_file))
        .route("/web/{version}/{file}", get(web::asset))
}

/// The path of every route, in the router's syntax (`{name}`, `{*rest}`).
pub fn route_paths() -> Vec<&'static str> {
    routes().paths
}

/// The router with every route, behind the fast path of cached tiles (see `fast`).
///
/// The layers that every answer meets, the fast path's included (the request log and metrics,
/// `nosniff`, CORS), wrap the router as a whole; the others wrap each route (`Router::layer`),
/// as before the fast path. The outer ones are not per route because axum clones a route's
/// whole layered service for each request: there each layer is cloned per request, around the
/// router only its own parts and an `Arc` of the router.
pub fn app(state: AppState) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD, Method::OPTIONS]);
    let observer = Arc::new(observe::Observer::new(Arc::clone(&state.metrics)));
    let limits =
        Arc::new(limits::RequestLimits::new(&state.config, Arc::clone(&state.metrics), Arc::clone(&state.shedding)));
    let fast = Arc::new(fast::FastPath::new(state.clone(), Arc::clone(&limits)));
    let routed = routes()
        .router
        // Inside the routes, where axum has matched the route: hands its pattern to `observe`.
        .route_layer(axum::middleware::from_fn(observe::matched_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.heavy), heavy::large_answers))
        // Small answers only: large ones were compressed on the heavy pool (see `heavy`).
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(|_, _, _: &HeaderMap, ext: &axum::http::Extensions| heavy::left_to_compression_layer(ext))
                    // An archive file is served in ranges, as it is stored (its tiles are
                    // compressed already).
                    .and(tower_http::compression::predicate::NotForContentType::const_new(archives::PMTILES)),
            ),
        )
        .layer(axum::middleware::from_fn(etag::tag_per_coding))
        .layer(axum::middleware::from_fn_with_state(state.clone(), host::check))
        // Outside the routes, so that the limits hold for every route and the fallbacks alike;
        // inside CORS, so that a browser's script can read a 408, 414, 431 or 503 too.
        .layer(axum::middleware::from_fn_with_state(limits, limits::enforce))
        .layer(axum::middleware::from_fn(limits::error_answers))
        .with_state(state);
    let stack = tower::ServiceBuilder::new()
        // Outermost: every request is counted and logged, refusals by the limits included, with
        // its answer as sent (compressed), and carries its request id.
        .layer(axum::middleware::from_fn_with_state(observer, observe::observe))
        // Every answer, errors included: a browser must never guess a JSON error or a tile to be
        // HTML and run it.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(fast, fast::cached_tiles))
        .service(routed);
    Router::new().fallback_service(stack)
}

/// The router of the metrics address (`metrics_listen`): `/metrics` alone.
fn metrics_app(state: AppState) -> Router {
    Router::new().route("/metrics", get(observe::metrics_here)).fallback(not_found).with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see / for the routes".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves `catalog` and `events` on `config.server.listen` until Ctrl-C or SIGTERM.
///
/// It logs what it serves and the limits in force, watches the geodata directory and reloads
/// it at `SIGHUP`, and serves `/metrics` on `metrics_listen` when one is set.
pub async fn serve(config: Config, catalog: Catalog, events: Arc<dyn EventStore>) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.server.listen).await?;
    let addr = listener.local_addr()?;
    let metrics_listener = match config.server.metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await?),
        None => None,
    };
    log_start(&config, &catalog, events.as_ref());
    let archives = Archives::open(&config.server.archive).await.map_err(std::io::Error::other)?;
    let state = AppState::new(catalog, events, config.clone()).map_err(std::io::Error::other)?.with_archives(archives);
    // Signal handlers before the URL is printed: a SIGHUP sent as soon as it is reloads, and
    // does not end the process.
    let stop = shutdown();
    let triggers = state.reloader.clone().start();
    forward_hangups(triggers);
    let data = state.geodata.source().describe();
    println!("tessera is serving {data} at http://{addr}/ (open it in a browser)");
    if let Some(listener) = metrics_listener {
        let at = listener.local_addr()?;
        println!("tessera serves its metrics at http://{at}/metrics");
        let app = metrics_app(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the metrics address stopped serving");
            }
        });
    }
    server::run(listener, app(state), &Arc::new(config), stop).await
}

/// Serves `state` on a bound listener until `shutdown` resolves: the [`app`] behind the
/// connection limits of its settings (see `server`), reloading its geodata directory when it
/// changes. [`serve`] runs the same; tests run this on `127.0.0.1:0`.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let config = Arc::clone(&state.config);
    let _triggers = state.reloader.clone().start();
    server::run(listener, app(state), &config, shutdown).await
}

/// Logs, at start-up, what is served, from where, and the limits in force.
fn log_start(config: &Config, catalog: &Catalog, events: &dyn EventStore) {
    let source = Geodata::from_option(config.data.geodata.as_deref());
    let watched = match source {
        Geodata::Dir(_) => "reloaded when its files change, and at SIGHUP",
        Geodata::BuiltIn => "compiled in, never reloaded",
    };
    tracing::info!(
        geodata = %source.describe(),
        reload = watched,
        layers = catalog.layers().len(),
        features = catalog.feature_count(),
        images = catalog.images.len(),
        "serving geodata",
    );
    let store = match &config.data.events_db {
        Some(url) => url.redacted(),
        None => config.data.data.join("events.sqlite").display().to_string(),
    };
    tracing::info!(
        backend = events.backend(),
        at = %store,
        events = events.len(),
        read_only = events.read_only(),
        writes = if config.events.write_token.is_some() { "need the bearer token" } else { "refused: no write token (set TESSERA_WRITE_TOKEN)" },
        "events loaded",
    );
    let (l, t) = (&config.limits, &config.tiles);
    tracing::info!(
        max_connections = l.max_connections,
        max_concurrent_requests = l.max_concurrent_requests,
        request_timeout_secs = l.request_timeout_secs,
        max_body_bytes = l.max_body_bytes,
        max_url_bytes = l.max_url_bytes,
        max_header_bytes = l.max_header_bytes,
        max_batch = config.events.max_batch,
        max_zoom = t.max_zoom,
        cache_mb = t.cache_mb,
        render_workers = t.render_workers,
        render_queue = t.render_queue,
        "limits in force",
    );
}

/// Sends a reload trigger at every SIGHUP; the handler is installed now.
fn forward_hangups(triggers: tokio::sync::mpsc::UnboundedSender<Trigger>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        if triggers.send(Trigger::Signal).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP; reloads follow file changes only"),
        }
    }
    #[cfg(not(unix))]
    drop(triggers);
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

pub(crate) use query::query_pairs;
