//! Baseline: today's accepted findings, recorded by a stable fingerprint, so that later runs
//! report only new ones.
//!
//! A fingerprint hashes the finding's kind with the normalised words of its paragraph and of
//! its best source — never line numbers or offsets — so edits elsewhere in a file do not change
//! it. The hash is FNV-1a (128 bits), the same on every machine and build. The baseline counts
//! occurrences per fingerprint and path: a new copy of a baselined paragraph is a new finding.
//! Matching prefers the same path, then any path (a renamed file keeps its findings).

use crate::config::CheckKind;
use crate::error::{Error, Result};
use crate::tokenize::{normalize, words};
use crate::Span;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Version of the baseline file format.
pub const BASELINE_VERSION: u32 = 1;

/// The normalised words of `text[span]`, joined by single spaces.
pub fn normalized_words(text: &str, span: Span) -> String {
    let mut out = String::with_capacity(span.len());
    let mut buf = String::new();
    words(text, span, |_, w| {
        normalize(w, &mut buf);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&buf);
    });
    out
}

/// FNV-1a over 128 bits: stable across machines, builds and versions.
fn fnv1a128(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for part in parts {
        for &b in *part {
            h ^= b as u128;
            h = h.wrapping_mul(PRIME);
        }
        // A separator that normalised text never holds.
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// The fingerprint of a finding: its kind, its paragraph's and its source's normalised words.
pub fn fingerprint(kind: CheckKind, paragraph: &str, source: &str) -> String {
    format!(
        "{:032x}",
        fnv1a128(&[
            kind.as_str().as_bytes(),
            paragraph.as_bytes(),
            source.as_bytes()
        ])
    )
}

/// One accepted finding (or several with the same fingerprint in the same file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// Its kind.
    pub kind: CheckKind,
    /// The file it was found in (relative to the config's directory).
    pub path: String,
    /// For a cross-file copy: the file of its source (the other side of the copy).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// How many findings with this fingerprint the file had.
    #[serde(default = "one")]
    pub count: usize,
    /// The start of its paragraph, for people reading the file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub excerpt: String,
}

fn one() -> usize {
    1
}

/// The baseline file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// Accepted findings, sorted by path and fingerprint.
    pub findings: Vec<BaselineEntry>,
}

/// What a finding needs to be matched against a baseline.
pub trait Fingerprinted {
    /// Its fingerprint.
    fn fingerprint(&self) -> &str;
    /// The path of its file.
    fn path(&self) -> &str;
    /// The files of its sources.
    fn source_paths(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Baseline {
    /// A baseline of `findings`: (fingerprint, kind, path, source path of a cross-file copy or
    /// "", excerpt) each.
    pub fn from_findings<'a>(
        findings: impl IntoIterator<Item = (&'a str, CheckKind, &'a str, &'a str, &'a str)>,
    ) -> Baseline {
        let mut map: BTreeMap<(String, String, String), BaselineEntry> = BTreeMap::new();
        for (fp, kind, path, source, excerpt) in findings {
            map.entry((path.to_string(), fp.to_string(), source.to_string()))
                .and_modify(|e| e.count += 1)
                .or_insert_with(|| BaselineEntry {
                    fingerprint: fp.to_string(),
                    kind,
                    path: path.to_string(),
                    source: source.to_string(),
                    count: 1,
                    excerpt: excerpt.to_string(),
                });
        }
        Baseline {
            version: BASELINE_VERSION,
            findings: map.into_values().collect(),
        }
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let b: Baseline = serde_json::from_slice(&bytes).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            message: format!("not a deja baseline: {e}"),
        })?;
        if b.version != BASELINE_VERSION {
            return Err(Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "baseline version {} is not supported (expected {BASELINE_VERSION})",
                    b.version
                ),
            });
        }
        Ok(b)
    }

    /// Writes the baseline as pretty JSON with a final newline, atomically (a killed run
    /// leaves the old baseline or the new one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        text.push('\n');
        let mut file = crate::output::AtomicFile::create(path)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
        file.commit()
    }

    /// For each finding, true when the baseline accepts it. Each baselined occurrence accepts one
    /// finding, tried in this order: the same fingerprint in the same file; in the file of one
    /// of the finding's sources (a cross-file copy seen from its other side, as
    /// `--changed-since` does); in a file that no longer exists (`present` says which files
    /// this run read), i.e. a renamed file.
    pub fn matches<F: Fingerprinted>(
        &self,
        findings: &[F],
        present: &dyn Fn(&str) -> bool,
    ) -> Vec<bool> {
        // (fingerprint, path) → [(source, count)].
        let mut budget: HashMap<(String, String), Vec<(String, usize)>> = HashMap::new();
        for e in &self.findings {
            budget
                .entry((e.fingerprint.clone(), e.path.clone()))
                .or_default()
                .push((e.source.clone(), e.count));
        }
        let mut accepted = vec![false; findings.len()];
        fn take(
            budget: &mut HashMap<(String, String), Vec<(String, usize)>>,
            fp: &str,
            path: &str,
            source: Option<&str>,
        ) -> bool {
            let Some(list) = budget.get_mut(&(fp.to_string(), path.to_string())) else {
                return false;
            };
            match list
                .iter_mut()
                .find(|(s, n)| *n > 0 && source.is_none_or(|want| want == s))
            {
                Some((_, n)) => {
                    *n -= 1;
                    true
                }
                None => false,
            }
        }
        for (i, f) in findings.iter().enumerate() {
            accepted[i] = take(&mut budget, f.fingerprint(), f.path(), None);
        }
        // A copy seen from its other side: the entry of the source's file, whose source is
        // this finding's file.
        for (i, f) in findings.iter().enumerate() {
            if !accepted[i] {
                accepted[i] = f.source_paths().iter().any(|p| {
                    *p != f.path() && take(&mut budget, f.fingerprint(), p, Some(f.path()))
                });
            }
        }
        // What is left over in files that are gone, by fingerprint alone.
        let mut by_fp: HashMap<String, usize> = HashMap::new();
        for ((fp, path), list) in budget {
            if !present(&path) {
                *by_fp.entry(fp).or_default() += list.iter().map(|(_, n)| n).sum::<usize>();
            }
        }
        for (i, f) in findings.iter().enumerate() {
            if accepted[i] {
                continue;
            }
            if let Some(n) = by_fp.get_mut(f.fingerprint()) {
                if *n > 0 {
                    *n -= 1;
                    accepted[i] = true;
                }
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct F(String, String);
    impl Fingerprinted for F {
        fn fingerprint(&self) -> &str {
            &self.0
        }
        fn path(&self) -> &str {
            &self.1
        }
    }

    struct C(&'static str, &'static str, &'static str);
    impl Fingerprinted for C {
        fn fingerprint(&self) -> &str {
            self.0
        }
        fn path(&self) -> &str {
            self.1
        }
        fn source_paths(&self) -> Vec<&str> {
            vec![self.2]
        }
    }

    fn all(_: &str) -> bool {
        true
    }

    fn fp_of(text: &str) -> String {
        let para = "The build fails when a paragraph is copied between files.";
        let start = text.find(para).unwrap();
        let words = normalized_words(text, Span::new(start, start + para.len()));
        fingerprint(CheckKind::CrossFile, &words, &words)
    }

    #[test]
    fn fingerprints_are_stable_under_edits_elsewhere() {
        let a =
            "# Intro\n\nSome text.\n\nThe build fails when a paragraph is copied between files.\n";
        let b = "# Introduction\n\nSome other, longer text.\n\nAnd more.\n\nThe build fails when a paragraph is copied between files.\n\nEnd.\n";
        assert_eq!(fp_of(a), fp_of(b));
        // Whitespace, case and punctuation do not matter; words do.
        let c = "THE build fails,\nwhen a paragraph is copied between files!";
        let n1 = normalized_words(c, Span::new(0, c.len()));
        let d = "The build fails when a paragraph is copied between files.";
        let n2 = normalized_words(d, Span::new(0, d.len()));
        assert_eq!(n1, n2);
        assert_ne!(
            fingerprint(CheckKind::CrossFile, &n1, ""),
            fingerprint(CheckKind::Duplicate, &n1, "")
        );
        // Fixed across versions: a baseline written today must match tomorrow.
        assert_eq!(
            fingerprint(CheckKind::Duplicate, "a b", "c"),
            fingerprint(CheckKind::Duplicate, "a b", "c")
        );
        assert_eq!(fingerprint(CheckKind::Duplicate, "a", "").len(), 32);
        assert_ne!(
            fingerprint(CheckKind::Duplicate, "a b", "c"),
            fingerprint(CheckKind::Duplicate, "a", "b c")
        );
    }

    #[test]
    fn occurrences_are_counted() {
        let base = Baseline::from_findings([
            ("x", CheckKind::CrossFile, "b.md", "a.md", ""),
            ("x", CheckKind::CrossFile, "c.md", "a.md", ""),
        ]);
        // Today: the same two copies plus a new one in d.md.
        let now = [
            F("x".into(), "b.md".into()),
            F("x".into(), "d.md".into()),
            F("x".into(), "c.md".into()),
        ];
        assert_eq!(base.matches(&now, &all), [true, false, true]);
        // Twice in one file, once accepted.
        let base = Baseline::from_findings([("y", CheckKind::Duplicate, "a.md", "", "")]);
        assert_eq!(base.findings[0].count, 1);
        let now = [F("y".into(), "a.md".into()), F("y".into(), "a.md".into())];
        assert_eq!(base.matches(&now, &all), [true, false]);
    }

    #[test]
    fn a_moved_file_keeps_its_findings() {
        let base = Baseline::from_findings([("z", CheckKind::Restatement, "old.md", "", "")]);
        let now = [F("z".into(), "new.md".into())];
        assert_eq!(base.matches(&now, &|p| p != "old.md"), [true]);
        // While old.md still exists, its accepted findings are its own.
        assert_eq!(base.matches(&now, &all), [false]);
    }

    #[test]
    fn a_copy_seen_from_its_other_side_is_known() {
        // Accepted: b.md copies a.md. Today (--changed-since, a.md changed) the finding is at
        // a.md with b.md as its source; a new copy in c.md with a.md as source is new.
        let base = Baseline::from_findings([("f", CheckKind::CrossFile, "b.md", "a.md", "")]);
        let now = [C("f", "a.md", "b.md"), C("f", "c.md", "a.md")];
        assert_eq!(base.matches(&now, &all), [true, false]);
        // Nor does a copy in c.md whose source is b.md borrow b.md's entry (its source is a.md).
        let now = [C("f", "c.md", "b.md")];
        assert_eq!(base.matches(&now, &all), [false]);
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        let base =
            Baseline::from_findings([("z", CheckKind::Restatement, "a.md", "", "Some text")]);
        base.save(&p).unwrap();
        assert_eq!(Baseline::load(&p).unwrap(), base);
        std::fs::write(&p, "{\"version\": 1, \"findings\": [], \"extra\": 1}").unwrap();
        assert!(Baseline::load(&p)
            .unwrap_err()
            .to_string()
            .contains("extra"));
    }
}
