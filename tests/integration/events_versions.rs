//! Issue 12, item 2(b): the version check of every write is made inside the database
//! transaction, so that no write can replace a version it did not read, whatever the number of
//! processes. A second SQLite connection plays the other process: it changes an event behind
//! the store's back, as a second server on the same database did (the data directory's lock
//! keeps a second tessera out, not a plain SQLite client).

use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use tessera::events::{DB_FILE, EventInput, EventStore, Expect, SqliteStore, StoreError};

use crate::common::{bearer, request, scratch_dir, settings, start_server};
use crate::events_api::event;

/// Changes the event the way another process's PATCH would: new properties, version + 1.
fn patch_behind_the_store(dir: &Path, id: &str, key: &str, value: i64) {
    let db = Connection::open(dir.join(DB_FILE)).expect("a second connection");
    let (feature, version): (String, i64) = db
        .query_row("SELECT feature, version FROM events WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the row");
    let mut feature: Value = serde_json::from_str(&feature).expect("a stored feature");
    feature["properties"][key] = json!(value);
    let changed = db
        .execute(
            "UPDATE events SET feature = ?2, version = ?3 WHERE id = ?1",
            params![id, feature.to_string(), version + 1],
        )
        .expect("update");
    assert_eq!(changed, 1);
}

/// The version and properties the database holds.
fn in_database(dir: &Path, id: &str) -> Option<(i64, Value)> {
    let db = Connection::open(dir.join(DB_FILE)).expect("a second connection");
    db.query_row("SELECT version, feature FROM events WHERE id = ?1", [id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })
    .ok()
    .map(|(v, f)| (v, serde_json::from_str::<Value>(&f).expect("feature")["properties"].clone()))
}

fn input(id: &str, change: impl FnOnce(&mut Value)) -> EventInput {
    let mut feature = event(id, (-20.0, -45.0));
    change(&mut feature);
    EventInput::from_feature(&feature, "").expect("a valid event")
}

#[test]
fn a_store_write_expecting_a_version_the_database_no_longer_holds_is_stale_and_changes_nothing() {
    let dir = scratch_dir("versions-store");
    let store = SqliteStore::open(&dir).expect("store");
    store.insert(vec![input("behind", |_| ())]).expect("insert");
    patch_behind_the_store(&dir, "behind", "injured", 7);

    // The store's index still says version 1; the database holds version 2.
    let put = store.replace("behind", input("behind", |f| f["properties"]["killed"] = json!(30)), Expect::Version(1));
    match put {
        Err(StoreError::Stale { current, .. }) => assert_eq!(current, "\"behind-v2\""),
        other => panic!("a replace of version 1 went through: {other:?}"),
    }
    let delete = store.delete("behind", Expect::Version(1));
    assert!(matches!(delete, Err(StoreError::Stale { .. })), "a delete of version 1 went through: {delete:?}");
    let (version, properties) = in_database(&dir, "behind").expect("still stored");
    assert_eq!((version, &properties["injured"], &properties["killed"]), (2, &json!(7), &json!(3)), "{properties}");
    // The store now reads what the database holds, so a client reading again can merge.
    let seen = store.get("behind").expect("indexed");
    assert_eq!((seen.version, seen.input.injured), (2, Some(7)));

    // With the version the database holds, the write goes through and builds on it.
    let e = store.replace("behind", input("behind", |f| f["properties"]["killed"] = json!(30)), Expect::Version(2));
    assert_eq!(e.expect("version 2 is current").version, 3);
    patch_behind_the_store(&dir, "behind", "displaced", 100);
    let any = store.replace("behind", input("behind", |f| f["properties"]["killed"] = json!(31)), Expect::Any);
    assert_eq!(any.expect("If-Match: * takes any version").version, 5, "version 4 was written behind the store");
    assert_eq!(in_database(&dir, "behind").expect("stored").0, 5);
    store.delete("behind", Expect::Version(5)).expect("the current version deletes");
    assert_eq!(in_database(&dir, "behind"), None);
}

#[test]
fn a_patch_over_http_never_replaces_a_version_its_server_did_not_read() {
    let dir = scratch_dir("versions-http");
    let base = start_server(settings(), &dir);
    let id = "2020-02-18-termanin-air-raids";
    let item = format!("{base}/collections/events/items/{id}");
    let read = request("GET", &item, &[], b"");
    let etag = read.header("etag").to_owned();
    assert_eq!(etag, format!("\"{id}-v1\""));

    // Another writer's change, straight into the database.
    patch_behind_the_store(&dir, id, "injured", 7);
    let auth = bearer();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/merge-patch+json"),
        ("If-Match", etag.as_str()),
    ];
    let reply = request("PATCH", &item, &headers, json!({"properties": {"killed": 3}}).to_string().as_bytes());
    let description = reply.assert_error(412, "precondition_failed");
    assert!(description.contains(&format!("{id}-v2")), "{description}");
    let (version, properties) = in_database(&dir, id).expect("stored");
    assert_eq!((version, &properties["injured"]), (2, &json!(7)), "the other writer's change is kept");
    assert_ne!(properties["killed"], json!(3), "{properties}");
    // Read again: the server gives what the database holds, and the merge goes through.
    let again = request("GET", &item, &[], b"");
    assert_eq!(
        (again.header("etag"), &again.json()["properties"]["injured"]),
        (format!("\"{id}-v2\"").as_str(), &json!(7))
    );
    let headers = [headers[0], headers[1], ("If-Match", again.header("etag"))];
    let reply = request("PATCH", &item, &headers, json!({"properties": {"killed": 3}}).to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (version, properties) = in_database(&dir, id).expect("stored");
    assert_eq!((version, &properties["injured"], &properties["killed"]), (3, &json!(7), &json!(3)));
}
