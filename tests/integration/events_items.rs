//! Reading events over HTTP: the seed events as the file has them, one event with its ETag,
//! and the `datetime`, `kind`, `bbox` and paging semantics of the items, each checked against
//! sets computed here from `geodata/events-feb-2020.geojson` by logic of the test's own.
//!
//! They read from a server of their own, in-process ([`TestApp`]), which holds the seed events
//! and nothing else: no other test writes to it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{Reply, TestApp, features, point};

const SEED: &str = "events-feb-2020.geojson";
/// West, south, east, north: around every seed event (north-west Syria, Ankara, Moscow).
const SEED_BOX: &str = "30,30,40,60";

/// The app these read-only tests share.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(TestApp::new)
}

fn get(path: &str) -> Reply {
    app().get(path)
}

fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    app().request("GET", path, headers, b"")
}

type Ids = BTreeSet<String>;

fn id(f: &Value) -> String {
    f["id"].as_str().expect("id").to_owned()
}

fn seed_where(keep: impl Fn(&Value) -> bool) -> Ids {
    features(SEED).iter().filter(|f| keep(f)).map(id).collect()
}

/// Every id of every page of an items query, asserting that no id comes twice.
fn all_ids(query: &str) -> Ids {
    let mut next = Some(format!("/collections/events/items?{query}"));
    let mut seen = Ids::new();
    for _ in 0..1000 {
        let Some(href) = next.take() else { return seen };
        let reply = get(&href);
        assert_eq!(reply.status, 200, "{href}: {}", reply.text());
        assert_eq!(reply.header("content-type"), "application/geo+json");
        let body = reply.json();
        for f in body["features"].as_array().expect("features") {
            assert!(seen.insert(id(f)), "{} came twice", id(f));
        }
        next = body["links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["rel"] == "next"))
            .map(|l| l["href"].as_str().expect("href").to_owned());
    }
    panic!("more than 1000 pages for {query}");
}

#[test]
fn the_seed_events_are_listed_as_in_the_file() {
    let seed = seed_where(|_| true);
    assert_eq!(seed.len(), 9);
    assert_eq!(all_ids(&format!("bbox={SEED_BOX}")), seed);
    assert_eq!(all_ids("limit=10000"), seed, "the seed events, and nothing else");
    let collections = get("/collections").json();
    let listed: Vec<&str> =
        collections["collections"].as_array().expect("collections").iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(listed.contains(&"events"), "{listed:?}");
    assert_eq!(get("/collections/events").json()["id"], "events");
}

#[test]
fn one_event_has_an_etag_and_answers_if_none_match() {
    let file = features(SEED).into_iter().find(|f| id(f) == "2020-02-18-termanin-air-raids").expect("in the file");
    let path = "/collections/events/items/2020-02-18-termanin-air-raids";
    let reply = get(path);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/geo+json");
    let body = reply.json();
    assert_eq!(body["geometry"], file["geometry"]);
    for (k, v) in file["properties"].as_object().expect("properties") {
        assert_eq!(&body["properties"][k], v, "{k}");
    }
    let etag = reply.header("etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag:?}");
    let again = get_with(path, &[("If-None-Match", etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(get_with(path, &[("If-None-Match", "\"other\"")]).status, 200);
    get("/collections/events/items/no-such-event").assert_error(404, "not_found");
}

/// A `time` or `datetime` value (dates, and UTC date-times) as a span of whole UTC days, written
/// `YYYY-MM-DD` so that string order is time order; `None` for an open end. An instant is
/// taken as its day, which is exact against events that are whole days.
fn days(text: &str) -> (Option<String>, Option<String>) {
    let day = |s: &str| {
        assert!(s.len() <= 10 || s.ends_with('Z'), "{s}: only UTC date-times here");
        (!s.is_empty() && s != "..").then(|| s[..10].to_owned())
    };
    match text.split_once('/') {
        Some((a, b)) => (day(a), day(b)),
        None => (day(text), day(text)),
    }
}

/// Whether two day spans share a day.
fn overlap(a: &(Option<String>, Option<String>), b: &(Option<String>, Option<String>)) -> bool {
    let before = |x: &Option<String>, y: &Option<String>| match (x, y) {
        (Some(x), Some(y)) => x <= y,
        _ => true,
    };
    before(&a.0, &b.1) && before(&b.0, &a.1)
}

#[test]
fn datetime_matches_the_events_whose_days_overlap() {
    // The seed's times are dates and date intervals, so whole days are exact here.
    for f in features(SEED) {
        let t = f["properties"]["time"].as_str().expect("time");
        assert!(t.split('/').all(|p| p.len() == 10), "{t} is not made of dates");
    }
    let queries = [
        "2020-02-18",
        "2020-02-17",
        "2020-02-18T20:00:00Z",
        // The first and last second of a day, and the first second after it.
        "2020-02-18T00:00:00Z",
        "2020-02-18T23:59:59Z",
        "2020-02-19T00:00:00Z",
        // Ends at the very second the Astana agreement's day begins.
        "../2017-05-04T00:00:00Z",
        "2019-01-01/2019-12-31",
        "2017-01-01/2017-12-31",
        "2020-02-01/..",
        "2020-02-19/..",
        "../2019-12-31",
        "../2017-05-03",
    ];
    let mut distinct = BTreeSet::new();
    for q in queries {
        let want = seed_where(|f| overlap(&days(f["properties"]["time"].as_str().expect("time")), &days(q)));
        let got = all_ids(&format!("bbox={SEED_BOX}&datetime={q}"));
        assert_eq!(got, want, "datetime={q}");
        distinct.insert(want);
    }
    assert!(distinct.len() >= 5, "the queries tell the events apart: {distinct:?}");
    for bad in ["yesterday", "2020-02-30", "2020-02-18/2020-02-17", "18/02/2020"] {
        let d = get(&format!("/collections/events/items?datetime={bad}")).assert_error(400, "invalid_parameter");
        assert!(d.contains("datetime"), "{d}");
    }
}

#[test]
fn kind_filters_by_one_or_several_kinds() {
    let kind = |f: &Value| f["properties"]["kind"].as_str().expect("kind").to_owned();
    let air = seed_where(|f| kind(f) == "airstrike");
    assert_eq!(air.len(), 2);
    assert_eq!(all_ids(&format!("bbox={SEED_BOX}&kind=airstrike")), air);
    let both = seed_where(|f| ["airstrike", "talks"].contains(&kind(f).as_str()));
    assert_eq!(both.len(), 3);
    assert_eq!(all_ids(&format!("bbox={SEED_BOX}&kind=airstrike,talks")), both);
    let d = get("/collections/events/items?kind=bombing").assert_error(400, "invalid_parameter");
    assert!(d.contains("bombing") && d.contains("airstrike"), "{d}");
}

#[test]
fn bbox_selects_the_events_inside_it() {
    for (w, s, e, n) in
        [(36.0, 35.5, 37.5, 36.5), (36.8, 36.2, 36.9, 36.3), (37.0, 55.0, 38.0, 56.0), (0.0, 0.0, 1.0, 1.0)]
    {
        let want = seed_where(|f| {
            let (lon, lat) = point(f);
            lon >= w && lon <= e && lat >= s && lat <= n
        });
        assert_eq!(all_ids(&format!("bbox={w},{s},{e},{n}")), want, "bbox {w},{s},{e},{n}");
    }
    get("/collections/events/items?bbox=1,2,3").assert_error(400, "invalid_parameter");
}

#[test]
fn paging_by_two_visits_each_event_once() {
    let first = get(&format!("/collections/events/items?bbox={SEED_BOX}&limit=2")).json();
    assert_eq!(first["numberMatched"], 9);
    assert_eq!(first["numberReturned"], 2);
    // all_ids follows the next links and fails on any id seen twice.
    assert_eq!(all_ids(&format!("bbox={SEED_BOX}&limit=2")), seed_where(|_| true));
}
