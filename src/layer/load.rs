//! Reading a data set (a directory, or the built-in one): the manifest if there is one, else
//! every `.geojson` file, each validated feature by feature.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::manifest::{LayerEntry, Manifest, valid_layer_id};
use super::{Catalog, Feature, FeatureProblem, Geodata, Layer, LayerMeta, LoadError, SeedFile, validate_geometry};
use crate::imagery::{GeoImage, ImageEntry, ImageError, ImageLimits};
use crate::tile::LonLatBBox;

/// The manifest's file name inside a geodata directory.
pub const MANIFEST: &str = "layers.toml";

/// Loads and validates every layer of a geodata directory.
///
/// With a `layers.toml`, its layers are loaded; without one, every `*.geojson` file becomes a
/// layer named after the file, with the default style for each geometry type.
pub fn load_dir(dir: &Path) -> Result<Catalog, LoadError> {
    load(&Geodata::Dir(dir.to_owned()))
}

/// Loads and validates every layer of a data set, as [`load_dir`] does for a directory.
pub fn load(source: &Geodata) -> Result<Catalog, LoadError> {
    let began = std::time::SystemTime::now();
    if let Geodata::Dir(dir) = source
        && !dir.is_dir()
    {
        return Err(LoadError::NoDirectory(dir.clone()));
    }
    let manifest_path = source.path_of(MANIFEST);
    let manifest = if source.has(MANIFEST) {
        let bytes = source.read(MANIFEST)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| LoadError::Io {
            path: manifest_path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
        })?;
        toml::from_str::<Manifest>(text)
            .map_err(|e| LoadError::Manifest { path: manifest_path.clone(), source: Box::new(e) })?
    } else {
        manifest_from_files(source)?
    };
    let mut seen = HashSet::new();
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, entry) in manifest.layers.iter().enumerate() {
        let bad =
            |reason: String| LoadError::ManifestLayer { path: manifest_path.clone(), layer: entry.id.clone(), reason };
        if !valid_layer_id(&entry.id) {
            return Err(bad("the id must be 1-64 characters of a-z, 0-9, '-' and '_'".into()));
        }
        if !seen.insert(entry.id.clone()) {
            return Err(bad("the id is used by another layer".into()));
        }
        let (minzoom, maxzoom) = (entry.minzoom.unwrap_or(0), entry.maxzoom.unwrap_or(crate::tile::MAX_ZOOM));
        if minzoom > maxzoom {
            return Err(bad(format!("minzoom {minzoom} is above maxzoom {maxzoom}")));
        }
        let order = entry.order.unwrap_or(i as i32);
        let labels = entry.label_spec(minzoom, maxzoom, order).map_err(bad)?;
        let (clipped_to, not_within) = entry.boxes().map_err(bad)?;
        if entry.place_merge_km.is_some_and(|km| !(0.0..=100.0).contains(&km)) {
            return Err(bad("place_merge_km must be between 0 and 100".into()));
        }
        let bytes = source.read(&entry.file)?;
        let features = parse_geojson_bytes(&bytes, &source.path_of(&entry.file), entry.id_property.as_deref())?;
        let meta = LayerMeta {
            id: entry.id.clone(),
            title: entry.title.clone().unwrap_or_else(|| entry.id.clone()),
            description: entry.description.clone().unwrap_or_default(),
            note: entry.note.clone().filter(|n| !n.trim().is_empty()),
            attribution: entry.attribution.clone().unwrap_or_default(),
            license: entry.license.clone().unwrap_or_default(),
            minzoom,
            maxzoom,
            order,
        };
        let fingerprint = fingerprint(&format!("{entry:?} order {order}"), &bytes);
        let layer = Layer::new(meta, features, &entry.style, &entry.rules)
            .with_boxes(clipped_to, not_within)
            .with_fingerprint(fingerprint);
        layers.push(match labels {
            Some(spec) => layer.with_labels(spec).with_place_keys(entry.place_id.clone(), entry.place_merge_km),
            None => layer,
        });
    }
    layers.sort_by_key(|l| l.meta.order);
    let bounds = manifest.bounds.map(|[west, south, east, north]| LonLatBBox { west, south, east, north });
    let mut catalog =
        Catalog::new(manifest.title, manifest.description, manifest.background, manifest.center, bounds, layers);
    (catalog.images, catalog.image_fingerprints) = load_images(source, &manifest.images, &catalog, &manifest_path)?;
    catalog.events_seed = match manifest.events {
        Some(name) => Some(SeedFile { bytes: source.read(&name)?.into_owned(), path: source.path_of(&name), name }),
        None => None,
    };
    catalog.read_at = Some(began);
    Ok(catalog)
}

fn manifest_from_files(source: &Geodata) -> Result<Manifest, LoadError> {
    let files = source.geojson_files()?;
    if files.is_empty() {
        return Err(LoadError::Empty(source.path_of("")));
    }
    let layers = files
        .into_iter()
        .filter_map(|file| {
            let stem = Path::new(&file).file_stem()?.to_string_lossy().to_string();
            Some(LayerEntry { id: id_from_stem(&stem), title: Some(stem), file, ..LayerEntry::default() })
        })
        .collect();
    Ok(Manifest {
        title: None,
        description: None,
        background: None,
        center: None,
        bounds: None,
        events: None,
        layers,
        images: Vec::new(),
    })
}

/// Checks and decodes each `[[images]]` entry (see [`crate::imagery`]): an id that is URL-safe,
/// not `events` and not taken by a layer or another image, a file within the size limit that
/// decodes, sane bounds and zooms.
fn load_images(
    source: &Geodata,
    entries: &[ImageEntry],
    catalog: &Catalog,
    manifest_path: &Path,
) -> Result<(Vec<GeoImage>, Vec<u64>), LoadError> {
    let limits = ImageLimits::DEFAULT;
    let mut images: Vec<GeoImage> = Vec::with_capacity(entries.len());
    let mut fingerprints = Vec::with_capacity(entries.len());
    for entry in entries {
        let bad = |path: PathBuf, problem| LoadError::Image { path, id: entry.id.clone(), problem };
        let taken = if !valid_layer_id(&entry.id) {
            Some("must be 1-64 characters of a-z, 0-9, '-' and '_', and not 'events' (the event overlay)")
        } else if catalog.layer(&entry.id).is_some() {
            Some("is the id of a layer")
        } else if images.iter().any(|i| i.meta.id == entry.id) {
            Some("is used by another image")
        } else {
            None
        };
        if let Some(reason) = taken {
            return Err(bad(manifest_path.to_owned(), ImageError::Id(reason)));
        }
        let path = source.path_of(&entry.file);
        let bytes = source.size(&entry.file)?;
        if bytes > limits.max_file_bytes {
            return Err(bad(path, ImageError::FileTooLarge { bytes, limit: limits.max_file_bytes }));
        }
        let data = source.read(&entry.file)?;
        let image = GeoImage::load(entry, &data, crate::tile::MAX_ZOOM, limits).map_err(|problem| {
            let path = match problem {
                ImageError::Decode(_) | ImageError::FileTooLarge { .. } | ImageError::TooManyPixels { .. } => path,
                _ => manifest_path.to_owned(),
            };
            bad(path, problem)
        })?;
        images.push(image);
        fingerprints.push(fingerprint(&format!("{entry:?}"), &data));
    }
    Ok((images, fingerprints))
}

/// A hash of a manifest entry (as text) and the bytes of its file, which a reload compares.
fn fingerprint(entry: &str, bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entry.hash(&mut h);
    bytes.hash(&mut h);
    h.finish()
}

/// A URL-safe layer id from a file name: lower case, other characters turned into `-`.
fn id_from_stem(stem: &str) -> String {
    let id: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .take(64)
        .collect();
    if id.is_empty() {
        "layer".into()
    } else if super::manifest::RESERVED_IDS.contains(&id.as_str()) {
        format!("{id}-layer")
    } else {
        id
    }
}

/// Parses the bytes of a GeoJSON file (a FeatureCollection or one Feature) and validates each
/// feature, as [`load_dir`] does for each layer file. `path` only names the file in errors;
/// `id_property` is the property that gives a feature without a GeoJSON `id` its id (default
/// `id`). Positions are WGS84 degrees; each [`Feature::shape`] is in the Web Mercator unit
/// square.
///
/// # Examples
/// ```
/// use std::path::Path;
/// let text = br#"{"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.8, 36.2]}, "properties": {}}"#;
/// let features = tessera::layer::parse_geojson_bytes(text, Path::new("one.geojson"), None).unwrap();
/// assert_eq!(features[0].id_text(), "0");
/// ```
pub fn parse_geojson_bytes(bytes: &[u8], path: &Path, id_property: Option<&str>) -> Result<Vec<Feature>, LoadError> {
    let root: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|source| LoadError::Json { path: path.to_owned(), source })?;
    let kind = root.get("type").and_then(|t| t.as_str()).unwrap_or("").to_owned();
    let members: Vec<serde_json::Value> = match (kind.as_str(), root) {
        ("FeatureCollection", serde_json::Value::Object(mut o)) => match o.remove("features") {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                return Err(LoadError::NotFeatures {
                    path: path.to_owned(),
                    found: "a FeatureCollection without a features array".into(),
                });
            }
        },
        ("Feature", root) => vec![root],
        (_, root) => {
            let found = match kind.as_str() {
                "" => format!("JSON {}", json_kind(&root)),
                other => format!("type '{other}'"),
            };
            return Err(LoadError::NotFeatures { path: path.to_owned(), found });
        }
    };
    let mut ids = HashSet::new();
    members
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let raw_id = v.get("id").cloned();
            let err = |problem| LoadError::Feature {
                path: path.to_owned(),
                index,
                id: raw_id.as_ref().map(super::feature::id_text),
                problem,
            };
            let f = feature(v, index, id_property).map_err(err)?;
            if !ids.insert(f.id_text()) {
                return Err(err(FeatureProblem::DuplicateId(f.id_text())));
            }
            Ok(f)
        })
        .collect()
}

fn feature(v: serde_json::Value, index: usize, id_property: Option<&str>) -> Result<Feature, FeatureProblem> {
    let f: geojson::Feature = serde_json::from_value(v).map_err(|e| FeatureProblem::NotAFeature(e.to_string()))?;
    let g = f.geometry.ok_or(FeatureProblem::NoGeometry)?;
    let shape = validate_geometry(&g.value)?;
    let geometry = geo::Geometry::<f64>::try_from(&g.value).map_err(|e| FeatureProblem::NotAFeature(e.to_string()))?;
    let properties = f.properties.unwrap_or_default();
    let id = match f.id {
        Some(geojson::feature::Id::String(s)) => serde_json::Value::String(s),
        Some(geojson::feature::Id::Number(n)) => serde_json::Value::Number(n),
        None => match properties.get(id_property.unwrap_or("id")) {
            Some(v @ (serde_json::Value::String(_) | serde_json::Value::Number(_))) => v.clone(),
            _ => serde_json::Value::from(index),
        },
    };
    Ok(Feature { id, properties, geometry, shape })
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object without a type",
    }
}
