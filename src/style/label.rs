//! Labels as the manifest describes them: which property names a feature (in Latin script and
//! in Arabic), from which zoom, how important it is and how it looks; and the language a tile
//! is labelled in.
//!
//! Names are read from the feature's properties once, at load. A property may hold a string or
//! a list of strings: from a list of Latin names the first is taken; from a list of Arabic names
//! (GeoNames' `names_ar`, unranked and mixed with Persian, Urdu and Kurdish spellings) the first
//! written in the Arabic alphabet proper, preferring one without vowel marks. Bidirectional
//! control characters (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are dropped.

use serde::Deserialize;
use serde_json::Value;

use super::Color;

/// The language of the place names on a raster tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum Lang {
    /// The Latin-script name (`label`); the Arabic one where a feature has no other.
    #[default]
    En,
    /// The Arabic name (`label_ar`); the Latin-script one where a feature has no Arabic name.
    Ar,
    /// Both: the Latin-script name above the Arabic one.
    Both,
}

/// A language other than `en`, `ar` or `both`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a label language: use en, ar or both")]
pub struct LangError(pub String);

impl Lang {
    /// Every language, in the order of the docs.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ar, Lang::Both];

    /// The name used in URLs and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Both => "both",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Lang {
    type Error = LangError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl std::str::FromStr for Lang {
    type Err = LangError;

    /// Parses `en`, `ar` or `both`.
    ///
    /// # Examples
    /// ```
    /// use tessera::style::Lang;
    /// assert_eq!("ar".parse::<Lang>(), Ok(Lang::Ar));
    /// assert!("fr".parse::<Lang>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| LangError(s.chars().take(32).collect()))
    }
}

/// How one layer's features are labelled, every key resolved (see the manifest's `label*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSpec {
    /// Property holding the Latin-script name.
    pub text: String,
    /// Property holding the Arabic name (a string or a list of strings).
    pub text_ar: Option<String>,
    /// Lowest zoom with labels.
    pub minzoom: u8,
    /// Highest zoom with labels.
    pub maxzoom: u8,
    /// Importance against other layers' labels: higher is placed first.
    pub priority: i32,
    /// Numeric property ranking the layer's own features (population): higher is placed first.
    pub rank: Option<String>,
    /// Text size in CSS px.
    pub size: f32,
    /// Bold type.
    pub bold: bool,
    /// Text colour (the halo is white).
    pub color: Color,
    /// Latin-script names in capitals (countries, governorates).
    pub upper: bool,
    /// Keep only what follows the first occurrence of this text, when it occurs
    /// (`" - "` turns "Turkish observation point No. 4 - Jabal Anadan" into "Jabal Anadan").
    pub after: Option<String>,
    /// Property whose value ranks a feature before `rank` does (Natural Earth's `featurecla`).
    pub class: Option<String>,
    /// Values of `class`, most important first; any other value comes after them.
    pub class_order: Vec<String>,
}

impl LabelSpec {
    /// Default text size, CSS px.
    pub const SIZE: f32 = 12.0;
    /// Default text colour.
    pub const COLOR: Color = Color::rgba(0x22, 0x22, 0x22, 0xff);

    /// A spec naming features by the `text` property, with the defaults: no Arabic name, every
    /// zoom, priority 0, 12 px regular dark grey type.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            text_ar: None,
            minzoom: 0,
            maxzoom: crate::tile::MAX_ZOOM,
            priority: 0,
            rank: None,
            size: Self::SIZE,
            bold: false,
            color: Self::COLOR,
            upper: false,
            after: None,
            class: None,
            class_order: Vec::new(),
        }
    }

    /// Whether labels are drawn at zoom `z`.
    pub fn visible_at(&self, z: u8) -> bool {
        (self.minzoom..=self.maxzoom).contains(&z)
    }

    /// The names of a feature with these properties.
    pub fn names(&self, props: &serde_json::Map<String, Value>) -> Names {
        let trim = |s: String| match &self.after {
            Some(sep) if !sep.is_empty() => match s.split_once(sep.as_str()) {
                Some((_, rest)) if !rest.trim().is_empty() => rest.trim().to_owned(),
                _ => s,
            },
            _ => s,
        };
        let latin = props.get(&self.text).and_then(first_text).map(trim);
        let latin = if self.upper { latin.map(|s| s.to_uppercase()) } else { latin };
        let arabic = self.text_ar.as_ref().and_then(|k| props.get(k)).and_then(pick_arabic).map(trim);
        Names { latin, arabic }
    }

    /// The class of a feature: the position of its `class` value in `class_order`, lower first;
    /// a value not listed, or none, comes after every listed one.
    pub fn class_of(&self, props: &serde_json::Map<String, Value>) -> u32 {
        let value = self.class.as_ref().and_then(|k| props.get(k)).and_then(Value::as_str);
        let listed = value.and_then(|v| self.class_order.iter().position(|c| c == v));
        listed.unwrap_or(self.class_order.len()) as u32
    }

    /// The rank of a feature (its `rank` property as a number; `-inf` when absent).
    pub fn rank_of(&self, props: &serde_json::Map<String, Value>) -> f64 {
        self.rank.as_ref().and_then(|k| props.get(k)).and_then(Value::as_f64).unwrap_or(f64::NEG_INFINITY)
    }
}

/// A feature's names, cleaned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Latin-script name.
    pub latin: Option<String>,
    /// Arabic name.
    pub arabic: Option<String>,
}

impl Names {
    /// The lines of text to draw in a language (none when the feature has no name).
    ///
    /// # Examples
    /// ```
    /// use tessera::style::{Lang, Names};
    /// let n = Names { latin: Some("Idlib".into()), arabic: Some("إدلب".into()) };
    /// assert_eq!(n.lines(Lang::Both), ["Idlib", "إدلب"]);
    /// let only_latin = Names { latin: Some("Kafr Nabl".into()), arabic: None };
    /// assert_eq!(only_latin.lines(Lang::Ar), ["Kafr Nabl"]);
    /// ```
    pub fn lines(&self, lang: Lang) -> Vec<&str> {
        let (l, a) = (self.latin.as_deref(), self.arabic.as_deref());
        let out: Vec<Option<&str>> = match lang {
            Lang::En => vec![l.or(a)],
            Lang::Ar => vec![a.or(l)],
            Lang::Both if l == a => vec![l],
            Lang::Both => vec![l, a],
        };
        out.into_iter().flatten().collect()
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn clean(s: &str) -> Option<String> {
    let t: String = s.chars().filter(|&c| !is_bidi_control(c) && c != '\n' && c != '\r').collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => clean(s),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find_map(clean),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A letter of the Arabic alphabet as written in Arabic (not the Persian, Urdu or Kurdish
/// additions), or a space.
fn standard_arabic(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063a}' | '\u{0641}'..='\u{064a}' | ' ') || arabic_mark(c)
}

fn arabic_mark(c: char) -> bool {
    matches!(c, '\u{064b}'..='\u{0652}' | '\u{0670}')
}

fn pick_arabic(v: &Value) -> Option<String> {
    let all: Vec<String> = match v {
        Value::String(s) => clean(s).into_iter().collect(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).filter_map(clean).collect(),
        _ => Vec::new(),
    };
    let plain = |s: &&String| s.chars().all(standard_arabic);
    all.iter()
        .filter(plain)
        .find(|s| !s.chars().any(arabic_mark))
        .or_else(|| all.iter().find(plain))
        .or_else(|| all.iter().find(|s| s.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c))))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: serde_json::Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_arabic_name_is_chosen_from_an_unranked_list() {
        let mut spec = LabelSpec::new("name");
        spec.text_ar = Some("names_ar".into());
        // Natural Earth's Antioch: a Latin transliteration and Persian/Urdu spellings first.
        let p = props(
            serde_json::json!({"name": "Antioch", "names_ar": ["antakyہ", "أنطاكية", "انطاكيا\u{200e}", "انطاکیه"]}),
        );
        assert_eq!(spec.names(&p).arabic.as_deref(), Some("أنطاكية"));
        // A vowelled classical spelling loses to a plain one.
        let p = props(serde_json::json!({"name": "Dar'a", "names_ar": ["dەrʿa", "أذرِعات", "درعا"]}));
        assert_eq!(spec.names(&p).arabic.as_deref(), Some("درعا"));
        let p = props(serde_json::json!({"name": "Icel", "names_ar": []}));
        assert_eq!(spec.names(&p), Names { latin: Some("Icel".into()), arabic: None });
        // Trailing direction marks are dropped.
        let p = props(serde_json::json!({"name": "Abu Sinan", "names_ar": ["أبو سنان\u{200e}"]}));
        assert_eq!(spec.names(&p).arabic.as_deref(), Some("أبو سنان"));
    }

    #[test]
    fn after_keeps_the_place_of_an_observation_point() {
        let mut spec = LabelSpec::new("name");
        spec.text_ar = Some("name_ar".into());
        spec.after = Some(" - ".into());
        let p = props(serde_json::json!({
            "name": "Turkish observation point No. 4 - Jabal Anadan",
            "name_ar": "نقطة المراقبة التركية - جبل عندان",
        }));
        let n = spec.names(&p);
        assert_eq!(n.latin.as_deref(), Some("Jabal Anadan"));
        assert_eq!(n.arabic.as_deref(), Some("جبل عندان"));
    }

    #[test]
    fn languages_parse_and_print() {
        for l in Lang::ALL {
            assert_eq!(l.as_str().parse::<Lang>(), Ok(l));
        }
        assert_eq!("EN".parse::<Lang>(), Err(LangError("EN".into())));
    }
}
