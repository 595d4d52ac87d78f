//! Several tessera servers on one PostgreSQL/PostGIS database (issue 14), each test on a
//! throwaway cluster of its own (see `pg_cluster.rs`) with real `tessera serve` processes:
//! a write on one server reaches the others' items and cached tiles; two editors racing on two
//! servers get one 200 and one 412 and both servers show the winner; a server killed with
//! SIGKILL mid-burst loses no acknowledged write; a database restart under running servers;
//! a server that missed changes catches up from the log (or reloads when the log was trimmed);
//! migrations from an empty database and from schema version 1; servers starting at once.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{scratch, tessera};
use crate::cli_serve::Running;
use crate::common::{Reply, get_url, mercator_px, request, try_request};
use crate::events_api::event;
use crate::pg_cluster::{Cluster, TOKEN, etag, eventually, serve};

/// Zoom of the overlay tiles checked.
const Z: u8 = 14;
/// Two places far from the seed events, in different tiles at zoom [`Z`].
const FIRST: (f64, f64) = (20.01, -20.01);
const MOVED: (f64, f64) = (20.3, -20.3);

fn auth() -> String {
    format!("Bearer {TOKEN}")
}

fn item(base: &str, id: &str) -> String {
    format!("{base}/collections/events/items/{id}")
}

fn post_event(base: &str, body: &Value) -> Reply {
    let auth = auth();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    request("POST", &format!("{base}/collections/events/items"), &headers, body.to_string().as_bytes())
}

fn patch(base: &str, id: &str, if_match: &str, patch: &Value) -> Reply {
    let auth = auth();
    let headers =
        [("Authorization", auth.as_str()), ("Content-Type", "application/merge-patch+json"), ("If-Match", if_match)];
    request("PATCH", &item(base, id), &headers, patch.to_string().as_bytes())
}

fn delete(base: &str, id: &str, if_match: &str) -> Reply {
    let auth = auth();
    request("DELETE", &item(base, id), &[("Authorization", auth.as_str()), ("If-Match", if_match)], b"")
}

fn health(base: &str) -> Value {
    get_url(&format!("{base}/health")).json()
}

/// The overlay tile at zoom [`Z`] holding a point, and the point's pixel in it.
fn locate((lon, lat): (f64, f64)) -> ((u32, u32), (u32, u32)) {
    let (gx, gy) = mercator_px(lon, lat, Z);
    let (tx, ty) = ((gx / 256.0).floor(), (gy / 256.0).floor());
    ((tx as u32, ty as u32), ((gx - tx * 256.0) as u32, (gy - ty * 256.0) as u32))
}

/// How opaque the overlay of a server is where a located event at a point is drawn.
fn marker_alpha(base: &str, at: (f64, f64)) -> u8 {
    // A located event's symbol hangs above its point on a leader (see `common::hanging`).
    crate::common::hanging(base, at, Z).iter().map(|p| p[3]).max().unwrap_or(0)
}

fn moved_geometry(at: (f64, f64)) -> Value {
    json!({ "geometry": { "type": "Point", "coordinates": [at.0, at.1] } })
}

#[test]
fn postgres_writes_reach_the_other_servers_items_and_cached_tiles() {
    let Some(cluster) = Cluster::start("postgres_writes_reach_the_other_servers_items_and_cached_tiles") else {
        return;
    };
    let db = cluster.url("tessera");
    let (_a, a) = serve(&cluster, &db, "a");
    let (_b, b) = serve(&cluster, &db, "b");
    assert_ne!(locate(FIRST).0, locate(MOVED).0, "two tiles");
    // B renders both tiles, empty, and caches them.
    assert_eq!(marker_alpha(&b, FIRST), 0);
    assert_eq!(marker_alpha(&b, MOVED), 0);

    let id = "shared-1";
    assert_eq!(post_event(&a, &event(id, FIRST)).status, 201);
    assert!(eventually(10, || etag(&b, id).as_deref() == Some("\"shared-1-v1\"")), "B never showed A's new event");
    assert!(marker_alpha(&b, FIRST) > 0, "B's cached tile still lacks the event A stored");
    let stored = get_url(&item(&b, id)).json();
    assert_eq!(stored, get_url(&item(&a, id)).json(), "both servers serve the same feature");

    let moved = patch(&a, id, "\"shared-1-v1\"", &moved_geometry(MOVED));
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert!(eventually(10, || etag(&b, id).as_deref() == Some("\"shared-1-v2\"")), "B never showed the move");
    assert_eq!(marker_alpha(&b, FIRST), 0, "B still draws the event where it was");
    assert!(marker_alpha(&b, MOVED) > 0, "B does not draw the event where it went");
    let near = get_url(&format!("{b}/collections/events/items?bbox=20.2,-20.4,20.4,-20.2")).json();
    assert_eq!(near["numberMatched"], 1, "{near}");

    assert_eq!(delete(&a, id, "\"shared-1-v2\"").status, 204);
    assert!(eventually(10, || etag(&b, id).is_none()), "B still serves the deleted event");
    assert_eq!(marker_alpha(&b, MOVED), 0, "B still draws the deleted event");
    assert_eq!(health(&b)["events_store"], "postgres");
}

#[test]
fn racing_patches_on_two_servers_get_one_200_and_one_412_and_both_show_the_winner() {
    let Some(cluster) = Cluster::start("racing_patches_on_two_servers") else { return };
    let db = cluster.url("tessera");
    let (_a, a) = serve(&cluster, &db, "a");
    let (_b, b) = serve(&cluster, &db, "b");
    let id = "raced";
    assert_eq!(post_event(&a, &event(id, FIRST)).status, 201);
    assert!(eventually(10, || etag(&b, id).is_some()), "B never showed the event");
    for round in 0..8u64 {
        let tag = etag(&a, id).expect("the event");
        assert!(eventually(10, || etag(&b, id).as_deref() == Some(tag.as_str())), "round {round}: B lags");
        let gate = Arc::new(Barrier::new(2));
        let editors: Vec<_> = [(a.clone(), 100 + round), (b.clone(), 200 + round)]
            .into_iter()
            .map(|(base, killed)| {
                let (gate, tag) = (Arc::clone(&gate), tag.clone());
                std::thread::spawn(move || {
                    gate.wait();
                    (patch(&base, id, &tag, &json!({ "properties": { "killed": killed } })), killed)
                })
            })
            .collect();
        let answers: Vec<(Reply, u64)> = editors.into_iter().map(|e| e.join().expect("editor")).collect();
        let mut statuses: Vec<u16> = answers.iter().map(|(r, _)| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 412],
            "round {round}: {:?}",
            answers.iter().map(|(r, _)| r.text()).collect::<Vec<_>>()
        );
        let (winner, killed) = answers.iter().find(|(r, _)| r.status == 200).expect("a winner");
        let (loser, _) = answers.iter().find(|(r, _)| r.status == 412).expect("a loser");
        loser.assert_error(412, "precondition_failed");
        let won = winner.header("etag").to_owned();
        // Each server applied the outcome before answering: no waiting here.
        for base in [&a, &b] {
            let now = get_url(&item(base, id));
            assert_eq!(now.header("etag"), won, "round {round}: {base} shows another version");
            assert_eq!(now.json()["properties"]["killed"], *killed, "round {round}: {base} shows the loser's edit");
        }
    }
    let version = cluster.psql("tessera", "SELECT version FROM events WHERE id = 'raced'");
    assert_eq!(version, "9", "one change per round");
}

const WRITERS: usize = 4;
const ENOUGH: usize = 150;

/// Posts events `w`, `w + WRITERS`, ... until the server stops answering; sends each id
/// acknowledged with 201. Returns whether the server went away under it.
fn writer(base: String, w: usize, acked: mpsc::Sender<String>) -> bool {
    let auth = auth();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    for i in (w..2000).step_by(WRITERS) {
        let id = format!("burst-{i:04}");
        let body = event(&id, (20.0 + (i % 100) as f64 * 0.01, -20.0)).to_string();
        match try_request("POST", &format!("{base}/collections/events/items"), &headers, body.as_bytes()) {
            Ok(reply) if reply.status == 201 => acked.send(id).expect("the test is listening"),
            Ok(reply) => assert!(reply.status >= 500, "{id}: {} {}", reply.status, reply.text()),
            Err(_) => return true,
        }
    }
    false
}

fn listed(base: &str) -> BTreeSet<String> {
    let body = get_url(&format!("{base}/collections/events/items?limit=10000")).json();
    body["features"].as_array().expect("features").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect()
}

#[test]
fn a_server_killed_during_a_burst_of_writes_loses_no_acknowledged_event_on_postgres() {
    let Some(cluster) = Cluster::start("sigkill_during_a_burst_on_postgres") else { return };
    let db = cluster.url("tessera");
    let (mut a, a_base) = serve(&cluster, &db, "a");
    let (_b, b) = serve(&cluster, &db, "b");
    let (tx, rx) = mpsc::channel();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (base, tx) = (a_base.clone(), tx.clone());
            std::thread::spawn(move || writer(base, w, tx))
        })
        .collect();
    drop(tx);
    let mut acked = BTreeSet::new();
    while acked.len() < ENOUGH {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(id) => {
                acked.insert(id);
            }
            Err(_) => break,
        }
    }
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("reaped");
    let cut = writers.into_iter().map(|w| w.join().expect("writer")).filter(|cut| *cut).count();
    assert!(cut > 0, "the kill came while writers were still posting");
    acked.extend(rx.try_iter());
    assert!(acked.len() >= ENOUGH, "only {} writes were acknowledged", acked.len());

    let stored: BTreeSet<String> =
        cluster.psql("tessera", "SELECT id FROM events WHERE id LIKE 'burst-%'").lines().map(str::to_owned).collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged events are not in the database: {lost:?}", lost.len());
    assert!(
        eventually(10, || listed(&b).is_superset(&acked)),
        "B does not serve every acknowledged event: missing {:?}",
        acked.difference(&listed(&b)).collect::<Vec<_>>()
    );
    let on_b = listed(&b);
    let burst_on_b: BTreeSet<&String> = on_b.iter().filter(|id| id.starts_with("burst-")).collect();
    assert_eq!(burst_on_b, stored.iter().collect(), "B serves exactly what the database holds");
    for id in acked.iter().step_by(13) {
        let reply = get_url(&item(&b, id));
        assert_eq!(reply.json()["properties"]["title"], format!("test event {id}"));
    }
}

#[test]
fn a_database_restart_under_running_servers_refuses_writes_keeps_reads_and_resumes() {
    let Some(mut cluster) = Cluster::start("database_restart_under_running_servers") else { return };
    let db = cluster.url("tessera");
    let (_a, a) = serve(&cluster, &db, "a");
    let (_b, b) = serve(&cluster, &db, "b");
    let id = "through-restart";
    assert_eq!(post_event(&a, &event(id, FIRST)).status, 201);
    assert!(eventually(10, || etag(&b, id).is_some()));

    cluster.stop();
    let refused = patch(&a, id, "*", &json!({ "properties": { "killed": 7 } }));
    let said = refused.assert_error(503, "storage_unavailable");
    assert!(said.contains("cannot be reached") && said.contains("nothing of this write was stored"), "{said}");
    assert_eq!(refused.header("retry-after"), "5");
    post_event(&b, &event("while-down", MOVED)).assert_error(503, "storage_unavailable");
    for base in [&a, &b] {
        assert_eq!(etag(base, id).as_deref(), Some("\"through-restart-v1\""), "{base} reads from memory");
        assert!(marker_alpha(base, FIRST) > 0, "{base} draws its tiles from memory");
        let h = health(base);
        assert_eq!((h["status"].as_str(), h["events"].as_u64()), (Some("ok"), Some(10)), "{h}");
    }
    assert!(eventually(10, || health(&b)["events_in_sync"] == false), "B does not say it lost the feed");

    cluster.start_again();
    let mut last = None;
    let resumed = eventually(20, || {
        let r = patch(&a, id, "*", &json!({ "properties": { "killed": 8 } }));
        let ok = r.status == 200;
        last = Some(r);
        ok
    });
    assert!(resumed, "writes did not resume: {}", last.map(|r| r.text()).unwrap_or_default());
    assert!(eventually(10, || etag(&b, id).as_deref() == Some("\"through-restart-v2\"")), "B missed A's write");
    assert_eq!(get_url(&item(&b, id)).json()["properties"]["killed"], 8);
    assert!(eventually(10, || health(&b)["events_in_sync"] == true));
    assert_eq!(post_event(&b, &event("after-restart", MOVED)).status, 201, "B writes again too");
    assert!(eventually(10, || etag(&a, "after-restart").is_some()), "A missed B's write");
}

/// Cuts server `pid`'s change feed and keeps it from reconnecting (its role may not log in);
/// its pooled connections, and the other servers', stay.
fn cut_feed(cluster: &Cluster, base: &str, pid: u32) {
    cluster.psql("tessera", "ALTER ROLE tessera NOLOGIN");
    let ended = cluster.psql(
        "tessera",
        &format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tessera feed ({pid})'"),
    );
    assert_eq!(ended, "1", "one feed connection per server");
    assert!(eventually(10, || health(base)["events_in_sync"] == false), "the server does not say it lost the feed");
}

#[test]
fn a_server_that_missed_changes_catches_up_from_the_log_or_reloads_when_it_was_trimmed() {
    let Some(cluster) = Cluster::start("a_server_that_missed_changes_catches_up") else { return };
    // An ordinary role owning the database (PostGIS installed by the superuser), so that its
    // logins can be refused.
    cluster.psql("tessera", "CREATE ROLE tessera LOGIN");
    cluster.psql("tessera", "ALTER DATABASE tessera OWNER TO tessera");
    cluster.psql("tessera", "CREATE EXTENSION postgis");
    let db = format!("postgres://tessera@127.0.0.1:{}/tessera", cluster.port);
    let (_a, a) = serve(&cluster, &db, "a");
    let (b_server, b) = serve(&cluster, &db, "b");
    let b_pid = b_server.child.id();
    assert_eq!(marker_alpha(&b, FIRST), 0, "B caches the empty tile");

    cut_feed(&cluster, &b, b_pid);
    assert_eq!(post_event(&a, &event("missed", FIRST)).status, 201);
    assert_eq!(etag(&b, "missed"), None, "B cannot have heard of it");
    cluster.psql("tessera", "ALTER ROLE tessera LOGIN");
    assert!(eventually(10, || etag(&b, "missed").is_some()), "B did not catch up after reconnecting");
    assert!(marker_alpha(&b, FIRST) > 0, "B's cached tile was not dropped when it caught up");
    assert!(eventually(10, || health(&b)["events_in_sync"] == true));

    // Again, and this time the log is trimmed past what B saw, as tessera trims it (keeping
    // none): B must reload everything.
    cut_feed(&cluster, &b, b_pid);
    assert_eq!(patch(&a, "missed", "\"missed-v1\"", &moved_geometry(MOVED)).status, 200);
    assert_eq!(post_event(&a, &event("also-missed", FIRST)).status, 201);
    assert_eq!(delete(&a, "also-missed", "*").status, 204);
    // In the tile of FIRST, far enough from it for the two markers not to overlap.
    let beside = (20.0, FIRST.1);
    assert_eq!(locate(beside).0, locate(FIRST).0);
    assert_eq!(post_event(&a, &event("missed-too", beside)).status, 201);
    cluster.psql(
        "tessera",
        "BEGIN; UPDATE event_log_floor SET seq = (SELECT max(seq) FROM event_changes); \
         DELETE FROM event_changes; COMMIT",
    );
    cluster.psql("tessera", "ALTER ROLE tessera LOGIN");
    assert!(eventually(10, || etag(&b, "missed").as_deref() == Some("\"missed-v2\"")), "B did not reload");
    assert_eq!(etag(&b, "missed-too").as_deref(), Some("\"missed-too-v1\""));
    assert_eq!(etag(&b, "also-missed"), None);
    assert_eq!(marker_alpha(&b, FIRST), 0, "B's cached tile still draws the event that moved away");
    assert!(marker_alpha(&b, beside) > 0, "B's cached tile lacks the event added");
    assert!(marker_alpha(&b, MOVED) > 0, "B does not draw the moved event where it went");
    let log = std::fs::read_to_string(cluster.logs().join("b.log")).unwrap_or_default();
    assert!(log.contains("reloading every event"), "B caught up otherwise: {log}");
}

/// Schema version 1 as it was created, before the change log.
const SCHEMA_V1: &str = "
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE TABLE events (
        id text PRIMARY KEY, feature jsonb NOT NULL,
        t_start timestamptz NOT NULL, t_end timestamptz NOT NULL,
        created timestamptz NOT NULL, updated timestamptz NOT NULL,
        version bigint NOT NULL, geom geometry(Point, 4326) NOT NULL
    );
    CREATE INDEX events_geom ON events USING gist (geom);
    CREATE INDEX events_time ON events (t_start, t_end);
    CREATE TABLE seeded (source text NOT NULL, id text NOT NULL, PRIMARY KEY (source, id));
    CREATE TABLE schema_version (version integer NOT NULL);
    INSERT INTO schema_version VALUES (1);
    INSERT INTO events VALUES ('from-v1',
        '{\"type\": \"Feature\", \"id\": \"from-v1\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [36.817, 36.233]},
          \"properties\": {\"id\": \"from-v1\", \"time\": \"2020-02-18\", \"kind\": \"airstrike\", \"title\": \"stored by schema v1\",
          \"actors\": [], \"sources\": [], \"location_precision\": \"town\",
          \"created\": \"2020-02-18T10:00:00.000Z\", \"updated\": \"2020-02-18T10:00:00.000Z\"}}',
        '2020-02-18 00:00:00Z', '2020-02-18 23:59:59Z', '2020-02-18 10:00:00Z', '2020-02-18 10:00:00Z', 1,
        ST_SetSRID(ST_MakePoint(36.817, 36.233), 4326));
";

#[test]
fn migrations_run_from_an_empty_database_and_from_schema_version_1() {
    let Some(cluster) = Cluster::start("migrations_from_empty_and_from_v1") else { return };
    cluster.createdb("old");
    cluster.psql("old", SCHEMA_V1);
    let (old_server, old) = serve(&cluster, &cluster.url("old"), "old");
    assert_eq!(cluster.psql("old", "SELECT version FROM schema_version"), "2");
    assert_eq!(
        cluster.psql("old", "SELECT kind, title FROM events WHERE id = 'from-v1'"),
        "airstrike|stored by schema v1"
    );
    let kept = get_url(&item(&old, "from-v1"));
    assert_eq!(kept.status, 200);
    assert_eq!(
        (kept.header("etag"), kept.json()["properties"]["title"].as_str()),
        ("\"from-v1-v1\"", Some("stored by schema v1"))
    );
    assert_eq!(patch(&old, "from-v1", "\"from-v1-v1\"", &json!({ "properties": { "killed": 2 } })).status, 200);
    assert_eq!(cluster.psql("old", "SELECT op FROM event_changes WHERE id = 'from-v1'"), "put");
    drop(old_server);

    let (fresh_server, fresh) = serve(&cluster, &cluster.url("tessera"), "fresh");
    assert_eq!(cluster.psql("tessera", "SELECT version FROM schema_version"), "2");
    assert_eq!(
        cluster.psql("tessera", "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'events'"),
        "POINT|4326",
        "PostGIS (and so QGIS) sees a point layer in WGS84"
    );
    let index = cluster.psql("tessera", "SELECT indexdef FROM pg_indexes WHERE indexname = 'events_geom'");
    assert!(index.contains("USING gist (geom)"), "{index}");
    assert_eq!(
        cluster.psql("tessera", "SELECT ST_AsText(geom), kind FROM events WHERE id = '2020-02-18-termanin-air-raids'"),
        "POINT(36.817 36.233)|airstrike",
        "SQL reads the seed event where the API serves it"
    );
    assert_eq!(health(&fresh)["events"], 9);
    drop(fresh_server);

    cluster.psql("tessera", "UPDATE schema_version SET version = 3");
    let log = cluster.logs().join("newer.log");
    let mut cmd = tessera();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--events-db", &cluster.url("tessera")]);
    let mut newer = Running::start_logged(&mut cmd, &log);
    assert_eq!(newer.url(), None, "a server started on a schema newer than it knows");
    assert!(!newer.child.wait().expect("exit").success());
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(said.contains("schema version 3") && said.contains("up to 2"), "{said}");
}

#[test]
fn servers_starting_at_once_migrate_and_seed_once_and_import_reaches_them() {
    let Some(cluster) = Cluster::start("servers_starting_at_once") else { return };
    let db = cluster.url("tessera");
    let mut starting: Vec<Running> = (0..3)
        .map(|i| {
            let mut cmd = tessera();
            cmd.args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_EVENTS_DB", &db);
            Running::start_logged(&mut cmd, &cluster.logs().join(format!("s{i}.log")))
        })
        .collect();
    let bases: Vec<String> = starting
        .iter_mut()
        .enumerate()
        .map(|(i, s)| {
            s.url().unwrap_or_else(|| {
                panic!(
                    "s{i}: {}",
                    std::fs::read_to_string(cluster.logs().join(format!("s{i}.log"))).unwrap_or_default()
                )
            })
        })
        .collect();
    assert_eq!(cluster.psql("tessera", "SELECT count(*), max(version) FROM schema_version"), "1|2");
    assert_eq!(cluster.psql("tessera", "SELECT count(*), count(DISTINCT id) FROM events"), "9|9", "seeded once");
    assert_eq!(cluster.psql("tessera", "SELECT count(*) FROM seeded"), "9");
    for base in &bases {
        assert!(eventually(10, || health(base)["events"] == 9), "{base}: {}", health(base));
    }

    // `tessera import --events-db` writes through the same store: the running servers hear of it.
    let dir = scratch(&format!("pg-import-{}", std::process::id()));
    let file = dir.join("more.geojson");
    let more =
        json!({ "type": "FeatureCollection", "features": [event("imported-1", FIRST), event("imported-2", MOVED)] });
    std::fs::write(&file, more.to_string()).expect("write");
    let out = tessera().arg("import").arg(&file).args(["--events-db", &db]).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 event(s), refused 0"));
    for base in &bases {
        assert!(eventually(10, || etag(base, "imported-2").is_some()), "{base} did not hear of the import");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
