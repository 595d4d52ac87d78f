//! PNG encoding of rendered tiles.

use tiny_skia::Pixmap;

use crate::style::Color;

/// The PNG encoder failed (it only does on an internal inconsistency).
#[derive(Debug, thiserror::Error)]
#[error("PNG encoding failed: {0}")]
pub struct EncodeError(#[from] png::EncodingError);

/// Encodes a pixmap as an 8-bit RGBA PNG with the fast deflate settings of the `png` crate,
/// which on map tiles cost a fraction of the default level for files a few per cent larger.
pub fn encode_png(pixmap: Pixmap) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (pixmap.width(), pixmap.height());
    rgba_png(&pixmap.take_demultiplied(), width, height, png::Compression::Fast)
}

/// A square PNG of one colour (transparent when `None`): the answer for an empty tile.
pub fn solid_png(color: Option<Color>, size: u32) -> Result<Vec<u8>, EncodeError> {
    let c = color.unwrap_or(Color::rgba(0, 0, 0, 0));
    let rgba: Vec<u8> = [c.r, c.g, c.b, c.a].repeat((size * size) as usize);
    // Encoded once at start-up: worth the best compression (about 100 bytes, not 2 KB).
    rgba_png(&rgba, size, size, png::Compression::High)
}

fn rgba_png(rgba: &[u8], width: u32, height: u32, level: png::Compression) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16 * 1024);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(level);
    let mut w = enc.write_header()?;
    w.write_image_data(rgba)?;
    w.finish()?;
    Ok(out)
}
