//! Validation of an archive's contents: every record's required values, types, enums and
//! timestamps; duplicate ids and emails; references that point outside the archive; custom
//! field values against their definitions; the manifest's version and counts.
//!
//! Problems are collected with their place (`tickets[17].customFields.seats: …`) up to a
//! cap, so one run shows what is wrong rather than only the first thing. What the tool reads
//! but had to translate (the web app's words, nulls, a value its field no longer allows) is a
//! counted warning instead: a backup restores what it backed up.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};

use anyhow::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::reader::ArchiveFile;
use super::records::{
    Adjustment, AttachmentRecord, Counts, CustomFieldRecord, FORMAT_NAME, FORMAT_VERSION,
    FieldRule, Manifest, NullFlag, PersonRef, Section, Text, TicketRecord, UserRecord,
};
use crate::error::{Failure, one_line, shortened};

/// Reads an archive's manifest alone, checked (a newer format version is refused), and
/// stops there: a look at what the archive is before any record is read.
pub fn read_manifest(archive: &mut ArchiveFile) -> Result<Manifest> {
    let found = archive.read_until_manifest()?;
    let mut validator = Validator::new();
    if let Some(value) = found {
        validator.check_manifest(value)?;
    }
    Ok(validator.require_manifest()?.clone())
}

/// Refuses a manifest with U+0000 in a text, for a database that cannot store it: before
/// its company is looked up by name or created, as every import does (the records are
/// `Validator::refusing_nul`'s).
pub fn refuse_nul_in(manifest: &Manifest) -> Result<()> {
    match serde_json::to_value(manifest)
        .ok()
        .as_ref()
        .and_then(nul_path)
    {
        Some(path) => Err(Failure::InvalidArchive(nul_problem("manifest", &path)).into()),
        None => Ok(()),
    }
}

/// The id kinds that `Validator::without_record_ids` leaves to the database.
const RECORD_ID_KINDS: [&str; 4] = ["ticket id", "note id", "history id", "attachment id"];

/// How many problems are listed before validation stops.
pub const MAX_PROBLEMS: usize = 50;

/// Where a value sits (`tickets[17]`, `tickets[17].notes[2]`), written out only when a
/// problem is reported there: a good record costs no formatting.
#[derive(Debug, Clone, Copy)]
struct Place {
    section: &'static str,
    index: u64,
    child: Option<(&'static str, usize)>,
}

impl Place {
    fn child(self, list: &'static str, index: usize) -> Place {
        Place {
            child: Some((list, index)),
            ..self
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.section, self.index)?;
        match self.child {
            Some((list, index)) => write!(f, ".{list}[{index}]"),
            None => Ok(()),
        }
    }
}

/// Warnings, each with how many records it concerns. A warning given with an example keeps
/// the first one's place in its text and counts the rest under it, so a thousand tickets
/// with the same odd value make one line, not a thousand.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    counts: BTreeMap<String, u64>,
    /// The key of a warning with an example → its text, which names the first example.
    texts: HashMap<String, String>,
}

impl Warnings {
    pub fn add(&mut self, message: impl Into<String>) {
        *self.counts.entry(message.into()).or_default() += 1;
    }

    /// Counts a warning under `key`; the first one's text is `key` followed by `example`.
    pub fn add_example(&mut self, key: String, example: impl FnOnce() -> String) {
        let text = self
            .texts
            .entry(key)
            .or_insert_with_key(|key| format!("{key} (first: {})", example()));
        *self.counts.entry(text.clone()).or_default() += 1;
    }

    /// Adds every warning of `other`, keeping counts.
    pub fn merge(&mut self, other: Warnings) {
        for (text, count) in other.counts {
            *self.counts.entry(text).or_default() += count;
        }
        self.texts.extend(other.texts);
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Each warning with its count, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.counts.iter()
    }
}

impl PartialEq for Warnings {
    fn eq(&self, other: &Self) -> bool {
        self.counts == other.counts
    }
}

impl Eq for Warnings {}

impl Serialize for Warnings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.counts.serialize(serializer)
    }
}

/// One decoded record, checked. It serializes as the record alone.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Record {
    User(UserRecord),
    CustomField(CustomFieldRecord),
    Ticket(TicketRecord),
    Attachment(AttachmentRecord),
}

/// Checks records as they stream past; `finish` gives the verdict.
pub struct Validator {
    problems: Vec<String>,
    warnings: Warnings,
    /// The first email of each user, by its ASCII-lowercase form: a second one that differs
    /// only in case is the same user (the web app's PostgreSQL lets both exist).
    user_emails: HashMap<String, String>,
    manifest: Option<Manifest>,
    manifest_seen: bool,
    counts: Counts,
    /// Hashes of the ids (and emails, names) seen, per kind: duplicates are found without
    /// holding every id string.
    seen: HashMap<&'static str, HashSet<u64>>,
    fields: HashMap<String, FieldRule>,
    /// Whether ticket, note, history and attachment ids are remembered (see
    /// `without_record_ids`).
    track_record_ids: bool,
    /// Attachment references, checked once every ticket has been seen.
    attachment_refs: Vec<(u64, Text, Option<Text>)>,
    /// Whether a text holding U+0000 is a problem (`refusing_nul`).
    refuse_nul: bool,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Validator {
    pub fn new() -> Self {
        Self {
            problems: Vec::new(),
            warnings: Warnings::default(),
            user_emails: HashMap::new(),
            manifest: None,
            manifest_seen: false,
            counts: Counts::default(),
            seen: HashMap::new(),
            fields: HashMap::new(),
            track_record_ids: true,
            attachment_refs: Vec::new(),
            refuse_nul: false,
        }
    }

    /// A validator that does not remember ticket, note, history and attachment ids, for
    /// an import into an empty company: there the database itself refuses a repeated id,
    /// and memory stays flat however large the archive. Users and custom fields are few
    /// and are still checked here.
    pub fn without_record_ids() -> Self {
        Self {
            track_record_ids: false,
            ..Self::new()
        }
    }

    /// With `refuse` set, a record with U+0000 (NUL) in a text, a value or a key, is a
    /// problem at its place: for a target whose texts cannot hold it (PostgreSQL's `text`
    /// and `jsonb`), found by a plan as by the import, which then commits nothing.
    pub fn refusing_nul(self, refuse: bool) -> Self {
        Self {
            refuse_nul: refuse,
            ..self
        }
    }

    /// Whether a problem has been found: records read after one are checked, not imported,
    /// so that the report names the first cause rather than what followed from it.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// What was read but had to be translated, so far.
    pub fn take_warnings(&mut self) -> Warnings {
        std::mem::take(&mut self.warnings)
    }

    /// The problems found so far as an invalid-archive error, if there are any.
    pub fn check_clean(&self) -> Result<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.failure())
        }
    }

    /// The manifest, or the problems that kept it from being read.
    pub fn require_manifest(&self) -> Result<&Manifest> {
        match &self.manifest {
            Some(manifest) => Ok(manifest),
            None if !self.problems.is_empty() => Err(self.failure()),
            None => Err(
                Failure::InvalidArchive("the archive has no manifest (exportInfo)".into()).into(),
            ),
        }
    }

    /// Records seen so far, per kind.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Takes the manifest. An archive from a newer tool is refused at once: its records may
    /// mean something this version cannot know.
    pub fn check_manifest(&mut self, value: Value) -> Result<()> {
        if self.manifest_seen {
            return Ok(());
        }
        self.manifest_seen = true;
        let manifest: Manifest = match decode(value) {
            Ok(manifest) => manifest,
            Err(problem) => {
                self.problem(format!("manifest{problem}"))?;
                return Ok(());
            }
        };
        if let Some(format) = &manifest.format
            && format != FORMAT_NAME
        {
            self.problem(format!(
                "manifest.format: {format:?} is not a Bomizzel export (expected {FORMAT_NAME:?})"
            ))?;
        }
        if let Some(version) = manifest.format_version
            && version > FORMAT_VERSION
        {
            return Err(Failure::InvalidArchive(format!(
                "the archive has format version {version}, newer than this tool reads (version {FORMAT_VERSION}); upgrade bomizzel-backup"
            ))
            .into());
        }
        check_time(
            &mut self.problems,
            "manifest",
            "exportedAt",
            &manifest.exported_at,
        );
        if let Some(company) = &manifest.company {
            if company.id != manifest.company_id {
                self.problems.push(format!(
                    "manifest.company.id: {:?} is not the archive's companyId {:?}",
                    shortened(&company.id),
                    shortened(&manifest.company_id)
                ));
            }
            check_time(
                &mut self.problems,
                "manifest.company",
                "createdAt",
                &company.created_at,
            );
            check_time(
                &mut self.problems,
                "manifest.company",
                "updatedAt",
                &company.updated_at,
            );
        }
        if let Some(counts) = manifest.counts {
            self.reserve(counts);
        }
        self.manifest = Some(manifest);
        self.stop_if_full()
    }

    /// Decodes and checks one record. `Ok(None)` when it has problems (they are recorded);
    /// an error when there are too many problems to go on.
    pub fn check_record(
        &mut self,
        section: Section,
        index: u64,
        value: &str,
    ) -> Result<Option<Record>> {
        let place = Place {
            section: section.json_key(),
            index,
            child: None,
        };
        let before = self.problems.len();
        let record = match section {
            Section::Users => self.check_user(place, value),
            Section::CustomFields => self.check_field(place, value),
            Section::Tickets => self.check_ticket(place, value),
            Section::Attachments => self.check_attachment(place, index, value),
        };
        // JSON text can hold U+0000 only as the escape `\u0000`: looked for in the text,
        // and where it is there, found in the values (it may be an escaped backslash's).
        if self.refuse_nul
            && record.is_some()
            && NUL_ESCAPE.find(value.as_bytes()).is_some()
            && let Some(path) = serde_json::from_str(value).ok().as_ref().and_then(nul_path)
        {
            self.problems.push(nul_problem(place, &path));
        }
        self.stop_if_full()?;
        Ok(record.filter(|_| self.problems.len() == before))
    }

    fn check_user(&mut self, place: Place, value: &str) -> Option<Record> {
        let user: UserRecord = self.decode_at(place, value)?;
        self.counts.users += 1;
        self.unique("user id", place, "id", &user.id);
        if !user.email.contains('@') || user.email.trim() != user.email {
            self.problems.push(format!(
                "{place}.email: not an email address: {:?}",
                user.email
            ));
        }
        check_time(&mut self.problems, place, "createdAt", &user.created_at);
        check_time(&mut self.problems, place, "updatedAt", &user.updated_at);
        self.adjusted(user.role.adjusted);
        self.adjusted(user.company_role.and_then(|r| r.adjusted));
        self.null_flag(NullFlag::UserActive, user.is_active);
        self.null_flag(NullFlag::UserEmailVerified, user.email_verified);
        // SQLite's NOCASE, which makes emails unique, folds ASCII letters only.
        match self.user_emails.get(&user.email.to_ascii_lowercase()) {
            None => {
                self.user_emails
                    .insert(user.email.to_ascii_lowercase(), user.email.clone());
            }
            Some(first) if *first == user.email => {
                self.problems.push(format!(
                    "{place}.email: duplicate user email {:?}",
                    user.email
                ));
            }
            Some(first) => {
                self.warnings.add(format!(
                    "users {first} and {}: emails that differ only in case are one user; the first record imported, references to either resolve to it",
                    user.email
                ));
                return None;
            }
        }
        Some(Record::User(user))
    }

    fn check_field(&mut self, place: Place, value: &str) -> Option<Record> {
        let field: CustomFieldRecord = self.decode_at(place, value)?;
        self.counts.custom_fields += 1;
        self.unique("custom field id", place, "id", &field.id);
        if field.name.trim().is_empty() {
            self.problems.push(format!("{place}.name: empty"));
        }
        self.unique("custom field name", place, "name", &field.name);
        match field.field_type {
            // Without a type its values are taken as they are.
            None => self.warnings.add(format!(
                "custom field {}: no type in the archive; imported as string, its values as they are",
                field.name
            )),
            Some(field_type) => match FieldRule::new(field_type, &field.options) {
                Some(rule) => {
                    self.fields.insert(field.name.clone(), rule);
                }
                None => self.problems.push(format!(
                    "{place}.options: a picklist needs an array of strings"
                )),
            },
        }
        check_time(&mut self.problems, place, "createdAt", &field.created_at);
        if let Some(updated) = &field.updated_at {
            check_time(&mut self.problems, place, "updatedAt", updated);
        }
        self.null_flag(NullFlag::FieldRequired, field.is_required);
        self.null_flag(NullFlag::FieldActive, field.is_active);
        Some(Record::CustomField(field))
    }

    fn check_ticket(&mut self, place: Place, value: &str) -> Option<Record> {
        let ticket: TicketRecord = self.decode_at(place, value)?;
        self.counts.tickets += 1;
        self.counts.notes += ticket.notes.len() as u64;
        self.counts.history += ticket.history.len() as u64;
        self.unique("ticket id", place, "id", &ticket.id);
        if ticket.title.trim().is_empty() {
            self.problems.push(format!("{place}.title: empty"));
        }
        if ticket.status.trim().is_empty() {
            self.problems.push(format!("{place}.status: empty"));
        }
        let problems = &mut self.problems;
        check_time(problems, place, "createdAt", &ticket.created_at);
        check_time(problems, place, "updatedAt", &ticket.updated_at);
        for (key, at) in [
            ("resolvedAt", &ticket.resolved_at),
            ("closedAt", &ticket.closed_at),
        ] {
            if let Some(at) = at {
                check_time(problems, place, key, at);
            }
        }
        for (name, value) in &ticket.custom_fields {
            if let Some(rule) = self.fields.get(name)
                && let Err(problem) = rule.check(value)
            {
                // The database held it (an option removed later, a type changed): kept.
                self.warnings.add_example(
                    format!("custom field {name}: values its definition does not allow, kept as they are"),
                    || format!("{place}.customFields.{name}: {problem}"),
                );
            }
        }
        self.adjusted(ticket.priority.adjusted);
        for (i, note) in ticket.notes.iter().enumerate() {
            let at = place.child("notes", i);
            self.null_flag(NullFlag::NoteInternal, note.is_internal);
            check_time(&mut self.problems, at, "createdAt", &note.created_at);
            if let Some(updated) = &note.updated_at {
                check_time(&mut self.problems, at, "updatedAt", updated);
            }
            check_person(&mut self.problems, at, "author", note.author.as_ref());
            self.unique("note id", at, "id", &note.id);
        }
        for (i, entry) in ticket.history.iter().enumerate() {
            let at = place.child("history", i);
            check_time(&mut self.problems, at, "createdAt", &entry.created_at);
            if entry.action.trim().is_empty() {
                self.problems.push(format!("{at}.action: empty"));
            }
            self.unique("history id", at, "id", &entry.id);
        }
        check_person(
            &mut self.problems,
            place,
            "createdBy",
            ticket.created_by.as_ref(),
        );
        check_person(
            &mut self.problems,
            place,
            "assignedTo",
            ticket.assigned_to.as_ref(),
        );
        Some(Record::Ticket(ticket))
    }

    fn check_attachment(&mut self, place: Place, index: u64, value: &str) -> Option<Record> {
        let attachment: AttachmentRecord = self.decode_at(place, value)?;
        self.counts.attachments += 1;
        self.unique("attachment id", place, "id", &attachment.id);
        if attachment.file_name.trim().is_empty() {
            self.problems.push(format!("{place}.fileName: empty"));
        }
        if attachment.file_size < 0 {
            self.problems.push(format!(
                "{place}.fileSize: negative ({})",
                attachment.file_size
            ));
        }
        check_time(
            &mut self.problems,
            place,
            "uploadedAt",
            &attachment.uploaded_at,
        );
        if !self.track_record_ids {
            // The import finds (or refuses) the ticket and note in the database itself.
            return Some(Record::Attachment(attachment));
        }
        // Usually the tickets came first and the references check at once; only those
        // still open wait for the end.
        let note_seen = attachment
            .note_id
            .as_deref()
            .is_none_or(|note| self.was_seen("note id", note));
        if !(note_seen && self.was_seen("ticket id", &attachment.ticket_id)) {
            self.attachment_refs.push((
                index,
                attachment.ticket_id.clone(),
                attachment.note_id.clone(),
            ));
        }
        Some(Record::Attachment(attachment))
    }

    /// The verdict once every section has been read: problems fail with exit status 3.
    pub fn finish(&mut self, present: &BTreeSet<Section>) -> Result<()> {
        if present.contains(&Section::Tickets) {
            for (index, ticket_id, note_id) in std::mem::take(&mut self.attachment_refs) {
                let place = format!("attachments[{index}]");
                if !self.was_seen("ticket id", &ticket_id) {
                    self.problems.push(format!(
                        "{place}.ticketId: ticket {ticket_id} is not in the archive"
                    ));
                }
                if let Some(note_id) = note_id
                    && !self.was_seen("note id", &note_id)
                {
                    self.problems.push(format!(
                        "{place}.noteId: note {note_id} is not in the archive"
                    ));
                }
            }
        }
        if let Some(expected) = self.manifest.as_ref().and_then(|m| m.counts) {
            let actual = self.counts;
            for (name, said, held) in [
                ("users", expected.users, actual.users),
                ("customFields", expected.custom_fields, actual.custom_fields),
                ("tickets", expected.tickets, actual.tickets),
                ("notes", expected.notes, actual.notes),
                ("history", expected.history, actual.history),
                ("attachments", expected.attachments, actual.attachments),
            ] {
                if said != held {
                    self.problems.push(format!(
                        "manifest.counts.{name}: says {said}, the archive holds {held}"
                    ));
                }
            }
        }
        if !self.manifest_seen {
            self.problems
                .push("the archive has no manifest (exportInfo)".into());
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.failure())
        }
    }

    fn failure(&self) -> anyhow::Error {
        let count = self.problems.len();
        let shown: Vec<&str> = self
            .problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(String::as_str)
            .collect();
        let more = if count > MAX_PROBLEMS {
            format!(" (stopped after {MAX_PROBLEMS} problems)")
        } else {
            String::new()
        };
        let noun = if count == 1 { "problem" } else { "problems" };
        let message = format!("{count} {noun}{more}: {}", shown.join("; "));
        Failure::InvalidArchive(one_line(&message)).into()
    }

    fn adjusted(&mut self, adjustment: Option<Adjustment>) {
        if let Some(adjustment) = adjustment {
            self.warnings.add(adjustment.warning());
        }
    }

    fn null_flag(&mut self, flag: NullFlag, value: Option<bool>) {
        if value.is_none() {
            self.warnings.add(flag.warning());
        }
    }

    fn stop_if_full(&self) -> Result<()> {
        if self.problems.len() >= MAX_PROBLEMS {
            Err(self.failure())
        } else {
            Ok(())
        }
    }

    fn problem(&mut self, problem: String) -> Result<()> {
        self.problems.push(problem);
        self.stop_if_full()
    }

    fn decode_at<T: DeserializeOwned>(&mut self, place: Place, value: &str) -> Option<T> {
        match decode_record(value) {
            Ok(record) => Some(record),
            Err(problem) => {
                self.problems.push(format!("{place}{problem}"));
                self.count_undecoded(place.section, value);
                None
            }
        }
    }

    /// Counts a record that failed to decode, and remembers the ticket and note ids it
    /// still has: the problem is reported once, at its place, and not again as an
    /// attachment whose ticket is missing or a count that does not add up.
    fn count_undecoded(&mut self, section: &str, value: &str) {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Skeleton {
            id: Option<Value>,
            notes: Option<Vec<Skeleton>>,
            history: Option<Vec<Value>>,
        }
        let skeleton: Skeleton = serde_json::from_str(value).unwrap_or_default();
        let id = |s: &Skeleton| s.id.as_ref().and_then(Value::as_str).map(fingerprint);
        match section {
            "users" => self.counts.users += 1,
            "customFields" => self.counts.custom_fields += 1,
            "attachments" => self.counts.attachments += 1,
            _ => {
                self.counts.tickets += 1;
                let notes = skeleton.notes.as_deref().unwrap_or_default();
                self.counts.notes += notes.len() as u64;
                self.counts.history += skeleton.history.as_ref().map_or(0, Vec::len) as u64;
                if !self.track_record_ids {
                    return;
                }
                let tickets = id(&skeleton).into_iter().map(|t| ("ticket id", t));
                let notes = notes.iter().filter_map(id).map(|n| ("note id", n));
                for (kind, id) in tickets.chain(notes).collect::<Vec<_>>() {
                    self.seen.entry(kind).or_default().insert(id);
                }
            }
        }
    }

    /// Sizes the id sets for the counts the manifest announces, so they never grow by
    /// doubling (which briefly holds the old table and the new one). Capped, so a lying
    /// manifest cannot make it allocate much.
    fn reserve(&mut self, counts: Counts) {
        const MOST: u64 = 4 << 20;
        for (kind, count) in [
            ("user id", counts.users),
            ("custom field id", counts.custom_fields),
            ("custom field name", counts.custom_fields),
            ("ticket id", counts.tickets),
            ("note id", counts.notes),
            ("history id", counts.history),
            ("attachment id", counts.attachments),
        ] {
            if !self.track_record_ids && RECORD_ID_KINDS.contains(&kind) {
                continue;
            }
            let wanted = usize::try_from(count.min(MOST)).unwrap_or(0);
            self.seen.entry(kind).or_default().reserve(wanted);
        }
    }

    fn unique(&mut self, kind: &'static str, place: Place, key: &str, value: &str) {
        if !self.track_record_ids && RECORD_ID_KINDS.contains(&kind) {
            return;
        }
        if !self
            .seen
            .entry(kind)
            .or_default()
            .insert(fingerprint(value))
        {
            self.problems
                .push(format!("{place}.{key}: duplicate {kind} {value:?}"));
        }
    }

    fn was_seen(&self, kind: &'static str, value: &str) -> bool {
        self.seen
            .get(kind)
            .is_some_and(|set| set.contains(&fingerprint(value)))
    }
}

/// The escape that is the only way JSON text holds U+0000, searched for in every record
/// where the target refuses it (`Validator::refusing_nul`): one searcher for all.
static NUL_ESCAPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(br"\u0000"));

/// A text holding U+0000 at `place` and `path` inside it.
fn nul_problem(place: impl fmt::Display, path: &str) -> String {
    format!("{place}{path}: holds the character U+0000 (NUL), which PostgreSQL cannot store")
}

/// Where the first string holding U+0000 is in a JSON value, a value or a key, as a path
/// (`.notes[2].content`; empty for the value itself).
fn nul_path(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => (items.iter().enumerate())
            .find_map(|(at, item)| nul_path(item).map(|path| format!("[{at}]{path}"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| match key.contains('\0') {
            true => Some(format!(".{key:?}")),
            false => nul_path(item).map(|path| format!(".{key}{path}")),
        }),
        _ => None,
    }
}

/// A 64-bit hash of an id: sets of these find repeats without holding the id strings.
pub(crate) fn fingerprint(value: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Decodes a value into a record type; the error names the path inside the record
/// (`.notes[2].createdAt: invalid type: …`).
fn decode<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(describe)
}

/// Decodes a record from its JSON text. A good record costs one plain parse; only one that
/// fails is parsed again, tracking the path, so that the problem names its place.
fn decode_record<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).or_else(|_| {
        let mut tracked = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut tracked).map_err(describe)
    })
}

fn describe<E: std::fmt::Display>(err: serde_path_to_error::Error<E>) -> String {
    // A path 128 levels deep (the nesting limit) says no more than its first few.
    let path = shortened(&err.path().to_string());
    // The position serde_json adds is inside the record's own text; the path says more.
    let inner = err.into_inner().to_string();
    let inner = inner.split(" at line ").next().unwrap_or_default();
    if path == "." {
        format!(": {inner}")
    } else {
        format!(".{path}: {inner}")
    }
}

fn check_time(problems: &mut Vec<String>, place: impl fmt::Display, key: &str, text: &str) {
    if chrono::DateTime::parse_from_rfc3339(text).is_err() {
        problems.push(format!(
            "{place}.{key}: not an RFC 3339 time: {:?}",
            shortened(text)
        ));
    }
}

fn check_person(problems: &mut Vec<String>, place: Place, key: &str, person: Option<&PersonRef>) {
    if let Some(email) = person.and_then(|p| p.email.as_deref())
        && !email.is_empty()
        && !email.contains('@')
    {
        problems.push(format!(
            "{place}.{key}.email: not an email address: {:?}",
            shortened(email)
        ));
    }
}
