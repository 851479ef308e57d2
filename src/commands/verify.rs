//! `verify`: proof that an archive restores, without a test account. The archive is restored
//! as `import --create-company` restores it, into a scratch database made as `init` makes
//! one, then exported again with export's queries and compared record by record. No database
//! of the user's is opened, and nothing is written anywhere but SQLite's own temporary file.

use std::time::Instant;

use anyhow::Result;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::archive::envelope::Keys;
use crate::archive::reader::{ArchiveFile, Input};
use crate::archive::validate::{Validator, Warnings};
use crate::cli::{GlobalOpts, VerifyArgs};
use crate::db;
use crate::error::Failure;
use crate::interrupt;
use crate::report::Reporter;
use crate::restore::ImportActor;
use crate::verify::{Adjusted, Comparison, Expectations, SectionChecks};

use super::import::report::Source;

/// The `--json` report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyReport {
    restorable: bool,
    source: Source,
    encrypted: bool,
    /// The exporter's email when the restore ran as the exporter; null when as no one.
    restored_as: Option<String>,
    sections: SectionChecks,
    adjusted: Adjusted,
    /// What the import translated, each with its count.
    warnings: Warnings,
    difference_count: u64,
    differences: Vec<String>,
    /// Why the archive is not restorable, so that `--json` stays one document.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
}

/// `global` is not read: verify takes no database, company or actor.
pub(crate) fn run(_global: &GlobalOpts, args: &VerifyArgs, reporter: &Reporter) -> Result<()> {
    interrupt::watch()?;
    let input = Input::from_arg(args.file.clone());
    let keys = Keys::new(args.decryption.identity.clone());
    verify(&input, &keys, reporter)
        .map_err(|err| input.named_in(err))
        .map_err(interrupt::explain)
}

fn verify(input: &Input, keys: &Keys, reporter: &Reporter) -> Result<()> {
    let started = Instant::now();
    let mut archive = ArchiveFile::open(input, keys)?;
    let label = archive.label().to_owned();
    let manifest = crate::archive::validate::read_manifest(&mut archive)?;
    let exporter = crate::restore::job::archive_user(&mut archive, |user| {
        user.id == manifest.exported_by
            || manifest
                .exported_by_email
                .as_deref()
                .is_some_and(|email| user.email.eq_ignore_ascii_case(email))
    })?;
    let actor = exporter.as_ref().map(|user| ImportActor {
        email: user.email.clone(),
        id: None,
    });

    let mut scratch = db::Database::Sqlite(db::scratch()?);
    let mut expectations =
        Expectations::new(&manifest, exporter.as_ref().map(|u| u.email.as_str()));
    let plan = crate::restore::job::restore_company(
        &mut scratch,
        &mut archive,
        &manifest,
        actor,
        reporter,
        &mut |record| expectations.note(record),
    )
    .map_err(|err| refused(err, &label))?;
    let mut comparison = expectations.compare(scratch.sqlite("verify")?, &manifest.company_id)?;
    if comparison.needs_archive() {
        explain(&mut archive, &expectations, &mut comparison)?;
    }
    comparison.finish();

    let restorable = comparison.difference_count == 0;
    let mut report = VerifyReport {
        restorable,
        source: Source::of(&archive, &manifest),
        encrypted: archive.encrypted(),
        restored_as: exporter.map(|user| user.email),
        sections: comparison.sections,
        adjusted: expectations.adjusted().clone(),
        warnings: plan.warnings,
        difference_count: comparison.difference_count,
        differences: comparison.differences,
        error: None,
    };
    print_report(reporter, &report, started.elapsed().as_secs_f64());
    let failure = (!restorable).then(|| -> anyhow::Error {
        let n = report.difference_count;
        Failure::NotRestorable(format!(
            "{label} does not restore to the same records: {n} {} ({})",
            if n == 1 { "difference" } else { "differences" },
            report.differences.join("; ")
        ))
        .into()
    });
    report.error = failure.as_ref().map(crate::error::json_error);
    reporter.result(&report)?;
    failure.map_or(Ok(()), Err)
}

/// A restore that the database refused (a value a constraint does not allow) is an archive
/// that does not restore: exit status 3, not an unexpected failure.
fn refused(err: anyhow::Error, label: &str) -> anyhow::Error {
    let constraint = err.chain().any(|cause| {
        cause.downcast_ref::<rusqlite::Error>().is_some_and(|sql| {
            sql.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
        })
    });
    if constraint && crate::error::classify(&err) == crate::error::Class::Unexpected {
        return Failure::NotRestorable(format!("{label} does not restore: {err:#}")).into();
    }
    err
}

/// Reads the archive once more to say what differs in the changed records.
fn explain(
    archive: &mut ArchiveFile,
    expectations: &Expectations,
    comparison: &mut Comparison,
) -> Result<()> {
    let mut validator = Validator::new();
    let mut take = |record| expectations.explain(comparison, record);
    crate::restore::job::read_pass(
        archive,
        &mut validator,
        Some(&mut take),
        &ProgressBar::hidden(),
    )?;
    Ok(())
}

fn print_report(reporter: &Reporter, report: &VerifyReport, seconds: f64) {
    let who = match &report.restored_as {
        Some(email) => format!("as its exporter {email}"),
        None => "as no one (its exporter is not among its users)".to_owned(),
    };
    let encrypted = if report.encrypted { " encrypted" } else { "" };
    reporter.note(format!(
        "{}: the{encrypted} archive of {} restored {who} in {seconds:.1} s",
        report.source.file,
        report.source.company_name.as_deref().unwrap_or("?"),
    ));
    reporter.note(format!(
        "  {:<15}{:>9}{:>10}{:>11}",
        "", "archive", "restored", "identical"
    ));
    for (name, check) in report.sections.rows() {
        let identical = check.identical.map_or(String::new(), |n| n.to_string());
        reporter.note(format!(
            "  {name:<15}{:>9}{:>10}{:>11}",
            check.archive, check.restored, identical
        ));
    }
    let adjusted = &report.adjusted;
    if adjusted.person_references > 0 {
        reporter.note(format!(
            "Adjusted: {} person references to people the archive does not hold, left out of the comparison (first: {})",
            adjusted.person_references,
            adjusted.first.as_deref().unwrap_or("-")
        ));
    }
    reporter.warnings(&report.warnings);
    if report.restorable {
        reporter.note("restorable");
    } else {
        reporter.note(format!(
            "NOT restorable: {} differences",
            report.difference_count
        ));
        for difference in &report.differences {
            reporter.note(format!("  {difference}"));
        }
    }
}
