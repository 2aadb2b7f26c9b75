//! `deja sketch`: the signatures (+ ids, + compact shingle sets) of one shard, written to a
//! signature file (format in `deja::sigfile`) for `deja corpus --sketches`.

use super::corpus::{log_notice, sources, stream_chunks, SketchOpts};
use super::progress::{Problems, Progress};
use super::{CommonArgs, Outcome};
use anyhow::{Context, Result};
use clap::Args;
use deja::corpus::{SketchedDoc, Sketcher};
use deja::sigfile::SigWriter;
use std::path::PathBuf;

#[derive(Args)]
pub struct SketchArgs {
    /// Files, directories or `-` for stdin (the default).
    paths: Vec<PathBuf>,
    /// The signature file to write (replaced atomically).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    sketch: SketchOpts,
    /// Store signatures only, not the shingle sets that exact verification needs (files
    /// are then about 1 KB per document; `corpus --sketches` verifies by estimate).
    #[arg(long)]
    no_sets: bool,
}

pub fn run(args: SketchArgs) -> Result<Outcome> {
    args.common.init_threads();
    let progress = Progress::new(args.common.quiet);
    let mut problems = Problems::new(args.common.quiet);
    let params = args.sketch.params();
    if params.k == 0 || params.num_perm == 0 {
        anyhow::bail!("--shingle-size and --num-perm must be ≥ 1");
    }
    let input = args.common.input_options();
    let sources = sources(&args.paths, &input, &mut problems, &progress);
    let out = deja::output::AtomicFile::create(&args.output)?;
    let mut writer = SigWriter::new(out, params, !args.no_sets)?;
    let sketcher = Sketcher::new(params, false, 1);
    let (mut docs, mut bytes) = (0usize, 0u64);
    let mut seen = ahash::AHashSet::new();
    stream_chunks(
        &sources,
        &input,
        &mut problems,
        &progress,
        |chunk, problems| {
            let sketched: Vec<SketchedDoc> = sketcher.sketch_chunk(&chunk, !args.no_sets);
            for s in &sketched {
                if !seen.insert(s.id.clone()) {
                    log_notice(
                        problems,
                        &progress,
                        &deja::corpus::Notice::DuplicateId(s.id.clone()),
                    );
                }
                if s.words == 0 {
                    log_notice(
                        problems,
                        &progress,
                        &deja::corpus::Notice::Empty(s.id.clone()),
                    );
                }
                writer.write(s).context("writing signatures")?;
            }
            docs += chunk.len();
            bytes += chunk.iter().map(|d| d.text.len() as u64).sum::<u64>();
            progress.update("sketch", docs, bytes);
            Ok(())
        },
    )?;
    writer.finish().context("writing signatures")?.commit()?;
    progress.finish();
    problems.summarise(&progress);
    if !args.common.quiet {
        eprintln!(
            "deja sketch: {docs} documents → {} ({} permutations, {}-word shingles{})",
            args.output.display(),
            params.num_perm,
            params.k,
            if args.no_sets {
                ", no sets"
            } else {
                ", with sets"
            }
        );
    }
    Ok(Outcome {
        errors: problems.errors,
        failing_findings: 0,
    })
}
