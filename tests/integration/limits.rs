//! Every limit (README, Limits) at its edge and just past it: the edge is taken, one more is
//! refused with its JSON error (or lowered, for `limit`). Each limit is set small
//! on a server of its own so that the tests are quick; the timeouts are one second, and the
//! only waits are on timeouts these tests set themselves. The render queue's edge is a unit
//! test of the pool (`src/http/pool.rs`); the tile cache's budget is in `caching_load.rs`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Reply, WRITE_TOKEN, bearer, get_url, request, scratch_dir, settings_with, start_server};
use crate::events_api::event;
use crate::raw::{self, Conn, RawReply};

/// The limits of [`small`].
const MAX_ZOOM: u8 = 5;
const ITEMS_LIMIT: usize = 2;
const ITEMS_MAX_LIMIT: usize = 3;
const MAX_BODY_BYTES: usize = 4096;
const MAX_BATCH: usize = 5;
const MAX_URL_BYTES: usize = 1024;
const MAX_HEADER_BYTES: usize = 2048;

/// A server with small size limits, shared by the tests of sizes.
fn small() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let limits = settings_with(|c| {
            c.tiles.max_zoom = MAX_ZOOM;
            (c.features.items_limit, c.features.items_max_limit) = (ITEMS_LIMIT, ITEMS_MAX_LIMIT);
            (c.limits.max_body_bytes, c.events.max_batch) = (MAX_BODY_BYTES, MAX_BATCH);
            (c.limits.max_url_bytes, c.limits.max_header_bytes) = (MAX_URL_BYTES, MAX_HEADER_BYTES);
        });
        start_server(limits, &scratch_dir("limits-small"))
    })
}

/// The request timeout of [`slow_clients`].
const TIMEOUT: Duration = Duration::from_secs(1);

/// A server with a one-second request timeout.
fn slow_clients() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        start_server(
            settings_with(|c| c.limits.request_timeout_secs = TIMEOUT.as_secs()),
            &scratch_dir("limits-timeout"),
        )
    })
}

/// Asserts a raw answer is the JSON error `code` with `status`; returns its description.
pub fn assert_raw_error(reply: &RawReply, status: u16, code: &str) -> String {
    assert_eq!(reply.status, status, "{}\n{}", reply.head, reply.text());
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{}", reply.head);
    let body = reply.json();
    assert_eq!((body["code"].as_str(), body["status"].as_u64()), (Some(code), Some(u64::from(status))), "{body}");
    let description = body["description"].as_str().unwrap_or("").to_owned();
    assert!(!description.is_empty(), "{body}");
    description
}

/// A valid event whose JSON text is exactly `size` bytes long (its description pads it).
fn event_of_size(id: &str, size: usize) -> Vec<u8> {
    let mut v = event(id, (10.0, 10.0));
    v["properties"]["description"] = json!("");
    let bare = v.to_string().len();
    v["properties"]["description"] = json!("x".repeat(size - bare));
    let body = v.to_string().into_bytes();
    assert_eq!(body.len(), size);
    body
}

fn post(base: &str, body: &[u8]) -> Reply {
    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    request("POST", &format!("{base}/collections/events/items"), &headers, body)
}

/// The head of a POST of events with the write token and a `Content-Length`, and `extra`
/// header lines (each ending in CRLF).
fn post_head(length: usize, extra: &str) -> Vec<u8> {
    format!(
        "POST /collections/events/items HTTP/1.1\r\nHost: tessera.test\r\nAuthorization: Bearer {WRITE_TOKEN}\r\n\
         Content-Type: application/geo+json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[test]
fn a_body_of_max_body_bytes_is_taken_and_one_byte_more_is_refused() {
    let at = post(small(), &event_of_size("limits-body-at", MAX_BODY_BYTES));
    assert_eq!(at.status, 201, "{}", at.text());
    let over = post(small(), &event_of_size("limits-body-over", MAX_BODY_BYTES + 1));
    let description = over.assert_error(413, "payload_too_large");
    assert!(description.contains(&MAX_BODY_BYTES.to_string()), "{description}");
    // A body announced too large is refused from its Content-Length, before it is sent.
    let announced = raw::exchange(small(), &post_head(1 << 30, ""));
    assert_raw_error(&announced, 413, "payload_too_large");
}

#[test]
fn a_write_without_the_token_is_refused_before_its_body_is_read() {
    // The head alone, announcing a body that never comes: the answer cannot wait for it.
    let head = "POST /collections/events/items HTTP/1.1\r\nHost: tessera.test\r\n\
                Content-Type: application/geo+json\r\nContent-Length: 4000\r\n\r\n";
    let reply = raw::exchange(slow_clients(), head.as_bytes());
    assert_raw_error(&reply, 401, "unauthorized");
    // The unread body is still on the connection, so the client is told not to reuse it.
    assert_eq!(reply.header("connection"), Some("close"));
}

#[test]
fn a_batch_of_max_batch_events_is_taken_and_one_more_is_refused() {
    let batch = |name: &str, n: usize| {
        let features: Vec<Value> = (0..n).map(|i| event(&format!("limits-{name}-{i}"), (11.0, 11.0))).collect();
        json!({ "type": "FeatureCollection", "features": features }).to_string().into_bytes()
    };
    let at = post(small(), &batch("batch-at", MAX_BATCH));
    assert_eq!(at.status, 201, "{}", at.text());
    assert_eq!(at.json()["numberReturned"], MAX_BATCH);
    let over = post(small(), &batch("batch-over", MAX_BATCH + 1));
    let description = over.assert_error(413, "payload_too_large");
    assert!(description.contains(&format!("at most {MAX_BATCH}")), "{description}");
}

#[test]
fn json_nested_32_levels_is_read_and_33_is_refused() {
    // The event object and its properties are two levels; `actors` brings the rest.
    let nested = |levels: usize| {
        let mut v = event("limits-nesting", (12.0, 12.0));
        v["properties"]["actors"] = (0..levels - 2).fold(json!("x"), |inner, _| json!([inner]));
        v.to_string().into_bytes()
    };
    // 32 levels get past the depth check to validation, which refuses actors that are not text.
    post(small(), &nested(32)).assert_error(422, "invalid_event");
    let description = post(small(), &nested(33)).assert_error(400, "invalid_json");
    assert!(description.contains("32 levels"), "{description}");
}

#[test]
fn event_fields_at_their_limits_are_taken_and_one_more_is_refused() {
    // Lengths are in characters, not bytes: the title is Arabic, two bytes a character.
    let at_the_limits = |id: &str| {
        let mut v = event(id, (150.0, -60.0));
        let p = &mut v["properties"];
        p["title"] = json!("ت".repeat(300));
        p["description"] = json!("d".repeat(10_000));
        p["actors"] = json!(vec!["a"; 100]);
        let mut sources = vec!["s".repeat(10); 99];
        sources.push("u".repeat(2_000));
        p["sources"] = json!(sources);
        v
    };
    let body = at_the_limits(&"f".repeat(128)).to_string();
    let taken = post(crate::common::server(), body.as_bytes());
    assert_eq!(taken.status, 201, "{}", taken.text());
    type Change = fn(&mut Value);
    let one_more: [(&str, Change); 6] = [
        ("id", |v| v["id"] = json!("f".repeat(129))),
        ("properties.title", |v| v["properties"]["title"] = json!("ت".repeat(301))),
        ("properties.description", |v| v["properties"]["description"] = json!("d".repeat(10_001))),
        ("properties.actors", |v| v["properties"]["actors"] = json!(vec!["a"; 101])),
        ("properties.sources", |v| v["properties"]["sources"] = json!(vec!["s"; 101])),
        ("properties.sources", |v| v["properties"]["sources"][99] = json!("u".repeat(2_001))),
    ];
    for (field, change) in one_more {
        let mut v = at_the_limits("limits-fields-over");
        change(&mut v);
        let reply = post(crate::common::server(), v.to_string().as_bytes());
        reply.assert_error(422, "invalid_event");
        let errors = reply.json()["errors"].clone();
        assert!(
            errors
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"].as_str().is_some_and(|f| f.starts_with(field)))),
            "{field}: {errors}"
        );
    }
}

#[test]
fn the_maximum_zoom_is_served_and_the_next_is_refused() {
    let m = MAX_ZOOM;
    let last = (1u32 << m) - 1;
    for path in [
        format!("/tiles/{m}/0/0.png"),
        format!("/tiles/{m}/{last}/{last}@2x.png"),
        format!("/tiles/{m}/0/0.mvt"),
        format!("/overlays/events/{m}/0/0.png"),
    ] {
        let reply = get_url(&format!("{}{path}", small()));
        assert!(matches!(reply.status, 200 | 204), "{path}: {}", reply.text());
    }
    for path in [
        format!("/tiles/{}/0/0.png", m + 1),
        format!("/tiles/{}/0/0.mvt", m + 1),
        format!("/overlays/events/{}/0/0@2x.png", m + 1),
    ] {
        let description = get_url(&format!("{}{path}", small())).assert_error(404, "tile_out_of_range");
        assert!(description.contains(&format!("maximum zoom {m}")), "{path}: {description}");
    }
    assert_eq!(get_url(&format!("{}/tiles.json", small())).json()["maxzoom"], m);
}

#[test]
fn a_limit_at_the_maximum_is_honoured_and_one_above_is_lowered_to_it() {
    for items in ["/collections/countries/items", "/collections/events/items"] {
        let page = |query: &str| {
            let reply = get_url(&format!("{}{items}{query}", small()));
            assert_eq!(reply.status, 200, "{items}{query}: {}", reply.text());
            reply.json()
        };
        assert_eq!(page("")["numberReturned"], ITEMS_LIMIT, "{items}: the default limit");
        assert_eq!(page(&format!("?limit={ITEMS_MAX_LIMIT}"))["numberReturned"], ITEMS_MAX_LIMIT, "{items}");
        let lowered = page(&format!("?limit={}", ITEMS_MAX_LIMIT + 1));
        assert_eq!(lowered["numberReturned"], ITEMS_MAX_LIMIT, "{items}: lowered, not refused");
        let this = lowered["links"][0]["href"].as_str().unwrap_or("");
        assert!(this.contains(&format!("limit={ITEMS_MAX_LIMIT}")), "{items}: the self link says so: {this}");
        let huge = page("?limit=99999999999999999999999999");
        assert_eq!(huge["numberReturned"], ITEMS_MAX_LIMIT, "{items}: beyond any integer, still lowered");
    }
}

#[test]
fn bbox_and_offset_have_no_limit_and_are_answered() {
    // A box of the whole world costs no more than the layer itself; paging bounds the answer.
    let world = get_url(&format!("{}/collections/countries/items?bbox=-180,-90,180,90", small()));
    assert_eq!((world.status, &world.json()["numberReturned"]), (200, &json!(ITEMS_LIMIT)));
    // An offset past the end, even past any integer, is an empty page.
    for offset in ["1000000", "99999999999999999999999999"] {
        for items in ["/collections/countries/items", "/collections/events/items"] {
            let reply = get_url(&format!("{}{items}?offset={offset}", small()));
            assert_eq!((reply.status, &reply.json()["numberReturned"]), (200, &json!(0)), "{items}?offset={offset}");
        }
    }
}

/// A GET whose path and query are exactly `length` bytes long.
fn get_of_length(length: usize) -> Vec<u8> {
    // A static file, which ignores parameters it does not take (JSON routes refuse them).
    let mut target = String::from("/sprites/tessera.png?pad=");
    target.push_str(&"a".repeat(length - target.len()));
    raw::get(&target)
}

#[test]
fn a_url_of_max_url_bytes_is_taken_and_one_byte_more_is_refused() {
    assert_eq!(raw::exchange(small(), &get_of_length(MAX_URL_BYTES)).status, 200);
    let over = raw::exchange(small(), &get_of_length(MAX_URL_BYTES + 1));
    let description = assert_raw_error(&over, 414, "uri_too_long");
    assert!(description.contains(&format!("{MAX_URL_BYTES} bytes")), "{description}");
    // Far past it, past what hyper holds at all: the same answer, from the connection layer.
    let far = raw::exchange(small(), &get_of_length(70_000));
    assert_raw_error(&far, 414, "uri_too_long");
    assert!(raw::healthy(small()));
}

/// A GET of `/health` whose header lines come to exactly `total` bytes (name, `: `, value and
/// CRLF each, as the server counts them).
fn get_with_headers_of(total: usize) -> Vec<u8> {
    let fixed = "Host: tessera.test\r\nConnection: close\r\n";
    let pad = total - fixed.len() - "X-Pad: \r\n".len();
    format!("GET /health HTTP/1.1\r\n{fixed}X-Pad: {}\r\n\r\n", "a".repeat(pad)).into_bytes()
}

#[test]
fn headers_of_max_header_bytes_are_taken_and_one_byte_more_is_refused() {
    assert_eq!(raw::exchange(small(), &get_with_headers_of(MAX_HEADER_BYTES)).status, 200);
    let over = raw::exchange(small(), &get_with_headers_of(MAX_HEADER_BYTES + 1));
    let description = assert_raw_error(&over, 431, "headers_too_large");
    assert!(description.contains(&format!("{MAX_HEADER_BYTES} bytes")), "{description}");
    // Far past it, past hyper's read buffer: the same answer, from the connection layer.
    assert_raw_error(&raw::exchange(small(), &get_with_headers_of(80 * 1024)), 431, "headers_too_large");
    assert!(raw::healthy(small()));
}

#[test]
fn a_hundred_header_lines_are_taken_and_one_more_is_refused() {
    let lines = |n: usize| {
        let extra: String = (2..n).map(|i| format!("X-{i}: y\r\n")).collect();
        format!("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n").into_bytes()
    };
    assert_eq!(raw::exchange(small(), &lines(100)).status, 200);
    let description = assert_raw_error(&raw::exchange(small(), &lines(101)), 431, "headers_too_large");
    assert!(description.contains("100 lines"), "{description}");
}

#[test]
fn a_client_that_stalls_mid_body_is_answered_408_in_time_while_others_are_served() {
    let base = slow_clients();
    let started = Instant::now();
    // More stalled clients than the runtime has threads: none of them holds one.
    let mut stalled: Vec<Conn> = (0..16)
        .map(|_| {
            let mut conn = Conn::open(base);
            conn.send(&post_head(1000, "")).expect("head");
            conn.send(br#"{"type": "Feature", "#).expect("part of the body");
            conn
        })
        .collect();
    for _ in 0..3 {
        assert!(raw::healthy(base), "the server answers others while the stalled requests wait");
    }
    for conn in &mut stalled {
        let reply = conn.reply().expect("an answer to the stalled request");
        let description = assert_raw_error(&reply, 408, "request_timeout");
        assert!(description.contains("request_timeout_secs"), "{description}");
        assert!(conn.closed_without_answer(), "the connection is closed after the 408");
    }
    assert!(started.elapsed() >= TIMEOUT, "answered before the timeout: {:?}", started.elapsed());
    assert!(raw::healthy(base));
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected_in_time() {
    let base = slow_clients();
    for partial in [&b""[..], b"GET /health HTTP/1.1\r\nHost: tessera.test\r\nX-Slow: "] {
        let started = Instant::now();
        let mut conn = Conn::open(base);
        conn.send(partial).expect("send");
        assert!(conn.closed_without_answer(), "{:?}: still open", String::from_utf8_lossy(partial));
        assert!(started.elapsed() >= TIMEOUT, "closed before the timeout: {:?}", started.elapsed());
    }
    assert!(raw::healthy(base));
}

#[test]
fn past_max_concurrent_requests_the_next_is_refused_503_with_retry_after() {
    let base = start_server(settings_with(|c| c.limits.max_concurrent_requests = 2), &scratch_dir("limits-requests"));
    // A write that waits for its body: once the server asks for the body (100 Continue), the
    // request is in progress and holds its place.
    let in_progress = || {
        let mut conn = Conn::open(&base);
        conn.send(&post_head(2, "Expect: 100-continue\r\n")).expect("head");
        assert_eq!(conn.reply().expect("100 Continue").status, 100);
        conn
    };
    let mut first = in_progress();
    let mut second = in_progress();
    let refused = raw::exchange(&base, &raw::get("/health"));
    let description = assert_raw_error(&refused, 503, "overloaded");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(description.contains("2 requests at once"), "{description}");
    // When one ends, its place is free again.
    first.send(b"{}").expect("body");
    assert_raw_error(&first.reply().expect("answer"), 422, "invalid_event");
    assert!(raw::healthy(&base));
    second.send(b"{}").expect("body");
    assert_raw_error(&second.reply().expect("answer"), 422, "invalid_event");
}

#[test]
fn past_max_connections_a_client_waits_until_a_connection_closes() {
    // No connection kept for new clients, so that one client may take both.
    let base = start_server(
        settings_with(|c| (c.limits.max_connections, c.limits.reserved_connections) = (2, 0)),
        &scratch_dir("limits-connections"),
    );
    let keep_alive = b"GET /health HTTP/1.1\r\nHost: tessera.test\r\n\r\n";
    let open = || {
        let mut conn = Conn::open(&base);
        conn.send(keep_alive).expect("send");
        assert_eq!(conn.reply().expect("answer").status, 200);
        conn
    };
    let first = open();
    let mut second = open();
    // A third is connected by the kernel but not accepted: no answer while the two stay open.
    let mut third = Conn::open(&base);
    third.send(&raw::get("/health")).expect("send");
    assert!(third.silent_for(Duration::from_millis(300)), "a third connection was served");
    drop(first);
    assert_eq!(third.reply().expect("answer once a connection closed").status, 200);
    second.send(keep_alive).expect("send");
    assert_eq!(second.reply().expect("answer").status, 200, "the open connection still works");
}

#[test]
fn limits_out_of_their_range_stop_start_up_with_the_setting_named() {
    for (flag, value, key) in [
        ("--request-timeout-secs", "0", "request_timeout_secs"),
        ("--max-connections", "0", "max_connections"),
        ("--max-concurrent-requests", "0", "max_concurrent_requests"),
    ] {
        let (out, stderr) =
            crate::cli::run(crate::cli::tessera().args(["serve", "--listen", "127.0.0.1:0", flag, value]));
        assert!(!out.status.success(), "{flag} {value} started");
        assert!(stderr.contains(key), "{flag} {value}: {stderr}");
    }
    let config = scratch_dir("limits-config").join("tessera.toml");
    std::fs::write(&config, "[limits]\nmax_url_bytes = 100000\n").expect("config");
    let (out, stderr) =
        crate::cli::run(crate::cli::tessera().args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(&config));
    assert!(!out.status.success() && stderr.contains("limits.max_url_bytes: 100000 is not between"), "{stderr}");
}
