//! Progress on stderr (indicatif), shown only on a terminal and without `--quiet`, and the
//! per-kind problem log: each problem is printed, up to a limit per kind, then summarised.

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A spinner line: stage, documents, documents/s, MB/s.
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
}

impl Progress {
    /// A progress line on stderr when it is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Progress {
            bar,
            start: Instant::now(),
        }
    }

    /// Shows the stage and throughput so far.
    pub fn update(&self, stage: &str, docs: usize, bytes: u64) {
        if let Some(b) = &self.bar {
            let secs = self.start.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{stage}: {docs} documents, {:.0} docs/s, {:.1} MB/s",
                docs as f64 / secs,
                bytes as f64 / 1e6 / secs
            ));
        }
    }

    /// Shows a stage without counts.
    pub fn stage(&self, stage: &str) {
        if let Some(b) = &self.bar {
            b.set_message(stage.to_string());
        }
    }

    /// Prints a line on stderr without garbling the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Problems shown per kind before the rest are only counted.
pub const SHOWN_PER_KIND: usize = 20;

/// Input problems by kind: errors (exit 2) and warnings.
#[derive(Default)]
pub struct Problems {
    counts: BTreeMap<(bool, String), usize>,
    /// Errors seen.
    pub errors: usize,
    /// Warnings seen.
    pub warnings: usize,
    quiet_warnings: bool,
}

impl Problems {
    /// A log; `quiet_warnings` hides warnings (errors are always shown).
    pub fn new(quiet_warnings: bool) -> Self {
        Problems {
            quiet_warnings,
            ..Problems::default()
        }
    }

    /// Records an error of `kind`.
    pub fn error(&mut self, progress: &Progress, kind: &str, message: &dyn std::fmt::Display) {
        self.errors += 1;
        self.log(progress, true, kind, message);
    }

    /// Records a warning of `kind`.
    pub fn warn(&mut self, progress: &Progress, kind: &str, message: &dyn std::fmt::Display) {
        self.warnings += 1;
        self.log(progress, false, kind, message);
    }

    fn log(
        &mut self,
        progress: &Progress,
        error: bool,
        kind: &str,
        message: &dyn std::fmt::Display,
    ) {
        let n = self.counts.entry((error, kind.to_string())).or_default();
        *n += 1;
        if !error && self.quiet_warnings {
            return;
        }
        if *n <= SHOWN_PER_KIND {
            let level = if error { "" } else { "warning: " };
            progress.println(&format!("deja: {level}{message}"));
        } else if *n == SHOWN_PER_KIND + 1 {
            progress.println(&format!(
                "deja: further {kind} problems are only counted (summary at the end)"
            ));
        }
    }

    /// Prints how many problems of each kind were not shown.
    pub fn summarise(&self, progress: &Progress) {
        for ((error, kind), &n) in &self.counts {
            if (*error || !self.quiet_warnings) && n > SHOWN_PER_KIND {
                progress.println(&format!(
                    "deja: {n} {kind} {} in all ({} not shown)",
                    if *error { "errors" } else { "warnings" },
                    n - SHOWN_PER_KIND
                ));
            }
        }
    }
}

/// A short kind name for an input error, for summaries.
pub fn error_kind(e: &deja::Error) -> &'static str {
    use deja::Error;
    match e {
        Error::Io { .. } => "unreadable input",
        Error::InvalidUtf8 { .. } => "invalid UTF-8",
        Error::Binary { .. } => "binary file",
        Error::Record { message, .. } if message.starts_with("invalid JSON") => "invalid JSON",
        Error::Record { message, .. } if message.starts_with("missing field") => "missing field",
        Error::Record { message, .. } if message.starts_with("invalid UTF-8") => "invalid UTF-8",
        Error::Record { .. } => "bad record",
        Error::TooLarge { .. } => "record too large",
        Error::Format { .. } => "bad signature file",
        Error::TempFiles { .. } => "temporary files",
        Error::Option(_) => "option",
    }
}
