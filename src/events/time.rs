//! Event times and `datetime` filters: RFC 3339 dates and date-times, ISO 8601 intervals.
//!
//! Every time is reduced to an inclusive span of UTC seconds. A date stands for its whole day
//! (`2020-02-18` is 00:00:00 to 23:59:59 UTC), a date-time for its instant, and an interval
//! `start/end` for everything from the start of `start` to the end of `end`. A filter matches
//! an event when their spans overlap, so an event dated `2020-02-17/2020-02-18` matches
//! `datetime=2020-02-18` and `datetime=2020-02-01/2020-02-17`, and not `datetime=2020-02-19/..`.

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};

/// An inclusive span of time in UTC seconds since 1970.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSpan {
    /// First second of the span.
    pub start: i64,
    /// Last second of the span (equal to `start` for an instant).
    pub end: i64,
}

/// A time that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Neither a date, a date-time nor an interval.
    #[error("'{0}' is not an RFC 3339 date (2020-02-18), date-time (2020-02-18T19:30:00Z) or interval (start/end)")]
    Unreadable(String),
    /// An interval whose end is before its start.
    #[error("'{0}' ends before it starts")]
    Backwards(String),
    /// `..` where an event needs a bounded time.
    #[error("'{0}' is open-ended; an event's time needs both ends")]
    Open(String),
}

const OPEN: &str = "..";
const DAY: i64 = 86_400;

impl TimeSpan {
    /// Parses an event's `time`: a date, a date-time, or a closed interval `start/end`.
    ///
    /// # Examples
    /// ```
    /// use tessera::events::TimeSpan;
    /// let t = TimeSpan::parse_event("2020-02-17/2020-02-18").unwrap();
    /// assert_eq!(t.end - t.start, 2 * 86_400 - 1);
    /// assert!(TimeSpan::parse_event("2020-02-01/..").is_err());
    /// ```
    pub fn parse_event(text: &str) -> Result<Self, TimeError> {
        let span = Self::parse_filter(text)?;
        if span.start == i64::MIN || span.end == i64::MAX {
            return Err(TimeError::Open(clip(text)));
        }
        Ok(span)
    }

    /// Parses a `datetime` query value: an instant, a date, or an interval whose ends may be
    /// open (`..` or empty).
    pub fn parse_filter(text: &str) -> Result<Self, TimeError> {
        let text = text.trim();
        let span = match text.split_once('/') {
            None => one(text)?,
            Some((a, b)) => {
                let start = if a.is_empty() || a == OPEN { i64::MIN } else { one(a)?.start };
                let end = if b.is_empty() || b == OPEN { i64::MAX } else { one(b)?.end };
                if start == i64::MIN && end == i64::MAX && !(a == OPEN || b == OPEN) {
                    return Err(TimeError::Unreadable(clip(text)));
                }
                Self { start, end }
            }
        };
        if span.end < span.start {
            return Err(TimeError::Backwards(clip(text)));
        }
        Ok(span)
    }

    /// Whether the two spans share at least one second.
    pub fn overlaps(&self, other: &TimeSpan) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// One date or date-time.
fn one(text: &str) -> Result<TimeSpan, TimeError> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = d.and_time(NaiveTime::MIN).and_utc().timestamp();
        return Ok(TimeSpan { start, end: start + DAY - 1 });
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| {
            let s = t.timestamp();
            TimeSpan { start: s, end: s }
        })
        .map_err(|_| TimeError::Unreadable(clip(text)))
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Seconds since 1970 as an RFC 3339 UTC date-time, for `created` and `updated`.
pub fn format_timestamp(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(s: &str) -> TimeSpan {
        TimeSpan::parse_filter(s).unwrap()
    }

    #[test]
    fn dates_cover_their_day_and_instants_are_points() {
        let d = span("2020-02-18");
        assert_eq!(d.end - d.start, DAY - 1);
        let t = span("2020-02-18T19:30:00Z");
        assert_eq!(t.start, t.end);
        assert!(d.overlaps(&t));
        assert!(span("2020-02-18T21:30:00+02:00").overlaps(&t));
    }

    #[test]
    fn open_intervals() {
        let ev = TimeSpan::parse_event("2020-02-17/2020-02-18").unwrap();
        assert!(span("2020-02-18/..").overlaps(&ev));
        assert!(span("../2020-02-17").overlaps(&ev));
        assert!(!span("2020-02-19/..").overlaps(&ev));
        assert!(!span("../2020-02-16").overlaps(&ev));
        assert!(span("../..").overlaps(&ev));
    }

    #[test]
    fn bad_times_are_refused() {
        for bad in ["", "yesterday", "2020-13-01", "2020-02-30", "2020-02-18/2020-02-17", "18/02/2020", "/"] {
            assert!(TimeSpan::parse_filter(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeSpan::parse_event("../2020-01-01"), Err(TimeError::Open("../2020-01-01".into())));
    }
}
