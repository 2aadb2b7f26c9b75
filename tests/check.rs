//! `deja check` end to end: small repositories in temp dirs, the binary run with assert_cmd;
//! findings, formats (human, json, github, SARIF valid against the 2.1.0 schema), baselines,
//! suppression, config errors, `--changed-since` and exit codes.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

/// A paragraph copied between documents.
const COPIED: &str = "Releases are cut from the main branch every second Tuesday; the release manager tags the commit, builds the archives and publishes their checksums beside them.";

/// An article whose last paragraph restates the first two.
const RECAP: &str = "# Ash\n\nVolcanic ash grounded flights across northern Europe for three days.\n\n\
Airlines lost millions while stranded passengers slept in terminals.\n\n\
Engineers later tested engines against ash concentration limits.\n\n\
In short, volcanic ash grounded European flights, airlines lost millions and stranded passengers slept in terminals.\n";

/// A code block that appears in two files: never a finding.
const CODE: &str = "```sh\ncargo build --release --locked --target x86_64-unknown-linux-gnu and more words here\n```\n";

struct Repo(tempfile::TempDir);

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let r = Repo(tempfile::tempdir().unwrap());
        for (p, t) in files {
            r.write(p, t);
        }
        r
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn deja(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("deja").unwrap();
        c.current_dir(self.path()).arg("check").args(args);
        c
    }

    /// Runs and returns (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.deja(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = self.run(&a);
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
        (code, v)
    }
}

fn sample() -> Repo {
    Repo::new(&[
        ("docs/ash.md", RECAP),
        (
            "docs/install.md",
            &format!("# Install\n\nInstall the tool with the package manager of your system.\n\n{CODE}\n## Releases\n\n{COPIED}\n"),
        ),
        (
            "docs/release.md",
            &format!("---\ntitle: Release\n---\n# Release\n\n{CODE}\n{COPIED}\n\nAfter the release, announce it on the mailing list with the changelog attached.\n"),
        ),
        ("src/main.rs", "fn main() {}\n"),
    ])
}

/// (kind, path, line) of each finding.
fn kinds(v: &Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn recap_and_copied_section_fail_and_code_does_not() {
    let repo = sample();
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [
            ("restatement".into(), "docs/ash.md".into(), 9),
            ("cross_file".into(), "docs/release.md".into(), 10),
        ]
    );
    let cross = &v["findings"][1];
    assert_eq!(cross["sources"][0]["path"], "docs/install.md");
    assert_eq!(cross["sources"][0]["line"], 11);
    assert_eq!(cross["score"], 1.0);
    assert_eq!(cross["failing"], true);
    assert_eq!(cross["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(v["checked"], 3);
    let restatement = &v["findings"][0];
    let sources: Vec<u64> = restatement["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert!(sources.contains(&3) && sources.contains(&5), "{sources:?}");
}

#[test]
fn human_format_shows_evidence_and_summary() {
    let repo = sample();
    let (code, out, _) = repo.run(&["--color", "never"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("docs/release.md:10:1: error[cross_file] score 1.00"),
        "{out}"
    );
    assert!(out.contains("copied from docs/install.md:11"), "{out}");
    assert!(out.contains("restates docs/ash.md:3"), "{out}");
    assert!(
        out.contains("2 findings (2 failing) in 3 checked documents"),
        "{out}"
    );
}

#[test]
fn clean_repository_passes() {
    let repo = Repo::new(&[
        (
            "a.md",
            "# A\n\nThe first document talks about apples and orchards in the north.\n",
        ),
        (
            "b.rst",
            "B\n=\n\nThe second document talks about harbours, ships and tides in the south.\n",
        ),
    ]);
    let (code, out, _) = repo.run(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 findings (0 failing) in 2 checked documents"));
}

#[test]
fn github_annotations() {
    let repo = sample();
    let (code, out, _) = repo.run(&["--format", "github", "--fail-on", "cross_file"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("::warning file=docs/ash.md,line=9,endLine=9,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("title=deja restatement::Restates earlier text at line 5 (0."));
    assert!(
        lines[1].starts_with("::error file=docs/release.md,line=10,endLine=10,col=1,endColumn="),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("::Copied from docs/install.md:11 (score 1.00): \"Releases are cut"),
        "{}",
        lines[1]
    );
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let repo = sample();
    let (code, out, _) = repo.run(&["--format", "sarif"]);
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&out).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Also catch a schema that accepts anything.
    assert!(!validator.is_valid(&serde_json::json!({"version": "9", "runs": 3})));

    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "deja/duplicate",
            "deja/near-duplicate",
            "deja/restatement",
            "deja/cross-file"
        ]
    );
    let cross = &results[1];
    assert_eq!(cross["ruleId"], "deja/cross-file");
    assert_eq!(cross["level"], "error");
    let region = &cross["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 10);
    assert_eq!(region["startColumn"], 1);
    assert_eq!(region["endLine"], 10);
    assert_eq!(
        region["endColumn"].as_u64().unwrap(),
        COPIED.chars().count() as u64 + 1
    );
    let related = &cross["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "docs/install.md"
    );
    assert!(cross["message"]["text"]
        .as_str()
        .unwrap()
        .contains("[docs/install.md:11](1)"));
    assert!(cross["partialFingerprints"]["dejaFingerprint/v1"].is_string());

    // `--output` writes the same log to a file; identity survives an edit elsewhere.
    let (code, _, _) = repo.run(&["--format", "sarif", "-o", "deja.sarif"]);
    assert_eq!(code, 1);
    let before: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join("deja.sarif")).unwrap())
            .unwrap();
    repo.write(
        "docs/release.md",
        &format!("# Release\n\nA new opening paragraph about the release train and its schedule.\n\n{COPIED}\n"),
    );
    let (_, out, _) = repo.run(&["--format", "sarif"]);
    let after: Value = serde_json::from_str(&out).unwrap();
    let fp = |l: &Value| {
        l["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "deja/cross-file")
            .map(|r| r["partialFingerprints"].clone())
            .unwrap()
    };
    assert_eq!(fp(&before), fp(&after));
}

#[test]
fn baseline_accepts_known_findings_and_counts_new_copies() {
    let repo = sample();
    let (code, _, err) = repo.run(&["--write-baseline"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 2 findings to"), "{err}");
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(".deja-baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(base["findings"].as_array().unwrap().len(), 2);
    assert_eq!(repo.run(&[]).0, 0);

    // Edits elsewhere keep the baseline valid.
    repo.write(
        "docs/release.md",
        &format!("# Release notes\n\nA brand new opening paragraph that says something different entirely.\n\n{COPIED}\n"),
    );
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["baselined"], 2);

    // A new copy of the baselined paragraph is a new finding.
    repo.write("docs/zz.md", &format!("# Again\n\n{COPIED}\n"));
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [("cross_file".into(), "docs/zz.md".into(), 3)],
        "{v}"
    );
    // `--no-baseline` shows everything.
    let (_, v) = repo.json(&["--no-baseline"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 3);
}

#[test]
fn suppressed_paragraphs_are_not_findings() {
    let repo = Repo::new(&[
        ("a.md", &format!("# A\n\n{COPIED}\n")),
        ("b.md", &format!("# B\n\n<!-- deja-ignore -->\n{COPIED}\n")),
        ("c.rst", &format!("C\n=\n\n.. deja-ignore\n\n{COPIED}\n")),
        ("d.adoc", &format!("= D\n\n// deja-ignore\n{COPIED}\n")),
        (
            "e.md",
            &RECAP.replace("In short,", "<!-- deja-ignore -->\nIn short,"),
        ),
    ]);
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn rst_and_asciidoc_code_is_not_prose() {
    let code_rst = ".. code-block:: sh\n\n   cargo build --release --locked --target x86_64-unknown-linux-gnu and more words here\n";
    let literal = "Run this::\n\n    cargo build --release --locked --target x86_64-unknown-linux-gnu and more words here\n";
    let code_adoc = "[source,sh]\n----\ncargo build --release --locked --target x86_64-unknown-linux-gnu and more words here\n----\n";
    let repo = Repo::new(&[
        (
            "a.rst",
            &format!("A\n=\n\n{code_rst}\n{literal}\n{COPIED}\n"),
        ),
        ("b.adoc", &format!("= B\n\n{code_adoc}\n{COPIED}\n")),
        (
            "c.rst",
            &format!("C\n=\n\n{literal}\n.. note::\n\n   {COPIED}\n"),
        ),
    ]);
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [
            ("cross_file".into(), "b.adoc".into(), 8),
            ("cross_file".into(), "c.rst".into(), 10),
        ],
        "{v}"
    );
    // Reported columns point at the text, past the indentation.
    assert_eq!(v["findings"][1]["column"], 4);
}

#[test]
fn config_selects_files_and_policy() {
    let repo = sample();
    repo.write(
        "deja.toml",
        "fail_on = [\"cross_file\"]\nexclude = [\"docs/ash.md\"]\n",
    );
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(kinds(&v).len(), 1);
    // Restatements reported but not failing.
    repo.write(
        "deja.toml",
        "fail_on = [\"cross_file\"]\n[[overrides]]\npaths = [\"docs/release.md\"]\nfail_on = []\n",
    );
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    assert_eq!(v["findings"][0]["failing"], false);
    // The command line wins over the config.
    let (code, _) = repo.json(&["--fail-on", "restatement"]);
    assert_eq!(code, 1);
    let (code, _) = repo.json(&["--fail-on", "none"]);
    assert_eq!(code, 0);
    // Ignored kinds are not reported at all; include narrows the files.
    repo.write(
        "deja.toml",
        "ignore = [\"restatement\"]\ninclude = [\"docs/ash.md\", \"docs/install.md\"]\n",
    );
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["checked"], 2);
    // A config found from a subdirectory roots the paths.
    let out = Command::cargo_bin("deja")
        .unwrap()
        .current_dir(repo.path().join("docs"))
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], 2);
}

#[test]
fn config_errors_name_the_key_and_exit_2() {
    let repo = sample();
    for (toml, key) in [
        ("fail_onn = []\n", "fail_onn"),
        ("[thresholds]\ncross_file = 2.0\n", "thresholds.cross_file"),
        ("fail_on = [\"copies\"]\n", "copies"),
        ("min_words = \"ten\"\n", "min_words"),
        (
            "[[overrides]]\npaths = [\"x\"]\nlanguage = \"xx\"\n",
            "overrides[0].language",
        ),
        ("exclude = [\"[\"]\n", "exclude[0]"),
    ] {
        repo.write("deja.toml", toml);
        let (code, out, err) = repo.run(&[]);
        assert_eq!(code, 2, "{toml}: {out}");
        assert!(err.contains(key), "{toml}: {err}");
        assert!(err.contains("deja.toml"), "{err}");
    }
    std::fs::remove_file(repo.path().join("deja.toml")).unwrap();
    let (code, _, err) = repo.run(&["--fail-on", "dupes"]);
    assert_eq!(code, 2);
    assert!(err.contains("dupes"));
}

#[test]
fn init_writes_a_default_once() {
    let repo = Repo::new(&[]);
    let (code, _, _) = repo.run(&["--init"]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(repo.path().join("deja.toml")).unwrap();
    assert!(text.contains("fail_on = ["));
    let (code, _, err) = repo.run(&["--init"]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(repo.run(&[]).0, 0);
}

#[test]
fn unreadable_files_are_errors_but_the_rest_is_checked() {
    let repo = sample();
    std::fs::write(repo.path().join("docs/bad.md"), b"caf\xe9 au lait\n").unwrap();
    let (code, out, err) = repo.run(&["--format", "json"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.md: invalid UTF-8"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    // A missing path too.
    let (code, _, _) = Repo::new(&[]).run(&["nope/"]);
    assert_eq!(code, 2);
}

fn git(repo: &Repo, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .current_dir(repo.path())
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn changed_since_checks_only_changed_files_against_the_whole_tree() {
    let repo = Repo::new(&[
        ("docs/ash.md", RECAP),
        ("docs/install.md", &format!("# Install\n\n{COPIED}\n")),
        (
            "docs/other.md",
            "# Other\n\nNothing special is written in this document about anything.\n",
        ),
    ]);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    // A tracked file changes and an untracked one appears, both copying an unchanged file.
    repo.write(
        "docs/other.md",
        &format!(
            "# Other\n\nNothing special is written in this document about anything.\n\n{COPIED}\n"
        ),
    );
    repo.write("docs/new.md", &format!("# New\n\n{COPIED}\n"));
    let (code, v) = repo.json(&["--changed-since", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [
            ("cross_file".into(), "docs/new.md".into(), 3),
            ("cross_file".into(), "docs/other.md".into(), 5),
        ],
        "{v}"
    );
    assert_eq!(v["checked"], 2);
    assert_eq!(v["documents"], 4);
    assert_eq!(v["findings"][0]["sources"][0]["path"], "docs/install.md");
    // Nothing changed: nothing checked, pass.
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "two"]);
    let (code, v) = repo.json(&["--changed-since", "HEAD"]);
    assert_eq!((code, v["checked"].as_u64()), (0, Some(0)));
    // A bad ref is an error.
    let (code, _, err) = repo.run(&["--changed-since", "no-such-ref"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-ref"), "{err}");
}

#[test]
fn doc_command_speaks_sarif_and_github_too() {
    let repo = Repo::new(&[("ash.md", RECAP)]);
    let out = Command::cargo_bin("deja")
        .unwrap()
        .current_dir(repo.path())
        .args(["doc", "ash.md", "--format", "github"])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("::warning file=ash.md,line=9,"), "{s}");
    let out = Command::cargo_bin("deja")
        .unwrap()
        .current_dir(repo.path())
        .args(["doc", "ash.md", "--format", "sarif"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "deja/restatement");
}

#[test]
fn changed_since_respects_the_baseline_from_either_side_of_a_copy() {
    let repo = Repo::new(&[
        ("docs/a.md", &format!("# A\n\n{COPIED}\n")),
        ("docs/b.md", &format!("# B\n\n{COPIED}\n")),
    ]);
    git(&repo, &["init", "-q"]);
    assert_eq!(repo.run(&["--write-baseline"]).0, 0);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    // a.md (the original in path order) is edited elsewhere: the accepted copy stays accepted.
    repo.write(
        "docs/a.md",
        &format!("# A\n\nA new first paragraph that says something else entirely, at length.\n\n{COPIED}\n"),
    );
    let (code, v) = repo.json(&["--changed-since", "HEAD"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["baselined"], 1);
    // A third copy is new.
    repo.write("docs/c.md", &format!("# C\n\n{COPIED}\n"));
    let (code, v) = repo.json(&["--changed-since", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [("cross_file".into(), "docs/c.md".into(), 3)],
        "{v}"
    );
    // The full run agrees.
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&v),
        [("cross_file".into(), "docs/c.md".into(), 3)],
        "{v}"
    );
}

#[test]
fn link_tables_lists_and_admonition_markers_are_not_prose() {
    let table = "| Guide | Link |\n| --- | --- |\n| Installing the command line tool on every platform | [install](install.md) |\n| Configuring the command line tool for your whole team | [config](config.md) |\n";
    let links = "- [Installing the command line tool on every platform](install.md)\n- [Configuring the command line tool for your whole team](config.md)\n";
    let repo = Repo::new(&[
        (
            "a.md",
            &format!("# A\n\n{table}\n{links}\n> [!NOTE]\n> Read the guide.\n"),
        ),
        (
            "b.md",
            &format!("# B\n\n{table}\n{links}\n> [!NOTE]\n> Read the guide.\n"),
        ),
        (
            "c.rst",
            "C\n=\n\n.. note::\n\n   Read the guide.\n\n.. seealso:: :ref:`installing-the-command-line-tool-on-every-platform`\n",
        ),
        (
            "d.rst",
            "D\n=\n\n.. note::\n\n   Read the guide.\n\n.. seealso:: :ref:`installing-the-command-line-tool-on-every-platform`\n",
        ),
    ]);
    let (code, v) = repo.json(&[]);
    assert_eq!(code, 0, "{v}");
    // jsonl: one finding a line (none here), and the summary goes to stderr.
    let (code, out, err) = repo.run(&["--format", "jsonl"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("0 findings"), "{err}");
}
