//! The `portalgen` binary: a thin shell around [`portalgen::cli::run`].

use std::process::ExitCode;

/// Rendering allocates many small values on two threads; mimalloc serves that pattern
/// markedly faster than the system allocator (see the scale benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_huge_pages();
    portalgen::cli::main()
}

/// mimalloc asks the kernel for transparent huge pages. For a process that lives half a
/// second they cost more than they save: every 2 MiB page is zeroed on first touch, and
/// half-used ones inflate the resident set (the scale benchmark: peak RSS 150 → 90 MB for
/// a 10,000-tenant render, with the time unchanged or steadier).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag of this process; no memory is
    // touched. A kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
