//! Vector tiles of the default data, polygons and all: the cost of slicing, clipping, snapping,
//! making polygons valid (`geom::valid_polygons`) and encoding one tile, from the whole world
//! at zoom 0 (every country of `world-countries`, some crossing themselves in the file) to a
//! zoom-12 tile of governorate and country edges.
//!
//! Shapes are simplified per zoom on first use and kept, so after the first iteration the
//! numbers are those of a warm server. Run: `cargo bench --bench mvt_tiles`.

#![allow(clippy::unwrap_used, reason = "a benchmark stops loudly when its data is missing")]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera::layer::load_dir;
use tessera::mvt::{data_layers, encode};
use tessera::tile::TileCoord;

fn mvt_tiles(c: &mut Criterion) {
    let catalog = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).unwrap();
    let all = catalog.select(None).unwrap();
    let mut group = c.benchmark_group("mvt");
    for tile in ["0/0/0", "3/4/3", "6/38/25", "9/308/201", "12/2466/1605"] {
        let t: TileCoord = tile.parse().unwrap();
        group.bench_function(format!("{t} all layers"), |b| {
            b.iter(|| black_box(encode(data_layers(&all, black_box(t)))))
        });
    }
    group.finish();
}

criterion_group!(benches, mvt_tiles);
criterion_main!(benches);
