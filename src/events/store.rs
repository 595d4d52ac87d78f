//! The event store: the trait every backend implements, and its errors.

use std::sync::Arc;

use super::{Event, EventExtent, EventFilter, EventInput};
use crate::tile::WorldRect;

/// What a write expects of the event it changes (from `If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `If-Match: *`: any current version.
    Any,
    /// This version and no other.
    Version(u64),
}

/// Why the store cannot write, in terms an operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// The file system holding the database is full (or over quota).
    Full,
    /// The data directory, or its file system, cannot be written.
    ReadOnly,
    /// Another write failure (an I/O error, a lock held too long...).
    Failed,
    /// The event database (PostgreSQL) cannot be reached: stopped, restarting, or the network
    /// between them is down.
    Unreachable,
    /// The connection to the event database (PostgreSQL) was lost while the write was being
    /// committed: whether it was stored cannot be known from here.
    Unconfirmed,
}

impl StorageFault {
    /// What is wrong, in a sentence fit for an API client.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Full => "the disk holding the event database is full; retry once space has been freed",
            Self::ReadOnly => "the data directory holding the event database is read-only",
            Self::Failed => "the event database failed to write; retry later",
            Self::Unreachable => {
                "the event database cannot be reached (PostgreSQL is stopped, restarting or cut off from this server); retry once it is back"
            }
            Self::Unconfirmed => "the connection to the event database was lost while this write was being committed",
        }
    }

    /// What became of the write, in a sentence fit for an API client.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Unconfirmed => {
                "it may or may not have been stored: read the event (or list the items) before sending it again"
            }
            _ => "nothing of this write was stored",
        }
    }

    /// Seconds after which a client may try again (`Retry-After`): a full or read-only disk
    /// takes a person to mend; a database restart, seconds.
    pub fn retry_after(self) -> u32 {
        match self {
            Self::Full | Self::ReadOnly | Self::Failed => 30,
            Self::Unreachable | Self::Unconfirmed => 5,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No event has this id.
    #[error("no event '{0}'")]
    NotFound(String),
    /// An event with this id exists already.
    #[error("an event with id '{0}' exists already")]
    Conflict(String),
    /// The event changed since the client read it.
    #[error("event '{id}' has changed since it was read: its current ETag is {current}")]
    Stale {
        /// The event.
        id: String,
        /// Its current ETag.
        current: String,
    },
    /// The database failed (disk full, read-only, corrupt...).
    #[error("the event database failed: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A write could not be made durable; nothing of it was stored.
    #[error("the event database cannot write: {} ({detail})", .fault.explain())]
    Unwritable {
        /// What kind of failure.
        fault: StorageFault,
        /// The underlying error, for the log.
        detail: String,
    },
    /// A stored row could not be read back as an event.
    #[error("stored event '{id}' is unreadable: {reason}")]
    Corrupt {
        /// The event.
        id: String,
        /// Why.
        reason: String,
    },
    /// Another process holds the data directory, or it could not be locked.
    #[error(transparent)]
    Locked(#[from] super::LockError),
    /// The PostgreSQL event database could not be opened, migrated or read (`target` names it
    /// without its password).
    #[error("the event database {target}: {}", chain(.source.as_ref()))]
    Database {
        /// The database, as `host:port/name`.
        target: String,
        /// What failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The PostgreSQL event database was migrated by a newer tessera.
    #[error(
        "the event database {target} has schema version {found}; this tessera knows versions up to {known}: run a tessera at least as new as the one that migrated it"
    )]
    NewerSchema {
        /// The database, as `host:port/name`.
        target: String,
        /// The version found.
        found: i32,
        /// The newest version this build knows.
        known: i32,
    },
    /// The data directory could not be prepared.
    #[error("cannot use data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// An error and its sources, `outer: inner: ...`: a database client's error often says only
/// "db error" and leaves the server's message to its source.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        next = cause.source();
    }
    text
}

/// A durable store of events. Every write is committed durably before it returns; reads see
/// every write that has returned.
pub trait EventStore: Send + Sync + std::fmt::Debug {
    /// Stores new events, all or none. Events without an id get one.
    fn insert(&self, events: Vec<EventInput>) -> Result<Vec<Arc<Event>>, StoreError>;
    /// Replaces an event's content, if it is still as the client expects.
    fn replace(&self, id: &str, event: EventInput, expect: Expect) -> Result<Arc<Event>, StoreError>;
    /// Deletes an event, if it is still as the client expects; returns what was deleted.
    fn delete(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError>;
    /// Imports the events of a seed file whose ids have never been imported from it before,
    /// even if they were deleted since; returns how many were new.
    fn seed(&self, source: &str, events: Vec<EventInput>) -> Result<usize, StoreError>;
    /// One event.
    fn get(&self, id: &str) -> Option<Arc<Event>>;
    /// A page of the events that pass the filter, ordered by start time then id, and how many
    /// pass in all.
    fn query(&self, filter: &EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>);
    /// Every event inside a unit-square rectangle that passes the filter's time and kind tests.
    fn select(&self, rect: &WorldRect, filter: &EventFilter) -> Vec<Arc<Event>>;
    /// Where and when the stored events are; `None` when there are none.
    fn extent(&self) -> Option<EventExtent>;
    /// Number of stored events.
    fn len(&self) -> usize;
    /// Whether the store is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A number that changes at every write (for caches and ETags of lists).
    fn data_version(&self) -> u64;
    /// Tells `listener` of every change of the events from now on, this server's writes (after
    /// they are durable and before the write returns) and, for a shared database, other
    /// servers' writes as this one learns of them. Tile caches drop what a change touches here.
    fn on_change(&self, listener: super::ChangeListener);
    /// Whether the store was opened without write access (its writes all fail).
    fn read_only(&self) -> bool {
        false
    }
    /// Which backend this is, for `/health`: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Whether this server currently hears of other servers' changes (always for a store only
    /// this process writes); `false` while a shared database's change feed is disconnected.
    fn in_sync(&self) -> bool {
        true
    }
}
