//! The event model and its validation at the edge.
//!
//! An event arrives as a GeoJSON Feature: a Point and properties. [`EventInput::from_feature`]
//! checks every field and reports every problem, each with the field's name, so that a client
//! can fix them all at once. Server-kept fields (`created`, `updated`) are ignored on input.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields::{FIELDS, IGNORED, field_named};
use super::time::TimeSpan;
use crate::tile::LonLat;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// Every value as written in JSON, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($s),+];

            /// The value as written in JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// The value for its JSON text.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            /// The accepted values, for error messages.
            pub fn list() -> String {
                Self::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

string_enum! {
    /// What happened.
    EventKind {
        /// An air strike or air raid.
        Airstrike = "airstrike",
        /// Artillery or rocket fire.
        Shelling = "shelling",
        /// Fighting on the ground.
        GroundClash = "ground-clash",
        /// People killed or injured, without a single attack to pin them on.
        Casualties = "casualties",
        /// People forced to leave.
        Displacement = "displacement",
        /// A hospital or clinic hit.
        HospitalHit = "hospital-hit",
        /// Negotiations.
        Talks = "talks",
        /// A public statement.
        Statement = "statement",
        /// An agreement signed or announced.
        Agreement = "agreement",
        /// Anything else.
        Other = "other",
    }
}

impl EventKind {
    /// The kind in words, as the legends and the pages show it.
    pub const fn label(self) -> &'static str {
        match self {
            EventKind::Airstrike => "Air strike",
            EventKind::Shelling => "Shelling",
            EventKind::GroundClash => "Ground fighting",
            EventKind::Casualties => "Casualties",
            EventKind::Displacement => "Displacement",
            EventKind::HospitalHit => "Hospital hit",
            EventKind::Talks => "Talks",
            EventKind::Statement => "Statement",
            EventKind::Agreement => "Agreement",
            EventKind::Other => "Other",
        }
    }
}

string_enum! {
    /// How far the point can be trusted.
    LocationPrecision {
        /// The point is where it happened.
        Exact = "exact",
        /// The point is the centre of the named town or village.
        Town = "town",
        /// The point is the centre of the named city.
        City = "city",
        /// The point only stands for "somewhere in this region": never drawn as a location.
        Region = "region",
    }
}

string_enum! {
    /// How far the time can be trusted.
    DatePrecision {
        /// To the minute or better.
        Exact = "exact",
        /// To the hour.
        Hour = "hour",
        /// To the day.
        Day = "day",
        /// To the month.
        Month = "month",
        /// To the year.
        Year = "year",
        /// Somewhere in the stated interval.
        Period = "period",
    }
}

/// Longest `title`, in characters.
pub const MAX_TITLE: usize = 300;
/// Longest `description`, in characters.
pub const MAX_TEXT: usize = 10_000;
/// Most `actors` or `sources`.
pub const MAX_LIST: usize = 100;
/// Most people `killed` or `injured` in one event: above any war's toll in one report, far
/// below the integers a client or a sum could overflow.
pub const MAX_CASUALTIES: u64 = 10_000_000;
/// Most people `displaced` in one event.
pub const MAX_DISPLACED: u64 = 100_000_000;
/// The members a Feature of an event may have; any other is refused, like an unknown property.
pub const FEATURE_MEMBERS: [&str; 5] = ["type", "id", "geometry", "properties", "bbox"];
/// Longest actor or source, in characters.
pub const MAX_ITEM: usize = 2_000;

/// One problem with one field of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, as a path: `geometry.coordinates`, `properties.killed`, `features[3].properties.kind`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

/// A validated event as a client sent it, without the server-kept fields.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    /// Client-chosen id, if any.
    pub id: Option<String>,
    /// Where, in WGS84 degrees.
    pub position: LonLat,
    /// `time` as sent.
    pub time: String,
    /// `time` as a span of seconds.
    pub span: TimeSpan,
    /// What happened.
    pub kind: EventKind,
    /// Short title.
    pub title: String,
    /// Arabic title.
    pub title_ar: Option<String>,
    /// Longer account.
    pub description: Option<String>,
    /// Who did it, who was involved.
    pub actors: Vec<String>,
    /// People killed, when known.
    pub killed: Option<u64>,
    /// People injured, when known.
    pub injured: Option<u64>,
    /// People displaced, when known.
    pub displaced: Option<u64>,
    /// URLs or citations.
    pub sources: Vec<String>,
    /// How far the point can be trusted.
    pub location_precision: LocationPrecision,
    /// How far the time can be trusted.
    pub date_precision: Option<DatePrecision>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Server-kept id.
    pub id: String,
    /// What the client said.
    pub input: EventInput,
    /// When it was first stored, ms since 1970 UTC.
    pub created: i64,
    /// When it was last changed, ms since 1970 UTC.
    pub updated: i64,
    /// Starts at 1, grows by one at every change: the ETag.
    pub version: u64,
}

/// Whether an id can be used in a URL path: 1-128 of `A-Z a-z 0-9 . _ -`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && id != "."
        && id != ".."
}

impl EventInput {
    /// Validates a GeoJSON Feature. Field paths in errors start with `prefix` (empty for a
    /// single feature, `features[3].` in a batch).
    pub fn from_feature(v: &Value, prefix: &str) -> Result<Self, Vec<FieldError>> {
        Self::read(v, prefix, (MAX_CASUALTIES, MAX_DISPLACED))
    }

    /// Reads an event the store holds: as [`EventInput::from_feature`], but with counts of any
    /// size, so that an event stored before the counts were bounded still loads.
    pub fn from_stored(v: &Value) -> Result<Self, Vec<FieldError>> {
        Self::read(v, "", (u64::MAX, u64::MAX))
    }

    /// Validates a Feature with these bounds on (`killed` and `injured`, `displaced`).
    fn read(v: &Value, prefix: &str, (casualties, people): (u64, u64)) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut err =
            |field: &str, problem: String| errs.push(FieldError { field: format!("{prefix}{field}"), problem });
        let Some(obj) = v.as_object() else {
            err("", "must be a GeoJSON Feature object".into());
            return Err(errs);
        };
        if obj.get("type").and_then(Value::as_str) != Some("Feature") {
            err("type", "must be \"Feature\"".into());
        }
        for k in obj.keys().filter(|k| !FEATURE_MEMBERS.contains(&k.as_str())) {
            err(
                &clip(k, 64),
                format!(
                    "unknown member; an event Feature has {} (its fields go in properties)",
                    FEATURE_MEMBERS.join(", ")
                ),
            );
        }
        let position = point(obj.get("geometry"), &mut err);
        let empty = Map::new();
        let props = match obj.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                err("properties", "must be an object".into());
                &empty
            }
            None => {
                err("properties", "is required".into());
                &empty
            }
        };
        for k in props.keys() {
            if field_named(k).is_none() && !IGNORED.contains(&k.as_str()) {
                let takes: Vec<&str> = FIELDS.iter().filter(|f| !f.server_kept).map(|f| f.name).collect();
                err(&format!("properties.{}", clip(k, 64)), format!("unknown field; events take {}", takes.join(", ")));
            }
        }
        let id = match (obj.get("id"), props.get("id")) {
            (Some(Value::String(a)), Some(Value::String(b))) if a != b => {
                err("id", "differs from properties.id".into());
                None
            }
            (Some(Value::String(s)), _) | (None | Some(Value::Null), Some(Value::String(s))) => Some(s.clone()),
            (None | Some(Value::Null), None | Some(Value::Null)) => None,
            _ => {
                err("id", "must be a string".into());
                None
            }
        };
        if let Some(id) = &id
            && !valid_id(id)
        {
            err("id", "must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'".into());
        }
        let time_text = text(props, "time", true, 200, &mut err);
        let span = time_text.as_deref().and_then(|t| match TimeSpan::parse_event(t) {
            Ok(s) => Some(s),
            Err(e) => {
                err("properties.time", e.to_string());
                None
            }
        });
        let kind = enum_field(props, "kind", true, EventKind::parse, EventKind::list, &mut err);
        let title = text(props, "title", true, MAX_TITLE, &mut err);
        let title_ar = text(props, "title_ar", false, MAX_TITLE, &mut err);
        let description = text(props, "description", false, MAX_TEXT, &mut err);
        let actors = list(props, "actors", &mut err);
        let sources = list(props, "sources", &mut err);
        let killed = count(props, "killed", casualties, &mut err);
        let injured = count(props, "injured", casualties, &mut err);
        let displaced = count(props, "displaced", people, &mut err);
        let location_precision =
            enum_field(props, "location_precision", true, LocationPrecision::parse, LocationPrecision::list, &mut err);
        let date_precision =
            enum_field(props, "date_precision", false, DatePrecision::parse, DatePrecision::list, &mut err);
        match (position, time_text, span, kind, title, location_precision) {
            (Some(position), Some(time), Some(span), Some(kind), Some(title), Some(location_precision))
                if errs.is_empty() =>
            {
                Ok(Self {
                    id,
                    position,
                    time,
                    span,
                    kind,
                    title,
                    title_ar,
                    description,
                    actors,
                    killed,
                    injured,
                    displaced,
                    sources,
                    location_precision,
                    date_precision,
                })
            }
            _ => Err(errs),
        }
    }

    /// Killed plus injured, the figure symbols and clusters are sized by.
    pub fn casualties(&self) -> u64 {
        self.killed.unwrap_or(0).saturating_add(self.injured.unwrap_or(0))
    }
}

impl Event {
    /// A new event of `input`, created at `now` (ms since the epoch) as version 1: its own id
    /// when the input names one, else a fresh UUID. Every store makes its inserts with it.
    pub fn new(input: EventInput, now: i64) -> Self {
        let id = input.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Event { id: id.clone(), input: EventInput { id: Some(id), ..input }, created: now, updated: now, version: 1 }
    }

    /// The event as a GeoJSON Feature, with the server-kept fields.
    pub fn to_feature(&self) -> Value {
        let p: Map<String, Value> =
            FIELDS.iter().filter_map(|f| Some((f.name.to_owned(), self.field(f.name)?))).collect();
        let at = self.input.position;
        serde_json::json!({
            "type": "Feature",
            "id": self.id,
            "geometry": { "type": "Point", "coordinates": [at.lon, at.lat] },
            "properties": p,
        })
    }

    /// The strong ETag of this version of the event.
    pub fn etag(&self) -> String {
        format!("\"{}-v{}\"", self.id, self.version)
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn point(g: Option<&Value>, err: &mut impl FnMut(&str, String)) -> Option<LonLat> {
    let Some(g) = g.filter(|g| !g.is_null()) else {
        err("geometry", "is required: a GeoJSON Point".into());
        return None;
    };
    if g.get("type").and_then(Value::as_str) != Some("Point") {
        err("geometry.type", "must be \"Point\"".into());
        return None;
    }
    let nums: Option<Vec<f64>> = g
        .get("coordinates")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
        .unwrap_or(None);
    match nums.as_deref() {
        Some([lon, lat, ..]) if nums.as_ref().is_some_and(|n| n.len() <= 3) => {
            let (lon, lat) = (*lon, *lat);
            if !lon.is_finite() || !lat.is_finite() {
                err("geometry.coordinates", "must be finite numbers".into());
                None
            } else if !(-180.0..=180.0).contains(&lon) {
                err("geometry.coordinates", format!("longitude {lon} is outside -180..180"));
                None
            } else if !(-90.0..=90.0).contains(&lat) {
                err("geometry.coordinates", format!("latitude {lat} is outside -90..90"));
                None
            } else {
                Some(LonLat::new(lon, lat))
            }
        }
        _ => {
            err("geometry.coordinates", "must be [longitude, latitude] in degrees".into());
            None
        }
    }
}

fn text(
    p: &Map<String, Value>,
    k: &str,
    required: bool,
    max: usize,
    err: &mut impl FnMut(&str, String),
) -> Option<String> {
    let field = format!("properties.{k}");
    match p.get(k) {
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            err(&field, "must not be empty".into());
            None
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            err(&field, format!("is longer than {max} characters"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            err(&field, "is required".into());
            None
        }
        Some(_) => {
            err(&field, "must be a string".into());
            None
        }
    }
}

fn list(p: &Map<String, Value>, k: &str, err: &mut impl FnMut(&str, String)) -> Vec<String> {
    let field = format!("properties.{k}");
    match p.get(k) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.len() > MAX_LIST => {
            err(&field, format!("has more than {MAX_LIST} items"));
            Vec::new()
        }
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_str() {
                Some(s) if !s.trim().is_empty() && s.chars().count() <= MAX_ITEM => Some(s.to_owned()),
                _ => {
                    err(
                        &format!("{field}[{i}]"),
                        format!("must be a non-empty string of at most {MAX_ITEM} characters"),
                    );
                    None
                }
            })
            .collect(),
        Some(_) => {
            err(&field, "must be an array of strings".into());
            Vec::new()
        }
    }
}

fn count(p: &Map<String, Value>, k: &str, max: u64, err: &mut impl FnMut(&str, String)) -> Option<u64> {
    let n = match p.get(k) {
        None | Some(Value::Null) => return None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        // 3.0 is a whole number too, as JSON does not tell them apart.
        Some(Value::Number(n)) => {
            n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= max as f64).map(|f| f as u64)
        }
        Some(_) => None,
    };
    match n {
        Some(n) if n <= max => Some(n),
        Some(_) => {
            err(&format!("properties.{k}"), format!("is more than {max}, the most one event can hold"));
            None
        }
        None => {
            err(&format!("properties.{k}"), format!("must be a whole number from 0 to {max}, or null when not known"));
            None
        }
    }
}

fn enum_field<T>(
    p: &Map<String, Value>,
    k: &str,
    required: bool,
    parse: fn(&str) -> Option<T>,
    list: fn() -> String,
    err: &mut impl FnMut(&str, String),
) -> Option<T> {
    let field = format!("properties.{k}");
    match p.get(k) {
        Some(Value::String(s)) => parse(s).or_else(|| {
            err(&field, format!("'{}' is not one of: {}", clip(s, 40), list()));
            None
        }),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            err(&field, format!("is required: one of {}", list()));
            None
        }
        Some(_) => {
            err(&field, format!("must be a string: one of {}", list()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn termanin() -> Value {
        json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [36.817, 36.233] },
            "properties": {
                "time": "2020-02-18", "kind": "airstrike", "title": "Air strike on Termanin",
                "killed": 3, "injured": 9, "sources": ["https://example.org/report"],
                "location_precision": "town", "date_precision": "day"
            }
        })
    }

    #[test]
    fn a_good_event_round_trips() {
        let e = EventInput::from_feature(&termanin(), "").unwrap();
        assert_eq!(e.casualties(), 12);
        let stored = Event { id: "x".into(), input: e.clone(), created: 0, updated: 0, version: 1 };
        let back = EventInput::from_feature(&stored.to_feature(), "").unwrap();
        assert_eq!(back, EventInput { id: Some("x".into()), ..e });
    }

    fn problems(mut v: Value, path: &[&str], bad: Value) -> Vec<FieldError> {
        let mut slot = &mut v;
        for k in &path[..path.len() - 1] {
            slot = &mut slot[*k];
        }
        let last = path[path.len() - 1];
        if bad.is_null() && last != "killed" {
            slot.as_object_mut().unwrap().remove(last);
        } else {
            slot[last] = bad;
        }
        EventInput::from_feature(&v, "").unwrap_err()
    }

    #[test]
    fn counts_are_bounded_on_the_way_in_but_not_when_read_back() {
        let mut v = termanin();
        v["properties"]["killed"] = json!(MAX_CASUALTIES);
        v["properties"]["displaced"] = json!(MAX_DISPLACED);
        assert!(EventInput::from_feature(&v, "").is_ok(), "the bounds themselves");
        v["properties"]["killed"] = json!(u64::MAX);
        assert!(EventInput::from_feature(&v, "").is_err());
        assert_eq!(EventInput::from_stored(&v).ok().and_then(|e| e.killed), Some(u64::MAX), "stored before the bound");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&[&str], Value, &str)> = vec![
            (&["geometry"], Value::Null, "geometry"),
            (&["geometry", "coordinates"], json!([36.8, 95.0]), "geometry.coordinates"),
            (&["geometry", "coordinates"], json!([200.0, 1.0]), "geometry.coordinates"),
            (&["geometry", "coordinates"], json!(["36.8", 36.2]), "geometry.coordinates"),
            (&["geometry", "type"], json!("LineString"), "geometry.type"),
            (&["properties", "kind"], json!("bombing"), "properties.kind"),
            (&["properties", "time"], json!("last tuesday"), "properties.time"),
            (&["properties", "time"], json!("2020-02-01/.."), "properties.time"),
            (&["properties", "killed"], json!(-3), "properties.killed"),
            (&["properties", "killed"], json!(2.5), "properties.killed"),
            (&["properties", "injured"], json!("nine"), "properties.injured"),
            (&["properties", "title"], json!(""), "properties.title"),
            (&["properties", "sources"], json!("one"), "properties.sources"),
            (&["properties", "location_precision"], json!("street"), "properties.location_precision"),
            (&["properties", "kiled"], json!(3), "properties.kiled"),
            (&["properties", "killed"], json!(u64::MAX), "properties.killed"),
            (&["properties", "killed"], json!(MAX_CASUALTIES + 1), "properties.killed"),
            (&["properties", "displaced"], json!(1e12), "properties.displaced"),
            (&["links"], json!([]), "links"),
            (&["Properties"], json!({}), "Properties"),
            (&["type"], json!("FeatureCollection"), "type"),
        ];
        for (path, bad, field) in cases {
            let errs = problems(termanin(), path, bad.clone());
            assert!(errs.iter().any(|e| e.field == field), "{path:?}={bad}: {errs:?}");
        }
    }
}
