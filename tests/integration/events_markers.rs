//! The markers of overlay tiles (`/overlays/events/{z}/{x}/{y}.json`) and the `ids` filter of
//! event items: checked against a brute-force grouping of the events by 48-pixel cells, computed
//! here from the Web Mercator formula, and against the overlay PNG itself.

use std::collections::{BTreeMap, BTreeSet};

use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use crate::common::{bearer, close, decode_png, get_url, hex, mercator_px, request, scratch_dir, start_server};

/// A server of its own (its events are changed here), with 400 seeded random events around Idlib.
fn server_with_events(name: &str) -> String {
    let settings = crate::common::settings_with(|c| (c.events.max_batch, c.limits.max_body_bytes) = (1000, 1 << 20));
    let base = start_server(settings, &scratch_dir(&format!("markers-{name}")));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(48);
    let kinds = ["airstrike", "shelling", "ground-clash", "casualties", "hospital-hit"];
    let precisions = ["exact", "town", "region"];
    let events: Vec<Value> = (0..400)
        .map(|i| {
            let (lon, lat) = (rng.random_range(36.2..37.4), rng.random_range(35.4..36.4));
            json!({
                "type": "Feature", "id": format!("m-{i:03}"),
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": {
                    "time": format!("2020-02-{:02}", rng.random_range(1..29)), "kind": kinds[i % 5],
                    "title": format!("event {i}"), "killed": rng.random_range(0..5u32),
                    "location_precision": precisions[usize::from(i % 9 == 0) * 2 + usize::from(i % 2 == 0 && i % 9 != 0)],
                },
            })
        })
        .collect();
    let body = json!({ "type": "FeatureCollection", "features": events }).to_string();
    let reply = request(
        "POST",
        &format!("{base}/collections/events/items"),
        &[("Authorization", &bearer()), ("Content-Type", "application/geo+json")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    base
}

/// Every event that passes `query` (datetime, kind), from the items route.
fn events(base: &str, query: &str) -> Vec<Value> {
    let fc = get_url(&format!("{base}/collections/events/items?limit=10000{query}")).json();
    fc["features"].as_array().expect("features").clone()
}

/// A cell of the grid: region events or not, column, row.
type Cell = (bool, i64, i64);

/// The truth: events grouped by (region or not, cell) at zoom `z`, each group's sorted ids and
/// the mean of its members' global pixel positions.
fn groups(events: &[Value], z: u8) -> BTreeMap<Vec<String>, (f64, f64)> {
    let mut cells: BTreeMap<Cell, Vec<(String, f64, f64)>> = BTreeMap::new();
    for e in events {
        let c = &e["geometry"]["coordinates"];
        let (x, y) = mercator_px(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"), z);
        let region = e["properties"]["location_precision"] == "region";
        let key = (region, (x / 48.0).floor() as i64, (y / 48.0).floor() as i64);
        cells.entry(key).or_default().push((e["id"].as_str().expect("id").to_owned(), x, y));
    }
    cells
        .into_values()
        .map(|mut members| {
            members.sort_by(|a, b| a.0.cmp(&b.0));
            let n = members.len() as f64;
            let (sx, sy) = members.iter().fold((0.0, 0.0), |(sx, sy), m| (sx + m.1, sy + m.2));
            (members.into_iter().map(|m| m.0).collect(), (sx / n, sy / n))
        })
        .collect()
}

/// Every marker of the tiles covering the events at zoom `z`, each checked to lie in the tile
/// that lists it; keyed by its ids, with its global pixel position and properties.
fn markers(base: &str, z: u8, query: &str, events: &[Value]) -> BTreeMap<Vec<String>, ((f64, f64), Value)> {
    let px: Vec<(f64, f64)> = events
        .iter()
        .map(|e| &e["geometry"]["coordinates"])
        .map(|c| mercator_px(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"), z))
        .collect();
    let tile = |v: f64| (v / 256.0).floor() as u32;
    let (x0, x1) =
        (tile(px.iter().map(|p| p.0).fold(f64::MAX, f64::min)), tile(px.iter().map(|p| p.0).fold(0.0, f64::max)));
    let (y0, y1) =
        (tile(px.iter().map(|p| p.1).fold(f64::MAX, f64::min)), tile(px.iter().map(|p| p.1).fold(0.0, f64::max)));
    let mut out = BTreeMap::new();
    for ty in y0..=y1 {
        for tx in x0..=x1 {
            let reply = get_url(&format!("{base}/overlays/events/{z}/{tx}/{ty}.json?{query}"));
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(reply.header("content-type"), "application/geo+json");
            for f in reply.json()["features"].as_array().expect("features") {
                let c = &f["geometry"]["coordinates"];
                let (x, y) = mercator_px(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"), z);
                assert_eq!((tile(x), tile(y)), (tx, ty), "a marker listed by a tile that does not hold it");
                let ids: Vec<String> = f["properties"]["ids"]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .map(|i| i.as_str().expect("id").into())
                    .collect();
                assert!(out.insert(ids.clone(), ((x, y), f["properties"].clone())).is_none(), "{ids:?} listed twice");
            }
        }
    }
    out
}

#[test]
fn tile_markers_are_the_overlays_clusters_each_listed_once_with_all_their_ids() {
    let base = server_with_events("clusters");
    for (z, query) in
        [(7, ""), (9, ""), (11, "kind=airstrike,shelling"), (9, "from=2020-02-10&to=2020-02-20"), (10, "")]
    {
        let items_query = if query.starts_with("from") {
            "&datetime=2020-02-10/2020-02-20"
        } else if query.is_empty() {
            ""
        } else {
            "&kind=airstrike,shelling"
        };
        let all = events(&base, items_query);
        let truth = groups(&all, z);
        let found = markers(&base, z, query, &all);
        assert_eq!(found.keys().collect::<BTreeSet<_>>(), truth.keys().collect::<BTreeSet<_>>(), "z{z} {query}");
        for (ids, ((x, y), p)) in &found {
            let (tx, ty) = truth[ids];
            assert!((x - tx).hypot(y - ty) < 1e-3, "z{z}: marker of {ids:?} at ({x}, {y}), not ({tx}, {ty})");
            assert_eq!(p["count"], ids.len(), "{ids:?}");
            assert_eq!(p["cluster"], ids.len() > 1, "{ids:?}");
            assert!(p["reach_px"].as_f64().is_some_and(|r| (6.0..=41.0).contains(&r)), "{p}");
        }
        // Several zooms see clusters, and region events stay apart from located ones.
        if z == 7 {
            assert!(found.keys().any(|ids| ids.len() > 10), "z7 has large clusters");
            assert!(found.values().any(|(_, p)| p["region"] == true && p["cluster"] == true));
        }
    }
}

#[test]
fn a_single_marker_sits_where_the_overlay_draws_its_symbol_in_its_colour() {
    let base = server_with_events("overlay");
    let all = events(&base, "");
    let found = markers(&base, 12, "", &all);
    let at: Vec<(f64, f64)> = found.values().map(|(p, _)| *p).collect();
    // Singles with no other marker within 40 px, so that nothing else is drawn over them.
    let alone: Vec<_> = found
        .iter()
        .filter(|(_, (_, p))| p["cluster"] == false && p["region"] == false)
        .filter(|(_, ((x, y), _))| at.iter().filter(|(u, v)| (u - x).hypot(v - y) < 40.0).count() == 1)
        .collect();
    assert!(alone.len() > 50, "{} lone singles", alone.len());
    for (ids, ((x, y), p)) in alone {
        // A located marker hangs above its point on a leader; the marker says how far.
        let lift = p["lift_px"].as_f64().expect("lift_px");
        assert!(lift > 8.0, "{ids:?}: a single event hangs above its point: {p}");
        let y = y - lift;
        let (tx, ty) = ((x / 256.0).floor(), (y / 256.0).floor());
        let image = decode_png(&get_url(&format!("{base}/overlays/events/12/{tx}/{ty}.png")).body);
        let (i, j) = ((x - tx * 256.0) as u32, (y - ty * 256.0) as u32);
        let colour = hex(p["color"].as_str().expect("color"));
        assert!(
            close(image.pixel(i, j), colour, 12),
            "{ids:?}: {:?} drawn at the marker, not {colour:?}",
            image.pixel(i, j)
        );
    }
}

#[test]
fn a_new_event_shows_in_its_tiles_markers_at_once() {
    let base = server_with_events("fresh");
    let (z, lon, lat) = (10u8, 36.05, 35.55);
    let (x, y) = mercator_px(lon, lat, z);
    let path = format!("{base}/overlays/events/{z}/{}/{}.json", (x / 256.0).floor(), (y / 256.0).floor());
    let before = get_url(&path).json();
    let body = json!({ "type": "Feature", "id": "marker-new", "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": { "time": "2020-02-20", "kind": "talks", "title": "new", "location_precision": "exact" } });
    let reply = request(
        "POST",
        &format!("{base}/collections/events/items"),
        &[("Authorization", &bearer()), ("Content-Type", "application/geo+json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 201);
    let ids = |fc: &Value| -> Vec<String> {
        fc["features"]
            .as_array()
            .expect("features")
            .iter()
            .flat_map(|f| f["properties"]["ids"].as_array().expect("ids").clone())
            .map(|i| i.as_str().expect("id").to_owned())
            .collect()
    };
    assert!(!ids(&before).contains(&"marker-new".to_owned()));
    assert!(ids(&get_url(&path).json()).contains(&"marker-new".to_owned()), "the write shows on the next request");
}

#[test]
fn items_by_ids_are_those_events_in_time_order_and_bad_lists_are_refused() {
    let base = server_with_events("ids");
    let items = |q: &str| get_url(&format!("{base}/collections/events/items?{q}"));
    let fc = items("ids=m-007,m-003,nowhere,m-005,m-003").json();
    let got: Vec<&str> =
        fc["features"].as_array().expect("features").iter().map(|f| f["id"].as_str().expect("id")).collect();
    let mut want = vec!["m-003", "m-005", "m-007"];
    let time = |id: &str| {
        events(&base, "").into_iter().find(|e| e["id"] == id).expect("event")["properties"]["time"]
            .as_str()
            .expect("time")
            .to_owned()
    };
    want.sort_by_key(|id| (time(id), id.to_string()));
    assert_eq!(got, want, "the three that exist, each once, by time then id");
    assert_eq!(fc["numberMatched"], 3);
    // Other filters still apply.
    let kind = events(&base, "").into_iter().find(|e| e["id"] == "m-003").expect("m-003")["properties"]["kind"].clone();
    let other = if kind == "talks" { "shelling" } else { "talks" };
    assert_eq!(items(&format!("ids=m-003&kind={other}")).json()["numberMatched"], 0);
    assert_eq!(items("ids=m-003&limit=1&offset=0").json()["numberReturned"], 1);
    let many: Vec<String> = (0..101).map(|i| format!("m-{i:03}")).collect();
    let err = items(&format!("ids={}", many.join(","))).assert_error(400, "invalid_parameter");
    assert!(err.contains("ids") && err.contains("100"), "{err}");
    let err = items("ids=m-001,%3Cscript%3E").assert_error(400, "invalid_parameter");
    assert!(err.contains("ids") && !err.contains("script"), "{err}");
    items("ids=").assert_error(400, "invalid_parameter");
}
