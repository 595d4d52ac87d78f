//! Reading events from a GeoJSON file, for the seed at first start and `tessera import`.

use std::path::Path;

use super::{EventInput, FieldError};

/// What a file held: the valid events, and each refused feature with its problems.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Events that passed validation.
    pub valid: Vec<EventInput>,
    /// Refused features: index in the file, id if any, and the problems.
    pub refused: Vec<(usize, Option<String>, Vec<FieldError>)>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Unreadable file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON, or not a Feature or FeatureCollection.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Reads and validates every feature of a GeoJSON file of events.
pub fn read_events(path: &Path) -> Result<ImportReport, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io { path: path.to_owned(), source })?;
    parse_events(&bytes, path)
}

/// Validates every feature of the bytes of a GeoJSON file of events; `path` names the file in
/// errors.
pub fn parse_events(bytes: &[u8], path: &Path) -> Result<ImportReport, ImportError> {
    let format = |reason: String| ImportError::Format { path: path.to_owned(), reason };
    let root: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format(format!("not valid JSON: {e}")))?;
    let features = match root.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => match root.get("features").and_then(|f| f.as_array()) {
            Some(a) => a.clone(),
            None => return Err(format("a FeatureCollection without a features array".into())),
        },
        Some("Feature") => vec![root],
        _ => return Err(format("expected a GeoJSON FeatureCollection or Feature".into())),
    };
    let mut report = ImportReport::default();
    for (i, f) in features.iter().enumerate() {
        match EventInput::from_feature(f, "") {
            Ok(e) => report.valid.push(e),
            Err(errs) => {
                let id =
                    f.get("id").or_else(|| f.pointer("/properties/id")).and_then(|v| v.as_str()).map(str::to_owned);
                report.refused.push((i, id, errs));
            }
        }
    }
    Ok(report)
}
