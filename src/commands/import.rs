//! `import`: restore an archive into one company, all or nothing. This is the command's
//! side: its arguments, choosing the archive and the company, the question before
//! `--overwrite`, the log row and the report. The restore itself is `crate::restore`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;

use crate::archive::envelope::Keys;
use crate::archive::reader::{ArchiveFile, Input, Layout};
use crate::archive::records::{Counts, Manifest};
use crate::archive::validate::{self, Warnings};
use crate::cli::{GlobalOpts, ImportArgs};
use crate::db::logs::{self, FileState, LogKind, RecordedArchive, Retention};
use crate::db::schema::ToolTable;
use crate::db::{self, tenant};
use crate::error::Failure;
use crate::interrupt;
use crate::report::Reporter;
use crate::restore::job::{
    Job, archive_admin, conflict_failure, first_few, import_progress, survey, target_company,
    validate_archive,
};
use crate::restore::{ChosenTickets, ImportActor, Plan, Policy, Selection};

use crate::error::Unlogged;

/// What to do when the database to import into is missing: it may be a restore onto a new
/// machine.
const RESTORE_HINT: &str = "to restore into a new database, create an empty one with \
    `bomizzel-backup --db PATH init` and import with --create-company";

/// The outcome of an import run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
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
pub(crate) struct Source {
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
pub(crate) struct ImportReport {
    pub import_id: String,
    pub status: Status,
    pub policy: Policy,
    pub company_id: String,
    pub company_name: String,
    pub company_created: bool,
    pub source: Source,
    /// The archive is another company's: its people and roles come into this one.
    pub cross_company: bool,
    /// The tickets asked for (`--ticket`, `--tickets-from`); absent for a whole import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_tickets: Option<Vec<String>>,
    #[serde(flatten)]
    pub plan: Plan,
    /// Why a validation fails (its conflicts), so that `--json` stays one document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

/// The `--json` report of `--validate-only` without a database.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileReport {
    pub valid: bool,
    pub source: Source,
    pub counts: Counts,
    /// The tickets asked for, every one of them in the archive; absent when none were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_tickets: Option<Vec<String>>,
    /// What the archive holds that an import would translate, each with its count.
    pub warnings: Warnings,
}

pub(crate) fn run(global: &GlobalOpts, args: &ImportArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    run_import(global, args, reporter)
        .map_err(interrupt::explain)
        .map_err(|err| super::explain_busy(err, global, Some("imported")))
}

fn run_import(global: &GlobalOpts, args: &ImportArgs, reporter: &Reporter) -> Result<()> {
    let policy = if args.overwrite {
        Policy::Overwrite
    } else if args.skip_duplicates {
        Policy::SkipDuplicates
    } else {
        Policy::Strict
    };
    let chosen = chosen_tickets(args)?;
    let keys = Keys::new(args.decryption.identity.clone());
    // Without a database: no --db (nor BOMIZZEL_DB), whatever ./bomizzel.db there may be, or
    // one that does not exist. The file alone is checked.
    let no_database = global.db.as_ref().is_none_or(|db| !db.exists());
    if args.validate_only && args.export_id.is_none() && no_database {
        let input = input_from(args.file.clone())?;
        return validate_file(&input, &keys, chosen, reporter)
            .map_err(|err| naming_file(err, Some(&input)));
    }

    let started = std::time::Instant::now();
    // An archive by its export id needs the database that logged it: no restore there.
    let restoring = !args.validate_only && args.export_id.is_none();
    let restore_hint = restoring.then_some(RESTORE_HINT);
    let mut conn = super::open_database(global, restore_hint)?;
    reporter.step(format!(
        "opened the database {}",
        global.db_path().display()
    ));
    let import_id = LogKind::Import.new_entry_id(chrono::Utc::now());
    let mut attempt = Attempt {
        chosen,
        ..Attempt::default()
    };
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
        .is_err_and(|err| crate::error::classify(err) == crate::error::Class::Busy)
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
        chosen_tickets: attempt.chosen.map(|chosen| chosen.ids().to_vec()),
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
    match input {
        Some(input) => input.named_in(err),
        None => err,
    }
}

/// What is known of an import as it goes, so that a failure is logged against its company.
#[derive(Default)]
struct Attempt {
    /// The tickets asked for; `None` imports the whole archive.
    chosen: Option<ChosenTickets>,
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
    // A full validation follows; here only what choosing the target needs.
    let manifest = validate::read_manifest(&mut archive)?;
    attempt.source = Some(source_of(&archive, &manifest));
    reporter.step(format!(
        "read {input}: {:?} archive {} of {} ({}), exported {}",
        archive.layout(),
        manifest.export_id,
        manifest.company_name,
        manifest.company_id,
        manifest.exported_at
    ));
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
    reporter.step(match create {
        true => format!("target: {} ({}), to be created", company.name, company.id),
        false => format!("target: {} ({})", company.name, company.id),
    });
    let actor = if create {
        archive_admin(&mut archive, global.actor.as_deref())?
    } else {
        let actor = tenant::authorize_actor(conn, global.actor.as_deref(), &company)?;
        ImportActor {
            email: actor.email,
            id: Some(actor.id),
        }
    };
    reporter.step(format!("acting as {}", actor.email));
    let progress = import_progress(reporter, &manifest);
    let selection = match attempt.chosen.clone() {
        Some(chosen) => {
            reporter.step("a first pass: checking the archive, finding the chosen tickets");
            let mut selection = Selection::new(chosen);
            if create {
                selection.include_person(&actor.email);
            }
            survey(&mut archive, &mut selection, &progress)?;
            Some(selection)
        }
        None => None,
    };
    let mut job = Job {
        archive: &mut archive,
        manifest: &manifest,
        company: &company,
        create,
        policy,
        selection: selection.as_ref(),
        actor: Some(actor),
        progress,
        witness: None,
    };
    if args.validate_only {
        reporter.step("planning in a read transaction; nothing will be written");
        let plan = job.plan_only(conn)?;
        attempt.company = Some(company);
        return Ok((Status::Validated, plan, false));
    }
    let ask = policy == Policy::Overwrite
        && !args.confirmation.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let mut confirm = |plan: &Plan| confirm_overwrite(reporter, &manifest, &company, plan);
    let plan = job.import(conn, ask.then_some(&mut confirm as _), reporter)?;
    attempt.company = Some(company);
    Ok((Status::Ok, plan, create))
}

/// Shows what `--overwrite` would do and asks; no is `Failure::Cancelled`.
fn confirm_overwrite(
    reporter: &Reporter,
    manifest: &Manifest,
    company: &tenant::Company,
    plan: &Plan,
) -> Result<()> {
    let of = match manifest.company_id == company.id {
        true => String::new(),
        false => format!(" of {}'s archive", manifest.company_name),
    };
    reporter.note(format!("This import{of} into {} would do:", company.name));
    print_plan(reporter, plan);
    let go = dialoguer::Confirm::new()
        .with_prompt(format!(
            "Overwrite existing records of {} with the archive's values?",
            company.name
        ))
        .default(false)
        .interact()
        .context("cannot ask for confirmation")?;
    match go {
        true => Ok(()),
        false => Err(Failure::Cancelled("import cancelled; nothing was changed".into()).into()),
    }
}

pub(crate) fn input_from(file: Option<PathBuf>) -> Result<Input> {
    match file {
        Some(path) => Ok(Input::from_arg(path)),
        None => {
            Err(Failure::Usage("no archive given: pass FILE, `-` or --export-id".into()).into())
        }
    }
}

/// `--validate-only` with no database: the file alone, and the chosen tickets in it.
fn validate_file(
    input: &Input,
    keys: &Keys,
    chosen: Option<ChosenTickets>,
    reporter: &Reporter,
) -> Result<()> {
    let (archive, manifest, counts, warnings) = match chosen.clone() {
        None => validate_archive(input, keys)?,
        Some(chosen) => {
            let mut archive = ArchiveFile::open(input, keys)?;
            let mut validator = survey(
                &mut archive,
                &mut Selection::new(chosen),
                &ProgressBar::hidden(),
            )?;
            let manifest = validator.require_manifest()?.clone();
            (
                archive,
                manifest,
                validator.counts(),
                validator.take_warnings(),
            )
        }
    };
    let report = FileReport {
        valid: true,
        source: source_of(&archive, &manifest),
        counts,
        chosen_tickets: chosen.map(|chosen| chosen.ids().to_vec()),
        warnings,
    };
    reporter.note(format!(
        "{}: a valid archive of {} exported {}",
        report.source.file, manifest.company_name, manifest.exported_at
    ));
    reporter.note(format!("  {}", report.counts));
    if let Some(chosen) = &report.chosen_tickets {
        reporter.note(format!("  holding the chosen tickets: {}", named(chosen)));
    }
    reporter.warnings(&report.warnings);
    reporter.result(&report)?;
    Ok(())
}

/// The tickets `--ticket` and `--tickets-from` choose, if any. Only one of the list and the
/// archive can come from stdin.
fn chosen_tickets(args: &ImportArgs) -> Result<Option<ChosenTickets>> {
    let list = args.tickets_from.clone().map(Input::from_arg);
    let archive_on_stdin = args.file.as_deref() == Some(std::path::Path::new("-"));
    if list == Some(Input::Stdin) && archive_on_stdin {
        return Err(Failure::Usage(
            "--tickets-from - and the archive - cannot both be read from stdin; put the ticket ids in a file".into(),
        )
        .into());
    }
    ChosenTickets::from_command_line(&args.ticket, list.as_ref())
}

/// The archive file recorded for an export of this company, while it is still the file
/// that export wrote: one changed since (overwritten, edited, damaged) is an invalid archive.
fn exported_file(conn: &Connection, company: &tenant::Company, export_id: &str) -> Result<PathBuf> {
    let Some(entry) = logs::find_of(conn, &company.id, export_id, &[LogKind::Export])? else {
        return Err(Failure::NotFound(format!(
            "unknown export id {export_id} for {}",
            company.name
        ))
        .into());
    };
    let expired = || {
        Failure::NotFound(format!(
            "Export file not found or has expired (export {export_id})"
        ))
    };
    let pruned = matches!(Retention::of(&entry.detail), Retention::Pruned { .. });
    let Some(recorded) = RecordedArchive::of(&entry.detail).filter(|_| !pruned) else {
        return Err(expired().into());
    };
    match recorded.state()? {
        FileState::Unchanged => Ok(recorded.path().to_owned()),
        FileState::Changed(change) => Err(Failure::InvalidArchive(format!(
            "{}: changed since export {export_id}: {change}",
            recorded.file
        ))
        .into()),
        FileState::Missing => Err(expired().into()),
    }
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
    let mut summary = json!({
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
        "tool": crate::TOOL,
    });
    // Only a restore of chosen tickets has these, so whole imports' rows stay as they were.
    if let Some(chosen) = &report.chosen_tickets {
        summary["chosenTickets"] = json!(chosen);
    }
    if let Some(left_out) = &report.plan.not_chosen {
        summary["notChosen"] = json!(left_out);
    }
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
    if let Some(left_out) = &plan.not_chosen {
        reporter.note(format!("  not chosen, left in the archive: {left_out}"));
    }
    if !plan.conflicts.is_empty() {
        reporter.note(format!("Conflicts ({}):", plan.conflict_count));
        for conflict in &plan.conflicts {
            reporter.note(format!("  {conflict}"));
        }
    }
    reporter.warnings(&plan.warnings);
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
    if let Some(chosen) = &report.chosen_tickets {
        reporter.note(format!(
            "Only the chosen tickets, with the users and custom fields they refer to: {}",
            named(chosen)
        ));
    }
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

/// Up to ten of the chosen tickets' ids, and how many more there are.
fn named(ids: &[String]) -> String {
    first_few(ids, ids.len() as u64, 10, ", ")
}

fn policy_name(policy: Policy) -> &'static str {
    match policy {
        Policy::Strict => "strict",
        Policy::SkipDuplicates => "skip-duplicates",
        Policy::Overwrite => "overwrite",
    }
}
