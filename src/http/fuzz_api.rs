//! The request parsers of the HTTP layer, reachable from [`crate::fuzzing`] and nothing else.
//!
//! These helpers stay private to the HTTP module for every other caller; this module only
//! lends them to the fuzz targets and the corpus replay, so that the fuzzers exercise exactly
//! the code the handlers run. It is not part of the API.

use serde_json::Value;

use super::ApiError;
use crate::events::{EventFilter, EventKind, TimeSpan};
use crate::layer::Catalog;
use crate::render::Scale;
use crate::tile::{LonLatBBox, TileCoord};

pub use super::web::params::View;

/// A raw query string into name-value pairs, as every handler reads it.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    super::query_pairs(raw)
}

/// A `bbox` value: one box in WGS84 degrees, or two when it crosses the antimeridian.
pub fn parse_bbox(v: &str) -> Result<Vec<LonLatBBox>, ApiError> {
    super::features::parse_bbox(v)
}

/// A `limit` value, lowered to `max_limit`.
pub fn parse_limit(v: &str, max_limit: usize) -> Result<usize, ApiError> {
    super::features::parse_limit(v, max_limit)
}

/// A non-negative integer parameter such as `offset`.
pub fn parse_count(name: &str, v: &str) -> Result<usize, ApiError> {
    super::features::parse_count(name, v)
}

/// A `datetime`, `from` or `to` value.
pub fn parse_datetime(name: &str, v: &str) -> Result<TimeSpan, ApiError> {
    super::events::parse_datetime(name, v)
}

/// A `kind` value: a comma-separated list of event kinds.
pub fn parse_kinds(v: &str) -> Result<Vec<EventKind>, ApiError> {
    super::events::parse_kinds(v)
}

/// The event filter of an overlay tile request.
pub fn overlay_filter(query: Option<&str>) -> Result<EventFilter, ApiError> {
    super::tiles::overlay_filter(query)
}

/// The last path segment of a raster tile, `{y}.{ext}` or `{y}@2x.{ext}` (`png`, `webp`,
/// `jpg`), into the row text, the scale and the extension.
pub fn split_file(file: &str) -> Result<(&str, Scale, &str), ApiError> {
    super::tiles::split_file(file)
}

/// A tile address from the three path segments, checked against `max_zoom`.
pub fn parse_tile(z: &str, x: &str, y: &str, max_zoom: u8) -> Result<TileCoord, ApiError> {
    super::tiles::parse_tile(z, x, y, max_zoom)
}

/// The deepest nesting of arrays and objects in a request body, as the size check counts it.
pub fn nesting(text: &str) -> usize {
    super::events::nesting(text)
}

/// Applies a JSON Merge Patch (RFC 7396), as `PATCH` on an event does.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    super::events::merge_patch(target, patch);
}

/// The view of a map page from its query pairs.
pub fn view(pairs: &[(String, String)], catalog: &Catalog, max_zoom: u8) -> View {
    View::parse(pairs, catalog, max_zoom)
}
