//! `export`: one company's chosen sections, from one read transaction, streamed into a zip
//! or json archive that appears under its final name only once complete and synced.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use indicatif::ProgressBar;
use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;
use serde_json::json;

use crate::archive::envelope::{Encryption, Sealed, Sealing};
use crate::archive::output::PendingFile;
use crate::archive::records::{
    Counts, EntryDigest, ExportOptionsInfo, FORMAT_NAME, FORMAT_VERSION, Manifest, Section,
};
use crate::archive::writer::{ArchiveWriter, Container, DigestWriter};
use crate::cli::{ExportArgs, FormatArg, GlobalOpts};
use crate::db::export_rows::{self, TicketScope};
use crate::db::logs::{self, LogKind};
use crate::db::schema::ToolTable;
use crate::db::{self, tenant};
use crate::error::Failure;
use crate::interrupt;
use crate::report::{Reporter, human_bytes};

use super::Unlogged;

/// Where the archive goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// Which sections to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    pub users: bool,
    pub custom_fields: bool,
    pub tickets: bool,
    pub attachments: bool,
}

impl Sections {
    fn included(self) -> Vec<Section> {
        Section::ALL
            .into_iter()
            .filter(|s| match s {
                Section::Users => self.users,
                Section::CustomFields => self.custom_fields,
                Section::Tickets => self.tickets,
                Section::Attachments => self.attachments,
            })
            .collect()
    }
}

/// A creation-time window on tickets, as given and as database bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateWindow {
    /// The bounds as recorded in the manifest (`dateFrom`, `dateTo`).
    pub from_label: Option<String>,
    pub to_label: Option<String>,
    /// Inclusive lower and exclusive upper bound on `created_at`.
    pub from: Option<String>,
    pub before: Option<String>,
}

impl DateWindow {
    /// Parses `--since` and `--until`: a day (`YYYY-MM-DD`, whole days, inclusive) or an
    /// RFC 3339 instant (inclusive).
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Self> {
        let mut window = DateWindow::default();
        if let Some(text) = since {
            let bound = parse_bound("--since", text)?;
            window.from = Some(match bound {
                Bound::Day(day) => day.format("%Y-%m-%d").to_string(),
                Bound::Instant(at) => db::format_timestamp(at),
            });
            window.from_label = Some(bound.label());
        }
        if let Some(text) = until {
            let bound = parse_bound("--until", text)?;
            window.before = Some(match bound {
                Bound::Day(day) => day
                    .succ_opt()
                    .map(|next| next.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "9999-99".into()),
                Bound::Instant(at) => db::format_timestamp(at + chrono::Duration::milliseconds(1)),
            });
            window.to_label = Some(bound.label());
        }
        if let (Some(from), Some(before)) = (&window.from, &window.before)
            && from >= before
        {
            return Err(Failure::Usage(format!(
                "--since {} is after --until {}",
                since.unwrap_or_default(),
                until.unwrap_or_default()
            ))
            .into());
        }
        Ok(window)
    }
}

enum Bound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Bound {
    fn label(&self) -> String {
        match self {
            Bound::Day(day) => day.format("%Y-%m-%d").to_string(),
            Bound::Instant(at) => db::format_timestamp(*at),
        }
    }
}

fn parse_bound(flag: &str, text: &str) -> Result<Bound> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Bound::Day(day));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Bound::Instant(at.with_timezone(&Utc)));
    }
    Err(Failure::Usage(format!(
        "{flag} {text:?} is neither a day (YYYY-MM-DD) nor an RFC 3339 time (2026-11-25T14:30:00Z)"
    ))
    .into())
}

/// Everything `export` needs to know, in typed form.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub destination: Destination,
    pub container: Container,
    pub sections: Sections,
    pub window: DateWindow,
    pub force: bool,
    /// How the archive is encrypted, if it is.
    pub encryption: Option<Encryption>,
}

/// What an encrypted archive's name ends with.
const AGE_SUFFIX: &str = ".age";

/// What an export did: the `--json` report and the summary's source.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    pub export_id: String,
    pub file: String,
    pub format: Container,
    pub bytes: u64,
    pub sha256: String,
    pub company_id: String,
    pub company_name: String,
    pub exported_by: String,
    pub exported_at: String,
    pub sections: Vec<Section>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub counts: Counts,
    /// age, to which public keys or with a passphrase; absent when not encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

pub fn run(global: &GlobalOpts, args: &ExportArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    run_export(global, args, reporter)
        .map_err(interrupt::explain)
        .map_err(|err| super::explain_busy(err, global, "exported"))
}

fn run_export(global: &GlobalOpts, args: &ExportArgs, reporter: &Reporter) -> Result<()> {
    // Both would go to stdout, and a report appended to the archive corrupts it.
    if reporter.wants_json() && args.output.as_deref() == Some(Path::new("-")) {
        return Err(Failure::Usage(
            "--json and -o - both write to stdout; write the archive to a file, or leave out --json"
                .into(),
        )
        .into());
    }
    // Checked before the database is opened: a bad date is a usage error whatever the db.
    let window = DateWindow::parse(args.since.as_deref(), args.until.as_deref())?;
    let keys = &args.encryption;
    let sealing = Sealing::from_options(&keys.recipient, &keys.recipients_file, keys.passphrase)?;
    if sealing.is_none()
        && let Some(path) = args.output.as_deref().filter(|p| is_age_name(p))
    {
        return Err(Failure::Usage(format!(
            "{} is named as an encrypted archive; give --recipient, --recipients-file or --passphrase, or another name",
            path.display()
        ))
        .into());
    }
    let mut session = super::open_session(global)?;
    session.require_writable(global, "export")?;
    // Before the archive is written: an archive whose export cannot be logged must not appear.
    db::create_tool_tables_now(&session.conn, &[ToolTable::ExportLog])?;
    let exported_at = Utc::now();
    let encryption = sealing.as_ref().map(|s| s.encryption.clone());
    let request = request_from_args(args, window, encryption, &session.company, exported_at)?;
    if !request.sections.attachments && !args.no_attachments {
        reporter
            .note("note: --no-tickets leaves out attachments too, as they follow their tickets");
    }
    let report = export(
        &mut session.conn,
        &session.company,
        &session.actor,
        &request,
        sealing,
        exported_at,
        reporter,
    )?;
    print_summary(reporter, &report);
    reporter.result(&report)?;
    Ok(())
}

/// Builds the typed request: the destination and container from `-o` and `--format`.
fn request_from_args(
    args: &ExportArgs,
    window: DateWindow,
    encryption: Option<Encryption>,
    company: &tenant::Company,
    exported_at: DateTime<Utc>,
) -> Result<ExportRequest> {
    // The container is named before any `.age`: `acme.json.age` is json, encrypted.
    let by_extension = |path: &Path| {
        let inner = match is_age_name(path) {
            true => path.with_extension(""),
            false => path.to_path_buf(),
        };
        match inner.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Container::Json,
            _ => Container::Zip,
        }
    };
    let container = match args.format {
        Some(FormatArg::Zip) => Container::Zip,
        Some(FormatArg::Json) => Container::Json,
        None => args.output.as_deref().map_or(Container::Zip, by_extension),
    };
    let suffix = if encryption.is_some() { AGE_SUFFIX } else { "" };
    let default_name = || default_file_name(&company.name, exported_at, container) + suffix;
    let destination = match args.output.as_deref() {
        Some(path) if path == Path::new("-") => Destination::Stdout,
        Some(path) if path.is_dir() => Destination::File(path.join(default_name())),
        Some(path) if path.as_os_str().to_string_lossy().ends_with('/') => {
            anyhow::bail!("cannot export into {}: no such directory", path.display());
        }
        Some(path) => Destination::File(path.to_path_buf()),
        None => Destination::File(PathBuf::from(default_name())),
    };
    let sections = Sections {
        users: !args.no_users,
        custom_fields: !args.no_custom_fields,
        tickets: !args.no_tickets,
        attachments: !args.no_attachments && !args.no_tickets,
    };
    Ok(ExportRequest {
        destination,
        container,
        sections,
        window,
        force: args.force,
        encryption,
    })
}

/// Whether a file name says it is age-encrypted (`….age`).
fn is_age_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case(&AGE_SUFFIX[1..]))
}

/// `bomizzel-<company slug>-<UTC yyyymmddThhmmssZ>.<zip|json>`.
pub fn default_file_name(company: &str, at: DateTime<Utc>, container: Container) -> String {
    format!(
        "bomizzel-{}-{}.{}",
        slug(company),
        at.format("%Y%m%dT%H%M%SZ"),
        container.extension()
    )
}

/// Lowercase ASCII letters and digits, runs of anything else as one `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "company".into()
    } else {
        trimmed.into()
    }
}

/// Writes the archive (through `sealing` when it is encrypted) and records the export in
/// the log.
pub fn export(
    conn: &mut Connection,
    company: &tenant::Company,
    actor: &tenant::Actor,
    request: &ExportRequest,
    sealing: Option<Sealing>,
    exported_at: DateTime<Utc>,
    reporter: &Reporter,
) -> Result<ExportReport> {
    let manifest = Manifest {
        format: Some(FORMAT_NAME.into()),
        format_version: Some(FORMAT_VERSION),
        export_id: new_export_id(exported_at),
        company_id: company.id.clone(),
        company_name: company.name.clone(),
        company: None,
        exported_by: actor.id.clone(),
        exported_by_email: Some(actor.email.clone()),
        exported_at: db::format_timestamp(exported_at),
        options: ExportOptionsInfo {
            include_users: request.sections.users,
            include_tickets: request.sections.tickets,
            include_attachments: request.sections.attachments,
            include_custom_fields: request.sections.custom_fields,
            date_from: request.window.from_label.clone(),
            date_to: request.window.to_label.clone(),
        },
        counts: None,
        tool: Some(concat!("bomizzel-backup ", env!("CARGO_PKG_VERSION")).into()),
        entries: None,
    };
    let scope = TicketScope {
        company_id: company.id.clone(),
        created_from: request.window.from.clone(),
        created_before: request.window.before.clone(),
    };

    let archive = Snapshot {
        scope: &scope,
        request,
        manifest: manifest.clone(),
        sealing,
    };
    let written = match &request.destination {
        Destination::Stdout => write_stdout(conn, archive, reporter),
        Destination::File(path) => write_file(conn, archive, path, reporter)
            .map(|(path, digest, manifest)| (path.display().to_string(), digest, manifest)),
    };
    let (file, digest, manifest) = match written {
        Ok(written) => written,
        Err(err) => {
            return Err(log_interruption(
                conn, actor, request, &manifest, err, reporter,
            ));
        }
    };

    let counts = manifest.counts.unwrap_or_default();
    let report = ExportReport {
        export_id: manifest.export_id.clone(),
        file,
        format: request.container,
        bytes: digest.bytes,
        sha256: digest.sha256,
        company_id: company.id.clone(),
        company_name: company.name.clone(),
        exported_by: actor.email.clone(),
        exported_at: manifest.exported_at.clone(),
        sections: request.sections.included(),
        date_from: request.window.from_label.clone(),
        date_to: request.window.to_label.clone(),
        counts,
        encryption: request.encryption.clone(),
    };
    record_export(conn, actor, &report, &manifest.options).with_context(|| {
        Unlogged(format!(
            "the archive {} is complete, but the export could not be recorded in the log",
            report.file
        ))
    })?;
    Ok(report)
}

/// `export_<UTC time>_<random>`: sortable, and unique even for exports in the same second.
fn new_export_id(at: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("export_{}_{}", at.format("%Y%m%dT%H%M%SZ"), &random[..8])
}

/// What one export writes: the chosen records, described by `manifest`, through
/// `sealing` when encrypted.
struct Snapshot<'a> {
    scope: &'a TicketScope,
    request: &'a ExportRequest,
    manifest: Manifest,
    sealing: Option<Sealing>,
}

impl Snapshot<'_> {
    /// Writes the archive into `out` (encrypting it on the way when asked) and hands `out`
    /// back with the length and SHA-256 of what reached it: the file as written.
    fn write_to<W: Write + Send + 'static>(
        self,
        conn: &mut Connection,
        out: W,
        reporter: &Reporter,
    ) -> Result<(Manifest, W, EntryDigest)> {
        let out = Sealed::new(DigestWriter::new(out), self.sealing)?;
        let (manifest, out) =
            write_snapshot(conn, self.scope, self.request, self.manifest, out, reporter)?;
        let (out, digest) = out.finish()?.finish();
        Ok((manifest, out, digest))
    }
}

/// Streams the archive to stdout.
fn write_stdout(
    conn: &mut Connection,
    archive: Snapshot<'_>,
    reporter: &Reporter,
) -> Result<(String, EntryDigest, Manifest)> {
    let out = BufWriter::with_capacity(1 << 20, io::stdout());
    let (manifest, mut buffered, digest) = archive.write_to(conn, out, reporter)?;
    buffered.flush()?;
    Ok(("-".to_string(), digest, manifest))
}

/// A failed export leaves nothing to record, except when a signal ended it: the log then
/// says so (`interrupted`), for `history` and the web app's History tab. Returns the error
/// that ends the run.
fn log_interruption(
    conn: &Connection,
    actor: &tenant::Actor,
    request: &ExportRequest,
    manifest: &Manifest,
    err: anyhow::Error,
    reporter: &Reporter,
) -> anyhow::Error {
    let Some(signal) = interrupt::ended_by(&err) else {
        return err;
    };
    // No `file`: there is none, and prune and --export-id look for one there.
    let target = match &request.destination {
        Destination::Stdout => "-".to_owned(),
        Destination::File(path) => std::path::absolute(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
    };
    let mut summary = json!({
        "status": "interrupted",
        "error": signal.interruption(),
        "target": target,
        "format": request.container,
        "sections": request.sections.included(),
        "options": manifest.options,
        "tool": manifest.tool,
    });
    if let Some(encryption) = &request.encryption {
        summary["encryption"] = json!(encryption);
    }
    let logged = logs::insert(
        conn,
        LogKind::Export,
        &manifest.company_id,
        Some(&actor.id),
        &manifest.export_id,
        &summary,
        &manifest.exported_at,
    );
    if let Err(log_err) = logged {
        reporter.note(format!(
            "bomizzel-backup: the interrupted export could not be logged: {log_err:#}"
        ));
    }
    Failure::Interrupted(signal).into()
}

/// Writes the archive to a file that takes the name `target` only once complete and synced
/// (refusing to replace an existing file without `--force`).
fn write_file(
    conn: &mut Connection,
    archive: Snapshot<'_>,
    target: &Path,
    reporter: &Reporter,
) -> Result<(PathBuf, EntryDigest, Manifest)> {
    if is_database_file(conn, target) {
        return Err(Failure::Usage(format!(
            "{} is the database being exported; choose another output file",
            target.display()
        ))
        .into());
    }
    let pending = PendingFile::create(target, archive.request.force, reporter)?;
    let out = BufWriter::with_capacity(1 << 20, pending.writer()?);
    let (manifest, buffered, digest) = archive.write_to(conn, out, reporter)?;
    buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", target.display()))?;
    let path = pending.persist()?;
    Ok((path, digest, manifest))
}

/// True when `target` is the open database file itself, which `--force` must never replace.
fn is_database_file(conn: &Connection, target: &Path) -> bool {
    let (Some(db), Ok(target)) = (conn.path(), fs::canonicalize(target)) else {
        return false;
    };
    fs::canonicalize(db).is_ok_and(|db| db == target)
}

/// Streams every chosen section from one read transaction into `out`, and hands `out` back.
fn write_snapshot<W: Write + Send + 'static>(
    conn: &mut Connection,
    scope: &TicketScope,
    request: &ExportRequest,
    mut manifest: Manifest,
    out: W,
    reporter: &Reporter,
) -> Result<(Manifest, W)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let mut counts = export_rows::count_records(&tx, scope)?;
    let sections = request.sections;
    if !sections.users {
        counts.users = 0;
    }
    if !sections.custom_fields {
        counts.custom_fields = 0;
    }
    if !sections.tickets {
        (counts.tickets, counts.notes, counts.history) = (0, 0, 0);
    }
    if !sections.attachments {
        counts.attachments = 0;
    }
    manifest.counts = Some(counts);
    manifest.company = Some(export_rows::company(&tx, &scope.company_id)?);

    let progress = reporter.progress(
        counts.users + counts.custom_fields + counts.tickets + counts.attachments,
        "exporting",
    );
    let mut archive = match request.container {
        Container::Zip => ArchiveWriter::zip(out, manifest)?,
        Container::Json => ArchiveWriter::json(out, manifest)?,
    };
    let mut written = Counts::default();
    if sections.users {
        archive.begin_section(Section::Users)?;
        export_rows::for_each_user(&tx, &scope.company_id, |user| {
            written.users += 1;
            next_record(&progress)?;
            Ok(archive.write_record(&user)?)
        })?;
    }
    if sections.custom_fields {
        archive.begin_section(Section::CustomFields)?;
        export_rows::for_each_custom_field(&tx, &scope.company_id, |field| {
            written.custom_fields += 1;
            next_record(&progress)?;
            Ok(archive.write_record(&field)?)
        })?;
    }
    if sections.tickets {
        let field_names = export_rows::field_names(&tx, &scope.company_id)?;
        archive.begin_section(Section::Tickets)?;
        export_rows::for_each_ticket(&tx, scope, &field_names, |ticket| {
            written.tickets += 1;
            written.notes += ticket.notes.len() as u64;
            written.history += ticket.history.len() as u64;
            next_record(&progress)?;
            Ok(archive.write_record(&ticket)?)
        })?;
    }
    if sections.attachments {
        archive.begin_section(Section::Attachments)?;
        export_rows::for_each_attachment(&tx, scope, |attachment| {
            written.attachments += 1;
            next_record(&progress)?;
            Ok(archive.write_record(&attachment)?)
        })?;
    }
    let (manifest, out) = archive.finish()?;
    tx.commit()?;
    progress.finish_and_clear();
    // Both come from the same snapshot; a difference is a bug in the queries.
    anyhow::ensure!(
        written == counts,
        "internal error: counted {counts:?} but wrote {written:?}"
    );
    Ok((manifest, out))
}

/// Counts a record on the progress bar, unless a signal has asked the export to stop.
fn next_record(progress: &ProgressBar) -> Result<()> {
    interrupt::check()?;
    progress.inc(1);
    Ok(())
}

/// The export log row: the web app's summary keys, and the tool's detail beside them.
fn record_export(
    conn: &Connection,
    actor: &tenant::Actor,
    report: &ExportReport,
    options: &ExportOptionsInfo,
) -> Result<()> {
    let c = &report.counts;
    let mut summary = json!({
        "users": c.users,
        "tickets": c.tickets,
        "attachments": c.attachments,
        "customFields": c.custom_fields,
        "notes": c.notes,
        "history": c.history,
        "file": report.file,
        "format": report.format,
        "bytes": report.bytes,
        "sha256": report.sha256,
        "sections": report.sections,
        "options": options,
        "tool": concat!("bomizzel-backup ", env!("CARGO_PKG_VERSION")),
    });
    if let Some(encryption) = &report.encryption {
        summary["encryption"] = json!(encryption);
    }
    logs::insert(
        conn,
        LogKind::Export,
        &report.company_id,
        Some(&actor.id),
        &report.export_id,
        &summary,
        &report.exported_at,
    )
}

fn print_summary(reporter: &Reporter, report: &ExportReport) {
    let c = &report.counts;
    reporter.note(format!(
        "Exported {} to {} ({})",
        report.company_name,
        report.file,
        human_bytes(report.bytes)
    ));
    reporter.note(format!("  export id      {}", report.export_id));
    for (section, line) in [
        (Section::Users, format!("  users          {}", c.users)),
        (
            Section::CustomFields,
            format!("  custom fields  {}", c.custom_fields),
        ),
        (
            Section::Tickets,
            format!(
                "  tickets        {} ({} notes, {} history entries)",
                c.tickets, c.notes, c.history
            ),
        ),
        (
            Section::Attachments,
            format!("  attachments    {}", c.attachments),
        ),
    ] {
        if report.sections.contains(&section) {
            reporter.note(line);
        }
    }
    if report.date_from.is_some() || report.date_to.is_some() {
        reporter.note(format!(
            "  tickets from   {} to {}",
            report.date_from.as_deref().unwrap_or("the beginning"),
            report.date_to.as_deref().unwrap_or("now")
        ));
    }
    if let Some(encryption) = &report.encryption {
        let to = match encryption.recipients.len() {
            _ if encryption.passphrase => "with a passphrase".to_owned(),
            1 => "to 1 public key".to_owned(),
            n => format!("to {n} public keys"),
        };
        reporter.note(format!("  encrypted      age, {to}"));
    }
    reporter.note(format!("  sha256         {}", report.sha256));
}
