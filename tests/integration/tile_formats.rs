//! Tiles in WebP and JPEG beside PNG: decoded by an independent decoder (Pillow) at the right
//! size and with the right pixels, WebP smaller than PNG on the default tiles, the format in
//! TileJSON, JPEG's quality setting, and JPEG refused for the transparent event overlay.

use crate::api_definition::python_with;
use crate::common::{get, get_url, scratch_dir, server, settings_with, start_server};

/// The golden tiles and their neighbours at zoom 8: the default map at every kind of zoom.
const DEFAULT_TILES: [&str; 8] =
    ["6/38/25", "7/76/50", "8/153/100", "8/154/100", "9/308/201", "11/1233/802", "12/2466/1605", "12/2467/1604"];

#[test]
fn every_format_decodes_with_pillow_at_its_size_with_the_pngs_pixels() {
    let mut paths = Vec::new();
    for tile in ["8/154/100", "12/2466/1605"] {
        for at in ["", "@2x"] {
            for ext in ["png", "webp", "jpg"] {
                paths.push(format!("/tiles/{tile}{at}.{ext}"));
            }
        }
    }
    // The event overlay, transparent: PNG and WebP.
    for at in ["", "@2x"] {
        for ext in ["png", "webp"] {
            paths.push(format!("/overlays/events/9/308/201{at}.{ext}?datetime=2020-02-18"));
        }
    }
    // Pillow reads the paths without their query; the overlay paths carry one for the server.
    let args: Vec<&str> = std::iter::once(server()).chain(paths.iter().map(String::as_str)).collect();
    let Some(seen) = python_with("check_formats.py", &args) else { return };
    for path in &paths {
        let s = &seen[path.as_str()];
        let (stem, ext) = path.split_once('?').map_or(path.as_str(), |(p, _)| p).rsplit_once('.').expect("ext");
        let size = if stem.ends_with("@2x") { 512 } else { 256 };
        let (format, mime, modes): (&str, &str, &[&str]) = match ext {
            // tessera writes indexed, RGB or RGBA PNGs, whichever holds the tile.
            "png" => ("PNG", "image/png", &["P", "RGB", "RGBA"]),
            "webp" => ("WEBP", "image/webp", &["RGB", "RGBA"]),
            _ => ("JPEG", "image/jpeg", &["RGB"]),
        };
        assert_eq!(s["content_type"], mime, "{path}: {s}");
        assert_eq!(s["format"], format, "{path}: {s}");
        assert_eq!(s["size"], serde_json::json!([size, size]), "{path}: {s}");
        assert!(modes.contains(&s["mode"].as_str().unwrap_or("")), "{path}: {s}");
        match ext {
            "webp" => assert_eq!(s["max_channel_diff_from_png"], 0, "{path}: lossless WebP: {s}"),
            "jpg" => {
                let diff = s["mean_channel_diff_from_png"].as_f64().expect("a JPEG difference");
                assert!(diff < 4.0, "{path}: JPEG mean difference {diff} from the PNG laid on white");
            }
            _ => {}
        }
    }
}

#[test]
fn webp_is_smaller_than_png_on_the_default_tiles() {
    let (mut png_total, mut webp_total) = (0, 0);
    for tile in DEFAULT_TILES {
        for at in ["", "@2x"] {
            let png = get(&format!("/tiles/{tile}{at}.png"));
            let webp = get(&format!("/tiles/{tile}{at}.webp"));
            assert_eq!((png.status, webp.status), (200, 200), "{tile}{at}");
            assert_eq!(webp.header("content-type"), "image/webp");
            assert!(webp.body.starts_with(b"RIFF") && &webp.body[8..12] == b"WEBP", "{tile}{at}: not a WebP file");
            assert!(
                webp.body.len() < png.body.len(),
                "{tile}{at}: WebP {} >= PNG {} bytes",
                webp.body.len(),
                png.body.len()
            );
            png_total += png.body.len();
            webp_total += webp.body.len();
        }
    }
    let ratio = webp_total as f64 / png_total as f64;
    assert!(ratio < 0.8, "WebP is {:.0}% of PNG over the default tiles", ratio * 100.0);
}

#[test]
fn formats_have_their_own_etags_and_revalidate() {
    let png = get("/tiles/9/308/201.png");
    let webp = get("/tiles/9/308/201.webp");
    let jpg = get("/tiles/9/308/201.jpg");
    let tags = [png.header("etag"), webp.header("etag"), jpg.header("etag")];
    assert!(tags.iter().all(|t| t.starts_with('"')), "{tags:?}");
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "{tags:?}");
    assert_eq!(jpg.header("cache-control"), png.header("cache-control"));
    let again = crate::common::get_with("/tiles/9/308/201.webp", &[("If-None-Match", tags[1])]);
    assert_eq!(again.status, 304);
}

#[test]
fn tilejson_lists_tiles_in_the_format_asked_for() {
    for (format, ext) in [("", "png"), ("?format=png", "png"), ("?format=webp", "webp"), ("?format=jpg", "jpg")] {
        let tj = get(&format!("/tiles.json{format}")).json();
        let tiles = tj["tiles"][0].as_str().expect("a tile URL");
        assert!(tiles.ends_with(&format!("/tiles/{{z}}/{{x}}/{{y}}.{ext}")), "{format}: {tiles}");
        let tile = get_url(&tiles.replace("{z}", "8").replace("{x}", "154").replace("{y}", "100"));
        assert_eq!(tile.status, 200, "{tiles}");
    }
    let with_layers = get("/tiles.json?format=webp&layers=roads").json();
    assert!(with_layers["tiles"][0].as_str().is_some_and(|t| t.ends_with(".webp?layers=roads")), "{with_layers}");
    let description = get("/tiles.json?format=gif").assert_error(400, "invalid_parameter");
    assert!(description.contains("format") && description.contains("webp"), "{description}");
}

#[test]
fn jpeg_is_refused_for_the_transparent_event_overlay() {
    for path in ["/overlays/events/8/154/100.jpg", "/overlays/events/8/154/100@2x.jpg"] {
        let description = get(path).assert_error(404, "unsupported_format");
        assert!(description.contains("transparen") && description.contains(".webp"), "{path}: {description}");
    }
    let webp = get("/overlays/events/8/154/100.webp");
    assert_eq!((webp.status, webp.header("content-type")), (200, "image/webp"));
}

#[test]
fn the_jpeg_quality_setting_changes_the_jpeg_tiles() {
    let low = start_server(settings_with(|c| c.tiles.jpeg_quality = 20), &scratch_dir("jpeg-quality-20"));
    let high = start_server(settings_with(|c| c.tiles.jpeg_quality = 98), &scratch_dir("jpeg-quality-98"));
    let size = |base: &str| get_url(&format!("{base}/tiles/9/308/201.jpg")).body.len();
    let (small, large) = (size(&low), size(&high));
    assert!(small * 2 < large, "quality 20: {small} bytes, quality 98: {large} bytes");
}
