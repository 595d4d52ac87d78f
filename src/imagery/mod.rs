//! Georeferenced image overlays: a scanned or photographed map whose pixels form a regular
//! longitude/latitude grid over known bounds, served as transparent Web Mercator tiles.
//!
//! An image is decoded once, at load, into premultiplied RGBA and kept in a bounded form: a file
//! over [`ImageLimits::max_file_bytes`] or an image over [`ImageLimits::max_source_pixels`] is
//! refused (before it is decoded: only its header is read), and an image over
//! [`ImageLimits::max_kept_pixels`] is reduced, by averaging, to fit. From what is kept,
//! [`Pyramid`] makes copies of half the size, down to one pixel: a third more memory, so that an
//! image of the default limits holds at most 85 MiB.
//!
//! A tile is drawn by [`render_tile`]: each output pixel centre is taken back from Web Mercator
//! to longitude and latitude, then to a position on the grid of the pyramid level whose pixels
//! are closest to, and not larger than, the output pixel's footprint, where the image is sampled
//! bilinearly. Sampling the full image at a low zoom would pick one pixel in dozens and skip the
//! rest (a fine line would come and go from tile to tile); the reduced copies have averaged
//! them. The alternative of averaging every covered pixel per tile costs time in proportion to
//! the image, not the tile.
//!
//! Pure and synchronous: no HTTP, no configuration, no files (the caller reads the bytes).

mod pyramid;
mod reproject;

pub use pyramid::{Level, Pyramid};
pub use reproject::render_tile;

use std::io::Cursor;

use serde::Deserialize;

use crate::tile::{LonLatBBox, MAX_LATITUDE};

/// One `[[images]]` table of the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// Identifier used in URLs (`/overlays/{id}/...`): `[a-z0-9_-]+`, not `events` and not the
    /// id of a layer.
    pub id: String,
    /// The image file (anything the `image` crate decodes: PNG, JPEG, WebP), relative to the
    /// manifest.
    pub file: String,
    /// Where the image lies: `[west, south, east, north]`, WGS84 degrees of its outer pixel
    /// edges; its pixels must form a regular longitude/latitude grid over them.
    pub bounds: [f64; 4],
    /// Human title [default: the id].
    pub title: Option<String>,
    /// What it shows, where it comes from, how far it can be trusted.
    pub description: Option<String>,
    /// The credit that the image's licence asks for.
    pub attribution: Option<String>,
    /// Opacity the viewer starts it at, 0 to 1 [default: 0.8]; the tiles carry the image's own
    /// pixels.
    pub opacity: Option<f32>,
    /// Lowest zoom with tiles [default: 0].
    pub minzoom: Option<u8>,
    /// Highest zoom with tiles [default: the server's maximum].
    pub maxzoom: Option<u8>,
}

/// Opacity of an overlay in the viewer when its entry gives none.
pub const DEFAULT_OPACITY: f32 = 0.8;

/// How large an image may be, in the file and in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest file, bytes.
    pub max_file_bytes: u64,
    /// Most pixels of the image as stored (width x height); larger ones are refused unread.
    pub max_source_pixels: u64,
    /// Most pixels kept in memory at full size; larger images are reduced to this at load.
    pub max_kept_pixels: u64,
}

impl ImageLimits {
    /// The limits a server loads with: files up to 64 MiB and 64 megapixels (8,000 x 8,000),
    /// kept at up to 16 megapixels (4,096 x 4,096: 64 MiB, 85 MiB with its pyramid).
    pub const DEFAULT: Self =
        Self { max_file_bytes: 64 * 1024 * 1024, max_source_pixels: 64_000_000, max_kept_pixels: 16 * 1024 * 1024 };
}

/// Why an image overlay cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The id cannot be used in a URL, or is taken.
    #[error("the id {0}")]
    Id(&'static str),
    /// The file is over the byte limit.
    #[error("the file is {bytes} bytes, over the limit of {limit} bytes for an image")]
    FileTooLarge {
        /// Its size.
        bytes: u64,
        /// [`ImageLimits::max_file_bytes`].
        limit: u64,
    },
    /// The image is over the pixel limit.
    #[error("the image is {width} x {height} pixels, over the limit of {limit} pixels; reduce it first")]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// [`ImageLimits::max_source_pixels`].
        limit: u64,
    },
    /// The file is not an image that can be decoded.
    #[error("cannot be decoded as an image: {0}")]
    Decode(#[from] image::ImageError),
    /// The bounds are not a box in range.
    #[error("bounds {bounds:?} {reason}")]
    Bounds {
        /// As written.
        bounds: [f64; 4],
        /// What is wrong.
        reason: &'static str,
    },
    /// Opacity outside 0..=1.
    #[error("opacity {0} is not between 0 and 1")]
    Opacity(f32),
    /// `minzoom` above `maxzoom`, or above the deepest zoom.
    #[error("zooms {minzoom}-{maxzoom} are not a range within 0-{}", crate::tile::MAX_ZOOM)]
    Zooms {
        /// As written.
        minzoom: u8,
        /// As written.
        maxzoom: u8,
    },
}

/// What an image overlay is, for TileJSON, the overlay list and the viewer.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageMeta {
    /// URL-safe identifier.
    pub id: String,
    /// Human title.
    pub title: String,
    /// What it shows (may be empty).
    pub description: String,
    /// Credit required by its licence (may be empty).
    pub attribution: String,
    /// Opacity the viewer starts it at, 0 to 1.
    pub opacity: f32,
    /// Lowest zoom with tiles.
    pub minzoom: u8,
    /// Highest zoom with tiles.
    pub maxzoom: u8,
    /// Where the image lies, degrees.
    pub bounds: LonLatBBox,
    /// Width and height of the image as stored in its file.
    pub source_size: (u32, u32),
}

/// A decoded, georeferenced image and its reduced copies.
#[derive(Debug)]
pub struct GeoImage {
    /// Identity, credits, zooms and bounds.
    pub meta: ImageMeta,
    /// The image (premultiplied RGBA) at full (or load-reduced) size and halved down to 1 px.
    pub pyramid: Pyramid,
}

impl GeoImage {
    /// Checks an entry, decodes its file's bytes and builds the pyramid.
    ///
    /// # Examples
    /// ```
    /// use tessera::imagery::{GeoImage, ImageEntry, ImageLimits};
    /// let mut png = Vec::new();
    /// image::RgbaImage::from_pixel(4, 2, image::Rgba([255, 0, 0, 255]))
    ///     .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    ///     .unwrap();
    /// let entry: ImageEntry = toml::from_str("id = 'scan'\nfile = 'scan.png'\nbounds = [36.0, 35.5, 37.0, 36.0]").unwrap();
    /// let img = GeoImage::load(&entry, &png, 20, ImageLimits::DEFAULT).unwrap();
    /// assert_eq!(img.meta.source_size, (4, 2));
    /// assert_eq!(img.pyramid.levels().len(), 3); // 4 x 2, 2 x 1, 1 x 1
    /// ```
    pub fn load(entry: &ImageEntry, bytes: &[u8], max_zoom: u8, limits: ImageLimits) -> Result<Self, ImageError> {
        let meta = check_entry(entry, max_zoom)?;
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(ImageError::FileTooLarge { bytes: bytes.len() as u64, limit: limits.max_file_bytes });
        }
        let (width, height) = reader(bytes)?.into_dimensions()?;
        if u64::from(width) * u64::from(height) > limits.max_source_pixels {
            return Err(ImageError::TooManyPixels { width, height, limit: limits.max_source_pixels });
        }
        let mut reader = reader(bytes)?;
        let mut decode_limits = image::Limits::default();
        // The decoded image at 16 bits a channel, and a working copy; more is a broken file.
        decode_limits.max_alloc = Some(limits.max_source_pixels.saturating_mul(8) + (64 << 20));
        reader.limits(decode_limits);
        let rgba = reader.decode()?.into_rgba8();
        Ok(Self { meta: ImageMeta { source_size: (width, height), ..meta }, pyramid: Pyramid::new(rgba, limits) })
    }
}

fn reader(bytes: &[u8]) -> Result<image::ImageReader<Cursor<&[u8]>>, ImageError> {
    image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| ImageError::Decode(e.into()))
}

/// The entry's keys, checked (all but the file).
fn check_entry(entry: &ImageEntry, max_zoom: u8) -> Result<ImageMeta, ImageError> {
    let [west, south, east, north] = entry.bounds;
    let bad = |reason| Err(ImageError::Bounds { bounds: entry.bounds, reason });
    if !entry.bounds.iter().all(|v| v.is_finite()) {
        return bad("has a value that is not a finite number");
    }
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        return bad("is out of range: longitudes are -180 to 180 (west, south, east, north)");
    }
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) {
        return bad("is out of range: latitudes are -90 to 90 (west, south, east, north)");
    }
    if west >= east {
        return bad("has its west edge not west of its east edge (an image across the antimeridian is not served)");
    }
    if south >= north {
        return bad("has its south edge not south of its north edge (the order is west, south, east, north)");
    }
    if south >= MAX_LATITUDE || north <= -MAX_LATITUDE {
        return bad("lies wholly beyond the latitudes Web Mercator shows (85.05 degrees)");
    }
    let opacity = entry.opacity.unwrap_or(DEFAULT_OPACITY);
    if !(0.0..=1.0).contains(&opacity) {
        return Err(ImageError::Opacity(opacity));
    }
    let (minzoom, maxzoom) = (entry.minzoom.unwrap_or(0), entry.maxzoom.unwrap_or(max_zoom));
    if minzoom > maxzoom || maxzoom > crate::tile::MAX_ZOOM {
        return Err(ImageError::Zooms { minzoom, maxzoom });
    }
    Ok(ImageMeta {
        id: entry.id.clone(),
        title: entry.title.clone().unwrap_or_else(|| entry.id.clone()),
        description: entry.description.clone().unwrap_or_default(),
        attribution: entry.attribution.clone().unwrap_or_default(),
        opacity,
        minzoom,
        maxzoom,
        bounds: LonLatBBox { west, south, east, north },
        source_size: (0, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn entry(bounds: [f64; 4]) -> ImageEntry {
        ImageEntry {
            id: "scan".into(),
            file: "scan.png".into(),
            bounds,
            title: None,
            description: None,
            attribution: None,
            opacity: None,
            minzoom: None,
            maxzoom: None,
        }
    }

    pub(super) fn png(img: &image::RgbaImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap_or_else(|e| unreachable!("{e}"));
        out
    }

    #[test]
    fn insane_bounds_are_refused_with_the_reason() {
        for (bounds, word) in [
            ([37.0, 35.0, 36.0, 36.0], "west edge"),
            ([36.0, 36.0, 37.0, 35.0], "south edge"),
            ([36.0, 35.0, 190.0, 36.0], "longitudes"),
            ([36.0, -95.0, 37.0, 36.0], "latitudes"),
            ([36.0, 35.0, f64::NAN, 36.0], "finite"),
            ([36.0, 86.0, 37.0, 88.0], "Web Mercator"),
        ] {
            let err = check_entry(&entry(bounds), 20).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(word), "{bounds:?}: {err}");
        }
        let mut e = entry([36.0, 35.0, 37.0, 36.0]);
        e.opacity = Some(1.5);
        assert!(matches!(check_entry(&e, 20), Err(ImageError::Opacity(_))));
        e.opacity = None;
        (e.minzoom, e.maxzoom) = (Some(12), Some(8));
        assert!(matches!(check_entry(&e, 20), Err(ImageError::Zooms { .. })));
    }

    #[test]
    fn a_broken_file_is_a_decode_error() {
        let err =
            GeoImage::load(&entry([36.0, 35.0, 37.0, 36.0]), b"\x89PNG\r\n\x1a\nnot really", 20, ImageLimits::DEFAULT);
        assert!(matches!(err, Err(ImageError::Decode(_))), "{err:?}");
    }

    #[test]
    fn images_over_the_limits_are_refused_or_reduced() {
        let img = image::RgbaImage::from_pixel(300, 200, image::Rgba([10, 20, 30, 255]));
        let bytes = png(&img);
        let e = entry([36.0, 35.0, 37.0, 36.0]);
        let small_file = ImageLimits { max_file_bytes: 10, ..ImageLimits::DEFAULT };
        assert!(matches!(GeoImage::load(&e, &bytes, 20, small_file), Err(ImageError::FileTooLarge { .. })));
        let few_pixels = ImageLimits { max_source_pixels: 50_000, ..ImageLimits::DEFAULT };
        let err = GeoImage::load(&e, &bytes, 20, few_pixels);
        assert!(matches!(err, Err(ImageError::TooManyPixels { width: 300, height: 200, .. })), "{err:?}");
        // Kept at 15,000 pixels: 150 x 100 keeps the aspect.
        let reduced = GeoImage::load(&e, &bytes, 20, ImageLimits { max_kept_pixels: 15_000, ..ImageLimits::DEFAULT })
            .unwrap_or_else(|e| unreachable!("{e}"));
        let top = &reduced.pyramid.levels()[0];
        assert_eq!((top.width, top.height), (150, 100));
        assert_eq!(reduced.meta.source_size, (300, 200));
        assert_eq!(top.pixel(75, 50), [10, 20, 30, 255], "a uniform image stays uniform");
    }
}
