//! `export`: one company's chosen sections, from one read transaction, streamed into a zip
//! or json archive that appears under its final name only once complete and synced.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::archive::digest::DigestWriter;
use crate::archive::envelope::{Encryption, Sealed, Sealing};
use crate::archive::name::default_file_name;
use crate::archive::output::{NameTaken, PendingFile};
use crate::archive::records::{
    Counts, EntryDigest, ExportOptionsInfo, FORMAT_NAME, FORMAT_VERSION, Manifest, Section,
};
use crate::archive::writer::{ArchiveWriter, Container};
use crate::cli::{ExportArgs, FormatArg, GlobalOpts};
use crate::db::export_rows::TicketScope;
use crate::db::logs::{self, ExportDetail, LogKind};
use crate::db::schema::ToolTable;
use crate::db::snapshot::{ReadSnapshot, SnapshotWork};
use crate::db::{self, Database, tenant};
use crate::error::Failure;
use crate::interrupt;
use crate::report::Reporter;
use crate::when::DateWindow;
use indicatif::HumanBytes;

use crate::error::Unlogged;

/// Where the archive goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    Stdout,
    /// A file, and what to do when its name is taken.
    File {
        path: PathBuf,
        taken: NameTaken,
    },
}

/// Which sections to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sections {
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

/// Everything `export` needs to know, in typed form.
#[derive(Debug, Clone)]
pub(crate) struct ExportRequest {
    pub destination: Destination,
    pub container: Container,
    pub sections: Sections,
    pub window: DateWindow,
    /// How the archive is encrypted, if it is.
    pub encryption: Option<Encryption>,
}

/// What an encrypted archive's name ends with.
const AGE_SUFFIX: &str = ".age";

/// What an export did: the `--json` report and the summary's source.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportReport {
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

pub(crate) fn run(global: &GlobalOpts, args: &ExportArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    run_export(global, args, reporter)
        .map_err(interrupt::explain)
        .map_err(|err| super::explain_busy(err, global, Some("exported")))
}

fn run_export(global: &GlobalOpts, args: &ExportArgs, reporter: &Reporter) -> Result<()> {
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    // Both would go to stdout, and a report appended to the archive corrupts it.
    if to_stdout && reporter.wants_json() {
        return Err(Failure::Usage(
            "--json and -o - both write to stdout; write the archive to a file, or leave out --json"
                .into(),
        )
        .into());
    }
    // As gzip and restic do: binary on a terminal is no backup, and garbles the terminal.
    if to_stdout && io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "refusing to write the archive to a terminal; redirect it or use -o FILE".into(),
        )
        .into());
    }
    let started = std::time::Instant::now();
    let exported_at = export_time();
    // Checked before the database is opened: a bad date is a usage error whatever the db.
    let window = DateWindow::new(args.since.as_ref(), args.until.as_ref(), exported_at)?;
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
    reporter.step(format!(
        "opened the database {}; exporting {} ({}) as {}",
        super::database_name(global),
        session.company.name,
        session.company.id,
        session.actor.email
    ));
    // Before the archive is written: an archive whose export cannot be logged must not appear.
    session.require_writable(global, "export", Some(ToolTable::ExportLog))?;
    let encryption = sealing.as_ref().map(|s| s.encryption.clone());
    let request = request_from_args(args, window, encryption, &session.company, exported_at);
    // A usage error, before the export begins (and so not logged): even --force may not.
    if let Destination::File { path, .. } = &request.destination
        && session.db.is_file(path)
    {
        return Err(Failure::Usage(format!(
            "{} is the database being exported; choose another output file",
            path.display()
        ))
        .into());
    }
    if !request.sections.attachments && !args.no_attachments {
        reporter
            .note("note: --no-tickets leaves out attachments too, as they follow their tickets");
    }
    let report = export(
        &mut session.db,
        &session.company,
        &session.actor,
        &request,
        sealing,
        exported_at,
        reporter,
    )?;
    print_summary(reporter, &report, started.elapsed());
    if let Some(warning) = window_warning(&request, &report, exported_at) {
        reporter.note(format!("warning: {warning}"));
    }
    reporter.result(&report)?;
    Ok(())
}

/// Test hook, read nowhere else: the export's time (RFC 3339) in place of the clock's, so
/// that the tests can count ages back from a time they know, and make two exports in the
/// same millisecond.
const CLOCK_FOR_TESTS: &str = "BOMIZZEL_TEST_EXPORTED_AT";

/// Now, unless the tests say otherwise (`CLOCK_FOR_TESTS`).
fn export_time() -> DateTime<Utc> {
    std::env::var(CLOCK_FOR_TESTS)
        .ok()
        .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
        .map_or_else(Utc::now, |at| at.with_timezone(&Utc))
}

/// Builds the typed request: the destination and container from `-o` and `--format`.
fn request_from_args(
    args: &ExportArgs,
    window: DateWindow,
    encryption: Option<Encryption>,
    company: &tenant::Company,
    exported_at: DateTime<Utc>,
) -> ExportRequest {
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
    // A default name never replaces anything, --force or not: it takes the next free number.
    let default_name = |dir: &Path| Destination::File {
        path: dir.join(default_file_name(&company.name, exported_at, container) + suffix),
        taken: NameTaken::NextFree,
    };
    let destination = match args.output.as_deref() {
        Some(path) if path == Path::new("-") => Destination::Stdout,
        // A folder that does not exist yet is found missing when the file is created.
        Some(path) if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') => {
            default_name(path)
        }
        Some(path) => Destination::File {
            path: path.to_path_buf(),
            taken: if args.force {
                NameTaken::Replace
            } else {
                NameTaken::Refuse
            },
        },
        None => default_name(Path::new("")),
    };
    let sections = Sections {
        users: !args.no_users,
        custom_fields: !args.no_custom_fields,
        tickets: !args.no_tickets,
        attachments: !args.no_attachments && !args.no_tickets,
    };
    ExportRequest {
        destination,
        container,
        sections,
        window,
        encryption,
    }
}

/// Whether a file name says it is age-encrypted (`….age`).
fn is_age_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case(&AGE_SUFFIX[1..]))
}

/// What to say when `--since`/`--until` left no ticket to export: a window that opens in the
/// future, or one in which no ticket was created.
fn window_warning(
    request: &ExportRequest,
    report: &ExportReport,
    now: DateTime<Utc>,
) -> Option<String> {
    let window = &request.window;
    if !request.sections.tickets || !window.is_set() || report.counts.tickets > 0 {
        return None;
    }
    Some(if window.starts_after(now) {
        format!(
            "--since {} is in the future, so the archive holds no tickets",
            window.from_label.as_deref().unwrap_or_default()
        )
    } else {
        format!(
            "no tickets were created {}, so the archive holds none",
            window.describe()
        )
    })
}

/// Writes the archive (through `sealing` when it is encrypted) and records the export in
/// the log.
pub(crate) fn export(
    conn: &mut Database,
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
        export_id: LogKind::Export.new_entry_id(exported_at),
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
        tool: Some(crate::TOOL.into()),
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
        Destination::File { path, taken } => write_file(conn, archive, path, *taken, reporter)
            .map(|(path, digest, manifest)| (path.display().to_string(), digest, manifest)),
    };
    let (file, digest, manifest) = match written {
        Ok(written) => written,
        Err(err) => return Err(log_failure(conn, actor, request, &manifest, err, reporter)),
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
    record_export(conn, actor, request, &report, &manifest.options).with_context(|| {
        Unlogged(format!(
            "the archive {} is complete, but the export could not be recorded in the log",
            report.file
        ))
    })?;
    Ok(report)
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
        conn: &mut Database,
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

/// The buffer between the compressing thread and the output: what it writes is already
/// deflated (the zip writer hands over 32 KiB at a time), so 256 KiB makes writes few and
/// large; 1 MiB wrote no faster and kept 0.75 MiB more resident.
const OUTPUT_BUFFER: usize = 256 << 10;

/// Streams the archive to stdout. A reader that stops before the end (`| head`, a consumer
/// that died) leaves an incomplete backup: a failure, not the quiet end that a closed pipe
/// is for a listing.
fn write_stdout(
    conn: &mut Database,
    archive: Snapshot<'_>,
    reporter: &Reporter,
) -> Result<(String, EntryDigest, Manifest)> {
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout());
    let streamed =
        archive
            .write_to(conn, out, reporter)
            .and_then(|(manifest, mut buffered, digest)| {
                buffered.flush()?;
                Ok(("-".to_string(), digest, manifest))
            });
    // A new error, without the broken pipe among its causes, which `main` takes for the
    // quiet end of a listing.
    streamed.map_err(|err| match crate::error::is_broken_pipe(&err) {
        true => anyhow::anyhow!(
            "the output closed before the archive was complete: whatever read standard output \
             stopped early, so this backup is incomplete"
        ),
        false => err,
    })
}

/// Records a failed export in the log, where the database can still be written: `failed`
/// with its error, or `interrupted` when a signal ended it, for `history` and the web app's
/// History tab. Returns the error that ends the run.
fn log_failure(
    conn: &Database,
    actor: &tenant::Actor,
    request: &ExportRequest,
    manifest: &Manifest,
    err: anyhow::Error,
    reporter: &Reporter,
) -> anyhow::Error {
    let signal = interrupt::ended_by(&err);
    let (status, error) = match signal {
        Some(signal) => ("interrupted", signal.interruption()),
        None => ("failed", format!("{err:#}")),
    };
    // The lock has outlasted the busy timeout once: logging tries once more, without
    // making the caller wait as long again.
    if crate::error::classify(&err) == crate::error::Class::Busy {
        conn.stop_waiting_for_locks();
    }
    // No `file`: there is none, and prune and --export-id look for one there.
    let target = match &request.destination {
        Destination::Stdout => "-".to_owned(),
        Destination::File { path, .. } => std::path::absolute(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
    };
    let detail = ExportDetail {
        status: Some(status.to_owned()),
        error: Some(error),
        target: Some(target),
        ..requested(request, &manifest.options)
    };
    let logged = logs::insert(
        conn,
        &manifest.company_id,
        Some(&actor.id),
        &manifest.export_id,
        &detail,
        &manifest.exported_at,
    );
    if let Err(log_err) = logged {
        reporter.note(format!(
            "bomizzel-backup: the {status} export could not be logged: {log_err:#}"
        ));
    }
    match signal {
        Some(signal) => Failure::Interrupted(signal).into(),
        None => err,
    }
}

/// Writes the archive to a file that takes the name `target` only once complete and synced
/// (what happens when that name is taken, `taken` says).
fn write_file(
    conn: &mut Database,
    archive: Snapshot<'_>,
    target: &Path,
    taken: NameTaken,
    reporter: &Reporter,
) -> Result<(PathBuf, EntryDigest, Manifest)> {
    let pending = PendingFile::create(target, taken, reporter)?;
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, pending.writer()?);
    let (manifest, buffered, digest) = archive.write_to(conn, out, reporter)?;
    buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", target.display()))?;
    let path = pending.persist()?;
    Ok((path, digest, manifest))
}

/// Streams every chosen section from one read snapshot into `out`, and hands `out` back.
fn write_snapshot<W: Write + Send + 'static>(
    conn: &mut Database,
    scope: &TicketScope,
    request: &ExportRequest,
    manifest: Manifest,
    out: W,
    reporter: &Reporter,
) -> Result<(Manifest, W)> {
    reporter.step("reading every section from one read transaction (one snapshot)");
    conn.read_snapshot(WriteSections {
        scope,
        request,
        manifest,
        out,
        reporter,
    })
}

/// The sections an export writes, read from one snapshot.
struct WriteSections<'a, W> {
    scope: &'a TicketScope,
    request: &'a ExportRequest,
    manifest: Manifest,
    out: W,
    reporter: &'a Reporter,
}

impl<W: Write + Send + 'static> SnapshotWork for WriteSections<'_, W> {
    type Output = (Manifest, W);

    fn run<S: ReadSnapshot>(self, tx: &S) -> Result<(Manifest, W)> {
        let WriteSections {
            scope,
            request,
            mut manifest,
            out,
            reporter,
        } = self;
        let mut counts = tx.count_records(scope)?;
        let sections = request.sections;
        if sections.tickets && request.container == Container::Json {
            (counts.notes, counts.history) = tx.count_ticket_children(scope)?;
        }
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
        manifest.company = Some(tx.company(&scope.company_id)?);

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
            tx.for_each_user(&scope.company_id, |user| {
                written.users += 1;
                next_record(&progress)?;
                Ok(archive.write_record(&user)?)
            })?;
        }
        if sections.custom_fields {
            archive.begin_section(Section::CustomFields)?;
            tx.for_each_custom_field(&scope.company_id, |field| {
                written.custom_fields += 1;
                next_record(&progress)?;
                Ok(archive.write_record(&field)?)
            })?;
        }
        if sections.tickets {
            let field_names = tx.field_names(&scope.company_id)?;
            archive.begin_section(Section::Tickets)?;
            tx.for_each_ticket(scope, &field_names, |ticket| {
                written.tickets += 1;
                written.notes += ticket.notes.len() as u64;
                written.history += ticket.history.len() as u64;
                next_record(&progress)?;
                Ok(archive.write_record(&ticket)?)
            })?;
        }
        if sections.attachments {
            archive.begin_section(Section::Attachments)?;
            tx.for_each_attachment(scope, |attachment| {
                written.attachments += 1;
                next_record(&progress)?;
                Ok(archive.write_record(&attachment)?)
            })?;
        }
        if request.container == Container::Zip {
            // Not counted beforehand: the zip's manifest, written last, takes them as written.
            (counts.notes, counts.history) = (written.notes, written.history);
            archive.manifest_mut().counts = Some(counts);
        }
        // Both come from the same snapshot; a difference is a bug in the queries.
        anyhow::ensure!(
            written == counts,
            "internal error: counted {counts:?} but wrote {written:?}"
        );
        let (manifest, out) = archive.finish()?;
        progress.finish_and_clear();
        Ok((manifest, out))
    }
}

/// Counts a record on the progress bar, unless a signal has asked the export to stop.
fn next_record(progress: &ProgressBar) -> Result<()> {
    interrupt::check()?;
    progress.inc(1);
    Ok(())
}

/// The export log row: the web app's summary keys, and the tool's detail beside them.
fn record_export(
    conn: &Database,
    actor: &tenant::Actor,
    request: &ExportRequest,
    report: &ExportReport,
    options: &ExportOptionsInfo,
) -> Result<()> {
    let c = &report.counts;
    let detail = ExportDetail {
        users: Some(c.users),
        custom_fields: Some(c.custom_fields),
        tickets: Some(c.tickets),
        attachments: Some(c.attachments),
        notes: Some(c.notes),
        history: Some(c.history),
        file: Some(report.file.clone()),
        bytes: Some(report.bytes),
        sha256: Some(report.sha256.clone()),
        ..requested(request, options)
    };
    logs::insert(
        conn,
        &report.company_id,
        Some(&actor.id),
        &report.export_id,
        &detail,
        &report.exported_at,
    )
}

/// What every export's row records of what was asked for, whether it finished or not.
fn requested(request: &ExportRequest, options: &ExportOptionsInfo) -> ExportDetail {
    let sections = request.sections.included().into_iter();
    ExportDetail {
        format: Some(request.container.extension().to_owned()),
        sections: Some(sections.map(|s| s.json_key().to_owned()).collect()),
        options: Some(options.clone()),
        tool: Some(crate::TOOL.to_owned()),
        encryption: request.encryption.clone(),
        ..ExportDetail::default()
    }
}

fn print_summary(reporter: &Reporter, report: &ExportReport, took: std::time::Duration) {
    let c = &report.counts;
    reporter.note(format!(
        "Exported {} to {} ({}) in {:.1} s",
        report.company_name,
        report.file,
        HumanBytes(report.bytes),
        took.as_secs_f64()
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
