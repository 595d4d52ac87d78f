//! The fields of an event, in one table: what each holds, whether a client must give it,
//! whether the server keeps it, whether vector tiles carry it. Everything that lists the
//! fields reads this table: the check for unknown properties, the GeoJSON an event is served
//! as, the properties of the MVT `events` layer and the vector TileJSON's `fields`, and the
//! JSON Schema of the API definition and the queryables. Validation of each field's value is
//! written out in `model`, with the limits named here.

use serde_json::Value;

use super::model::{DatePrecision, Event, EventKind, LocationPrecision, MAX_TEXT, MAX_TITLE};
use super::time::format_timestamp;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An id: 1-128 characters of `A-Z a-z 0-9 . _ -`.
    Id,
    /// A date, date-time or interval (RFC 3339 / ISO 8601).
    Time,
    /// Text of at most this many characters.
    Text(usize),
    /// A list of at most [`super::MAX_LIST`] texts of [`super::MAX_ITEM`] characters each.
    List,
    /// A non-negative whole number, or null when not known.
    Count,
    /// One of these values.
    Enum(&'static [&'static str]),
    /// A time the server keeps (RFC 3339 date-time).
    Timestamp,
}

impl FieldKind {
    /// The Mapbox Vector Tile field type of a value of this kind.
    pub const fn mvt_type(self) -> &'static str {
        match self {
            Self::Count => "Number",
            Self::Id | Self::Time | Self::Text(_) | Self::List | Self::Enum(_) | Self::Timestamp => "String",
        }
    }
}

/// One field of an event's properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name in `properties`.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
    /// A client must give it.
    pub required: bool,
    /// The server sets it; a client's value is ignored.
    pub server_kept: bool,
    /// Vector tiles carry it on a single event.
    pub in_tiles: bool,
    /// What it means.
    pub doc: &'static str,
}

const fn field(name: &'static str, kind: FieldKind, doc: &'static str) -> Field {
    Field { name, kind, required: false, server_kept: false, in_tiles: false, doc }
}

const fn required(f: Field) -> Field {
    Field { required: true, ..f }
}

const fn tiled(f: Field) -> Field {
    Field { in_tiles: true, ..f }
}

const fn kept(f: Field) -> Field {
    Field { server_kept: true, ..f }
}

/// Every field, in the order an event's properties are written.
pub const FIELDS: [Field; 15] = [
    tiled(field("id", FieldKind::Id, "chosen by the client, else a UUID made by the server")),
    tiled(required(field(
        "time",
        FieldKind::Time,
        "an RFC 3339 date (2020-02-18, its whole UTC day) or date-time, or an ISO 8601 interval start/end",
    ))),
    tiled(required(field("kind", FieldKind::Enum(EventKind::NAMES), "what happened"))),
    tiled(required(field("title", FieldKind::Text(MAX_TITLE), "a short title"))),
    field("title_ar", FieldKind::Text(MAX_TITLE), "the title in Arabic"),
    field("description", FieldKind::Text(MAX_TEXT), "a longer account"),
    field("actors", FieldKind::List, "who did it, who was involved"),
    tiled(field("killed", FieldKind::Count, "people killed; null when not known")),
    tiled(field("injured", FieldKind::Count, "people injured; null when not known")),
    tiled(field("displaced", FieldKind::Count, "people displaced; null when not known")),
    field("sources", FieldKind::List, "URLs or citations"),
    tiled(required(field(
        "location_precision",
        FieldKind::Enum(LocationPrecision::NAMES),
        "how far the point can be trusted; region: it only stands for somewhere in the region",
    ))),
    field("date_precision", FieldKind::Enum(DatePrecision::NAMES), "how far the time can be trusted"),
    kept(field("created", FieldKind::Timestamp, "when the server first stored the event")),
    kept(field("updated", FieldKind::Timestamp, "when the server last changed the event")),
];

/// Names a client may send besides the fields: the version, which the server keeps (the ETag
/// says it) and ignores on input, so that an event read can be written back as it is.
pub const IGNORED: [&str; 1] = ["version"];

/// The field of this name.
pub fn field_named(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

impl Event {
    /// The value of a field as the event's GeoJSON writes it; `None` for a field it leaves out
    /// (an optional one not given).
    pub fn field(&self, name: &str) -> Option<Value> {
        let i = &self.input;
        match name {
            "id" => Some(Value::from(self.id.clone())),
            "time" => Some(Value::from(i.time.clone())),
            "kind" => Some(Value::from(i.kind.as_str())),
            "title" => Some(Value::from(i.title.clone())),
            "title_ar" => i.title_ar.clone().map(Value::from),
            "description" => i.description.clone().map(Value::from),
            "actors" => Some(Value::from(i.actors.clone())),
            "killed" => i.killed.map(Value::from),
            "injured" => i.injured.map(Value::from),
            "displaced" => i.displaced.map(Value::from),
            "sources" => Some(Value::from(i.sources.clone())),
            "location_precision" => Some(Value::from(i.location_precision.as_str())),
            "date_precision" => i.date_precision.map(|d| Value::from(d.as_str())),
            "created" => Some(Value::from(format_timestamp(self.created))),
            "updated" => Some(Value::from(format_timestamp(self.updated))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_value_on_a_full_event_and_no_other_name_does() {
        let feature = serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36.817, 36.233]},
            "properties": {"time": "2020-02-18", "kind": "airstrike", "title": "t", "title_ar": "ع",
                "description": "d", "actors": ["a"], "killed": 1, "injured": 2, "displaced": 3,
                "sources": ["s"], "location_precision": "town", "date_precision": "day"},
        });
        let input = super::super::EventInput::from_feature(&feature, "").unwrap_or_else(|e| unreachable!("{e:?}"));
        let e = Event { id: "e".into(), input, created: 0, updated: 0, version: 1 };
        for f in FIELDS {
            assert!(e.field(f.name).is_some(), "{}", f.name);
        }
        assert_eq!(e.field("kiled"), None);
        assert!(FIELDS.iter().all(|f| !(f.required && f.server_kept)));
    }
}
