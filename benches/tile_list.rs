//! tessera on the peers' tile list, one thread: the 630 tiles of `tiles_z8-12.txt` rendered to
//! 256 px PNG, and encoded to MVT, over the synthetic data of `bench/synth.py`.
//! Prints lines that `bench/run.sh` collects beside Mapnik's, geojson-vt's and PostGIS's.
//!
//! Run through `bench/run.sh`, or: `TESSERA_BENCH_DIR=DIR cargo bench --bench tile_list`, where
//! DIR holds the generated GeoJSON files, `tiles_z8-12.txt` and `bench/layers.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark stops loudly on failure")]

use std::path::PathBuf;
use std::time::Instant;

use tessera::layer::load_dir;
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
        let mut bytes = 0;
        for _ in 0..passes {
            let s = Instant::now();
            bytes = 0;
            for &t in &tiles {
                let one = Instant::now();
                bytes += f(t);
                per.push(one.elapsed().as_secs_f64() * 1e3);
            }
            rates.push(tiles.len() as f64 / s.elapsed().as_secs_f64());
        }
        println!(
            "tessera {name}: tiles={} passes={passes} tiles/s per pass: {} median {:.1}; per-tile ms median {:.2} p95 {:.2}; bytes/pass {bytes}",
            tiles.len(),
            rates.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(" "),
            median(rates.clone()),
            median(per.clone()),
            percentile(per, 0.95)
        );
    };
    run("png", &mut |t| render_png(&catalog, &layers, t, Scale::X1, None).unwrap().len());
    run("mvt", &mut |t| tessera::mvt::encode(tessera::mvt::data_layers(&layers, t)).len());

    if let Some(out) = out {
        for &t in &tiles {
            let bytes = tessera::mvt::encode(tessera::mvt::data_layers(&layers, t));
            let d = out.join(t.z().to_string()).join(t.x().to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("{}.mvt", t.y())), bytes).unwrap();
        }
        println!("wrote {} MVT tiles under {}", tiles.len(), out.display());
    }
}
