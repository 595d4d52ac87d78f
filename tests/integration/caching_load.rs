//! The tile cache and the render pool under load, on servers of their own: the cache keeps at
//! most its budget in bytes and `cache_mb = 0` turns it off; a full render pool answers 503 with
//! `Retry-After` instead of queueing, and keeps serving; identical concurrent requests are
//! rendered once; and event writes racing with readers show on the very next read.
//!
//! Requests made from many threads at once carry a time limit, so that one the server never
//! answers fails the test instead of hanging it. That limit is a bound, not a measurement: no
//! test here depends on how fast the machine is.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, OnceLock};
use std::time::Duration;

use crate::caching::{A, get_at, rendered, server, sync};
use crate::common::{
    Reply, bearer, close, decode_png, hanging, hex, request, scratch_dir, settings, settings_with,
    start_server_with_state,
};
use crate::events_api::event;
use crate::mvt::tile_of;

/// GET an absolute URL, failing after two minutes without an answer.
fn get_bounded(url: &str) -> Reply {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        let config = ureq::Agent::config_builder().http_status_as_error(false);
        config.timeout_global(Some(Duration::from_secs(120))).build().new_agent()
    });
    let mut response = agent.get(url).call().unwrap_or_else(|e| panic!("{url}: no answer: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec().expect("body");
    Reply { status, headers, body }
}

/// GETs every URL from a thread of its own, all released at once.
fn all_at_once(urls: &[String]) -> Vec<Reply> {
    let barrier = Barrier::new(urls.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = urls
            .iter()
            .map(|u| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    get_bounded(u)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("request thread")).collect()
    })
}

/// 512-pixel tiles (and vector tiles) at zoom `z` over the area of the towns layer, the densest
/// data: 34.5-39.5 E, 32-38 N.
fn dense_tiles(z: u8) -> Vec<(u32, u32)> {
    let (_, x0, y0) = tile_of((34.5, 38.0), z);
    let (_, x1, y1) = tile_of((39.5, 32.0), z);
    (x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (x, y))).collect()
}

#[test]
fn the_cache_keeps_at_most_its_budget_in_bytes() {
    const BUDGET: u64 = 1024 * 1024;
    let (base, state) = start_server_with_state(settings_with(|c| c.tiles.cache_mb = 1), &scratch_dir("cache-1mb"));
    let (mut fetched, mut total) = (0, 0);
    for z in [8, 9] {
        for (x, y) in dense_tiles(z) {
            if total > 3 * BUDGET {
                break;
            }
            let reply = get_at(&base, &format!("/tiles/{z}/{x}/{y}@2x.png"), &[]);
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(decode_png(&reply.body).width, 512);
            total += reply.body.len() as u64;
            fetched += 1;
        }
    }
    assert!(total > 2 * BUDGET, "{total} bytes of tiles: not enough to fill the cache twice");
    sync(&state);
    let (held, bytes) = (state.cache().len(), state.cache().bytes());
    assert!(held > 0 && held < fetched, "{held} of {fetched} tiles held");
    assert!(bytes > 0 && bytes <= BUDGET, "{bytes} bytes held of {total} fetched");
    let health = get_at(&base, "/health", &[]).json();
    assert_eq!((&health["cached_tiles"], &health["cached_bytes"]), (&held.into(), &bytes.into()), "{health}");
}

#[test]
fn with_cache_mb_0_nothing_is_cached_and_answers_stay_right() {
    let (base, state) = start_server_with_state(settings_with(|c| c.tiles.cache_mb = 0), &scratch_dir("cache-off"));
    let paths = ["/tiles/7/77/50@2x.png", "/tiles/7/77/50.mvt", "/overlays/events/6/38/25.png"];
    for path in paths {
        let (first, second, cached) = (get_at(&base, path, &[]), get_at(&base, path, &[]), get_at(server(), path, &[]));
        assert_eq!(first.status, 200, "{path}: {}", first.text());
        assert!(first.body == second.body && first.body == cached.body, "{path}: differs from the cached server's");
        assert_eq!(first.header("etag"), cached.header("etag"), "{path}");
        assert_eq!(get_at(&base, path, &[("If-None-Match", first.header("etag"))]).status, 304, "{path}");
    }
    sync(&state);
    assert_eq!(state.cache().len(), 0);
    assert_eq!(get_at(&base, "/health", &[]).json()["cached_tiles"], 0);
    // Versions are still kept, but with nothing cached a write shows anyway: check it does.
    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    let body = event("no-cache-1", A).to_string();
    assert_eq!(request("POST", &format!("{base}/collections/events/items"), &headers, body.as_bytes()).status, 201);
    assert_eq!(overlay_and_vector_show(&base, 12), [true, true]);
}

#[test]
fn a_full_render_pool_answers_503_with_retry_after_at_once_and_keeps_serving() {
    let busy = settings_with(|c| (c.tiles.render_workers, c.tiles.render_queue) = (1, 0));
    let (base, state) = start_server_with_state(busy, &scratch_dir("pool-full"));
    // Distinct uncached heavy requests (every layer, 512 px or MVT), 32 at a time, in rounds of
    // fresh tiles until one round overflows the pool (the first normally does).
    let all: Vec<String> = [7, 8, 9]
        .into_iter()
        .flat_map(|z| dense_tiles(z).into_iter().map(move |(x, y)| (z, x, y)))
        .flat_map(|(z, x, y)| [format!("{base}/tiles/{z}/{x}/{y}@2x.png"), format!("{base}/tiles/{z}/{x}/{y}.mvt")])
        .collect();
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    for round in all.chunks(32).take(4) {
        for (url, reply) in round.iter().zip(all_at_once(round)) {
            match reply.status {
                // 204: a vector tile with nothing in it, rendered all the same.
                200 | 204 => ok.push(url.clone()),
                503 => {
                    reply.assert_error(503, "overloaded");
                    assert_eq!(reply.header("retry-after"), "1", "{url}");
                    refused.push(url.clone());
                }
                s => panic!("{url}: status {s}: {}", reply.text()),
            }
        }
        if !refused.is_empty() {
            break;
        }
    }
    assert!(!refused.is_empty(), "no request was refused: the pool queued them all");
    assert!(!ok.is_empty(), "the pool rendered nothing");
    let health = get_bounded(&format!("{base}/health"));
    assert_eq!((health.status, &health.json()["status"]), (200, &"ok".into()));
    assert_eq!(health.json()["render_jobs"], 0, "jobs left behind");
    // Refusals are not cached: each refused tile renders when asked again, one at a time.
    for url in refused.iter().take(8) {
        assert!(matches!(get_bounded(url).status, 200 | 204), "{url}");
    }
    assert!(!state.cache().is_empty());
}

#[test]
fn identical_concurrent_requests_for_an_uncached_tile_are_rendered_once() {
    let (base, state) = start_server_with_state(settings(), &scratch_dir("single-flight"));
    let before = rendered(&base);
    // Half of them with a cache-busting parameter, which the tile routes ignore.
    let urls: Vec<String> =
        (0..20).map(|i| format!("{base}/tiles/8/154/101@2x.png{}", if i % 2 == 0 { "" } else { "?v=1" })).collect();
    let replies = all_at_once(&urls);
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!((r.header("etag"), &r.body), (replies[0].header("etag"), &replies[0].body));
    }
    assert_eq!(rendered(&base) - before, 1, "one render for 20 identical requests");
    sync(&state);
    assert_eq!(state.cache().len(), 1);
}

/// Whether the overlay at zoom `z` and the events layer at zoom `z - 4` show an event at A:
/// the overlay pixel in shelling orange or clear, the events tile 200 or 204 (nothing else is
/// near A).
fn overlay_and_vector_show(base: &str, z: u8) -> [bool; 2] {
    let (_, x, y) = tile_of(A, z);
    let overlay = get_at(base, &format!("/overlays/events/{z}/{x}/{y}.png"), &[]);
    assert_eq!(overlay.status, 200, "{}", overlay.text());
    let above = hanging(base, A, z);
    let shown = above.iter().any(|&p| close(p, hex("#f16913"), 2));
    assert!(shown || above.iter().all(|p| p[3] == 0), "neither clear nor an event: {above:?}");
    let (zv, xv, yv) = tile_of(A, z - 4);
    let vector = get_at(base, &format!("/tiles/{zv}/{xv}/{yv}.mvt?layers=events"), &[]);
    assert!(matches!(vector.status, 200 | 204), "{}", vector.text());
    [shown, vector.status == 200]
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn writes_racing_with_readers_show_on_the_next_read() {
    let (base, _state) = start_server_with_state(settings(), &scratch_dir("cache-race"));
    let auth = bearer();
    let items = format!("{base}/collections/events/items");
    // Write n is started, then acknowledged; odd n leave an event at A, even n none.
    let (started, acked, done) = (AtomicU64::new(0), AtomicU64::new(0), AtomicBool::new(false));
    std::thread::scope(|s| {
        // Stops the readers however the writer ends, a failed assertion included.
        let stop = StopOnDrop(&done);
        let readers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut checked = 0;
                    for _ in 0..10_000 {
                        if done.load(Ordering::SeqCst) {
                            break;
                        }
                        let (a, s0) = (acked.load(Ordering::SeqCst), started.load(Ordering::SeqCst));
                        let seen = overlay_and_vector_show(&base, 12);
                        // Only when no write ran during the read is its outcome known.
                        if a == s0 && started.load(Ordering::SeqCst) == s0 {
                            assert_eq!(seen, [a % 2 == 1; 2], "a read after write {a} was acknowledged");
                            checked += 1;
                        }
                    }
                    checked
                })
            })
            .collect();
        for i in 0..25u64 {
            let body = event(&format!("race-{i}"), A).to_string();
            let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
            started.store(2 * i + 1, Ordering::SeqCst);
            assert_eq!(request("POST", &items, &headers, body.as_bytes()).status, 201);
            acked.store(2 * i + 1, Ordering::SeqCst);
            assert_eq!(overlay_and_vector_show(&base, 12), [true, true], "after POST {i}");
            let headers = [("Authorization", auth.as_str()), ("If-Match", "*")];
            started.store(2 * i + 2, Ordering::SeqCst);
            assert_eq!(request("DELETE", &format!("{items}/race-{i}"), &headers, b"").status, 204);
            acked.store(2 * i + 2, Ordering::SeqCst);
            assert_eq!(overlay_and_vector_show(&base, 12), [false, false], "after DELETE {i}");
        }
        drop(stop);
        let checked: u32 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
        eprintln!("readers checked {checked} reads against a known state");
    });
}
