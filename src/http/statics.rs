//! Static map images: `GET /static/{lon},{lat},{zoom}/{width}x{height}.png` (a centre and a
//! whole zoom) and `GET /static/{west},{south},{east},{north}/{width}x{height}.png` (the view
//! fitted to a box), `@2x` before the dot for double density, `.webp` and `.jpg` too. For an
//! article's header, a social card, a printout: one request, one image, with the credit drawn in.
//!
//! The parameters are the tiles': `layers` (data layers and `events`, as on vector tiles: without
//! it, every layer and the events), `lang`, `datetime` (or `from`/`to`) and `kind`. Drawn on the
//! render pool like a tile (503 when it is full) and cached like one, with an ETag; see
//! `crate::render::View` for how the image is drawn.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::cached::fetched_response;
use super::error::clip;
use super::extract::Segments;
use super::query::Query;
use super::{ApiError, AppState};
use crate::cache::TileSpec;
use crate::render::{Scale, TileFormat, View};
use crate::tile::{LonLat, LonLatBBox, MAX_LATITUDE};

/// Largest width and height of a static map, CSS px (twice as many device px at `@2x`).
pub const MAX_STATIC_PX: u32 = 1280;

/// `GET /static/{view}/{size}`.
pub async fn image(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Segments, ApiError>,
    q: Query,
) -> Result<Response, ApiError> {
    let Segments(view, size) = path.map_err(|_| ApiError::InvalidView("the path is not valid UTF-8".into()))?;
    let tiles = &state.config.tiles;
    let (width, height, scale, format) = parse_size(&size, tiles.jpeg_quality)?;
    let view = parse_view(&view, width, height, tiles.max_zoom)?;
    let catalog = state.catalog();
    let super::tiles::VectorLayers { layers, labels, events: with_events } = super::tiles::vector_layers(&catalog, &q)?;
    // An image's names are drawn as `lang` says, as on raster tiles: there is no labels layer
    // to ask for.
    if labels && q.last("layers").is_some() {
        return Err(ApiError::UnknownLayer(format!(
            "'{}' is a layer of the vector tiles; a static map draws its names as lang says",
            crate::mvt::LABELS
        )));
    }
    let events = if with_events { Some(q.events()?) } else { None };
    let lang = q.lang()?.unwrap_or(Some(tiles.label_lang));
    let max_age = if with_events { tiles.events_max_age } else { tiles.tile_max_age };
    let spec = TileSpec::Static { view, scale, format, layers, lang, events };
    let image = state.tiles.fetch_static(&catalog, &view, spec).await?;
    Ok(fetched_response(&headers, image, format.content_type(), max_age))
}

/// `{width}x{height}.png`, with `@2x` before the dot, `.webp` or `.jpg`: the size in CSS px,
/// within [`MAX_STATIC_PX`].
fn parse_size(text: &str, jpeg_quality: u8) -> Result<(u32, u32, Scale, TileFormat), ApiError> {
    let bad = || {
        ApiError::InvalidView(format!(
            "'{}' is not a size: write {{width}}x{{height}}.png (or @2x.png, .webp, .jpg), e.g. 600x400.png",
            clip(text)
        ))
    };
    let (stem, ext) = text.rsplit_once('.').ok_or_else(bad)?;
    let format = TileFormat::from_extension(ext, jpeg_quality).ok_or_else(bad)?;
    let (dims, scale) = match stem.strip_suffix("@2x") {
        Some(d) => (d, Scale::X2),
        None => (stem, Scale::X1),
    };
    let (w, h) = dims.split_once('x').ok_or_else(bad)?;
    let px = |v: &str| {
        (!v.is_empty() && v.len() <= 9 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u32>().ok())
            .flatten()
    };
    let (w, h) = px(w).zip(px(h)).ok_or_else(bad)?;
    if w == 0 || h == 0 {
        return Err(ApiError::InvalidView(format!(
            "a static map of {w} x {h} px shows nothing: width and height start at 1"
        )));
    }
    if w > MAX_STATIC_PX || h > MAX_STATIC_PX {
        return Err(ApiError::ImageTooLarge(format!(
            "a static map of {w} x {h} px is larger than the limit of {MAX_STATIC_PX} x {MAX_STATIC_PX} px (at @2x, {} x {} device px)",
            MAX_STATIC_PX * 2,
            MAX_STATIC_PX * 2
        )));
    }
    Ok((w, h, scale, format))
}

/// `lon,lat,zoom` or `west,south,east,north`.
fn parse_view(text: &str, width: u32, height: u32, max_zoom: u8) -> Result<View, ApiError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let num = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite());
    let bad = |why: String| ApiError::InvalidView(format!("'{}' {why}", clip(text)));
    let nums: Vec<f64> = match parts.iter().map(|p| num(p)).collect::<Option<_>>() {
        Some(n) => n,
        None => return Err(bad("is not a list of numbers: write lon,lat,zoom or west,south,east,north".into())),
    };
    let lon_ok = |x: f64| (-180.0..=180.0).contains(&x);
    match nums.as_slice() {
        [lon, lat, _] => {
            if !lon_ok(*lon) || lat.abs() > MAX_LATITUDE {
                return Err(bad(format!(
                    "is out of range: the longitude must be within -180..180 and the latitude within -{MAX_LATITUDE:.4}..{MAX_LATITUDE:.4} (Web Mercator)"
                )));
            }
            let zoom = parts[2];
            let z = zoom.parse::<u8>().ok().filter(|z| *z <= max_zoom).ok_or_else(|| {
                bad(format!("has zoom '{}': a whole number from 0 to {max_zoom} is needed", clip(zoom)))
            })?;
            Ok(View::centred(LonLat::new(*lon, *lat), z, width, height))
        }
        [west, south, east, north] => {
            if !lon_ok(*west) || !lon_ok(*east) || !(-90.0..=90.0).contains(south) || !(-90.0..=90.0).contains(north) {
                return Err(bad("is out of range: longitudes -180..180, latitudes -90..90".into()));
            }
            if west >= east {
                return Err(bad(
                    "has its west edge at or east of its east edge: a box across the antimeridian is not drawn".into(),
                ));
            }
            if south >= north {
                return Err(bad("has its south edge at or north of its north edge".into()));
            }
            Ok(View::fitted(
                LonLatBBox { west: *west, south: *south, east: *east, north: *north },
                width,
                height,
                max_zoom,
            ))
        }
        _ => Err(bad("must have 3 numbers (lon,lat,zoom) or 4 (west,south,east,north)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_within_the_limit() {
        assert!(matches!(parse_size("600x400.png", 85), Ok((600, 400, Scale::X1, TileFormat::Png))));
        assert!(matches!(parse_size("1280x1@2x.webp", 85), Ok((1280, 1, Scale::X2, TileFormat::Webp))));
        assert!(matches!(parse_size("1281x10.png", 85), Err(ApiError::ImageTooLarge(_))));
        for bad in ["600x400", "600.png", "0x10.png", "ax1.png", "10x10.gif", "10x10@3x.png", "-1x5.png"] {
            assert!(matches!(parse_size(bad, 85), Err(ApiError::InvalidView(_))), "{bad}");
        }
    }

    #[test]
    fn views_are_a_centre_and_zoom_or_a_box() {
        let v = parse_view("36.817,36.233,12", 300, 200, 20).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((v.z, v.width, v.height), (12, 300, 200));
        let (x, y) = v.pixel(LonLat::new(36.817, 36.233));
        assert!((x - 150.0).abs() <= 0.5 && (y - 100.0).abs() <= 0.5, "{x} {y}");
        assert_eq!(parse_view("35.9,35.3,37.3,36.4", 300, 300, 20).map(|v| v.z).ok(), Some(8));
        for bad in ["1,2", "1,2,3,4,5", "200,0,3", "0,86,3", "0,0,3.5", "0,0,21", "5,0,4,1", "0,5,1,4", "a,b,c"] {
            assert!(matches!(parse_view(bad, 100, 100, 20), Err(ApiError::InvalidView(_))), "{bad}");
        }
    }
}
