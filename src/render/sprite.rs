//! Sprite sheets for MapLibre: the point symbols of the raster renderer, drawn by the same code
//! into one PNG with its JSON index, so that vector maps show the same observation-point and
//! hospital signs as the raster tiles.

use serde_json::{Map, Value, json};
use tiny_skia::Pixmap;

use super::{EncodeError, encode_png, symbol};
use crate::style::Style;

/// A sprite sheet: the PNG and its index (`name -> {x, y, width, height, pixelRatio}`).
#[derive(Debug, Clone)]
pub struct Sprite {
    /// The sheet.
    pub png: Vec<u8>,
    /// The index, as MapLibre reads it.
    pub index: Value,
}

/// Draws each named style's symbol into one sheet at `ratio` device pixels per CSS pixel.
pub fn sprite(entries: &[(String, Style)], ratio: u32) -> Result<Sprite, EncodeError> {
    let cells: Vec<u32> = entries.iter().map(|(_, s)| ((s.reach_px() * 2.0).ceil() as u32 + 2) * ratio).collect();
    let width = cells.iter().sum::<u32>().max(1);
    let height = cells.iter().copied().max().unwrap_or(1).max(1);
    let Some(mut pixmap) = Pixmap::new(width, height) else {
        return Ok(Sprite { png: Vec::new(), index: json!({}) });
    };
    let mut index = Map::new();
    let mut x = 0;
    for ((name, style), &cell) in entries.iter().zip(&cells) {
        let c = cell as f32 / 2.0;
        symbol::draw(&mut pixmap, style, x as f32 + c, c, ratio as f32);
        index.insert(name.clone(), json!({ "x": x, "y": 0, "width": cell, "height": cell, "pixelRatio": ratio }));
        x += cell;
    }
    Ok(Sprite { png: encode_png(pixmap)?, index: Value::Object(index) })
}
