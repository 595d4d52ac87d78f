//! The bad-input battery: malformed and hostile requests, each sent byte for byte over TCP to
//! the real `tessera` binary (started as a child, its log captured in a file). For each, the
//! answer must have the expected status and a JSON body with `code`, `status` and a
//! `description` that names the problem (a keyword per case), carry no internal detail (file
//! paths, Rust type names, SQL, panics), and `/health` must answer 200 right after. At the
//! end, the server's log must show no panic and no internal error.
//!
//! The cases go where `events_api.rs` (the validation table of event bodies) does not: the
//! protocol itself (bytes that are not UTF-8, broken framing, oversized heads), `../` in every
//! path segment, numbers past any integer, every parameter's malformed forms, tokens mangled
//! in each way, methods each route refuses, and the rarer shapes of bad GeoJSON.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Stdio};

use serde_json::{Value, json};

use crate::cli::{scratch, tessera};
use crate::common::WRITE_TOKEN;
use crate::events_api::event;
use crate::raw::{self, Conn, RawReply};

/// The battery server's limits, small so that the oversized cases are cheap.
const CONFIG: &str = "[limits]\nmax_body_bytes = 65536\nmax_url_bytes = 2048\nmax_header_bytes = 8192\n\
                      request_timeout_secs = 10\n[events]\nmax_batch = 10\n[tiles]\nmax_zoom = 20\n";

/// A token sent in a query string (never a way to authorize, never to be logged).
const QUERY_TOKEN: &str = "secret-in-the-query-0123456789";

/// What must never appear in an answer: this machine's paths, source locations, Rust type
/// paths, panics, SQL.
const LEAKS: [&str; 20] = [
    env!("CARGO_MANIFEST_DIR"),
    "/src/",
    ".rs:",
    "panicked",
    "RUST_BACKTRACE",
    "stack backtrace",
    "serde_json",
    "serde::",
    "axum::",
    "hyper::",
    "tokio::",
    "std::",
    "core::",
    "rusqlite",
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "DELETE FROM",
    "Error {",
    "Os {",
];

/// The `tessera` binary serving the default data with a write token, its stderr in a file.
struct Server {
    child: Child,
    /// Kept open: the server's stdout must not be closed under it.
    _stdout: BufReader<ChildStdout>,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Self {
        let dir = scratch("battery");
        let config = dir.join("tessera.toml");
        std::fs::write(&config, CONFIG).expect("config file");
        let log = dir.join("stderr.log");
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut child = tessera()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("TESSERA_WRITE_TOKEN", WRITE_TOKEN)
            // Requests are logged at debug: the log is checked for what must stay out of it.
            .env("RUST_LOG", "info,tower_http=debug")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn tessera");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let base = loop {
            line.clear();
            assert!(stdout.read_line(&mut line).expect("read stdout") > 0, "the server exited before serving");
            if let Some(at) = line.find("http://") {
                let url: String = line[at..].chars().take_while(|c| !c.is_whitespace()).collect();
                break url.trim_end_matches('/').to_owned();
            }
        };
        Self { child, _stdout: stdout, base, log }
    }

    /// Stops the server and returns its log.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).expect("read the log")
    }
}

/// One hostile request and what must answer it.
struct Case {
    what: String,
    request: Vec<u8>,
    status: u16,
    code: &'static str,
    /// A word of the description that names the problem (compared without case).
    names: &'static str,
}

/// A request with `Host`, `Connection: close` and, for a body or a write, `Content-Length`.
fn http(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: tessera.test\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The cases, built up by kind.
#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn raw(&mut self, what: &str, request: &[u8], status: u16, code: &'static str, names: &'static str) {
        self.0.push(Case { what: what.to_owned(), request: request.to_vec(), status, code, names });
    }

    fn get(&mut self, target: &str, status: u16, code: &'static str, names: &'static str) {
        self.raw(&format!("GET {target}"), &http("GET", target, &[], b""), status, code, names);
    }

    fn method(&mut self, method: &str, target: &str) {
        let what = format!("{method} {target}");
        self.raw(&what, &http(method, target, &[], b""), 405, "method_not_allowed", "method");
    }

    /// A POST of `body` as GeoJSON with the write token.
    fn post(&mut self, what: &str, body: &[u8], status: u16, code: &'static str, names: &'static str) {
        self.write("POST", "/collections/events/items", &[], what, body, status, code, names);
    }

    /// A write with the token, `Content-Type: application/geo+json` unless `headers` gives
    /// one, and `headers`.
    #[expect(clippy::too_many_arguments, reason = "a table row")]
    fn write(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        what: &str,
        body: &[u8],
        status: u16,
        code: &'static str,
        names: &'static str,
    ) {
        let auth = format!("Bearer {WRITE_TOKEN}");
        let mut all = vec![("Authorization", auth.as_str())];
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            all.push(("Content-Type", "application/geo+json"));
        }
        all.extend_from_slice(headers);
        self.raw(&format!("{method} {target}: {what}"), &http(method, target, &all, body), status, code, names);
    }

    /// A POST of a valid event with the given `Authorization` header (or none).
    fn token(&mut self, what: &str, authorization: Option<&str>, names: &'static str) {
        let body = event("battery-never-stored", (-60.0, -50.0)).to_string();
        let mut headers = vec![("Content-Type", "application/geo+json")];
        headers.extend(authorization.map(|a| ("Authorization", a)));
        let request = http("POST", "/collections/events/items", &headers, body.as_bytes());
        self.raw(&format!("token: {what}"), &request, 401, "unauthorized", names);
    }
}

/// A valid event changed by `change`, as JSON text.
fn event_with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = event("battery-never-stored", (-60.0, -50.0));
    change(&mut v);
    v.to_string().into_bytes()
}

fn protocol(c: &mut Cases) {
    let malformed = "bad_request";
    c.raw(
        "raw bytes not UTF-8 in the path",
        b"GET /tiles/\xff\xfe/0/0.png HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
        malformed,
        "percent-encoded",
    );
    c.raw(
        "a raw byte not UTF-8 in the query",
        b"GET /collections/countries/items?bbox=\xc0 HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
        malformed,
        "percent-encoded",
    );
    c.raw("a NUL byte in the path", b"GET /health\x00 HTTP/1.1\r\nHost: t\r\n\r\n", 400, malformed, "request line");
    c.raw(
        "Content-Length not a number",
        b"POST /collections/events/items HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
        400,
        malformed,
        "Content-Length",
    );
    c.raw(
        "two different Content-Lengths",
        b"POST /collections/events/items HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        400,
        malformed,
        "Content-Length",
    );
    c.raw(
        "a negative Content-Length",
        b"POST /collections/events/items HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        400,
        malformed,
        "Content-Length",
    );
    c.raw(
        "a header line without a colon",
        b"GET /health HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n",
        400,
        malformed,
        "header",
    );
    c.raw(
        "a space in a header name",
        b"GET /health HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
        400,
        malformed,
        "header",
    );
    c.raw("HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: t\r\n\r\n", 400, malformed, "HTTP/1.1");
    c.raw("a chunk size that is not hex", format!("POST /collections/events/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {WRITE_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").as_bytes(), 400, malformed, "chunked");
    c.raw(
        "a URL over max_url_bytes",
        &http("GET", &format!("/health?{}", "a".repeat(2100)), &[], b""),
        414,
        "uri_too_long",
        "URL",
    );
    c.raw(
        "a URL of 100 KiB",
        &http("GET", &format!("/health?{}", "a".repeat(100 * 1024)), &[], b""),
        414,
        "uri_too_long",
        "URL",
    );
    c.raw(
        "headers over max_header_bytes",
        &http("GET", "/health", &[("X-Big", &"a".repeat(9000))], b""),
        431,
        "headers_too_large",
        "headers",
    );
    c.raw(
        "a Content-Length past any body the server can count",
        b"POST /collections/events/items HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551614\r\n\r\n",
        400,
        malformed,
        "Content-Length",
    );
    c.raw(
        "a URL of 200,000 bytes, longer than the read buffer",
        &http("GET", &format!("/health?{}", "a".repeat(200_000)), &[], b""),
        414,
        "uri_too_long",
        "URL",
    );
    c.raw("the HTTP/2 connection preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, malformed, "HTTP/1.1");
    c.raw("no Host", b"GET /tiles.json HTTP/1.1\r\nConnection: close\r\n\r\n", 400, malformed, "Host");
    c.raw(
        "two Host lines",
        b"GET /tiles.json HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
        400,
        malformed,
        "Host",
    );
    c.raw(
        "a Host that breaks out of its brackets",
        b"GET /tiles.json HTTP/1.1\r\nHost: [::1]:80]evil\r\nConnection: close\r\n\r\n",
        400,
        malformed,
        "Host",
    );
    c.raw(
        "a user name in an absolute-form target",
        b"GET http://user:pw@tessera.test/health HTTP/1.1\r\nHost: tessera.test\r\nConnection: close\r\n\r\n",
        400,
        malformed,
        "user",
    );
    let many: Vec<(String, &str)> = (0..120).map(|i| (format!("X-{i}"), "y")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    c.raw("120 header lines", &http("GET", "/health", &many, b""), 431, "headers_too_large", "100 lines");
}

fn tiles(c: &mut Cases) {
    let (bad, out) = ("invalid_tile", "tile_out_of_range");
    c.get("/tiles/abc/1/1.png", 400, bad, "z");
    c.get("/tiles/-1/0/0.png", 400, bad, "non-negative integer");
    c.get("/tiles/1/-1/0.png", 400, bad, "x");
    c.get("/tiles/1/0/-1.png", 400, bad, "y");
    c.get("/tiles/99999999999999999999999999999999/0/0.png", 400, bad, "z");
    c.get("/tiles/4/340282366920938463463374607431768211456/0.png", 400, bad, "x");
    c.get("/tiles/4/0/99999999999999999999.png", 400, bad, "y");
    c.get("/tiles/1.5/0/0.png", 400, bad, "z");
    c.get("/tiles/1e3/0/0.png", 400, bad, "z");
    c.get("/tiles/0x1/0/0.png", 400, bad, "z");
    c.get("/tiles/%20/0/0.png", 400, bad, "z");
    c.get("/tiles/%FF/0/0.png", 400, bad, "UTF-8");
    c.get("/tiles/30/1073741823/1073741823.png", 404, out, "maximum zoom");
    c.get("/tiles/21/0/0.png", 404, out, "maximum zoom");
    c.get("/tiles/255/0/0.png", 404, out, "zoom");
    c.get("/tiles/3/8/0.png", 404, out, "below 8");
    c.get("/tiles/3/0/8@2x.png", 404, out, "below 8");
    c.get("/tiles/0/0/0.gif", 404, "unsupported_format", "gif");
    c.get("/tiles/0/0/0@3x.png", 404, "unsupported_format", "tile format");
    c.get("/tiles/0/0/0", 404, "unsupported_format", "tile format");
    c.get("/tiles/0/0/0.png?layers=nope", 400, "unknown_layer", "nope");
    c.get("/tiles/0/0/0.png?layers=", 400, "unknown_layer", "layer");
    c.get("/tiles/0/0/0.png?layers=countries,,roads", 400, "unknown_layer", "layer");
    c.get("/tiles/0/0/0.mvt?layers=nope", 400, "unknown_layer", "nope");
    c.get("/tiles.json?layers=nope", 400, "unknown_layer", "nope");
    c.get("/overlays/events/x/0/0.png", 400, bad, "z");
    c.get("/overlays/events/0/0/0.png?datetime=yesterday", 400, "invalid_parameter", "datetime");
    c.get("/overlays/events/0/0/0.png?from=2020-02-30", 400, "invalid_parameter", "from");
    c.get("/overlays/events/0/0/0.png?from=2020-03-01&to=2020-02-01", 400, "invalid_parameter", "before");
    c.get("/overlays/events/0/0/0.png?datetime=2020-02-01&from=2020-02-01", 400, "invalid_parameter", "either");
    c.get("/overlays/events/0/0/0.png?kind=bombing", 400, "invalid_parameter", "kind");
    // The overlay's own formats, not the base tiles' ({y}.mvt is not one).
    c.get("/overlays/events/0/0/0.gif", 404, "unsupported_format", "{y}.json for the markers");
    c.get("/overlays/events/0/0/0.mvt", 404, "unsupported_format", "{y}.json for the markers");
}

fn traversal(c: &mut Cases) {
    // `../` in every segment of every route with segments, encoded (a path segment) and raw.
    c.get("/tiles/..%2F..%2Fetc/0/0.png", 400, "invalid_tile", "z");
    c.get("/tiles/0/..%2F..%2Fetc/0.png", 400, "invalid_tile", "x");
    c.get("/tiles/0/0/..%2F..%2Fetc%2Fpasswd.png", 400, "invalid_tile", "y");
    c.get("/tiles/0/0/0.png?layers=..%2F..%2Fetc%2Fpasswd", 400, "unknown_layer", "layer");
    c.get("/overlays/events/..%2F..%2F/0/0.png", 400, "invalid_tile", "z");
    c.get("/collections/..%2F..%2Fetc%2Fpasswd", 404, "not_found", "collection");
    c.get("/collections/..%2F..%2Fetc%2Fpasswd/items", 404, "not_found", "collection");
    c.get("/collections/countries/items/..%2F..%2FCargo.toml", 404, "not_found", "feature");
    c.get("/collections/events/items/..%2F..%2Fevents.sqlite", 404, "not_found", "event");
    c.get("/sprites/..%2FCargo.toml", 404, "not_found", "sprite");
    c.get("/sprites/%FF", 404, "not_found", "sprite");
    c.get("/web/leaflet/..%2F..%2FCargo.toml", 404, "not_found", "Leaflet");
    c.get("/tiles/../../../etc/passwd", 404, "not_found", "route");
    c.get("/collections/../../../etc/passwd", 404, "not_found", "route");
    c.get("/%2e%2e/%2e%2e/etc/passwd", 404, "not_found", "route");
    c.get("//etc/passwd", 404, "not_found", "route");
    c.get("/collections/countries/items/%00", 404, "not_found", "feature");
    c.get("/collections/%00", 404, "not_found", "collection");
    c.get("/collections/%FF/items", 404, "not_found", "UTF-8");
}

fn parameters(c: &mut Cases) {
    let p = "invalid_parameter";
    for (query, names) in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=0,0,200,1", "out of range"),
        ("bbox=0,10,1,5", "south"),
        ("bbox=NaN,0,1,1", "finite"),
        ("bbox=1e999,0,1,1", "finite"),
        ("bbox=1,2,3,4,5", "4 numbers"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("limit=%zz", "limit"),
        ("offset=-1", "offset"),
        ("offset=1e3", "offset"),
        ("offset=", "offset"),
        ("colour=red", "colour"),
        ("f=xml", "f"),
    ] {
        c.get(&format!("/collections/countries/items?{query}"), 400, p, names);
    }
    for (query, names) in [
        ("datetime=2020-13-45", "datetime"),
        ("datetime=2020-02-01/2020-01-01", "before"),
        ("datetime=2020-02-18T25:00:00Z", "datetime"),
        ("datetime=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "datetime"),
        ("kind=airstrike,bombing", "bombing"),
        ("limit=abc", "limit"),
        ("bbox=0,0,1", "bbox"),
        ("sortby=time", "sortby"),
    ] {
        c.get(&format!("/collections/events/items?{query}"), 400, p, names);
    }
    c.get("/?f=xml", 400, p, "f");
    c.get("/conformance?f=xml", 400, p, "f");
    c.get("/collections/roads/queryables?f=html", 400, p, "f");
    c.get("/collections?f=yaml", 400, p, "f");
}

fn methods(c: &mut Cases) {
    for (method, target) in [
        ("PUT", "/tiles/0/0/0.png"),
        ("DELETE", "/collections"),
        ("TRACE", "/"),
        ("POST", "/health"),
        ("PATCH", "/collections/events/items"),
        ("DELETE", "/tiles.json"),
        ("POST", "/collections/countries/items"),
        ("PUT", "/overlays/events/0/0/0.png"),
        ("BREW", "/health"),
    ] {
        c.method(method, target);
    }
}

fn tokens(c: &mut Cases) {
    let wrong = "not the write token";
    c.token("none", None, "Bearer");
    c.token("Basic", Some("Basic dXNlcjpwYXNzd29yZA=="), "Bearer <token>");
    c.token("the scheme alone", Some("Bearer"), "Bearer <token>");
    // hyper trims the space, so this is the scheme alone.
    c.token("the scheme and a space", Some("Bearer "), "Bearer <token>");
    c.token("two spaces then a wrong token", Some("Bearer  wrong"), wrong);
    c.token("lower-case scheme, wrong token", Some("bearer wrong"), wrong);
    let longer = format!("Bearer {WRITE_TOKEN}x");
    c.token("the token and one more character", Some(&longer), wrong);
    let prefix = format!("Bearer {}", &WRITE_TOKEN[..10]);
    c.token("a prefix of the token", Some(&prefix), wrong);
    c.token("unicode", Some("Bearer tökén-ünïcødé-0123456789"), wrong);
    c.token("the token in quotes", Some(&format!("Bearer \"{WRITE_TOKEN}\"")), wrong);
    // A token in the query is no token, and the log must not keep it (checked at the end).
    let body = event("battery-never-stored", (-60.0, -50.0)).to_string();
    let target = format!("/collections/events/items?access_token={QUERY_TOKEN}");
    let request = http("POST", &target, &[("Content-Type", "application/geo+json")], body.as_bytes());
    c.raw("token: in the query", &request, 401, "unauthorized", "Bearer");
}

fn bodies(c: &mut Cases, seeded: &str) {
    let (json_err, invalid) = ("invalid_json", "invalid_event");
    for (what, content_type) in [
        ("text/plain", "text/plain"),
        ("form data", "application/x-www-form-urlencoded"),
        ("XML", "application/xml"),
        ("an empty type", ""),
    ] {
        let body = event_with(|_| ());
        c.write(
            "POST",
            "/collections/events/items",
            &[("Content-Type", content_type)],
            what,
            &body,
            415,
            "unsupported_media_type",
            "Content-Type",
        );
    }
    c.post("not UTF-8", b"{\"type\": \"Feature\", \"id\": \"\xc3\x28\"}", 400, json_err, "UTF-8");
    c.post("empty", b"", 400, json_err, "JSON");
    c.post("trailing garbage", &[event_with(|_| ()), b" xyz".to_vec()].concat(), 400, json_err, "JSON");
    c.post("a byte-order mark", &[b"\xef\xbb\xbf".to_vec(), event_with(|_| ())].concat(), 400, json_err, "JSON");
    let past_f64 = String::from_utf8(event_with(|_| ())).expect("UTF-8").replace("[-60.0,-50.0]", "[1e400,-50.0]");
    assert!(past_f64.contains("1e400"));
    c.post("a number past f64", past_f64.as_bytes(), 400, json_err, "JSON");
    c.post(
        "10,000 nested arrays",
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
        400,
        json_err,
        "deeper than 32",
    );
    c.post(
        "10,000 nested objects",
        format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).as_bytes(),
        400,
        json_err,
        "deeper than 32",
    );
    c.raw("a body announced over max_body_bytes", format!("POST /collections/events/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {WRITE_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n").as_bytes(), 413, "payload_too_large", "larger than");
    c.post("null", b"null", 422, invalid, "Feature");
    c.post("an array", b"[]", 422, invalid, "Feature");
    c.post("a bare Point", br#"{"type": "Point", "coordinates": [36.8, 36.2]}"#, 422, invalid, "Feature");
    c.post("features not an array", br#"{"type": "FeatureCollection", "features": {}}"#, 422, invalid, "features");
    c.post("no features", br#"{"type": "FeatureCollection", "features": []}"#, 422, invalid, "empty");
    let eleven: Vec<Value> = (0..11).map(|i| event(&format!("battery-batch-{i}"), (-60.0, -50.0))).collect();
    c.post(
        "a batch of 11",
        json!({"type": "FeatureCollection", "features": eleven}).to_string().as_bytes(),
        413,
        "payload_too_large",
        "batch",
    );
    let mut mixed: Vec<Value> = (0..3).map(|i| event(&format!("battery-mixed-{i}"), (-60.0, -50.0))).collect();
    mixed[1]["geometry"]["coordinates"] = json!([0, 91]);
    c.post(
        "a batch with a bad feature",
        json!({"type": "FeatureCollection", "features": mixed}).to_string().as_bytes(),
        422,
        invalid,
        "features[1]",
    );
    c.post(
        "a Polygon",
        &event_with(|v| v["geometry"] = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})),
        422,
        invalid,
        "geometry",
    );
    c.post(
        "one coordinate",
        &event_with(|v| v["geometry"]["coordinates"] = json!([36.8])),
        422,
        invalid,
        "coordinates",
    );
    c.post(
        "null coordinates",
        &event_with(|v| v["geometry"]["coordinates"] = json!([null, null])),
        422,
        invalid,
        "coordinates",
    );
    c.post("properties a string", &event_with(|v| v["properties"] = json!("airstrike")), 422, invalid, "properties");
    c.post(
        "no properties",
        &event_with(|v| {
            v.as_object_mut().map(|o| o.remove("properties"));
        }),
        422,
        invalid,
        "properties",
    );
    c.post("an id with ../", &event_with(|v| v["id"] = json!("../../etc/passwd")), 422, invalid, "id");
    c.post("an id of 200 characters", &event_with(|v| v["id"] = json!("a".repeat(200))), 422, invalid, "id");
    c.post("an id with NUL", &event_with(|v| v["id"] = json!("a\u{0}b")), 422, invalid, "id");
    c.post("an id that is an object", &event_with(|v| v["id"] = json!({"$ne": null})), 422, invalid, "id");
    c.post(
        "a title of 301 characters",
        &event_with(|v| v["properties"]["title"] = json!("t".repeat(301))),
        422,
        invalid,
        "title",
    );
    c.post(
        "a description of 10,001 characters",
        &event_with(|v| v["properties"]["description"] = json!("d".repeat(10_001))),
        422,
        invalid,
        "description",
    );
    c.post("101 sources", &event_with(|v| v["properties"]["sources"] = json!(vec!["s"; 101])), 422, invalid, "sources");
    c.post("killed as text", &event_with(|v| v["properties"]["killed"] = json!("3")), 422, invalid, "killed");
    c.post("killed past any integer", &event_with(|v| v["properties"]["killed"] = json!(1e20)), 422, invalid, "killed");
    c.post(
        "killed the largest integer",
        &event_with(|v| v["properties"]["killed"] = json!(u64::MAX)),
        422,
        invalid,
        "killed",
    );
    c.post("an unknown member of the Feature", &event_with(|v| v["propertes"] = json!({})), 422, invalid, "propertes");
    c.post(
        "an unknown member of a batch",
        json!({"type": "FeatureCollection", "features": [event("battery-member", (-60.0, -50.0))], "links": []})
            .to_string()
            .as_bytes(),
        422,
        invalid,
        "links",
    );
    let twice = String::from_utf8(event_with(|_| ())).expect("UTF-8").replacen(
        "\"properties\":{",
        "\"properties\":{\"kind\":\"talks\",",
        1,
    );
    c.post("a key given twice", twice.as_bytes(), 400, json_err, "twice");
    c.post("30 February", &event_with(|v| v["properties"]["time"] = json!("2020-02-30")), 422, invalid, "time");
    c.post(
        "a reversed interval",
        &event_with(|v| v["properties"]["time"] = json!("2020-02-18/2020-02-01")),
        422,
        invalid,
        "time",
    );
    c.post(
        "an unknown location_precision",
        &event_with(|v| v["properties"]["location_precision"] = json!("somewhere")),
        422,
        invalid,
        "location_precision",
    );
    c.post(
        "an unknown date_precision",
        &event_with(|v| v["properties"]["date_precision"] = json!("century")),
        422,
        invalid,
        "date_precision",
    );
    c.post(
        "script in kind",
        &event_with(|v| v["properties"]["kind"] = json!("<script>alert(1)</script>")),
        422,
        invalid,
        "kind",
    );
    // Writes to one event: the checks in order (token, event, If-Match, type, body).
    let one = format!("/collections/events/items/{seeded}");
    let body = event_with(|v| v["id"] = json!(seeded));
    c.write(
        "PUT",
        "/collections/events/items/nope",
        &[("If-Match", "*")],
        "an unknown event",
        &body,
        404,
        "not_found",
        "nope",
    );
    c.write(
        "PATCH",
        &one,
        &[("Content-Type", "application/merge-patch+json")],
        "no If-Match",
        b"{}",
        428,
        "precondition_required",
        "If-Match",
    );
    c.write(
        "DELETE",
        &one,
        &[("If-Match", "\"stale-v0\"")],
        "a stale If-Match",
        b"",
        412,
        "precondition_failed",
        "changed",
    );
    c.write(
        "PATCH",
        &one,
        &[("If-Match", "*"), ("Content-Type", "application/json")],
        "JSON, not a merge patch",
        b"{}",
        415,
        "unsupported_media_type",
        "merge-patch",
    );
    c.write("PUT", &one, &[("If-Match", "*")], "another id in the body", &event_with(|_| ()), 422, invalid, "id");
    c.write(
        "PATCH",
        &one,
        &[("If-Match", "*"), ("Content-Type", "application/merge-patch+json")],
        "a patch of the id",
        br#"{"id": "other"}"#,
        422,
        invalid,
        "id",
    );
    c.write(
        "PATCH",
        &one,
        &[("If-Match", "*"), ("Content-Type", "application/merge-patch+json")],
        "a patch making it invalid",
        br#"{"properties": {"killed": -3}}"#,
        422,
        invalid,
        "killed",
    );
    c.write(
        "DELETE",
        "/collections/events/items/..%2F..%2Fetc",
        &[("If-Match", "*")],
        "a path in the id",
        b"",
        404,
        "not_found",
        "event",
    );
}

/// Checks one answer against its case; returns what is wrong, if anything.
fn check(case: &Case, reply: &RawReply) -> Result<(), String> {
    let fail = |why: String| Err(format!("{}: {why}\n{}\n{}", case.what, reply.head, reply.text()));
    if reply.status != case.status {
        return fail(format!("status {} instead of {}", reply.status, case.status));
    }
    if !reply.header("content-type").is_some_and(|t| t.starts_with("application/json")) {
        return fail("not JSON".into());
    }
    if reply.header("x-content-type-options") != Some("nosniff") {
        return fail("no X-Content-Type-Options: nosniff".into());
    }
    let Ok(body) = serde_json::from_slice::<Value>(&reply.body) else { return fail("the body does not parse".into()) };
    if body["code"] != case.code || body["status"] != case.status {
        return fail(format!("code {} and status {}", body["code"], body["status"]));
    }
    let description = body["description"].as_str().unwrap_or("");
    if !description.to_lowercase().contains(&case.names.to_lowercase()) {
        return fail(format!("the description does not say '{}'", case.names));
    }
    let text = reply.text();
    if let Some(leak) = LEAKS.iter().find(|l| text.contains(*l)) {
        return fail(format!("the answer leaks '{leak}'"));
    }
    if reply.header("set-cookie").is_some() || reply.header("location").is_some() {
        return fail("a header was injected".into());
    }
    Ok(())
}

#[test]
fn every_hostile_request_gets_a_clear_json_error_and_the_server_keeps_serving() {
    let server = Server::start();
    let base = server.base.clone();
    let seeded = "2020-02-18-termanin-air-raids";
    assert_eq!(raw::exchange(&base, &raw::get(&format!("/collections/events/items/{seeded}"))).status, 200);
    let mut cases = Cases::default();
    protocol(&mut cases);
    tiles(&mut cases);
    traversal(&mut cases);
    parameters(&mut cases);
    methods(&mut cases);
    tokens(&mut cases);
    bodies(&mut cases, seeded);
    // A CRLF in a query value cannot split the answer's head.
    cases.get("/tiles/0/0/0.png?layers=roads%0D%0ALocation:%20http://evil.example", 400, "unknown_layer", "layer");
    cases.get(
        "/collections/events/items?datetime=2020-02-18%0D%0ASet-Cookie:%20a=1",
        400,
        "invalid_parameter",
        "datetime",
    );

    let mut failures = Vec::new();
    for case in &cases.0 {
        let mut conn = Conn::open(&base);
        let answer = conn.send(&case.request).and_then(|()| conn.reply());
        match answer.map_err(|e| format!("{}: no answer ({e})", case.what)).and_then(|reply| check(case, &reply)) {
            Ok(()) => {}
            Err(why) => failures.push(why),
        }
        assert!(raw::healthy(&base), "{}: /health does not answer 200 after it", case.what);
    }
    println!("bad-input battery: {} hostile requests, {} answered wrongly", cases.0.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.0.len(), failures.join("\n\n"));
    assert!(cases.0.len() >= 60, "only {} cases", cases.0.len());

    // Nothing that was refused was written.
    let stored = raw::exchange(&base, &raw::get("/collections/events/items?bbox=-61,-51,-59,-49"));
    assert_eq!(stored.json()["numberMatched"], 0, "a refused event was stored");
    let log = server.stop();
    // Each request has its line in the request log, so the token's absence below means something.
    let lines = log.lines().filter(|l| l.contains("tessera::access") && l.contains(" request ")).count();
    assert!(lines >= cases.0.len(), "{lines} request lines for {} cases:\n{log}", cases.0.len());
    assert!(!log.contains(QUERY_TOKEN), "a token sent in a query was logged:\n{log}");
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    assert!(!log.contains("request failed"), "an internal error:\n{log}");
    // Every answer was JSON of itself, none needed the last-resort layer's generic one.
    assert!(!log.contains("without JSON"), "a bare error answer was given the JSON shape:\n{log}");
}
