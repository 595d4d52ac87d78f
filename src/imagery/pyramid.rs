//! The image and its reduced copies, premultiplied RGBA.
//!
//! Premultiplied, so that averaging is right at the edges of transparent areas (a transparent
//! pixel's colour counts for nothing, rather than darkening its neighbours) and bilinear
//! sampling needs no division. Each copy is made from the one above it by the `image` crate's
//! triangle filter, whose support widens with the reduction (a 2:1 reduction weighs 4 x 4
//! pixels), so each copy's pixel averages the pixels it covers. Every level spans the image's
//! whole bounds: odd sizes round up, and the filter maps edge to edge, so the georeference is
//! the same at every level.

use image::imageops::{FilterType, resize};

use super::ImageLimits;

/// One level: `width` x `height` premultiplied RGBA pixels, row by row from the north-west.
#[derive(Debug, Clone)]
pub struct Level {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    data: Vec<u8>,
}

impl Level {
    fn from_image(img: image::RgbaImage) -> Self {
        let (width, height) = img.dimensions();
        let mut data = img.into_raw();
        // The filter's rounding may leave a colour a unit above its alpha; tiny-skia and the
        // encoders need colour <= alpha.
        for p in data.chunks_exact_mut(4) {
            let a = p[3];
            p[..3].iter_mut().for_each(|c| *c = (*c).min(a));
        }
        Self { width, height, data }
    }

    /// The premultiplied RGBA of the pixel in column `x` and row `y` (both in range).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        self.data.get(i..i + 4).and_then(|p| p.try_into().ok()).unwrap_or([0; 4])
    }

    /// The raw premultiplied RGBA bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// The image at the size it is kept, then halved (rounding up) down to 1 x 1.
#[derive(Debug, Clone)]
pub struct Pyramid {
    levels: Vec<Level>,
}

impl Pyramid {
    /// Premultiplies a straight-alpha image, reduces it to `limits.max_kept_pixels` if it is
    /// larger, and makes the reduced copies.
    pub fn new(mut img: image::RgbaImage, limits: ImageLimits) -> Self {
        for p in img.pixels_mut() {
            let a = u16::from(p.0[3]);
            for c in &mut p.0[..3] {
                // Rounded a * c / 255.
                *c = ((u16::from(*c) * a + 127) / 255) as u8;
            }
        }
        let (w, h) = img.dimensions();
        let pixels = u64::from(w) * u64::from(h);
        if pixels > limits.max_kept_pixels && pixels > 0 {
            let k = (limits.max_kept_pixels as f64 / pixels as f64).sqrt();
            let (nw, nh) = (((f64::from(w) * k).floor() as u32).max(1), ((f64::from(h) * k).floor() as u32).max(1));
            img = resize(&img, nw, nh, FilterType::Triangle);
        }
        let mut levels = vec![Level::from_image(img.clone())];
        while img.width() > 1 || img.height() > 1 {
            img = resize(&img, img.width().div_ceil(2), img.height().div_ceil(2), FilterType::Triangle);
            levels.push(Level::from_image(img.clone()));
        }
        Self { levels }
    }

    /// The levels, largest first; never empty.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Bytes held by every level.
    pub fn bytes(&self) -> usize {
        self.levels.iter().map(|l| l.data.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_averages_the_one_above() {
        // A 1-pixel checkerboard of opaque black and white: every reduced copy is mid grey.
        let img = image::RgbaImage::from_fn(64, 48, |x, y| {
            let v = if (x + y) % 2 == 0 { 255 } else { 0 };
            image::Rgba([v, v, v, 255])
        });
        let p = Pyramid::new(img, ImageLimits::DEFAULT);
        let sizes: Vec<(u32, u32)> = p.levels().iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(sizes, [(64, 48), (32, 24), (16, 12), (8, 6), (4, 3), (2, 2), (1, 1)]);
        for level in &p.levels()[1..] {
            for y in 0..level.height {
                for x in 0..level.width {
                    let [r, g, b, a] = level.pixel(x, y);
                    assert!(r.abs_diff(128) <= 3 && r == g && g == b && a == 255, "{x},{y}: {r} {g} {b} {a}");
                }
            }
        }
    }

    #[test]
    fn transparent_pixels_do_not_darken_their_neighbours() {
        // Opaque white beside transparent black: the average is half-transparent white, which
        // premultiplied is (127, 127, 127, 127), not a grey.
        let img = image::RgbaImage::from_fn(2, 1, |x, _| image::Rgba(if x == 0 { [255; 4] } else { [0; 4] }));
        let p = Pyramid::new(img, ImageLimits::DEFAULT);
        let [r, g, b, a] = p.levels()[1].pixel(0, 0);
        assert!(a.abs_diff(128) <= 1 && r == a && g == a && b == a, "{r} {g} {b} {a}");
    }
}
