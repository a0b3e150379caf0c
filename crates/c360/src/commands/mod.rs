//! One module per command; each exposes `run(&Settings, &Runtime, Args) -> Result<ExitCode>`.

pub mod compile;
pub mod execute;
pub mod generate;
pub mod load;
pub mod lock;
pub mod ls;
pub mod ml;
pub mod pipeline;
mod project;
pub mod query;
pub mod serve;
pub mod share;
pub mod simulate;
pub mod tables;
mod write;
