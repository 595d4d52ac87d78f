//! Tile addresses: `Z/X/Y` text and the `{z}/{x}/{y}.png|.webp|.jpg|@2x.png|.mvt` paths of the tile routes.

use crate::http::extract::{Ending, ending, parse_tile};
use crate::render::Scale;
use crate::tile::{MAX_ZOOM, TileCoord, WorldPoint};

/// Maximum zooms a server may be configured with: the least, one between, the most.
const SERVER_MAX_ZOOMS: [u8; 3] = [0, 16, MAX_ZOOM];

/// Reads `data` as a tile address and as the path of a tile request, and checks every tile
/// accepted: it is inside its zoom (`x, y < 2^z`), its `Z/X/Y` form parses back to it, its
/// bounds are inside the unit square and contain its centre, its parent and children agree
/// with it, and no server accepts a zoom above its maximum.
pub fn tile_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match text.parse::<TileCoord>() {
        Ok(t) => tile(t),
        Err(e) => super::short_message(&e.to_string()),
    }
    let path = text.strip_prefix("/tiles/").or_else(|| text.strip_prefix("/overlays/events/")).unwrap_or(text);
    let [z, x, file] = path.split('/').collect::<Vec<_>>()[..] else { return };
    let (y, end) = ending(file, 85);
    assert!(!y.contains('@'), "a row with an '@' in it: {y:.40}");
    assert!(file.starts_with(y), "the row is not the start of the file name");
    let (at, ext) = match end {
        Ending::Image(scale, format) => (if scale == Scale::X2 { "@2x" } else { "" }, format.extension()),
        Ending::Mvt => ("", "mvt"),
        Ending::Json => ("", "json"),
        // Served nowhere: each route answers 404 naming what it serves; the row is still read.
        Ending::Other(_) => return route(z, x, y),
    };
    assert_eq!(format!("{y}{at}.{ext}"), file, "the file name's ending lost part of it");
    route(z, x, y);
}

/// The parts of a tile route, against each maximum zoom.
fn route(z: &str, x: &str, y: &str) {
    let plain = TileCoord::parse_parts(z, x, y);
    for max_zoom in SERVER_MAX_ZOOMS {
        match parse_tile(z, x, y, max_zoom) {
            Ok(t) => {
                assert!(t.z() <= max_zoom, "tile {t} accepted above max zoom {max_zoom}");
                assert_eq!(plain.as_ref().ok(), Some(&t), "the route and TileCoord disagree");
                tile(t);
            }
            Err(e) => {
                super::short_message(&e.to_string());
                assert!(plain.as_ref().is_ok_and(|t| t.z() > max_zoom) || plain.is_err(), "{z}/{x}/{y} refused");
            }
        }
    }
}

/// The invariants of one valid tile.
fn tile(t: TileCoord) {
    let (z, x, y) = (t.z(), t.x(), t.y());
    assert!(z <= MAX_ZOOM && u64::from(x) < 1u64 << z && u64::from(y) < 1u64 << z, "tile {z}/{x}/{y}");
    assert_eq!(TileCoord::new(u32::from(z), u64::from(x), u64::from(y)), Ok(t));
    assert_eq!(t.to_string().parse::<TileCoord>(), Ok(t), "{t} does not round-trip through text");
    let b = t.bounds();
    assert!(0.0 <= b.min.x && b.min.x < b.max.x && b.max.x <= 1.0, "x bounds of {t}: {b:?}");
    assert!(0.0 <= b.min.y && b.min.y < b.max.y && b.max.y <= 1.0, "y bounds of {t}: {b:?}");
    let centre = WorldPoint::new((b.min.x + b.max.x) / 2.0, (b.min.y + b.max.y) / 2.0);
    assert_eq!(TileCoord::containing(centre, z), Ok(t), "the centre of {t} is not in it");
    let ll = t.lonlat_bounds();
    assert!(ll.west < ll.east && ll.south < ll.north, "degree bounds of {t}: {ll:?}");
    assert!(ll.to_array().iter().all(|v| v.is_finite()), "degree bounds of {t}: {ll:?}");
    if let Some(parent) = t.parent() {
        assert!(parent.children().is_some_and(|c| c.contains(&t)), "{t} is not a child of its parent {parent}");
    }
    if let Some(children) = t.children() {
        assert!(children.iter().all(|c| c.parent() == Some(t)), "a child of {t} has another parent");
    }
}
