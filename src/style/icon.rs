//! What one cell of the sprite sheet shows. The sprite is drawn by the renderer's own code, so
//! that MapLibre's icons and the viewer's legend are the very drawings of the tiles; this is the
//! description of a cell, the renderer (`render::sprite`) draws it.

use super::Style;
use crate::events::EventKind;

/// One icon of the sprite.
#[derive(Debug, Clone, PartialEq)]
pub enum Icon {
    /// A point symbol, as stamped on the tiles (layer points, single events).
    Symbol(Style),
    /// A short horizontal stroke of a line style: a legend swatch.
    Line(Style),
    /// A small rectangle filled and outlined in a polygon style: a legend swatch.
    Area(Style),
    /// An overlay cluster of `count` events with `casualties` killed and injured.
    Cluster {
        /// Events in it.
        count: usize,
        /// Killed plus injured; above 0 draws the red halo.
        casualties: u64,
    },
    /// The vague area of one region-precision event of this kind, `radius` CSS px (the
    /// overlay's is `render::REGION_RADIUS_PX`; a legend draws it smaller).
    Region {
        /// Its kind, which gives the colour.
        kind: EventKind,
        /// Radius, CSS px.
        radius: f32,
    },
    /// The vague area of `count` region-precision events in one cell, with its count, `radius`
    /// CSS px.
    RegionCluster {
        /// Events in it.
        count: usize,
        /// Radius, CSS px.
        radius: f32,
    },
}
