//! What `import` tells: the `--json` reports (of an import, of a validation against a
//! database, of a file checked alone), the summary and the plan on stderr, the question
//! before `--overwrite` changes anything, and the import log's row.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::archive::reader::{ArchiveFile, Input, Layout};
use crate::archive::records::{Counts, Manifest};
use crate::archive::validate::Warnings;
use crate::db::logs::{self, ImportDetail, LogKind, LogStore, recorded};
use crate::db::schema::ToolTable;
use crate::db::{self, Database, tenant};
use crate::error::Failure;
use crate::report::Reporter;
use crate::restore::job::first_few;
use crate::restore::{ChosenTickets, Plan, Policy};

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
    /// An archive read as far as its manifest.
    pub(crate) fn of(archive: &ArchiveFile, manifest: &Manifest) -> Self {
        Self {
            file: archive.location(),
            layout: Some(archive.layout()),
            export_id: Some(manifest.export_id.clone()),
            company_id: Some(manifest.company_id.clone()),
            company_name: Some(manifest.company_name.clone()),
            exported_at: Some(manifest.exported_at.clone()),
        }
    }

    /// An archive that could not be read: only where it came from is known.
    pub(super) fn unread(input: Option<&Input>) -> Self {
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

impl ImportReport {
    /// The report of an import into `company` that has not succeeded (yet).
    pub(super) fn failed(
        import_id: String,
        policy: Policy,
        chosen: Option<&ChosenTickets>,
        company: tenant::Company,
        source: Source,
    ) -> Self {
        Self {
            import_id,
            status: Status::Failed,
            policy,
            cross_company: source
                .company_id
                .as_ref()
                .is_some_and(|id| *id != company.id),
            chosen_tickets: chosen.map(|chosen| chosen.ids().to_vec()),
            company_id: company.id,
            company_name: company.name,
            company_created: false,
            source,
            plan: Plan::default(),
            error: None,
        }
    }
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

/// Reports a file found valid by itself, holding the chosen tickets if any.
pub(super) fn valid_file(
    reporter: &Reporter,
    report: &FileReport,
    manifest: &Manifest,
) -> Result<()> {
    reporter.note(format!(
        "{}: a valid archive of {} exported {}",
        report.source.file, manifest.company_name, manifest.exported_at
    ));
    reporter.note(format!("  {}", report.counts));
    if let Some(chosen) = &report.chosen_tickets {
        reporter.note(format!("  holding the chosen tickets: {}", named(chosen)));
    }
    reporter.warnings(&report.warnings);
    reporter.result(report)?;
    Ok(())
}

/// Shows what `--overwrite` would do and asks; no is `Failure::Cancelled`.
pub(super) fn confirm_overwrite(
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

pub(super) fn print_summary(reporter: &Reporter, report: &ImportReport, took: std::time::Duration) {
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
    let bulk = [
        (report.plan.bulk_load_users, "users and memberships"),
        (
            report.plan.bulk_load,
            "tickets, notes, history and attachments",
        ),
    ]
    .into_iter()
    .filter_map(|(loaded, tables)| loaded.then_some(tables))
    .collect::<Vec<_>>();
    if !bulk.is_empty() {
        reporter.note(format!(
            "Loaded in bulk, as into an empty database: the keys, indexes and foreign keys of \
             {} were set aside and made again, each checked once over all rows.",
            bulk.join(", and of ")
        ));
    }
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

impl ImportReport {
    /// The import log row: the web app's summary keys, and the tool's detail beside them.
    ///
    /// A validation (`validation`) only reads, so it creates no table: on a database without an
    /// import log it is not recorded. An import creates the log when missing, failed ones too
    /// (their rollback took away what the import had created).
    pub(super) fn record(
        &self,
        conn: &Database,
        actor_id: Option<&str>,
        error: Option<&str>,
        validation: bool,
    ) -> Result<()> {
        if validation {
            if !conn.has_log(LogKind::Import)? {
                return Ok(());
            }
        } else {
            conn.create_tool_tables_now(&[ToolTable::ImportLog])?;
        }
        let o = &self.plan.outcomes;
        let mut errors: Vec<String> = self.plan.conflicts.clone();
        if let Some(err) = error {
            errors.push(err.to_owned());
        }
        let detail = ImportDetail {
            users_imported: Some(o.users.created + o.users.linked + o.users.updated),
            users_skipped: Some(o.users.skipped),
            tickets_imported: Some(o.tickets.created + o.tickets.updated),
            tickets_skipped: Some(o.tickets.skipped),
            custom_fields_imported: Some(o.custom_fields.created + o.custom_fields.updated),
            errors: Some(errors),
            conflict_count: Some(self.plan.conflict_count),
            status: Some(recorded(&self.status)?),
            policy: Some(recorded(&self.policy)?),
            file: Some(self.source.file.clone()),
            source: Some(recorded(&self.source)?),
            company_created: Some(self.company_created),
            outcomes: Some(recorded(o)?),
            warnings: Some(recorded(&self.plan.warnings)?),
            password_reset_required: Some(self.plan.password_reset_required),
            error: error.map(str::to_owned),
            tool: Some(crate::TOOL.to_owned()),
            // Only a restore of chosen tickets has these, so whole imports' rows stay as they were.
            chosen_tickets: self.chosen_tickets.clone(),
            not_chosen: self.plan.not_chosen,
            ..ImportDetail::default()
        };
        logs::insert(
            conn,
            &self.company_id,
            actor_id,
            &self.import_id,
            &detail,
            &db::now_timestamp(),
        )
    }
}
