//! The types settings take, and how each is read from a flag or environment variable (text) and
//! shown in the documentation.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// A type a setting can have: read from a config file (serde), from the text of a flag or
/// environment variable ([`SettingValue::parse`]), and shown in the documentation.
pub trait SettingValue: Sized + Clone + for<'de> Deserialize<'de> {
    /// The value for the text of a flag or environment variable; the error says why not.
    fn parse(text: &str) -> Result<Self, String>;
    /// The value as the documentation shows it.
    fn show(&self) -> String;
}

macro_rules! from_str_values {
    ($($t:ty => $what:literal),+ $(,)?) => {$(
        impl SettingValue for $t {
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| format!("'{}' is not {}", clip(text), $what))
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )+};
}

from_str_values! {
    u8 => "a whole number from 0 to 255",
    u64 => "a non-negative whole number",
    usize => "a non-negative whole number",
    SocketAddr => "an address like 127.0.0.1:8080",
}

impl SettingValue for String {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl SettingValue for PathBuf {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl SettingValue for crate::style::Lang {
    fn parse(text: &str) -> Result<Self, String> {
        text.trim().parse().map_err(|e: crate::style::LangError| e.to_string())
    }
    fn show(&self) -> String {
        self.as_str().to_owned()
    }
}

/// An optional setting: empty text means "none".
impl<T: SettingValue> SettingValue for Option<T> {
    fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() { Ok(None) } else { T::parse(text).map(Some) }
    }
    fn show(&self) -> String {
        self.as_ref().map_or_else(|| "none".to_owned(), SettingValue::show)
    }
}

fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

/// How the log is written: `text`, one readable line per event, or `json`, one JSON object per
/// line for a log collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines: time, level, where, message and `key=value` fields.
    #[default]
    Text,
    /// One JSON object per line, its fields at the top level.
    Json,
}

impl SettingValue for LogFormat {
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("'{}' is not a log format: use text or json", clip(other))),
        }
    }
    fn show(&self) -> String {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
        .into()
    }
}

/// A secret that never shows in logs, debug output or the documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }

    /// The secret itself, for comparison only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl SettingValue for Secret {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(Self(text.to_owned()))
    }
    fn show(&self) -> String {
        "(secret)".into()
    }
}

/// A PostgreSQL connection URL (`postgres://user:password@host:port/database?...`). It may hold a
/// password, so it never shows whole: debug output, logs and the documentation see
/// [`DatabaseUrl::redacted`], which keeps the user, hosts, ports and database and drops the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The whole URL, password included, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `postgres://user@host:port/database`, without password or options.
    pub fn redacted(&self) -> String {
        match self.0.parse::<tokio_postgres::Config>() {
            Ok(c) => crate::events::describe_database(&c),
            Err(_) => "postgres://(unreadable URL)".into(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // The message names no part of the URL: it may hold a password.
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err("must be a URL starting with postgres:// or postgresql://".into());
        }
        let config: tokio_postgres::Config =
            text.parse().map_err(|e| format!("is not a PostgreSQL connection URL ({e})"))?;
        if config.get_hosts().is_empty() {
            return Err("names no host: write postgres://user@host:port/database".into());
        }
        Ok(Self(text.to_owned()))
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl SettingValue for DatabaseUrl {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
    }
    fn show(&self) -> String {
        self.redacted()
    }
}

/// The base URL of links and TileJSON: `http://` or `https://`, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for PublicUrl {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let url = text.trim().trim_end_matches('/');
        if url.starts_with("http://") || url.starts_with("https://") {
            Ok(Self(url.to_owned()))
        } else {
            Err(format!("'{}' must start with http:// or https://", clip(text)))
        }
    }
}

impl<'de> Deserialize<'de> for PublicUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl SettingValue for PublicUrl {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
    }
    fn show(&self) -> String {
        self.0.clone()
    }
}

/// A pre-rendered archive to serve: `NAME=PATH`, the name (1-64 of `a-z 0-9 _ -`) in its URLs
/// (`/archives/NAME/...`), the path a `.pmtiles` or `.mbtiles` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSource {
    /// The name in URLs.
    pub name: String,
    /// The file.
    pub path: PathBuf,
}

impl std::str::FromStr for ArchiveSource {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let Some((name, path)) = text.trim().split_once('=') else {
            return Err(format!("'{}' is not NAME=PATH (e.g. idlib=out/idlib.pmtiles)", clip(text)));
        };
        let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
        if name.is_empty() || name.len() > 64 || !name.bytes().all(ok) {
            return Err(format!("archive name '{}' must be 1-64 characters of a-z, 0-9, '_' and '-'", clip(name)));
        }
        let path = PathBuf::from(path);
        match path.extension().and_then(|e| e.to_str()) {
            Some("pmtiles" | "mbtiles") => Ok(Self { name: name.to_owned(), path }),
            _ => Err(format!(
                "archive '{name}': '{}' must end in .pmtiles or .mbtiles",
                clip(&path.display().to_string())
            )),
        }
    }
}

impl<'de> Deserialize<'de> for ArchiveSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl SettingValue for ArchiveSource {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
    }
    fn show(&self) -> String {
        format!("{}={}", self.name, self.path.display())
    }
}

/// A list setting: given as a repeated flag, a comma-separated variable, or a list in the file.
impl<T: SettingValue> SettingValue for Vec<T> {
    fn parse(text: &str) -> Result<Self, String> {
        text.split(',').filter(|t| !t.trim().is_empty()).map(T::parse).collect()
    }
    fn show(&self) -> String {
        match self.is_empty() {
            true => "none".to_owned(),
            false => self.iter().map(SettingValue::show).collect::<Vec<_>>().join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url: DatabaseUrl = "postgres://editor:hunter2-secret@db.example.org:5433/tessera?connect_timeout=3"
            .parse()
            .unwrap_or_else(|e: String| unreachable!("{e}"));
        assert_eq!(url.show(), "postgres://editor@db.example.org:5433/tessera");
        assert!(!format!("{url:?}").contains("hunter2"), "{url:?}");
        assert!(url.expose().contains("hunter2"), "the connection still gets it");
        let from_file: Result<DatabaseUrl, _> = toml::from_str::<toml::Value>("u = \"postgres://e:hunter2@h/db\"")
            .map(|v| v["u"].clone())
            .and_then(DatabaseUrl::deserialize);
        assert!(from_file.is_ok_and(|u| u.show() == "postgres://e@h:5432/db"));
    }

    #[test]
    fn a_bad_database_url_is_refused_without_echoing_it() {
        for bad in ["mysql://root:hunter2@h/db", "postgres://u:hunter2@h:notaport/db", "hunter2"] {
            let refused = bad.parse::<DatabaseUrl>().err().unwrap_or_default();
            assert!(!refused.is_empty(), "{bad} was taken");
            assert!(!refused.contains("hunter2"), "{refused}");
        }
    }
}
