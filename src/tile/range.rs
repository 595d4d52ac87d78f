//! Bounding boxes in degrees and the ranges of tiles that cover them.

use super::{LonLat, MAX_LATITUDE, TileCoord, WorldPoint, WorldRect};

/// A WGS84 bounding box in degrees, `west <= east` and `south <= north`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLatBBox {
    /// Western edge, degrees of longitude.
    pub west: f64,
    /// Southern edge, degrees of latitude.
    pub south: f64,
    /// Eastern edge, degrees of longitude.
    pub east: f64,
    /// Northern edge, degrees of latitude.
    pub north: f64,
}

impl LonLatBBox {
    /// The box as `[west, south, east, north]`, the order of GeoJSON and TileJSON.
    pub const fn to_array(self) -> [f64; 4] {
        [self.west, self.south, self.east, self.north]
    }

    /// The box in the unit square (latitudes clamped to the Web Mercator limit).
    pub fn to_world(self) -> WorldRect {
        let nw = LonLat::new(self.west, self.north.min(MAX_LATITUDE)).to_world();
        let se = LonLat::new(self.east, self.south.max(-MAX_LATITUDE)).to_world();
        WorldRect::from_corners(nw, se)
    }

    /// The box between these edges as one box, or as two when `west` is east of `east`: a box
    /// that crosses the antimeridian, cut there.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::LonLatBBox;
    /// assert_eq!(LonLatBBox::crossing(36.0, 35.0, 37.0, 36.0).len(), 1);
    /// let pacific = LonLatBBox::crossing(170.0, -10.0, -170.0, 10.0);
    /// assert_eq!((pacific[0].east, pacific[1].west), (180.0, -180.0));
    /// ```
    pub fn crossing(west: f64, south: f64, east: f64, north: f64) -> Vec<Self> {
        if west <= east {
            vec![Self { west, south, east, north }]
        } else {
            vec![Self { west, south, east: 180.0, north }, Self { west: -180.0, south, east, north }]
        }
    }

    /// The smallest box that holds both.
    pub fn union(self, o: Self) -> Self {
        Self {
            west: self.west.min(o.west),
            south: self.south.min(o.south),
            east: self.east.max(o.east),
            north: self.north.max(o.north),
        }
    }
}

/// The rectangle of tiles at one zoom that covers an area, inclusive on both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRange {
    /// Zoom level.
    pub z: u8,
    /// Westernmost column.
    pub min_x: u32,
    /// Northernmost row.
    pub min_y: u32,
    /// Easternmost column.
    pub max_x: u32,
    /// Southernmost row.
    pub max_y: u32,
}

impl TileRange {
    /// The tiles at zoom `z` that a box in degrees touches.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::{LonLatBBox, TileRange};
    /// let all = LonLatBBox { west: -180.0, south: -85.0, east: 180.0, north: 85.0 };
    /// assert_eq!(TileRange::covering(all, 2).count(), 16);
    /// ```
    pub fn covering(bbox: LonLatBBox, z: u8) -> Self {
        let r = bbox.to_world();
        Self::covering_world(r, z)
    }

    /// The tiles at zoom `z` that a unit-square rectangle touches.
    pub fn covering_world(r: WorldRect, z: u8) -> Self {
        let clamp = |p: WorldPoint| WorldPoint::new(p.x.clamp(0.0, 1.0), p.y.clamp(0.0, 1.0));
        let (a, b) = (clamp(r.min), clamp(r.max));
        // `containing` only fails for z > MAX_ZOOM, which `min` rules out here.
        let z = z.min(super::MAX_ZOOM);
        let lo = TileCoord::containing(a, z).map(|t| (t.x(), t.y())).unwrap_or((0, 0));
        let hi = TileCoord::containing(b, z).map(|t| (t.x(), t.y())).unwrap_or((0, 0));
        Self { z, min_x: lo.0, min_y: lo.1, max_x: hi.0, max_y: hi.1 }
    }

    /// Number of tiles in the range.
    pub fn count(&self) -> u64 {
        u64::from(self.max_x - self.min_x + 1) * u64::from(self.max_y - self.min_y + 1)
    }

    /// Every tile of the range, row by row.
    pub fn iter(&self) -> impl Iterator<Item = TileCoord> + '_ {
        (self.min_y..=self.max_y).flat_map(move |y| {
            (self.min_x..=self.max_x)
                .filter_map(move |x| TileCoord::new(u32::from(self.z), u64::from(x), u64::from(y)).ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lonlat() -> impl Strategy<Value = LonLat> {
        (-180.0f64..180.0, -85.0f64..85.0).prop_map(|(lon, lat)| LonLat::new(lon, lat))
    }

    proptest! {
        #[test]
        fn a_point_lies_inside_the_tile_that_contains_it(p in lonlat(), z in 0u8..=22) {
            let w = p.to_world();
            let t = TileCoord::containing(w, z).unwrap();
            prop_assert!(t.bounds().contains(w), "{w:?} not in {t}");
            let b = t.lonlat_bounds();
            prop_assert!(b.west <= p.lon && p.lon <= b.east + 1e-9);
            prop_assert!(b.south - 1e-9 <= p.lat && p.lat <= b.north + 1e-9);
        }

        #[test]
        fn projection_round_trips(p in lonlat()) {
            let back = p.to_world().to_lonlat();
            prop_assert!((back.lon - p.lon).abs() < 1e-9 && (back.lat - p.lat).abs() < 1e-9);
        }

        #[test]
        fn parent_of_child_is_self(z in 0u32..30, xf in 0.0f64..1.0, yf in 0.0f64..1.0) {
            let n = 1u64 << z;
            let t = TileCoord::new(z, (xf * n as f64) as u64, (yf * n as f64) as u64).unwrap();
            for c in t.children().unwrap() {
                prop_assert_eq!(c.parent(), Some(t));
                let (cb, tb) = (c.bounds(), t.bounds());
                prop_assert!(tb.contains(cb.min) && tb.contains(cb.max));
            }
        }

        #[test]
        fn invalid_coordinates_are_refused(z in 0u32..=30, over in 0u64..1000, y in 0u64..1) {
            let n = 1u64 << z;
            prop_assert!(TileCoord::new(z, n + over, y).is_err());
            prop_assert!(TileCoord::new(z, y, n + over).is_err());
            prop_assert!(TileCoord::new(31 + z, 0, 0).is_err());
        }

        #[test]
        fn covering_range_holds_every_corner(p in lonlat(), q in lonlat(), z in 0u8..=16) {
            let bbox = LonLatBBox {
                west: p.lon.min(q.lon), east: p.lon.max(q.lon),
                south: p.lat.min(q.lat), north: p.lat.max(q.lat),
            };
            let range = TileRange::covering(bbox, z);
            for corner in [(bbox.west, bbox.north), (bbox.east, bbox.south), (bbox.west, bbox.south)] {
                let t = TileCoord::containing(LonLat::new(corner.0, corner.1).to_world(), z).unwrap();
                prop_assert!(range.min_x <= t.x() && t.x() <= range.max_x);
                prop_assert!(range.min_y <= t.y() && t.y() <= range.max_y);
            }
            // Every tile of the range touches the box.
            let r = bbox.to_world();
            if range.count() <= 64 {
                for t in range.iter() {
                    prop_assert!(t.bounds().intersects(&r));
                }
            }
        }
    }

    #[test]
    fn termanin_at_zoom_12_is_in_the_expected_tile() {
        // x = floor((36.817 + 180) / 360 * 4096), y from the Mercator formula.
        let t = TileCoord::containing(LonLat::new(36.817, 36.233).to_world(), 12).unwrap();
        assert_eq!((t.x(), t.y()), (2466, 1605));
    }
}
