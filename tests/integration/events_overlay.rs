//! Event overlay tiles: the Termanin air strike drawn where Web Mercator puts it and hidden by
//! time and kind filters, region-precision events drawn as vague areas, and clusters whose
//! counts add up at every zoom and that are the same whichever tile computes them.

use std::collections::{BTreeMap, BTreeSet};

use rand::{RngExt, SeedableRng};
use serde_json::json;
use tessera::events::{EventFilter, EventInput, EventStore, Marker, SqliteStore, cluster, fetch_rect};
use tessera::render::{LEADER_CLEAR_PX, LEADER_STEM_PX, OVERLAY_REACH_PX};
use tessera::tile::{LonLatBBox, TileRange, WorldPoint};

use crate::common::{Image, close, features, get, get_tile, hex, mercator_px, point};

const TERMANIN: &str = "2020-02-18-termanin-air-raids";
const Z: u8 = 14;

/// The tile at zoom `z` that holds a point, and the point's pixel in it (at `scale`).
fn locate((lon, lat): (f64, f64), z: u8, scale: f64) -> ((u32, u32), (u32, u32)) {
    let (gx, gy) = mercator_px(lon, lat, z);
    let (tx, ty) = ((gx / 256.0).floor(), (gy / 256.0).floor());
    ((tx as u32, ty as u32), (((gx - tx * 256.0) * scale) as u32, ((gy - ty * 256.0) * scale) as u32))
}

fn termanin() -> (f64, f64) {
    let f = features("events-feb-2020.geojson").into_iter().find(|f| f["id"] == TERMANIN).expect("in the seed");
    point(&f)
}

/// Every pixel farther than `r` from `(x, y)` is fully transparent.
fn clear_beyond(image: &Image, (x, y): (u32, u32), r: f64) -> bool {
    (0..image.height).all(|j| {
        (0..image.width).all(|i| {
            let d = (f64::from(i) - f64::from(x)).hypot(f64::from(j) - f64::from(y));
            d <= r || image.pixel(i, j)[3] == 0
        })
    })
}

/// Whether a located marker of `colour` hangs above `at` (device px, `scale` per CSS px): its
/// leader leaves the point clear, so the symbol sits a leader's clearance and stem above it.
fn hangs_above(image: &Image, (x, y): (u32, u32), colour: [u8; 4], scale: u32) -> bool {
    let top = (LEADER_CLEAR_PX + LEADER_STEM_PX) as u32 * scale;
    (top..=OVERLAY_REACH_PX as u32 * scale).filter(|&d| d <= y).any(|d| close(image.pixel(x, y - d), colour, 2))
}

#[test]
fn the_termanin_strike_hangs_over_termanin_unless_filtered_out() {
    let here = termanin();
    assert_eq!(here, (36.817, 36.233));
    // Alone at this zoom: every other seed event is more than a tile and a marker away.
    let (px, py) = mercator_px(here.0, here.1, Z);
    for f in features("events-feb-2020.geojson").iter().filter(|f| f["id"] != TERMANIN) {
        let (lon, lat) = point(f);
        let (qx, qy) = mercator_px(lon, lat, Z);
        assert!((qx - px).hypot(qy - py) > 256.0 + OVERLAY_REACH_PX, "{} is near Termanin", f["id"]);
    }
    let ((tx, ty), at) = locate(here, Z, 1.0);
    let path = |q: &str| format!("/overlays/events/{Z}/{tx}/{ty}.png{q}");
    let airstrike = hex("#d7301f");
    for q in ["", "?from=2020-02-18&to=2020-02-18", "?datetime=2020-02-18", "?kind=airstrike,talks"] {
        let image = get_tile(&path(q), 256);
        assert!(hangs_above(&image, at, airstrike, 1), "{q}: no air-strike triangle over Termanin");
        assert_eq!(image.pixel(at.0, at.1)[3], 0, "{q}: Termanin's own point is covered");
        assert!(clear_beyond(&image, at, 32.0), "{q}: drawn far from Termanin");
    }
    for q in ["?datetime=2020-03-01/..", "?kind=talks", "?from=2020-02-19", "?to=2020-02-17"] {
        let image = get_tile(&path(q), 256);
        assert!(image.rgba.chunks(4).all(|p| p[3] == 0), "{q}: something is drawn");
    }
    let reply = get(&path(""));
    assert_eq!(reply.header("cache-control"), "no-cache", "a write must show on the next request");
}

#[test]
fn a_retina_overlay_is_512_px_and_draws_at_twice_the_position() {
    let ((tx, ty), at) = locate(termanin(), Z, 2.0);
    let image = get_tile(&format!("/overlays/events/{Z}/{tx}/{ty}@2x.png"), 512);
    assert!(hangs_above(&image, at, hex("#d7301f"), 2));
    assert_eq!(image.pixel(at.0, at.1)[3], 0);
    assert!(clear_beyond(&image, at, 64.0));
}

#[test]
fn region_events_are_a_soft_area_not_a_pin() {
    let region = (36.46, 36.049);
    let seed = features("events-feb-2020.geojson");
    let here: Vec<_> = seed.iter().filter(|f| point(f) == region).collect();
    assert_eq!(here.len(), 5);
    assert!(here.iter().all(|f| f["properties"]["location_precision"] == "region"));
    let ((tx, ty), (x, y)) = locate(region, 10, 1.0);
    // The five share a cell: one area, as faint as a single one (not five stacked discs), with
    // their count at its centre in the colour of region clusters, and no pin.
    let image = get_tile(&format!("/overlays/events/10/{tx}/{ty}.png"), 256);
    // The point lies 21 px above the tile's bottom edge: the part of a 18 px ring inside it.
    let ring: Vec<[u8; 4]> = (0..16)
        .map(|i| f64::from(i) * std::f64::consts::TAU / 16.0)
        .map(|a| (f64::from(x) + 18.0 * a.cos(), f64::from(y) + 18.0 * a.sin()))
        .filter(|&(i, j)| (0.0..256.0).contains(&i) && (0.0..256.0).contains(&j))
        .map(|(i, j)| image.pixel(i as u32, j as u32))
        .collect();
    assert!(ring.len() >= 12, "{} ring points in the tile", ring.len());
    assert!(ring.iter().all(|p| p[3] > 0 && p[3] <= 0x60), "translucent, as one area: {ring:?}");
    let count = hex("#5b1a1a");
    let mut opaque = Vec::new();
    for j in y - 12..=y + 12 {
        for i in x - 12..=x + 12 {
            let p = image.pixel(i, j);
            if p[3] >= 240 {
                opaque.push(p);
            }
        }
    }
    assert!(!opaque.is_empty(), "no count drawn at the centre");
    assert!(
        opaque.iter().all(|p| close([p[0], p[1], p[2], 255], count, 8)),
        "only the count is opaque there: {opaque:?}"
    );
    // Alone (the agreement of 2017-05-04), the area is faint, in the agreement's colour, and
    // has no count and no pin.
    let alone = get_tile(&format!("/overlays/events/10/{tx}/{ty}.png?datetime=2017-05-04"), 256);
    let one = alone.pixel(x, y);
    assert!(one[3] > 0 && one[3] <= 0x60, "{one:?}");
    assert!(close([one[0], one[1], one[2], 255], hex("#238b45"), 4), "{one:?}");
    for j in y - 12..=y + 12 {
        for i in x - 12..=x + 12 {
            assert!(alone.pixel(i, j)[3] < 240, "an opaque pixel at ({i}, {j}) near a lone region event");
        }
    }
}

#[test]
fn bad_overlay_requests_get_json_errors() {
    let cases = [
        ("/overlays/events/a/0/0.png", 400, "invalid_tile"),
        ("/overlays/events/3/8/0.png", 404, "tile_out_of_range"),
        ("/overlays/events/21/0/0.png", 404, "tile_out_of_range"),
        ("/overlays/events/1/0/0.jpg", 404, "unsupported_format"),
        ("/overlays/events/1/0/0@3x.png", 404, "unsupported_format"),
        ("/overlays/events/1/0/0.png?datetime=garbage", 400, "invalid_parameter"),
        ("/overlays/events/1/0/0.png?kind=bombing", 400, "invalid_parameter"),
        ("/overlays/events/1/0/0.png?from=2020-02-19&to=2020-02-18", 400, "invalid_parameter"),
        ("/overlays/events/1/0/0.png?from=2020-02-32", 400, "invalid_parameter"),
        ("/overlays/events/1/0/0.png?datetime=2020-02-18&from=2020-02-01", 400, "invalid_parameter"),
    ];
    for (path, status, code) in cases {
        get(path).assert_error(status, code);
    }
}

/// ~300 seeded-random events around (36.6E, 35.9N), a third of them in five tight clumps, a
/// tenth of them region-precision.
fn random_store() -> (SqliteStore, usize, LonLatBBox) {
    let area = LonLatBBox { west: 36.5, south: 35.8, east: 36.7, north: 36.0 };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20200218);
    let clumps: Vec<(f64, f64)> =
        (0..5).map(|_| (rng.random_range(36.52..36.68), rng.random_range(35.82..35.98))).collect();
    let kinds = ["airstrike", "shelling", "casualties", "ground-clash"];
    let inputs: Vec<EventInput> = (0..300)
        .map(|i| {
            let (lon, lat) = if i % 3 == 0 {
                let (cx, cy) = clumps[i % 5];
                (cx + rng.random_range(-0.003..0.003), cy + rng.random_range(-0.003..0.003))
            } else {
                (rng.random_range(area.west..area.east), rng.random_range(area.south..area.north))
            };
            let feature = json!({
                "type": "Feature", "id": format!("r{i:03}"),
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": {
                    "time": format!("2020-02-{:02}", rng.random_range(1..=29)),
                    "kind": kinds[rng.random_range(0..kinds.len())],
                    "title": format!("random {i}"),
                    "killed": rng.random_range(0..5),
                    "location_precision": if i % 10 == 7 { "region" } else { "town" },
                }
            });
            EventInput::from_feature(&feature, "").expect("a valid event")
        })
        .collect();
    let store = SqliteStore::in_memory().expect("store");
    let n = inputs.len();
    store.insert(inputs).expect("insert");
    (store, n, area)
}

fn ids(m: &Marker) -> Vec<String> {
    match m {
        Marker::Single(e) | Marker::Region(e) => vec![e.id.clone()],
        Marker::Cluster { ids, .. } => ids.clone(),
    }
}

#[test]
fn clusters_add_up_at_every_zoom_and_are_the_same_from_every_tile() {
    let (store, n, area) = random_store();
    let mut shared_clusters = 0;
    for z in 4..=14u8 {
        // Each event id -> the marker (members, position) it was seen in, from any tile.
        let mut seen: BTreeMap<String, (Vec<String>, (u64, u64))> = BTreeMap::new();
        let mut fetched_by: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        let mut owned = BTreeSet::new();
        let mut total = 0;
        for tile in TileRange::covering(area, z).iter() {
            let events = store.select(&fetch_rect(tile, OVERLAY_REACH_PX), &EventFilter::default());
            let b = tile.bounds();
            for m in cluster(&events, z) {
                let WorldPoint { x, y } = m.at();
                let key = (ids(&m), (x.to_bits(), y.to_bits()));
                assert_eq!(key.0.len(), m.count(), "z{z}: count and members");
                for id in &key.0 {
                    let first = seen.entry(id.clone()).or_insert_with(|| key.clone());
                    assert_eq!(*first, key, "z{z} {tile}: {id} is in different markers from different tiles");
                }
                *fetched_by.entry(key.0.clone()).or_default() += 1;
                // Each marker belongs to the one tile its position lies in (half-open bounds).
                if (b.min.x..b.max.x).contains(&x) && (b.min.y..b.max.y).contains(&y) {
                    total += m.count();
                    for id in key.0 {
                        assert!(owned.insert(id.clone()), "z{z}: {id} is in two markers");
                    }
                }
            }
        }
        assert_eq!(total, n, "z{z}: the counts add up to the events");
        assert_eq!(owned.len(), n, "z{z}");
        shared_clusters += fetched_by.iter().filter(|(members, tiles)| members.len() > 1 && **tiles > 1).count();
        if z <= 8 {
            let biggest = fetched_by.keys().map(Vec::len).max().unwrap_or(0);
            assert!(biggest > 10, "z{z}: events do merge at low zoom ({biggest})");
        }
    }
    assert!(shared_clusters > 0, "some cluster was computed by two tiles, so stability was tested");
}

#[test]
fn event_symbols_leave_their_places_readable() {
    // The air strikes on Termanin and Darat Izza are town-precision events on the towns' own
    // points. At zooms 10-12 the overlay, laid over the base map as a browser lays it, leaves
    // each town's symbol as the base map draws it: within 3.5 px of the point the composite is
    // the base tile, and there the base tile shows the report's place symbol (#922b21).
    let places = crate::common::features("report-places.geojson");
    let at = |id: &str| point(places.iter().find(|f| f["id"] == id).expect("a place of the report"));
    let fill = crate::common::layer_color("report-places", "fill");
    let mut checked = 0;
    for (id, event) in [("termanin", TERMANIN), ("darat-izza", "2020-02-18-darat-izza-air-raids")] {
        let seed = features("events-feb-2020.geojson");
        let e = seed.iter().find(|f| f["id"] == event).expect("seed event");
        assert_eq!(point(e), at(id), "{event} is on {id}'s point");
        assert_eq!(e["properties"]["location_precision"], "town");
        for (z, scale) in [(10u8, 1u32), (11, 1), (11, 2), (12, 1), (12, 2)] {
            let ((tx, ty), (x, y)) = locate(at(id), z, f64::from(scale));
            let (suffix, size) = if scale == 2 { ("@2x", 512) } else { ("", 256) };
            let base = get_tile(&format!("/tiles/{z}/{tx}/{ty}{suffix}.png"), size);
            let overlay = get_tile(&format!("/overlays/events/{z}/{tx}/{ty}{suffix}.png"), size);
            assert!(overlay.rgba.chunks(4).any(|p| p[3] > 0), "z{z}: the overlay draws the event");
            assert!(close(base.pixel(x, y), fill, 24), "z{z} {id}: the base map's symbol {:?}", base.pixel(x, y));
            let r = 3.5 * f64::from(scale);
            for j in y - 4 * scale..=y + 4 * scale {
                for i in x - 4 * scale..=x + 4 * scale {
                    if (f64::from(i) - f64::from(x)).hypot(f64::from(j) - f64::from(y)) > r {
                        continue;
                    }
                    let (b, o) = (base.pixel(i, j), overlay.pixel(i, j));
                    let a = f64::from(o[3]) / 255.0;
                    let over: Vec<u8> =
                        (0..3).map(|c| (f64::from(o[c]) * a + f64::from(b[c]) * (1.0 - a)).round() as u8).collect();
                    assert!(
                        close([over[0], over[1], over[2], 255], [b[0], b[1], b[2], 255], 2),
                        "z{z}@{scale}x {id}: the overlay covers the place at ({i}, {j}): {o:?} over {b:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} pixels checked");
}
