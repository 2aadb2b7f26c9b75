//! `deja lsp`: the language server, a frontend over the check engine (LSP 3.17 over stdio).
//!
//! Input: JSON-RPC messages from an editor. Output: diagnostics for the open Markdown, reST,
//! AsciiDoc and text documents — the findings `deja check` reports for them, under the
//! workspace's `deja.toml` and baseline, cross-file copies included — plus hovers with the
//! evidence and quick fixes.
//!
//! Each open document belongs to a *root*: the directory of the `deja.toml` above it, else the
//! workspace folder it is in (both read whole, as `deja check` reads them, .gitignore honoured),
//! else its own directory with only the open documents in it. A root keeps a
//! [`Workspace`](crate::check::Workspace): the analysis of every file, so that an edit re-reads
//! only the edited document before the cross-file join runs again. Edits are checked once the
//! typing pauses (`debounce`); opening a document checks it at once. The open text of a document
//! wins over the file on disk; closing it goes back to the disk's. A cross-file copy is a
//! finding of the later file (as `deja check` reports it); the file it was copied from shows an
//! information diagnostic at the original, naming the copies. A document that is not a file
//! (an `untitled:` buffer) is checked alone, under the default config.

mod diagnostics;
mod position;

pub use diagnostics::{code_actions, copied_in, diagnostic, hover, Text, SOURCE};
pub use position::{apply_changes, Encoding, LineMap};

use crate::check::{collect_files, relative_path, Baseline, CheckFinding, InputFile, Workspace};
use crate::config::{Config, CONFIG_FILE};
use crate::segment::Markup;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    notification, request, CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, MessageType, PositionEncodingKind,
    PublishDiagnosticsParams, ServerCapabilities, ServerInfo, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Quiet time after an edit before the document is checked again.
    pub debounce: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            debounce: Duration::from_millis(200),
        }
    }
}

/// Runs the server over stdin/stdout until the client says `exit` (or closes the stream).
pub fn run_stdio(opts: ServerOptions) -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let result = serve(&connection, opts);
    drop(connection);
    io_threads.join().map_err(|e| format!("stdio: {e}"))?;
    result
}

/// Runs the server over `connection`: the `initialize` handshake, then messages until `exit`.
pub fn serve(connection: &Connection, opts: ServerOptions) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("initialize: invalid parameters: {e}");
            let resp = Response::new_err(id, ErrorCode::InvalidParams as i32, msg.clone());
            let _ = connection.sender.send(resp.into());
            return Err(msg);
        }
    };
    let mut server = Server::new(connection, &params, opts);
    let result = serde_json::json!({
        "capabilities": server.capabilities(),
        "serverInfo": ServerInfo {
            name: "deja".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    server.main_loop()
}

/// An open document.
struct Doc {
    text: String,
    version: i32,
    /// Absolute path, when the URI is a file.
    path: PathBuf,
    /// The key of its root.
    root: PathBuf,
    /// Its path relative to the root (the check's name for it).
    rel: String,
    /// A document deja reads (by its extension or language).
    known: bool,
    /// Checked at all: known, and not excluded by the config.
    checked: bool,
    /// Diagnostics were published for it.
    published: bool,
    /// When the edits waiting to be checked are due.
    due: Option<Instant>,
    /// The findings last published, on the text as it was then.
    findings: Vec<CheckFinding>,
    /// Paragraphs of it that other files copy (cross-file findings there), by span.
    copies: Vec<(crate::Span, Vec<CheckFinding>)>,
    /// The text the findings were found in.
    analysed: String,
}

/// A directory whose files are checked together under one config.
struct Root {
    config: Config,
    baseline: Option<Baseline>,
    workspace: Workspace,
    /// Whether the files of the directory are read (else only the open documents).
    walk: bool,
}

struct Server<'c> {
    connection: &'c Connection,
    opts: ServerOptions,
    encoding: Encoding,
    folders: Vec<PathBuf>,
    /// The client can be asked to watch files.
    watch: bool,
    roots: HashMap<PathBuf, Root>,
    docs: BTreeMap<Uri, Doc>,
    shutdown: bool,
}

/// Extensions of the documents the server checks (as `deja check` selects them by default).
const EXTENSIONS: &[&str] = &[
    "md", "markdown", "rst", "rest", "adoc", "asciidoc", "asc", "txt", "text",
];

/// Languages (LSP language ids) of the documents the server checks whatever their name: VS
/// Code's ids, and Neovim's and Helix's (their file types: `rst`, `text`).
const LANGUAGES: &[&str] = &[
    "markdown",
    "restructuredtext",
    "rst",
    "asciidoc",
    "plaintext",
    "text",
];

impl<'c> Server<'c> {
    fn new(connection: &'c Connection, params: &InitializeParams, mut opts: ServerOptions) -> Self {
        let utf8 = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        #[allow(deprecated)]
        if folders.is_empty() {
            folders.extend(params.root_uri.as_ref().and_then(uri_to_path));
        }
        if let Some(ms) = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("debounce_ms"))
            .and_then(|v| v.as_u64())
        {
            opts.debounce = Duration::from_millis(ms);
        }
        Server {
            connection,
            opts,
            encoding: if utf8 {
                Encoding::Utf8
            } else {
                Encoding::Utf16
            },
            folders,
            watch: params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|c| c.dynamic_registration)
                .unwrap_or(false),
            roots: HashMap::new(),
            docs: BTreeMap::new(),
            shutdown: false,
        }
    }

    fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            position_encoding: Some(match self.encoding {
                Encoding::Utf8 => PositionEncodingKind::UTF8,
                Encoding::Utf16 => PositionEncodingKind::UTF16,
            }),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
            ..ServerCapabilities::default()
        }
    }

    fn main_loop(&mut self) -> Result<(), String> {
        self.watch_files();
        loop {
            let due = self.docs.values().filter_map(|d| d.due).min();
            let msg = match due {
                Some(t) => match self
                    .connection
                    .receiver
                    .recv_timeout(t.saturating_duration_since(Instant::now()))
                {
                    Ok(m) => Some(m),
                    Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => None,
                    Err(_) => return Ok(()),
                },
                None => match self.connection.receiver.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return Ok(()),
                },
            };
            let Some(msg) = msg else {
                self.check_due(false);
                continue;
            };
            match msg {
                Message::Request(req) => {
                    if self.shutdown && req.method != request::Shutdown::METHOD {
                        let resp = Response::new_err(
                            req.id,
                            ErrorCode::InvalidRequest as i32,
                            "the server is shutting down".into(),
                        );
                        self.send(resp.into());
                        continue;
                    }
                    if req.method == request::Shutdown::METHOD {
                        self.shutdown = true;
                        self.send(Response::new_ok(req.id, ()).into());
                        continue;
                    }
                    let (id, method) = (req.id.clone(), req.method.clone());
                    if !self.guard(|s| s.request(req)) {
                        let resp = Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            format!("{method}: internal error"),
                        );
                        self.send(resp.into());
                    }
                }
                Message::Notification(n) if n.method == notification::Exit::METHOD => {
                    return if self.shutdown {
                        Ok(())
                    } else {
                        Err("exit before shutdown".into())
                    };
                }
                Message::Notification(n) => {
                    self.guard(|s| s.notification(n));
                }
                Message::Response(_) => {}
            }
        }
    }

    /// Runs `f`; a panic in it (a bug) is reported to the client instead of ending the server.
    fn guard(&mut self, f: impl FnOnce(&mut Self)) -> bool {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        let Err(p) = r else {
            return true;
        };
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        self.show(MessageType::ERROR, format!("deja: internal error: {what}"));
        false
    }

    /// Asks the client to tell about files changed on disk (other documents, `deja.toml`, the
    /// baseline), when it can register for that.
    fn watch_files(&self) {
        if !self.watch {
            return;
        }
        let watchers: Vec<lsp_types::FileSystemWatcher> = [
            "**/*.{md,markdown,rst,rest,adoc,asciidoc,asc,txt,text}",
            "**/deja.toml",
            "**/*.json",
        ]
        .iter()
        .map(|g| lsp_types::FileSystemWatcher {
            glob_pattern: lsp_types::GlobPattern::String(g.to_string()),
            kind: None,
        })
        .collect();
        let reg = lsp_types::Registration {
            id: "deja-watch".into(),
            method: notification::DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(
                lsp_types::DidChangeWatchedFilesRegistrationOptions { watchers },
            )
            .ok(),
        };
        self.send(
            Request::new(
                "deja-watch".to_string().into(),
                request::RegisterCapability::METHOD.into(),
                lsp_types::RegistrationParams {
                    registrations: vec![reg],
                },
            )
            .into(),
        );
    }

    fn send(&self, msg: Message) {
        // The client is gone when this fails; the loop ends at the next receive.
        let _ = self.connection.sender.send(msg);
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params).into());
    }

    /// Tells the user (and the server's log on stderr).
    fn show(&self, typ: MessageType, message: String) {
        eprintln!("{message}");
        self.notify::<notification::ShowMessage>(ShowMessageParams { typ, message });
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            request::HoverRequest::METHOD => {
                parse::<HoverParams>(&req).map(|p| serde_json::to_value(self.hover(p)))
            }
            request::CodeActionRequest::METHOD => {
                parse::<CodeActionParams>(&req).map(|p| serde_json::to_value(self.code_action(p)))
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unknown request: {}", req.method),
            )),
        };
        let resp = match result {
            Ok(Ok(v)) => Response::new_ok(id, v),
            Ok(Err(e)) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
            Err((code, msg)) => Response::new_err(id, code as i32, msg),
        };
        self.send(resp.into());
    }

    fn notification(&mut self, n: Notification) {
        let r = match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                parse_n::<DidOpenTextDocumentParams>(&n).map(|p| self.did_open(p))
            }
            notification::DidChangeTextDocument::METHOD => {
                parse_n::<DidChangeTextDocumentParams>(&n).map(|p| self.did_change(p))
            }
            notification::DidSaveTextDocument::METHOD => {
                parse_n::<DidSaveTextDocumentParams>(&n).map(|p| self.did_save(p))
            }
            notification::DidCloseTextDocument::METHOD => {
                parse_n::<DidCloseTextDocumentParams>(&n).map(|p| self.did_close(p))
            }
            notification::DidChangeWatchedFiles::METHOD => {
                parse_n::<DidChangeWatchedFilesParams>(&n).map(|p| self.watched(p))
            }
            _ => Ok(()),
        };
        if let Err(e) = r {
            self.show(MessageType::ERROR, format!("deja: {e}"));
        }
    }

    /// The root of the document at `path`: `deja.toml`'s directory above it, else the
    /// workspace folder it is in, else its own directory (no walk). Loaded on first use.
    fn root_of(&mut self, path: &Path) -> PathBuf {
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let config_file = dir
            .ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file());
        let (key, walk) = match &config_file {
            Some(p) => (p.parent().unwrap_or(Path::new("/")).to_path_buf(), true),
            None => match self.folders.iter().find(|f| path.starts_with(f)) {
                Some(f) => (f.clone(), true),
                None => (dir, false),
            },
        };
        if !self.roots.contains_key(&key) {
            let root = self.load_root(&key, config_file.as_deref(), walk);
            self.roots.insert(key.clone(), root);
        }
        key
    }

    /// Reads a root: its config (the defaults, with an error shown, when it is invalid), its
    /// baseline, and, when `walk`, every file `deja check` would read there.
    fn load_root(&self, dir: &Path, config_file: Option<&Path>, walk: bool) -> Root {
        let config = match config_file.map(Config::load) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                self.show(
                    MessageType::ERROR,
                    format!("deja: {e} (checking with the defaults until it is fixed)"),
                );
                defaults(dir)
            }
            None => defaults(dir),
        };
        let baseline_path = config.baseline_path();
        let baseline = if baseline_path.is_file() {
            match Baseline::load(&baseline_path) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.show(
                        MessageType::ERROR,
                        format!("deja: {e} (no baseline until it is fixed)"),
                    );
                    None
                }
            }
        } else {
            None
        };
        let mut workspace = Workspace::new(config.clone(), None);
        if walk {
            let (files, errors) = collect_files(&config, &[dir.to_path_buf()], &[]);
            for e in errors {
                self.notify::<notification::LogMessage>(lsp_types::LogMessageParams {
                    typ: MessageType::WARNING,
                    message: format!("deja: {e}"),
                });
            }
            if let Err(e) = workspace.insert(files, None) {
                self.show(MessageType::ERROR, format!("deja: {e}"));
            }
        }
        Root {
            config,
            baseline,
            workspace,
            walk,
        }
    }

    fn did_open(&mut self, p: DidOpenTextDocumentParams) {
        let td = p.text_document;
        let (path, root, rel) = match uri_to_path(&td.uri) {
            Some(path) => {
                let root = self.root_of(&path);
                let rel = relative_path(&self.roots[&root].config.root, &path);
                (path, root, rel)
            }
            None => self.buffer_root(&td.uri, &td.language_id),
        };
        let r = &self.roots[&root];
        let known = EXTENSIONS.contains(&extension(&rel).as_str())
            || LANGUAGES.contains(&td.language_id.as_str());
        // As a file named on `deja check`'s command line: checked unless excluded.
        let checked = known && !r.config.excludes(&rel);
        self.docs.insert(
            td.uri.clone(),
            Doc {
                text: td.text,
                version: td.version,
                path,
                root,
                rel,
                known,
                checked,
                published: false,
                due: Some(Instant::now()),
                findings: Vec::new(),
                copies: Vec::new(),
                analysed: String::new(),
            },
        );
        self.check_due(false);
    }

    /// A root of its own for a document that is not a file (an `untitled:` buffer): checked
    /// alone under the default config, named by its URI with the extension of its language
    /// (so that its markup is read as the editor says). Returns (path, root key, name).
    fn buffer_root(&mut self, uri: &Uri, language: &str) -> (PathBuf, PathBuf, String) {
        let ext = match language {
            "restructuredtext" | "rst" => "rst",
            "asciidoc" => "adoc",
            "plaintext" | "text" => "txt",
            _ => "md",
        };
        let name: String = (uri.as_str().chars())
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let rel = format!("{name}.{ext}");
        let key = PathBuf::from(uri.as_str());
        if !self.roots.contains_key(&key) {
            let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            let config = defaults(&dir);
            let root = Root {
                workspace: Workspace::new(config.clone(), None),
                config,
                baseline: None,
                walk: false,
            };
            self.roots.insert(key.clone(), root);
        }
        (PathBuf::new(), key, rel)
    }

    fn did_change(&mut self, p: DidChangeTextDocumentParams) {
        let enc = self.encoding;
        let debounce = self.opts.debounce;
        if let Some(doc) = self.docs.get_mut(&p.text_document.uri) {
            apply_changes(&mut doc.text, p.content_changes, enc);
            doc.version = p.text_document.version;
            doc.due = Some(Instant::now() + debounce);
        }
    }

    fn did_save(&mut self, p: DidSaveTextDocumentParams) {
        if let Some(path) = uri_to_path(&p.text_document.uri) {
            self.file_changed(&path);
        }
    }

    fn did_close(&mut self, p: DidCloseTextDocumentParams) {
        let Some(doc) = self.docs.remove(&p.text_document.uri) else {
            return;
        };
        self.notify::<notification::PublishDiagnostics>(PublishDiagnosticsParams {
            uri: p.text_document.uri,
            diagnostics: Vec::new(),
            version: None,
        });
        if doc.path.as_os_str().is_empty() {
            // A buffer: its root was its own.
            self.roots.remove(&doc.root);
            return;
        }
        // Back to the file on disk (or gone): other documents' copies may change.
        self.file_changed(&doc.path);
    }

    fn watched(&mut self, p: DidChangeWatchedFilesParams) {
        for change in p.changes {
            if let Some(path) = uri_to_path(&change.uri) {
                self.file_changed(&path);
            }
        }
    }

    /// A file changed on disk: a config or baseline reloads its root; a document of a walked
    /// root is read again (unless it is open: the open text wins). Open documents of the root
    /// are checked again.
    fn file_changed(&mut self, path: &Path) {
        let is_config = |root: &Root| {
            root.config.path.as_deref() == Some(path)
                || path == root.config.root.join(CONFIG_FILE)
                || path == root.config.baseline_path()
        };
        let open = self.docs.values().any(|d| d.path == path);
        if open && !self.roots.values().any(is_config) {
            return; // The open text is what counts, saved or not.
        }
        let mut reload = Vec::new();
        for (key, root) in &mut self.roots {
            if !path.starts_with(key) {
                continue;
            }
            if is_config(root) {
                reload.push(key.clone());
                continue;
            }
            let rel = relative_path(&root.config.root, path);
            let on_disk = root.walk && root.config.selects(&rel);
            let text = if on_disk {
                std::fs::read(path)
                    .ok()
                    .and_then(|b| crate::input::decode_text(path, b).ok())
            } else {
                None
            };
            match text {
                Some(text) => {
                    let _ = root
                        .workspace
                        .insert(vec![InputFile { path: rel, text }], None);
                }
                None => {
                    root.workspace.remove(&rel);
                }
            }
        }
        for key in &reload {
            self.roots.remove(key);
        }
        // Every open document of a touched root is checked again (a reloaded root re-reads).
        let now = Instant::now();
        for doc in self.docs.values_mut() {
            if path.starts_with(&doc.root) || reload.contains(&doc.root) {
                doc.due = Some(doc.due.map_or(now, |d| d.min(now)));
            }
        }
        let docs: Vec<(Uri, PathBuf)> = self
            .docs
            .iter()
            .filter(|(_, d)| reload.contains(&d.root))
            .map(|(u, d)| (u.clone(), d.path.clone()))
            .collect();
        for (uri, p) in docs {
            let root = self.root_of(&p);
            let config = &self.roots[&root].config;
            let rel = relative_path(&config.root, &p);
            let excluded = config.excludes(&rel);
            if let Some(d) = self.docs.get_mut(&uri) {
                d.root = root;
                d.rel = rel;
                d.checked = d.known && !excluded;
            }
        }
    }

    /// Checks the documents whose edits are due (all with edits waiting when `all`), and
    /// publishes the diagnostics of every open document of their roots that changed.
    fn check_due(&mut self, all: bool) {
        let now = Instant::now();
        let mut roots: Vec<PathBuf> = Vec::new();
        for doc in self.docs.values_mut() {
            if doc.due.is_some_and(|d| all || d <= now) {
                doc.due = None;
                if !roots.contains(&doc.root) {
                    roots.push(doc.root.clone());
                }
            }
        }
        for key in roots {
            self.check_root(&key);
        }
    }

    /// Re-reads the open documents of the root `key` whose text differs from the analysed one,
    /// runs the check, and publishes what changed.
    fn check_root(&mut self, key: &Path) {
        let Some(root) = self.roots.get_mut(key) else {
            return;
        };
        let changed: Vec<InputFile> = self
            .docs
            .values()
            .filter(|d| {
                d.root == key && d.checked && root.workspace.text(&d.rel) != Some(d.text.as_str())
            })
            .map(|d| InputFile {
                path: d.rel.clone(),
                text: d.text.clone(),
            })
            .collect();
        if let Err(e) = root.workspace.insert(changed, None) {
            let msg = format!("deja: {e}");
            self.show(MessageType::ERROR, msg);
            return;
        }
        let Some(root) = self.roots.get_mut(key) else {
            return;
        };
        let report = root.workspace.report(root.baseline.as_ref());
        let mut by_path: HashMap<&str, Vec<CheckFinding>> = HashMap::new();
        // The originals of cross-file copies: (path, span) → the copies.
        let mut copied: BTreeMap<(&str, usize, usize), Vec<CheckFinding>> = BTreeMap::new();
        for f in report.new_findings() {
            by_path
                .entry(f.location.path.as_str())
                .or_default()
                .push(f.clone());
            if f.kind == crate::config::CheckKind::CrossFile {
                for s in &f.sources {
                    let (p, sp) = (s.location.path.as_str(), s.location.span);
                    if p != f.location.path {
                        copied
                            .entry((p, sp.start, sp.end))
                            .or_default()
                            .push(f.clone());
                    }
                }
            }
        }
        let mut publish = Vec::new();
        for (uri, doc) in self.docs.iter_mut().filter(|(_, d)| d.root == key) {
            let findings = if doc.checked {
                by_path.remove(doc.rel.as_str()).unwrap_or_default()
            } else {
                Vec::new()
            };
            let copies: Vec<(crate::Span, Vec<CheckFinding>)> = if doc.checked {
                (copied.range((doc.rel.as_str(), 0, 0)..))
                    .take_while(|((p, ..), _)| *p == doc.rel.as_str())
                    .map(|(&(_, a, b), fs)| (crate::Span::new(a, b), fs.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            if doc.published
                && findings == doc.findings
                && copies == doc.copies
                && doc.analysed == doc.text
            {
                continue;
            }
            doc.published = true;
            doc.findings = findings;
            doc.copies = copies;
            doc.analysed.clone_from(&doc.text);
            publish.push(uri.clone());
        }
        for uri in publish {
            self.publish(&uri);
        }
        // The index the next edit's check reads, built while the user reads the diagnostics.
        if let Some(root) = self.roots.get_mut(key) {
            root.workspace.prepare_changes();
        }
    }

    fn publish(&self, uri: &Uri) {
        let doc = &self.docs[uri];
        let root = &self.roots[&doc.root];
        let text = Text::new(uri.clone(), &doc.analysed);
        let other = |rel: &str| self.other_file(root, rel);
        let mut diagnostics: Vec<lsp_types::Diagnostic> = doc
            .findings
            .iter()
            .map(|f| diagnostic(f, &text, &other, self.encoding))
            .collect();
        diagnostics.extend(
            (doc.copies.iter())
                .map(|(span, fs)| copied_in(*span, fs, &text, &other, self.encoding)),
        );
        diagnostics.sort_by_key(|d| (d.range.start.line, d.range.start.character));
        self.notify::<notification::PublishDiagnostics>(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: Some(doc.version),
        });
    }

    /// The file `rel` of `root` as analysed, under the URI its editor uses when it is open.
    fn other_file<'a>(&'a self, root: &'a Root, rel: &str) -> Option<Text<'a>> {
        let text = root.workspace.text(rel)?;
        let path = root.config.root.join(rel);
        let uri = match self.docs.iter().find(|(_, d)| d.path == path) {
            Some((u, _)) => u.clone(),
            None => path_to_uri(&path)?,
        };
        Some(Text::new(uri, text))
    }

    /// Checks the edits of the document at `uri` now, if any wait, so that positions asked
    /// about match its findings.
    fn flush(&mut self, uri: &Uri) {
        if self.docs.get(uri).is_some_and(|d| d.due.is_some()) {
            self.check_due(true);
        }
    }

    fn hover(&mut self, p: HoverParams) -> Option<Hover> {
        let enc = self.encoding;
        let tdp = p.text_document_position_params;
        self.flush(&tdp.text_document.uri);
        let doc = self.docs.get(&tdp.text_document.uri)?;
        let lines = LineMap::new(&doc.analysed);
        let at = lines.offset(&doc.analysed, tdp.position, enc);
        let f = doc
            .findings
            .iter()
            .find(|f| f.location.span.start <= at && at <= f.location.span.end)?;
        Some(Hover {
            contents: HoverContents::Markup(hover(f)),
            range: Some(lines.range(
                &doc.analysed,
                f.location.span.start,
                f.location.span.end,
                enc,
            )),
        })
    }

    fn code_action(&mut self, p: CodeActionParams) -> Vec<CodeActionOrCommand> {
        let enc = self.encoding;
        let uri = p.text_document.uri;
        self.flush(&uri);
        let Some(doc) = self.docs.get(&uri) else {
            return Vec::new();
        };
        let text = Text::new(uri.clone(), &doc.analysed);
        let a = text.lines.offset(text.text, p.range.start, enc);
        let b = text.lines.offset(text.text, p.range.end, enc);
        let markup = Markup::detect(&doc.rel, &doc.analysed);
        let root = &self.roots[&doc.root];
        let other = |rel: &str| self.other_file(root, rel);
        doc.findings
            .iter()
            .filter(|f| f.location.span.start <= b && a <= f.location.span.end)
            .flat_map(|f| {
                let d = diagnostic(f, &text, &other, enc);
                code_actions(f, &text, markup, &d, enc)
            })
            .map(CodeActionOrCommand::CodeAction)
            .collect()
    }
}

fn parse<P: serde::de::DeserializeOwned>(req: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone()).map_err(|e| {
        (
            ErrorCode::InvalidParams,
            format!("{}: invalid parameters: {e}", req.method),
        )
    })
}

fn parse_n<P: serde::de::DeserializeOwned>(n: &Notification) -> Result<P, String> {
    serde_json::from_value(n.params.clone())
        .map_err(|e| format!("{}: invalid parameters: {e}", n.method))
}

/// The default config, rooted at `dir`.
fn defaults(dir: &Path) -> Config {
    let mut c = Config::default();
    c.root = dir.to_path_buf();
    c
}

fn extension(path: &str) -> String {
    path.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The path of a `file:` URI (percent-decoded), or None for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s
        .strip_prefix("file://")
        .or_else(|| s.strip_prefix("FILE://"))?;
    // `file://host/path`: only the local host is a path here.
    let path = match rest.find('/') {
        Some(0) => rest,
        Some(i) if &rest[..i] == "localhost" => &rest[i..],
        _ => return None,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    Some(PathBuf::from(decoded.into_owned()))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    // Everything but unreserved characters and the path's own `/`, as editors write them.
    const PATH: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let abs = std::path::absolute(path).ok()?;
    let s = abs.to_str()?;
    format!("file://{}", utf8_percent_encode(s, PATH))
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a dir/ünï #1.md");
        let u = path_to_uri(p).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/a%20dir/%C3%BCn%C3%AF%20%231.md");
        assert_eq!(uri_to_path(&u).unwrap(), p);
        let vscode: Uri = "file:///tmp/a%20dir/x.md".parse().unwrap();
        assert_eq!(uri_to_path(&vscode).unwrap(), Path::new("/tmp/a dir/x.md"));
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(uri_to_path(&untitled), None);
    }
}
