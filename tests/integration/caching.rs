//! HTTP caching and the freshness of the tile cache, on servers of their own: strong ETags
//! answered with 304, `Cache-Control` per route and as configured, `Vary`, gzip and brotli for
//! JSON and MVT but not PNG; and an event write that shows on the very next request of every
//! tile it touches, at every zoom, while far tiles stay cached (same ETag, same cache entry).
//! The cache's byte bound, the render pool and concurrent writes are in `caching_load.rs`.

use std::io::Read;
use std::sync::OnceLock;

use serde_json::json;
use tessera::cache::{EventSelection, TileKey, TileSpec};
use tessera::http::AppState;
use tessera::render::{Scale, TileFormat};
use tessera::tile::TileCoord;

use crate::common::{
    Reply, bearer, close, column_above, decode_png, hex, mercator_px, request, scratch_dir, settings, settings_with,
    start_server, start_server_with_state,
};
use crate::events_api::event;
use crate::mvt::{Geom, TERMANIN, TileAt, decode, extent_xy, tile_of};

/// Where the writes go (Tunis) and where they move to (central Portugal): no seed event near
/// either, and a write at one touches none of the other's probed tiles, nor Termanin's (Madrid
/// would: its cell's margin reaches into Tunis's z4 tile).
pub const A: (f64, f64) = (10.18, 36.80);
const B: (f64, f64) = (-8.0, 40.0);
const ZOOMS: [u8; 4] = [4, 8, 12, 16];
const LONG: &str = "public, max-age=3600";

/// A server with the default caching settings and a write token, shared by the read-only tests.
pub fn server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| start_server(settings(), &scratch_dir("caching")))
}

/// GET with request headers.
pub fn get_at(base: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", &format!("{base}{path}"), headers, b"")
}

/// The layer list of a tile request without `?layers=`, as the cache keys it: every data layer.
pub fn data_layers(base: &str) -> String {
    let collections = get_at(base, "/collections", &[]).json();
    let ids = collections["collections"].as_array().expect("collections").iter().filter_map(|c| c["id"].as_str());
    ids.filter(|id| *id != "events").collect::<Vec<_>>().join(",")
}

/// How many tiles the server has rendered (or encoded) since it started, by `/health`.
pub fn rendered(base: &str) -> u64 {
    get_at(base, "/health", &[]).json()["tiles_rendered"].as_u64().expect("tiles_rendered")
}

/// Runs the cache's pending evictions and invalidations, so that `len` and `contains` are exact.
pub fn sync(state: &AppState) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(state.cache().sync());
}

/// GETs `path` (200, a strong ETag), then with that ETag (304, no body, same headers), within
/// a list (304) and with another ETag (200, the same body). Returns the first answer.
fn revalidates(base: &str, path: &str) -> Reply {
    let first = get_at(base, path, &[]);
    assert_eq!(first.status, 200, "{path}: {}", first.text());
    let etag = first.header("etag").to_owned();
    assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'), "{path}: not a strong ETag: {etag:?}");
    let again = get_at(base, path, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304, "{path}");
    assert!(again.body.is_empty(), "{path}: a 304 with a body");
    assert_eq!(again.header("etag"), etag, "{path}");
    assert_eq!(again.header("cache-control"), first.header("cache-control"), "{path}: 304 drops Cache-Control");
    let listed = get_at(base, path, &[("If-None-Match", &format!("\"something-else\", {etag}"))]);
    assert_eq!(listed.status, 304, "{path}: the ETag within a list");
    let other = get_at(base, path, &[("If-None-Match", "\"something-else\"")]);
    assert_eq!(other.status, 200, "{path}");
    assert_eq!((other.header("etag"), &other.body), (etag.as_str(), &first.body), "{path}");
    first
}

#[test]
fn tiles_layers_and_items_have_strong_etags_and_answer_304() {
    let strike = "/collections/events/items/2020-02-18-termanin-air-raids";
    let cases = [
        ("/tiles/6/38/25.png", LONG),
        ("/tiles/6/38/25@2x.png", LONG),
        ("/tiles/6/38/25.mvt?layers=towns,roads", LONG),
        ("/tiles/6/38/25.mvt", "no-cache"),
        ("/tiles/6/38/25.mvt?layers=events", "no-cache"),
        ("/overlays/events/6/38/25.png", "no-cache"),
        ("/tiles.json", LONG),
        ("/tiles/vector.json", LONG),
        ("/collections/towns", LONG),
        ("/collections/towns/items", LONG),
        ("/collections/towns/items/295765", LONG),
        ("/collections/events/items", "no-cache"),
        (strike, "no-cache"),
    ];
    for (path, cache_control) in cases {
        let reply = revalidates(server(), path);
        assert_eq!(reply.header("cache-control"), cache_control, "{path}");
    }
    assert_eq!(revalidates(server(), "/collections/towns/items/295765").json()["properties"]["name"], "Abū Sinān");
    // An empty vector tile is a 204 that revalidates too.
    let empty = get_at(server(), "/tiles/12/0/0.mvt", &[]);
    assert_eq!(empty.status, 204);
    assert_eq!(get_at(server(), "/tiles/12/0/0.mvt", &[("If-None-Match", empty.header("etag"))]).status, 304);
}

#[test]
fn cache_control_follows_the_configured_max_ages() {
    let custom = settings_with(|c| (c.tiles.tile_max_age, c.tiles.events_max_age) = (60, 5));
    let base = start_server(custom, &scratch_dir("caching-max-age"));
    let cases = [
        ("/tiles/6/38/25.png", "public, max-age=60"),
        ("/tiles/6/38/25.mvt?layers=towns,roads", "public, max-age=60"),
        ("/tiles.json", "public, max-age=60"),
        ("/collections/towns/items", "public, max-age=60"),
        ("/overlays/events/6/38/25.png", "public, max-age=5"),
        ("/tiles/6/38/25.mvt", "public, max-age=5"),
        ("/collections/events/items/2020-02-18-termanin-air-raids", "public, max-age=5"),
    ];
    for (path, want) in cases {
        assert_eq!(revalidates(&base, path).header("cache-control"), want, "{path}");
    }
}

/// Every `Vary` value, lower-cased, whichever header line it came on.
fn vary(reply: &Reply) -> Vec<String> {
    let values = reply.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok());
    values.flat_map(|v| v.split(',')).map(|v| v.trim().to_ascii_lowercase()).collect()
}

#[test]
fn json_and_mvt_are_gzip_or_brotli_with_vary_and_png_is_left_alone() {
    for path in ["/collections/towns/items", "/tiles/vector.json", "/tiles/6/38/25.mvt"] {
        let plain = get_at(server(), path, &[]);
        assert_eq!((plain.status, plain.header("content-encoding")), (200, ""), "{path}");
        assert!(vary(&plain).contains(&"accept-encoding".into()), "{path}: {:?}", vary(&plain));
        let gzip = get_at(server(), path, &[("Accept-Encoding", "gzip")]);
        assert_eq!((gzip.status, gzip.header("content-encoding")), (200, "gzip"), "{path}");
        assert!(vary(&gzip).contains(&"accept-encoding".into()), "{path}");
        let mut body = Vec::new();
        flate2::read::GzDecoder::new(gzip.body.as_slice()).read_to_end(&mut body).expect("gzip");
        assert_eq!(body, plain.body, "{path}: gzip is lossless");
        let br = get_at(server(), path, &[("Accept-Encoding", "br")]);
        assert_eq!((br.status, br.header("content-encoding")), (200, "br"), "{path}");
        assert!(br.body.len() < plain.body.len(), "{path}: {} br, {} plain", br.body.len(), plain.body.len());
        assert_eq!(br.decoded(), plain.body, "{path}: brotli is lossless");
        assert_eq!(br.header("content-type"), plain.header("content-type"), "{path}");
        // One strong ETag names one sequence of bytes (RFC 9110 8.8.3): each encoded answer
        // has a strong tag of its own (the plain one's with the coding), and each revalidates.
        let strong = plain.header("etag");
        assert!(strong.starts_with('"') && strong.ends_with('"'), "{path}: {strong}");
        let stem = strong.trim_end_matches('"');
        let (gzip_tag, br_tag) = (format!("{stem}-gzip\""), format!("{stem}-br\""));
        assert_eq!((gzip.header("etag"), br.header("etag")), (gzip_tag.as_str(), br_tag.as_str()), "{path}");
        for (coding, tag) in [("gzip", gzip_tag.as_str()), ("br", br_tag.as_str()), ("identity", strong)] {
            let again = get_at(server(), path, &[("Accept-Encoding", coding), ("If-None-Match", tag)]);
            assert_eq!((again.status, again.header("etag")), (304, tag), "{path} {coding}");
        }
    }
    assert!(!decode(&get_at(server(), "/tiles/6/38/25.mvt", &[]).body).is_empty());
    for path in ["/tiles/6/38/25.png", "/overlays/events/6/38/25.png"] {
        let plain = get_at(server(), path, &[]);
        let asked = get_at(server(), path, &[("Accept-Encoding", "gzip, br")]);
        assert_eq!((asked.status, asked.header("content-encoding")), (200, ""), "{path}: PNG is not recompressed");
        assert_eq!(asked.body, plain.body, "{path}");
        assert_eq!(decode_png(&asked.body).width, 256, "{path}");
        assert!(!vary(&asked).contains(&"accept-encoding".into()), "{path}: {:?}", vary(&asked));
    }
    for accept in ["application/json", "text/html"] {
        let landing = get_at(server(), "/", &[("Accept", accept)]);
        assert_eq!(landing.status, 200, "{accept}");
        assert!(vary(&landing).contains(&"accept".into()), "{accept}: {:?}", vary(&landing));
    }
}

/// One probed tile: where, its ETags (overlay, vector) and the keys they were cached under.
struct Probe {
    place: (f64, f64),
    tile: TileAt,
    etags: [String; 2],
    keys: [TileKey; 2],
}

/// The keys under which the handlers cache the overlay and the default vector tile of `t`.
fn keys(state: &AppState, data_layers: &str, (z, x, y): TileAt) -> [TileKey; 2] {
    let tile = TileCoord::new(u32::from(z), u64::from(x), u64::from(y)).expect("a valid tile");
    let version = state.cache().version(tile);
    [
        TileKey {
            tile,
            spec: TileSpec::Overlay { scale: Scale::X1, format: TileFormat::Png, events: EventSelection::default() },
            version,
        },
        TileKey {
            tile,
            spec: TileSpec::Vector {
                layers: data_layers.split(',').map(str::to_owned).collect::<Vec<_>>().into(),
                labels: true,
                events: Some(EventSelection::default()),
            },
            version,
        },
    ]
}

/// Whether a geometry is one point within a unit of `want` (extent units).
fn at(g: &Geom, want: (f64, f64)) -> bool {
    let close_to = |p: &[i64; 2]| (p[0] as f64 - want.0).abs() <= 1.0 && (p[1] as f64 - want.1).abs() <= 1.0;
    matches!(g, Geom::Points(p) if p.len() == 1 && close_to(&p[0]))
}

/// Fetches the overlay and the default vector tile at each place and zoom, asserting whether
/// each shows the event `id` at the place (the overlay pixel in shelling orange, the events
/// layer's point) or shows no event there at all.
fn fetch_all(base: &str, state: &AppState, data_layers: &str, id: &str, shown: &[(f64, f64)]) -> Vec<Probe> {
    let mut out = Vec::new();
    for place in [A, B, TERMANIN] {
        for z in ZOOMS {
            let (tile, expect) = (tile_of(place, z), shown.contains(&place));
            let keys = keys(state, data_layers, tile);
            let (_, x, y) = tile;
            let overlay = get_at(base, &format!("/overlays/events/{z}/{x}/{y}.png"), &[]);
            let vector = get_at(base, &format!("/tiles/{z}/{x}/{y}.mvt"), &[]);
            assert_eq!(overlay.status, 200, "{place:?} z{z}: {}", overlay.text());
            assert!(matches!(vector.status, 200 | 204), "{place:?} z{z}: {}", vector.text());
            if place != TERMANIN {
                let (gx, gy) = mercator_px(place.0, place.1, z);
                // This tile's part of the column where the event's symbol hangs: the leader at
                // least, and the symbol itself where it lies on this tile (below y = 30).
                let image = decode_png(&overlay.body);
                let (px, py) = ((gx % 256.0) as u32, (gy % 256.0) as u32);
                let above = column_above(&image, (px, py));
                let ok = if expect {
                    above.iter().any(|p| p[3] > 0) && (py < 30 || above.iter().any(|&p| close(p, hex("#f16913"), 2)))
                } else {
                    above.iter().all(|p| p[3] == 0) && image.pixel(px, py)[3] == 0
                };
                assert!(ok, "{place:?} z{z}: overlay above the place {above:?}, expected the event: {expect}");
                let mut layers = if vector.status == 204 { Default::default() } else { decode(&vector.body) };
                let events = layers.remove("events").map(|l| l.features).unwrap_or_default();
                let found = events.iter().any(|f| f.str("id") == Some(id) && at(&f.geom, extent_xy(place, tile)));
                let ids: Vec<_> = events.iter().map(|f| f.str("id")).collect();
                assert_eq!(found, expect, "{place:?} z{z}: events layer {ids:?}");
                assert!(expect || events.is_empty(), "{place:?} z{z}: an event where there is none");
            }
            out.push(Probe { place, tile, etags: [overlay.header("etag").into(), vector.header("etag").into()], keys });
        }
    }
    out
}

/// After a write touching `touched`: the tiles cached there are gone from memory and their
/// area has a new version; every other tile is still cached, under the same version.
fn assert_dropped_only(state: &AppState, before: &[Probe], touched: &[(f64, f64)], what: &str) {
    sync(state);
    for p in before {
        let hit = touched.contains(&p.place);
        for key in &p.keys {
            let cached = state.cache().contains(key);
            // If this fails before any write, `keys` no longer builds keys as the handlers do.
            assert_eq!(cached, !hit, "{what}: {:?} at {:?} z{}: cached {cached}", key.spec, p.place, p.tile.0);
            assert_eq!(
                state.cache().version(key.tile) > key.version,
                hit,
                "{what}: version at {:?} z{}",
                p.place,
                p.tile.0
            );
        }
    }
}

/// The places untouched by a write answer with the same ETags as before it.
fn assert_unchanged(before: &[Probe], after: &[Probe], touched: &[(f64, f64)], what: &str) {
    for (b, a) in before.iter().zip(after).filter(|(b, _)| !touched.contains(&b.place)) {
        assert_eq!(b.etags, a.etags, "{what}: {:?} z{} changed", b.place, b.tile.0);
    }
}

#[test]
fn an_event_write_shows_on_the_next_request_at_every_zoom_and_far_tiles_stay_cached() {
    let (base, state) = start_server_with_state(settings(), &scratch_dir("caching-fresh"));
    let data_layers = data_layers(&base);
    let id = "cache-fresh-1";
    let auth = bearer();

    // Each probed place has 8 tiles (2 kinds at 4 zooms); after a write, only those of the
    // places it touched are rendered again.
    let renders = |n: u64, f: &dyn Fn() -> Vec<Probe>| {
        let before = rendered(&base);
        let out = f();
        assert_eq!(rendered(&base) - before, 8 * n, "tiles rendered");
        out
    };
    let start = renders(3, &|| fetch_all(&base, &state, &data_layers, id, &[]));
    assert_dropped_only(&state, &start, &[], "cached at first");

    let body = event(id, A).to_string();
    let post_headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    let created = request("POST", &format!("{base}/collections/events/items"), &post_headers, body.as_bytes());
    assert_eq!(created.status, 201, "{}", created.text());
    assert_dropped_only(&state, &start, &[A], "after POST at A");
    let posted = renders(1, &|| fetch_all(&base, &state, &data_layers, id, &[A]));
    assert_unchanged(&start, &posted, &[A], "after POST at A");

    let item = format!("{base}/collections/events/items/{id}");
    let moved = json!({ "geometry": { "type": "Point", "coordinates": [B.0, B.1] } }).to_string();
    let patch_headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/merge-patch+json"),
        ("If-Match", created.header("etag")),
    ];
    let patched = request("PATCH", &item, &patch_headers, moved.as_bytes());
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_dropped_only(&state, &posted, &[A, B], "after PATCH to B");
    let at_b = renders(2, &|| fetch_all(&base, &state, &data_layers, id, &[B]));
    assert_unchanged(&posted, &at_b, &[A, B], "after PATCH to B");

    let delete_headers = [("Authorization", auth.as_str()), ("If-Match", patched.header("etag"))];
    assert_eq!(request("DELETE", &item, &delete_headers, b"").status, 204);
    assert_dropped_only(&state, &at_b, &[B], "after DELETE");
    let gone = renders(1, &|| fetch_all(&base, &state, &data_layers, id, &[]));
    assert_unchanged(&at_b, &gone, &[B], "after DELETE");
    // Back where it started: the same bytes, so the same ETags, at every place.
    assert_unchanged(&start, &gone, &[], "after DELETE, against the start");
}
