//! One restore of one archive into one company: the read passes over its sections (people
//! and fields, then tickets, then attachments), the target and the actor, and the two ways
//! to run the importer over them: planning in a read transaction, or importing in one write
//! transaction that any conflict or invalid record rolls back.
//!
//! Restoring chosen tickets adds a first pass (`survey`) that checks the whole archive and
//! finds what those tickets refer to; the import's pass then takes only that.

use std::collections::BTreeSet;
use std::mem;
use std::sync::mpsc::{SyncSender, sync_channel};

use anyhow::{Result, anyhow};
use indicatif::ProgressBar;

use super::{ImportActor, Importer, Mode, Plan, Policy, Selection};
use crate::archive::envelope::Keys;
use crate::archive::reader::{ArchiveFile, Event, Input};
use crate::archive::records::{
    CompanyRecord, CompanyRole, Counts, Manifest, NullFlag, Section, UserRecord, UserRole,
};
use crate::archive::validate::{Record, Validator, Warnings};
use crate::db::import_rows::{ImportDb, ImportTarget, ImportWork};
use crate::db::tenant::Directory;
use crate::db::{self, Database, tenant};
use crate::error::Failure;
use crate::interrupt;
use crate::report::Reporter;

/// The sections read in each pass over the archive: people and field definitions first,
/// so tickets can refer to them, and attachments after the tickets they belong to. (A json
/// document may hold its sections in any order; a zip is read entry by entry.)
pub(crate) const READ_ORDER: [&[Section]; 3] = [
    &[Section::Users, Section::CustomFields],
    &[Section::Tickets],
    &[Section::Attachments],
];

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

/// How many records of one section the importer takes at a time where it looks them up
/// together (`Importer::look_ahead`): a few queries per batch instead of a few per record,
/// with a batch's records in memory.
const BATCH: usize = 256;

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

/// `read_pass` handing the records on in batches of up to `BATCH` records of one section.
fn read_in_batches(
    archive: &mut ArchiveFile,
    validator: &mut Validator,
    batches: SyncSender<Vec<Record>>,
    progress: &ProgressBar,
) -> Result<()> {
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    let send = |batch: &mut Vec<Record>| {
        let full = mem::replace(batch, Vec::with_capacity(BATCH));
        (batches.send(full)).map_err(|_| anyhow!("the import stopped taking records"))
    };
    let mut take = |record: Record| -> Result<()> {
        let section_ends = batch
            .last()
            .is_some_and(|last| mem::discriminant(last) != mem::discriminant(&record));
        if batch.len() == BATCH || section_ends {
            send(&mut batch)?;
        }
        batch.push(record);
        Ok(())
    };
    read_pass(archive, validator, Some(&mut take), progress)?;
    if !batch.is_empty() {
        send(&mut batch)?;
    }
    Ok(())
}

/// The first pass of a restore of chosen tickets: validates the whole archive (an invalid
/// archive is refused whichever record is bad, as a whole import would be) and notes what
/// the chosen tickets refer to; a chosen ticket it lacks is exit status 6. Returns the
/// validator, with the archive's counts and warnings.
pub(crate) fn survey(
    archive: &mut ArchiveFile,
    selection: &mut Selection,
    progress: &ProgressBar,
) -> Result<Validator> {
    let mut validator = Validator::new();
    let mut note = |record: Record| {
        selection.survey(&record);
        Ok(())
    };
    read_pass(archive, &mut validator, Some(&mut note), progress)?;
    selection.check_found(&archive.location())?;
    Ok(validator)
}

/// Chooses the company to import into: `--company`, else the archive's own company when
/// the database has it, else (with `--create-company`) the archive's company, to create.
pub(crate) fn target_company(
    conn: &impl Directory,
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
    let own = tenant::company_name(conn, &manifest.company_id)?;
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
pub(crate) fn archive_admin(archive: &mut ArchiveFile, email: Option<&str>) -> Result<ImportActor> {
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
/// transaction, as `actor` (`None`: as no one), with `witness` seeing every record it takes:
/// `verify`'s restore. Returns the plan it carried out.
pub(crate) fn restore_company(
    conn: &mut Database,
    archive: &mut ArchiveFile,
    manifest: &Manifest,
    actor: Option<ImportActor>,
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
        selection: None,
        progress: import_progress(reporter, manifest),
        actor,
        witness: Some(witness),
    };
    job.import(conn, None, reporter)
}

/// Records read, counted against the manifest's counts (a web app file has none: no bar).
pub(crate) fn import_progress(reporter: &Reporter, manifest: &Manifest) -> ProgressBar {
    match manifest.counts {
        Some(c) => reporter.progress(
            c.users + c.custom_fields + c.tickets + c.attachments,
            "importing",
        ),
        None => ProgressBar::hidden(),
    }
}

/// Shown a plan, accepts it (`Ok`) or not (an error, which ends the import).
pub(crate) type Confirm<'c> = dyn FnMut(&Plan) -> Result<()> + 'c;

/// One import of one archive into one company.
pub(crate) struct Job<'a> {
    pub(crate) archive: &'a mut ArchiveFile,
    pub(crate) manifest: &'a Manifest,
    pub(crate) company: &'a tenant::Company,
    pub(crate) create: bool,
    pub(crate) policy: Policy,
    /// Restoring chosen tickets: what the first pass found they take.
    pub(crate) selection: Option<&'a Selection>,
    /// `None`: no one (`verify`'s restore of an archive whose exporter it lacks).
    pub(crate) actor: Option<ImportActor>,
    /// Records read, on a terminal.
    pub(crate) progress: ProgressBar,
    /// Sees each record the import takes, after the importer.
    pub(crate) witness: Option<&'a mut TakeRecord<'a>>,
}

impl<'a> Job<'a> {
    /// Validates and plans in a read transaction; changes nothing.
    pub(crate) fn plan_only(&mut self, db: &mut Database) -> Result<Plan> {
        db.plan_transaction(Planning(self))
    }

    /// Imports in one write transaction. With `confirm`, first plans, and goes on only if
    /// `confirm` accepts that plan (it shows it and asks; an error is the answer no).
    pub(crate) fn import(
        &mut self,
        db: &mut Database,
        confirm: Option<&mut Confirm<'_>>,
        reporter: &Reporter,
    ) -> Result<Plan> {
        let confirmed = match confirm {
            Some(confirm) => {
                let plan = self.plan_only(db)?;
                if plan.conflict_count > 0 {
                    return Err(conflict_failure(&plan));
                }
                confirm(&plan)?;
                Some(plan)
            }
            None => None,
        };
        reporter.step("importing in one write transaction");
        let company_id = self.company.id.clone();
        let plan = db.import_transaction(
            &company_id,
            Applying {
                job: self,
                confirmed,
            },
        )?;
        reporter.step("committed");
        Ok(plan)
    }

    fn pass<T: ImportTarget>(&mut self, target: &T, mode: Mode) -> Result<Plan> {
        let db = ImportDb::new(target, &self.company.id)?;
        let mut importer = Importer::new(
            db,
            mode,
            self.policy,
            &self.company.name,
            self.actor.clone(),
            self.manifest,
        )?
        .choosing(self.selection);
        // Into an empty company the database refuses repeated ids itself; elsewhere the
        // validator must remember them. A restore of chosen tickets checked them in its
        // first pass, over the records it does not write as well.
        let mut validator =
            if (mode == Mode::Apply && importer.started_empty()) || self.selection.is_some() {
                Validator::without_record_ids()
            } else {
                Validator::new()
            }
            .refusing_nul(!T::STORES_NUL);
        self.progress.reset();
        let mut witness = self.witness.as_deref_mut();
        let mut take = |importer: &mut Importer<'_, T>, record: Record| -> Result<()> {
            importer.record(&record)?;
            match witness.as_deref_mut() {
                Some(witness) => witness(record),
                None => Ok(()),
            }
        };
        let (archive, progress) = (&mut *self.archive, &self.progress);
        if !T::LOOKS_AHEAD {
            // One record at a time, as it is read: a lookup costs no round trip.
            let mut one = |record| take(&mut importer, record);
            read_pass(archive, &mut validator, Some(&mut one), progress)?;
        } else {
            // The importer takes the records of one section a batch at a time, looking
            // their rows up together first; the next batch is read and checked on a thread
            // of its own meanwhile, while the database answers.
            std::thread::scope(|scope| {
                let (batches, incoming) = sync_channel::<Vec<Record>>(1);
                let reader =
                    scope.spawn(|| read_in_batches(archive, &mut validator, batches, progress));
                let handed = incoming.into_iter().try_for_each(|batch| {
                    importer.look_ahead(&batch)?;
                    (batch.into_iter()).try_for_each(|record| take(&mut importer, record))
                });
                // When the importer fails, the reader stops at its next batch: the importer's
                // error is the one to tell, as when one thread does both.
                let read = (reader.join()).map_err(|_| anyhow!("the archive's reader failed"))?;
                handed.and(read)
            })?;
        }
        self.progress.finish_and_clear();
        importer.finish(validator.take_warnings())
    }
}

/// A job's plan, in the backend's read transaction.
struct Planning<'j, 'a>(&'j mut Job<'a>);

impl ImportWork for Planning<'_, '_> {
    type Output = Plan;

    fn run<T: ImportTarget>(self, target: &T) -> Result<Plan> {
        self.0.pass(target, Mode::Plan)
    }
}

/// A job's import, in the backend's write transaction, which commits only when this
/// returns a plan: a conflict or an invalid record anywhere rolls it all back.
struct Applying<'j, 'a> {
    job: &'j mut Job<'a>,
    /// The plan the operator accepted, which the import must still be.
    confirmed: Option<Plan>,
}

impl ImportWork for Applying<'_, '_> {
    type Output = Plan;

    fn run<T: ImportTarget>(self, target: &T) -> Result<Plan> {
        let job = self.job;
        if job.create {
            let now = db::now_timestamp();
            let company = job.manifest.company.clone().unwrap_or(CompanyRecord {
                id: job.company.id.clone(),
                name: job.company.name.clone(),
                domain: None,
                description: None,
                is_active: true,
                created_at: now.clone(),
                updated_at: now,
            });
            target.create_company(&company)?;
        }
        // One pass decides and writes.
        let plan = job.pass(target, Mode::Apply)?;
        if plan.conflict_count > 0 {
            return Err(conflict_failure(&plan));
        }
        if let Some(confirmed) = self.confirmed
            && confirmed.outcomes != plan.outcomes
        {
            return Err(Failure::Conflict(
                "the database changed while waiting for confirmation; nothing was imported, run it again".into(),
            )
            .into());
        }
        // The last moment to stop: the import is complete once committed.
        interrupt::check()?;
        Ok(plan)
    }
}

/// Exit status 4, naming the first few conflicts (the report lists them all).
pub(crate) fn conflict_failure(plan: &Plan) -> anyhow::Error {
    let named = first_few(&plan.conflicts, plan.conflict_count, 5, "; ");
    Failure::Conflict(format!(
        "{named} (nothing was imported: use --skip-duplicates to keep existing records or --overwrite to replace them)"
    ))
    .into()
}

/// The first `shown` of `items` (of `total` in all, some perhaps not listed), joined by
/// `separator`, and how many more there are.
pub(crate) fn first_few(items: &[String], total: u64, shown: usize, separator: &str) -> String {
    let mut text = items
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join(separator);
    let more = total.saturating_sub(shown.min(items.len()) as u64);
    if more > 0 {
        text.push_str(&format!("{separator}and {more} more"));
    }
    text
}
