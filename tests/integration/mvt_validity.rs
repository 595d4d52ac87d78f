//! Every polygon of every vector tile is valid by OGC rules, as MVT 2.1 (section 4.3.4.4)
//! requires, over the polygon layers of the default data at every zoom where they are drawn.
//!
//! The tiles ([`sweep`]): every tile of zooms 0-6 that meets the bounding box of a ring drawn at
//! that zoom (most of the world, where `world-countries` is drawn), and of zooms 7-8 within the
//! data's region ([`REGION`]: the detailed layers' box and 2 degrees around it, where the world
//! layer meets them); every tile along a polygon edge in the region at zooms 9 to 14, the
//! deepest zoom with simplified shapes; and 300 tiles along polygon edges in the region, drawn
//! with a fixed seed, at each zoom from 15 to the server's maximum. The world layer is drawn at
//! every zoom, but beyond z6 only the region is swept: its coarse rings are the same everywhere,
//! and the whole world at z8 alone is 65,536 tiles. The edges are where clipping, snapping and
//! simplification can break a ring; a tile inside a polygon holds the buffered square.
//!
//! Two judges, neither of them the library: this file's own checks on the rings as decoded by
//! mvt-reader (no ring crosses or touches itself, no two rings cross or share an edge, holes
//! inside their exterior and not inside each other, no polygon of a feature inside another),
//! and GEOS through Python shapely on tiles decoded by mapbox-vector-tile
//! (`tests/validity/mvt_validity.py`, in a venv that `tests/validity/setup.sh` makes).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use rand::{RngExt, SeedableRng};
use serde_json::Value;

use crate::common::{features, manifest, mercator_px, scratch_dir, server};
use crate::mvt::{Geom, Pt, Tile, TileAt, area2, fetch, tile_path};

const POLYGON_LAYERS: &str = "?layers=world-countries,countries,governorates,lakes,de-escalation-zone";
/// Deepest zoom a server draws by default.
const MAX_ZOOM: u8 = 20;
/// Edge tiles sampled at each zoom deeper than the simplified ones.
const DEEP_SAMPLE: usize = 300;
/// West, south, east, north (degrees) of the region swept beyond zoom 6: the box the detailed
/// layers are clipped to (34.5-39.5 E, 32-38 N) and 2 degrees around it.
const REGION: (f64, f64, f64, f64) = (32.5, 30.0, 41.5, 40.0);

fn in_region((lon, lat): (f64, f64)) -> bool {
    (REGION.0..=REGION.2).contains(&lon) && (REGION.1..=REGION.3).contains(&lat)
}

/// A polygon layer of layers.toml: its zoom range and its rings as (lon, lat).
struct PolygonLayer {
    minzoom: u8,
    maxzoom: u8,
    rings: Vec<Vec<(f64, f64)>>,
}

fn polygon_layers() -> Vec<PolygonLayer> {
    let zoom = |l: &toml::Value, key: &str, default: u8| {
        l.get(key).and_then(toml::Value::as_integer).map_or(default, |z| z as u8)
    };
    manifest()["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| {
            let file = features(l["file"].as_str().expect("file"));
            let mut rings = Vec::new();
            for f in &file {
                let g = &f["geometry"];
                let polys: Vec<&Value> = match g["type"].as_str() {
                    Some("Polygon") => vec![&g["coordinates"]],
                    Some("MultiPolygon") => g["coordinates"].as_array().expect("polygons").iter().collect(),
                    _ => continue,
                };
                for ring in polys.iter().flat_map(|p| p.as_array().expect("rings")) {
                    let pts = ring.as_array().expect("ring");
                    rings
                        .push(pts.iter().map(|c| (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"))).collect());
                }
            }
            (!rings.is_empty()).then(|| PolygonLayer {
                minzoom: zoom(l, "minzoom", 0),
                maxzoom: zoom(l, "maxzoom", MAX_ZOOM),
                rings,
            })
        })
        .collect()
}

/// The tiles at zoom `z` that the edges of these rings pass through (sampled every 1/8 tile).
fn edge_tiles(rings: &[&Vec<(f64, f64)>], z: u8) -> BTreeSet<TileAt> {
    let mut out = BTreeSet::new();
    // Web Mercator stops at 85.05 degrees: the poles (Antarctica's ring reaches -90) clamp there.
    let px = |(lon, lat): (f64, f64)| mercator_px(lon, lat.clamp(-85.051_128, 85.051_128), z);
    for w in rings.iter().flat_map(|r| r.windows(2)) {
        let (a, b) = (px(w[0]), px(w[1]));
        let steps = ((a.0 - b.0).abs().max((a.1 - b.1).abs()) / 32.0).ceil() as usize + 1;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            out.insert(tile_at(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, z));
        }
    }
    out
}

fn tile_at(x: f64, y: f64, z: u8) -> TileAt {
    let last = (1u32 << z) - 1;
    (z, ((x / 256.0) as u32).min(last), ((y / 256.0) as u32).min(last))
}

/// The tiles swept (see the module docs), in zoom order.
fn sweep() -> &'static [TileAt] {
    static TILES: OnceLock<Vec<TileAt>> = OnceLock::new();
    TILES.get_or_init(|| {
        let layers = polygon_layers();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let mut tiles = Vec::new();
        for z in 0..=MAX_ZOOM {
            let drawn: Vec<&PolygonLayer> = layers.iter().filter(|l| (l.minzoom..=l.maxzoom).contains(&z)).collect();
            let rings: Vec<&Vec<(f64, f64)>> = drawn.iter().flat_map(|l| &l.rings).collect();
            // Beyond zoom 6, the rings' parts in the region.
            let regional: Vec<Vec<(f64, f64)>> = rings
                .iter()
                .flat_map(|r| r.split(|p| !in_region(*p)).filter(|run| run.len() >= 2).map(<[_]>::to_vec))
                .collect();
            let rings: Vec<&Vec<(f64, f64)>> = if z <= 6 { rings } else { regional.iter().collect() };
            if z <= 8 {
                let mut set = BTreeSet::new();
                for r in &rings {
                    let (w, n) = r.iter().fold((f64::MAX, f64::MIN), |(w, n), p| (w.min(p.0), n.max(p.1)));
                    let (e, s) = r.iter().fold((f64::MIN, f64::MAX), |(e, s), p| (e.max(p.0), s.min(p.1)));
                    let (x0, y0) = mercator_px(w, n, z);
                    let (x1, y1) = mercator_px(e, s, z);
                    let ((_, tx0, ty0), (_, tx1, ty1)) = (tile_at(x0, y0, z), tile_at(x1, y1, z));
                    set.extend((tx0..=tx1).flat_map(|x| (ty0..=ty1).map(move |y| (z, x, y))));
                }
                tiles.extend(set);
            } else if z <= tessera::geom::PREPARED_MAX_ZOOM {
                tiles.extend(edge_tiles(&rings, z));
            } else {
                // Points drawn along the edges, a whole number of them on each edge.
                let edges: Vec<((f64, f64), (f64, f64))> =
                    rings.iter().flat_map(|r| r.windows(2)).map(|w| (w[0], w[1])).collect();
                let mut set = BTreeSet::new();
                while set.len() < DEEP_SAMPLE {
                    let (a, b) = edges[rng.random_range(0..edges.len())];
                    let t: f64 = rng.random_range(0.0..1.0);
                    let (x, y) = mercator_px(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, z);
                    set.insert(tile_at(x, y, z));
                }
                tiles.extend(set);
            }
        }
        tiles
    })
}

fn orient(a: Pt, b: Pt, c: Pt) -> i64 {
    ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])).signum()
}

fn on_segment(p: Pt, a: Pt, b: Pt) -> bool {
    orient(a, b, p) == 0
        && (a[0].min(b[0])..=a[0].max(b[0])).contains(&p[0])
        && (a[1].min(b[1])..=a[1].max(b[1])).contains(&p[1])
}

/// Where `p` lies against a ring: 1 inside, 0 on its boundary, -1 outside (even-odd rule).
fn locate(p: Pt, ring: &[Pt]) -> i32 {
    let edges = || (0..ring.len()).map(|i| (ring[i], ring[(i + 1) % ring.len()]));
    if edges().any(|(a, b)| on_segment(p, a, b)) {
        return 0;
    }
    let crossings = edges()
        .filter(|(a, b)| (a[1] > p[1]) != (b[1] > p[1]))
        .filter(|(a, b)| {
            // Whether the edge passes right of p, in integers: the sign of the crossing's x - p.x.
            let side = (b[0] - a[0]) * (p[1] - a[1]) - (p[0] - a[0]) * (b[1] - a[1]);
            (side > 0) == (b[1] > a[1])
        })
        .count();
    if crossings % 2 == 1 { 1 } else { -1 }
}

/// One edge of a ring: its ends, its ring and its place in the ring.
#[derive(Clone, Copy)]
struct Edge {
    a: Pt,
    b: Pt,
    ring: usize,
    index: usize,
    ring_len: usize,
}

/// What two edges have in common that OGC rules forbid, if anything: a crossing, a stretch of
/// edge, or (within one ring) any point but the vertex that two neighbouring edges share.
fn edge_problem(e: &Edge, f: &Edge) -> Option<&'static str> {
    let (o1, o2, o3, o4) = (orient(e.a, e.b, f.a), orient(e.a, e.b, f.b), orient(f.a, f.b, e.a), orient(f.a, f.b, e.b));
    if o1 * o2 < 0 && o3 * o4 < 0 {
        return Some("edges cross");
    }
    if o1 == 0 && o2 == 0 {
        // Collinear: they share a stretch when their projections overlap by more than a point.
        let axis = usize::from(e.a[0] == e.b[0]);
        let (e0, e1) = (e.a[axis].min(e.b[axis]), e.a[axis].max(e.b[axis]));
        let (f0, f1) = (f.a[axis].min(f.b[axis]), f.a[axis].max(f.b[axis]));
        if e1.min(f1) > e0.max(f0) {
            return Some("edges overlap");
        }
    }
    let ends = [(f.a, e), (f.b, e), (e.a, f), (e.b, f)];
    let p = ends.into_iter().find(|(p, g)| on_segment(*p, g.a, g.b))?.0;
    if e.ring != f.ring {
        return None;
    }
    let next = |x: &Edge, y: &Edge| (x.index + 1) % x.ring_len == y.index;
    let shared = (next(e, f) && p == e.b && p == f.a) || (next(f, e) && p == f.b && p == e.a);
    (!shared).then_some("a ring touches itself")
}

/// The first thing OGC rules find wrong with one feature's rings (wire order, exteriors of
/// positive area each followed by their holes), if any.
fn ogc_problem(rings: &[Vec<Pt>]) -> Option<String> {
    let mut edges = Vec::new();
    for (ri, r) in rings.iter().enumerate() {
        let mut r = r.clone();
        r.dedup();
        if r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        for i in 0..r.len() {
            edges.push(Edge { a: r[i], b: r[(i + 1) % r.len()], ring: ri, index: i, ring_len: r.len() });
        }
    }
    // Sweep along x: each edge against those that start before it ends.
    edges.sort_by_key(|e| e.a[0].min(e.b[0]));
    for (i, e) in edges.iter().enumerate() {
        let (x1, y0, y1) = (e.a[0].max(e.b[0]), e.a[1].min(e.b[1]), e.a[1].max(e.b[1]));
        for f in edges[i + 1..].iter().take_while(|f| f.a[0].min(f.b[0]) <= x1) {
            if f.a[1].max(f.b[1]) < y0 || f.a[1].min(f.b[1]) > y1 {
                continue;
            }
            if let Some(why) = edge_problem(e, f) {
                return Some(format!("{why}: {:?}-{:?} and {:?}-{:?}", e.a, e.b, f.a, f.b));
            }
        }
    }
    // Rings by polygon: (exterior, holes).
    let mut polygons: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, r) in rings.iter().enumerate() {
        match polygons.last_mut() {
            Some((_, holes)) if area2(r) < 0 => holes.push(i),
            _ => polygons.push((i, Vec::new())),
        }
    }
    // No edges cross or overlap, so a ring lies inside another or outside it, and one vertex
    // off the other's boundary tells which.
    let inside = |a: usize, b: usize| rings[a].iter().map(|&p| locate(p, &rings[b])).find(|&l| l != 0) == Some(1);
    for (k, (outer, holes)) in polygons.iter().enumerate() {
        if let Some(h) = holes.iter().find(|&&h| !inside(h, *outer)) {
            return Some(format!("hole {h} lies outside its exterior {outer}"));
        }
        for (i, &h) in holes.iter().enumerate() {
            if let Some(g) = holes[i + 1..].iter().find(|&&g| inside(h, g) || inside(g, h)) {
                return Some(format!("holes {h} and {g} are nested"));
            }
        }
        for (other, other_holes) in polygons.iter().skip(k + 1) {
            // A polygon inside another must sit in one of its holes.
            let within = |a: usize, b: usize, b_holes: &[usize]| inside(a, b) && !b_holes.iter().any(|&h| inside(a, h));
            if within(*outer, *other, other_holes) || within(*other, *outer, holes) {
                return Some(format!("polygons of exteriors {outer} and {other} overlap"));
            }
        }
    }
    None
}

/// Fetches the tiles with a few threads, in order.
fn fetch_all(tiles: &[TileAt], query: &str) -> Vec<Tile> {
    let chunk = tiles.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = tiles
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|&t| fetch(&tile_path(t, query))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a fetching thread")).collect()
    })
}

#[test]
fn polygon_rings_do_not_cross_or_touch_themselves_at_any_zoom() {
    let tiles = sweep();
    // zoom -> (polygons, invalid)
    let mut per_zoom: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
    let mut bad = Vec::new();
    for (&t, tile) in tiles.iter().zip(fetch_all(tiles, POLYGON_LAYERS)) {
        for (name, layer) in &tile {
            for f in &layer.features {
                let Geom::Rings(rings) = &f.geom else { panic!("{name}: not a polygon in {t:?}") };
                let count = per_zoom.entry(t.0).or_default();
                count.0 += 1;
                if let Some(why) = ogc_problem(rings) {
                    count.1 += 1;
                    bad.push(format!("{name} {:?} ({}) in {t:?}: {why}", f.id, f.str("name").unwrap_or("")));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} invalid polygons (polygons, invalid per zoom: {per_zoom:?}); first: {:#?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    // Every zoom had polygons to judge, and the sweep was as large as the docs say.
    assert_eq!(per_zoom.keys().copied().collect::<Vec<_>>(), (0..=MAX_ZOOM).collect::<Vec<_>>());
    assert!(tiles.len() > 12_000 && per_zoom.values().map(|c| c.0).sum::<usize>() > 25_000, "{per_zoom:?}");
}

#[test]
fn geos_finds_every_vector_tile_polygon_valid() {
    let dir = scratch_dir("mvt-validity");
    let list = dir.join("tiles.txt");
    let text: String = sweep().iter().map(|(z, x, y)| format!("{z}/{x}/{y}\n")).collect();
    std::fs::write(&list, text).expect("tile list");
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validity");
    let setup = std::process::Command::new("bash").arg(here.join("setup.sh")).output().expect("run setup.sh");
    assert!(setup.status.success(), "setup.sh: {}", String::from_utf8_lossy(&setup.stderr));
    let python = String::from_utf8(setup.stdout).expect("a path").trim().to_owned();
    let run = std::process::Command::new(python)
        .arg(here.join("mvt_validity.py"))
        .args([server(), list.to_str().expect("a UTF-8 path"), POLYGON_LAYERS])
        .output()
        .expect("run mvt_validity.py");
    assert!(run.status.success(), "mvt_validity.py: {}", String::from_utf8_lossy(&run.stderr));
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    assert_eq!(report["invalid"], 0, "GEOS: {report:#}");
    assert_eq!(report["wound_wrong_count"], 0, "first rings not of positive area: {report:#}");
    assert_eq!(report["tiles"], sweep().len(), "{report:#}");
    assert!(report["polygons"].as_u64().is_some_and(|n| n > 25_000), "{report:#}");
    assert_eq!(report["per_zoom"].as_object().map(|z| z.len()), Some(usize::from(MAX_ZOOM) + 1), "{report:#}");
}
