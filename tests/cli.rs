//! Integration tests of `deja doc`: the binary run on fixtures in `tests/data/` (and on files
//! written to temp dirs), checking exit codes, stderr messages and the decoded JSON (DESIGN §4, §5).

mod util;

use serde_json::Value;
use std::collections::BTreeSet;
use util::*;

// ---------------------------------------------------------------------------------------
// The seed: data/kharkiv.txt with its truth data/kharkiv.expected.json.

/// The seed article's two closing recaps (paragraphs 11 and 12) are restatements, with
/// paragraph 1 among the sources of both; nothing else is flagged (not the "Read also:" list,
/// not the "Source:" line).
#[test]
fn kharkiv_flags_exactly_the_two_recaps() {
    let text = std::fs::read_to_string(root().join("data/kharkiv.txt")).unwrap();
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("data/kharkiv.expected.json")).unwrap(),
    )
    .unwrap();
    let out = doc_json(&root(), &["data/kharkiv.txt"], 0);
    let d = out.single();
    assert_eq!(d.id, Value::from("data/kharkiv.txt"));
    check_spans(d, &text);

    let want: Vec<(usize, usize, usize, String)> = truth["redundant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["paragraph"].as_u64().unwrap() as usize,
                r["start"].as_u64().unwrap() as usize,
                r["end"].as_u64().unwrap() as usize,
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        want,
        [
            (11, 2625, 3034, "restatement".to_string()),
            (12, 3035, 3371, "restatement".to_string())
        ]
    );
    let got: Vec<(usize, usize, usize, String)> = d
        .findings
        .iter()
        .map(|f| (f.paragraph, f.start, f.end, f.kind.clone()))
        .collect();
    assert_eq!(got, want, "findings: {:#?}", d.findings);
    for f in &d.findings {
        let sources: Vec<usize> = f.sources.iter().map(|s| s.paragraph).collect();
        assert!(
            sources.contains(&1),
            "paragraph 1 is not a source of paragraph {}: {sources:?}",
            f.paragraph
        );
    }
}

/// The seed's layout: single-newline paragraphs; the "Read also:" list items and the
/// "Source:" line are segments of their own (so that they can be told apart).
#[test]
fn kharkiv_paragraphs_are_lines() {
    let text = std::fs::read_to_string(root().join("data/kharkiv.txt")).unwrap();
    let d = doc_json(&root(), &["data/kharkiv.txt"], 0);
    let d = d.single();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(paragraph_texts(d, &text), lines);
    assert_eq!(d.paragraphs[11].start, 2625);
    assert_eq!(d.paragraphs[12].end, 3371);
}

/// The human format names the line, kind and paragraph of findings and has no colour when piped.
#[test]
fn human_report_on_a_pipe() {
    let out = run_expect(&mut doc(&root(), &["data/kharkiv.txt"]), 0);
    let s = stdout(&out);
    assert!(s.starts_with("data/kharkiv.txt: "), "{s}");
    assert!(s.contains("line 13  restatement"), "{s}");
    assert!(!s.contains('\x1b'), "colour on a pipe: {s:?}");
    let out = run_expect(
        &mut doc(&root(), &["data/kharkiv.txt", "--color", "always"]),
        0,
    );
    assert!(stdout(&out).contains("\x1b["));
}

// ---------------------------------------------------------------------------------------
// Markdown, line endings, BOM.

/// Headings, lists, quotes are segments; code fences and front matter are not prose; a repeated
/// code block is not flagged, a repeated paragraph is (and a repeated heading is not).
#[test]
fn markdown_code_is_skipped_and_repeated_paragraph_flagged() {
    let text = fixture_text("release.md");
    let out = doc_json(&fixture(""), &["release.md"], 0);
    let d = out.single();
    check_spans(d, &text);
    let texts = paragraph_texts(d, &text);
    for t in &texts {
        assert!(!t.contains("title:"), "front matter is a paragraph: {t:?}");
        assert!(!t.contains("build.sh"), "code is a paragraph: {t:?}");
        assert!(!t.contains("```"), "fence is a paragraph: {t:?}");
    }
    let kinds: Vec<&str> = d
        .paragraphs
        .iter()
        .map(|p| p.kind.as_deref().unwrap_or("?"))
        .collect();
    assert_eq!(
        kinds,
        [
            "heading",
            "paragraph",
            "heading",
            "paragraph",
            "list_item",
            "list_item",
            "heading",
            "paragraph",
            "quote",
            "heading",
            "paragraph"
        ],
        "{texts:#?}"
    );
    assert_eq!(d.flagged(), [(7, "duplicate")], "{:#?}", d.findings);
    let f = &d.findings[0];
    assert!(texts[7].starts_with("Run the build script"));
    assert_eq!(f.sources[0].paragraph, 3);
    assert_eq!(f.score, 1.0);
}

/// The same document with CRLF line endings and a BOM: the same paragraphs and findings, every
/// span on the right bytes (no BOM, no `\r` inside the trimmed ends), lines unchanged.
#[test]
fn crlf_and_bom_spans_point_at_the_right_bytes() {
    for name in ["release.md", "plain.txt"] {
        let lf = fixture_text(name);
        let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
        let dir = Dir::new();
        dir.create("lf.txt", &lf);
        dir.create("crlf.txt", &crlf);
        let a = doc_json(dir.path(), &["lf.txt"], 0);
        let b = doc_json(dir.path(), &["crlf.txt"], 0);
        let (a, b) = (a.single(), b.single());
        check_spans(b, &crlf);
        let a_texts = paragraph_texts(a, &lf);
        let b_texts: Vec<String> = paragraph_texts(b, &crlf)
            .iter()
            .map(|t| t.replace("\r\n", "\n"))
            .collect();
        assert_eq!(a_texts, b_texts, "{name}");
        for (pa, pb) in a.paragraphs.iter().zip(&b.paragraphs) {
            assert_eq!(pa.line, pb.line);
            assert!(!crlf[pb.start..pb.end].ends_with('\r'));
        }
        assert_eq!(a.flagged(), b.flagged(), "{name}");
        assert!(!b.findings.is_empty(), "{name}: nothing to compare");
        for (fa, fb) in a.findings.iter().zip(&b.findings) {
            let sa: Vec<usize> = fa.sources.iter().map(|s| s.paragraph).collect();
            let sb: Vec<usize> = fb.sources.iter().map(|s| s.paragraph).collect();
            assert_eq!(sa, sb);
            for (xa, xb) in fa.sources.iter().zip(&fb.sources) {
                if let (Some(ta), Some(tb)) = (&xa.sentence, &xb.sentence) {
                    assert_eq!(
                        &lf[ta.start..ta.end],
                        crlf[tb.start..tb.end].replace("\r\n", "\n")
                    );
                }
            }
        }
        // Offsets count the BOM (3 bytes) and every `\r`.
        let first = a_texts[0].replace('\n', "\r\n");
        assert_eq!(b.paragraphs[0].start, crlf.find(&first).unwrap());
        let last = a.paragraphs.last().unwrap();
        let crs_before = lf[..last.start].matches('\n').count();
        assert_eq!(
            b.paragraphs.last().unwrap().start,
            last.start + 3 + crs_before
        );
    }
}

// ---------------------------------------------------------------------------------------
// Inputs: stdin, several paths, directories, errors.

/// `-` reads stdin (and so does no path at all); its id is `-`; same result as the file.
#[test]
fn stdin_dash_and_default() {
    let text = fixture_text("plain.txt");
    let file = doc_json(&fixture(""), &["plain.txt"], 0);
    for args in [&["-", "--format", "json"][..], &["--format", "json"][..]] {
        let mut cmd = doc(&fixture(""), args);
        cmd.write_stdin(text.clone());
        let out = parse_json(&run_expect(&mut cmd, 0));
        let d = out.single();
        assert_eq!(d.id, Value::from("-"));
        check_spans(d, &text);
        assert_eq!(d.flagged(), file.single().flagged());
        assert_eq!(d.flagged(), [(3, "duplicate"), (5, "near_duplicate")]);
    }
}

/// Several paths: one document each, in the order given, ids are the paths as given.
#[test]
fn several_paths_in_order() {
    let out = doc_json(&fixture(""), &["plain.txt", "clean.txt", "release.md"], 0);
    assert_eq!(
        out.ids(),
        [
            &Value::from("plain.txt"),
            &Value::from("clean.txt"),
            &Value::from("release.md")
        ]
    );
    assert_eq!(out.documents[1].findings.len(), 0);
    assert_eq!(out.documents[0].findings.len(), 2);
    let human = run_expect(&mut doc(&fixture(""), &["plain.txt", "clean.txt"]), 0);
    assert!(stdout(&human).contains("2 findings in 2 documents"));
}

/// A directory is walked recursively in sorted order; a binary file met in the walk is skipped
/// with a note (exit 0); named explicitly it is an error (exit 2) naming the file, and the
/// other inputs are still reported.
#[test]
fn directory_with_text_and_binary_files() {
    let dir = Dir::new();
    dir.copy_fixture("plain.txt", "docs/b.txt");
    dir.copy_fixture("release.md", "docs/a.md");
    dir.copy_fixture("clean.txt", "docs/sub/c.txt");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(std::iter::repeat_n(0u8, 64));
    dir.create("docs/logo.png", &png);

    let out = run_expect(dir.doc(&["docs", "--format", "json"]), 0);
    let parsed = parse_json(&out);
    let ids: Vec<String> = parsed
        .ids()
        .iter()
        .map(|v| v.as_str().unwrap().replace('\\', "/"))
        .collect();
    assert_eq!(ids, ["docs/a.md", "docs/b.txt", "docs/sub/c.txt"]);
    let err = stderr(&out);
    assert!(
        err.contains("logo.png") && err.contains("skipping"),
        "no note on the skipped binary: {err:?}"
    );
    // --quiet drops the note.
    let out = run_expect(dir.doc(&["docs", "--format", "json", "--quiet"]), 0);
    assert!(!stderr(&out).contains("logo.png"));

    // Named explicitly: an error, exit 2, but the text file is still reported.
    let out = run_expect(
        dir.doc(&["docs/logo.png", "docs/b.txt", "--format", "json"]),
        2,
    );
    let err = stderr(&out);
    assert!(
        err.contains("docs/logo.png") && err.contains("binary"),
        "{err:?}"
    );
    let parsed = parse_json(&out);
    assert_eq!(parsed.ids(), [&Value::from("docs/b.txt")]);
    assert_eq!(parsed.documents[0].findings.len(), 2);
}

/// A path that does not exist: exit 2, the message names it, the other inputs are reported.
#[test]
fn missing_path_is_named_and_others_reported() {
    let out = run_expect(
        &mut doc(
            &fixture(""),
            &["no-such-file.txt", "plain.txt", "--format", "json"],
        ),
        2,
    );
    assert!(
        stderr(&out).contains("no-such-file.txt"),
        "{}",
        stderr(&out)
    );
    let parsed = parse_json(&out);
    assert_eq!(parsed.ids(), [&Value::from("plain.txt")]);
    assert_eq!(parsed.documents[0].findings.len(), 2);
}

/// Invalid UTF-8: exit 2, the message names the file and the byte offset; others reported.
#[test]
fn invalid_utf8_names_file_and_offset() {
    let dir = Dir::new();
    dir.create(
        "bad.txt",
        b"First line is fine.\nSecond \xff\xfe line is not.\n",
    );
    dir.copy_fixture("clean.txt", "good.txt");
    let out = run_expect(dir.doc(&["bad.txt", "good.txt", "--format", "json"]), 2);
    let err = stderr(&out);
    assert!(err.contains("bad.txt"), "{err}");
    assert!(
        err.contains("byte 27"),
        "offset of the first invalid byte: {err}"
    );
    assert!(err.contains("UTF-8"), "{err}");
    assert_eq!(parse_json(&out).ids(), [&Value::from("good.txt")]);
}

/// An empty file is fine: one document, no paragraphs, no findings, exit 0 (also with
/// --fail-on-findings); whitespace only too.
#[test]
fn empty_and_blank_files() {
    let dir = Dir::new();
    dir.create("empty.txt", "");
    dir.create("blank.txt", "\n\n   \r\n\t\n");
    let out = doc_json(
        dir.path(),
        &["empty.txt", "blank.txt", "--fail-on-findings"],
        0,
    );
    assert_eq!(out.documents.len(), 2);
    for d in &out.documents {
        assert!(d.paragraphs.is_empty() && d.findings.is_empty(), "{d:?}");
    }
    assert_eq!(out.documents[0].bytes, 0);
    let out = run_expect(dir.doc(&["empty.txt"]), 0);
    assert!(stdout(&out).contains("nothing redundant of 0 paragraphs"));
    // No input documents at all: still valid JSON.
    let mut cmd = dir.doc(&["--format", "json"]);
    cmd.write_stdin("");
    assert_eq!(parse_json(&run_expect(&mut cmd, 0)).documents.len(), 1);
}

/// One line of 50 MB (no newline at all): finishes within 30 s (it is killed after that)
/// without crashing, as one paragraph spanning the whole text.
#[test]
fn one_line_of_50_mb() {
    let dir = Dir::new();
    let words = [
        "harbour", "council", "budget", "quay", "dredge", "canal", "stone", "wall", "tourist",
        "festival", "mooring", "fee", "boat", "fisher", "engineer", "plan", "debate", "evening",
    ];
    let mut s = String::with_capacity(50 << 20);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while s.len() < 50 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(words[(x % words.len() as u64) as usize]);
        s.push_str(if x.is_multiple_of(11) { ". " } else { " " });
    }
    let len = s.len();
    dir.create("long.txt", s);
    let start = std::time::Instant::now();
    let mut cmd = dir.doc(&["long.txt", "--format", "json"]);
    cmd.timeout(std::time::Duration::from_secs(30));
    let out = parse_json(&run_expect(cmd, 0));
    let elapsed = start.elapsed();
    let d = out.single();
    assert_eq!(d.bytes, len);
    assert_eq!(d.paragraphs.len(), 1);
    assert_eq!(d.paragraphs[0].start, 0);
    assert!(d.findings.is_empty());
    assert!(elapsed.as_secs() < 30, "50 MB line took {elapsed:?}");
}

// ---------------------------------------------------------------------------------------
// Output modes and options.

/// `--fail-on-findings`: exit 1 with findings, 0 without; an error wins (exit 2).
#[test]
fn fail_on_findings_exit_codes() {
    let dir = fixture("");
    run_expect(&mut doc(&dir, &["plain.txt", "--fail-on-findings"]), 1);
    run_expect(&mut doc(&dir, &["clean.txt", "--fail-on-findings"]), 0);
    run_expect(&mut doc(&dir, &["plain.txt"]), 0);
    run_expect(
        &mut doc(&dir, &["plain.txt", "missing.txt", "--fail-on-findings"]),
        2,
    );
    // The report is still printed.
    let out = run_expect(
        &mut doc(
            &dir,
            &["plain.txt", "--fail-on-findings", "--format", "json"],
        ),
        1,
    );
    assert_eq!(parse_json(&out).single().findings.len(), 2);
}

/// What `--strip` must print: the input with each flagged paragraph removed, together with the
/// rest of its line and the blank lines after it (up to the next non-blank line); every other
/// byte unchanged.
fn expected_strip(text: &str, flagged: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut pos = 0;
    for &(start, end) in flagged {
        out.push_str(&text[pos..start]);
        // Skip to the start of the next line holding something other than whitespace.
        let mut cut = end;
        let mut line_start = None;
        for (i, c) in text[end..].char_indices() {
            if c == '\n' {
                line_start = Some(end + i + 1);
            } else if !c.is_whitespace() {
                break;
            }
            cut = end + i + c.len_utf8();
        }
        pos = match line_start {
            Some(ls) if cut < text.len() => ls,
            _ => cut,
        };
    }
    out.push_str(&text[pos..]);
    out
}

#[test]
fn expected_strip_helper() {
    assert_eq!(expected_strip("a\n\nb\n\nc\n", &[(3, 4)]), "a\n\nc\n");
    assert_eq!(
        expected_strip("a\r\n\r\nb\r\n\r\n  c", &[(5, 6)]),
        "a\r\n\r\n  c"
    );
    assert_eq!(expected_strip("a\nb\n", &[(2, 3)]), "a\n");
    assert_eq!(expected_strip("a\n\nb", &[(3, 4)]), "a\n\n");
}

/// `--strip` is byte-exact: the output equals the input without exactly the flagged paragraphs;
/// analysing the output again gives the original paragraphs minus the flagged ones.
#[test]
fn strip_is_byte_exact() {
    let dir = Dir::new();
    let mut cases: Vec<(String, String)> = ["plain.txt", "release.md", "german.txt"]
        .iter()
        .map(|n| (n.to_string(), fixture_text(n)))
        .collect();
    cases.push((
        "crlf.txt".into(),
        format!(
            "\u{feff}{}",
            fixture_text("plain.txt").replace('\n', "\r\n")
        ),
    ));
    // The flagged paragraph is the last line, without a final newline.
    cases.push((
        "no-final-newline.txt".into(),
        fixture_text("plain.txt").trim_end().to_string(),
    ));
    cases.push((
        "kharkiv.txt".into(),
        std::fs::read_to_string(root().join("data/kharkiv.txt")).unwrap(),
    ));
    for (name, text) in &cases {
        dir.create(name, text);
        let lang = if name.starts_with("german") {
            "german"
        } else {
            "english"
        };
        let report = doc_json(dir.path(), &[name, "--lang", lang], 0);
        let d = report.single();
        let flagged: Vec<(usize, usize)> = d.findings.iter().map(|f| (f.start, f.end)).collect();
        if *name != "kharkiv.txt" {
            assert!(!flagged.is_empty(), "{name}: nothing to strip");
        }
        let out = run_expect(dir.doc(&[name, "--strip", "--lang", lang]), 0);
        let stripped = stdout(&out);
        assert_eq!(stripped, expected_strip(text, &flagged), "{name}");

        // The stripped text holds exactly the unflagged paragraphs.
        let kept: Vec<String> = d
            .paragraphs
            .iter()
            .filter(|p| !d.findings.iter().any(|f| f.paragraph == p.index))
            .map(|p| text[p.start..p.end].to_string())
            .collect();
        let again_name = format!("stripped-{name}");
        dir.create(&again_name, &stripped);
        let again = doc_json(dir.path(), &[&again_name, "--lang", lang], 0);
        let again_texts: Vec<&str> = paragraph_texts(again.single(), &stripped);
        assert_eq!(again_texts, kept, "{name}");
    }
}

/// `--strip` on JSONL writes `{id, text}` records with the ids kept.
#[test]
fn strip_jsonl_keeps_ids() {
    let dir = Dir::new();
    let plain = fixture_text("plain.txt");
    let clean = fixture_text("clean.txt");
    let records = [
        serde_json::json!({"id": 17, "text": plain}),
        serde_json::json!({"id": "b", "text": clean}),
    ];
    let body: String = records.iter().map(|r| format!("{r}\n")).collect();
    dir.create("c.jsonl", body);
    let report = doc_json(dir.path(), &["c.jsonl"], 0);
    let out = run_expect(dir.doc(&["c.jsonl", "--strip", "--format", "jsonl"]), 0);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], Value::from(17));
    assert_eq!(lines[1]["id"], Value::from("b"));
    let flagged: Vec<(usize, usize)> = report.documents[0]
        .findings
        .iter()
        .map(|f| (f.start, f.end))
        .collect();
    assert_eq!(
        lines[0]["text"],
        Value::from(expected_strip(&plain, &flagged))
    );
    assert_eq!(lines[1]["text"], Value::from(clean));
}

/// `--format jsonl`: one record per line, each equal to the `documents[]` entry of `--format json`.
#[test]
fn jsonl_output_matches_json_documents() {
    let dir = fixture("");
    let args = ["plain.txt", "clean.txt", "release.md", "german.txt"];
    let json_out = run_expect(doc(&dir, &args).args(["--format", "json"]), 0);
    let json: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let jsonl_out = run_expect(doc(&dir, &args).args(["--format", "jsonl"]), 0);
    let text = stdout(&jsonl_out);
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(json["version"], Value::from(1));
    assert_eq!(&lines, json["documents"].as_array().unwrap());
    assert_eq!(lines.len(), args.len());
}

/// JSONL input (by extension, or forced with --jsonl, with other field names): one document
/// per record, ids keep their JSON type, a record without id gets `path:line`, a broken record
/// is an error naming its line (exit 2) while the others are reported.
#[test]
fn jsonl_input_ids_keep_their_type() {
    let dir = Dir::new();
    let plain = fixture_text("plain.txt");
    let clean = fixture_text("clean.txt");
    let lines = [
        serde_json::json!({"id": 7, "text": plain, "extra": true}).to_string(),
        serde_json::json!({"id": "seven", "text": clean}).to_string(),
        String::new(),
        serde_json::json!({"text": clean}).to_string(),
        serde_json::json!({"id": [1, "x"], "text": ""}).to_string(),
    ];
    dir.create("c.jsonl", lines.join("\n") + "\n");
    let out = doc_json(dir.path(), &["c.jsonl"], 0);
    assert_eq!(
        out.ids(),
        [
            &Value::from(7),
            &Value::from("seven"),
            &Value::from("c.jsonl:4"),
            &serde_json::json!([1, "x"])
        ]
    );
    check_spans(&out.documents[0], &plain);
    assert_eq!(
        out.documents[0].flagged(),
        [(3, "duplicate"), (5, "near_duplicate")]
    );
    assert!(out.documents[1].findings.is_empty());

    // Forced JSONL with other field names.
    let alt = [
        serde_json::json!({"key": 1.5, "body": plain}).to_string(),
        "{broken".to_string(),
        serde_json::json!({"key": null, "text": "no body field"}).to_string(),
        serde_json::json!({"key": false, "body": clean}).to_string(),
    ];
    dir.create("alt.txt", alt.join("\n"));
    let out = run_expect(
        dir.doc(&[
            "alt.txt",
            "--jsonl",
            "--text-field",
            "body",
            "--id-field",
            "key",
            "--format",
            "json",
        ]),
        2,
    );
    let err = stderr(&out);
    assert!(err.contains("alt.txt: line 2"), "{err}");
    assert!(
        err.contains("alt.txt: line 3") && err.contains("body"),
        "{err}"
    );
    assert_eq!(
        parse_json(&out).ids(),
        [&Value::from(1.5), &Value::from(false)]
    );
}

/// `--threads 1` and `--threads 2` print byte-identical output on a multi-document input.
#[test]
fn threads_do_not_change_output() {
    let dir = Dir::new();
    let texts = [
        fixture_text("plain.txt"),
        fixture_text("clean.txt"),
        fixture_text("release.md"),
        std::fs::read_to_string(root().join("data/kharkiv.txt")).unwrap(),
    ];
    // 40 documents, sized unevenly so that threads finish out of order.
    let mut body = String::new();
    for i in 0..40 {
        let t = &texts[i % texts.len()];
        let text = t.repeat(1 + (i * 7) % 5);
        body.push_str(&serde_json::json!({"id": i, "text": text}).to_string());
        body.push('\n');
    }
    dir.create("many.jsonl", body);
    for format in ["json", "jsonl", "human"] {
        let one = run_expect(
            dir.doc(&["many.jsonl", "--threads", "1", "--format", format]),
            0,
        );
        let two = run_expect(
            dir.doc(&["many.jsonl", "--threads", "2", "--format", format]),
            0,
        );
        assert!(!one.stdout.is_empty());
        assert!(one.stdout == two.stdout, "--format {format} differs");
    }
    let parsed = doc_json(dir.path(), &["many.jsonl", "--threads", "2"], 0);
    let ids: Vec<u64> = parsed.ids().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(ids, (0..40).collect::<Vec<_>>());
}

/// `--lang german` (or `de`): German stopwords and stems; the verbatim repeat is a duplicate and
/// the recap in other word forms a restatement of paragraphs 1 and 2.
#[test]
fn german() {
    let text = fixture_text("german.txt");
    let out = doc_json(&fixture(""), &["german.txt", "--lang", "german"], 0);
    let d = out.single();
    check_spans(d, &text);
    assert_eq!(d.flagged(), [(4, "duplicate"), (5, "restatement")]);
    assert_eq!(d.findings[0].sources[0].paragraph, 0);
    let sources: BTreeSet<usize> = d.findings[1].sources.iter().map(|s| s.paragraph).collect();
    assert!(sources.is_superset(&BTreeSet::from([1, 2])), "{sources:?}");
    let german = run_expect(
        doc(&fixture(""), &["german.txt", "--lang", "german"]).args(["--format", "json"]),
        0,
    );
    let de = run_expect(
        doc(&fixture(""), &["german.txt", "--lang", "de"]).args(["--format", "json"]),
        0,
    );
    assert_eq!(german.stdout, de.stdout);
}

/// Bad options are errors (exit 2) with a message naming the option.
#[test]
fn invalid_options() {
    let out = run_expect(
        &mut doc(&fixture(""), &["plain.txt", "--lang", "klingon"]),
        2,
    );
    assert!(stderr(&out).contains("klingon"));
    let out = run_expect(
        &mut doc(&fixture(""), &["plain.txt", "--threshold", "1.5"]),
        2,
    );
    assert!(stderr(&out).contains("--threshold"), "{}", stderr(&out));
    run_expect(&mut doc(&fixture(""), &["plain.txt", "--format", "xml"]), 2);
}

/// Thresholds are honoured: raising the near-duplicate threshold above the edited copy's
/// Jaccard (and the restatement threshold to 0.99) drops that finding; the duplicate stays.
#[test]
fn near_duplicate_threshold() {
    let out = doc_json(
        &fixture(""),
        &[
            "plain.txt",
            "--near-duplicate-threshold",
            "0.89",
            "--threshold",
            "0.99",
        ],
        0,
    );
    assert_eq!(out.single().flagged(), [(3, "duplicate")]);
}

/// Walks honour `.gitignore` inside a git work tree, `.ignore` files always, skip hidden
/// files, and `--glob` filters (as ripgrep does).
#[test]
fn walk_honours_ignore_files_and_globs() {
    let dir = Dir::new();
    for name in ["a.txt", "skip.txt", "sub/c.md", ".hidden.txt", "sub/d.log"] {
        dir.copy_fixture("clean.txt", &format!("repo/{name}"));
    }
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    dir.create("repo/.gitignore", "skip.txt\n");
    dir.create("repo/sub/.ignore", "*.log\n");
    let ids = |args: &[&str]| -> Vec<String> {
        doc_json(dir.path(), args, 0)
            .ids()
            .iter()
            .map(|v| v.as_str().unwrap().replace('\\', "/"))
            .collect()
    };
    assert_eq!(ids(&["repo"]), ["repo/a.txt", "repo/sub/c.md"]);
    assert_eq!(ids(&["repo", "--glob", "*.md"]), ["repo/sub/c.md"]);
    assert_eq!(ids(&["repo", "--glob", "!*.md"]), ["repo/a.txt"]);
    // A file named explicitly is read even when ignored.
    assert_eq!(ids(&["repo/skip.txt"]), ["repo/skip.txt"]);
}

/// Compressed JSONL (`.jsonl.gz`, `.jsonl.zst`) gives the same report as plain JSONL.
#[test]
fn compressed_jsonl_input() {
    use std::io::Write;
    let dir = Dir::new();
    let body: String = [
        serde_json::json!({"id": 1, "text": fixture_text("plain.txt")}),
        serde_json::json!({"id": "two", "text": fixture_text("german.txt")}),
    ]
    .iter()
    .map(|r| format!("{r}\n"))
    .collect();
    dir.create("c.jsonl", &body);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    dir.create("c.jsonl.gz", gz.finish().unwrap());
    dir.create("c.jsonl.zst", zstd::encode_all(body.as_bytes(), 3).unwrap());
    let plain = run_expect(dir.doc(&["c.jsonl", "--format", "jsonl"]), 0);
    assert_eq!(stdout(&plain).lines().count(), 2);
    for name in ["c.jsonl.gz", "c.jsonl.zst"] {
        let out = run_expect(dir.doc(&[name, "--format", "jsonl"]), 0);
        assert_eq!(stdout(&out), stdout(&plain), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Markup: AsciiDoc and reST are read as `deja check` reads them (data/markup/).

/// The one real finding of a markup fixture: the repeated "Teams that build …" paragraph, a
/// duplicate of the earlier one; headings span their text only; no paragraph holds markup.
fn assert_only_the_real_finding(d: &DocEntry, text: &str, markup: &[&str]) {
    check_spans(d, text);
    let texts = paragraph_texts(d, text);
    for t in &texts {
        for m in markup {
            assert!(!t.contains(m), "{m:?} in paragraph {t:?}");
        }
    }
    let headings: Vec<&str> = (d.paragraphs.iter().zip(&texts))
        .filter(|(p, _)| p.kind.as_deref() == Some("heading"))
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(
        headings,
        [
            "Installing the Command Line Tool",
            "Building from source",
            "Further reading"
        ]
    );
    assert_eq!(d.findings.len(), 1, "{texts:#?}\n{:#?}", d.findings);
    let f = &d.findings[0];
    assert_eq!(f.kind, "duplicate");
    assert!(texts[f.paragraph].starts_with("Teams that build the tool"));
    assert_eq!(f.sources.len(), 1);
    assert_eq!(texts[f.sources[0].paragraph], texts[f.paragraph]);
}

/// AsciiDoc: link macro lists, `NOTE:`/`TIP:` admonitions, attribute entries, `----` and
/// `....` blocks (each repeated, which read as Markdown gives findings) are not prose.
#[test]
fn asciidoc_markup_is_not_prose() {
    let text = fixture_text("markup/guide.adoc");
    let out = doc_json(&fixture("markup"), &["guide.adoc"], 0);
    let markup = [
        "link:", "https:", "[", "NOTE", "TIP", ":toc:", "----", "....", "cargo", "deja:", "=",
    ];
    assert_only_the_real_finding(out.single(), &text, &markup);
    // The admonitions' text is prose.
    let texts = paragraph_texts(out.single(), &text);
    assert!(texts
        .iter()
        .any(|t| t.starts_with("Building the tool needs")));
    assert!(texts.iter().any(|t| t.starts_with("Pin the version")));
    // Read as Markdown, the markup makes findings of its own.
    let md = doc_json(
        &fixture("markup"),
        &["guide.adoc", "--markup", "markdown"],
        0,
    );
    assert!(
        md.single().findings.len() > 1,
        "{:#?}",
        md.single().findings
    );
}

/// reST: directives (`code-block`, `image` with options), admonitions (`.. note::` bodies are
/// prose), hyperlink targets, link lists and section adornments are not prose.
#[test]
fn rst_markup_is_not_prose() {
    let text = fixture_text("markup/guide.rst");
    let out = doc_json(&fixture("markup"), &["guide.rst"], 0);
    let markup = [
        "..", "https:", "`", ":doc:", ":alt:", "cargo", "====", "----", "note::",
    ];
    assert_only_the_real_finding(out.single(), &text, &markup);
    let texts = paragraph_texts(out.single(), &text);
    assert!(texts
        .iter()
        .any(|t| t.starts_with("Building the tool needs")));
    assert!(texts.iter().any(|t| t.starts_with("Pin the version")));
    let md = doc_json(
        &fixture("markup"),
        &["guide.rst", "--markup", "markdown"],
        0,
    );
    assert!(
        md.single().findings.len() > 1,
        "{:#?}",
        md.single().findings
    );
}

/// `.txt` files are read by their content: AsciiDoc content as AsciiDoc. Stdin is Markdown
/// unless `--markup` says otherwise; `--markup` also overrides a file's extension.
#[test]
fn markup_by_content_and_by_option() {
    let text = fixture_text("markup/guide.adoc");
    let dir = Dir::new();
    dir.create("guide.txt", &text);
    dir.create("guide.md", &text);
    let adoc = doc_json(&fixture("markup"), &["guide.adoc"], 0);
    let paragraphs = |out: &DocOutput| -> Vec<(usize, usize)> {
        (out.single().paragraphs.iter())
            .map(|p| (p.start, p.end))
            .collect()
    };
    let txt = doc_json(dir.path(), &["guide.txt"], 0);
    assert_eq!(paragraphs(&txt), paragraphs(&adoc));
    assert_eq!(txt.single().flagged(), adoc.single().flagged());
    let forced = doc_json(dir.path(), &["guide.md", "--markup", "asciidoc"], 0);
    assert_eq!(paragraphs(&forced), paragraphs(&adoc));

    let markdown = doc_json(dir.path(), &["guide.md"], 0);
    assert_ne!(paragraphs(&markdown), paragraphs(&adoc));
    for (args, want) in [
        (&["--format", "json"][..], &markdown),
        (&["--format", "json", "--markup", "asciidoc"][..], &adoc),
    ] {
        let mut cmd = dir.doc(args);
        cmd.write_stdin(text.clone());
        let out = parse_json(&run_expect(&mut cmd, 0));
        assert_eq!(paragraphs(&out), paragraphs(want), "{args:?}");
    }
    let out = run_expect(dir.doc(&["guide.txt", "--markup", "latex"]), 2);
    assert!(stderr(&out).contains("--markup"), "{}", stderr(&out));
}

/// An inline `deja-ignore` marker suppresses the finding of the paragraph after it, in
/// Markdown, reST and AsciiDoc, as in `deja check`.
#[test]
fn deja_ignore_in_every_markup() {
    let p = "The release process starts with a signed tag that the maintainers push to the main repository.";
    let dir = Dir::new();
    for (name, marker) in [
        ("a.md", "<!-- deja-ignore -->"),
        ("a.rst", ".. deja-ignore"),
        ("a.adoc", "// deja-ignore"),
    ] {
        dir.create(name, format!("{p}\n\nSomething else entirely.\n\n{p}\n"));
        let out = doc_json(dir.path(), &[name], 0);
        assert_eq!(out.single().flagged(), [(2, "duplicate")], "{name}");
        dir.create(
            name,
            format!("{p}\n\nSomething else entirely.\n\n{marker}\n{p}\n"),
        );
        let out = doc_json(dir.path(), &[name], 0);
        assert_eq!(out.single().paragraphs.len(), 3, "{name}");
        assert!(out.single().findings.is_empty(), "{name}: {out:?}");
        run_expect(dir.doc(&[name, "--fail-on-findings"]), 0);
    }
}

/// `--explain` shows why: each restatement's features with their contributions, and the
/// near misses, in the human report and in JSON; without it, the JSON has neither.
#[test]
fn explain_shows_features_and_near_misses() {
    let args = [
        "doc",
        "data/kharkiv.txt",
        "--explain",
        "--near-miss",
        "0.01",
    ];
    let out = run(deja().args(args).current_dir(root()));
    let human = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        human.matches("why: probability").count(),
        2 + human.matches("not a restatement").count()
    );
    assert!(human.contains("near misses:"), "{human}");

    let out = run(deja()
        .args([
            "doc",
            "data/kharkiv.txt",
            "--explain",
            "--near-miss",
            "0",
            "--threshold",
            "0.5",
        ])
        .args(["--format", "json"])
        .current_dir(root()));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &json["documents"][0];
    let findings = d["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    for f in findings {
        let e = &f["explain"];
        let p = e["probability"].as_f64().unwrap();
        assert!(p >= 0.5 && (f["score"].as_f64().unwrap() - p).abs() < 0.001);
        let features = e["features"].as_array().unwrap();
        assert_eq!(features.len(), 30);
        assert!(features
            .iter()
            .all(|x| x["name"].is_string() && x["value"].is_f64()));
    }
    // Every other judged paragraph is a near miss at a floor of 0, below the threshold.
    let misses = d["near_misses"].as_array().unwrap();
    assert!(misses.len() >= 5, "{misses:?}");
    for m in misses {
        assert!(m["explain"]["probability"].as_f64().unwrap() < 0.5);
    }

    let plain = doc_json(&root(), &["data/kharkiv.txt"], 0);
    let raw = run(deja()
        .args(["doc", "data/kharkiv.txt", "--format", "json"])
        .current_dir(root()));
    let raw = String::from_utf8(raw.stdout).unwrap();
    assert!(!raw.contains("explain") && !raw.contains("near_misses"));
    assert_eq!(plain.single().findings.len(), 2);
}
