//! Restoring an archive into one company: what each record does to the target (the
//! importer, here), the passes that feed it records (`job`), and the tickets a restore may
//! be limited to (`selection`).
//!
//! One `Importer` runs in one of two modes over the same records with the same decisions:
//! `Plan` only counts and collects conflicts and warnings; `Apply` also writes. So the plan
//! that `--validate-only` prints is, by construction, what the import then does. After a
//! conflict an applying run only counts: its transaction is going to be rolled back.
//!
//! Given a [`Selection`] (a restore of chosen tickets), it takes only the records the
//! selection takes; the others are counted as not chosen and left alone.

pub(crate) mod job;
pub(crate) mod selection;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::archive::records::{
    AttachmentRecord, CompanyRole, Counts, CustomFieldRecord, FieldRule, FieldType, Manifest,
    Origin, PersonRef, TicketRecord, UserRecord,
};
use crate::archive::validate::{Record, Warnings};
use crate::db::import_rows::{
    AttachmentRow, ChildRow, ImportDb, ImportTarget, Kind, TicketChildren, TicketRow, Write,
    Written,
};
use crate::error::Failure;
pub(crate) use selection::{ChosenTickets, Selection};

/// What to do with records that already exist in the target company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Policy {
    /// Any existing record is a conflict; nothing is written.
    Strict,
    /// Existing records are left untouched.
    SkipDuplicates,
    /// Existing records take the archive's values.
    Overwrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Plan,
    Apply,
}

/// What happened (or would happen) to one section's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Tally {
    pub created: u64,
    pub updated: u64,
    /// Existing records that `--overwrite` found already holding the archive's values.
    pub unchanged: u64,
    pub skipped: u64,
    pub linked: u64,
}

/// A note or history entry as `Importer::child` needs it.
struct Child<'r> {
    kind: Kind,
    id: &'r str,
    person: Option<&'r PersonRef>,
    /// What the person is, for warnings ("note author").
    role: &'static str,
}

/// A record's id in the target company.
#[derive(Debug, Clone)]
enum Id {
    /// The id of its row: one the target held, or one this import gave it. Shared: a
    /// member's id is given to every record that names them.
    Row(Rc<str>),
    /// None yet: a record the plan would create.
    Planned,
}

/// What a row that would refer to a record only planned has instead of its id: such a row
/// cannot be written, and a plan counts it as changed.
struct Planned;

impl Id {
    /// The row's id, which a written row may refer to.
    fn row(&self) -> Result<&str, Planned> {
        match self {
            Id::Row(id) => Ok(id),
            Id::Planned => Err(Planned),
        }
    }
}

/// A reference to a person (none: nobody) as its column holds it.
fn nullable(id: Option<&Id>) -> Result<Option<&str>, Planned> {
    id.map(Id::row).transpose()
}

/// What becomes of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Create,
    Update,
    Skip,
    /// An existing record under the strict policy: the import is going to fail.
    Conflict,
}

impl Decision {
    /// Whether the record gets (or, planning, would get) its archive values.
    fn writes(self) -> bool {
        matches!(self, Decision::Create | Decision::Update)
    }
}

/// One value for every kind of record, listed (and serialized) in the reports' order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PerKind<T> {
    pub users: T,
    pub custom_fields: T,
    pub tickets: T,
    pub notes: T,
    pub history: T,
    pub attachments: T,
}

impl<T> PerKind<T> {
    /// Each kind with its name in a report's table.
    pub(crate) fn rows(&self) -> [(&'static str, &T); 6] {
        [
            ("users", &self.users),
            ("custom fields", &self.custom_fields),
            ("tickets", &self.tickets),
            ("notes", &self.notes),
            ("history", &self.history),
            ("attachments", &self.attachments),
        ]
    }
}

/// Tallies for every kind of record.
pub(crate) type Outcomes = PerKind<Tally>;

/// The tally of a kind of record found by id.
fn tally_of(kind: Kind) -> fn(&mut Outcomes) -> &mut Tally {
    match kind {
        Kind::Ticket => |o| &mut o.tickets,
        Kind::Note => |o| &mut o.notes,
        Kind::History => |o| &mut o.history,
        Kind::Attachment => |o| &mut o.attachments,
    }
}

/// An attachment of an import into a company that started empty names a ticket or note
/// (`what`) that the import did not write: it points outside the archive.
fn not_in_archive(attachment_id: &str, what: &str, id: &str) -> anyhow::Error {
    Failure::InvalidArchive(format!(
        "attachment {attachment_id}: its {what} {id} is not in the archive"
    ))
    .into()
}

/// How many conflicts are kept for the report; the count goes on.
const MAX_LISTED: usize = 50;

/// What an import run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Plan {
    pub outcomes: Outcomes,
    pub conflict_count: u64,
    pub conflicts: Vec<String>,
    /// Warnings, each with how many records it concerns.
    pub warnings: Warnings,
    /// New users, who have no password until they set one.
    pub password_reset_required: u64,
    /// People of other companies whom the import makes admins of this one.
    pub admin_grants: Vec<String>,
    /// For a restore of chosen tickets, the archive's records it leaves out: the other
    /// tickets (their notes and history counted with them) and their attachments, and the
    /// users and custom fields that no chosen ticket refers to. Absent for a whole import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_chosen: Option<Counts>,
    /// The tickets, notes, history and attachments went in as a bulk load
    /// (`ImportTarget::bulk_tickets`): the keys, indexes and foreign keys of their tables
    /// set aside and made again. Absent when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bulk_load: bool,
    /// The users and memberships went in as a bulk load (`ImportTarget::users_all_new`).
    /// Absent when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bulk_load_users: bool,
}

/// The actor of an import: by email, and by id once the user exists in the target.
#[derive(Debug, Clone)]
pub(crate) struct ImportActor {
    pub email: String,
    pub id: Option<String>,
}

/// Whom a person reference of an archive names in the target company.
pub(crate) enum PersonTarget<'a, T> {
    /// A member of the target, found by the reference's email.
    Member(T),
    /// No one: the archive says nobody (a null in the tool's own archive; an unassigned
    /// ticket).
    Nobody,
    /// Someone the target does not hold, by this email (or a null the web app writes for
    /// anyone it could not name): the importing admin stands in, or nobody for an assignee.
    Stranger(Option<&'a str>),
}

/// Who stands in for a person the target company does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StandIn {
    /// The importing admin: for a submitter, note author, history entry user or uploader.
    Actor,
    /// Nobody: an assignee is left unassigned.
    Nobody,
}

/// Where a person reference of an archive that `origin` wrote points: the one rule for an
/// import and for what `verify` expects of it. `member` finds a member of the target by
/// email.
pub(crate) fn place_person<'a, T>(
    person: Option<&'a PersonRef>,
    origin: Origin,
    stand_in: StandIn,
    member: impl FnOnce(&str) -> Option<T>,
) -> PersonTarget<'a, T> {
    let email = person
        .and_then(|p| p.email.as_deref())
        .filter(|e| !e.is_empty());
    if let Some(found) = email.and_then(member) {
        return PersonTarget::Member(found);
    }
    // The tool writes null only for a record that has nobody there (the user was deleted);
    // keeping it null is what makes a restore lossless. The web app writes null people for
    // anyone it could not name: those take the fallback, but its null assignee is simply an
    // unassigned ticket.
    if email.is_none() && (origin == Origin::Tool || stand_in == StandIn::Nobody) {
        return PersonTarget::Nobody;
    }
    PersonTarget::Stranger(email)
}

/// Generic over the target's backend (`ImportTarget`): each backend gets its own
/// per-record loop, with no dispatch per record.
pub(crate) struct Importer<'c, T> {
    db: ImportDb<'c, T>,
    mode: Mode,
    policy: Policy,
    company_name: String,
    /// `None`: no one, as `verify` restores when the archive's exporter is not among its
    /// users. What would fall back to the importing admin is then left empty.
    actor: Option<ImportActor>,
    now: String,
    /// The company's members after the import so far: lowercase email → user id.
    members: HashMap<String, Id>,
    /// The company's custom fields after the import so far: name → field id, and what
    /// its values must be.
    fields: HashMap<String, (Id, Option<FieldRule>)>,
    /// What the archive's own definitions allow, by field name: a value they refuse has
    /// been reported by the validator already.
    archive_rules: HashMap<String, Option<FieldRule>>,
    /// Whether the archive holds its tickets (attachments then always find theirs).
    archive_has_tickets: bool,
    /// Who wrote the archive. The web app may leave out an attachment's originalName, which
    /// then is its fileName; in the tool's own archives a null originalName is a NULL one,
    /// and stays so.
    origin: Origin,
    /// Restoring chosen tickets: only what the selection takes.
    selection: Option<&'c Selection>,
    plan: Plan,
}

impl<'c, T: ImportTarget> Importer<'c, T> {
    /// An importer of `manifest`'s archive into the company `db` writes to, under `policy`,
    /// as `actor` (`None`: as no one).
    pub(crate) fn new(
        db: ImportDb<'c, T>,
        mode: Mode,
        policy: Policy,
        company_name: &str,
        actor: Option<ImportActor>,
        manifest: &Manifest,
    ) -> Result<Self> {
        let members = db
            .members()?
            .into_iter()
            .map(|(email, id)| (email.to_ascii_lowercase(), Id::Row(id.into())))
            .collect();
        let fields = db
            .custom_fields()?
            .into_iter()
            .map(|field| (field.name, (Id::Row(field.id.into()), field.rule)))
            .collect();
        Ok(Self {
            db,
            mode,
            policy,
            company_name: company_name.to_owned(),
            actor,
            now: crate::db::now_timestamp(),
            members,
            fields,
            archive_rules: HashMap::new(),
            archive_has_tickets: manifest.options.include_tickets,
            origin: manifest.origin(),
            selection: None,
            plan: Plan::default(),
        })
    }

    /// Restricts the import to what `selection` takes (none: the whole archive). What it
    /// leaves out is counted in the plan as not chosen, never as skipped.
    pub(crate) fn choosing(mut self, selection: Option<&'c Selection>) -> Self {
        self.plan.not_chosen = selection.map(|_| Counts::default());
        self.selection = selection;
        self
    }

    /// Whether the target company had no tickets when the import began.
    pub(crate) fn started_empty(&self) -> bool {
        self.db.started_empty()
    }

    /// Looks up together the rows that the next `records` will ask about (theirs, and the
    /// tickets and notes an attachment names), so that `record` needs no query for them.
    pub(crate) fn look_ahead(&self, records: &[Record]) -> Result<()> {
        let [mut tickets, mut notes, mut history, mut attachments]: [Vec<&str>; 4] =
            Default::default();
        let (mut emails, mut users) = (Vec::new(), Vec::new());
        for record in records {
            match record {
                Record::Ticket(ticket) => {
                    tickets.push(ticket.id.as_str());
                    notes.extend(ticket.notes.iter().map(|note| note.id.as_str()));
                    history.extend(ticket.history.iter().map(|entry| entry.id.as_str()));
                }
                Record::Attachment(attachment) => {
                    attachments.push(attachment.id.as_str());
                    tickets.push(attachment.ticket_id.as_str());
                    notes.extend(attachment.note_id.as_deref());
                }
                Record::User(user) => {
                    emails.push(user.email.as_str());
                    users.push(user.id.as_str());
                }
                Record::CustomField(_) => {}
            }
        }
        if !emails.is_empty() {
            self.db.look_ahead_users(&emails, &users)?;
        }
        let ticket_batch = matches!(records.first(), Some(Record::Ticket(_)));
        self.db.look_ahead(
            &[
                (Kind::Ticket, tickets),
                (Kind::Note, notes),
                (Kind::History, history),
                (Kind::Attachment, attachments),
            ],
            ticket_batch,
        )
    }

    /// The plan, with the warnings of reading the records added, and the updates the
    /// target held for later sent and counted.
    pub(crate) fn finish(mut self, read_warnings: Warnings) -> Result<Plan> {
        // A bulk load took its attachments' references as they were (`attachment_refs`).
        if self.db.bulk_loaded()
            && let Some((attachment, kind, id)) = self.db.stray_reference()?
        {
            return Err(not_in_archive(&attachment, kind.name(), &id));
        }
        for (kind, counted) in self.db.later()? {
            let tally = tally_of(kind)(&mut self.plan.outcomes);
            tally.updated += counted.changed;
            tally.unchanged += counted.same;
        }
        self.plan.warnings.merge(read_warnings);
        self.plan.bulk_load = self.db.bulk_loaded();
        self.plan.bulk_load_users = self.db.users_bulk_loaded();
        Ok(self.plan)
    }

    fn applying(&self) -> bool {
        self.mode == Mode::Apply
    }

    pub(crate) fn record(&mut self, record: &Record) -> Result<()> {
        if let Some(selection) = self.selection
            && !selection.takes(record)
        {
            let left_out = self.plan.not_chosen.get_or_insert_default();
            selection::count_left_out(left_out, record);
            return Ok(());
        }
        match record {
            Record::User(user) => self.user(user),
            Record::CustomField(field) => self.custom_field(field),
            Record::Ticket(ticket) => self.ticket(ticket),
            Record::Attachment(attachment) => self.attachment(attachment),
        }
    }

    /// Records a conflict. The import will be rolled back, so from here on it only counts.
    fn conflict(&mut self, message: String) {
        self.mode = Mode::Plan;
        self.plan.conflict_count += 1;
        if self.plan.conflicts.len() < MAX_LISTED {
            self.plan.conflicts.push(message);
        }
    }

    fn warn(&mut self, message: String) {
        self.plan.warnings.add(message);
    }

    /// What becomes of a record the target already holds, as the policy says (a conflict
    /// under the strict policy, recorded here).
    fn decide_existing(&mut self, conflict: impl FnOnce() -> String) -> Decision {
        match self.policy {
            Policy::Strict => {
                self.conflict(conflict());
                Decision::Conflict
            }
            Policy::SkipDuplicates => Decision::Skip,
            Policy::Overwrite => Decision::Update,
        }
    }

    /// What becomes of a ticket, note, history entry or attachment, given its `existing` row
    /// in the target (none: it is created).
    fn decide_record(&mut self, kind: Kind, archive_id: &str, existing: Option<&str>) -> Decision {
        if existing.is_none() {
            return Decision::Create;
        }
        let (what, noun) = match kind {
            Kind::Ticket => ("ticket", "Ticket"),
            Kind::Note => ("note", "Note"),
            Kind::History => ("history entry", "Entry"),
            Kind::Attachment => ("attachment", "Attachment"),
        };
        self.decide_existing(|| {
            format!("Failed to import {what}: {noun} already exists ({archive_id})")
        })
    }

    /// How a record so decided is written in this mode; `None` when nothing is to be done
    /// (a plan creates nothing, and needs no query to know a new record is new).
    fn write_for(&self, decision: Decision) -> Option<Write> {
        match (decision, self.applying()) {
            (Decision::Create, true) => Some(Write::Insert),
            (Decision::Update, true) => Some(Write::Update),
            (Decision::Update, false) => Some(Write::Compare),
            _ => None,
        }
    }

    /// Writes (or, planning, compares) a decided record's `row` and counts what became of
    /// it.
    fn settle<R>(
        &mut self,
        decision: Decision,
        tally: fn(&mut Outcomes) -> &mut Tally,
        row: Result<R, Planned>,
        write: impl FnOnce(&ImportDb<'c, T>, R, Write) -> Result<Written>,
    ) -> Result<()> {
        let written = match (self.write_for(decision), row) {
            (None, _) => Written::Changed,
            (Some(how), Ok(row)) => write(&self.db, row, how)?,
            // The id the import would give that record is not known yet.
            (Some(Write::Compare), Err(Planned)) => Written::Changed,
            // Applying, a record is written before anything refers to it.
            (Some(Write::Insert | Write::Update), Err(Planned)) => {
                bail!("a record refers to one this import has not written")
            }
        };
        let tally = tally(&mut self.plan.outcomes);
        match decision {
            Decision::Create => tally.created += 1,
            Decision::Update => match written {
                Written::Changed => tally.updated += 1,
                Written::Unchanged => tally.unchanged += 1,
                // Counted when the target has sent it (`finish`).
                Written::Later => {}
            },
            Decision::Skip => tally.skipped += 1,
            Decision::Conflict => {}
        }
        Ok(())
    }

    /// One note or history entry of a ticket: found among the ticket's known children (or
    /// not), decided on, and written under `ticket_id` with its person resolved.
    fn child(
        &mut self,
        child: Child<'_>,
        known: &HashSet<String>,
        ticket_id: &Id,
        write: impl FnOnce(&ImportDb<'c, T>, &ChildRow<'_>, Write) -> Result<Written>,
    ) -> Result<()> {
        let existing = self.db.find_existing_child(child.kind, child.id, known)?;
        let decision = self.decide_record(child.kind, child.id, existing.as_deref());
        let tally = tally_of(child.kind);
        let id = self.row_id(child.kind, child.id, existing)?;
        let person = if decision.writes() {
            self.person(child.person, child.role, StandIn::Actor)
        } else {
            None
        };
        let row = (|| {
            Ok(ChildRow {
                id: id.row()?,
                ticket_id: ticket_id.row()?,
                person_id: nullable(person.as_ref())?,
            })
        })();
        self.settle(decision, tally, row, |db, row, how| write(db, &row, how))
    }

    /// A record's row id: its existing row, or (applying) a claimed id; planning a new
    /// record, none yet.
    fn row_id(&self, kind: Kind, archive_id: &str, existing: Option<String>) -> Result<Id> {
        match existing {
            Some(local) => Ok(Id::Row(local.into())),
            None if self.applying() => {
                let claimed = self.db.claim_id(kind, archive_id, &self.now)?;
                Ok(Id::Row(claimed.into()))
            }
            None => Ok(Id::Planned),
        }
    }

    /// The id a new user or custom field gets: its archive id unless another row has it
    /// (`taken`), then a fresh one. A plan knows the archive id will be it (so what refers
    /// to the record is compared as the import will find it), not which fresh one.
    fn new_id(
        &self,
        archive_id: &str,
        taken: fn(&ImportDb<'c, T>, &str) -> Result<bool>,
    ) -> Result<Id> {
        Ok(match (taken(&self.db, archive_id)?, self.applying()) {
            (false, _) => Id::Row(archive_id.into()),
            (true, true) => Id::Row(uuid::Uuid::new_v4().to_string().into()),
            (true, false) => Id::Planned,
        })
    }

    fn user(&mut self, user: &UserRecord) -> Result<()> {
        let key = user.email.to_ascii_lowercase();
        let role = user.company_role.map_or(CompanyRole::Member, |r| r.value);
        match self.db.find_user(&user.email)? {
            None => {
                self.plan.password_reset_required += 1;
                let id = self.new_id(&user.id, ImportDb::user_id_taken)?;
                let now = self.now.clone();
                self.settle(
                    Decision::Create,
                    |o| &mut o.users,
                    id.row(),
                    |db, id, how| {
                        db.write_user(id, user, how)?;
                        Ok(db.set_membership(id, role, &now)?.into())
                    },
                )?;
                self.members.insert(key, id);
            }
            Some(found) if found.is_member => {
                let decision = self.decide_existing(|| {
                    format!(
                        "Failed to import user: Email already exists ({})",
                        user.email
                    )
                });
                let keep_profile = found.other_companies > 0;
                // An import must not take away the admin rights it runs on.
                let actor_id = self.actor.as_ref().and_then(|a| a.id.as_deref());
                let keep_role = actor_id == Some(found.id.as_str()) && role != CompanyRole::Admin;
                if decision == Decision::Update {
                    if keep_profile {
                        self.warn(format!(
                            "user {}: profile kept, as the user also belongs to another company; membership role set",
                            user.email
                        ));
                    }
                    if keep_role {
                        self.warn(format!(
                            "user {}: the importing admin's own membership role kept",
                            user.email
                        ));
                    }
                }
                let now = self.now.clone();
                self.settle(
                    decision,
                    |o| &mut o.users,
                    Ok(found.id.as_str()),
                    |db, id, how| {
                        let profile = !keep_profile && db.write_user(id, user, how)?;
                        let membership = !keep_role
                            && match how {
                                Write::Compare => db.membership_differs(id, role)?,
                                _ => db.set_membership(id, role, &now)?,
                            };
                        Ok((profile || membership).into())
                    },
                )?;
            }
            Some(found) => {
                // A user of another company joins this one; their profile stays as it is.
                self.plan.outcomes.users.linked += 1;
                if role == CompanyRole::Admin {
                    self.plan.admin_grants.push(user.email.clone());
                }
                if self.applying() {
                    self.db.set_membership(&found.id, role, &self.now)?;
                }
                self.members.insert(key, Id::Row(found.id.into()));
            }
        }
        if let Some(actor) = &mut self.actor
            && actor.id.is_none()
            && let Some(Id::Row(id)) = self.members.get(&actor.email.to_ascii_lowercase())
        {
            actor.id = Some(id.to_string());
        }
        Ok(())
    }

    fn custom_field(&mut self, field: &CustomFieldRecord) -> Result<()> {
        // Without a type (the validator has said so) it is a string field whose values
        // are all taken as they are.
        let field_type = field.field_type.unwrap_or(FieldType::String);
        let rule = field
            .field_type
            .and_then(|t| FieldRule::new(t, &field.options));
        self.archive_rules.insert(field.name.clone(), rule.clone());
        let (decision, id) = match self.fields.get(&field.name) {
            Some((id, _)) => {
                let id = id.clone();
                let decision = self.decide_existing(|| {
                    format!(
                        "Failed to import custom field: Name already exists ({})",
                        field.name
                    )
                });
                (decision, id)
            }
            None => (
                Decision::Create,
                self.new_id(&field.id, ImportDb::field_id_taken)?,
            ),
        };
        self.settle(
            decision,
            |o| &mut o.custom_fields,
            id.row(),
            |db, id, how| db.write_field(id, field, field_type, how),
        )?;
        if decision.writes() {
            self.fields.insert(field.name.clone(), (id, rule));
        }
        Ok(())
    }

    /// A person reference as a member's id. One who is not a member of the target company
    /// (or, in a web app file, not named) falls back to the actor (or to nobody, for an
    /// assignee) with a warning.
    fn person(&mut self, person: Option<&PersonRef>, what: &str, stand_in: StandIn) -> Option<Id> {
        let members = &self.members;
        let member = |email: &str| match email.bytes().any(|b| b.is_ascii_uppercase()) {
            true => members.get(&email.to_ascii_lowercase()).cloned(),
            false => members.get(email).cloned(),
        };
        let email = match place_person(person, self.origin, stand_in, member) {
            PersonTarget::Member(id) => return Some(id),
            PersonTarget::Nobody => return None,
            PersonTarget::Stranger(email) => email,
        };
        let who = match email {
            Some(email) => format!("{email}, not a member of {}", self.company_name),
            None => "missing".to_owned(),
        };
        let actor = match (stand_in, &self.actor) {
            (StandIn::Nobody, _) => {
                self.warn(format!("{what} {who}: left unassigned"));
                return None;
            }
            (StandIn::Actor, None) => {
                self.warn(format!(
                    "{what} {who}: left empty, as no user runs this restore"
                ));
                return None;
            }
            (StandIn::Actor, Some(actor)) => actor,
        };
        let message = format!(
            "{what} {who}: recorded as the importing admin {}",
            actor.email
        );
        // Not yet a member: the plan's user, of an archive that brings the actor.
        let id = (actor.id.as_deref()).map_or(Id::Planned, |id| Id::Row(id.into()));
        self.warn(message);
        Some(id)
    }

    /// Re-keys custom field values from names to the target's field ids. Every value is
    /// kept as it is: one that does not fit the target's own definition of the field (same
    /// name, another type) with a warning, and one whose field the target lacks under its
    /// archive key (the database keyed values of deleted fields so, and an export keeps it).
    fn field_values(
        &mut self,
        ticket_id: &str,
        values: &Map<String, Value>,
    ) -> Result<String, Planned> {
        let mut by_id = Map::new();
        let mut planned = false;
        for (name, value) in values {
            let Some((id, rule)) = self.fields.get(name) else {
                let key = format!(
                    "ticket custom field {name}: no such field in {}; values kept under that key",
                    self.company_name
                );
                self.plan
                    .warnings
                    .add_example(key, || format!("ticket {ticket_id}"));
                by_id.insert(name.clone(), value.clone());
                continue;
            };
            if let Some(Err(problem)) = rule.as_ref().map(|r| r.check(value))
                && self.archive_rules.get(name) != Some(rule)
            {
                let key = format!(
                    "ticket custom field {name}: values that {}'s field does not allow, kept as they are",
                    self.company_name
                );
                self.plan
                    .warnings
                    .add_example(key, || format!("ticket {ticket_id}: {problem}"));
            }
            match id.row() {
                Ok(id) => {
                    by_id.insert(id.to_owned(), value.clone());
                }
                Err(Planned) => planned = true,
            }
        }
        if planned {
            return Err(Planned);
        }
        Ok(Value::Object(by_id).to_string())
    }

    fn ticket(&mut self, ticket: &TicketRecord) -> Result<()> {
        let existing = self.db.find_existing(Kind::Ticket, &ticket.id)?;
        let decision = self.decide_record(Kind::Ticket, &ticket.id, existing.as_deref());
        // An existing ticket's notes and history, fetched at once to recognise its children.
        let known = match &existing {
            Some(local) => self.db.children_of(local)?,
            None => TicketChildren::default(),
        };
        let ticket_id = self.row_id(Kind::Ticket, &ticket.id, existing)?;
        if decision.writes() {
            let submitter = self.person(
                ticket.created_by.as_ref(),
                "ticket submitter",
                StandIn::Actor,
            );
            let assignee = self.person(
                ticket.assigned_to.as_ref(),
                "ticket assignee",
                StandIn::Nobody,
            );
            let custom_field_values = self.field_values(&ticket.id, &ticket.custom_fields);
            let row = (|| {
                Ok(TicketRow {
                    id: ticket_id.row()?,
                    ticket,
                    submitter_id: nullable(submitter.as_ref())?,
                    assignee_id: nullable(assignee.as_ref())?,
                    custom_field_values: custom_field_values?,
                })
            })();
            self.settle(decision, tally_of(Kind::Ticket), row, |db, row, how| {
                db.write_ticket(&row, how)
            })?;
        } else {
            self.settle(decision, tally_of(Kind::Ticket), Ok(()), |_, (), _| {
                Ok(Written::Unchanged)
            })?;
        }

        for note in &ticket.notes {
            let child = Child {
                kind: Kind::Note,
                id: &note.id,
                person: note.author.as_ref(),
                role: "note author",
            };
            self.child(child, &known.notes, &ticket_id, |db, row, how| {
                db.write_note(row, note, how)
            })?;
        }
        for entry in &ticket.history {
            let child = Child {
                kind: Kind::History,
                id: &entry.id,
                person: entry.user.as_ref(),
                role: "history entry user",
            };
            self.child(child, &known.history, &ticket_id, |db, row, how| {
                db.write_history(row, entry, how)
            })?;
        }
        Ok(())
    }

    /// Where an attachment's ticket and note are in the target company (a ticket not found
    /// is one a plan would create); none when the attachment is not imported (with a
    /// warning).
    fn attachment_refs(
        &mut self,
        attachment: &AttachmentRecord,
    ) -> Result<Option<(Option<String>, Option<Id>)>> {
        // Writing into a company that started empty, with the archive's tickets already
        // written: a reference that finds nothing points outside the archive. (Elsewhere
        // the validator has said so before the record got here.)
        let refs_checked_here =
            self.applying() && self.db.started_empty() && self.archive_has_tickets;
        if refs_checked_here && self.db.bulk_loaded() {
            // Every ticket and note is then the import's own, under its archive id: the
            // references are taken as they are, and `finish` checks them all at once.
            let note_id = (attachment.note_id.as_deref()).map(|id| Id::Row(id.into()));
            return Ok(Some((
                Some(attachment.ticket_id.as_str().to_owned()),
                note_id,
            )));
        }
        let outside = |what, id: &str| not_in_archive(&attachment.id, what, id);
        let ticket_id = self.db.resolve(Kind::Ticket, &attachment.ticket_id)?;
        if ticket_id.is_none() && refs_checked_here {
            return Err(outside("ticket", &attachment.ticket_id));
        }
        if ticket_id.is_none() && !(self.mode == Mode::Plan && self.archive_has_tickets) {
            self.warn(format!(
                "attachment {}: its ticket {} is neither in the archive nor in {}; not imported",
                attachment.id, attachment.ticket_id, self.company_name
            ));
            return Ok(None);
        }
        let note_id = match &attachment.note_id {
            Some(note) => {
                let found = self
                    .db
                    .resolve_under(Kind::Note, note, ticket_id.as_deref())?;
                if found.is_none() && refs_checked_here {
                    return Err(outside("note", note));
                }
                let planned = self.mode == Mode::Plan && self.archive_has_tickets;
                if found.is_none() && !planned {
                    self.warn(format!(
                        "attachment {}: its note {note} was not found; attached to the ticket only",
                        attachment.id
                    ));
                }
                // Planning, a note not found yet is one the import would create.
                match (found, planned) {
                    (Some(id), _) => Some(Id::Row(id.into())),
                    (None, true) => Some(Id::Planned),
                    (None, false) => None,
                }
            }
            None => None,
        };
        Ok(Some((ticket_id, note_id)))
    }

    fn attachment(&mut self, attachment: &AttachmentRecord) -> Result<()> {
        let Some((ticket_id, note_id)) = self.attachment_refs(attachment)? else {
            return Ok(());
        };
        let existing =
            self.db
                .find_existing_under(Kind::Attachment, &attachment.id, ticket_id.as_deref())?;
        let decision = self.decide_record(Kind::Attachment, &attachment.id, existing.as_deref());
        let id = self.row_id(Kind::Attachment, &attachment.id, existing)?;
        let uploader = if decision.writes() {
            let uploader = attachment.uploaded_by.as_ref();
            self.person(uploader, "attachment uploader", StandIn::Actor)
        } else {
            None
        };
        // A ticket not found by now is one the plan would create.
        let ticket_id = ticket_id.map_or(Id::Planned, |id| Id::Row(id.into()));
        let web_app_name = (self.origin == Origin::WebApp).then_some(attachment.file_name.as_str());
        let original_name = attachment.original_name.as_deref().or(web_app_name);
        let row = (|| {
            Ok(AttachmentRow {
                id: id.row()?,
                attachment,
                original_name,
                ticket_id: ticket_id.row()?,
                note_id: nullable(note_id.as_ref())?,
                uploader_id: nullable(uploader.as_ref())?,
            })
        })();
        self.settle(decision, tally_of(Kind::Attachment), row, |db, row, how| {
            db.write_attachment(&row, how)
        })
    }
}
