//! What a restore of an archive must give back, and whether it did: `verify`'s comparison.
//!
//! While the restore imports the archive, [`Expectations::note`] works out each record it
//! takes as a re-export of the restored company must give it back: with the translations the
//! import makes (the web app's words, nulls read as defaults, a note's missing `updatedAt`),
//! notes and history in export order, and each person reference resolved as the import
//! resolves it. Only a 64-bit digest of that form is kept, by a digest of the record's key:
//! 16 bytes a record, about 3 MiB at 100k tickets, while the records themselves stay in the
//! scratch database. [`Expectations::compare`] then exports the restored company with
//! export's own queries and checks each record against its digest; the archive is read once
//! more only to describe records that differ or are missing.
//!
//! "Identical" sets aside what a restore cannot keep: users and custom fields are matched by
//! email and name, their ids aside; and a person the archive names but does not hold (a
//! `--no-users` archive, someone who has left the company) cannot be restored as that
//! person: such a reference is expected as the import writes it (the restoring user, or
//! nobody) and counted as adjusted.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::archive::records::{
    AttachmentRecord, CompanyRole, Counts, CustomFieldRecord, FieldType, Manifest, NullFlag,
    Origin, PersonRef, Section, TicketRecord, UserRecord,
};
use crate::archive::validate::Record;
use crate::db::export_rows::{self, TicketScope};
use crate::interrupt;
use crate::restore::{PerKind, PersonTarget, StandIn, place_person};

/// How many differing or missing records are described; the count goes on.
pub(crate) const MAX_SHOWN: usize = 10;
/// How many differing values of one record are named.
const VALUES_SHOWN: usize = 3;
/// The page cache export reads with (SQLite's default; negative: in KiB).
const EXPORT_CACHE_KIB: i64 = -2000;

/// Person references the archive itself cannot resolve: expected as the import writes them,
/// and reported.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Adjusted {
    pub person_references: u64,
    /// The first of them, as `ticket <id> submitter <email>`.
    pub first: Option<String>,
}

/// One section's records: in the archive (as the restore took them), in the restored
/// company, and (for records compared on their own) how many of those are identical.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct SectionCheck {
    pub archive: u64,
    pub restored: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identical: Option<u64>,
}

/// Every section's check; notes and history are compared as part of their tickets.
pub(crate) type SectionChecks = PerKind<SectionCheck>;

/// The check of a section whose records are compared one by one.
fn compared(checks: &mut SectionChecks, section: Section) -> &mut SectionCheck {
    match section {
        Section::Users => &mut checks.users,
        Section::CustomFields => &mut checks.custom_fields,
        Section::Tickets => &mut checks.tickets,
        Section::Attachments => &mut checks.attachments,
    }
}

/// What the restore must give back, worked out record by record as it imports them.
pub(crate) struct Expectations {
    /// Who wrote the archive: the import replaces the null people of a web app file.
    origin: Origin,
    /// Whom the restore runs as (lowercase email); `None` for no one.
    actor: Option<String>,
    /// The archive's users, by lowercase email: whom references can name once restored.
    people: HashSet<String>,
    /// The digest of each record's expected form, by the digest of its section and key.
    expected: HashMap<u64, u64>,
    noted: Counts,
    adjusted: Adjusted,
    /// Reused for each record's JSON.
    scratch: Vec<u8>,
}

impl Expectations {
    /// Expectations of the restore of the archive `manifest` describes, run as the user
    /// with the email `actor` (`None`: as no one).
    pub(crate) fn new(manifest: &Manifest, actor: Option<&str>) -> Self {
        Self {
            origin: manifest.origin(),
            actor: actor.map(str::to_ascii_lowercase),
            people: HashSet::new(),
            expected: HashMap::new(),
            noted: Counts::default(),
            adjusted: Adjusted::default(),
            scratch: Vec::new(),
        }
    }

    /// The person references the archive cannot resolve, so far.
    pub(crate) fn adjusted(&self) -> &Adjusted {
        &self.adjusted
    }

    /// Notes what the restore must give back for one record it imports. Users come first,
    /// so that references find them.
    pub(crate) fn note(&mut self, record: Record) -> Result<()> {
        match &record {
            Record::User(user) => {
                self.noted.users += 1;
                self.people.insert(user.email.to_ascii_lowercase());
            }
            Record::CustomField(_) => self.noted.custom_fields += 1,
            Record::Ticket(ticket) => {
                self.noted.tickets += 1;
                self.noted.notes += ticket.notes.len() as u64;
                self.noted.history += ticket.history.len() as u64;
            }
            Record::Attachment(_) => self.noted.attachments += 1,
        }
        let (expected, strangers) = self.expected(record);
        if let Some(first) = strangers.first()
            && self.adjusted.first.is_none()
        {
            self.adjusted.first = Some(first.clone());
        }
        self.adjusted.person_references += strangers.len() as u64;
        let digest = digest(&expected, &mut self.scratch)?;
        self.expected.insert(key_digest(&expected), digest);
        Ok(())
    }

    /// A record as a re-export of the restored company gives it (in the form compared), and
    /// the references to people the archive does not hold, described.
    fn expected(&self, mut expected: Record) -> (Record, Vec<String>) {
        match &mut expected {
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
                if self.origin == Origin::WebApp && attachment.original_name.is_none() {
                    attachment.original_name = Some(attachment.file_name.clone());
                }
            }
        }
        let mut unheld = Vec::new();
        for_each_person(&mut expected, |slot, role, stand_in| {
            person_as_compared(slot);
            let people = &self.people;
            let member = |email: &str| people.contains(email).then_some(());
            let stranger = match place_person(slot.as_ref(), self.origin, stand_in, member) {
                PersonTarget::Member(()) => return,
                PersonTarget::Nobody => {
                    *slot = None;
                    return;
                }
                PersonTarget::Stranger(email) => email.unwrap_or("(no one named)").to_owned(),
            };
            unheld.push((role, stranger));
            // As the import writes it: the restoring user, or nobody (an assignee, or a
            // restore run as no one).
            *slot = match (&self.actor, stand_in) {
                (Some(actor), StandIn::Actor) => Some(PersonRef {
                    email: Some(actor.into()),
                    ..PersonRef::default()
                }),
                _ => None,
            };
        });
        let place = match &expected {
            Record::Ticket(ticket) => format!("ticket {}", ticket.id),
            Record::Attachment(attachment) => format!("attachment {}", attachment.id),
            _ => String::new(),
        };
        let strangers = unheld
            .into_iter()
            .map(|(role, email)| format!("{place} {role} {email}"))
            .collect();
        (expected, strangers)
    }

    /// Exports the restored company from `conn` with export's own queries and checks each
    /// record against what was noted. What is left unmatched was not restored.
    pub(crate) fn compare(&mut self, conn: &Connection, company_id: &str) -> Result<Comparison> {
        let mut comparison = Comparison {
            expected: std::mem::take(&mut self.expected),
            ..Comparison::default()
        };
        let checks = &mut comparison.sections;
        checks.users.archive = self.noted.users;
        checks.custom_fields.archive = self.noted.custom_fields;
        checks.tickets.archive = self.noted.tickets;
        checks.notes.archive = self.noted.notes;
        checks.history.archive = self.noted.history;
        checks.attachments.archive = self.noted.attachments;
        for section in Section::ALL {
            compared(&mut comparison.sections, section).identical = Some(0);
        }
        let scope = TicketScope {
            company_id: company_id.to_owned(),
            created_from: None,
            created_before: None,
        };
        // Export's own page cache (SQLite's default), not the import's larger one: its sorts
        // (notes and history by ticket) take up to a page cache's worth each.
        conn.pragma_update(None, "cache_size", EXPORT_CACHE_KIB)?;
        // One snapshot, as export reads.
        let tx = conn.unchecked_transaction()?;
        export_rows::for_each_user(&tx, company_id, |user| comparison.check(Record::User(user)))?;
        export_rows::for_each_custom_field(&tx, company_id, |field| {
            comparison.check(Record::CustomField(field))
        })?;
        let field_names = export_rows::field_names(&tx, company_id)?;
        export_rows::for_each_ticket(&tx, &scope, &field_names, |ticket| {
            comparison.check(Record::Ticket(ticket))
        })?;
        export_rows::for_each_attachment(&tx, &scope, |attachment| {
            comparison.check(Record::Attachment(attachment))
        })?;
        drop(tx);
        // Whatever is left was in the archive and did not come back.
        comparison.difference_count += comparison.expected.len() as u64;
        comparison.missing = comparison.expected.keys().copied().collect();
        comparison.expected = HashMap::new();
        Ok(comparison)
    }

    /// Describes, from one of the archive's records read again, what `compare` found changed
    /// or missing in it.
    pub(crate) fn explain(&self, comparison: &mut Comparison, record: Record) -> Result<()> {
        let (expected, _) = self.expected(record);
        let key = key_digest(&expected);
        let (section, name) = identity(&expected);
        let section = section.json_key();
        if comparison.missing.remove(&key) {
            comparison.differ(format!("{section} {name}: in the archive, not restored"));
            return Ok(());
        }
        let Some(at) = comparison.changed.iter().position(|c| c.key == key) else {
            return Ok(());
        };
        let changed = comparison.changed.swap_remove(at);
        let mut differences = Vec::new();
        differing_values(
            &serde_json::to_value(&expected)?,
            &changed.restored,
            "",
            &mut differences,
        );
        let described = match differences.is_empty() {
            true => "differs".to_owned(),
            false => differences.join("; "),
        };
        comparison.differ(format!("{section} {name}: {described}"));
        Ok(())
    }
}

/// A record the restore gave back otherwise, in its compared form.
struct Changed {
    key: u64,
    name: String,
    section: Section,
    restored: Value,
}

/// What the re-export of the restored company showed.
#[derive(Default)]
pub(crate) struct Comparison {
    pub sections: SectionChecks,
    /// How many records are missing, changed or unexpected.
    pub difference_count: u64,
    /// The first differences, described.
    pub differences: Vec<String>,
    /// The expected digests not yet met, while comparing.
    expected: HashMap<u64, u64>,
    /// Changed records to describe from the archive (see `explain`), the first few.
    changed: Vec<Changed>,
    /// Keys of records that did not come back, to name from the archive.
    missing: HashSet<u64>,
    /// Reused for each record's JSON.
    scratch: Vec<u8>,
}

impl Comparison {
    /// Whether differing or missing records wait for the archive to name them.
    pub(crate) fn needs_archive(&self) -> bool {
        !self.changed.is_empty() || (!self.missing.is_empty() && self.differences.len() < MAX_SHOWN)
    }

    /// Changed records the archive did not describe are listed as they are.
    pub(crate) fn finish(&mut self) {
        for changed in std::mem::take(&mut self.changed) {
            let section = changed.section.json_key();
            self.differ(format!("{section} {}: differs", changed.name));
        }
    }

    fn differ(&mut self, what: String) {
        if self.differences.len() < MAX_SHOWN {
            self.differences.push(what);
        }
    }

    /// One record of the re-export against its expected digest.
    fn check(&mut self, mut record: Record) -> Result<()> {
        interrupt::check()?;
        if let Record::Ticket(ticket) = &record {
            self.sections.notes.restored += ticket.notes.len() as u64;
            self.sections.history.restored += ticket.history.len() as u64;
        }
        match &mut record {
            Record::User(user) => user.id.clear(),
            Record::CustomField(field) => field.id.clear(),
            Record::Ticket(_) | Record::Attachment(_) => {}
        }
        for_each_person(&mut record, |slot, _, _| person_as_compared(slot));
        let (section, name) = identity(&record);
        let name = name.into_owned();
        compared(&mut self.sections, section).restored += 1;
        let key = key_digest(&record);
        let Some(expected) = self.expected.remove(&key) else {
            self.difference_count += 1;
            self.differ(format!(
                "{} {name}: restored, but not in the archive",
                section.json_key()
            ));
            return Ok(());
        };
        if digest(&record, &mut self.scratch)? == expected {
            if let Some(identical) = &mut compared(&mut self.sections, section).identical {
                *identical += 1;
            }
            return Ok(());
        }
        self.difference_count += 1;
        if self.changed.len() + self.differences.len() < MAX_SHOWN {
            self.changed.push(Changed {
                key,
                name,
                section,
                restored: serde_json::to_value(&record)?,
            });
        }
        Ok(())
    }
}

/// How a record is found again in the re-export: a user by email (whatever its case), a
/// custom field by name, the others by id.
fn identity(record: &Record) -> (Section, Cow<'_, str>) {
    match record {
        Record::User(user) => (Section::Users, Cow::Owned(user.email.to_ascii_lowercase())),
        Record::CustomField(field) => (Section::CustomFields, Cow::Borrowed(&field.name)),
        Record::Ticket(ticket) => (Section::Tickets, Cow::Borrowed(&ticket.id)),
        Record::Attachment(attachment) => (Section::Attachments, Cow::Borrowed(&attachment.id)),
    }
}

/// The digest of a record's section and key.
fn key_digest(record: &Record) -> u64 {
    let (section, key) = identity(record);
    fingerprint(key.as_bytes()) ^ (section as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// A person reference in the form compared: who it is, by lowercase email. Their name is
/// the user's, compared with the users section.
fn person_as_compared(slot: &mut Option<PersonRef>) {
    if let Some(person) = slot {
        if let Some(email) = &mut person.email {
            email.make_ascii_lowercase();
        }
        person.first_name = None;
        person.last_name = None;
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

/// Calls `each` with every person reference of a record, its role, and who stands in for
/// one the target does not hold.
fn for_each_person(
    record: &mut Record,
    mut each: impl FnMut(&mut Option<PersonRef>, &'static str, StandIn),
) {
    match record {
        Record::Ticket(ticket) => ticket_people(ticket, &mut each),
        Record::Attachment(attachment) => attachment_people(attachment, &mut each),
        Record::User(_) | Record::CustomField(_) => {}
    }
}

fn ticket_people(
    ticket: &mut TicketRecord,
    each: &mut impl FnMut(&mut Option<PersonRef>, &'static str, StandIn),
) {
    each(&mut ticket.created_by, "submitter", StandIn::Actor);
    each(&mut ticket.assigned_to, "assignee", StandIn::Nobody);
    for note in &mut ticket.notes {
        each(&mut note.author, "note author", StandIn::Actor);
    }
    for entry in &mut ticket.history {
        each(&mut entry.user, "history entry user", StandIn::Actor);
    }
}

fn attachment_people(
    attachment: &mut AttachmentRecord,
    each: &mut impl FnMut(&mut Option<PersonRef>, &'static str, StandIn),
) {
    each(&mut attachment.uploaded_by, "uploader", StandIn::Actor);
}

/// A digest of a record's JSON (written into `scratch`, reused).
fn digest(record: &Record, scratch: &mut Vec<u8>) -> Result<u64> {
    scratch.clear();
    serde_json::to_writer(&mut *scratch, record)?;
    Ok(fingerprint(scratch))
}

/// A fast 64-bit hash. Both sides are hashed in the same run by the same code, and an
/// archive gains nothing by a collision (the restore writes what it says), so it needs to
/// tell equal from different, not to resist an adversary: each 8-byte word goes through a
/// multiply that is a bijection, so inputs that differ in one word always differ.
fn fingerprint(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        hash = (hash.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    hash = (hash.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    // Spread the last word's bits over the whole digest (splitmix64's finish).
    hash ^= hash >> 31;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^ (hash >> 29)
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
    use crate::archive::validate::read_manifest;
    use crate::report::Reporter;
    use crate::restore::ImportActor;
    use crate::restore::job::{read_pass, restore_company};
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
        let mut scratch =
            crate::db::Database::Sqlite(crate::db::scratch().expect("a scratch database"));
        let mut expectations = Expectations::new(&manifest, Some("ada@acme.example"));
        let actor = ImportActor {
            email: "ada@acme.example".into(),
            id: None,
        };
        restore_company(
            &mut scratch,
            &mut archive,
            &manifest,
            Some(actor),
            &Reporter::new(true, false, false),
            &mut |record| expectations.note(record),
        )
        .expect("the archive restores");
        let scratch = scratch.sqlite("verify").expect("SQLite");
        scratch.execute_batch(tamper).expect("tamper");
        let mut comparison = expectations.compare(scratch, "c1").expect("compare");
        if comparison.needs_archive() {
            let mut take = |record: Record| expectations.explain(&mut comparison, record);
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
