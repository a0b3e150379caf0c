//! End-to-end tests of the `c360` binary: real processes, real Delta tables in temp dirs.

mod common;
mod customer360;
mod generate;
mod help;
mod incremental;
mod interop;
mod load;
mod memory;
mod ml;
mod pipeline;
mod project;
mod query;
mod share;
