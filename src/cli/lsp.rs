//! `deja lsp`: the language server over stdio (the editor starts it; see the README).

use super::Outcome;
use anyhow::{anyhow, Result};
use clap::Args;
use deja::lsp::{run_stdio, ServerOptions};
use std::time::Duration;

#[derive(Args)]
pub struct LspArgs {
    /// Talk over stdin/stdout (the only transport; accepted because clients pass it).
    #[arg(long)]
    stdio: bool,
    /// Milliseconds of quiet after an edit before the document is checked again (also the
    /// `debounce_ms` initialization option).
    #[arg(long, default_value_t = 200)]
    debounce: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: LspArgs) -> Result<Outcome> {
    let _ = args.stdio;
    if let Some(n) = args.threads {
        // Only fails when a pool already exists, which keeps its size: harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    run_stdio(ServerOptions {
        debounce: Duration::from_millis(args.debounce),
    })
    .map_err(|e| anyhow!("lsp: {e}"))?;
    Ok(Outcome {
        errors: 0,
        failing_findings: 0,
    })
}
