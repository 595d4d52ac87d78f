//! Why a geodata directory could not be loaded.

use std::path::PathBuf;

/// A problem with one feature of a GeoJSON file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureProblem {
    /// The member is not a GeoJSON Feature object.
    #[error("not a GeoJSON Feature: {0}")]
    NotAFeature(String),
    /// The feature's geometry is null or missing.
    #[error("has no geometry")]
    NoGeometry,
    /// A MultiPoint, MultiLineString or MultiPolygon with no members (RFC 7946 lets a reader
    /// take it as no geometry).
    #[error("its {0} has no coordinates, so it has no location")]
    EmptyGeometry(&'static str),
    /// A geometry type that tessera does not draw.
    #[error("geometry type {0} is not supported (use Point, LineString, Polygon or their Multi- forms)")]
    UnsupportedType(&'static str),
    /// A position with fewer than two numbers.
    #[error("{path} has {len} number(s); a position needs longitude and latitude")]
    ShortPosition {
        /// Where the position is, e.g. `coordinates[0][3]`.
        path: String,
        /// How many numbers it had.
        len: usize,
    },
    /// A coordinate that is NaN or infinite.
    #[error("{path} has a coordinate that is not finite")]
    NonFinite {
        /// Where the position is.
        path: String,
    },
    /// A coordinate outside -180..180 / -90..90.
    #[error("{path} = [{lon}, {lat}] is out of range (longitude -180..180, latitude -90..90)")]
    OutOfRange {
        /// Where the position is.
        path: String,
        /// Its longitude.
        lon: f64,
        /// Its latitude.
        lat: f64,
    },
    /// A line with fewer than two positions or a ring with fewer than four.
    #[error("{path} has {len} position(s); at least {min} are needed")]
    TooFewPositions {
        /// Which line or ring.
        path: String,
        /// How many positions it had.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A polygon ring whose last position differs from its first.
    #[error("ring {path} is not closed: its last position differs from its first")]
    UnclosedRing {
        /// Which ring.
        path: String,
    },
    /// Two features of one layer share an id.
    #[error("id {0} is used by an earlier feature of the same file")]
    DuplicateId(String),
}

/// A geodata directory, manifest or GeoJSON file that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `layers.toml` is not valid TOML or does not follow the manifest schema.
    #[error("{path}: {source}")]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// The parse error, with line and column.
        source: Box<toml::de::Error>,
    },
    /// The manifest parses but says something impossible.
    #[error("{path}: layer '{layer}': {reason}")]
    ManifestLayer {
        /// The manifest's path.
        path: PathBuf,
        /// The layer id.
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// A file is not parsable JSON.
    #[error("{path}: not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
    /// The file's top-level object is not a Feature or FeatureCollection.
    #[error("{path}: expected a GeoJSON FeatureCollection or Feature, found {found}")]
    NotFeatures {
        /// The file.
        path: PathBuf,
        /// What the top level was.
        found: String,
    },
    /// One feature is invalid.
    #[error("{path}: feature {index}{}: {problem}", id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default())]
    Feature {
        /// The file.
        path: PathBuf,
        /// Index of the feature in the file's `features` array.
        index: usize,
        /// Its id, when it has one.
        id: Option<String>,
        /// What is wrong.
        problem: FeatureProblem,
    },
    /// The geodata directory does not exist, or is not a directory.
    #[error(
        "geodata directory {0} does not exist or is not a directory (it comes from --geodata, TESSERA_GEODATA or geodata in the config file; leave it out to serve the built-in data set)"
    )]
    NoDirectory(PathBuf),
    /// An image overlay (`[[images]]`) cannot be served.
    #[error("{path}: image '{id}': {problem}")]
    Image {
        /// The image file, or the manifest for a problem of the entry itself.
        path: PathBuf,
        /// The image's id.
        id: String,
        /// What is wrong.
        problem: crate::imagery::ImageError,
    },
    /// The directory holds neither a manifest nor any `.geojson` file.
    #[error("{0}: no layers.toml and no .geojson files")]
    Empty(PathBuf),
}

/// A load failure taken apart, as `/health` and the reload log name it: the file, the feature
/// (for a problem of one feature), and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file (or directory) at fault.
    pub file: PathBuf,
    /// The feature's index in its file, for a problem of one feature.
    pub feature: Option<usize>,
    /// The feature's id, when it has one.
    pub feature_id: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl LoadError {
    /// The file, feature and reason of this failure.
    pub fn problem(&self) -> Problem {
        let whole =
            |file: &PathBuf, reason: String| Problem { file: file.clone(), feature: None, feature_id: None, reason };
        match self {
            Self::Io { path, source } => whole(path, source.to_string()),
            Self::Manifest { path, source } => whole(path, source.to_string()),
            Self::ManifestLayer { path, layer, reason } => whole(path, format!("layer '{layer}': {reason}")),
            Self::Json { path, source } => whole(path, format!("not valid JSON: {source}")),
            Self::NotFeatures { path, found } => {
                whole(path, format!("expected a GeoJSON FeatureCollection or Feature, found {found}"))
            }
            Self::Feature { path, index, id, problem } => Problem {
                file: path.clone(),
                feature: Some(*index),
                feature_id: id.clone(),
                reason: problem.to_string(),
            },
            Self::NoDirectory(path) => whole(path, "does not exist or is not a directory".into()),
            Self::Image { path, id, problem } => whole(path, format!("image '{id}': {problem}")),
            Self::Empty(path) => whole(path, "no layers.toml and no .geojson files".into()),
        }
    }
}
