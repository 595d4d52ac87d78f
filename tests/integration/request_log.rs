//! The log an operator reads, from the real binary: one line per request with its method, path,
//! route, status, bytes, time, cache hit or miss and request id (also sent as `X-Request-Id`),
//! readable or JSON; never the token nor a write's query string; what was loaded and the
//! limits at start-up; `SIGHUP` reloads; `/metrics` on an address of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{broken_files, scratch, tessera};
use crate::cli_serve::Running;
use crate::common::{geodata, get_url, request};

const TOKEN: &str = "log-test-token-0123456789abcdef";

/// Waits (bounded) until the log file holds a line containing every one of `needles`.
fn log_line(log: &Path, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return line.to_owned();
        }
        assert!(Instant::now() < deadline, "no log line with {needles:?} in:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `key=value` of a readable log line (values without spaces).
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let at = line.find(&format!(" {key}=")).map(|i| i + key.len() + 2).unwrap_or_else(|| panic!("no {key} in {line}"));
    line[at..].split(' ').next().unwrap_or("")
}

fn serve(name: &str, extra: &[&str]) -> (Running, String, std::path::PathBuf) {
    let dir = scratch(name);
    let log = dir.join("server.log");
    let mut cmd = tessera();
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("TESSERA_WRITE_TOKEN", TOKEN)
        .env("RUST_LOG", "info");
    let mut server = Running::start_logged(&mut cmd, &log);
    let base = server.url().expect("the server announces its URL");
    (server, base, log)
}

#[test]
fn each_request_is_logged_once_with_its_id_and_never_the_token_or_a_writes_query() {
    let (_server, base, log) = serve("log-text", &[]);
    // Start-up: what was loaded, from where, and the limits in force.
    let loaded = log_line(&log, &["serving geodata", "layers=13"]);
    assert!(loaded.contains("built-in"), "{loaded}");
    let limits = log_line(&log, &["limits in force"]);
    for key in ["max_concurrent_requests=256", "max_connections=1000", "request_timeout_secs=30", "cache_mb=256"] {
        assert!(limits.contains(key), "{key}: {limits}");
    }

    let miss = get_url(&format!("{base}/tiles/9/308/201.png?lang=ar"));
    let hit = get_url(&format!("{base}/tiles/9/308/201.png?lang=ar"));
    assert_eq!((miss.status, hit.status), (200, 200));
    let (miss_id, hit_id) = (miss.header("x-request-id"), hit.header("x-request-id"));
    assert_eq!(miss_id.len(), 16, "{miss_id}");
    assert_ne!(miss_id, hit_id);
    for (reply, id, cache) in [(&miss, miss_id, "miss"), (&hit, hit_id, "hit")] {
        let line = log_line(&log, &["tessera::access", &format!("request_id={id}")]);
        assert_eq!(field(&line, "method"), "GET", "{line}");
        assert_eq!(field(&line, "path"), "/tiles/9/308/201.png?lang=ar", "{line}");
        assert_eq!(field(&line, "route"), "/tiles/{z}/{x}/{file}", "{line}");
        assert_eq!(field(&line, "status"), "200", "{line}");
        assert_eq!(field(&line, "bytes"), reply.body.len().to_string(), "{line}");
        assert_eq!(field(&line, "cache"), cache, "{line}");
        let ms: f64 = field(&line, "duration_ms").parse().expect("a duration");
        assert!(ms > 0.0, "{line}");
    }

    // A write with the token and a query string: the line has neither; an id the client sent is
    // kept.
    let auth = format!("Bearer {TOKEN}");
    let headers =
        [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json"), ("X-Request-Id", "desk-edit-42")];
    let body = r#"{"type": "Feature", "id": "log-termanin", "geometry": {"type": "Point", "coordinates": [36.817, 36.233]},
        "properties": {"time": "2020-02-18", "kind": "airstrike", "title": "Air strike on Termanin", "location_precision": "town"}}"#;
    let url = format!("{base}/collections/events/items?note=private-words");
    let created = request("POST", &url, &headers, body.as_bytes());
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("x-request-id"), "desk-edit-42");
    let line = log_line(&log, &["tessera::access", "request_id=desk-edit-42"]);
    assert_eq!(field(&line, "path"), "/collections/events/items", "{line}");
    assert_eq!(field(&line, "status"), "201", "{line}");
    assert_eq!(field(&line, "cache"), "-", "{line}");
    // A refused request is logged too, with no route.
    assert_eq!(get_url(&format!("{base}/nothing-here")).status, 404);
    let line = log_line(&log, &["tessera::access", "path=/nothing-here"]);
    assert_eq!(field(&line, "route"), "unrouted", "{line}");

    let text = std::fs::read_to_string(&log).expect("the log");
    assert!(!text.contains(TOKEN), "the token is in the log");
    assert!(!text.contains("private-words"), "a write's query string is in the log");
    let lines = text.lines().filter(|l| l.contains("tessera::access") && l.contains(&format!("request_id={miss_id}")));
    assert_eq!(lines.count(), 1, "one line per request");
}

#[test]
fn json_logs_are_one_object_a_line_with_the_same_fields() {
    let (_server, base, log) = serve("log-json", &["--log-format", "json"]);
    let reply = get_url(&format!("{base}/tiles/8/154/100.mvt"));
    assert!(matches!(reply.status, 200 | 204));
    let id = reply.header("x-request-id");
    log_line(&log, &[id]);
    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let access = lines.iter().find(|l| l["request_id"] == id).expect("the request's line");
    assert_eq!(access["target"], "tessera::access");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["route"], "/tiles/{z}/{x}/{file}");
    assert_eq!(access["status"].as_u64(), Some(u64::from(reply.status)));
    assert_eq!(access["bytes"].as_u64(), Some(reply.body.len() as u64));
    assert_eq!(access["cache"], "miss");
    assert!(access["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{access}");
    let limits = lines.iter().find(|l| l["message"] == "limits in force").expect("the limits");
    assert_eq!(limits["max_concurrent_requests"], 256);
}

#[test]
fn sighup_reloads_the_geodata_and_metrics_have_an_address_of_their_own() {
    // One layer file in a subdirectory, which file notifications do not cover: SIGHUP does.
    let data = scratch("sighup-geodata");
    std::fs::create_dir_all(data.join("more")).expect("mkdir");
    std::fs::copy(geodata().join("report-places.geojson"), data.join("more/places.geojson")).expect("copy");
    std::fs::write(data.join("layers.toml"), "[[layers]]\nid = \"places\"\nfile = \"more/places.geojson\"\n")
        .expect("manifest");
    let dir = data.display().to_string();
    let (mut server, base, log) = serve("sighup", &["--geodata", &dir, "--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.url().expect("the metrics address is announced");
    assert!(metrics.ends_with("/metrics"), "{metrics}");
    assert!(get_url(&metrics).text().contains("tessera_geodata_reloads_total"));
    get_url(&format!("{base}/metrics")).assert_error(404, "not_found");

    let count = || get_url(&format!("{base}/collections/places/items")).json()["numberMatched"].as_u64();
    assert_eq!(count(), Some(10));
    let pid = server.child.id().to_string();
    let hangup = || assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());

    // A bad coordinate: the log names the file, the feature and the reason, and the places stay.
    let (_, bad, _) = broken_files().into_iter().find(|(name, ..)| *name == "latitude.geojson").expect("the case");
    std::fs::write(data.join("more/places.geojson"), bad).expect("save");
    hangup();
    let failed = log_line(&log, &["geodata reload failed", "more/places.geojson"]);
    assert!(failed.contains("ERROR"), "{failed}");
    assert_eq!(field(&failed, "feature"), "1", "{failed}");
    assert_eq!(field(&failed, "feature_id"), "\"north\"", "{failed}");
    assert!(failed.contains("out of range"), "{failed}");
    assert_eq!(count(), Some(10), "the last good data is served");
    let health = get_url(&format!("{base}/health")).json();
    assert_eq!(health["geodata"]["error"]["feature_id"], "north", "{health}");
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(geodata().join("report-places.geojson")).expect("read")).expect("JSON");
    doc["features"].as_array_mut().expect("features").retain(|f| f["id"] != "idlib");
    std::fs::write(data.join("more/places.geojson"), serde_json::to_vec(&doc).expect("JSON")).expect("save");
    hangup();
    log_line(&log, &["reloading the geodata", "SIGHUP"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() != Some(9) {
        assert!(Instant::now() < deadline, "the reload did not show");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = get_url(&metrics).text();
    assert!(text.contains("tessera_geodata_reloads_total{outcome=\"ok\"} 1"), "{text}");
    assert!(text.contains("tessera_geodata_reloads_total{outcome=\"failed\"} 1"), "{text}");
    assert!(server.child.try_wait().expect("wait").is_none(), "SIGHUP ended the server");
}

#[test]
fn sighup_leaves_the_built_in_data_set_served() {
    let (mut server, base, log) = serve("sighup-built-in", &[]);
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
    log_line(&log, &["built-in data set never changes"]);
    assert_eq!(get_url(&format!("{base}/health")).status, 200);
    assert!(server.child.try_wait().expect("wait").is_none(), "SIGHUP ended the server");
}
