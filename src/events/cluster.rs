//! Server-side clustering of event markers, stable across tile edges.
//!
//! At zoom `z` the world is cut into square cells of [`CELL_PX`] pixels. Every located event
//! belongs to exactly one cell, whatever tile asks; a cell with one event shows that event, a
//! cell with more shows one cluster at the mean position of its members. Since a cluster
//! depends only on its cell, every tile that sees it draws the same cluster at the same place:
//! it is never drawn twice nor cut in two by a tile border (tiles fetch a margin of whole cells
//! around themselves and draw what reaches into them).
//!
//! Events whose `location_precision` is `region` are never merged with located ones: their
//! point does not locate them, so they are drawn as vague areas. They are grouped among
//! themselves by the same cells, so that a zoomed-out tile over thousands of them draws one
//! area per cell (with its count), not thousands of overlapping discs.
//!
//! Rejected alternative: greedy distance clustering (supercluster's approach) gives rounder
//! clusters, but its result depends on the order events are visited and on what lies outside
//! the tile, which makes clusters jump between tiles unless the whole zoom level is clustered
//! at once; per-cell grouping is local, deterministic and costs one hash per event.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Event, LocationPrecision, event_point};
use crate::tile::{TileCoord, WorldPoint, WorldRect};

/// Cell edge in CSS pixels at the zoom being clustered.
pub const CELL_PX: f64 = 48.0;

/// What to draw for a group of events.
#[derive(Debug, Clone)]
pub enum Marker {
    /// A cell with a single located event.
    Single(Arc<Event>),
    /// A cell with several events: located ones, or (`region`) region-precision ones.
    Cluster {
        /// Mean position of the members (their one point, when they share it), unit square.
        at: WorldPoint,
        /// How many events.
        count: usize,
        /// Killed plus injured, summed over the members where known.
        casualties: u64,
        /// The members' ids, sorted (for stable cluster ids and popups).
        ids: Vec<String>,
        /// Whether the members are region-precision events (a vague area, not a place).
        region: bool,
        /// Whether every member lies on one point (several events at one town): the cluster
        /// then marks that point as a single event would.
        one_spot: bool,
    },
    /// An event that only stands for "somewhere in the region".
    Region(Arc<Event>),
}

impl Marker {
    /// Where the marker is drawn, unit square.
    pub fn at(&self) -> WorldPoint {
        match self {
            Marker::Single(e) | Marker::Region(e) => event_point(e),
            Marker::Cluster { at, .. } => *at,
        }
    }

    /// How many events it stands for.
    pub fn count(&self) -> usize {
        match self {
            Marker::Cluster { count, .. } => *count,
            _ => 1,
        }
    }
}

/// The unit-square rectangle a tile must fetch events from so that every cell reaching within
/// `margin_px` of the tile is complete.
pub fn fetch_rect(tile: TileCoord, margin_px: f64) -> WorldRect {
    let cells = tile.world_tiles() * 256.0 / CELL_PX;
    let b = tile.bounds().expand(margin_px / (tile.world_tiles() * 256.0));
    let snap_lo = |v: f64| (v * cells).floor() / cells;
    let snap_hi = |v: f64| ((v * cells).floor() + 1.0) / cells;
    WorldRect {
        min: WorldPoint::new(snap_lo(b.min.x), snap_lo(b.min.y)),
        max: WorldPoint::new(snap_hi(b.max.x), snap_hi(b.max.y)),
    }
}

/// Groups events into markers at zoom `z`, in a deterministic order: located markers by cell
/// then id, then region markers by cell then id (drawn beneath the located ones).
pub fn cluster(events: &[Arc<Event>], z: u8) -> Vec<Marker> {
    let cells = f64::from(1u32 << z) * 256.0 / CELL_PX;
    // Keyed (region, cell): region-precision events sort after located ones.
    let mut by_cell: BTreeMap<(bool, i64, i64), Vec<&Arc<Event>>> = BTreeMap::new();
    for e in events {
        let region = e.input.location_precision == LocationPrecision::Region;
        let p = event_point(e);
        by_cell.entry((region, (p.x * cells).floor() as i64, (p.y * cells).floor() as i64)).or_default().push(e);
    }
    by_cell
        .into_iter()
        .map(|((region, ..), mut members)| {
            if members.len() == 1 {
                let e = Arc::clone(members[0]);
                return if region { Marker::Region(e) } else { Marker::Single(e) };
            }
            members.sort_by(|a, b| a.id.cmp(&b.id));
            let n = members.len() as f64;
            let (sx, sy) = members.iter().map(|e| event_point(e)).fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
            let one_spot = members.windows(2).all(|w| event_point(w[0]) == event_point(w[1]));
            Marker::Cluster {
                at: if one_spot { event_point(members[0]) } else { WorldPoint::new(sx / n, sy / n) },
                count: members.len(),
                casualties: members.iter().map(|e| e.input.casualties()).fold(0u64, u64::saturating_add),
                ids: members.iter().map(|e| e.id.clone()).collect(),
                region,
                one_spot,
            }
        })
        .collect()
}
