//! The HTTP service (axum): tiles, TileJSON, OGC API - Features and health.
//!
//! Handlers are thin: they parse the request, call the domain (`layer`, `render`) and shape
//! the answer. Rendering runs on tokio's blocking pool, never on the async executor.

mod archives;
mod cached;
mod error;
mod etag;
pub(crate) mod events;
pub(crate) mod extract;
mod features;
mod fonts;
mod imagery;
mod landing;
mod limits;
mod openapi;
mod pages;
mod paging;
pub(crate) mod query;
mod schema;
mod server;
mod statics;
mod tilejson;
mod tiles;
mod vector;
pub(crate) mod web;

pub use error::ApiError;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::routing::{MethodRouter, get};
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::cache::TileCache;
use crate::config::Config;
use crate::events::EventStore;
use crate::layer::Catalog;
use crate::render::EncodeError;
use crate::service::{Archives, EventService, TileService};

/// Shared state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    catalog: Arc<Catalog>,
    config: Arc<Config>,
    /// Every kind of tile, through the cache and the render pool.
    tiles: TileService,
    /// Event reads and writes.
    events: EventService,
    /// Vector TileJSON fields and the MapLibre sprite, prepared once.
    vector: Arc<vector::VectorAssets>,
    /// Pre-rendered archives (`--archive`), opened at start-up.
    archives: Archives,
}

impl AppState {
    /// Prepares the state: the tile service (its empty tiles encoded once, its cache listening
    /// to the event store) and the event service.
    pub fn new(catalog: Catalog, events: Arc<dyn EventStore>, config: Config) -> Result<Self, EncodeError> {
        let catalog = Arc::new(catalog);
        let tiles = TileService::new(Arc::clone(&catalog), Arc::clone(&events), &config.tiles)?;
        let vector = Arc::new(vector::VectorAssets::new(&catalog)?);
        let events = EventService::new(events, config.events.max_batch);
        Ok(Self { catalog, config: Arc::new(config), tiles, events, vector, archives: Archives::default() })
    }

    /// The state serving these archives too (see [`Archives::open`]).
    pub fn with_archives(mut self, archives: Archives) -> Self {
        self.archives = archives;
        self
    }

    /// The tile cache (tests look into it).
    pub fn cache(&self) -> &TileCache {
        self.tiles.cache()
    }

    /// Base URL for absolute links: the configured public URL, else `http://{Host}`.
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.config.server.public_url {
            return u.as_str().to_owned();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
            .unwrap_or("localhost");
        format!("http://{host}")
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
        .route("/tiles/{z}/{x}/{file}", get(tiles::tile))
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

/// The router with every route.
pub fn app(state: AppState) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD, Method::OPTIONS]);
    routes()
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        // An archive file is served in ranges, as it is stored (its tiles are compressed already).
        .layer(tower_http::compression::CompressionLayer::new().compress_when({
            use tower_http::compression::Predicate;
            tower_http::compression::DefaultPredicate::new()
                .and(tower_http::compression::predicate::NotForContentType::const_new(archives::PMTILES))
        }))
        .layer(axum::middleware::from_fn(etag::tag_per_coding))
        // Outside the routes, so that the limits hold for every route and the fallbacks alike;
        // inside CORS, so that a browser's script can read a 408, 414, 431 or 503 too.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits::RequestLimits::new(&state.config)),
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

/// Serves `catalog` and `events` on `config.server.listen` until Ctrl-C or SIGTERM.
pub async fn serve(config: Config, catalog: Catalog, events: Arc<dyn EventStore>) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.server.listen).await?;
    let addr = listener.local_addr()?;
    let archives = Archives::open(&config.server.archive).await.map_err(std::io::Error::other)?;
    let state = AppState::new(catalog, events, config.clone()).map_err(std::io::Error::other)?.with_archives(archives);
    if config.events.write_token.is_none() {
        tracing::info!("no write token configured: event writes are refused (set TESSERA_WRITE_TOKEN)");
    }
    let stop = shutdown();
    let data = crate::layer::Geodata::from_option(config.data.geodata.as_deref()).describe();
    println!("tessera is serving {data} at http://{addr}/ (open it in a browser)");
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
    let config = Arc::clone(&state.config);
    server::run(listener, app(state), &config, shutdown).await
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
