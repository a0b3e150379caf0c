//! The `c360` binary: everything lives in the library so tests can call it in-process.

fn main() -> std::process::ExitCode {
    c360::main()
}
