//! `/metrics`, read by the Prometheus client's own text parser (Python `prometheus-client`, in
//! the venv of `tests/python/run.sh`), on servers of their own so that the counts are theirs
//! alone: counters move by exactly the requests made, label values stay within a fixed set, and
//! the requests shed with 503 are counted one by one.

use serde_json::Value;

use crate::api_definition::python_with;
use crate::common::{
    WRITE_TOKEN, get_url, request, scratch_dir, settings, settings_with, start_server, start_server_with_state,
};

/// Every sample of the server's `/metrics`, as the parser read them; `None` where Python cannot
/// run (a failure on CI).
fn scrape(base: &str) -> Option<Value> {
    python_with("check_metrics.py", &[&format!("{base}/metrics")])
}

/// The family named `name` (counters without `_total`, as the parser names them).
fn family<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["families"].as_array().and_then(|f| f.iter().find(|f| f["name"] == name)).unwrap_or(&Value::Null)
}

/// The sum of the samples named `sample` whose labels include `labels`.
fn value(doc: &Value, sample: &str, labels: &[(&str, &str)]) -> f64 {
    doc["families"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["samples"].as_array().into_iter().flatten())
        .filter(|s| s["name"] == sample && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap_or(f64::NAN))
        .sum()
}

#[test]
fn metrics_parse_as_prometheus_text_and_move_with_the_requests_made() {
    let base = start_server(settings(), &scratch_dir("metrics-counts"));
    let Some(before) = scrape(&base) else { return };
    assert!(before["content_type"].as_str().unwrap_or("").starts_with("text/plain; version=0.0.4"), "{before}");

    // A raster tile twice (a miss, then a hit), a vector tile, 20 unknown paths, one event
    // stored and one refused.
    for _ in 0..2 {
        assert_eq!(get_url(&format!("{base}/tiles/8/154/100.png")).status, 200);
    }
    assert!(matches!(get_url(&format!("{base}/tiles/0/0/0.mvt")).status, 200 | 204));
    for i in 0..20 {
        assert_eq!(get_url(&format!("{base}/no-such-page-{i}/x?{i}")).status, 404);
    }
    let auth = format!("Bearer {WRITE_TOKEN}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    let event = r#"{"type": "Feature", "id": "metrics-termanin", "geometry": {"type": "Point", "coordinates": [36.817, 36.233]},
        "properties": {"time": "2020-02-18", "kind": "airstrike", "title": "Air strike on Termanin", "location_precision": "town"}}"#;
    let items = format!("{base}/collections/events/items");
    assert_eq!(request("POST", &items, &headers, event.as_bytes()).status, 201);
    let untitled = event.replace(r#""title": "Air strike on Termanin", "#, "").replace("metrics-termanin", "metrics-2");
    assert_eq!(request("POST", &items, &headers, untitled.as_bytes()).status, 422);

    let Some(after) = scrape(&base) else { return };
    let delta = |sample: &str, labels: &[(&str, &str)]| value(&after, sample, labels) - value(&before, sample, labels);
    let tiles = [("route", "/tiles/{z}/{x}/{file}"), ("method", "GET")];
    assert_eq!(delta("tessera_http_requests_total", &[tiles[0], tiles[1], ("status", "2xx")]), 3.0);
    assert_eq!(delta("tessera_http_request_duration_seconds_count", &tiles), 3.0);
    assert_eq!(delta("tessera_http_request_duration_seconds_bucket", &[tiles[0], tiles[1], ("le", "+Inf")]), 3.0);
    assert!(delta("tessera_http_request_duration_seconds_sum", &tiles) > 0.0);
    assert_eq!(delta("tessera_http_requests_total", &[("route", "unrouted"), ("status", "4xx")]), 20.0);
    let writes = [("route", "/collections/events/items"), ("method", "POST")];
    assert_eq!(delta("tessera_http_requests_total", &[writes[0], writes[1], ("status", "2xx")]), 1.0);
    assert_eq!(delta("tessera_http_requests_total", &[writes[0], writes[1], ("status", "4xx")]), 1.0);

    // The label values are the router's patterns: twenty unknown paths made no new series.
    let routes: Vec<&'static str> = tessera::http::route_paths();
    for s in family(&after, "tessera_http_requests")["samples"].as_array().expect("request samples") {
        let route = s["labels"]["route"].as_str().unwrap_or("");
        assert!(route == "unrouted" || routes.contains(&route), "route label {route:?}");
    }

    assert_eq!(delta("tessera_tile_render_seconds_count", &[("kind", "raster"), ("zoom", "8")]), 1.0);
    assert_eq!(delta("tessera_tile_render_seconds_count", &[("kind", "vector"), ("zoom", "0")]), 1.0);
    assert_eq!(delta("tessera_tile_cache_requests_total", &[("result", "hit")]), 1.0);
    assert_eq!(delta("tessera_tile_cache_requests_total", &[("result", "miss")]), 2.0);
    // The event written at Termanin dropped the vector tile 0/0/0, which shows the events.
    assert_eq!(delta("tessera_tile_cache_evictions_total", &[("cause", "invalidated")]), 1.0);
    assert_eq!(value(&after, "tessera_tile_cache_entries", &[]), 1.0);
    assert!(value(&after, "tessera_tile_cache_bytes", &[]) > 1000.0);
    assert_eq!(value(&after, "tessera_tile_cache_capacity_bytes", &[]), 256.0 * 1024.0 * 1024.0);
    assert_eq!(delta("tessera_event_writes_total", &[("op", "create"), ("outcome", "stored")]), 1.0);
    assert_eq!(delta("tessera_event_writes_total", &[("op", "create"), ("outcome", "invalid")]), 1.0);
    let events = get_url(&format!("{base}/health")).json()["events"].as_f64();
    assert_eq!(Some(value(&after, "tessera_events", &[])), events);
    assert_eq!(value(&after, "tessera_geodata_layers", &[]), 13.0);
    assert!(value(&after, "tessera_geodata_last_reload_success_timestamp_seconds", &[]) > 1.7e9);

    assert_eq!(family(&after, "tessera_http_requests")["type"], "counter");
    assert_eq!(family(&after, "tessera_http_request_duration_seconds")["type"], "histogram");
    assert_eq!(family(&after, "tessera_tile_cache_bytes")["type"], "gauge");
    if cfg!(target_os = "linux") {
        assert!(value(&after, "process_resident_memory_bytes", &[]) > 1e6);
        assert!(value(&after, "process_open_fds", &[]) > 3.0);
    }
}

/// Fires every URL at once, each on its own thread; the statuses, in order.
fn all_at_once(urls: &[String]) -> Vec<u16> {
    std::thread::scope(|s| {
        let handles: Vec<_> = urls.iter().map(|u| s.spawn(move || get_url(u).status)).collect();
        handles.into_iter().map(|h| h.join().expect("a request thread")).collect()
    })
}

/// Distinct heavy tiles (every layer, 512 px) around Idlib, none cached yet.
fn heavy_tiles(base: &str, z: u8) -> Vec<String> {
    let (x0, y0) = (154u32 << (z - 8), 100u32 << (z - 8));
    (0..6).flat_map(|dx| (0..6).map(move |dy| format!("{base}/tiles/{z}/{}/{}@2x.png", x0 + dx, y0 + dy))).collect()
}

#[test]
fn each_request_shed_with_503_is_counted_once() {
    // A render pool of one, queueing nothing: a burst of distinct tiles overflows it.
    let pool = settings_with(|c| (c.tiles.render_workers, c.tiles.render_queue) = (1, 0));
    let (pool_base, _) = start_server_with_state(pool, &scratch_dir("metrics-shed-pool"));
    // One request at a time: a burst is refused at the door.
    let door = settings_with(|c| c.limits.max_concurrent_requests = 1);
    let (door_base, _) = start_server_with_state(door, &scratch_dir("metrics-shed-door"));
    // One heavy job at a time, none waiting: a burst of large items pages overflows it.
    let heavy = settings_with(|c| (c.limits.heavy_workers, c.limits.heavy_queue) = (1, 0));
    let (heavy_base, _) = start_server_with_state(heavy, &scratch_dir("metrics-shed-heavy"));
    let pages = |base: &str| vec![format!("{base}/collections/world-countries/items?limit=10000"); 12];
    let cases = [
        (&pool_base, heavy_tiles(&pool_base, 9), "render_queue"),
        (&door_base, heavy_tiles(&door_base, 10), "concurrency"),
        (&heavy_base, pages(&heavy_base).into_iter().chain(pages(&heavy_base)).collect(), "heavy"),
    ];
    for (base, urls, reason) in cases {
        let Some(before) = scrape(base) else { return };
        let mut refused = 0;
        for round in urls.chunks(12) {
            refused += all_at_once(round).iter().filter(|&&s| s == 503).count();
            if refused > 0 {
                break;
            }
        }
        assert!(refused > 0, "{reason}: no request was refused");
        let Some(after) = scrape(base) else { return };
        let shed = value(&after, "tessera_requests_shed_total", &[("reason", reason)])
            - value(&before, "tessera_requests_shed_total", &[("reason", reason)]);
        assert_eq!(shed, refused as f64, "{reason}");
        for other in ["render_queue", "concurrency", "heavy"].into_iter().filter(|o| *o != reason) {
            assert_eq!(value(&after, "tessera_requests_shed_total", &[("reason", other)]), 0.0, "{reason}");
        }
    }
}
