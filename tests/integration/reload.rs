//! Hot reload of the geodata: a server over a copy of two layers of the default data (the
//! places of the report and the roads) in a scratch directory, edited as an operator would,
//! and watched through `/health`, the items, the tiles and the tile cache. Each test waits for
//! the change to show, polling within a bound; no test sleeps a fixed time as an assertion.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera::cache::{TileKey, TileSpec};
use tessera::http::AppState;
use tessera::render::{Scale, TileFormat};
use tessera::style::Lang;
use tessera::tile::TileCoord;

use crate::cli::broken_files;
use crate::common::{
    close, decode_png, geodata, get_url, hex, mercator_px, scratch_dir, settings_with, start_server_on,
};

/// The places' symbol colour in the test manifest.
const PLACE_FILL: &str = "#c8102e";

const MANIFEST: &str = r##"title = "reload test"
background = "#f2efe9"

[[layers]]
id = "places"
file = "places.geojson"
title = "Places"
[layers.style]
symbol = "circle"
size = 14.0
fill = "#c8102e"

[[layers]]
id = "roads"
file = "roads.geojson"
title = "Roads"
"##;

/// A server over a fresh copy of the test data set in its own scratch directory.
struct Reloading {
    base: String,
    state: AppState,
    dir: PathBuf,
}

impl Reloading {
    fn start(name: &str) -> Self {
        let dir = scratch_dir(&format!("reload-{name}"));
        std::fs::copy(geodata().join("report-places.geojson"), dir.join("places.geojson")).expect("copy places");
        std::fs::copy(geodata().join("roads.geojson"), dir.join("roads.geojson")).expect("copy roads");
        std::fs::write(dir.join("layers.toml"), MANIFEST).expect("write the manifest");
        let settings = settings_with(|c| c.data.geodata = Some(dir.clone()));
        let (base, state) = start_server_on(settings, &scratch_dir(&format!("reload-{name}-data")), &dir);
        Self { base, state, dir }
    }

    fn get(&self, path: &str) -> crate::common::Reply {
        get_url(&format!("{}{path}", self.base))
    }

    fn geodata_status(&self) -> Value {
        let health = self.get("/health");
        assert_eq!(health.status, 200);
        health.json()["geodata"].clone()
    }

    /// The ids of the places layer's features, as served.
    fn place_ids(&self) -> Vec<String> {
        let items = self.get("/collections/places/items?limit=1000");
        assert_eq!(items.status, 200, "{}", items.text());
        let body = items.json();
        body["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f["id"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

/// The places file of the repository without the features whose ids are in `dropped`.
fn places_without(dropped: &[&str]) -> Vec<u8> {
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(geodata().join("report-places.geojson")).expect("read")).expect("JSON");
    let features = doc["features"].as_array_mut().expect("features");
    features.retain(|f| !dropped.contains(&f["id"].as_str().unwrap_or("")));
    serde_json::to_vec_pretty(&doc).expect("JSON")
}

/// Polls `probe` every 50 ms until it gives a value; fails after a minute (a reload of this data
/// set takes milliseconds; a debug build on a loaded machine, far less than that).
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The place's position, from the repository's file (its source is in geodata/SOURCES.md).
fn place(id: &str) -> (f64, f64) {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(geodata().join("report-places.geojson")).expect("read")).expect("JSON");
    let f = doc["features"].as_array().expect("features").iter().find(|f| f["id"] == id).expect("the place");
    crate::common::point(f)
}

/// The raster tile at zoom `z` holding `at`, and the pixel there within it.
fn tile_and_pixel(at: (f64, f64), z: u8) -> ((u8, u32, u32), (u32, u32)) {
    let (px, py) = mercator_px(at.0, at.1, z);
    let (x, y) = ((px / 256.0) as u32, (py / 256.0) as u32);
    ((z, x, y), (px as u32 - x * 256, py as u32 - y * 256))
}

/// The key a raster tile of these layers is cached under while its layers are as first loaded.
fn first_key((z, x, y): (u8, u32, u32), layers: &[&str]) -> TileKey {
    TileKey {
        tile: TileCoord::new(u32::from(z), u64::from(x), u64::from(y)).expect("a tile"),
        spec: TileSpec::Raster {
            scale: Scale::X1,
            format: TileFormat::Png,
            layers: layers.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>().into(),
            lang: Some(Lang::En),
        },
        version: 0,
        data: 0,
    }
}

/// Runs the cache's pending invalidations, so that `contains` tells what it holds.
fn sync(state: &AppState) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    runtime.block_on(state.cache().sync());
}

/// The metric samples of `/metrics` named `name` with these labels, summed.
fn metric(server: &Reloading, name: &str, labels: &[(&str, &str)]) -> f64 {
    crate::common::metric_at(&server.base, name, labels)
}

#[test]
fn an_edit_to_a_layer_is_served_within_seconds_and_drops_only_its_tiles() {
    let server = Reloading::start("edit");
    assert_eq!(server.geodata_status()["watching"], true);
    let idlib = place("idlib");
    let (tile, (px, py)) = tile_and_pixel(idlib, 10);
    let path = |layers: &str| format!("/tiles/{}/{}/{}.png?layers={layers}", tile.0, tile.1, tile.2);
    let before = server.get(&path("places"));
    assert_eq!(before.status, 200);
    let drawn = decode_png(&before.body).pixel(px, py);
    assert!(close(drawn, hex(PLACE_FILL), 8), "Idlib's symbol is drawn before the edit: {drawn:?}");
    assert_eq!(server.get(&path("roads")).status, 200);
    assert!(server.state.cache().contains(&first_key(tile, &["places"])), "the places tile is cached");
    assert!(server.state.cache().contains(&first_key(tile, &["roads"])), "the roads tile is cached");

    std::fs::write(server.path("places.geojson"), places_without(&["idlib"])).expect("save");
    let started = Instant::now();
    wait_for("Idlib to leave the items", || (!server.place_ids().contains(&"idlib".to_owned())).then_some(()));
    eprintln!("the edit was served after {:?}", started.elapsed());
    let status = server.geodata_status();
    assert!(status["reloads"].as_u64() >= Some(1), "{status}");
    assert_eq!(status["error"], Value::Null, "{status}");

    // Only the changed layer's tiles were dropped; the roads tile is still held, and answered
    // from the cache.
    sync(&server.state);
    assert!(!server.state.cache().contains(&first_key(tile, &["places"])), "the old places tile was dropped");
    assert!(server.state.cache().contains(&first_key(tile, &["roads"])), "the roads tile was kept");
    let hits = metric(&server, "tessera_tile_cache_requests_total", &[("result", "hit")]);
    let misses = metric(&server, "tessera_tile_cache_requests_total", &[("result", "miss")]);
    assert_eq!(server.get(&path("roads")).status, 200);
    assert_eq!(metric(&server, "tessera_tile_cache_requests_total", &[("result", "hit")]), hits + 1.0);
    let after = server.get(&path("places"));
    assert_eq!(metric(&server, "tessera_tile_cache_requests_total", &[("result", "miss")]), misses + 1.0);
    assert_ne!(after.header("etag"), before.header("etag"));
    let now = decode_png(&after.body).pixel(px, py);
    assert!(!close(now, hex(PLACE_FILL), 60), "Idlib's symbol is still drawn after the edit: {now:?}");
    // A reload's own reading of the files is no change: it once made the next reload, forever
    // (one every debounce, about three a second, since this test's change showed).
    let reloads = metric(&server, "tessera_geodata_reloads_total", &[("outcome", "ok")]);
    assert!((1.0..=2.0).contains(&reloads), "{reloads} reloads after {:?}", started.elapsed());
}

#[test]
fn a_broken_save_keeps_the_last_good_data_and_names_the_file_feature_and_reason() {
    let server = Reloading::start("broken");
    let good = server.place_ids();
    assert!(good.contains(&"termanin".to_owned()), "{good:?}");
    for (file, content, says) in broken_files() {
        std::fs::write(server.path("places.geojson"), &content).expect("save");
        // The failure of this file, named with its feature and reason (a save may make more
        // than one reload; each fails alike).
        let error = wait_for(&format!("the reload of {file} to fail, saying {says:?}"), || {
            let error = server.geodata_status()["error"].clone();
            let text = format!("feature {} {} {}", error["feature"], error["feature_id"], error["reason"]);
            says.iter().all(|s| text.contains(s)).then_some(error)
        });
        let named = error["file"].as_str().unwrap_or("");
        assert!(Path::new(named).ends_with("places.geojson"), "{file}: {error}");
        // The last good data is still served, tiles included.
        assert_eq!(server.place_ids(), good, "{file}");
        assert_eq!(server.get("/tiles/8/154/100.png").status, 200, "{file}");
        assert_eq!(metric(&server, "tessera_geodata_reload_failing", &[]), 1.0, "{file}");
    }
    // The next good save is picked up, and the error is cleared.
    std::fs::write(server.path("places.geojson"), places_without(&["termanin"])).expect("save");
    let status = wait_for("the good save", || {
        let s = server.geodata_status();
        (s["error"].is_null()).then_some(s)
    });
    assert!(status["reloads"].as_u64() >= Some(1), "{status}");
    assert!(!server.place_ids().contains(&"termanin".to_owned()));
    assert_eq!(metric(&server, "tessera_geodata_reload_failing", &[]), 0.0);
}

#[test]
fn a_file_written_in_two_halves_is_served_once_whole() {
    let server = Reloading::start("halves");
    let good = server.place_ids();
    let bytes = places_without(&["aleppo"]);
    let (first, second) = bytes.split_at(bytes.len() / 2);
    let mut file = std::fs::File::create(server.path("places.geojson")).expect("create");
    file.write_all(first).expect("the first half");
    file.flush().expect("flush");
    let status = wait_for("the half-written file to fail", || {
        let s = server.geodata_status();
        (!s["error"].is_null()).then_some(s)
    });
    assert!(status["error"]["file"].as_str().unwrap_or("").ends_with("places.geojson"), "{status}");
    assert!(status["error"]["reason"].as_str().unwrap_or("").contains("not valid JSON"), "{status}");
    assert_eq!(server.place_ids(), good, "the half-written file is not served");

    file.write_all(second).expect("the second half");
    drop(file);
    wait_for("the whole file", || (!server.place_ids().contains(&"aleppo".to_owned())).then_some(()));
    assert_eq!(server.geodata_status()["error"], Value::Null);
}

#[test]
fn an_edit_to_layers_toml_changes_the_layers_it_names() {
    let server = Reloading::start("manifest");
    let idlib = place("idlib");
    let (tile, (px, py)) = tile_and_pixel(idlib, 10);
    let path = format!("/tiles/{}/{}/{}.png?layers=places", tile.0, tile.1, tile.2);
    assert!(close(decode_png(&server.get(&path).body).pixel(px, py), hex(PLACE_FILL), 8));
    assert_eq!(server.get("/tiles/8/154/100.png?layers=roads").status, 200);
    // The places turn blue and get a new title; the roads are as they were.
    let edited = MANIFEST.replace("fill = \"#c8102e\"", "fill = \"#1f5fbf\"").replace("\"Places\"", "\"Towns\"");
    std::fs::write(server.path("layers.toml"), edited).expect("save");
    wait_for("the new title", || (server.get("/collections/places").json()["title"] == "Towns").then_some(()));
    let now = decode_png(&server.get(&path).body).pixel(px, py);
    assert!(close(now, hex("#1f5fbf"), 8), "the symbol is drawn in the new colour: {now:?}");
    sync(&server.state);
    let roads = first_key((8, 154, 100), &["roads"]);
    assert!(server.state.cache().contains(&roads), "the roads tile was kept");
}

#[test]
fn a_layer_sharing_a_place_with_a_changed_layer_changes_too() {
    // The default data, Aleppo held by three layers: a Natural Earth city, a GeoNames town and a
    // place of the report. Which of them names the place is decided across layers, so when the
    // report's Aleppo goes, the city's and the town's tiles change though their files did not.
    let dir = scratch_dir("reload-places");
    for entry in std::fs::read_dir(geodata()).expect("geodata") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().expect("a name"))).expect("copy");
        }
    }
    let first = tessera::layer::load_dir(&dir).expect("loads");
    let mut same = tessera::layer::load_dir(&dir).expect("loads");
    assert!(same.follow(&first).is_empty(), "a load of the same files changes nothing");

    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report-places.geojson")).expect("read")).expect("JSON");
    doc["features"].as_array_mut().expect("features").retain(|f| f["id"] != "aleppo");
    std::fs::write(dir.join("report-places.geojson"), serde_json::to_vec(&doc).expect("JSON")).expect("save");
    let mut next = tessera::layer::load_dir(&dir).expect("loads");
    let changes = next.follow(&same);
    let changed: Vec<&str> = changes.layers.iter().map(String::as_str).collect();
    assert_eq!(changed, ["cities", "report-places", "towns"]);
    assert!(!changes.background && changes.images.is_empty());
    // The report's names come before the towns' and the cities' (and after the capitals'): its
    // lost name moves theirs up, which the vector tiles' labels carry.
    assert!(changes.labels.contains("governorates") && !changes.labels.contains("capitals"), "{changes:?}");
    for layer in next.layers() {
        let revision = if changed.contains(&layer.meta.id.as_str()) { 2 } else { 0 };
        assert_eq!(layer.revision(), revision, "{}", layer.meta.id);
    }
}

/// A server over a copy of the whole default data set (its top-level files), in its own scratch
/// directory.
fn serve_default_copy(name: &str) -> Reloading {
    let dir = scratch_dir(&format!("reload-{name}"));
    for entry in std::fs::read_dir(geodata()).expect("geodata") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().expect("a name"))).expect("copy");
        }
    }
    let settings = settings_with(|c| c.data.geodata = Some(dir.clone()));
    let (base, state) = start_server_on(settings, &scratch_dir(&format!("reload-{name}-data")), &dir);
    Reloading { base, state, dir }
}

/// The `sort` of the label named `name` in the `labels` layer of a vector tile.
fn label_sort(tile: &crate::mvt::Tile, name: &str) -> Option<u64> {
    let labels = tile.get("labels")?;
    let f = labels.features.iter().find(|f| f.str("name") == Some(name))?;
    match f.props.get("sort") {
        Some(mvt_reader::feature::Value::UInt(u)) => Some(*u),
        Some(mvt_reader::feature::Value::SInt(i) | mvt_reader::feature::Value::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    }
}

#[test]
fn a_name_gone_from_another_layer_renumbers_the_vector_labels_and_keeps_the_raster_tiles() {
    // The vector tiles' labels carry each name's place in one order over the whole catalog
    // (`sort`). Moscow, a capital, is named before every place of the report: when it goes, the
    // report's names move up one, so the report's vector tiles with labels change though its
    // file did not; its raster tiles do not. A reload once kept the old vector tile, with the
    // old numbers.
    let server = serve_default_copy("label-order");
    let (tile, _) = tile_and_pixel(place("idlib"), 10);
    let vector = format!("/tiles/{}/{}/{}.mvt?layers=report-places,labels", tile.0, tile.1, tile.2);
    let raster = format!("/tiles/{}/{}/{}.png?layers=report-places", tile.0, tile.1, tile.2);
    let before = server.get(&vector);
    assert_eq!(before.status, 200, "{}", before.text());
    let sort = label_sort(&crate::mvt::decode(&before.body), "Idlib").expect("Idlib's label in the vector tile");
    assert_eq!(server.get(&raster).status, 200);
    assert!(server.state.cache().contains(&first_key(tile, &["report-places"])), "the raster tile is cached");

    let mut capitals: Value =
        serde_json::from_slice(&std::fs::read(server.path("capitals.geojson")).expect("read")).expect("JSON");
    let features = capitals["features"].as_array_mut().expect("features");
    let count = features.len();
    features.retain(|f| f["id"] != "moscow");
    assert_eq!(features.len(), count - 1, "Moscow is in the capitals");
    std::fs::write(server.path("capitals.geojson"), serde_json::to_vec(&capitals).expect("JSON")).expect("save");
    let now = wait_for("the vector tile to follow the reload", || {
        let reply = server.get(&vector);
        let now = label_sort(&crate::mvt::decode(&reply.body), "Idlib")?;
        (now != sort).then_some(now)
    });
    assert_eq!(now, sort - 1, "Idlib's name moved up one place");
    sync(&server.state);
    assert!(server.state.cache().contains(&first_key(tile, &["report-places"])), "the raster tile was kept");
    let status = server.geodata_status();
    assert_eq!(status["error"], Value::Null, "{status}");
}

#[test]
fn a_request_holding_the_old_data_finishes_on_it_and_leaves_the_new_tiles_alone() {
    // A request reads the catalog once, at its start, and draws from that to the end (the
    // handlers pass it to `TileService::fetch`). A request that read it before a reload and
    // draws after it is played here by holding the catalog read before the edit and making the
    // handler's call once the reload is served: it still draws Idlib, and its drawing does not
    // become the tile of the new data.
    let server = Reloading::start("in-flight");
    let (tile, (px, py)) = tile_and_pixel(place("idlib"), 10);
    let path = format!("/tiles/{}/{}/{}.png?layers=places", tile.0, tile.1, tile.2);
    let held = server.state.catalog();
    std::fs::write(server.path("places.geojson"), places_without(&["idlib"])).expect("save");
    wait_for("Idlib to leave the items", || (!server.place_ids().contains(&"idlib".to_owned())).then_some(()));
    assert!(server.state.catalog().generation() > held.generation(), "a new catalog is served");
    let places = held.layer("places").expect("the places layer");
    assert!(places.features().iter().any(|f| f.id_text() == "idlib"), "the held catalog changed under its holder");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let key = first_key(tile, &["places"]);
    let fetched = runtime.block_on(server.state.tiles().fetch(&held, key.tile, key.spec)).expect("the tile");
    assert!(!fetched.hit, "drawn anew, from the held catalog");
    let drawn = decode_png(&fetched.tile.body).pixel(px, py);
    assert!(close(drawn, hex(PLACE_FILL), 8), "the held catalog draws Idlib: {drawn:?}");
    let served = decode_png(&server.get(&path).body).pixel(px, py);
    assert!(!close(served, hex(PLACE_FILL), 60), "the old drawing is served for the new data: {served:?}");
}

#[test]
fn an_edit_saved_while_the_server_starts_is_picked_up() {
    // The data is loaded before the server watches the directory (`tessera serve` loads it,
    // then builds the server): a save in between was never notified, and was once served only
    // after the next change. Saved here after the load and before the server is built.
    let dir = scratch_dir("reload-starting");
    std::fs::copy(geodata().join("report-places.geojson"), dir.join("places.geojson")).expect("copy places");
    std::fs::copy(geodata().join("roads.geojson"), dir.join("roads.geojson")).expect("copy roads");
    std::fs::write(dir.join("layers.toml"), MANIFEST).expect("write the manifest");
    let catalog = tessera::layer::load_dir(&dir).expect("geodata loads");
    std::fs::write(dir.join("places.geojson"), places_without(&["idlib"])).expect("save");
    let data = scratch_dir("reload-starting-data");
    let events = tessera::cli::open_events(&data, &catalog).expect("event store opens and seeds");
    let settings = settings_with(|c| c.data.geodata = Some(dir.clone()));
    let state = AppState::new(catalog, std::sync::Arc::new(events), settings).expect("state");
    let base = crate::common::serve_state(state.clone());
    let server = Reloading { base, state, dir };
    wait_for("the save to be served", || (!server.place_ids().contains(&"idlib".to_owned())).then_some(()));
    assert_eq!(server.geodata_status()["error"], Value::Null);
}
