//! The view a map page opens on, read from its URL: `layers`, `lat`, `lon`, `zoom`, `from`,
//! `to`, `kind`, the timeline's `play`, and `renderer` (`raster`, Leaflet over the raster
//! tiles, or `vector`, MapLibre GL JS over the vector tiles).
//!
//! Every value is checked here, before anything of it reaches the page, and only the checked,
//! typed value does (numbers, dates re-formatted, names from closed lists). A value that fails
//! is dropped with a note naming the parameter; the note never repeats the value, so a URL
//! cannot put its own text into the page. The page's script checks the same rules again before
//! using them.

use chrono::NaiveDate;

use crate::events::EventKind;
use crate::layer::Catalog;

/// Widest window of days the timeline plays (`play`): a year, leap day included.
pub const MAX_PLAY_DAYS: u16 = 366;

/// The map layers a page can show, besides the data layers that narrow the base tiles.
pub const MAP_LAYERS: [&str; 3] = ["base", "overlay", "markers"];

/// A checked view. `None` keeps the page's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// Latitude of the centre, WGS84 degrees.
    pub lat: Option<f64>,
    /// Longitude of the centre, WGS84 degrees.
    pub lon: Option<f64>,
    /// Zoom level.
    pub zoom: Option<u8>,
    /// First day of the time filter, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day of the time filter, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Event kinds shown; `None` shows every kind.
    pub kinds: Option<Vec<&'static str>>,
    /// Which of [`MAP_LAYERS`] are on; `None` turns all on.
    pub show: Option<[bool; 3]>,
    /// Data layer ids the base tiles are narrowed to; `None` draws every layer.
    pub data_layers: Option<Vec<String>>,
    /// The timeline plays `from`..`to` a window of this many days at a time; `None`: paused.
    pub play: Option<u16>,
    /// Whether the map is drawn by MapLibre GL JS from the vector tiles (`renderer=vector`).
    pub vector: bool,
    /// One line for each parameter that was ignored, and why.
    pub notes: Vec<String>,
}

impl View {
    /// Reads the view from query pairs; unknown parameters are ignored (the viewer page also
    /// carries `f=html`, and hosts may add their own tracking parameters).
    pub fn parse(pairs: &[(String, String)], catalog: &Catalog, max_zoom: u8) -> Self {
        let mut v = View::default();
        for (k, raw) in pairs {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let ok = match k.as_str() {
                "lat" => number(raw, -crate::tile::MAX_LATITUDE, crate::tile::MAX_LATITUDE)
                    .map(|x| v.lat = Some(x))
                    .ok_or("a number from -85 to 85"),
                "lon" => number(raw, -180.0, 180.0).map(|x| v.lon = Some(x)).ok_or("a number from -180 to 180"),
                "zoom" => number(raw, 0.0, f64::from(max_zoom))
                    .map(|z| v.zoom = Some(z.round() as u8))
                    .ok_or("a zoom level the server serves (0 to its maximum zoom)"),
                "from" => date(raw).map(|d| v.from = Some(d)).ok_or("a date written YYYY-MM-DD"),
                "to" => date(raw).map(|d| v.to = Some(d)).ok_or("a date written YYYY-MM-DD"),
                "kind" => kinds(raw).map(|ks| v.kinds = Some(ks)).ok_or("a comma-separated list of event kinds"),
                "play" => play_days(raw)
                    .map(|n| v.play = Some(n))
                    .ok_or("a whole number of days from 1 to 366 (the width of the window that plays)"),
                "renderer" => match raw {
                    "raster" | "vector" => {
                        v.vector = raw == "vector";
                        Ok(())
                    }
                    _ => Err("raster or vector"),
                },
                "layers" => {
                    v.set_layers(raw, catalog).ok_or("a comma-separated list of base, overlay, markers or layer ids")
                }
                _ => Ok(()),
            };
            if let Err(wanted) = ok {
                v.notes.push(format!("'{k}' was ignored: it must be {wanted}."));
            }
        }
        if let (Some(f), Some(t)) = (&v.from, &v.to)
            && t < f
        {
            v.from = None;
            v.to = None;
            v.notes.push("'from' and 'to' were ignored: 'to' is before 'from'.".into());
        }
        v
    }

    fn set_layers(&mut self, raw: &str, catalog: &Catalog) -> Option<()> {
        let mut show = [false; 3];
        let mut data = Vec::new();
        for name in raw.split(',').map(str::trim) {
            if let Some(i) = MAP_LAYERS.iter().position(|m| *m == name) {
                show[i] = true;
            } else if let Some(l) = catalog.layer(name) {
                show[0] = true;
                if !data.contains(&l.meta.id) {
                    data.push(l.meta.id.clone());
                }
            } else {
                return None;
            }
        }
        self.show = Some(show);
        self.data_layers = (!data.is_empty()).then_some(data);
        Some(())
    }
}

/// A plain decimal number within `lo..=hi` (no exponents, no `inf`, no `NaN`).
fn number(raw: &str, lo: f64, hi: f64) -> Option<f64> {
    let plain = raw.len() <= 24 && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let x: f64 = raw.parse().ok().filter(|_| plain)?;
    (x.is_finite() && (lo..=hi).contains(&x)).then_some(x)
}

/// A whole number of days, 1 to [`MAX_PLAY_DAYS`], written in plain digits.
fn play_days(raw: &str) -> Option<u16> {
    let n: u16 = raw.parse().ok().filter(|_| raw.len() <= 3 && raw.bytes().all(|b| b.is_ascii_digit()))?;
    (1..=MAX_PLAY_DAYS).contains(&n).then_some(n)
}

/// A calendar date written `YYYY-MM-DD`, returned in that form.
fn date(raw: &str) -> Option<String> {
    if raw.len() != 10
        || raw.bytes().enumerate().any(|(i, b)| if i == 4 || i == 7 { b != b'-' } else { !b.is_ascii_digit() })
    {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(|d| d.format("%Y-%m-%d").to_string())
}

/// Event kinds, each one of [`EventKind`]; the whole list fails on one unknown kind.
fn kinds(raw: &str) -> Option<Vec<&'static str>> {
    let mut out = Vec::new();
    for k in raw.split(',').map(str::trim) {
        let kind = EventKind::parse(k)?.as_str();
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> View {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
        let catalog = Catalog::new(None, None, None, None, None, Vec::new());
        View::parse(&pairs, &catalog, 20)
    }

    #[test]
    fn good_values_are_kept() {
        let v = parse(
            "lat=36.233&lon=36.817&zoom=12&from=2020-02-01&to=2020-02-29&kind=airstrike,shelling&layers=overlay,markers&play=1&renderer=vector",
        );
        assert_eq!(v.play, Some(1));
        assert!(v.vector);
        assert_eq!((v.lat, v.lon, v.zoom), (Some(36.233), Some(36.817), Some(12)));
        assert_eq!((v.from.as_deref(), v.to.as_deref()), (Some("2020-02-01"), Some("2020-02-29")));
        assert_eq!(v.kinds, Some(vec!["airstrike", "shelling"]));
        assert_eq!(v.show, Some([false, true, true]));
        assert!(v.notes.is_empty(), "{:?}", v.notes);
    }

    #[test]
    fn markup_and_script_in_every_parameter_are_dropped_without_echo() {
        for payload in
            ["<script>alert(1)</script>", "javascript:alert(1)", "\"><img src=x onerror=alert(1)>", "1e3", "NaN", "inf"]
        {
            let q = serde_urlencoded::to_string(
                ["layers", "lat", "lon", "zoom", "from", "to", "kind", "play", "renderer"].map(|k| (k, payload)),
            )
            .unwrap_or_default();
            let v = parse(&q);
            assert_eq!(v, View { notes: v.notes.clone(), ..View::default() }, "{payload}");
            assert_eq!(v.notes.len(), 9, "{payload}: {:?}", v.notes);
            assert!(v.notes.iter().all(|n| !n.contains(payload) && !n.contains('<')), "{:?}", v.notes);
        }
    }

    #[test]
    fn out_of_range_and_impossible_values_are_refused() {
        let v = parse("lat=86&lon=-181&zoom=21&from=2020-02-30&to=2020-2-1");
        assert_eq!(v.notes.len(), 5, "{:?}", v.notes);
        let v = parse("from=2020-03-01&to=2020-02-01");
        assert_eq!((v.from, v.to, v.notes.len()), (None, None, 1));
    }

    #[test]
    fn play_takes_a_whole_number_of_days_from_1_to_366() {
        for (raw, want) in [("1", Some(1)), ("7", Some(7)), ("366", Some(366)), ("007", Some(7))] {
            assert_eq!(parse(&format!("play={raw}")).play, want, "{raw}");
        }
        for raw in ["0", "367", "1000", "1.5", "-1", "+1", " 1x", "true", "1e2", "65537"] {
            let v = parse(&format!("play={}", raw.replace('+', "%2B")));
            assert_eq!((v.play, v.notes.len()), (None, 1), "{raw}: {:?}", v.notes);
        }
    }
}
