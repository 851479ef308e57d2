//! `list`: what an archive holds, without restoring it (pg_restore `-l`, restic `ls`): its
//! manifest, and with `--tickets` one line per ticket, filtered by creation time, status or
//! text. Needs no database.
//!
//! Tickets stream past one at a time, so memory stays flat however many there are; only the
//! attachments per ticket are held (one small count per ticket that has any). Those come
//! from a first pass over the attachments, except from a json document on stdin, which is
//! read once: there a ticket read before the attachments shows its count as `-`.

mod show;

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::envelope::Keys;
use crate::archive::reader::{ArchiveFile, Event, Input, Layout};
use crate::archive::records::{Counts, Manifest, Section, TicketRecord};
use crate::archive::validate::{self, Record, Validator, fingerprint};
use crate::cli::ListArgs;
use crate::db;
use crate::report::Reporter;
use crate::when::DateWindow;
use show::{Output, Tally};

/// Which tickets to list.
#[derive(Debug, Clone)]
pub(crate) struct TicketFilter {
    pub window: DateWindow,
    /// Lowercase; empty lists every status.
    pub statuses: Vec<String>,
    /// Lowercase text to find in the title or description.
    pub grep: Option<String>,
}

impl TicketFilter {
    fn matches(&self, ticket: &TicketRecord) -> bool {
        if !self.statuses.is_empty() {
            let status = ticket.status.to_lowercase();
            if !self.statuses.iter().any(|s| *s == status) {
                return false;
            }
        }
        if self.window.from.is_some() || self.window.before.is_some() {
            // Compared as the database compares them (canonical UTC text), so that the same
            // bounds select the same tickets as `export --since/--until`.
            let Ok(created) = DateTime::parse_from_rfc3339(&ticket.created_at) else {
                return false;
            };
            let created = db::format_timestamp(created.with_timezone(&Utc));
            if self
                .window
                .from
                .as_ref()
                .is_some_and(|from| created < *from)
                || self.window.before.as_ref().is_some_and(|to| created >= *to)
            {
                return false;
            }
        }
        self.grep.as_ref().is_none_or(|text| {
            ticket.title.to_lowercase().contains(text)
                || ticket
                    .description
                    .as_ref()
                    .is_some_and(|d| d.to_lowercase().contains(text))
        })
    }
}

/// What `list` is asked for, in typed form.
#[derive(Debug, Clone)]
pub(crate) struct ListRequest {
    pub input: Input,
    /// What opens an encrypted archive.
    pub keys: Keys,
    /// `None` lists no tickets.
    pub tickets: Option<TicketFilter>,
}

impl ListRequest {
    /// A ticket filter asks for the tickets without `--tickets`.
    pub(crate) fn from_args(args: &ListArgs) -> Result<Self> {
        let filtered = args.since.is_some()
            || args.until.is_some()
            || !args.status.is_empty()
            || args.grep.is_some();
        let tickets = match args.tickets || filtered {
            true => Some(TicketFilter {
                window: DateWindow::new(
                    args.since.as_ref(),
                    args.until.as_ref(),
                    chrono::Utc::now(),
                )?,
                statuses: args.status.iter().map(|s| s.to_lowercase()).collect(),
                grep: args.grep.as_ref().map(|text| text.to_lowercase()),
            }),
            false => None,
        };
        Ok(Self {
            input: Input::from_arg(args.file.clone()),
            keys: Keys::new(args.decryption.identity.clone()),
            tickets,
        })
    }
}

/// The manifest as `list` shows it, and the head of its `--json` document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    /// The absolute path, or `-` for stdin.
    pub file: String,
    pub layout: Layout,
    pub encrypted: bool,
    /// `bomizzel-export`; `None` in the web app's files.
    pub format: Option<String>,
    pub format_version: Option<u32>,
    /// The program that wrote it; `None` in the web app's files.
    pub tool: Option<String>,
    pub export_id: String,
    pub company_id: String,
    pub company_name: String,
    pub exported_by: String,
    pub exported_by_email: Option<String>,
    pub exported_at: String,
    /// The sections the export included.
    pub sections: Vec<Section>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    /// As the manifest records them, else as counted; `None` where neither can be had
    /// (a web app file without counts, as one pass over stdin that also lists tickets).
    pub counts: Option<Counts>,
}

impl Summary {
    fn new(archive: &ArchiveFile, manifest: &Manifest, counts: Option<Counts>) -> Self {
        let options = &manifest.options;
        let sections = Section::ALL
            .into_iter()
            .filter(|section| match section {
                Section::Users => options.include_users,
                Section::CustomFields => options.include_custom_fields,
                Section::Tickets => options.include_tickets,
                Section::Attachments => options.include_attachments,
            })
            .collect();
        Self {
            file: archive.location(),
            layout: archive.layout(),
            encrypted: archive.encrypted(),
            format: manifest.format.clone(),
            format_version: manifest.format_version,
            tool: manifest.tool.clone(),
            export_id: manifest.export_id.clone(),
            company_id: manifest.company_id.clone(),
            company_name: manifest.company_name.clone(),
            exported_by: manifest.exported_by.clone(),
            exported_by_email: manifest.exported_by_email.clone(),
            exported_at: manifest.exported_at.clone(),
            sections,
            date_from: options.date_from.clone(),
            date_to: options.date_to.clone(),
            counts: manifest.counts.or(counts),
        }
    }
}

/// One ticket of the listing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketLine<'a> {
    pub id: &'a str,
    pub created_at: &'a str,
    pub status: &'a str,
    /// As an import reads it: the web app's 0-100 scale becomes low, medium or high.
    pub priority: &'static str,
    pub title: &'a str,
    pub notes: usize,
    pub history: usize,
    /// `None` where the archive has no attachments section, or (stdin) they come later.
    pub attachments: Option<u32>,
}

pub(crate) fn run(args: &ListArgs, reporter: &Reporter) -> Result<()> {
    let request = ListRequest::from_args(args)?;
    list(&request, reporter).map_err(|err| request.input.named_in(err))
}

fn list(request: &ListRequest, reporter: &Reporter) -> Result<()> {
    let mut archive = ArchiveFile::open(&request.input, &request.keys)?;
    let manifest = validate::read_manifest(&mut archive)?;
    reporter.step(format!(
        "read {}: {:?} archive {} of {}",
        request.input,
        archive.layout(),
        manifest.export_id,
        manifest.company_name
    ));
    let passes = Passes::plan(request, &archive, &manifest);
    let mut reading = Reading::default();
    let mut counted = None;
    if let Some(sections) = passes.survey {
        reporter.step(format!("a first pass over {sections:?}"));
        let present = reading.pass(&mut archive, sections, &mut |_, _| Ok(()))?;
        if present.contains(&Section::Attachments) {
            reading.attachments.get_or_insert_default();
        }
        counted = (sections == Section::ALL.as_slice()).then(|| reading.validator.counts());
    }
    let mut warnings = reading.validator.take_warnings();
    let summary = Summary::new(&archive, &manifest, counted);
    let mut out = Output::start(reporter)?;
    out.summary(&summary)?;
    let Some(filter) = &request.tickets else {
        return out.finish(reporter, None, warnings);
    };
    out.open_tickets()?;
    let mut tally = Tally::default();
    let listed = reading.pass(&mut archive, passes.listing, &mut |ticket, attachments| {
        tally.read += 1;
        if !filter.matches(ticket) {
            return Ok(());
        }
        tally.listed += 1;
        out.ticket(&TicketLine {
            id: &ticket.id,
            created_at: &ticket.created_at,
            status: &ticket.status,
            priority: ticket.priority.value.as_str(),
            title: &ticket.title,
            notes: ticket.notes.len(),
            history: ticket.history.len(),
            attachments,
        })?;
        Ok(())
    });
    if let Err(err) = listed {
        let err = request.input.named_in(err);
        out.fail(&err);
        return Err(err);
    }
    // A first pass over every section has counted the tickets' warnings already.
    if counted.is_none() {
        warnings.merge(reading.validator.take_warnings());
    }
    out.finish(reporter, Some(tally), warnings)
}

/// The passes over the archive: a first one, when the manifest has no counts (the web
/// app's files) or the tickets need their attachments counted, and the one that lists.
struct Passes {
    survey: Option<&'static [Section]>,
    listing: &'static [Section],
}

impl Passes {
    fn plan(request: &ListRequest, archive: &ArchiveFile, manifest: &Manifest) -> Self {
        let tickets = request.tickets.is_some();
        let uncounted = manifest.counts.is_none();
        // A json document on stdin is read once, as it comes: the ruling of SPEC §9.
        let once = request.input == Input::Stdin && archive.layout() == Layout::Json;
        let survey: Option<&'static [Section]> = match (uncounted, tickets) {
            (true, false) => Some(&Section::ALL),
            (true, true) if !once => Some(&Section::ALL),
            (false, true) if !once => Some(&[Section::Attachments]),
            _ => None,
        };
        let listing: &'static [Section] = match (once, tickets) {
            (_, false) => &[],
            // Attachments that come before the tickets are counted on the way.
            (true, true) => &[Section::Tickets, Section::Attachments],
            (false, true) => &[Section::Tickets],
        };
        Self { survey, listing }
    }
}

/// The decoding shared by both passes: every record is decoded and checked as an import
/// reads it (the web app's words and nulls with their warnings), ids left unremembered so
/// that memory stays flat; the first invalid record ends the listing (exit status 3).
struct Reading {
    validator: Validator,
    /// Attachments per ticket id (its fingerprint), once their section has been read.
    attachments: Option<HashMap<u64, u32>>,
}

impl Default for Reading {
    fn default() -> Self {
        Self {
            validator: Validator::without_record_ids(),
            attachments: None,
        }
    }
}

impl Reading {
    fn pass(
        &mut self,
        archive: &mut ArchiveFile,
        sections: &[Section],
        on_ticket: &mut dyn FnMut(&TicketRecord, Option<u32>) -> Result<()>,
    ) -> Result<BTreeSet<Section>> {
        archive.read(sections, &mut |event| {
            let Event::Record(section, index, text) = event else {
                return Ok(());
            };
            match self.validator.check_record(section, index, text)? {
                Some(Record::Ticket(ticket)) => {
                    let attachments = self.attachments.as_ref().map(|per_ticket| {
                        per_ticket
                            .get(&fingerprint(&ticket.id))
                            .copied()
                            .unwrap_or(0)
                    });
                    on_ticket(&ticket, attachments)
                }
                Some(Record::Attachment(attachment)) => {
                    let per_ticket = self.attachments.get_or_insert_default();
                    *per_ticket
                        .entry(fingerprint(&attachment.ticket_id))
                        .or_default() += 1;
                    Ok(())
                }
                Some(Record::User(_) | Record::CustomField(_)) => Ok(()),
                None => self.validator.check_clean(),
            }
        })
    }
}
