//! `deja doc`: redundancy inside each document.

use super::{paths_or_stdin, report_error, CommonArgs, Outcome};
use anyhow::Result;
use clap::{Args, ValueEnum};
use deja::error::Error;
use deja::findings::{DocAnalyzer, DocOptions, DocReport};
use deja::input::{expand, is_jsonl, read_documents, Document, InputOptions, Source};
use deja::report::{doc_printer, Format};
use deja::segment::{prose, Markup};
use rayon::prelude::*;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct DocArgs {
    /// Files, directories (walked, .gitignore honoured) or `-` for stdin (the default).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// Probability (of the restatement model) at or above which a paragraph is a restatement.
    #[arg(long, default_value_t = DocOptions::default().restatement_threshold)]
    threshold: f64,
    /// Mean Jaccard of word 1-, 2-, 3-grams at or above which a paragraph is a near_duplicate.
    #[arg(long, default_value_t = DocOptions::default().near_duplicate_threshold)]
    near_duplicate_threshold: f64,
    /// Mean Jaccard of word 1-, 2-, 3-grams at or above which a paragraph is a duplicate.
    #[arg(long, default_value_t = DocOptions::default().duplicate_threshold)]
    duplicate_threshold: f64,
    /// Word shingle size for (near-)duplicates.
    #[arg(long, default_value_t = DocOptions::default().shingle_size)]
    shingle_size: usize,
    /// Distinct content words a paragraph needs to be judged.
    #[arg(long, default_value_t = DocOptions::default().min_content_words)]
    min_content_words: usize,
    /// Language for stopwords and stemming (english, german, french, ... or an ISO code).
    #[arg(long, default_value = "english")]
    lang: String,
    /// Print each document without its redundant paragraphs instead of a report.
    #[arg(long)]
    strip: bool,
    /// Show, for each restatement and each near miss, the features and the probability that
    /// decided it.
    #[arg(long)]
    explain: bool,
    /// With --explain: probability from which a paragraph is listed as a near miss (default:
    /// half the threshold).
    #[arg(long)]
    near_miss: Option<f64>,
    /// Markup of the inputs. auto: files by extension (.rst/.rest reST, .adoc/.asciidoc/.asc
    /// AsciiDoc, .txt/.text by their content, anything else Markdown); stdin and JSONL records
    /// Markdown.
    #[arg(long, value_enum, default_value = "auto")]
    markup: MarkupArg,
}

/// `--markup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MarkupArg {
    Auto,
    Markdown,
    Rst,
    #[value(name = "asciidoc")]
    AsciiDoc,
    Text,
}

impl MarkupArg {
    /// The markup of every document read from `source`, or `None` when a file's own path and
    /// content tell ([`Markup::detect`]).
    fn fixed(self, source: &Source, opts: &InputOptions) -> Option<Markup> {
        match self {
            MarkupArg::Markdown => Some(Markup::Markdown),
            MarkupArg::Rst => Some(Markup::Rst),
            MarkupArg::AsciiDoc => Some(Markup::AsciiDoc),
            MarkupArg::Text => Some(Markup::Text),
            MarkupArg::Auto if matches!(source, Source::File { .. }) && !is_jsonl(source, opts) => {
                None
            }
            // Stdin has no name, and a record's text says too little to sniff safely (a
            // `----` rule would open an AsciiDoc block and blank the rest): Markdown.
            MarkupArg::Auto => Some(Markup::Markdown),
        }
    }
}

/// Documents analysed together: bounded so memory does not grow with the input.
const BATCH_BYTES: usize = 64 << 20;

pub fn run(args: DocArgs) -> Result<Outcome> {
    args.common.init_threads();
    let opts = DocOptions {
        shingle_size: args.shingle_size.max(1),
        restatement_threshold: args.threshold,
        near_duplicate_threshold: args.near_duplicate_threshold,
        duplicate_threshold: args.duplicate_threshold,
        min_content_words: args.min_content_words,
        language: args.lang.clone(),
        explain: args.explain,
        near_miss: args
            .near_miss
            .unwrap_or(DocOptions::default_near_miss(args.threshold)),
        ..DocOptions::default()
    };
    let analyzer = DocAnalyzer::new(opts)?;
    let input_opts = args.common.input_options();
    let (sources, walk_errors) = expand(&paths_or_stdin(&args.paths), &input_opts);
    let mut errors = walk_errors.len();
    walk_errors.iter().for_each(|e| report_error(e));

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut printer = doc_printer(args.common.format, args.common.color(), &args.lang)?;
    let mut findings = 0;
    let mut batch: Vec<(Document, Markup)> = Vec::new();
    let mut batch_bytes = 0;
    let mut flush = |batch: &mut Vec<(Document, Markup)>, out: &mut BufWriter<_>| -> Result<()> {
        let reports: Vec<DocReport> = batch
            .par_iter()
            .map(|(d, markup)| analyzer.analyze_prose(d.id.clone(), &prose(&d.text, *markup)))
            .collect();
        for ((doc, _), report) in batch.iter().zip(&reports) {
            findings += report.findings.len();
            if args.strip {
                write_stripped(out, doc, report, args.common.format)?;
            } else {
                printer.document(out, report, &doc.text)?;
            }
        }
        batch.clear();
        Ok(())
    };
    for source in &sources {
        let fixed = args.markup.fixed(source, &input_opts);
        let name = source.name();
        let read = read_documents(source, &input_opts, |doc| match doc {
            Ok(d) => {
                batch_bytes += d.text.len();
                let markup = fixed.unwrap_or_else(|| Markup::detect(&name, &d.text));
                batch.push((d, markup));
            }
            Err(e) => {
                if skippable(source, &e) {
                    if !args.common.quiet {
                        eprintln!("deja: skipping {e}");
                    }
                } else {
                    report_error(&e);
                    errors += 1;
                }
            }
        });
        if let Err(e) = read {
            report_error(&e);
            errors += 1;
        }
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch, &mut out)?;
            batch_bytes = 0;
        }
    }
    flush(&mut batch, &mut out)?;
    if !args.strip {
        printer.finish(&mut out)?;
    }
    out.flush()?;
    Ok(Outcome {
        errors,
        failing_findings: if args.common.fail_on_findings {
            findings
        } else {
            0
        },
    })
}

/// Binary files met while walking a directory are skipped, not errors.
fn skippable(source: &Source, e: &Error) -> bool {
    matches!(
        source,
        Source::File {
            explicit: false,
            ..
        }
    ) && matches!(e, Error::Binary { .. })
}

/// The document without its redundant paragraphs ([`DocReport::stripped`]: each with its
/// indentation, line ending and the blank lines after it); `--format jsonl` writes `{id, text}`
/// records.
fn write_stripped(
    out: &mut dyn Write,
    doc: &Document,
    report: &DocReport,
    format: Format,
) -> Result<()> {
    let kept = report.stripped(&doc.text);
    if format != Format::Jsonl {
        out.write_all(kept.as_bytes())?;
    } else {
        serde_json::to_writer(&mut *out, &serde_json::json!({"id": doc.id, "text": kept}))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
