//! The `deja` binary: parse flags, run a command, map the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
