//! Configuration: every setting is one row of the table below, read once from a TOML file, the
//! environment and the command line (in rising order of precedence) into one [`Config`], and
//! passed down as it is.
//!
//! A row gives the setting's section, name, type, default, environment variable and checks; the
//! [`settings!`] macro makes of it the field of its section's struct ([`Config::server`]...), its
//! flag (`--name`, in [`ConfigArgs`]), its file key (`[section] name`), and its entry in
//! [`catalogue`], which a test checks the README's configuration table against. Adding a setting
//! is adding a row.
//!
//! Flags and variables arrive as text and are parsed by [`SettingValue::parse`] here, not by clap,
//! so that a bad value names the setting the same way whichever source gave it.

mod value;

pub use value::{ArchiveSource, DatabaseUrl, LogFormat, PublicUrl, Secret, SettingValue};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::style::Lang;

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
        /// The setting, as `section.name`.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// One setting as the documentation lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingInfo {
    /// The file key, `section.name`.
    pub key: &'static str,
    /// The command-line flag, `--name`.
    pub flag: String,
    /// The environment variable.
    pub env: &'static str,
    /// What it does (its doc comment).
    pub doc: String,
    /// Its default, as shown.
    pub default: String,
}

/// A check of one setting's value: `Err` says what is wrong.
type Check<T> = fn(&T) -> Result<(), String>;

/// Declares the settings; see the module documentation.
macro_rules! settings {
    ($(
        $(#[doc = $sdoc:literal])*
        [$sec:ident] $Section:ident, $Args:ident, $File:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr, env $env:literal
                    $(, check $check:expr)? $(, clap($($clap:tt)*))? ;
            )*
            $(
                @list
                $(#[doc = $ldoc:literal])*
                $lfield:ident : Vec<$lty:ty>, env $lenv:literal ;
            )*
        }
    )*) => {
        $(
            $(#[doc = $sdoc])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $Section {
                $( $(#[doc = $doc])* pub $field: $ty, )*
                $( $(#[doc = $ldoc])* pub $lfield: Vec<$lty>, )*
            }

            impl Default for $Section {
                fn default() -> Self {
                    Self { $( $field: $default, )* $( $lfield: Vec::new(), )* }
                }
            }

            $(#[doc = $sdoc])*
            /// (Flags and environment variables, as text.)
            #[derive(Debug, Clone, Default, clap::Args)]
            pub struct $Args {
                $(
                    $(#[doc = $doc])*
                    #[arg(long, env = $env, value_name = "VALUE" $(, $($clap)*)?)]
                    pub $field: Option<String>,
                )*
                $(
                    $(#[doc = $ldoc])*
                    #[arg(long, env = $lenv, value_name = "VALUE", value_delimiter = ',')]
                    pub $lfield: Vec<String>,
                )*
            }

            $(#[doc = $sdoc])*
            /// (As a config file gives it; every key optional.)
            #[derive(Debug, Clone, Default, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $File {
                $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
                $( $(#[doc = $ldoc])* pub $lfield: Option<Vec<$lty>>, )*
            }

            impl $Section {
                /// The section from a file and the flags: a flag (or variable) wins over the
                /// file, the file over the default; each value is checked.
                pub fn resolve(file: $File, args: &$Args) -> Result<Self, ConfigError> {
                    let defaults = Self::default();
                    Ok(Self { $(
                        $field: {
                            const KEY: &str = concat!(stringify!($sec), ".", stringify!($field));
                            let invalid = |reason: String| ConfigError::Invalid { key: KEY, reason };
                            let value: $ty = match &args.$field {
                                Some(text) => <$ty as SettingValue>::parse(text).map_err(invalid)?,
                                None => file.$field.unwrap_or(defaults.$field),
                            };
                            $( { let check: Check<$ty> = $check; check(&value).map_err(invalid)?; } )?
                            value
                        },
                    )* $(
                        // Flags (each a value, or a comma-separated list) replace the file's list.
                        $lfield: match args.$lfield.is_empty() {
                            true => file.$lfield.unwrap_or_default(),
                            false => args.$lfield.iter().map(|t| <$lty as SettingValue>::parse(t)).collect::<Result<_, _>>()
                                .map_err(|reason| ConfigError::Invalid {
                                    key: concat!(stringify!($sec), ".", stringify!($lfield)),
                                    reason,
                                })?,
                        },
                    )* })
                }

                fn catalogue(out: &mut Vec<SettingInfo>) {
                    let defaults = Self::default();
                    $(
                        out.push(SettingInfo {
                            key: concat!(stringify!($sec), ".", stringify!($field)),
                            flag: format!("--{}", stringify!($field).replace('_', "-")),
                            env: $env,
                            doc: [$($doc.trim()),*].join(" "),
                            default: SettingValue::show(&defaults.$field),
                        });
                    )*
                    $(
                        out.push(SettingInfo {
                            key: concat!(stringify!($sec), ".", stringify!($lfield)),
                            flag: format!("--{}", stringify!($lfield).replace('_', "-")),
                            env: $lenv,
                            doc: [$($ldoc.trim()),*].join(" "),
                            default: SettingValue::show(&defaults.$lfield),
                        });
                    )*
                }
            }
        )*

        /// Everything `tessera serve` runs with, by section.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct Config {
            $( $(#[doc = $sdoc])* pub $sec: $Section, )*
        }

        /// A config file: every section and key optional.
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FileConfig {
            $( $(#[doc = $sdoc])* #[serde(default)] pub $sec: $File, )*
        }

        /// Every setting's flag and environment variable.
        #[derive(Debug, Clone, Default, clap::Args)]
        pub struct ConfigArgs {
            $( #[command(flatten)] #[allow(missing_docs, reason = "the section's own docs say it")] pub $sec: $Args, )*
        }

        impl Config {
            /// Resolves a file and the flags into the configuration, checking every value.
            pub fn resolve(file: FileConfig, args: &ConfigArgs) -> Result<Self, ConfigError> {
                let config = Self { $( $sec: $Section::resolve(file.$sec, &args.$sec)?, )* };
                config.check_together()?;
                Ok(config)
            }
        }

        /// Every setting, in table order, as the documentation lists it.
        pub fn catalogue() -> Vec<SettingInfo> {
            let mut out = Vec::new();
            $( $Section::catalogue(&mut out); )*
            out
        }
    };
}

settings! {
    /// The data served and the server's own state.
    [data] DataSettings, DataArgs, DataFile {
        /// Directory of GeoJSON layers (with or without a `layers.toml`); none serves the default
        /// data set compiled into the binary.
        geodata: Option<PathBuf> = None, env "TESSERA_GEODATA";
        /// Directory of the server's own state (the event store), unless `events_db` is set.
        data: PathBuf = PathBuf::from("data"), env "TESSERA_DATA";
        /// PostgreSQL/PostGIS database of the events, shared by every server given the same one
        /// (`postgres://user:password@host:5432/tessera`); none keeps them in SQLite under
        /// `data`. Prefer the variable, which stays out of the process list.
        events_db: Option<DatabaseUrl> = None, env "TESSERA_EVENTS_DB", clap(hide_env_values = true);
    }

    /// Where the server listens and how it names itself.
    [server] ServerSettings, ServerArgs, ServerFile {
        /// Socket address to listen on.
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)), env "TESSERA_LISTEN";
        /// Base URL of links and TileJSON (e.g. `https://maps.example.org`) when behind a proxy;
        /// none takes it from the request's `Host` header.
        public_url: Option<PublicUrl> = None, env "TESSERA_PUBLIC_URL";
        /// Directory Leaflet is served from (an npm install's `node_modules/leaflet/dist`); none
        /// loads it from the pinned CDN URL with integrity hashes.
        leaflet_dir: Option<PathBuf> = None, env "TESSERA_LEAFLET_DIR", check leaflet_dir;
        /// Socket address serving `/metrics` alone (e.g. `127.0.0.1:9090`, for Prometheus);
        /// none serves it on `listen` with the other routes.
        metrics_listen: Option<SocketAddr> = None, env "TESSERA_METRICS_LISTEN";
        /// How the log is written: `text` (readable lines) or `json` (one object per line).
        log_format: LogFormat = LogFormat::Text, env "TESSERA_LOG_FORMAT";
        /// Directory MapLibre GL JS is served from for the vector view (an npm install's
        /// `node_modules/maplibre-gl/dist`); none loads it from the pinned CDN URL with integrity
        /// hashes.
        maplibre_dir: Option<PathBuf> = None, env "TESSERA_MAPLIBRE_DIR", check maplibre_dir;
        /// Directory MapLibre's RTL text plugin, which shapes Arabic, is served from
        /// (`node_modules/@mapbox/mapbox-gl-rtl-text/dist`); none fetches it from the pinned CDN
        /// URL with its integrity hash.
        rtl_text_dir: Option<PathBuf> = None, env "TESSERA_RTL_TEXT_DIR", check rtl_text_dir;
        @list
        /// Pre-rendered archives to serve under `/archives/NAME/...`, each `NAME=PATH` of a
        /// `.pmtiles` or `.mbtiles` file (`tessera export` writes them); repeat the flag for
        /// several (the variable takes them comma-separated, the file a list).
        archive: Vec<ArchiveSource>, env "TESSERA_ARCHIVE";
    }

    /// How much one request and all of them together may take.
    [limits] LimitSettings, LimitArgs, LimitFile {
        /// Seconds for a request to arrive whole and be answered (408 past it), and for a client
        /// to take any byte of an answer it is sent (closed past it).
        request_timeout_secs: u64 = 30, env "TESSERA_REQUEST_TIMEOUT_SECS",
            check |v| within(*v, 1, bounds::MAX_REQUEST_TIMEOUT_SECS);
        /// Seconds a connection has to send a whole request head, also the longest a kept-alive
        /// connection waits for its next request (closed past it).
        head_timeout_secs: u64 = 10, env "TESSERA_HEAD_TIMEOUT_SECS",
            check |v| within(*v, 1, bounds::MAX_REQUEST_TIMEOUT_SECS);
        /// Least rate at which a request head must arrive once its first byte has, bytes per
        /// second, after a grace of 2 s (closed below it); 0 sets no minimum.
        head_min_rate: u64 = 256, env "TESSERA_HEAD_MIN_RATE";
        /// Longest path and query, bytes (414 past it).
        max_url_bytes: usize = 8 * 1024, env "TESSERA_MAX_URL_BYTES",
            check |v| within(*v, bounds::MIN_URL_BYTES, bounds::MAX_URL_BYTES);
        /// Most bytes of header lines in one request (431 past it).
        max_header_bytes: usize = 16 * 1024, env "TESSERA_MAX_HEADER_BYTES",
            check |v| within(*v, bounds::MIN_HEADER_BYTES, bounds::MAX_HEADER_BYTES);
        /// Connections open at once; further clients wait in the listen backlog.
        max_connections: usize = 1_000, env "TESSERA_MAX_CONNECTIONS", check positive;
        /// Connections open at once from one client address; a client's connections past it are
        /// closed as soon as they are accepted. Behind a reverse proxy every connection comes from
        /// the proxy's address: raise it to `max_connections` there.
        max_connections_per_client: usize = 64, env "TESSERA_MAX_CONNECTIONS_PER_CLIENT", check positive;
        /// Connections kept for addresses that hold none: once no more than this many are free, a
        /// connection from an address that already has one is closed as soon as it is accepted.
        reserved_connections: usize = 100, env "TESSERA_RESERVED_CONNECTIONS";
        /// Requests answered at once (503 past it).
        max_concurrent_requests: usize = 256, env "TESSERA_MAX_CONCURRENT_REQUESTS", check positive;
        /// Largest request body, bytes (413 past it).
        max_body_bytes: usize = 2 * 1024 * 1024, env "TESSERA_MAX_BODY_BYTES", check positive;
        /// Heavy answers made at once: items pages, and the compression of any answer of 64 KiB or
        /// more (default: half the cores, at least 1).
        heavy_workers: usize = half_the_cores(), env "TESSERA_HEAVY_WORKERS", check positive;
        /// Heavy answers that may wait beyond the ones being made (503 past it).
        heavy_queue: usize = 16, env "TESSERA_HEAVY_QUEUE";
        /// Memory for answers of 64 KiB or more, from when they are made until their client has
        /// taken them, MiB (503 past it).
        answer_buffer_mb: usize = 64, env "TESSERA_ANSWER_BUFFER_MB", check positive;
    }

    /// Tiles: zooms, names, caching and rendering.
    [tiles] TileSettings, TileArgs, TileFile {
        /// Deepest zoom served (at most 30).
        max_zoom: u8 = 20, env "TESSERA_MAX_ZOOM", check |v| within(*v, 0, crate::tile::MAX_ZOOM);
        /// Language of the place names on raster tiles when a request has no `?lang=`: `en`,
        /// `ar` or `both`.
        label_lang: Lang = Lang::En, env "TESSERA_LABEL_LANG";
        /// Memory for cached tiles, MiB; 0 turns the cache off.
        cache_mb: u64 = 256, env "TESSERA_CACHE_MB";
        /// Rendering jobs run at once (default: the number of cores).
        render_workers: usize = cores(), env "TESSERA_RENDER_WORKERS", check positive;
        /// Rendering jobs that may wait beyond the running ones (503 past it).
        render_queue: usize = 64, env "TESSERA_RENDER_QUEUE";
        /// Quality of `.jpg` tiles, 1 (smallest) to 100 (best).
        jpeg_quality: u8 = 85, env "TESSERA_JPEG_QUALITY", check |v| within(*v, 1, 100);
        /// `Cache-Control: max-age` of base tiles, image overlays, TileJSON and layers, seconds.
        tile_max_age: u64 = 3_600, env "TESSERA_TILE_MAX_AGE";
        /// `Cache-Control: max-age` of overlay tiles, vector tiles and event items, seconds (0:
        /// `no-cache`, revalidated with the ETag every time).
        events_max_age: u64 = 0, env "TESSERA_EVENTS_MAX_AGE";
    }

    /// The event store's writes.
    [events] EventSettings, EventArgs, EventFile {
        /// Bearer token that event writes must carry (at least 16 printable characters); none
        /// refuses every write. Prefer the variable, which stays out of the process list.
        write_token: Option<Secret> = None, env "TESSERA_WRITE_TOKEN", check token, clap(hide_env_values = true);
        /// Most events in one posted FeatureCollection (413 past it).
        max_batch: usize = 1_000, env "TESSERA_MAX_BATCH", check positive;
    }

    /// Feature pages of OGC API - Features.
    [features] FeatureSettings, FeatureArgs, FeatureFile {
        /// `limit` of an items page when the request gives none.
        items_limit: usize = 100, env "TESSERA_ITEMS_LIMIT", check positive;
        /// Largest `limit` honoured; larger ones are lowered to it.
        items_max_limit: usize = 10_000, env "TESSERA_ITEMS_MAX_LIMIT", check positive;
    }
}

impl Config {
    /// Checks between settings.
    fn check_together(&self) -> Result<(), ConfigError> {
        let names: Vec<&str> = self.server.archive.iter().map(|a| a.name.as_str()).collect();
        if let Some(twice) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| *n) {
            return Err(ConfigError::Invalid {
                key: "server.archive",
                reason: format!("two archives are named '{twice}'; each name is a URL of its own"),
            });
        }
        let f = &self.features;
        if f.items_limit > f.items_max_limit {
            return Err(ConfigError::Invalid {
                key: "features.items_limit",
                reason: format!("{} is above features.items_max_limit ({})", f.items_limit, f.items_max_limit),
            });
        }
        let l = &self.limits;
        if l.reserved_connections >= l.max_connections {
            return Err(ConfigError::Invalid {
                key: "limits.reserved_connections",
                reason: format!(
                    "{} leaves no connection for clients that have one: keep it below limits.max_connections ({})",
                    l.reserved_connections, l.max_connections
                ),
            });
        }
        Ok(())
    }

    /// Reads the config file (when one is given) and resolves it with the flags.
    pub fn load(file: Option<&Path>, args: &ConfigArgs) -> Result<Self, ConfigError> {
        let file = match file {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        Self::resolve(file, args)
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.limits.request_timeout_secs)
    }

    /// The time a connection has to send a request head.
    pub fn head_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.limits.head_timeout_secs)
    }
}

impl FileConfig {
    /// Reads a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), source: Box::new(e) })
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

fn half_the_cores() -> usize {
    (cores() / 2).max(1)
}

fn positive(v: &usize) -> Result<(), String> {
    if *v == 0 { Err("must be at least 1".into()) } else { Ok(()) }
}

fn within<T: PartialOrd + std::fmt::Display>(v: T, min: T, max: T) -> Result<(), String> {
    if v >= min && v <= max { Ok(()) } else { Err(format!("{v} is not between {min} and {max}")) }
}

fn token(t: &Option<Secret>) -> Result<(), String> {
    match t {
        Some(t) if t.expose().len() < 16 || !t.expose().bytes().all(|b| b.is_ascii_graphic()) => {
            Err("must be at least 16 printable ASCII characters without spaces".into())
        }
        _ => Ok(()),
    }
}

/// Whether a library's directory holds its files; the error says where to point it.
fn library_dir(dir: &Option<PathBuf>, files: &[&str], dist: &str) -> Result<(), String> {
    let Some(dir) = dir else { return Ok(()) };
    match files.iter().find(|f| !dir.join(f).is_file()) {
        Some(missing) => Err(format!("{} has no {missing}; point it at {dist}", dir.display())),
        None => Ok(()),
    }
}

fn leaflet_dir(dir: &Option<PathBuf>) -> Result<(), String> {
    library_dir(dir, &["leaflet.js", "leaflet.css"], "Leaflet's dist directory (node_modules/leaflet/dist)")
}

fn maplibre_dir(dir: &Option<PathBuf>) -> Result<(), String> {
    library_dir(
        dir,
        &["maplibre-gl.js", "maplibre-gl.css"],
        "MapLibre's dist directory (node_modules/maplibre-gl/dist)",
    )
}

fn rtl_text_dir(dir: &Option<PathBuf>) -> Result<(), String> {
    library_dir(
        dir,
        &["mapbox-gl-rtl-text.js"],
        "the RTL plugin's dist directory (node_modules/@mapbox/mapbox-gl-rtl-text/dist)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let mut args = ConfigArgs::default();
        args.tiles.max_zoom = Some("14".into());
        let c = Config::resolve(file("[server]\nlisten = \"127.0.0.1:9000\"\n[tiles]\nmax_zoom = 12"), &args)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.tiles.max_zoom, 14);
        assert_eq!(c.data.geodata, None, "the built-in data set unless a directory is named");
        assert_eq!(c.features.items_limit, 100);
    }

    #[test]
    fn bad_values_are_named_by_their_key() {
        let mut args = ConfigArgs::default();
        args.server.listen = Some("localhost".into());
        assert!(matches!(
            Config::resolve(FileConfig::default(), &args),
            Err(ConfigError::Invalid { key: "server.listen", .. })
        ));
        assert!(toml::from_str::<FileConfig>("colour = 1").is_err(), "an unknown key");
        assert!(toml::from_str::<FileConfig>("[tiles]\ncolour = 1").is_err(), "an unknown key in a section");
        assert!(toml::from_str::<FileConfig>("[server]\npublic_url = \"ftp://x\"").is_err(), "a bad URL");
    }

    #[test]
    fn request_limits_are_read_and_bounded() {
        let c = Config::resolve(
            file(
                "[limits]\nrequest_timeout_secs = 5\nmax_url_bytes = 2048\nmax_header_bytes = 4096\n\
                 max_connections = 10\nmax_concurrent_requests = 4\nreserved_connections = 2",
            ),
            &ConfigArgs::default(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let l = &c.limits;
        assert_eq!(
            (l.request_timeout_secs, l.max_url_bytes, l.max_header_bytes, l.max_connections, l.max_concurrent_requests),
            (5, 2048, 4096, 10, 4)
        );
        for (text, key) in [
            ("[limits]\nrequest_timeout_secs = 0", "limits.request_timeout_secs"),
            ("[limits]\nmax_url_bytes = 70000", "limits.max_url_bytes"),
            ("[limits]\nmax_url_bytes = 10", "limits.max_url_bytes"),
            ("[limits]\nmax_header_bytes = 100", "limits.max_header_bytes"),
            ("[limits]\nmax_connections = 0", "limits.max_connections"),
            ("[limits]\nmax_concurrent_requests = 0", "limits.max_concurrent_requests"),
            ("[limits]\nmax_connections = 10\nreserved_connections = 10", "limits.reserved_connections"),
            ("[limits]\nhead_timeout_secs = 0", "limits.head_timeout_secs"),
            ("[limits]\nheavy_workers = 0", "limits.heavy_workers"),
            ("[limits]\nmax_connections_per_client = 0", "limits.max_connections_per_client"),
            ("[tiles]\nmax_zoom = 31", "tiles.max_zoom"),
            ("[tiles]\njpeg_quality = 0", "tiles.jpeg_quality"),
            ("[tiles]\njpeg_quality = 101", "tiles.jpeg_quality"),
            ("[features]\nitems_limit = 20\nitems_max_limit = 10", "features.items_limit"),
            ("[events]\nwrite_token = \"short\"", "events.write_token"),
        ] {
            let got = Config::resolve(file(text), &ConfigArgs::default());
            assert!(matches!(got, Err(ConfigError::Invalid { key: k, .. }) if k == key), "{key}: {got:?}");
        }
    }

    #[test]
    fn a_leaflet_dir_without_leaflet_is_refused_at_start() {
        let mut args = ConfigArgs::default();
        args.server.leaflet_dir = Some("src".into());
        assert!(matches!(
            Config::resolve(FileConfig::default(), &args),
            Err(ConfigError::Invalid { key: "server.leaflet_dir", .. })
        ));
    }

    #[test]
    fn archives_come_from_repeated_flags_or_a_list_in_the_file() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Flags {
            #[command(flatten)]
            settings: ConfigArgs,
        }
        let flags = Flags::try_parse_from(["t", "--archive", "idlib=a.pmtiles", "--archive", "z12=b/c.mbtiles"])
            .unwrap_or_else(|e| unreachable!("{e}"));
        let c = Config::resolve(file("[server]\narchive = [\"old=x.pmtiles\"]"), &flags.settings)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let got: Vec<(&str, &str)> =
            c.server.archive.iter().map(|a| (a.name.as_str(), a.path.to_str().unwrap_or(""))).collect();
        assert_eq!(got, [("idlib", "a.pmtiles"), ("z12", "b/c.mbtiles")], "the flags replace the file's list");
        let c = Config::resolve(file("[server]\narchive = [\"old=x.pmtiles\"]"), &ConfigArgs::default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.server.archive.len(), 1);
        for bad in [
            "[server]\narchive = [\"Bad=x.pmtiles\"]",
            "[server]\narchive = [\"a=x.zip\"]",
            "[server]\narchive = [\"x.pmtiles\"]",
        ] {
            assert!(toml::from_str::<FileConfig>(bad).is_err(), "{bad}");
        }
        let twice =
            Config::resolve(file("[server]\narchive = [\"a=x.pmtiles\", \"a=y.mbtiles\"]"), &ConfigArgs::default());
        assert!(matches!(twice, Err(ConfigError::Invalid { key: "server.archive", .. })), "{twice:?}");
        let mut args = ConfigArgs::default();
        args.server.archive = vec!["a=x.pdf".into()];
        assert!(matches!(
            Config::resolve(FileConfig::default(), &args),
            Err(ConfigError::Invalid { key: "server.archive", .. })
        ));
    }

    #[test]
    fn maplibre_and_rtl_text_dirs_without_their_files_are_refused_at_start() {
        let mut args = ConfigArgs::default();
        args.server.maplibre_dir = Some("src".into());
        let e = Config::resolve(FileConfig::default(), &args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("server.maplibre_dir") && e.contains("maplibre-gl.js"), "{e}");
        let mut args = ConfigArgs::default();
        args.server.rtl_text_dir = Some("src".into());
        assert!(matches!(
            Config::resolve(FileConfig::default(), &args),
            Err(ConfigError::Invalid { key: "server.rtl_text_dir", .. })
        ));
    }

    #[test]
    fn every_setting_has_a_key_a_flag_and_a_variable() {
        let all = catalogue();
        assert!(all.len() >= 22, "{}", all.len());
        for s in &all {
            let name = s.key.split_once('.').map_or("", |(_, n)| n);
            assert_eq!(s.flag, format!("--{}", name.replace('_', "-")));
            assert_eq!(s.env, format!("TESSERA_{}", name.to_ascii_uppercase()), "{}", s.key);
            assert!(!s.doc.is_empty(), "{}", s.key);
        }
        let mut flags: Vec<&str> = all.iter().map(|s| s.flag.as_str()).collect();
        flags.sort_unstable();
        flags.dedup();
        assert_eq!(flags.len(), all.len(), "one flag per setting");
    }
}
