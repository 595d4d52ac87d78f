//! Configuration, read once from a TOML file, the environment and the command line, in rising
//! order of precedence, and resolved into one validated [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Defaults of every setting.
pub mod defaults {
    /// Address the server listens on.
    pub const LISTEN: &str = "127.0.0.1:8080";
    /// Directory of the server's own state (the event store).
    pub const DATA: &str = "data";
    /// Deepest zoom served.
    pub const MAX_ZOOM: u8 = 20;
    /// `limit` of an items query when the client gives none.
    pub const ITEMS_LIMIT: usize = 100;
    /// Largest `limit` honoured; larger values are lowered to it.
    pub const ITEMS_MAX_LIMIT: usize = 10_000;
    /// Largest request body accepted, in bytes.
    pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
    /// Most events in one batch (a FeatureCollection posted at once).
    pub const MAX_BATCH: usize = 1_000;
    /// Memory for cached tiles, MiB.
    pub const CACHE_MB: u64 = 256;
    /// Render jobs waiting beyond the running ones before the server answers 503.
    pub const RENDER_QUEUE: usize = 64;
    /// `Cache-Control: max-age` of base tiles, TileJSON and layer items, seconds.
    pub const TILE_MAX_AGE: u64 = 3_600;
    /// `Cache-Control: max-age` of overlay tiles, vector tiles and event items, seconds
    /// (0: `no-cache`, the browser revalidates with the ETag every time).
    pub const EVENTS_MAX_AGE: u64 = 0;
    /// Language of the place names on raster tiles when a request names none.
    pub const LABEL_LANG: crate::style::Lang = crate::style::Lang::En;
    /// Time for a request to arrive whole and be answered, seconds; also how long a connection
    /// may wait for a request's head (idle keep-alive included).
    pub const REQUEST_TIMEOUT_SECS: u64 = 30;
    /// Longest path and query, bytes.
    pub const MAX_URL_BYTES: usize = 8 * 1024;
    /// Most bytes of header lines in one request (each line's name, value, `: ` and CRLF).
    pub const MAX_HEADER_BYTES: usize = 16 * 1024;
    /// Connections open at once; further clients wait in the listen backlog.
    pub const MAX_CONNECTIONS: usize = 1_000;
    /// Requests answered at once; past that, 503.
    pub const MAX_CONCURRENT_REQUESTS: usize = 256;
}

/// Bounds of the request limits that the configuration may choose.
pub mod bounds {
    /// Longest `max_url_bytes`: the longest URI the `http` crate holds (64 KiB - 2).
    pub const MAX_URL_BYTES: usize = 65_534;
    /// Shortest `max_url_bytes`.
    pub const MIN_URL_BYTES: usize = 256;
    /// Largest `max_header_bytes`.
    pub const MAX_HEADER_BYTES: usize = 1024 * 1024;
    /// Smallest `max_header_bytes`.
    pub const MIN_HEADER_BYTES: usize = 1024;
    /// Longest `request_timeout_secs` (one hour).
    pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3_600;
}

/// A secret that never shows in logs or debug output.
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

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
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

/// The settings as a config file may give them; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`Config::listen`].
    pub listen: Option<String>,
    /// See [`Config::geodata`].
    pub geodata: Option<PathBuf>,
    /// See [`Config::data`].
    pub data: Option<PathBuf>,
    /// See [`Config::max_zoom`].
    pub max_zoom: Option<u8>,
    /// See [`Config::items_limit`].
    pub items_limit: Option<usize>,
    /// See [`Config::items_max_limit`].
    pub items_max_limit: Option<usize>,
    /// See [`Config::public_url`].
    pub public_url: Option<String>,
    /// See [`Config::write_token`].
    pub write_token: Option<Secret>,
    /// See [`Config::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// See [`Config::max_batch`].
    pub max_batch: Option<usize>,
    /// See [`Config::leaflet_dir`].
    pub leaflet_dir: Option<PathBuf>,
    /// See [`Config::cache_mb`].
    pub cache_mb: Option<u64>,
    /// See [`Config::render_workers`].
    pub render_workers: Option<usize>,
    /// See [`Config::render_queue`].
    pub render_queue: Option<usize>,
    /// See [`Config::tile_max_age`].
    pub tile_max_age: Option<u64>,
    /// See [`Config::events_max_age`].
    pub events_max_age: Option<u64>,
    /// See [`Config::label_lang`].
    pub label_lang: Option<crate::style::Lang>,
    /// See [`Config::request_timeout_secs`].
    pub request_timeout_secs: Option<u64>,
    /// See [`Config::max_url_bytes`].
    pub max_url_bytes: Option<usize>,
    /// See [`Config::max_header_bytes`].
    pub max_header_bytes: Option<usize>,
    /// See [`Config::max_connections`].
    pub max_connections: Option<usize>,
    /// See [`Config::max_concurrent_requests`].
    pub max_concurrent_requests: Option<usize>,
}

/// Everything `tessera serve` runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Socket address to listen on.
    pub listen: SocketAddr,
    /// Directory of GeoJSON layers (with or without a `layers.toml`); `None` serves the default
    /// data set compiled into the binary.
    pub geodata: Option<PathBuf>,
    /// Directory for the server's own state.
    pub data: PathBuf,
    /// Deepest zoom level served (at most 30).
    pub max_zoom: u8,
    /// Default `limit` for items queries.
    pub items_limit: usize,
    /// Largest `limit` for items queries.
    pub items_max_limit: usize,
    /// Base URL used in links and TileJSON (e.g. `https://maps.example.org`); when absent, the
    /// request's `Host` header decides.
    pub public_url: Option<String>,
    /// Bearer token that event writes must carry; writes are refused when it is absent.
    pub write_token: Option<Secret>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most events in one posted FeatureCollection.
    pub max_batch: usize,
    /// Directory holding `leaflet.js`, `leaflet.css` and `images/` (an npm install's
    /// `node_modules/leaflet/dist`), served by tessera itself under `/web/leaflet/`; when absent
    /// the map pages load Leaflet from a pinned CDN URL with Subresource Integrity.
    pub leaflet_dir: Option<PathBuf>,
    /// Memory for cached tiles, MiB; 0 turns the cache off.
    pub cache_mb: u64,
    /// Rendering jobs run at once (default: the number of cores).
    pub render_workers: usize,
    /// Rendering jobs that may wait; past that, 503.
    pub render_queue: usize,
    /// `max-age` of base tiles, TileJSON and layers, seconds.
    pub tile_max_age: u64,
    /// `max-age` of overlays, vector tiles and events, seconds (0: `no-cache`).
    pub events_max_age: u64,
    /// Language of the place names on raster tiles when a request has no `?lang=`.
    pub label_lang: crate::style::Lang,
    /// Seconds for a request to arrive whole and be answered (408 past it), and for a
    /// connection to send a request's head (closed past it).
    pub request_timeout_secs: u64,
    /// Longest path and query, bytes (414 past it).
    pub max_url_bytes: usize,
    /// Most bytes of header lines in one request (431 past it).
    pub max_header_bytes: usize,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests answered at once (503 past it).
    pub max_concurrent_requests: usize,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown keys.
    #[error("config file {path}: {source}")]
    Parse {
        /// Its path.
        path: PathBuf,
        /// The parse error.
        source: Box<toml::de::Error>,
    },
    /// A value is out of its range or malformed.
    #[error("{key}: {reason}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl FileConfig {
    /// Reads a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), source: Box::new(e) })
    }

    /// Lays `over` on top of `self`: every key `over` sets wins.
    pub fn overlay(self, over: FileConfig) -> Self {
        Self {
            listen: over.listen.or(self.listen),
            geodata: over.geodata.or(self.geodata),
            data: over.data.or(self.data),
            max_zoom: over.max_zoom.or(self.max_zoom),
            items_limit: over.items_limit.or(self.items_limit),
            items_max_limit: over.items_max_limit.or(self.items_max_limit),
            public_url: over.public_url.or(self.public_url),
            write_token: over.write_token.or(self.write_token),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            max_batch: over.max_batch.or(self.max_batch),
            leaflet_dir: over.leaflet_dir.or(self.leaflet_dir),
            cache_mb: over.cache_mb.or(self.cache_mb),
            render_workers: over.render_workers.or(self.render_workers),
            render_queue: over.render_queue.or(self.render_queue),
            tile_max_age: over.tile_max_age.or(self.tile_max_age),
            events_max_age: over.events_max_age.or(self.events_max_age),
            label_lang: over.label_lang.or(self.label_lang),
            request_timeout_secs: over.request_timeout_secs.or(self.request_timeout_secs),
            max_url_bytes: over.max_url_bytes.or(self.max_url_bytes),
            max_header_bytes: over.max_header_bytes.or(self.max_header_bytes),
            max_connections: over.max_connections.or(self.max_connections),
            max_concurrent_requests: over.max_concurrent_requests.or(self.max_concurrent_requests),
        }
    }

    /// Fills in defaults and checks every value.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| defaults::LISTEN.into());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            reason: format!("'{listen_text}' is not an address like 127.0.0.1:8080"),
        })?;
        let max_zoom = self.max_zoom.unwrap_or(defaults::MAX_ZOOM);
        if max_zoom > crate::tile::MAX_ZOOM {
            return Err(ConfigError::Invalid {
                key: "max_zoom",
                reason: format!("{max_zoom} is above {}", crate::tile::MAX_ZOOM),
            });
        }
        let items_max_limit = self.items_max_limit.unwrap_or(defaults::ITEMS_MAX_LIMIT);
        let items_limit = self.items_limit.unwrap_or(defaults::ITEMS_LIMIT.min(items_max_limit));
        if items_limit == 0 || items_limit > items_max_limit {
            return Err(ConfigError::Invalid {
                key: "items_limit",
                reason: format!("must be between 1 and items_max_limit ({items_max_limit})"),
            });
        }
        let public_url = self.public_url.map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                key: "public_url",
                reason: format!("'{u}' must start with http:// or https://"),
            });
        }
        let write_token = self.write_token.filter(|t| !t.expose().is_empty());
        if let Some(t) = &write_token
            && (t.expose().len() < 16 || !t.expose().bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError::Invalid {
                key: "write_token",
                reason: "must be at least 16 printable ASCII characters without spaces".into(),
            });
        }
        if let Some(dir) = &self.leaflet_dir
            && let Some(missing) = ["leaflet.js", "leaflet.css"].into_iter().find(|f| !dir.join(f).is_file())
        {
            return Err(ConfigError::Invalid {
                key: "leaflet_dir",
                reason: format!(
                    "{} has no {missing}; point it at Leaflet's dist directory (node_modules/leaflet/dist)",
                    dir.display()
                ),
            });
        }
        let positive = |key: &'static str, v: Option<usize>, default: usize| match v.unwrap_or(default) {
            0 => Err(ConfigError::Invalid { key, reason: "must be at least 1".into() }),
            n => Ok(n),
        };
        let within = |key: &'static str, v: usize, min: usize, max: usize| {
            if (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(ConfigError::Invalid { key, reason: format!("{v} is not between {min} and {max}") })
            }
        };
        let request_timeout_secs = self.request_timeout_secs.unwrap_or(defaults::REQUEST_TIMEOUT_SECS);
        if !(1..=bounds::MAX_REQUEST_TIMEOUT_SECS).contains(&request_timeout_secs) {
            return Err(ConfigError::Invalid {
                key: "request_timeout_secs",
                reason: format!("{request_timeout_secs} is not between 1 and {}", bounds::MAX_REQUEST_TIMEOUT_SECS),
            });
        }
        Ok(Config {
            request_timeout_secs,
            max_url_bytes: within(
                "max_url_bytes",
                self.max_url_bytes.unwrap_or(defaults::MAX_URL_BYTES),
                bounds::MIN_URL_BYTES,
                bounds::MAX_URL_BYTES,
            )?,
            max_header_bytes: within(
                "max_header_bytes",
                self.max_header_bytes.unwrap_or(defaults::MAX_HEADER_BYTES),
                bounds::MIN_HEADER_BYTES,
                bounds::MAX_HEADER_BYTES,
            )?,
            max_connections: positive("max_connections", self.max_connections, defaults::MAX_CONNECTIONS)?,
            max_concurrent_requests: positive(
                "max_concurrent_requests",
                self.max_concurrent_requests,
                defaults::MAX_CONCURRENT_REQUESTS,
            )?,
            write_token,
            max_body_bytes: positive("max_body_bytes", self.max_body_bytes, defaults::MAX_BODY_BYTES)?,
            max_batch: positive("max_batch", self.max_batch, defaults::MAX_BATCH)?,
            cache_mb: self.cache_mb.unwrap_or(defaults::CACHE_MB),
            render_workers: positive(
                "render_workers",
                self.render_workers,
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )?,
            render_queue: self.render_queue.unwrap_or(defaults::RENDER_QUEUE),
            tile_max_age: self.tile_max_age.unwrap_or(defaults::TILE_MAX_AGE),
            events_max_age: self.events_max_age.unwrap_or(defaults::EVENTS_MAX_AGE),
            label_lang: self.label_lang.unwrap_or(defaults::LABEL_LANG),
            listen,
            geodata: self.geodata,
            data: self.data.unwrap_or_else(|| defaults::DATA.into()),
            max_zoom,
            items_limit,
            items_max_limit,
            public_url,
            leaflet_dir: self.leaflet_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let file: FileConfig = toml::from_str("listen = \"127.0.0.1:9000\"\nmax_zoom = 12").unwrap_or_default();
        let flags = FileConfig { max_zoom: Some(14), ..FileConfig::default() };
        let c = file.overlay(flags).resolve().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.max_zoom, 14);
        assert_eq!(c.geodata, None, "the built-in data set unless a directory is named");
    }

    #[test]
    fn bad_values_are_named() {
        let bad = FileConfig { listen: Some("localhost".into()), ..FileConfig::default() };
        assert!(matches!(bad.resolve(), Err(ConfigError::Invalid { key: "listen", .. })));
        assert!(toml::from_str::<FileConfig>("colour = 1").is_err());
    }

    #[test]
    fn request_limits_are_read_and_bounded() {
        let text = "request_timeout_secs = 5\nmax_url_bytes = 2048\nmax_header_bytes = 4096\n\
                    max_connections = 10\nmax_concurrent_requests = 4";
        let file: FileConfig = toml::from_str(text).unwrap_or_else(|e| unreachable!("{e}"));
        let c = file.resolve().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (c.request_timeout_secs, c.max_url_bytes, c.max_header_bytes, c.max_connections, c.max_concurrent_requests),
            (5, 2048, 4096, 10, 4)
        );
        let d = FileConfig::default().resolve().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d.max_url_bytes, defaults::MAX_URL_BYTES);
        for (bad, key) in [
            (FileConfig { request_timeout_secs: Some(0), ..FileConfig::default() }, "request_timeout_secs"),
            (FileConfig { max_url_bytes: Some(70_000), ..FileConfig::default() }, "max_url_bytes"),
            (FileConfig { max_url_bytes: Some(10), ..FileConfig::default() }, "max_url_bytes"),
            (FileConfig { max_header_bytes: Some(100), ..FileConfig::default() }, "max_header_bytes"),
            (FileConfig { max_connections: Some(0), ..FileConfig::default() }, "max_connections"),
            (FileConfig { max_concurrent_requests: Some(0), ..FileConfig::default() }, "max_concurrent_requests"),
        ] {
            assert!(matches!(bad.resolve(), Err(ConfigError::Invalid { key: k, .. }) if k == key), "{key}");
        }
    }

    #[test]
    fn a_leaflet_dir_without_leaflet_is_refused_at_start() {
        let bad = FileConfig { leaflet_dir: Some(PathBuf::from("src")), ..FileConfig::default() };
        assert!(matches!(bad.resolve(), Err(ConfigError::Invalid { key: "leaflet_dir", .. })));
    }
}
