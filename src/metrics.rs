//! The server's Prometheus metrics: one registry per server, with typed methods to count what
//! happens, so that every label value comes from a fixed set (an enum, a route pattern of the
//! router, a zoom level) and the number of series stays bounded whatever clients send.
//!
//! The counters are the `prometheus` crate's (atomics behind a lookup by label values), so
//! counting on the request path costs a hash of a few short strings and an atomic add, and
//! allocates only the first time a label set is seen. Values that are a state rather than a
//! count (cache entries and bytes, layers, render jobs) are read when `/metrics` is scraped
//! ([`Metrics::set_state`]), never kept up to date on the request path. Process metrics
//! (memory, CPU, open files) come from the crate's process collector, on Linux.

use std::time::{Duration, SystemTime};

use prometheus::{Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// Bounds (seconds) of the request latency histogram: a cached tile takes well under a
/// millisecond, a render some milliseconds, a large items page or a slow client seconds.
const REQUEST_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Bounds (seconds) of the render time histogram: 0.5 ms for an empty tile to a second for a
/// busy 512 px tile on a loaded machine.
const RENDER_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];

/// Why a request was refused with 503 before any work was done for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// `max_concurrent_requests` requests were in progress.
    Concurrency,
    /// The render queue was full.
    RenderQueue,
    /// The heavy pool (items pages, compression of large answers) or the answer buffer was full.
    Heavy,
}

impl Shed {
    fn as_str(self) -> &'static str {
        match self {
            Self::Concurrency => "concurrency",
            Self::RenderQueue => "render_queue",
            Self::Heavy => "heavy",
        }
    }
}

/// An event write, by what it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    /// POST: one event or a batch.
    Create,
    /// PUT.
    Replace,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl WriteOp {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Replace => "replace",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

/// How an event write ended (once it reached the event service: writes refused for their
/// token, media type or size never get there, and show in the request counts by status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored.
    Stored,
    /// The body is not a valid event or batch (422), or a batch too large (413).
    Invalid,
    /// A new event's id is taken (409).
    Conflict,
    /// `If-Match` named an older version (412).
    Stale,
    /// No such event (404).
    NotFound,
    /// The store could not write (503); see the store errors by cause.
    Unavailable,
}

impl WriteOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Invalid => "invalid",
            Self::Conflict => "conflict",
            Self::Stale => "stale",
            Self::NotFound => "not_found",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Why the tile cache let a tile go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// To stay within its memory budget (the least used tiles go first).
    Size,
    /// Dropped because what it shows changed (an event write, a reload of its layers).
    Invalidated,
    /// Replaced by a newer tile under the same key.
    Replaced,
}

impl Eviction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Invalidated => "invalidated",
            Self::Replaced => "replaced",
        }
    }
}

/// What `/metrics` reads from the server when it is scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct State {
    /// Tiles held by the cache.
    pub cache_entries: u64,
    /// Bytes held by the cache, as its budget counts them.
    pub cache_bytes: u64,
    /// The cache's budget in bytes (0: caching is off).
    pub cache_capacity: u64,
    /// Render jobs running or waiting.
    pub render_jobs: usize,
    /// Layers served.
    pub layers: usize,
    /// Features over all layers served.
    pub features: usize,
    /// Events in the store.
    pub events: usize,
}

/// The metrics of one server; shared behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    renders: HistogramVec,
    render_failures: IntCounterVec,
    cache_lookups: IntCounterVec,
    evictions: IntCounterVec,
    cache_entries: IntGauge,
    cache_bytes: IntGauge,
    cache_capacity: IntGauge,
    render_jobs: IntGauge,
    shed: IntCounterVec,
    event_writes: IntCounterVec,
    store_errors: IntCounterVec,
    reloads: IntCounterVec,
    last_reload: Gauge,
    reload_failing: IntGauge,
    layers: IntGauge,
    features: IntGauge,
    events: IntGauge,
}

impl Metrics {
    /// A registry with every metric at zero, and the process collector where the platform has
    /// one.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let gauge = |name: &str, help: &str| -> Result<IntGauge, prometheus::Error> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let histogram =
            |name: &str, help: &str, labels: &[&str], buckets: &[f64]| -> Result<HistogramVec, prometheus::Error> {
                let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)?;
                registry.register(Box::new(h.clone()))?;
                Ok(h)
            };
        let last_reload = Gauge::new(
            "tessera_geodata_last_reload_success_timestamp_seconds",
            "When the geodata served now was loaded (start-up or the last good reload), Unix seconds.",
        )?;
        registry.register(Box::new(last_reload.clone()))?;
        let metrics = Self {
            requests: counter(
                "tessera_http_requests_total",
                "HTTP requests answered, by route pattern (unrouted: refused before routing, or no route), method and status class.",
                &["route", "method", "status"],
            )?,
            latency: histogram(
                "tessera_http_request_duration_seconds",
                "Time from a request's arrival to the end of its answer's body, by route pattern and method.",
                &["route", "method"],
                &REQUEST_BUCKETS,
            )?,
            in_flight: gauge("tessera_http_requests_in_flight", "Requests being answered now.")?,
            renders: histogram(
                "tessera_tile_render_seconds",
                "Time to draw and encode a tile on the render pool, by kind and zoom; its _count is the tiles rendered.",
                &["kind", "zoom"],
                &RENDER_BUCKETS,
            )?,
            render_failures: counter(
                "tessera_tile_render_failures_total",
                "Tiles whose rendering or encoding failed (answered 500), by kind.",
                &["kind"],
            )?,
            cache_lookups: counter(
                "tessera_tile_cache_requests_total",
                "Tile lookups in the cache, by result: hit (held, or being made for another request) or miss (rendered for this one).",
                &["result"],
            )?,
            evictions: counter(
                "tessera_tile_cache_evictions_total",
                "Tiles the cache let go, by cause: size (over its budget), invalidated (events or layers changed), replaced.",
                &["cause"],
            )?,
            cache_entries: gauge("tessera_tile_cache_entries", "Tiles held by the cache (approximate).")?,
            cache_bytes: gauge("tessera_tile_cache_bytes", "Bytes held by the cache, as its budget counts them.")?,
            cache_capacity: gauge(
                "tessera_tile_cache_capacity_bytes",
                "The cache's budget in bytes (tiles.cache_mb).",
            )?,
            render_jobs: gauge("tessera_render_jobs", "Render jobs running or waiting.")?,
            shed: counter(
                "tessera_requests_shed_total",
                "Requests refused with 503 before any work, by reason: concurrency (max_concurrent_requests), render_queue (the render queue was full).",
                &["reason"],
            )?,
            event_writes: counter(
                "tessera_event_writes_total",
                "Event writes that reached the event service, by operation and outcome.",
                &["op", "outcome"],
            )?,
            store_errors: counter(
                "tessera_event_store_errors_total",
                "Event writes the store could not make, by cause: full, read_only, failed, unreachable, unconfirmed.",
                &["cause"],
            )?,
            reloads: counter(
                "tessera_geodata_reloads_total",
                "Reloads of the geodata directory, by outcome: ok (swapped in) or failed (the last good data stays).",
                &["outcome"],
            )?,
            reload_failing: gauge(
                "tessera_geodata_reload_failing",
                "1 while the geodata on disk fails to load and the last good data is served, else 0.",
            )?,
            layers: gauge("tessera_geodata_layers", "Layers served.")?,
            features: gauge("tessera_geodata_features", "Features over all layers served.")?,
            events: gauge("tessera_events", "Events in the store.")?,
            last_reload,
            registry,
        };
        metrics.last_reload.set(unix_seconds(SystemTime::now()));
        // Every series of a fixed label set exists from the start, at 0: a rate over a counter
        // that appears at its first increment misses that increment.
        for outcome in ["ok", "failed"] {
            metrics.reloads.with_label_values(&[outcome]);
        }
        for reason in [Shed::Concurrency, Shed::RenderQueue, Shed::Heavy] {
            metrics.shed.with_label_values(&[reason.as_str()]);
        }
        for result in ["hit", "miss"] {
            metrics.cache_lookups.with_label_values(&[result]);
        }
        for cause in [Eviction::Size, Eviction::Invalidated, Eviction::Replaced] {
            metrics.evictions.with_label_values(&[cause.as_str()]);
        }
        for cause in ["full", "read_only", "failed", "unreachable", "unconfirmed"] {
            metrics.store_errors.with_label_values(&[cause]);
        }
        metrics.register_process_collector()?;
        Ok(metrics)
    }

    #[cfg(target_os = "linux")]
    fn register_process_collector(&self) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
    }

    #[cfg(not(target_os = "linux"))]
    fn register_process_collector(&self) -> Result<(), prometheus::Error> {
        Ok(())
    }

    /// Counts an answered request. `route` is the router's pattern (`/tiles/{z}/{x}/{file}`),
    /// or `unrouted`; `method` one of the standard methods or `other`.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests.with_label_values(&[route, method, status_class(status)]).inc();
        self.latency.with_label_values(&[route, method]).observe(took.as_secs_f64());
    }

    /// A request began; the gauge of requests in flight goes down when the guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Counts a tile rendered on the pool, of `kind` at zoom `z`, and its time.
    pub fn rendered(&self, kind: &'static str, z: u8, took: Duration) {
        self.renders.with_label_values(&[kind, zoom_label(z)]).observe(took.as_secs_f64());
    }

    /// Counts a tile whose rendering failed.
    pub fn render_failed(&self, kind: &'static str) {
        self.render_failures.with_label_values(&[kind]).inc();
    }

    /// Counts a cache lookup: a hit, or a miss that rendered the tile.
    pub fn cache_lookup(&self, hit: bool) {
        self.cache_lookups.with_label_values(&[if hit { "hit" } else { "miss" }]).inc();
    }

    /// Counts a tile the cache let go.
    pub fn evicted(&self, cause: Eviction) {
        self.evictions.with_label_values(&[cause.as_str()]).inc();
    }

    /// Counts a request refused with 503 before any work: one call per refusal.
    pub fn shed(&self, reason: Shed) {
        self.shed.with_label_values(&[reason.as_str()]).inc();
    }

    /// Counts an event write and how it ended.
    pub fn event_write(&self, op: WriteOp, outcome: WriteOutcome) {
        self.event_writes.with_label_values(&[op.as_str(), outcome.as_str()]).inc();
    }

    /// Counts a write the store could not make, by its cause (`StorageFault`'s name).
    pub fn store_error(&self, cause: &'static str) {
        self.store_errors.with_label_values(&[cause]).inc();
    }

    /// Counts a reload that swapped new data in, at `at`.
    pub fn reload_ok(&self, at: SystemTime) {
        self.reloads.with_label_values(&["ok"]).inc();
        self.last_reload.set(unix_seconds(at));
        self.reload_failing.set(0);
    }

    /// Counts a reload that failed: the last good data stays.
    pub fn reload_failed(&self) {
        self.reloads.with_label_values(&["failed"]).inc();
        self.reload_failing.set(1);
    }

    /// Sets the gauges read from the server at scrape time.
    pub fn set_state(&self, s: State) {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let count = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.cache_entries.set(int(s.cache_entries));
        self.cache_bytes.set(int(s.cache_bytes));
        self.cache_capacity.set(int(s.cache_capacity));
        self.render_jobs.set(count(s.render_jobs));
        self.layers.set(count(s.layers));
        self.features.set(count(s.features));
        self.events.set(count(s.events));
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::with_capacity(16 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Keeps a request counted among those in flight until dropped.
#[derive(Debug)]
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `2xx`, `4xx`...: a status's class, the label of request counts.
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A zoom level as a label, without allocating: zooms are 0 to [`crate::tile::MAX_ZOOM`].
fn zoom_label(z: u8) -> &'static str {
    const ZOOMS: [&str; 31] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
        "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30",
    ];
    ZOOMS.get(usize::from(z)).copied().unwrap_or("deeper")
}

fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zoom_has_its_own_label() {
        for z in 0..=crate::tile::MAX_ZOOM {
            assert_eq!(zoom_label(z), z.to_string());
        }
    }

    #[test]
    fn counts_show_in_the_text_format() {
        let m = Metrics::new().unwrap_or_else(|e| unreachable!("{e}"));
        m.request("/tiles/{z}/{x}/{file}", "GET", 200, Duration::from_millis(3));
        m.shed(Shed::Concurrency);
        let text = m.encode().unwrap_or_default();
        assert!(
            text.contains(r#"tessera_http_requests_total{method="GET",route="/tiles/{z}/{x}/{file}",status="2xx"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"tessera_requests_shed_total{reason="concurrency"} 1"#), "{text}");
    }
}
