//! The copy of the stored events that reads are served from, and the news of each change.
//!
//! Every backend keeps its committed events here: an [`EventIndex`] (by id, time and position)
//! behind a lock, a counter that moves at every change, and the listeners told where events
//! changed. A backend applies a change here only once it is durable: its own writes after the
//! commit and before it answers (so the next request sees them, and the tile caches a listener
//! keeps have dropped what the change touched), and changes made by another server when it
//! learns of them. One place for all of it means a change reaches the caches the same way,
//! whoever made it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{Event, EventIndex};
use crate::tile::LonLat;

/// Where events changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change<'a> {
    /// Events were added, moved, changed or removed at these positions (old and new).
    At(&'a [LonLat]),
    /// Anything may have changed anywhere (the copy was reloaded whole).
    Everywhere,
}

/// Told of every change applied to a [`Mirror`]; it must be quick and must not call back into
/// the store.
pub type ChangeListener = Box<dyn Fn(Change<'_>) + Send + Sync>;

/// The events as committed, the change counter and the listeners.
pub struct Mirror {
    index: RwLock<EventIndex>,
    version: AtomicU64,
    listeners: RwLock<Vec<ChangeListener>>,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror").field("events", &self.read().len()).field("version", &self.version()).finish()
    }
}

impl Mirror {
    /// A copy of these events.
    pub fn new(events: Vec<Event>) -> Self {
        Self { index: RwLock::new(EventIndex::new(events)), version: AtomicU64::new(1), listeners: RwLock::default() }
    }

    /// The events, for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, EventIndex> {
        // A panic while holding the lock leaves the index whole: every change is one call.
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, EventIndex> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A number that moves at every change.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Adds or replaces committed events; returns them as stored.
    pub fn put(&self, events: Vec<Event>) -> Vec<Arc<Event>> {
        if events.is_empty() {
            return Vec::new();
        }
        let mut touched = Vec::with_capacity(events.len() * 2);
        let stored = {
            let mut index = self.write();
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            for e in events {
                if let Some(old) = index.get(&e.id) {
                    touched.push(old.input.position);
                }
                touched.push(e.input.position);
                index.put(e);
            }
            ids.iter().filter_map(|id| index.get(id).cloned()).collect()
        };
        self.changed(Change::At(&touched));
        stored
    }

    /// Removes a committed deletion; returns what was removed.
    pub fn remove(&self, id: &str) -> Option<Arc<Event>> {
        let old = self.write().remove(id)?;
        self.changed(Change::At(&[old.input.position]));
        Some(old)
    }

    /// Replaces the whole copy (after a backend lost track of changes made elsewhere).
    pub fn reload(&self, events: Vec<Event>) {
        *self.write() = EventIndex::new(events);
        self.changed(Change::Everywhere);
    }

    /// Adds a listener, told of every later change.
    pub fn listen(&self, listener: ChangeListener) {
        self.listeners.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(listener);
    }

    fn changed(&self, change: Change<'_>) {
        self.version.fetch_add(1, Ordering::SeqCst);
        for l in self.listeners.read().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            l(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::events::{EventInput, EventKind, LocationPrecision, TimeSpan};

    fn at(id: &str, lon: f64, lat: f64) -> Event {
        let input = EventInput {
            id: Some(id.into()),
            position: LonLat::new(lon, lat),
            time: "2020-02-18".into(),
            span: TimeSpan { start: 0, end: 1 },
            kind: EventKind::Airstrike,
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
        Event { id: id.into(), input, created: 0, updated: 0, version: 1 }
    }

    #[test]
    fn listeners_hear_the_old_and_new_positions_of_every_change() {
        let mirror = Mirror::new(vec![at("a", 36.8, 36.2)]);
        let heard: Arc<Mutex<Vec<Option<Vec<LonLat>>>>> = Arc::default();
        let log = Arc::clone(&heard);
        mirror.listen(Box::new(move |c| {
            log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(match c {
                Change::At(p) => Some(p.to_vec()),
                Change::Everywhere => None,
            })
        }));
        let v0 = mirror.version();
        mirror.put(vec![at("a", 36.6, 35.9)]);
        mirror.remove("a");
        assert!(mirror.remove("a").is_none(), "nothing to remove, nothing heard");
        mirror.reload(Vec::new());
        let heard = heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        assert_eq!(
            heard,
            [Some(vec![LonLat::new(36.8, 36.2), LonLat::new(36.6, 35.9)]), Some(vec![LonLat::new(36.6, 35.9)]), None]
        );
        assert_eq!(mirror.version(), v0 + 3);
    }
}
