//! Bytes and encoding time of the tile formats (PNG, lossless WebP, JPEG at the default quality
//! and at 75 and 95) on the default data: the golden tiles and a sample of the tiles over the
//! map's area at zooms 8 to 12, at 1x and 2x, with English place names as a server draws them.
//!
//! Each tile is rendered once; its pixmap is then encoded `ROUNDS` times in every format, in
//! turn, and the mean time per encoding is reported. Rendering is left out: it is the same for
//! every format. Tiles where nothing is drawn are skipped (a server answers those with a tile
//! encoded once at start-up).
//!
//! Run: `cargo bench --bench formats`. It prints a Markdown table for `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, reason = "a benchmark stops loudly when its data is missing")]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use tessera::layer::load_dir;
use tessera::render::{Scale, TileFormat, TileImage, encode, render_tile};
use tessera::style::Lang;
use tessera::tile::{TileCoord, TileRange};

/// Encodings of each tile in each format.
const ROUNDS: u32 = 5;
/// Tiles taken at each zoom of the sample, spread evenly over the map's area.
const PER_ZOOM: usize = 12;
const GOLDEN: [&str; 6] = ["6/38/25", "7/76/50", "9/308/201", "11/1233/802", "12/2466/1605", "12/2467/1604"];

fn main() {
    let catalog = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).unwrap();
    let layers = catalog.select(None).unwrap();
    let mut tiles: Vec<TileCoord> = GOLDEN.iter().map(|t| t.parse().unwrap()).collect();
    for z in 8..=12 {
        let range = TileRange::covering(catalog.bounds(), z);
        let all: Vec<TileCoord> = range.iter().collect();
        let step = (all.len() / PER_ZOOM).max(1);
        tiles.extend(all.into_iter().step_by(step).take(PER_ZOOM));
    }
    let formats = [
        ("PNG", TileFormat::Png),
        ("WebP (lossless)", TileFormat::Webp),
        ("JPEG q75", TileFormat::Jpeg { quality: 75 }),
        ("JPEG q85 (default)", TileFormat::Jpeg { quality: 85 }),
        ("JPEG q95", TileFormat::Jpeg { quality: 95 }),
    ];
    println!("{} tiles listed (6 golden, {PER_ZOOM} per zoom 8-12); {ROUNDS} encodings each\n", tiles.len());
    for scale in [Scale::X1, Scale::X2] {
        let pixmaps: Vec<_> = tiles
            .iter()
            .filter_map(|&t| match render_tile(&catalog, &layers, t, scale, Some(Lang::En)) {
                TileImage::Drawn(p) => Some(p),
                TileImage::Empty => None,
            })
            .collect();
        println!("### {} px tiles ({} drawn)\n", scale.pixels(), pixmaps.len());
        println!("| format | total bytes | mean bytes per tile | vs PNG | mean encode time per tile |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        let mut png_total = 0usize;
        for (name, format) in formats {
            let mut bytes = 0usize;
            let mut time = Duration::ZERO;
            for p in &pixmaps {
                for round in 0..ROUNDS {
                    let copy = p.clone();
                    let started = Instant::now();
                    let out = black_box(encode(black_box(copy), format).unwrap());
                    time += started.elapsed();
                    if round == 0 {
                        bytes += out.len();
                    }
                }
            }
            if format == TileFormat::Png {
                png_total = bytes;
            }
            let n = pixmaps.len().max(1);
            println!(
                "| {name} | {bytes} | {} | {:.0}% | {:.2} ms |",
                bytes / n,
                100.0 * bytes as f64 / png_total.max(1) as f64,
                time.as_secs_f64() * 1000.0 / (n as f64 * f64::from(ROUNDS)),
            );
        }
        println!();
    }
}
