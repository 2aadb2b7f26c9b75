//! `deja.toml`: the policy of `deja check` — which files, which thresholds, which kinds of
//! finding fail the check, per-path overrides, and where the baseline lives.
//!
//! Input: the TOML text (found in the current directory or upward, or named by `--config`).
//! Output: a validated [`Config`]. Unknown keys and invalid values are errors that name the key;
//! without a file every default applies and every kind of finding fails the check.
//!
//! ```
//! let cfg = deja::config::Config::parse("fail_on = [\"cross_file\"]\n", "deja.toml").unwrap();
//! assert_eq!(cfg.fail_on.len(), 1);
//! let err = deja::config::Config::parse("fail_onn = []\n", "deja.toml").unwrap_err();
//! assert!(err.to_string().contains("fail_onn"));
//! ```

use crate::error::{Error, Result};
use crate::findings::DocOptions;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name looked up from the current directory upward.
pub const CONFIG_FILE: &str = "deja.toml";

/// The default baseline file, relative to the config's directory.
pub const DEFAULT_BASELINE: &str = ".deja-baseline.json";

/// Files checked when `include` is not set.
pub const DEFAULT_INCLUDE: &[&str] = &[
    "**/*.md",
    "**/*.markdown",
    "**/*.rst",
    "**/*.adoc",
    "**/*.asciidoc",
    "**/*.txt",
];

/// Files never checked when `exclude` is not set: text files that are not prose, and licences.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    "**/CMakeLists.txt",
    "**/requirements*.txt",
    "**/constraints*.txt",
    "**/robots.txt",
    "**/LICENSE*",
    "**/LICENCE*",
    "**/COPYING*",
    "**/NOTICE*",
    "**/node_modules/**",
];

/// What a finding of `deja check` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A paragraph repeats an earlier paragraph of the same document.
    Duplicate,
    /// A paragraph is an edited copy of an earlier paragraph of the same document.
    NearDuplicate,
    /// A paragraph says again, in other words, what the document said before.
    Restatement,
    /// A paragraph is (nearly) copied from another document of the repository.
    CrossFile,
}

impl CheckKind {
    /// Every kind, in report order.
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Duplicate,
        CheckKind::NearDuplicate,
        CheckKind::Restatement,
        CheckKind::CrossFile,
    ];

    /// The snake_case name used in configs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Duplicate => "duplicate",
            CheckKind::NearDuplicate => "near_duplicate",
            CheckKind::Restatement => "restatement",
            CheckKind::CrossFile => "cross_file",
        }
    }

    /// Parses a snake_case (or kebab-case) kind name.
    pub fn parse(s: &str) -> Option<CheckKind> {
        let s = s.trim().replace('-', "_");
        CheckKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Similarity thresholds, each in [0, 1]; unset ones keep their defaults.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Shingle Jaccard at or above which a paragraph is a `duplicate` (default 0.9).
    pub duplicate: Option<f64>,
    /// Shingle Jaccard at or above which a paragraph is a `near_duplicate` (default 0.5).
    pub near_duplicate: Option<f64>,
    /// Probability of the restatement model at or above which a paragraph is a `restatement`
    /// (default: the model's, 0.55).
    pub restatement: Option<f64>,
    /// Shingle Jaccard between paragraphs of two files at or above which it is a `cross_file` copy
    /// (default 0.7).
    pub cross_file: Option<f64>,
}

/// Settings that a per-path override may change.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Globs (relative to the config's directory) of the files this override applies to.
    pub paths: Vec<String>,
    /// Kinds that fail the check for these files.
    pub fail_on: Option<Vec<CheckKind>>,
    /// Kinds not reported at all for these files.
    pub ignore: Option<Vec<CheckKind>>,
    /// Thresholds for these files.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Minimum words of a paragraph that can be a finding.
    pub min_words: Option<usize>,
    /// Language of stopwords and stemming.
    pub language: Option<String>,
}

/// The raw file, as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    fail_on: Option<Vec<CheckKind>>,
    #[serde(default)]
    ignore: Vec<CheckKind>,
    baseline: Option<PathBuf>,
    language: Option<String>,
    min_words: Option<usize>,
    #[serde(default)]
    thresholds: Thresholds,
    #[serde(default)]
    overrides: Vec<Override>,
}

/// The effective settings for one file.
#[derive(Clone, Debug)]
pub struct FileSettings {
    /// Options of the intra-document analysis.
    pub doc: DocOptions,
    /// Cross-file Jaccard threshold.
    pub cross_file_threshold: f64,
    /// Minimum words of a paragraph that can be a finding.
    pub min_words: usize,
    /// Kinds that fail the check.
    pub fail_on: Vec<CheckKind>,
    /// Kinds not reported.
    pub ignore: Vec<CheckKind>,
}

impl FileSettings {
    /// True when findings of `kind` fail the check.
    pub fn fails(&self, kind: CheckKind) -> bool {
        self.fail_on.contains(&kind)
    }

    /// True when findings of `kind` are reported at all.
    pub fn reports(&self, kind: CheckKind) -> bool {
        !self.ignore.contains(&kind)
    }
}

/// A validated `deja.toml` (or the defaults).
#[derive(Clone, Debug)]
pub struct Config {
    /// The directory paths are relative to: the config file's, or the current directory.
    pub root: PathBuf,
    /// The config file, when there is one.
    pub path: Option<PathBuf>,
    /// Globs of the files checked.
    pub include: Vec<String>,
    /// Globs of the files never checked.
    pub exclude: Vec<String>,
    /// Kinds that fail the check (default: all).
    pub fail_on: Vec<CheckKind>,
    /// Kinds not reported at all.
    pub ignore: Vec<CheckKind>,
    /// The baseline file, relative to `root` unless absolute.
    pub baseline: PathBuf,
    /// Language of stopwords and stemming.
    pub language: String,
    /// Minimum words of a paragraph that can be a finding.
    pub min_words: usize,
    /// Thresholds.
    pub thresholds: Thresholds,
    /// Per-path overrides, applied in order.
    pub overrides: Vec<Override>,
    include_set: GlobSet,
    exclude_set: GlobSet,
    override_sets: Vec<GlobSet>,
}

/// Default minimum words of a paragraph that can be a finding.
pub const DEFAULT_MIN_WORDS: usize = 8;

/// Default cross-file Jaccard threshold.
pub const DEFAULT_CROSS_FILE: f64 = 0.7;

impl Default for Config {
    fn default() -> Self {
        Config::from_raw(RawConfig::default(), PathBuf::from("."), None)
            .expect("the defaults are valid")
    }
}

impl Config {
    /// Parses and validates the text of a config; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Config> {
        Config::parse_at(text, Path::new(name), PathBuf::from("."))
    }

    fn parse_at(text: &str, path: &Path, root: PathBuf) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| config_error(path, e.to_string()))?;
        Config::from_raw(raw, root, Some(path.to_path_buf()))
    }

    /// Reads `path`; its directory becomes the root.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Config::parse_at(&text, path, root)
    }

    /// The config named by `--config`, else `deja.toml` in `start` or a directory above it,
    /// else the defaults rooted at `start`.
    pub fn discover(explicit: Option<&Path>, start: &Path) -> Result<Config> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        match find_upward(start) {
            Some(p) => Config::load(&p),
            None => Ok(Config {
                root: start.to_path_buf(),
                ..Config::default()
            }),
        }
    }

    fn from_raw(raw: RawConfig, root: PathBuf, path: Option<PathBuf>) -> Result<Config> {
        let name = path.clone().unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
        let err = |m: String| config_error(&name, m);
        validate_thresholds(&raw.thresholds, "thresholds").map_err(err)?;
        let include = raw
            .include
            .unwrap_or_else(|| DEFAULT_INCLUDE.iter().map(|s| s.to_string()).collect());
        let include_set = glob_set(&include, "include").map_err(err)?;
        let exclude = raw
            .exclude
            .unwrap_or_else(|| DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect());
        let exclude_set = glob_set(&exclude, "exclude").map_err(err)?;
        let language = raw.language.unwrap_or_else(|| "english".into());
        validate_language(&language, "language").map_err(err)?;
        let mut override_sets = Vec::new();
        for (i, o) in raw.overrides.iter().enumerate() {
            let key = format!("overrides[{i}]");
            if o.paths.is_empty() {
                return Err(err(format!("{key}.paths: must name at least one glob")));
            }
            override_sets.push(glob_set(&o.paths, &format!("{key}.paths")).map_err(err)?);
            validate_thresholds(&o.thresholds, &format!("{key}.thresholds")).map_err(err)?;
            if let Some(l) = &o.language {
                validate_language(l, &format!("{key}.language")).map_err(err)?;
            }
        }
        Ok(Config {
            root,
            path,
            include,
            exclude,
            fail_on: raw.fail_on.unwrap_or_else(|| CheckKind::ALL.to_vec()),
            ignore: raw.ignore,
            baseline: raw
                .baseline
                .unwrap_or_else(|| PathBuf::from(DEFAULT_BASELINE)),
            language,
            min_words: raw.min_words.unwrap_or(DEFAULT_MIN_WORDS),
            thresholds: raw.thresholds,
            overrides: raw.overrides,
            include_set,
            exclude_set,
            override_sets,
        })
    }

    /// True when the file at `rel` (relative to the root, `/`-separated) is checked.
    pub fn selects(&self, rel: &str) -> bool {
        self.include_set.is_match(rel) && !self.exclude_set.is_match(rel)
    }

    /// True when the file at `rel` matches an `exclude` glob.
    pub fn excludes(&self, rel: &str) -> bool {
        self.exclude_set.is_match(rel)
    }

    /// The baseline file's path (resolved against the root).
    pub fn baseline_path(&self) -> PathBuf {
        self.root.join(&self.baseline)
    }

    /// The effective settings of the file at `rel` (relative to the root).
    pub fn settings_for(&self, rel: &str) -> FileSettings {
        let mut s = FileSettings {
            doc: DocOptions {
                language: self.language.clone(),
                ..DocOptions::default()
            },
            cross_file_threshold: DEFAULT_CROSS_FILE,
            min_words: self.min_words,
            fail_on: self.fail_on.clone(),
            ignore: self.ignore.clone(),
        };
        apply_thresholds(&mut s, &self.thresholds);
        for (o, set) in self.overrides.iter().zip(&self.override_sets) {
            if !set.is_match(rel) {
                continue;
            }
            if let Some(f) = &o.fail_on {
                s.fail_on = f.clone();
            }
            if let Some(i) = &o.ignore {
                s.ignore = i.clone();
            }
            if let Some(m) = o.min_words {
                s.min_words = m;
            }
            if let Some(l) = &o.language {
                s.doc.language = l.clone();
            }
            apply_thresholds(&mut s, &o.thresholds);
        }
        s
    }
}

fn apply_thresholds(s: &mut FileSettings, t: &Thresholds) {
    if let Some(v) = t.duplicate {
        s.doc.duplicate_threshold = v;
    }
    if let Some(v) = t.near_duplicate {
        s.doc.near_duplicate_threshold = v;
    }
    if let Some(v) = t.restatement {
        s.doc.restatement_threshold = v;
    }
    if let Some(v) = t.cross_file {
        s.cross_file_threshold = v;
    }
}

fn config_error(path: &Path, message: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.trim_end().to_string(),
    }
}

fn find_upward(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    start
        .ancestors()
        .map(|d| d.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

fn validate_thresholds(t: &Thresholds, key: &str) -> std::result::Result<(), String> {
    let all = [
        ("duplicate", t.duplicate),
        ("near_duplicate", t.near_duplicate),
        ("restatement", t.restatement),
        ("cross_file", t.cross_file),
    ];
    for (name, v) in all {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) || v.is_nan() {
                return Err(format!("{key}.{name}: must be between 0 and 1, got {v}"));
            }
            if name == "cross_file" && v < 0.1 {
                return Err(format!("{key}.{name}: must be at least 0.1, got {v}"));
            }
        }
    }
    Ok(())
}

fn validate_language(l: &str, key: &str) -> std::result::Result<(), String> {
    crate::tokenize::Analyzer::new(l)
        .map(|_| ())
        .map_err(|e| format!("{key}: {e}"))
}

fn glob_set(globs: &[String], key: &str) -> std::result::Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for (i, g) in globs.iter().enumerate() {
        let glob = Glob::new(g).map_err(|e| format!("{key}[{i}]: {e}"))?;
        b.add(glob);
        // `docs/**` should also match `docs` itself; `*.md` should match in subdirectories.
        if !g.contains('/') {
            b.add(Glob::new(&format!("**/{g}")).map_err(|e| format!("{key}[{i}]: {e}"))?);
        }
    }
    b.build().map_err(|e| format!("{key}: {e}"))
}

/// The commented default written by `deja check --init`.
pub const DEFAULT_CONFIG: &str = r#"# deja.toml — policy of `deja check` (see the README, section "deja check").
# Paths are relative to this file's directory. Unknown keys are errors.

# Files checked (globs). Default: Markdown, reStructuredText, AsciiDoc and plain text.
# include = ["**/*.md", "**/*.markdown", "**/*.rst", "**/*.adoc", "**/*.asciidoc", "**/*.txt"]

# Files never checked (globs); .gitignore is honoured as well. Default: CMakeLists.txt,
# requirements*.txt, constraints*.txt, robots.txt, LICENSE*, LICENCE*, COPYING*, NOTICE* and
# node_modules; setting exclude replaces the default.
# exclude = ["**/CMakeLists.txt", "**/LICENSE*", "vendor/**"]

# Kinds of finding that fail the check (exit code 1); the others are reported as warnings.
# Kinds: duplicate, near_duplicate, restatement, cross_file.
fail_on = ["duplicate", "near_duplicate", "restatement", "cross_file"]

# Kinds not reported at all.
# ignore = []

# Known, accepted findings (written by `deja check --write-baseline`).
# baseline = ".deja-baseline.json"

# Language of stopwords and stemming (english, german, french, ... or an ISO code).
# language = "english"

# Paragraphs with fewer words are never findings.
# min_words = 8

[thresholds]
# Similarity (mean Jaccard of word 1-, 2- and 3-grams) with an earlier paragraph of the same document.
# duplicate = 0.9
# near_duplicate = 0.5
# Probability (of the restatement model) that a paragraph says again what the document said.
# restatement = 0.55
# Shingle Jaccard with a paragraph of another document.
# cross_file = 0.7

# Per-path overrides, applied in order; each may set fail_on, ignore, min_words, language
# and thresholds.
# [[overrides]]
# paths = ["CHANGELOG.md", "docs/release-notes/**"]
# fail_on = []
# ignore = ["restatement"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fail_on_every_kind() {
        let c = Config::default();
        assert_eq!(c.fail_on, CheckKind::ALL.to_vec());
        assert!(c.selects("docs/a.md") && c.selects("README.md") && c.selects("x/y.rst"));
        assert!(!c.selects("src/main.rs"));
        assert!(!c.selects("CMakeLists.txt") && !c.selects("sub/CMakeLists.txt"));
        assert!(!c.selects("LICENSE.txt") && !c.selects("requirements-dev.txt"));
        let c = Config::parse("exclude = []\n", "deja.toml").unwrap();
        assert!(c.selects("CMakeLists.txt"));
    }

    #[test]
    fn the_commented_default_parses() {
        let c = Config::parse(DEFAULT_CONFIG, "deja.toml").unwrap();
        assert_eq!(c.fail_on.len(), 4);
        assert_eq!(c.min_words, DEFAULT_MIN_WORDS);
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::parse("[thresholds]\ncrossfile = 0.5\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("crossfile"), "{e}");
        let e = Config::parse("[thresholds]\ncross_file = 1.5\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("thresholds.cross_file"), "{e}");
        let e = Config::parse("fail_on = [\"dupe\"]\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("dupe"), "{e}");
        let e = Config::parse("language = \"klingon\"\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("language"), "{e}");
        let e = Config::parse("exclude = [\"a[\"]\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("exclude[0]"), "{e}");
        let e =
            Config::parse("[[overrides]]\npaths = [\"a\"]\nfail = []\n", "deja.toml").unwrap_err();
        assert!(e.to_string().contains("fail"), "{e}");
    }

    #[test]
    fn overrides_apply_in_order() {
        let c = Config::parse(
            "fail_on = [\"cross_file\"]\n[thresholds]\ncross_file = 0.8\n\
             [[overrides]]\npaths = [\"CHANGELOG.md\"]\nfail_on = []\nmin_words = 3\n\
             [overrides.thresholds]\nrestatement = 0.9\n",
            "deja.toml",
        )
        .unwrap();
        let s = c.settings_for("CHANGELOG.md");
        assert!(s.fail_on.is_empty());
        assert_eq!(s.min_words, 3);
        assert_eq!(s.doc.restatement_threshold, 0.9);
        assert_eq!(s.cross_file_threshold, 0.8);
        let s = c.settings_for("docs/a.md");
        assert!(s.fails(CheckKind::CrossFile) && !s.fails(CheckKind::Duplicate));
    }

    #[test]
    fn kinds_parse_in_both_spellings() {
        assert_eq!(
            CheckKind::parse("near-duplicate"),
            Some(CheckKind::NearDuplicate)
        );
        assert_eq!(CheckKind::parse("cross_file"), Some(CheckKind::CrossFile));
        assert_eq!(CheckKind::parse("x"), None);
    }
}
