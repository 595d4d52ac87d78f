//! Faults of the disk under the event store, on real file systems: a size-limited tmpfs that
//! fills up, and a read-only mount. The real binary serves on them; its writes answer 503
//! `storage_unavailable` naming the fault and store nothing, its reads keep working, nothing it
//! acknowledged is lost, and writes resume once the disk has room again.
//!
//! Mounting needs CAP_SYS_ADMIN (root, as `.ci/run` is). Without it these tests say so on stderr
//! and pass, unless `TESSERA_REQUIRE_MOUNTS=1` (set by `.ci/run`) makes that a failure.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::cli::scratch;
use crate::cli_serve::{Running, serve_events};
use crate::common::{decode_png, get_url, metric_at, request};
use crate::events_api::event;

const TOKEN: &str = "storage-faults-token";
const SEEDED: &str = "2020-02-18-termanin-air-raids";

/// A tmpfs mounted for one test; unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// A tmpfs of `size` at a fresh directory; `None` when this process may not mount.
    fn tmpfs(name: &str, size: &str) -> Option<Self> {
        let dir = scratch(&format!("{name}-{}", std::process::id()));
        let ok = mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], &dir);
        if !ok {
            assert!(
                std::env::var_os("TESSERA_REQUIRE_MOUNTS").is_none_or(|v| v != "1"),
                "cannot mount a tmpfs, and TESSERA_REQUIRE_MOUNTS=1"
            );
            eprintln!("storage_faults: SKIPPED, this process cannot mount a tmpfs (run as root to test disk faults)");
            return None;
        }
        Some(Self { dir })
    }

    /// Remounts read-only (`true`) or read-write.
    fn set_read_only(&self, read_only: bool) {
        let opts = if read_only { "remount,ro" } else { "remount,rw" };
        assert!(mount(&["-o", opts], &self.dir), "remount {opts}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn mount(args: &[&str], dir: &Path) -> bool {
    Command::new("mount").args(args).arg(dir).output().is_ok_and(|o| o.status.success())
}

fn start(data: &Path) -> (Running, String) {
    serve_events(data, TOKEN, "warn")
}

/// Kills the server and returns what it logged.
fn stop(mut server: Running) -> String {
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let mut log = String::new();
    if let Some(mut e) = server.child.stderr.take() {
        e.read_to_string(&mut log).expect("stderr");
    }
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    log
}

fn write(base: &str, method: &str, path: &str, body: &[u8]) -> crate::common::Reply {
    let auth = format!("Bearer {TOKEN}");
    let content_type = if method == "PATCH" { "application/merge-patch+json" } else { "application/geo+json" };
    let headers = [("Authorization", auth.as_str()), ("Content-Type", content_type), ("If-Match", "*")];
    request(method, &format!("{base}{path}"), &headers, body)
}

/// An event with a long description, so that each write takes a few pages of the database.
fn big_event(id: &str, i: usize) -> Value {
    let mut e = event(id, (36.6 + (i % 50) as f64 * 0.01, 36.0 + (i / 50 % 20) as f64 * 0.01));
    e["properties"]["description"] = Value::String(format!("{id} ").repeat(300));
    e
}

/// Checks a refused write: 503, `storage_unavailable`, a description that names the fault,
/// `Retry-After`, and no internal detail.
fn assert_refused(reply: &crate::common::Reply, names: &[&str]) {
    let description = reply.assert_error(503, "storage_unavailable");
    for word in names {
        assert!(description.contains(word), "'{description}' does not say '{word}'");
    }
    assert!(description.contains("reads keep working"), "{description}");
    for leak in ["sqlite", "SQLITE", "os error", "/", ".rs"] {
        assert!(!description.contains(leak), "'{description}' leaks '{leak}'");
    }
    assert_eq!(reply.header("retry-after"), "30");
}

/// What a reader sees: the listed event ids, after checking that the health check, a base
/// tile and an overlay tile all answer.
fn reads_work(base: &str) -> BTreeSet<String> {
    let health = get_url(&format!("{base}/health"));
    assert_eq!(health.json()["status"], "ok");
    for path in ["/tiles/8/154/100.png", "/overlays/events/8/154/100.png"] {
        let tile = get_url(&format!("{base}{path}"));
        assert_eq!(tile.status, 200, "{path}");
        assert_eq!(decode_png(&tile.body).width, 256, "{path}");
    }
    let items = get_url(&format!("{base}/collections/events/items?limit=10000")).json();
    items["features"].as_array().expect("features").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect()
}

/// The event ids in the database file, after checking its integrity.
fn stored(data: &Path) -> BTreeSet<String> {
    let db = rusqlite::Connection::open(data.join(tessera::events::DB_FILE)).expect("open the database");
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
    let mut rows = db.prepare("SELECT id FROM events").expect("select");
    rows.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("ids")
}

/// Fills the file system under `dir` to the last byte it takes.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    for chunk in [1 << 16, 1 << 12, 1 << 9, 1] {
        while f.write_all(&vec![7u8; chunk]).and_then(|()| f.flush()).is_ok() {}
    }
    path
}

#[test]
fn a_full_disk_refuses_writes_with_503_keeps_reads_and_loses_nothing() {
    let Some(disk) = Mount::tmpfs("disk-full", "6m") else { return };
    let (server, base) = start(&disk.dir);
    assert!(reads_work(&base).contains(SEEDED), "the seed is imported");
    let reply = write(&base, "POST", "/collections/events/items", big_event("before-full", 0).to_string().as_bytes());
    assert_eq!(reply.status, 201, "{}", reply.text());
    let mut acked = BTreeSet::from(["before-full".to_owned()]);

    let filler = fill(&disk.dir);
    // SQLite may still have room in its write-ahead log; write until the disk says no.
    let mut refused = None;
    for i in 1..2000 {
        let id = format!("full-{i:04}");
        let reply = write(&base, "POST", "/collections/events/items", big_event(&id, i).to_string().as_bytes());
        match reply.status {
            201 => {
                acked.insert(id);
            }
            _ => {
                assert_refused(&reply, &["disk", "full"]);
                refused = Some(id);
                break;
            }
        }
    }
    let refused = refused.expect("a write was refused once the disk was full");
    // Every kind of write is refused alike, and changes nothing.
    let batch = serde_json::json!({"type": "FeatureCollection", "features": [big_event("full-batch", 1)]});
    assert_refused(&write(&base, "POST", "/collections/events/items", batch.to_string().as_bytes()), &["full"]);
    let put = big_event("before-full", 7).to_string();
    assert_refused(&write(&base, "PUT", "/collections/events/items/before-full", put.as_bytes()), &["full"]);
    let path = format!("/collections/events/items/{SEEDED}");
    assert_refused(&write(&base, "DELETE", &path, b""), &["full"]);
    let listed = reads_work(&base);
    assert!(listed.is_superset(&acked), "an acknowledged event is not listed");
    assert!(listed.contains(SEEDED), "the refused delete removed the event");
    assert!(!listed.contains(&refused) && !listed.contains("full-batch"), "a refused event is listed");
    // The four refused writes are counted, by outcome and by the store's fault.
    assert_eq!(metric_at(&base, "tessera_event_writes_total", &[("outcome", "unavailable")]), 4.0);
    assert_eq!(metric_at(&base, "tessera_event_store_errors_total", &[("cause", "full")]), 4.0);
    assert_eq!(metric_at(&base, "tessera_event_store_errors_total", &[]), 4.0, "another cause was counted");
    let kept = get_url(&format!("{base}/collections/events/items/before-full")).json();
    assert_eq!(kept["geometry"], big_event("before-full", 0)["geometry"], "the refused PUT changed the event");

    // Room again: the very next write goes through.
    std::fs::remove_file(filler).expect("free the disk");
    let reply = write(&base, "POST", "/collections/events/items", big_event(&refused, 3).to_string().as_bytes());
    assert_eq!(reply.status, 201, "after space was freed: {}", reply.text());
    acked.insert(refused);

    let log = stop(server);
    assert!(log.contains("full"), "the log does not say the disk was full:\n{log}");
    let in_db = stored(&disk.dir);
    let lost: Vec<_> = acked.difference(&in_db).collect();
    assert!(lost.is_empty(), "acknowledged events lost: {lost:?}");
    assert!(!in_db.contains("full-batch"));
    let (_server, base) = start(&disk.dir);
    assert!(reads_work(&base).is_superset(&acked), "after the restart");
}

#[test]
fn a_read_only_data_directory_serves_its_events_and_refuses_writes() {
    let Some(disk) = Mount::tmpfs("read-only", "16m") else { return };
    let (server, base) = start(&disk.dir);
    let body = big_event("written", 1).to_string();
    assert_eq!(write(&base, "POST", "/collections/events/items", body.as_bytes()).status, 201);
    let path = format!("/collections/events/items/{SEEDED}");
    assert_eq!(write(&base, "DELETE", &path, b"").status, 204);
    let before = reads_work(&base);
    // Killed: the last writes are still in the write-ahead log, which must be read, not lost.
    stop(server);
    assert!(disk.dir.join(format!("{}-wal", tessera::events::DB_FILE)).exists(), "the kill left the log");

    for case in ["after SIGKILL", "after a clean stop"] {
        disk.set_read_only(true);
        let (server, base) = start(&disk.dir);
        let health = get_url(&format!("{base}/health")).json();
        assert_eq!(health["events_read_only"], true, "{case}");
        assert_eq!(reads_work(&base), before, "{case}: the events served differ");
        let body = big_event("refused", 2).to_string();
        assert_refused(&write(&base, "POST", "/collections/events/items", body.as_bytes()), &["read-only"]);
        let put = big_event("written", 9).to_string();
        assert_refused(&write(&base, "PUT", "/collections/events/items/written", put.as_bytes()), &["read-only"]);
        let patch = br#"{"properties": {"killed": 1}}"#;
        assert_refused(&write(&base, "PATCH", "/collections/events/items/written", patch), &["read-only"]);
        assert_refused(&write(&base, "DELETE", "/collections/events/items/written", b""), &["read-only"]);
        assert_eq!(reads_work(&base), before, "{case}: a refused write changed what is served");
        let errors = [("cause", "read_only")];
        assert_eq!(metric_at(&base, "tessera_event_store_errors_total", &errors), 4.0, "{case}");
        assert_eq!(metric_at(&base, "tessera_event_writes_total", &[("outcome", "unavailable")]), 4.0, "{case}");
        let log = stop(server);
        assert!(log.contains("read-only"), "{case}: the log does not say so:\n{log}");

        // A clean stop on a writable disk folds the log into the database and removes it.
        disk.set_read_only(false);
        let (server, _) = start(&disk.dir);
        server_stop_cleanly(server);
    }
    assert!(!disk.dir.join(format!("{}-wal", tessera::events::DB_FILE)).exists(), "a clean stop removes the log");
    assert!(stored(&disk.dir).contains("written"));
}

#[test]
fn a_read_only_directory_without_a_database_serves_the_seed() {
    let Some(disk) = Mount::tmpfs("read-only-empty", "1m") else { return };
    disk.set_read_only(true);
    let (server, base) = start(&disk.dir);
    assert_eq!(get_url(&format!("{base}/health")).json()["events_read_only"], true);
    assert!(reads_work(&base).contains(SEEDED), "the seed events are served from memory");
    let body = big_event("refused", 2).to_string();
    assert_refused(&write(&base, "POST", "/collections/events/items", body.as_bytes()), &["read-only"]);
    stop(server);
}

/// SIGTERM, and the exit status of a clean shutdown.
fn server_stop_cleanly(mut server: Running) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "{status}");
}
