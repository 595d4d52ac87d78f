//! Issue 12, item 2(a): two servers on one data directory silently lost writes, each serving
//! its own history. A server now holds an exclusive lock on its data directory for its whole
//! life: a second `tessera serve` on it exits non-zero at once, with one line naming the
//! directory and the first server; `tessera import` refuses to write behind a running server;
//! and the lock goes with the process, however it ends.

use std::io::Read;
use std::path::Path;

use serde_json::json;

use crate::cli::{run, scratch, tessera};
use crate::cli_serve::{Running, serve_events};
use crate::common::{get_url, request};
use crate::events_api::event;

const TOKEN: &str = "data-dir-lock-token-0123";
const SEEDED: &str = "2020-02-18-termanin-air-raids";

/// Waits for a process that is expected to end by itself (its stdout has closed), and returns
/// its exit status and stderr.
fn ended(mut p: Running) -> (std::process::ExitStatus, String) {
    let status = p.child.wait().expect("wait");
    let mut stderr = String::new();
    p.child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    (status, stderr)
}

/// A PATCH of the seeded event through `base`, with If-Match as the server gives it now.
fn patch(base: &str, properties: serde_json::Value) -> crate::common::Reply {
    let item = format!("{base}/collections/events/items/{SEEDED}");
    let read = get_url(&item);
    let auth = format!("Bearer {TOKEN}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/merge-patch+json"),
        ("If-Match", read.header("etag")),
    ];
    request("PATCH", &item, &headers, json!({ "properties": properties }).to_string().as_bytes())
}

fn second_server(data: &Path) -> Running {
    let mut cmd = tessera();
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_DATA", data).env("TESSERA_WRITE_TOKEN", TOKEN);
    // At the default log level: the refusal must still be the only line.
    cmd.env("RUST_LOG", "info");
    Running::start(&mut cmd)
}

#[test]
fn a_second_server_on_one_data_directory_exits_at_once_naming_the_first() {
    let data = scratch(&format!("lock-two-servers-{}", std::process::id()));
    let (mut first, base) = serve_events(&data, TOKEN, "warn");
    let first_pid = first.child.id();

    let mut second = second_server(&data);
    // `url` reads the second server's stdout until it announces an address or ends.
    if let Some(url) = second.url() {
        panic!("a second server started on {} and serves at {url}", data.display());
    }
    let (status, stderr) = ended(second);
    assert!(!status.success(), "{status}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line on stderr:\n{stderr}");
    for needed in [data.display().to_string(), format!("pid {first_pid}"), "tessera serve".into(), "in use".into()] {
        assert!(stderr.contains(&needed), "stderr does not say {needed:?}: {stderr}");
    }

    // The first keeps serving, and writing.
    let reply = patch(&base, json!({"injured": 7}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(get_url(&format!("{base}/health")).json()["status"], "ok");

    // The lock goes with the process, even one killed outright.
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");
    let (_next, base) = serve_events(&data, TOKEN, "warn");
    let reply = get_url(&format!("{base}/collections/events/items/{SEEDED}"));
    assert_eq!(reply.json()["properties"]["injured"], 7, "the next server on the directory has the first one's write");
}

#[test]
fn import_while_a_server_holds_the_directory_is_refused_and_stores_nothing() {
    let dir = scratch(&format!("lock-import-{}", std::process::id()));
    let data = dir.join("data");
    let file = dir.join("events.geojson");
    let fc = json!({"type": "FeatureCollection", "features": [event("imported-behind", (-25.0, -45.0))]});
    std::fs::write(&file, fc.to_string()).expect("write");
    let (mut server, base) = serve_events(&data, TOKEN, "warn");

    let (out, stderr) = run(tessera().arg("import").arg(&file).arg("--data").arg(&data));
    assert!(!out.status.success(), "import ran beside the server: {}", String::from_utf8_lossy(&out.stdout));
    for needed in [format!("pid {}", server.child.id()), "tessera serve".into(), "/collections/events/items".into()] {
        assert!(stderr.contains(&needed), "stderr does not say {needed:?}: {stderr}");
    }
    let listed = get_url(&format!("{base}/collections/events/items/imported-behind"));
    listed.assert_error(404, "not_found");
    let db = rusqlite::Connection::open(data.join(tessera::events::DB_FILE)).expect("database");
    let rows: i64 =
        db.query_row("SELECT count(*) FROM events WHERE id = 'imported-behind'", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 0, "the refused import wrote to the database");
    drop(db);

    // Once the server has stopped, the import goes through.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let (out, stderr) = run(tessera().arg("import").arg(&file).arg("--data").arg(&data));
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 event(s)"));
}
