//! Command-line interface: clap arguments, one module per command, exit codes (DESIGN §4).

mod check;
mod corpus;
mod dedup;
mod doc;
mod lsp;
mod progress;
mod sketch;

use clap::{Args, Parser, Subcommand};
use deja::input::InputOptions;
use deja::report::Format;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Find text that says the same thing twice.
#[derive(Parser)]
#[command(name = "deja", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Paragraphs that repeat or restate earlier text inside each document.
    Doc(doc::DocArgs),
    /// CI gate: findings against deja.toml and a baseline; exit 1 when the policy fails.
    Check(check::CheckArgs),
    /// Near-duplicate documents and repeated paragraphs across a corpus.
    Corpus(corpus::CorpusArgs),
    /// Write a deduplicated corpus: one document per cluster, optionally without repeated
    /// paragraphs.
    Dedup(dedup::DedupArgs),
    /// Write the MinHash signatures of one shard, for `deja corpus --sketches`.
    Sketch(sketch::SketchArgs),
    /// Language server (LSP over stdio): `deja check`'s findings as diagnostics in the editor.
    Lsp(lsp::LspArgs),
}

/// Options every command shares.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// Output format (default: human on a terminal, json otherwise... always human unless set).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Worker threads (default: all cores). Output never depends on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress or summary on stderr; errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour the human format: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Read inputs as JSONL (default: by extension .jsonl, .jsonl.gz, .jsonl.zst).
    #[arg(long)]
    pub jsonl: bool,
    /// JSONL field holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// JSONL field holding the id.
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Only walk files matching this glob (repeatable; `!glob` excludes).
    #[arg(long)]
    pub glob: Vec<String>,
    /// Largest record read (a JSONL line, or a whole file after decompression), e.g. 64M,
    /// 2G; larger ones are reported and skipped [default: 256M].
    #[arg(long, value_parser = parse_record_bytes)]
    pub max_record_bytes: Option<usize>,
    /// Exit with 1 when anything is found.
    #[arg(long)]
    pub fail_on_findings: bool,
}

fn parse_record_bytes(s: &str) -> Result<usize, String> {
    deja::corpus::parse_size(s).map_err(|e| e.to_string().replace("--memory", "--max-record-bytes"))
}

impl CommonArgs {
    fn input_options(&self) -> InputOptions {
        InputOptions {
            jsonl: self.jsonl.then_some(true),
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            globs: self.glob.clone(),
            max_record_bytes: self
                .max_record_bytes
                .unwrap_or(deja::input::DEFAULT_MAX_RECORD_BYTES),
        }
    }

    fn color(&self) -> bool {
        match self.color.as_str() {
            "always" => true,
            "never" => false,
            _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn init_threads(&self) {
        if let Some(n) = self.threads {
            // Only fails when a pool already exists, which keeps its size: harmless.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build_global();
        }
    }
}

/// What a command found, mapped to the exit code of DESIGN §4.
pub struct Outcome {
    /// Inputs that could not be read or used.
    pub errors: usize,
    /// Findings the policy fails on.
    pub failing_findings: usize,
}

/// Reports an error on stderr, in ripgrep's style.
pub fn report_error(e: &dyn std::fmt::Display) {
    eprintln!("deja: {e}");
}

/// On SIGINT, SIGTERM or SIGHUP: remove the named temporary files of outputs being written
/// (unnamed ones vanish by themselves) and die of the signal at once, as without a handler.
fn stop_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            deja::output::abandon_all();
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        }
    });
}

/// Parses the command line, runs the command, returns the exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    stop_on_signals();
    let result = match cli.command {
        Command::Doc(args) => doc::run(args),
        Command::Check(args) => check::run(args),
        Command::Corpus(args) => corpus::run(args),
        Command::Dedup(args) => dedup::run(args),
        Command::Sketch(args) => sketch::run(args),
        Command::Lsp(args) => lsp::run(args),
    };
    match result {
        Ok(o) if o.errors > 0 => ExitCode::from(2),
        Ok(o) if o.failing_findings > 0 => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Paths from the command line; none means stdin.
pub fn paths_or_stdin(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        paths.to_vec()
    }
}
