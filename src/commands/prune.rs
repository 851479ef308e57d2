//! `prune`: retention for the archives this company's export log records. Deletes only
//! files the log names (and only while they still match their recorded checksum), keeps
//! what any rule of the policy keeps (`policy`), and records each deletion before it makes
//! it: an archive is marked `deleting` (committed), its file deleted, then it is marked
//! pruned. A prune interrupted in between is finished by the next one.

mod policy;
mod record;

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{GlobalOpts, PruneArgs};
use crate::db::logs::{self, ExportDetail, FileState, LogKind, RecordedArchive, Retention, Rules};
use crate::db::{self, Database, tenant};
use crate::error::Failure;
use crate::error::Unlogged;
use crate::report::Reporter;
use indicatif::HumanBytes;
pub(crate) use policy::Keep;
use policy::Selection;

/// One recorded archive and what prune does with it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Archive {
    pub export_id: String,
    pub file: String,
    pub exported_at: String,
    pub bytes: u64,
    /// For a kept archive, each rule that keeps it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_by: Vec<Keep>,
}

/// The `--json` report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PruneReport {
    pub prune_id: Option<String>,
    pub dry_run: bool,
    #[serde(flatten)]
    pub rules: Rules,
    /// The directory the policy was limited to (`--dir`), if any.
    pub dir: Option<String>,
    /// Deleted (or, in a dry run, to be deleted).
    pub deleted: Vec<Archive>,
    pub bytes_deleted: u64,
    /// Recorded but already gone from disk.
    pub missing: Vec<Archive>,
    /// Old enough, but changed since the export; kept.
    pub changed: Vec<Archive>,
    /// Kept by a rule of the policy (each says which).
    pub kept: Vec<Archive>,
    /// Marked `deleting` by a prune that was interrupted: deleted now (or found already
    /// gone) and marked pruned.
    pub resumed: Vec<Archive>,
}

pub(crate) fn run(global: &GlobalOpts, args: &PruneArgs, reporter: &Reporter) -> Result<()> {
    run_prune(global, args, reporter)
        .map_err(|err| super::explain_busy(err, global, Some("deleted")))
}

fn run_prune(global: &GlobalOpts, args: &PruneArgs, reporter: &Reporter) -> Result<()> {
    // A bad policy is a usage error before anything else is looked at.
    let rules = rules_of(args);
    let now = Utc::now();
    let cutoff = match args.older_than {
        Some(age) => Some(age.before(now).ok_or_else(|| {
            Failure::Usage(format!(
                "--older-than {age}: reaches before any date there is"
            ))
        })?),
        None => None,
    };
    rules.check_keeps_something(cutoff.is_some_and(|cutoff| cutoff < now))?;
    let within = match &args.dir {
        Some(dir) => Some(
            fs::canonicalize(dir)
                .map_err(|err| Failure::Usage(format!("--dir {}: {err}", dir.display())))?,
        ),
        None => None,
    };
    let session = super::open_session(global)?;
    let conn = &session.db;
    let mut report = plan(
        conn,
        &session.company,
        rules,
        cutoff,
        within.as_deref(),
        args.dry_run,
    )?;
    if !args.dry_run {
        session.require_writable(global, "prune", None)?;
        apply(conn, &session.company, &session.actor, &mut report, now)?;
    }
    print_summary(reporter, &report);
    reporter.result(&report)?;
    Ok(())
}

/// The policy the options give: `--keep-last` is 3 unless a calendar rule is given, then 0.
fn rules_of(args: &PruneArgs) -> Rules {
    let calendar = [
        args.keep_daily,
        args.keep_weekly,
        args.keep_monthly,
        args.keep_yearly,
    ];
    let default_last = if calendar.iter().any(Option::is_some) {
        0
    } else {
        3
    };
    Rules {
        older_than: args.older_than.map(|age| age.to_string()),
        keep_last: args.keep_last.unwrap_or(default_last),
        keep_daily: args.keep_daily,
        keep_weekly: args.keep_weekly,
        keep_monthly: args.keep_monthly,
        keep_yearly: args.keep_yearly,
    }
}

/// Decides, newest archive first, what each rule keeps and what goes. Only a file that is
/// still its export counts towards a count-limited rule (the newest N, a calendar period):
/// a path that a later export (`--force`) or anything else has overwritten is not a
/// second backup, and a missing one is none. Files are hashed only when that decides
/// something.
fn plan(
    conn: &Database,
    company: &tenant::Company,
    rules: Rules,
    cutoff: Option<DateTime<Utc>>,
    within: Option<&Path>,
    dry_run: bool,
) -> Result<PruneReport> {
    let mut selection = Selection::new(&rules, cutoff);
    let mut report = PruneReport {
        prune_id: None,
        dry_run,
        rules,
        dir: within.map(|dir| dir.display().to_string()),
        deleted: Vec::new(),
        bytes_deleted: 0,
        missing: Vec::new(),
        changed: Vec::new(),
        kept: Vec::new(),
        resumed: Vec::new(),
    };
    for entry in logs::list(conn, &company.id, &[LogKind::Export], None)? {
        let detail: ExportDetail = entry.read();
        let Some(recorded) = RecordedArchive::of(&detail) else {
            continue;
        };
        let path = recorded.path();
        // Recorded paths are absolute and canonical (export records them so).
        if within.is_some_and(|dir| !path.starts_with(dir)) {
            continue;
        }
        let mut archive = Archive {
            export_id: entry.id.clone(),
            file: recorded.file.clone(),
            exported_at: entry.created_at.clone(),
            bytes: recorded.digest.as_ref().map_or(0, |d| d.bytes),
            kept_by: Vec::new(),
        };
        match Retention::of(&detail) {
            Retention::Pruned { .. } => continue,
            // An interrupted prune's: finished, whatever the policy, unless the file changed
            // since (then it is no longer the archive that prune meant to delete).
            Retention::Deleting { .. } => {
                if let FileState::Changed(_) = recorded.state()? {
                    report.changed.push(archive);
                } else {
                    report.resumed.push(archive);
                }
                continue;
            }
            Retention::Kept => {}
        }
        let at = DateTime::parse_from_rfc3339(&entry.created_at)
            .ok()
            .map(|at| at.with_timezone(&Utc));
        let unconditional = selection.unconditional(at);
        if !path.is_file() {
            if unconditional.is_none() {
                report.missing.push(archive);
            }
            continue;
        }
        let candidates = selection.candidates(at);
        let intact = match (candidates.is_empty(), &unconditional) {
            // Kept whatever its state, and counted by no rule: no need to read it.
            (true, Some(_)) => None,
            _ => Some(recorded.state()? == FileState::Unchanged),
        };
        if intact == Some(true) {
            selection.count(&candidates);
            archive.kept_by = candidates;
        }
        archive.kept_by.extend(unconditional);
        if !archive.kept_by.is_empty() {
            report.kept.push(archive);
        } else if intact == Some(true) {
            report.bytes_deleted += archive.bytes;
            report.deleted.push(archive);
        } else {
            report.changed.push(archive);
        }
    }
    Ok(report)
}

/// Records, deletes, records: nothing is deleted that the log does not say is being deleted.
fn apply(
    conn: &Database,
    company: &tenant::Company,
    actor: &tenant::Actor,
    report: &mut PruneReport,
    now: DateTime<Utc>,
) -> Result<()> {
    let prune_id = LogKind::Prune.new_entry_id(now);
    let at = db::format_timestamp(now);
    record::deleting(conn, company, actor, report, &prune_id, &at)
        .context("cannot record the archives prune is about to delete")?;
    report.prune_id = Some(prune_id.clone());

    let mut failures = Vec::new();
    for list in [&mut report.deleted, &mut report.resumed] {
        list.retain(|archive| match fs::remove_file(&archive.file) {
            // Gone already: deleted by hand, or by another prune resuming this one.
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                failures.push((
                    archive.export_id.clone(),
                    format!("{}: {err}", archive.file),
                ));
                false
            }
            _ => true,
        });
    }
    report.bytes_deleted = report.deleted.iter().map(|a| a.bytes).sum();

    record::outcome(conn, company, report, &failures, &prune_id, &at).with_context(|| {
        Unlogged(format!(
            "the files are deleted, but prune could not record it: they show as `deleting` in \
             the history until the next prune records them (prune {prune_id})"
        ))
    })?;
    if failures.is_empty() {
        Ok(())
    } else {
        let files: Vec<&str> = failures
            .iter()
            .map(|(_, failure)| failure.as_str())
            .collect();
        Err(anyhow::anyhow!(
            "could not delete {}; the log keeps these exports as they were",
            files.join("; ")
        ))
    }
}

fn print_summary(reporter: &Reporter, report: &PruneReport) {
    let verb = if report.dry_run {
        "Would delete"
    } else {
        "Deleted"
    };
    reporter.note(format!(
        "{verb} {} archive{} ({}); kept {} ({}).",
        report.deleted.len(),
        if report.deleted.len() == 1 { "" } else { "s" },
        HumanBytes(report.bytes_deleted),
        report.kept.len(),
        report.rules.describe()
    ));
    for archive in &report.deleted {
        reporter.note(format!("  {} {}", archive.export_id, archive.file));
    }
    for archive in &report.missing {
        reporter.note(format!(
            "  already gone: {} {}",
            archive.export_id, archive.file
        ));
    }
    for archive in &report.changed {
        reporter.note(format!(
            "  kept, changed since its export: {} {}",
            archive.export_id, archive.file
        ));
    }
    for archive in &report.resumed {
        reporter.note(format!(
            "  {} for an interrupted prune: {} {}",
            if report.dry_run {
                "would finish"
            } else {
                "finished"
            },
            archive.export_id,
            archive.file
        ));
    }
    for archive in &report.kept {
        let reasons: Vec<String> = archive
            .kept_by
            .iter()
            .map(|keep| keep.describe(&report.rules))
            .collect();
        reporter.note(format!(
            "  kept ({}): {} {}",
            reasons.join(", "),
            archive.export_id,
            archive.file
        ));
    }
}
