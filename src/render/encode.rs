//! Encoding rendered tiles: PNG (the `png` crate), lossless WebP and JPEG (the `image` crate).
//!
//! Every format is encoded from the same premultiplied tiny-skia pixmap, so a `.webp` tile has
//! exactly the pixels of the `.png` one, and a `.jpg` tile those pixels laid on white (JPEG has
//! no alpha channel). Which formats a route serves is the route's business: [`TileFormat`]
//! says what each can carry, and [`encode`] is the one way in.
//!
//! WebP is lossless only: the pure-Rust encoder the `image` crate uses (image-webp) writes VP8L
//! and has no lossy mode, and a map tile's flat colours and thin lines are what lossless coding
//! suits; the sizes and times are in `docs/benchmarks.md`.

use std::io::Cursor;

use image::ExtendedColorType;
use tiny_skia::Pixmap;

use super::Scale;
use crate::style::Color;

/// Encoding a tile failed (it only does on an internal inconsistency).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    /// The WebP or JPEG encoder failed.
    #[error("{format} encoding failed: {source}")]
    Image {
        /// The format being written.
        format: &'static str,
        /// The encoder's error.
        source: image::ImageError,
    },
}

/// An image format that tiles are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileFormat {
    /// 8-bit PNG: indexed, RGB or RGBA, whichever holds the tile (see [`encode_png`]).
    Png,
    /// Lossless WebP (VP8L), with alpha.
    Webp,
    /// Baseline JPEG at a quality of 1-100; no transparency (transparent pixels come out white).
    Jpeg {
        /// 1 (smallest) to 100 (best).
        quality: u8,
    },
}

impl TileFormat {
    /// The `Content-Type` of a tile in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Jpeg { .. } => "image/jpeg",
        }
    }

    /// The file extension of a tile in this format, without the dot (`png`, `webp`, `jpg`).
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg { .. } => "jpg",
        }
    }

    /// Whether the format keeps transparency: a transparent overlay cannot be served in one
    /// that does not.
    pub const fn allows_transparency(self) -> bool {
        !matches!(self, Self::Jpeg { .. })
    }

    /// The format of a file extension (`png`, `webp`, `jpg`), JPEG at `jpeg_quality`; `None`
    /// for any other.
    ///
    /// # Examples
    /// ```
    /// use tessera::render::TileFormat;
    /// assert_eq!(TileFormat::from_extension("webp", 85), Some(TileFormat::Webp));
    /// assert_eq!(TileFormat::from_extension("jpg", 85), Some(TileFormat::Jpeg { quality: 85 }));
    /// assert_eq!(TileFormat::from_extension("gif", 85), None);
    /// ```
    pub fn from_extension(ext: &str, jpeg_quality: u8) -> Option<Self> {
        match ext {
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "jpg" => Some(Self::Jpeg { quality: jpeg_quality }),
            _ => None,
        }
    }

    /// The three formats, JPEG at `jpeg_quality`.
    pub const fn all(jpeg_quality: u8) -> [Self; 3] {
        [Self::Png, Self::Webp, Self::Jpeg { quality: jpeg_quality }]
    }

    /// A short name for logs and cache keys: the extension, and JPEG's quality.
    pub fn key(self) -> String {
        match self {
            Self::Jpeg { quality } => format!("jpg{quality}"),
            other => other.extension().to_owned(),
        }
    }
}

/// Encodes a premultiplied pixmap in `format`.
pub fn encode(pixmap: Pixmap, format: TileFormat) -> Result<Vec<u8>, EncodeError> {
    match format {
        TileFormat::Png => encode_png(pixmap),
        TileFormat::Webp => {
            let (width, height) = (pixmap.width(), pixmap.height());
            let opaque = pixmap.pixels().iter().all(|p| p.alpha() == 255);
            let rgba = pixmap.take_demultiplied();
            if opaque {
                webp(&rgb_of(&rgba), width, height, ExtendedColorType::Rgb8)
            } else {
                webp(&rgba, width, height, ExtendedColorType::Rgba8)
            }
        }
        TileFormat::Jpeg { quality } => {
            // Premultiplied "over" onto white: colour + (255 - alpha), channel by channel.
            let rgb: Vec<u8> = pixmap
                .pixels()
                .iter()
                .flat_map(|p| {
                    let under = 255 - p.alpha();
                    [p.red() + under, p.green() + under, p.blue() + under]
                })
                .collect();
            jpeg(&rgb, pixmap.width(), pixmap.height(), quality)
        }
    }
}

/// Encodes a pixmap as an 8-bit PNG with the fast deflate settings of the `png` crate, which on
/// map tiles cost a fraction of the default level for files a few per cent larger.
///
/// The layout follows the tile: a tile of at most 256 colours (most deep tiles: a background,
/// a few fills and their anti-aliased edges) is written as an indexed PNG, a quarter of the
/// bytes to compress and much smaller; an opaque tile of more colours as RGB, straight from the
/// premultiplied pixels (which equal the straight ones when opaque); any other as RGBA.
/// Decoders expand all three to the same pixels.
pub fn encode_png(pixmap: Pixmap) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (pixmap.width(), pixmap.height());
    if let Some((palette, indices)) = palette_of(pixmap.data()) {
        return indexed_png(&palette, &indices, width, height);
    }
    if pixmap.pixels().iter().all(|p| p.alpha() == 255) {
        let rgb = rgb_of(pixmap.data());
        // Each row filtered "up" rather than by the best of five filters: on the bench tile
        // list a quarter less time encoding (150 -> 115 ms a pass) for 1.5% more bytes.
        return png_of(&rgb, png::ColorType::Rgb, width, height, png::Compression::Fastest);
    }
    rgba_png(&pixmap.take_demultiplied(), width, height, png::Compression::Fast)
}

/// The colours of premultiplied RGBA pixels (at most 256, else `None`) and each pixel's index
/// into them: a small open-addressing table, which gives up at the 257th colour.
fn palette_of(data: &[u8]) -> Option<(Vec<[u8; 4]>, Vec<u8>)> {
    const SLOTS: usize = 1024;
    let mut keys = [0u32; SLOTS];
    let mut slot_of = [0u16; SLOTS]; // 0: empty, else index + 1
    let mut palette: Vec<[u8; 4]> = Vec::new();
    let mut indices = Vec::with_capacity(data.len() / 4);
    let mut last: Option<(u32, u8)> = None;
    for p in data.chunks_exact(4) {
        let key = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
        if let Some((k, i)) = last
            && k == key
        {
            indices.push(i);
            continue;
        }
        let mut h = (key.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        let index = loop {
            match slot_of[h] {
                0 => {
                    if palette.len() == 256 {
                        return None;
                    }
                    palette.push([p[0], p[1], p[2], p[3]]);
                    keys[h] = key;
                    slot_of[h] = palette.len() as u16;
                    break (palette.len() - 1) as u8;
                }
                n if keys[h] == key => break (n - 1) as u8,
                _ => h = (h + 1) % SLOTS,
            }
        };
        last = Some((key, index));
        indices.push(index);
    }
    Some((palette, indices))
}

/// An 8-bit indexed PNG of premultiplied palette colours, with a transparency chunk when any
/// colour is not opaque.
fn indexed_png(palette: &[[u8; 4]], indices: &[u8], width: u32, height: u32) -> Result<Vec<u8>, EncodeError> {
    let straight: Vec<[u8; 4]> = palette
        .iter()
        .map(|&[r, g, b, a]| {
            let c = tiny_skia::PremultipliedColorU8::from_rgba(r, g, b, a)
                .map_or(tiny_skia::ColorU8::from_rgba(0, 0, 0, 0), |c| c.demultiply());
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    let mut out = Vec::with_capacity(4 * 1024);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_palette(straight.iter().flat_map(|c| [c[0], c[1], c[2]]).collect::<Vec<u8>>());
    if straight.iter().any(|c| c[3] != 255) {
        enc.set_trns(straight.iter().map(|c| c[3]).collect::<Vec<u8>>());
    }
    let mut w = enc.write_header()?;
    w.write_image_data(indices)?;
    w.finish()?;
    Ok(out)
}

/// A square PNG of one colour (transparent when `None`): the answer for an empty tile.
pub fn solid_png(color: Option<Color>, size: u32) -> Result<Vec<u8>, EncodeError> {
    let c = color.unwrap_or(Color::rgba(0, 0, 0, 0));
    let rgba: Vec<u8> = [c.r, c.g, c.b, c.a].repeat((size * size) as usize);
    // Encoded once at start-up: worth the best compression (about 100 bytes, not 2 KB).
    rgba_png(&rgba, size, size, png::Compression::High)
}

/// A square tile of one colour (transparent when `None`) in `format`.
pub fn solid(color: Option<Color>, size: u32, format: TileFormat) -> Result<Vec<u8>, EncodeError> {
    if format == TileFormat::Png {
        return solid_png(color, size);
    }
    let c = color.unwrap_or(Color::rgba(0, 0, 0, 0));
    let mut pixmap = Pixmap::new(size, size).ok_or(EncodeError::Image {
        format: "tile",
        source: image::ImageError::Limits(image::error::LimitError::from_kind(
            image::error::LimitErrorKind::DimensionError,
        )),
    })?;
    pixmap.fill(tiny_skia::Color::from_rgba8(c.r, c.g, c.b, c.a));
    encode(pixmap, format)
}

/// Tiles of one colour, encoded once in each format and scale a server answers in: the
/// answer for every tile where nothing is drawn.
#[derive(Debug, Clone)]
pub struct SolidTiles {
    tiles: Vec<(TileFormat, Scale, Vec<u8>)>,
}

impl SolidTiles {
    /// Encodes the tile of `color` (transparent when `None`) in each of `formats`, at 1x and 2x.
    pub fn new(color: Option<Color>, formats: &[TileFormat]) -> Result<Self, EncodeError> {
        let mut tiles = Vec::with_capacity(formats.len() * 2);
        for &format in formats {
            for scale in [Scale::X1, Scale::X2] {
                tiles.push((format, scale, solid(color, scale.pixels(), format)?));
            }
        }
        Ok(Self { tiles })
    }

    /// The encoded tile; `None` for a format it was not made with.
    pub fn get(&self, format: TileFormat, scale: Scale) -> Option<&[u8]> {
        self.tiles.iter().find(|(f, s, _)| *f == format && *s == scale).map(|(_, _, bytes)| bytes.as_slice())
    }
}

fn rgb_of(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
}

fn webp(data: &[u8], width: u32, height: u32, color: ExtendedColorType) -> Result<Vec<u8>, EncodeError> {
    let mut out = Cursor::new(Vec::with_capacity(16 * 1024));
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(data, width, height, color)
        .map_err(|source| EncodeError::Image { format: "WebP", source })?;
    Ok(out.into_inner())
}

fn jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16 * 1024);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(rgb, width, height, ExtendedColorType::Rgb8)
        .map_err(|source| EncodeError::Image { format: "JPEG", source })?;
    Ok(out)
}

fn rgba_png(rgba: &[u8], width: u32, height: u32, level: png::Compression) -> Result<Vec<u8>, EncodeError> {
    png_of(rgba, png::ColorType::Rgba, width, height, level)
}

fn png_of(
    data: &[u8],
    color: png::ColorType,
    width: u32,
    height: u32,
    level: png::Compression,
) -> Result<Vec<u8>, EncodeError> {
    // Busy tiles come to tens of kilobytes: room for a fifth of the raw bytes up front.
    let mut out = Vec::with_capacity((data.len() / 5).max(1024));
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(level);
    let mut w = enc.write_header()?;
    w.write_image_data(data)?;
    w.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Pixmap {
        // Half opaque red, half transparent: both alpha cases in one tile.
        let mut p = Pixmap::new(16, 8).unwrap_or_else(|| unreachable!("size"));
        let paint = crate::render::symbol::paint(Color::rgba(200, 30, 40, 255));
        let rect = tiny_skia::Rect::from_xywh(0.0, 0.0, 8.0, 8.0).unwrap_or_else(|| unreachable!("rect"));
        p.fill_rect(rect, &paint, tiny_skia::Transform::identity(), None);
        p
    }

    fn decoded(bytes: &[u8]) -> image::RgbaImage {
        image::load_from_memory(bytes).unwrap_or_else(|e| unreachable!("{e}")).to_rgba8()
    }

    /// A 32 x 32 pixmap of `colours` distinct colours, opaque or half transparent.
    fn with_colours(colours: u32, opaque: bool) -> Pixmap {
        let mut p = Pixmap::new(32, 32).unwrap_or_else(|| unreachable!("size"));
        for (i, px) in p.pixels_mut().iter_mut().enumerate() {
            let c = (i as u32) % colours;
            let a = if opaque { 255 } else { 96 + (c % 3) as u8 };
            let straight = tiny_skia::ColorU8::from_rgba((c % 251) as u8, (c / 7) as u8, 200, a);
            *px = straight.premultiply();
        }
        p
    }

    #[test]
    fn every_png_layout_decodes_to_the_straight_pixels() {
        for (colours, opaque, layout) in [
            (200, true, png::ColorType::Indexed),
            (200, false, png::ColorType::Indexed),
            (1000, true, png::ColorType::Rgb),
            (1000, false, png::ColorType::Rgba),
        ] {
            let p = with_colours(colours, opaque);
            let bytes = encode_png(p.clone()).unwrap_or_default();
            let header = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().map(|r| r.info().color_type);
            assert_eq!(header.ok(), Some(layout), "{colours} colours, opaque {opaque}");
            assert_eq!(decoded(&bytes).as_raw(), &p.take_demultiplied(), "{colours} colours, opaque {opaque}");
        }
    }

    #[test]
    fn webp_keeps_the_pixels_of_the_png() {
        let png = decoded(&encode(sample(), TileFormat::Png).unwrap_or_default());
        let webp = decoded(&encode(sample(), TileFormat::Webp).unwrap_or_default());
        assert_eq!(png.dimensions(), (16, 8));
        assert_eq!(png.as_raw(), webp.as_raw(), "lossless WebP decodes to the PNG's pixels");
    }

    #[test]
    fn jpeg_lays_transparency_on_white() {
        let jpg = decoded(&encode(sample(), TileFormat::Jpeg { quality: 95 }).unwrap_or_default());
        let near = |a: &[u8], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 12);
        assert!(near(&jpg.get_pixel(2, 4).0[..3], [200, 30, 40]), "{:?}", jpg.get_pixel(2, 4));
        assert!(near(&jpg.get_pixel(13, 4).0[..3], [255, 255, 255]), "{:?}", jpg.get_pixel(13, 4));
    }

    #[test]
    fn solid_tiles_come_in_every_format_and_scale() {
        let tiles = SolidTiles::new(None, &[TileFormat::Png, TileFormat::Webp]).unwrap_or_else(|e| unreachable!("{e}"));
        let webp = decoded(tiles.get(TileFormat::Webp, Scale::X2).unwrap_or_default());
        assert_eq!(webp.dimensions(), (512, 512));
        assert!(webp.pixels().all(|p| p.0[3] == 0));
        assert!(tiles.get(TileFormat::Jpeg { quality: 80 }, Scale::X1).is_none());
    }
}
