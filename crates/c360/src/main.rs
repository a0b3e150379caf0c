//! The `c360` binary: everything lives in the library so tests can call it in-process.

/// mimalloc instead of the system allocator: DataFusion allocates and frees a buffer per batch
/// and per group, and glibc's malloc spent ~12 % of an incremental run in its own bookkeeping
/// (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    c360::main()
}
