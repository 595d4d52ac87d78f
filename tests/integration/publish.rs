//! `tessera export` and `tessera serve --archive` (issue 16): archives written by the real
//! binary, read by readers not written here (the `pmtiles` package from PyPI, GDAL's MBTiles
//! drivers), their tiles compared with the tiles the server draws, and served back over HTTP with
//! Range requests checked byte for byte against the file.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::api_definition::python_with;
use crate::cli::{run, scratch, tessera};
use crate::cli_serve::Running;
use crate::common::{background, close, decode_png, get, get_url, layer_color, manifest, mercator_px, request};

/// Termanin, as in geodata/report-places.geojson.
const TERMANIN: (f64, f64) = (36.817, 36.233);

/// The area exported: west, south, east, north around Termanin and Darat Izza.
const AREA: [f64; 4] = [36.6, 36.1, 36.95, 36.35];

/// Open sea between Cyprus and Egypt: every tile there is the background alone.
const SEA: [f64; 4] = [31.0, 33.0, 33.0, 34.0];

fn bbox(b: [f64; 4]) -> String {
    format!("{},{},{},{}", b[0], b[1], b[2], b[3])
}

/// Every tile of a box at zooms `lo..=hi`, from the Mercator formula.
fn expected_tiles(b: [f64; 4], lo: u8, hi: u8) -> BTreeSet<(u8, u32, u32)> {
    let mut out = BTreeSet::new();
    for z in lo..=hi {
        let (x0, y0) = mercator_px(b[0], b[3], z);
        let (x1, y1) = mercator_px(b[2], b[1], z);
        for x in (x0 / 256.0) as u32..=(x1 / 256.0) as u32 {
            for y in (y0 / 256.0) as u32..=(y1 / 256.0) as u32 {
                out.insert((z, x, y));
            }
        }
    }
    out
}

/// The archives of these tests, exported once by the real binary.
struct Exports {
    dir: PathBuf,
    /// PNG tiles of [`AREA`] at zooms 7-11, PMTiles.
    raster: PathBuf,
    /// What `export` printed on stderr for it.
    raster_stderr: String,
    /// Vector tiles of every data layer over [`AREA`] at zooms 7-11, PMTiles.
    vector: PathBuf,
    /// PNG tiles of [`AREA`] at zooms 9-11, MBTiles.
    raster_mb: PathBuf,
    /// Vector tiles of every layer and the events over [`AREA`] at zooms 7-11, MBTiles.
    vector_mb: PathBuf,
    /// PNG tiles of [`SEA`] at zooms 8-10, PMTiles.
    sea: PathBuf,
}

fn export(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String) {
    let out = dir.join(name);
    let (o, stderr) = run(tessera().arg("export").arg(&out).args(args));
    assert!(o.status.success(), "export {name}: {stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&out.display().to_string()) && stdout.contains("tiles"), "{stdout}");
    assert!(!dir.join(format!("{name}.partial")).exists(), "{name}: the partial file is gone");
    (out, stderr)
}

fn exports() -> &'static Exports {
    static EXPORTS: OnceLock<Exports> = OnceLock::new();
    EXPORTS.get_or_init(|| {
        let dir = scratch("exports");
        let area = bbox(AREA);
        let data_layers: Vec<String> = manifest()["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .filter_map(|l| l["id"].as_str().map(str::to_owned))
            .collect();
        let (raster, raster_stderr) = export(&dir, "area.pmtiles", &["--bbox", &area, "--zooms", "7-11"]);
        let (vector, _) = export(
            &dir,
            "area-vector.pmtiles",
            &["--bbox", &area, "--zooms", "7-11", "--format", "mvt", "--layers", &data_layers.join(",")],
        );
        let (raster_mb, _) = export(&dir, "area.mbtiles", &["--bbox", &area, "--zooms", "9-11"]);
        let (vector_mb, _) =
            export(&dir, "area-vector.mbtiles", &["--bbox", &area, "--zooms", "7-11", "--format", "mvt", "--events"]);
        let (sea, _) = export(&dir, "sea.pmtiles", &["--bbox", &bbox(SEA), "--zooms", "8-10"]);
        Exports { dir, raster, raster_stderr, vector, raster_mb, vector_mb, sea }
    })
}

/// Reads an archive (a file or a URL) with the `pmtiles` package; its tiles go to `out`.
fn read_pmtiles(source: &str, out: &Path) -> Option<Value> {
    python_with("check_pmtiles.py", &[source, out.to_str().expect("utf-8 path")])
}

fn tiles_of(seen: &Value) -> BTreeSet<(u8, u32, u32)> {
    seen["tiles"]
        .as_array()
        .expect("tiles")
        .iter()
        .map(|t| (t[0].as_u64().expect("z") as u8, t[1].as_u64().expect("x") as u32, t[2].as_u64().expect("y") as u32))
        .collect()
}

/// Whether an outside program runs here; on CI (`CI=true`, where `.ci/run` installs it) its
/// absence fails the test.
fn available(name: &str, probe: &mut Command) -> bool {
    if probe.output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "{name} is missing on CI: .ci/run installs it");
    eprintln!("SKIPPED: {name} is not installed here; CI installs it (.ci/run)");
    false
}

#[test]
fn an_exported_pmtiles_archive_is_read_by_the_pmtiles_reader_and_holds_the_served_tiles() {
    let e = exports();
    let out = e.dir.join("read-raster");
    let Some(seen) = read_pmtiles(e.raster.to_str().expect("path"), &out) else { return };
    let h = &seen["header"];
    assert_eq!(h["version"], 3);
    assert_eq!(h["tile_type"], "PNG");
    assert_eq!((h["min_zoom"].as_u64(), h["max_zoom"].as_u64()), (Some(7), Some(11)));
    let e7 = |v: f64| (v * 1e7).round() as i64;
    assert_eq!(
        [&h["min_lon_e7"], &h["min_lat_e7"], &h["max_lon_e7"], &h["max_lat_e7"]].map(|v| v.as_i64()),
        AREA.map(|v| Some(e7(v))),
        "the header's bounds are the area exported"
    );
    let (clon, clat) = (
        h["center_lon_e7"].as_i64().expect("lon") as f64 / 1e7,
        h["center_lat_e7"].as_i64().expect("lat") as f64 / 1e7,
    );
    assert!((AREA[0]..=AREA[2]).contains(&clon) && (AREA[1]..=AREA[3]).contains(&clat), "centre {clon},{clat}");
    assert!(h["clustered"].as_bool().expect("clustered"), "tiles written in tile-id order");
    let m = &seen["metadata"];
    assert_eq!(m["name"], manifest()["title"].as_str().expect("title"));
    assert!(m["attribution"].as_str().is_some_and(|a| a.contains("Natural Earth") && a.contains("GeoNames")), "{m}");
    assert_eq!(m["format"], "png");
    assert_eq!(m["tessera"]["scale"], 1);

    // The directory holds exactly the tiles of the area, each decoding to the pixels the server
    // draws for it.
    let expected = expected_tiles(AREA, 7, 11);
    assert_eq!(tiles_of(&seen), expected);
    assert_eq!(h["addressed_tiles_count"].as_u64(), Some(expected.len() as u64));
    for (z, x, y) in &expected {
        let archived = decode_png(&std::fs::read(out.join(format!("{z}-{x}-{y}.png"))).expect("tile written"));
        let reply = get(&format!("/tiles/{z}/{x}/{y}.png"));
        assert_eq!(reply.status, 200);
        let served = decode_png(&reply.body);
        assert_eq!((archived.width, archived.height), (256, 256));
        assert!(archived.rgba == served.rgba, "{z}/{x}/{y}: the archived tile's pixels are not the served tile's");
    }
    // Not a terminal: plain progress lines, the last at 100%.
    let total = expected.len();
    assert!(e.raster_stderr.contains(&format!("export: {total}/{total} tiles (100%)")), "{}", e.raster_stderr);
}

#[test]
fn identical_tiles_are_stored_once() {
    let e = exports();
    let out = e.dir.join("read-sea");
    let Some(seen) = read_pmtiles(e.sea.to_str().expect("path"), &out) else { return };
    let h = &seen["header"];
    let expected = expected_tiles(SEA, 8, 10);
    assert!(expected.len() > 20, "{}", expected.len());
    assert_eq!(tiles_of(&seen), expected);
    assert_eq!(h["addressed_tiles_count"].as_u64(), Some(expected.len() as u64));
    assert_eq!(h["tile_contents_count"], 1, "every sea tile is one stored tile");
    assert_eq!(seen["distinct_offsets"], 1, "every directory entry points at one offset");
    assert!(seen["runs"].as_u64() > Some(0), "neighbours share a run: {seen}");
    let bg = background();
    for (z, x, y) in &expected {
        let tile = decode_png(&std::fs::read(out.join(format!("{z}-{x}-{y}.png"))).expect("tile"));
        assert!(tile.rgba.chunks(4).all(|p| p == bg), "{z}/{x}/{y} is the background alone");
    }
}

#[test]
fn an_exported_vector_archive_holds_the_served_vector_tiles_and_their_layers() {
    let e = exports();
    let out = e.dir.join("read-vector");
    let Some(seen) = read_pmtiles(e.vector.to_str().expect("path"), &out) else { return };
    assert_eq!(seen["header"]["tile_type"], "MVT");
    assert_eq!(seen["header"]["tile_compression"], "GZIP");
    let ids: Vec<String> = manifest()["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    let listed: BTreeSet<&str> = seen["metadata"]["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect(), "every data layer, and no events (not asked for)");
    // Empty vector tiles are not stored; every stored one is the served tile, byte for byte.
    let stored = tiles_of(&seen);
    assert!(!stored.is_empty() && stored.is_subset(&expected_tiles(AREA, 7, 11)));
    for (z, x, y) in &stored {
        let archived = std::fs::read(out.join(format!("{z}-{x}-{y}.mvt"))).expect("tile");
        let served = get(&format!("/tiles/{z}/{x}/{y}.mvt?layers={}", ids.join(",")));
        assert_eq!(served.status, 200, "{z}/{x}/{y}");
        assert!(archived == served.decoded(), "{z}/{x}/{y}: the archived vector tile is not the served one");
        let layers = crate::mvt::decode(&archived);
        assert!(!layers.contains_key("events"));
    }
    let t = TERMANIN;
    let (gx, gy) = mercator_px(t.0, t.1, 11);
    let at = (11, (gx / 256.0) as u32, (gy / 256.0) as u32);
    let layers = crate::mvt::decode(&std::fs::read(out.join(format!("{}-{}-{}.mvt", at.0, at.1, at.2))).expect("tile"));
    assert!(layers.contains_key("report-places"), "{:?}", layers.keys().collect::<Vec<_>>());
}

#[test]
fn export_takes_the_tiles_scale_language_and_format_as_the_tile_routes_do() {
    let dir = scratch("scale-lang-webp");
    let (out, _) = export(
        &dir,
        "ar.pmtiles",
        &["--bbox", &bbox(AREA), "--zooms", "10", "--scale", "2", "--lang", "ar", "--format", "webp"],
    );
    let Some(seen) = read_pmtiles(out.to_str().expect("path"), &dir.join("tiles")) else { return };
    assert_eq!(seen["header"]["tile_type"], "WEBP");
    assert_eq!(seen["metadata"]["tessera"]["lang"], "ar");
    assert_eq!(seen["metadata"]["tessera"]["scale"], 2);
    let expected = expected_tiles(AREA, 10, 10);
    assert_eq!(tiles_of(&seen), expected);
    let mut differ_from_english = 0;
    for (z, x, y) in &expected {
        let archived = std::fs::read(dir.join("tiles").join(format!("{z}-{x}-{y}.webp"))).expect("tile");
        let served = get(&format!("/tiles/{z}/{x}/{y}@2x.webp?lang=ar"));
        assert_eq!((served.status, served.header("content-type")), (200, "image/webp"));
        assert!(archived == served.body, "{z}/{x}/{y}: the archived tile is not the served @2x Arabic WebP tile");
        differ_from_english += usize::from(archived != get(&format!("/tiles/{z}/{x}/{y}@2x.webp?lang=en")).body);
    }
    assert!(differ_from_english > 0, "the names are Arabic on some tile of the area");
}

/// Alpha-composites `over` onto `under` (straight RGBA8), as a map client lays an overlay tile
/// over a base tile.
fn over(under: [u8; 4], over: [u8; 4]) -> [u8; 4] {
    let a = f64::from(over[3]) / 255.0;
    let mut out = [0u8; 4];
    for c in 0..3 {
        out[c] = (f64::from(over[c]) * a + f64::from(under[c]) * (1.0 - a)).round() as u8;
    }
    out[3] = 255;
    out
}

#[test]
fn raster_tiles_exported_with_the_events_are_the_base_tiles_with_the_overlay_over_them() {
    // A server and an export of their own, each with the seed events alone.
    let base = crate::common::start_server(crate::common::settings(), &scratch("combined-server-data"));
    let dir = scratch("combined");
    let area = [36.78, 36.2, 36.85, 36.26];
    let (out, _) = export(
        &dir,
        "combined.pmtiles",
        &["--bbox", &bbox(area), "--zooms", "12", "--events", "--datetime", "2020-02-18"],
    );
    let Some(seen) = read_pmtiles(out.to_str().expect("path"), &dir.join("tiles")) else { return };
    assert_eq!(seen["metadata"]["tessera"]["events"]["datetime"], "2020-02-18");
    let mut drawn = 0;
    for (z, x, y) in tiles_of(&seen) {
        let archived = decode_png(&std::fs::read(dir.join("tiles").join(format!("{z}-{x}-{y}.png"))).expect("tile"));
        let plain = decode_png(&get_url(&format!("{base}/tiles/{z}/{x}/{y}.png")).body);
        let overlay = decode_png(&get_url(&format!("{base}/overlays/events/{z}/{x}/{y}.png?datetime=2020-02-18")).body);
        for i in 0..256 * 256 {
            let (px, py) = (i % 256, i / 256);
            let want = over(plain.pixel(px, py), overlay.pixel(px, py));
            let got = archived.pixel(px, py);
            assert!(close(got, want, 3), "{z}/{x}/{y} ({px}, {py}): {got:?}, the composite is {want:?}");
            drawn += usize::from(overlay.pixel(px, py)[3] > 0);
        }
    }
    assert!(drawn > 100, "the events are drawn on these tiles: {drawn} pixels");
}

#[test]
fn gdal_opens_the_exported_mbtiles_raster_and_vector() {
    let e = exports();
    if !available("GDAL (gdalinfo)", Command::new("gdalinfo").arg("--version")) {
        return;
    }
    let info = Command::new("gdalinfo").arg("-json").arg(&e.raster_mb).output().expect("gdalinfo runs");
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let info: Value = serde_json::from_slice(&info.stdout).expect("gdalinfo -json");
    assert_eq!(info["driverShortName"], "MBTiles");
    assert_eq!(info["bands"].as_array().map(Vec::len), Some(4), "RGBA");
    assert_eq!(info["metadata"][""]["name"], manifest()["title"].as_str().expect("title"));
    assert_eq!(info["metadata"][""]["ZOOM_LEVEL"], "11");
    // GDAL's pixel at Termanin (its own georeferencing of the tiles) is the server's pixel there.
    let probe = Command::new("gdallocationinfo")
        .args(["-valonly", "-wgs84"])
        .arg(&e.raster_mb)
        .args([TERMANIN.0.to_string(), TERMANIN.1.to_string()])
        .output()
        .expect("gdallocationinfo runs");
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    let values: Vec<u8> =
        String::from_utf8_lossy(&probe.stdout).split_whitespace().map(|v| v.parse().expect("a band value")).collect();
    let (gx, gy) = mercator_px(TERMANIN.0, TERMANIN.1, 11);
    let served = decode_png(&get(&format!("/tiles/11/{}/{}.png", (gx / 256.0) as u32, (gy / 256.0) as u32)).body);
    let pixel = served.pixel((gx % 256.0) as u32, (gy % 256.0) as u32);
    assert_eq!(values, pixel.to_vec(), "GDAL reads the served pixel at Termanin");
    assert!(close(pixel, layer_color("report-places", "fill"), 8), "and it is Termanin's symbol: {pixel:?}");

    // The vector archive: GDAL lists its layers, the events among them, and reads Termanin.
    let layers = Command::new("ogrinfo").args(["-ro", "-so"]).arg(&e.vector_mb).output().expect("ogrinfo runs");
    let listed = String::from_utf8_lossy(&layers.stdout);
    assert!(layers.status.success() && listed.contains("using driver `MBTiles'"), "{listed}");
    for layer in ["report-places", "events", "towns", "labels"] {
        assert!(listed.lines().any(|l| l.trim().ends_with(&format!(": {layer}"))), "{layer} in {listed}");
    }
    let places =
        Command::new("ogrinfo").args(["-ro", "-q"]).arg(&e.vector_mb).arg("report-places").output().expect("ogrinfo");
    let text = String::from_utf8_lossy(&places.stdout);
    assert!(text.contains("Termanin"), "{text}");
}

#[test]
fn an_interrupted_export_leaves_no_file_that_looks_complete() {
    let dir = scratch("interrupted");
    let out = dir.join("big.pmtiles");
    // Zooms 0-16 over the data set's area: far more than a test waits for.
    let mut child = tessera()
        .arg("export")
        .arg(&out)
        .args(["--bbox", "34.5,32.0,39.5,38.0", "--zooms", "0-16"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn export");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    // The first progress line comes after the first batch went to the writer, so after the
    // archive was created (the opening line comes before).
    let mut line = String::new();
    while !line.contains(" tiles (") {
        line.clear();
        assert!(stderr.read_line(&mut line).expect("read") > 0, "export ended before it started");
    }
    assert!(!line.contains("(100%)"), "still running: {line}");
    assert!(dir.join("big.pmtiles.partial").exists(), "the archive is written under its partial name");
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(!out.exists(), "no archive");
    assert!(!dir.join("big.pmtiles.partial").exists(), "no partial file either");
}

#[test]
fn on_a_terminal_the_export_shows_a_bar_with_the_count_the_rate_and_the_time_left() {
    let dir = scratch("terminal");
    let out = dir.join("bar.pmtiles");
    // `script` (util-linux, in every Debian) runs the export on a pseudo-terminal and copies
    // what it draws to its own stdout.
    let command =
        format!("{} export {} --bbox {} --zooms 10-11", env!("CARGO_BIN_EXE_tessera"), out.display(), bbox(AREA));
    if !available("script (util-linux)", Command::new("script").arg("--version")) {
        return;
    }
    let o = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("script runs");
    let drawn = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{drawn}");
    let total = expected_tiles(AREA, 10, 11).len();
    let bar = drawn.lines().flat_map(|l| l.split('\r')).find(|l| l.contains(&format!("{total}/{total} tiles, ")));
    let bar = bar.unwrap_or_else(|| panic!("no bar in {drawn:?}"));
    assert!(bar.contains("[===") && bar.contains("/s, ") && bar.contains(" left"), "the bar: {bar:?}");
    assert!(drawn.contains("\x1b[2K"), "the bar is cleared at the end: {drawn:?}");
    assert!(!drawn.contains(" tiles (100%)"), "no plain lines on a terminal: {drawn:?}");
    assert!(drawn.contains(&format!("{}: {total} tiles", out.display())) && out.exists(), "{drawn:?}");
}

#[test]
fn bad_export_flags_are_refused_naming_the_flag() {
    let dir = scratch("bad-export");
    let out = dir.join("x.pmtiles");
    let out = out.to_str().expect("path");
    let cases: [(&[&str], &str); 7] = [
        (&[out, "--bbox", "1,2,3", "--zooms", "0-1"], "--bbox"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "5-2"], "--zooms"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "0-31"], "--zooms"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "0-1", "--format", "gif"], "--format"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "0-1", "--layers", "nope"], "nope"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "0-1", "--layers", "events", "--format", "jpg"], "--format"),
        (&[out, "--bbox", "1,2,3,4", "--zooms", "0-1", "--events", "--from", "2020-02-30"], "--from"),
    ];
    for (args, named) in cases {
        let (o, stderr) = run(tessera().arg("export").args(args));
        assert!(!o.status.success(), "{args:?} was taken");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    let (o, stderr) =
        run(tessera().args(["export", dir.join("x.zip").to_str().expect("path"), "--bbox", "1,2,3,4", "--zooms", "1"]));
    assert!(!o.status.success() && stderr.contains(".pmtiles or .mbtiles"), "{stderr}");
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0, "nothing written");
}

/// A server of the raster PMTiles, the vector MBTiles and the sea: `tessera serve` checks each
/// way of naming them (the flag, repeated, and the config file's key) and is stopped; the tests
/// then share an in-process server given the same archives, which ends with the test binary.
fn archive_server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let e = exports();
        let config = e.dir.join("archives.toml");
        std::fs::write(&config, format!("[server]\narchive = [\"vec={}\"]\n", e.vector_mb.display())).expect("config");
        let by_file =
            ["serve", "--listen", "127.0.0.1:0", "--config", config.to_str().expect("path")].map(String::from);
        let by_flags = ["serve", "--listen", "127.0.0.1:0"]
            .into_iter()
            .map(String::from)
            .chain(
                [("area", &e.raster), ("vec", &e.vector_mb)]
                    .into_iter()
                    .flat_map(|(name, path)| ["--archive".to_owned(), format!("{name}={}", path.display())]),
            )
            .collect::<Vec<_>>();
        for (args, names) in [(by_file.to_vec(), vec!["vec"]), (by_flags, vec!["area", "vec"])] {
            let mut server = Running::start(tessera().args(&args).env("RUST_LOG", "warn"));
            let base = server.url().expect("the server announces its URL");
            let list = get_url(&format!("{base}/archives")).json();
            let listed: Vec<&str> =
                list["archives"].as_array().expect("list").iter().filter_map(|a| a["name"].as_str()).collect();
            assert_eq!(listed, names, "{args:?}");
            assert_eq!(get_url(&format!("{base}/archives/vec.json")).status, 200);
        }
        let sources = [("area", &e.raster), ("vec", &e.vector_mb), ("sea", &e.sea)]
            .map(|(name, path)| format!("{name}={}", path.display()))
            .map(|s| <tessera::config::ArchiveSource as tessera::config::SettingValue>::parse(&s).expect("a source"));
        let settings = crate::common::settings_with(|c| c.server.archive = sources.to_vec());
        crate::common::start_server(settings, &scratch("archive-server-data"))
    })
}

#[test]
fn archives_are_served_with_tilejson_and_the_live_tiles_headers_and_errors() {
    let base = archive_server();
    let list = get_url(&format!("{base}/archives")).json();
    let names: Vec<&str> =
        list["archives"].as_array().expect("list").iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["area", "sea", "vec"]);
    let area = &list["archives"][0];
    assert_eq!(area["pmtiles"], format!("{base}/archives/area.pmtiles"));
    assert!(list["archives"][2].get("pmtiles").is_none(), "MBTiles is served as tiles only");

    let tj = get_url(&format!("{base}/archives/area.json")).json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], format!("{base}/archives/area/{{z}}/{{x}}/{{y}}.png"));
    assert_eq!((tj["minzoom"].as_u64(), tj["maxzoom"].as_u64()), (Some(7), Some(11)));
    assert_eq!(tj["bounds"], serde_json::json!(AREA));
    assert!(tj["attribution"].as_str().is_some_and(|a| a.contains("Natural Earth")));
    let vj = get_url(&format!("{base}/archives/vec.json")).json();
    assert_eq!(vj["tiles"][0], format!("{base}/archives/vec/{{z}}/{{x}}/{{y}}.mvt"));
    let vl: Vec<&str> =
        vj["vector_layers"].as_array().expect("vector_layers").iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(vl.contains(&"events") && vl.contains(&"report-places"), "{vl:?}");

    // A tile: the archive's bytes, with the live tiles' headers.
    let (gx, gy) = mercator_px(TERMANIN.0, TERMANIN.1, 11);
    let (x, y) = ((gx / 256.0) as u32, (gy / 256.0) as u32);
    let reply = get_url(&format!("{base}/archives/area/11/{x}/{y}.png"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "image/png");
    assert_eq!(reply.header("cache-control"), "public, max-age=3600");
    let live = get(&format!("/tiles/11/{x}/{y}.png"));
    assert_eq!(reply.body, live.body, "the archived tile is the live tile, byte for byte");
    assert_eq!(reply.header("etag"), live.header("etag"), "and so its ETag");
    let again = request(
        "GET",
        &format!("{base}/archives/area/11/{x}/{y}.png"),
        &[("If-None-Match", reply.header("etag"))],
        b"",
    );
    assert_eq!(again.status, 304);

    let vector = get_url(&format!("{base}/archives/vec/11/{x}/{y}.mvt"));
    assert_eq!(vector.status, 200);
    assert_eq!(vector.header("content-type"), "application/vnd.mapbox-vector-tile");
    assert!(crate::mvt::decode(&vector.decoded()).contains_key("report-places"));
    let sea_tile = expected_tiles(SEA, 10, 10).into_iter().next().expect("a sea tile");
    let sea = get_url(&format!("{base}/archives/sea/{}/{}/{}.png", sea_tile.0, sea_tile.1, sea_tile.2));
    assert_eq!(decode_png(&sea.body).rgba.chunks(4).filter(|p| *p != background()).count(), 0);

    // Beyond the archive: an empty vector tile (204), a raster tile that is not there (404).
    assert_eq!(get_url(&format!("{base}/archives/vec/11/0/0.mvt")).status, 204);
    for (path, status, code) in [
        ("/archives/area/11/0/0.png", 404, "not_found"),
        ("/archives/area/3/0/0.png", 404, "not_found"),
        ("/archives/nope/11/0/0.png", 404, "not_found"),
        ("/archives/area/11/0/0.mvt", 404, "unsupported_format"),
        ("/archives/area/11/0/0@2x.png", 404, "unsupported_format"),
        ("/archives/vec/11/0/0.png", 404, "unsupported_format"),
        ("/archives/area/11/0/x.png", 400, "invalid_tile"),
        ("/archives/area/3/9/0.png", 404, "tile_out_of_range"),
        ("/archives/area/21/0/0.png", 404, "tile_out_of_range"),
        ("/archives/nope.json", 404, "not_found"),
        ("/archives/vec.pmtiles", 404, "not_found"),
        ("/archives/area.zip", 404, "not_found"),
        ("/archives?x=1", 400, "invalid_parameter"),
    ] {
        let description = get_url(&format!("{base}{path}")).assert_error(status, code);
        assert!(!description.is_empty(), "{path}");
    }
    assert_eq!(get_url(&format!("{base}/health")).status, 200, "still serving");
}

#[test]
fn range_requests_on_a_pmtiles_archive_are_byte_exact() {
    let base = archive_server();
    let file = std::fs::read(&exports().raster).expect("the archive");
    let len = file.len() as u64;
    let url = format!("{base}/archives/area.pmtiles");
    let whole = get_url(&url);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_eq!(whole.header("content-type"), "application/vnd.pmtiles");
    assert!(whole.body == file, "the whole file");
    let etag = whole.header("etag").to_owned();
    for (range, first, last) in [
        ("bytes=0-126".to_owned(), 0, 126),
        ("bytes=16384-16999".to_owned(), 16384, 16999),
        (format!("bytes={}-", len - 10), len - 10, len - 1),
        ("bytes=-100".to_owned(), len - 100, len - 1),
        (format!("bytes=100-{}", len + 5000), 100, len - 1),
    ] {
        // A browser asks for compression; a range is never compressed.
        let reply = request("GET", &url, &[("Range", &range), ("Accept-Encoding", "gzip, br")], b"");
        assert_eq!(reply.status, 206, "{range}");
        assert_eq!(reply.header("content-range"), format!("bytes {first}-{last}/{len}"), "{range}");
        assert_eq!(reply.header("content-length"), (last - first + 1).to_string(), "{range}");
        assert_eq!(reply.header("content-encoding"), "", "{range}");
        assert!(reply.body == file[first as usize..=last as usize], "{range}: the bytes differ from the file's");
    }
    for range in ["bytes=0-1,5-9".to_owned(), format!("bytes={len}-"), "bytes=9-2".to_owned(), "bytes=a-b".to_owned()] {
        let reply = request("GET", &url, &[("Range", &range)], b"");
        reply.assert_error(416, "range_not_satisfiable");
        assert_eq!(reply.header("content-range"), format!("bytes */{len}"), "{range}");
    }
    let several = request("GET", &url, &[("Range", "bytes=0-1,5-9")], b"").json();
    assert!(several["description"].as_str().is_some_and(|d| d.contains("2 ranges")), "{several}");
    // A range of another version, or in another unit: the whole file.
    let stale = request("GET", &url, &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")], b"");
    assert_eq!((stale.status, stale.body.len() as u64), (200, len));
    let current = request("GET", &url, &[("Range", "bytes=0-9"), ("If-Range", &etag)], b"");
    assert_eq!((current.status, current.body.as_slice()), (206, &file[..10]));
    assert_eq!(request("GET", &url, &[("Range", "items=0-9")], b"").status, 200);
    assert_eq!(request("GET", &url, &[("If-None-Match", &etag)], b"").status, 304);
}

#[test]
fn the_pmtiles_reader_reads_a_served_archive_over_http_ranges() {
    let base = archive_server();
    let e = exports();
    let out = e.dir.join("read-over-http");
    let Some(seen) = read_pmtiles(&format!("{base}/archives/area.pmtiles"), &out) else { return };
    let Some(local) = read_pmtiles(e.raster.to_str().expect("path"), &e.dir.join("read-local")) else { return };
    assert_eq!(seen["header"], local["header"]);
    assert_eq!(seen["metadata"], local["metadata"]);
    assert_eq!(seen["tiles"], local["tiles"]);
    let requests = seen["requests"].as_array().expect("requests");
    assert!(requests.len() > 5, "{requests:?}");
    assert!(requests.iter().all(|r| r["status"] == 206), "every read a 206");
    for t in tiles_of(&seen) {
        let name = format!("{}-{}-{}.png", t.0, t.1, t.2);
        assert_eq!(
            std::fs::read(out.join(&name)).ok(),
            std::fs::read(e.dir.join("read-local").join(&name)).ok(),
            "{name}"
        );
    }
}
