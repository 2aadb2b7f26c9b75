//! The `deja` binary: parse flags, run a command, map the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    cli::run()
}

/// Tells mimalloc not to hand freed memory back to the OS. A corpus run frees each chunk's
/// texts and takes as much again for the next: purged pages come back as fresh huge pages
/// the kernel must zero (−3 % wall time at 10 k documents, −6 % at 1 M, for ~6 % more RSS).
/// The option's number is mimalloc v3's, as vendored by the libmimalloc-sys in Cargo.lock:
/// check it against mimalloc.h when that crate is updated.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc.h (v3), which the binding does not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: an option setter with a valid option and value ("-1: never purge"), called
    // before any other thread exists (it is not thread-safe).
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

/// mimalloc: corpus runs allocate and free many small texts and sets per chunk; ~15 %
/// faster than the system allocator on 2 cores (README, Benchmarks).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
