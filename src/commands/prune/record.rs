//! What prune records around its deletions, in two transactions: before, the archives it is
//! about to delete marked `deleting` (and its own row); after, those it deleted marked
//! pruned and the others put back. Nothing here deletes a file.

use std::collections::BTreeSet;

use anyhow::Result;

use super::{Archive, PruneReport};
use crate::db::logs::{self, ExportDetail, LogKind, LoggedArchive, PruneDetail, Retention};
use crate::db::schema::ToolTable;
use crate::db::{Database, tenant};

/// The first transaction: the prune's own row (`deleting`), and every archive it is about to
/// delete marked `deleting` under its id, before any file goes. An archive another prune has
/// taken or finished since the plan is left out; a changed one an interrupted prune had
/// marked goes back to normal; an interrupted prune all of whose archives this one takes
/// over is marked `interrupted`.
pub(super) fn deleting(
    db: &Database,
    company: &tenant::Company,
    actor: &tenant::Actor,
    report: &mut PruneReport,
    prune_id: &str,
    at: &str,
) -> Result<()> {
    db.write_transaction(&[ToolTable::PruneLog], |tx| {
        let deleting = Retention::Deleting {
            prune_id: prune_id.to_owned(),
            since: at.to_owned(),
        };
        // The prunes whose archives this one takes over (to finish, or to put back).
        let mut taken_over = BTreeSet::new();
        let mut take_over = |now: &Retention| match marked_by(now) {
            Some(old) => {
                taken_over.insert(old);
                true
            }
            None => false,
        };
        mark_each(tx, company, &mut report.resumed, &deleting, &mut take_over)?;
        // A changed file is no longer the archive the interrupted prune meant: back to normal.
        for archive in &report.changed {
            let back = &Retention::Kept;
            set_retention(tx, company, &archive.export_id, back, &mut take_over)?;
        }
        let untouched = |now: &Retention| *now == Retention::Kept;
        mark_each(tx, company, &mut report.deleted, &deleting, untouched)?;

        let still_deleting: BTreeSet<String> =
            logs::list(tx, &company.id, &[LogKind::Export], None)?
                .iter()
                .filter_map(|entry| marked_by(&Retention::of(&entry.read())))
                .collect();
        for old in taken_over.difference(&still_deleting) {
            if let Some(entry) = logs::find_of(tx, &company.id, old, &[LogKind::Prune])? {
                logs::change_detail(tx, &entry, |detail: &mut PruneDetail| {
                    detail.status = Some("interrupted".into());
                    detail.resumed_by = Some(prune_id.to_owned());
                })?;
            }
        }
        logs::insert(
            tx,
            &company.id,
            Some(&actor.id),
            prune_id,
            &prune_detail(report, None),
            at,
        )
    })
}

/// The second transaction: the archives whose files are gone marked pruned, those that
/// could not be deleted back to normal (`failures`: export id, and why), the prune's row
/// completed.
pub(super) fn outcome(
    db: &Database,
    company: &tenant::Company,
    report: &PruneReport,
    failures: &[(String, String)],
    prune_id: &str,
    at: &str,
) -> Result<()> {
    db.write_transaction(&[], |tx| {
        // Only archives still this prune's: one that another prune has taken over is its to record.
        let ours = |now: &Retention| marked_by(now).as_deref() == Some(prune_id);
        let pruned = Retention::Pruned {
            prune_id: Some(prune_id.to_owned()),
            at: at.to_owned(),
        };
        // Only what prune deleted (or had marked) is marked pruned: a file that was merely
        // missing when it looked (deleted by hand, or on a drive that is not mounted right now)
        // stays in play, so that if it comes back it is kept or pruned like any other rather
        // than left outside retention for good.
        for archive in report.deleted.iter().chain(&report.resumed) {
            set_retention(tx, company, &archive.export_id, &pruned, ours)?;
        }
        for (export_id, _) in failures {
            set_retention(tx, company, export_id, &Retention::Kept, ours)?;
        }
        let errors: Vec<&str> = failures
            .iter()
            .map(|(_, failure)| failure.as_str())
            .collect();
        logs::update_detail(tx, prune_id, &prune_detail(report, Some(&errors)))
    })
}

/// Sets each archive's export to `to` when its present state passes `expected`, and keeps in
/// `archives` only those it set.
fn mark_each(
    tx: &Database,
    company: &tenant::Company,
    archives: &mut Vec<Archive>,
    to: &Retention,
    mut expected: impl FnMut(&Retention) -> bool,
) -> Result<()> {
    let mut marked = Vec::with_capacity(archives.len());
    for archive in archives.drain(..) {
        if set_retention(tx, company, &archive.export_id, to, &mut expected)? {
            marked.push(archive);
        }
    }
    *archives = marked;
    Ok(())
}

/// Sets an export's archive to `to` when its present state passes `expected`; false when it
/// did not (or the row is gone).
fn set_retention(
    tx: &Database,
    company: &tenant::Company,
    export_id: &str,
    to: &Retention,
    mut expected: impl FnMut(&Retention) -> bool,
) -> Result<bool> {
    let Some(entry) = logs::find_of(tx, &company.id, export_id, &[LogKind::Export])? else {
        return Ok(false);
    };
    if !expected(&Retention::of(&entry.read())) {
        return Ok(false);
    }
    logs::change_detail(tx, &entry, |detail: &mut ExportDetail| to.write_to(detail))?;
    Ok(true)
}

/// The prune that marked an archive `deleting`, if one did.
fn marked_by(state: &Retention) -> Option<String> {
    match state {
        Retention::Deleting { prune_id, .. } => Some(prune_id.clone()),
        _ => None,
    }
}

/// The prune's log row: while it deletes (`errors` is `None`), every archive it is deleting;
/// then what it deleted, what it finished for an interrupted prune, and what it could not.
fn prune_detail(report: &PruneReport, errors: Option<&[&str]>) -> PruneDetail {
    let logged = |archives: &[Archive]| archives.iter().map(LoggedArchive::from).collect();
    let detail = PruneDetail {
        rules: Some(report.rules.clone()),
        dir: report.dir.clone(),
        missing: Some(logged(&report.missing)),
        changed: Some(logged(&report.changed)),
        kept: Some(report.kept.len() as u64),
        ..PruneDetail::default()
    };
    match errors {
        None => PruneDetail {
            status: Some("deleting".into()),
            deleting: Some([logged(&report.deleted), logged(&report.resumed)].concat()),
            ..detail
        },
        Some(errors) => PruneDetail {
            status: Some(if errors.is_empty() { "ok" } else { "failed" }.into()),
            deleted: Some(logged(&report.deleted)),
            bytes_deleted: Some(report.bytes_deleted),
            resumed: Some(logged(&report.resumed)),
            errors: Some(errors.iter().map(|&error| error.to_owned()).collect()),
            ..detail
        },
    }
}

impl From<&Archive> for LoggedArchive {
    fn from(archive: &Archive) -> Self {
        LoggedArchive {
            export_id: Some(archive.export_id.clone()),
            file: Some(archive.file.clone()),
            exported_at: Some(archive.exported_at.clone()),
            bytes: Some(archive.bytes),
            other: serde_json::Map::new(),
        }
    }
}
