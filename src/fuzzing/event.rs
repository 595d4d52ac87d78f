//! Event bodies: the nesting check, validation of single events and batches, and merge patches.

use serde_json::Value;

use crate::events::{
    DatePrecision, Event, EventInput, EventKind, LocationPrecision, MAX_ITEM, MAX_LIST, MAX_TEXT, MAX_TITLE, TimeSpan,
    valid_id,
};
use crate::http::events::nesting;
use crate::service::merge_patch;
use crate::tile::LonLat;

/// Reads `data` as a request body of the events API and checks: the nesting counted before
/// parsing is at least the depth parsed; a body is validated as one event, or as a batch when it is
/// a FeatureCollection; and, as the body of a PATCH, it is merged into a stored event
/// (RFC 7396, which is idempotent) and the result validated. A valid event satisfies every
/// limit, and the Feature the server writes for it is accepted again as the same event; a
/// refused event names at least one field, each under the batch prefix.
pub fn event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let depth = nesting(text);
    let Ok(body) = serde_json::from_str::<Value>(text) else { return };
    // Never less than the depth parsed, or a body deeper than the limit would get through; it
    // can be more, when a repeated key drops a deeper value.
    assert!(depth >= depth_of(&body), "nesting() counted {depth} levels, the body has {}", depth_of(&body));
    match body.get("features").and_then(Value::as_array) {
        Some(features) if body.get("type").and_then(Value::as_str) == Some("FeatureCollection") => {
            for (i, f) in features.iter().enumerate() {
                check(f, &format!("features[{i}]."));
            }
        }
        _ => check(&body, ""),
    }
    let mut doc = stored("patched").to_feature();
    merge_patch(&mut doc, &body);
    let once = doc.clone();
    merge_patch(&mut doc, &body);
    assert_eq!(doc, once, "a merge patch applied twice differs from once");
    check(&doc, "");
}

fn check(v: &Value, prefix: &str) {
    match EventInput::from_feature(v, prefix) {
        Ok(e) => valid(&e, prefix),
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for e in &errors {
                assert!(e.field.starts_with(prefix), "field {} lacks the prefix {prefix}", e.field);
                // The field is empty when the body as a whole is wrong.
                assert!(e.field.len() <= super::MAX_MESSAGE, "a field name of {} bytes", e.field.len());
                super::short_message(&e.problem);
            }
        }
    }
}

fn valid(e: &EventInput, prefix: &str) {
    let TimeSpan { start, end } = e.span;
    assert!(start <= end && start != i64::MIN && end != i64::MAX, "time span {start}..{end}");
    assert_eq!(TimeSpan::parse_event(&e.time), Ok(e.span), "the time does not parse again to its span");
    let p = e.position;
    assert!((-180.0..=180.0).contains(&p.lon) && (-90.0..=90.0).contains(&p.lat), "position {p:?}");
    assert!(!e.title.trim().is_empty() && e.title.chars().count() <= MAX_TITLE, "title {:.80}", e.title);
    assert!(e.title_ar.as_ref().is_none_or(|t| t.chars().count() <= MAX_TITLE), "title_ar too long");
    assert!(e.description.as_ref().is_none_or(|t| t.chars().count() <= MAX_TEXT), "description too long");
    for list in [&e.actors, &e.sources] {
        assert!(list.len() <= MAX_LIST, "a list of {} items", list.len());
        assert!(list.iter().all(|s| !s.trim().is_empty() && s.chars().count() <= MAX_ITEM), "a bad list item");
    }
    assert!(e.id.as_deref().is_none_or(valid_id), "id {:?}", e.id);
    let id = e.id.clone().unwrap_or_else(|| "fuzz".into());
    let written = Event { input: e.clone(), ..stored(&id) }.to_feature();
    let expected = EventInput { id: Some(id), ..e.clone() };
    assert_eq!(EventInput::from_feature(&written, prefix), Ok(expected), "the written event {written}");
}

/// A stored event as the server keeps it, for patches and for writing events back out.
fn stored(id: &str) -> Event {
    let input = EventInput {
        id: None,
        position: LonLat::new(36.817, 36.233),
        time: "2020-02-18".into(),
        // 2020-02-18, the whole day in UTC.
        span: TimeSpan { start: 1_581_984_000, end: 1_581_984_000 + 86_399 },
        kind: EventKind::Airstrike,
        title: "Air strike on Termanin".into(),
        title_ar: None,
        description: None,
        actors: Vec::new(),
        killed: Some(3),
        injured: None,
        displaced: None,
        sources: vec!["https://example.org/report".into()],
        location_precision: LocationPrecision::Town,
        date_precision: Some(DatePrecision::Day),
    };
    Event { id: id.into(), input, created: 1, updated: 2, version: 1 }
}

/// How deep arrays and objects nest: 0 for a scalar.
fn depth_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}
