//! Pipeline runs end to end with real processes (shell tasks) and a real lake in a temp dir.

mod common;
mod runs;
mod scheduler;
