//! The command line: `serve`, `check` and `render`, parsed by clap and run here.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, FileConfig, defaults};
use crate::layer::{Catalog, LoadError, SelectError, load_dir};
use crate::render::{EncodeError, Scale, render_png};
use crate::tile::{TileCoord, TileParseError};

/// tessera: a map tile service for GeoJSON layers and live event markers.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve tiles, layers and TileJSON over HTTP.
    Serve(ServeArgs),
    /// Validate a geodata directory and exit non-zero on the first problem.
    Check(GeodataArg),
    /// Render one tile to a PNG file.
    Render(RenderArgs),
}

/// Flags of `serve`; each also comes from an environment variable.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TESSERA_LISTEN")]
    pub listen: Option<String>,
    /// Directory of GeoJSON layers [default: ./geodata].
    #[arg(long, env = "TESSERA_GEODATA")]
    pub geodata: Option<PathBuf>,
    /// Directory for the server's own state [default: ./data].
    #[arg(long, env = "TESSERA_DATA")]
    pub data: Option<PathBuf>,
    /// TOML file with any of the settings; flags and environment win over it.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Deepest zoom level served [default: 20].
    #[arg(long, env = "TESSERA_MAX_ZOOM")]
    pub max_zoom: Option<u8>,
    /// Base URL for links and TileJSON, when behind a proxy [default: from the Host header].
    #[arg(long, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// The geodata directory flag.
#[derive(Debug, Args)]
pub struct GeodataArg {
    /// Directory of GeoJSON layers.
    #[arg(long, env = "TESSERA_GEODATA", default_value = defaults::GEODATA)]
    pub geodata: PathBuf,
}

/// Flags of `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The tile, as Z/X/Y.
    pub tile: String,
    /// Directory of GeoJSON layers.
    #[arg(long, env = "TESSERA_GEODATA", default_value = defaults::GEODATA)]
    pub geodata: PathBuf,
    /// 1 for a 256 px tile, 2 for a 512 px tile.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub scale: u8,
    /// Comma-separated layer ids [default: all].
    #[arg(long)]
    pub layers: Option<String>,
    /// Output file [default: Z-X-Y.png, or Z-X-Y@2x.png].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
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
        let file = match &self.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        let flags = FileConfig {
            listen: self.listen.clone(),
            geodata: self.geodata.clone(),
            data: self.data.clone(),
            max_zoom: self.max_zoom,
            public_url: self.public_url.clone(),
            ..FileConfig::default()
        };
        file.overlay(flags).resolve()
    }
}

/// Loads a geodata directory, logging how long it took.
pub fn load(dir: &Path) -> Result<Catalog, LoadError> {
    let started = Instant::now();
    let catalog = load_dir(dir)?;
    tracing::info!(
        dir = %dir.display(),
        layers = catalog.layers().len(),
        features = catalog.feature_count(),
        ms = started.elapsed().as_millis() as u64,
        "geodata loaded"
    );
    Ok(catalog)
}

/// `tessera check`: loads everything and prints one line per layer.
pub fn check(args: &GeodataArg) -> Result<(), CliError> {
    let catalog = load_dir(&args.geodata)?;
    for l in catalog.layers() {
        println!(
            "ok  {:<24} {:>6} features  z{}-{}",
            l.meta.id,
            l.features().len(),
            l.meta.minzoom,
            l.meta.maxzoom
        );
    }
    println!(
        "{}: {} layers, {} features, all valid",
        args.geodata.display(),
        catalog.layers().len(),
        catalog.feature_count()
    );
    Ok(())
}

/// `tessera render`: writes one tile and returns where.
pub fn render(args: &RenderArgs) -> Result<PathBuf, CliError> {
    let tile: TileCoord = args.tile.parse()?;
    let catalog = load_dir(&args.geodata)?;
    let layers = catalog.select(args.layers.as_deref())?;
    let scale = if args.scale == 2 {
        Scale::X2
    } else {
        Scale::X1
    };
    let png = render_png(&catalog, &layers, tile, scale)?;
    let suffix = if scale == Scale::X2 { "@2x" } else { "" };
    let path = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}-{}-{}{suffix}.png",
            tile.z(),
            tile.x(),
            tile.y()
        ))
    });
    std::fs::write(&path, png).map_err(|source| CliError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
