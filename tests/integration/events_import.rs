//! `tessera import`: takes the valid events of a file, refuses the others naming the feature and
//! the field, exits non-zero when it refused any, and never stores an id twice.

use serde_json::json;
use tessera::events::{EventStore, SqliteStore};

use crate::cli::{run, scratch, tessera};
use crate::events_api::event;

#[test]
fn import_takes_the_good_events_and_names_what_it_refused() {
    let dir = scratch(&format!("import-{}", std::process::id()));
    let data = dir.join("data");
    let mut features = vec![
        event("import-good-0", (10.0, 10.0)),
        event("import-good-1", (10.1, 10.0)),
        event("import-bad-2", (10.2, 10.0)),
        event("import-good-3", (10.3, 10.0)),
        event("import-bad-4", (10.4, 10.0)),
    ];
    features[2]["geometry"]["coordinates"] = json!([10.2, 95.0]);
    features[4]["properties"]["killed"] = json!(-1);
    let file = dir.join("events.geojson");
    std::fs::write(&file, json!({ "type": "FeatureCollection", "features": features }).to_string()).expect("write");

    let (out, stderr) = run(tessera().arg("import").arg(&file).arg("--data").arg(&data));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("2 event(s) refused"), "{stderr}");
    let l2 = line_with(&stdout, "feature 2");
    assert!(l2.contains("import-bad-2") && l2.contains("geometry.coordinates") && l2.contains("95"), "{stdout}");
    let l4 = line_with(&stdout, "feature 4");
    assert!(l4.contains("import-bad-4") && l4.contains("properties.killed"), "{stdout}");
    for good in [0, 1, 3] {
        assert!(!stdout.contains(&format!("feature {good}")), "feature {good} refused: {stdout}");
    }
    assert!(stdout.contains("imported 3 event(s), refused 2"), "{stdout}");

    {
        let store = SqliteStore::open(&data).expect("the store opens");
        assert_eq!(store.len(), 3, "the good ones only, and no seed events");
        for id in ["import-good-0", "import-good-1", "import-good-3"] {
            let e = store.get(id).unwrap_or_else(|| panic!("{id} is stored"));
            assert_eq!(e.input.killed, Some(3));
        }
    }

    let (again, _) = run(tessera().arg("import").arg(&file).arg("--data").arg(&data));
    let stdout = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(!again.status.success());
    for id in ["import-good-0", "import-good-1", "import-good-3"] {
        assert!(line_with(&stdout, id).contains("already stored"), "{id}: {stdout}");
    }
    assert!(stdout.contains("imported 0 event(s), refused 5"), "{stdout}");
    assert_eq!(SqliteStore::open(&data).expect("the store opens").len(), 3);
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines().find(|l| l.contains(needle)).unwrap_or("")
}

/// Issue 12, item 12: the seed events cited `geodata-sources/REPORT.txt`, a path that does not
/// exist in the repository; every file a seed event cites must be where it says.
#[test]
fn the_seed_events_cite_the_report_where_it_is() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(crate::common::geodata().join("events-feb-2020.geojson")).expect("seed file");
    let seed: serde_json::Value = serde_json::from_str(&text).expect("seed JSON");
    let mut cited = 0;
    for f in seed["features"].as_array().expect("features") {
        for source in f["properties"]["sources"].as_array().into_iter().flatten() {
            let source = source.as_str().expect("a source is text");
            for word in source.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ';') {
                if word.contains('/') && !word.contains("://") && word.contains('.') {
                    cited += 1;
                    assert!(
                        repo.join(word).is_file(),
                        "event {} cites {word}, which is not in the repository",
                        f["id"]
                    );
                }
            }
        }
    }
    assert!(cited > 0, "the events cite the report's full text by its path");
}
