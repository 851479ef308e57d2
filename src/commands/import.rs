//! `import`: restore an archive into one company, all or nothing.
//!
//! The archive is read in one pass inside one write transaction: each record is validated,
//! decided on and written. A conflict (under the strict policy) or an invalid record
//! anywhere rolls the whole import back. `--validate-only` runs the same pass without
//! writing, so its plan is what the import does.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::json;

use crate::archive::envelope::Keys;
use crate::archive::reader::{ArchiveFile, Event, Input, Layout};
use crate::archive::records::{
    CompanyRecord, CompanyRole, Counts, Manifest, NullFlag, Section, UserRecord, UserRole,
};
use crate::archive::validate::{Record, Validator, Warnings};
use crate::cli::{GlobalOpts, ImportArgs};
use crate::db::import_rows::{self, ImportDb};
use crate::db::logs::{self, LogKind};
use crate::db::schema::ToolTable;
use crate::db::{self, tenant};
use crate::error::Failure;
use crate::import::{ImportActor, Importer, Mode, Plan, Policy};
use crate::interrupt;
use crate::report::Reporter;

use super::Unlogged;

/// The sections read in each pass over the archive: people and field definitions first,
/// so tickets can refer to them, and attachments after the tickets they belong to. (A json
/// document may hold its sections in any order; a zip is read entry by entry.)
const READ_ORDER: [&[Section]; 3] = [
    &[Section::Users, Section::CustomFields],
    &[Section::Tickets],
    &[Section::Attachments],
];

/// The outcome of an import run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Validated,
    Failed,
    /// The operator declined the `--overwrite` confirmation.
    Cancelled,
    /// A signal stopped it; the transaction was rolled back.
    Interrupted,
}

/// What the archive says of itself, for reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub file: String,
    pub layout: Option<Layout>,
    pub export_id: Option<String>,
    pub company_id: Option<String>,
    pub company_name: Option<String>,
    pub exported_at: Option<String>,
}

impl Source {
    /// An archive that could not be read: only where it came from is known.
    fn unread(input: Option<&Input>) -> Self {
        let file = match input {
            Some(Input::File(path)) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            _ => "-".to_owned(),
        };
        Self {
            file,
            layout: None,
            export_id: None,
            company_id: None,
            company_name: None,
            exported_at: None,
        }
    }
}

/// The `--json` report of an import or a validation against a database.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub import_id: String,
    pub status: Status,
    pub policy: Policy,
    pub company_id: String,
    pub company_name: String,
    pub company_created: bool,
    pub source: Source,
    /// The archive is another company's: its people and roles come into this one.
    pub cross_company: bool,
    #[serde(flatten)]
    pub plan: Plan,
    /// Why a validation fails (its conflicts), so that `--json` stays one document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

/// The `--json` report of `--validate-only` without a database.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub valid: bool,
    pub source: Source,
    pub counts: Counts,
    /// What the archive holds that an import would translate, each with its count.
    pub warnings: Warnings,
}

pub fn run(global: &GlobalOpts, args: &ImportArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    run_import(global, args, reporter)
        .map_err(interrupt::explain)
        .map_err(|err| super::explain_busy(err, global, "imported"))
}

fn run_import(global: &GlobalOpts, args: &ImportArgs, reporter: &Reporter) -> Result<()> {
    let policy = if args.overwrite {
        Policy::Overwrite
    } else if args.skip_duplicates {
        Policy::SkipDuplicates
    } else {
        Policy::Strict
    };
    let keys = Keys::new(args.decryption.identity.clone());
    if args.validate_only && args.export_id.is_none() && !global.db.exists() {
        let input = input_from(args.file.clone())?;
        return validate_file(&input, &keys, reporter)
            .map_err(|err| naming_file(err, Some(&input)));
    }

    let started = std::time::Instant::now();
    let mut conn = db::open(&global.db, super::open_options(global)?)?;
    let import_id = new_import_id();
    let mut attempt = Attempt::default();
    let outcome = attempt_import(
        &mut conn,
        global,
        args,
        &keys,
        policy,
        reporter,
        &mut attempt,
    )
    .map_err(|err| naming_file(err, attempt.input.as_ref()));
    if outcome
        .as_ref()
        .is_err_and(|err| crate::error::classify(err).0 == 7)
    {
        // The lock has outlasted the busy timeout once: logging the failure tries once more,
        // without making the caller wait as long again.
        conn.busy_timeout(std::time::Duration::ZERO)?;
    }
    // Looked up after the import, which may have created the actor's user.
    let actor_id = match global.actor.as_deref() {
        Some(email) => tenant::find_user_id(&conn, email).ok().flatten(),
        None => None,
    };
    let (company, source) = match (attempt.company, attempt.source) {
        (Some(company), Some(source)) => (company, source),
        (Some(company), None) => (company, Source::unread(attempt.input.as_ref())),
        // Without a company there is no log to write to: the error says what went wrong.
        (None, _) => return outcome.map(drop),
    };
    let mut report = ImportReport {
        import_id,
        status: Status::Failed,
        policy,
        cross_company: source
            .company_id
            .as_ref()
            .is_some_and(|id| *id != company.id),
        company_id: company.id,
        company_name: company.name,
        company_created: false,
        source,
        plan: Plan::default(),
        error: None,
    };
    let (status, plan, created) = match outcome {
        Ok(done) => done,
        Err(err) => {
            if matches!(err.downcast_ref(), Some(Failure::Cancelled(_))) {
                report.status = Status::Cancelled;
            }
            let error = match interrupt::ended_by(&err) {
                Some(signal) => {
                    report.status = Status::Interrupted;
                    signal.interruption()
                }
                None => format!("{err:#}"),
            };
            if let Err(log_err) = record_import(
                &conn,
                &report,
                actor_id.as_deref(),
                Some(&error),
                args.validate_only,
            ) {
                reporter.note(format!(
                    "bomizzel-backup: the failed import could not be logged: {log_err:#}"
                ));
            }
            return Err(err);
        }
    };
    report.status = status;
    report.plan = plan;
    report.company_created = created;
    record_import(
        &conn,
        &report,
        actor_id.as_deref(),
        None,
        args.validate_only,
    )
    .with_context(|| {
        let done = match status {
            Status::Validated => "the validation is done",
            _ => "the import is complete",
        };
        Unlogged(format!("{done}, but it could not be recorded in the log"))
    })?;
    print_summary(reporter, &report, started.elapsed());
    let failure = (status == Status::Validated && report.plan.conflict_count > 0)
        .then(|| conflict_failure(&report.plan));
    report.error = failure.as_ref().map(crate::error::json_error);
    reporter.result(&report)?;
    failure.map_or(Ok(()), Err)
}

/// An invalid archive's message names the file, whichever check found the problem.
pub(crate) fn naming_file(err: anyhow::Error, input: Option<&Input>) -> anyhow::Error {
    let Some(input) = input else {
        return err;
    };
    let label = input.to_string();
    match err.downcast_ref::<Failure>() {
        Some(Failure::InvalidArchive(message)) if !message.starts_with(&label) => {
            Failure::InvalidArchive(format!("{label}: {message}")).into()
        }
        _ => err,
    }
}

/// What is known of an import as it goes, so that a failure is logged against its company.
#[derive(Default)]
struct Attempt {
    input: Option<Input>,
    company: Option<tenant::Company>,
    source: Option<Source>,
}

/// Finds the archive, the target company and the actor, then validates or imports.
/// Returns the status, the plan, and whether the company was created.
fn attempt_import(
    conn: &mut Connection,
    global: &GlobalOpts,
    args: &ImportArgs,
    keys: &Keys,
    policy: Policy,
    reporter: &Reporter,
    attempt: &mut Attempt,
) -> Result<(Status, Plan, bool)> {
    if let Some(selector) = global.company.as_deref() {
        match tenant::resolve_company(conn, Some(selector)) {
            Ok(company) => attempt.company = Some(company),
            // With --create-company the named company may be the archive's, still to come.
            Err(_) if args.create_company => {}
            Err(err) => return Err(err),
        }
    }
    let input = match &args.export_id {
        Some(export_id) => {
            let company = match &attempt.company {
                Some(company) => company.clone(),
                None => tenant::resolve_company(conn, None)?,
            };
            attempt.company = Some(company.clone());
            Input::File(exported_file(conn, &company, export_id)?)
        }
        None => input_from(args.file.clone())?,
    };
    attempt.input = Some(input.clone());
    let mut archive = ArchiveFile::open(&input, keys)?;
    let manifest = read_manifest(&mut archive)?;
    attempt.source = Some(source_of(&archive, &manifest));
    let (company, create) = target_company(
        conn,
        global.company.as_deref(),
        &manifest,
        args.create_company,
    )?;
    if !create {
        // A company still to be created has no log of its own yet.
        attempt.company = Some(company.clone());
    }
    let actor = if create {
        archive_admin(&mut archive, global.actor.as_deref())?
    } else {
        let actor = tenant::authorize_actor(conn, global.actor.as_deref(), &company)?;
        ImportActor {
            email: actor.email,
            id: Some(actor.id),
        }
    };
    let mut job = Job {
        archive: &mut archive,
        manifest: &manifest,
        company: &company,
        create,
        policy,
        actor,
        progress: import_progress(reporter, &manifest),
        witness: None,
    };
    if args.validate_only {
        let plan = job.plan_only(conn)?;
        attempt.company = Some(company);
        return Ok((Status::Validated, plan, false));
    }
    let ask = policy == Policy::Overwrite
        && !args.confirmation.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let plan = job.import(conn, ask, reporter)?;
    attempt.company = Some(company);
    Ok((Status::Ok, plan, create))
}

pub(crate) fn input_from(file: Option<PathBuf>) -> Result<Input> {
    match file {
        Some(path) if path.as_os_str() == "-" => Ok(Input::Stdin),
        Some(path) => Ok(Input::File(path)),
        None => {
            Err(Failure::Usage("no archive given: pass FILE, `-` or --export-id".into()).into())
        }
    }
}

/// Reads and validates an archive on its own, as `--validate-only` does without a
/// database: the archive, its manifest and its counts, or why it is invalid (exit status 3).
/// `keys` open an encrypted archive.
pub fn validate_archive(
    input: &Input,
    keys: &Keys,
) -> Result<(ArchiveFile, Manifest, Counts, Warnings)> {
    let mut archive = ArchiveFile::open(input, keys)?;
    let mut validator = Validator::new();
    read_pass(&mut archive, &mut validator, None, &ProgressBar::hidden())?;
    let manifest = validator.require_manifest()?.clone();
    Ok((
        archive,
        manifest,
        validator.counts(),
        validator.take_warnings(),
    ))
}

/// `--validate-only` with no database: the file alone.
fn validate_file(input: &Input, keys: &Keys, reporter: &Reporter) -> Result<()> {
    let (archive, manifest, counts, warnings) = validate_archive(input, keys)?;
    let report = FileReport {
        valid: true,
        source: source_of(&archive, &manifest),
        counts,
        warnings,
    };
    let c = &report.counts;
    reporter.note(format!(
        "{}: a valid archive of {} exported {}",
        report.source.file, manifest.company_name, manifest.exported_at
    ));
    reporter.note(format!(
        "  {} users, {} custom fields, {} tickets ({} notes, {} history entries), {} attachments",
        c.users, c.custom_fields, c.tickets, c.notes, c.history, c.attachments
    ));
    print_warnings(reporter, &report.warnings);
    reporter.result(&report)?;
    Ok(())
}

/// What a pass over the archive hands each valid record to.
pub(crate) type TakeRecord<'t> = dyn FnMut(Record) -> Result<()> + 't;

/// Reads every section once, validating each record and handing valid ones to `take`.
pub(crate) fn read_pass(
    archive: &mut ArchiveFile,
    validator: &mut Validator,
    mut take: Option<&mut TakeRecord<'_>>,
    progress: &ProgressBar,
) -> Result<BTreeSet<Section>> {
    let mut present = BTreeSet::new();
    for sections in READ_ORDER {
        present.extend(archive.read(sections, &mut |event| {
            interrupt::check()?;
            match event {
                Event::Manifest(value) => validator.check_manifest(value),
                Event::Record(section, index, value) => {
                    progress.inc(1);
                    // After a problem the import is going to fail: the rest is only checked,
                    // so that what follows from the problem (an attachment of a refused
                    // ticket) does not hide it.
                    if let Some(record) = validator.check_record(section, index, value)?
                        && !validator.has_problems()
                        && let Some(take) = take.as_deref_mut()
                    {
                        take(record)?;
                    }
                    Ok(())
                }
            }
        })?);
    }
    validator.finish(&present)?;
    Ok(present)
}

/// Signals that a reader may stop: what was wanted has been seen.
#[derive(Debug, thiserror::Error)]
#[error("stopped reading")]
struct StopReading;

pub(crate) fn read_manifest(archive: &mut ArchiveFile) -> Result<Manifest> {
    let mut found = None;
    let read = archive.read(&[], &mut |event| {
        if let Event::Manifest(value) = event {
            found = Some(value);
            return Err(StopReading.into());
        }
        Ok(())
    });
    match read {
        Err(err) if !err.is::<StopReading>() => return Err(err),
        _ => {}
    }
    // A full validation follows; here only what choosing the target needs.
    let mut validator = Validator::new();
    if let Some(value) = found {
        validator.check_manifest(value)?;
    }
    Ok(validator.require_manifest()?.clone())
}

/// Chooses the company to import into: `--company`, else the archive's own company when
/// the database has it, else (with `--create-company`) the archive's company, to create.
fn target_company(
    conn: &Connection,
    selector: Option<&str>,
    manifest: &Manifest,
    create: bool,
) -> Result<(tenant::Company, bool)> {
    let names_archive_company = |selector: &str| {
        selector == manifest.company_id || selector.eq_ignore_ascii_case(&manifest.company_name)
    };
    match selector {
        Some(selector) if !(create && names_archive_company(selector)) => {
            return Ok((tenant::resolve_company(conn, Some(selector))?, false));
        }
        _ => {}
    }
    let own: Option<String> = conn
        .query_row(
            "SELECT name FROM companies WHERE id = ?1",
            [&manifest.company_id],
            |row| row.get(0),
        )
        .optional()?;
    let archived = tenant::Company {
        id: manifest.company_id.clone(),
        name: manifest.company_name.clone(),
    };
    match own {
        Some(name) => Ok((tenant::Company { name, ..archived }, false)),
        None if create => Ok((archived, true)),
        None => Err(Failure::NotFound(format!(
            "the archive's company {} ({}) is not in this database; choose a target with --company (companies: {}) or restore it with --create-company",
            manifest.company_name,
            manifest.company_id,
            tenant::describe(&tenant::list_companies(conn)?)
        ))
        .into()),
    }
}

/// For `--create-company`: the actor must be an active admin among the archive's users.
fn archive_admin(archive: &mut ArchiveFile, email: Option<&str>) -> Result<ImportActor> {
    let Some(email) = email else {
        return Err(Failure::Usage(
            "no actor: pass --actor EMAIL (or set BOMIZZEL_ACTOR) naming an admin among the archive's users".into(),
        )
        .into());
    };
    let user = archive_user(archive, |user| user.email.eq_ignore_ascii_case(email))?;
    let admin = user.is_some_and(|user| {
        NullFlag::UserActive.read(user.is_active)
            && (user.role.value == UserRole::Admin
                || user.company_role.map(|r| r.value) == Some(CompanyRole::Admin))
    });
    if !admin {
        return Err(Failure::PermissionDenied(format!(
            "{email} is not an active admin among the archive's users, so it cannot create the company"
        ))
        .into());
    }
    Ok(ImportActor {
        email: email.to_owned(),
        id: None,
    })
}

/// The last of the archive's users that `wanted` picks (emails are unique but for case, and
/// a case twin is dropped). A broken user record may be the one wanted: the archive is then
/// invalid (exit status 3), whatever the caller would make of the answer.
pub(crate) fn archive_user(
    archive: &mut ArchiveFile,
    wanted: impl Fn(&UserRecord) -> bool,
) -> Result<Option<UserRecord>> {
    let mut validator = Validator::new();
    let mut found = None;
    archive.read(&[Section::Users], &mut |event| {
        if let Event::Record(section, index, value) = event
            && let Some(Record::User(user)) = validator.check_record(section, index, value)?
            && wanted(&user)
        {
            found = Some(user);
        }
        Ok(())
    })?;
    validator.check_clean()?;
    Ok(found)
}

/// Restores an archive into an empty database as `--create-company` does, in one
/// transaction, with `witness` seeing every record it takes: `verify`'s restore. Returns the
/// plan it carried out.
pub(crate) fn restore_company(
    conn: &mut Connection,
    archive: &mut ArchiveFile,
    manifest: &Manifest,
    actor: ImportActor,
    reporter: &Reporter,
    witness: &mut TakeRecord<'_>,
) -> Result<Plan> {
    let company = tenant::Company {
        id: manifest.company_id.clone(),
        name: manifest.company_name.clone(),
    };
    let mut job = Job {
        archive,
        manifest,
        company: &company,
        create: true,
        policy: Policy::Strict,
        progress: import_progress(reporter, manifest),
        actor,
        witness: Some(witness),
    };
    job.import(conn, false, reporter)
}

/// Records read, counted against the manifest's counts (a web app file has none: no bar).
fn import_progress(reporter: &Reporter, manifest: &Manifest) -> ProgressBar {
    match manifest.counts {
        Some(c) => reporter.progress(
            c.users + c.custom_fields + c.tickets + c.attachments,
            "importing",
        ),
        None => ProgressBar::hidden(),
    }
}

/// One import of one archive into one company.
struct Job<'a> {
    archive: &'a mut ArchiveFile,
    manifest: &'a Manifest,
    company: &'a tenant::Company,
    create: bool,
    policy: Policy,
    actor: ImportActor,
    /// Records read, on a terminal.
    progress: ProgressBar,
    /// Sees each record the import takes, after the importer.
    witness: Option<&'a mut TakeRecord<'a>>,
}

impl Job<'_> {
    /// Validates and plans in a read transaction; changes nothing.
    fn plan_only(&mut self, conn: &mut Connection) -> Result<Plan> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let plan = self.pass(&tx, Mode::Plan)?;
        drop(tx);
        Ok(plan)
    }

    /// Imports in one write transaction; with `ask`, first shows the plan and asks.
    fn import(&mut self, conn: &mut Connection, ask: bool, reporter: &Reporter) -> Result<Plan> {
        let confirmed = if ask {
            let plan = self.plan_only(conn)?;
            if plan.conflict_count > 0 {
                return Err(conflict_failure(&plan));
            }
            let of = match self.manifest.company_id == self.company.id {
                true => String::new(),
                false => format!(" of {}'s archive", self.manifest.company_name),
            };
            reporter.note(format!(
                "This import{of} into {} would do:",
                self.company.name
            ));
            print_plan(reporter, &plan);
            let go = dialoguer::Confirm::new()
                .with_prompt(format!(
                    "Overwrite existing records of {} with the archive's values?",
                    self.company.name
                ))
                .default(false)
                .interact()
                .context("cannot ask for confirmation")?;
            if !go {
                return Err(
                    Failure::Cancelled("import cancelled; nothing was changed".into()).into(),
                );
            }
            Some(plan)
        } else {
            None
        };

        // A larger page cache for this connection only (nothing is stored in the file):
        // the import touches many index pages, and 16 MiB keeps memory flat all the same.
        conn.pragma_update(None, "cache_size", -16_384)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // First, so that they come and go with the import: the id map it may fill, and the
        // log it is recorded in.
        db::create_tool_tables(&tx, &[ToolTable::IdMap, ToolTable::ImportLog])?;
        let now = db::now_timestamp();
        if self.create {
            let company = self.manifest.company.clone().unwrap_or(CompanyRecord {
                id: self.company.id.clone(),
                name: self.company.name.clone(),
                domain: None,
                description: None,
                is_active: true,
                created_at: now.clone(),
                updated_at: now.clone(),
            });
            import_rows::create_company(&tx, &company)?;
        }
        // One pass decides and writes; a conflict or an invalid record anywhere rolls it
        // all back when `tx` is dropped.
        let plan = self.pass(&tx, Mode::Apply)?;
        if plan.conflict_count > 0 {
            return Err(conflict_failure(&plan));
        }
        if let Some(confirmed) = confirmed
            && confirmed.outcomes != plan.outcomes
        {
            return Err(Failure::Conflict(
                "the database changed while waiting for confirmation; nothing was imported, run it again".into(),
            )
            .into());
        }
        // The last moment to stop: the import is complete once committed.
        interrupt::check()?;
        tx.commit().context("cannot commit the import")?;
        Ok(plan)
    }

    fn pass(&mut self, conn: &Connection, mode: Mode) -> Result<Plan> {
        let db = ImportDb::new(conn, &self.company.id)?;
        let mut importer = Importer::new(
            db,
            mode,
            self.policy,
            &self.company.name,
            self.actor.clone(),
            self.manifest.options.include_tickets,
            self.manifest.format.is_none(),
        )?;
        // Into an empty company the database refuses repeated ids itself; elsewhere the
        // validator must remember them.
        let mut validator = if mode == Mode::Apply && importer.started_empty() {
            Validator::without_record_ids()
        } else {
            Validator::new()
        };
        self.progress.reset();
        let mut witness = self.witness.as_deref_mut();
        let mut take = |record: Record| -> Result<()> {
            importer.record(&record)?;
            match witness.as_deref_mut() {
                Some(witness) => witness(record),
                None => Ok(()),
            }
        };
        read_pass(
            self.archive,
            &mut validator,
            Some(&mut take),
            &self.progress,
        )?;
        self.progress.finish_and_clear();
        Ok(importer.finish(validator.take_warnings()))
    }
}

/// Exit status 4, naming the first few conflicts (the report lists them all).
fn conflict_failure(plan: &Plan) -> anyhow::Error {
    const NAMED: usize = 5;
    let mut named = plan
        .conflicts
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    let more = plan
        .conflict_count
        .saturating_sub(NAMED.min(plan.conflicts.len()) as u64);
    if more > 0 {
        named.push_str(&format!("; and {more} more"));
    }
    Failure::Conflict(format!(
        "{named} (nothing was imported: use --skip-duplicates to keep existing records or --overwrite to replace them)"
    ))
    .into()
}

/// The archive file recorded for an export of this company.
fn exported_file(conn: &Connection, company: &tenant::Company, export_id: &str) -> Result<PathBuf> {
    let Some(entry) = logs::find_of(conn, &company.id, export_id, &[LogKind::Export])? else {
        return Err(Failure::NotFound(format!(
            "unknown export id {export_id} for {}",
            company.name
        ))
        .into());
    };
    let detail = entry.detail;
    let file = detail
        .get("file")
        .and_then(|f| f.as_str())
        .filter(|f| *f != "-");
    let pruned = matches!(logs::Retention::of(&detail), logs::Retention::Pruned { .. });
    match file.map(PathBuf::from) {
        Some(path) if !pruned && path.is_file() => Ok(path),
        _ => Err(Failure::NotFound(format!(
            "Export file not found or has expired (export {export_id})"
        ))
        .into()),
    }
}

fn new_import_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "import_{}_{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        &random[..8]
    )
}

pub(crate) fn source_of(archive: &ArchiveFile, manifest: &Manifest) -> Source {
    Source {
        file: archive.location(),
        layout: Some(archive.layout()),
        export_id: Some(manifest.export_id.clone()),
        company_id: Some(manifest.company_id.clone()),
        company_name: Some(manifest.company_name.clone()),
        exported_at: Some(manifest.exported_at.clone()),
    }
}

/// The import log row: the web app's summary keys, and the tool's detail beside them.
///
/// A validation (`validation`) only reads, so it creates no table: on a database without an
/// import log it is not recorded. An import creates the log when missing, failed ones too
/// (their rollback took away what the import had created).
fn record_import(
    conn: &Connection,
    report: &ImportReport,
    actor_id: Option<&str>,
    error: Option<&str>,
    validation: bool,
) -> Result<()> {
    if validation {
        if !db::has_table(conn, ToolTable::ImportLog)? {
            return Ok(());
        }
    } else {
        db::create_tool_tables_now(conn, &[ToolTable::ImportLog])?;
    }
    let o = &report.plan.outcomes;
    let mut errors: Vec<String> = report.plan.conflicts.clone();
    if let Some(err) = error {
        errors.push(err.to_owned());
    }
    let summary = json!({
        "usersImported": o.users.created + o.users.linked + o.users.updated,
        "usersSkipped": o.users.skipped,
        "ticketsImported": o.tickets.created + o.tickets.updated,
        "ticketsSkipped": o.tickets.skipped,
        "customFieldsImported": o.custom_fields.created + o.custom_fields.updated,
        "errors": errors,
        "conflictCount": report.plan.conflict_count,
        "status": report.status,
        "policy": report.policy,
        "file": report.source.file,
        "source": report.source,
        "companyCreated": report.company_created,
        "outcomes": o,
        "warnings": report.plan.warnings,
        "passwordResetRequired": report.plan.password_reset_required,
        "error": error,
        "tool": concat!("bomizzel-backup ", env!("CARGO_PKG_VERSION")),
    });
    logs::insert(
        conn,
        LogKind::Import,
        &report.company_id,
        actor_id,
        &report.import_id,
        &summary,
        &db::now_timestamp(),
    )
}

fn print_plan(reporter: &Reporter, plan: &Plan) {
    reporter.note(format!(
        "  {:<15}{:>9}{:>9}{:>10}{:>9}{:>9}",
        "", "created", "updated", "unchanged", "skipped", "linked"
    ));
    for (name, t) in plan.outcomes.rows() {
        reporter.note(format!(
            "  {name:<15}{:>9}{:>9}{:>10}{:>9}{:>9}",
            t.created, t.updated, t.unchanged, t.skipped, t.linked
        ));
    }
    if !plan.conflicts.is_empty() {
        reporter.note(format!("Conflicts ({}):", plan.conflict_count));
        for conflict in &plan.conflicts {
            reporter.note(format!("  {conflict}"));
        }
    }
    print_warnings(reporter, &plan.warnings);
}

pub(crate) fn print_warnings(reporter: &Reporter, warnings: &Warnings) {
    if warnings.is_empty() {
        return;
    }
    reporter.note("Warnings:");
    for (warning, count) in warnings.iter() {
        let times = if *count > 1 {
            format!(" ({count} records)")
        } else {
            String::new()
        };
        reporter.note(format!("  {warning}{times}"));
    }
}

fn print_summary(reporter: &Reporter, report: &ImportReport, took: std::time::Duration) {
    // Another company's archive is said to be one, so that nobody moves people by mistake.
    let archive = match (&report.source.company_name, report.cross_company) {
        (Some(name), true) => format!("{name}'s archive {}", report.source.file),
        _ => report.source.file.clone(),
    };
    let headline = match report.status {
        Status::Validated => format!(
            "{archive}: valid; importing it into {} would do this ({} policy):",
            report.company_name,
            policy_name(report.policy)
        ),
        _ => format!(
            "Imported {archive} into {}{} as {} in {:.1} s",
            report.company_name,
            if report.company_created {
                " (company created)"
            } else {
                ""
            },
            report.import_id,
            took.as_secs_f64()
        ),
    };
    reporter.note(headline);
    print_plan(reporter, &report.plan);
    if !report.plan.admin_grants.is_empty() {
        let verb = match report.status {
            Status::Validated => "would make",
            _ => "made",
        };
        reporter.note(format!(
            "The import {verb} these people of other companies admins of {}: {}",
            report.company_name,
            report.plan.admin_grants.join(", ")
        ));
    }
    let new_users = report.plan.password_reset_required;
    if new_users > 0 {
        let (someone, verb) = match (new_users, report.status) {
            (1, Status::Validated) => ("new user", "would have"),
            (1, _) => ("new user", "has"),
            (_, Status::Validated) => ("new users", "would have"),
            _ => ("new users", "have"),
        };
        reporter.note(format!(
            "{new_users} {someone} {verb} no password and must set one before logging in."
        ));
    }
}

fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::Strict => "strict",
        Policy::SkipDuplicates => "skip-duplicates",
        Policy::Overwrite => "overwrite",
    }
}
