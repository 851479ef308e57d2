//! `history`: who exported, imported or pruned what, and when; one entry in full.

use std::io::{self, Write};

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::archive::records::Counts;
use crate::cli::{GlobalOpts, HistoryArgs, KindArg};
use crate::commands::prune::Rules;
use crate::db::logs::{self, FileState, LogEntry, LogKind, RecordedArchive, Retention};
use crate::error::Failure;
use crate::report::Reporter;
use indicatif::HumanBytes;

/// One line of the listing (and the head of a full entry).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntrySummary {
    pub id: String,
    pub kind: LogKind,
    /// As recorded: RFC 3339 in UTC (the table shows it for people).
    pub at: String,
    pub actor: Who,
    pub status: String,
    pub what: String,
    pub file: Option<String>,
}

/// Who ran an entry, as far as the database still knows: in JSON the email, else the user
/// id, else null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    /// A user who still exists: their email.
    User(String),
    /// A user deleted since: the id the row keeps.
    Deleted(String),
    /// None recorded: the run had no actor (none given, or none the database knew), or the
    /// web app cleared it when it deleted the user.
    Nobody,
}

impl Who {
    fn of(entry: &LogEntry) -> Self {
        match (&entry.actor_email, &entry.actor_id) {
            (Some(email), _) => Who::User(email.clone()),
            (None, Some(id)) => Who::Deleted(id.clone()),
            (None, None) => Who::Nobody,
        }
    }

    /// For the table's WHO column.
    fn short(&self) -> String {
        match self {
            Who::User(name) | Who::Deleted(name) => name.clone(),
            Who::Nobody => "(no actor)".to_owned(),
        }
    }

    /// For `history ID`, with the reason when there is no email to show.
    fn long(&self) -> String {
        match self {
            Who::User(email) => email.clone(),
            Who::Deleted(id) => format!("{id} (a user deleted since)"),
            Who::Nobody => {
                "(no actor: none was given or known, or the user was deleted since)".to_owned()
            }
        }
    }
}

impl Serialize for Who {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Who::User(name) | Who::Deleted(name) => serializer.serialize_some(name),
            Who::Nobody => serializer.serialize_none(),
        }
    }
}

/// An entry in full, for `history ID`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryDetail {
    #[serde(flatten)]
    pub summary: EntrySummary,
    /// Whether the archive file is still on disk (exports only).
    pub file_exists: Option<bool>,
    /// Whether the file on disk differs from the recorded length and SHA-256 (exports whose
    /// file exists and could be read): an import by export id refuses it, and prune keeps it.
    pub file_changed: Option<bool>,
    /// The log row's own detail, as recorded.
    pub detail: Value,
    /// For the text, after "exists, but": how the file differs, or why it could not be
    /// compared.
    #[serde(skip)]
    file_problem: Option<String>,
}

pub(crate) fn run(global: &GlobalOpts, args: &HistoryArgs, reporter: &Reporter) -> Result<()> {
    run_history(global, args, reporter).map_err(|err| super::explain_busy(err, global, None))
}

fn run_history(global: &GlobalOpts, args: &HistoryArgs, reporter: &Reporter) -> Result<()> {
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
    // `--limit 0`: no limit.
    let limit = (args.limit > 0).then_some(args.limit);
    let entries: Vec<EntrySummary> = logs::list(&session.conn, &company.id, &kinds, limit)?
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
        // Fitted to a terminal; piped or redirected (to grep, a file), every row in full.
        let terminal = console::Term::stdout().size_checked();
        let width = terminal.map(|(_rows, columns)| usize::from(columns));
        print_table(&mut io::stdout().lock(), &entries, width)?;
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
        LogKind::Export if RecordedArchive::of(d).is_some_and(|r| !r.path().is_file()) => {
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
        actor: Who::of(entry),
        status,
        what,
        file: text(d, "file").map(str::to_owned),
    }
}

/// An entry in full: for an export, whether its file is still the one it wrote (which
/// reads the whole file once). A file that cannot be read is said so; the entry still shows.
fn describe(entry: &LogEntry) -> EntryDetail {
    let state = match RecordedArchive::of(&entry.detail) {
        Some(recorded) if entry.kind == LogKind::Export => Some(recorded.state()),
        _ => None,
    };
    let (file_exists, file_changed, file_problem) = match state {
        None => (None, None, None),
        Some(Ok(FileState::Missing)) => (Some(false), None, None),
        Some(Ok(FileState::Unchanged)) => (Some(true), Some(false), None),
        Some(Ok(FileState::Changed(change))) => (
            Some(true),
            Some(true),
            Some(format!("changed since its export: {change}")),
        ),
        Some(Err(err)) => (
            Some(true),
            None,
            Some(format!("could not be compared with its record: {err:#}")),
        ),
    };
    EntryDetail {
        summary: summarize(entry),
        file_exists,
        file_changed,
        detail: entry.detail.clone(),
        file_problem,
    }
}

/// An archive's sections: the key an export's detail (and an archive) names each by, and
/// its name in words, for one and for many.
const SECTIONS: [(&str, &str, &str); 4] = [
    ("users", "user", "users"),
    ("customFields", "custom field", "custom fields"),
    ("tickets", "ticket", "tickets"),
    ("attachments", "attachment", "attachments"),
];

/// `5 users, 4 custom fields, 6 tickets, 3 attachments` from the web app's summary keys; an
/// interrupted export wrote nothing, and says why.
fn export_what(d: &Value) -> String {
    if let Some(failure) = failure(d) {
        return failure;
    }
    let mut parts = Vec::new();
    for (key, one, many) in SECTIONS {
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
                HumanBytes(number(d, "bytesDeleted"))
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

/// Per-outcome totals from the tool's detail, else the web app's summary keys. A failed,
/// interrupted or cancelled import changed nothing: its error, or that it was cancelled, says
/// more than its counts (a cancellation's error would count as a conflict).
fn import_what(d: &Value) -> String {
    if text(d, "status") == Some("cancelled") {
        return "cancelled at the confirmation; nothing changed".into();
    }
    if let Some(failure) = failure(d) {
        return failure;
    }
    if let Some(outcomes) = d.get("outcomes").and_then(Value::as_object) {
        let mut what = outcome_text(|key| outcomes.values().map(|t| number(t, key)).sum::<u64>());
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
        if let Some(chosen) = chosen_tickets(d) {
            let chosen = chosen.len() as u64;
            what.push_str(&format!(
                "; only {}",
                plural(chosen, "chosen ticket", "chosen tickets")
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

/// `1 created, 0 updated, 5 skipped, 0 linked`, from a count per outcome; `unchanged` (an
/// overwrite's records that already held the archive's values) only where there are some.
fn outcome_text(count: impl Fn(&str) -> u64) -> String {
    let unchanged = match count("unchanged") {
        0 => String::new(),
        n => format!(", {n} unchanged"),
    };
    format!(
        "{} created, {} updated{unchanged}, {} skipped, {} linked",
        count("created"),
        count("updated"),
        count("skipped"),
        count("linked")
    )
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

/// The table's columns, the space between them, and the two that may be narrowed.
const HEADER: [&str; 7] = ["ID", "WHEN", "WHO", "KIND", "STATUS", "WHAT", "FILE"];
const GAP: &str = "  ";
const WHAT: usize = 5;
const FILE: usize = 6;

/// How a table wider than the terminal is narrowed, step by step, each only as far as it
/// must: a column down to a width. FILE first, as the middle of a path says least (and
/// `history ID` gives it whole), then WHAT, then both further. The other columns are short
/// and stay whole; past the last step, lines wrap.
const NARROWING: [(usize, usize); 4] = [(FILE, 24), (WHAT, 24), (FILE, 10), (WHAT, 10)];

/// The listing, aligned; with `fit_to` (a terminal's width), narrowed to fit it.
fn print_table(
    out: &mut dyn Write,
    entries: &[EntrySummary],
    fit_to: Option<usize>,
) -> io::Result<()> {
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            [
                e.id.clone(),
                display_time(&e.at),
                e.actor.short(),
                e.kind.name().to_owned(),
                e.status.clone(),
                e.what.clone(),
                e.file.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = HEADER.map(str::to_owned);
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    if let Some(terminal) = fit_to {
        let line = widths.iter().sum::<usize>() + GAP.len() * (widths.len() - 1);
        let mut excess = line.saturating_sub(terminal);
        for (column, floor) in NARROWING {
            let cut = excess.min(widths[column].saturating_sub(floor));
            widths[column] -= cut;
            excess -= cut;
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| {
                let cell = match column {
                    FILE => shorten_middle(cell, width),
                    WHAT if cell.chars().count() > width => shorten(cell, width),
                    _ => cell.clone(),
                };
                format!("{cell:<width$}")
            })
            .collect();
        writeln!(out, "{}", line.join(GAP).trim_end())?;
    }
    Ok(())
}

/// `/backups/bom…20261123T023000Z.zip`: a path's beginning and (more of) its end, which say
/// the most, with `…` between.
fn shorten_middle(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_owned();
    }
    let kept = max.saturating_sub(1);
    let head = kept / 3;
    let tail = kept - head;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{start}…{end}")
}

/// `history ID` as text: a label and a value a line, in words rather than the log's keys
/// (`--json` gives those).
fn print_detail(out: &mut dyn Write, entry: &EntryDetail) -> io::Result<()> {
    let s = &entry.summary;
    let d = &entry.detail;
    let mut lines: Vec<(&str, String)> = vec![
        ("id", s.id.clone()),
        ("kind", s.kind.name().to_owned()),
        ("when", display_time(&s.at)),
        ("who", s.actor.long()),
        ("status", s.status.clone()),
        ("what", s.what.clone()),
    ];
    if let Some(file) = &s.file {
        lines.push(("file", format!("{file}{}", file_state(entry))));
    }
    match s.kind {
        LogKind::Export => export_lines(d, &mut lines),
        LogKind::Import => import_lines(d, &mut lines),
        LogKind::Prune => prune_lines(d, &mut lines),
    }
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    for (label, value) in lines {
        writeln!(out, "{label:<width$}  {value}")?;
    }
    Ok(())
}

/// ` (exists)`, ` (missing)`, ` (pruned …)` and so on, after an export's file.
fn file_state(entry: &EntryDetail) -> String {
    match (entry.file_exists, Retention::of(&entry.detail)) {
        (_, Retention::Pruned { at, .. }) => format!(" (pruned {})", display_time(&at)),
        (_, Retention::Deleting { prune_id, since }) => format!(
            " (being deleted by {prune_id} since {})",
            display_time(&since)
        ),
        (Some(true), _) => match &entry.file_problem {
            Some(problem) => format!(" (exists, but {problem})"),
            None => " (exists)".into(),
        },
        (Some(false), _) => " (missing)".into(),
        (None, _) => String::new(),
    }
}

/// Size, checksum, format, sections, date range and the tickets' notes and history.
fn export_lines(d: &Value, lines: &mut Vec<(&str, String)>) {
    if d.get("bytes").is_some() {
        let bytes = number(d, "bytes");
        lines.push(("size", format!("{} ({bytes} bytes)", HumanBytes(bytes))));
    }
    if let Some(target) = text(d, "target") {
        let target = match target {
            "-" => "standard output",
            path => path,
        };
        lines.push(("meant for", target.to_owned()));
    }
    if let Some(encryption) = d.get("encryption").filter(|e| e.is_object()) {
        let keys: Vec<&str> = encryption
            .get("recipients")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let how = match (
            encryption.get("passphrase").and_then(Value::as_bool),
            keys.len(),
        ) {
            (Some(true), _) => "with a passphrase".to_owned(),
            (_, 1) => format!("to the key {}", keys[0]),
            (_, n) => format!("to {n} keys: {}", keys.join(", ")),
        };
        lines.push(("encrypted", format!("with age, {how}")));
    }
    if let Some(sha256) = text(d, "sha256") {
        lines.push(("SHA-256", sha256.to_owned()));
    }
    if let Some(format) = text(d, "format") {
        let format = match format {
            "zip" => "a ZIP archive".to_owned(),
            "json" => "one JSON document".to_owned(),
            other => other.to_owned(),
        };
        lines.push(("format", format));
    }
    if let Some(sections) = d.get("sections").and_then(Value::as_array) {
        let names: Vec<&str> = sections
            .iter()
            .filter_map(Value::as_str)
            .map(|key| match SECTIONS.iter().find(|(k, ..)| *k == key) {
                Some((_, _, words)) => words,
                None => key,
            })
            .collect();
        lines.push(("sections", names.join(", ")));
    }
    if let Some(options) = d.get("options")
        && (is_set(options, "dateFrom") || is_set(options, "dateTo"))
    {
        lines.push((
            "tickets",
            format!(
                "only those created from {} to {}",
                text(options, "dateFrom").unwrap_or("the beginning"),
                text(options, "dateTo").unwrap_or("the end")
            ),
        ));
    }
    if d.get("notes").is_some() {
        lines.push((
            "in the tickets",
            format!(
                "{}, {}",
                plural(number(d, "notes"), "note", "notes"),
                plural(number(d, "history"), "history entry", "history entries")
            ),
        ));
    }
}

/// Where the archive came from, what the policy did to existing records, each section's
/// outcome, new users, warnings, conflicts and the error.
fn import_lines(d: &Value, lines: &mut Vec<(&str, String)>) {
    if let Some(policy) = text(d, "policy") {
        let policy = match policy {
            "strict" => "each a conflict (no --skip-duplicates or --overwrite)".to_owned(),
            "skip-duplicates" => "left as they were (--skip-duplicates)".to_owned(),
            "overwrite" => "replaced with the archive's values (--overwrite)".to_owned(),
            other => other.to_owned(),
        };
        lines.push(("existing records", policy));
    }
    if let Some(source) = d.get("source").and_then(archive_origin) {
        lines.push(("from", source));
    }
    if let Some(chosen) = chosen_tickets(d) {
        lines.push((
            "tickets asked for",
            format!(
                "{} (only these, with the users and custom fields they refer to)",
                chosen.join(", ")
            ),
        ));
    }
    // A failed or cancelled import changed nothing: its counts would only be noise.
    let changed_nothing = matches!(text(d, "status"), Some("failed" | "cancelled"));
    if let Some(outcomes) = d.get("outcomes").and_then(Value::as_object)
        && !changed_nothing
    {
        // In the order the import works through the sections, not alphabetically.
        for (key, section) in [
            ("users", "users"),
            ("customFields", "custom fields"),
            ("tickets", "tickets"),
            ("notes", "notes"),
            ("history", "history entries"),
            ("attachments", "attachments"),
        ] {
            if let Some(t) = outcomes.get(key) {
                lines.push((section, outcome_text(|key| number(t, key))));
            }
        }
        let left_out = d
            .get("notChosen")
            .cloned()
            .map(serde_json::from_value::<Counts>);
        if let Some(Ok(left_out)) = left_out {
            lines.push(("not chosen", format!("{left_out}, left in the archive")));
        }
    }
    if d.get("companyCreated").and_then(Value::as_bool) == Some(true) {
        lines.push(("company", "created by this import".to_owned()));
    }
    if let Some(new_users) = d.get("passwordResetRequired").and_then(Value::as_u64)
        && new_users > 0
    {
        lines.push((
            "new users",
            format!("{new_users} without a password: each must set one before logging in"),
        ));
    }
    if let Some(warnings) = d.get("warnings").and_then(Value::as_object) {
        for (warning, times) in warnings {
            let times = match times.as_u64().unwrap_or(1) {
                1 => String::new(),
                times => format!(" ({times} records)"),
            };
            lines.push(("warning", format!("{warning}{times}")));
        }
    }
    // The web app's own rows list their errors; the tool's, the conflicts it found.
    let tool_row = d.get("status").is_some();
    error_lines(d, if tool_row { "conflict" } else { "error" }, lines);
}

/// The tickets a restore of chosen tickets was asked for; `None` for a whole import.
fn chosen_tickets(d: &Value) -> Option<Vec<&str>> {
    let chosen = d.get("chosenTickets")?.as_array()?;
    Some(chosen.iter().filter_map(Value::as_str).collect())
}

/// `export_… of Acme Corp, made 2026-11-23 02:30:00 UTC`, from what an import recorded of
/// its archive; None when it could not read that much.
fn archive_origin(source: &Value) -> Option<String> {
    let export_id = text(source, "exportId")?;
    let mut origin = export_id.to_owned();
    if let Some(company) = text(source, "companyName") {
        origin.push_str(&format!(" of {company}"));
    }
    if let Some(at) = text(source, "exportedAt") {
        origin.push_str(&format!(", made {}", display_time(at)));
    }
    Some(origin)
}

/// What a run listed under `errors` (as `listed`: a tool's import lists its conflicts
/// there), and the error that ended it.
fn error_lines(d: &Value, listed: &'static str, lines: &mut Vec<(&str, String)>) {
    // The tool's import rows keep the failure apart (`error`); `errors` is the web app's
    // list, which for the tool holds the conflicts and then that failure.
    let failure = text(d, "error");
    for each in d
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|e| Some(*e) != failure)
    {
        lines.push((listed, each.to_owned()));
    }
    if let Some(failure) = failure {
        lines.push(("error", failure.to_owned()));
    }
}

/// The policy, then each archive by what became of it.
fn prune_lines(d: &Value, lines: &mut Vec<(&str, String)>) {
    if let Some(retention) = Rules::of_detail(d) {
        lines.push(("retention", retention));
    }
    if let Some(dir) = text(d, "dir") {
        lines.push(("folder", format!("only archives in {dir}")));
    }
    if let Some(resumed_by) = text(d, "resumedBy") {
        lines.push(("finished by", resumed_by.to_owned()));
    }
    for (key, label, why) in [
        ("deleted", "deleted", ""),
        ("deleting", "deleting", ""),
        ("resumed", "finished", ", for an interrupted prune"),
        ("missing", "already gone", ""),
        ("changed", "kept", ", changed since its export"),
    ] {
        for archive in d.get(key).and_then(Value::as_array).into_iter().flatten() {
            lines.push((
                label,
                format!(
                    "{} {}{why}",
                    text(archive, "exportId").unwrap_or("-"),
                    text(archive, "file").unwrap_or("-")
                ),
            ));
        }
    }
    error_lines(d, "error", lines);
}
