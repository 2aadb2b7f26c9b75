//! `deja lsp` end to end: the binary spoken to in JSON-RPC over its stdin/stdout, as an editor
//! does — initialize, open, edit, hover, quick fixes, shutdown/exit — on the seed article and on
//! small workspaces in temp dirs (cross-file copies, `deja.toml` policy, baseline, markers,
//! position encodings with non-ASCII text, bad input).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A client: the server process, its stdin, and the messages it wrote.
struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    /// Notifications read while waiting for something else.
    seen: Vec<Value>,
    next_id: i64,
}

impl Client {
    /// Starts `deja lsp` and runs the handshake; `encodings` are the position encodings the
    /// client offers (none: the protocol's default, UTF-16).
    fn start(root: &Path, encodings: &[&str]) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deja"))
            .args(["lsp", "--debounce", "30"])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || loop {
            let mut len = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; len.expect("Content-Length")];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            seen: Vec::new(),
            next_id: 1,
        };
        let mut caps =
            json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": false}}});
        if !encodings.is_empty() {
            caps["general"] = json!({ "positionEncodings": encodings });
        }
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(root), "capabilities": caps}),
        );
        c.notify("initialized", json!({}));
        (c, init)
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.rx
            .recv_timeout(left)
            .expect("the server answered in time")
    }

    /// Sends a request and returns the whole response.
    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.seen.push(m);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// The next notification `method` (already read or to come) that `pick` accepts.
    fn wait_for(&mut self, method: &str, pick: impl Fn(&Value) -> bool) -> Value {
        let ok = |m: &Value| m["method"] == method && pick(&m["params"]);
        if let Some(i) = self.seen.iter().position(ok) {
            return self.seen.remove(i)["params"].clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if ok(&m) {
                return m["params"].clone();
            }
            self.seen.push(m);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let p = self.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri);
        p["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
    }

    /// shutdown, exit, and the process's exit status.
    fn stop(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    (t, p)
}

fn seed() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kharkiv.txt")).unwrap()
}

fn lines(diags: &[Value]) -> Vec<u64> {
    diags
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect()
}

/// The first edit of a code action for `uri`.
fn edit_of(action: &Value, uri: &str) -> Value {
    action["edit"]["changes"][uri][0].clone()
}

#[test]
fn seed_recaps_are_diagnosed_with_their_sources_and_an_edit_clears_one() {
    let (_t, dir) = tempdir();
    let text = seed();
    std::fs::write(dir.join("kharkiv.txt"), &text).unwrap();
    let doc = uri(&dir.join("kharkiv.txt"));
    let (mut c, init) = Client::start(&dir, &[]);
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["hoverProvider"], true);

    c.open(&doc, "plaintext", &text);
    let diags = c.diagnostics(&doc);
    // Paragraphs are lines here: paragraphs 11 and 12 are the lines 11 and 12 (0-based).
    assert_eq!(lines(&diags), [11, 12], "{diags:#?}");
    for d in &diags {
        assert_eq!(d["source"], "deja");
        assert_eq!(d["code"], "restatement");
        assert_eq!(d["severity"], 1, "every kind fails by default: error");
        let msg = d["message"].as_str().unwrap();
        assert!(msg.starts_with("restatement score 0."), "{msg}");
        assert!(msg.contains("\nrestates kharkiv.txt:2  score "), "{msg}");
        let related = d["relatedInformation"].as_array().unwrap();
        assert!(
            related.iter().any(|r| r["location"]["uri"] == doc.as_str()
                && r["location"]["range"]["start"]["line"] == 1),
            "paragraph 1 among the sources: {related:#?}"
        );
        assert!(related.iter().all(|r| r["message"]
            .as_str()
            .unwrap()
            .starts_with("restated by this, score ")));
    }

    // Hover on the first recap shows the evidence sentence.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": doc}, "position": {"line": 11, "character": 5}}),
    );
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("**deja: restatement**"), "{md}");
    assert!(md.contains("best sentence:"), "{md}");
    let none = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": doc}, "position": {"line": 3, "character": 0}}),
    );
    assert_eq!(none, Value::Null);

    // The quick fixes of the first recap: delete it, or suppress it.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": doc},
               "range": {"start": {"line": 11, "character": 3}, "end": {"line": 11, "character": 3}},
               "context": {"diagnostics": []}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Delete the redundant paragraph (restatement)",
            "Suppress this finding (<!-- deja-ignore -->)"
        ]
    );
    let delete = edit_of(&actions[0], &doc);
    assert_eq!(
        delete["range"]["start"],
        json!({"line": 11, "character": 0})
    );
    assert_eq!(delete["range"]["end"], json!({"line": 12, "character": 0}));
    assert_eq!(delete["newText"], "");

    // The editor applies the suppression: the other recap (a line lower now) is left.
    let suppress = edit_of(&actions[1], &doc);
    assert_eq!(suppress["newText"], "<!-- deja-ignore -->\n");
    assert_eq!(
        suppress["range"]["start"],
        json!({"line": 11, "character": 0})
    );
    c.change(
        &doc,
        2,
        json!([{"range": suppress["range"], "text": suppress["newText"]}]),
    );
    assert_eq!(lines(&c.diagnostics(&doc)), [13]);

    // Deleting that recap clears its diagnostic; what is left is what `deja check` finds in
    // the edited text (the engine's verdict: without its twin, nothing else is a recap).
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": doc},
               "range": {"start": {"line": 13, "character": 0}, "end": {"line": 13, "character": 9}},
               "context": {"diagnostics": []}}),
    );
    let delete = edit_of(&actions[0], &doc);
    c.change(&doc, 3, json!([{"range": delete["range"], "text": ""}]));
    let left = lines(&c.diagnostics(&doc));
    assert!(!left.contains(&13), "{left:?}");
    let mut edited: Vec<&str> = text.split('\n').collect();
    edited.insert(11, "<!-- deja-ignore -->");
    edited.remove(13);
    let (_t2, dir2) = tempdir();
    std::fs::write(dir2.join("kharkiv.txt"), edited.join("\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deja"))
        .args(["check", "--format", "json", "-q"])
        .current_dir(&dir2)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap() - 1)
        .collect();
    assert_eq!(left, want);
    c.stop();
}

/// A paragraph copied between files, with non-ASCII text on its last line.
const COPY: &str = "Every release is built from a signed tag; the maintainers publish the checksums next to the archives, café-style naïve 😀 notes included.";

#[test]
fn cross_file_copies_follow_the_policy_and_count_positions_in_the_negotiated_encoding() {
    let (_t, dir) = tempdir();
    std::fs::write(dir.join("deja.toml"), "fail_on = [\"cross_file\"]\n").unwrap();
    std::fs::write(dir.join("a.md"), format!("# A\n\n{COPY}\n")).unwrap();
    let b_text = format!(
        "# B — Über\n\nThe installer copies the binaries into the prefix and writes a manifest of every file it placed there.\n\n\
         The installer copies the binaries into the prefix and writes a manifest of every file it placed there.\n\n{COPY}\n"
    );
    std::fs::write(dir.join("b.md"), &b_text).unwrap();
    let b = uri(&dir.join("b.md"));
    let a = uri(&dir.join("a.md"));
    let utf16_len = COPY.encode_utf16().count() as u64;

    for (offer, want, end) in [
        (vec!["utf-8", "utf-16"], "utf-8", COPY.len() as u64),
        (vec![], "utf-16", utf16_len),
    ] {
        let (mut c, init) = Client::start(&dir, &offer);
        assert_eq!(init["capabilities"]["positionEncoding"], want);
        c.open(&b, "markdown", &b_text);
        let diags = c.diagnostics(&b);
        let kinds: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["duplicate", "cross_file"], "{diags:#?}");
        // fail_on names only cross_file: the duplicate is a warning.
        assert_eq!(diags[0]["severity"], 2);
        assert_eq!(diags[1]["severity"], 1);
        let copy = &diags[1];
        assert_eq!(copy["range"]["start"], json!({"line": 6, "character": 0}));
        assert_eq!(copy["range"]["end"], json!({"line": 6, "character": end}));
        let rel = &copy["relatedInformation"][0];
        assert_eq!(rel["location"]["uri"], a.as_str());
        assert_eq!(
            rel["location"]["range"]["start"],
            json!({"line": 2, "character": 0})
        );
        assert_eq!(
            rel["location"]["range"]["end"],
            json!({"line": 2, "character": end})
        );
        assert!(copy["message"]
            .as_str()
            .unwrap()
            .contains("copied from a.md:3"));
        // A position inside the emoji's surrogate pair (UTF-16) or its bytes (UTF-8) still
        // finds the finding.
        let emoji = COPY.find('😀').unwrap();
        let inside = if want == "utf-8" {
            emoji as u64 + 2
        } else {
            COPY[..emoji].encode_utf16().count() as u64 + 1
        };
        let h = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": b}, "position": {"line": 6, "character": inside}}),
        );
        assert!(h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("copied from a.md:3"));
        c.stop();
    }
}

/// A copy is reported at the later file; the file it was copied from shows an information
/// diagnostic at the original, pointing at the copy, and loses it when the copy goes.
#[test]
fn the_original_of_a_copy_points_at_the_copy() {
    let (_t, dir) = tempdir();
    let a_text = format!("# A\n\n{COPY}\n");
    let b_text =
        format!("# B\n\nSomething else entirely, said in words of its own here.\n\n{COPY}\n");
    std::fs::write(dir.join("a.md"), &a_text).unwrap();
    std::fs::write(dir.join("b.md"), &b_text).unwrap();
    let (a, b) = (uri(&dir.join("a.md")), uri(&dir.join("b.md")));
    let (mut c, _) = Client::start(&dir, &["utf-8"]);
    c.open(&a, "markdown", &a_text);
    let diags = c.diagnostics(&a);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "cross_file");
    assert_eq!(d["severity"], 3, "information: the copy is the finding");
    assert_eq!(d["range"]["start"], json!({"line": 2, "character": 0}));
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("copied in b.md:5 (score 1.00)"), "{msg}");
    let rel = &d["relatedInformation"][0];
    assert_eq!(rel["location"]["uri"], b.as_str());
    assert_eq!(rel["location"]["range"]["start"]["line"], 4);
    // The copy, opened, is the finding; removing it clears the original's note.
    c.open(&b, "markdown", &b_text);
    let diags = c.diagnostics(&b);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["severity"], 1);
    c.change(&b, 2, json!([{"text": "# B\n\nNothing copied now.\n"}]));
    assert_eq!(c.diagnostics(&b), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&a), Vec::<Value>::new());
    c.stop();
}

/// A buffer that is not a file (`untitled:`) is checked alone, in the markup of its language.
#[test]
fn untitled_buffers_are_checked_alone() {
    let (_t, dir) = tempdir();
    let (mut c, _) = Client::start(&dir, &[]);
    let buffer = "untitled:Untitled-1";
    c.open(buffer, "plaintext", &seed());
    let diags = c.diagnostics(buffer);
    assert_eq!(lines(&diags), [11, 12], "{diags:#?}");
    assert!(diags.iter().all(|d| d["code"] == "restatement"));
    c.stop();
}

/// A file without a known extension is checked when its language is one deja reads, by the
/// ids Neovim and Helix send (their file types: `text`, `rst`) as by VS Code's.
#[test]
fn files_are_checked_by_the_language_the_editor_names() {
    let (_t, dir) = tempdir();
    std::fs::create_dir(dir.join("elsewhere")).unwrap();
    let (mut c, _) = Client::start(&dir.join("elsewhere"), &[]);
    for (name, language) in [
        ("NOTES", "text"),
        ("README", "rst"),
        ("CHANGES", "plaintext"),
    ] {
        // Each in a directory of its own, so that the copies are not cross-file findings.
        let path = dir.join(language).join(name);
        std::fs::create_dir(path.parent().unwrap()).unwrap();
        std::fs::write(&path, seed()).unwrap();
        let doc = uri(&path);
        c.open(&doc, language, &seed());
        assert_eq!(
            lines(&c.diagnostics(&doc)),
            [11, 12],
            "{name} as {language}"
        );
    }
    c.stop();
}

/// Another paragraph of `a`, copied into `b` later.
const COPY2: &str = "Security fixes are backported to the two most recent minor releases and announced on the mailing list a week ahead.";

#[test]
fn baseline_and_markers_are_honoured_and_edits_bring_new_findings() {
    let (_t, dir) = tempdir();
    std::fs::write(dir.join("a.rst"), format!("A\n=\n\n{COPY}\n\n{COPY2}\n")).unwrap();
    let text = format!("B\n=\n\n{COPY}\n");
    std::fs::write(dir.join("b.rst"), &text).unwrap();
    // Today's copy is accepted.
    let out = Command::new(env!("CARGO_BIN_EXE_deja"))
        .args(["check", "--write-baseline", "-q"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join(".deja-baseline.json").is_file());
    let b = uri(&dir.join("b.rst"));
    let (mut c, _) = Client::start(&dir, &[]);
    c.open(&b, "restructuredtext", &text);
    assert!(
        c.diagnostics(&b).is_empty(),
        "the baseline accepts the copy"
    );
    // A second copy is new; the reST marker the quick fix inserts suppresses it.
    let edited =
        format!("{text}\nSome words in between, enough of them to be a paragraph.\n\n{COPY2}\n");
    c.change(&b, 2, json!([{"text": edited}]));
    let diags = c.diagnostics(&b);
    assert_eq!(lines(&diags), [7], "{diags:#?}");
    assert_eq!(diags[0]["code"], "cross_file");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": b}, "range": diags[0]["range"], "context": {"diagnostics": []}}),
    );
    let suppress = edit_of(&actions[1], &b);
    assert_eq!(suppress["newText"], ".. deja-ignore\n\n");
    c.change(
        &b,
        3,
        json!([{"range": suppress["range"], "text": suppress["newText"]}]),
    );
    assert!(c.diagnostics(&b).is_empty());
    c.stop();
}

#[test]
fn bad_input_is_reported_and_the_server_goes_on() {
    let (_t, dir) = tempdir();
    std::fs::write(dir.join("deja.toml"), "fail_onn = []\n").unwrap();
    let doc = uri(&dir.join("kharkiv.txt"));
    let (mut c, _) = Client::start(&dir, &[]);
    // Parameters of the wrong shape: an error message, no crash.
    c.notify("textDocument/didOpen", json!({"textDocument": 7}));
    let m = c.wait_for("window/showMessage", |_| true);
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("textDocument/didOpen: invalid parameters"),
        "{m}"
    );
    let r = c.request_raw("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request_raw("deja/unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // A broken deja.toml names the file and the key; the defaults apply meanwhile.
    c.open(&doc, "plaintext", &seed());
    let m = c.wait_for("window/showMessage", |_| true);
    let msg = m["message"].as_str().unwrap();
    assert!(
        msg.contains("deja.toml") && msg.contains("fail_onn"),
        "{msg}"
    );
    assert_eq!(lines(&c.diagnostics(&doc)), [11, 12]);
    c.stop();
}

/// Neovim (Debian's `neovim`, or `DEJA_NVIM`), installed with apt-get when missing; `None`,
/// after a loud message, when it cannot be had outside CI (under CI the test fails).
fn neovim() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DEJA_NVIM") {
        return Some(PathBuf::from(p));
    }
    let found = || {
        Command::new("nvim")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !found() {
        eprintln!("nvim is missing: apt-get install -y neovim");
        let _ = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim",
            ])
            .status();
        if !found() {
            let msg = "\n\n**********************************************************\n\
                       *** SKIPPING the Neovim test: nvim is not installed and\n\
                       *** `apt-get install neovim` failed (not root? offline?)\n\
                       **********************************************************\n";
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("{msg}");
            return None;
        }
    }
    Some(PathBuf::from("nvim"))
}

/// The README's Neovim setup line that contains `needle` (the code between its backticks).
fn readme_setup(needle: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.trim_start().starts_with('`') && l.contains(needle))
        .unwrap_or_else(|| panic!("README: no setup line with {needle}"));
    let code = line.trim().trim_end_matches(['.', ',']);
    code.trim_matches('`').to_string()
}

/// A real editor: Neovim's built-in client, set up by the README's line for its version, runs
/// `deja lsp` (`tests/editor/nvim.lua` does what a user does and writes what Neovim shows).
/// On the seed: the two recaps as errors with their sources, a hover, the delete quick fix
/// applied through `vim.lsp.buf.code_action`, and then the diagnostics `deja check` gives for
/// the edited text. In a workspace with a `deja.toml` under a path with a space and non-ASCII
/// (percent-encoded URIs): a cross-file copy after a line of non-ASCII text, with byte columns
/// that match the line (UTF-16 positions on 0.7, UTF-8 on 0.11), and the note at the original.
#[test]
fn neovim_shows_findings_hover_and_applies_the_quick_fix() {
    let Some(nvim) = neovim() else { return };
    let version = Command::new(&nvim).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let minor: u32 = version
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("NVIM v0."))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("nvim --version: {version}"));
    // The README's lines: the first for 0.7 and later, the second for 0.11 and later.
    let mut setups = vec![readme_setup("vim.lsp.start_client(")];
    if minor >= 11 {
        setups.push(readme_setup("vim.lsp.config("));
    }
    let deja = PathBuf::from(env!("CARGO_BIN_EXE_deja"));
    let path = format!(
        "{}:{}",
        deja.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/editor/nvim.lua");
    for setup in setups {
        let (_t, dir) = tempdir();
        let seed_text = seed();
        std::fs::create_dir(dir.join("seed")).unwrap();
        let seed_path = dir.join("seed/kharkiv.txt");
        std::fs::write(&seed_path, &seed_text).unwrap();
        let ws = dir.join("work space ü");
        std::fs::create_dir(&ws).unwrap();
        std::fs::write(ws.join("deja.toml"), "").unwrap();
        let a = ws.join("a.md");
        let b = ws.join("b.md");
        std::fs::write(&a, format!("# A\n\n{COPY}\n\nOther words about something else entirely, which nobody copies anywhere.\n")).unwrap();
        std::fs::write(&b, format!("# B — ünïcödé\n\nÜnïcödé prëfàcé 😀 with words that say nothing of the release process here.\n\n{COPY}\n")).unwrap();
        let out = dir.join("out.json");
        let run = Command::new(&nvim)
            .args(["--headless", "--clean", "-n", "-i", "NONE", "-c"])
            .arg(format!("luafile {}", script.display()))
            .current_dir(dir.join("seed"))
            .env("PATH", &path)
            .env("XDG_STATE_HOME", dir.join("state"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("DEJA_SETUP", &setup)
            .env("DEJA_SEED", &seed_path)
            .env("DEJA_COPY", &b)
            .env("DEJA_ORIGINAL", &a)
            .env("DEJA_OUT", &out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let done = run.wait_with_output().unwrap();
        let seen: Value = serde_json::from_slice(&std::fs::read(&out).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{setup}: no output ({e}): {done:?}"));
        let ctx = format!("Neovim {} with `{setup}`", seen["version"]);
        assert!(seen.get("error").is_none(), "{ctx}: {seen:#}");
        assert_eq!(seen["client"]["name"], "deja", "{ctx}");

        // Every diagnostic spans its paragraph's line, in bytes, whatever the encoding.
        let check_spans = |what: &str| {
            let v = &seen[what];
            for d in v["diagnostics"].as_array().unwrap() {
                let line = v["lines"][d["end_lnum"].as_u64().unwrap() as usize]
                    .as_str()
                    .unwrap();
                assert_eq!(d["col"], 0, "{ctx}: {what}: {d}");
                assert_eq!(d["end_col"], line.len(), "{ctx}: {what}: {d}");
                assert_eq!(d["source"], "deja", "{ctx}: {what}: {d}");
            }
        };
        for what in ["seed", "edited", "copy", "original"] {
            check_spans(what);
        }
        let lnums = |what: &str| -> Vec<u64> {
            (seen[what]["diagnostics"].as_array().unwrap().iter())
                .map(|d| d["lnum"].as_u64().unwrap())
                .collect()
        };
        let seed_diags = seen["seed"]["diagnostics"].as_array().unwrap();
        assert_eq!(lnums("seed"), [11, 12], "{ctx}: {seen:#}");
        for d in seed_diags {
            assert_eq!(d["code"], "restatement", "{ctx}");
            assert_eq!(d["severity"], 1, "{ctx}: an error");
            assert!(
                (d["related"].as_array().unwrap().iter())
                    .any(|r| r["uri"] == uri(&seed_path) && r["line"] == 1),
                "{ctx}: {d}"
            );
        }
        let hover = seen["hover"].as_str().unwrap_or_default();
        assert!(hover.starts_with("**deja: restatement**"), "{ctx}: {hover}");
        assert_eq!(
            seen["actions"],
            json!([
                "Delete the redundant paragraph (restatement)",
                "Suppress this finding (<!-- deja-ignore -->)"
            ]),
            "{ctx}"
        );
        // The first recap is gone, and what is shown is what `deja check` finds in the text.
        let mut want: Vec<&str> = seed_text.lines().collect();
        want.remove(11);
        assert_eq!(seen["edited"]["lines"], json!(want), "{ctx}");
        let (_t2, dir2) = tempdir();
        std::fs::write(dir2.join("kharkiv.txt"), want.join("\n") + "\n").unwrap();
        let report = Command::new(&deja)
            .args(["check", "--format", "json", "-q"])
            .current_dir(&dir2)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&report.stdout).unwrap();
        let want: Vec<u64> = (report["findings"].as_array().unwrap().iter())
            .map(|f| f["line"].as_u64().unwrap() - 1)
            .collect();
        assert_eq!(lnums("edited"), want, "{ctx}");

        // The copy (b, the later file) fails; the original (a) names it.
        let copy = &seen["copy"]["diagnostics"][0];
        assert_eq!(lnums("copy"), [4], "{ctx}: {seen:#}");
        assert_eq!(copy["code"], "cross_file", "{ctx}");
        assert_eq!(copy["severity"], 1, "{ctx}");
        assert_eq!(related(copy), [(a.clone(), 2)], "{ctx}");
        let original = &seen["original"]["diagnostics"][0];
        assert_eq!(lnums("original"), [2], "{ctx}: {seen:#}");
        assert_eq!(original["severity"], 3, "{ctx}: information");
        assert_eq!(related(original), [(b.clone(), 4)], "{ctx}");
    }
}

/// The related locations of a diagnostic as Neovim holds it: (path, 0-based line).
fn related(d: &Value) -> Vec<(PathBuf, u64)> {
    (d["related"].as_array().unwrap().iter())
        .map(|r| {
            let uri: lsp_types::Uri = r["uri"].as_str().unwrap().parse().unwrap();
            let path = deja::lsp::uri_to_path(&uri).unwrap();
            (path, r["line"].as_u64().unwrap())
        })
        .collect()
}
