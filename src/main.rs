//! The `tessera` binary: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use tessera::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            let config = args.resolve()?;
            // The event store first: a second server on a data directory is refused, and a
            // database that cannot be reached is said, before any other work.
            let events = tessera::cli::open_store(&config.data, tessera::cli::Holding::Serve)?;
            let catalog = tessera::cli::load(&tessera::layer::Geodata::from_option(config.data.geodata.as_deref()))?;
            tessera::cli::seed_events(events.as_ref(), &catalog)?;
            let events: std::sync::Arc<dyn tessera::events::EventStore> = std::sync::Arc::from(events);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(tessera::http::serve(config, catalog, events))?;
        }
        Command::Check(args) => tessera::cli::check(&args)?,
        Command::Import(args) => {
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
            let path = tessera::cli::render(&args)?;
            println!("{}", path.display());
        }
    }
    Ok(())
}
