//! The cost of place names: the same tiles rendered and encoded without labels and with them
//! in each language.
//!
//! A labelled tile computes the placement of its 1024 px block (4 x 4 tiles) and draws the
//! labels that reach into it. Shaped names are memoised for the process, so after the first
//! iteration the numbers are those of a warm server (the placement itself, the glyph outlines
//! and the label images are computed for every tile).
//!
//! Run: `cargo bench --bench labels`.

#![allow(clippy::unwrap_used, reason = "a benchmark stops loudly when its data is missing")]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera::layer::load_dir;
use tessera::render::label::{PxRect, labels_in};
use tessera::render::{Scale, render_png};
use tessera::style::Lang;
use tessera::tile::TileCoord;

fn labels(c: &mut Criterion) {
    let catalog = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).unwrap();
    let all = catalog.select(None).unwrap();
    let mut group = c.benchmark_group("labels");
    for (tile, scale) in
        [("8/154/100", Scale::X1), ("8/154/100", Scale::X2), ("9/308/201", Scale::X1), ("12/2466/1605", Scale::X1)]
    {
        let t: TileCoord = tile.parse().unwrap();
        for (name, lang) in [("none", None), ("en", Some(Lang::En)), ("ar", Some(Lang::Ar)), ("both", Some(Lang::Both))]
        {
            group.bench_function(format!("{t} {scale:?} labels {name}"), |b| {
                b.iter(|| black_box(render_png(&catalog, &all, black_box(t), scale, lang)))
            });
        }
    }
    // Placement alone (the block's candidates, shaping from the memo, collisions), for the
    // tile's area: the part of a labelled tile that does not depend on the scale.
    for tile in ["8/154/100", "9/308/201", "12/2466/1605"] {
        let t: TileCoord = tile.parse().unwrap();
        let area = PxRect::new(f64::from(t.x()) * 256.0, f64::from(t.y()) * 256.0, 256.0, 256.0);
        group.bench_function(format!("{t} placement only, both"), |b| {
            b.iter(|| black_box(labels_in(&all, t.z(), black_box(area), Lang::Both)))
        });
    }
    group.finish();
}

criterion_group!(benches, labels);
criterion_main!(benches);
