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

use crate::common::{decode_png, get, get_url, url};
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
