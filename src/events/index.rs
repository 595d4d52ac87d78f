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

/// Every stored event, indexed three ways.
#[derive(Debug, Default)]
pub struct EventIndex {
    by_id: HashMap<String, Arc<Event>>,
    by_time: BTreeSet<(i64, String)>,
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
        let by_id = events.into_iter().map(|e| (e.id.clone(), Arc::new(e))).collect();
        Self { by_id, by_time, tree }
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
        self.by_id.insert(e.id.clone(), Arc::new(e));
    }

    /// Removes an event; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Arc<Event>> {
        let old = self.by_id.remove(id)?;
        self.tree.remove(&GeomWithData::new(world(&old), old.id.clone()));
        self.by_time.remove(&(old.input.span.start, old.id.clone()));
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
