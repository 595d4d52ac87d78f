//! Pre-rendered archives (`tessera serve --archive NAME=PATH`): the list (`/archives`), each
//! archive's TileJSON (`/archives/NAME.json`), its tiles (`/archives/NAME/{z}/{x}/{y}.{ext}`, the
//! same caching headers and errors as the live tiles), and a PMTiles archive's file itself
//! (`/archives/NAME.pmtiles`) with HTTP Range requests, for MapLibre's PMTiles protocol or a CDN.
//!
//! Ranges (RFC 9110 14): one range is answered 206 with its bytes; a range beyond the end, a
//! malformed one, or several in one request are answered 416 with a JSON body saying which, and
//! `Content-Range: bytes */LENGTH` (serving several would need a multipart body, which PMTiles
//! readers never ask for). A `Range` in another unit is ignored, as is one whose `If-Range` names
//! another version of the file: the whole file, 200. Bodies are streamed from the file, never
//! held whole in memory.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::cached::{cache_control, json_with_etag, tile_response};
use super::error::clip;
use super::extract::{Ending, Segment, TilePath};
use super::query::Query;
use super::tilejson::TileJson;
use super::{ApiError, AppState};
use crate::archive::Content;
use crate::cache::CachedTile;
use crate::service::{ArchiveFile, Served};

/// The media type of a PMTiles file.
pub const PMTILES: &str = "application/vnd.pmtiles";

/// `GET /archives`: every archive with its format, zooms, bounds and URLs.
pub async fn list(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&[], "/archives")?;
    let base = state.base_url(&headers);
    let archives: Vec<Value> = state
        .archives
        .iter()
        .map(|a| {
            let m = &a.meta;
            let mut entry = json!({
                "name": a.name,
                "title": m.name,
                "format": m.content.extension(),
                "minzoom": m.minzoom,
                "maxzoom": m.maxzoom,
                "bounds": m.bounds.to_array(),
                "attribution": m.attribution,
                "tilejson": format!("{base}/archives/{}.json", a.name),
                "tiles": [tile_url(&base, a)],
            });
            if a.file().is_some() {
                entry["pmtiles"] = json!(format!("{base}/archives/{}.pmtiles", a.name));
            }
            entry
        })
        .collect();
    Ok(json_with_etag(&headers, &json!({ "archives": archives }), "application/json", state.config.tiles.tile_max_age))
}

fn tile_url(base: &str, a: &Served) -> String {
    format!("{base}/archives/{}/{{z}}/{{x}}/{{y}}.{}", a.name, a.meta.content.extension())
}

/// `GET /archives/{file}`: `NAME.json` (TileJSON 3.0.0) or `NAME.pmtiles` (the file, with
/// Range requests).
pub async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    file: Result<Segment, ApiError>,
    q: Query,
) -> Result<Response, ApiError> {
    let file = file.map(|Segment(f)| f).unwrap_or_default();
    let (name, ext) = file.rsplit_once('.').unwrap_or((&file, ""));
    let archive = state.archives.get(name).ok_or_else(|| unknown(name))?;
    match ext {
        "json" => {
            q.only(&[], "an archive's TileJSON")?;
            Ok(tilejson(&state, &headers, archive))
        }
        "pmtiles" => match archive.file() {
            Some(f) => whole_or_range(&headers, f, state.config.tiles.tile_max_age),
            None => Err(ApiError::NotFound(format!(
                "archive '{}' is MBTiles, which is served as tiles only: see /archives/{}.json",
                archive.name, archive.name
            ))),
        },
        _ => Err(ApiError::NotFound(format!(
            "an archive's files are /archives/{name}.json and, for PMTiles, /archives/{name}.pmtiles"
        ))),
    }
}

fn tilejson(state: &AppState, headers: &HeaderMap, a: &Served) -> Response {
    let m = &a.meta;
    let doc = TileJson {
        name: if m.name.is_empty() { a.name.clone() } else { m.name.clone() },
        description: m.description.clone(),
        attribution: m.attribution.clone(),
        tiles: tile_url(&state.base_url(headers), a),
        minzoom: m.minzoom,
        maxzoom: m.maxzoom,
        bounds: m.bounds,
        center: m.center,
        vector_layers: match m.content {
            Content::Mvt => Some(m.vector_layers.clone().unwrap_or_default()),
            _ => None,
        },
    };
    json_with_etag(headers, &doc.to_json(), "application/json", state.config.tiles.tile_max_age)
}

/// `GET /archives/{name}/{z}/{x}/{y}.{ext}`: a tile as the archive holds it, in the archive's
/// format only. A vector tile the archive does not hold is empty (204, as live vector tiles);
/// a raster tile it does not hold is 404. Parameters are ignored, as on live tiles.
pub async fn tile(State(state): State<AppState>, headers: HeaderMap, path: TilePath) -> Result<Response, ApiError> {
    let name = path.id.clone().unwrap_or_default();
    let archive = state.archives.get(&name).ok_or_else(|| unknown(&name))?;
    let content = archive.meta.content;
    let asked = match path.ending {
        Ending::Mvt => Some(Content::Mvt),
        Ending::Image(crate::render::Scale::X1, format) => Some(Content::of(format)),
        _ => None,
    };
    if asked != Some(content) {
        return Err(ApiError::UnsupportedFormat { ext: ending_text(path.ending), accepted: accepted(content) });
    }
    let max_age = state.config.tiles.tile_max_age;
    let found = archive.tile(path.tile).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    match found {
        Some(bytes) => Ok(tile_response(&headers, CachedTile::new(bytes.to_vec()), content.content_type(), max_age)),
        None if content == Content::Mvt => {
            Ok(tile_response(&headers, CachedTile::new(Vec::new()), content.content_type(), max_age))
        }
        None => {
            let m = &archive.meta;
            Err(ApiError::NotFound(format!(
                "archive '{name}' holds no tile {}: it holds zooms {}-{} over {:?}",
                path.tile,
                m.minzoom,
                m.maxzoom,
                m.bounds.to_array()
            )))
        }
    }
}

fn ending_text(e: Ending) -> String {
    match e {
        Ending::Image(crate::render::Scale::X2, f) => format!("@2x.{}", f.extension()),
        Ending::Image(_, f) => f.extension().to_owned(),
        Ending::Mvt => "mvt".into(),
        Ending::Json => "json".into(),
        Ending::Other(what) => what,
    }
}

/// What an archive of `content` serves, for the 404 of another ending.
const fn accepted(content: Content) -> &'static str {
    match content {
        Content::Png => "{y}.png: this archive holds PNG tiles (at the scale they were exported)",
        Content::Webp => "{y}.webp: this archive holds WebP tiles (at the scale they were exported)",
        Content::Jpeg => "{y}.jpg: this archive holds JPEG tiles (at the scale they were exported)",
        Content::Mvt => "{y}.mvt: this archive holds vector tiles",
    }
}

fn unknown(name: &str) -> ApiError {
    let shown = clip(name);
    ApiError::NotFound(format!("no archive '{shown}'; see /archives for the archives"))
}

/// The file, whole (200) or one range of it (206), with its validators.
fn whole_or_range(headers: &HeaderMap, file: &ArchiveFile, max_age: u64) -> Result<Response, ApiError> {
    let etag = HeaderValue::from_str(&file.etag).unwrap_or(HeaderValue::from_static("\"\""));
    if let Some(named) = super::etag::none_match(headers, &file.etag) {
        let named = HeaderValue::from_str(&named).unwrap_or(etag);
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, named), (header::CACHE_CONTROL, cache_control(max_age))],
        )
            .into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        // Another unit than bytes is ignored (RFC 9110 14.2), and so is a range of another
        // version of the file (If-Range).
        Some(r) if r.trim_start().starts_with("bytes=") && if_range_holds(headers, &file.etag) => {
            Some(one_range(r, file.len)?)
        }
        _ => None,
    };
    let (status, span) = match range {
        Some(span) => (StatusCode::PARTIAL_CONTENT, span),
        None if file.len == 0 => return Ok(whole_empty(etag, max_age)),
        None => (StatusCode::OK, 0..=file.len - 1),
    };
    let length = span.end() - span.start() + 1;
    let mut response = Response::new(Body::from_stream(file.stream(span.clone())));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PMTILES));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, cache_control(max_age));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{}", span.start(), span.end(), file.len))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

fn whole_empty(etag: HeaderValue, max_age: u64) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(PMTILES)),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache_control(max_age)),
        ],
        Vec::<u8>::new(),
    )
        .into_response()
}

/// Whether a `Range` applies: no `If-Range`, or one naming the current version (a strong ETag;
/// a date is not a strong enough validator for this file, and is taken as another version).
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v.trim() == etag,
    }
}

/// The one range a `Range: bytes=...` names, within a file of `len` bytes.
fn one_range(value: &str, len: u64) -> Result<std::ops::RangeInclusive<u64>, ApiError> {
    let refuse = |reason: String| ApiError::RangeNotSatisfiable { len, reason };
    let parsed = http_range_header::parse_range_header(value)
        .map_err(|e| refuse(format!("the Range header '{}' cannot be served: {e}", clip(value))))?;
    if parsed.len() > 1 {
        return Err(refuse(format!(
            "the Range header asks for {} ranges; this server serves one range per request: ask for each in turn",
            parsed.len()
        )));
    }
    let ranges = parsed.validate(len).map_err(|e| {
        refuse(format!("the Range header '{}' asks for bytes beyond the file's {len}: {e}", clip(value)))
    })?;
    ranges.into_iter().next().ok_or_else(|| refuse(format!("the file is empty; '{}' selects nothing", clip(value))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_is_taken_and_several_or_bad_ones_are_refused() {
        assert_eq!(one_range("bytes=0-99", 1000).ok(), Some(0..=99));
        assert_eq!(one_range("bytes=990-", 1000).ok(), Some(990..=999));
        assert_eq!(one_range("bytes=-10", 1000).ok(), Some(990..=999));
        assert_eq!(one_range("bytes=900-5000", 1000).ok(), Some(900..=999), "an end past the file is cut");
        for bad in ["bytes=0-1,5-9", "bytes=1000-", "bytes=5-2", "bytes=x-y", "bytes="] {
            assert!(
                matches!(one_range(bad, 1000), Err(ApiError::RangeNotSatisfiable { len: 1000, .. })),
                "{bad}: {:?}",
                one_range(bad, 1000)
            );
        }
    }
}
