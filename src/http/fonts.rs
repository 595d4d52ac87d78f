//! Glyphs for the vector style's labels: `GET /fonts/{fontstack}/{start}-{end}.pbf` and the list
//! of fonts, `GET /fonts.json` (see [`crate::glyphs`]).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::cached::{json_with_etag, tile_response};
use super::query::Query;
use super::{ApiError, AppState};
use crate::cache::CachedTile;
use crate::glyphs::{FONTS, FontStack, GlyphError, GlyphRange};

/// Media type of a glyph range.
const PBF: &str = "application/x-protobuf";
/// The fonts change only with the binary: a day in caches.
const MAX_AGE: u64 = 86_400;

impl From<GlyphError> for ApiError {
    fn from(e: GlyphError) -> Self {
        match e {
            GlyphError::UnknownFont(_) => ApiError::NotFound(e.to_string()),
            GlyphError::StackSize => ApiError::param("fontstack", e.to_string()),
            GlyphError::BadRange(_) => ApiError::param("range", e.to_string()),
        }
    }
}

/// `GET /fonts.json`: the names a style's `text-font` may use, as TileServer GL lists them.
pub async fn list(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&[], "/fonts.json")?;
    let names: Vec<&str> = FONTS.iter().map(|(n, _)| *n).collect();
    Ok(json_with_etag(&headers, &json!(names), "application/json", state.config.tiles.tile_max_age))
}

/// `GET /fonts/{fontstack}/{start}-{end}.pbf`: an unknown font is a 404, a malformed range or
/// stack a 400. A range is made on the render pool the first time it is asked for.
pub async fn glyphs(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((stack, file)) = path.map_err(|_| ApiError::param("fontstack", "the font stack is not UTF-8"))?;
    let stack = FontStack::parse(&stack)?;
    let range = file
        .strip_suffix(".pbf")
        .ok_or_else(|| ApiError::from(GlyphError::BadRange(file.chars().take(32).collect())))?;
    let range = GlyphRange::parse(range)?;
    let body = state.tiles.glyphs(stack, range).await?;
    Ok(tile_response(&headers, CachedTile::new(body), PBF, MAX_AGE))
}
