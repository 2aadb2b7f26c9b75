//! `deja dedup`: writes the corpus back with one document per cluster (its representative,
//! the first in input order), every other field of each JSON record kept, optionally without
//! paragraphs repeated in ≥ N documents; a summary of what was removed goes to stderr.
//!
//! Two passes over the inputs: the first is `deja corpus`; the second copies records through
//! (byte for byte unless a paragraph is stripped) into an atomic output (`deja::output`), so
//! an interrupted run leaves no partial OUT.

use super::corpus::{build, note_spills, sources, CorpusOpts};
use super::progress::{error_kind, Problems, Progress};
use super::{CommonArgs, Outcome};
use anyhow::{bail, Context, Result};
use clap::Args;
use deja::input::{read_records, Source};
use deja::output::AtomicFile;
use deja::strip::RepeatStripper;
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct DedupArgs {
    /// Input files or directories (read twice, so not stdin).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output file: JSONL, compressed by extension (.zst, .gz). Never one of the inputs.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    corpus: CorpusOpts,
    /// Also remove paragraphs found in at least N documents (all but their first occurrence
    /// in input order), like Dolma's paragraph dedup.
    #[arg(long, value_name = "N")]
    strip_repeated_paragraphs: Option<usize>,
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Encodes output by the file extension of `path`.
fn encoder<'a>(path: &Path, file: &'a mut AtomicFile) -> Result<Box<dyn Write + 'a>> {
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".zst") {
        let e = zstd::stream::write::Encoder::new(file, 3)?;
        Box::new(BufWriter::with_capacity(1 << 20, e.auto_finish()))
    } else if name.ends_with(".gz") {
        Box::new(BufWriter::with_capacity(
            1 << 20,
            flate2::write::GzEncoder::new(file, flate2::Compression::default()),
        ))
    } else {
        Box::new(BufWriter::with_capacity(1 << 20, file))
    })
}

pub fn run(mut args: DedupArgs) -> Result<Outcome> {
    args.common.init_threads();
    let progress = Progress::new(args.common.quiet);
    let mut problems = Problems::new(args.common.quiet);
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("dedup reads its inputs twice: stdin is not supported, give files");
    }
    let input = args.common.input_options();
    let srcs = sources(&args.paths, &input, &mut Problems::new(true), &progress);
    for s in &srcs {
        if let Source::File { path, .. } = s {
            if same_file(path, &args.output) {
                bail!(
                    "refusing to overwrite input {} with the output",
                    path.display()
                );
            }
        }
    }
    let strip = args.strip_repeated_paragraphs;
    if strip.is_some() {
        args.corpus.no_paragraphs = false;
    }
    let (report, paragraphs) = build(
        &args.common,
        &args.corpus,
        &args.paths,
        &[],
        &mut problems,
        &progress,
    )?;
    note_spills(&report, args.common.quiet);
    let drop = report.dropped();
    let stripper = strip
        .map(|min| RepeatStripper::new(&report, &paragraphs, args.corpus.min_paragraph_words, min));

    // Pass 2: copy kept records through.
    let mut tmp = AtomicFile::create(&args.output)?;
    let mut stats = Stats::default();
    {
        let mut out = encoder(&args.output, &mut tmp)?;
        let mut doc = 0usize;
        let mut failure: Option<anyhow::Error> = None;
        for source in &srcs {
            let jsonl = deja::input::is_jsonl(source, &input);
            let read = read_records(source, &input, |rec, raw| {
                let Ok(d) = rec else { return };
                if failure.is_some() {
                    return;
                }
                let n = doc;
                doc += 1;
                stats.bytes_in += d.text.len();
                if drop.get(n).copied().unwrap_or(false) {
                    stats.dropped += 1;
                    return;
                }
                let stripped = stripper.as_ref().and_then(|s| s.strip(&d.text, n as u32));
                if let Some(s) = &stripped {
                    stats.paragraphs_stripped += s.paragraphs;
                    stats.bytes_stripped += s.bytes;
                    stats.docs_stripped += 1;
                }
                let text = stripped.map(|s| s.text);
                let res = write_record(
                    &mut out,
                    jsonl,
                    raw,
                    &d.id,
                    &input.text_field,
                    text.as_deref().unwrap_or(&d.text),
                    text.is_some(),
                );
                if let Err(e) = res {
                    failure = Some(e);
                }
                stats.kept += 1;
                stats.bytes_out += text.as_ref().map_or(d.text.len(), |t| t.len());
                if doc.is_multiple_of(10_000) {
                    progress.update("write", doc, stats.bytes_in as u64);
                }
            });
            if let Some(e) = failure.take() {
                return Err(e);
            }
            if let Err(e) = read {
                // Already reported in pass 1.
                let _ = error_kind(&e);
            }
        }
        out.flush().context("writing the output")?;
    }
    tmp.commit()?;
    progress.finish();
    problems.summarise(&progress);
    if !args.common.quiet {
        eprintln!(
            "deja dedup: {} documents read ({:.1} MB of text); kept {}; removed {} near-duplicates \
             (Jaccard ≥ {}) in {} clusters{}; wrote {} ({:.1} MB of text)",
            report.documents(),
            stats.bytes_in as f64 / 1e6,
            stats.kept,
            stats.dropped,
            report.threshold,
            report.clusters.len(),
            match strip {
                Some(n) => format!(
                    "; stripped {} paragraphs ({:.1} MB) found in ≥ {n} documents from {} documents",
                    stats.paragraphs_stripped,
                    stats.bytes_stripped as f64 / 1e6,
                    stats.docs_stripped
                ),
                None => String::new(),
            },
            args.output.display(),
            stats.bytes_out as f64 / 1e6,
        );
    }
    Ok(Outcome {
        errors: problems.errors,
        failing_findings: 0,
    })
}

#[derive(Default)]
struct Stats {
    kept: usize,
    dropped: usize,
    bytes_in: usize,
    bytes_out: usize,
    paragraphs_stripped: usize,
    bytes_stripped: usize,
    docs_stripped: usize,
}

/// Writes one record: the raw line when unchanged, else the record with its text replaced
/// (field order kept); plain-text inputs become `{"id", "text"}` records.
fn write_record(
    out: &mut dyn Write,
    jsonl: bool,
    raw: &[u8],
    id: &Value,
    text_field: &str,
    text: &str,
    changed: bool,
) -> Result<()> {
    if jsonl && !changed {
        out.write_all(raw)?;
    } else if jsonl {
        let mut v: Value = serde_json::from_slice(raw).context("re-reading a record")?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert(text_field.to_string(), Value::String(text.to_string()));
        }
        serde_json::to_writer(&mut *out, &v)?;
    } else {
        serde_json::to_writer(&mut *out, &serde_json::json!({"id": id, "text": text}))?;
    }
    out.write_all(b"\n")?;
    Ok(())
}
