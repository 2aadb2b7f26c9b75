//! `deja check`: the CI gate. Documents of a repository → findings against a policy
//! ([`Config`]) and a [`Baseline`].
//!
//! Input: paths (walked, .gitignore honoured, filtered by the config's include/exclude globs).
//! Each file is read in its markup ([`segment::prose`]: non-prose blanked, paragraphs and
//! suppression markers found), analysed for redundancy inside the document ([`DocAnalyzer`])
//! and, across files, for copied paragraphs ([`crossfile`]).
//! Output: a [`CheckReport`] whose findings carry locations, evidence, a stable fingerprint,
//! whether the policy fails on them and whether the baseline accepts them.
//!
//! ```
//! use deja::check::{check_documents, CheckOptions, InputFile};
//! use deja::config::{CheckKind, Config};
//! let p = "The release process starts with a signed tag that the maintainers push to the main repository.";
//! let files = vec![
//!     InputFile { path: "a.md".into(), text: format!("# A\n\n{p}\n") },
//!     InputFile { path: "b.md".into(), text: format!("# B\n\n{p}\n") },
//! ];
//! let report = check_documents(&Config::default(), &CheckOptions::default(), files).unwrap();
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(report.findings[0].kind, CheckKind::CrossFile);
//! assert_eq!(report.findings[0].location.path, "b.md");
//! assert_eq!(report.findings[0].sources[0].location.path, "a.md");
//! ```

pub mod baseline;
pub mod crossfile;

pub use baseline::{fingerprint, normalized_words, Baseline, Fingerprinted};

use crate::config::{CheckKind, Config, FileSettings};
use crate::error::{Error, Result};
use crate::findings::{DocAnalyzer, Finding, FindingKind};
use crate::input::{decode_text, expand, InputOptions, Source};
use crate::segment::{self, Markup, Segment, SegmentKind};
use crate::shingle::Shingler;
use crate::span::{LineIndex, Span};
use crate::tokenize::{normalize, words};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Where a finding or its source is: a file and a region of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Location {
    /// The file, relative to the config's directory, `/`-separated.
    pub path: String,
    /// Byte span.
    #[serde(flatten)]
    pub span: Span,
    /// 1-based first line.
    pub line: usize,
    /// 1-based column (in chars) of the first byte.
    pub column: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// 1-based column (in chars) just past the last char.
    pub end_column: usize,
}

/// Text a finding repeats.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckSource {
    /// Where it is.
    #[serde(flatten)]
    pub location: Location,
    /// Jaccard (copies) or the share of the finding's content it covers (restatements).
    pub score: f64,
    /// The start of the source paragraph.
    pub excerpt: String,
    /// The source's sentence that the finding repeats most, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence: Option<String>,
}

/// One finding of `deja check`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckFinding {
    /// Kind.
    pub kind: CheckKind,
    /// The redundant paragraph.
    #[serde(flatten)]
    pub location: Location,
    /// Jaccard (copies) or weighted containment (restatements), in [0, 1].
    pub score: f64,
    /// Stable identity across runs (kind + normalised text of the paragraph and its best source).
    pub fingerprint: String,
    /// True when the policy fails the check on it.
    pub failing: bool,
    /// True when the baseline accepts it (it is then not reported).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub baselined: bool,
    /// The start of the paragraph.
    pub excerpt: String,
    /// What it repeats, best first.
    pub sources: Vec<CheckSource>,
}

impl CheckFinding {
    /// The file of the best source of a cross-file copy; "" for other kinds.
    pub fn cross_file_source(&self) -> &str {
        match (self.kind, self.sources.first()) {
            (CheckKind::CrossFile, Some(s)) => &s.location.path,
            _ => "",
        }
    }

    /// What a baseline records of this finding: (fingerprint, kind, path, source file of a
    /// cross-file copy or "", excerpt), as [`Baseline::from_findings`] takes it.
    pub fn baseline_entry(&self) -> (&str, CheckKind, &str, &str, &str) {
        (
            self.fingerprint.as_str(),
            self.kind,
            self.location.path.as_str(),
            self.cross_file_source(),
            self.excerpt.as_str(),
        )
    }
}

impl Fingerprinted for CheckFinding {
    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
    fn path(&self) -> &str {
        &self.location.path
    }
    fn source_paths(&self) -> Vec<&str> {
        self.sources
            .iter()
            .map(|s| s.location.path.as_str())
            .collect()
    }
}

/// Everything one run of `deja check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Documents read (checked or used as sources of cross-file copies).
    pub documents: usize,
    /// Documents checked.
    pub checked: usize,
    /// Every finding (baselined ones included), sorted by path and position.
    pub findings: Vec<CheckFinding>,
    /// Inputs that could not be read or walked.
    pub errors: Vec<Error>,
    /// The text of every file that has a finding or is the source of one, by path, for
    /// printers that show the text (HTML).
    pub texts: BTreeMap<String, FileText>,
}

/// A file's text as `deja check` read it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileText {
    /// The text, as in the file.
    pub text: String,
    /// The language of its stopwords and stems (from its settings).
    pub language: String,
}

impl CheckReport {
    /// Findings the baseline does not accept.
    pub fn new_findings(&self) -> impl Iterator<Item = &CheckFinding> {
        self.findings.iter().filter(|f| !f.baselined)
    }

    /// New findings the policy fails on.
    pub fn failing(&self) -> usize {
        self.new_findings().filter(|f| f.failing).count()
    }

    /// Findings accepted by the baseline.
    pub fn baselined(&self) -> usize {
        self.findings.iter().filter(|f| f.baselined).count()
    }
}

/// How a run is set up beyond the config.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// When set, only these files (relative to the root) are checked; every other file is
    /// still read as a possible source of cross-file copies.
    pub changed: Option<HashSet<String>>,
    /// Kinds that fail the check, overriding the config (`--fail-on`).
    pub fail_on: Option<Vec<CheckKind>>,
    /// Accepted findings.
    pub baseline: Option<Baseline>,
    /// Extra `--glob` filters of the walk.
    pub globs: Vec<String>,
}

/// A document handed to [`check_documents`].
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Path relative to the config's directory, `/`-separated.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// Walks `paths` and reads every selected file, in path order. Unreadable files are returned as
/// errors; binary files met in a walk are skipped.
pub fn collect_files(
    config: &Config,
    paths: &[PathBuf],
    globs: &[String],
) -> (Vec<InputFile>, Vec<Error>) {
    let opts = InputOptions {
        globs: globs.to_vec(),
        ..InputOptions::default()
    };
    let (sources, mut errors) = expand(paths, &opts);
    let root = std::path::absolute(&config.root).unwrap_or_else(|_| config.root.clone());
    let mut seen = HashSet::new();
    let selected: Vec<(String, PathBuf, bool)> = sources
        .into_iter()
        .filter_map(|s| match s {
            Source::File { path, explicit } => {
                let rel = relative_path(&root, &path);
                // A file named on the command line needs only to escape `exclude`.
                let wanted = if explicit {
                    !config.excludes(&rel)
                } else {
                    config.selects(&rel)
                };
                (wanted && seen.insert(rel.clone())).then_some((rel, path, explicit))
            }
            Source::Stdin => None,
        })
        .collect();
    let read: Vec<std::result::Result<Option<InputFile>, Error>> = selected
        .par_iter()
        .map(|(rel, path, explicit)| {
            let bytes = crate::input::read_file_limited(path, opts.max_record_bytes)??;
            match decode_text(path, bytes) {
                Ok(text) => Ok(Some(InputFile {
                    path: rel.clone(),
                    text,
                })),
                Err(Error::Binary { .. }) if !explicit => Ok(None),
                Err(e) => Err(e),
            }
        })
        .collect();
    let mut files = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(Some(f)) => files.push(f),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
}

/// `path` relative to `root` with `/` separators, or as given when it is outside.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let rel = abs.strip_prefix(root).map_or_else(
        |_| path.to_path_buf(),
        |r| {
            if r.as_os_str().is_empty() {
                path.to_path_buf()
            } else {
                r.to_path_buf()
            }
        },
    );
    let s: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = s.join("/");
    if rel.is_absolute() && !joined.starts_with('/') {
        format!("/{}", joined.trim_start_matches('/'))
    } else {
        joined
    }
}

/// Walks `paths`, reads the files and checks them.
pub fn check(config: &Config, paths: &[PathBuf], opts: &CheckOptions) -> Result<CheckReport> {
    let (files, errors) = collect_files(config, paths, &opts.globs);
    let mut report = check_documents(config, opts, files)?;
    report.errors.splice(0..0, errors);
    Ok(report)
}

/// A file as the check reads it: its markup, its intra-document findings (already filtered by
/// the policy and the suppression markers) and the shingle sets of its paragraphs for the
/// cross-file join. It depends only on the file's text and settings, so a [`Workspace`] keeps
/// it until the file changes.
struct FileWork {
    path: String,
    text: String,
    prepared: Option<String>,
    target: bool,
    settings: usize,
    /// Intra-document findings.
    findings: Vec<CheckFinding>,
    /// Paragraphs eligible for the cross-file join: (index, span, sorted shingle set).
    units: Vec<(usize, Span, Vec<u64>)>,
    /// Paragraph indices suppressed by an inline marker.
    suppressed: HashSet<usize>,
}

impl FileWork {
    fn prose(&self) -> &str {
        self.prepared.as_deref().unwrap_or(&self.text)
    }
}

/// Checks documents given in memory (paths relative to the config's directory).
pub fn check_documents(
    config: &Config,
    opts: &CheckOptions,
    mut files: Vec<InputFile>,
) -> Result<CheckReport> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    let mut ws = Workspace::new(config.clone(), opts.fail_on.clone());
    ws.insert(files, opts.changed.as_ref())?;
    let mut report = ws.report(opts.baseline.as_ref());
    report.texts = ws.into_texts(&report);
    Ok(report)
}

/// The files of one check, kept between runs: a frontend that sees files change one at a time
/// (the language server) re-reads only the changed file, and [`Workspace::report`] looks for
/// cross-file copies again only in the files whose paragraphs are similar to the changed
/// file's, before or after the change (the other files' copies cannot have changed): the
/// report is the one a fresh workspace of the same files gives. [`check_documents`] is one
/// insert and one report.
///
/// ```
/// use deja::check::{InputFile, Workspace};
/// use deja::config::Config;
/// let p = "The release process starts with a signed tag that the maintainers push to the main repository.";
/// let mut ws = Workspace::new(Config::default(), None);
/// let file = |path: &str, text: String| InputFile { path: path.into(), text };
/// ws.insert(vec![file("a.md", format!("{p}\n")), file("b.md", "Other words.\n".into())], None).unwrap();
/// assert!(ws.report(None).findings.is_empty());
/// ws.insert(vec![file("b.md", format!("Other words.\n\n{p}\n"))], None).unwrap();
/// assert_eq!(ws.report(None).findings[0].location.path, "b.md");
/// ```
pub struct Workspace {
    config: Config,
    fail_on: Option<Vec<CheckKind>>,
    /// Distinct settings, each with its analyzer.
    settings: Vec<FileSettings>,
    analyzers: Vec<DocAnalyzer>,
    keys: HashMap<String, usize>,
    /// By path: the report lists files in path order.
    files: BTreeMap<String, FileWork>,
    /// The cross-file copies of the last report, and what changed since.
    cross: Option<CrossCache>,
}

impl Workspace {
    /// An empty workspace under `config`; `fail_on` overrides the config's kinds that fail.
    pub fn new(config: Config, fail_on: Option<Vec<CheckKind>>) -> Workspace {
        Workspace {
            config,
            fail_on,
            settings: Vec::new(),
            analyzers: Vec::new(),
            keys: HashMap::new(),
            files: BTreeMap::new(),
            cross: None,
        }
    }

    /// The config it checks against.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings of the file at `path` (the config's, with `fail_on` overridden).
    pub fn settings_for(&self, path: &str) -> FileSettings {
        let mut s = self.config.settings_for(path);
        if let Some(fail_on) = &self.fail_on {
            s.fail_on = fail_on.clone();
        }
        s
    }

    fn settings_index(&mut self, path: &str) -> Result<usize> {
        let s = self.settings_for(path);
        let key = format!("{s:?}");
        if let Some(&i) = self.keys.get(&key) {
            return Ok(i);
        }
        self.analyzers.push(DocAnalyzer::new(s.doc.clone())?);
        self.settings.push(s);
        self.keys.insert(key, self.settings.len() - 1);
        Ok(self.settings.len() - 1)
    }

    /// Reads `files` (in parallel), replacing any file of the same path. When `changed` is
    /// set, the files not in it are only sources of cross-file copies: no finding is
    /// reported in them.
    pub fn insert(
        &mut self,
        files: Vec<InputFile>,
        changed: Option<&HashSet<String>>,
    ) -> Result<()> {
        let mut jobs = Vec::with_capacity(files.len());
        for f in files {
            let si = self.settings_index(&f.path)?;
            let target = changed.is_none_or(|c| c.contains(&f.path));
            jobs.push((f, si, target));
        }
        let (settings, analyzers) = (&self.settings, &self.analyzers);
        let cross = self.reports_cross_file();
        let works: Vec<FileWork> = jobs
            .into_par_iter()
            .map(|(f, si, target)| {
                analyze_file(f, si, target, cross, &settings[si], &analyzers[si])
            })
            .collect();
        for w in works {
            self.note_change(&w.path, Some(&w));
            self.files.insert(w.path.clone(), w);
        }
        Ok(())
    }

    /// Before the file at `path` is replaced by `new` (or removed): marks the files whose
    /// cross-file copies it may change, those with a paragraph similar to one of its old or
    /// new paragraphs, and keeps the index of paragraphs up to date.
    fn note_change(&mut self, path: &str, new: Option<&FileWork>) {
        let Some(cache) = self.cross.as_mut() else {
            return;
        };
        if cache.full {
            return;
        }
        let files = &self.files;
        let index = cache
            .index
            .get_or_insert_with(|| CrossIndex::new(files, cache.threshold));
        let mut stale = BTreeSet::new();
        let old: Vec<&[u64]> = files
            .get(path)
            .map(|w| w.units.iter().map(|u| u.2.as_slice()).collect())
            .unwrap_or_default();
        let mut ok = index.files_similar_to(&old, &mut stale).is_some();
        index.remove_file(path);
        if let Some(w) = new {
            index.add_file(w);
            let sets: Vec<&[u64]> = w.units.iter().map(|u| u.2.as_slice()).collect();
            ok &= index.files_similar_to(&sets, &mut stale).is_some();
        }
        stale.insert(path.to_string());
        if ok {
            cache.stale.extend(stale);
        } else {
            cache.full = true;
            cache.index = None;
        }
    }

    /// False when no file can report cross-file copies (`ignore` has them everywhere): then
    /// no shingle sets are kept.
    fn reports_cross_file(&self) -> bool {
        let c = &self.config;
        !c.ignore.contains(&CheckKind::CrossFile)
            || c.overrides.iter().any(|o| {
                o.ignore
                    .as_ref()
                    .is_some_and(|i| !i.contains(&CheckKind::CrossFile))
            })
    }

    /// Forgets the file at `path`; true when it was there.
    pub fn remove(&mut self, path: &str) -> bool {
        if !self.files.contains_key(path) {
            return false;
        }
        self.note_change(path, None);
        self.files.remove(path).is_some()
    }

    /// True when the file at `path` is read.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The text of the file at `path`, as last inserted.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(|w| w.text.as_str())
    }

    /// Number of files read.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file is read.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Builds now what the report after a change needs (the index of every paragraph's
    /// shingles, else made by the first change), so that a frontend can pay for it while
    /// nobody waits: after publishing a report, before the next edit.
    pub fn prepare_changes(&mut self) {
        if let Some(cache) = self.cross.as_mut() {
            if !cache.full && cache.index.is_none() {
                cache.index = Some(CrossIndex::new(&self.files, cache.threshold));
            }
        }
    }

    /// Brings the cross-file copies up to date: the files marked stale since the last report
    /// are queried against the index of paragraphs, or, when there is no earlier report (or
    /// a change was too large to follow), every file is joined again.
    fn update_cross(&mut self) {
        let works: Vec<&FileWork> = self.files.values().collect();
        let Some(threshold) = cross_threshold(&works, &self.settings) else {
            self.cross = None;
            return;
        };
        let incremental = self
            .cross
            .as_ref()
            .is_some_and(|c| !c.full && c.threshold == threshold);
        if incremental {
            let cache = self.cross.as_mut().expect("checked above");
            let stale = std::mem::take(&mut cache.stale);
            let mut ok = true;
            if let Some(index) = &cache.index {
                for path in &stale {
                    let Some(w) = self.files.get(path) else {
                        cache.findings.remove(path);
                        continue;
                    };
                    match file_copies(&self.files, index, w, &self.settings[w.settings]) {
                        Some(f) if f.is_empty() => {
                            cache.findings.remove(path);
                        }
                        Some(f) => {
                            cache.findings.insert(path.clone(), f);
                        }
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
            }
            if ok {
                return;
            }
        }
        let (findings, truncated) = cross_file(&works, &self.settings, threshold);
        self.cross = Some(CrossCache {
            threshold,
            findings,
            index: None,
            stale: BTreeSet::new(),
            full: truncated,
        });
    }

    /// Every finding of the files read: their intra-document findings, the cross-file copies
    /// among all of them, and which findings `baseline` accepts. The report's `texts` are
    /// left empty ([`Workspace::texts`] gives them).
    pub fn report(&mut self, baseline: Option<&Baseline>) -> CheckReport {
        self.update_cross();
        let works: Vec<&FileWork> = self.files.values().collect();
        let mut findings: Vec<CheckFinding> = works
            .iter()
            .flat_map(|w| w.findings.iter().cloned())
            .collect();
        if let Some(cache) = &self.cross {
            for w in &works {
                if let Some(f) = cache.findings.get(&w.path) {
                    findings.extend(f.iter().cloned());
                }
            }
        }
        findings.sort_by(|a, b| {
            (&a.location.path, a.location.span.start, a.kind).cmp(&(
                &b.location.path,
                b.location.span.start,
                b.kind,
            ))
        });
        if let Some(base) = baseline {
            let accepted = base.matches(&findings, &|p| self.files.contains_key(p));
            for (f, ok) in findings.iter_mut().zip(accepted) {
                f.baselined = ok;
            }
        }
        CheckReport {
            documents: works.len(),
            checked: works.iter().filter(|w| w.target).count(),
            findings,
            errors: Vec::new(),
            texts: BTreeMap::new(),
        }
    }

    /// The texts of the files that `report` (of this workspace) involves: each file with a
    /// finding or that is the source of one, for printers that show the text (HTML).
    pub fn texts(&self, report: &CheckReport) -> BTreeMap<String, FileText> {
        (self.involved(report).into_iter())
            .filter_map(|p| self.files.get(p))
            .map(|w| (w.path.clone(), self.file_text(w, w.text.clone())))
            .collect()
    }

    /// [`Workspace::texts`], moving the texts out of the workspace.
    fn into_texts(mut self, report: &CheckReport) -> BTreeMap<String, FileText> {
        let involved: Vec<String> = (self.involved(report).into_iter())
            .map(str::to_string)
            .collect();
        let mut out = BTreeMap::new();
        for p in involved {
            if let Some(w) = self.files.remove(&p) {
                let t = self.file_text(&w, String::new());
                out.insert(p, FileText { text: w.text, ..t });
            }
        }
        out
    }

    fn involved<'a>(&self, report: &'a CheckReport) -> BTreeSet<&'a str> {
        (report.findings.iter())
            .flat_map(|f| {
                std::iter::once(f.location.path.as_str())
                    .chain(f.sources.iter().map(|s| s.location.path.as_str()))
            })
            .collect()
    }

    fn file_text(&self, w: &FileWork, text: String) -> FileText {
        let language = self.settings[w.settings].doc.language.clone();
        FileText { text, language }
    }
}

/// The cross-file copies of the file `w`, from the index of paragraphs (`None`: a query had
/// too many candidates to be answered exactly).
fn file_copies(
    files: &BTreeMap<String, FileWork>,
    index: &CrossIndex,
    w: &FileWork,
    s: &FileSettings,
) -> Option<Vec<CheckFinding>> {
    let mut out = Vec::new();
    let mut lines: HashMap<&str, LineIndex> = HashMap::new();
    for k in 0..w.units.len() {
        if !reports_copy(w, s, k) {
            continue;
        }
        let sources = cross_sources(files, index, w, s, k)?;
        if sources.is_empty() {
            continue;
        }
        for f in std::iter::once(w).chain(sources.iter().map(|&(_, f, _)| f)) {
            lines
                .entry(f.path.as_str())
                .or_insert_with(|| LineIndex::new(&f.text));
        }
        let sources: Vec<(f64, &FileWork, usize, &LineIndex)> = sources
            .iter()
            .map(|&(j, f, kf)| (j, f, kf, &lines[f.path.as_str()]))
            .collect();
        out.push(cross_finding(w, s, k, &lines[w.path.as_str()], &sources));
    }
    Some(out)
}

/// Reads one file in its markup: segments and suppression markers, intra-document findings
/// (for a target) and the shingle sets of its paragraphs.
fn analyze_file(
    f: InputFile,
    si: usize,
    target: bool,
    cross: bool,
    s: &FileSettings,
    analyzer: &DocAnalyzer,
) -> FileWork {
    let prose = segment::prose(&f.text, Markup::detect(&f.path, &f.text));
    let suppressed: HashSet<usize> = (prose.segments.iter().enumerate())
        .filter(|(_, s)| s.suppressed)
        .map(|(i, _)| i)
        .collect();
    let intra = [
        CheckKind::Duplicate,
        CheckKind::NearDuplicate,
        CheckKind::Restatement,
    ]
    .iter()
    .any(|&k| s.reports(k));
    // Prose words per segment, counted once (the cross-file units count them as they hash
    // their words; findings and the analysis' filter read them).
    let counts: Vec<std::sync::OnceLock<usize>> = prose
        .segments
        .iter()
        .map(|_| std::sync::OnceLock::new())
        .collect();
    let prose_count =
        |i: usize, span: Span| *counts[i].get_or_init(|| prose_words(&prose.text, span));
    // Every file is a possible source, whatever its own settings report.
    let units = if cross {
        cross_units(&prose.text, &prose.segments, s.min_words, &counts)
    } else {
        Vec::new()
    };
    let mut findings = Vec::new();
    if target && intra {
        // Paragraphs that cannot be reported are not looked into further.
        let wanted = |kind, paragraph: usize, span: Span| {
            s.reports(check_kind(kind))
                && !suppressed.contains(&paragraph)
                && prose_count(paragraph, span) >= s.min_words
        };
        let id = serde_json::Value::String(f.path.clone());
        let r = analyzer.analyze_prose_where(id, &prose, &wanted);
        let mut lines = None;
        for d in &r.findings {
            let kind = check_kind(d.kind);
            // A finding must show its evidence (the analyzer can score a restatement whose
            // sources all fall under its evidence cut-offs).
            if !s.reports(kind)
                || d.sources.is_empty()
                || suppressed.contains(&d.paragraph)
                || prose_count(d.paragraph, d.span) < s.min_words
            {
                continue;
            }
            let lines = lines.get_or_insert_with(|| LineIndex::new(&f.text));
            findings.push(from_doc_finding(&f.path, &f.text, lines, d, s.fails(kind)));
        }
    }
    let prepared = match prose.text {
        Cow::Owned(s) => Some(s),
        Cow::Borrowed(_) => None,
    };
    FileWork {
        path: f.path,
        text: f.text,
        prepared,
        target,
        settings: si,
        findings,
        units,
        suppressed,
    }
}

/// The paragraphs of a file that take part in the cross-file join, with their shingle sets.
/// Records each one's prose word count in `counts`.
fn cross_units(
    prose: &str,
    segments: &[Segment],
    min_words: usize,
    counts: &[std::sync::OnceLock<usize>],
) -> Vec<(usize, Span, Vec<u64>)> {
    let shingler = Shingler::new(crate::findings::DocOptions::default().shingle_size);
    let mut hashes = Vec::new();
    segments
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s.kind,
                SegmentKind::Paragraph | SegmentKind::ListItem | SegmentKind::Quote
            )
        })
        .filter_map(|(i, s)| {
            // One pass over the words: prose count and shingles together.
            hashes.clear();
            let n = prose_word_hashes(prose, s.span, &shingler, &mut hashes);
            let _ = counts[i].set(n);
            if n < min_words.max(1) {
                return None;
            }
            let mut set = Vec::with_capacity(hashes.len());
            shingler.shingles_of(&hashes, &mut set);
            set.sort_unstable();
            set.dedup();
            Some((i, s.span, set))
        })
        .collect()
}

/// The kind of a `deja doc` finding.
pub fn check_kind(k: FindingKind) -> CheckKind {
    match k {
        FindingKind::Duplicate => CheckKind::Duplicate,
        FindingKind::NearDuplicate => CheckKind::NearDuplicate,
        FindingKind::Restatement => CheckKind::Restatement,
    }
}

/// The location of `span` in `text`.
pub fn locate(path: &str, text: &str, lines: &LineIndex, span: Span) -> Location {
    let (line, column) = lines.line_col(text, span.start);
    let (end_line, end_column) = lines.line_col(text, span.end);
    Location {
        path: path.to_string(),
        span,
        line,
        column,
        end_line,
        end_column,
    }
}

/// A `deja doc` finding of the document `path` as a check finding (used by `deja doc`'s SARIF
/// and GitHub formats too).
pub fn from_doc_finding(
    path: &str,
    text: &str,
    lines: &LineIndex,
    f: &Finding,
    failing: bool,
) -> CheckFinding {
    let kind = check_kind(f.kind);
    let para = normalized_words(text, f.span);
    let best = f
        .sources
        .first()
        .map_or_else(String::new, |s| normalized_words(text, s.span));
    CheckFinding {
        kind,
        location: locate(path, text, lines, f.span),
        score: f.score,
        fingerprint: fingerprint(kind, &para, &best),
        failing,
        baselined: false,
        excerpt: crate::report::excerpt(f.span.slice(text), 120),
        sources: f
            .sources
            .iter()
            .map(|s| CheckSource {
                location: locate(path, text, lines, s.span),
                score: s.score,
                excerpt: crate::report::excerpt(s.span.slice(text), 100),
                sentence: s
                    .sentence
                    .as_ref()
                    .map(|st| crate::report::excerpt(st.span.slice(text), 120)),
            })
            .collect(),
    }
}

/// A paragraph that takes part in the cross-file join.
struct CrossUnit {
    file: usize,
    /// Its place in its file's `units`.
    k: usize,
    /// Position in the order of originals: unchanged files first, then by path and offset.
    rank: usize,
}

/// Most groups of similar paragraphs (beyond its own) a paragraph's sources are chosen from:
/// with thousands of near-identical paragraphs, the most similar (the earliest among equals).
const MAX_NEIGHBOURS: usize = crossfile::MAX_CANDIDATES;

/// The threshold of the cross-file join: the lowest of the files' (`None` when no file
/// reports cross-file copies).
fn cross_threshold(works: &[&FileWork], settings: &[FileSettings]) -> Option<f64> {
    let active: Vec<&FileSettings> = works.iter().map(|w| &settings[w.settings]).collect();
    if !active.iter().any(|s| s.reports(CheckKind::CrossFile)) {
        return None;
    }
    Some(
        active
            .iter()
            .map(|s| s.cross_file_threshold)
            .fold(1.0, f64::min),
    )
}

/// True when a copy may be reported at unit `k` of `w`.
fn reports_copy(w: &FileWork, s: &FileSettings, k: usize) -> bool {
    w.target && s.reports(CheckKind::CrossFile) && !w.suppressed.contains(&w.units[k].0)
}

/// Where a unit stands in the order of originals (compared as a tuple).
fn rank_key(w: &FileWork, k: usize) -> (bool, &str, usize) {
    (w.target, w.path.as_str(), w.units[k].1.start)
}

/// The cross-file copies of every file (by path, in each file's order), and whether the join
/// was truncated (some paragraph had more candidates than it compared).
fn cross_file(
    works: &[&FileWork],
    settings: &[FileSettings],
    threshold: f64,
) -> (HashMap<String, Vec<CheckFinding>>, bool) {
    let mut units = Vec::new();
    for (fi, w) in works.iter().enumerate() {
        for k in 0..w.units.len() {
            units.push(CrossUnit {
                file: fi,
                k,
                rank: 0,
            });
        }
    }
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&u| {
        (
            works[units[u].file].target,
            units[u].file,
            works[units[u].file].units[units[u].k].1.start,
        )
    });
    for (rank, &u) in order.iter().enumerate() {
        units[u].rank = rank;
    }
    // Joined in rank order, so that a set with too many candidates is compared with the
    // earliest (the originals).
    let sets: Vec<&[u64]> = order
        .iter()
        .map(|&u| works[units[u].file].units[units[u].k].2.as_slice())
        .collect();
    let join = crossfile::join(&sets, threshold);
    let mut truncated = join.truncated;
    // For each group: its members by rank, and the first member in a file other than the first's.
    let groups: Vec<Vec<usize>> = join
        .groups
        .into_iter()
        .map(|g| g.into_iter().map(|i| order[i]).collect())
        .collect();
    let firsts: Vec<(usize, Option<usize>)> = groups
        .iter()
        .map(|g| {
            let first = g[0];
            let other = g
                .iter()
                .copied()
                .find(|&u| units[u].file != units[first].file);
            (first, other)
        })
        .collect();
    // The earliest member of group `g` in a file other than `u`'s, ranked before `u`.
    let original_in = |g: usize, u: usize| -> Option<usize> {
        let (first, other) = firsts[g];
        let cand = if units[first].file != units[u].file {
            Some(first)
        } else {
            other
        };
        cand.filter(|&c| units[c].rank < units[u].rank)
    };
    let mut group_of = vec![usize::MAX; units.len()];
    for (gi, g) in groups.iter().enumerate() {
        for &u in g {
            group_of[u] = gi;
        }
    }
    let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups.len()];
    for &(a, b, j) in &join.pairs {
        neighbours[a].push((b, j));
        neighbours[b].push((a, j));
    }
    for list in &mut neighbours {
        if list.len() > MAX_NEIGHBOURS {
            // Groups are numbered in rank order of their first members.
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            list.truncate(MAX_NEIGHBOURS);
            truncated = true;
        }
    }
    let mut out: HashMap<String, Vec<CheckFinding>> = HashMap::new();
    let line_indexes: Vec<std::sync::OnceLock<LineIndex>> =
        works.iter().map(|_| std::sync::OnceLock::new()).collect();
    let lines_of = |f: usize| line_indexes[f].get_or_init(|| LineIndex::new(&works[f].text));
    for (u, unit) in units.iter().enumerate() {
        let w = &works[unit.file];
        let s = &settings[w.settings];
        if !reports_copy(w, s, unit.k) {
            continue;
        }
        let g = group_of[u];
        if g == usize::MAX {
            continue;
        }
        let mut sources: Vec<(f64, usize)> = Vec::new();
        if let Some(o) = original_in(g, u) {
            sources.push((1.0, o));
        }
        for &(h, j) in &neighbours[g] {
            if j >= s.cross_file_threshold {
                if let Some(o) = original_in(h, u) {
                    sources.push((j, o));
                }
            }
        }
        if sources.is_empty() {
            continue;
        }
        sources.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(units[a.1].rank.cmp(&units[b.1].rank))
        });
        sources.truncate(3);
        let sources: Vec<(f64, &FileWork, usize, &LineIndex)> = sources
            .iter()
            .map(|&(j, o)| (j, works[units[o].file], units[o].k, lines_of(units[o].file)))
            .collect();
        let f = cross_finding(w, s, unit.k, lines_of(unit.file), &sources);
        out.entry(w.path.clone()).or_default().push(f);
    }
    (out, truncated)
}

/// The copies of paragraph `k` of `w` in other files, best first, as [`cross_file`] would
/// choose them, from the paragraphs `index` holds; `None` when a query had too many
/// candidates to be answered exactly.
fn cross_sources<'a>(
    files: &'a BTreeMap<String, FileWork>,
    index: &CrossIndex,
    w: &FileWork,
    s: &FileSettings,
    k: usize,
) -> Option<Vec<(f64, &'a FileWork, usize)>> {
    let set = &w.units[k].2;
    let similar = index.sets.similar(set, crossfile::MAX_CANDIDATES)?;
    let rank = rank_key(w, k);
    // Per group of identical sets: its Jaccard, and its earliest member in another file.
    type Group<'a> = (f64, Option<(&'a FileWork, usize)>);
    let mut groups: HashMap<&[u64], Group<'a>> = HashMap::new();
    for (id, j) in similar {
        let (path, kq) = &index.owner[&id];
        let other = &files[path];
        let entry = groups.entry(index.sets.set(id)).or_insert((j, None));
        if other.path == w.path {
            continue;
        }
        if entry
            .1
            .is_none_or(|(f, kf)| rank_key(other, *kq) < rank_key(f, kf))
        {
            entry.1 = Some((other, *kq));
        }
    }
    if groups.len() > MAX_NEIGHBOURS {
        return None;
    }
    let mut sources: Vec<(f64, &FileWork, usize)> = groups
        .into_iter()
        .filter(|(_, (j, _))| *j >= s.cross_file_threshold || *j == 1.0)
        .filter_map(|(_, (j, o))| o.map(|(f, kf)| (j, f, kf)))
        .filter(|&(_, f, kf)| rank_key(f, kf) < rank)
        .collect();
    sources.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(rank_key(a.1, a.2).cmp(&rank_key(b.1, b.2)))
    });
    sources.truncate(3);
    Some(sources)
}

/// The cross-file finding of paragraph `k` of `w`, copied from `sources` (Jaccard, file,
/// paragraph, the file's lines), best first.
fn cross_finding(
    w: &FileWork,
    s: &FileSettings,
    k: usize,
    lines: &LineIndex,
    sources: &[(f64, &FileWork, usize, &LineIndex)],
) -> CheckFinding {
    let span = w.units[k].1;
    let text = &w.text;
    let para = normalized_words(w.prose(), span);
    let (j0, best, kb, _) = sources[0];
    let best_words = normalized_words(best.prose(), best.units[kb].1);
    let score = (j0 * 1000.0).round() / 1000.0;
    CheckFinding {
        kind: CheckKind::CrossFile,
        location: locate(&w.path, text, lines, span),
        score,
        // The same copy seen from either side has the same fingerprint.
        fingerprint: if para <= best_words {
            fingerprint(CheckKind::CrossFile, &para, &best_words)
        } else {
            fingerprint(CheckKind::CrossFile, &best_words, &para)
        },
        failing: s.fails(CheckKind::CrossFile),
        baselined: false,
        excerpt: crate::report::excerpt(span.slice(text), 120),
        sources: sources
            .iter()
            .map(|&(j, sw, ks, sl)| {
                let sspan = sw.units[ks].1;
                CheckSource {
                    location: locate(&sw.path, &sw.text, sl, sspan),
                    score: (j * 1000.0).round() / 1000.0,
                    excerpt: crate::report::excerpt(sspan.slice(&sw.text), 100),
                    sentence: None,
                }
            })
            .collect(),
    }
}

/// The cross-file join's paragraphs, kept for queries between edits (see [`Workspace`]).
struct CrossIndex {
    sets: crossfile::SetIndex,
    /// Index id → (path, unit).
    owner: HashMap<u32, (String, usize)>,
    /// Path → the index ids of its units, in order.
    ids: HashMap<String, Vec<u32>>,
}

impl CrossIndex {
    fn new(files: &BTreeMap<String, FileWork>, threshold: f64) -> CrossIndex {
        let mut sets = Vec::new();
        let mut owner = HashMap::new();
        let mut ids: HashMap<String, Vec<u32>> = HashMap::new();
        for (path, w) in files {
            for (k, (_, _, set)) in w.units.iter().enumerate() {
                owner.insert(sets.len() as u32, (path.clone(), k));
                ids.entry(path.clone()).or_default().push(sets.len() as u32);
                sets.push(set.clone());
            }
        }
        CrossIndex {
            sets: crossfile::SetIndex::new(sets, threshold),
            owner,
            ids,
        }
    }

    /// Files with a paragraph similar to one of `sets` (`None`: too many to tell).
    fn files_similar_to(&self, sets: &[&[u64]], out: &mut BTreeSet<String>) -> Option<()> {
        for set in sets {
            for (id, _) in self.sets.similar(set, crossfile::MAX_CANDIDATES)? {
                out.insert(self.owner[&id].0.clone());
            }
        }
        Some(())
    }

    fn remove_file(&mut self, path: &str) {
        for id in self.ids.remove(path).unwrap_or_default() {
            self.sets.remove(id);
            self.owner.remove(&id);
        }
    }

    fn add_file(&mut self, w: &FileWork) {
        let ids = (w.units.iter().enumerate())
            .map(|(k, (_, _, set))| {
                let id = self.sets.insert(set.clone());
                self.owner.insert(id, (w.path.clone(), k));
                id
            })
            .collect();
        self.ids.insert(w.path.clone(), ids);
    }
}

/// The cross-file findings of the last report, kept so that a change re-reads only the
/// files it can affect.
struct CrossCache {
    threshold: f64,
    /// By path.
    findings: HashMap<String, Vec<CheckFinding>>,
    /// Made at the first change after a full join.
    index: Option<CrossIndex>,
    /// Files whose copies may have changed since.
    stale: BTreeSet<String>,
    /// The next report joins everything again (the last join was truncated, or a change
    /// touched too many paragraphs to follow).
    full: bool,
}

/// Words of `text[span]` that are prose: not inside link targets, URLs, inline code or
/// reST roles, and not the text of a link (a list of links is not prose).
pub fn prose_words(text: &str, span: Span) -> usize {
    count_prose_words(text, span, |_| {})
}

/// [`prose_words`], calling `each` with every word (prose or not) on the way.
fn count_prose_words(text: &str, span: Span, mut each: impl FnMut(&str)) -> usize {
    let body = span.slice(text);
    let mut prose = ProseFilter::new(non_prose_ranges(body));
    let mut n = 0;
    words(text, span, |s, w| {
        if prose.is_prose(s.start - span.start, s.end - span.start) {
            n += 1;
        }
        each(w);
    });
    n
}

/// Which words (in order) lie outside the non-prose ranges of a paragraph: the ranges are
/// disjoint and in order, so one pass over both answers every word.
struct ProseFilter {
    skip: Vec<(usize, usize)>,
    next: usize,
}

impl ProseFilter {
    fn new(skip: Vec<(usize, usize)>) -> Self {
        ProseFilter { skip, next: 0 }
    }

    /// True unless the word at `a..b` (after the previous one asked about) lies inside one
    /// range.
    fn is_prose(&mut self, a: usize, b: usize) -> bool {
        // Ranges that end at or before `a` cannot hold this word or any later one.
        while self.next < self.skip.len() && self.skip[self.next].1 <= a {
            self.next += 1;
        }
        // Only the first range ending after `a` can start at or before it.
        !self
            .skip
            .get(self.next)
            .is_some_and(|&(x, y)| x <= a && b <= y)
    }
}

/// [`prose_words`], also appending the hash of every word (prose or not) to `hashes`.
fn prose_word_hashes(text: &str, span: Span, shingler: &Shingler, hashes: &mut Vec<u64>) -> usize {
    let mut buf = String::new();
    count_prose_words(text, span, |w| {
        normalize(w, &mut buf);
        hashes.push(shingler.hash_word(&buf));
    })
}

/// Byte ranges (relative to `body`) of link text and targets, URLs, inline code and roles.
fn non_prose_ranges(body: &str) -> Vec<(usize, usize)> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Only these bytes can start a range; every other char is stepped over.
        match b[i..]
            .iter()
            .position(|c| matches!(c, b'[' | b'`' | b':' | b'h' | b'w' | b'<'))
        {
            Some(k) => i += k,
            None => break,
        }
        let rest = &body[i..];
        let end = match b[i] {
            // `[text](target)` or `[text][ref]`: the whole link.
            b'[' => rest.find("](").and_then(|k| {
                let close = rest[k..].find(')')?;
                (!rest[1..k].contains(']')).then_some(i + k + close + 1)
            }),
            // Inline code, or a reST reference `` `text <url>`_ ``.
            b'`' => {
                let ticks = rest.bytes().take_while(|&c| c == b'`').count();
                let fence = &rest[..ticks];
                rest[ticks..]
                    .find(fence)
                    .map(|k| i + ticks + k + ticks)
                    .map(|e| if body[e..].starts_with('_') { e + 1 } else { e })
            }
            // A reST role `:ref:`…`` / `:func:`…``.
            b':' if rest.len() > 2 && b[i + 1].is_ascii_alphabetic() => {
                let name_len = rest[1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-'))
                    .unwrap_or(0);
                let after = &rest[1 + name_len..];
                if name_len > 1 && rest[..1 + name_len].ends_with(':') && after.starts_with('`') {
                    after[1..].find('`').map(|k| i + 1 + name_len + 1 + k + 1)
                } else {
                    None
                }
            }
            b'h' | b'w'
                if rest.starts_with("http://")
                    || rest.starts_with("https://")
                    || rest.starts_with("www.") =>
            {
                Some(i + rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len()))
            }
            b'<' if rest.starts_with("<http") => rest.find('>').map(|k| i + k + 1),
            _ => None,
        };
        match end {
            Some(e) if e > i => {
                out.push((i, e));
                i = e;
            }
            _ => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// The files changed since `reference` (`git diff --name-only`, deleted files left out) plus
/// untracked files that are not ignored, relative to `root`.
pub fn git_changed(root: &Path, reference: &str) -> Result<HashSet<String>> {
    let run = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .map_err(|e| Error::Option(format!("--changed-since: cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(Error::Option(format!(
                "--changed-since {reference}: git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let mut changed = HashSet::new();
    let diff = run(&[
        "diff",
        "--name-only",
        "--relative",
        "--diff-filter=d",
        "-z",
        reference,
        "--",
    ])?;
    let untracked = run(&["ls-files", "--others", "--exclude-standard", "-z"])?;
    for p in diff.split('\0').chain(untracked.split('\0')) {
        if !p.is_empty() {
            changed.insert(p.to_string());
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> InputFile {
        InputFile {
            path: path.into(),
            text: text.into(),
        }
    }

    const COPY: &str = "Every release is built from a signed tag, and the maintainers publish the checksums next to the archives.";

    proptest::proptest! {
        /// One pass over words and ranges counts what testing each word against every
        /// range counts.
        #[test]
        fn prose_filter_counts_as_every_range_would(pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "word", " ", "[link](https://x.org/a b)", "`code`", "``a ` b``", ":ref:`x y`",
                "https://y.org/z", "<http://q.org>", "www.w.org", "`", "[", "](", ":", "é", "\n",
            ]),
            0..30,
        )) {
            let t = pieces.concat();
            let skip = non_prose_ranges(&t);
            let mut naive = 0;
            words(&t, Span::new(0, t.len()), |s, _| {
                if !skip.iter().any(|&(x, y)| x <= s.start && s.end <= y) {
                    naive += 1;
                }
            });
            proptest::prop_assert_eq!(prose_words(&t, Span::new(0, t.len())), naive);
        }
    }

    #[test]
    fn prose_words_skip_links_code_and_roles() {
        let t = "See [the guide](https://x.org/g) and `some code here` or :ref:`label-name` now https://y.org ok";
        assert_eq!(prose_words(t, Span::new(0, t.len())), 5); // see and or now ok
    }

    #[test]
    fn cross_file_copies_point_at_the_earlier_file() {
        let files = vec![
            file("b.md", &format!("# B\n\nIntro of b.\n\n{COPY}\n")),
            file("a.md", &format!("# A\n\n{COPY}\n")),
            file(
                "c.md",
                "# C\n\nNothing in common with the others at all, really nothing.\n",
            ),
        ];
        let r = check_documents(&Config::default(), &CheckOptions::default(), files).unwrap();
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!((f.location.path.as_str(), f.location.line), ("b.md", 5));
        assert_eq!(f.sources[0].location.path, "a.md");
        assert_eq!(f.score, 1.0);
        assert!(f.failing);
    }

    #[test]
    fn changed_files_are_the_copies() {
        let files = vec![
            file("a.md", &format!("{COPY}\n")),
            file("b.md", &format!("{COPY}\n")),
        ];
        let opts = CheckOptions {
            changed: Some(["a.md".to_string()].into()),
            ..CheckOptions::default()
        };
        let r = check_documents(&Config::default(), &opts, files).unwrap();
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].location.path, "a.md");
        assert_eq!(r.checked, 1);
    }

    #[test]
    fn baseline_counts_new_copies() {
        let two = vec![
            file("a.md", &format!("{COPY}\n")),
            file("b.md", &format!("{COPY}\n")),
        ];
        let r = check_documents(&Config::default(), &CheckOptions::default(), two.clone()).unwrap();
        let base = Baseline::from_findings(r.findings.iter().map(CheckFinding::baseline_entry));
        let mut three = two;
        three.push(file("c.md", &format!("Edited above.\n\n{COPY}\n")));
        let opts = CheckOptions {
            baseline: Some(base),
            ..CheckOptions::default()
        };
        let r = check_documents(&Config::default(), &opts, three).unwrap();
        let new: Vec<_> = r.new_findings().map(|f| f.location.path.as_str()).collect();
        assert_eq!(new, ["c.md"]);
        assert_eq!(r.baselined(), 1);
    }

    #[test]
    fn markers_suppress_the_next_paragraph() {
        let files = vec![
            file("a.rst", &format!("{COPY}\n")),
            file("b.rst", &format!(".. deja-ignore\n\n{COPY}\n")),
            file("c.adoc", &format!("// deja-ignore\n{COPY}\n")),
            file("d.md", &format!("<!-- deja-ignore -->\n{COPY}\n")),
        ];
        let r = check_documents(&Config::default(), &CheckOptions::default(), files).unwrap();
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    /// A workspace changed file by file reports what a fresh workspace of the same files
    /// reports: the copies it looks for again only in the files similar to the changed ones.
    #[test]
    fn changes_give_the_report_of_a_fresh_workspace() {
        let paragraphs = [
            COPY.to_string(),
            COPY.replace("signed tag", "signed and dated tag"),
            COPY.replace("checksums", "signatures"),
            "Each contributor signs the agreement before the first change is merged into the tree."
                .to_string(),
            "Each contributor signs the agreement before the first change is merged into the main tree."
                .to_string(),
            "Nothing in common with the others at all, really nothing, just words about gardens."
                .to_string(),
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let text = |rng: &mut fastrand::Rng| {
            let n = rng.usize(0..4);
            (0..n)
                .map(|_| paragraphs[rng.usize(..paragraphs.len())].clone())
                .collect::<Vec<_>>()
                .join("\n\n")
                + "\n"
        };
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for i in 0..8 {
            files.insert(format!("d{i}.md"), text(&mut rng));
        }
        let as_input = |files: &BTreeMap<String, String>| -> Vec<InputFile> {
            files.iter().map(|(p, t)| file(p, t)).collect()
        };
        let mut ws = Workspace::new(Config::default(), None);
        ws.insert(as_input(&files), None).unwrap();
        ws.report(None);
        for step in 0..60 {
            let path = format!("d{}.md", rng.usize(0..10));
            if rng.usize(0..5) == 0 {
                files.remove(&path);
                ws.remove(&path);
            } else {
                let t = text(&mut rng);
                files.insert(path.clone(), t.clone());
                ws.insert(vec![file(&path, &t)], None).unwrap();
            }
            let got = ws.report(None);
            let want = check_documents(
                &Config::default(),
                &CheckOptions::default(),
                as_input(&files),
            )
            .unwrap();
            assert_eq!(got.findings, want.findings, "step {step}");
            assert_eq!(got.documents, want.documents);
        }
        // The later reports were answered from the index, not by joining everything again.
        assert!(ws.cross.as_ref().is_some_and(|c| c.index.is_some()));
    }

    #[test]
    fn relative_paths() {
        let root = std::path::absolute(".").unwrap();
        assert_eq!(relative_path(&root, Path::new("./docs/a.md")), "docs/a.md");
        assert_eq!(relative_path(&root, Path::new("docs/a.md")), "docs/a.md");
    }
}
