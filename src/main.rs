//! The `portalgen` binary: a thin shell around [`portalgen::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    portalgen::cli::main()
}
