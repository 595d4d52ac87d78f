//! The in-memory index of stored events: by id, by time, and an R-tree by position.
//!
//! The durable store (SQLite) is the truth; this index mirrors it so that reads (items pages,
//! overlay tiles) never wait on the database and cost in proportion to what they return.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rstar::{AABB, RTree, primitives::GeomWithData};

use super::{Event, EventKind, TimeSpan};
use crate::tile::{LonLatBBox, WorldPoint, WorldRect};

type Entry = GeomWithData<[f64; 2], String>;

/// Which events a read wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Boxes in degrees (two when one crosses the antimeridian); `None` for everywhere.
    pub bbox: Option<Vec<LonLatBBox>>,
    /// Events whose time overlaps this span.
    pub time: Option<TimeSpan>,
    /// Only these kinds; `None` for all.
    pub kinds: Option<Vec<EventKind>>,
    /// Only the events with these ids (a page asking for a marker's events); `None` for all.
    pub ids: Option<Vec<String>>,
}

impl EventFilter {
    /// Whether an event passes the time, kind and id tests (not the box).
    pub fn admits(&self, e: &Event) -> bool {
        self.time.is_none_or(|t| t.overlaps(&e.input.span))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&e.input.kind))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&e.id))
    }

    /// Whether an event lies in one of the boxes (or there are none).
    fn in_boxes(&self, e: &Event) -> bool {
        let p = e.input.position;
        self.bbox.as_ref().is_none_or(|boxes| {
            boxes.iter().any(|b| p.lon >= b.west && p.lon <= b.east && p.lat >= b.south && p.lat <= b.north)
        })
    }
}

/// Where and when the stored events are: the box of their positions and the span from the
/// first start to the last end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventExtent {
    /// The smallest box holding every event's position, degrees.
    pub bbox: LonLatBBox,
    /// From the earliest start to the latest end of the events' times.
    pub time: TimeSpan,
}

/// Every stored event, indexed four ways.
#[derive(Debug, Default)]
pub struct EventIndex {
    by_id: HashMap<String, Arc<Event>>,
    by_time: BTreeSet<(i64, String)>,
    /// By the end of their time, for the temporal extent.
    by_end: BTreeSet<(i64, String)>,
    tree: RTree<Entry>,
}

fn world(e: &Event) -> [f64; 2] {
    let w = e.input.position.to_world();
    [w.x, w.y]
}

impl EventIndex {
    /// Builds the index from every stored event.
    pub fn new(events: Vec<Event>) -> Self {
        let tree = RTree::bulk_load(events.iter().map(|e| GeomWithData::new(world(e), e.id.clone())).collect());
        let by_time = events.iter().map(|e| (e.input.span.start, e.id.clone())).collect();
        let by_end = events.iter().map(|e| (e.input.span.end, e.id.clone())).collect();
        let by_id = events.into_iter().map(|e| (e.id.clone(), Arc::new(e))).collect();
        Self { by_id, by_time, by_end, tree }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The event with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Event>> {
        self.by_id.get(id)
    }

    /// Adds or replaces an event.
    pub fn put(&mut self, e: Event) {
        self.remove(&e.id.clone());
        self.tree.insert(GeomWithData::new(world(&e), e.id.clone()));
        self.by_time.insert((e.input.span.start, e.id.clone()));
        self.by_end.insert((e.input.span.end, e.id.clone()));
        self.by_id.insert(e.id.clone(), Arc::new(e));
    }

    /// Removes an event; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Arc<Event>> {
        let old = self.by_id.remove(id)?;
        self.tree.remove(&GeomWithData::new(world(&old), old.id.clone()));
        self.by_time.remove(&(old.input.span.start, old.id.clone()));
        self.by_end.remove(&(old.input.span.end, old.id.clone()));
        Some(old)
    }

    /// The events that pass `filter`, ordered by start time then id: how many there are, and
    /// the page `offset..offset+limit`.
    pub fn query(&self, filter: &EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>) {
        let by_start = |hits: &mut Vec<&Arc<Event>>| {
            hits.sort_by(|a, b| (a.input.span.start, &a.id).cmp(&(b.input.span.start, &b.id)));
            hits.dedup_by(|a, b| a.id == b.id);
        };
        let matched: Vec<&Arc<Event>> = match (&filter.ids, &filter.bbox) {
            // A list of ids: looked up one by one, however many events there are.
            (Some(ids), _) => {
                let mut hits: Vec<&Arc<Event>> = ids
                    .iter()
                    .filter_map(|id| self.by_id.get(id))
                    .filter(|e| filter.admits(e) && filter.in_boxes(e))
                    .collect();
                by_start(&mut hits);
                hits
            }
            (None, Some(boxes)) => {
                let mut hits: Vec<&Arc<Event>> = boxes
                    .iter()
                    .flat_map(|b| self.in_world_rect(&b.to_world()))
                    .filter(|e| filter.admits(e) && filter.in_boxes(e))
                    .collect();
                by_start(&mut hits);
                hits
            }
            (None, None) => {
                let end = filter.time.map_or(i64::MAX, |t| t.end);
                self.by_time
                    .iter()
                    .take_while(|(start, _)| *start <= end)
                    .filter_map(|(_, id)| self.by_id.get(id))
                    .filter(|e| filter.admits(e))
                    .collect()
            }
        };
        let page = matched.iter().skip(offset).take(limit).map(|e| Arc::clone(e)).collect();
        (matched.len(), page)
    }

    /// Where and when the events are; `None` when there are none.
    ///
    /// Costs a few tree descents, not a pass over the events: the R-tree's root envelope gives
    /// the extreme unit-square coordinates, and the events lying on each edge of it give their
    /// exact degrees (projecting the envelope back would carry rounding errors into the box).
    /// The time comes from the first entries by start and by end.
    pub fn extent(&self) -> Option<EventExtent> {
        let (&(start, _), &(end, _)) = (self.by_time.first()?, self.by_end.last()?);
        let env = self.tree.root().envelope();
        let ([x0, y0], [x1, y1]) = (env.lower(), env.upper());
        // The events on one edge of the envelope (a degenerate box); x grows with longitude and
        // y shrinks with latitude, so each edge holds the extreme events of one side.
        let edge = |lo: [f64; 2], hi: [f64; 2]| {
            self.tree.locate_in_envelope(AABB::from_corners(lo, hi)).filter_map(|e| self.by_id.get(e.data.as_str()))
        };
        let lons = |lo, hi| edge(lo, hi).map(|e| e.input.position.lon);
        let lats = |lo, hi| edge(lo, hi).map(|e| e.input.position.lat);
        let bbox = LonLatBBox {
            west: lons([x0, y0], [x0, y1]).fold(f64::INFINITY, f64::min),
            east: lons([x1, y0], [x1, y1]).fold(f64::NEG_INFINITY, f64::max),
            north: lats([x0, y0], [x1, y0]).fold(f64::NEG_INFINITY, f64::max),
            south: lats([x0, y1], [x1, y1]).fold(f64::INFINITY, f64::min),
        };
        Some(EventExtent { bbox, time: TimeSpan { start, end } })
    }

    /// Events whose position lies in a unit-square rectangle (no other test).
    pub fn in_world_rect<'a>(&'a self, r: &WorldRect) -> impl Iterator<Item = &'a Arc<Event>> + use<'a> {
        let env = AABB::from_corners([r.min.x, r.min.y], [r.max.x, r.max.y]);
        self.tree.locate_in_envelope(env).filter_map(|e| self.by_id.get(e.data.as_str()))
    }

    /// Events in a unit-square rectangle that pass the filter's time and kind tests.
    pub fn select(&self, r: &WorldRect, filter: &EventFilter) -> Vec<Arc<Event>> {
        self.in_world_rect(r).filter(|e| filter.admits(e)).cloned().collect()
    }
}

/// The unit-square position of an event.
pub fn event_point(e: &Event) -> WorldPoint {
    e.input.position.to_world()
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::events::{EventInput, LocationPrecision};
    use crate::tile::LonLat;

    fn event(id: usize, rng: &mut ChaCha8Rng) -> Event {
        let start = rng.random_range(1_500_000_000..1_600_000_000i64);
        let input = EventInput {
            id: Some(id.to_string()),
            // The whole world, poles included (beyond Web Mercator's latitude cut-off).
            position: LonLat::new(rng.random_range(-180.0..=180.0), rng.random_range(-90.0..=90.0)),
            time: String::new(),
            span: TimeSpan { start, end: start + rng.random_range(0..10_000_000) },
            kind: EventKind::Other,
            title: "t".into(),
            title_ar: None,
            description: None,
            actors: Vec::new(),
            killed: None,
            injured: None,
            displaced: None,
            sources: Vec::new(),
            location_precision: LocationPrecision::Exact,
            date_precision: None,
        };
        Event { id: id.to_string(), input, created: 0, updated: 0, version: 1 }
    }

    /// Brute force: the box and span over every event.
    fn oracle(events: &[Event]) -> Option<EventExtent> {
        let first = events.first()?;
        let mut out = EventExtent {
            bbox: LonLatBBox {
                west: first.input.position.lon,
                south: first.input.position.lat,
                east: first.input.position.lon,
                north: first.input.position.lat,
            },
            time: first.input.span,
        };
        for e in events {
            let p = e.input.position;
            out.bbox = out.bbox.union(LonLatBBox { west: p.lon, south: p.lat, east: p.lon, north: p.lat });
            out.time =
                TimeSpan { start: out.time.start.min(e.input.span.start), end: out.time.end.max(e.input.span.end) };
        }
        Some(out)
    }

    #[test]
    fn the_extent_equals_a_brute_force_pass_over_the_events() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for n in [0usize, 1, 2, 7, 300] {
            let mut events: Vec<Event> = (0..n).map(|i| event(i, &mut rng)).collect();
            let mut index = EventIndex::new(events.clone());
            assert_eq!(index.extent(), oracle(&events), "{n} events");
            // Removing the extreme events moves the extent with them.
            for _ in 0..n.min(5) {
                let i = rng.random_range(0..events.len());
                let gone = events.swap_remove(i);
                index.remove(&gone.id);
                assert_eq!(index.extent(), oracle(&events), "{n} events, {} removed", gone.id);
            }
        }
    }
}
