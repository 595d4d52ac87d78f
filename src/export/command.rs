//! The `tessera export` command: its flags, read into a [`Job`] with the same parsers and
//! meanings as the tile routes' parameters, then run with Ctrl-C and SIGTERM caught.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;

use super::{ExportError, Job, Progress, Report, run, tiles};
use crate::archive::{ArchiveKind, Content, Metadata};
use crate::cache::{EventSelection, LayerIds, TileSpec};
use crate::cli::{CliError, GeodataArg, seed_events};
use crate::config::DataSettings;
use crate::events::{EventStore, PgStore, SqliteStore};
use crate::http::ApiError;
use crate::http::query::{Query, parse_bbox};
use crate::layer::{Catalog, Geodata};
use crate::render::{Scale, TileFormat};
use crate::service::TileMaker;
use crate::style::Lang;
use crate::tile::{LonLatBBox, MAX_LATITUDE, MAX_ZOOM};

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The archive to write: a `.pmtiles` (PMTiles v3) or `.mbtiles` (MBTiles 1.3) file,
    /// replaced if it exists.
    pub out: PathBuf,
    /// The area: west,south,east,north in degrees (west greater than east crosses the
    /// antimeridian).
    #[arg(long, value_name = "W,S,E,N")]
    pub bbox: String,
    /// The zooms: MIN-MAX (inclusive), or one zoom.
    #[arg(long, value_name = "MIN-MAX")]
    pub zooms: String,
    /// The tiles' format: png, webp, jpg or mvt (vector tiles).
    #[arg(long, default_value = "png")]
    pub format: String,
    /// Comma-separated layer ids [default: every layer, and for vector tiles the labels];
    /// `events` among them adds the events (`--layers events` alone: the events only, on
    /// transparent tiles), `labels` the labels layer of vector tiles.
    #[arg(long)]
    pub layers: Option<String>,
    /// Add the events: drawn over the base map on raster tiles, as the `events` layer of
    /// vector tiles.
    #[arg(long)]
    pub events: bool,
    /// The events' time: an instant, a date or an interval (as the tiles' `datetime`).
    #[arg(long)]
    pub datetime: Option<String>,
    /// First day of the events (as the tiles' `from`).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the events, inclusive (as the tiles' `to`).
    #[arg(long)]
    pub to: Option<String>,
    /// Comma-separated kinds of event (as the tiles' `kind`).
    #[arg(long)]
    pub kind: Option<String>,
    /// Language of the place names on raster tiles: en, ar, both or none.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// 1 for 256 px raster tiles, 2 for 512 px (high-density screens).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub scale: u8,
    /// Quality of JPEG tiles, 1 (smallest) to 100 (best).
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub jpeg_quality: u8,
    #[command(flatten)]
    #[expect(missing_docs, reason = "the section documents its flags")]
    pub data: GeodataArg,
}

/// A flag whose value cannot be used.
fn bad(flag: &str, reason: impl Into<String>) -> CliError {
    CliError::Flag { flag: flag.to_owned(), reason: reason.into() }
}

/// A route parameter's error as the flag's.
fn from_param(e: ApiError) -> CliError {
    match e {
        ApiError::InvalidParameter { name, reason } => bad(&format!("--{name}"), reason),
        other => bad("--layers", other.to_string()),
    }
}

/// `MIN-MAX` or one zoom, within tile math's zooms.
fn parse_zooms(text: &str) -> Result<(u8, u8), CliError> {
    let zoom = |t: &str| t.trim().parse::<u8>().ok().filter(|z| *z <= MAX_ZOOM);
    let range = match text.split_once('-') {
        Some((a, b)) => zoom(a).zip(zoom(b)),
        None => zoom(text).map(|z| (z, z)),
    };
    match range {
        Some((a, b)) if a <= b => Ok((a, b)),
        Some(_) => Err(bad("--zooms", format!("'{text}': the first zoom is above the second"))),
        None => Err(bad("--zooms", format!("'{text}' is not MIN-MAX or a zoom, each 0 to {MAX_ZOOM}"))),
    }
}

/// What the flags ask for, checked against the catalog.
struct Asked {
    spec: TileSpec,
    content: Content,
    layers: LayerIds,
    /// Whether vector tiles carry the `labels` layer.
    labels: bool,
    events: Option<EventSelection>,
    lang: Option<Lang>,
}

fn asked(args: &ExportArgs, catalog: &Catalog) -> Result<Asked, CliError> {
    let list = args.layers.as_deref();
    let names: Vec<&str> = list.map(|l| l.split(',').map(str::trim).collect()).unwrap_or_default();
    let with_events = args.events || names.contains(&"events");
    // As on the vector tile routes: the labels layer by default, or when named.
    let vector = args.format == "mvt";
    let labels = vector && (list.is_none() || names.contains(&crate::mvt::LABELS));
    let rest: Vec<&str> =
        names.iter().copied().filter(|n| *n != "events" && !(vector && *n == crate::mvt::LABELS)).collect();
    let layers: LayerIds = match (list.is_some(), rest.is_empty()) {
        (true, true) => Arc::from(Vec::<String>::new()),
        (true, false) => catalog.select(Some(&rest.join(",")))?.into_iter().map(|l| l.meta.id.clone()).collect(),
        (false, _) => catalog.select(None)?.into_iter().map(|l| l.meta.id.clone()).collect(),
    };
    // The event flags mean what the tile routes' parameters mean: parsed by the same code.
    let mut pairs: Vec<(&str, &str)> =
        [("datetime", &args.datetime), ("from", &args.from), ("to", &args.to), ("kind", &args.kind)]
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect();
    pairs.push(("lang", &args.lang));
    let query = Query::parse(Some(&serde_urlencoded::to_string(&pairs).unwrap_or_default())).map_err(from_param)?;
    let selection = query.events().map_err(from_param)?;
    let lang = query.lang().map_err(from_param)?.unwrap_or(Some(Lang::En));
    let events = with_events.then_some(selection);
    let scale = if args.scale == 2 { Scale::X2 } else { Scale::X1 };
    if vector {
        if layers.is_empty() && events.is_none() && !labels {
            return Err(bad("--layers", "names no layer, no labels and no events: nothing to export"));
        }
        let spec = TileSpec::Vector { layers: Arc::clone(&layers), labels, events: events.clone() };
        return Ok(Asked { spec, content: Content::Mvt, layers, labels, events, lang: None });
    }
    let format = TileFormat::from_extension(&args.format, args.jpeg_quality)
        .ok_or_else(|| bad("--format", format!("'{}' is not png, webp, jpg or mvt", args.format)))?;
    let spec = match (layers.is_empty(), events.clone()) {
        (true, None) => return Err(bad("--layers", "names no layer and no events: nothing to export")),
        (true, Some(_)) if !format.allows_transparency() => {
            return Err(bad(
                "--format",
                "the events alone are drawn on transparent tiles, and JPEG has no transparency: use png or webp",
            ));
        }
        (true, Some(events)) => TileSpec::Overlay { scale, format, events },
        (false, None) => TileSpec::Raster { scale, format, layers: Arc::clone(&layers), lang },
        (false, Some(events)) => TileSpec::Combined { scale, format, layers: Arc::clone(&layers), lang, events },
    };
    Ok(Asked { spec, content: Content::of(format), layers, labels: false, events, lang })
}

/// The archive's metadata: the catalog's name and credit, the area and zooms, the vector layers
/// of vector tiles, and how the tiles were made.
fn metadata(args: &ExportArgs, catalog: &Catalog, asked: &Asked, area: LonLatBBox, zooms: (u8, u8)) -> Metadata {
    let layers: Vec<_> = asked.layers.iter().filter_map(|id| catalog.layer(id)).collect();
    let bounds = LonLatBBox { south: area.south.max(-MAX_LATITUDE), north: area.north.min(MAX_LATITUDE), ..area };
    let c = catalog.center();
    let inside =
        |lon: f64, lat: f64| lon >= bounds.west && lon <= bounds.east && lat >= bounds.south && lat <= bounds.north;
    let (lon, lat) = match inside(c.position.lon, c.position.lat) {
        true => (c.position.lon, c.position.lat),
        false => ((bounds.west + bounds.east) / 2.0, (bounds.south + bounds.north) / 2.0),
    };
    let vector_layers = (asked.content == Content::Mvt).then(|| {
        crate::mvt::vector_layers(catalog)
            .into_iter()
            .filter(|l| match l["id"].as_str() {
                Some("events") => asked.events.is_some(),
                Some(crate::mvt::LABELS) => asked.labels,
                Some(id) => asked.layers.iter().any(|i| i == id),
                None => false,
            })
            .map(|mut l| {
                // TileJSON: a layer's zooms stay within the tileset's.
                for (key, lo, hi) in [("minzoom", zooms.0, zooms.1), ("maxzoom", zooms.0, zooms.1)] {
                    if let Some(z) = l[key].as_u64() {
                        l[key] = serde_json::json!(z.clamp(u64::from(lo), u64::from(hi)));
                    }
                }
                l
            })
            .collect()
    });
    let made_with = serde_json::json!({
        "generator": format!("tessera {}", env!("CARGO_PKG_VERSION")),
        "exported": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "layers": asked.layers.iter().collect::<Vec<_>>(),
        "events": asked.events.as_ref().map(|_| serde_json::json!({
            "datetime": args.datetime, "from": args.from, "to": args.to, "kind": args.kind,
        })),
        "lang": asked.lang.map_or("none", Lang::as_str),
        "scale": args.scale,
    });
    let overlay = matches!(asked.spec, TileSpec::Overlay { .. });
    Metadata {
        name: if overlay { format!("{}: events", catalog.title) } else { catalog.title.clone() },
        description: catalog.description.clone(),
        attribution: catalog.attribution(layers.iter().copied()),
        content: asked.content,
        minzoom: zooms.0,
        maxzoom: zooms.1,
        bounds,
        center: (lon, lat, c.zoom.clamp(zooms.0, zooms.1)),
        vector_layers,
        overlay,
        made_with,
    }
}

/// The events an export reads: PostgreSQL's when `events_db` is set, else a snapshot of the
/// SQLite database under the data directory, taken without its lock (a server may hold it),
/// with the catalog's seed events when there is no database yet.
fn open_events(data: &DataSettings, catalog: &Catalog) -> Result<Arc<dyn EventStore>, CliError> {
    let store: Box<dyn EventStore> = match &data.events_db {
        Some(url) => Box::new(PgStore::open(url.expose(), "tessera export")?),
        None => Box::new(SqliteStore::snapshot(&data.data)?),
    };
    if !store.read_only() {
        seed_events(store.as_ref(), catalog)?;
    }
    Ok(Arc::from(store))
}

/// `tessera export`: the job from the flags, run on every core with its progress on standard
/// error; Ctrl-C or SIGTERM stops it and removes its partial file.
pub fn export(args: &ExportArgs) -> Result<Report, CliError> {
    let kind = ArchiveKind::of(&args.out)
        .ok_or_else(|| bad("OUT", format!("{} must end in .pmtiles or .mbtiles", args.out.display())))?;
    let areas = parse_bbox(&args.bbox).map_err(from_param)?;
    let zooms = parse_zooms(&args.zooms)?;
    let data = args.data.resolve()?;
    let catalog = Arc::new(crate::cli::load(&Geodata::from_option(data.geodata.as_deref()))?);
    let asked = asked(args, &catalog)?;
    let events: Arc<dyn EventStore> = match asked.events {
        Some(_) => open_events(&data, &catalog)?,
        None => Arc::new(SqliteStore::in_memory()?),
    };
    let area = match areas.as_slice() {
        [one] => *one,
        // Across the antimeridian, the bounds say so as TileJSON does: west greater than east.
        [east_half, west_half] => LonLatBBox { east: west_half.east, ..*east_half },
        _ => return Err(bad("--bbox", "is not one box")),
    };
    let meta = metadata(args, &catalog, &asked, area, zooms);
    let maker = TileMaker::new(events, args.jpeg_quality, catalog.background)?;
    let job = Job { out: args.out.clone(), kind, areas, zooms, spec: asked.spec, meta };
    let list = tiles(&job.areas, zooms);
    eprintln!(
        "export: {} tiles at zooms {}-{} to {} (on {} threads)",
        list.len(),
        zooms.0,
        zooms.1,
        job.out.display(),
        rayon::current_num_threads()
    );
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal ends the process at once (leaving only the `.partial` file).
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(CliError::Signals)?;
    }
    let progress = Progress::on_stderr(list.len() as u64);
    let outcome = run(&job, &list, &maker, &catalog, &stop, &progress);
    progress.finish();
    outcome.map_err(CliError::from)
}

impl From<ExportError> for CliError {
    fn from(e: ExportError) -> Self {
        CliError::Export(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zooms_are_a_range_or_one() {
        assert_eq!(parse_zooms("0-12").ok(), Some((0, 12)));
        assert_eq!(parse_zooms("9").ok(), Some((9, 9)));
        for bad in ["12-3", "a-b", "0-31", "-1", ""] {
            assert!(parse_zooms(bad).is_err(), "{bad}");
        }
    }
}
