//! `deja check`: the CI gate — findings against `deja.toml` and a baseline, exit code 1 when
//! the policy fails.

use super::{report_error, CommonArgs, Outcome};
use anyhow::{bail, Context, Result};
use clap::Args;
use deja::check::{check, git_changed, Baseline, CheckFinding, CheckOptions};
use deja::config::{CheckKind, Config, CONFIG_FILE, DEFAULT_CONFIG};
use deja::output::AtomicFile;
use deja::report::write_check;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct CheckArgs {
    /// Files or directories to check (walked, .gitignore honoured). Default: the directory of
    /// deja.toml, or the current directory.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// The config file (default: deja.toml in the current directory or a directory above).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write a commented default deja.toml in the current directory (never overwrites).
    #[arg(long)]
    init: bool,
    /// The baseline file (default: from deja.toml, else .deja-baseline.json beside it).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Record today's findings in the baseline file; later runs report only new ones.
    #[arg(long)]
    write_baseline: bool,
    /// Ignore the baseline file: report every finding.
    #[arg(long, conflicts_with = "write_baseline")]
    no_baseline: bool,
    /// Kinds that fail the check, comma-separated (duplicate, near_duplicate, restatement,
    /// cross_file), `all` or `none`; overrides deja.toml.
    #[arg(long, value_delimiter = ',')]
    fail_on: Option<Vec<String>>,
    /// Check only files changed since this git ref (plus untracked files); every other file is
    /// still a source of cross-file copies.
    #[arg(long, value_name = "GIT_REF", conflicts_with = "write_baseline")]
    changed_since: Option<String>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> Result<Outcome> {
    args.common.init_threads();
    if args.init {
        return init();
    }
    let cwd = PathBuf::from(".");
    let config = Config::discover(args.config.as_deref(), &cwd)?;
    let fail_on = match &args.fail_on {
        Some(list) => Some(parse_kinds(list)?),
        None if args.common.fail_on_findings => Some(CheckKind::ALL.to_vec()),
        None => None,
    };
    let baseline_path = args
        .baseline
        .clone()
        .unwrap_or_else(|| config.baseline_path());
    let baseline = if args.write_baseline || args.no_baseline {
        None
    } else if baseline_path.exists() {
        Some(Baseline::load(&baseline_path)?)
    } else if args.baseline.is_some() {
        bail!("{}: baseline file not found", baseline_path.display());
    } else {
        None
    };
    let changed = match &args.changed_since {
        Some(r) => Some(git_changed(&config.root, r)?),
        None => None,
    };
    let paths = if args.paths.is_empty() {
        vec![config.root.clone()]
    } else {
        args.paths.clone()
    };
    let opts = CheckOptions {
        changed,
        fail_on,
        baseline,
        globs: args.common.glob.clone(),
    };
    let report = check(&config, &paths, &opts)?;
    for e in &report.errors {
        report_error(e);
    }
    if args.write_baseline {
        let base =
            Baseline::from_findings(report.findings.iter().map(CheckFinding::baseline_entry));
        base.save(&baseline_path)?;
        if !args.common.quiet {
            eprintln!(
                "deja: wrote {} finding{} to {}",
                report.findings.len(),
                if report.findings.len() == 1 { "" } else { "s" },
                baseline_path.display()
            );
        }
        return Ok(Outcome {
            errors: report.errors.len(),
            failing_findings: 0,
        });
    }
    let color = args.output.is_none() && args.common.color();
    match &args.output {
        Some(path) => {
            let mut out = BufWriter::new(AtomicFile::create(path)?);
            write_check(&mut out, &report, args.common.format, color)?;
            let file = out.into_inner().map_err(|e| e.into_error());
            file.with_context(|| format!("{}: cannot write", path.display()))?
                .commit()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            write_check(&mut out, &report, args.common.format, color)?;
            out.flush()?;
        }
    }
    let human_on_stdout =
        args.output.is_none() && args.common.format == deja::report::Format::Human;
    if !args.common.quiet && !human_on_stdout {
        let n = report.new_findings().count();
        eprintln!(
            "deja: {n} finding{} ({} failing) in {} checked document{}; {} accepted by the baseline",
            if n == 1 { "" } else { "s" },
            report.failing(),
            report.checked,
            if report.checked == 1 { "" } else { "s" },
            report.baselined()
        );
    }
    Ok(Outcome {
        errors: report.errors.len(),
        failing_findings: report.failing(),
    })
}

fn parse_kinds(list: &[String]) -> Result<Vec<CheckKind>> {
    let mut kinds = Vec::new();
    for item in list {
        match item.trim() {
            "none" | "" => {}
            "all" => kinds.extend(CheckKind::ALL),
            other => match CheckKind::parse(other) {
                Some(k) => kinds.push(k),
                None => bail!(
                    "invalid option: --fail-on: unknown kind '{other}' (one of: duplicate, near_duplicate, restatement, cross_file, all, none)"
                ),
            },
        }
    }
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

fn init() -> Result<Outcome> {
    let path = PathBuf::from(CONFIG_FILE);
    if path.exists() {
        bail!("{CONFIG_FILE} already exists; not overwriting it")
    }
    let mut file = AtomicFile::create(&path)?;
    file.write_all(DEFAULT_CONFIG.as_bytes())
        .with_context(|| format!("{CONFIG_FILE}: cannot write"))?;
    match file.commit_new() {
        Err(deja::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            bail!("{CONFIG_FILE} already exists; not overwriting it")
        }
        other => other?,
    }
    eprintln!("deja: wrote {CONFIG_FILE}");
    Ok(Outcome {
        errors: 0,
        failing_findings: 0,
    })
}
