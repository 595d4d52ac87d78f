//! Sprite sheets: every icon of the MapLibre style and every swatch of the viewer's legend,
//! drawn by the code that draws the tiles and the overlay into one PNG with its JSON index. A
//! vector map and the legend thus show the very symbols of the raster tiles, never copies.
//!
//! Cells are packed in rows (shelves) of at most [`ROW_PX`] CSS px, so that the sheet stays
//! well under the texture sizes browsers and GPUs accept however many icons there are.

use serde_json::{Map, Value, json};
use tiny_skia::Pixmap;

use super::{EncodeError, encode_png, overlay, swatch, symbol};
use crate::style::Icon;

/// A sprite sheet: the PNG and its index (`name -> {x, y, width, height, pixelRatio}`).
#[derive(Debug, Clone)]
pub struct Sprite {
    /// The sheet.
    pub png: Vec<u8>,
    /// The index, as MapLibre reads it.
    pub index: Value,
}

/// Widest row of the sheet, CSS px.
const ROW_PX: u32 = 512;
/// Size of a line or polygon swatch, CSS px.
pub const SWATCH_PX: (u32, u32) = (28, 20);

/// The cell of an icon, CSS px: its reach on every side, plus a pixel of air.
fn cell_px(icon: &Icon) -> (u32, u32) {
    let square = |reach: f32| {
        let side = (reach * 2.0).ceil() as u32 + 2;
        (side, side)
    };
    match icon {
        Icon::Symbol(s) => square(s.reach_px()),
        Icon::Line(_) | Icon::Area(_) => SWATCH_PX,
        other => square(overlay::icon_reach_px(other).unwrap_or(8.0)),
    }
}

/// Places cells left to right in rows of at most [`ROW_PX`] (times `ratio`); returns each
/// cell's corner and the sheet's size, device px.
fn pack(cells: &[(u32, u32)], ratio: u32) -> (Vec<(u32, u32)>, u32, u32) {
    let (mut x, mut y, mut row_h, mut width) = (0, 0, 0, 0);
    let corners = cells
        .iter()
        .map(|&(w, h)| {
            if x > 0 && x + w > ROW_PX * ratio {
                (x, y, row_h) = (0, y + row_h, 0);
            }
            let at = (x, y);
            x += w;
            row_h = row_h.max(h);
            width = width.max(x);
            at
        })
        .collect();
    (corners, width.max(1), (y + row_h).max(1))
}

/// Draws one icon centred in the cell at `corner` (device px).
fn draw(pixmap: &mut Pixmap, icon: &Icon, corner: (u32, u32), cell: (u32, u32), ratio: u32) {
    let (cx, cy) = (corner.0 as f32 + cell.0 as f32 / 2.0, corner.1 as f32 + cell.1 as f32 / 2.0);
    let s = ratio as f32;
    match icon {
        Icon::Symbol(style) => symbol::draw(pixmap, style, cx, cy, s),
        Icon::Line(style) | Icon::Area(style) => swatch(pixmap, icon, style, corner, cell, s),
        other => overlay::draw_icon(pixmap, other, cx, cy, s),
    }
}

/// Draws the named icons into one sheet at `ratio` device pixels per CSS pixel.
pub fn sprite(entries: &[(String, Icon)], ratio: u32) -> Result<Sprite, EncodeError> {
    let cells: Vec<(u32, u32)> = entries.iter().map(|(_, i)| cell_px(i)).map(|(w, h)| (w * ratio, h * ratio)).collect();
    let (corners, width, height) = pack(&cells, ratio);
    let Some(mut pixmap) = Pixmap::new(width, height) else {
        return Ok(Sprite { png: Vec::new(), index: json!({}) });
    };
    let mut index = Map::new();
    for (((name, icon), &cell), &corner) in entries.iter().zip(&cells).zip(&corners) {
        draw(&mut pixmap, icon, corner, cell, ratio);
        let (x, y) = corner;
        index.insert(name.clone(), json!({ "x": x, "y": y, "width": cell.0, "height": cell.1, "pixelRatio": ratio }));
    }
    Ok(Sprite { png: encode_png(pixmap)?, index: Value::Object(index) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::style::{Color, GeometryKind, Style};

    /// Alpha along the middle row of the first cell of a one-icon sheet.
    fn middle_row(icon: Icon) -> Vec<u8> {
        let sheet = sprite(&[("i".into(), icon)], 1).unwrap_or_else(|e| unreachable!("{e}"));
        // Sheets may be indexed or RGB (see `encode_png`): expanded to RGBA as a browser does.
        let mut png = png::Decoder::new(std::io::Cursor::new(sheet.png));
        png.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
        let mut reader = png.read_info().unwrap_or_else(|e| unreachable!("{e}"));
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut buf).unwrap_or_else(|e| unreachable!("{e}"));
        let y = info.height / 2;
        (0..info.width).map(|x| buf[((y * info.width + x) * 4 + 3) as usize]).collect()
    }

    #[test]
    fn a_line_swatch_keeps_its_dashes() {
        let solid = Style {
            stroke: Some(Color::rgba(0, 0, 0, 255)),
            stroke_width: 2.0,
            ..Style::default_for(GeometryKind::Line)
        };
        let dashed = Style { dash: vec![4.0, 3.0], ..solid.clone() };
        let inner = |row: Vec<u8>| row[4..row.len() - 4].to_vec();
        assert!(inner(middle_row(Icon::Line(solid))).iter().all(|&a| a > 200), "a solid line has no gap");
        let row = inner(middle_row(Icon::Line(dashed)));
        assert!(row.iter().any(|&a| a > 200) && row.contains(&0), "a dashed line has gaps: {row:?}");
    }

    #[test]
    fn rows_wrap_and_no_two_cells_overlap() {
        let cells: Vec<(u32, u32)> = (0..40).map(|i| (20 + (i * 7) % 60, 10 + (i * 13) % 70)).collect();
        let (corners, w, h) = pack(&cells, 1);
        assert!(w <= ROW_PX && h > 70, "{w}x{h}");
        let rect = |i: usize| (corners[i].0, corners[i].1, corners[i].0 + cells[i].0, corners[i].1 + cells[i].1);
        for i in 0..cells.len() {
            let a = rect(i);
            assert!(a.2 <= w && a.3 <= h, "cell {i} leaves the sheet");
            for j in 0..i {
                let b = rect(j);
                assert!(a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1, "cells {i} and {j} overlap");
            }
        }
    }
}
