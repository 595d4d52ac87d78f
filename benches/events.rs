//! Event store figures: 10k inserts one by one (each a durable commit) and as one batch, items
//! queries by bbox and time over 100k events (p50/p99), and overlay tiles at z6 and z12 with
//! 100k events. A measurement, not a test: it prints what it saw.
//!
//! Run: `cargo bench --bench events` (takes about a minute; uses a scratch directory under
//! `target/`). The events are seeded-random points around Idlib.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark stops loudly on failure")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tessera::events::{EventFilter, EventInput, EventKind, EventStore, LocationPrecision, SqliteStore, TimeSpan};
use tessera::render::{OVERLAY_REACH_PX, Scale, TileImage, encode_png, render_overlay};
use tessera::tile::{LonLat, LonLatBBox, TileCoord};

const KINDS: [EventKind; 5] =
    [EventKind::Airstrike, EventKind::Shelling, EventKind::GroundClash, EventKind::Casualties, EventKind::Displacement];

fn event(rng: &mut ChaCha8Rng) -> EventInput {
    let day = rng.random_range(0..365i64);
    let start = 1_577_836_800 + day * 86_400; // 2020-01-01 + day
    let date = chrono::DateTime::from_timestamp(start, 0).unwrap().format("%Y-%m-%d").to_string();
    EventInput {
        id: None,
        position: LonLat::new(rng.random_range(35.8..37.5), rng.random_range(35.3..36.8)),
        time: date,
        span: TimeSpan { start, end: start + 86_399 },
        kind: KINDS[rng.random_range(0..KINDS.len())],
        title: "synthetic event".into(),
        title_ar: None,
        description: None,
        actors: vec!["someone".into()],
        killed: Some(rng.random_range(0..5)),
        injured: Some(rng.random_range(0..10)),
        displaced: None,
        sources: vec!["https://example.org/source".into()],
        location_precision: if rng.random_range(0..20) == 0 {
            LocationPrecision::Region
        } else {
            LocationPrecision::Town
        },
        date_precision: None,
    }
}

fn fresh(dir: &Path) -> SqliteStore {
    let _ = std::fs::remove_dir_all(dir);
    SqliteStore::open(dir).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let scratch = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-events");
    let mut rng = ChaCha8Rng::seed_from_u64(20_200_218);

    let store = fresh(&scratch.join("one-by-one"));
    let t = Instant::now();
    for _ in 0..10_000 {
        store.insert(vec![event(&mut rng)]).unwrap();
    }
    let one = t.elapsed();
    println!(
        "insert 10k one by one (10k durable commits): {:.2} s, {:.0} events/s",
        one.as_secs_f64(),
        10_000.0 / one.as_secs_f64()
    );

    let store = fresh(&scratch.join("batch"));
    let batch: Vec<EventInput> = (0..10_000).map(|_| event(&mut rng)).collect();
    let t = Instant::now();
    store.insert(batch).unwrap();
    let b = t.elapsed();
    println!(
        "insert 10k as one batch (one commit): {:.3} s, {:.0} events/s",
        b.as_secs_f64(),
        10_000.0 / b.as_secs_f64()
    );

    for _ in 0..90 {
        store.insert((0..1_000).map(|_| event(&mut rng)).collect()).unwrap();
    }
    println!("store now holds {} events", store.len());
    let t = Instant::now();
    drop(store);
    let store: Arc<dyn EventStore> = Arc::new(SqliteStore::open(&scratch.join("batch")).unwrap());
    println!("reopening a 100k store (load + index): {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    // Items queries: a random 0.2 x 0.2 degree box and a random 30-day window, limit 100.
    let mut times = Vec::new();
    let mut returned = 0usize;
    for _ in 0..2_000 {
        let (w, s) = (rng.random_range(35.8..37.3), rng.random_range(35.3..36.6));
        let day = rng.random_range(0..335i64);
        let start = 1_577_836_800 + day * 86_400;
        let filter = EventFilter {
            bbox: Some(vec![LonLatBBox { west: w, south: s, east: w + 0.2, north: s + 0.2 }]),
            time: Some(TimeSpan { start, end: start + 30 * 86_400 }),
            kinds: None,
            ids: None,
        };
        let t = Instant::now();
        let (matched, page) = store.query(&filter, 0, 100);
        times.push(t.elapsed());
        returned += page.len().min(matched);
    }
    times.sort();
    println!(
        "items query, bbox 0.2 deg + 30 days, limit 100, over 100k: p50 {:.1} us, p99 {:.1} us ({} features returned on average)",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        returned / times.len()
    );
    let mut times = Vec::new();
    for _ in 0..200 {
        let day = rng.random_range(0..335i64);
        let start = 1_577_836_800 + day * 86_400;
        let filter = EventFilter {
            bbox: None,
            time: Some(TimeSpan { start, end: start + 30 * 86_400 }),
            kinds: None,
            ids: None,
        };
        let t = Instant::now();
        let _ = store.query(&filter, 0, 100);
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "items query, 30 days, no bbox, limit 100, over 100k: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );

    // Overlay tiles over the area, all events (no filter), fetch + cluster + draw + encode.
    for tile in ["6/38/25", "9/308/201", "12/2466/1605"] {
        let tile: TileCoord = tile.parse().unwrap();
        let mut times = Vec::new();
        let mut markers = 0;
        for _ in 0..30 {
            let t = Instant::now();
            let events = store.select(&tessera::events::fetch_rect(tile, OVERLAY_REACH_PX), &EventFilter::default());
            let m = tessera::events::cluster(&events, tile.z());
            markers = m.len();
            if let TileImage::Drawn(p) = render_overlay(&m, tile, Scale::X1) {
                let _ = encode_png(p).unwrap();
            }
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "overlay tile {tile} with 100k events in the store: median {:.2} ms ({markers} markers in its fetch area)",
            percentile(&times, 0.5).as_secs_f64() * 1e3
        );
    }
}
