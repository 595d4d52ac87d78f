//! Geometry shared by the raster renderer and the vector tile encoder: clipping to a tile's
//! rectangle in its own pixel (or extent) coordinates.

mod clip;

pub use clip::{ClipRect, Piece, Px};
