//! Event markers: the model and its validation, time spans, the durable stores (SQLite, or
//! PostgreSQL shared by several servers) and their in-memory index, clustering for overlays,
//! and import from GeoJSON.
//!
//! Plain synchronous Rust beside [`crate::layer`]: nothing here knows about HTTP.

mod cluster;
mod fields;
mod import;
mod index;
mod lock;
mod mirror;
mod model;
mod postgres;
mod sqlite;
mod store;
mod time;

pub use cluster::{CELL_PX, Marker, cluster, fetch_rect};
pub use fields::{FIELDS, Field, FieldKind, IGNORED, field_named};
pub use import::{ImportError, ImportReport, parse_events, read_events};
pub use index::{EventExtent, EventFilter, EventIndex, event_point};
pub use lock::{DirLock, HeldBy, Holder, LOCK_FILE, LockError, LockMode};
pub use mirror::{Change, ChangeListener, Mirror};
pub use model::{
    DatePrecision, Event, EventInput, EventKind, FieldError, LocationPrecision, MAX_ITEM, MAX_LIST, MAX_TEXT,
    MAX_TITLE, valid_id,
};
pub use postgres::{PgStore, describe_database};
pub use sqlite::{DB_FILE, SqliteStore};
pub use store::{EventStore, Expect, StorageFault, StoreError, chain};
pub use time::{TimeError, TimeSpan, format_timestamp};
