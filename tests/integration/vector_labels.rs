//! Names in the vector map (issue 17): the tiles' `labels` layer checked against the raster
//! tiles' own placement (every name a raster tile draws is a point of the vector tile, with the
//! same text, at its place, named by the same feature; one point per place), the text layers
//! of `/style.json` in each language, the cluster counts, and the glyph ranges of `/fonts`
//! decoded with the protobuf messages of `pbf_font_tools`.

use std::collections::{BTreeMap, BTreeSet};

use mvt_reader::feature::Value as Mvt;
use pbf_font_tools::Glyphs;
use pbf_font_tools::prost::Message;
use serde_json::Value;
use tessera::render::label::{PxRect, labels_in, world_px};
use tessera::style::Lang;
use tessera::tile::{LonLat, TileCoord};

use crate::common::{get, get_with, mercator_px};
use crate::golden::catalog;
use crate::mvt::{EXTENT, Feature, IDLIB, TERMANIN, extent_xy, fetch, tile_of, tile_path};

/// The `labels` layer of a tile (all layers), empty when the tile has none.
fn labels((z, x, y): (u8, u32, u32)) -> Vec<Feature> {
    fetch(&tile_path((z, x, y), "")).remove("labels").map(|l| l.features).unwrap_or_default()
}

fn text(f: &Feature, key: &str) -> Option<String> {
    f.str(key).map(str::to_owned)
}

fn number(f: &Feature, key: &str) -> f64 {
    match f.props.get(key) {
        Some(Mvt::UInt(u)) => *u as f64,
        Some(Mvt::SInt(i) | Mvt::Int(i)) => *i as f64,
        Some(Mvt::Double(d)) => *d,
        Some(Mvt::Float(d)) => f64::from(*d),
        other => panic!("{key}: {other:?}"),
    }
}

/// The position of a point feature, in extent units.
fn at(f: &Feature) -> [i64; 2] {
    match &f.geom {
        crate::mvt::Geom::Points(p) if p.len() == 1 => p[0],
        other => panic!("not one point: {other:?}"),
    }
}

/// The labelled point of a place in its tile at zoom `z`.
fn point_at(place: (f64, f64), z: u8) -> Feature {
    let t = tile_of(place, z);
    let want = extent_xy(place, t);
    labels(t)
        .into_iter()
        .find(|f| (at(f)[0] as f64 - want.0).abs() <= 1.0 && (at(f)[1] as f64 - want.1).abs() <= 1.0)
        .unwrap_or_else(|| panic!("no label point at {place:?} z{z}"))
}

#[test]
fn every_name_a_raster_tile_draws_is_a_point_of_the_vector_tile_at_zooms_5_to_12() {
    let layers = catalog().select(None).expect("all layers");
    let mut checked = 0;
    for z in 5..=12u8 {
        let (_, cx, cy) = tile_of(IDLIB, z);
        for (x, y) in [(cx, cy), (cx + 1, cy), (cx, cy - 1)] {
            let t = TileCoord::new(u32::from(z), u64::from(x), u64::from(y)).expect("a tile");
            let points = labels((z, x, y));
            let area = PxRect::new(f64::from(x) * 256.0, f64::from(y) * 256.0, 256.0, 256.0);
            for lang in Lang::ALL {
                for placed in labels_in(&layers, z, area, lang) {
                    let layer = catalog().layer(&placed.layer).expect("its layer");
                    let anchor = layer.label(placed.feature).expect("a label").anchor;
                    // A raster tile draws the names that reach into it; the point is in the tile
                    // that holds the anchor.
                    let b = t.bounds();
                    if anchor.x < b.min.x || anchor.x >= b.max.x || anchor.y < b.min.y || anchor.y >= b.max.y {
                        continue;
                    }
                    let named: Vec<&Feature> =
                        points.iter().filter(|p| text(p, "layer").as_deref() == Some(placed.layer.as_str())).collect();
                    let drawn = placed.text.join("\n");
                    let found = named.iter().any(|p| {
                        let names = tessera::style::Names { latin: text(p, "name"), arabic: text(p, "name_ar") };
                        names.lines(lang).join("\n") == drawn
                    });
                    assert!(
                        found,
                        "z{z} {lang}: {drawn:?} of {} is drawn on the raster tile, not in the vector tile",
                        placed.layer
                    );
                    checked += 1;
                }
            }
            // Nothing is named twice in a tile, and nothing is named from a layer not named at this zoom.
            let mut seen = BTreeSet::new();
            for p in &points {
                let layer = catalog().layer(&text(p, "layer").expect("layer")).expect("a layer");
                let spec = layer.label_spec().expect("a labelled layer");
                if let Some(name) = text(p, "name") {
                    assert!(spec.visible_at(z), "z{z}: {name} from {} (labels from z{})", layer.meta.id, spec.minzoom);
                    assert!(seen.insert((name.clone(), text(p, "name_ar"))), "z{z}: {name} twice in {t:?}");
                }
            }
        }
    }
    assert!(checked > 60, "only {checked} raster names compared");
}

#[test]
fn a_place_held_by_three_layers_is_one_point_named_by_its_most_important_feature() {
    // Idlib: a place of the report (drawn from zoom 6, named from 7), a Natural Earth city
    // (named from 6) and a GeoNames town (drawn from 9).
    let z6 = point_at(IDLIB, 6);
    assert_eq!((text(&z6, "layer").as_deref(), text(&z6, "of").as_deref()), (Some("cities"), Some("report-places")));
    assert_eq!((text(&z6, "name").as_deref(), text(&z6, "name_ar").as_deref()), (Some("Idlib"), Some("إدلب")));
    for z in [8, 10, 12] {
        let p = point_at(IDLIB, z);
        assert_eq!(text(&p, "layer").as_deref(), Some("report-places"), "z{z}");
        let t = tile_of(IDLIB, z);
        let idlibs = labels(t).into_iter().filter(|f| text(f, "name").as_deref() == Some("Idlib")).count();
        assert_eq!(idlibs, 1, "z{z}");
    }
    // The more important, the lower the sort key: the report's places before the towns.
    let t = tile_of(TERMANIN, 11);
    let sorted: BTreeMap<String, f64> = labels(t)
        .iter()
        .filter_map(|f| {
            Some((format!("{}:{}", text(f, "layer")?, text(f, "name").unwrap_or_default()), number(f, "sort")))
        })
        .collect();
    let termanin = sorted["report-places:Termanin (Turmanin)"];
    assert!(sorted.iter().filter(|(k, _)| k.starts_with("towns:")).all(|(_, &s)| s > termanin), "{sorted:?}");
}

#[test]
fn towns_drawn_but_not_yet_named_are_points_without_names_the_size_of_their_symbol() {
    // Zoom 10: the towns are drawn (from 9) and named from 11.
    let points = labels(tile_of(TERMANIN, 10));
    let towns: Vec<&Feature> = points.iter().filter(|f| text(f, "layer").as_deref() == Some("towns")).collect();
    // The tile holds 6 GeoNames towns; Termanin and Darat Izza are places of the report too, and
    // their points are the report's.
    assert_eq!(towns.len(), 4);
    for t in &towns {
        assert!(text(t, "name").is_none() && text(t, "name_ar").is_none());
        // A 4 px dot with a 0.5 px outline: the raster labels keep 2.5 px from its centre.
        assert_eq!(number(t, "symbol_px"), 2.5);
    }
    // The hospital's sign (14 px) and the Darat Izza point share a spot: both names keep clear
    // of the larger.
    let darat_izza = point_at((36.85216, 36.28247), 10);
    assert_eq!(number(&darat_izza, "symbol_px"), 7.0 + 1.0 + 1.0 - 1.0);
}

#[test]
fn observation_points_are_named_by_their_place_as_on_the_raster_tiles() {
    let anadan = point_at((37.04444, 36.29361), 9);
    assert_eq!(text(&anadan, "name").as_deref(), Some("Jabal Anadan"));
    assert_eq!(text(&anadan, "name_ar").as_deref(), Some("جبل عندان"));
}

#[test]
fn an_area_name_says_whether_it_fits_its_area() {
    // Syria is about 1200 px wide at zoom 5 and 19 px at zoom 0; Lebanon is 50 px at zoom 5.
    let syria = |z: u8| {
        labels(tile_of((38.5, 35.0), z))
            .into_iter()
            .find(|f| text(f, "name").as_deref() == Some("SYRIA"))
            .unwrap_or_else(|| panic!("no SYRIA at z{z}"))
    };
    let s = syria(5);
    assert_eq!(s.props.get("area"), Some(&Mvt::Bool(true)));
    for k in ["fits_en", "fits_ar", "fits_both"] {
        assert_eq!(s.props.get(k), Some(&Mvt::Bool(true)), "{k}");
    }
    let s = syria(2);
    assert_eq!(
        s.props.get("fits_en"),
        Some(&Mvt::Bool(false)),
        "SYRIA in 11 px capitals is wider than Syria at zoom 2 (17 px)"
    );
    assert_eq!(number(&s, "symbol_px"), 0.0);
}

/// The style's layers by id.
fn style_layers(query: &str) -> BTreeMap<String, Value> {
    let style = get(&format!("/style.json{query}")).json();
    style["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| (l["id"].as_str().expect("id").to_owned(), l.clone()))
        .collect()
}

#[test]
fn the_style_names_places_in_each_language_with_the_served_glyphs() {
    let style = get("/style.json").json();
    let glyphs = style["glyphs"].as_str().expect("glyphs");
    assert_eq!(glyphs, format!("{}/fonts/{{fontstack}}/{{range}}.pbf", crate::common::server()));
    let fonts: BTreeSet<String> = serde_json::from_value(get("/fonts.json").json()).expect("a list of names");
    let layers = style_layers("");
    let texts: Vec<&Value> = layers.values().filter(|l| l["layout"].get("text-field").is_some()).collect();
    for l in &texts {
        for f in l["layout"]["text-font"].as_array().expect("text-font") {
            assert!(fonts.contains(f.as_str().expect("a name")), "{}: {f} is not served", l["id"]);
        }
    }
    // Every labelled layer of the manifest is named, from the labels layer.
    for id in [
        "world-countries",
        "countries",
        "governorates",
        "towns",
        "cities",
        "report-places",
        "observation-points",
        "capitals",
    ] {
        let named = texts.iter().any(|l| {
            l["source-layer"] == "labels" && l["filter"][1] == serde_json::json!(["==", ["get", "layer"], id])
        });
        assert!(named, "{id} has no text layer");
    }
    // Placed first is on top: the capitals (priority 100) above the report's places (97)
    // above the towns (80) above the countries (20).
    let order: Vec<&str> =
        style["layers"].as_array().expect("layers").iter().filter_map(|l| l["id"].as_str()).collect();
    let pos = |id: &str| order.iter().position(|l| *l == id).unwrap_or_else(|| panic!("{id}"));
    assert!(pos("labels-capitals-places") > pos("labels-report-places-places"));
    assert!(pos("labels-report-places-places") > pos("labels-towns-places"));
    assert!(pos("labels-towns-places") > pos("labels-countries-areas"));
    // The report's places in bold dark red, as on the raster tiles.
    let places = &layers["labels-report-places-places"];
    assert_eq!(places["layout"]["text-font"][0], "Noto Sans Bold");
    assert_eq!(places["layout"]["text-size"], 12.0);
    assert_eq!(places["paint"]["text-color"], "rgba(100, 30, 22, 1.000)");
    assert_eq!(places["layout"]["symbol-sort-key"], serde_json::json!(["get", "sort"]));

    // The language picks the name, as ?lang= does on the raster tiles.
    let field = |q: &str| style_layers(q)["labels-cities-places"]["layout"]["text-field"].clone();
    assert_eq!(field("?lang=en")[1], serde_json::json!(["get", "name"]));
    assert_eq!(field("?lang=ar")[1], serde_json::json!(["get", "name_ar"]));
    assert_eq!(field("?lang=both")[0], "case");
    assert_eq!(field(""), field("?lang=en"), "the raster tiles' default, en");
    let none = style_layers("?lang=none");
    assert!(none.keys().all(|k| !k.starts_with("labels-")), "lang=none draws no names");
    get("/style.json?lang=fr").assert_error(400, "invalid_parameter");
    get("/style.json?language=ar").assert_error(400, "invalid_parameter");
}

/// Regression (issue 17): the vector style drew no count on clusters, and region clusters as an
/// unlabelled grey blob.
#[test]
fn cluster_counts_are_drawn_and_region_clusters_show_theirs() {
    let layers = style_layers("?lang=none");
    let count = &layers["events-cluster-count"];
    assert_eq!(count["source-layer"], "events");
    assert_eq!(count["layout"]["text-field"][3], serde_json::json!(["to-string", ["get", "count"]]));
    assert_eq!(count["paint"]["text-color"], "#ffffff");
    let region = &layers["events-region-count"];
    assert_eq!(
        region["filter"],
        serde_json::json!(["all", ["==", ["get", "cluster"], true], ["==", ["get", "region"], true]])
    );
    // A region cluster in the overlay's dark red, not the grey of an unknown kind.
    assert_eq!(layers["events-region"]["paint"]["circle-color"][2], "#5b1a1a");
}

/// Decodes a glyph range answer.
fn glyphs(path: &str) -> pbf_font_tools::Fontstack {
    let reply = get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    assert_eq!(reply.header("content-type"), "application/x-protobuf");
    let mut g = Glyphs::decode(&reply.body[..]).expect("a glyphs message");
    assert_eq!(g.stacks.len(), 1);
    g.stacks.remove(0)
}

#[test]
fn glyph_ranges_are_served_for_fonts_and_stacks_and_bad_ones_are_refused() {
    assert_eq!(
        get("/fonts.json").json(),
        serde_json::json!(["Noto Sans Regular", "Noto Sans Bold", "Noto Sans Arabic Regular", "Noto Sans Arabic Bold"])
    );
    let latin = glyphs("/fonts/Noto%20Sans%20Regular/0-255.pbf");
    assert_eq!((latin.name.as_str(), latin.range.as_str()), ("Noto Sans Regular", "0-255"));
    assert!(latin.glyphs.iter().any(|g| g.id == u32::from('I')));
    // The stack the style names: Arabic letters from the Arabic font, in the basic block and in
    // the presentation forms the RTL plugin writes.
    let stack = "/fonts/Noto%20Sans%20Bold,Noto%20Sans%20Arabic%20Bold";
    let arabic = glyphs(&format!("{stack}/1536-1791.pbf"));
    assert_eq!(arabic.name, "Noto Sans Bold, Noto Sans Arabic Bold");
    for c in "إدلب".chars() {
        let g = arabic.glyphs.iter().find(|g| g.id == u32::from(c)).unwrap_or_else(|| panic!("U+{:04X}", u32::from(c)));
        assert!(g.width > 0 && g.bitmap.as_ref().is_some_and(|b| b.len() == ((g.width + 6) * (g.height + 6)) as usize));
    }
    let forms = glyphs(&format!("{stack}/65024-65279.pbf"));
    assert!(forms.glyphs.len() > 100, "{}", forms.glyphs.len());
    // Cached by browsers and revalidated.
    let path = format!("{stack}/0-255.pbf");
    let first = get(&path);
    assert!(first.header("cache-control").starts_with("public, max-age="));
    assert_eq!(get_with(&path, &[("If-None-Match", first.header("etag"))]).status, 304);
    // An unknown font is 404, a bad range or stack 400, each with a JSON body.
    let e = get("/fonts/Open%20Sans%20Regular/0-255.pbf").assert_error(404, "not_found");
    assert!(e.contains("Open Sans Regular") && e.contains("/fonts.json"), "{e}");
    for bad in ["0-256.pbf", "1-256.pbf", "0-255.json", "a-b.pbf", "0-255"] {
        get(&format!("/fonts/Noto%20Sans%20Regular/{bad}")).assert_error(400, "invalid_parameter");
    }
    get("/fonts/%20,%20/0-255.pbf").assert_error(400, "invalid_parameter");
    get("/fonts.json?x=1").assert_error(400, "invalid_parameter");
}

#[test]
fn the_label_points_land_where_web_mercator_puts_their_places() {
    // Termanin at zoom 12, computed apart from the server (see mvt.rs).
    let p = point_at(TERMANIN, 12);
    assert_eq!(text(&p, "name").as_deref(), Some("Termanin (Turmanin)"));
    let (gx, gy) = mercator_px(TERMANIN.0, TERMANIN.1, 12);
    let w = LonLat::new(TERMANIN.0, TERMANIN.1).to_world();
    assert!((w.x * world_px(12) - gx).abs() < 1e-6 && (w.y * world_px(12) - gy).abs() < 1e-6);
    let (ex, ey) = extent_xy(TERMANIN, tile_of(TERMANIN, 12));
    assert!((at(&p)[0] as f64 - ex).abs() <= 1.0 && (at(&p)[1] as f64 - ey).abs() <= 1.0);
    assert!((0.0..EXTENT).contains(&(at(&p)[0] as f64)));
}

/// Regression (issue 17): Aleppo was drawn twice in the vector map, as the report's place and as
/// the Natural Earth city 3.5 km away, where the raster tiles draw the report's place alone.
#[test]
fn a_point_held_by_a_more_important_feature_of_its_place_is_flagged_and_not_drawn() {
    let aleppo_ne = crate::common::features("cities.geojson")
        .into_iter()
        .find(|f| f["properties"]["name"] == "Aleppo")
        .map(|f| crate::common::point(&f))
        .expect("Aleppo in cities");
    for z in [6, 8, 10] {
        let t = tile_of(aleppo_ne, z);
        let tile = fetch(&tile_path(t, ""));
        let city = tile["cities"].features.iter().find(|f| f.str("name") == Some("Aleppo")).expect("the city");
        assert_eq!(city.str("held_by"), Some("report-places"), "z{z}");
        // Alone, the city layer holds it itself.
        let alone = fetch(&tile_path(t, "?layers=cities"));
        let city = alone["cities"].features.iter().find(|f| f.str("name") == Some("Aleppo")).expect("the city");
        assert_eq!(city.str("held_by"), None, "z{z}");
    }
    for (id, l) in style_layers("") {
        if l["source-layer"] == "cities" && (l["type"] == "circle" || l["type"] == "symbol") {
            let filter = l["filter"].as_array().expect("a filter");
            assert!(filter.contains(&serde_json::json!(["!", ["has", "held_by"]])), "{id}: {}", l["filter"]);
        }
    }
}

#[test]
fn the_vector_view_loads_maplibre_and_the_rtl_plugin_pinned_under_its_policy() {
    let page = get_with("/?renderer=vector", &[("Accept", "text/html")]);
    let html = page.text();
    assert!(
        html.contains("<script src=\"https://unpkg.com/maplibre-gl@5.24.1/dist/maplibre-gl.js\" integrity=\"sha384-"),
        "MapLibre from the pinned CDN path with its hash"
    );
    assert!(!html.contains("leaflet.js"), "no Leaflet in the vector view");
    let csp = page.header("content-security-policy");
    for part in ["worker-src blob:", "child-src blob:", "'wasm-unsafe-eval'", "frame-ancestors 'none'"] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
    let config = crate::common::page_config("/?renderer=vector&zoom=9");
    assert_eq!(config["view"]["renderer"], "vector");
    assert_eq!(
        config["rtlPlugin"]["url"],
        "https://unpkg.com/@mapbox/mapbox-gl-rtl-text@0.3.0/dist/mapbox-gl-rtl-text.js"
    );
    assert!(config["rtlPlugin"]["integrity"].as_str().is_some_and(|i| i.starts_with("sha384-")));
    // The raster view is the default, and a bad renderer is noted and ignored.
    let raster = crate::common::page_config("/?renderer=webgl");
    assert_eq!(raster["view"]["renderer"], "raster");
    assert!(raster["rtlPlugin"].is_null());
    assert!(raster["notes"][0].as_str().is_some_and(|n| n.contains("'renderer'")), "{}", raster["notes"]);
    assert!(get_with("/embed?renderer=vector", &[]).header("content-security-policy").contains("frame-ancestors *"));
    // Without --maplibre-dir and --rtl-text-dir, the server has no copies to serve.
    get("/web/maplibre/maplibre-gl.js").assert_error(404, "not_found");
    get("/web/rtl-text/mapbox-gl-rtl-text.js").assert_error(404, "not_found");
}
