//! Talking to the operator: notes and summaries on stderr, `--json` reports on stdout,
//! and progress bars only where a person is watching.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::archive::validate::Warnings;

/// How much to say, and in which form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporter {
    quiet: bool,
    json: bool,
    verbose: bool,
}

impl Reporter {
    pub(crate) fn new(quiet: bool, json: bool, verbose: bool) -> Self {
        Self {
            quiet,
            json,
            verbose,
        }
    }

    /// One step of the work, on stderr under `--verbose` only.
    pub(crate) fn step(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("bomizzel-backup: {}", line.as_ref());
        }
    }

    pub(crate) fn wants_json(&self) -> bool {
        self.json
    }

    /// A line for the operator on stderr; silent under `--quiet`.
    pub(crate) fn note(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// What an archive held that had to be translated, each with how many records, on
    /// stderr; silent under `--quiet`.
    pub(crate) fn warnings(&self, warnings: &Warnings) {
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
    pub(crate) fn result<T: Serialize>(&self, value: &T) -> io::Result<()> {
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
    pub(crate) fn progress(&self, total: u64, message: &'static str) -> ProgressBar {
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

/// A `--json` result too long to hold, written as it is made: one object whose members, and
/// the elements of one array member, go to stdout one by one (each element on a line of
/// its own). An error part-way ends the document with an `error` member, so stdout still
/// holds one valid JSON document.
pub(crate) struct JsonStream<W: Write> {
    out: W,
    members: usize,
    /// The elements written so far to the array member that is open, if one is.
    elements: Option<usize>,
}

impl JsonStream<io::BufWriter<io::StdoutLock<'static>>> {
    /// Starts the result on stdout: it is the one document there (see `result_written`).
    pub(crate) fn stdout() -> io::Result<Self> {
        RESULT_WRITTEN.store(true, Ordering::Relaxed);
        Self::new(io::BufWriter::new(io::stdout().lock()))
    }
}

impl<W: Write> JsonStream<W> {
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(Self {
            out,
            members: 0,
            elements: None,
        })
    }

    fn key(&mut self, key: &str) -> io::Result<()> {
        let comma = if self.members == 0 { "" } else { "," };
        self.members += 1;
        write!(self.out, "{comma}\n  ")?;
        serde_json::to_writer(&mut self.out, key)?;
        self.out.write_all(b": ")
    }

    /// One member.
    pub(crate) fn member<T: Serialize>(&mut self, key: &str, value: &T) -> io::Result<()> {
        self.key(key)?;
        serde_json::to_writer(&mut self.out, value)?;
        Ok(())
    }

    /// Every member of `value`, which serializes to an object, in its own order.
    pub(crate) fn members<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            return Err(io::Error::other(
                "a JSON stream's members must come from an object",
            ));
        };
        let inner = inner.trim_end();
        if inner.is_empty() {
            return Ok(());
        }
        if self.members > 0 {
            self.out.write_all(b",")?;
        }
        self.members += 1;
        self.out.write_all(inner.as_bytes())
    }

    /// Opens an array member; `element` adds to it, `close_array` ends it.
    pub(crate) fn open_array(&mut self, key: &str) -> io::Result<()> {
        self.key(key)?;
        self.out.write_all(b"[")?;
        self.elements = Some(0);
        Ok(())
    }

    pub(crate) fn element<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        let written = self.elements.get_or_insert(0);
        let comma = if *written == 0 { "" } else { "," };
        *written += 1;
        write!(self.out, "{comma}\n    ")?;
        serde_json::to_writer(&mut self.out, value)?;
        Ok(())
    }

    pub(crate) fn close_array(&mut self) -> io::Result<()> {
        if let Some(written) = self.elements.take() {
            let indent = if written == 0 { "" } else { "\n  " };
            write!(self.out, "{indent}]")?;
        }
        Ok(())
    }

    /// Ends the document.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }

    /// Ends the document with an `error` member (the `--json` error object) after whatever
    /// was written; an array left open is closed first. Writing may fail too (a closed
    /// pipe): the error itself is what the caller reports, so that is not an error again.
    pub(crate) fn fail(mut self, err: &anyhow::Error) {
        let _ = self
            .close_array()
            .and_then(|()| self.member("error", &crate::error::json_error(err)))
            .and_then(|()| self.finish());
    }
}

static RESULT_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Whether a `--json` result has been written to stdout.
pub fn result_written() -> bool {
    RESULT_WRITTEN.load(Ordering::Relaxed)
}
