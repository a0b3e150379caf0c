//! The `c360` command line: argument parsing, settings and command dispatch.
//!
//! This crate only wires the others together: the generator (`c360-gen`), the file loader
//! (`c360-ingest`), the model engine (`c360-models`), the pipelines (`c360-pipeline`) and the lake (`c360-lake`). Each command is a module of [`commands`] with a
//! `run(&Settings, &Runtime, Args)` function; errors become an exit code in one place,
//! [`main`].
//!
//! Exit codes: 0 success, 1 failure (the message says what and where), 2 bad usage, 3 a `load`
//! where some files failed and the others were loaded (docs/bronze.md).

pub mod cli;
pub mod commands;
mod progress;
pub mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::settings::Settings;

/// Parses the process arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose, cli.global.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads)
        .enable_all()
        .build()?;
    let writer_lock = commands::lock::take_if_writing(&settings, &cli.command)?;
    match cli.command {
        Command::Generate(args) => commands::generate::run(&settings, &runtime, args),
        Command::Simulate(args) => commands::simulate::run(&settings, &runtime, args),
        Command::Load(args) => commands::load::run(&settings, &runtime, args),
        Command::Tables(args) => commands::tables::run(&settings, &runtime, args),
        Command::Run(args) => {
            commands::execute::run(&settings, &runtime, args, commands::execute::Scope::Run)
        }
        Command::Build(args) => {
            commands::execute::run(&settings, &runtime, args, commands::execute::Scope::Build)
        }
        Command::Test(args) => commands::execute::test(&settings, &runtime, args),
        Command::Query(args) => commands::query::run(&settings, &runtime, args),
        Command::Compile(args) => commands::compile::run(&settings, args),
        Command::Ls(args) => commands::ls::run(&settings, args),
        Command::Serve(args) => commands::serve::run(&settings, &runtime, args, &settings.config),
        Command::Ml(command) => commands::ml::run(&settings, &runtime, command),
        Command::Pipeline(args) => {
            commands::pipeline::run(&settings, &runtime, args, writer_lock.as_ref())
        }
        Command::Schedule(args) => commands::pipeline::schedule(&settings, &runtime, args),
        Command::Share(command) => commands::share::run(&settings, command, &settings.config),
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // colours only on a terminal: a log piped to a file or another program stays plain text
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
