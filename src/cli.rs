//! The command line: `serve`, `check`, `render`, `import` and `export` (in `crate::export`),
//! parsed by clap and run here.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigArgs, ConfigError, DataArgs, DataSettings, FileConfig};
use crate::events::{EventStore, ImportError, LockError, PgStore, SqliteStore, StoreError, parse_events, read_events};
use crate::layer::{Catalog, Geodata, LoadError, SelectError};
use crate::render::{EncodeError, Scale, render_png};
use crate::tile::{TileCoord, TileParseError};

/// tessera: a map tile service for GeoJSON layers and live event markers.
///
/// With no command, `tessera` serves: every flag of `serve` works without the word `serve`.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The flags of `serve`, for `tessera` without a command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Cli {
    /// The command to run: the one named, else `serve` with the flags given.
    pub fn command(self) -> Command {
        self.command.unwrap_or(Command::Serve(Box::new(self.serve)))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve tiles, layers and TileJSON over HTTP.
    Serve(Box<ServeArgs>),
    /// Validate a geodata directory and exit non-zero on the first problem.
    Check(GeodataArg),
    /// Render one tile to a PNG file.
    Render(RenderArgs),
    /// Import events from a GeoJSON file into the event store.
    Import(ImportArgs),
    /// Render every tile of an area and zooms into a PMTiles or MBTiles archive.
    Export(Box<crate::export::ExportArgs>),
}

/// Flags of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// GeoJSON FeatureCollection (or Feature) of events.
    pub file: PathBuf,
    /// TOML file with any of the settings; flags and environment win over it.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    #[expect(missing_docs, reason = "the section documents its flags")]
    pub data: DataArgs,
}

/// Flags of `serve`: a config file and every setting (see [`crate::config`]).
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings; flags and environment win over it.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    #[expect(missing_docs, reason = "each setting documents its flag")]
    pub settings: ConfigArgs,
}

/// The data flags (`--geodata`, `--data`) of the commands that read data.
#[derive(Debug, Args)]
pub struct GeodataArg {
    /// TOML file with any of the settings; flags and environment win over it.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    #[expect(missing_docs, reason = "the section documents its flags")]
    pub data: DataArgs,
}

impl GeodataArg {
    /// The data section, from the config file and the flags.
    pub fn resolve(&self) -> Result<DataSettings, ConfigError> {
        data_settings(self.config.as_deref(), &self.data)
    }
}

/// The data section alone, from a config file and the data flags.
fn data_settings(file: Option<&Path>, args: &DataArgs) -> Result<DataSettings, ConfigError> {
    let file = match file {
        Some(p) => FileConfig::read(p)?.data,
        None => Default::default(),
    };
    DataSettings::resolve(file, args)
}

/// Flags of `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The tile, as Z/X/Y.
    pub tile: String,
    #[command(flatten)]
    #[expect(missing_docs, reason = "the section documents its flags")]
    pub data: GeodataArg,
    /// 1 for a 256 px tile, 2 for a 512 px tile.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub scale: u8,
    /// Comma-separated layer ids [default: all].
    #[arg(long)]
    pub layers: Option<String>,
    /// Output file [default: Z-X-Y.png, or Z-X-Y@2x.png].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Language of the place names: en, ar or both (the Latin-script name above the Arabic).
    #[arg(long, default_value_t = crate::style::Lang::En)]
    pub lang: crate::style::Lang,
    /// Draw no place names.
    #[arg(long)]
    pub no_labels: bool,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The geodata directory cannot be served.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A bad tile address.
    #[error("tile: {0}")]
    Tile(#[from] TileParseError),
    /// A bad layer list.
    #[error("--layers: {0}")]
    Layers(#[from] SelectError),
    /// PNG encoding failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another process holds the data directory.
    #[error("{source}: {advice}")]
    DataInUse {
        /// What holds it.
        source: LockError,
        /// What to do about it.
        advice: &'static str,
    },
    /// An events file could not be read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A flag's value cannot be used.
    #[error("{flag}: {reason}")]
    Flag {
        /// The flag, e.g. `--zooms`.
        flag: String,
        /// What is wrong.
        reason: String,
    },
    /// An export did not complete.
    #[error(transparent)]
    Export(Box<crate::export::ExportError>),
    /// Ctrl-C and SIGTERM could not be caught.
    #[error("cannot catch Ctrl-C: {0}")]
    Signals(std::io::Error),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ServeArgs {
    /// Resolves file, environment and flags into the configuration.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        Config::load(self.config.as_deref(), &self.settings)
    }
}

/// Loads a data set, logging which one and how long it took.
pub fn load(source: &Geodata) -> Result<Catalog, LoadError> {
    let started = Instant::now();
    let catalog = crate::layer::load(source)?;
    tracing::info!(
        data = %source.describe(),
        layers = catalog.layers().len(),
        features = catalog.feature_count(),
        images = catalog.images.len(),
        ms = started.elapsed().as_millis() as u64,
        "geodata loaded"
    );
    Ok(catalog)
}

/// `tessera check`: loads everything and prints one line per layer.
pub fn check(args: &GeodataArg) -> Result<(), CliError> {
    let source = Geodata::from_option(args.resolve()?.geodata.as_deref());
    let catalog = crate::layer::load(&source)?;
    for l in catalog.layers() {
        println!("ok  {:<24} {:>6} features  z{}-{}", l.meta.id, l.features().len(), l.meta.minzoom, l.meta.maxzoom);
    }
    for i in &catalog.images {
        let m = &i.meta;
        let kept = &i.pyramid.levels()[0];
        println!(
            "ok  {:<24} image {} x {} px (kept {} x {}, {:.1} MB with its reduced copies)  z{}-{}  bounds {:?}",
            m.id,
            m.source_size.0,
            m.source_size.1,
            kept.width,
            kept.height,
            i.pyramid.bytes() as f64 / 1e6,
            m.minzoom,
            m.maxzoom,
            m.bounds.to_array()
        );
    }
    println!(
        "{}: {} layers, {} features, {} images, all valid",
        source.describe(),
        catalog.layers().len(),
        catalog.feature_count(),
        catalog.images.len()
    );
    Ok(())
}

/// `tessera render`: writes one tile and returns where.
pub fn render(args: &RenderArgs) -> Result<PathBuf, CliError> {
    let tile: TileCoord = args.tile.parse()?;
    let catalog = crate::layer::load(&Geodata::from_option(args.data.resolve()?.geodata.as_deref()))?;
    let layers = catalog.select(args.layers.as_deref())?;
    let scale = if args.scale == 2 { Scale::X2 } else { Scale::X1 };
    let png = render_png(&catalog, &layers, tile, scale, (!args.no_labels).then_some(args.lang))?;
    let suffix = if scale == Scale::X2 { "@2x" } else { "" };
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-{}-{}{suffix}.png", tile.z(), tile.x(), tile.y())));
    std::fs::write(&path, png).map_err(|source| CliError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// Opens the SQLite event store under the data directory as `tessera serve` does, and imports
/// the catalog's seed events that were never imported before.
pub fn open_events(data: &Path, catalog: &Catalog) -> Result<SqliteStore, CliError> {
    let store = open_sqlite(data, Holding::Serve)?;
    seed_events(&store, catalog)?;
    Ok(store)
}

/// What a process holding a data directory does with it (see [`open_store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// `tessera serve`.
    Serve,
    /// `tessera import`.
    Import,
}

impl Holding {
    fn command(self) -> &'static str {
        match self {
            Self::Serve => "tessera serve",
            Self::Import => "tessera import",
        }
    }

    /// What to do when another process holds the directory.
    fn advice(self) -> &'static str {
        match self {
            Self::Serve => {
                "a data directory serves one tessera at a time; stop that one, or give this one a directory of its own (--data), or share the events between servers on PostgreSQL (--events-db)"
            }
            // A server keeps its events in an in-memory index that rows written behind it would
            // never reach: its API is the way in while it runs.
            Self::Import => {
                "a running server would not see events written behind it; POST the file to its /collections/events/items (with the write token), or stop it and import again"
            }
        }
    }
}

/// Opens the event store: the PostgreSQL database of `events_db` when it is set (shared with
/// every server given the same one; the data directory is then neither used nor locked), else
/// the SQLite store under the data directory, whose lock it takes for as long as the store
/// lives.
pub fn open_store(data: &DataSettings, holding: Holding) -> Result<Box<dyn EventStore>, CliError> {
    match &data.events_db {
        Some(url) => Ok(Box::new(PgStore::open(url.expose(), holding.command())?)),
        None => Ok(Box::new(open_sqlite(&data.data, holding)?)),
    }
}

/// Opens the SQLite event store under the data directory, taking the directory's lock for as
/// long as the store lives; a directory another process holds is refused with what holds it
/// and what to do.
pub fn open_sqlite(data: &Path, holding: Holding) -> Result<SqliteStore, CliError> {
    SqliteStore::open_as(data, holding.command()).map_err(|e| match e {
        StoreError::Locked(source @ LockError::Held { .. }) => CliError::DataInUse { source, advice: holding.advice() },
        other => other.into(),
    })
}

/// Imports the catalog's seed events that were never imported into this store before (into
/// this database, for PostgreSQL: once, whichever server starts first).
pub fn seed_events(store: &dyn EventStore, catalog: &Catalog) -> Result<(), CliError> {
    if let Some(seed) = &catalog.events_seed {
        let report = parse_events(&seed.bytes, &seed.path)?;
        if let Some((i, id, errs)) = report.refused.first() {
            let what = errs.iter().map(|e| format!("{}: {}", e.field, e.problem)).collect::<Vec<_>>().join("; ");
            return Err(CliError::Import(ImportError::Format {
                path: seed.path.clone(),
                reason: format!("feature {i}{}: {what}", id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default()),
            }));
        }
        match store.seed(&seed.name, report.valid) {
            Ok(0) => {}
            Ok(added) => tracing::info!(file = %seed.path.display(), added, "seed events imported"),
            // A read-only database keeps what it has; its seed was imported when it was written.
            Err(StoreError::Unwritable { .. }) if store.read_only() => {
                tracing::warn!(file = %seed.path.display(), "seed file not checked for new events: the data directory is read-only");
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(backend = store.backend(), events = store.len(), "event store open");
    Ok(())
}

/// `tessera import`: stores every valid event of a file, one at a time, and says what it took
/// and what it refused and why.
pub fn import(args: &ImportArgs) -> Result<(usize, usize), CliError> {
    let report = read_events(&args.file)?;
    let store = open_store(&data_settings(args.config.as_deref(), &args.data)?, Holding::Import)?;
    let mut refused = report.refused.len();
    for (i, id, errs) in &report.refused {
        for e in errs {
            println!(
                "refused feature {i}{}: {}: {}",
                id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default(),
                e.field,
                e.problem
            );
        }
    }
    let mut taken = 0;
    for e in report.valid {
        let id = e.id.clone();
        match store.insert(vec![e]) {
            Ok(_) => taken += 1,
            Err(StoreError::Conflict(id)) => {
                refused += 1;
                println!("refused event {id}: an event with this id is already stored");
            }
            Err(other) => {
                println!("stopped at event {}: {other}", id.unwrap_or_default());
                return Err(other.into());
            }
        }
    }
    println!("{}: imported {taken} event(s), refused {refused}", args.file.display());
    Ok((taken, refused))
}
