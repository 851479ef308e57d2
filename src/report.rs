//! Talking to the operator: notes and summaries on stderr, `--json` reports on stdout,
//! and progress bars only where a person is watching.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::archive::validate::Warnings;

/// How much to say, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    quiet: bool,
    json: bool,
    verbose: bool,
}

impl Reporter {
    pub fn new(quiet: bool, json: bool, verbose: bool) -> Self {
        Self {
            quiet,
            json,
            verbose,
        }
    }

    /// One step of the work, on stderr under `--verbose` only.
    pub fn step(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("bomizzel-backup: {}", line.as_ref());
        }
    }

    pub fn wants_json(&self) -> bool {
        self.json
    }

    /// A line for the operator on stderr; silent under `--quiet`.
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// What an archive held that had to be translated, each with how many records, on
    /// stderr; silent under `--quiet`.
    pub fn warnings(&self, warnings: &Warnings) {
        if warnings.is_empty() {
            return;
        }
        self.note("Warnings:");
        for (warning, count) in warnings.iter() {
            let times = if *count > 1 {
                format!(" ({count} records)")
            } else {
                String::new()
            };
            self.note(format!("  {warning}{times}"));
        }
    }

    /// The command's result as JSON on stdout, when `--json` was given. It is the one
    /// document there: an error after it goes to stderr only (see `result_written`).
    pub fn result<T: Serialize>(&self, value: &T) -> io::Result<()> {
        if self.json {
            RESULT_WRITTEN.store(true, Ordering::Relaxed);
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, value)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Ok(())
    }

    /// A progress bar over `total` items, drawn only on a terminal and not under `--quiet`.
    pub fn progress(&self, total: u64, message: &'static str) -> ProgressBar {
        if self.quiet || !io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {human_pos}/{human_len} records ({rate}, {eta} left)",
        ) {
            let style = style
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}/s", indicatif::HumanCount(state.per_sec() as u64));
                    },
                )
                .progress_chars("=> ");
            bar.set_style(style);
        }
        bar.set_message(message);
        bar
    }
}

static RESULT_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Whether a `--json` result has been written to stdout.
pub fn result_written() -> bool {
    RESULT_WRITTEN.load(Ordering::Relaxed)
}

/// A byte count for people: `12.3 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
