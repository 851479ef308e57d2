//! `history`: who exported, imported or pruned what, and when; one entry in full.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{GlobalOpts, HistoryArgs, KindArg};
use crate::commands::prune::Rules;
use crate::db::logs::{self, LogEntry, LogKind, Retention};
use crate::error::Failure;
use crate::report::{Reporter, human_bytes};

/// One line of the listing (and the head of a full entry).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrySummary {
    pub id: String,
    pub kind: LogKind,
    /// As recorded: RFC 3339 in UTC (the table shows it for people).
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
        let what = match (args.kind, kinds.as_slice()) {
            (Some(_), [kind]) => format!("{} entries", kind.name()),
            _ => "history".to_owned(),
        };
        reporter.note(format!("No {what} for {} yet.", company.name));
    } else {
        print_table(&mut io::stdout().lock(), &entries)?;
    }
    Ok(())
}

fn summarize(entry: &LogEntry) -> EntrySummary {
    let d = &entry.detail;
    let retention = Retention::of(d);
    let status = match entry.kind {
        LogKind::Export if matches!(retention, Retention::Pruned { .. }) => "pruned".to_owned(),
        // Its prune is deleting the file, or was interrupted doing so.
        LogKind::Export if matches!(retention, Retention::Deleting { .. }) => "deleting".to_owned(),
        // Gone from disk without prune: deleted by hand, moved, or on a drive not mounted.
        LogKind::Export if text(d, "file").is_some_and(|f| f != "-" && !Path::new(f).is_file()) => {
            "missing".to_owned()
        }
        // A prune that could not delete some of its files says so.
        LogKind::Prune
            if d.get("errors")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty()) =>
        {
            "failed".to_owned()
        }
        _ => text(d, "status").unwrap_or("ok").to_owned(),
    };
    let what = match entry.kind {
        LogKind::Export => export_what(d),
        LogKind::Import => import_what(d),
        LogKind::Prune => prune_what(d),
    };
    EntrySummary {
        id: entry.id.clone(),
        kind: entry.kind,
        at: entry.created_at.clone(),
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

/// `5 users, 4 custom fields, 6 tickets, 3 attachments` from the web app's summary keys; an
/// interrupted export wrote nothing, and says why.
fn export_what(d: &Value) -> String {
    if let Some(failure) = failure(d) {
        return failure;
    }
    let mut parts = Vec::new();
    for (key, one, many) in [
        ("users", "user", "users"),
        ("customFields", "custom field", "custom fields"),
        ("tickets", "ticket", "tickets"),
        ("attachments", "attachment", "attachments"),
    ] {
        if d.get(key).is_some() {
            parts.push(plural(number(d, key), one, many));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// `2 archives deleted (7.8 KiB)`, and any it finished for an interrupted prune; while it
/// deletes (or if it was interrupted), how many it set out to delete.
fn prune_what(d: &Value) -> String {
    let count = |key: &str| d.get(key).and_then(Value::as_array).map_or(0, Vec::len) as u64;
    let archives = |key: &str| plural(count(key), "archive", "archives");
    match text(d, "status") {
        Some("deleting") => format!("deleting {}", archives("deleting")),
        Some("interrupted") => format!(
            "interrupted deleting {}; finished by {}",
            archives("deleting"),
            text(d, "resumedBy").unwrap_or("-")
        ),
        _ => {
            let deleted = format!(
                "{} deleted ({})",
                archives("deleted"),
                human_bytes(number(d, "bytesDeleted"))
            );
            match count("resumed") {
                0 => deleted,
                _ if count("deleted") == 0 => {
                    format!("finished {} of an interrupted prune", archives("resumed"))
                }
                _ => format!(
                    "{deleted}; finished {} of an interrupted prune",
                    archives("resumed")
                ),
            }
        }
    }
}

/// Per-outcome totals from the tool's detail, else the web app's summary keys. A failed or
/// interrupted import changed nothing: its error says more than its counts.
fn import_what(d: &Value) -> String {
    if let Some(failure) = failure(d) {
        return failure;
    }
    if let Some(outcomes) = d.get("outcomes").and_then(Value::as_object) {
        let total = |key: &str| -> u64 { outcomes.values().map(|t| number(t, key)).sum() };
        let mut what = format!(
            "{} created, {} updated, {} skipped, {} linked",
            total("created"),
            total("updated"),
            total("skipped"),
            total("linked")
        );
        let conflicts = d
            .get("errors")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if conflicts > 0 {
            what.push_str(&format!(
                "; {}",
                plural(conflicts as u64, "conflict", "conflicts")
            ));
        }
        return what;
    }
    format!(
        "{}, {} imported; {}, {} skipped",
        plural(number(d, "usersImported"), "user", "users"),
        plural(number(d, "ticketsImported"), "ticket", "tickets"),
        plural(number(d, "usersSkipped"), "user", "users"),
        plural(number(d, "ticketsSkipped"), "ticket", "tickets")
    )
}

/// The error of a run that failed or was interrupted, shortened for the listing.
fn failure(d: &Value) -> Option<String> {
    match text(d, "status") {
        Some("failed" | "interrupted") => text(d, "error").map(|error| shorten(error, 72)),
        _ => None,
    }
}

/// `1 archive`, `2 archives`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first `max` characters of a one-line text, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= max && line.len() == text.len() {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
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
                display_time(&e.at),
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
        ("when", display_time(&s.at)),
        ("who", s.actor.clone().unwrap_or_else(|| "-".into())),
        ("status", s.status.clone()),
        ("what", s.what.clone()),
    ];
    if let Some(file) = &s.file {
        let state = match (entry.file_exists, Retention::of(d)) {
            (_, Retention::Pruned { at, .. }) => format!(" (pruned {})", display_time(&at)),
            (_, Retention::Deleting { prune_id, since }) => format!(
                " (being deleted by {prune_id} since {})",
                display_time(&since)
            ),
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
        ("target", "target"),
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
        // In the order the import works through the sections, not alphabetically.
        for (key, section) in [
            ("users", "users"),
            ("customFields", "custom fields"),
            ("tickets", "tickets"),
            ("notes", "notes"),
            ("history", "history"),
            ("attachments", "attachments"),
        ] {
            if let Some(t) = outcomes.get(key) {
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
    }
    if d.get("companyCreated").and_then(Value::as_bool) == Some(true) {
        lines.push(("company", "created by this import".to_owned()));
    }
    if let Some(new_users) = d.get("passwordResetRequired").and_then(Value::as_u64)
        && new_users > 0
    {
        lines.push((
            "passwords",
            format!(
                "{} without a password (must set one)",
                plural(new_users, "new user", "new users")
            ),
        ));
    }
    if let Some(warnings) = d.get("warnings").and_then(Value::as_object) {
        for (warning, times) in warnings {
            let times = times.as_u64().unwrap_or(1);
            let times = if times > 1 {
                format!(" ({times} records)")
            } else {
                String::new()
            };
            lines.push(("warning", format!("{warning}{times}")));
        }
    }
    // The tool's import rows keep the failure apart (`error`); `errors` is the web app's
    // list, which for the tool holds the conflicts and then that failure.
    let failure = text(d, "error");
    for listed in d
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|e| Some(*e) != failure)
    {
        let label = if s.kind == LogKind::Import && d.get("status").is_some() {
            "conflict"
        } else {
            "error"
        };
        lines.push((label, listed.to_owned()));
    }
    if let Some(failure) = failure {
        lines.push(("error", failure.to_owned()));
    }
    if s.kind == LogKind::Prune
        && let Some(retention) = Rules::of_detail(d)
    {
        lines.push(("retention", retention));
    }
    if let Some(resumed_by) = text(d, "resumedBy") {
        lines.push(("resumed by", resumed_by.to_owned()));
    }
    for (key, label) in [
        ("deleted", "deleted"),
        ("deleting", "deleting"),
        ("resumed", "finished"),
        ("missing", "gone"),
        ("changed", "changed"),
    ] {
        for archive in d.get(key).and_then(Value::as_array).into_iter().flatten() {
            lines.push((
                label,
                format!(
                    "{} {}",
                    text(archive, "exportId").unwrap_or("-"),
                    text(archive, "file").unwrap_or("-")
                ),
            ));
        }
    }
    for (label, value) in lines {
        writeln!(out, "{label:<10}  {value}")?;
    }
    Ok(())
}
