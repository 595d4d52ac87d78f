//! The API definition (OpenAPI 3.0) and the page made from it, checked by the clients that
//! missed it: openapi-spec-validator and OWSLib (Python, in a venv that `tests/python/run.sh`
//! makes) and GDAL's OAPIF driver (`ogrinfo`). Without a client, a test fails on CI
//! (`CI=true`, where `.ci/run` installs them) and is skipped with a message elsewhere.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{
    features, get, get_url, get_with, point, request, scratch_dir, server, settings, start_server, url,
};

/// A server of its own for the outside clients: other tests write events to the shared one,
/// which would race with comparing what a client read against what the server holds.
fn quiet_server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| start_server(settings(), &scratch_dir("clients-data")))
}

/// Whether an outside client can be run: on CI its absence fails the test; elsewhere the test
/// says it is skipped.
fn available(name: &str, probe: &mut Command) -> bool {
    if probe.output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{name} is missing on CI: .ci/run installs it (see tests/python/run.sh)"
    );
    eprintln!("SKIPPED: {name} is not installed here; CI installs it (.ci/run)");
    false
}

/// Runs a check of `tests/python` against the shared server; `None` when Python cannot run here.
fn python(script: &str) -> Option<Value> {
    python_with(script, &[quiet_server()])
}

/// Runs a check of `tests/python` with these arguments and parses the JSON line it prints;
/// `None` when Python cannot run here (a failure on CI, where `.ci/run` installs it).
pub fn python_with(script: &str, args: &[&str]) -> Option<Value> {
    if !available("python3 with venv", Command::new("python3").args(["-m", "venv", "--help"])) {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out: Output = Command::new("bash")
        .arg(root.join("tests/python/run.sh"))
        .arg(script)
        .args(args)
        .current_dir(root)
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    Some(serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}")))
}

fn link<'a>(body: &'a Value, rel: &str) -> &'a Value {
    body["links"].as_array().and_then(|l| l.iter().find(|l| l["rel"] == rel)).unwrap_or(&Value::Null)
}

const OPENAPI_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// Regression (issue 12, item 7): `/api`, `/openapi` and `/openapi.json` were 404 and the
/// landing page had no `service-desc` or `service-doc`.
#[test]
fn there_was_no_api_definition() {
    let landing = get("/?f=json").json();
    let desc = link(&landing, "service-desc");
    assert_eq!(desc["type"], OPENAPI_TYPE);
    assert_eq!(desc["href"], url("/openapi.json"));
    let doc_link = link(&landing, "service-doc");
    assert_eq!(doc_link["type"], "text/html");

    let reply = get("/openapi.json");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), OPENAPI_TYPE);
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["servers"][0]["url"], server());
    // /api is the same document for JSON clients, and the page for browsers.
    let api = get_with("/api", &[("Accept", "application/json")]);
    assert_eq!(api.header("content-type"), OPENAPI_TYPE);
    assert_eq!(api.json(), doc);

    let page = get(doc_link["href"].as_str().expect("service-doc href").trim_start_matches(server()));
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.header("content-security-policy").starts_with("default-src 'none'"));
    let html = page.text();
    assert!(!html.contains("<script"), "no script, from a CDN or elsewhere");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            let shown = format!("{} {}", method.to_ascii_uppercase(), path.replace('&', "&amp;"));
            assert!(html.contains(&shown), "the page lacks {shown}");
        }
    }
    let browser = get_with("/api", &[("Accept", "text/html")]);
    assert!(browser.header("content-type").starts_with("text/html"));

    // The operations give their error answers the error schema; a 422 adds `errors`.
    let post = &doc["paths"]["/collections/events/items"]["post"];
    assert_eq!(post["security"], serde_json::json!([{ "bearer": [] }]));
    assert_eq!(post["responses"]["422"]["$ref"], "#/components/responses/InvalidEvent");
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["code", "description", "status"]));
    let invalid = &doc["components"]["schemas"]["InvalidEvent"]["allOf"];
    assert_eq!(invalid[1]["required"], serde_json::json!(["errors"]));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

/// A path of the document with each `{parameter}` replaced by the parameter's example.
fn example_path(doc: &Value, path: &str, op: &Value) -> String {
    let mut out = path.to_owned();
    for p in op["parameters"].as_array().expect("parameters") {
        let name = p["$ref"].as_str().and_then(|r| r.rsplit('/').next()).expect("parameters are references");
        let p = &doc["components"]["parameters"][name];
        if p["in"] == "path" {
            let example = match &p["example"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // As a client sends it: a font stack's spaces percent-encoded.
            let example = example.replace(' ', "%20");
            out = out.replace(&format!("{{{}}}", p["name"].as_str().expect("name")), &example);
        }
    }
    assert!(!out.contains('{'), "{path}: a path parameter has no example");
    out
}

/// Every operation of the document answers (no 404 "no such route", no 405) with a status it
/// declares, and every other method of its path is 405: the document's methods are the
/// router's. (That each route of the router is in the document is a unit test of `openapi`.)
#[test]
fn every_operation_of_the_api_definition_is_routed_with_exactly_its_methods() {
    let doc = get("/openapi.json").json();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let methods: BTreeSet<&str> = item.as_object().expect("item").keys().map(String::as_str).collect();
        let any = item.as_object().and_then(|m| m.values().next()).expect("an operation");
        let target = url(&example_path(&doc, path, any));
        for method in ["get", "post", "put", "patch", "delete"] {
            // Without the token: writes are refused before anything changes.
            let reply = request(&method.to_ascii_uppercase(), &target, &[], b"");
            if !methods.contains(method) {
                reply.assert_error(405, "method_not_allowed");
                continue;
            }
            operations += 1;
            let status = reply.status.to_string();
            assert!(!reply.text().contains("no such route"), "{method} {target}: {}", reply.text());
            let declared = &item[method]["responses"];
            assert!(declared.get(&status).is_some(), "{method} {path}: {status} is not declared ({})", reply.text());
        }
    }
    assert!(operations >= 28, "{operations} operations");
}

/// Regression (issue 12, item 7): the document is checked by a real OpenAPI validator.
#[test]
fn the_api_definition_is_valid_openapi_by_openapi_spec_validator() {
    let Some(seen) = python("check_openapi.py") else { return };
    assert_eq!(seen["openapi"], "3.0.3");
    assert_eq!(seen["content_type"], OPENAPI_TYPE);
    let paths = seen["paths"].as_object().expect("paths");
    assert_eq!(paths["/collections/events/items/{featureId}"], serde_json::json!(["delete", "get", "patch", "put"]));
    assert_eq!(paths["/collections/events/items"], serde_json::json!(["get", "post"]));
}

/// Regression (issue 12, item 7): OWSLib's `api()` failed. Now it reads the definition, and its
/// collections, items and queryables agree with the data.
#[test]
fn owslib_could_not_read_the_api_definition() {
    let Some(seen) = python("check_owslib.py") else { return };
    let base = quiet_server();
    let doc = get_url(&format!("{base}/openapi.json")).json();
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(seen["api_paths"].as_array().map(Vec::len), Some(paths.len()));

    let collections: Vec<String> = get("/collections").json()["collections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(seen["collections"].as_array().map(Vec::len), Some(collections.len()));

    // The towns in the box, by brute force over the file.
    let (w, s, e, n) = (36.5, 35.8, 36.8, 36.0);
    let mut towns: Vec<u64> = features("towns.geojson")
        .iter()
        .filter(|f| {
            let (lon, lat) = point(f);
            (w..=e).contains(&lon) && (s..=n).contains(&lat)
        })
        .map(|f| f["properties"]["geonameid"].as_u64().expect("geonameid"))
        .collect();
    towns.sort_unstable();
    assert!(!towns.is_empty());
    assert_eq!(seen["towns_in_bbox"], serde_json::json!(towns));
    assert_eq!(seen["towns_matched"], towns.len());

    let day = get_url(&format!("{base}/collections/events/items?datetime=2020-02-18&limit=10000")).json();
    let mut ids: Vec<&str> =
        day["features"].as_array().expect("features").iter().filter_map(|f| f["id"].as_str()).collect();
    ids.sort_unstable();
    assert!(!ids.is_empty(), "events on 2020-02-18");
    assert_eq!(seen["events_on_day"], serde_json::json!(ids));

    let q = seen["queryables_towns"].as_array().expect("towns queryables");
    for key in features("towns.geojson")[0]["properties"].as_object().expect("properties").keys() {
        assert!(q.iter().any(|k| k == key), "towns queryables lack {key}");
    }
    let q = seen["queryables_events"].as_array().expect("events queryables");
    assert!(["kind", "time", "title", "geometry"].iter().all(|k| q.iter().any(|x| x == k)), "{q:?}");
}

/// Regression (issue 12, item 7): GDAL printed `ERROR 1: HTTP error code : 404` before every
/// spatially filtered read (it looks for the API definition first). Now it reads with no
/// error, and the features it reads in the box are the file's.
#[test]
fn gdal_printed_a_404_error_before_every_spatially_filtered_read() {
    if !available("GDAL (ogrinfo)", Command::new("ogrinfo").arg("--version")) {
        return;
    }
    let source = format!("OAPIF:{}", quiet_server());
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al", "-spat", "36.5", "35.8", "36.8", "36.0", &source, "towns"])
        .env("CPL_DEBUG", "OFF")
        .output()
        .expect("ogrinfo runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("ERROR") && !stdout.contains("ERROR"), "GDAL printed an error:\n{stderr}");
    let read = stdout.matches("OGRFeature(towns)").count();
    let expected = features("towns.geojson")
        .iter()
        .filter(|f| {
            let (lon, lat) = point(f);
            (36.5..=36.8).contains(&lon) && (35.8..=36.0).contains(&lat)
        })
        .count();
    assert!(expected > 0);
    assert_eq!(read, expected, "{stdout}");
}
