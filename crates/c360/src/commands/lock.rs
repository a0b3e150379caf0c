//! The lake's writer lock, taken in one place for every command that writes the lake, so two
//! c360 processes never write the same tables at once. A pipeline's tasks inherit their
//! parent's lock (see `c360_pipeline::lock`).

use c360_pipeline::WriterLock;

use crate::cli::{Command, MlCommand, PipelineCommand};
use crate::settings::Settings;

/// Whether `command` writes the lake (an exhaustive match: a new command must decide).
fn writes_lake(command: &Command) -> bool {
    match command {
        Command::Generate(_)
        | Command::Simulate(_)
        | Command::Load(_)
        | Command::Run(_)
        | Command::Build(_)
        | Command::Test(_) => true,
        Command::Pipeline(args) => match args.command {
            PipelineCommand::Run { .. }
            | PipelineCommand::Retry { .. }
            | PipelineCommand::Resume { .. } => true,
            PipelineCommand::Status | PipelineCommand::History { .. } => false,
        },
        Command::Ml(command) => match command {
            MlCommand::Train(_) | MlCommand::Score => true,
            MlCommand::Report(_) => false,
        },
        // `schedule` takes the lock for each run it fires, not while it waits.
        Command::Tables(_)
        | Command::Query(_)
        | Command::Compile(_)
        | Command::Ls(_)
        | Command::Serve(_)
        | Command::Share(_)
        | Command::Schedule(_) => false,
    }
}

/// Takes the writer lock if `command` writes the lake, waiting up to `--lock-timeout`.
pub fn take_if_writing(
    settings: &Settings,
    command: &Command,
) -> anyhow::Result<Option<WriterLock>> {
    if !writes_lake(command) {
        return Ok(None);
    }
    let words: Vec<String> = std::env::args().skip(1).collect();
    let description = format!("c360 {}", words.join(" "));
    Ok(Some(WriterLock::acquire(
        &settings.lake,
        &description,
        settings.lock_timeout,
    )?))
}
