//! Killed at any moment (issue 15 §2): `deja dedup`, `deja sketch -o` and `deja check
//! --write-baseline` are killed with SIGKILL at random moments of a run; afterwards the output
//! is absent, or the old one, or complete (byte-identical to a clean run's), the inputs are
//! untouched, and the next run succeeds and leaves nothing of the killed one. SIGINT and SIGTERM
//! stop a run within a second and leave no temporary file.
//!
//! Inputs are generated from real text (`benches/data/python-docs.txt`) with a fixed seed and
//! are large enough that a run takes a few tenths of a second on one thread. The kill moments
//! come from a seed printed on failure (`DEJA_KILL_SEED` replays one).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;

/// The tests time runs: one at a time, not competing for the cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// One command to kill: its arguments, where it writes, what it reads.
struct Job {
    name: &'static str,
    args: Vec<String>,
    output: PathBuf,
    inputs: PathBuf,
}

fn words() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/python-docs.txt"),
    )
    .unwrap();
    text.split_whitespace()
        .filter(|w| {
            w.chars()
                .all(|c| c.is_alphanumeric() || ".,;:()'".contains(c))
        })
        .map(str::to_string)
        .collect()
}

/// A paragraph of `n` consecutive words from a random place in the text.
fn passage(rng: &mut fastrand::Rng, words: &[String], n: usize) -> String {
    let start = rng.usize(..words.len() - n);
    words[start..start + n].join(" ")
}

/// A JSONL corpus of `docs` documents, every seventh a near copy of an earlier one.
fn corpus(dir: &Path, docs: usize) -> PathBuf {
    let words = words();
    let mut rng = fastrand::Rng::with_seed(15);
    let mut texts: Vec<String> = Vec::with_capacity(docs);
    let mut out = String::new();
    for i in 0..docs {
        let text = if i % 7 == 6 {
            let mut t = texts[rng.usize(..i)].clone();
            t.push_str(" And one more sentence.");
            t
        } else {
            (0..4)
                .map(|_| passage(&mut rng, &words, 90))
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        out.push_str(&serde_json::json!({"id": i, "text": text, "meta": {"n": i}}).to_string());
        out.push('\n');
        texts.push(text);
    }
    let path = dir.join("corpus.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

/// A documentation tree of `files` Markdown files that repeat, restate and copy paragraphs.
fn docs_tree(dir: &Path, files: usize) -> PathBuf {
    let words = words();
    let mut rng = fastrand::Rng::with_seed(16);
    let root = dir.join("docs");
    let mut shared: Vec<String> = Vec::new();
    for f in 0..files {
        let mut paras: Vec<String> = Vec::new();
        paras.push(format!("# Page {f}"));
        for p in 0..8 {
            let para = if p % 4 == 3 && !shared.is_empty() {
                shared[rng.usize(..shared.len())].clone()
            } else if p == 7 {
                paras[1].clone()
            } else {
                passage(&mut rng, &words, 40)
            };
            if p == 2 {
                shared.push(para.clone());
            }
            paras.push(para);
        }
        let sub = root.join(format!("part{}", f % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("page{f}.md")), paras.join("\n\n") + "\n").unwrap();
    }
    root
}

fn jobs(dir: &Path) -> Vec<Job> {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let jsonl = corpus(&input, 6_000);
    let tree = docs_tree(&input, 600);
    let out = |name: &str| {
        let d = dir.join(format!("out-{name}"));
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let dedup = out("dedup").join("dedup.jsonl");
    let sketch = out("sketch").join("shard.sig");
    let baseline = out("check").join("baseline.json");
    vec![
        Job {
            name: "dedup",
            args: [
                "dedup",
                &s(&jsonl),
                "-o",
                &s(&dedup),
                "--strip-repeated-paragraphs",
                "3",
            ]
            .map(String::from)
            .to_vec(),
            output: dedup,
            inputs: input.clone(),
        },
        Job {
            name: "sketch",
            args: ["sketch", &s(&jsonl), "-o", &s(&sketch)]
                .map(String::from)
                .to_vec(),
            output: sketch,
            inputs: input.clone(),
        },
        Job {
            name: "check",
            args: [
                "check",
                &s(&tree),
                "--write-baseline",
                "--baseline",
                &s(&baseline),
            ]
            .map(String::from)
            .to_vec(),
            output: baseline,
            inputs: input,
        },
    ]
}

fn spawn(job: &Job, named: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deja"));
    cmd.args(&job.args)
        .args(["--threads", "1", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The named temporary file is the fallback where O_TMPFILE is missing; test it too.
    if named {
        cmd.env("DEJA_OUTPUT_NAMED", "1");
    } else {
        cmd.env_remove("DEJA_OUTPUT_NAMED");
    }
    cmd.spawn().unwrap()
}

fn run_clean(job: &Job, named: bool) -> Duration {
    let t = Instant::now();
    let status = spawn(job, named).wait().unwrap();
    assert!(status.success(), "{}: clean run failed: {status}", job.name);
    t.elapsed()
}

/// Every file under `dir` with its contents (to see that inputs are untouched).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Names in the output's directory other than the output itself.
fn leftovers(job: &Job) -> Vec<String> {
    let dir = job.output.parent().unwrap();
    let me = job.output.file_name().unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != me)
        .map(|n| n.to_string_lossy().into_owned())
        .collect()
}

/// A temporary name of ours for `job`'s output (what a kill between link and rename leaves).
fn is_our_temporary(job: &Job, name: &str) -> bool {
    let me = job.output.file_name().unwrap().to_string_lossy();
    name.starts_with(&format!(".{me}.deja-tmp-"))
}

fn seed() -> u64 {
    match std::env::var("DEJA_KILL_SEED") {
        Ok(s) => s.parse().unwrap(),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// Kills `job` at `kills` random moments; returns (kills while running, outputs found complete).
fn kill_at_random(job: &Job, named: bool, kills: usize, rng: &mut fastrand::Rng) -> (usize, usize) {
    let inputs = snapshot(&job.inputs);
    // The reference: a clean run's output, and how long a run takes.
    let _ = std::fs::remove_file(&job.output);
    let took = run_clean(job, named).min(run_clean(job, named));
    let reference = std::fs::read(&job.output).unwrap();
    assert!(!reference.is_empty());
    assert_eq!(
        leftovers(job),
        Vec::<String>::new(),
        "{}: clean run left files",
        job.name
    );
    let (mut mid_run, mut complete) = (0, 0);
    for i in 0..kills {
        // Half the runs replace an existing output, half write a new one.
        if i % 2 == 0 {
            let _ = std::fs::remove_file(&job.output);
        }
        let existed = job.output.exists();
        let mut child = spawn(job, named);
        let at = took.mul_f64(rng.f64());
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        match std::fs::read(&job.output) {
            Ok(bytes) => {
                assert!(
                    bytes == reference,
                    "{}: kill {i} at {at:?}: the output is not the complete one ({} bytes, want {})",
                    job.name,
                    bytes.len(),
                    reference.len()
                );
                complete += 1;
            }
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{}", job.name);
                assert!(!existed, "{}: kill {i}: the old output vanished", job.name);
            }
        }
        for name in leftovers(job) {
            assert!(
                is_our_temporary(job, &name),
                "{}: kill {i} left {name}",
                job.name
            );
        }
        assert!(
            snapshot(&job.inputs) == inputs,
            "{}: inputs changed",
            job.name
        );
        // Every fourth kill: the next run succeeds and removes what the killed one left.
        if i % 4 == 3 || i == kills - 1 {
            run_clean(job, named);
            assert!(
                std::fs::read(&job.output).unwrap() == reference,
                "{}",
                job.name
            );
            assert_eq!(
                leftovers(job),
                Vec::<String>::new(),
                "{}: rerun after kill {i}",
                job.name
            );
        }
    }
    (mid_run, complete)
}

#[test]
fn sigkill_at_random_moments_leaves_old_or_complete_output() {
    let _serial = serial();
    let dir = tempfile::Builder::new()
        .prefix("deja-kill-")
        .tempdir()
        .unwrap();
    let seed = seed();
    eprintln!("DEJA_KILL_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    for job in jobs(dir.path()) {
        let (mid, complete) = kill_at_random(&job, false, KILLS, &mut rng);
        eprintln!(
            "{}: {KILLS} kills, {mid} while running, {complete} outputs complete",
            job.name
        );
        // Most kills must land in the run, not after it, or the test proves little.
        assert!(
            mid >= KILLS / 2,
            "{}: only {mid} of {KILLS} kills hit a running process",
            job.name
        );
    }
}

#[test]
fn sigkill_with_named_temporary_files() {
    let _serial = serial();
    let dir = tempfile::Builder::new()
        .prefix("deja-kill-named-")
        .tempdir()
        .unwrap();
    let seed = seed();
    eprintln!("DEJA_KILL_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let jobs = jobs(dir.path());
    let job = jobs.iter().find(|j| j.name == "sketch").unwrap();
    let (mid, _) = kill_at_random(job, true, 10, &mut rng);
    assert!(mid >= 5, "only {mid} of 10 kills hit a running process");
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, sig).unwrap();
}

/// Waits at most `limit` for the child; kills it when it takes longer.
fn wait_for(child: &mut Child, limit: Duration) -> (ExitStatus, Duration) {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s, t.elapsed());
        }
        if t.elapsed() > limit {
            child.kill().unwrap();
            return (child.wait().unwrap(), t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigint_and_sigterm_stop_within_a_second_and_clean_up() {
    let _serial = serial();
    use rustix::process::Signal;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::Builder::new()
        .prefix("deja-signal-")
        .tempdir()
        .unwrap();
    for job in jobs(dir.path()) {
        let _ = std::fs::remove_file(&job.output);
        let took = run_clean(&job, false).min(run_clean(&job, false));
        let reference = std::fs::read(&job.output).unwrap();
        for (i, (sig, named)) in [
            (Signal::INT, false),
            (Signal::TERM, false),
            (Signal::INT, true),
            (Signal::TERM, true),
        ]
        .into_iter()
        .enumerate()
        {
            if i % 2 == 0 {
                let _ = std::fs::remove_file(&job.output);
            }
            let existed = job.output.exists();
            let mut child = spawn(&job, named);
            // Late in the run, where the output is being written.
            std::thread::sleep(took.mul_f64(0.7));
            if child.try_wait().unwrap().is_some() {
                continue;
            }
            signal(&child, sig);
            let (status, after) = wait_for(&mut child, Duration::from_secs(5));
            eprintln!(
                "{}: {sig:?} (named {named}): stopped in {after:?}",
                job.name
            );
            assert!(
                after < Duration::from_secs(1),
                "{}: {sig:?} took {after:?} to stop it",
                job.name
            );
            assert!(
                status.signal() == Some(sig.as_raw()) || status.success(),
                "{}: {sig:?}: {status}",
                job.name
            );
            match std::fs::read(&job.output) {
                Ok(b) => assert!(b == reference, "{}: {sig:?}: partial output", job.name),
                Err(_) => assert!(!existed, "{}: {sig:?}: the old output vanished", job.name),
            }
            assert_eq!(
                leftovers(&job),
                Vec::<String>::new(),
                "{}: {sig:?} (named {named})",
                job.name
            );
        }
    }
}
