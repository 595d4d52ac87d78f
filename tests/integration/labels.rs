//! Place names on raster tiles: golden tiles in Arabic and in both languages, labels across tile
//! seams (a 3x3 block of tiles stitched and compared with the same area drawn at once), placement
//! stable from run to run, and the `lang` parameter over HTTP.
//!
//! The English goldens are the tiles of `golden.rs`, which a default server labels in English.

use std::collections::HashSet;

use tessera::layer::{Layer, load_dir};
use tessera::render::label::{PlacedLabel, PxRect, labels_in};
use tessera::render::{Scale, TileImage, render_area, render_png, render_tile};
use tessera::style::Lang;
use tessera::tile::TileCoord;

use crate::common::{decode_png, features, get, get_url, mercator_px, point, url};
use crate::golden::{catalog, check_golden};

#[test]
fn golden_idlib_z9_arabic() {
    check_golden("labels-ar-idlib-z9-308-201", "9/308/201", Scale::X1, Some(Lang::Ar));
}

#[test]
fn golden_idlib_z9_both_languages() {
    check_golden("labels-both-idlib-z9-308-201", "9/308/201", Scale::X1, Some(Lang::Both));
}

#[test]
fn golden_termanin_z11_both_languages_retina() {
    check_golden("labels-both-termanin-z11-1233-802@2x", "11/1233/802", Scale::X2, Some(Lang::Both));
}

#[test]
fn golden_overview_z7_arabic() {
    check_golden("labels-ar-overview-z7-76-50", "7/76/50", Scale::X1, Some(Lang::Ar));
}

/// Premultiplied RGBA of a drawn area, or of the background when it came out empty.
fn pixels(image: TileImage, size: usize) -> Vec<u8> {
    match image {
        TileImage::Drawn(p) => p.data().to_vec(),
        TileImage::Empty => {
            let bg = catalog().background.expect("the default data has a background");
            [bg.r, bg.g, bg.b, bg.a].repeat(size * size)
        }
    }
}

fn layers() -> Vec<&'static Layer> {
    catalog().select(None).expect("all layers")
}

fn tile_area(t: TileCoord) -> PxRect {
    PxRect::new(f64::from(t.x()) * 256.0, f64::from(t.y()) * 256.0, 256.0, 256.0)
}

/// What identifies a placed label: its feature, text and box.
fn key(l: &PlacedLabel) -> (String, usize, Vec<String>, [i64; 4]) {
    let r = l.rect;
    (l.layer.clone(), l.feature, l.text.clone(), [r.x0, r.y0, r.x1, r.y1].map(|v| v as i64))
}

/// Renders the 3x3 tiles from (x0, y0), stitches them into one 768 px image, and checks every
/// label against the same area drawn at once; returns how many labels cross a seam.
fn check_block(z: u8, x0: u32, y0: u32, lang: Lang) -> usize {
    let c = catalog();
    let layers = layers();
    let area = PxRect::new(f64::from(x0) * 256.0, f64::from(y0) * 256.0, 768.0, 768.0);
    let mut stitched = vec![0u8; 768 * 768 * 4];
    let whole_labels = labels_in(&layers, z, area, lang);
    let mut seen: HashSet<_> = HashSet::new();
    for j in 0..3u32 {
        for i in 0..3u32 {
            let t = TileCoord::new(u32::from(z), u64::from(x0 + i), u64::from(y0 + j)).expect("tile");
            let px = pixels(render_tile(c, &layers, t, Scale::X1, Some(lang)), 256);
            for row in 0..256usize {
                let dst = ((j as usize * 256 + row) * 768 + i as usize * 256) * 4;
                stitched[dst..dst + 1024].copy_from_slice(&px[row * 1024..row * 1024 + 1024]);
            }
            // The tile's labels are exactly the area's labels that reach into the tile: the same
            // feature, text and box, whichever tile or area asks.
            let mut own: Vec<_> = labels_in(&layers, z, tile_area(t), lang).iter().map(key).collect();
            let mut expected: Vec<_> =
                whole_labels.iter().filter(|l| l.rect.overlaps(&tile_area(t))).map(key).collect();
            own.sort();
            expected.sort();
            assert_eq!(own, expected, "{z}/{}/{} ({lang})", t.x(), t.y());
            seen.extend(own);
        }
    }
    // Once: no feature is labelled twice, and every label of the area was drawn by some tile.
    let features: HashSet<_> = whole_labels.iter().map(|l| (l.layer.clone(), l.feature)).collect();
    assert_eq!(features.len(), whole_labels.len(), "a feature labelled twice at {z}/{x0}/{y0}");
    assert_eq!(seen.len(), whole_labels.len());
    for (a, b) in whole_labels.iter().enumerate().flat_map(|(i, a)| whole_labels[i + 1..].iter().map(move |b| (a, b))) {
        assert!(!a.rect.overlaps(&b.rect), "{:?} overlaps {:?}", a.text, b.text);
    }
    // Whole: inside every label's box, the stitched tiles show what the area drawn at once
    // shows (up to the golden tolerance, for anti-aliased map edges under the halo).
    let whole = pixels(render_area(c, &layers, z, area, Scale::X1, Some(lang)), 768);
    let mut crossing = 0;
    for l in &whole_labels {
        let (lx0, ly0) = ((l.rect.x0 - area.x0).max(0.0) as usize, (l.rect.y0 - area.y0).max(0.0) as usize);
        let (lx1, ly1) = ((l.rect.x1 - area.x0).min(768.0) as usize, (l.rect.y1 - area.y0).min(768.0) as usize);
        let (mut differ, mut total) = (0, 0);
        for y in ly0..ly1 {
            for x in lx0..lx1 {
                let i = (y * 768 + x) * 4;
                total += 1;
                if stitched[i..i + 4].iter().zip(&whole[i..i + 4]).any(|(a, b)| a.abs_diff(*b) > 8) {
                    differ += 1;
                }
            }
        }
        assert!(differ * 200 <= total, "{:?} at {z}/{x0}/{y0}: {differ} of {total} pixels differ", l.text);
        let seams = [256usize, 512];
        if seams.iter().any(|&s| (lx0 < s && s < lx1) || (ly0 < s && s < ly1)) {
            crossing += 1;
        }
    }
    crossing
}

#[test]
fn labels_cross_tile_seams_whole_and_once() {
    let mut crossing = 0;
    for (z, x0, y0, lang) in [
        (7, 75, 49, Lang::En),
        (8, 152, 99, Lang::Both),
        (8, 153, 100, Lang::Ar),
        (9, 306, 200, Lang::En),
        (9, 307, 200, Lang::Both),
        (11, 1232, 801, Lang::Both),
        (12, 2465, 1604, Lang::Ar),
    ] {
        crossing += check_block(z, x0, y0, lang);
    }
    assert!(crossing >= 5, "only {crossing} labels cross a seam: the test shows little");
}

#[test]
fn placement_is_stable_from_run_to_run() {
    // The same tile twice, and once more from a catalog loaded afresh: the same bytes.
    let again = load_dir(&crate::common::geodata()).expect("geodata loads");
    let fresh = again.select(None).expect("all layers");
    for (tile, lang) in [("8/154/100", Lang::Both), ("11/1233/802", Lang::Ar), ("9/308/201", Lang::En)] {
        let t: TileCoord = tile.parse().expect("tile");
        let a = render_png(catalog(), &layers(), t, Scale::X2, Some(lang)).expect("renders");
        let b = render_png(catalog(), &layers(), t, Scale::X2, Some(lang)).expect("renders");
        let c = render_png(&again, &fresh, t, Scale::X2, Some(lang)).expect("renders");
        assert!(a == b && b == c, "{tile} {lang}: the bytes differ between runs");
    }
}

#[test]
fn a_label_is_drawn_in_its_own_colour_beside_its_place() {
    // Idlib's name (report-places, bold #641e16) at z9, right of its symbol: dark red pixels.
    let t: TileCoord = "9/308/201".parse().expect("tile");
    let idlib = labels_in(&layers(), 9, tile_area(t), Lang::En)
        .into_iter()
        .find(|l| l.layer == "report-places" && l.text == ["Idlib"])
        .expect("Idlib is labelled at z9");
    let (w, _, rgba) =
        crate::golden::decode(&render_png(catalog(), &layers(), t, Scale::X1, Some(Lang::En)).expect("renders"));
    let dark_red = (idlib.rect.y0 as u32..idlib.rect.y1 as u32)
        .flat_map(|y| (idlib.rect.x0 as u32..idlib.rect.x1 as u32).map(move |x| (x, y)))
        .filter(|&(x, y)| x >= t.x() * 256 && y >= t.y() * 256)
        .map(|(x, y)| (((y - t.y() * 256) * w + (x - t.x() * 256)) * 4) as usize)
        .filter(|&i| i + 3 < rgba.len() && rgba[i].abs_diff(0x64) < 24 && rgba[i + 1] < 0x40 && rgba[i + 2] < 0x40)
        .count();
    assert!(dark_red > 20, "only {dark_red} pixels of the label's colour in its box");
}

#[test]
fn lang_chooses_the_names_and_an_unknown_one_is_refused() {
    let tile = "/tiles/9/308/201.png";
    let en = get(tile);
    let default_en = get(&format!("{tile}?lang=en"));
    let ar = get(&format!("{tile}?lang=ar"));
    let both = get(&format!("{tile}?lang=both"));
    let none = get(&format!("{tile}?lang=none"));
    for r in [&en, &default_en, &ar, &both, &none] {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), "image/png");
    }
    // The default is English; each language is its own tile (and its own cache entry).
    assert_eq!(en.body, default_en.body);
    let bodies: HashSet<&[u8]> = [&en, &ar, &both, &none].iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(bodies.len(), 4, "en, ar, both and none give four different tiles");
    assert_ne!(en.header("etag"), ar.header("etag"));
    let image = decode_png(&ar.body);
    assert_eq!((image.width, image.height), (256, 256));

    let bad = get(&format!("{tile}?lang=fr"));
    assert_eq!(bad.status, 400);
    let body = bad.json();
    assert_eq!(body["code"], "invalid_parameter");
    assert!(body["description"].as_str().is_some_and(|d| d.contains("lang") && d.contains("fr")), "{body}");

    // TileJSON carries the language into the tile URL.
    let tj = get_url(&url("/tiles.json?lang=ar")).json();
    assert!(tj["tiles"][0].as_str().is_some_and(|t| t.ends_with(".png?lang=ar")), "{tj}");
}

#[test]
fn the_default_language_is_the_servers() {
    let settings = crate::common::settings_with(|c| c.tiles.label_lang = Lang::Ar);
    let base = crate::common::start_server(settings, &crate::common::scratch_dir("labels-ar-default"));
    let plain = get_url(&format!("{base}/tiles/9/308/201.png"));
    let ar = get_url(&format!("{base}/tiles/9/308/201.png?lang=ar"));
    let en = get_url(&format!("{base}/tiles/9/308/201.png?lang=en"));
    assert_eq!(plain.body, ar.body);
    assert_ne!(plain.body, en.body);
}

/// The place-name layers' points, read from their files: (layer, name, lon, lat).
fn named_points() -> Vec<(String, String, f64, f64)> {
    let mut out = Vec::new();
    for (layer, file) in
        [("cities", "cities.geojson"), ("towns", "towns.geojson"), ("report-places", "report-places.geojson")]
    {
        for f in features(file) {
            let (lon, lat) = point(&f);
            out.push((layer.to_owned(), f["properties"]["name"].as_str().unwrap_or("").to_owned(), lon, lat));
        }
    }
    out
}

/// The position of the one point named `name` in `layer`'s file.
fn place(layer: &str, name: &str) -> (f64, f64) {
    let found: Vec<_> = named_points().into_iter().filter(|p| p.0 == layer && p.1 == name).collect();
    assert_eq!(found.len(), 1, "{layer} holds one {name}");
    (found[0].2, found[0].3)
}

/// A square area of `half` CSS px either side of the middle of `points` at zoom `z`.
fn area_around(points: &[(f64, f64)], z: u8, half: f64) -> PxRect {
    let px: Vec<(f64, f64)> = points.iter().map(|&(lon, lat)| mercator_px(lon, lat, z)).collect();
    let n = px.len() as f64;
    let (cx, cy) = (px.iter().map(|p| p.0).sum::<f64>() / n, px.iter().map(|p| p.1).sum::<f64>() / n);
    PxRect::new(cx - half, cy - half, 2.0 * half, 2.0 * half)
}

/// Texts of the labels placed in an area, in English.
fn names_in(z: u8, area: PxRect) -> Vec<String> {
    labels_in(&layers(), z, area, Lang::En).into_iter().map(|l| l.text.join(" ")).collect()
}

/// The served tile pixel (256 px tiles, `lang`) at a position.
fn served_pixel((lon, lat): (f64, f64), z: u8, lang: &str) -> [u8; 4] {
    let (x, y) = mercator_px(lon, lat, z);
    let (tx, ty) = ((x / 256.0) as u32, (y / 256.0) as u32);
    let image = crate::common::get_tile(&format!("/tiles/{z}/{tx}/{ty}.png?lang={lang}"), 256);
    image.pixel((x - f64::from(tx) * 256.0) as u32, (y - f64::from(ty) * 256.0) as u32)
}

#[test]
fn a_capital_is_named_before_the_towns_around_it() {
    // Damascus (Natural Earth "Admin-0 capital") at zoom 6 sits among Douma, Zahle, B'abda,
    // Saida, Nabatiye and Al Qunaytirah, whose symbols blocked every side of its name. It is
    // named, and on the served @2x tile (issue: /tiles/6/38/25@2x.png) its box holds letters of
    // the cities' label colour.
    let damascus = place("cities", "Damascus");
    let t = TileCoord::new(6, 38, 25).expect("tile");
    let label = labels_in(&layers(), 6, tile_area(t), Lang::En)
        .into_iter()
        .find(|l| l.text == ["Damascus"])
        .unwrap_or_else(|| panic!("Damascus is not named at z6: {:?}", names_in(6, tile_area(t))));
    assert_eq!(label.layer, "cities");
    let (dx, dy) = mercator_px(damascus.0, damascus.1, 6);
    let near = |v: f64, lo: f64, hi: f64| v >= lo - 12.0 && v <= hi + 12.0;
    assert!(near(dx, label.rect.x0, label.rect.x1) && near(dy, label.rect.y0, label.rect.y1), "beside its point");
    let image = decode_png(&get("/tiles/6/38/25@2x.png").body);
    // The cities layer sets no label_color: the default, #222222 (README, "Your own data").
    assert!(crate::common::layer_entry("cities").get("label_color").is_none());
    let ink = crate::common::hex("#222222");
    let mut dark = 0;
    for y in (label.rect.y0 as u32 - 25 * 256)..(label.rect.y1 as u32 - 25 * 256) {
        for x in (label.rect.x0 as u32 - 38 * 256)..(label.rect.x1 as u32 - 38 * 256) {
            for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                if crate::common::distance2(image.pixel(2 * x + i, 2 * y + j), ink) < 30 * 30 {
                    dark += 1;
                }
            }
        }
    }
    assert!(dark > 40, "only {dark} letter pixels in Damascus's box on the served tile");
}

#[test]
fn countries_are_named_at_zooms_5_and_6() {
    // SYRIA and TURKEY over the tiles around the map's region (4 x 4 tiles at z5, 6 x 6 at z6).
    for (z, x0, y0, n) in [(5u8, 18u32, 11u32, 4u32), (6, 36, 23, 6)] {
        let area =
            PxRect::new(f64::from(x0) * 256.0, f64::from(y0) * 256.0, f64::from(n) * 256.0, f64::from(n) * 256.0);
        let names = names_in(z, area);
        for country in ["SYRIA", "TURKEY"] {
            assert!(names.iter().any(|n| n == country), "z{z}: {country} is not named: {names:?}");
        }
    }
}

#[test]
fn aleppo_is_named_once_and_drawn_once_at_every_zoom() {
    // Aleppo is a Natural Earth city, a GeoNames town and a place of the report; the Natural
    // Earth point is 3.5 km from the other two (the GeoNames centroid).
    let ne = place("cities", "Aleppo");
    let report = place("report-places", "Aleppo");
    for z in 6..=14u8 {
        let names = names_in(z, area_around(&[ne, report], z, 600.0));
        assert_eq!(names.iter().filter(|n| *n == "Aleppo").count(), 1, "z{z}: {names:?}");
    }
    // One symbol: where the Natural Earth point lies, 55 px from the report's at zoom 11, the
    // served tiles show no city dot (#3b3b3b) at zooms 11 and 12, with names and without.
    let dot = crate::common::layer_color("cities", "fill");
    for z in [11u8, 12] {
        for lang in ["en", "none"] {
            let p = served_pixel(ne, z, lang);
            assert!(
                crate::common::distance2(p, dot) > 40 * 40,
                "z{z} {lang}: a city dot at the Natural Earth Aleppo: {p:?}"
            );
        }
    }
}

#[test]
fn antioch_and_hatay_are_one_place_with_one_name() {
    // Natural Earth lists Antakya twice (Antioch and Hatay, 0.45 km apart), and GeoNames has it
    // as Antakya (4.7 km from Antioch): one name for them at every zoom.
    let points = [place("cities", "Antioch"), place("cities", "Hatay"), place("towns", "Antakya")];
    for z in 6..=14u8 {
        let names = names_in(z, area_around(&points, z, 700.0));
        let city: Vec<&String> =
            names.iter().filter(|n| ["Antioch", "Hatay", "Antakya"].contains(&n.as_str())).collect();
        assert_eq!(city.len(), 1, "z{z}: {names:?}");
    }
    // One symbol: at zoom 12 the two Natural Earth points are 20 px apart; one of them shows a
    // city dot on the served tile, the other none, and no town dot marks Antakya.
    let dot = crate::common::layer_color("cities", "fill");
    let is_dot = |p: [u8; 4]| crate::common::distance2(p, dot) < 30 * 30;
    let drawn: Vec<bool> = points[..2].iter().map(|&p| is_dot(served_pixel(p, 12, "none"))).collect();
    assert_eq!(drawn.iter().filter(|&&d| d).count(), 1, "Antioch, Hatay dots at z12: {drawn:?}");
    let town = crate::common::layer_color("towns", "fill");
    let p = served_pixel(points[2], 12, "none");
    assert!(crate::common::distance2(p, town) > 30 * 30, "a town dot at Antakya: {p:?}");
}
