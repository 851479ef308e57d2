//! How `list` shows what it reads: the manifest's summary and a table of tickets for people,
//! or one `--json` document streamed as it is made, both on stdout; the tally and warnings
//! on stderr.

use std::io::{self, BufWriter, StdoutLock, Write};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Summary, TicketLine};
use crate::archive::reader::Layout;
use crate::archive::records::Section;
use crate::archive::validate::Warnings;
use crate::error::one_line;
use crate::report::{JsonStream, Reporter};

/// How many tickets were read, and how many of them listed.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tally {
    pub(super) read: u64,
    pub(super) listed: u64,
}

/// Where the listing goes: text for people, or one `--json` document, both on stdout.
pub(super) enum Output {
    Text(BufWriter<StdoutLock<'static>>),
    Json(JsonStream<BufWriter<StdoutLock<'static>>>),
}

impl Output {
    pub(super) fn start(reporter: &Reporter) -> io::Result<Self> {
        Ok(match reporter.wants_json() {
            true => Output::Json(JsonStream::stdout()?),
            false => Output::Text(BufWriter::new(io::stdout().lock())),
        })
    }

    pub(super) fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        match self {
            Output::Json(json) => json.members(summary),
            Output::Text(out) => print_summary(out, summary),
        }
    }

    pub(super) fn open_tickets(&mut self) -> io::Result<()> {
        match self {
            Output::Json(json) => json.open_array("tickets"),
            Output::Text(out) => {
                writeln!(out)?;
                write_ticket_row(
                    out,
                    ["ID", "CREATED (UTC)", "STATUS", "PRIORITY"],
                    ["NOTES", "HISTORY", "ATTACHMENTS"],
                    "TITLE",
                )
            }
        }
    }

    pub(super) fn ticket(&mut self, line: &TicketLine<'_>) -> io::Result<()> {
        match self {
            Output::Json(json) => json.element(line),
            Output::Text(out) => {
                let created = DateTime::parse_from_rfc3339(line.created_at).map_or_else(
                    |_| line.created_at.to_owned(),
                    |at| {
                        at.with_timezone(&Utc)
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string()
                    },
                );
                let attachments = line
                    .attachments
                    .map_or_else(|| "-".to_owned(), |n| n.to_string());
                write_ticket_row(
                    out,
                    [
                        &one_line(line.id),
                        &created,
                        &one_line(line.status),
                        line.priority,
                    ],
                    [
                        &line.notes.to_string(),
                        &line.history.to_string(),
                        &attachments,
                    ],
                    &one_line(line.title),
                )
            }
        }
    }

    /// Ends the listing: the tally and the warnings (on stderr for people, as members of
    /// the document with `--json`).
    pub(super) fn finish(
        self,
        reporter: &Reporter,
        tally: Option<Tally>,
        warnings: Warnings,
    ) -> Result<()> {
        match self {
            Output::Json(mut json) => {
                json.close_array()?;
                if let Some(tally) = tally {
                    json.member("ticketsRead", &tally.read)?;
                    json.member("ticketsListed", &tally.listed)?;
                }
                json.member("warnings", &warnings)?;
                json.finish()?;
            }
            Output::Text(mut out) => {
                out.flush()?;
                if let Some(Tally { read, listed }) = tally {
                    reporter.note(match read == listed {
                        true => format!("{listed} ticket{}", plural(listed)),
                        false => format!("{listed} of {read} tickets listed"),
                    });
                }
                reporter.warnings(&warnings);
            }
        }
        Ok(())
    }

    /// Ends a listing that failed part-way, after what it listed: a `--json` document gets
    /// the error as its last member. The caller reports the error.
    pub(super) fn fail(self, err: &anyhow::Error) {
        match self {
            Output::Json(json) => json.fail(err),
            Output::Text(mut out) => {
                let _ = out.flush();
            }
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One row of the ticket table: four left-aligned columns, three counts right-aligned, and
/// the title last, where its length disturbs nothing. Widths are fixed: rows go out as they
/// are read.
fn write_ticket_row(
    out: &mut impl Write,
    left: [&str; 4],
    counts: [&str; 3],
    title: &str,
) -> io::Result<()> {
    let [id, created, status, priority] = left;
    let [notes, history, attachments] = counts;
    writeln!(
        out,
        "{id:<36}  {created:<19}  {status:<11}  {priority:<8}  {notes:>5}  {history:>7}  {attachments:>11}  {title}"
    )
}

fn print_summary(out: &mut impl Write, s: &Summary) -> io::Result<()> {
    let container = match s.layout {
        Layout::Zip => "zip",
        Layout::Json => "json",
        Layout::WebAppZip => "zip holding one json document",
    };
    let format = match (&s.format, s.format_version) {
        (_, Some(version)) => format!("{container}, format version {version}"),
        (Some(format), None) => format!("{container}, {format}"),
        (None, None) => format!("{container}, the web app's export (no format version)"),
    };
    let encrypted = if s.encrypted {
        "encrypted"
    } else {
        "not encrypted"
    };
    let by = s.exported_by_email.as_deref().unwrap_or(&s.exported_by);
    let exported = DateTime::parse_from_rfc3339(&s.exported_at).map_or_else(
        |_| s.exported_at.clone(),
        |at| {
            at.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        },
    );
    let sections: Vec<&str> = s
        .sections
        .iter()
        .map(|section| match section {
            Section::Users => "users",
            Section::CustomFields => "custom fields",
            Section::Tickets => "tickets",
            Section::Attachments => "attachments",
        })
        .collect();
    let window = match (&s.date_from, &s.date_to) {
        (None, None) => "all".to_owned(),
        (from, to) => format!(
            "created from {} to {}",
            from.as_deref().unwrap_or("the beginning"),
            to.as_deref().unwrap_or("the end")
        ),
    };
    let counts = s.counts.map_or_else(
        || "not recorded in the archive".to_owned(),
        |c| c.to_string(),
    );
    let lines = [
        ("file", s.file.clone()),
        ("format", format!("{format}, {encrypted}")),
        (
            "written by",
            s.tool
                .clone()
                .unwrap_or_else(|| "the Bomizzel web app".into()),
        ),
        ("company", format!("{} ({})", s.company_name, s.company_id)),
        ("export", s.export_id.clone()),
        ("exported", format!("{exported} by {by}")),
        ("sections", sections.join(", ")),
        ("tickets", window),
        ("counts", counts),
    ];
    for (label, value) in lines {
        writeln!(out, "{label:<10}  {}", one_line(&value))?;
    }
    Ok(())
}
