//! `import`: restore an archive into one company, all or nothing. This is the command's
//! side: its arguments as an `ImportRequest`, then the run; the report and its log row are
//! `report`, the steps that find the archive, the company and the actor are `attempt`,
//! and the restore itself is `crate::restore`.

mod attempt;
pub(crate) mod report;

use anyhow::{Context, Result};

use crate::archive::envelope::Keys;
use crate::archive::reader::Input;
use crate::cli::{GlobalOpts, ImportArgs};
use crate::db::logs::LogKind;
use crate::db::{self, tenant};
use crate::error::{Failure, Unlogged};
use crate::interrupt;
use crate::report::Reporter;
use crate::restore::job::conflict_failure;
use crate::restore::{ChosenTickets, Mode, Policy};
use attempt::Attempt;
use report::{ImportReport, Source, Status};

/// What to do when the database to import into is missing: it may be a restore onto a new
/// machine.
const RESTORE_HINT: &str = "to restore into a new database, create an empty one with \
    `bomizzel-backup --db PATH init` and import with --create-company";

/// Where the archive comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchiveSource {
    /// A file, or stdin.
    Given(Input),
    /// The file recorded for this export id in the database's export log.
    Export(String),
}

/// Everything `import` needs to know, in typed form.
#[derive(Debug, Clone)]
pub(crate) struct ImportRequest {
    pub archive: ArchiveSource,
    /// What opens an encrypted archive.
    pub keys: Keys,
    pub policy: Policy,
    /// The tickets asked for; `None` restores the whole archive.
    pub chosen: Option<ChosenTickets>,
    /// `Plan` checks and plans (`--validate-only`), changing nothing.
    pub mode: Mode,
    /// Create the archive's company when the database lacks it.
    pub create_company: bool,
    /// Show the plan and ask before `--overwrite` changes anything (no `--yes`); asked only
    /// on a terminal.
    pub ask_before_overwrite: bool,
}

impl ImportRequest {
    /// The request the arguments make; reads the `--tickets-from` list.
    fn from_args(args: &ImportArgs) -> Result<Self> {
        let policy = if args.overwrite {
            Policy::Overwrite
        } else if args.skip_duplicates {
            Policy::SkipDuplicates
        } else {
            Policy::Strict
        };
        // clap asks for one of them.
        let archive = match (&args.export_id, &args.file) {
            (Some(export_id), _) => ArchiveSource::Export(export_id.clone()),
            (None, Some(file)) => ArchiveSource::Given(Input::from_arg(file.clone())),
            (None, None) => {
                return Err(Failure::Usage(
                    "no archive given: pass FILE, `-` or --export-id".into(),
                )
                .into());
            }
        };
        Ok(Self {
            chosen: chosen_tickets(args, &archive)?,
            archive,
            keys: Keys::new(args.decryption.identity.clone()),
            policy,
            mode: match args.validate_only {
                true => Mode::Plan,
                false => Mode::Apply,
            },
            create_company: args.create_company,
            ask_before_overwrite: policy == Policy::Overwrite && !args.confirmation.yes,
        })
    }
}

/// The tickets `--ticket` and `--tickets-from` choose, if any. Only one of the list and the
/// archive can come from stdin.
fn chosen_tickets(args: &ImportArgs, archive: &ArchiveSource) -> Result<Option<ChosenTickets>> {
    let list = args.tickets_from.clone().map(Input::from_arg);
    if list == Some(Input::Stdin) && *archive == ArchiveSource::Given(Input::Stdin) {
        return Err(Failure::Usage(
            "--tickets-from - and the archive - cannot both be read from stdin; put the ticket ids in a file".into(),
        )
        .into());
    }
    ChosenTickets::from_command_line(&args.ticket, list.as_ref())
}

pub(crate) fn run(global: &GlobalOpts, args: &ImportArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    ImportRequest::from_args(args)
        .and_then(|request| run_import(global, &request, reporter))
        .map_err(interrupt::explain)
        .map_err(|err| super::explain_busy(err, global, Some("imported")))
}

fn run_import(global: &GlobalOpts, request: &ImportRequest, reporter: &Reporter) -> Result<()> {
    let validation = request.mode == Mode::Plan;
    // Without a database: no --db (nor BOMIZZEL_DB), whatever ./bomizzel.db there may be, or
    // a SQLite file that does not exist (a PostgreSQL URL is always a database). The file
    // alone is checked.
    let no_database = global
        .db
        .as_ref()
        .is_none_or(|db| !db::Location::is_url(db.as_os_str()) && !db.exists());
    if let (true, ArchiveSource::Given(input)) = (validation && no_database, &request.archive) {
        return attempt::validate_file(input, request, reporter)
            .map_err(|err| naming_file(err, Some(input)));
    }

    let started = std::time::Instant::now();
    // An archive by its export id needs the database that logged it: no restore there.
    let restoring = !validation && matches!(request.archive, ArchiveSource::Given(_));
    let restore_hint = restoring.then_some(RESTORE_HINT);
    let mut conn = super::open_database(global, restore_hint)?;
    reporter.step(format!(
        "opened the database {}",
        super::database_name(global)
    ));
    let import_id = LogKind::Import.new_entry_id(chrono::Utc::now());
    let mut attempt = Attempt::default();
    let outcome = attempt::attempt_import(&mut conn, global, request, reporter, &mut attempt)
        .map_err(|err| naming_file(err, attempt.input.as_ref()));
    if outcome
        .as_ref()
        .is_err_and(|err| crate::error::classify(err) == crate::error::Class::Busy)
    {
        // The lock has outlasted the busy timeout once: logging the failure tries once more,
        // without making the caller wait as long again.
        conn.stop_waiting_for_locks();
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
    let mut report = ImportReport::failed(
        import_id,
        request.policy,
        request.chosen.as_ref(),
        company,
        source,
    );
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
            if let Err(log_err) =
                report.record(&conn, actor_id.as_deref(), Some(&error), validation)
            {
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
    report
        .record(&conn, actor_id.as_deref(), None, validation)
        .with_context(|| {
            let done = match status {
                Status::Validated => "the validation is done",
                _ => "the import is complete",
            };
            Unlogged(format!("{done}, but it could not be recorded in the log"))
        })?;
    report::print_summary(reporter, &report, started.elapsed());
    let failure = (status == Status::Validated && report.plan.conflict_count > 0)
        .then(|| conflict_failure(&report.plan));
    report.error = failure.as_ref().map(crate::error::json_error);
    reporter.result(&report)?;
    failure.map_or(Ok(()), Err)
}

/// An invalid archive's message names the file, whichever check found the problem.
fn naming_file(err: anyhow::Error, input: Option<&Input>) -> anyhow::Error {
    match input {
        Some(input) => input.named_in(err),
        None => err,
    }
}
