//! The `tessera` binary: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use tessera::cli::{Cli, Command};
use tessera::config::LogFormat;

/// jemalloc instead of glibc's malloc: under the churn of a full tile cache (tiles of every size
/// made on the blocking threads, evicted from others), glibc's per-thread arenas kept growing
/// (RSS 286 MiB above the cache's bytes after 4 minutes, still rising 20 MiB a minute) where
/// jemalloc stayed flat at about 140 MiB above them (docs/benchmarks.md, "Memory").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            // 130, as a shell reports a command ended by Ctrl-C.
            let interrupted = matches!(
                e.downcast_ref::<tessera::cli::CliError>(),
                Some(tessera::cli::CliError::Export(x)) if matches!(**x, tessera::export::ExportError::Interrupted { .. })
            );
            if interrupted { ExitCode::from(130) } else { ExitCode::FAILURE }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command() {
        Command::Serve(args) => {
            // The settings say how to log, so they come first; a bad one is reported on stderr.
            let config = args.resolve()?;
            init_log(config.server.log_format);
            // The event store first: a second server on a data directory is refused, and a
            // database that cannot be reached is said, before any other work.
            let events = tessera::cli::open_store(&config.data, tessera::cli::Holding::Serve)?;
            let catalog = tessera::cli::load(&tessera::layer::Geodata::from_option(config.data.geodata.as_deref()))?;
            tessera::cli::seed_events(events.as_ref(), &catalog)?;
            let events: std::sync::Arc<dyn tessera::events::EventStore> = std::sync::Arc::from(events);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(tessera::http::serve(config, catalog, events))?;
        }
        Command::Check(args) => {
            init_log(LogFormat::Text);
            tessera::cli::check(&args)?;
        }
        Command::Import(args) => {
            init_log(LogFormat::Text);
            let (_, refused) = tessera::cli::import(&args)?;
            if refused > 0 {
                anyhow::bail!("{refused} event(s) refused");
            }
        }
        Command::Export(args) => {
            let r = tessera::export::export(&args)?;
            println!(
                "{}: {} tiles ({} stored, {} distinct), {:.1} MB in {:.1} s ({:.0} tiles/s)",
                args.out.display(),
                r.tiles,
                r.stored,
                r.distinct,
                r.bytes as f64 / 1e6,
                r.seconds,
                r.tiles as f64 / r.seconds.max(1e-9)
            );
        }
        Command::Render(args) => {
            init_log(LogFormat::Text);
            let path = tessera::cli::render(&args)?;
            println!("{}", path.display());
        }
    }
    Ok(())
}

/// Logs to stderr, filtered by `RUST_LOG` (default: `info`, one line per request included), as
/// readable lines or as one JSON object per line.
fn init_log(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into());
    // Colours only for a person at a terminal, never into a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}
