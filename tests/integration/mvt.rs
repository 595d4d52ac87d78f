//! Vector tiles over HTTP, decoded with `mvt-reader` (an independent decoder, not the server's
//! own protobuf structs) and checked against the GeoJSON files and the Web Mercator formula of
//! `common`: Termanin and every report place where Mercator puts them with their properties
//! typed as in the file, every town of a tile, the events layer with its filters and clusters,
//! the `?layers=` choice, empty tiles, gzip, the vector TileJSON and the MapLibre style.
//!
//! Every tile goes through [`decode`], which asserts what must hold for any tile: version 2,
//! extent 4096, no empty or degenerate geometry, every coordinate inside the buffered tile,
//! and the first ring of every polygon wound positive (MVT 2.1). Geometry across tiles is in
//! `mvt_seams.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use geo::{Geometry, LineString};
use mvt_reader::Reader;
use mvt_reader::feature::Value as Mvt;
use serde_json::Value;

use crate::common::{features, get, get_with, manifest, mercator_px, page_config, point, server};

/// Extent of a tile: coordinates run 0..4096 across it.
pub const EXTENT: f64 = 4096.0;
/// The buffer that tiles carry around themselves, in extent units (64/4096 of a tile).
pub const BUFFER: i64 = 64;
const MVT: &str = "application/vnd.mapbox-vector-tile";
/// Termanin, as in geodata/report-places.geojson.
pub const TERMANIN: (f64, f64) = (36.817, 36.233);
/// Idlib, as in geodata/report-places.geojson.
pub const IDLIB: (f64, f64) = (36.63393, 35.93062);
const STRIKE: &str = "2020-02-18-termanin-air-raids";
const SEED: &str = "events-feb-2020.geojson";
/// Keeps the seed events and drops those other tests write (they are all dated 2021).
const SEED_TIMES: &str = "datetime=../2020-12-31";

/// A tile address: zoom, column, row.
pub type TileAt = (u8, u32, u32);
/// A position in extent units, y down.
pub type Pt = [i64; 2];

/// Decoded geometry. Polygon rings stay in wire order and unclosed, so that their winding
/// (not the decoder) says which ring is an exterior.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    Points(Vec<Pt>),
    Lines(Vec<Vec<Pt>>),
    Rings(Vec<Vec<Pt>>),
}

/// One decoded feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: Option<u64>,
    pub props: HashMap<String, Mvt>,
    pub geom: Geom,
}

impl Feature {
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.props.get(key) {
            Some(Mvt::String(s)) => Some(s),
            _ => None,
        }
    }

    fn uint(&self, key: &str) -> Option<u64> {
        match self.props.get(key) {
            Some(Mvt::UInt(u)) => Some(*u),
            Some(Mvt::SInt(i) | Mvt::Int(i)) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.props.get(key) {
            Some(Mvt::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The single point of a point feature.
    fn at(&self) -> Pt {
        match &self.geom {
            Geom::Points(p) if p.len() == 1 => p[0],
            other => panic!("not one point: {other:?}"),
        }
    }
}

/// One decoded layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub version: u32,
    pub extent: u32,
    pub features: Vec<Feature>,
}

/// A decoded tile: its layers by name.
pub type Tile = BTreeMap<String, Layer>;

/// Twice the signed area of a ring by the surveyor's formula, in extent units (y down, so
/// positive is clockwise on screen: an exterior ring in MVT 2.1).
pub fn area2(ring: &[Pt]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

fn distinct(pts: &[Pt]) -> usize {
    pts.iter().collect::<BTreeSet<_>>().len()
}

fn geom(g: Geometry<i64>) -> Geom {
    let pts = |l: &LineString<i64>| l.0.iter().map(|c| [c.x, c.y]).collect::<Vec<Pt>>();
    // The decoder closes each ring by repeating its first point; the wire has it once.
    let ring = |l: &LineString<i64>| pts(l)[..l.0.len() - 1].to_vec();
    match g {
        Geometry::MultiPoint(m) => Geom::Points(m.0.iter().map(|p| [p.x(), p.y()]).collect()),
        Geometry::LineString(l) => Geom::Lines(vec![pts(&l)]),
        Geometry::MultiLineString(m) => Geom::Lines(m.0.iter().map(pts).collect()),
        Geometry::Polygon(p) => Geom::Rings(std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect()),
        Geometry::MultiPolygon(m) => {
            Geom::Rings(m.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).map(ring).collect())
        }
        other => panic!("unexpected geometry {other:?}"),
    }
}

/// What every feature of every tile must satisfy.
fn check_feature(layer: &str, f: &Feature) {
    let what = format!("{layer} feature {:?}", f.id);
    let lo = -BUFFER;
    let hi = EXTENT as i64 + BUFFER;
    let all: Vec<Pt> = match &f.geom {
        Geom::Points(p) => p.clone(),
        Geom::Lines(l) | Geom::Rings(l) => l.concat(),
    };
    assert!(!all.is_empty(), "{what}: empty geometry");
    for p in &all {
        assert!((lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1]), "{what}: {p:?} is off the buffered tile");
    }
    match &f.geom {
        Geom::Points(_) => {}
        Geom::Lines(lines) => {
            for l in lines {
                assert!(distinct(l) >= 2, "{what}: a line of one position {l:?}");
            }
        }
        Geom::Rings(rings) => {
            assert!(area2(&rings[0]) > 0, "{what}: the first ring is not an exterior (area {})", area2(&rings[0]));
            for r in rings {
                assert!(distinct(r) >= 3, "{what}: a ring of {} distinct positions", distinct(r));
                assert_ne!(area2(r), 0, "{what}: a ring of zero area {r:?}");
            }
        }
    }
}

/// Decodes a tile with mvt-reader and checks it (see the module docs).
pub fn decode(bytes: &[u8]) -> Tile {
    let reader = Reader::new(bytes.to_vec()).expect("a valid vector tile");
    let mut tile = Tile::new();
    for meta in reader.get_layer_metadata().expect("layer metadata") {
        let decoded = reader.get_features_as::<i64>(meta.layer_index).expect("features decode");
        assert_eq!(decoded.len(), meta.feature_count, "{}: a feature without a geometry type", meta.name);
        let features: Vec<Feature> = decoded
            .into_iter()
            .map(|f| Feature { id: f.id, props: f.properties.unwrap_or_default(), geom: geom(f.geometry) })
            .collect();
        assert!(!features.is_empty(), "{}: a layer without features", meta.name);
        features.iter().for_each(|f| check_feature(&meta.name, f));
        let layer = Layer { version: meta.version, extent: meta.extent, features };
        assert_eq!((layer.version, layer.extent), (2, 4096), "{}", meta.name);
        assert!(tile.insert(meta.name.clone(), layer).is_none(), "layer {} twice", meta.name);
    }
    tile
}

/// `/tiles/z/x/y.mvt` plus a query (with its `?`, or "").
pub fn tile_path((z, x, y): TileAt, query: &str) -> String {
    format!("/tiles/{z}/{x}/{y}.mvt{query}")
}

/// GETs a vector tile: 200 with the MVT type and a decodable body, or 204 with none (no layer).
pub fn fetch(path: &str) -> Tile {
    let reply = get(path);
    match reply.status {
        204 => {
            assert!(reply.body.is_empty(), "{path}: 204 with a body");
            Tile::new()
        }
        200 => {
            assert_eq!(reply.header("content-type"), MVT, "{path}");
            let tile = decode(&reply.body);
            assert!(!tile.is_empty(), "{path}: 200 for a tile without layers");
            tile
        }
        s => panic!("{path}: status {s}: {}", reply.text()),
    }
}

/// The tile at zoom `z` that holds a point.
pub fn tile_of((lon, lat): (f64, f64), z: u8) -> TileAt {
    let (gx, gy) = mercator_px(lon, lat, z);
    (z, (gx / 256.0).floor() as u32, (gy / 256.0).floor() as u32)
}

/// Position of a point in tile `t`, in (fractional) extent units.
pub fn extent_xy((lon, lat): (f64, f64), (z, x, y): TileAt) -> (f64, f64) {
    let (gx, gy) = mercator_px(lon, lat, z);
    ((gx / 256.0 - f64::from(x)) * EXTENT, (gy / 256.0 - f64::from(y)) * EXTENT)
}

/// Whether a position lies in the tile with its buffer.
fn in_buffered((x, y): (f64, f64)) -> bool {
    let r = -(BUFFER as f64)..=EXTENT + BUFFER as f64;
    r.contains(&x) && r.contains(&y)
}

/// Whether an integer position is `round(want)` within one unit on both axes.
fn lands(p: Pt, want: (f64, f64)) -> bool {
    (p[0] - want.0.round() as i64).abs() <= 1 && (p[1] - want.1.round() as i64).abs() <= 1
}

/// A GeoJSON property value and its MVT value are the same, type included; arrays and objects
/// travel as their JSON text.
fn same_value(json: &Value, v: &Mvt) -> bool {
    match (json, v) {
        (Value::String(s), Mvt::String(t)) => s == t,
        (Value::Bool(b), Mvt::Bool(c)) => b == c,
        (Value::Number(n), Mvt::UInt(u)) => n.as_u64() == Some(*u),
        (Value::Number(n), Mvt::SInt(i) | Mvt::Int(i)) => n.as_i64() == Some(*i),
        (Value::Number(n), Mvt::Double(d)) => n.is_f64() && n.as_f64() == Some(*d),
        (Value::Array(_) | Value::Object(_), Mvt::String(t)) => {
            serde_json::from_str::<Value>(t).ok().as_ref() == Some(json)
        }
        _ => false,
    }
}

/// Asserts that a decoded feature has exactly the non-null properties of a GeoJSON feature.
pub fn assert_properties(source: &Value, got: &Feature) {
    let want: BTreeMap<&String, &Value> =
        source["properties"].as_object().expect("properties").iter().filter(|(_, v)| !v.is_null()).collect();
    let keys: BTreeSet<&String> = got.props.keys().collect();
    assert_eq!(keys, want.keys().copied().collect(), "property keys of {}", source["properties"]);
    for (k, v) in want {
        assert!(same_value(v, &got.props[k]), "{k}: {v} in the file, {:?} in the tile", got.props[k]);
    }
}

#[test]
fn every_report_place_lands_where_web_mercator_puts_it_with_typed_properties() {
    let t = (12, 2466, 1605);
    assert_eq!(tile_of(TERMANIN, 12), t);
    // round(frac(mercator) * 4096) for 36.817E 36.233N: 3668.56 and 651.37, computed apart.
    let (ex, ey) = extent_xy(TERMANIN, t);
    assert_eq!((ex.round(), ey.round()), (3669.0, 651.0));

    let places = features("report-places.geojson");
    let tile = fetch(&tile_path(t, "?layers=report-places"));
    assert_eq!(tile.keys().collect::<Vec<_>>(), ["report-places"]);
    let near: BTreeSet<&str> =
        places.iter().filter(|f| in_buffered(extent_xy(point(f), t))).map(|f| f["id"].as_str().expect("id")).collect();
    let got: BTreeSet<&str> =
        tile["report-places"].features.iter().map(|f| f.str("id").expect("id property")).collect();
    assert_eq!(got, near);
    assert!(got.contains("termanin"));

    for place in &places {
        let t = tile_of(point(place), 12);
        let tile = fetch(&tile_path(t, "?layers=report-places"));
        let layer = &tile["report-places"];
        let f = layer.features.iter().find(|f| f.str("id") == place["id"].as_str()).expect("the place is in its tile");
        assert!(lands(f.at(), extent_xy(point(place), t)), "{}: at {:?}", place["id"], f.at());
        assert_properties(place, f);
        assert!(f.id.is_some_and(|id| id > 0), "{}: MVT id {:?}", place["id"], f.id);
        let ids: BTreeSet<Option<u64>> = layer.features.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), layer.features.len(), "two features share an id in {t:?}");
    }
    let termanin = &tile["report-places"].features.iter().find(|f| f.str("id") == Some("termanin")).expect("termanin");
    assert_eq!(termanin.props["name"], Mvt::String("Termanin (Turmanin)".into()));
    assert_eq!(termanin.uint("population_2004"), Some(10_394));
}

#[test]
fn z10_tiles_hold_every_town_of_their_buffered_area_and_no_other() {
    let towns = features("towns.geojson");
    let key = |f: &Value| f["properties"]["geonameid"].as_u64().expect("geonameid");
    let (z, x, y) = tile_of(IDLIB, 10);
    let mut checked = 0;
    for t in (y - 1..=y + 1).flat_map(|y| (x - 1..=x + 1).map(move |x| (z, x, y))) {
        let want: BTreeMap<u64, &Value> =
            towns.iter().filter(|f| in_buffered(extent_xy(point(f), t))).map(|f| (key(f), f)).collect();
        let tile = fetch(&tile_path(t, "?layers=towns"));
        let layer = tile.get("towns").map_or(&[][..], |l| &l.features[..]);
        let got: BTreeMap<u64, &Feature> = layer.iter().map(|f| (f.uint("geonameid").expect("geonameid"), f)).collect();
        assert_eq!(got.len(), layer.len(), "a town twice in {t:?}");
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{t:?}");
        for (id, f) in &got {
            assert_eq!(f.id, Some(*id), "the MVT id is the geonameid");
            assert!(lands(f.at(), extent_xy(point(want[id]), t)), "{id} at {:?}", f.at());
            assert_properties(want[id], f);
        }
        checked += got.len();
    }
    assert!(checked > 50, "only {checked} towns around Idlib");
}

/// How many events the store holds in a tile grown by `margin` tiles on every side, through
/// the items' `numberMatched`, with the given filter.
fn stored_events((z, x, y): TileAt, margin: f64, filter: &str) -> u64 {
    let n = 2f64.powi(i32::from(z));
    let lon = |t: f64| t / n * 360.0 - 180.0;
    let lat = |t: f64| (std::f64::consts::PI * (1.0 - 2.0 * t / n)).sinh().atan().to_degrees();
    let (x, y) = (f64::from(x), f64::from(y));
    let bbox = format!("{},{},{},{}", lon(x - margin), lat(y + 1.0 + margin), lon(x + 1.0 + margin), lat(y - margin));
    let reply = get(&format!("/collections/events/items?bbox={bbox}&{filter}&limit=1"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["numberMatched"].as_u64().expect("numberMatched")
}

#[test]
fn the_termanin_strike_is_in_the_events_layer_at_termanin_unless_filtered_out() {
    let t = (12, 2466, 1605);
    let seed = features(SEED).into_iter().find(|f| f["id"] == STRIKE).expect("in the seed");
    assert_eq!(point(&seed), TERMANIN);
    for q in ["", "&datetime=2020-02-18", "&kind=airstrike,talks"] {
        let tile = fetch(&tile_path(t, &format!("?layers=events{q}")));
        assert_eq!(tile.keys().collect::<Vec<_>>(), ["events"], "{q}");
        let f = tile["events"].features.iter().find(|f| f.str("id") == Some(STRIKE)).expect("the strike");
        assert!(lands(f.at(), extent_xy(TERMANIN, t)), "{q}: at {:?}", f.at());
        assert_eq!(f.str("kind"), Some("airstrike"));
        assert_eq!(f.str("title"), seed["properties"]["title"].as_str());
        assert_eq!((f.flag("cluster"), f.flag("region"), f.uint("count")), (Some(false), Some(false), Some(1)));
        assert!(f.id.is_some_and(|id| id > 0), "MVT id {:?}", f.id);
    }
    for q in ["&datetime=2020-03-01/..", "&kind=talks"] {
        let tile = fetch(&tile_path(t, &format!("?layers=events{q}")));
        let strike = tile.get("events").into_iter().flat_map(|l| &l.features).any(|f| f.str("id") == Some(STRIKE));
        assert!(!strike, "{q}: the strike is still there");
    }
}

/// What one 48-pixel cell with located (or with region-precision) seed events must show.
#[derive(Debug)]
struct Expected {
    /// Region-precision members (grouped apart from located ones).
    region: bool,
    count: u64,
    /// Killed plus injured, where known.
    casualties: u64,
    /// The smallest member id: the event's own id, or a cluster's `first_id`.
    first: String,
    /// Mean position of the members, extent units.
    at: (f64, f64),
}

/// The markers that 48-pixel cells make of the seed events inside a tile: located events and
/// region-precision events each grouped by cell, never with each other.
fn seed_markers(t: TileAt) -> Vec<Expected> {
    let inside = |f: &Value| {
        let (x, y) = extent_xy(point(f), t);
        (0.0..EXTENT).contains(&x) && (0.0..EXTENT).contains(&y)
    };
    let seed: Vec<Value> = features(SEED).into_iter().filter(inside).collect();
    let region = |f: &Value| f["properties"]["location_precision"] == "region";
    let mut cells: BTreeMap<(bool, i64, i64), Vec<&Value>> = BTreeMap::new();
    for f in &seed {
        let (gx, gy) = mercator_px(point(f).0, point(f).1, t.0);
        cells.entry((region(f), (gx / 48.0).floor() as i64, (gy / 48.0).floor() as i64)).or_default().push(f);
    }
    let casualties = |f: &Value| ["killed", "injured"].iter().filter_map(|k| f["properties"][k].as_u64()).sum::<u64>();
    cells
        .into_iter()
        .map(|((region, ..), m)| {
            let n = m.len() as f64;
            let (sx, sy) = m.iter().map(|f| extent_xy(point(f), t)).fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
            let first = m.iter().map(|f| f["id"].as_str().expect("id")).min().expect("a member").to_owned();
            Expected {
                region,
                count: m.len() as u64,
                casualties: m.iter().map(|f| casualties(f)).sum(),
                first,
                at: (sx / n, sy / n),
            }
        })
        .collect()
}

#[test]
fn at_z6_clusters_and_region_events_count_every_event_of_the_tile() {
    let t = tile_of(TERMANIN, 6);
    // No event lies within a cell (48 px) and the buffer (4 px) of the tile's edges, so no
    // cluster mixes events inside and outside, and the counts inside must add up exactly.
    let inside = stored_events(t, 0.0, SEED_TIMES);
    assert_eq!(stored_events(t, 52.0 / 256.0, SEED_TIMES), inside, "events near the edges of {t:?}");
    let markers = seed_markers(t);
    assert!(markers.iter().any(|m| m.count >= 2 && !m.region), "no cluster of located events: {markers:?}");
    assert!(markers.iter().any(|m| m.count >= 2 && m.region), "no cluster of region events: {markers:?}");

    let tile = fetch(&tile_path(t, &format!("?layers=events&{SEED_TIMES}")));
    let events: Vec<&Feature> =
        tile["events"].features.iter().filter(|f| f.at().iter().all(|c| (0..EXTENT as i64).contains(c))).collect();
    assert_eq!(events.iter().map(|f| f.uint("count").expect("count")).sum::<u64>(), inside);
    assert_eq!(events.len(), markers.len(), "{events:?}");
    for Expected { region, count, casualties, first, at } in &markers {
        let f = events
            .iter()
            .find(|f| f.str("first_id").or(f.str("id")) == Some(first.as_str()))
            .unwrap_or_else(|| panic!("no marker for {first}"));
        assert_eq!((f.flag("cluster"), f.flag("region")), (Some(*count > 1), Some(*region)), "{first}");
        assert_eq!((f.uint("count"), f.uint("casualties")), (Some(*count), Some(*casualties)), "{first}");
        assert!(lands(f.at(), *at), "{first}: at {:?}, want {at:?}", f.at());
        if *region && *count == 1 {
            assert_eq!(f.str("location_precision"), Some("region"), "{first}");
        }
    }
}

#[test]
fn layers_choose_the_mvt_layers_and_an_unknown_one_is_a_400() {
    let t = tile_of(IDLIB, 10);
    let all = fetch(&tile_path(t, ""));
    for id in ["roads", "towns", "governorates", "report-places"] {
        assert!(all.contains_key(id), "{id} missing from {:?}", all.keys());
    }
    let roads = fetch(&tile_path(t, "?layers=roads"));
    assert_eq!(roads.keys().collect::<Vec<_>>(), ["roads"]);
    assert_eq!(roads["roads"], all["roads"]);
    let two = fetch(&tile_path(t, "?layers=towns,roads"));
    assert_eq!(two.keys().collect::<Vec<_>>(), ["roads", "towns"]);
    get(&tile_path(t, "?layers=nope")).assert_error(400, "unknown_layer");
}

#[test]
fn an_empty_tile_is_204_with_no_body() {
    let reply = get("/tiles/12/0/0.mvt");
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(reply.body.is_empty());
}

#[test]
fn gzip_when_the_client_accepts_it_decompresses_to_the_same_tile() {
    let path = tile_path(tile_of(IDLIB, 10), "?layers=roads,towns,governorates");
    let plain = get(&path);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), "");
    let zipped = get_with(&path, &[("Accept-Encoding", "gzip")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), "gzip");
    assert_eq!(zipped.header("content-type"), MVT);
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice()).read_to_end(&mut body).expect("gzip");
    assert!(zipped.body.len() < body.len(), "{} compressed, {} not", zipped.body.len(), body.len());
    assert_eq!(decode(&body), decode(&plain.body));
}

/// `fields` as TileJSON describes them, from a GeoJSON file: each non-null property's type
/// (`String`, `Number`, `Boolean`; arrays and objects are sent as JSON text, so `String`).
fn fields_of(file: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in features(file) {
        for (k, v) in f["properties"].as_object().expect("properties") {
            let t = match v {
                Value::Null => continue,
                Value::Bool(_) => "Boolean",
                Value::Number(_) => "Number",
                _ => "String",
            };
            let old = out.entry(k.clone()).or_insert_with(|| t.to_owned());
            assert_eq!(old, t, "{file}: {k} has two types");
        }
    }
    out
}

#[test]
fn vector_tilejson_describes_every_layer_with_its_fields() {
    let body = get("/tiles/vector.json").json();
    assert_eq!(body["tilejson"], "3.0.0");
    assert_eq!(body["tiles"], serde_json::json!([format!("{}/tiles/{{z}}/{{x}}/{{y}}.mvt", server())]));
    assert!(body["attribution"].as_str().is_some_and(|a| a.contains("Natural Earth")), "{}", body["attribution"]);
    let (min, max) = (body["minzoom"].as_u64().expect("minzoom"), body["maxzoom"].as_u64().expect("maxzoom"));
    assert_eq!((min, max), (0, 20));

    let described: BTreeMap<&str, &Value> = body["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .map(|l| (l["id"].as_str().expect("id"), l))
        .collect();
    let manifest = manifest();
    let entries: Vec<&toml::Table> =
        manifest["layers"].as_array().expect("layers").iter().filter_map(toml::Value::as_table).collect();
    let mut ids: BTreeSet<&str> = entries.iter().map(|l| l["id"].as_str().expect("id")).collect();
    ids.extend(["events", "labels"]);
    assert_eq!(described.keys().copied().collect::<BTreeSet<_>>(), ids);

    for entry in entries {
        let l = described[entry["id"].as_str().expect("id")];
        assert_eq!(l["description"].as_str(), entry["description"].as_str(), "{}", l["id"]);
        let lmin = entry.get("minzoom").and_then(toml::Value::as_integer).unwrap_or(0);
        assert_eq!(l["minzoom"].as_i64(), Some(lmin), "{}", l["id"]);
        let lmax = l["maxzoom"].as_u64().expect("maxzoom");
        let want_max = entry.get("maxzoom").and_then(toml::Value::as_integer).map_or(max, |z| z as u64);
        assert_eq!(lmax, want_max, "{}: maxzoom (TileJSON: at most the tiles' maxzoom)", l["id"]);
        let fields: BTreeMap<String, String> = serde_json::from_value(l["fields"].clone()).expect("fields");
        let mut want = fields_of(entry["file"].as_str().expect("file"));
        // Towns and cities may stand for a place of the report, which then holds them.
        if ["towns", "cities"].contains(&entry["id"].as_str().expect("id")) {
            want.insert("held_by".into(), "String".into());
        }
        assert_eq!(fields, want, "{}", l["id"]);
    }
    assert_eq!(described["report-places"]["fields"]["name"], "String");
    assert_eq!(described["towns"]["fields"]["population"], "Number");
    assert_eq!(described["observation-points"]["fields"]["encircled_by_feb_2020"], "Boolean");

    // The events and labels layers declare every property their features carry, with the type
    // they have.
    for (layer, query) in [("events", format!("?layers=events&{SEED_TIMES}")), ("labels", String::new())] {
        let described = described[layer];
        assert!(described["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(described["maxzoom"].as_u64().is_some_and(|z| z <= max), "{}", described["maxzoom"]);
        for z in [6, 9] {
            let tile = fetch(&tile_path(tile_of(TERMANIN, z), &query));
            for f in &tile[layer].features {
                for (k, v) in &f.props {
                    let t = match v {
                        Mvt::String(_) => "String",
                        Mvt::Bool(_) => "Boolean",
                        _ => "Number",
                    };
                    assert_eq!(described["fields"][k], t, "{layer} field {k}");
                }
            }
        }
    }
}

/// Event kinds, as the README's event table documents them.
const KINDS: [&str; 10] = [
    "airstrike",
    "shelling",
    "ground-clash",
    "casualties",
    "displacement",
    "hospital-hit",
    "talks",
    "statement",
    "agreement",
    "other",
];

/// Icons a layer's `icon-image` names: a constant, or `["concat", "event-", ["get", "kind"]]`
/// for every kind.
fn icons(image: &Value) -> Vec<String> {
    match image {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) if a.len() == 3 && a[0] == "concat" && a[2] == serde_json::json!(["get", "kind"]) => {
            let prefix = a[1].as_str().expect("a prefix");
            KINDS.iter().map(|k| format!("{prefix}{k}")).collect()
        }
        other => panic!("icon-image {other} is neither a name nor the event-kind expression"),
    }
}

#[test]
fn the_style_draws_only_served_layers_with_icons_the_sprite_has() {
    let documented: BTreeSet<&str> = KINDS.into_iter().collect();
    let served: BTreeSet<&str> = tessera::events::EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(served, documented, "the kinds the server takes are the kinds the README lists");

    let style = get("/style.json").json();
    assert_eq!(style["version"], 8);
    let source = &style["sources"]["tessera"];
    assert_eq!(source["type"], "vector");
    assert_eq!(source["url"], format!("{}/tiles/vector.json", server()));
    assert_eq!(style["sprite"], format!("{}/sprites/tessera", server()));
    let vector = get("/tiles/vector.json").json();
    let layer_ids: BTreeSet<&str> = vector["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .map(|l| l["id"].as_str().expect("id"))
        .collect();

    let sheets: Vec<(Value, crate::common::Image)> = ["tessera", "tessera@2x"]
        .iter()
        .map(|name| {
            let png = get(&format!("/sprites/{name}.png"));
            assert_eq!(png.header("content-type"), "image/png");
            (get(&format!("/sprites/{name}.json")).json(), crate::common::decode_png(&png.body))
        })
        .collect();
    for (ratio, (index, png)) in (1..).zip(&sheets) {
        for (name, e) in index.as_object().expect("a sprite index") {
            let n = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{name}.{k}"));
            assert!(n("x") + n("width") <= u64::from(png.width), "{name} @{ratio}x overflows the sheet");
            assert!(n("y") + n("height") <= u64::from(png.height), "{name} @{ratio}x overflows the sheet");
            assert!(n("width") > 0 && n("height") > 0, "{name}");
            assert_eq!(n("pixelRatio"), ratio, "{name}");
            assert_eq!(n("width"), ratio * sheets[0].0[name]["width"].as_u64().expect("1x width"), "{name}");
        }
    }
    let index = &sheets[0].0;
    assert_eq!(sheets[1].0.as_object().map(|o| o.len()), index.as_object().map(|o| o.len()));

    let layers = style["layers"].as_array().expect("layers");
    let names: BTreeSet<&str> = layers.iter().map(|l| l["id"].as_str().expect("layer id")).collect();
    assert_eq!(names.len(), layers.len(), "two style layers share an id");
    let mut drawn = BTreeSet::new();
    let mut used = BTreeSet::new();
    for l in layers.iter().filter(|l| l["type"] != "background") {
        assert_eq!(l["source"], "tessera", "{}", l["id"]);
        let from = l["source-layer"].as_str().expect("source-layer");
        assert!(layer_ids.contains(from), "{}: {from} is not in vector.json", l["id"]);
        drawn.insert(from);
        if let Some(image) = l["layout"].get("icon-image") {
            for icon in icons(image) {
                assert!(index.get(&icon).is_some(), "{}: no icon {icon} in the sprite", l["id"]);
                used.insert(icon);
            }
        }
    }
    assert_eq!(drawn, layer_ids, "every layer of vector.json is drawn");
    for kind in KINDS {
        assert!(used.contains(&format!("event-{kind}")), "no icon drawn for {kind}");
    }
    // The observation-point and hospital symbols are icons too.
    for layer in ["observation-points", "report-places"] {
        assert!(used.iter().any(|i| i.starts_with(&format!("{layer}-"))), "no icon for {layer}: {used:?}");
    }
}

#[test]
fn the_world_layer_is_carried_beyond_the_detailed_box_and_not_inside_it() {
    // world-countries is drawn at every zoom outside 34.5-39.5 E, 32-38 N (layers.toml,
    // not_within): vector tiles carry it in Jordan south of the box and across the box's edge,
    // and leave it out of a tile wholly inside the box, where its 3 km coasts would show under
    // the detailed ones in a vector map.
    for (place, z, carried) in
        [((36.5, 31.0), 8u8, true), ((39.5, 36.5), 8, true), ((36.8, 35.0), 8, false), ((36.8, 35.0), 12, false)]
    {
        let tile = fetch(&tile_path(tile_of(place, z), ""));
        assert_eq!(tile.contains_key("world-countries"), carried, "{place:?} z{z}: {:?}", tile.keys());
        assert_eq!(tile.contains_key("countries"), !carried || place.0 == 39.5, "{place:?} z{z}");
    }
}

/// The sprite sheet at a ratio: its index and its decoded PNG.
fn sprite_sheet(name: &str) -> (Value, crate::common::Image) {
    let png = get(&format!("/sprites/{name}.png"));
    (get(&format!("/sprites/{name}.json")).json(), crate::common::decode_png(&png.body))
}

#[test]
fn every_legend_swatch_of_the_viewer_is_a_drawn_cell_of_the_sprite() {
    let config = page_config("/");
    let mut wanted: Vec<String> = Vec::new();
    for l in config["layers"].as_array().expect("layers") {
        let icons = l["icons"].as_array().expect("a layer's icons");
        assert!(!icons.is_empty() && icons.len() <= 4, "{}: {icons:?}", l["id"]);
        wanted.extend(icons.iter().map(|i| i.as_str().expect("a name").to_owned()));
    }
    let kinds = config["events"]["kinds"].as_array().expect("kinds");
    assert_eq!(kinds.len(), KINDS.len());
    for k in kinds {
        assert_eq!(k["icon"], format!("event-{}", k["id"].as_str().expect("id")), "the map's own icon of the kind");
        wanted.push(k["icon"].as_str().expect("icon").to_owned());
    }
    for item in config["events"]["legend"].as_array().expect("the events' legend") {
        wanted.extend(item["icons"].as_array().expect("icons").iter().map(|i| i.as_str().expect("name").to_owned()));
    }
    // Two styles of the observation points (plain and ringed), three of the places, two of borders.
    for (layer, n) in [("observation-points", 2), ("report-places", 3), ("borders", 2), ("roads", 1)] {
        assert_eq!(wanted.iter().filter(|w| w.starts_with(&format!("{layer}-"))).count(), n, "{layer}");
    }
    for name in ["tessera", "tessera@2x"] {
        let (index, png) = sprite_sheet(name);
        for icon in &wanted {
            let cell = &index[icon];
            let n = |k: &str| cell[k].as_u64().unwrap_or_else(|| panic!("{name}: no cell {icon}")) as u32;
            let drawn = (n("y")..n("y") + n("height"))
                .flat_map(|y| (n("x")..n("x") + n("width")).map(move |x| (x, y)))
                .filter(|&(x, y)| png.pixel(x, y)[3] > 0)
                .count();
            assert!(drawn >= 4, "{name}: {icon} is blank");
        }
    }
}
