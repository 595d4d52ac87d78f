//! Golden tiles: a few tiles of the default data rendered and compared with reviewed PNGs in
//! `tests/golden/`.
//!
//! Tolerance: a pixel counts as different when any RGBA channel differs by more than 8; a
//! tile passes when at most 0.5% of its pixels differ. tiny-skia is deterministic on one
//! machine, but its SIMD paths may round anti-aliased edges differently on another CPU.
//!
//! A missing golden fails the test, wherever it runs. Goldens are written only on request: with
//! `TESSERA_BLESS=1` in the environment, every golden that is missing or differs is written
//! (review each, then commit it) and the test passes.
//!
//! These tiles carry the place names in English, as a server draws them by default; the
//! Arabic and two-language tiles are in `labels.rs`.

use std::path::{Path, PathBuf};

use tessera::layer::{Catalog, load_dir};
use tessera::render::{Scale, render_png};
use tessera::style::Lang;
use tessera::tile::TileCoord;

const CHANNEL_TOLERANCE: u8 = 8;
const MAX_DIFFERENT: f64 = 0.005;

/// The default geodata, loaded once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata")).expect("default geodata loads")
    })
}

/// Width, height and RGBA pixels of a PNG.
pub fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgba, "expanded to RGBA");
    (info.width, info.height, buf)
}

/// Renders `tile` with every layer and place names in `labels`, and compares it with the golden
/// `tests/golden/{name}.png`.
pub fn check_golden(name: &str, tile: &str, scale: Scale, labels: Option<Lang>) {
    let tile: TileCoord = tile.parse().expect("tile address");
    let c = catalog();
    let layers = c.select(None).expect("all layers");
    let actual = render_png(c, &layers, tile, scale, labels).expect("renders");
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"));
    let bless = std::env::var_os("TESSERA_BLESS").is_some_and(|v| v == "1");
    if !path.exists() {
        assert!(bless, "golden {} is missing; write it with TESSERA_BLESS=1, review it, and commit it", path.display());
        std::fs::write(&path, &actual).expect("write golden");
        eprintln!("wrote golden {}: review it and commit it", path.display());
        return;
    }
    let expected = std::fs::read(&path).expect("read golden");
    let (w, h, got) = decode(&actual);
    let (ew, eh, want) = decode(&expected);
    assert!(bless || (w, h) == (ew, eh), "{name}: {w}x{h}, the golden is {ew}x{eh}");
    let different = if (w, h) != (ew, eh) { (w * h) as usize } else { 0 };
    let different = different
        + got
            .chunks_exact(4)
            .zip(want.chunks_exact(4))
            .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE))
            .count();
    let share = different as f64 / f64::from(w * h);
    if share > MAX_DIFFERENT && bless {
        std::fs::write(&path, &actual).expect("write golden");
        eprintln!("rewrote golden {} ({different} pixels differed): review it and commit it", path.display());
    } else if share > MAX_DIFFERENT {
        let out = std::env::temp_dir().join(format!("tessera-{name}-actual.png"));
        let _ = std::fs::write(&out, &actual);
        panic!(
            "{name}: {different} pixels ({:.2}%) differ from the golden; actual written to {}",
            share * 100.0,
            out.display()
        );
    }
}

#[test]
fn golden_overview_z6() {
    check_golden("overview-z6-38-25", "6/38/25", Scale::X1, Some(Lang::En));
}

#[test]
fn golden_overview_z6_retina() {
    check_golden("overview-z6-38-25@2x", "6/38/25", Scale::X2, Some(Lang::En));
}

#[test]
fn golden_idlib_z9() {
    check_golden("idlib-z9-308-201", "9/308/201", Scale::X1, Some(Lang::En));
}

#[test]
fn golden_termanin_z12() {
    check_golden("termanin-z12-2466-1605", "12/2466/1605", Scale::X1, Some(Lang::En));
}

#[test]
fn golden_darat_izza_z12() {
    check_golden("darat-izza-z12-2467-1604", "12/2467/1604", Scale::X1, Some(Lang::En));
}

/// Termanin's symbol is drawn at the pixel that Web Mercator gives for 36.817 E, 36.233 N,
/// computed here from the formula, independently of the library's projection code.
#[test]
fn termanin_is_drawn_where_web_mercator_puts_it() {
    let (lon, lat, z) = (36.817f64, 36.233f64, 12);
    let n = f64::from(1u32 << z);
    let wx = (lon + 180.0) / 360.0 * n;
    let lr = lat.to_radians();
    let wy = (1.0 - (lr.tan() + 1.0 / lr.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    let tile = TileCoord::new(z, wx as u64, wy as u64).expect("tile");
    let (px, py) = ((wx.fract() * 256.0) as usize, (wy.fract() * 256.0) as usize);

    let c = catalog();
    let places = c.select(Some("report-places")).expect("layer");
    let (w, _, pixels) = decode(&render_png(c, &places, tile, Scale::X1, None).expect("renders"));
    let at = |x: usize, y: usize| {
        let i = (y * w as usize + x) * 4;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    // The report-places style fills its circles with #922b21 (geodata/layers.toml); around
    // them, with this one layer chosen, is the background.
    let fill = [0x92, 0x2b, 0x21];
    let close = |p: [u8; 3]| p.iter().zip(fill).all(|(a, b)| a.abs_diff(b) <= 24);
    assert!(close(at(px, py)), "pixel ({px},{py}) of {tile} is {:?}, not the place fill", at(px, py));
    // 10 px away (beyond the 8 px symbol) the fill is gone.
    assert!(!close(at(px - 10, py)), "the symbol is larger than its style says");
}
