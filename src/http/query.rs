//! Query parameters, parsed in one place into typed values: boxes, limits, time windows, kinds,
//! ids, languages and formats. Every bad value is an [`ApiError::InvalidParameter`] naming the
//! parameter and quoting a clipped part of what was sent. The fuzz targets call these parsers
//! directly (`crate::fuzzing::query`).
//!
//! Two rules, by kind of route: a JSON route refuses a parameter it does not take
//! ([`Query::only`]); a tile route ignores one (cache-busting parameters are common on tile URLs).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
use crate::cache::EventSelection;
use crate::events::{EventKind, TimeSpan, valid_id};
use crate::render::TileFormat;
use crate::style::Lang;
use crate::tile::LonLatBBox;

/// Most ids one `ids=` takes: a page of a marker's events, well within the URL limit.
pub const MAX_IDS: usize = 100;

/// A request's query parameters, decoded once, in order.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::parse(parts.uri.query())
    }
}

impl Query {
    /// Decodes a raw query string; malformed encoding is a 400.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        query_pairs(raw).map(Self)
    }

    /// The name-value pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Refuses any parameter but these, naming it and `route`'s parameters.
    pub fn only(&self, takes: &[&str], route: &str) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !takes.contains(&k.as_str())) {
            None => Ok(()),
            Some((k, _)) if takes.is_empty() => {
                Err(ApiError::param(k, format!("unknown parameter; {route} takes none")))
            }
            Some((k, _)) => Err(ApiError::param(k, format!("unknown parameter; {route} takes {}", takes.join(", ")))),
        }
    }

    /// The last value of a parameter (a repeated parameter's last value wins).
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `bbox`: one box in degrees, or two when it crosses the antimeridian.
    pub fn bbox(&self) -> Result<Option<Vec<LonLatBBox>>, ApiError> {
        self.last("bbox").map(parse_bbox).transpose()
    }

    /// `limit`, or `default`; above `max` it is lowered to it.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        self.last("limit").map_or(Ok(default), |v| parse_limit(v, max))
    }

    /// `offset`, or 0.
    pub fn offset(&self) -> Result<usize, ApiError> {
        self.last("offset").map_or(Ok(0), |v| parse_count("offset", v))
    }

    /// `datetime`: an instant, a date or an interval.
    pub fn datetime(&self) -> Result<Option<TimeSpan>, ApiError> {
        self.last("datetime").map(|v| parse_datetime("datetime", v)).transpose()
    }

    /// `kind`: a comma-separated list of event kinds.
    pub fn kinds(&self) -> Result<Option<Vec<EventKind>>, ApiError> {
        self.last("kind").map(parse_kinds).transpose()
    }

    /// `ids`: a comma-separated list of event ids.
    pub fn ids(&self) -> Result<Option<Vec<String>>, ApiError> {
        self.last("ids").map(parse_ids).transpose()
    }

    /// The events a tile asks for: `datetime`, or `from`/`to` (whole days, inclusive, either
    /// open), and `kind`.
    pub fn events(&self) -> Result<EventSelection, ApiError> {
        let time = self.datetime()?;
        let from = self.last("from").filter(|v| !v.is_empty()).map(|v| parse_datetime("from", v)).transpose()?;
        let to = self.last("to").filter(|v| !v.is_empty()).map(|v| parse_datetime("to", v)).transpose()?;
        let time = match (time, from, to) {
            (t, None, None) => t,
            (Some(_), _, _) => return Err(ApiError::param("datetime", "give either datetime or from/to, not both")),
            (None, from, to) => {
                let span = TimeSpan { start: from.map_or(i64::MIN, |f| f.start), end: to.map_or(i64::MAX, |t| t.end) };
                if span.end < span.start {
                    return Err(ApiError::param("to", "is before from"));
                }
                Some(span)
            }
        };
        // On a tile, an empty `kind` (a form's empty field) is no filter.
        let kinds = self.last("kind").filter(|v| !v.is_empty()).map(parse_kinds).transpose()?;
        Ok(EventSelection::new(time, kinds))
    }

    /// `lang`: `en`, `ar`, `both`, or `none` for no place names (`Some(None)`); `None` when
    /// absent.
    pub fn lang(&self) -> Result<Option<Option<Lang>>, ApiError> {
        match self.last("lang") {
            None => Ok(None),
            Some("none") => Ok(Some(None)),
            Some(v) => {
                v.parse::<Lang>().map(|l| Some(Some(l))).map_err(|e| ApiError::param("lang", format!("{e}, or none")))
            }
        }
    }

    /// `format`: the image format of the tiles a TileJSON lists (`png` when absent).
    pub fn format(&self, jpeg_quality: u8) -> Result<TileFormat, ApiError> {
        let Some(v) = self.last("format") else { return Ok(TileFormat::Png) };
        TileFormat::from_extension(v, jpeg_quality)
            .ok_or_else(|| ApiError::param("format", format!("'{}' is not png, webp or jpg", clip(v))))
    }
}

/// Query parameters as name-value pairs; malformed encoding is a 400.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| ApiError::param("query", "the query string is not valid URL encoding"))
}

fn clip(v: &str) -> String {
    v.chars().take(32).collect()
}

/// A `limit`: at least 1; above the maximum it is lowered to it, as OGC API - Features asks.
pub fn parse_limit(v: &str, max_limit: usize) -> Result<usize, ApiError> {
    match parse_count("limit", v)? {
        0 => Err(ApiError::param("limit", "must be at least 1")),
        n => Ok(n.min(max_limit)),
    }
}

/// A non-negative integer parameter.
pub fn parse_count(name: &str, v: &str) -> Result<usize, ApiError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(name, format!("'{}' is not a non-negative integer", clip(v))));
    }
    // Too large for usize means "as many as you have": a huge limit is lowered like any limit
    // above the maximum, and a huge offset is past the end.
    Ok(v.parse().unwrap_or(usize::MAX))
}

/// `minLon,minLat,maxLon,maxLat` (or the six-number form with heights, which are ignored); a
/// box whose west edge is east of its east edge crosses the antimeridian and comes as two.
pub fn parse_bbox(v: &str) -> Result<Vec<LonLatBBox>, ApiError> {
    let bad = |why: &str| ApiError::param("bbox", format!("'{}' {why}", clip(v)));
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("is not a list of numbers"))?;
    let [west, south, east, north] = match nums.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(bad("must have 4 numbers: west,south,east,north")),
    };
    if !nums.iter().all(|n| n.is_finite()) {
        return Err(bad("has a number that is not finite"));
    }
    if ![west, east].iter().all(|x| (-180.0..=180.0).contains(x))
        || ![south, north].iter().all(|y| (-90.0..=90.0).contains(y))
    {
        return Err(bad("is out of range: longitudes -180..180, latitudes -90..90"));
    }
    if south > north {
        return Err(bad("has its south edge north of its north edge"));
    }
    Ok(LonLatBBox::crossing(west, south, east, north))
}

/// A `datetime` (or `from`/`to`) value.
pub fn parse_datetime(name: &str, v: &str) -> Result<TimeSpan, ApiError> {
    TimeSpan::parse_filter(v).map_err(|e| ApiError::param(name, e.to_string()))
}

/// A comma-separated list of kinds.
pub fn parse_kinds(v: &str) -> Result<Vec<EventKind>, ApiError> {
    v.split(',')
        .map(|k| {
            EventKind::parse(k.trim())
                .ok_or_else(|| ApiError::param("kind", format!("'{}' is not one of: {}", clip(k), EventKind::list())))
        })
        .collect()
}

/// `ids`: comma-separated event ids, at most [`MAX_IDS`], each one an id the server could hold.
pub fn parse_ids(v: &str) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
    if ids.len() > MAX_IDS {
        return Err(ApiError::param("ids", format!("at most {MAX_IDS} ids in one request")));
    }
    if let Some(bad) = ids.iter().position(|id| !valid_id(id)) {
        return Err(ApiError::param(
            "ids",
            format!("id {} is not an event id (1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-')", bad + 1),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_forms() {
        assert_eq!(parse_bbox("36,35,37,36").map(|b| b.len()).ok(), Some(1));
        assert_eq!(parse_bbox("170,-10,-170,10").map(|b| b.len()).ok(), Some(2));
        assert_eq!(parse_bbox("36,35,0,37,36,100").map(|b| b.len()).ok(), Some(1));
        for bad in ["", "1,2,3", "a,b,c,d", "0,0,200,1", "0,10,1,5", "0,0,1,inf", "0,0,1,NaN"] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tiles_events_come_from_datetime_or_from_and_to() {
        let q = |s: &str| Query::parse(Some(s)).and_then(|q| q.events());
        assert_eq!(q("").ok(), Some(EventSelection::default()));
        let days = q("from=2020-02-01&to=2020-02-29").ok().and_then(|e| e.time());
        assert!(days.is_some_and(|t| t.end - t.start == 29 * 86_400 - 1), "{days:?}");
        assert!(q("from=2020-02-01").ok().and_then(|e| e.time()).is_some_and(|t| t.end == i64::MAX));
        assert!(q("datetime=2020-02-18&from=2020-02-01").is_err());
        assert!(q("from=2020-02-10&to=2020-02-01").is_err());
        assert!(q("kind=nope").is_err());
        assert_eq!(
            q("kind=shelling,airstrike,shelling").ok(),
            q("kind=airstrike,shelling").ok(),
            "kinds are canonical"
        );
    }

    #[test]
    fn json_routes_name_what_they_take() {
        let q = Query::parse(Some("f=json&x=1")).unwrap_or_default();
        let err = q.only(&["f"], "/conformance").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("'x'") && err.contains("takes f"), "{err}");
        assert!(Query::parse(Some("f=json")).is_ok_and(|q| q.only(&["f"], "/").is_ok()));
    }
}
