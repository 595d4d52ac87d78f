//! The collections as OGC API - Features clients read them: the events' extent from the data,
//! `datetime` accepted on every collection, the queryables of Part 3, and HTML pages of the
//! collections and conformance classes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate};
use serde_json::{Value, json};

use crate::common::{
    Reply, bearer, features, get, get_url, get_with, request, scratch_dir, settings, start_server, url,
};

fn link<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body["links"].as_array()?.iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

/// First and last second of an event's `time` (a date, a date-time or `start/end`), computed
/// here with chrono, apart from the server's parser.
fn span(time: &str) -> (i64, i64) {
    let one = |t: &str| match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => {
            let s = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp();
            (s, s + 86_399)
        }
        Err(_) => {
            let s = DateTime::parse_from_rfc3339(t).expect("an RFC 3339 time").timestamp();
            (s, s)
        }
    };
    match time.split_once('/') {
        Some((a, b)) => (one(a).0, one(b).1),
        None => one(time),
    }
}

fn rfc3339(s: i64) -> String {
    DateTime::from_timestamp(s, 0).expect("time").format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The extent the events of a server have, from their items: `[w, s, e, n]` and the interval.
fn truth(base: &str) -> (Value, Value) {
    let items = get_url(&format!("{base}/collections/events/items?limit=10000")).json();
    let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for f in items["features"].as_array().expect("features") {
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        (w, s, e, n) = (w.min(lon), s.min(lat), e.max(lon), n.max(lat));
        let (a, b) = span(f["properties"]["time"].as_str().expect("time"));
        (first, last) = (first.min(a), last.max(b));
    }
    (json!([[w, s, e, n]]), json!([[rfc3339(first), rfc3339(last)]]))
}

/// Regression (issue 12, item 8): the events collection had no `extent`. It is the box of the
/// events' positions and the span of their times, as they are at each request.
#[test]
fn the_events_collection_had_no_extent() {
    let data = scratch_dir("events-extent");
    let base = start_server(settings(), &data);
    let extent = |base: &str| get_url(&format!("{base}/collections/events")).json()["extent"].clone();
    let (bbox, interval) = truth(&base);
    assert!(interval[0][1].as_str().is_some_and(|t| t.starts_with("2020-02-")), "the February 2020 events: {interval}");
    let x = extent(&base);
    assert_eq!(x["spatial"]["bbox"], bbox);
    assert_eq!(x["spatial"]["crs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    assert_eq!(x["temporal"]["interval"], interval);
    assert_eq!(x["temporal"]["trs"], "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian");
    // The same in the list of collections.
    let all = get_url(&format!("{base}/collections")).json();
    let listed = all["collections"].as_array().expect("collections").iter().find(|c| c["id"] == "events").cloned();
    assert_eq!(listed.expect("events listed")["extent"], x);

    // A write outside the box and after the last event widens both; deleting it narrows them back.
    // The position is Manbij's (east of every seeded event), from the cities layer.
    let manbij = features("cities.geojson")
        .into_iter()
        .find(|f| f["properties"]["name"] == "Manbij")
        .expect("Manbij in cities.geojson");
    let event = json!({
        "type": "Feature", "id": "extent-probe", "geometry": manbij["geometry"],
        "properties": { "time": "2021-03-01/2021-03-02", "kind": "other", "title": "extent probe", "location_precision": "city" },
    });
    let auth = bearer();
    let made = request(
        "POST",
        &format!("{base}/collections/events/items"),
        &[("Authorization", &auth), ("Content-Type", "application/geo+json")],
        event.to_string().as_bytes(),
    );
    assert_eq!(made.status, 201, "{}", made.text());
    let (bbox2, interval2) = truth(&base);
    assert_ne!(bbox2, bbox, "Manbij is outside the seeded events' box");
    let x2 = extent(&base);
    assert_eq!(x2["spatial"]["bbox"], bbox2);
    assert_eq!(x2["temporal"]["interval"], interval2);
    assert_eq!(x2["temporal"]["interval"][0][1], "2021-03-02T23:59:59Z");
    let gone = request(
        "DELETE",
        &format!("{base}/collections/events/items/extent-probe"),
        &[("Authorization", &auth), ("If-Match", "*")],
        b"",
    );
    assert_eq!(gone.status, 204, "{}", gone.text());
    assert_eq!(extent(&base), x);
}

/// Regression (issue 12, item 8): `datetime` on a data layer's items was 400 "unknown
/// parameter", although OGC API - Features defines it for every collection. A layer's features
/// have no time, so the value is checked and every feature matches.
#[test]
fn datetime_on_a_data_layer_was_an_unknown_parameter() {
    let towns = features("towns.geojson").len();
    for datetime in ["2020-02-18", "2020-02-01/2020-02-29", "../2020-02-17", "2020-02-18T19:30:00Z"] {
        let body = get(&format!("/collections/towns/items?datetime={datetime}&limit=10")).json();
        assert_eq!(body["numberMatched"], towns, "datetime={datetime}");
        let next = link(&body, "next").expect("a next link");
        assert!(next.contains("datetime="), "the links carry datetime: {next}");
        assert_eq!(get_url(next).status, 200);
    }
    for bad in ["2020-13-45", "yesterday", "2020-02-01/2020-01-01"] {
        let d = get(&format!("/collections/towns/items?datetime={bad}")).assert_error(400, "invalid_parameter");
        assert!(d.contains("'datetime'"), "{d}");
    }
    // The collection says what datetime means for it.
    let d = get("/collections/towns").json()["description"].as_str().unwrap_or("").to_owned();
    assert!(d.contains("no time") && d.contains("datetime"), "{d}");
}

/// The JSON Schema type names of a value's type.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn schema_types(s: &Value) -> BTreeSet<String> {
    match &s["type"] {
        Value::String(t) => BTreeSet::from([t.clone()]),
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ => BTreeSet::new(),
    }
}

fn queryables(reply: &Reply, href: &str) -> Value {
    assert_eq!(reply.status, 200, "{href}: {}", reply.text());
    assert_eq!(reply.header("content-type"), "application/schema+json", "{href}");
    let q = reply.json();
    assert_eq!(q["$schema"], "https://json-schema.org/draft/2020-12/schema", "{href}");
    assert_eq!(q["$id"], href, "{href}: $id is the resource's URI");
    assert_eq!(q["type"], "object");
    assert_eq!(q["additionalProperties"], false);
    assert_eq!(q["properties"]["geometry"]["x-ogc-role"], "primary-geometry", "{href}");
    q
}

/// Regression (issue 12, item 8): there was no `/collections/{id}/queryables` (OGC API -
/// Features Part 3). Each collection links it; a layer's comes from its data, the events' from
/// the event model.
#[test]
fn there_were_no_queryables() {
    let conformance = get("/conformance").json();
    let classes: Vec<&str> =
        conformance["conformsTo"].as_array().expect("conformsTo").iter().filter_map(Value::as_str).collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables"), "{classes:?}");
    // Filtering itself is not implemented, so it is not claimed.
    assert!(!classes.iter().any(|c| c.contains("conf/filter") || c.contains("queryables-query-parameters")));

    let collections = get("/collections").json();
    let rel = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
    for c in collections["collections"].as_array().expect("collections") {
        let href = link(c, rel).unwrap_or_else(|| panic!("{} has no queryables link", c["id"]));
        assert_eq!(href, url(&format!("/collections/{}/queryables", c["id"].as_str().expect("id"))));
        queryables(&get_url(href), href);
    }

    // towns: every property of the file, with the JSON types its values have there.
    let href = url("/collections/towns/queryables");
    let q = queryables(&get_url(&href), &href);
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in features("towns.geojson") {
        for (k, v) in f["properties"].as_object().expect("properties") {
            expected.entry(k.clone()).or_default().insert(json_type(v).to_owned());
        }
    }
    for types in expected.values_mut() {
        if types.contains("number") {
            types.remove("integer");
        }
    }
    let served: BTreeMap<String, BTreeSet<String>> = q["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .filter(|(k, _)| *k != "geometry")
        .map(|(k, s)| (k.clone(), schema_types(s)))
        .collect();
    assert_eq!(served, expected);
    assert_eq!(q["properties"]["geometry"]["format"], "geometry-point");
    assert_eq!(get_url(&format!("{href}?f=json")).status, 200);
    get("/collections/nope/queryables").assert_error(404, "not_found");
    get("/collections/towns/queryables?foo=1").assert_error(400, "invalid_parameter");

    // events: the model's fields; kind lists the kinds the server takes.
    let href = url("/collections/events/queryables");
    let q = queryables(&get_url(&href), &href);
    let props = q["properties"].as_object().expect("properties");
    for field in ["time", "kind", "title", "location_precision", "killed", "sources", "created"] {
        assert!(props.contains_key(field), "events queryables lack {field}");
    }
    let kinds: Vec<&str> =
        props["kind"]["enum"].as_array().expect("kind enum").iter().filter_map(Value::as_str).collect();
    assert!(kinds.contains(&"airstrike") && kinds.contains(&"hospital-hit"), "{kinds:?}");
    // Every kind the schema names is one the server takes, and no other is.
    for k in &kinds {
        assert_eq!(get(&format!("/collections/events/items?kind={k}&limit=1")).status, 200, "{k}");
    }
    get("/collections/events/items?kind=bombing").assert_error(400, "invalid_parameter");
}

fn html(reply: &Reply, what: &str) -> String {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    assert!(reply.header("content-type").starts_with("text/html"), "{what}");
    let csp = reply.header("content-security-policy");
    assert!(csp.starts_with("default-src 'none'") && !csp.contains("unsafe"), "{what}: {csp}");
    let text = reply.text();
    assert!(text.starts_with("<!doctype html>"), "{what}");
    assert!(!text.contains("<script"), "{what}: the pages run no script");
    text
}

/// Regression (issue 12, item 8): `f=html` worked on `/` but was 400 on `/collections` and
/// `/conformance`. Now they, and each collection, have a page; browsers get it by `Accept`.
#[test]
fn f_html_was_refused_on_collections_and_conformance() {
    let page = html(&get("/collections?f=html"), "/collections");
    for c in get("/collections").json()["collections"].as_array().expect("collections") {
        let id = c["id"].as_str().expect("id");
        assert!(page.contains(&format!("/collections/{id}?f=html")), "the list links {id}");
    }
    let page = html(&get("/conformance?f=html"), "/conformance");
    assert!(page.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    let page = html(&get("/collections/report-places?f=html"), "/collections/report-places");
    let title = get("/collections/report-places").json()["title"].as_str().expect("title").to_owned();
    assert!(page.contains(&format!("<h1>{title}</h1>")), "{page}");
    assert!(page.contains("/collections/report-places/items"), "the page links the items");
    let page = html(&get("/collections/events?f=html"), "/collections/events");
    // Other tests write events to this server meanwhile, so the page shows an interval, whichever.
    assert!(
        page.contains("<tr><th>time</th><td>") && page.contains("Z to "),
        "the events page shows their time extent"
    );

    let browser = [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")];
    for path in ["/collections", "/conformance", "/collections/roads", "/collections/events"] {
        html(&get_with(path, &browser), path);
        let json = get_with(path, &[("Accept", "application/json")]);
        assert!(json.header("content-type").starts_with("application/json"), "{path}");
        assert!(json.header("vary").contains("Accept"), "{path}: Vary");
        get(&format!("{path}?f=xml")).assert_error(400, "invalid_parameter");
    }
    // The JSON documents link their HTML form.
    assert!(link(&get("/collections").json(), "alternate").is_some_and(|h| h.ends_with("/collections?f=html")));
    // Items stay GeoJSON only.
    get("/collections/roads/items?f=html").assert_error(400, "invalid_parameter");
}
