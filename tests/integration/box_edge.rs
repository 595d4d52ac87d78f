//! The map around the box that the detailed layers' sources are cut to (34.5-39.5 E, 32-38 N):
//! land is drawn as land at every zoom beyond it, and its edge does not show on land or at sea.
//!
//! The truth comes from the GeoJSON files, read here: a pixel's position is turned back into
//! longitude and latitude with the Web Mercator formula, and the country under it is found by
//! a point-in-polygon test on `countries.geojson` inside the box and `world-countries.geojson`
//! outside it. Only pixels at least a few pixels from every drawn line, ring and symbol of any
//! layer are judged, so that strokes and anti-aliased edges do not count; names are left out
//! (`lang=none`).

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{Image, background, features, get_tile, hex, layer_entry, manifest, mercator_px};

/// The box, as `layers.toml` and the sources give it.
const WEST: f64 = 34.5;
const SOUTH: f64 = 32.0;
const EAST: f64 = 39.5;
const NORTH: f64 = 38.0;

/// A pixel this close (px) to a drawn line or ring is not judged.
const LINE_CLEAR_PX: f64 = 5.0;
/// A pixel this close (px) to a point feature is not judged (the largest symbol with its ring).
const POINT_CLEAR_PX: f64 = 14.0;

type Ring = Vec<(f64, f64)>;

/// A polygon of a source with what it is: (country code or name, rings).
struct Land {
    country: String,
    rings: Vec<Ring>,
    /// West, south, east, north of the outer ring.
    bbox: [f64; 4],
}

impl Land {
    fn holds(&self, (x, y): (f64, f64)) -> bool {
        let [w, s, e, n] = self.bbox;
        x >= w && x <= e && y >= s && y <= n && inside(&self.rings, (x, y))
    }
}

fn rings_of(geometry: &Value) -> Vec<Vec<Ring>> {
    let ring = |r: &Value| -> Ring {
        r.as_array().unwrap().iter().map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).collect()
    };
    let polygon = |p: &Value| -> Vec<Ring> { p.as_array().unwrap().iter().map(ring).collect() };
    match geometry["type"].as_str().unwrap() {
        "Polygon" => vec![polygon(&geometry["coordinates"])],
        "MultiPolygon" => geometry["coordinates"].as_array().unwrap().iter().map(polygon).collect(),
        _ => Vec::new(),
    }
}

/// The polygons of a file, each with the country it belongs to (`code` property, else name).
fn lands(file: &str, code: &str) -> Vec<Land> {
    features(file)
        .iter()
        .flat_map(|f| {
            let p = &f["properties"];
            let country = p[code].as_str().or(p["name"].as_str()).unwrap_or("").to_owned();
            rings_of(&f["geometry"]).into_iter().map(move |rings| {
                let outer = &rings[0];
                let bbox = outer.iter().fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, &(x, y)| {
                    [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
                });
                Land { country: country.clone(), rings, bbox }
            })
        })
        .collect()
}

/// Even-odd point-in-polygon over all rings (holes included).
fn inside(rings: &[Ring], (x, y): (f64, f64)) -> bool {
    let mut odd = false;
    for r in rings {
        for w in r.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if (y0 > y) != (y1 > y) && x < x0 + (y - y0) / (y1 - y0) * (x1 - x0) {
                odd = !odd;
            }
        }
    }
    odd
}

/// Inverse Web Mercator: longitude and latitude of a global pixel position at zoom `z`.
fn lonlat(px: f64, py: f64, z: u8) -> (f64, f64) {
    let world = 256.0 * 2f64.powi(i32::from(z));
    let lon = px / world * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * py / world);
    (lon, n.sinh().atan().to_degrees())
}

fn in_box((lon, lat): (f64, f64)) -> bool {
    (WEST..=EAST).contains(&lon) && (SOUTH..=NORTH).contains(&lat)
}

/// What the sources put at a position: the country, or `None` for sea. Inside the box the
/// detailed countries decide, outside it the world layer (the only one there).
struct Truth {
    detailed: Vec<Land>,
    world: Vec<Land>,
    /// Colour of a country's land, by the countries layer's style and rules.
    fill: [u8; 4],
    syria: [u8; 4],
}

impl Truth {
    fn load() -> Self {
        let countries = layer_entry("countries");
        let syria = countries["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["equals"].as_str() == Some("SYR"))
            .and_then(|r| r["fill"].as_str())
            .map(hex)
            .expect("countries has a Syria rule with a fill");
        Self {
            detailed: lands("countries.geojson", "adm0_a3"),
            world: lands("world-countries.geojson", "iso_a3"),
            fill: hex(countries["style"]["fill"].as_str().unwrap()),
            syria,
        }
    }

    fn country(&self, at: (f64, f64)) -> Option<&str> {
        let lands = if in_box(at) { &self.detailed } else { &self.world };
        lands.iter().find(|l| l.holds(at)).map(|l| l.country.as_str())
    }

    /// The colour the map should show at a position: the country's land colour, or the sea.
    fn colour(&self, at: (f64, f64)) -> [u8; 4] {
        match self.country(at) {
            Some("SYR") => self.syria,
            Some(_) => self.fill,
            None => background(),
        }
    }
}

/// Everything drawn at zoom `z` near a tile, in global pixels: segments of lines and rings, and
/// points. The countries' edges along the box are the cut of the source, not a line on the map.
struct Drawn {
    segments: Vec<((f64, f64), (f64, f64))>,
    points: Vec<(f64, f64)>,
    /// Polygons whose fill is not the country's (the highlighted governorate, the
    /// de-escalation zone, lakes): pixels inside them are not judged.
    other_fills: Vec<Vec<Ring>>,
}

/// A layer of the manifest: id, zoom range and features.
type ManifestLayer = (String, i64, i64, Vec<Value>);

/// Every layer of the manifest, read once.
fn layers() -> &'static [ManifestLayer] {
    static LAYERS: std::sync::OnceLock<Vec<ManifestLayer>> = std::sync::OnceLock::new();
    LAYERS.get_or_init(|| {
        manifest()["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|layer| {
                let min = layer.get("minzoom").and_then(toml::Value::as_integer).unwrap_or(0);
                let max = layer.get("maxzoom").and_then(toml::Value::as_integer).unwrap_or(30);
                let id = layer["id"].as_str().unwrap().to_owned();
                (id, min, max, features(layer["file"].as_str().unwrap()))
            })
            .collect()
    })
}

impl Drawn {
    fn at(z: u8, tile: (u32, u32)) -> Self {
        let (x0, y0) = (f64::from(tile.0) * 256.0 - 40.0, f64::from(tile.1) * 256.0 - 40.0);
        let near = |(x, y): (f64, f64)| x >= x0 && x <= x0 + 336.0 && y >= y0 && y <= y0 + 336.0;
        let mut d = Drawn { segments: Vec::new(), points: Vec::new(), other_fills: Vec::new() };
        for (id, min, max, layer) in layers() {
            if !(*min..=*max).contains(&i64::from(z)) {
                continue;
            }
            let cut = id == "countries";
            for f in layer {
                let g = &f["geometry"];
                let px = |p: &Value| mercator_px(p[0].as_f64().unwrap(), p[1].as_f64().unwrap(), z);
                let mut line = |pts: &[Value]| {
                    for w in pts.windows(2) {
                        let (a, b) = (px(&w[0]), px(&w[1]));
                        let on_cut = |u: &Value, v: &Value, i: usize, edge: f64| {
                            u[i].as_f64() == Some(edge) && v[i].as_f64() == Some(edge)
                        };
                        let along_box = [(0, WEST), (0, EAST), (1, SOUTH), (1, NORTH)]
                            .iter()
                            .any(|&(i, e)| on_cut(&w[0], &w[1], i, e));
                        if cut && along_box {
                            continue;
                        }
                        // Antarctica's ring reaches the pole, off the Mercator square.
                        if !(a.1.is_finite() && b.1.is_finite()) {
                            continue;
                        }
                        let overlaps = a.0.min(b.0) <= x0 + 336.0
                            && a.0.max(b.0) >= x0
                            && a.1.min(b.1) <= y0 + 336.0
                            && a.1.max(b.1) >= y0;
                        if overlaps {
                            d.segments.push((a, b));
                        }
                    }
                };
                match g["type"].as_str().unwrap() {
                    "Point" => {
                        let p = px(&g["coordinates"]);
                        if near(p) {
                            d.points.push(p);
                        }
                    }
                    "LineString" => line(g["coordinates"].as_array().unwrap()),
                    "MultiLineString" | "Polygon" => {
                        for part in g["coordinates"].as_array().unwrap() {
                            line(part.as_array().unwrap());
                        }
                    }
                    "MultiPolygon" => {
                        for poly in g["coordinates"].as_array().unwrap() {
                            for ring in poly.as_array().unwrap() {
                                line(ring.as_array().unwrap());
                            }
                        }
                    }
                    other => panic!("unexpected geometry {other}"),
                }
                let highlighted = f["properties"]["iso_3166_2"].as_str() == Some("SY-ID");
                if matches!(id.as_str(), "lakes" | "de-escalation-zone") || highlighted {
                    d.other_fills.extend(rings_of(g));
                }
            }
        }
        d
    }

    /// Whether a global pixel centre is clear of everything drawn, by the given margins.
    fn clear(&self, (x, y): (f64, f64), z: u8) -> bool {
        let seg = |((ax, ay), (bx, by)): ((f64, f64), (f64, f64))| {
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            let t = if len2 == 0.0 { 0.0 } else { (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0) };
            (x - ax - t * dx).hypot(y - ay - t * dy)
        };
        self.segments.iter().all(|&s| seg(s) >= LINE_CLEAR_PX)
            && self.points.iter().all(|&(px, py)| (px - x).hypot(py - y) >= POINT_CLEAR_PX)
            && !self.other_fills.iter().any(|rings| inside(rings, lonlat(x, y, z)))
    }
}

/// Served tiles (`lang=none`), fetched once each.
#[derive(Default)]
struct Tiles(HashMap<(u8, u32, u32), Image>);

impl Tiles {
    /// The colour of the pixel whose centre is at global pixel (`x`, `y`).
    fn pixel(&mut self, z: u8, (x, y): (f64, f64)) -> [u8; 4] {
        let (tx, ty) = ((x / 256.0).floor() as u32, (y / 256.0).floor() as u32);
        let image =
            self.0.entry((z, tx, ty)).or_insert_with(|| get_tile(&format!("/tiles/{z}/{tx}/{ty}.png?lang=none"), 256));
        image.pixel((x - f64::from(tx) * 256.0) as u32, (y - f64::from(ty) * 256.0) as u32)
    }
}

/// Checks every 4th pixel of a tile that is clear of drawn lines and symbols against the
/// sources: a country's land colour on land, the background at sea. Returns how many land and
/// sea pixels were judged.
fn check_tile(truth: &Truth, tiles: &mut Tiles, z: u8, tx: u32, ty: u32) -> (usize, usize) {
    let drawn = Drawn::at(z, (tx, ty));
    let (mut land, mut sea) = (0, 0);
    let mut wrong = Vec::new();
    for j in (2..256).step_by(4) {
        for i in (2..256).step_by(4) {
            let at = (f64::from(tx) * 256.0 + f64::from(i) + 0.5, f64::from(ty) * 256.0 + f64::from(j) + 0.5);
            if !drawn.clear(at, z) {
                continue;
            }
            let ll = lonlat(at.0, at.1, z);
            let want = truth.colour(ll);
            let got = tiles.pixel(z, at);
            if truth.country(ll).is_some() {
                land += 1
            } else {
                sea += 1
            }
            if got.iter().zip(want).any(|(a, b)| a.abs_diff(b) > 2) {
                wrong.push(format!("({i},{j}) {:.3} E {:.3} N: {got:?}, want {want:?}", ll.0, ll.1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{z}/{tx}/{ty}: {} of {} judged pixels wrong, e.g. {:?}",
        wrong.len(),
        land + sea,
        &wrong[..wrong.len().min(4)]
    );
    (land, sea)
}

/// The tile holding a position at zoom `z`.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let (x, y) = mercator_px(lon, lat, z);
    ((x / 256.0) as u32, (y / 256.0) as u32)
}

#[test]
fn land_beyond_the_detailed_box_is_drawn_as_land() {
    // The tiles of the issue, wholly outside the box, where only the world layer has land:
    // Sinai, the Negev and Jordan (7/76/52, land and sea); inland Turkey west of the box
    // (8/151/99, all land); and beside it the coast of Mersin (8/152/100, land and sea).
    let truth = Truth::load();
    let mut tiles = Tiles::default();
    for (z, x, y, seas) in [(7u8, 76u32, 52u32, true), (8, 151, 99, false), (8, 152, 100, true)] {
        let (land, sea) = check_tile(&truth, &mut tiles, z, x, y);
        assert!(land > 200 && (!seas || sea > 100), "{z}/{x}/{y}: only {land} land and {sea} sea pixels judged");
    }
}

#[test]
fn land_across_the_detailed_box_edge_is_drawn_as_land() {
    // Tiles straddling each edge of the box, on land (Turkey north, Syria, Iraq and Turkey
    // east, Jordan south, Israel and the sea south-west, Cyprus west), at zooms 5-9.
    let truth = Truth::load();
    let mut tiles = Tiles::default();
    let places = [(36.0, 38.0), (39.5, 36.8), (39.5, 33.0), (37.0, 32.0), (34.9, 32.0), (34.5, 35.6)];
    let (mut land, mut sea) = (0, 0);
    for z in 5..=9u8 {
        for &(lon, lat) in &places {
            let (x, y) = tile_of(lon, lat, z);
            let (l, s) = check_tile(&truth, &mut tiles, z, x, y);
            land += l;
            sea += s;
        }
    }
    assert!(land > 20_000 && sea > 2_000, "only {land} land and {sea} sea pixels judged");
}

#[test]
fn the_detailed_box_edge_does_not_show_on_land() {
    // Pixels 3 px either side of each edge of the box, every degree along it, at zooms 5-9:
    // where the sources put one country on both sides, the two pixels have one colour (the
    // lighter Syria of the detailed layer used to stop at 39.5 E); at sea both are the sea.
    let truth = Truth::load();
    let mut tiles = Tiles::default();
    let mut samples: Vec<((f64, f64), (f64, f64))> = Vec::new(); // (position on the edge, outward step)
    for lon in [35.0, 36.0, 37.0, 38.0, 39.0] {
        samples.push(((lon, NORTH), (0.0, -1.0)));
        samples.push(((lon, SOUTH), (0.0, 1.0)));
    }
    for lat in [32.5, 33.5, 34.5, 35.5, 36.5, 37.5] {
        samples.push(((EAST, lat), (1.0, 0.0)));
        samples.push(((WEST, lat), (-1.0, 0.0)));
    }
    let (mut same_land, mut same_sea) = (0, 0);
    let mut wrong = Vec::new();
    for z in 5..=9u8 {
        for &((lon, lat), (dx, dy)) in &samples {
            let (ex, ey) = mercator_px(lon, lat, z);
            let outside = (ex.floor() + 0.5 + 3.0 * dx, ey.floor() + 0.5 + 3.0 * dy);
            let inside_px = (ex.floor() + 0.5 - 3.0 * dx, ey.floor() + 0.5 - 3.0 * dy);
            let (lo, li) = (lonlat(outside.0, outside.1, z), lonlat(inside_px.0, inside_px.1, z));
            assert!(!in_box(lo) && in_box(li), "z{z} {lon},{lat}: the samples straddle the edge");
            let drawn = Drawn::at(z, tile_of(lon, lat, z));
            if !drawn.clear(outside, z) || !drawn.clear(inside_px, z) || truth.country(lo) != truth.country(li) {
                continue;
            }
            let (a, b) = (tiles.pixel(z, outside), tiles.pixel(z, inside_px));
            if truth.country(lo).is_some() {
                same_land += 1
            } else {
                same_sea += 1
            }
            if a.iter().zip(b).any(|(p, q)| p.abs_diff(q) > 2) {
                wrong.push(format!("z{z} {lon} E {lat} N ({:?}): outside {a:?}, inside {b:?}", truth.country(lo)));
            }
        }
    }
    assert!(wrong.is_empty(), "the box edge shows: {wrong:#?}");
    assert!(same_land >= 40 && same_sea >= 10, "only {same_land} land and {same_sea} sea pairs judged");
}
