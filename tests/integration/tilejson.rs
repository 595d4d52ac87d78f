//! TileJSON as strict readers take it (the Rust `tilejson` crate), and the parameters of the
//! TileJSON routes: the ones their tiles take are honoured and carried into the tile URL, and
//! any other is refused, as on `/items`.

use std::collections::BTreeSet;

use crate::common::{get, get_url, layer_entry, manifest, server};

/// The ids of a vector TileJSON's `vector_layers`.
fn vector_layer_ids(body: &serde_json::Value) -> BTreeSet<String> {
    body["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .map(|l| l["id"].as_str().expect("id").into())
        .collect()
}

/// Regression (issue 12, item 9): `center` was `[36.7, 36.0, 8.0]`; a float zoom is refused by
/// the `tilejson` crate, which reads the zoom as an integer.
#[test]
fn tilejson_center_zoom_is_an_integer_that_the_tilejson_crate_accepts() {
    let m = manifest();
    let center = m["center"].as_array().expect("center in layers.toml");
    let (lon, lat) = (center[0].as_float().expect("lon"), center[1].as_float().expect("lat"));
    let zoom = u8::try_from(center[2].as_integer().expect("a whole zoom")).expect("zoom");
    for path in ["/tiles.json", "/tiles/vector.json", "/tiles.json?layers=roads", "/tiles/vector.json?layers=events"] {
        let reply = get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let parsed: tilejson::TileJSON = serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{path}: the tilejson crate refuses the document: {e}"));
        let raw = reply.json();
        assert!(raw["center"][2].is_u64(), "{path}: center zoom {} is not an integer", raw["center"][2]);
        let c = parsed.center.unwrap_or_else(|| panic!("{path}: no center"));
        assert_eq!((c.longitude, c.latitude), (lon, lat), "{path}");
        let (min, max) = (parsed.minzoom.expect("minzoom"), parsed.maxzoom.expect("maxzoom"));
        assert_eq!(c.zoom, zoom.clamp(min, max), "{path}: the manifest's zoom within the tileset's");
        assert_eq!(parsed.tiles.len(), 1, "{path}");
    }
    // The style's zoom is the manifest's too, a whole number.
    assert_eq!(get("/style.json").json()["zoom"], u64::from(zoom));
}

/// Regression (issue 12, item 9): `/tiles/vector.json?layers=events` ignored `layers`, while the
/// vector tiles take it.
#[test]
fn vector_tilejson_ignored_its_layers_parameter() {
    let events = get("/tiles/vector.json?layers=events").json();
    assert_eq!(vector_layer_ids(&events), BTreeSet::from(["events".to_owned()]));
    let template = events["tiles"][0].as_str().expect("tiles");
    assert_eq!(template, format!("{}/tiles/{{z}}/{{x}}/{{y}}.mvt?layers=events", server()));
    assert_eq!(events["minzoom"], 0, "events are at every zoom");

    let roads = get("/tiles/vector.json?layers=roads,events&kind=airstrike&datetime=2020-02-18").json();
    assert_eq!(vector_layer_ids(&roads), BTreeSet::from(["events".to_owned(), "roads".to_owned()]));
    assert_eq!(roads["attribution"], layer_entry("roads")["attribution"].as_str().expect("roads attribution"));
    let template = roads["tiles"][0].as_str().expect("tiles");
    assert_eq!(
        template,
        format!("{}/tiles/{{z}}/{{x}}/{{y}}.mvt?layers=roads%2Cevents&datetime=2020-02-18&kind=airstrike", server())
    );
    // The template leads to tiles the server serves with the same parameters.
    let tile = get_url(&template.replace("{z}", "8").replace("{x}", "154").replace("{y}", "100"));
    assert!(matches!(tile.status, 200 | 204), "{}", tile.text());

    let only_roads = get("/tiles/vector.json?layers=roads").json();
    assert_eq!(vector_layer_ids(&only_roads), BTreeSet::from(["roads".to_owned()]));
    assert_eq!(only_roads["minzoom"], layer_entry("roads")["minzoom"].as_integer().expect("roads minzoom"));

    let all = get("/tiles/vector.json").json();
    let mut expected: BTreeSet<String> = manifest()["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect();
    expected.extend(["events".into(), "labels".into()]);
    assert_eq!(vector_layer_ids(&all), expected, "without layers, every layer");

    for path in
        ["/tiles/vector.json?layers=nope", "/tiles/vector.json?layers=events,nope", "/tiles/vector.json?layers="]
    {
        get(path).assert_error(400, "unknown_layer");
    }
    get("/tiles/vector.json?kind=bombing").assert_error(400, "invalid_parameter");
    get("/tiles/vector.json?datetime=yesterday").assert_error(400, "invalid_parameter");
}

/// Regression (issue 12, item 9): JSON routes ignored parameters they do not take, while
/// `/items` refused them; now every JSON route refuses them, naming the parameter.
#[test]
fn json_routes_ignored_unknown_parameters() {
    for (path, name) in [
        ("/tiles.json?layer=roads", "layer"),
        ("/tiles/vector.json?lang=ar", "lang"),
        ("/tiles/vector.json?foo=1", "foo"),
        ("/style.json?layers=roads", "layers"),
        ("/health?x=1", "x"),
        ("/conformance?foo=1", "foo"),
        ("/collections?foo=1", "foo"),
        ("/collections/roads?foo=1", "foo"),
        ("/collections/events?foo=1", "foo"),
        ("/collections/roads/items/0?foo=1", "foo"),
        ("/collections/events/items/nope?foo=1", "foo"),
        ("/?f=json&foo=1", "foo"),
    ] {
        let d = get(path).assert_error(400, "invalid_parameter");
        assert!(d.contains(&format!("'{name}'")), "{path}: {d}");
    }
    // Tile images keep ignoring what they do not take (cache-busters).
    for path in ["/tiles/6/38/25.png?v=3", "/overlays/events/6/38/25.png?v=3"] {
        assert_eq!(get(path).status, 200, "{path}");
    }
    assert!(matches!(get("/tiles/6/38/25.mvt?v=3").status, 200 | 204));
}
