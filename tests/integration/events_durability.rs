//! Durability: the real binary, killed with SIGKILL while writers are still posting, loses no
//! event it acknowledged. After the restart on the same data directory every acknowledged
//! event is there, the database passes SQLite's integrity check, the seed events are there
//! once each, and a seed event deleted before the kill stays deleted.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::scratch;
use crate::cli_serve::{Running, serve_events};
use crate::common::{features, get_url, request, try_request};
use crate::events_api::event;

const TOKEN: &str = "durability-token-42";
/// Acknowledged writes after which the server is killed.
const ENOUGH: usize = 200;
/// Writes tried at most, over all writers.
const MAX_WRITES: usize = 2000;
const WRITERS: usize = 4;
const DELETED_SEED: &str = "2020-02-17-moscow-consultations";

fn start(data: &Path) -> (Running, String) {
    serve_events(data, TOKEN, "error")
}

/// Every event id the server lists, with how many times each comes.
fn listed(base: &str) -> Vec<String> {
    let body = get_url(&format!("{base}/collections/events/items?limit=10000")).json();
    assert!(body["numberMatched"].as_u64().expect("numberMatched") < 10_000, "one page holds them all");
    body["features"].as_array().expect("features").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect()
}

/// Posts events `w`, `w + WRITERS`, ... until the server stops answering or the bound is
/// reached; sends each id acknowledged with 201. Returns whether the server went away under it.
fn writer(base: String, w: usize, acked: mpsc::Sender<String>) -> bool {
    let auth = format!("Bearer {TOKEN}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    for i in (w..MAX_WRITES).step_by(WRITERS) {
        let id = format!("durable-{i:04}");
        let body = event(&id, (20.0 + (i % 100) as f64 * 0.01, -20.0)).to_string();
        match try_request("POST", &format!("{base}/collections/events/items"), &headers, body.as_bytes()) {
            Ok(reply) if reply.status == 201 => {
                acked.send(id).expect("the test is listening");
            }
            Ok(reply) => assert!(reply.status >= 500, "{id}: {} {}", reply.status, reply.text()),
            // The server is gone: the write was not acknowledged.
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn every_acknowledged_event_survives_sigkill() {
    // Unique to this process: another run of the tests may be using the same target directory.
    let data = scratch(&format!("durability-{}", std::process::id()));
    let (mut server, base) = start(&data);
    let seed: BTreeSet<String> =
        features("events-feb-2020.geojson").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect();
    let item = |base: &str, id: &str| format!("{base}/collections/events/items/{id}");
    assert_eq!(listed(&base).into_iter().collect::<BTreeSet<_>>(), seed, "the first start imports the seed");
    let auth = format!("Bearer {TOKEN}");
    let del = request("DELETE", &item(&base, DELETED_SEED), &[("Authorization", &auth), ("If-Match", "*")], b"");
    assert_eq!(del.status, 204, "{}", del.text());

    let (tx, rx) = mpsc::channel();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (base, tx) = (base.clone(), tx.clone());
            std::thread::spawn(move || writer(base, w, tx))
        })
        .collect();
    drop(tx);
    let mut acked = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.len() < ENOUGH {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(id) => {
                acked.insert(id);
            }
            Err(_) => break,
        }
    }
    // Mid-stream: the writers are still posting.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let cut = writers.into_iter().map(|w| w.join().expect("writer")).filter(|cut| *cut).count();
    assert!(cut > 0, "the kill came while writers were still posting");
    acked.extend(rx.try_iter());
    assert!(!acked.is_empty(), "no write was acknowledged");

    let db = rusqlite::Connection::open(data.join(tessera::events::DB_FILE)).expect("open the database");
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
    let mut rows = db.prepare("SELECT id FROM events").expect("select");
    let stored: BTreeSet<String> =
        rows.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("ids");
    assert!(stored.is_superset(&acked), "an acknowledged event is not in the database");
    drop(rows);
    drop(db);

    let (_server, base) = start(&data);
    let ids = listed(&base);
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "an id is listed twice");
    let missing: Vec<&String> = acked.difference(&unique).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged events lost: {missing:?}", missing.len(), acked.len());
    for id in acked.iter().step_by(17) {
        let reply = get_url(&item(&base, id));
        assert_eq!(reply.status, 200, "{id}");
        assert_eq!(reply.json()["properties"]["title"], Value::from(format!("test event {id}")));
    }
    let seeds: Vec<&String> = ids.iter().filter(|id| seed.contains(*id)).collect();
    assert_eq!(seeds.len(), seed.len() - 1, "each seed event once, but the deleted one: {seeds:?}");
    assert!(!seeds.iter().any(|id| *id == DELETED_SEED), "the deleted seed event came back");
    get_url(&item(&base, DELETED_SEED)).assert_error(404, "not_found");
}
