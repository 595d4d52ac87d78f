//! The path extractors: a tile's address (`{z}/{x}/{y}` and what its file name ends in), and a
//! path's named segments, each with the JSON answer a bad path gets. One place answers every
//! malformed path, so that no handler maps a path rejection of its own.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::config::TileSettings;
use crate::render::{Scale, TileFormat};
use crate::tile::{TileCoord, TileError, TileParseError};

/// What a tile's file name ends in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// `{y}.png`, `{y}@2x.webp`...: an image at a scale.
    Image(Scale, TileFormat),
    /// `{y}.mvt`: a vector tile.
    Mvt,
    /// `{y}.json`: an overlay tile's markers.
    Json,
    /// Anything else (`.gif`, `@3x.png`, `@2x.mvt`, no extension): what it was, clipped, for
    /// the 404 of the route, which names what that route serves.
    Other(String),
}

/// A tile path: `{z}/{x}/{file}`, the tile checked against the server's maximum zoom.
#[derive(Debug, Clone)]
pub struct TilePath {
    /// The tile.
    pub tile: TileCoord,
    /// What the file name asks for.
    pub ending: Ending,
    /// The path's `{id}` (an image overlay's), when the route has one.
    pub id: Option<String>,
}

impl TilePath {
    /// The image scale and format, when the route serves images in `formats`; otherwise the
    /// 404 that names what the route serves (`accepted`, e.g. "{y}.png, {y}@2x.png or {y}.webp").
    pub fn image(&self, formats: &[&str], accepted: &'static str) -> Result<(Scale, TileFormat), ApiError> {
        match &self.ending {
            Ending::Image(scale, format) if formats.contains(&format.extension()) => Ok((*scale, *format)),
            Ending::Image(_, format) if !format.allows_transparency() => {
                Err(ApiError::OpaqueFormat(format.extension()))
            }
            Ending::Image(_, format) => Err(ApiError::unsupported_format(format.extension(), accepted)),
            Ending::Mvt => Err(ApiError::unsupported_format("mvt", accepted)),
            Ending::Json => Err(ApiError::unsupported_format("json", accepted)),
            Ending::Other(ext) => Err(ApiError::unsupported_format(ext, accepted)),
        }
    }
}

impl FromRequestParts<AppState> for TilePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(mut segments) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::InvalidTile("the tile path is not valid UTF-8".into()))?;
        let mut take = |name: &str| segments.remove(name).unwrap_or_default();
        let (z, x, file, id) = (take("z"), take("x"), take("file"), segments.remove("id"));
        Self::parse(&z, &x, &file, id, &state.config.tiles)
    }
}

impl TilePath {
    /// The tile path of these (decoded) segments, checked against `tiles`' maximum zoom.
    pub fn parse(z: &str, x: &str, file: &str, id: Option<String>, tiles: &TileSettings) -> Result<Self, ApiError> {
        let (y, ending) = ending(file, tiles.jpeg_quality);
        Ok(Self { tile: parse_tile(z, x, y, tiles.max_zoom)?, ending, id })
    }
}

/// A file name into the row's text and what it ends in. A name the server serves nowhere is
/// [`Ending::Other`], so that the route's own 404 says what that route serves (a 404 here would
/// offer `.mvt` on the overlay routes, which serve none).
pub fn ending(file: &str, jpeg_quality: u8) -> (&str, Ending) {
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let other = |y| (y, Ending::Other(if ext.is_empty() { "(none)".to_owned() } else { ext.to_owned() }));
    let (y, scale) = match stem.strip_suffix("@2x") {
        Some(y) => (y, Scale::X2),
        None => (stem, Scale::X1),
    };
    if let Some((y, _)) = y.split_once('@') {
        let suffix: String = stem[y.len()..].chars().take(8).collect();
        return (y, Ending::Other(format!("{suffix}.{ext}")));
    }
    match ext {
        "mvt" | "json" if scale == Scale::X2 => (y, Ending::Other(format!("@2x.{ext}"))),
        "mvt" => (y, Ending::Mvt),
        "json" => (y, Ending::Json),
        other_ext => match TileFormat::from_extension(other_ext, jpeg_quality) {
            Some(format) => (y, Ending::Image(scale, format)),
            None => other(y),
        },
    }
}

/// Parses and validates a tile address against the configured maximum zoom.
pub fn parse_tile(z: &str, x: &str, y: &str, max_zoom: u8) -> Result<TileCoord, ApiError> {
    let tile = TileCoord::parse_parts(z, x, y).map_err(|e| match e {
        TileParseError::Tile(t @ TileError::ZoomTooDeep { .. }) => {
            ApiError::TileOutOfRange(format!("{t}; this server goes to zoom {max_zoom}"))
        }
        TileParseError::Tile(t) => ApiError::TileOutOfRange(t.to_string()),
        other => ApiError::InvalidTile(other.to_string()),
    })?;
    if tile.z() > max_zoom {
        return Err(ApiError::TileOutOfRange(format!(
            "zoom {} is above this server's maximum zoom {max_zoom}",
            tile.z()
        )));
    }
    Ok(tile)
}

/// A path's one named segment (`{id}`, `{fid}`, `{file}`); a segment that is not UTF-8 is a
/// 404 like any unknown name.
#[derive(Debug, Clone)]
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(s)) => Ok(Self(s)),
            Err(_) => Err(ApiError::NotFound("the path is not valid UTF-8".into())),
        }
    }
}

/// A path's two named segments (`{id}/items/{fid}`, `{version}/{file}`), as [`Segment`].
#[derive(Debug, Clone)]
pub struct Segments(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segments {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b))) => Ok(Self(a, b)),
            Err(_) => Err(ApiError::NotFound("the path is not valid UTF-8".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_their_row_and_ending() {
        let e = |f: &str| {
            let (y, e) = ending(f, 85);
            (y.to_owned(), e)
        };
        assert_eq!(e("3.png"), ("3".into(), Ending::Image(Scale::X1, TileFormat::Png)));
        assert_eq!(e("3@2x.webp"), ("3".into(), Ending::Image(Scale::X2, TileFormat::Webp)));
        assert_eq!(e("3.jpg"), ("3".into(), Ending::Image(Scale::X1, TileFormat::Jpeg { quality: 85 })));
        assert_eq!(e("3.mvt"), ("3".into(), Ending::Mvt));
        assert_eq!(e("3.json"), ("3".into(), Ending::Json));
        for (bad, what) in [
            ("3.gif", "gif"),
            ("3", "(none)"),
            ("3@2x.mvt", "@2x.mvt"),
            ("3@3x.png", "@3x.png"),
            ("3@2x@2x.png", "@2x@2x.png"),
        ] {
            assert_eq!(e(bad), ("3".into(), Ending::Other(what.into())), "{bad}");
        }
    }
}
