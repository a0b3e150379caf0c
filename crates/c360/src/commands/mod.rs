//! One module per command; each exposes `run(&Settings, &Runtime, Args) -> Result<ExitCode>`.

pub mod generate;
pub mod load;
pub mod simulate;
pub mod tables;
mod write;
