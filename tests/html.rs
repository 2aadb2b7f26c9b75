//! `--format html` of `deja doc` and `deja check`: the page's structure and escaping from its
//! bytes, then the page in headless Chromium (tests/util/browser.rs): the seed's recaps
//! marked, a click marking their sources and shared words, keys, filters, hostile text that
//! stays text, and how fast a 1 MB document's page opens.

#[path = "util/browser.rs"]
mod browser;
mod util;

use browser::Browser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use util::{deja, fixture_text, root, run_expect, stdout, Dir};

/// `deja doc --format html ARGS`, expected to exit 0; the page.
fn doc_page(args: &[&str]) -> String {
    let mut cmd = deja();
    cmd.current_dir(root())
        .args(["doc", "--format", "html"])
        .args(args);
    stdout(&run_expect(cmd, 0))
}

/// The nonce of the page's CSP, checked to be the one of its style and script.
fn nonce(page: &str) -> String {
    let csp_at = page
        .find("<meta http-equiv=\"Content-Security-Policy\" content=\"")
        .expect("CSP meta tag");
    let csp = &page[csp_at..page[csp_at..].find('>').unwrap() + csp_at];
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let n = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(n.len() >= 32, "nonce {n}");
    assert!(csp.contains(&format!("script-src 'nonce-{n}'")), "{csp}");
    assert!(csp.contains(&format!("style-src 'nonce-{n}'")), "{csp}");
    n.to_string()
}

#[test]
fn doc_page_is_self_contained_and_marks_the_seeds_recaps() {
    let page = doc_page(&["data/kharkiv.txt"]);
    let n = nonce(&page);
    // Exactly one style and two scripts: the data (not run) and the page's own.
    assert_eq!(page.matches("<style").count(), 1);
    assert_eq!(page.matches(&format!("<style nonce=\"{n}\">")).count(), 1);
    assert_eq!(page.matches("<script").count(), 2);
    assert_eq!(page.matches(&format!("<script nonce=\"{n}\">")).count(), 1);
    assert!(page.contains("<script type=\"application/json\" id=\"deja-data\">"));
    // Nothing is fetched: no external resources at all.
    for needle in [" src=", "<link", "url(", "@import", "http://", "https://"] {
        assert!(!page.contains(needle), "page refers to {needle}");
    }
    // The recaps (paragraphs 11 and 12) are marked as restatements, with a text label.
    for p in [11, 12] {
        let at = page
            .find(&format!("data-p=\"{p}\" data-f="))
            .unwrap_or_else(|| panic!("paragraph {p} is not a marked finding"));
        let open = &page[page[..at].rfind("<span").unwrap()..at + 200];
        assert!(open.contains("fnd k-restatement"), "{open}");
        assert!(open.contains("data-tag=\"restatement · 0."), "{open}");
    }
    assert_eq!(page.matches("<li class=\"item k-restatement\"").count(), 2);
}

#[test]
fn html_is_byte_identical_for_any_thread_count() {
    let docs = [
        "data/kharkiv.txt",
        "tests/data/release.md",
        "tests/data/html/hostile.md",
    ];
    let one = doc_page(&[&docs[..], &["--threads", "1"]].concat());
    let two = doc_page(&[&docs[..], &["--threads", "2"]].concat());
    assert!(one == two, "pages differ between 1 and 2 threads");
    assert!(
        one.contains("<section class=\"file\" id=\"d1\">"),
        "several documents"
    );
}

#[test]
fn hostile_text_is_escaped_in_the_page() {
    let page = doc_page(&["tests/data/html/hostile.md"]);
    nonce(&page);
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the page's own scripts"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("</style><script>"));
    assert!(!page.contains("href=\"javascript:"));
    assert!(page.contains("&lt;script&gt;window.__pwned = 1&lt;/script&gt;"));
    assert!(page.contains("&lt;/style&gt;&lt;script&gt;"));
    assert!(page.contains("separator\u{2028}right"));
    // The data block holds numbers only: nothing of the text can close it.
    let data_at = page.find("id=\"deja-data\">").unwrap();
    let data = &page[data_at + 15..data_at + page[data_at..].find("</script>").unwrap()];
    assert!(
        data.chars()
            .all(|c| c.is_ascii_digit() || "{}[]:,.\" f".contains(c)),
        "{data}"
    );
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["f"].as_array().unwrap().len(), 3);
}

/// A small repository: a cross-file copy (b.md copies a.md), an intra-document duplicate in
/// c.md that the baseline accepts, and a new one in d.md.
fn check_repo() -> Dir {
    let dir = Dir::new();
    let p = "The release process starts with a signed tag that the maintainers push to the main \
             repository, after which the builders publish the artefacts.";
    let q = "Every contributor signs the licence agreement once, and the bot checks the \
             signature on each pull request before a reviewer is assigned.";
    let r = "Caches are keyed by the lock file, so a change of dependencies starts from a cold \
             cache while every other build reuses the artefacts of the last one.";
    dir.create("deja.toml", "");
    dir.create("a.md", format!("# A\n\n{p}\n"));
    dir.create(
        "b.md",
        format!("# B\n\nSome words of its own about <b>tags</b>.\n\n{p}\n"),
    );
    dir.create(
        "c.md",
        format!("# C\n\n{q}\n\nMore text in between.\n\n{q}\n"),
    );
    let mut cmd = deja();
    cmd.current_dir(dir.path())
        .args(["check", "c.md", "--write-baseline", "-q"]);
    run_expect(cmd, 0);
    dir.create("d.md", format!("# D\n\n{r}\n\nNothing else.\n\n{r}\n"));
    dir
}

#[test]
fn check_page_has_an_index_cross_file_links_and_baselined_findings_apart() {
    let dir = check_repo();
    let mut cmd = deja();
    cmd.current_dir(dir.path())
        .args(["check", "--format", "html", "-o", "report.html"]);
    let out = run_expect(cmd, 1);
    assert!(stdout(&out).is_empty());
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    nonce(&page);
    // Sections for the files with findings and the file copied from, in path order.
    let sections: Vec<&str> = page
        .match_indices("<section class=\"file\" id=\"d")
        .map(|(i, _)| {
            let h = &page[i..];
            let from = h.find("<h2>").unwrap() + 4;
            &h[from..from + h[from..].find(" <small>").unwrap()]
        })
        .collect();
    assert_eq!(sections, ["a.md", "b.md", "c.md", "d.md"]);
    // The index: one row a file, counts per kind, baselined apart.
    let index = &page[page.find("<table class=\"index\">").unwrap()..];
    let index = &index[..index.find("</table>").unwrap()];
    assert!(index.contains("<tr><td><a href=\"#d1\">b.md</a></td><td></td><td></td><td></td><td>1</td><td></td></tr>"), "{index}");
    assert!(index.contains("<tr><td><a href=\"#d2\">c.md</a></td><td></td><td></td><td></td><td></td><td>1</td></tr>"), "{index}");
    assert!(index.contains("<tr><td><a href=\"#d3\">d.md</a></td><td>1</td><td></td><td></td><td></td><td></td></tr>"), "{index}");
    // The cross-file finding's source links to the paragraph in a.md's section.
    let item = &page[page.find("<li class=\"item k-cross_file\"").unwrap()..];
    let item = &item[..item.find("</li></ol></li>").unwrap()];
    let href = item
        .split("<a href=\"#")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(href.starts_with("r0-"), "{item}");
    assert!(
        item.contains(&format!("<a href=\"#{href}\">a.md line 3</a>")),
        "{item}"
    );
    assert!(page.contains(&format!("<span class=\"para\" id=\"{href}\"")));
    // The accepted finding is listed after the new ones, under its own heading, and marked
    // as baselined in the text.
    let accepted = page
        .find("<h2 class=\"accepted\">Accepted by the baseline</h2>")
        .unwrap();
    let base_item = page.find("<li class=\"item k-duplicate base\"").unwrap();
    let new_item = page.find("<li class=\"item k-duplicate\"").unwrap();
    assert!(new_item < accepted && accepted < base_item);
    assert!(page.contains("fnd k-duplicate base\""));
    assert!(page.contains("data-tag=\"baselined duplicate · 1.00\""));
    // The text is escaped there too.
    assert!(page.contains("about &lt;b&gt;tags&lt;/b&gt;."));
}

/// The page of `args` (run in the repository root) written to `dir/name`.
fn write_page(dir: &Dir, name: &str, args: &[&str]) -> PathBuf {
    dir.create(name, doc_page(args))
}

#[test]
fn seed_page_in_chromium_marks_recaps_and_their_sources() {
    let Some(mut b) = Browser::launch(1280, 1100) else {
        return;
    };
    let dir = Dir::new();
    let page = write_page(&dir, "kharkiv.html", &["data/kharkiv.txt"]);
    b.open_file(&page);
    assert_eq!(
        b.eval("document.documentElement.dataset.ready"),
        "1",
        "the page's script ran"
    );
    // The two recaps are marked, by class and by a visible label.
    let marked = b.eval(
        "Array.from(document.querySelectorAll('.para.fnd')).map(e => [Number(e.dataset.p), \
         e.classList.contains('k-restatement'), getComputedStyle(e, '::before').content])",
    );
    assert_eq!(marked.as_array().unwrap().len(), 2, "{marked}");
    for (m, p) in marked.as_array().unwrap().iter().zip([11, 12]) {
        assert_eq!(m[0], p, "{marked}");
        assert_eq!(m[1], true, "{marked}");
        assert!(m[2].as_str().unwrap().contains("restatement"), "{marked}");
    }
    assert_eq!(
        b.eval("document.querySelectorAll('.para.src, .w.sh').length"),
        0
    );

    // Click the first recap in the text: paragraph 1 is marked among its sources, and the
    // words it shares are underlined in both.
    b.click(".para[data-p=\"11\"]");
    let state = b.eval(
        "({on: Array.from(document.querySelectorAll('.para.on')).map(e => Number(e.dataset.p)), \
          src: Array.from(document.querySelectorAll('.para.src')).map(e => Number(e.dataset.p)), \
          sharedInRecap: document.querySelectorAll('.para[data-p=\"11\"] .w.sh').length, \
          sharedInP1: document.querySelectorAll('.para[data-p=\"1\"] .w.sh').length, \
          underline: getComputedStyle(document.querySelector('.w.sh')).textDecorationLine, \
          listOn: document.querySelector('#list li.item.on .ex').textContent})",
    );
    assert_eq!(state["on"], serde_json::json!([11]), "{state}");
    let src: Vec<i64> = (state["src"].as_array().unwrap().iter())
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(src.contains(&1), "paragraph 1 among the sources: {state}");
    assert!(state["sharedInRecap"].as_u64().unwrap() > 3, "{state}");
    assert!(state["sharedInP1"].as_u64().unwrap() > 0, "{state}");
    assert_eq!(state["underline"], "underline", "{state}");
    assert!(
        state["listOn"]
            .as_str()
            .unwrap()
            .starts_with("Despite Russia"),
        "{state}"
    );

    // Next finding with one key; back to it with one key after a jump to its sources.
    b.key("j");
    assert_eq!(
        b.eval("Number(document.querySelector('.para.on').dataset.p)"),
        12
    );
    let in_view = "(() => { const r = document.querySelector('.para.on').getBoundingClientRect(); \
                   return r.bottom > 0 && r.top < innerHeight; })()";
    b.eval("scrollTo(0, 0)");
    b.key("b");
    assert_eq!(b.eval(in_view), true, "b shows the finding");
    b.key("k");
    assert_eq!(
        b.eval("Number(document.querySelector('.para.on').dataset.p)"),
        11
    );
    b.key("Escape");
    assert_eq!(
        b.eval("document.querySelectorAll('.on, .src, .sh').length"),
        0
    );

    // The kind filter hides the restatements from the list.
    b.click(".filters input[data-kind=\"restatement\"]");
    assert_eq!(
        b.eval("Array.from(document.querySelectorAll('#list li.item')).filter(e => e.offsetParent).length"),
        0
    );
    b.click(".filters input[data-kind=\"restatement\"]");

    // The screenshot: the closing recap selected from the list, the page from its top.
    b.click("#list li.item:last-of-type button");
    b.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 1280, "height": 1480, "deviceScaleFactor": 1, "mobile": false}),
    );
    b.eval("scrollTo(0, 0)");
    let png = b.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kharkiv-report.png");
    std::fs::write(&out, &png).unwrap();
    if std::env::var_os("DEJA_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(root().join("docs/html-report.png"), &png).unwrap();
    }
    eprintln!("screenshot: {}", out.display());

    // The dark scheme follows the system's; printing keeps the text, marks and labels only.
    let media = |b: &mut Browser, media: &str, dark: bool| {
        let scheme = if dark { "dark" } else { "light" };
        b.call(
            "Emulation.setEmulatedMedia",
            serde_json::json!({"media": media,
                "features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        );
    };
    let look = "(() => { const s = getComputedStyle(document.body); \
                const p = document.querySelector('.para.fnd'); return [s.backgroundColor, s.color, \
                getComputedStyle(document.querySelector('aside')).display, \
                getComputedStyle(p, '::before').content, \
                getComputedStyle(document.querySelector('.filters')).display]; })()";
    media(&mut b, "screen", true);
    let dark = b.eval(look);
    assert_eq!(dark[0], "rgb(22, 24, 28)", "{dark}");
    assert_eq!(dark[1], "rgb(228, 228, 228)", "{dark}");
    media(&mut b, "print", false);
    let print = b.eval(look);
    assert_eq!(print[0], "rgb(255, 255, 255)", "{print}");
    assert_eq!(print[2], "none", "the list is not printed: {print}");
    assert_eq!(print[4], "none", "nor the filters: {print}");
    assert!(
        print[3].as_str().unwrap().contains("restatement"),
        "{print}"
    );
}

#[test]
fn hostile_text_renders_as_text_with_no_script_run_in_chromium() {
    let Some(mut b) = Browser::launch(1000, 800) else {
        return;
    };
    let dir = Dir::new();
    let page = write_page(&dir, "hostile.html", &["tests/data/html/hostile.md"]);
    b.open_file(&page);
    let r = b.eval(
        "({ready: document.documentElement.dataset.ready, pwned: typeof window.__pwned, \
          scripts: document.scripts.length, imgs: document.images.length, \
          jsLinks: document.querySelectorAll('a[href^=\"javascript\"], [onerror]').length, \
          text: document.querySelector('.text').textContent})",
    );
    assert_eq!(r["ready"], "1", "{r}");
    assert_eq!(r["pwned"], "undefined", "{r}");
    assert_eq!(r["scripts"], 2, "{r}");
    assert_eq!(r["imgs"], 0, "{r}");
    assert_eq!(r["jsLinks"], 0, "{r}");
    // The text shown is the document's, byte for byte (U+2028 included).
    assert_eq!(r["text"], fixture_text("html/hostile.md"), "{r}");
    // Clicking every finding runs nothing either.
    for i in 0..3 {
        b.click(&format!("#f{i} button"));
    }
    assert_eq!(b.eval("typeof window.__pwned"), "undefined");
    assert_eq!(b.eval("document.querySelectorAll('.para.src').length"), 1);
}

/// Opens and marks its findings; how fast is a benchmark (`benches/html/README.md`), not a test.
#[test]
fn a_1mb_document_page_opens_in_chromium() {
    let Some(mut b) = Browser::launch(1280, 900) else {
        return;
    };
    let dir = Dir::new();
    let text = root().join("benches/data/python-docs.txt");
    assert!(std::fs::metadata(&text).unwrap().len() >= 1_000_000);
    let page = write_page(&dir, "big.html", &[text.to_str().unwrap()]);
    let url = format!("file://{}", std::fs::canonicalize(&page).unwrap().display());
    // Load → the page's script done → the first frame painted after it, three times.
    let mut times = Vec::new();
    for _ in 0..3 {
        b.open(&url);
        let t = b.eval(
            "new Promise(r => requestAnimationFrame(() => setTimeout(() => r([performance.now(), \
             document.querySelectorAll('.para.fnd').length, document.documentElement.dataset.ready]))))",
        );
        assert_eq!(t[2], "1", "{t}");
        assert!(t[1].as_u64().unwrap() > 100, "findings marked: {t}");
        times.push(t[0].as_f64().unwrap());
    }
    times.sort_by(f64::total_cmp);
    eprintln!("1 MB page: opened in {times:?} ms (median {:.0})", times[1]);
}

/// Side-by-side timing of page opens (benches/html/README.md):
/// `DEJA_HTML_PAGES=a.html,b.html cargo test --release --test html measure -- --ignored --nocapture`
/// loads the pages in turn, `DEJA_HTML_ROUNDS` (default 9) times each, and prints the medians.
#[test]
#[ignore]
fn measure_page_open() {
    let pages = std::env::var("DEJA_HTML_PAGES").expect("DEJA_HTML_PAGES=a.html,b.html");
    let rounds: usize = std::env::var("DEJA_HTML_ROUNDS").map_or(9, |r| r.parse().unwrap());
    let Some(mut b) = Browser::launch(1280, 900) else {
        panic!("no chromium");
    };
    let pages: Vec<String> = pages.split(',').map(String::from).collect();
    let mut times = vec![Vec::new(); pages.len()];
    for _ in 0..rounds {
        for (i, p) in pages.iter().enumerate() {
            let abs = std::fs::canonicalize(p).unwrap();
            b.open(&format!("file://{}", abs.display()));
            let t = b.eval(
                "new Promise(r => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))",
            );
            times[i].push(t.as_f64().unwrap());
        }
    }
    for (p, t) in pages.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        eprintln!(
            "{p}: median {:.0} ms (min {:.0}, max {:.0}, {} loads)",
            t[t.len() / 2],
            t[0],
            t[t.len() - 1],
            t.len()
        );
    }
}
