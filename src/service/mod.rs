//! The services the HTTP layer calls: tiles (rendering, the cache and its keys, the bounded
//! render pool), pre-rendered archives, and event writes (validation of bodies, JSON Merge Patch, the store).
//!
//! Between the domain (`layer`, `render`, `mvt`, `events`, `cache`: plain synchronous Rust)
//! and `http`: a service may use tokio, to run work off the async executor and to bound it, but
//! never axum; a handler extracts, calls a service, and shapes the answer.

mod archives;
mod events;
mod geodata;
mod maker;
mod pool;
mod shedding;
mod tiles;

pub use archives::{ArchiveFile, Archives, Served};
pub use events::{Created, EventError, EventService, merge_patch};
pub use geodata::{DEBOUNCE, Failure, LiveCatalog, ReloadStatus, Reloader, Trigger, is_geodata_file};
pub use maker::TileMaker;
pub use pool::{PoolError, RenderPool};
pub use shedding::{SUMMARY_EVERY, Shedding};
pub use tiles::{EVENT_REACH_PX, Fetched, INVALIDATION_REACH_PX, TileError, TileService, event_margin_px};
