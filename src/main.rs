//! The `deja` binary: parse flags, run a command, map the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    use_small_pages();
    cli::run()
}

/// Tells mimalloc not to hand freed memory back to the OS. A corpus run frees each chunk's
/// texts and takes as much again for the next: purged pages come back as fresh pages the
/// kernel must zero (−3 % wall time at 10 k documents, −6 % at 1 M, for ~6 % more RSS).
/// The option's number is mimalloc v3's, as vendored by the libmimalloc-sys in Cargo.lock:
/// check it against mimalloc.h when that crate is updated.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc.h (v3), which the binding does not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: an option setter with a valid option and value ("-1: never purge"), called
    // before any other thread exists (it is not thread-safe).
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

/// Opts this process out of transparent huge pages. mimalloc asks for them on its arenas, and
/// the kernel then zeroes 2 MB on the first touch of any byte of one, at a cost that varies
/// with the machine's load. Measured side by side on 2 quiet cores (medians, same output): a
/// 200 k-document corpus 4.51 → 4.14 s wall, 8.0 → 7.35 s CPU, 660 → 619 MB; `deja doc` on a
/// 10 MB book 0.90 → 0.78 s wall (0.63–1.02 s with huge pages, 0.73–0.91 s without), 187 →
/// 170 MB. The flag is the process's (prctl), so it also covers the arena mimalloc mapped
/// before `main`.
fn use_small_pages() {
    #[cfg(target_os = "linux")]
    {
        // Only ever an optimisation: an old kernel's refusal changes nothing else.
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
}

/// mimalloc: corpus runs allocate and free many small texts and sets per chunk; ~15 %
/// faster than the system allocator on 2 cores (README, Benchmarks).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
