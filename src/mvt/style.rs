//! A MapLibre GL style that draws the vector tiles like the raster tiles; its icons are named
//! and listed in [`super::sprite`].
//!
//! Each manifest rule becomes its own set of MapLibre layers, filtered by the rule's condition
//! and by the failure of every earlier rule (first match wins, as on the raster tiles), so that
//! every paint value is a constant, dashes included.

use serde_json::{Value, json};

use super::sprite::icon_name;
use super::text_style::{cluster_radius, count_layers, label_layers};
use crate::events::EventKind;
use crate::layer::{Catalog, Layer, Shape};
use crate::style::{Color, GeometryKind, Lang, Style, Symbol, kind_style};

fn css(c: Color) -> String {
    format!("rgba({}, {}, {}, {:.3})", c.r, c.g, c.b, f32::from(c.a) / 255.0)
}

/// Which geometries the layer holds: points, lines, polygons.
pub(super) fn kinds_of(layer: &Layer) -> [bool; 3] {
    let mut has = [false; 3];
    for f in layer.features() {
        match f.shape {
            Shape::Points(_) => has[0] = true,
            Shape::Lines(_) => has[1] = true,
            Shape::Polygons(_) => has[2] = true,
        }
    }
    has
}

/// The variants of a layer: (name, filter, rule index), first-match semantics.
pub(super) fn variants(layer: &Layer) -> Vec<(String, Value, Option<usize>)> {
    let (_, rules) = layer.style_source();
    let cond = |i: usize| {
        let r = &rules[i];
        let v = serde_json::to_value(&r.equals).unwrap_or(Value::Null);
        json!(["==", ["get", r.property], v])
    };
    let mut out: Vec<(String, Value, Option<usize>)> = (0..rules.len())
        .map(|i| {
            let mut all = vec![json!("all"), cond(i)];
            all.extend((0..i).map(|j| json!(["!", cond(j)])));
            (format!("rule{i}"), Value::Array(all), Some(i))
        })
        .collect();
    let mut none = vec![json!("all")];
    none.extend((0..rules.len()).map(|j| json!(["!", cond(j)])));
    out.push(("base".into(), Value::Array(none), None));
    out
}

/// Whether points of this style are drawn from the sprite (MapLibre draws plain circles itself).
pub(super) fn needs_icon(s: &Style) -> bool {
    s.symbol != Symbol::Circle || s.ring.is_some()
}

fn zooms(l: &Layer) -> Value {
    // MapLibre's maxzoom is exclusive; the manifest's is inclusive.
    json!({ "minzoom": l.meta.minzoom, "maxzoom": (u32::from(l.meta.maxzoom) + 1).min(24) })
}

fn with_zooms(mut layer: Value, z: &Value) -> Value {
    if let (Some(o), Some(zo)) = (layer.as_object_mut(), z.as_object()) {
        o.extend(zo.clone());
    }
    layer
}

fn dasharray(s: &Style) -> Option<Value> {
    // MapLibre measures dashes in line widths.
    (s.dash.len() >= 2 && s.stroke_width > 0.0)
        .then(|| json!(s.dash.iter().map(|d| d / s.stroke_width).collect::<Vec<_>>()))
}

fn layer_styles(l: &Layer) -> Vec<Value> {
    let [points, lines, polys] = kinds_of(l);
    let id = &l.meta.id;
    let z = zooms(l);
    let mut out = Vec::new();
    for (name, filter, rule) in variants(l) {
        let poly_filter =
            json!(["all", filter.clone(), ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]]]);
        let line_filter =
            json!(["all", filter.clone(), ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]]]);
        // A point held by a more important feature of its place is not drawn (see `data_layers`).
        let point_filter = json!([
            "all",
            filter.clone(),
            ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
            ["!", ["has", "held_by"]]
        ]);
        let common = |suffix: &str, kind: &str, f: &Value| json!({ "id": format!("{id}-{name}-{suffix}"), "type": kind, "source": "tessera", "source-layer": id, "filter": f });
        if polys {
            let s = l.resolved_style(GeometryKind::Polygon, rule);
            if let Some(fill) = s.fill.filter(|c| c.a > 0) {
                let mut layer = common("fill", "fill", &poly_filter);
                layer["paint"] = json!({ "fill-color": css(fill) });
                out.push(with_zooms(layer, &z));
            }
            if let Some(stroke) = s.stroke {
                let mut layer = common("outline", "line", &poly_filter);
                layer["paint"] = json!({ "line-color": css(stroke), "line-width": s.stroke_width });
                if let Some(d) = dasharray(s) {
                    layer["paint"]["line-dasharray"] = d;
                }
                out.push(with_zooms(layer, &z));
            }
        }
        if lines {
            let s = l.resolved_style(GeometryKind::Line, rule);
            if let Some(stroke) = s.stroke {
                let mut layer = common("line", "line", &line_filter);
                layer["layout"] = json!({ "line-join": "round" });
                layer["paint"] = json!({ "line-color": css(stroke), "line-width": s.stroke_width });
                if let Some(d) = dasharray(s) {
                    layer["paint"]["line-dasharray"] = d;
                }
                out.push(with_zooms(layer, &z));
            }
        }
        if points {
            let s = l.resolved_style(GeometryKind::Point, rule);
            if needs_icon(s) {
                let mut layer = common("icon", "symbol", &point_filter);
                layer["layout"] = json!({
                    "icon-image": icon_name(id, &name),
                    "icon-allow-overlap": true,
                    "icon-ignore-placement": true,
                });
                out.push(with_zooms(layer, &z));
            } else {
                let mut layer = common("circle", "circle", &point_filter);
                let mut paint = json!({ "circle-radius": s.size / 2.0 });
                if let Some(f) = s.fill {
                    paint["circle-color"] = json!(css(f));
                }
                if let Some(st) = s.stroke {
                    paint["circle-stroke-color"] = json!(css(st));
                    paint["circle-stroke-width"] = json!(s.stroke_width);
                }
                layer["paint"] = paint;
                out.push(with_zooms(layer, &z));
            }
        }
    }
    out
}

fn event_styles() -> Vec<Value> {
    let kind_color = {
        let mut m = vec![json!("match"), json!(["get", "kind"])];
        for &k in EventKind::ALL {
            m.push(json!(k.as_str()));
            m.push(json!(css(kind_style(k).1)));
        }
        m.push(json!("#737373"));
        Value::Array(m)
    };
    let src = |id: &str, kind: &str, filter: Value| json!({ "id": id, "type": kind, "source": "tessera", "source-layer": "events", "filter": filter });
    // A region event in its kind's colour, a cluster of them in the overlay's dark red; a soft
    // disc with a rim (MapLibre draws no dashed circle: the overlay's rim is dashed).
    let region_color = json!(["case", ["==", ["get", "cluster"], true], "#5b1a1a", kind_color]);
    let mut region = src("events-region", "circle", json!(["==", ["get", "region"], true]));
    region["paint"] = json!({
        "circle-radius": 40, "circle-color": region_color, "circle-opacity": 0.3, "circle-blur": 0.8,
    });
    let mut rim = src("events-region-rim", "circle", json!(["==", ["get", "region"], true]));
    rim["paint"] = json!({
        "circle-radius": 40, "circle-opacity": 0, "circle-stroke-width": 1.2,
        "circle-stroke-color": region_color, "circle-stroke-opacity": 0.56,
    });
    let mut halo = src(
        "events-cluster-casualties",
        "circle",
        json!([
            "all",
            ["==", ["get", "cluster"], true],
            ["!=", ["get", "region"], true],
            [">", ["get", "casualties"], 0]
        ]),
    );
    halo["paint"] = json!({
        "circle-radius": ["+", ["min", 22, ["+", 10, ["*", 2.5, ["log2", ["get", "count"]]]]], ["min", 8, ["+", 2, ["log2", ["+", 1, ["get", "casualties"]]]]]],
        "circle-color": "rgba(215, 48, 31, 0.56)",
    });
    let mut cluster = src(
        "events-cluster",
        "circle",
        json!(["all", ["==", ["get", "cluster"], true], ["!=", ["get", "region"], true]]),
    );
    cluster["paint"] = json!({
        "circle-radius": cluster_radius(),
        "circle-color": "rgba(59, 10, 10, 0.9)",
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.5,
    });
    let mut single = src(
        "events-single",
        "symbol",
        json!(["all", ["==", ["get", "cluster"], false], ["==", ["get", "region"], false]]),
    );
    single["layout"] = json!({
        "icon-image": ["concat", "event-", ["get", "kind"]],
        // Same growth as the overlay: 12 px plus 3 px per doubling of killed + injured, at most 30.
        "icon-size": ["min", 2.5, ["+", 1, ["*", 0.25, ["log2", ["+", 1, ["get", "casualties"]]]]]],
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
    });
    vec![region, rim, halo, cluster, single]
}

/// The style, with the tile, sprite and glyph URLs under `base`, naming places in `lang`
/// (`None`: no place names; cluster counts are drawn whatever the language).
pub fn maplibre_style(catalog: &Catalog, base: &str, lang: Option<Lang>) -> Value {
    let center = catalog.center();
    let mut layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": { "background-color": catalog.background.map_or("rgba(0, 0, 0, 0)".to_owned(), css) },
    })];
    for l in catalog.layers() {
        layers.extend(layer_styles(l));
    }
    if let Some(lang) = lang {
        layers.extend(label_layers(catalog, lang));
    }
    layers.extend(event_styles());
    layers.extend(count_layers());
    json!({
        "version": 8,
        "name": catalog.title,
        "metadata": { "tessera:description": catalog.description },
        "center": [center.position.lon, center.position.lat],
        "zoom": center.zoom,
        "sources": {
            "tessera": {
                "type": "vector",
                "url": format!("{base}/tiles/vector.json"),
                "attribution": catalog.attribution(catalog.layers()),
            }
        },
        "sprite": format!("{base}/sprites/tessera"),
        "glyphs": format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
        "layers": layers,
    })
}
