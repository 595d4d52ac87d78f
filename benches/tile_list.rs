//! tessera on the peers' tile list, one thread: the 630 tiles of `tiles_z8-12.txt` rendered to
//! 256 px PNG, and encoded to MVT, over the synthetic data of `bench/synth.py`.
//! Prints lines that `bench/run.sh` collects beside Mapnik's, geojson-vt's and PostGIS's.
//!
//! Then the same list on two threads (each taking the next tile of the list), to see how close
//! two render workers come to twice one, and the mean time per tile at each zoom.
//!
//! Run through `bench/run.sh`, or: `TESSERA_BENCH_DIR=DIR cargo bench --bench tile_list`, where
//! DIR holds the generated GeoJSON files, `tiles_z8-12.txt` and `bench/layers.toml`.
//! `TESSERA_MVT_OUT` and `TESSERA_PNG_OUT` write the tiles of the last pass there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark stops loudly on failure")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tessera::layer::load_dir;

/// The allocator the server's binary uses (src/main.rs), so that the tiles are drawn here as
/// they are there: with glibc's malloc, every 256 KiB canvas was a fresh mmap and its page
/// faults (about 2% of a pass in the kernel).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use tessera::render::{Scale, render_png};
use tessera::tile::TileCoord;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("TESSERA_BENCH_DIR").expect("set TESSERA_BENCH_DIR (see bench/run.sh)"));
    let passes: usize = std::env::var("PASSES").ok().and_then(|p| p.parse().ok()).unwrap_or(3);
    let out = std::env::var_os("TESSERA_MVT_OUT").map(PathBuf::from);
    let png_out = std::env::var_os("TESSERA_PNG_OUT").map(PathBuf::from);
    let t = Instant::now();
    let catalog = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    println!("tessera load+index 3 GeoJSON layers: {:.3} s", t.elapsed().as_secs_f64());
    let tiles: Vec<TileCoord> = std::fs::read_to_string(dir.join("tiles_z8-12.txt"))
        .expect("tile list")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().unwrap())
        .collect();
    let layers = catalog.select(None).unwrap();

    // One warm-up pass, then timed passes, as the Mapnik script does.
    let run = |name: &str, f: &mut dyn FnMut(TileCoord) -> usize| {
        for &t in &tiles {
            f(t);
        }
        let (mut rates, mut per) = (Vec::new(), Vec::new());
        let mut by_zoom: BTreeMap<u8, (f64, usize)> = BTreeMap::new();
        let mut bytes = 0;
        for _ in 0..passes {
            let s = Instant::now();
            bytes = 0;
            for &t in &tiles {
                let one = Instant::now();
                bytes += f(t);
                let ms = one.elapsed().as_secs_f64() * 1e3;
                per.push(ms);
                let z = by_zoom.entry(t.z()).or_default();
                z.0 += ms;
                z.1 += 1;
            }
            rates.push(tiles.len() as f64 / s.elapsed().as_secs_f64());
        }
        println!(
            "tessera {name}: tiles={} passes={passes} tiles/s per pass: {} median {:.1}; per-tile ms median {:.2} p90 {:.2} p95 {:.2} p99 {:.2}; bytes/pass {bytes}",
            tiles.len(),
            rates.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(" "),
            median(rates.clone()),
            median(per.clone()),
            percentile(per.clone(), 0.90),
            percentile(per.clone(), 0.95),
            percentile(per, 0.99)
        );
        let zooms: Vec<String> = by_zoom
            .iter()
            .map(|(z, (ms, n))| {
                format!("z{z} {:.2} ms x {} tiles = {:.0} ms", ms / *n as f64, n / passes, ms / passes as f64)
            })
            .collect();
        println!("tessera {name} per zoom (mean per tile, tiles, share of a pass): {}", zooms.join("; "));
    };
    let png = |t: TileCoord| render_png(&catalog, &layers, t, Scale::X1, None).unwrap();
    let mvt = |t: TileCoord| tessera::mvt::encode(tessera::mvt::data_layers(&layers, t));
    // TESSERA_BENCH_ONLY=png or =mvt measures one of the two (for a profile of one).
    let only = std::env::var("TESSERA_BENCH_ONLY").unwrap_or_default();
    let (do_png, do_mvt) = (only != "mvt", only != "png");
    if do_png {
        run("png", &mut |t| png(t).len());
    }
    if do_mvt {
        run("mvt", &mut |t| mvt(t).len());
    }

    // Both cores: two threads share the list, each taking the next tile.
    let two = |name: &str, f: &(dyn Fn(TileCoord) -> usize + Sync)| {
        let mut rates = Vec::new();
        for _ in 0..passes {
            let next = AtomicUsize::new(0);
            let s = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        while let Some(&t) = tiles.get(next.fetch_add(1, Ordering::Relaxed)) {
                            f(t);
                        }
                    });
                }
            });
            rates.push(tiles.len() as f64 / s.elapsed().as_secs_f64());
        }
        println!(
            "tessera {name} two threads: tiles/s per pass: {} median {:.1}",
            rates.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(" "),
            median(rates.clone())
        );
    };
    if do_png {
        two("png", &|t| png(t).len());
    }
    if do_mvt {
        two("mvt", &|t| mvt(t).len());
    }

    if let Some(dir) = png_out {
        write_all(&dir, &tiles, "png", &png);
    }

    if let Some(out) = out {
        write_all(&out, &tiles, "mvt", &mvt);
    }
}

/// Writes each tile as `dir/z/x/y.ext`.
fn write_all(dir: &Path, tiles: &[TileCoord], ext: &str, f: &dyn Fn(TileCoord) -> Vec<u8>) {
    for &t in tiles {
        let d = dir.join(t.z().to_string()).join(t.x().to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{}.{ext}", t.y())), f(t)).unwrap();
    }
    println!("wrote {} {} tiles under {}", tiles.len(), ext.to_uppercase(), dir.display());
}
