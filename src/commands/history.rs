//! `history`: who exported, imported or pruned what, and when; one entry in full.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{GlobalOpts, HistoryArgs, KindArg};
use crate::db::logs::{self, LogEntry, LogKind};
use crate::error::Failure;
use crate::report::{Reporter, human_bytes};

/// One line of the listing (and the head of a full entry).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrySummary {
    pub id: String,
    pub kind: LogKind,
    pub at: String,
    pub actor: Option<String>,
    pub status: String,
    pub what: String,
    pub file: Option<String>,
}

/// An entry in full, for `history ID`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryDetail {
    #[serde(flatten)]
    pub summary: EntrySummary,
    /// Whether the archive file is still on disk (exports only).
    pub file_exists: Option<bool>,
    /// The log row's own detail, as recorded.
    pub detail: Value,
}

pub fn run(global: &GlobalOpts, args: &HistoryArgs, reporter: &Reporter) -> Result<()> {
    let session = super::open_session(global)?;
    let company = &session.company;
    if let Some(id) = &args.id {
        let entry = logs::find(&session.conn, &company.id, id)?.ok_or_else(|| {
            Failure::NotFound(format!("no history entry {id} for {}", company.name))
        })?;
        let detail = describe(&entry);
        if reporter.wants_json() {
            reporter.result(&detail)?;
        } else {
            print_detail(&mut io::stdout().lock(), &detail)?;
        }
        return Ok(());
    }
    let kinds: Vec<LogKind> = match args.kind {
        Some(KindArg::Export) => vec![LogKind::Export],
        Some(KindArg::Import) => vec![LogKind::Import],
        Some(KindArg::Prune) => vec![LogKind::Prune],
        None => LogKind::ALL.to_vec(),
    };
    let entries: Vec<EntrySummary> =
        logs::list(&session.conn, &company.id, &kinds, Some(args.limit))?
            .iter()
            .map(summarize)
            .collect();
    if reporter.wants_json() {
        reporter.result(&entries)?;
    } else if entries.is_empty() {
        reporter.note(format!("No history for {} yet.", company.name));
    } else {
        print_table(&mut io::stdout().lock(), &entries)?;
    }
    Ok(())
}

fn summarize(entry: &LogEntry) -> EntrySummary {
    let d = &entry.detail;
    let status = match entry.kind {
        LogKind::Export if is_set(d, "prunedAt") => "pruned".to_owned(),
        _ => text(d, "status").unwrap_or("ok").to_owned(),
    };
    let what = match entry.kind {
        LogKind::Export => export_what(d),
        LogKind::Import => import_what(d),
        LogKind::Prune => {
            let deleted = d
                .get("deleted")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let bytes = number(d, "bytesDeleted");
            format!("{deleted} archives deleted ({})", human_bytes(bytes))
        }
    };
    EntrySummary {
        id: entry.id.clone(),
        kind: entry.kind,
        at: display_time(&entry.created_at),
        actor: entry.actor_email.clone().or_else(|| entry.actor_id.clone()),
        status,
        what,
        file: text(d, "file").map(str::to_owned),
    }
}

fn describe(entry: &LogEntry) -> EntryDetail {
    let summary = summarize(entry);
    let file_exists = match (&summary.file, entry.kind) {
        (Some(file), LogKind::Export) if file != "-" => Some(Path::new(file).is_file()),
        _ => None,
    };
    EntryDetail {
        summary,
        file_exists,
        detail: entry.detail.clone(),
    }
}

/// `5 users, 4 custom fields, 6 tickets, 3 attachments` from the web app's summary keys.
fn export_what(d: &Value) -> String {
    let mut parts = Vec::new();
    for (key, noun) in [
        ("users", "users"),
        ("customFields", "custom fields"),
        ("tickets", "tickets"),
        ("attachments", "attachments"),
    ] {
        if d.get(key).is_some() {
            parts.push(format!("{} {noun}", number(d, key)));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// Per-outcome totals from the tool's detail, else the web app's summary keys.
fn import_what(d: &Value) -> String {
    if let Some(outcomes) = d.get("outcomes").and_then(Value::as_object) {
        let total = |key: &str| -> u64 { outcomes.values().map(|t| number(t, key)).sum() };
        return format!(
            "{} created, {} updated, {} skipped, {} linked",
            total("created"),
            total("updated"),
            total("skipped"),
            total("linked")
        );
    }
    format!(
        "{} users, {} tickets imported; {} users, {} tickets skipped",
        number(d, "usersImported"),
        number(d, "ticketsImported"),
        number(d, "usersSkipped"),
        number(d, "ticketsSkipped")
    )
}

fn text<'a>(d: &'a Value, key: &str) -> Option<&'a str> {
    d.get(key).and_then(Value::as_str)
}

fn number(d: &Value, key: &str) -> u64 {
    d.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn is_set(d: &Value, key: &str) -> bool {
    d.get(key).is_some_and(|v| !v.is_null())
}

/// `2026-11-25 14:30:00 UTC`; text that is not RFC 3339 is shown as it is.
fn display_time(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_owned(),
        |t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        },
    )
}

fn print_table(out: &mut dyn Write, entries: &[EntrySummary]) -> io::Result<()> {
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            [
                e.id.clone(),
                e.at.clone(),
                e.actor.clone().unwrap_or_else(|| "-".into()),
                e.kind.name().to_owned(),
                e.status.clone(),
                e.what.clone(),
                e.file.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["ID", "WHEN", "WHO", "KIND", "STATUS", "WHAT", "FILE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn print_detail(out: &mut dyn Write, entry: &EntryDetail) -> io::Result<()> {
    let s = &entry.summary;
    let d = &entry.detail;
    let mut lines: Vec<(&str, String)> = vec![
        ("id", s.id.clone()),
        ("kind", s.kind.name().to_owned()),
        ("when", s.at.clone()),
        ("who", s.actor.clone().unwrap_or_else(|| "-".into())),
        ("status", s.status.clone()),
        ("what", s.what.clone()),
    ];
    if let Some(file) = &s.file {
        let state = match (entry.file_exists, text(d, "prunedAt")) {
            (_, Some(at)) => format!(" (pruned {})", display_time(at)),
            (Some(true), _) => " (exists)".into(),
            (Some(false), _) => " (missing)".into(),
            (None, _) => String::new(),
        };
        lines.push(("file", format!("{file}{state}")));
    }
    if d.get("bytes").is_some() {
        let bytes = number(d, "bytes");
        lines.push(("size", format!("{} ({bytes} bytes)", human_bytes(bytes))));
    }
    for (key, label) in [
        ("sha256", "sha256"),
        ("format", "format"),
        ("policy", "policy"),
    ] {
        if let Some(value) = text(d, key) {
            lines.push((label, value.to_owned()));
        }
    }
    if let Some(sections) = d.get("sections").and_then(Value::as_array) {
        let names: Vec<&str> = sections.iter().filter_map(Value::as_str).collect();
        lines.push(("sections", names.join(", ")));
    }
    if let Some(options) = d.get("options") {
        let from = text(options, "dateFrom").unwrap_or("the beginning");
        let to = text(options, "dateTo").unwrap_or("the end");
        if is_set(options, "dateFrom") || is_set(options, "dateTo") {
            lines.push(("tickets", format!("created from {from} to {to}")));
        }
    }
    if s.kind == LogKind::Export && d.get("notes").is_some() {
        lines.push((
            "children",
            format!(
                "{} notes, {} history entries",
                number(d, "notes"),
                number(d, "history")
            ),
        ));
    }
    if let Some(source) = d.get("source") {
        lines.push((
            "source",
            format!(
                "{} of {} ({})",
                text(source, "exportId").unwrap_or("-"),
                text(source, "companyName").unwrap_or("-"),
                text(source, "exportedAt").unwrap_or("-")
            ),
        ));
    }
    if let Some(outcomes) = d.get("outcomes").and_then(Value::as_object) {
        for (section, t) in outcomes {
            lines.push((
                "outcome",
                format!(
                    "{section}: {} created, {} updated, {} skipped, {} linked",
                    number(t, "created"),
                    number(t, "updated"),
                    number(t, "skipped"),
                    number(t, "linked")
                ),
            ));
        }
    }
    if let Some(warnings) = d.get("warnings").and_then(Value::as_object) {
        for (warning, times) in warnings {
            lines.push(("warning", format!("{warning} ({} records)", times)));
        }
    }
    for error in d
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(error) = error.as_str() {
            lines.push(("error", error.to_owned()));
        }
    }
    for deleted in d
        .get("deleted")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        lines.push((
            "deleted",
            format!(
                "{} {}",
                text(deleted, "exportId").unwrap_or("-"),
                text(deleted, "file").unwrap_or("-")
            ),
        ));
    }
    for (label, value) in lines {
        writeln!(out, "{label:<10}  {value}")?;
    }
    Ok(())
}
