//! The fast path of cached raster tiles (`http::fast`) answers exactly as the router does: a
//! tile rendered through the router (a miss), the same tile from the fast path (a hit), and the
//! same tile from the router again (a hit asked with a percent-encoded path, which the fast path
//! leaves to the router's decoding) carry the same headers and bytes, answer `If-None-Match` and
//! `HEAD` alike, and are counted alike in the metrics. Bad tile paths still get their JSON errors
//! while the cache is warm.

use crate::common::{Reply, request, scratch_dir, settings, start_server};

/// The headers of an answer, but those that differ per request (its id, the date).
fn lasting_headers(reply: &Reply) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = reply
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or("(not text)").to_owned()))
        .collect();
    headers.sort();
    headers
}

/// The value of the sample `name` of the server's `/metrics` whose labels include `labels`.
fn sample(base: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let text = request("GET", &format!("{base}/metrics"), &[], b"").text();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn a_cached_tile_from_the_fast_path_is_answered_and_counted_as_through_the_router() {
    let base = start_server(settings(), &scratch_dir("fast-path"));
    let route = [("route", "/tiles/{z}/{x}/{file}"), ("method", "GET"), ("status", "2xx")];
    let hits = [("result", "hit")];
    let (requests_before, hits_before) = (
        sample(&base, "tessera_http_requests_total", &route),
        sample(&base, "tessera_tile_cache_requests_total", &hits),
    );

    // 1x and 2x: the 2x tile (93 KB) is over the 64 KiB of a large answer, which holds its share of the
    // answer buffer on both paths.
    for (file, encoded) in [("8/154/100.png", "8/154/%31%30%30.png"), ("7/77/50@2x.png", "7/77/%35%30@2x.png")] {
        let plain = format!("{base}/tiles/{file}");
        let through_router = format!("{base}/tiles/{encoded}");
        let miss = request("GET", &plain, &[], b"");
        let fast = request("GET", &plain, &[], b"");
        let routed = request("GET", &through_router, &[], b"");
        assert_eq!(miss.status, 200, "{file}: {}", miss.text());
        assert_eq!(miss.header("content-type"), "image/png");
        for (reply, what) in [(&fast, "fast path"), (&routed, "router, hit")] {
            assert_eq!(reply.status, 200, "{file}, {what}");
            assert_eq!(lasting_headers(reply), lasting_headers(&miss), "{file}, {what}");
            assert_eq!(reply.body, miss.body, "{file}, {what}");
            assert!(!reply.header("x-request-id").is_empty(), "{file}, {what}");
            assert_ne!(reply.header("x-request-id"), miss.header("x-request-id"), "{file}, {what}");
        }
        for name in ["etag", "cache-control", "access-control-allow-origin", "x-content-type-options", "content-length"]
        {
            assert!(!fast.header(name).is_empty(), "{file}: the fast path's answer has no {name}");
        }
        assert_eq!(fast.header("content-length"), miss.body.len().to_string());

        // If-None-Match: 304 on both paths, with the same headers.
        let etag = miss.header("etag");
        let fresh = [("If-None-Match", etag)];
        let fast_304 = request("GET", &plain, &fresh, b"");
        let routed_304 = request("GET", &through_router, &fresh, b"");
        assert_eq!((fast_304.status, routed_304.status), (304, 304), "{file}");
        assert!(fast_304.body.is_empty() && routed_304.body.is_empty(), "{file}");
        assert_eq!(lasting_headers(&fast_304), lasting_headers(&routed_304), "{file}");
        assert_eq!(fast_304.header("etag"), etag, "{file}");

        // HEAD: the GET's headers, no body, on both paths.
        let fast_head = request("HEAD", &plain, &[], b"");
        let routed_head = request("HEAD", &through_router, &[], b"");
        assert_eq!((fast_head.status, routed_head.status), (200, 200), "{file}");
        assert!(fast_head.body.is_empty() && routed_head.body.is_empty(), "{file}");
        assert_eq!(lasting_headers(&fast_head), lasting_headers(&routed_head), "{file}");
        assert_eq!(lasting_headers(&fast_head), lasting_headers(&miss), "{file}");
        if file.contains("@2x") {
            assert!(miss.body.len() >= 64 * 1024, "the 2x tile is {} bytes: not a large answer", miss.body.len());
        }
    }

    // Per tile: three 200s and two 304s (GET) and two HEADs, each counted under the route; six
    // hits in the cache (all but the miss, which rendered).
    let requests = sample(&base, "tessera_http_requests_total", &route) - requests_before;
    let counted_304 = [("route", "/tiles/{z}/{x}/{file}"), ("method", "GET"), ("status", "3xx")];
    assert_eq!(requests, 6.0, "GET 200s of the tile route");
    assert_eq!(sample(&base, "tessera_http_requests_total", &counted_304), 4.0, "GET 304s of the tile route");
    let head = [("route", "/tiles/{z}/{x}/{file}"), ("method", "HEAD"), ("status", "2xx")];
    assert_eq!(sample(&base, "tessera_http_requests_total", &head), 4.0, "HEADs of the tile route");
    let hits = sample(&base, "tessera_tile_cache_requests_total", &hits) - hits_before;
    assert_eq!(hits, 2.0 * 6.0, "cache hits: every request but the two misses");
    assert_eq!(sample(&base, "tessera_tile_cache_requests_total", &[("result", "miss")]), 2.0);

    // With the tiles cached, bad tile paths still get the router's JSON errors.
    for (path, status, code) in [
        ("/tiles/8/154/100.gif", 404, "unsupported_format"),
        ("/tiles/8/154/100@3x.png", 404, "unsupported_format"),
        ("/tiles/8/x/100.png", 400, "invalid_tile"),
        ("/tiles/8/999/100.png", 404, "tile_out_of_range"),
        ("/tiles/21/154/100.png", 404, "tile_out_of_range"),
        ("/tiles/8/154/100.png?layers=no-such-layer", 400, "unknown_layer"),
        ("/tiles/8/154/100.png?lang=xx", 400, "invalid_parameter"),
    ] {
        request("GET", &format!("{base}{path}"), &[], b"").assert_error(status, code);
    }
    let post = request("POST", &format!("{base}/tiles/8/154/100.png"), &[], b"");
    post.assert_error(405, "method_not_allowed");
}
