//! Helpers shared by the integration tests: one real server per test binary, HTTP requests that
//! return 4xx bodies instead of errors, PNG decoding, and the truth computed from the files in
//! `geodata/` and from the Web Mercator formula, independently of the library.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use tessera::config::Config;

/// The repository's default geodata directory.
pub fn geodata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")
}

/// Base URL (`http://127.0.0.1:PORT`, no trailing slash) of the server shared by every test.
///
/// The server runs the library's real router over the default geodata, on a port the OS picks,
/// in a tokio runtime on a background thread that lives as long as the test binary.
pub fn server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| start_server(settings(), &scratch_dir("server-data")))
}

/// The settings of the shared server: a write token, 64 KiB bodies, batches of 50; everything
/// else as a default server has it, tile cache included.
pub fn settings() -> Config {
    let mut c = Config::default();
    c.events.write_token = Some(tessera::config::Secret::new(WRITE_TOKEN.into()));
    c.limits.max_body_bytes = 64 * 1024;
    c.events.max_batch = 50;
    c
}

/// The shared server's settings, changed by `change`.
pub fn settings_with(change: impl FnOnce(&mut Config)) -> Config {
    let mut c = settings();
    change(&mut c);
    c
}

/// Starts another in-process server over the default geodata, with its event store (seeded
/// from the geodata) in `data`; returns its base URL. It lives as long as the test binary.
pub fn start_server(settings: Config, data: &Path) -> String {
    start_server_with_state(settings, data).0
}

/// The write token of the shared server.
pub const WRITE_TOKEN: &str = "test-write-token-0123456789";

/// A fresh, empty directory under the target's scratch space, unique to this process and name.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A URL on the shared server.
pub fn url(path: &str) -> String {
    format!("{}{path}", server())
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: ureq::http::HeaderMap,
    /// Response body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The body as sent, decoded when the server compressed it (`Content-Encoding` gzip or br).
    pub fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            "" => return self.body.clone(),
            "gzip" => flate2::read::GzDecoder::new(self.body.as_slice()).read_to_end(&mut out),
            "br" => brotli_decompressor::Decompressor::new(self.body.as_slice(), 4096).read_to_end(&mut out),
            other => panic!("unexpected Content-Encoding {other}"),
        }
        .unwrap_or_else(|e| panic!("the {} body does not decode: {e}", self.header("content-encoding")));
        out
    }

    /// The body parsed as JSON (decoded first, if compressed).
    pub fn json(&self) -> Value {
        let body = self.decoded();
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&body)))
    }

    /// The body as text (decoded first, if compressed).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.decoded()).into_owned()
    }

    /// Asserts an error answer: the status, `application/json`, and a body with `code`, a
    /// non-empty `description` and the same `status`. Returns the description.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert!(
            self.header("content-type").starts_with("application/json"),
            "content type {:?}",
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status, "{body}");
        let description = body["description"].as_str().unwrap_or("").to_owned();
        assert!(!description.is_empty(), "{body}");
        description
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| ureq::Agent::config_builder().http_status_as_error(false).build().new_agent())
}

fn try_read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Reply, ureq::Error> {
    let mut response = result?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec()?;
    Ok(Reply { status, headers, body })
}

fn read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> Reply {
    try_read(result).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Any method to an absolute URL, with headers and a body (empty for none); `Err` only when no
/// answer came (a refused or broken connection).
pub fn try_request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Reply, ureq::Error> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    try_read(agent().run(req.body(body).expect("a well-formed request")))
}

/// Like [`try_request`], failing the test when no answer came.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// The `Authorization` header value that the shared server's writes need.
pub fn bearer() -> String {
    format!("Bearer {WRITE_TOKEN}")
}

/// GET an absolute URL.
pub fn get_url(url: &str) -> Reply {
    read(agent().get(url).call(), url)
}

/// GET a path on the shared server.
pub fn get(path: &str) -> Reply {
    get_url(&url(path))
}

/// GET a path on the shared server with extra request headers.
pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.call(), path)
}

/// POST with an empty body to a path on the shared server.
pub fn post(path: &str) -> Reply {
    read(agent().post(url(path)).send_empty(), path)
}

/// A decoded PNG, as 8-bit RGBA.
#[derive(Debug)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA8, row by row.
    pub rgba: Vec<u8>,
}

impl Image {
    /// The pixel at column `x`, row `y`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        assert!(x < self.width && y < self.height, "({x}, {y}) is off the image");
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]]
    }
}

/// Decodes a PNG into RGBA8. tessera writes 8-bit indexed, RGB or RGBA PNGs, whichever holds
/// the tile; each is expanded to RGBA here, as a browser does.
pub fn decode_png(bytes: &[u8]) -> Image {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("a valid PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgba, "colour type after expansion");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "bit depth");
    buf.truncate(info.buffer_size());
    Image { width: info.width, height: info.height, rgba: buf }
}

/// GETs a tile path and asserts a PNG answer of `size` x `size` pixels.
pub fn get_tile(path: &str, size: u32) -> Image {
    let reply = get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    assert_eq!(reply.header("content-type"), "image/png", "{path}");
    let image = decode_png(&reply.body);
    assert_eq!((image.width, image.height), (size, size), "{path}");
    image
}

/// Web Mercator: global pixel position of a WGS84 point at zoom `z`, on 256-pixel tiles
/// (x from the antimeridian eastwards, y from the north edge southwards).
pub fn mercator_px(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let world = 256.0 * 2f64.powi(i32::from(z));
    let sin = lat.to_radians().sin();
    let x = (lon + 180.0) / 360.0 * world;
    let y = (0.5 - ((1.0 + sin) / (1.0 - sin)).ln() / (4.0 * std::f64::consts::PI)) * world;
    (x, y)
}

/// The pixels of one overlay tile in the column above a point (`x`, `y`), from the leader's
/// clearance up to the overlay's reach or the tile's top (see [`hanging`]).
pub fn column_above(image: &Image, (x, y): (u32, u32)) -> Vec<[u8; 4]> {
    let from = tessera::render::LEADER_CLEAR_PX as u32;
    let to = (tessera::render::OVERLAY_REACH_PX as u32).min(y);
    (from..=to).map(|d| image.pixel(x, y - d)).collect()
}

/// The event overlay's pixels (256 px tiles of zoom `z`, served at `base`) in the column above a
/// place, from the leader's clearance up to the overlay's reach, across tile edges: where a
/// located event's symbol hangs (`tessera::render` draws it above its point, on a leader that
/// leaves the point clear).
pub fn hanging(base: &str, place: (f64, f64), z: u8) -> Vec<[u8; 4]> {
    column_above_from(place, z, |path| get_url(&format!("{base}{path}")))
}

/// [`hanging`], with the overlay tiles read through `fetch` (a path to an answer).
pub fn column_above_from(place: (f64, f64), z: u8, fetch: impl Fn(&str) -> Reply) -> Vec<[u8; 4]> {
    let (gx, gy) = mercator_px(place.0, place.1, z);
    let from = f64::from(tessera::render::LEADER_CLEAR_PX);
    let mut tiles: std::collections::HashMap<u32, Image> = std::collections::HashMap::new();
    let mut out = Vec::new();
    let mut d = from;
    while d <= tessera::render::OVERLAY_REACH_PX && gy - d >= 0.0 {
        let (x, y) = (gx, gy - d);
        let (tx, ty) = ((x / 256.0) as u32, (y / 256.0) as u32);
        let image = tiles.entry(ty).or_insert_with(|| {
            let reply = fetch(&format!("/overlays/events/{z}/{tx}/{ty}.png"));
            assert_eq!(reply.status, 200, "{}", reply.text());
            decode_png(&reply.body)
        });
        out.push(image.pixel((x - f64::from(tx) * 256.0) as u32, (y - f64::from(ty) * 256.0) as u32));
        d += 1.0;
    }
    out
}

/// Parses `#rgb`, `#rrggbb` or `#rrggbbaa`.
pub fn hex(text: &str) -> [u8; 4] {
    let h = text.trim_start_matches('#');
    let h: String = if h.len() == 3 { h.chars().flat_map(|c| [c, c]).collect() } else { h.to_owned() };
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).expect("hex colour");
    [byte(0), byte(2), byte(4), if h.len() == 8 { byte(6) } else { 255 }]
}

/// Whether every channel differs by at most `tolerance`.
pub fn close(a: [u8; 4], b: [u8; 4], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

/// Squared RGB distance.
pub fn distance2(a: [u8; 4], b: [u8; 4]) -> i32 {
    (0..3).map(|i| (i32::from(a[i]) - i32::from(b[i])).pow(2)).sum()
}

/// `geodata/layers.toml`, parsed.
pub fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(geodata().join("layers.toml")).expect("layers.toml");
    text.parse().expect("layers.toml parses")
}

/// The background colour that layers.toml gives.
pub fn background() -> [u8; 4] {
    hex(manifest()["background"].as_str().expect("background"))
}

/// A layer's entry in layers.toml.
pub fn layer_entry(id: &str) -> toml::Table {
    manifest()["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(toml::Value::as_table)
        .find(|l| l["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no layer {id} in layers.toml"))
        .clone()
}

/// A style key (a colour) of a layer in layers.toml.
pub fn layer_color(id: &str, key: &str) -> [u8; 4] {
    hex(layer_entry(id)["style"][key].as_str().expect("colour"))
}

/// A GeoJSON file of the default geodata, parsed.
pub fn geojson(file: &str) -> Value {
    let bytes = std::fs::read(geodata().join(file)).expect("geojson file");
    serde_json::from_slice(&bytes).expect("geojson parses")
}

/// The `features` array of a GeoJSON file of the default geodata.
pub fn features(file: &str) -> Vec<Value> {
    geojson(file)["features"].as_array().expect("features").clone()
}

/// Longitude and latitude of a Point feature.
pub fn point(feature: &Value) -> (f64, f64) {
    let c = &feature["geometry"]["coordinates"];
    (c[0].as_f64().expect("longitude"), c[1].as_f64().expect("latitude"))
}

/// Like [`start_server`], and also hands back a clone of the server's state, which shares its
/// tile cache, render pool and event store, so that a test can look into the cache.
pub fn start_server_with_state(settings: Config, data: &Path) -> (String, tessera::http::AppState) {
    start_server_on(settings, data, &geodata())
}

/// Like [`start_server_with_state`], serving the geodata directory `geodata` instead of the
/// default one.
pub fn start_server_on(settings: Config, data: &Path, geodata: &Path) -> (String, tessera::http::AppState) {
    let catalog = tessera::layer::load_dir(geodata).expect("geodata loads");
    let events = tessera::cli::open_events(data, &catalog).expect("event store opens and seeds");
    let archives = settings.server.archive.clone();
    let state = tessera::http::AppState::new(catalog, std::sync::Arc::new(events), settings).expect("state");
    // The archives of the settings, opened as `tessera serve` opens them.
    let archives = tokio::runtime::Runtime::new()
        .expect("tokio runtime")
        .block_on(tessera::service::Archives::open(&archives))
        .expect("the archives open");
    let state = state.with_archives(archives);
    (serve_state(state.clone()), state)
}

/// Serves `state` on `127.0.0.1:0` as `tessera serve` does, on a thread of its own; its base URL.
pub fn serve_state(served: tessera::http::AppState) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
            tx.send(listener.local_addr().expect("local addr")).expect("send address");
            // The server as `tessera serve` runs it: the router behind the connection limits.
            tessera::http::run(listener, served, std::future::pending()).await.expect("serve");
        });
    });
    // The listener is bound before the address is sent, so the server is ready now.
    let addr = rx.recv().expect("the server thread reports its address");
    format!("http://{addr}")
}

/// The settings the map page at `path` (`/` or `/embed...`) carries in its
/// `<script type="application/json" id="tessera-config">` element.
pub fn page_config(path: &str) -> Value {
    let html = get_with(path, &[("Accept", "text/html")]).text();
    let tag = "id=\"tessera-config\">";
    let start = html.find(tag).expect("the config element") + tag.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("the config is JSON")
}

/// A server of its own for one test, in-process: the real router (every middleware of `app`)
/// on fresh state (the default geodata, an in-memory event store with the seed events), called
/// with `oneshot`, no socket. API tests use it so that none shares an event database with
/// another; what needs a real process or connection (the battery, durability, storage faults,
/// limits on the wire) keeps using a server on a port.
pub struct TestApp {
    router: axum::Router,
    runtime: tokio::runtime::Runtime,
}

impl TestApp {
    /// A fresh app with the shared server's settings.
    pub fn new() -> Self {
        Self::with(settings())
    }

    /// A fresh app with these settings.
    pub fn with(config: Config) -> Self {
        let catalog = tessera::layer::load_dir(&geodata()).expect("default geodata loads");
        let store = tessera::events::SqliteStore::in_memory().expect("an in-memory event store");
        tessera::cli::seed_events(&store, &catalog).expect("the seed events");
        let state = tessera::http::AppState::new(catalog, std::sync::Arc::new(store), config).expect("state");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        Self { router: tessera::http::app(state), runtime }
    }

    /// Sends a request (`target` a path, or an absolute URL whose path is taken) and reads the
    /// whole answer.
    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        use tower::ServiceExt;
        let path = match target.find("://") {
            Some(i) => target[i + 3..].find('/').map_or("/", |j| &target[i + 3 + j..]),
            None => target,
        };
        let mut req = axum::http::Request::builder().method(method).uri(path).header("host", "localhost");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(axum::body::Body::from(body.to_vec())).expect("a request");
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let response = router.oneshot(req).await.unwrap_or_else(|e| match e {});
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, 64 * 1024 * 1024).await.expect("the body").to_vec();
            Reply { status: parts.status.as_u16(), headers: parts.headers, body }
        })
    }

    /// GET a path.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    /// The z-`z` event overlay's pixels in the column above a place, where a located event's
    /// symbol hangs (see [`hanging`]).
    pub fn overlay_above(&self, place: (f64, f64), z: u8) -> Vec<[u8; 4]> {
        column_above_from(place, z, |path| self.get(path))
    }
}

/// The samples of the server's `/metrics` named `name` whose labels include `labels`, summed
/// (0 when there is none). The text format read line by line; `tests/integration/metrics.rs`
/// checks the whole output with the Prometheus client's own parser.
pub fn metric_at(base: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let reply = get_url(&format!("{base}/metrics"));
    assert_eq!(reply.status, 200, "/metrics");
    reply
        .text()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            let wanted = metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}
