//! The cost of names in the vector map: making a glyph range from the fonts' outlines (done once
//! per font and range for the life of the process), serving a stack's range once made (merged
//! and encoded at every request), and a vector tile with and without its `labels` layer.
//!
//! Run: `cargo bench --bench vector_names`.

#![allow(clippy::unwrap_used, reason = "a benchmark stops loudly when its data is missing")]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera::glyphs::{FontStack, GlyphRange, render_range, stack_range};
use tessera::layer::load_dir;
use tessera::render::label::label_width;
use tessera::render::text::Font;
use tessera::tile::TileCoord;

fn glyphs(c: &mut Criterion) {
    let mut group = c.benchmark_group("glyphs");
    group.sample_size(20);
    for (name, font, range) in [
        ("Noto Sans Regular 0-255", Font::Latin, "0-255"),
        ("Noto Sans Arabic Regular 1536-1791", Font::Arabic, "1536-1791"),
        ("Noto Sans Arabic Bold 65024-65279", Font::ArabicBold, "65024-65279"),
    ] {
        let r = GlyphRange::parse(range).unwrap();
        group.bench_function(format!("make {name}"), |b| b.iter(|| black_box(render_range(font, black_box(r)))));
    }
    let stack = FontStack::parse("Noto Sans Regular,Noto Sans Arabic Regular").unwrap();
    for range in ["0-255", "1536-1791"] {
        let r = GlyphRange::parse(range).unwrap();
        stack_range(&stack, r);
        group.bench_function(format!("serve the 2-font stack {range}, made"), |b| {
            b.iter(|| black_box(stack_range(&stack, black_box(r))))
        });
    }
    group.finish();
}

fn tiles(c: &mut Criterion) {
    let catalog = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).unwrap();
    let all = catalog.select(None).unwrap();
    let mut group = c.benchmark_group("vector tile");
    for tile in ["6/38/25", "9/308/201", "12/2466/1605"] {
        let t: TileCoord = tile.parse().unwrap();
        group.bench_function(format!("{t} data layers"), |b| {
            b.iter(|| black_box(tessera::mvt::encode(tessera::mvt::data_layers(&all, black_box(t)))))
        });
        group.bench_function(format!("{t} labels layer"), |b| {
            b.iter(|| black_box(tessera::mvt::labels_layer(&all, black_box(t), &label_width)))
        });
    }
    group.finish();
}

criterion_group!(benches, glyphs, tiles);
criterion_main!(benches);
