//! The `tessera` binary: `check` on good and broken geodata, and `render`. The `serve` tests are
//! in `cli_serve.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{Image, decode_png, layer_color, mercator_px};

/// The binary, run from the repository root, with no `TESSERA_*` variable inherited except a
/// data directory of its own, so that no test writes an event store into the repository.
pub fn tessera() -> Command {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("TESSERA_") {
            cmd.env_remove(var);
        }
    }
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    cmd.env("TESSERA_DATA", scratch(&format!("data-{}-{n}", std::process::id())));
    cmd
}

/// Runs to the end; returns the output and stderr as text.
pub fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().expect("tessera runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

/// An empty directory of its own for one test, under Cargo's scratch directory for tests.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A GeoJSON FeatureCollection whose first feature is valid and whose second is `bad`.
fn collection_with(bad: &str) -> String {
    let good = r#"{"type":"Feature","id":"ok","properties":{},"geometry":{"type":"Point","coordinates":[36.8,36.2]}}"#;
    format!(r#"{{"type":"FeatureCollection","features":[{good},{bad}]}}"#)
}

/// Broken files: (file name, content, what stderr must say besides the file name).
pub fn broken_files() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let f = |id: &str, geometry: &str| {
        collection_with(&format!(r#"{{"type":"Feature","id":"{id}","properties":{{}},"geometry":{geometry}}}"#))
    };
    vec![
        ("unparsable.geojson", r#"{"type":"FeatureCollection","features":[}"#.into(), vec!["not valid JSON", "line 1"]),
        (
            "latitude.geojson",
            f("north", r#"{"type":"Point","coordinates":[36.8,95.0]}"#),
            vec!["feature 1", "north", "95", "out of range"],
        ),
        (
            "unclosed.geojson",
            f("open", r#"{"type":"Polygon","coordinates":[[[36,36],[37,36],[37,37],[36,37]]]}"#),
            vec!["feature 1", "open", "not closed"],
        ),
        (
            "short-ring.geojson",
            f("tiny", r#"{"type":"Polygon","coordinates":[[[36,36],[37,36],[36,36]]]}"#),
            vec!["feature 1", "tiny", "3 position", "at least 4"],
        ),
        (
            "collection.geojson",
            f("gc", r#"{"type":"GeometryCollection","geometries":[]}"#),
            vec!["feature 1", "gc", "GeometryCollection"],
        ),
        (
            "null-geometry.geojson",
            collection_with(r#"{"type":"Feature","properties":{},"geometry":null}"#),
            vec!["feature 1", "no geometry"],
        ),
        (
            "top-level.geojson",
            r#"{"type":"Point","coordinates":[36.8,36.2]}"#.into(),
            vec!["FeatureCollection", "Point"],
        ),
    ]
}

#[test]
fn check_accepts_the_default_geodata() {
    let (out, stderr) = run(tessera().args(["check", "--geodata", "geodata"]));
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("13 layers"), "{stdout}");
}

#[test]
fn check_refuses_broken_files_naming_file_feature_and_reason() {
    for (file, content, says) in broken_files() {
        let dir = scratch(&format!("check-{file}"));
        std::fs::write(dir.join(file), content).expect("write");
        let (out, stderr) = run(tessera().arg("check").arg("--geodata").arg(&dir));
        assert!(!out.status.success(), "{file} passed the check");
        for s in std::iter::once(file).chain(says) {
            assert!(stderr.contains(s), "{file}: {stderr:?} does not say {s:?}");
        }
    }
}

/// Pixel position of a point in tile `z/x/y`.
pub fn at(lon: f64, lat: f64, z: u8, x: u32, y: u32) -> (u32, u32) {
    let (gx, gy) = mercator_px(lon, lat, z);
    ((gx - 256.0 * f64::from(x)) as u32, (gy - 256.0 * f64::from(y)) as u32)
}

fn render(args: &[&str], out: &Path) -> Image {
    let (o, stderr) = run(tessera().arg("render").args(args).arg("-o").arg(out));
    assert!(o.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), out.display().to_string());
    decode_png(&std::fs::read(out).expect("the PNG was written"))
}

#[test]
fn render_writes_a_tile_at_either_scale() {
    let dir = scratch("render");
    let (x, y) = at(36.817, 36.233, 12, 2466, 1605);
    let fill = layer_color("report-places", "fill");
    let one = render(&["12/2466/1605", "--geodata", "geodata"], &dir.join("t.png"));
    assert_eq!((one.width, one.height), (256, 256));
    assert!(crate::common::close(one.pixel(x, y), fill, 8), "Termanin");
    let two = render(&["12/2466/1605", "--geodata", "geodata", "--scale", "2"], &dir.join("t2.png"));
    assert_eq!((two.width, two.height), (512, 512));
    assert!(crate::common::close(two.pixel(2 * x, 2 * y), fill, 8), "Termanin");
}

#[test]
fn render_refuses_bad_tiles_and_layers_with_one_line() {
    let dir = scratch("render-bad");
    for (args, names) in
        [(vec!["12/99999/0"], "99999"), (vec!["1/0/0", "--layers", "nope"], "nope"), (vec!["1/0"], "1/0")]
    {
        let out = dir.join("never.png");
        let (o, stderr) = run(tessera().arg("render").args(&args).args(["--geodata", "geodata"]).arg("-o").arg(&out));
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("tessera: ") && stderr.contains(names), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}
