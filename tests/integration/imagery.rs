//! Georeferenced image overlays: the test pattern of `tests/data/imagery/` (a grid with red
//! marks at known coordinates, made by `tests/python/make_test_pattern.py`; not a map) served
//! over the default data, and checked through decoded tiles against the Web Mercator formula;
//! broken image entries stop `tessera check` and start-up, naming the file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::cli::{run, scratch, tessera};
use crate::cli_serve::Running;
use crate::common::{
    Image, decode_png, geodata, get_url, mercator_px, request, scratch_dir, settings, start_server_on,
};

const ID: &str = "test-pattern";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/imagery")
}

/// The test pattern's sidecar: bounds, size and marks.
fn sidecar() -> Value {
    let text = std::fs::read_to_string(data_dir().join("test-pattern.json")).expect("test-pattern.json");
    serde_json::from_str(&text).expect("the sidecar parses")
}

/// A copy of the default geodata with the test pattern in it, and `entry` appended to its
/// manifest; `image` is written as `file`.
fn geodata_with(name: &str, file: &str, image: &[u8], entry: &str) -> PathBuf {
    let dir = scratch(name);
    for e in std::fs::read_dir(geodata()).expect("geodata") {
        let path = e.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    std::fs::write(dir.join(file), image).expect("write the image");
    let manifest = std::fs::read_to_string(dir.join("layers.toml")).expect("layers.toml");
    std::fs::write(dir.join("layers.toml"), format!("{manifest}\n{entry}\n")).expect("manifest");
    dir
}

/// The `[[images]]` entry of the test pattern.
fn pattern_entry(id: &str, file: &str) -> String {
    let b = &sidecar()["bounds"];
    format!(
        "[[images]]\nid = \"{id}\"\nfile = \"{file}\"\nbounds = [{}, {}, {}, {}]\ntitle = \"Test pattern (not a map)\"\n\
         attribution = \"test pattern\"\nopacity = 0.7\n",
        b[0], b[1], b[2], b[3]
    )
}

/// A server over the default data with the test pattern as an image overlay.
fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let png = std::fs::read(data_dir().join("test-pattern.png")).expect("test-pattern.png");
        let dir = geodata_with("imagery-served", "test-pattern.png", &png, &pattern_entry(ID, "test-pattern.png"));
        start_server_on(settings(), &scratch_dir("imagery-data"), &dir).0
    })
}

fn get(path: &str) -> crate::common::Reply {
    get_url(&format!("{}{path}", base()))
}

/// How red a pixel is, by its alpha: what the marks are made of and nothing else is.
fn redness(p: [u8; 4]) -> f64 {
    f64::from(p[3]) * f64::from(p[0].saturating_sub(p[1].max(p[2]))) / 255.0
}

/// The red-weighted centroid of an image within `radius` pixels of `(cx, cy)`, and the weight.
fn red_centroid(img: &Image, (cx, cy): (f64, f64), radius: f64) -> (f64, f64, f64) {
    let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
    let lo = |c: f64| (c - radius).floor().max(0.0) as u32;
    for y in lo(cy)..((cy + radius).ceil() as u32).min(img.height) {
        for x in lo(cx)..((cx + radius).ceil() as u32).min(img.width) {
            let w = redness(img.pixel(x, y));
            (sx, sy, sw) = (sx + w * (f64::from(x) + 0.5), sy + w * (f64::from(y) + 0.5), sw + w);
        }
    }
    (sx / sw, sy / sw, sw)
}

fn marks() -> Vec<(String, f64, f64)> {
    sidecar()["marks"]
        .as_array()
        .expect("marks")
        .iter()
        .map(|m| {
            (
                m["near"].as_str().expect("near").to_owned(),
                m["lon"].as_f64().expect("lon"),
                m["lat"].as_f64().expect("lat"),
            )
        })
        .collect()
}

#[test]
fn the_test_patterns_marks_are_where_its_sidecar_says() {
    let img = decode_png(&std::fs::read(data_dir().join("test-pattern.png")).expect("png"));
    let s = sidecar();
    let b: Vec<f64> = s["bounds"].as_array().expect("bounds").iter().map(|v| v.as_f64().expect("number")).collect();
    assert_eq!((img.width, img.height), (1100, 900));
    for (near, lon, lat) in marks() {
        // A regular lon/lat grid: pixel position from the bounds alone.
        let px =
            ((lon - b[0]) / (b[2] - b[0]) * f64::from(img.width), (b[3] - lat) / (b[3] - b[1]) * f64::from(img.height));
        let (x, y, w) = red_centroid(&img, px, 10.0);
        assert!(w > 0.0, "{near}: no red near {px:?}");
        assert!((x - px.0).abs() < 0.01 && (y - px.1).abs() < 0.01, "{near}: red at ({x}, {y}), sidecar says {px:?}");
    }
}

#[test]
fn each_mark_lands_at_the_pixel_web_mercator_gives_at_several_zooms() {
    let mut checked = 0;
    for (near, lon, lat) in marks() {
        for (z, scale) in [(8u8, 1u32), (10, 1), (12, 2), (14, 1)] {
            let (gx, gy) = mercator_px(lon, lat, z);
            let (tx, ty) = ((gx / 256.0).floor(), (gy / 256.0).floor());
            let at = if scale == 2 { "@2x" } else { "" };
            let reply = get(&format!("/overlays/{ID}/{z}/{tx}/{ty}{at}.png"));
            assert_eq!((reply.status, reply.header("content-type")), (200, "image/png"), "{near} z{z}");
            let tile = decode_png(&reply.body);
            assert_eq!(tile.width, 256 * scale);
            let want = ((gx - tx * 256.0) * f64::from(scale), (gy - ty * 256.0) * f64::from(scale));
            let radius = 6.0 * f64::from(scale) * if z >= 12 { 4.0 } else { 1.0 };
            // A mark cut by the tile's edge has its centroid pulled inside: not a fair test.
            let size = f64::from(tile.width);
            if want.0 < radius || want.1 < radius || want.0 > size - radius || want.1 > size - radius {
                continue;
            }
            let (x, y, w) = red_centroid(&tile, want, radius);
            assert!(w > 0.0, "{near} z{z}: no red near {want:?}");
            let off = ((x - want.0).powi(2) + (y - want.1).powi(2)).sqrt();
            assert!(off <= 0.75, "{near} z{z}{at}: the mark is at ({x:.2}, {y:.2}), Web Mercator says {want:?}");
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} marks were away from tile edges");
}

#[test]
fn outside_the_bounds_a_tile_is_empty() {
    // Paris, far from the pattern: the pre-encoded transparent tile.
    let far = get("/overlays/test-pattern/10/518/352.png");
    assert_eq!(far.status, 200);
    let img = decode_png(&far.body);
    assert!(img.rgba.chunks(4).all(|p| p[3] == 0), "a tile far from the image has a visible pixel");
    let events_clear = get_url(&format!("{}/overlays/events/10/518/352.png", base()));
    assert_eq!(far.body, events_clear.body, "the same pre-encoded empty tile");
    // The tile across the pattern's west edge: clear west of it, the pattern east of it.
    let b = &sidecar()["bounds"];
    let (west, lat) = (b[0].as_f64().expect("west"), 36.0);
    let (gx, gy) = mercator_px(west, lat, 11);
    let (tx, ty) = ((gx / 256.0).floor(), (gy / 256.0).floor());
    let tile = decode_png(&get(&format!("/overlays/{ID}/11/{tx}/{ty}.png")).body);
    let edge = gx - tx * 256.0;
    assert!((8.0..248.0).contains(&edge), "the edge is at {edge}");
    let y = (gy - ty * 256.0) as u32;
    for x in 0..256u32 {
        let centre = f64::from(x) + 0.5;
        let alpha = tile.pixel(x, y)[3];
        if centre < edge - 0.01 {
            assert_eq!(alpha, 0, "x={x}, west of the edge at {edge:.2}");
        } else if centre > edge + 0.01 {
            assert!(alpha > 0, "x={x}, east of the edge at {edge:.2}");
        }
    }
}

#[test]
fn an_unknown_image_is_a_json_404() {
    for path in ["/overlays/nope/8/154/100.png", "/overlays/nope/8/154/100@2x.webp", "/overlays/nope/tiles.json"] {
        let description = get(path).assert_error(404, "not_found");
        assert!(description.contains("'nope'") && description.contains("/overlays"), "{path}: {description}");
    }
    let description = get(&format!("/overlays/{ID}/8/154/100.jpg")).assert_error(404, "unsupported_format");
    assert!(description.contains("transparen"), "{description}");
    get(&format!("/overlays/{ID}/99/0/0.png")).assert_error(404, "tile_out_of_range");
    get(&format!("/overlays/{ID}/tiles.json?format=jpg")).assert_error(400, "invalid_parameter");
    // The event overlay keeps its route.
    let events = get("/overlays/events/9/308/201.png?datetime=2020-02-18");
    assert_eq!((events.status, events.header("content-type")), (200, "image/png"));
}

#[test]
fn overlays_are_listed_with_their_tilejson() {
    let list = get("/overlays").json();
    let overlays = list["overlays"].as_array().expect("overlays");
    assert_eq!(overlays[0]["id"], "events");
    let pattern = overlays.iter().find(|o| o["id"] == ID).expect("the test pattern is listed");
    assert_eq!(pattern["kind"], "image");
    assert_eq!(pattern["opacity"].as_f64().map(|o| (o * 100.0).round()), Some(70.0));
    assert_eq!(pattern["bounds"], sidecar()["bounds"]);
    assert_eq!(pattern["size"], sidecar()["size"]);
    let url = pattern["tilejson"].as_str().expect("tilejson URL");
    assert_eq!(url, format!("{}/overlays/{ID}/tiles.json", base()));
    // A strict TileJSON reader takes it.
    let reply = get_url(url);
    let tj: tilejson::TileJSON = serde_json::from_slice(&reply.body).expect("TileJSON the tilejson crate reads");
    assert_eq!(tj.tilejson, "3.0.0");
    assert_eq!(tj.tiles, vec![format!("{}/overlays/{ID}/{{z}}/{{x}}/{{y}}.png", base())]);
    let b = tj.bounds.expect("bounds");
    assert_eq!([b.left, b.bottom, b.right, b.top], [36.2, 35.5, 37.3, 36.4]);
    assert_eq!(tj.attribution.as_deref(), Some("test pattern"));
    let webp = get(&format!("/overlays/{ID}/tiles.json?format=webp")).json();
    let tiles = webp["tiles"][0].as_str().expect("tiles");
    assert!(tiles.ends_with(".webp"), "{tiles}");
    let tile = get_url(&tiles.replace("{z}", "10").replace("{x}", "616").replace("{y}", "403"));
    assert_eq!((tile.status, tile.header("content-type")), (200, "image/webp"));
    get("/overlays?x=1").assert_error(400, "invalid_parameter");
}

#[test]
fn image_tiles_carry_etags_and_cache_control() {
    let path = format!("/overlays/{ID}/10/616/403.png");
    let first = get(&path);
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"'), "{etag:?}");
    assert_eq!(first.header("cache-control"), "public, max-age=3600");
    let again = get_with_base(&path, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    let webp = get(&format!("/overlays/{ID}/10/616/403.webp"));
    assert_ne!(webp.header("etag"), etag);
}

fn get_with_base(path: &str, headers: &[(&str, &str)]) -> crate::common::Reply {
    request("GET", &format!("{}{path}", base()), headers, b"")
}

/// Broken entries: (file name, its bytes, the entry, what stderr must say).
fn broken_images() -> Vec<(&'static str, Vec<u8>, String, Vec<&'static str>)> {
    let png = std::fs::read(data_dir().join("test-pattern.png")).expect("png");
    let entry = |id: &str, file: &str, bounds: &str| {
        format!("[[images]]\nid = \"{id}\"\nfile = \"{file}\"\nbounds = {bounds}\n")
    };
    vec![
        (
            "broken-scan.png",
            b"\x89PNG\r\n\x1a\nthis is not the rest of a PNG".to_vec(),
            entry("scan", "broken-scan.png", "[36.2, 35.5, 37.3, 36.4]"),
            vec!["broken-scan.png", "scan", "cannot be decoded"],
        ),
        (
            "text.jpg",
            b"just some text".to_vec(),
            entry("scan", "text.jpg", "[36.2, 35.5, 37.3, 36.4]"),
            vec!["text.jpg", "cannot be decoded"],
        ),
        (
            "upside-down.png",
            png.clone(),
            entry("scan", "upside-down.png", "[36.2, 36.4, 37.3, 35.5]"),
            vec!["layers.toml", "scan", "south edge"],
        ),
        (
            "events.png",
            png.clone(),
            entry("events", "events.png", "[36.2, 35.5, 37.3, 36.4]"),
            vec!["layers.toml", "'events'", "the id"],
        ),
        (
            "roads.png",
            png,
            entry("roads", "roads.png", "[36.2, 35.5, 37.3, 36.4]"),
            vec!["'roads'", "is the id of a layer"],
        ),
    ]
}

#[test]
fn a_broken_image_stops_check_and_start_up_with_its_name() {
    for (file, bytes, entry, says) in broken_images() {
        let dir = geodata_with(&format!("broken-image-{file}"), file, &bytes, &entry);
        let (out, stderr) = run(tessera().arg("check").arg("--geodata").arg(&dir));
        assert!(!out.status.success(), "{file}: check passed");
        for s in &says {
            assert!(stderr.contains(s), "check, {file}: {stderr:?} does not say {s:?}");
        }
        let mut server =
            Running::start(tessera().args(["serve", "--listen", "127.0.0.1:0"]).arg("--geodata").arg(&dir));
        assert_eq!(server.url(), None, "{file}: the server started");
        assert!(!server.child.wait().expect("wait").success(), "{file}");
        let mut stderr = String::new();
        if let Some(mut e) = server.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut stderr).expect("stderr");
        }
        for s in &says {
            assert!(stderr.contains(s), "serve, {file}: {stderr:?} does not say {s:?}");
        }
    }
}

#[test]
fn check_lists_an_image_with_its_size() {
    let png = std::fs::read(data_dir().join("test-pattern.png")).expect("png");
    let dir = geodata_with("check-image", "test-pattern.png", &png, &pattern_entry(ID, "test-pattern.png"));
    let (out, stderr) = run(tessera().arg("check").arg("--geodata").arg(&dir));
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("test-pattern") && stdout.contains("image 1100 x 900 px"), "{stdout}");
    assert!(stdout.contains("1 images, all valid"), "{stdout}");
}
