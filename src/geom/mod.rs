//! Geometry shared by the raster renderer and the vector tile encoder: the unit-square
//! [`Shape`] every tile is drawn from, its simplification per zoom, clipping to a tile's
//! rectangle in its own pixel (or extent) coordinates, and the repair that makes vector tile
//! polygons valid on their integer grid.

mod clip;
mod cut;
mod shape;
mod simplify;
mod valid;

pub use clip::{ClipRect, Piece, Px};
pub use cut::cut_valid;
pub use shape::Shape;
pub use simplify::{PREPARED_MAX_ZOOM, TOLERANCE_PX, ZoomShapes, simplify_for_zoom};
pub use valid::{GridPoint, valid_polygons};
