//! The steps of one import around the restore: the archive (a file, stdin, or the file an
//! export recorded), the target company, the actor, the first pass that finds the chosen
//! tickets, then planning or importing through `restore::job`. What is known is kept as it
//! goes (`Attempt`), so that a failure is logged against its company. Also the check of a
//! file alone, for `--validate-only` without a database.

use std::io::IsTerminal;

use anyhow::Result;
use indicatif::ProgressBar;

use crate::archive::reader::{ArchiveFile, Input};
use crate::archive::validate;
use crate::cli::GlobalOpts;
use crate::db::{Database, tenant};
use crate::report::Reporter;
use crate::restore::job::{
    Job, archive_admin, import_progress, survey, target_company, validate_archive,
};
use crate::restore::{ImportActor, Mode, Plan, Selection};

use super::report::{self, FileReport, Source, Status};
use super::{ArchiveSource, ImportRequest};

/// What is known of an import as it goes, so that a failure is logged against its company.
#[derive(Default)]
pub(super) struct Attempt {
    pub input: Option<Input>,
    pub company: Option<tenant::Company>,
    pub source: Option<Source>,
}

/// Finds the archive, the target company and the actor, then validates or imports.
/// Returns the status, the plan, and whether the company was created.
pub(super) fn attempt_import(
    conn: &mut Database,
    global: &GlobalOpts,
    request: &ImportRequest,
    reporter: &Reporter,
    attempt: &mut Attempt,
) -> Result<(Status, Plan, bool)> {
    if let Some(selector) = global.company.as_deref() {
        match tenant::resolve_company(&*conn, Some(selector)) {
            Ok(company) => attempt.company = Some(company),
            // With --create-company the named company may be the archive's, still to come.
            Err(_) if request.create_company => {}
            Err(err) => return Err(err),
        }
    }
    let input = match &request.archive {
        ArchiveSource::Export(export_id) => {
            let company = match &attempt.company {
                Some(company) => company.clone(),
                None => tenant::resolve_company(&*conn, None)?,
            };
            attempt.company = Some(company.clone());
            Input::File(crate::db::logs::exported_file(&*conn, &company, export_id)?)
        }
        ArchiveSource::Given(input) => input.clone(),
    };
    attempt.input = Some(input.clone());
    let mut archive = ArchiveFile::open(&input, &request.keys)?;
    // A full validation follows; here only what choosing the target needs.
    let manifest = validate::read_manifest(&mut archive)?;
    if !conn.stores_nul() {
        validate::refuse_nul_in(&manifest)?;
    }
    attempt.source = Some(Source::of(&archive, &manifest));
    reporter.step(format!(
        "read {input}: {:?} archive {} of {} ({}), exported {}",
        archive.layout(),
        manifest.export_id,
        manifest.company_name,
        manifest.company_id,
        manifest.exported_at
    ));
    let (company, create) = target_company(
        &*conn,
        global.company.as_deref(),
        &manifest,
        request.create_company,
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
        let actor = tenant::authorize_actor(&*conn, global.actor.as_deref(), &company)?;
        ImportActor {
            email: actor.email,
            id: Some(actor.id),
        }
    };
    reporter.step(format!("acting as {}", actor.email));
    let progress = import_progress(reporter, &manifest);
    let selection = match request.chosen.clone() {
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
        policy: request.policy,
        selection: selection.as_ref(),
        actor: Some(actor),
        progress,
        witness: None,
    };
    if request.mode == Mode::Plan {
        reporter.step("planning in a read transaction; nothing will be written");
        let plan = job.plan_only(conn)?;
        attempt.company = Some(company);
        return Ok((Status::Validated, plan, false));
    }
    let ask = request.ask_before_overwrite
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let mut confirm = |plan: &Plan| report::confirm_overwrite(reporter, &manifest, &company, plan);
    let plan = job.import(conn, ask.then_some(&mut confirm as _), reporter)?;
    attempt.company = Some(company);
    Ok((Status::Ok, plan, create))
}

/// `--validate-only` with no database: the file alone, and the chosen tickets in it.
pub(super) fn validate_file(
    input: &Input,
    request: &ImportRequest,
    reporter: &Reporter,
) -> Result<()> {
    let keys = &request.keys;
    let (archive, manifest, counts, warnings) = match request.chosen.clone() {
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
        source: Source::of(&archive, &manifest),
        counts,
        chosen_tickets: request.chosen.as_ref().map(|chosen| chosen.ids().to_vec()),
        warnings,
    };
    report::valid_file(reporter, &report, &manifest)
}
