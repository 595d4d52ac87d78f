//! A tile's cost follows what the tile shows, not the size of the data set: the peers' tile
//! list rendered (PNG) and encoded (MVT) over the synthetic data of `bench/synth.py`, then over
//! the same data with a second copy of every feature moved 4 degrees east, beyond every tile of
//! the list and its margins. The data set doubles; what each tile shows does not. The bench
//! checks that every tile comes out byte for byte the same over both, and prints the time per
//! pass over each, passes taken in turn so that a change in the machine's load falls on both.
//!
//! Run: `TESSERA_BENCH_DIR=DIR cargo bench --bench data_size`, DIR as for `tile_list` (made by
//! `bench/synth.py`, with `bench/layers.toml` copied in). It writes the doubled copy in a
//! temporary directory and removes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark stops loudly on failure")]

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use tessera::layer::{Catalog, load_dir};
use tessera::render::{Scale, render_png};
use tessera::tile::TileCoord;

/// How far east the copy goes, degrees: the data spans 35.8-37.5 E, a zoom-8 tile 1.4 degrees.
const SHIFT: f64 = 4.0;

fn shift(v: &mut Value) {
    match v {
        Value::Array(a) if a.len() >= 2 && a.iter().all(Value::is_number) => {
            a[0] = Value::from(a[0].as_f64().unwrap() + SHIFT);
        }
        Value::Array(a) => a.iter_mut().for_each(shift),
        _ => {}
    }
}

/// The data of `src` with every feature twice: as it is, and moved east.
fn doubled(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.extension().is_some_and(|e| e == "geojson") {
            let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let features = doc["features"].as_array_mut().unwrap();
            let mut copies = features.clone();
            for f in &mut copies {
                shift(&mut f["geometry"]["coordinates"]);
                if let Some(id) = f.get("id").and_then(Value::as_u64) {
                    f["id"] = Value::from(id + 10_000_000);
                }
            }
            features.extend(copies);
            std::fs::write(dst.join(name), serde_json::to_vec(&doc).unwrap()).unwrap();
        } else if path.is_file() {
            std::fs::copy(&path, dst.join(name)).unwrap();
        }
    }
}

fn pass(catalog: &Catalog, tiles: &[TileCoord], png: bool) -> (f64, Vec<Vec<u8>>) {
    let layers = catalog.select(None).unwrap();
    let s = Instant::now();
    let out = tiles
        .iter()
        .map(|&t| {
            if png {
                render_png(catalog, &layers, t, Scale::X1, None).unwrap()
            } else {
                tessera::mvt::encode(tessera::mvt::data_layers(&layers, t))
            }
        })
        .collect();
    (s.elapsed().as_secs_f64() * 1e3, out)
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("TESSERA_BENCH_DIR").expect("set TESSERA_BENCH_DIR (see bench/run.sh)"));
    let passes: usize = std::env::var("PASSES").ok().and_then(|p| p.parse().ok()).unwrap_or(5);
    let tiles: Vec<TileCoord> = std::fs::read_to_string(dir.join("tiles_z8-12.txt"))
        .expect("tile list")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().unwrap())
        .collect();
    let big_dir = std::env::temp_dir().join(format!("tessera-data-size-{}", std::process::id()));
    doubled(&dir, &big_dir);
    let small = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let big = load_dir(&big_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&big_dir).unwrap();
    let count = |c: &Catalog| c.select(None).unwrap().iter().map(|l| l.features().len()).sum::<usize>();
    println!("data-size: {} features, doubled {} (the copy {SHIFT} degrees east)", count(&small), count(&big));
    for (name, png) in [("png", true), ("mvt", false)] {
        // A warm-up pass over each (zooms simplified, tags numbered), and the check.
        let (_, a) = pass(&small, &tiles, png);
        let (_, b) = pass(&big, &tiles, png);
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(
            same,
            tiles.len(),
            "{name}: {} of {} tiles differ over the doubled data",
            tiles.len() - same,
            tiles.len()
        );
        let (mut ts, mut tb) = (Vec::new(), Vec::new());
        for _ in 0..passes {
            ts.push(pass(&small, &tiles, png).0);
            tb.push(pass(&big, &tiles, png).0);
        }
        ts.sort_by(f64::total_cmp);
        tb.sort_by(f64::total_cmp);
        let (ms, mb) = (ts[ts.len() / 2], tb[tb.len() / 2]);
        println!(
            "data-size {name}: {} tiles identical; ms per pass, median of {passes}: data {ms:.0}, doubled data {mb:.0} ({:+.1}%)",
            tiles.len(),
            (mb / ms - 1.0) * 100.0
        );
    }
}
