//! One Web Mercator tile of an image: each output pixel centre taken back to longitude and
//! latitude, then sampled bilinearly on the grid of the fitting pyramid level.
//!
//! Longitude is linear in the tile's columns and latitude depends on the row alone, so both
//! are computed once per column and once per row. The level is chosen per row, because a
//! Mercator pixel covers fewer degrees of latitude towards the poles: from the pixel's
//! footprint in full-size image pixels (the geometric mean of its width and height there),
//! the level is the largest whose pixel is not larger than the footprint.

use std::f64::consts::PI;

use tiny_skia::{IntSize, Pixmap};

use super::{GeoImage, Level};
use crate::tile::TileCoord;

/// Draws the image onto one tile of `size` x `size` pixels; `None` when the tile is outside the
/// image's bounds or zooms. Pixels whose centre lies outside the bounds are transparent.
///
/// Takes the size rather than `render::Scale` so that `imagery` sits below `render` (which the
/// service uses to encode the result) and the module graph has no cycle.
pub fn render_tile(image: &GeoImage, tile: TileCoord, size: u32) -> Option<Pixmap> {
    let meta = &image.meta;
    if tile.z() < meta.minzoom || tile.z() > meta.maxzoom {
        return None;
    }
    let b = meta.bounds;
    let world_px = tile.world_tiles() * f64::from(size);
    // Image coordinates as fractions of its width (from the west) and height (from the north).
    let columns: Vec<Option<f64>> = (0..size)
        .map(|i| {
            let lon = (f64::from(tile.x()) * f64::from(size) + f64::from(i) + 0.5) / world_px * 360.0 - 180.0;
            let u = (lon - b.west) / (b.east - b.west);
            (0.0..=1.0).contains(&u).then_some(u)
        })
        .collect();
    let lat_at = |row: f64| -> f64 {
        let y = (f64::from(tile.y()) * f64::from(size) + row) / world_px;
        (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees()
    };
    let rows: Vec<Option<(f64, f64)>> = (0..size)
        .map(|j| {
            let lat = lat_at(f64::from(j) + 0.5);
            let v = (b.north - lat) / (b.north - b.south);
            // Degrees of latitude the pixel spans.
            let span = lat_at(f64::from(j)) - lat_at(f64::from(j) + 1.0);
            (0.0..=1.0).contains(&v).then_some((v, span))
        })
        .collect();
    if !columns.iter().any(Option::is_some) || !rows.iter().any(Option::is_some) {
        return None;
    }
    let levels = image.pyramid.levels();
    let top = &levels[0];
    // Full-size image pixels per output pixel, across and (per row) down.
    let across = (360.0 / world_px) / ((b.east - b.west) / f64::from(top.width));
    let mut data = vec![0u8; (size * size * 4) as usize];
    for (j, row) in rows.iter().enumerate() {
        let Some((v, span)) = *row else { continue };
        let down = span / ((b.north - b.south) / f64::from(top.height));
        let level = &levels[level_for((across * down).sqrt(), levels.len())];
        let out = &mut data[j * size as usize * 4..(j + 1) * size as usize * 4];
        for (i, column) in columns.iter().enumerate() {
            if let Some(u) = *column {
                out[i * 4..i * 4 + 4].copy_from_slice(&bilinear(level, u, v));
            }
        }
    }
    IntSize::from_wh(size, size).and_then(|s| Pixmap::from_vec(data, s))
}

/// The level whose pixel is the largest power of two not above `footprint` full-size pixels.
fn level_for(footprint: f64, count: usize) -> usize {
    if footprint.is_finite() && footprint >= 2.0 { (footprint.log2().floor() as usize).min(count - 1) } else { 0 }
}

/// The level sampled at fractions `u` (from the west) and `v` (from the north) of its extent,
/// between the four nearest pixel centres; the edge pixels hold to the edge.
fn bilinear(level: &Level, u: f64, v: f64) -> [u8; 4] {
    let clamp = |t: f64, n: u32| t.clamp(0.0, f64::from(n - 1));
    let x = clamp(u * f64::from(level.width) - 0.5, level.width);
    let y = clamp(v * f64::from(level.height) - 0.5, level.height);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(level.width - 1), (y0 + 1).min(level.height - 1));
    let (fx, fy) = ((x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32);
    let (a, b, c, d) = (level.pixel(x0, y0), level.pixel(x1, y0), level.pixel(x0, y1), level.pixel(x1, y1));
    let mut out = [0u8; 4];
    for k in 0..4 {
        let top = f32::from(a[k]) + (f32::from(b[k]) - f32::from(a[k])) * fx;
        let bottom = f32::from(c[k]) + (f32::from(d[k]) - f32::from(c[k])) * fx;
        out[k] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
    }
    // Rounded separately, a colour could come out a unit above its alpha.
    let alpha = out[3];
    out[..3].iter_mut().for_each(|ch| *ch = (*ch).min(alpha));
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{entry, png};
    use super::super::{GeoImage, ImageLimits};
    use super::*;
    use crate::tile::LonLat;

    fn load(img: &image::RgbaImage, bounds: [f64; 4]) -> GeoImage {
        GeoImage::load(&entry(bounds), &png(img), 20, ImageLimits::DEFAULT).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn drawn(t: Option<Pixmap>) -> Pixmap {
        t.unwrap_or_else(|| unreachable!("empty tile"))
    }

    /// Where in a tile (pixels from its north-west corner) Web Mercator puts a position.
    fn expected_px(ll: LonLat, tile: TileCoord, size: u32) -> (f64, f64) {
        let w = ll.to_world();
        let n = tile.world_tiles() * f64::from(size);
        (w.x * n - f64::from(tile.x() * size), w.y * n - f64::from(tile.y() * size))
    }

    /// The alpha-weighted centroid of red in a tile.
    fn red_centroid(p: &Pixmap) -> (f64, f64) {
        let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
        for y in 0..p.height() {
            for x in 0..p.width() {
                let c = p.pixel(x, y).unwrap_or_else(|| unreachable!("in range"));
                let w = f64::from(c.red().saturating_sub(c.green()));
                (sx, sy, sw) = (sx + w * (f64::from(x) + 0.5), sy + w * (f64::from(y) + 0.5), sw + w);
            }
        }
        (sx / sw, sy / sw)
    }

    #[test]
    fn a_mark_lands_where_web_mercator_puts_it() {
        // 1000 x 800 pixels over 1 x 0.8 degrees; a red 4 x 4 square centred on the corner of
        // pixels (600, 300), which is at 36 + 600 / 1000 = 36.6 E, 36.5 - 0.8 * 300 / 800 = 36.2 N.
        let bounds = [36.0, 35.7, 37.0, 36.5];
        let img = image::RgbaImage::from_fn(1000, 800, |x, y| {
            let mark = (598..602).contains(&x) && (298..302).contains(&y);
            image::Rgba(if mark { [255, 0, 0, 255] } else { [0, 0, 255, 60] })
        });
        let geo = load(&img, bounds);
        let mark = LonLat::new(36.6, 36.2);
        for (z, size) in [(8, 256), (10, 256), (12, 512), (14, 256)] {
            let tile = TileCoord::containing(mark.to_world(), z).unwrap_or_else(|e| unreachable!("{e}"));
            let p = drawn(render_tile(&geo, tile, size));
            let (ex, ey) = expected_px(mark, tile, size);
            let (cx, cy) = red_centroid(&p);
            assert!(
                (cx - ex).abs() < 0.6 && (cy - ey).abs() < 0.6,
                "z{z}: red at ({cx:.2}, {cy:.2}), expected ({ex:.2}, {ey:.2})"
            );
        }
    }

    #[test]
    fn outside_the_bounds_is_empty_and_transparent() {
        let img = image::RgbaImage::from_pixel(100, 100, image::Rgba([0, 128, 0, 255]));
        let geo = load(&img, [36.0, 35.0, 37.0, 36.0]);
        let far =
            TileCoord::containing(LonLat::new(2.35, 48.85).to_world(), 10).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(render_tile(&geo, far, 256).is_none());
        // The tile holding the north-west corner: green south-east of the corner, clear elsewhere.
        let corner = LonLat::new(36.0, 36.0);
        let tile = TileCoord::containing(corner.to_world(), 9).unwrap_or_else(|e| unreachable!("{e}"));
        let p = drawn(render_tile(&geo, tile, 256));
        let (ex, ey) = expected_px(corner, tile, 256);
        for (x, y) in [(0, 0), (255, 0), (0, 255)] {
            let inside = f64::from(x) + 0.5 > ex && f64::from(y) + 0.5 > ey;
            let alpha = p.pixel(x, y).map_or(0, |c| c.alpha());
            assert_eq!(alpha, if inside { 255 } else { 0 }, "pixel {x},{y} (corner at {ex:.1},{ey:.1})");
        }
        let (x, y) = ((ex + 3.0) as u32, (ey + 3.0) as u32);
        assert_eq!(p.pixel(x, y).map(|c| (c.green(), c.alpha())), Some((128, 255)));
        let (x, y) = ((ex - 3.0) as u32, (ey - 3.0) as u32);
        assert_eq!(p.pixel(x, y).map(|c| c.alpha()), Some(0));
        // Outside its zooms, nothing.
        let mut zoomed = load(&img, [36.0, 35.0, 37.0, 36.0]);
        zoomed.meta.maxzoom = 8;
        assert!(render_tile(&zoomed, tile, 256).is_none());
    }

    #[test]
    fn a_zoomed_out_tile_averages_instead_of_skipping() {
        // A 1-pixel black and white checkerboard, 2000 x 2000 pixels over 2 x 2 degrees: at zoom
        // 8 one output pixel covers about 5.5 image pixels, so sampling the full image would
        // give black, white and every grey between; averaged copies give mid grey throughout.
        let img = image::RgbaImage::from_fn(2000, 2000, |x, y| {
            let v = if (x + y) % 2 == 0 { 255 } else { 0 };
            image::Rgba([v, v, v, 255])
        });
        let geo = load(&img, [36.0, 35.0, 38.0, 37.0]);
        let tile = TileCoord::containing(LonLat::new(37.0, 36.0).to_world(), 8).unwrap_or_else(|e| unreachable!("{e}"));
        let p = drawn(render_tile(&geo, tile, 256));
        let greys: Vec<u8> = p.pixels().iter().filter(|c| c.alpha() == 255).map(|c| c.red()).collect();
        assert!(greys.len() > 10_000, "{} opaque pixels", greys.len());
        let (lo, hi) = (greys.iter().min().copied().unwrap_or(0), greys.iter().max().copied().unwrap_or(0));
        assert!(lo >= 110 && hi <= 146, "greys from {lo} to {hi}");
        // The level is chosen from the footprint: here the copy of pixels 4 times as large.
        assert_eq!(level_for(5.5, 12), 2);
        assert_eq!(level_for(0.3, 12), 0);
        assert_eq!(level_for(1e9, 12), 11);
    }
}
