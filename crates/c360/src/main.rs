//! The `c360` binary: everything lives in the library so tests can call it in-process.

/// jemalloc instead of the system allocator: DataFusion allocates and frees buffers per batch
/// and per group, and glibc's malloc spent ~12 % of an incremental run in its own bookkeeping.
/// jemalloc: 7 % less wall time, same peak memory; mimalloc saved as much user time but paid it
/// back in page faults and doubled the peak (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    c360::main()
}
