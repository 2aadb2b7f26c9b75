//! `deja corpus`: near-duplicate documents and repeated paragraphs across a corpus; also the
//! options and streaming loop that `dedup` and `sketch` share.

use super::progress::{error_kind, Problems, Progress};
use super::{paths_or_stdin, CommonArgs, Outcome};
use anyhow::{bail, Context, Result};
use clap::Args;
use deja::corpus::{
    parse_size, CorpusBuilder, CorpusOptions, Notice, SketchMethod, SketchParams, SketchedDoc,
};
use deja::input::{expand, read_documents, Document, InputOptions, Source, FIRST_BATCH_BYTES};
use deja::report::{write_corpus, Format};
use deja::shingle::WordSplit;
use deja::sigfile::SigReader;
use deja::verify::VerifyMode;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Word splitting for corpus shingles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Words {
    /// Runs of Unicode letters, digits and `_`, lowercased (Python's `\w+`).
    Alnum,
    /// UAX #29 words with NFKC (as `deja doc`).
    Unicode,
}

/// Shingling and MinHash options (must match across shards).
#[derive(Args, Clone, Debug)]
pub struct SketchOpts {
    /// Words per shingle [default: 5].
    #[arg(long)]
    pub shingle_size: Option<usize>,
    /// MinHash permutations [default: 128].
    #[arg(long)]
    pub num_perm: Option<usize>,
    /// Seed of the shingle hashes and MinHash permutations [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// How words are split [default: alnum].
    #[arg(long, value_enum)]
    pub words: Option<Words>,
    /// The sketch: oph (one permutation, densified; num_perm slots) or minhash (num_perm
    /// permutations; slower, same accuracy) [default: oph].
    #[arg(long, value_enum)]
    pub sketch: Option<SketchMethod>,
}

impl SketchOpts {
    pub fn params(&self) -> SketchParams {
        let d = SketchParams::default();
        SketchParams {
            method: self.sketch.unwrap_or(d.method),
            k: self.shingle_size.unwrap_or(d.k),
            num_perm: self.num_perm.unwrap_or(d.num_perm),
            seed: self.seed.unwrap_or(d.seed),
            split: match self.words {
                Some(Words::Unicode) => WordSplit::Unicode,
                Some(Words::Alnum) | None => d.split,
            },
        }
    }

    /// Errors when an option given by hand disagrees with the signatures' parameters.
    fn check_against(&self, p: &SketchParams, file: &str) -> Result<()> {
        let mine = self.params();
        let clash = (self.shingle_size.is_some() && mine.k != p.k)
            || (self.num_perm.is_some() && mine.num_perm != p.num_perm)
            || (self.seed.is_some() && mine.seed != p.seed)
            || (self.words.is_some() && mine.split != p.split)
            || (self.sketch.is_some() && mine.method != p.method);
        if clash {
            bail!("{file}: signatures made with {p:?}, but the options ask for {mine:?}");
        }
        Ok(())
    }
}

/// Options of `corpus` and `dedup`.
#[derive(Args, Clone, Debug)]
pub struct CorpusOpts {
    #[command(flatten)]
    pub sketch: SketchOpts,
    /// Jaccard similarity at or above which two documents are near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    pub threshold: f64,
    /// P(candidate | J = threshold) the LSH banding must reach.
    #[arg(long, default_value_t = 0.95)]
    pub recall: f64,
    /// LSH bands (with --rows), instead of choosing from --threshold and --recall.
    #[arg(long, requires = "rows")]
    pub bands: Option<usize>,
    /// Rows per LSH band (with --bands).
    #[arg(long, requires = "bands")]
    pub rows: Option<usize>,
    /// Verify candidates by exact Jaccard of shingle sets, or estimate from signatures.
    #[arg(long, value_enum, default_value = "exact")]
    pub verify: VerifyMode,
    /// Memory for what grows with the corpus (band keys, shingle sets, paragraph counts,
    /// candidate pairs) before it spills to temporary files (e.g. 512M, 4G) [default: a
    /// quarter of RAM].
    #[arg(long)]
    pub memory: Option<String>,
    /// Documents a paragraph must appear in to be reported as repeated.
    #[arg(long, default_value_t = 3)]
    pub min_repeat: usize,
    /// Words a paragraph needs to be counted as repeated.
    #[arg(long, default_value_t = 2)]
    pub min_paragraph_words: usize,
    /// Do not look for repeated paragraphs.
    #[arg(long)]
    pub no_paragraphs: bool,
    /// List every verified pair, also among documents that share a band bucket of more than
    /// 256 (identical or near-identical documents by the hundred): quadratic in their number.
    /// Without it, each such document is listed with the pair that joined it to its cluster.
    #[arg(long)]
    pub all_pairs: bool,
}

impl CorpusOpts {
    pub fn options(&self, params: SketchParams) -> Result<CorpusOptions> {
        let mut o = CorpusOptions {
            sketch: params,
            threshold: self.threshold,
            recall: self.recall,
            banding: self.bands.zip(self.rows),
            verify: self.verify,
            min_repeat: self.min_repeat,
            min_paragraph_words: self.min_paragraph_words,
            paragraphs: !self.no_paragraphs,
            max_bucket: if self.all_pairs {
                usize::MAX
            } else {
                deja::corpus::MAX_BUCKET
            },
            ..CorpusOptions::default()
        };
        if let Some(m) = &self.memory {
            o.memory = parse_size(m)?;
        }
        Ok(o)
    }
}

#[derive(Args)]
pub struct CorpusArgs {
    /// Files, directories (walked, .gitignore honoured) or `-` for stdin (the default).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    corpus: CorpusOpts,
    /// Read signature files of `deja sketch` instead of documents.
    #[arg(long, num_args = 1.., conflicts_with = "paths")]
    sketches: Vec<PathBuf>,
}

/// Text bytes per chunk sketched in parallel before its text is dropped. The first chunk is
/// half the input's first batch (whose text, unescaped, is a little shorter than its JSON),
/// so that sketching starts with the first batch; chunks then double up to this size.
pub const CHUNK_BYTES: usize = 2 << 20;

/// What the reader thread sends: a chunk of documents, or a problem with one input.
enum Msg {
    Chunk(Vec<Document>),
    Problem(deja::Error, bool),
}

/// Streams the documents of `sources` in chunks to `f`, logging every bad record and
/// unreadable input in `problems`. A reader thread reads and parses the next chunk while `f`
/// sketches the current one.
pub fn stream_chunks(
    sources: &[Source],
    input: &InputOptions,
    problems: &mut Problems,
    progress: &Progress,
    mut f: impl FnMut(Vec<Document>, &mut Problems) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(2);
        scope.spawn(move || {
            let mut chunk: Vec<Document> = Vec::new();
            let mut bytes = 0;
            let mut chunk_bytes = FIRST_BATCH_BYTES / 2;
            let mut gone = false; // the receiver stopped: read no further
            for source in sources {
                if gone {
                    break;
                }
                let read = read_documents(source, input, |doc| {
                    if gone {
                        return;
                    }
                    let msg = match doc {
                        Ok(d) => {
                            bytes += d.text.len();
                            chunk.push(d);
                            if bytes < chunk_bytes {
                                return;
                            }
                            bytes = 0;
                            chunk_bytes = (2 * chunk_bytes).min(CHUNK_BYTES);
                            Msg::Chunk(std::mem::take(&mut chunk))
                        }
                        Err(e) => {
                            let skip = skippable(source, &e);
                            Msg::Problem(e, skip)
                        }
                    };
                    gone = tx.send(msg).is_err();
                });
                if let Err(e) = read {
                    gone = tx.send(Msg::Problem(e, false)).is_err();
                }
            }
            if !chunk.is_empty() && !gone {
                let _ = tx.send(Msg::Chunk(chunk));
            }
        });
        for msg in rx {
            match msg {
                Msg::Chunk(chunk) => f(chunk, problems)?,
                Msg::Problem(e, true) => {
                    problems.warn(progress, "skipped binary file", &format!("skipping {e}"))
                }
                Msg::Problem(e, false) => problems.error(progress, error_kind(&e), &e),
            }
        }
        Ok(())
    })
}

/// Binary files met while walking a directory are skipped, not errors.
fn skippable(source: &Source, e: &deja::Error) -> bool {
    matches!(
        source,
        Source::File {
            explicit: false,
            ..
        }
    ) && matches!(e, deja::Error::Binary { .. })
}

/// Logs a document notice as a warning.
pub fn log_notice(problems: &mut Problems, progress: &Progress, n: &Notice) {
    problems.warn(progress, n.kind(), n);
}

/// Sources of the command line, with walk errors logged.
pub fn sources(
    paths: &[PathBuf],
    input: &InputOptions,
    problems: &mut Problems,
    progress: &Progress,
) -> Vec<Source> {
    let (sources, errors) = expand(&paths_or_stdin(paths), input);
    for e in &errors {
        problems.error(progress, error_kind(e), e);
    }
    sources
}

/// Runs the corpus pipeline over `sources` (or signature files) into a builder's result.
pub fn build(
    common: &CommonArgs,
    opts: &CorpusOpts,
    paths: &[PathBuf],
    sketches: &[PathBuf],
    problems: &mut Problems,
    progress: &Progress,
) -> Result<(deja::corpus::CorpusReport, deja::group::ParagraphCounter)> {
    let builder = if sketches.is_empty() {
        let input = common.input_options();
        let sources = sources(paths, &input, problems, progress);
        let mut builder = CorpusBuilder::new(opts.options(opts.sketch.params())?)?;
        let sketcher = builder.sketcher().clone();
        let with_set = builder.wants_sets();
        // Adding a chunk is one thread's work: it runs while the next chunk is sketched.
        type Sketched = (Vec<Document>, Vec<SketchedDoc>);
        let mut pending: Option<Sketched> = None;
        let add = |builder: &mut CorpusBuilder, (docs, sketched): Sketched| {
            builder.add_chunk(&docs, sketched)
        };
        let log = |builder: &CorpusBuilder, notices: Vec<Notice>, problems: &mut Problems| {
            for notice in &notices {
                log_notice(problems, progress, notice);
            }
            progress.update("sketch", builder.documents(), builder.bytes());
        };
        stream_chunks(&sources, &input, problems, progress, |chunk, problems| {
            let (sketched, added) = rayon::join(
                || sketcher.sketch_chunk(&chunk, with_set),
                || pending.take().map(|p| add(&mut builder, p)).transpose(),
            );
            if let Some(added) = added? {
                log(&builder, added, problems);
            }
            pending = Some((chunk, sketched));
            Ok(())
        })?;
        if let Some(p) = pending.take() {
            let added = add(&mut builder, p)?;
            log(&builder, added, problems);
        }
        builder
    } else {
        let mut readers = Vec::new();
        for path in sketches {
            let r = SigReader::open(path)?;
            let name = path.display().to_string();
            opts.sketch.check_against(&r.params, &name)?;
            if let Some((first, p)) = readers
                .first()
                .map(|(n, r): &(String, SigReader<_>)| (n, r.params))
            {
                if p != r.params {
                    bail!(
                        "{name}: signatures made with {:?}, but {first} with {p:?}",
                        r.params
                    );
                }
            }
            readers.push((name, r));
        }
        let Some(params) = readers.first().map(|(_, r)| r.params) else {
            bail!("--sketches needs at least one file");
        };
        let mut o = opts.options(params)?;
        o.paragraphs = false;
        if o.verify == VerifyMode::Exact && readers.iter().any(|(_, r)| !r.sets) {
            progress
                .println("deja: note: signature files without shingle sets: verifying by estimate");
            o.verify = VerifyMode::Estimate;
        }
        let mut builder = CorpusBuilder::new(o)?;
        for (_, r) in &mut readers {
            loop {
                match r.next_doc() {
                    Ok(Some(doc)) => {
                        let doc = if builder.wants_sets() {
                            doc
                        } else {
                            deja::corpus::SketchedDoc { set: None, ..doc }
                        };
                        for n in builder.add_sketched(doc)? {
                            log_notice(problems, progress, &n);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        problems.error(progress, error_kind(&e), &e);
                        break;
                    }
                }
            }
            progress.update("read signatures", builder.documents(), 0);
        }
        builder
    };
    progress.stage("index, verify, group");
    Ok(builder.finish()?)
}

/// Says on stderr what went to disk past `--memory`.
pub fn note_spills(report: &deja::corpus::CorpusReport, quiet: bool) {
    let s = &report.stats;
    let mut what = Vec::new();
    for (runs, name) in [
        (s.band_runs, "band keys"),
        (s.paragraph_runs, "paragraph counts"),
        (s.candidate_runs, "candidate pairs"),
    ] {
        if runs > 0 {
            what.push(format!("{runs} sorted runs of {name}"));
        }
    }
    if s.sets_spilled {
        what.push("shingle sets".into());
    }
    if report.repeated_paragraphs.iter().any(|p| p.on_disk()) {
        what.push("the repeated paragraphs' document lists".into());
    }
    if !quiet && !what.is_empty() {
        eprintln!(
            "deja: over --memory: spilled {} to temporary files",
            what.join(", ")
        );
    }
}

pub fn run(args: CorpusArgs) -> Result<Outcome> {
    if matches!(
        args.common.format,
        Format::Sarif | Format::Github | Format::Html
    ) {
        bail!("--format sarif, github and html report findings of `doc` and `check`; corpus writes human, json or jsonl");
    }
    args.common.init_threads();
    let progress = Progress::new(args.common.quiet);
    let mut problems = Problems::new(args.common.quiet);
    let (report, paragraphs) = build(
        &args.common,
        &args.corpus,
        &args.paths,
        &args.sketches,
        &mut problems,
        &progress,
    )?;
    progress.finish();
    problems.summarise(&progress);
    note_spills(&report, args.common.quiet);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    write_corpus(&mut out, &report, args.common.format, args.common.color())
        .context("writing the report")?;
    out.flush().context("writing the report")?;
    let outcome = Outcome {
        errors: problems.errors,
        failing_findings: if args.common.fail_on_findings {
            report.pairs.len()
        } else {
            0
        },
    };
    // Exiting frees these faster than millions of small frees would (they hold no files):
    // −4 % wall time of a default run on 10 k documents, for the paragraph counts' memory
    // staying unused while the report is written (peak RSS +3–6 % at 1 M documents).
    std::mem::forget((report, paragraphs));
    Ok(outcome)
}
