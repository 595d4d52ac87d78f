//! Tile math: validated XYZ tile coordinates, Web Mercator, tile bounds and bbox-to-tile ranges.
//!
//! Pure functions and value types only. A [`TileCoord`] is checked once when it is built, so no
//! other code has to re-check that `x` and `y` lie inside the zoom level.

mod mercator;
mod range;

pub use mercator::{LonLat, MAX_LATITUDE, WorldPoint, WorldRect};
pub use range::{LonLatBBox, TileRange};

/// The deepest zoom level that tile math accepts; `2^z` must fit in a `u32`.
pub const MAX_ZOOM: u8 = 30;

/// Why a tile coordinate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The zoom level is deeper than [`MAX_ZOOM`] (or a configured maximum).
    #[error("zoom {z} is above the maximum zoom {max}")]
    ZoomTooDeep {
        /// The zoom that was asked for.
        z: u32,
        /// The deepest zoom allowed.
        max: u8,
    },
    /// `x` or `y` is not below `2^z`.
    #[error("tile {z}/{x}/{y} does not exist: x and y must be below {limit} at zoom {z}")]
    OutOfRange {
        /// Zoom level.
        z: u8,
        /// Column.
        x: u64,
        /// Row.
        y: u64,
        /// `2^z`, the exclusive upper bound for `x` and `y`.
        limit: u64,
    },
}

/// A tile of the XYZ scheme: zoom `z`, column `x` from the west, row `y` from the north.
///
/// Always valid: `z <= MAX_ZOOM` and `x, y < 2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

impl TileCoord {
    /// Validates a tile coordinate.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::TileCoord;
    /// assert!(TileCoord::new(2, 3, 3).is_ok());
    /// assert!(TileCoord::new(2, 4, 0).is_err());
    /// ```
    pub fn new(z: u32, x: u64, y: u64) -> Result<Self, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::ZoomTooDeep { z, max: MAX_ZOOM });
        }
        let z8 = z as u8;
        let limit = 1u64 << z;
        if x >= limit || y >= limit {
            return Err(TileError::OutOfRange { z: z8, x, y, limit });
        }
        Ok(Self { z: z8, x: x as u32, y: y as u32 })
    }

    /// Zoom level.
    pub const fn z(self) -> u8 {
        self.z
    }

    /// Column, counted from the west.
    pub const fn x(self) -> u32 {
        self.x
    }

    /// Row, counted from the north.
    pub const fn y(self) -> u32 {
        self.y
    }

    /// Number of tiles along one side of the world at this zoom, `2^z`, as a float.
    pub fn world_tiles(self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// The tile's extent in the unit square.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::TileCoord;
    /// let b = TileCoord::new(1, 1, 0).unwrap().bounds();
    /// assert_eq!((b.min.x, b.min.y, b.max.x, b.max.y), (0.5, 0.0, 1.0, 0.5));
    /// ```
    pub fn bounds(self) -> WorldRect {
        let n = self.world_tiles();
        WorldRect {
            min: WorldPoint::new(f64::from(self.x) / n, f64::from(self.y) / n),
            max: WorldPoint::new(f64::from(self.x + 1) / n, f64::from(self.y + 1) / n),
        }
    }

    /// The tile's extent in WGS84 degrees.
    pub fn lonlat_bounds(self) -> LonLatBBox {
        let b = self.bounds();
        let nw = b.min.to_lonlat();
        let se = b.max.to_lonlat();
        LonLatBBox { west: nw.lon, south: se.lat, east: se.lon, north: nw.lat }
    }

    /// The tile at zoom `z` that contains a unit-square point (points on the east or south
    /// edge of the world belong to the last tile).
    pub fn containing(p: WorldPoint, z: u8) -> Result<Self, TileError> {
        let n = f64::from(1u32 << z.min(MAX_ZOOM));
        let last = (n - 1.0).max(0.0);
        let x = (p.x * n).floor().clamp(0.0, last) as u64;
        let y = (p.y * n).floor().clamp(0.0, last) as u64;
        Self::new(u32::from(z), x, y)
    }

    /// The tile one zoom level up that covers this one; `None` at zoom 0.
    pub fn parent(self) -> Option<Self> {
        (self.z > 0).then(|| Self { z: self.z - 1, x: self.x / 2, y: self.y / 2 })
    }

    /// The four tiles one zoom level down; `None` at [`MAX_ZOOM`].
    pub fn children(self) -> Option<[Self; 4]> {
        (self.z < MAX_ZOOM).then(|| {
            let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
            [Self { z, x, y }, Self { z, x: x + 1, y }, Self { z, x, y: y + 1 }, Self { z, x: x + 1, y: y + 1 }]
        })
    }

    /// Unit-square units per pixel at this zoom for tiles of `tile_px` pixels.
    pub fn world_per_pixel(self, tile_px: f64) -> f64 {
        1.0 / (self.world_tiles() * tile_px)
    }
}

impl std::fmt::Display for TileCoord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Why a textual tile address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileParseError {
    /// A part is not a non-negative integer.
    #[error("{part} '{value}' is not a non-negative integer")]
    NotANumber {
        /// Which part: `z`, `x` or `y`.
        part: &'static str,
        /// What was given (truncated to 32 characters).
        value: String,
    },
    /// The text is not of the form `Z/X/Y`.
    #[error("'{0}' is not a tile address of the form Z/X/Y")]
    Shape(String),
    /// The numbers do not make a tile.
    #[error(transparent)]
    Tile(#[from] TileError),
}

impl TileCoord {
    /// Parses the three parts of a tile address, as found in a URL path.
    ///
    /// # Examples
    /// ```
    /// use tessera::tile::TileCoord;
    /// assert_eq!(TileCoord::parse_parts("12", "2466", "1605").unwrap().to_string(), "12/2466/1605");
    /// assert!(TileCoord::parse_parts("12", "-1", "0").is_err());
    /// ```
    pub fn parse_parts(z: &str, x: &str, y: &str) -> Result<Self, TileParseError> {
        fn num(part: &'static str, v: &str) -> Result<u64, TileParseError> {
            let bad = || TileParseError::NotANumber { part, value: v.chars().take(32).collect() };
            if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            v.parse().map_err(|_| bad())
        }
        let z = num("z", z)?;
        let z = u32::try_from(z).unwrap_or(u32::MAX);
        Ok(Self::new(z, num("x", x)?, num("y", y)?)?)
    }
}

impl std::str::FromStr for TileCoord {
    type Err = TileParseError;

    /// Parses `Z/X/Y`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [z, x, y] => Self::parse_parts(z, x, y),
            _ => Err(TileParseError::Shape(s.chars().take(64).collect())),
        }
    }
}
