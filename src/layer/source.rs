//! Where a data set's files come from: a directory on disk, or the default data set compiled
//! into the binary.
//!
//! The default data set (the Idlib map in the repository's `geodata/`) is embedded so that the
//! binary serves it from any working directory, and a `cargo install`ed binary works as it is:
//! 2.6 MB of GeoJSON and a manifest, read from memory exactly as they would be from disk.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::LoadError;

/// The files at the top of the repository's `geodata/` directory as they were when the binary
/// was built (see `build.rs`), by name.
static DEFAULT: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/geodata.rs"));

fn built_in(name: &str) -> Option<&'static [u8]> {
    DEFAULT.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// The files of a data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Geodata {
    /// A directory of GeoJSON files, with or without a `layers.toml`.
    Dir(PathBuf),
    /// The default data set compiled into the binary.
    BuiltIn,
}

impl Geodata {
    /// The data set `--geodata` names, or the built-in one when it names none.
    pub fn from_option(dir: Option<&Path>) -> Self {
        dir.map_or(Self::BuiltIn, |d| Self::Dir(d.to_owned()))
    }

    /// How a file of the data set is named in messages: its path on disk, or
    /// `(built-in)/NAME` for the compiled-in data set.
    pub fn path_of(&self, name: &str) -> PathBuf {
        match self {
            Self::Dir(dir) => dir.join(name),
            Self::BuiltIn => Path::new("(built-in)").join(name),
        }
    }

    /// Whether the data set has a file of this name.
    pub fn has(&self, name: &str) -> bool {
        match self {
            Self::Dir(dir) => dir.join(name).exists(),
            Self::BuiltIn => built_in(name).is_some(),
        }
    }

    /// The bytes of a file of the data set.
    pub fn read(&self, name: &str) -> Result<Cow<'static, [u8]>, LoadError> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read(&path).map(Cow::Owned).map_err(|source| LoadError::Io { path, source })
            }
            Self::BuiltIn => built_in(name)
                .map(Cow::Borrowed)
                .ok_or_else(|| LoadError::Io { path: self.path_of(name), source: std::io::ErrorKind::NotFound.into() }),
        }
    }

    /// The size of a file of the data set in bytes, without reading it.
    pub fn size(&self, name: &str) -> Result<u64, LoadError> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(name);
                std::fs::metadata(&path).map(|m| m.len()).map_err(|source| LoadError::Io { path, source })
            }
            Self::BuiltIn => self.read(name).map(|b| b.len() as u64),
        }
    }

    /// The names of the `.geojson` files at the top of the data set, sorted.
    pub fn geojson_files(&self) -> Result<Vec<String>, LoadError> {
        let is_geojson = |name: &str| Path::new(name).extension().is_some_and(|x| x.eq_ignore_ascii_case("geojson"));
        let mut names: Vec<String> = match self {
            Self::Dir(dir) => std::fs::read_dir(dir)
                .map_err(|source| LoadError::Io { path: dir.clone(), source })?
                .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
                .filter(|n| is_geojson(n))
                .collect(),
            Self::BuiltIn => DEFAULT.iter().map(|(n, _)| *n).filter(|n| is_geojson(n)).map(str::to_owned).collect(),
        };
        names.sort();
        Ok(names)
    }

    /// Where the data set is, for the log and `/health`: the directory, or `built-in`.
    pub fn describe(&self) -> String {
        match self {
            Self::Dir(dir) => dir.display().to_string(),
            Self::BuiltIn => "the built-in default data set (Idlib, February 2020)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_data_set_holds_the_manifest_and_its_layers() {
        let built_in = Geodata::BuiltIn;
        assert!(built_in.has(super::super::MANIFEST));
        let files = built_in.geojson_files().unwrap_or_default();
        assert!(files.iter().any(|f| f == "report-places.geojson"), "{files:?}");
        let on_disk = Geodata::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata"));
        assert_eq!(files, on_disk.geojson_files().unwrap_or_default());
        assert!(matches!(built_in.read("nope.geojson"), Err(LoadError::Io { .. })));
    }
}
