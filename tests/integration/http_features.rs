//! OGC API - Features over HTTP: the landing page, conformance, collections and items, checked
//! against the GeoJSON files themselves (paging visits each feature once; a bbox query equals
//! a brute-force filter of the file).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{Reply, features, get, get_url, get_with, manifest, page_config, point};

fn link<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body["links"].as_array()?.iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

fn geojson(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), "application/geo+json");
    reply.json()
}

#[test]
fn the_landing_page_is_json_for_clients_and_html_for_browsers() {
    for reply in [get_with("/", &[("Accept", "application/json")]), get("/?f=json")] {
        assert_eq!(reply.status, 200);
        assert!(reply.header("content-type").starts_with("application/json"));
        let body = reply.json();
        assert!(link(&body, "conformance").is_some_and(|h| h.ends_with("/conformance")));
        assert!(link(&body, "data").is_some_and(|h| h.ends_with("/collections")));
    }
    let html = get_with("/", &[("Accept", "text/html,application/xhtml+xml")]);
    assert_eq!(html.status, 200);
    assert!(html.header("content-type").starts_with("text/html"));
    assert!(html.text().starts_with("<!doctype html>"));
    assert!(html.text().contains("/tiles/"), "the page shows tiles");
    get("/?f=xml").assert_error(400, "invalid_parameter");
}

#[test]
fn conformance_declares_core_and_geojson() {
    let body = get("/conformance").json();
    let classes: Vec<&str> =
        body["conformsTo"].as_array().expect("conformsTo").iter().filter_map(Value::as_str).collect();
    for class in ["core", "geojson"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{class}");
        assert!(classes.contains(&uri.as_str()), "{classes:?}");
    }
}

#[test]
fn collections_list_every_layer_of_the_manifest() {
    let body = get("/collections").json();
    let served: Vec<&str> =
        body["collections"].as_array().expect("collections").iter().filter_map(|c| c["id"].as_str()).collect();
    let m = manifest();
    let mut expected: Vec<&str> =
        m["layers"].as_array().expect("layers").iter().filter_map(|l| l["id"].as_str()).collect();
    // The event store is a collection too, beside the layers.
    expected.push("events");
    let mut sorted = served.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
}

#[test]
fn a_collection_has_the_extent_of_its_file() {
    let body = get("/collections/report-places").json();
    assert_eq!(body["id"], "report-places");
    let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for f in features("report-places.geojson") {
        let (lon, lat) = point(&f);
        (w, s, e, n) = (w.min(lon), s.min(lat), e.max(lon), n.max(lat));
    }
    assert_eq!(body["extent"]["spatial"]["bbox"], serde_json::json!([[w, s, e, n]]));
    assert!(link(&body, "items").is_some_and(|h| h.ends_with("/collections/report-places/items")));
    get("/collections/nope").assert_error(404, "not_found");
    get("/collections/nope/items").assert_error(404, "not_found");
}

#[test]
fn items_and_one_item_are_geojson_as_in_the_file() {
    let body = geojson(&get("/collections/report-places/items"));
    assert_eq!(body["type"], "FeatureCollection");
    assert_eq!(body["numberMatched"], 10);
    assert_eq!(body["numberReturned"], 10);
    assert_eq!(body["features"].as_array().map(Vec::len), Some(10));
    assert!(link(&body, "next").is_none());

    let termanin = geojson(&get("/collections/report-places/items/termanin"));
    let in_file =
        features("report-places.geojson").into_iter().find(|f| f["id"] == "termanin").expect("termanin in the file");
    assert_eq!(termanin["type"], "Feature");
    assert_eq!(termanin["id"], "termanin");
    assert_eq!(termanin["geometry"], serde_json::json!({ "type": "Point", "coordinates": [36.817, 36.233] }));
    assert_eq!(termanin["properties"], in_file["properties"]);
    let name = termanin["properties"]["name"].as_str().unwrap_or("");
    assert!(name.starts_with("Termanin"), "{name}");

    get("/collections/report-places/items/nope").assert_error(404, "not_found");
    get("/collections/nope/items/termanin").assert_error(404, "not_found");
}

/// Key of a towns feature: its GeoNames id, which is unique in the file.
fn town_key(f: &Value) -> u64 {
    f["properties"]["geonameid"].as_u64().expect("geonameid")
}

/// Follows `next` from `first` to the end; checks the counts of every page and the `prev`
/// links; returns how many times each town was seen.
fn walk(first: &str, matched: usize, limit: usize) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    let mut next = Some(crate::common::url(first));
    let mut page = 0;
    while let Some(url) = next {
        let body = geojson(&get_url(&url));
        let returned = body["features"].as_array().expect("features").len();
        assert_eq!(body["numberMatched"], matched, "{url}");
        assert_eq!(body["numberReturned"], returned, "{url}");
        assert_eq!(returned, limit.min(matched - page * limit), "{url}");
        assert_eq!(link(&body, "prev").is_some(), page > 0, "{url}: prev link");
        for f in body["features"].as_array().expect("features") {
            *seen.entry(town_key(f)).or_insert(0) += 1;
        }
        next = link(&body, "next").map(str::to_owned);
        page += 1;
        assert!(page <= matched / limit + 1, "more pages than features");
    }
    assert_eq!(page, matched.div_ceil(limit).max(1));
    seen
}

#[test]
fn paging_through_towns_visits_every_feature_once() {
    let towns = features("towns.geojson");
    assert_eq!(towns.len(), 1683);
    let seen = walk("/collections/towns/items?limit=250", towns.len(), 250);
    let expected: BTreeMap<u64, usize> = towns.iter().map(|f| (town_key(f), 1)).collect();
    assert_eq!(expected.len(), towns.len(), "geonameids are unique");
    assert_eq!(seen, expected);
}

#[test]
fn a_bbox_query_equals_a_brute_force_filter_of_the_file() {
    let (w, s, e, n) = (36.5, 35.8, 36.8, 36.0);
    let expected: BTreeMap<u64, usize> = features("towns.geojson")
        .iter()
        .filter(|f| {
            let (lon, lat) = point(f);
            (w..=e).contains(&lon) && (s..=n).contains(&lat)
        })
        .map(|f| (town_key(f), 1))
        .collect();
    assert!(expected.len() >= 3, "Idlib has towns around it");

    let one = geojson(&get("/collections/towns/items?bbox=36.5,35.8,36.8,36.0&limit=10000"));
    let all: BTreeMap<u64, usize> =
        one["features"].as_array().expect("features").iter().map(|f| (town_key(f), 1)).collect();
    assert_eq!(all, expected);
    assert_eq!(one["numberMatched"], expected.len());

    let paged = walk("/collections/towns/items?bbox=36.5,35.8,36.8,36.0&limit=2", expected.len(), 2);
    assert_eq!(paged, expected);
}

#[test]
fn bad_items_parameters_are_400_invalid_parameter_naming_them() {
    for (query, name) in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=0,0,200,1", "bbox"),
        ("bbox=0,10,1,5", "bbox"),
        ("bbox=0,0,1,NaN", "bbox"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("offset=x", "offset"),
        ("offset=-5", "offset"),
        ("foo=1", "foo"),
        ("f=xml", "f"),
    ] {
        let d = get(&format!("/collections/towns/items?{query}")).assert_error(400, "invalid_parameter");
        assert!(d.contains(&format!("'{name}'")), "{query}: {d}");
    }
}

#[test]
fn a_limit_above_the_maximum_is_lowered_not_refused() {
    // Regression: a limit too long for the parser was refused as "not a non-negative integer".
    for limit in ["20000", "10000000000000", "99999999999999999999999"] {
        let body = geojson(&get(&format!("/collections/towns/items?limit={limit}")));
        assert_eq!(body["numberReturned"], 1683, "limit={limit}");
        let this = link(&body, "self").unwrap_or("");
        assert!(this.contains("limit=10000&"), "limit={limit}: {this}");
    }
}

#[test]
fn an_offset_past_the_end_is_an_empty_page() {
    for offset in ["10", "50", "99999999999999999999999"] {
        let body = geojson(&get(&format!("/collections/report-places/items?offset={offset}")));
        assert_eq!(body["numberMatched"], 10);
        assert_eq!(body["numberReturned"], 0);
        assert!(link(&body, "next").is_none());
    }
}

#[test]
fn health_counts_the_layers() {
    let reply = get("/health");
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("application/json"));
    let body = reply.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["layers"], 13);
    let m = manifest();
    assert_eq!(m["layers"].as_array().map(Vec::len), Some(13));
}

#[test]
fn reads_allow_any_origin() {
    for path in ["/collections", "/tiles/6/38/25.png", "/tiles.json"] {
        let reply = get_with(path, &[("Origin", "https://news.example.org")]);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("access-control-allow-origin"), "*", "{path}");
    }
}

#[test]
fn layer_notes_travel_from_the_manifest_to_the_collection_and_the_page() {
    let config = page_config("/");
    let on_page: BTreeMap<&str, &Value> = config["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| (l["id"].as_str().expect("id"), &l["note"]))
        .collect();
    let mut noted = 0;
    for entry in manifest()["layers"].as_array().expect("layers") {
        let id = entry["id"].as_str().expect("id");
        let note = entry.get("note").and_then(|n| n.as_str());
        let collection = get(&format!("/collections/{id}")).json();
        assert_eq!(collection.get("note").and_then(Value::as_str), note, "{id}: /collections/{id}");
        assert_eq!(on_page[id].as_str(), note, "{id}: the page's config");
        noted += usize::from(note.is_some());
    }
    assert_eq!(noted, 5, "the default data has five notes (observation points, zone, roads, borders, places)");
    assert_eq!(
        on_page["observation-points"].as_str(),
        Some("Ringed: encircled by Syrian government forces by February 2020.")
    );
}
