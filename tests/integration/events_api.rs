//! The events write API over HTTP: the validation table, the auth rules, the create / replace /
//! patch / delete cycle with ETags, batches, and freshness of the items and overlay tiles.
//!
//! Each test runs on a server of its own, in-process ([`TestApp`]: the real router on fresh
//! state, the seed events in an in-memory store), so that no test sees another's events.

use serde_json::{Value, json};

use crate::common::{Reply, TestApp, bearer, close, hex, settings_with};

/// A spot of its own for test number `n`, far from the seed events: (longitude, latitude) in
/// degrees.
pub fn spot(n: u32) -> (f64, f64) {
    (-30.0 + 2.0 * f64::from(n), -40.0)
}

/// The `bbox` parameter of a 1-degree box around a spot.
pub fn bbox_of((lon, lat): (f64, f64)) -> String {
    format!("{},{},{},{}", lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5)
}

/// A valid event Feature.
pub fn event(id: &str, (lon, lat): (f64, f64)) -> Value {
    json!({
        "type": "Feature",
        "id": id,
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": {
            "time": "2021-01-15", "kind": "shelling", "title": format!("test event {id}"),
            "description": "written by a test", "killed": 3, "injured": 9,
            "sources": ["https://example.org/report"], "location_precision": "town", "date_precision": "day"
        }
    })
}

/// POSTs a JSON value to an app with the write token.
fn post(app: &TestApp, body: &Value) -> Reply {
    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    app.request("POST", "/collections/events/items", &headers, body.to_string().as_bytes())
}

/// How many events lie in a box, by the items' `numberMatched`.
fn matched(app: &TestApp, bbox: &str) -> u64 {
    let reply = app.get(&format!("/collections/events/items?bbox={bbox}&limit=1"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["numberMatched"].as_u64().expect("numberMatched")
}

fn item_path(id: &str) -> String {
    format!("/collections/events/items/{id}")
}

/// A body made from a valid event changed by `change`.
fn with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = event("validation-never-stored", spot(0));
    change(&mut v);
    v.to_string().into_bytes()
}

fn batch(features: Vec<Value>) -> Vec<u8> {
    json!({ "type": "FeatureCollection", "features": features }).to_string().into_bytes()
}

#[test]
fn each_bad_body_gets_its_status_and_names_the_field() {
    let app = TestApp::new();
    let here = spot(0);
    let box0 = bbox_of(here);
    let good = |i: usize| event(&format!("validation-batch-{i}"), here);
    let mut bad_batch: Vec<Value> = (0..4).map(good).collect();
    bad_batch[2]["properties"]["kind"] = json!("bombing");
    let nested = (0..40).fold(json!(1), |inner, _| json!([inner]));
    let geo = "application/geo+json";
    // NaN cannot be written in JSON at all: a client that tries sends something that is not JSON.
    let nan = String::from_utf8(with(|_| ())).expect("utf-8").replace("[-30.0,-40.0]", "[NaN,-40.0]").into_bytes();
    assert!(nan.windows(4).any(|w| w == b"[NaN"));
    // (what, body, content type, status, the field named in `errors` (422) or the code)
    let table: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
        ("not JSON", b"{\"type\": \"Feature\",".to_vec(), geo, 400, "invalid_json"),
        ("invalid UTF-8", b"{\"type\": \"Feature\xff\xfe\"}".to_vec(), geo, 400, "invalid_json"),
        ("NaN", nan, geo, 400, "invalid_json"),
        ("title a number", with(|v| v["properties"]["title"] = json!(42)), geo, 422, "properties.title"),
        ("no geometry", with(|v| v["geometry"] = Value::Null), geo, 422, "geometry"),
        (
            "a LineString",
            with(|v| v["geometry"] = json!({"type": "LineString", "coordinates": [[1, 2], [3, 4]]})),
            geo,
            422,
            "geometry.type",
        ),
        (
            "a string coordinate",
            with(|v| v["geometry"]["coordinates"] = json!(["36.8", 36.2])),
            geo,
            422,
            "geometry.coordinates",
        ),
        ("lat 95", with(|v| v["geometry"]["coordinates"] = json!([36.8, 95])), geo, 422, "geometry.coordinates"),
        ("lon 200", with(|v| v["geometry"]["coordinates"] = json!([200, 36.2])), geo, 422, "geometry.coordinates"),
        ("unknown kind", with(|v| v["properties"]["kind"] = json!("bombing")), geo, 422, "properties.kind"),
        ("killed -1", with(|v| v["properties"]["killed"] = json!(-1)), geo, 422, "properties.killed"),
        ("killed 2.5", with(|v| v["properties"]["killed"] = json!(2.5)), geo, 422, "properties.killed"),
        ("time garbage", with(|v| v["properties"]["time"] = json!("last tuesday")), geo, 422, "properties.time"),
        ("open-ended time", with(|v| v["properties"]["time"] = json!("2020-02-01/..")), geo, 422, "properties.time"),
        ("typo kiled", with(|v| v["properties"]["kiled"] = json!(3)), geo, 422, "properties.kiled"),
        (
            "no location_precision",
            with(|v| {
                v["properties"].as_object_mut().expect("properties").remove("location_precision");
            }),
            geo,
            422,
            "properties.location_precision",
        ),
        (
            "over 64 KiB",
            with(|v| v["properties"]["description"] = json!("x".repeat(70_000))),
            geo,
            413,
            "payload_too_large",
        ),
        ("40 nested arrays", with(|v| v["properties"]["actors"] = nested), geo, 400, "invalid_json"),
        ("text/plain", with(|_| ()), "text/plain", 415, "unsupported_media_type"),
        ("a batch of 51", batch((0..51).map(good).collect()), geo, 413, "payload_too_large"),
        ("a bad feature in a batch", batch(bad_batch), geo, 422, "features[2].properties.kind"),
    ];
    assert!(table.len() >= 15);
    let auth = bearer();
    let before = matched(&app, &box0);
    for (what, body, content_type, status, expect) in table {
        let headers = [("Authorization", auth.as_str()), ("Content-Type", content_type)];
        let reply = app.request("POST", "/collections/events/items", &headers, &body);
        if status == 422 {
            reply.assert_error(422, "invalid_event");
            let errors = reply.json()["errors"].clone();
            let fields: Vec<&str> = errors
                .as_array()
                .unwrap_or_else(|| panic!("{what}: no errors array"))
                .iter()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert!(fields.contains(&expect), "{what}: {fields:?} does not name {expect}");
            assert!(
                errors
                    .as_array()
                    .is_some_and(|a| a.iter().all(|e| e["problem"].as_str().is_some_and(|p| !p.is_empty())))
            );
        } else {
            reply.assert_error(status, expect);
        }
    }
    assert_eq!(matched(&app, &box0), before, "a refused body stored something");
    for i in 0..4 {
        assert_eq!(app.get(&item_path(&format!("validation-batch-{i}"))).status, 404, "batch member {i}");
    }
    assert_eq!(app.get("/health").status, 200, "the server keeps serving");
}

#[test]
fn writes_need_the_bearer_token() {
    let app = TestApp::new();
    let post = |auth: Option<&str>, id: &str| {
        let mut headers = vec![("Content-Type", "application/geo+json")];
        headers.extend(auth.map(|a| ("Authorization", a)));
        app.request("POST", "/collections/events/items", &headers, event(id, spot(1)).to_string().as_bytes())
    };
    for (auth, what) in [(None, "none"), (Some("Bearer not-the-token"), "wrong"), (Some("Basic dXNlcjpwYXNz"), "basic")]
    {
        let reply = post(auth, &format!("auth-{what}"));
        reply.assert_error(401, "unauthorized");
        assert!(reply.header("www-authenticate").starts_with("Bearer"), "{what}: {:?}", reply.headers);
        assert_eq!(app.get(&item_path(&format!("auth-{what}"))).status, 404, "{what} stored it");
    }
    let seed = "2020-02-18-termanin-air-raids";
    let del = app.request("DELETE", &item_path(seed), &[("If-Match", "*")], b"");
    del.assert_error(401, "unauthorized");
    assert_eq!(app.get(&item_path(seed)).status, 200);
    assert_eq!(post(Some(&bearer()), "auth-right").status, 201);
}

#[test]
fn without_a_token_writes_are_refused_and_reads_still_work() {
    let app = TestApp::with(settings_with(|c| c.events.write_token = None));
    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    let body = event("no-token-event", spot(2)).to_string();
    let reply = app.request("POST", "/collections/events/items", &headers, body.as_bytes());
    let description = reply.assert_error(403, "writes_disabled");
    assert!(description.contains("TESSERA_WRITE_TOKEN"), "{description}");
    let seed = "/collections/events/items/2020-02-18-termanin-air-raids";
    app.request("DELETE", seed, &[("Authorization", auth.as_str()), ("If-Match", "*")], b"")
        .assert_error(403, "writes_disabled");
    assert_eq!(app.get(seed).status, 200, "reads work");
    let items = app.get("/collections/events/items");
    assert_eq!(items.json()["numberMatched"], 9, "the seed events, and nothing else");
    let tile = app.get("/overlays/events/6/38/25.png");
    assert_eq!((tile.status, tile.header("content-type")), (200, "image/png"));
}

#[test]
fn create_replace_patch_delete_with_etags() {
    let app = TestApp::new();
    let id = "cycle-1";
    let created = post(&app, &event(id, spot(3)));
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").to_owned();
    assert!(location.ends_with(&item_path(id)), "{location}");
    let etag1 = created.header("etag").to_owned();
    assert!(!etag1.is_empty());
    let fetched = app.request("GET", &location, &[], b"");
    assert_eq!(fetched.json(), created.json(), "GET Location returns what POST did");
    assert_eq!(fetched.header("etag"), etag1);

    let auth = bearer();
    let send = |method: &str, content_type: &str, if_match: Option<&str>, body: &Value| {
        let mut headers = vec![("Authorization", auth.as_str()), ("Content-Type", content_type)];
        headers.extend(if_match.map(|m| ("If-Match", m)));
        app.request(method, &item_path(id), &headers, body.to_string().as_bytes())
    };
    let mut changed = event(id, spot(3));
    changed["properties"]["title"] = json!("replaced");
    send("PUT", "application/geo+json", None, &changed).assert_error(428, "precondition_required");
    let put = send("PUT", "application/geo+json", Some(&etag1), &changed);
    assert_eq!(put.status, 200, "{}", put.text());
    let etag2 = put.header("etag").to_owned();
    assert!(!etag2.is_empty() && etag2 != etag1);
    assert_eq!(put.json()["properties"]["title"], "replaced");
    // A second editor still holding the first version cannot overwrite the change.
    changed["properties"]["title"] = json!("lost update");
    send("PUT", "application/geo+json", Some(&etag1), &changed).assert_error(412, "precondition_failed");
    assert_eq!(app.get(&item_path(id)).json()["properties"]["title"], "replaced");

    let merge = json!({ "properties": { "killed": 5, "description": null } });
    send("PATCH", "application/json", Some(&etag2), &merge).assert_error(415, "unsupported_media_type");
    let patched = send("PATCH", "application/merge-patch+json", Some(&etag2), &merge);
    assert_eq!(patched.status, 200, "{}", patched.text());
    let etag3 = patched.header("etag").to_owned();
    let now = app.get(&item_path(id)).json();
    assert_eq!(now["properties"]["killed"], 5);
    assert_eq!(now["properties"]["injured"], 9, "untouched fields stay");
    assert!(now["properties"].get("description").is_none(), "{now}");

    let del = app.request("DELETE", &item_path(id), &[("Authorization", auth.as_str()), ("If-Match", &etag3)], b"");
    assert_eq!(del.status, 204, "{}", del.text());
    app.get(&item_path(id)).assert_error(404, "not_found");
}

#[test]
fn a_taken_id_is_a_conflict_and_a_batch_is_stored_whole() {
    let app = TestApp::new();
    let here = spot(4);
    assert_eq!(post(&app, &event("conflict-1", here)).status, 201);
    post(&app, &event("conflict-1", here)).assert_error(409, "conflict");
    post(&app, &event("2020-02-18-termanin-air-raids", here)).assert_error(409, "conflict");

    let ids = ["batch-a", "batch-b", "batch-c"];
    let before = matched(&app, &bbox_of(here));
    let reply = post(&app, &json!({ "type": "FeatureCollection", "features": ids.map(|i| event(i, here)) }));
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["numberReturned"], 3);
    assert_eq!(matched(&app, &bbox_of(here)), before + 3);
    for id in ids {
        assert_eq!(app.get(&item_path(id)).json()["id"], id);
    }
    // A batch refused by the store (one id taken) stores none of its members either.
    post(&app, &json!({ "type": "FeatureCollection", "features": [event("batch-d", here), event("batch-a", here)] }))
        .assert_error(409, "conflict");
    app.get(&item_path("batch-d")).assert_error(404, "not_found");
}

#[test]
fn a_write_shows_in_items_and_tiles_on_the_next_request() {
    let app = TestApp::new();
    let here = spot(5);
    let in_box = || -> Vec<String> {
        let body = app.get(&format!("/collections/events/items?bbox={}", bbox_of(here))).json();
        body["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter_map(|f| f["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(app.overlay_above(here, 10).iter().all(|p| p[3] == 0), "nothing there yet");
    let created = post(&app, &event("fresh-1", here));
    assert_eq!(created.status, 201);
    assert_eq!(in_box(), ["fresh-1"]);
    let shelling = hex("#f16913");
    assert!(app.overlay_above(here, 10).iter().any(|&p| close(p, shelling, 2)), "{:?}", app.overlay_above(here, 10));

    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("If-Match", created.header("etag"))];
    assert_eq!(app.request("DELETE", &item_path("fresh-1"), &headers, b"").status, 204);
    assert!(in_box().is_empty());
    assert!(app.overlay_above(here, 10).iter().all(|p| p[3] == 0), "gone from the tile");
}
