//! Raster tiles and TileJSON over HTTP: decoded pixels checked against Web Mercator and the
//! manifest's styles, and every kind of bad tile request answered with a JSON error.

use crate::common::{
    background, close, decode_png, features, get, get_tile, get_url, layer_color, layer_entry, mercator_px, point,
    post, server,
};

/// Termanin, as in geodata/report-places.geojson.
const TERMANIN: (f64, f64) = (36.817, 36.233);

/// Position of a WGS84 point inside tile `z/x/y`, in pixels of a 256-pixel tile.
fn in_tile(lonlat: (f64, f64), z: u8, x: u32, y: u32) -> (f64, f64) {
    let (gx, gy) = mercator_px(lonlat.0, lonlat.1, z);
    (gx - 256.0 * f64::from(x), gy - 256.0 * f64::from(y))
}

#[test]
fn termanin_is_drawn_in_report_places_red_where_web_mercator_puts_it() {
    let (px, py) = in_tile(TERMANIN, 12, 2466, 1605);
    assert!((px - 229.3).abs() < 0.1 && (py - 40.7).abs() < 0.1, "({px}, {py})");
    let fill = layer_color("report-places", "fill");
    let bg = background();

    // Without place names (`lang=none`): only the symbols are drawn.
    let image = get_tile("/tiles/12/2466/1605.png?layers=report-places&lang=none", 256);
    let at = image.pixel(px as u32, py as u32);
    assert!(close(at, fill, 8), "{at:?} is not the fill {fill:?}");

    // Away from every report place (symbols are at most 14 px wide), only background.
    let places: Vec<(f64, f64)> =
        features("report-places.geojson").iter().map(|f| in_tile(point(f), 12, 2466, 1605)).collect();
    for y in 0..256 {
        for x in 0..256 {
            let (cx, cy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            if places.iter().all(|p| (p.0 - cx).hypot(p.1 - cy) > 12.0) {
                assert_eq!(image.pixel(x, y), bg, "pixel ({x}, {y})");
            }
        }
    }
}

#[test]
fn the_full_tile_over_termanin_is_256_px_and_shows_it() {
    let (px, py) = in_tile(TERMANIN, 12, 2466, 1605);
    let image = get_tile("/tiles/12/2466/1605.png", 256);
    let at = image.pixel(px as u32, py as u32);
    let fill = layer_color("report-places", "fill");
    assert!(close(at, fill, 8), "{at:?} is not the fill {fill:?}");
}

#[test]
fn a_retina_tile_is_512_px_and_draws_at_twice_the_position() {
    let (px, py) = in_tile(TERMANIN, 12, 2466, 1605);
    let image = get_tile("/tiles/12/2466/1605@2x.png?layers=report-places", 512);
    let at = image.pixel((2.0 * px) as u32, (2.0 * py) as u32);
    let fill = layer_color("report-places", "fill");
    assert!(close(at, fill, 8), "{at:?} is not the fill {fill:?}");
    get_tile("/tiles/12/2466/1605@2x.png", 512);
}

#[test]
fn an_empty_tile_far_away_is_all_background() {
    let bg = background();
    for (path, size) in [("/tiles/10/0/0.png", 256), ("/tiles/10/0/0@2x.png", 512)] {
        let image = get_tile(path, size);
        assert!(image.rgba.chunks(4).all(|p| p == bg), "{path} is not all {bg:?}");
    }
}

#[test]
fn bad_tile_requests_get_json_errors_and_the_server_keeps_serving() {
    let cases: [(&str, u16, &str, &str); 13] = [
        ("/tiles/1/0/0.png?layers=unknown", 400, "unknown_layer", "unknown"),
        ("/tiles/1/0/0.png?layers=roads,nope", 400, "unknown_layer", "nope"),
        ("/tiles/1/0/0.png?layers=", 400, "unknown_layer", "empty"),
        ("/tiles/1/0/0.png?layers=roads,,towns", 400, "unknown_layer", "empty"),
        ("/tiles/abc/1/1.png", 400, "invalid_tile", "abc"),
        ("/tiles/1/x/1.png", 400, "invalid_tile", "x"),
        ("/tiles/-1/0/0.png", 400, "invalid_tile", "-1"),
        ("/tiles/1/0/1.5.png", 400, "invalid_tile", "1.5"),
        ("/tiles/3/8/0.png", 404, "tile_out_of_range", "3/8/0"),
        ("/tiles/3/0/8.png", 404, "tile_out_of_range", "3/0/8"),
        ("/tiles/21/0/0.png", 404, "tile_out_of_range", "20"),
        ("/tiles/1/0/0.gif", 404, "unsupported_format", "gif"),
        ("/tiles/1/0/0.jpeg", 404, "unsupported_format", "jpeg"),
    ];
    for (path, status, code, names) in cases {
        let description = get(path).assert_error(status, code);
        assert!(description.contains(names), "{path}: {description:?} does not name {names:?}");
    }
    // A zoom too large for any integer type is still a client error with a JSON body.
    let huge = get("/tiles/99999999999999999999999/0/0.png");
    let code = huge.json()["code"].as_str().unwrap_or("").to_owned();
    assert!(["invalid_tile", "tile_out_of_range"].contains(&code.as_str()), "{code}");
    huge.assert_error(if code == "invalid_tile" { 400 } else { 404 }, &code);

    let health = get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
}

#[test]
fn post_on_a_tile_route_is_405_json() {
    post("/tiles/1/0/0.png").assert_error(405, "method_not_allowed");
}

#[test]
fn an_unknown_route_is_404_json() {
    get("/no/such/route").assert_error(404, "not_found");
    get("/tiles/1/0").assert_error(404, "not_found");
}

#[test]
fn tilejson_describes_the_tiles_and_its_template_serves_them() {
    let reply = get("/tiles.json");
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("application/json"));
    let tj = reply.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["scheme"], "xyz");
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 20);
    assert_eq!(tj["bounds"], serde_json::json!([34.5, 32.0, 39.5, 38.0]));
    assert_eq!(tj["center"], serde_json::json!([36.7, 36.0, 8]));
    let attribution = tj["attribution"].as_str().unwrap_or("");
    assert!(attribution.contains("GeoNames"), "{attribution}");
    assert!(attribution.contains("Natural Earth"), "{attribution}");

    let template = tj["tiles"][0].as_str().unwrap_or("");
    assert_eq!(template, format!("{}/tiles/{{z}}/{{x}}/{{y}}.png", server()));
    let tile_url = template.replace("{z}", "12").replace("{x}", "2466").replace("{y}", "1605");
    let tile = get_url(&tile_url);
    assert_eq!(tile.status, 200);
    assert_eq!(tile.header("content-type"), "image/png");
    let image = decode_png(&tile.body);
    assert_eq!((image.width, image.height), (256, 256));
}

#[test]
fn tilejson_carries_the_layers_into_the_template_and_credits_only_them() {
    let tj = get("/tiles.json?layers=roads").json();
    let template = tj["tiles"][0].as_str().unwrap_or("");
    assert_eq!(template, format!("{}/tiles/{{z}}/{{x}}/{{y}}.png?layers=roads", server()));
    assert_eq!(tj["attribution"], layer_entry("roads")["attribution"].as_str().unwrap_or("?"));
    assert_eq!(tj["minzoom"], 6, "the roads layer starts at zoom 6");

    let tile = get_url(&template.replace("{z}", "12").replace("{x}", "2466").replace("{y}", "1605"));
    assert_eq!(tile.status, 200);
    decode_png(&tile.body);

    get("/tiles.json?layers=nope").assert_error(400, "unknown_layer");
}
