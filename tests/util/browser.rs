//! A headless Chromium for tests that check a page as a browser renders it, driven over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages ended by a NUL byte,
//! commands on the browser's fd 3, answers and events on its fd 4), as puppeteer's pipe
//! transport does; no WebSocket or driver binary needed.
//!
//! Chromium is Debian's `chromium`. When it is missing, [`chromium`] installs it with apt-get;
//! when that is impossible the browser tests are skipped with a loud message, except under CI
//! (`CI` set), where they fail.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The Chromium binary, installed with apt-get when missing (once per test run); `None`, after
/// a loud message, when it cannot be had outside CI.
pub fn chromium() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if !Path::new(CHROMIUM).exists() {
                eprintln!("chromium is missing: apt-get install -y chromium");
                let installed = Command::new("sh")
                    .args([
                        "-c",
                        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
                    ])
                    .status()
                    .is_ok_and(|s| s.success());
                if !installed || !Path::new(CHROMIUM).exists() {
                    let msg = "\n\n**********************************************************\n\
                               *** SKIPPING the browser tests: chromium is not installed\n\
                               *** and `apt-get install chromium` failed (not root? offline?)\n\
                               **********************************************************\n";
                    if std::env::var_os("CI").is_some() {
                        panic!("{msg}");
                    }
                    eprintln!("{msg}");
                    return None;
                }
            }
            Some(PathBuf::from(CHROMIUM))
        })
        .clone()
}

/// One headless browser with one page, closed when dropped.
pub struct Browser {
    child: Child,
    commands: std::io::PipeWriter,
    messages: mpsc::Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A browser whose page is `width` × `height` CSS pixels, or `None` when Chromium cannot be
    /// had (see [`chromium`]).
    pub fn launch(width: u32, height: u32) -> Option<Browser> {
        let bin = chromium()?;
        let profile = tempfile::tempdir().expect("profile dir");
        let (to_browser, commands) = std::io::pipe().expect("pipe");
        let (events, from_browser) = std::io::pipe().expect("pipe");
        let (in_fd, out_fd) = (to_browser.as_raw_fd(), from_browser.as_raw_fd());
        let mut cmd = Command::new(bin);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (dup/dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Moved out of the way first, in case a pipe end is fd 3 or 4 already.
                let a = libc::fcntl(in_fd, libc::F_DUPFD, 10);
                let b = libc::fcntl(out_fd, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        drop(to_browser);
        drop(from_browser);
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(events);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop();
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            commands,
            messages,
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let target = b.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = b.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        b.call("Page.enable", json!({}));
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        Some(b)
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> u64 {
        self.next_id += 1;
        let mut msg = json!({"id": self.next_id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to chromium");
        self.next_id
    }

    /// Waits for the message that `accept` takes (events before it are dropped).
    fn wait(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(v) if accept(&v) => return v,
                Ok(_) => {}
                Err(e) => panic!("chromium: no answer to {what}: {e}"),
            }
        }
    }

    fn answer(&mut self, method: &str, id: u64) -> Value {
        let v = self.wait(method, |v| v["id"] == json!(id));
        if let Some(err) = v.get("error") {
            panic!("chromium: {method} failed: {err}");
        }
        v["result"].clone()
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, false);
        self.answer(method, id)
    }

    /// Calls `method` on the page and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, true);
        self.answer(method, id)
    }

    /// Loads `url` and waits for its load event.
    pub fn open(&mut self, url: &str) {
        let id = self.send("Page.navigate", json!({"url": url}), true);
        let nav = self.answer("Page.navigate", id);
        assert!(nav.get("errorText").is_none(), "navigate {url}: {nav}");
        self.wait("Page.loadEventFired", |v| {
            v["method"] == "Page.loadEventFired"
        });
    }

    /// Loads the file at `path`.
    pub fn open_file(&mut self, path: &Path) {
        let abs = std::fs::canonicalize(path).expect("page exists");
        self.open(&format!("file://{}", abs.display()));
    }

    /// The value of a JavaScript expression (awaited when it is a promise).
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("page script failed: {expression}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Clicks the middle of the first element matching `selector`, with the mouse, as a user
    /// would (after scrolling it into view).
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.left + Math.min(r.width / 2, 40), r.top + Math.min(r.height / 2, 10)]; }})()"
        ));
        let (x, y) = match rect.as_array() {
            Some(xy) => (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()),
            None => panic!("no element {selector}"),
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Presses and releases a key that types `key` (a letter) or is named `key` (Escape).
    pub fn key(&mut self, key: &str) {
        let text = if key.chars().count() == 1 { key } else { "" };
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "text": text}),
            );
        }
    }

    /// A PNG of the page's viewport.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let b64 = r["data"].as_str().expect("screenshot data");
        data_encoding::BASE64
            .decode(b64.as_bytes())
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.send("Browser.close", json!({}), false);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
