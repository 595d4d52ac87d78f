//! Geometry shared by the raster renderer and the vector tile encoder: clipping to a tile's
//! rectangle in its own pixel (or extent) coordinates, and simplification per zoom.

mod clip;
mod simplify;

pub use clip::{ClipRect, Piece, Px};
pub use simplify::{TOLERANCE_PX, simplify_for_zoom};
