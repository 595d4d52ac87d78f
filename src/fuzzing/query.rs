//! Query strings: the parameters of items, overlays, tiles and the map pages.

use std::sync::OnceLock;

use crate::events::{EventKind, TimeSpan};
use crate::http::query::{Query, parse_bbox, parse_count, parse_datetime, parse_kinds, parse_limit, query_pairs};
use crate::http::web::params::View;
use crate::layer::{Catalog, Layer, LayerMeta};
use crate::style::StyleSpec;
use crate::tile::{LonLatBBox, MAX_LATITUDE};

/// A server's largest `limit` (the properties checked hold for any).
const MAX_LIMIT: usize = 500;
/// A server's maximum zoom (the properties checked hold for any).
const MAX_ZOOM: u8 = 16;

/// Reads `data` as a raw query string. Every value is tried with every parameter parser,
/// whatever its name, so that one input reaches them all; the whole query is then read as an
/// overlay filter and as the view of a map page. Each accepted value satisfies its type's
/// invariants: boxes are finite, in range, `south <= north`, `west <= east`, split at the
/// antimeridian; limits lie in `1..=max`; time spans do not end before they start; kinds and
/// layers are known ones; a page's view holds only checked values, and its notes never repeat
/// what was sent.
pub fn query(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let pairs = match query_pairs(Some(raw)) {
        Ok(pairs) => pairs,
        Err(e) => {
            super::short_message(&e.to_string());
            assert!(Query::parse(Some(raw)).is_err(), "a tile accepted a query that does not decode");
            return;
        }
    };
    for (_, v) in &pairs {
        bbox(v);
        counts(v);
        datetime(v);
        kinds(v);
        layers(v);
    }
    match Query::parse(Some(raw)).and_then(|q| q.events()) {
        Ok(events) => {
            let f = events.filter();
            assert!(f.time.is_none_or(|t| t.start <= t.end), "overlay time {:?}", f.time);
            assert!(f.kinds.is_none_or(|k| !k.is_empty()), "an empty kind list");
        }
        Err(e) => super::short_message(&e.to_string()),
    }
    page_view(&pairs);
}

fn bbox(v: &str) {
    let boxes = match parse_bbox(v) {
        Ok(b) => b,
        Err(e) => return super::short_message(&e.to_string()),
    };
    for b in &boxes {
        let LonLatBBox { west, south, east, north } = *b;
        assert!(b.to_array().iter().all(|n| n.is_finite()), "bbox {b:?}");
        assert!(-180.0 <= west && west <= east && east <= 180.0, "bbox longitudes {b:?}");
        assert!(-90.0 <= south && south <= north && north <= 90.0, "bbox latitudes {b:?}");
        let r = b.to_world();
        let coords = [r.min.x, r.min.y, r.max.x, r.max.y];
        assert!(coords.iter().all(|c| c.is_finite() && (-1e-9..=1.0 + 1e-9).contains(c)), "bbox {b:?} -> {r:?}");
    }
    match boxes[..] {
        [_] => {}
        [a, b] => {
            assert!(a.east == 180.0 && b.west == -180.0 && a.west > b.east, "an antimeridian split {boxes:?}");
            assert!(a.south == b.south && a.north == b.north, "an antimeridian split {boxes:?}");
        }
        _ => assert!(boxes.len() == 1, "{} boxes for one bbox", boxes.len()),
    }
}

fn counts(v: &str) {
    let count = parse_count("offset", v);
    match (&count, parse_limit(v, MAX_LIMIT)) {
        (Ok(n), Ok(limit)) => assert_eq!(limit, (*n).min(MAX_LIMIT), "limit {v:.40}"),
        (Ok(n), Err(_)) => assert_eq!(*n, 0, "limit {v:.40} refused"),
        (Err(_), Ok(limit)) => assert!(limit == usize::MAX, "limit {v:.40} accepted but not as a count"),
        (Err(e), Err(_)) => super::short_message(&e.to_string()),
    }
    if let Ok(n) = count {
        assert!(v.bytes().all(|b| b.is_ascii_digit()), "count {n} from {v:.40}");
    }
}

fn datetime(v: &str) {
    match parse_datetime("datetime", v) {
        Ok(span) => {
            assert!(span.start <= span.end, "datetime {v:.80}: {span:?}");
            assert_eq!(TimeSpan::parse_filter(v), Ok(span));
            if let Ok(event) = TimeSpan::parse_event(v) {
                assert!(event == span && event.start != i64::MIN && event.end != i64::MAX, "event time {v:.80}");
            }
        }
        Err(e) => {
            super::short_message(&e.to_string());
            assert!(TimeSpan::parse_event(v).is_err(), "an event time {v:.80} that is no filter");
        }
    }
}

fn kinds(v: &str) {
    match parse_kinds(v) {
        Ok(ks) => {
            assert_eq!(ks.len(), v.split(',').count(), "kinds {v:.80}");
            assert!(ks.iter().all(|k| EventKind::parse(k.as_str()) == Some(*k)), "kinds {v:.80}");
        }
        Err(e) => super::short_message(&e.to_string()),
    }
}

fn layers(v: &str) {
    match catalog().select(Some(v)) {
        Ok(chosen) => {
            assert!(!chosen.is_empty(), "no layer chosen by {v:.80}");
            let names: Vec<&str> = v.split(',').map(str::trim).collect();
            assert!(chosen.iter().all(|l| names.contains(&l.meta.id.as_str())), "layers {v:.80}");
        }
        Err(e) => super::short_message(&e.to_string()),
    }
}

fn page_view(pairs: &[(String, String)]) {
    let c = catalog();
    let v = View::parse(pairs, c, MAX_ZOOM);
    assert!(v.lat.is_none_or(|x| x.abs() <= MAX_LATITUDE), "view lat {:?}", v.lat);
    assert!(v.lon.is_none_or(|x| x.abs() <= 180.0), "view lon {:?}", v.lon);
    assert!(v.zoom.is_none_or(|z| z <= MAX_ZOOM), "view zoom {:?}", v.zoom);
    for d in [&v.from, &v.to].into_iter().flatten() {
        let ok = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok_and(|p| p.format("%Y-%m-%d").to_string() == *d);
        assert!(ok, "view date {d:.40}");
    }
    if let (Some(f), Some(t)) = (&v.from, &v.to) {
        assert!(f <= t, "view from {f} after to {t}");
    }
    assert!(v.kinds.iter().flatten().all(|k| EventKind::parse(k).is_some()), "view kinds {:?}", v.kinds);
    assert!(v.data_layers.iter().flatten().all(|id| c.layer(id).is_some()), "view layers {:?}", v.data_layers);
    const NAMES: [&str; 8] = ["lat", "lon", "zoom", "from", "to", "kind", "layers", "from' and 'to"];
    for note in &v.notes {
        let named = NAMES.iter().any(|n| note.starts_with(&format!("'{n}' ")));
        assert!(named && note.len() <= 120, "a note that is not a fixed text: {note:.200}");
    }
}

/// Two empty layers, for `layers=`.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let layer = |id: &str, order| {
            let meta = LayerMeta {
                id: id.into(),
                title: id.into(),
                description: String::new(),
                note: None,
                attribution: String::new(),
                license: String::new(),
                minzoom: 0,
                maxzoom: MAX_ZOOM,
                order,
            };
            Layer::new(meta, Vec::new(), &StyleSpec::default(), &[])
        };
        Catalog::new(None, None, None, None, None, vec![layer("roads", 0), layer("towns", 1)])
    })
}
