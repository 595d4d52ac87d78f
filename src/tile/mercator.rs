//! Web Mercator (EPSG:3857) projection between WGS84 degrees and the unit square.
//!
//! The unit square is Web Mercator scaled so that the whole world is `[0, 1] x [0, 1]`, with
//! `(0, 0)` at the north-west corner, the same orientation as XYZ tiles. Working in the unit
//! square rather than in metres keeps tile arithmetic to a multiply by `2^z`.

use std::f64::consts::PI;

/// The latitude (degrees) beyond which Web Mercator is cut off, so that the world is square.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// A WGS84 position in degrees: longitude east, latitude north.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLat {
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
}

/// A Web Mercator position in the unit square: `x` grows east, `y` grows south, both in `0..=1`
/// for positions inside the Web Mercator world.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WorldPoint {
    /// Easting as a fraction of the world's width.
    pub x: f64,
    /// Southing from the north edge as a fraction of the world's height.
    pub y: f64,
}

impl LonLat {
    /// A position from longitude and latitude in degrees (not validated).
    pub const fn new(lon: f64, lat: f64) -> Self {
        Self { lon, lat }
    }

    /// Projects to the unit square. Latitudes beyond [`MAX_LATITUDE`] are clamped to it.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::{LonLat, WorldPoint};
    /// let p = LonLat::new(0.0, 0.0).to_world();
    /// assert_eq!(p, WorldPoint { x: 0.5, y: 0.5 });
    /// ```
    pub fn to_world(self) -> WorldPoint {
        let lat = self.lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
        let x = (self.lon + 180.0) / 360.0;
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0;
        WorldPoint { x, y }
    }
}

impl WorldPoint {
    /// A position in the unit square.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// Inverse projection to WGS84 degrees.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::{LonLat, WorldPoint};
    /// let ll = WorldPoint::new(0.75, 0.5).to_lonlat();
    /// assert!((ll.lon - 90.0).abs() < 1e-12 && ll.lat.abs() < 1e-12);
    /// ```
    pub fn to_lonlat(self) -> LonLat {
        let lon = self.x * 360.0 - 180.0;
        let lat = (PI * (1.0 - 2.0 * self.y)).sinh().atan().to_degrees();
        LonLat { lon, lat }
    }
}

/// An axis-aligned rectangle in the unit square (`min` is the north-west corner).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldRect {
    /// North-west corner (smallest x and y).
    pub min: WorldPoint,
    /// South-east corner (largest x and y).
    pub max: WorldPoint,
}

impl WorldRect {
    /// The rectangle spanning two corners given in any order.
    pub fn from_corners(a: WorldPoint, b: WorldPoint) -> Self {
        Self { min: WorldPoint::new(a.x.min(b.x), a.y.min(b.y)), max: WorldPoint::new(a.x.max(b.x), a.y.max(b.y)) }
    }

    /// The rectangle grown by `d` unit-square units on every side.
    pub fn expand(self, d: f64) -> Self {
        Self {
            min: WorldPoint::new(self.min.x - d, self.min.y - d),
            max: WorldPoint::new(self.max.x + d, self.max.y + d),
        }
    }

    /// Whether the two rectangles share at least one point.
    pub fn intersects(&self, other: &WorldRect) -> bool {
        self.min.x <= other.max.x && other.min.x <= self.max.x && self.min.y <= other.max.y && other.min.y <= self.max.y
    }

    /// Whether `p` lies inside or on the edge.
    pub fn contains(&self, p: WorldPoint) -> bool {
        p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_places_project_where_epsg3857_puts_them() {
        // Termanin: 36.817 E, 36.233 N. EPSG:3857 metres by the spherical formula
        // x = R * lon, y = R * ln(tan(pi/4 + lat/2)) with R = 6378137: 4098449.69, 4332729.36.
        let w = LonLat::new(36.817, 36.233).to_world();
        let half = 20_037_508.342_789_244;
        let mx = w.x * 2.0 * half - half;
        let my = half - w.y * 2.0 * half;
        assert!((mx - 4_098_449.69).abs() < 0.01, "x {mx}");
        assert!((my - 4_332_729.36).abs() < 0.01, "y {my}");
    }

    #[test]
    fn poles_clamp_to_the_square() {
        assert!(LonLat::new(0.0, 90.0).to_world().y.abs() < 1e-9);
        assert!((LonLat::new(0.0, -90.0).to_world().y - 1.0).abs() < 1e-9);
    }
}
