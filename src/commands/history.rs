//! `history`: who exported, imported or pruned what, and when; one entry in full.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::archive::records::Section;
use crate::cli::{GlobalOpts, HistoryArgs, KindArg};
use crate::db::logs::{
    self, ArchiveSource, ExportDetail, FileState, ImportDetail, LogEntry, LogKind, PruneDetail,
    RecordedArchive, Retention,
};
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
    /// For the text: how far prune has got with an export's file.
    #[serde(skip)]
    retention: Retention,
}

pub(crate) fn run(global: &GlobalOpts, args: &HistoryArgs, reporter: &Reporter) -> Result<()> {
    run_history(global, args, reporter).map_err(|err| super::explain_busy(err, global, None))
}

fn run_history(global: &GlobalOpts, args: &HistoryArgs, reporter: &Reporter) -> Result<()> {
    let session = super::open_session(global)?;
    let company = &session.company;
    let conn = &session.db;
    if let Some(id) = &args.id {
        let entry = logs::find(conn, &company.id, id)?.ok_or_else(|| {
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
    let entries: Vec<EntrySummary> = logs::list(conn, &company.id, &kinds, limit)?
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
    let (status, what, file) = match entry.kind {
        LogKind::Export => {
            let d: ExportDetail = entry.read();
            (export_status(&d), export_what(&d), d.file)
        }
        LogKind::Import => {
            let d: ImportDetail = entry.read();
            (or_ok(d.status.as_deref()), import_what(&d), d.file)
        }
        LogKind::Prune => {
            let d: PruneDetail = entry.read();
            (prune_status(&d), prune_what(&d), None)
        }
    };
    EntrySummary {
        id: entry.id.clone(),
        kind: entry.kind,
        at: entry.created_at.clone(),
        actor: Who::of(entry),
        status,
        what,
        file,
    }
}

/// A run's recorded status; a row without one (the web app's) is `ok`.
fn or_ok(status: Option<&str>) -> String {
    status.unwrap_or("ok").to_owned()
}

/// What became of an export's file, when that says more than how the export went.
fn export_status(d: &ExportDetail) -> String {
    match Retention::of(d) {
        Retention::Pruned { .. } => "pruned".to_owned(),
        // Its prune is deleting the file, or was interrupted doing so.
        Retention::Deleting { .. } => "deleting".to_owned(),
        // Gone from disk without prune: deleted by hand, moved, or on a drive not mounted.
        Retention::Kept if RecordedArchive::of(d).is_some_and(|r| !r.path().is_file()) => {
            "missing".to_owned()
        }
        Retention::Kept => or_ok(d.status.as_deref()),
    }
}

/// A prune that could not delete some of its files says so.
fn prune_status(d: &PruneDetail) -> String {
    if d.errors.as_ref().is_some_and(|e| !e.is_empty()) {
        "failed".to_owned()
    } else {
        or_ok(d.status.as_deref())
    }
}

/// An entry in full: for an export, whether its file is still the one it wrote (which
/// reads the whole file once). A file that cannot be read is said so; the entry still shows.
fn describe(entry: &LogEntry) -> EntryDetail {
    let (recorded, retention) = match entry.kind {
        LogKind::Export => {
            let d: ExportDetail = entry.read();
            (RecordedArchive::of(&d), Retention::of(&d))
        }
        LogKind::Import | LogKind::Prune => (None, Retention::Kept),
    };
    let (file_exists, file_changed, file_problem) = match recorded.map(|r| r.state()) {
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
        retention,
    }
}

/// An archive's sections in words, for one and for many.
const SECTIONS: [(Section, &str, &str); 4] = [
    (Section::Users, "user", "users"),
    (Section::CustomFields, "custom field", "custom fields"),
    (Section::Tickets, "ticket", "tickets"),
    (Section::Attachments, "attachment", "attachments"),
];

/// `5 users, 4 custom fields, 6 tickets, 3 attachments` from the web app's summary keys; an
/// interrupted export wrote nothing, and says why.
fn export_what(d: &ExportDetail) -> String {
    if let Some(failure) = failure(d.status.as_deref(), d.error.as_deref()) {
        return failure;
    }
    let parts: Vec<String> = SECTIONS
        .iter()
        .filter_map(|&(section, one, many)| Some(plural(d.count(section)?, one, many)))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// `2 archives deleted (7.8 KiB)`, and any it finished for an interrupted prune; while it
/// deletes (or if it was interrupted), how many it set out to delete.
fn prune_what(d: &PruneDetail) -> String {
    let count = |list: &Option<Vec<_>>| list.as_ref().map_or(0, Vec::len) as u64;
    let archives = |list| plural(count(list), "archive", "archives");
    match d.status.as_deref() {
        Some("deleting") => format!("deleting {}", archives(&d.deleting)),
        Some("interrupted") => format!(
            "interrupted deleting {}; finished by {}",
            archives(&d.deleting),
            d.resumed_by.as_deref().unwrap_or("-")
        ),
        _ => {
            let deleted = format!(
                "{} deleted ({})",
                archives(&d.deleted),
                HumanBytes(d.bytes_deleted.unwrap_or(0))
            );
            match count(&d.resumed) {
                0 => deleted,
                _ if count(&d.deleted) == 0 => {
                    format!("finished {} of an interrupted prune", archives(&d.resumed))
                }
                _ => format!(
                    "{deleted}; finished {} of an interrupted prune",
                    archives(&d.resumed)
                ),
            }
        }
    }
}

/// Per-outcome totals from the tool's detail, else the web app's summary keys. A failed,
/// interrupted or cancelled import changed nothing: its error, or that it was cancelled, says
/// more than its counts (a cancellation's error would count as a conflict).
fn import_what(d: &ImportDetail) -> String {
    if d.status.as_deref() == Some("cancelled") {
        return "cancelled at the confirmation; nothing changed".into();
    }
    if let Some(failure) = failure(d.status.as_deref(), d.error.as_deref()) {
        return failure;
    }
    if let Some(outcomes) = &d.outcomes {
        let mut what = outcome_text(|key| outcomes.values().map(|t| how_many(t, key)).sum());
        let conflicts = d.errors.as_ref().map_or(0, Vec::len);
        if conflicts > 0 {
            what.push_str(&format!(
                "; {}",
                plural(conflicts as u64, "conflict", "conflicts")
            ));
        }
        if let Some(chosen) = &d.chosen_tickets {
            let chosen = chosen.len() as u64;
            what.push_str(&format!(
                "; only {}",
                plural(chosen, "chosen ticket", "chosen tickets")
            ));
        }
        return what;
    }
    let number = |n: Option<u64>| n.unwrap_or(0);
    format!(
        "{}, {} imported; {}, {} skipped",
        plural(number(d.users_imported), "user", "users"),
        plural(number(d.tickets_imported), "ticket", "tickets"),
        plural(number(d.users_skipped), "user", "users"),
        plural(number(d.tickets_skipped), "ticket", "tickets")
    )
}

/// The error of a run that failed or was interrupted, shortened for the listing.
fn failure(status: Option<&str>, error: Option<&str>) -> Option<String> {
    match status {
        Some("failed" | "interrupted") => error.map(|error| shorten(error, 72)),
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

/// How many records of one kind had an outcome; none where an older row does not say.
fn how_many(tally: &BTreeMap<String, u64>, outcome: &str) -> u64 {
    tally.get(outcome).copied().unwrap_or(0)
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
        LogKind::Export => export_lines(&logs::read_detail(&entry.detail), &mut lines),
        LogKind::Import => import_lines(&logs::read_detail(&entry.detail), &mut lines),
        LogKind::Prune => prune_lines(&logs::read_detail(&entry.detail), &mut lines),
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
    match (entry.file_exists, &entry.retention) {
        (_, Retention::Pruned { at, .. }) => format!(" (pruned {})", display_time(at)),
        (_, Retention::Deleting { prune_id, since }) => format!(
            " (being deleted by {prune_id} since {})",
            display_time(since)
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
fn export_lines(d: &ExportDetail, lines: &mut Vec<(&str, String)>) {
    if let Some(bytes) = d.bytes {
        lines.push(("size", format!("{} ({bytes} bytes)", HumanBytes(bytes))));
    }
    if let Some(target) = &d.target {
        let target = match target.as_str() {
            "-" => "standard output",
            path => path,
        };
        lines.push(("meant for", target.to_owned()));
    }
    if let Some(encryption) = &d.encryption {
        let how = match (encryption.passphrase, encryption.recipients.as_slice()) {
            (true, _) => "with a passphrase".to_owned(),
            (false, [key]) => format!("to the key {key}"),
            (false, keys) => format!("to {} keys: {}", keys.len(), keys.join(", ")),
        };
        lines.push(("encrypted", format!("with age, {how}")));
    }
    if let Some(sha256) = &d.sha256 {
        lines.push(("SHA-256", sha256.clone()));
    }
    if let Some(format) = &d.format {
        let format = match format.as_str() {
            "zip" => "a ZIP archive".to_owned(),
            "json" => "one JSON document".to_owned(),
            other => other.to_owned(),
        };
        lines.push(("format", format));
    }
    if let Some(sections) = &d.sections {
        let names: Vec<&str> = sections
            .iter()
            .map(|key| {
                let named = SECTIONS.iter().find(|(s, ..)| s.json_key() == key);
                named.map_or(key.as_str(), |(_, _, words)| words)
            })
            .collect();
        lines.push(("sections", names.join(", ")));
    }
    if let Some(options) = &d.options
        && (options.date_from.is_some() || options.date_to.is_some())
    {
        lines.push((
            "tickets",
            format!(
                "only those created from {} to {}",
                options.date_from.as_deref().unwrap_or("the beginning"),
                options.date_to.as_deref().unwrap_or("the end")
            ),
        ));
    }
    if let Some(notes) = d.notes {
        lines.push((
            "in the tickets",
            format!(
                "{}, {}",
                plural(notes, "note", "notes"),
                plural(d.history.unwrap_or(0), "history entry", "history entries")
            ),
        ));
    }
}

/// Where the archive came from, what the policy did to existing records, each section's
/// outcome, new users, warnings, conflicts and the error.
fn import_lines(d: &ImportDetail, lines: &mut Vec<(&str, String)>) {
    if let Some(policy) = &d.policy {
        let policy = match policy.as_str() {
            "strict" => "each a conflict (no --skip-duplicates or --overwrite)".to_owned(),
            "skip-duplicates" => "left as they were (--skip-duplicates)".to_owned(),
            "overwrite" => "replaced with the archive's values (--overwrite)".to_owned(),
            other => other.to_owned(),
        };
        lines.push(("existing records", policy));
    }
    if let Some(source) = d.source.as_ref().and_then(archive_origin) {
        lines.push(("from", source));
    }
    if let Some(chosen) = &d.chosen_tickets {
        lines.push((
            "tickets asked for",
            format!(
                "{} (only these, with the users and custom fields they refer to)",
                chosen.join(", ")
            ),
        ));
    }
    // A failed or cancelled import changed nothing: its counts would only be noise.
    let changed_nothing = matches!(d.status.as_deref(), Some("failed" | "cancelled"));
    if let Some(outcomes) = &d.outcomes
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
                lines.push((section, outcome_text(|outcome| how_many(t, outcome))));
            }
        }
        if let Some(left_out) = d.not_chosen {
            lines.push(("not chosen", format!("{left_out}, left in the archive")));
        }
    }
    if d.company_created == Some(true) {
        lines.push(("company", "created by this import".to_owned()));
    }
    if let Some(new_users) = d.password_reset_required
        && new_users > 0
    {
        lines.push((
            "new users",
            format!("{new_users} without a password: each must set one before logging in"),
        ));
    }
    for (warning, &times) in d.warnings.iter().flatten() {
        let times = match times {
            1 => String::new(),
            times => format!(" ({times} records)"),
        };
        lines.push(("warning", format!("{warning}{times}")));
    }
    // The web app's own rows list their errors; the tool's, the conflicts it found.
    let listed = if d.status.is_some() {
        "conflict"
    } else {
        "error"
    };
    error_lines(d.errors.as_deref(), d.error.as_deref(), listed, lines);
}

/// `export_… of Acme Corp, made 2026-11-23 02:30:00 UTC`, from what an import recorded of
/// its archive; None when it could not read that much.
fn archive_origin(source: &ArchiveSource) -> Option<String> {
    let mut origin = source.export_id.clone()?;
    if let Some(company) = &source.company_name {
        origin.push_str(&format!(" of {company}"));
    }
    if let Some(at) = &source.exported_at {
        origin.push_str(&format!(", made {}", display_time(at)));
    }
    Some(origin)
}

/// What a run listed under `errors` (as `listed`: a tool's import lists its conflicts
/// there), and the error that ended it (`failure`).
fn error_lines(
    errors: Option<&[String]>,
    failure: Option<&str>,
    listed: &'static str,
    lines: &mut Vec<(&str, String)>,
) {
    // The tool's import rows keep the failure apart (`error`); `errors` is the web app's
    // list, which for the tool holds the conflicts and then that failure.
    for each in errors
        .into_iter()
        .flatten()
        .filter(|e| Some(e.as_str()) != failure)
    {
        lines.push((listed, each.clone()));
    }
    if let Some(failure) = failure {
        lines.push(("error", failure.to_owned()));
    }
}

/// The policy, then each archive by what became of it.
fn prune_lines(d: &PruneDetail, lines: &mut Vec<(&str, String)>) {
    if let Some(rules) = &d.rules {
        lines.push(("retention", rules.retention()));
    }
    if let Some(dir) = &d.dir {
        lines.push(("folder", format!("only archives in {dir}")));
    }
    if let Some(resumed_by) = &d.resumed_by {
        lines.push(("finished by", resumed_by.clone()));
    }
    for (list, label, why) in [
        (&d.deleted, "deleted", ""),
        (&d.deleting, "deleting", ""),
        (&d.resumed, "finished", ", for an interrupted prune"),
        (&d.missing, "already gone", ""),
        (&d.changed, "kept", ", changed since its export"),
    ] {
        for archive in list.iter().flatten() {
            let [export_id, file] =
                [&archive.export_id, &archive.file].map(|text| text.as_deref().unwrap_or("-"));
            lines.push((label, format!("{export_id} {file}{why}")));
        }
    }
    error_lines(d.errors.as_deref(), None, "error", lines);
}
