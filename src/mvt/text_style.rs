//! The text of the MapLibre style: place and area names from the tiles' `labels` layer, and
//! the counts of event clusters, drawn with the glyphs of `/fonts` like the raster tiles draw
//! them.
//!
//! Each labelled layer gets a symbol layer for its places and one for its areas, stacked by the
//! layer's `label_priority` (MapLibre places the topmost layer's symbols first) and ordered
//! within by `symbol-sort-key` (the `labels` layer's `sort`, the raster tiles' order). A place's
//! name tries the raster tiles' positions in their order (right of its symbol, left, above,
//! below) at the same distance from it, in the same size, weight, colour and white halo; an
//! area's name is centred, and left out where the tiles say it does not fit the area. Above each
//! layer's names, a layer of invisible icons the size of its places' symbols (`label-box` in the
//! sprite), always shown and placed first, so that the names placed after them keep clear of
//! the symbols, as the raster tiles' names do. (In one layer with the names, the icons would be
//! placed with them, and a place whose name found no room would still count as drawn.)

use serde_json::{Value, json};

use super::labels::LABELS;
use crate::layer::{Catalog, Layer};
use crate::style::{Color, Lang};

/// The sprite's invisible icon that stands for a place's symbol.
pub const LABEL_BOX: &str = "label-box";
/// Width and height (CSS px) of the [`LABEL_BOX`] cell; the style scales it to each symbol.
pub const LABEL_BOX_PX: f64 = 22.0;
/// A line wider than this many text sizes is wrapped (the raster tiles' rule).
const WRAP_EMS: f64 = 10.0;
/// Space (CSS px) between a symbol's edge and its name: the raster label box's padding, less
/// the pixel the box may overlap the symbol by.
const NAME_GAP_PX: f64 = 2.0;
/// The white halo of the raster labels: width (CSS px) and opacity.
const HALO: (f64, f64) = (1.75, 0.92);

/// The font stack of a weight: Noto Sans for Latin script, Noto Sans Arabic for the rest.
pub fn font_stack(bold: bool) -> Value {
    match bold {
        true => json!(["Noto Sans Bold", "Noto Sans Arabic Bold"]),
        false => json!(["Noto Sans Regular", "Noto Sans Arabic Regular"]),
    }
}

fn css(c: Color) -> String {
    format!("rgba({}, {}, {}, {:.3})", c.r, c.g, c.b, f32::from(c.a) / 255.0)
}

/// The text of a name in a language, as [`crate::style::Names::lines`] chooses it: `en` the
/// Latin-script name (else the Arabic), `ar` the Arabic (else the Latin), `both` the Latin above
/// the Arabic (one line when they are the same).
pub fn name_field(lang: Lang) -> Value {
    let (latin, arabic) = (json!(["get", "name"]), json!(["get", "name_ar"]));
    match lang {
        Lang::En => json!(["coalesce", latin, arabic, ""]),
        Lang::Ar => json!(["coalesce", arabic, latin, ""]),
        Lang::Both => json!([
            "case",
            ["all", ["has", "name"], ["has", "name_ar"], ["!=", latin, arabic]],
            ["concat", latin, "\n", arabic],
            ["coalesce", latin, arabic, ""]
        ]),
    }
}

/// Whether a labelled layer has places (points) and areas (polygons) to name.
fn label_kinds(l: &Layer) -> (bool, bool) {
    let [points, _, polygons] = super::style::kinds_of(l);
    (points, polygons)
}

/// The symbol layers of the place and area names in `lang`, bottom first.
pub fn label_layers(catalog: &Catalog, lang: Lang) -> Vec<Value> {
    let mut named: Vec<(usize, &Layer)> =
        catalog.layers().iter().enumerate().filter(|(_, l)| l.label_spec().is_some()).collect();
    // The topmost is placed first: highest priority on top, and among equals the earlier layer.
    named.sort_by_key(|(i, l)| (l.label_spec().map_or(i32::MIN, |s| s.priority), std::cmp::Reverse(*i)));
    let mut out = Vec::new();
    for (_, l) in named {
        let (points, areas) = label_kinds(l);
        if areas {
            out.push(area_names(l, lang));
        }
        if points {
            // The symbols' boxes above the names: placed first, so that the layer's names keep
            // clear of its own places' symbols, and every later layer's names too.
            out.push(place_names(l, lang));
            out.push(place_boxes(l));
        }
    }
    out
}

/// What every name layer of `l` shares: the source, the filter on the naming layer, the text,
/// the order, the font and the halo.
fn name_layer(l: &Layer, lang: Lang, suffix: &str, kind: Value) -> Value {
    let id = &l.meta.id;
    let Some(spec) = l.label_spec() else { return Value::Null };
    json!({
        "id": format!("labels-{id}-{suffix}"),
        "type": "symbol",
        "source": "tessera",
        "source-layer": LABELS,
        "filter": ["all", ["==", ["get", "layer"], id.as_str()], kind],
        "layout": {
            "text-field": name_field(lang),
            "text-font": font_stack(spec.bold),
            "text-size": spec.size,
            "text-max-width": WRAP_EMS,
            "text-line-height": 1.2,
            "text-padding": 1,
            "symbol-sort-key": ["get", "sort"],
        },
        "paint": {
            "text-color": css(spec.color),
            "text-halo-color": format!("rgba(255, 255, 255, {})", HALO.1),
            "text-halo-width": HALO.0,
        },
    })
}

/// The names of a layer's places, beside their symbols.
fn place_names(l: &Layer, lang: Lang) -> Value {
    let size = f64::from(l.label_spec().map_or(12.0, |s| s.size));
    let mut layer = name_layer(l, lang, "places", json!(["!=", ["get", "area"], true]));
    let layout = &mut layer["layout"];
    // Right of the symbol, left, above, below: the raster tiles' order.
    layout["text-variable-anchor"] = json!(["left", "right", "bottom", "top"]);
    layout["text-radial-offset"] = json!(["/", ["+", ["get", "symbol_px"], NAME_GAP_PX], size]);
    layout["text-justify"] = json!("auto");
    layer
}

/// Invisible icons on a layer's places, the size of the square the raster names keep clear of
/// (one pixel short of the symbol's reach), always shown and placed.
fn place_boxes(l: &Layer) -> Value {
    let id = &l.meta.id;
    json!({
        "id": format!("labels-{id}-boxes"),
        "type": "symbol",
        "source": "tessera",
        "source-layer": LABELS,
        "filter": ["all", ["==", ["get", "layer"], id.as_str()], ["!=", ["get", "area"], true]],
        "layout": {
            "icon-image": LABEL_BOX,
            "icon-size": ["/", ["max", 0, ["*", 2, ["-", ["get", "symbol_px"], 1]]], LABEL_BOX_PX],
            "icon-padding": 0,
            "icon-allow-overlap": true,
            "symbol-sort-key": ["get", "sort"],
        },
    })
}

/// The names of a layer's areas, centred on their anchors where they fit.
fn area_names(l: &Layer, lang: Lang) -> Value {
    let fits = format!("fits_{}", lang.as_str());
    let mut layer =
        name_layer(l, lang, "areas", json!(["all", ["==", ["get", "area"], true], ["==", ["get", fits], true]]));
    layer["layout"]["text-anchor"] = json!("center");
    layer
}

/// Radius (CSS px) of a cluster of located events: the overlay's `cluster_size` halved.
pub fn cluster_radius() -> Value {
    json!(["min", 22, ["+", 10, ["*", 2.5, ["log2", ["get", "count"]]]]])
}

/// The counts on event clusters, as the overlay prints them: white in the disc of a cluster of
/// located events, three quarters of its radius high; dark red in a region area, 9 px high
/// (digit height is 0.714 of the text size in Noto Sans). Always drawn, never in the way of
/// names (the overlay lies over the base map's names).
pub fn count_layers() -> Vec<Value> {
    let count = json!(["case", [">", ["get", "count"], 999], "999+", ["to-string", ["get", "count"]]]);
    let layer = |id: &str, filter: Value, size: Value, color: &str| {
        json!({
            "id": id,
            "type": "symbol",
            "source": "tessera",
            "source-layer": "events",
            "filter": filter,
            "layout": {
                "text-field": count,
                "text-font": font_stack(true),
                "text-size": size,
                "text-allow-overlap": true,
                "text-ignore-placement": true,
            },
            "paint": { "text-color": color },
        })
    };
    vec![
        layer(
            "events-region-count",
            json!(["all", ["==", ["get", "cluster"], true], ["==", ["get", "region"], true]]),
            json!(9.0 / 0.714),
            "#5b1a1a",
        ),
        layer(
            "events-cluster-count",
            json!(["all", ["==", ["get", "cluster"], true], ["!=", ["get", "region"], true]]),
            json!(["/", ["*", 0.75, cluster_radius()], 0.714]),
            "#ffffff",
        ),
    ]
}
