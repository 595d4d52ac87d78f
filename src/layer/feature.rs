//! One feature of a layer: its GeoJSON identity and properties, its geometry in WGS84, and the
//! same geometry projected once, at load, to the Web Mercator unit square.

use geojson::{GeometryValue, JsonObject, Position};

use super::FeatureProblem;
use crate::geom::Shape;
use crate::style::GeometryKind;
use crate::tile::{LonLat, WorldPoint};

// `Shape` lives in `geom`, below the layers; which default style fits a shape is a question
// of the layer's, so it is answered here.
impl Shape {
    /// Which default style fits this shape.
    pub fn kind(&self) -> GeometryKind {
        match self {
            Shape::Points(_) => GeometryKind::Point,
            Shape::Lines(_) => GeometryKind::Line,
            Shape::Polygons(_) => GeometryKind::Polygon,
        }
    }
}

/// A validated feature.
///
/// Its geometry is kept twice, in degrees and in the unit square, and neither copy can go
/// (measured on the default data, 96,204 positions, 1.5 MB a copy):
/// - the degrees answer OGC API - Features as the file has them and filter `bbox` along
///   RFC 7946's straight lines in longitude and latitude; the unit square cannot give them
///   back: Web Mercator clamps latitudes beyond 85.05 degrees (13 positions, Antarctica's), and
///   81,154 of the others come back from the round trip off in the last digits
///   (36.817000000000004). Keeping the file's text instead would be no smaller at 3 decimals;
/// - the unit square is what every tile clips, draws and indexes. Projecting on demand costs a
///   logarithm and a tangent a position: projecting what a vector tile touches takes 1.4 to
///   2.1 times as long as encoding the whole tile (tiles along polygon edges, zooms 9 to 20).
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature's id: its GeoJSON `id`, else its `id` property, else its index in the file.
    pub id: serde_json::Value,
    /// Its properties, as in the file.
    pub properties: JsonObject,
    /// Its geometry in WGS84 degrees, as in the file.
    pub geometry: geo::Geometry<f64>,
    /// The same geometry in the Web Mercator unit square.
    pub shape: Shape,
}

impl Feature {
    /// The id as the text used in URLs (`/items/{fid}`).
    pub fn id_text(&self) -> String {
        id_text(&self.id)
    }
}

/// How an id reads in a URL: strings as they are, numbers in JSON form.
pub fn id_text(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks a GeoJSON geometry against RFC 7946 and the ranges of WGS84, and projects it.
///
/// # Examples
/// ```
/// use tessera::layer::{validate_geometry, FeatureProblem};
/// let ok = geojson::GeometryValue::new_point([36.817, 36.233]);
/// assert!(validate_geometry(&ok).is_ok());
/// let bad = geojson::GeometryValue::new_point([36.8, 95.0]);
/// assert!(matches!(validate_geometry(&bad), Err(FeatureProblem::OutOfRange { .. })));
/// ```
pub fn validate_geometry(g: &GeometryValue) -> Result<Shape, FeatureProblem> {
    let path = "coordinates";
    // An empty Multi- geometry has no location: it could be neither drawn nor found, and its
    // missing extent would be taken as 0,0 in the layer's bounds.
    let empty = match g {
        GeometryValue::MultiPoint { coordinates } => coordinates.is_empty(),
        GeometryValue::MultiLineString { coordinates } => coordinates.is_empty(),
        GeometryValue::MultiPolygon { coordinates } => coordinates.is_empty(),
        _ => false,
    };
    if empty {
        return Err(FeatureProblem::EmptyGeometry(g.type_name()));
    }
    match g {
        GeometryValue::Point { coordinates } => Ok(Shape::Points(vec![position(coordinates, path)?])),
        GeometryValue::MultiPoint { coordinates } => coordinates
            .iter()
            .enumerate()
            .map(|(i, p)| position(p, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Shape::Points),
        GeometryValue::LineString { coordinates } => Ok(Shape::Lines(vec![line(coordinates, path)?])),
        GeometryValue::MultiLineString { coordinates } => coordinates
            .iter()
            .enumerate()
            .map(|(i, l)| line(l, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Shape::Lines),
        GeometryValue::Polygon { coordinates } => Ok(Shape::Polygons(vec![polygon(coordinates, path)?])),
        GeometryValue::MultiPolygon { coordinates } => coordinates
            .iter()
            .enumerate()
            .map(|(i, p)| polygon(p, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Shape::Polygons),
        GeometryValue::GeometryCollection { .. } => Err(FeatureProblem::UnsupportedType(g.type_name())),
    }
}

fn position(p: &Position, path: &str) -> Result<WorldPoint, FeatureProblem> {
    let s = p.as_slice();
    if s.len() < 2 {
        return Err(FeatureProblem::ShortPosition { path: path.to_owned(), len: s.len() });
    }
    let (lon, lat) = (s[0], s[1]);
    if !s.iter().all(|v| v.is_finite()) {
        return Err(FeatureProblem::NonFinite { path: path.to_owned() });
    }
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(FeatureProblem::OutOfRange { path: path.to_owned(), lon, lat });
    }
    Ok(LonLat::new(lon, lat).to_world())
}

fn line(ps: &[Position], path: &str) -> Result<Vec<WorldPoint>, FeatureProblem> {
    if ps.len() < 2 {
        return Err(FeatureProblem::TooFewPositions { path: path.to_owned(), len: ps.len(), min: 2 });
    }
    ps.iter().enumerate().map(|(i, p)| position(p, &format!("{path}[{i}]"))).collect()
}

fn polygon(rings: &[Vec<Position>], path: &str) -> Result<Vec<Vec<WorldPoint>>, FeatureProblem> {
    if rings.is_empty() {
        return Err(FeatureProblem::TooFewPositions { path: path.to_owned(), len: 0, min: 4 });
    }
    rings
        .iter()
        .enumerate()
        .map(|(i, ring)| {
            let rpath = format!("{path}[{i}]");
            if ring.len() < 4 {
                return Err(FeatureProblem::TooFewPositions { path: rpath, len: ring.len(), min: 4 });
            }
            if ring.first().map(|p| &p.as_slice()[..2.min(p.len())])
                != ring.last().map(|p| &p.as_slice()[..2.min(p.len())])
            {
                return Err(FeatureProblem::UnclosedRing { path: rpath });
            }
            line(ring, &rpath)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ps: &[[f64; 2]]) -> GeometryValue {
        GeometryValue::new_polygon([ps.to_vec()])
    }

    #[test]
    fn refuses_bad_rings_and_positions() {
        let unclosed = ring(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        assert!(matches!(validate_geometry(&unclosed), Err(FeatureProblem::UnclosedRing { .. })));
        let short = ring(&[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]);
        assert!(matches!(validate_geometry(&short), Err(FeatureProblem::TooFewPositions { len: 3, min: 4, .. })));
        let nan = GeometryValue::new_point([f64::NAN, 0.0]);
        assert!(matches!(validate_geometry(&nan), Err(FeatureProblem::NonFinite { .. })));
        let one = GeometryValue::new_line_string([[0.0, 0.0]]);
        assert!(matches!(validate_geometry(&one), Err(FeatureProblem::TooFewPositions { .. })));
        let empty = GeometryValue::MultiPoint { coordinates: Vec::new() };
        assert_eq!(validate_geometry(&empty), Err(FeatureProblem::EmptyGeometry("MultiPoint")));
        let gc = GeometryValue::new_geometry_collection(Vec::<geojson::Geometry>::new());
        assert_eq!(validate_geometry(&gc), Err(FeatureProblem::UnsupportedType("GeometryCollection")));
    }

    #[test]
    fn the_path_names_the_bad_position() {
        let g = GeometryValue::new_multi_line_string([vec![[0.0, 0.0], [1.0, 1.0]], vec![[0.0, 0.0], [200.0, 1.0]]]);
        match validate_geometry(&g) {
            Err(FeatureProblem::OutOfRange { path, .. }) => assert_eq!(path, "coordinates[1][1]"),
            other => unreachable!("unexpected {other:?}"),
        }
    }
}
