//! The `portalgen` binary: a thin shell around [`portalgen::cli::run`].

use std::process::ExitCode;

/// Rendering allocates many small values on two threads; mimalloc serves that pattern
/// markedly faster than the system allocator (see the scale benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    portalgen::cli::main()
}
