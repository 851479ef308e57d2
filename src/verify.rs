//! What a restore of an archive must give back, and whether it did: `verify`'s comparison.
//!
//! While the restore imports the archive, [`Expectations::note`] writes down each record it
//! takes as a re-export of the restored company must give it back: with the translations the
//! import makes (the web app's words, nulls read as defaults, a note's missing `updatedAt`),
//! notes and history in export order, and each person reference resolved the way the import
//! resolves it. Only a digest of that record goes into a table of the scratch database, so
//! memory stays flat however large the archive. [`Expectations::compare`] then exports the
//! restored company with export's own queries and checks every record against its digest.
//!
//! "Identical" sets aside what a restore cannot keep: users and custom fields are matched by
//! email and name, their ids aside; and a person the archive names but does not hold (a
//! `--no-users` archive, someone who has left the company) cannot be restored as that person,
//! so such a reference is counted as adjusted and left out of the comparison.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hasher};
use std::io;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use crate::archive::records::{
    AttachmentRecord, CompanyRole, Counts, CustomFieldRecord, FieldType, Manifest, NullFlag,
    PersonRef, Section, TicketRecord, UserRecord,
};
use crate::archive::validate::Record;
use crate::db::export_rows::{self, TicketScope};
use crate::import::{PersonTarget, place_person};
use crate::interrupt;

/// How many differing records are described; the count goes on.
pub const MAX_SHOWN: usize = 10;
/// How many differing values of one record are named.
const VALUES_SHOWN: usize = 3;

/// The scratch database's table of what the restore must give back: per record, the digest
/// of its expected form and the person slots left out of the comparison.
const EXPECTED_TABLE: &str = "CREATE TABLE verify_expected (
    section    TEXT NOT NULL,
    key        TEXT NOT NULL,
    digest     INTEGER NOT NULL,
    unresolved TEXT,
    PRIMARY KEY (section, key)
) WITHOUT ROWID";

/// Person references the archive itself cannot resolve, left out of the comparison.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjusted {
    pub person_references: u64,
    /// The first of them, as `ticket <id> submitter <email>`.
    pub first: Option<String>,
}

/// One section's records: in the archive (as the restore took them), in the restored
/// company, and (for records compared on their own) how many of those are identical.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SectionCheck {
    pub archive: u64,
    pub restored: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identical: Option<u64>,
}

/// Every section's check; notes and history are compared as part of their tickets.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionChecks {
    pub users: SectionCheck,
    pub custom_fields: SectionCheck,
    pub tickets: SectionCheck,
    pub notes: SectionCheck,
    pub history: SectionCheck,
    pub attachments: SectionCheck,
}

impl SectionChecks {
    pub fn rows(&self) -> [(&'static str, &SectionCheck); 6] {
        [
            ("users", &self.users),
            ("custom fields", &self.custom_fields),
            ("tickets", &self.tickets),
            ("notes", &self.notes),
            ("history", &self.history),
            ("attachments", &self.attachments),
        ]
    }

    fn compared(&mut self, section: Section) -> &mut SectionCheck {
        match section {
            Section::Users => &mut self.users,
            Section::CustomFields => &mut self.custom_fields,
            Section::Tickets => &mut self.tickets,
            Section::Attachments => &mut self.attachments,
        }
    }
}

/// What the restore must give back, noted record by record as it imports them.
pub struct Expectations {
    /// A file the web app wrote, whose null people the import replaces.
    web_app_file: bool,
    /// The archive's users by lowercase email, as a reference to them reads once restored.
    people: HashMap<String, PersonRef>,
    noted: Counts,
    adjusted: Adjusted,
}

/// A record in the form the re-export must give, with the person slots (by index, see
/// `person_slots`) that the archive cannot resolve.
struct Expected {
    record: Record,
    unresolved: Vec<usize>,
    /// The unresolved references, as `adjusted` describes them.
    strangers: Vec<String>,
}

impl Expectations {
    /// Expectations of the restore of the archive `manifest` describes, in the scratch
    /// database `conn`.
    pub fn new(conn: &Connection, manifest: &Manifest) -> Result<Self> {
        conn.execute_batch(EXPECTED_TABLE)
            .context("cannot create the table of expected records")?;
        Ok(Self {
            web_app_file: manifest.format.is_none(),
            people: HashMap::new(),
            noted: Counts::default(),
            adjusted: Adjusted::default(),
        })
    }

    /// The person references left out of the comparison, so far.
    pub fn adjusted(&self) -> &Adjusted {
        &self.adjusted
    }

    /// Notes what the restore must give back for one record it imports (`conn` is the
    /// restore's own transaction). Users come first, so that references find them.
    pub fn note(&mut self, conn: &Connection, record: &Record) -> Result<()> {
        match record {
            Record::User(user) => {
                self.noted.users += 1;
                self.people
                    .entry(user.email.to_ascii_lowercase())
                    .or_insert_with(|| PersonRef {
                        email: Some(user.email.clone()),
                        first_name: user.first_name.clone(),
                        last_name: user.last_name.clone(),
                    });
            }
            Record::CustomField(_) => self.noted.custom_fields += 1,
            Record::Ticket(ticket) => {
                self.noted.tickets += 1;
                self.noted.notes += ticket.notes.len() as u64;
                self.noted.history += ticket.history.len() as u64;
            }
            Record::Attachment(_) => self.noted.attachments += 1,
        }
        let expected = self.expected(record);
        if let Some(first) = expected.strangers.first()
            && self.adjusted.first.is_none()
        {
            self.adjusted.first = Some(first.clone());
        }
        self.adjusted.person_references += expected.strangers.len() as u64;
        let (section, key) = identity(record);
        let unresolved = (!expected.unresolved.is_empty()).then(|| {
            expected
                .unresolved
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        conn.prepare_cached(
            "INSERT INTO verify_expected (section, key, digest, unresolved) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            section.json_key(),
            key,
            digest(&expected.record)?,
            unresolved
        ])
        .with_context(|| format!("cannot note {} {key}", section.json_key()))?;
        Ok(())
    }

    /// A record as a re-export of the restored company gives it.
    fn expected(&self, record: &Record) -> Expected {
        let mut expected = Expected {
            record: record.clone(),
            unresolved: Vec::new(),
            strangers: Vec::new(),
        };
        match &mut expected.record {
            Record::User(user) => restored_user(user),
            Record::CustomField(field) => restored_field(field),
            Record::Ticket(ticket) => {
                ticket.priority = ticket.priority.value.into();
                for note in &mut ticket.notes {
                    note.is_internal = Some(NullFlag::NoteInternal.read(note.is_internal));
                    note.updated_at
                        .get_or_insert_with(|| note.created_at.clone());
                }
                // The order export reads them in.
                ticket
                    .notes
                    .sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
                ticket
                    .history
                    .sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
            }
            Record::Attachment(attachment) => {
                if self.web_app_file && attachment.original_name.is_none() {
                    attachment.original_name = Some(attachment.file_name.clone());
                }
            }
        }
        let place = match record {
            Record::Ticket(ticket) => format!("ticket {}", ticket.id),
            Record::Attachment(attachment) => format!("attachment {}", attachment.id),
            _ => String::new(),
        };
        for (index, (slot, role, stands_in)) in
            person_slots(&mut expected.record).into_iter().enumerate()
        {
            let people = &self.people;
            let member = |email: &str| people.get(&email.to_ascii_lowercase()).cloned();
            let stranger = match place_person(slot.as_ref(), self.web_app_file, stands_in, member) {
                PersonTarget::Member(person) => {
                    *slot = Some(person);
                    continue;
                }
                PersonTarget::Nobody => {
                    *slot = None;
                    continue;
                }
                PersonTarget::Stranger(email) => email.unwrap_or("(no one named)").to_owned(),
            };
            *slot = Some(unresolved_marker());
            expected.unresolved.push(index);
            expected
                .strangers
                .push(format!("{place} {role} {stranger}"));
        }
        expected
    }

    /// Exports the restored company from `conn` with export's own queries and checks each
    /// record against what was noted.
    pub fn compare(&self, conn: &Connection, company_id: &str) -> Result<Comparison> {
        let mut comparison = Comparison::default();
        let checks = &mut comparison.sections;
        checks.users.archive = self.noted.users;
        checks.custom_fields.archive = self.noted.custom_fields;
        checks.tickets.archive = self.noted.tickets;
        checks.notes.archive = self.noted.notes;
        checks.history.archive = self.noted.history;
        checks.attachments.archive = self.noted.attachments;
        for section in Section::ALL {
            comparison.sections.compared(section).identical = Some(0);
        }

        let scope = TicketScope {
            company_id: company_id.to_owned(),
            created_from: None,
            created_before: None,
        };
        export_rows::for_each_user(conn, company_id, |user| {
            comparison.check(conn, Record::User(user))
        })?;
        export_rows::for_each_custom_field(conn, company_id, |field| {
            comparison.check(conn, Record::CustomField(field))
        })?;
        let field_names = export_rows::field_names(conn, company_id)?;
        export_rows::for_each_ticket(conn, &scope, &field_names, |ticket| {
            comparison.sections.notes.restored += ticket.notes.len() as u64;
            comparison.sections.history.restored += ticket.history.len() as u64;
            comparison.check(conn, Record::Ticket(ticket))
        })?;
        export_rows::for_each_attachment(conn, &scope, |attachment| {
            comparison.check(conn, Record::Attachment(attachment))
        })?;

        // What is left was in the archive and is not in the restored company.
        let mut left = conn
            .prepare("SELECT section, key FROM verify_expected ORDER BY section, key LIMIT ?1")?;
        let missing = left
            .query_map([MAX_SHOWN as i64], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let missing_count: i64 =
            conn.query_row("SELECT count(*) FROM verify_expected", [], |row| row.get(0))?;
        comparison.difference_count += u64::try_from(missing_count).unwrap_or(0);
        for (section, key) in missing {
            comparison.differ(format!("{section} {key}: in the archive, not restored"));
        }
        Ok(comparison)
    }

    /// Names what differs in a record that `compare` found changed, once the archive is read
    /// again: `record` is one of the archive's records.
    pub fn explain(&self, comparison: &mut Comparison, record: &Record) -> Result<()> {
        let (section, key) = identity(record);
        let Some(at) = comparison
            .changed
            .iter()
            .position(|changed| changed.section == section && changed.key == key)
        else {
            return Ok(());
        };
        let changed = comparison.changed.swap_remove(at);
        let expected = serde_json::to_value(&self.expected(record).record)?;
        let mut differences = Vec::new();
        differing_values(&expected, &changed.restored, "", &mut differences);
        let described = match differences.is_empty() {
            true => "differs".to_owned(),
            false => differences.join("; "),
        };
        comparison.differ(format!("{} {key}: {described}", section.json_key()));
        Ok(())
    }
}

/// A record the restore gave back otherwise, in its restored (and masked) form.
struct Changed {
    section: Section,
    key: String,
    restored: Value,
}

/// What the re-export of the restored company showed.
#[derive(Default)]
pub struct Comparison {
    pub sections: SectionChecks,
    /// How many records are missing, changed or unexpected.
    pub difference_count: u64,
    /// The first differences, described.
    pub differences: Vec<String>,
    /// Changed records still to be described from the archive (see `explain`).
    changed: Vec<Changed>,
}

impl Comparison {
    /// Whether changed records wait for the archive to say what changed.
    pub fn needs_archive(&self) -> bool {
        !self.changed.is_empty()
    }

    /// Records still waiting are described as "differs" only.
    pub fn finish(&mut self) {
        for changed in std::mem::take(&mut self.changed) {
            let section = changed.section.json_key();
            self.differences
                .push(format!("{section} {}: differs", changed.key));
        }
    }

    fn differ(&mut self, what: String) {
        if self.differences.len() < MAX_SHOWN {
            self.differences.push(what);
        }
    }

    /// One record of the re-export against its note.
    fn check(&mut self, conn: &Connection, mut record: Record) -> Result<()> {
        interrupt::check()?;
        let (section, key) = identity(&record);
        self.sections.compared(section).restored += 1;
        let noted: Option<(i64, Option<String>)> = conn
            .prepare_cached(
                "DELETE FROM verify_expected WHERE section = ?1 AND key = ?2
                 RETURNING digest, unresolved",
            )?
            .query_row(params![section.json_key(), key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((expected, unresolved)) = noted else {
            self.difference_count += 1;
            self.differ(format!(
                "{} {key}: restored, but not in the archive",
                section.json_key()
            ));
            return Ok(());
        };
        restored_form(&mut record, unresolved.as_deref().unwrap_or_default());
        if digest(&record)? == expected {
            if let Some(identical) = &mut self.sections.compared(section).identical {
                *identical += 1;
            }
            return Ok(());
        }
        self.difference_count += 1;
        if self.changed.len() + self.differences.len() < MAX_SHOWN {
            self.changed.push(Changed {
                section,
                key,
                restored: serde_json::to_value(&record)?,
            });
        }
        Ok(())
    }
}

/// How a record is found again in the re-export: a user by email (whatever its case), a
/// custom field by name, the others by id.
fn identity(record: &Record) -> (Section, String) {
    match record {
        Record::User(user) => (Section::Users, user.email.to_ascii_lowercase()),
        Record::CustomField(field) => (Section::CustomFields, field.name.clone()),
        Record::Ticket(ticket) => (Section::Tickets, ticket.id.clone()),
        Record::Attachment(attachment) => (Section::Attachments, attachment.id.clone()),
    }
}

/// A user as the import writes it: a null flag is its default, a missing membership role
/// is `member`, null preferences are `{}`; the id aside.
fn restored_user(user: &mut UserRecord) {
    user.id.clear();
    user.role = user.role.value.into();
    user.company_role = Some(
        user.company_role
            .map_or(CompanyRole::Member, |role| role.value)
            .into(),
    );
    user.is_active = Some(NullFlag::UserActive.read(user.is_active));
    user.email_verified = Some(NullFlag::UserEmailVerified.read(user.email_verified));
    if user.preferences.is_null() {
        user.preferences = Value::Object(serde_json::Map::new());
    }
}

/// A custom field as the import writes it: no type is `string`, no label its name, no
/// order 0, no `updatedAt` its `createdAt`, a null flag its default; the id aside.
fn restored_field(field: &mut CustomFieldRecord) {
    field.id.clear();
    field.field_type.get_or_insert(FieldType::String);
    field.label.get_or_insert_with(|| field.name.clone());
    field.display_order.get_or_insert(0);
    field
        .updated_at
        .get_or_insert_with(|| field.created_at.clone());
    field.is_required = Some(NullFlag::FieldRequired.read(field.is_required));
    field.is_active = Some(NullFlag::FieldActive.read(field.is_active));
}

/// A re-exported record in the form it is compared in: ids of users and custom fields
/// aside, and the person slots the archive could not resolve masked as in its note.
fn restored_form(record: &mut Record, unresolved: &str) {
    match record {
        Record::User(user) => user.id.clear(),
        Record::CustomField(field) => field.id.clear(),
        Record::Ticket(_) | Record::Attachment(_) => {}
    }
    let masked: Vec<usize> = unresolved
        .split(',')
        .filter_map(|index| index.parse().ok())
        .collect();
    for (index, (slot, _, _)) in person_slots(record).into_iter().enumerate() {
        if masked.contains(&index) {
            *slot = Some(unresolved_marker());
        }
    }
}

/// What stands in a person slot left out of the comparison: a reference with no email,
/// which no export writes (a missing user is null there).
fn unresolved_marker() -> PersonRef {
    PersonRef::default()
}

/// A record's person references in a fixed order, each with its role and whether the
/// importing admin stands in for one the target does not hold (not for an assignee).
fn person_slots(record: &mut Record) -> Vec<(&mut Option<PersonRef>, &'static str, bool)> {
    match record {
        Record::Ticket(ticket) => ticket_people(ticket),
        Record::Attachment(attachment) => attachment_people(attachment),
        Record::User(_) | Record::CustomField(_) => Vec::new(),
    }
}

fn ticket_people(ticket: &mut TicketRecord) -> Vec<(&mut Option<PersonRef>, &'static str, bool)> {
    let mut slots = vec![
        (&mut ticket.created_by, "submitter", true),
        (&mut ticket.assigned_to, "assignee", false),
    ];
    slots.extend(
        ticket
            .notes
            .iter_mut()
            .map(|note| (&mut note.author, "note author", true)),
    );
    slots.extend(
        ticket
            .history
            .iter_mut()
            .map(|entry| (&mut entry.user, "history entry user", true)),
    );
    slots
}

fn attachment_people(
    attachment: &mut AttachmentRecord,
) -> Vec<(&mut Option<PersonRef>, &'static str, bool)> {
    vec![(&mut attachment.uploaded_by, "uploader", true)]
}

/// A 64-bit digest of a record's JSON: both sides are digested in the same run, so a fixed
/// keyed hash is enough to tell equal from different.
fn digest(record: &Record) -> Result<i64> {
    struct Digest(DefaultHasher);
    impl io::Write for Digest {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut out = Digest(DefaultHasher::new());
    serde_json::to_writer(&mut out, record)?;
    Ok(out.0.finish() as i64)
}

/// The places where two JSON values differ (up to `VALUES_SHOWN`), as
/// `notes[1].content: the archive has "a", the restore "b"`.
fn differing_values(expected: &Value, restored: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= VALUES_SHOWN || expected == restored {
        return;
    }
    match (expected, restored) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeMap<&String, ()> = a.keys().chain(b.keys()).map(|k| (k, ())).collect();
            for key in keys.keys() {
                let inner = match path.is_empty() {
                    true => (*key).clone(),
                    false => format!("{path}.{key}"),
                };
                let (a, b) = (
                    a.get(*key).unwrap_or(&Value::Null),
                    b.get(*key).unwrap_or(&Value::Null),
                );
                differing_values(a, b, &inner, out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (a, b)) in a.iter().zip(b).enumerate() {
                differing_values(a, b, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(format!(
            "{}: the archive has {}, the restore {}",
            if path.is_empty() { "the record" } else { path },
            shown(expected),
            shown(restored)
        )),
    }
}

/// A value for a message, cut short.
fn shown(value: &Value) -> String {
    const SHOWN: usize = 60;
    let text = value.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::envelope::Keys;
    use crate::archive::reader::{ArchiveFile, Input};
    use crate::archive::validate::Validator;
    use crate::commands::import::{read_manifest, read_pass, restore_company};
    use crate::import::ImportActor;
    use crate::report::Reporter;
    use indicatif::ProgressBar;

    const TICKET: &str = "b0000000-0000-4000-8000-000000000001";
    const ATTACHMENT: &str = "a0000000-0000-4000-8000-000000000001";

    /// A json archive of one company: its admin, a picklist field, a ticket whose notes are
    /// out of export order and whose submitter the archive does not hold, an attachment.
    const ARCHIVE: &str = r#"{"exportInfo": {"format": "bomizzel-export", "formatVersion": 1,
      "exportId": "export_1", "companyId": "c1", "companyName": "Acme",
      "exportedBy": "u1", "exportedByEmail": "ada@acme.example",
      "exportedAt": "2026-11-25T14:30:00.000Z", "options": {}},
     "data": {
      "users": [{"id": "u1", "email": "ada@acme.example", "firstName": "Ada", "lastName": "L",
        "role": "admin", "companyRole": "admin", "isActive": true, "emailVerified": true,
        "preferences": {}, "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z"}],
      "customFields": [{"id": "f1", "name": "plan", "label": "Plan", "fieldType": "picklist",
        "options": ["free", "pro"], "isRequired": false, "isActive": true, "displayOrder": 1,
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}],
      "tickets": [{"id": "b0000000-0000-4000-8000-000000000001", "title": "Printer",
        "status": "open", "priority": "high", "customFields": {"plan": "gone"},
        "createdBy": {"email": "left@acme.example", "firstName": "Left", "lastName": "Early"},
        "assignedTo": {"email": "ada@acme.example"},
        "notes": [
          {"id": "n2", "content": "second", "isInternal": false,
           "author": {"email": "ADA@acme.example"}, "createdAt": "2026-02-02T00:00:00.000Z",
           "updatedAt": "2026-02-02T00:00:00.000Z"},
          {"id": "n1", "content": "first", "isInternal": true,
           "author": {"email": "ada@acme.example"}, "createdAt": "2026-02-01T00:00:00.000Z"}],
        "history": [{"id": "h1", "action": "created", "user": {"email": "ada@acme.example"},
          "createdAt": "2026-02-01T00:00:00.000Z"}],
        "createdAt": "2026-02-01T00:00:00.000Z", "updatedAt": "2026-02-02T00:00:00.000Z"}],
      "attachments": [{"id": "a0000000-0000-4000-8000-000000000001",
        "ticketId": "b0000000-0000-4000-8000-000000000001", "noteId": "n1",
        "fileName": "x.png", "fileSize": 3, "uploadedBy": {"email": "ada@acme.example"},
        "uploadedAt": "2026-02-01T00:00:00.000Z"}]}}"#;

    /// Restores `ARCHIVE` into a scratch database, lets `tamper` change it, and compares.
    fn restore_and_compare(tamper: &str) -> (Expectations, Comparison) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("archive.json");
        std::fs::write(&path, ARCHIVE).expect("write the archive");
        let mut archive =
            ArchiveFile::open(&Input::File(path), &Keys::default()).expect("open the archive");
        let manifest = read_manifest(&mut archive).expect("a manifest");
        let mut scratch = crate::db::scratch().expect("a scratch database");
        let mut expectations = Expectations::new(&scratch, &manifest).expect("expectations");
        let actor = ImportActor {
            email: "ada@acme.example".into(),
            id: None,
        };
        restore_company(
            &mut scratch,
            &mut archive,
            &manifest,
            actor,
            &Reporter::new(true, false),
            &mut |conn, record| expectations.note(conn, record),
        )
        .expect("the archive restores");
        scratch.execute_batch(tamper).expect("tamper");
        let mut comparison = expectations.compare(&scratch, "c1").expect("compare");
        if comparison.needs_archive() {
            let mut take = |record: &Record| expectations.explain(&mut comparison, record);
            read_pass(
                &mut archive,
                &mut Validator::new(),
                Some(&mut take),
                &ProgressBar::hidden(),
            )
            .expect("read the archive again");
        }
        comparison.finish();
        (expectations, comparison)
    }

    #[test]
    fn an_untouched_restore_is_identical_with_the_unheld_submitter_adjusted() {
        let (expectations, comparison) = restore_and_compare("");
        assert_eq!(
            comparison.difference_count, 0,
            "{:?}",
            comparison.differences
        );
        let sections = comparison.sections;
        for (name, check) in sections.rows() {
            assert_eq!(check.archive, check.restored, "{name}");
        }
        assert_eq!(sections.tickets.identical, Some(1));
        assert_eq!(sections.notes.restored, 2);
        assert_eq!(sections.attachments.identical, Some(1));
        let adjusted = expectations.adjusted();
        assert_eq!(adjusted.person_references, 1);
        assert_eq!(
            adjusted.first.as_deref(),
            Some(format!("ticket {TICKET} submitter left@acme.example").as_str())
        );
    }

    #[test]
    fn a_changed_value_a_lost_record_and_an_unexpected_one_are_differences() {
        let (_, comparison) = restore_and_compare(&format!(
            "UPDATE ticket_notes SET content = 'changed' WHERE id = 'n1';
             DELETE FROM file_attachments WHERE id = '{ATTACHMENT}';
             INSERT INTO custom_fields (id, company_id, name, label, type, created_at, updated_at)
             VALUES ('f2', 'c1', 'extra', 'Extra', 'string', 'now', 'now');"
        ));
        assert_eq!(comparison.difference_count, 3);
        let differences = comparison.differences.join("\n");
        for expected in [
            format!(
                "tickets {TICKET}: notes[0].content: the archive has \"first\", the restore \"changed\""
            ),
            format!("attachments {ATTACHMENT}: in the archive, not restored"),
            "customFields extra: restored, but not in the archive".to_owned(),
        ] {
            assert!(
                differences.contains(&expected),
                "{expected:?} not among:\n{differences}"
            );
        }
        assert_eq!(comparison.sections.tickets.identical, Some(0));
        assert_eq!(comparison.sections.attachments.restored, 0);
    }
}
