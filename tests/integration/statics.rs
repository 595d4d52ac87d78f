//! Static map images (`/static/...`, issue 16): decoded, with known places found at the pixels
//! that Web Mercator gives, the credit in the corner, the events drawn, the size limit, ETags.

use crate::common::{Image, background, close, decode_png, get, get_with, layer_color, mercator_px};

/// Termanin, as in geodata/report-places.geojson.
const TERMANIN: (f64, f64) = (36.817, 36.233);

fn image(path: &str, width: u32, height: u32) -> Image {
    let reply = get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    assert_eq!(reply.header("content-type"), "image/png", "{path}");
    let image = decode_png(&reply.body);
    assert_eq!((image.width, image.height), (width, height), "{path}");
    image
}

/// Where a point falls in an image of `w` x `h` CSS px centred on `centre` at zoom `z`: the
/// image's corner is the centre's world pixel less half the size, to the nearest whole pixel.
fn in_view(p: (f64, f64), centre: (f64, f64), z: u8, w: u32, h: u32) -> (f64, f64) {
    let (cx, cy) = mercator_px(centre.0, centre.1, z);
    let (x0, y0) = ((cx - f64::from(w) / 2.0).round(), (cy - f64::from(h) / 2.0).round());
    let (px, py) = mercator_px(p.0, p.1, z);
    (px - x0, py - y0)
}

#[test]
fn a_static_map_puts_termanin_at_the_pixel_web_mercator_says() {
    let fill = layer_color("report-places", "fill");
    // Centred on Termanin: its symbol at the image's centre.
    let img = image("/static/36.817,36.233,12/300x200.png?layers=report-places&lang=none", 300, 200);
    let (x, y) = in_view(TERMANIN, TERMANIN, 12, 300, 200);
    assert!((x - 150.0).abs() <= 0.5 && (y - 100.0).abs() <= 0.5, "({x}, {y})");
    assert!(close(img.pixel(x as u32, y as u32), fill, 8), "{:?}", img.pixel(x as u32, y as u32));
    // Centred elsewhere: the symbol where Mercator puts it, and the background between.
    let centre = (36.70, 36.30);
    for z in [10u8, 11] {
        let img = image(
            &format!("/static/{},{},{z}/640x480.png?layers=report-places&lang=none", centre.0, centre.1),
            640,
            480,
        );
        let (x, y) = in_view(TERMANIN, centre, z, 640, 480);
        assert!(close(img.pixel(x as u32, y as u32), fill, 8), "z{z} ({x}, {y}): {:?}", img.pixel(x as u32, y as u32));
        assert_eq!(img.pixel((x - 40.0) as u32, (y + 40.0) as u32), background(), "z{z}: away from every place");
    }
    // At @2x: twice the pixels, the symbol at twice the position.
    let centre = (36.78, 36.25);
    let img = image("/static/36.78,36.25,11/320x240@2x.png?layers=report-places&lang=none", 640, 480);
    let (x, y) = in_view(TERMANIN, centre, 11, 320, 240);
    assert!(close(img.pixel((2.0 * x) as u32, (2.0 * y) as u32), fill, 8));
}

#[test]
fn a_static_map_of_a_box_is_fitted_at_the_deepest_zoom_that_holds_it() {
    let fill = layer_color("report-places", "fill");
    let (w, s, e, n) = (36.55, 36.05, 37.05, 36.40);
    let (width, height) = (400u32, 300u32);
    // The deepest zoom at which the box's Mercator extent fits in 400 x 300.
    let fits = |z: u8| {
        let (x0, y0) = mercator_px(w, n, z);
        let (x1, y1) = mercator_px(e, s, z);
        x1 - x0 <= f64::from(width) && y1 - y0 <= f64::from(height)
    };
    let z = (0..=20u8).take_while(|&z| fits(z)).last().expect("a zoom");
    assert_eq!(z, 9);
    let img =
        image(&format!("/static/{w},{s},{e},{n}/{width}x{height}.png?layers=report-places&lang=none"), width, height);
    // Centred on the box's centre in Mercator.
    let (x0, y0) = mercator_px(w, n, z);
    let (x1, y1) = mercator_px(e, s, z);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (ox, oy) = ((cx - f64::from(width) / 2.0).round(), (cy - f64::from(height) / 2.0).round());
    let (px, py) = mercator_px(TERMANIN.0, TERMANIN.1, z);
    let (x, y) = (px - ox, py - oy);
    assert!(close(img.pixel(x as u32, y as u32), fill, 8), "({x}, {y}): {:?}", img.pixel(x as u32, y as u32));
}

#[test]
fn a_static_map_draws_the_events_and_the_credit() {
    // Far out at sea nothing of the map is drawn: the background, and the credit of the layers
    // asked for in the bottom-right corner, dark letters on a light band.
    let img = image("/static/20,35,8/300x100.png?layers=report-places", 300, 100);
    let bg = background();
    for y in 0..60 {
        for x in 0..300 {
            assert_eq!(img.pixel(x, y), bg, "({x}, {y}) above the credit");
        }
    }
    let dark = (0..100).flat_map(|y| (0..300).map(move |x| (x, y))).filter(|&(x, y)| img.pixel(x, y)[0] < 120).count();
    assert!(dark > 50, "the credit's letters: {dark} dark pixels");
    assert!(img.pixel(299, 99)[0] > 200, "the band is light: {:?}", img.pixel(299, 99));
    // The events: the seed air raid on Termanin hangs above the town on its leader.
    let plain = image("/static/36.817,36.233,12/300x200.png?layers=report-places&lang=none", 300, 200);
    let with = image(
        "/static/36.817,36.233,12/300x200.png?layers=report-places,events&lang=none&datetime=2020-02-18",
        300,
        200,
    );
    let above: Vec<u32> = (12..40).collect();
    let changed = above.iter().filter(|d| plain.pixel(150, 100 - **d) != with.pixel(150, 100 - **d)).count();
    assert!(changed > 10, "the event is drawn above Termanin: {changed} pixels changed");
    let before = image(
        "/static/36.817,36.233,12/300x200.png?layers=report-places,events&lang=none&datetime=2010-01-01",
        300,
        200,
    );
    assert!(before.rgba == plain.rgba, "no event on that day: only the place");
}

#[test]
fn static_map_sizes_are_limited_and_bad_views_refused_with_json() {
    for (path, status, code) in [
        ("/static/36.8,36.2,12/1281x100.png", 400, "image_too_large"),
        ("/static/36.8,36.2,12/100x5000@2x.png", 400, "image_too_large"),
        ("/static/36.8,36.2,12/0x100.png", 400, "invalid_view"),
        ("/static/36.8,36.2,12/100x100.gif", 400, "invalid_view"),
        ("/static/36.8,36.2,12.5/100x100.png", 400, "invalid_view"),
        ("/static/36.8,36.2,21/100x100.png", 400, "invalid_view"),
        ("/static/36.8,89,3/100x100.png", 400, "invalid_view"),
        ("/static/37,36,36,37/100x100.png", 400, "invalid_view"),
        ("/static/a,b,c/100x100.png", 400, "invalid_view"),
        ("/static/36.8,36.2,12/100x100.png?layers=nope", 400, "unknown_layer"),
        ("/static/36.8,36.2,12/100x100.png?layers=towns,labels", 400, "unknown_layer"),
        ("/static/36.8,36.2,12/100x100.png?lang=fr", 400, "invalid_parameter"),
    ] {
        get(path).assert_error(status, code);
    }
    let edge = image("/static/36.8,36.2,3/1280x1.png?layers=report-places", 1280, 1);
    assert_eq!(edge.width, 1280, "the limit itself is taken");
}

#[test]
fn a_static_map_has_an_etag_and_answers_if_none_match() {
    let path = "/static/36.7,36.0,9/200x150.webp?layers=governorates";
    let first = get(path);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), "image/webp");
    assert_eq!(first.header("cache-control"), "public, max-age=3600", "no events: a base tile's max-age");
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    assert_eq!(get(path).header("etag"), etag, "the cached image");
    assert_eq!(get_with(path, &[("If-None-Match", &etag)]).status, 304);
    let with_events = get("/static/36.7,36.0,9/200x150.png");
    assert_eq!(with_events.header("cache-control"), "no-cache", "with events: the overlays' max-age");
}
