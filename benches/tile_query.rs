//! Fetching what one tile shows, from a small layer and from a large one.
//!
//! The claim under test: a tile's query costs in proportion to what the tile shows, not to the
//! size of the layer. The large layers come from `bench/synth.py` (50,000 event
//! points, 2,000 roads, 500 districts; fixed seed), generated into `target/bench-data` on first
//! run, or read from `TESSERA_BENCH_DATA`. A brute-force scan of the same layer is measured
//! beside the index for scale.
//!
//! Run: `cargo bench --bench tile_query`.

#![allow(clippy::panic, clippy::unwrap_used, reason = "a benchmark stops loudly when its data is missing")]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera::layer::{Catalog, Layer, load_dir};
use tessera::render::{Scale, render_png};
use tessera::tile::TileCoord;

fn bench_data() -> PathBuf {
    if let Some(dir) = std::env::var_os("TESSERA_BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/bench-data");
    if !dir.join("events.geojson").exists() {
        let script = root.join("bench/synth.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg("--out")
            .arg(&dir)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(status.success(), "bench/synth.py failed");
    }
    // Only the GeoJSON layers, without a manifest: default styles.
    let layers = dir.join("layers");
    std::fs::create_dir_all(&layers).unwrap_or_else(|e| panic!("{}: {e}", layers.display()));
    for f in ["events.geojson", "roads.geojson", "districts.geojson"] {
        if !layers.join(f).exists() {
            std::fs::copy(dir.join(f), layers.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }
    layers
}

fn layer<'a>(c: &'a Catalog, id: &str) -> &'a Layer {
    c.layer(id).unwrap_or_else(|| panic!("no layer {id}"))
}

fn brute_force(l: &Layer, tile: TileCoord) -> usize {
    let b = tile.bounds();
    l.features().iter().filter(|f| f.shape.bounds().intersects(&b)).count()
}

fn tile_features(c: &mut Criterion) {
    let small = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).unwrap_or_else(|e| panic!("{e}"));
    let large = load_dir(&bench_data()).unwrap_or_else(|e| panic!("{e}"));
    // Termanin's tile at z12 and Idlib's at z10.
    let t12: TileCoord = "12/2466/1605".parse().unwrap_or_else(|e| panic!("{e}"));
    let t10: TileCoord = "10/616/402".parse().unwrap_or_else(|e| panic!("{e}"));

    let cases = [
        ("default towns (1,683 points)", layer(&small, "towns")),
        ("default report-places (10 points)", layer(&small, "report-places")),
        ("synthetic events (50,000 points)", layer(&large, "events")),
        ("synthetic roads (2,000 lines)", layer(&large, "roads")),
        ("synthetic districts (500 polygons)", layer(&large, "districts")),
    ];
    let mut group = c.benchmark_group("tile_features");
    for (name, l) in cases {
        for t in [t12, t10] {
            eprintln!("{name} at {t}: {} features in the tile", l.query(&t.bounds()).len());
            group.bench_function(format!("{name}, index, {t}"), |b| {
                b.iter(|| black_box(l.query(&black_box(t).bounds())))
            });
        }
    }
    let events = layer(&large, "events");
    group.bench_function(format!("synthetic events (50,000 points), brute force, {t12}"), |b| {
        b.iter(|| black_box(brute_force(events, black_box(t12))))
    });
    group.finish();

    // The golden tiles of tests/integration/golden.rs, then a tile of the synthetic data.
    let mut group = c.benchmark_group("render_png");
    let all = small.select(None).unwrap();
    for (tile, scale) in [
        ("6/38/25", Scale::X1),
        ("6/38/25", Scale::X2),
        ("9/308/201", Scale::X1),
        ("12/2466/1605", Scale::X1),
        ("12/2467/1604", Scale::X1),
    ] {
        let t: TileCoord = tile.parse().unwrap();
        group.bench_function(format!("default data, golden {t} {scale:?}"), |b| {
            b.iter(|| black_box(render_png(&small, &all, black_box(t), scale, None)))
        });
    }
    let all_large = large.select(None).unwrap();
    group.bench_function(format!("synthetic data, all layers, {t12}"), |b| {
        b.iter(|| black_box(render_png(&large, &all_large, black_box(t12), Scale::X1, None)))
    });
    group.finish();
}

criterion_group!(benches, tile_features);
criterion_main!(benches);
