//! Reading one company's records for export, as streams in the archive's shapes.
//!
//! Tickets come from three passes (tickets, notes, history) in the same ticket order,
//! merged in memory, so a ticket's notes and history join it without a query per ticket and
//! only one ticket is held at a time. People (a note's author, a ticket's submitter) are
//! looked up once each and remembered, not joined to every row.
//!
//! The order is the ticket's id. Reading in creation order instead, the order of the
//! `(company_id, created_at)` index every Bomizzel database has, spares SQLite the sort and
//! made the export a third faster (2.2 s against 3.3 s at 100k tickets), but an import of
//! such an archive inserts into the `ticket_id` indexes at random places and took a third
//! longer (7.7 s against 5.8 s, past `sqlite3 < dump`): restores are the time that counts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::iter::Peekable;

use anyhow::{Context, Result};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Statement, params_from_iter};
use serde_json::{Map, Value};

use super::columns::RowRead;
use crate::archive::records::{
    AttachmentRecord, CompanyRecord, CompanyRole, Counts, CustomFieldRecord, FieldType,
    HistoryRecord, NoteRecord, PersonRef, Priority, Text, TicketRecord, UserRecord, UserRole,
};

/// Which tickets an export takes: one company's, optionally within a creation-time window.
#[derive(Debug, Clone)]
pub(crate) struct TicketScope {
    pub company_id: String,
    /// Inclusive lower bound on `created_at`, in the database's text form.
    pub created_from: Option<String>,
    /// Exclusive upper bound on `created_at`.
    pub created_before: Option<String>,
}

impl TicketScope {
    /// The `WHERE` condition on tickets aliased `t`, with `placeholder(n)` for the `n`th
    /// parameter, and its parameters.
    pub(crate) fn condition_as(
        &self,
        placeholder: impl Fn(usize) -> String,
    ) -> (String, Vec<&str>) {
        let mut sql = format!("t.company_id = {}", placeholder(1));
        let mut params = vec![self.company_id.as_str()];
        if let Some(from) = &self.created_from {
            params.push(from);
            sql.push_str(&format!(
                " AND t.created_at >= {}",
                placeholder(params.len())
            ));
        }
        if let Some(before) = &self.created_before {
            params.push(before);
            sql.push_str(&format!(
                " AND t.created_at < {}",
                placeholder(params.len())
            ));
        }
        (sql, params)
    }

    /// `condition_as` in SQLite's words.
    fn condition(&self) -> (String, Vec<SqlValue>) {
        let (sql, params) = self.condition_as(|n| format!("?{n}"));
        let params = params
            .into_iter()
            .map(|p| SqlValue::Text(p.to_owned()))
            .collect();
        (sql, params)
    }
}

/// Counts the records of every section but tickets' notes and history, so that the progress
/// bar knows them before streaming starts; those two come from [`count_ticket_children`]
/// when the archive needs them first.
pub(crate) fn count_records(conn: &Connection, scope: &TicketScope) -> Result<Counts> {
    let (cond, params) = scope.condition();
    let company = [SqlValue::Text(scope.company_id.clone())];
    Ok(Counts {
        users: count(
            conn,
            "SELECT count(*) FROM user_company_associations WHERE company_id = ?1",
            &company,
        )?,
        custom_fields: count(
            conn,
            "SELECT count(*) FROM custom_fields WHERE company_id = ?1",
            &company,
        )?,
        tickets: count(
            conn,
            &format!("SELECT count(*) FROM tickets t WHERE {cond}"),
            &params,
        )?,
        attachments: count(
            conn,
            &format!(
                "SELECT count(*) FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id WHERE {cond}"
            ),
            &params,
        )?,
        notes: 0,
        history: 0,
    })
}

/// How many notes and history entries the scope's tickets have: for the json container,
/// whose manifest comes before the records. A zip's manifest comes last and takes them from
/// the records written, which spares a pass over both indexes (about a tenth of an export).
pub(crate) fn count_ticket_children(conn: &Connection, scope: &TicketScope) -> Result<(u64, u64)> {
    let (cond, params) = scope.condition();
    let notes = count(
        conn,
        &format!(
            "SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id WHERE {cond}"
        ),
        &params,
    )?;
    let history = count(
        conn,
        &format!(
            "SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id WHERE {cond}"
        ),
        &params,
    )?;
    Ok((notes, history))
}

fn count(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<u64> {
    let n: i64 = conn.query_row(sql, params_from_iter(params), |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The company's own row, for the manifest.
pub(crate) fn company(conn: &Connection, company_id: &str) -> Result<CompanyRecord> {
    let mut stmt = conn.prepare(&format!("{COMPANY_SQL}?1"))?;
    let mut rows = stmt.query([company_id])?;
    let row = rows.next()?.context("no such company")?;
    company_from_row(row).with_context(|| format!("cannot read company {company_id}"))
}

/// The company row's query, without its parameter (the id).
pub(crate) const COMPANY_SQL: &str = "SELECT id, name, domain, description, is_active, created_at, updated_at FROM companies WHERE id = ";

/// A row of `COMPANY_SQL`.
pub(crate) fn company_from_row<R: RowRead>(row: &R) -> Result<CompanyRecord> {
    Ok(CompanyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        domain: row.get(2)?,
        description: row.get(3)?,
        is_active: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

/// The company's members, with their membership role. Never a password hash.
pub(crate) fn for_each_user(
    conn: &Connection,
    company_id: &str,
    mut emit: impl FnMut(UserRecord) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.role, a.role,
                u.is_active, u.email_verified, u.preferences, u.created_at, u.updated_at
         FROM user_company_associations a JOIN users u ON u.id = a.user_id
         WHERE a.company_id = ?1
         ORDER BY u.id",
    )?;
    let mut rows = stmt.query([company_id])?;
    while let Some(row) = rows.next()? {
        emit(user_from_row(row)?)?;
    }
    Ok(())
}

/// A row of `USERS_SQL`.
pub(crate) fn user_from_row<R: RowRead>(row: &R) -> Result<UserRecord> {
    let id: String = row.get(0)?;
    (|| -> Result<UserRecord> {
        Ok(UserRecord {
            email: row.get(1)?,
            first_name: row.get(2)?,
            last_name: row.get(3)?,
            phone: row.get(4)?,
            role: parse_enum(row, 5, UserRole::parse)?.into(),
            company_role: Some(parse_enum(row, 6, CompanyRole::parse)?.into()),
            is_active: row.get(7)?,
            email_verified: row.get(8)?,
            preferences: json_column(row, 9)?,
            created_at: row.get(10)?,
            updated_at: row.get(11)?,
            id: id.clone(),
        })
    })()
    .with_context(|| format!("cannot read user {id}"))
}

/// The company's custom field definitions, in display order.
pub(crate) fn for_each_custom_field(
    conn: &Connection,
    company_id: &str,
    mut emit: impl FnMut(CustomFieldRecord) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, name, label, type, options, validation, is_required, is_active,
                display_order, created_at, updated_at
         FROM custom_fields WHERE company_id = ?1
         ORDER BY display_order, name",
    )?;
    let mut rows = stmt.query([company_id])?;
    while let Some(row) = rows.next()? {
        emit(field_from_row(row)?)?;
    }
    Ok(())
}

/// A row of `FIELDS_SQL`.
pub(crate) fn field_from_row<R: RowRead>(row: &R) -> Result<CustomFieldRecord> {
    let id: String = row.get(0)?;
    (|| -> Result<CustomFieldRecord> {
        Ok(CustomFieldRecord {
            name: row.get(1)?,
            label: row.get(2)?,
            field_type: Some(parse_enum(row, 3, FieldType::parse)?),
            options: json_column(row, 4)?,
            validation: json_column(row, 5)?,
            is_required: row.get(6)?,
            is_active: row.get(7)?,
            display_order: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
            id: id.clone(),
        })
    })()
    .with_context(|| format!("cannot read custom field {id}"))
}

/// The company's custom field names by id: the archive keys ticket values by name.
pub(crate) fn field_names(conn: &Connection, company_id: &str) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT id, name FROM custom_fields WHERE company_id = ?1")?;
    let names = stmt
        .query_map([company_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// The order of the ticket passes.
const TICKET_ORDER: &str = "t.id";

/// The scope's tickets, each with its notes and history, in id order.
pub(crate) fn for_each_ticket(
    conn: &Connection,
    scope: &TicketScope,
    field_names: &HashMap<String, String>,
    mut emit: impl FnMut(TicketRecord) -> Result<()>,
) -> Result<()> {
    let (cond, params) = scope.condition();
    let people = RefCell::new(sqlite_people(conn)?);
    let mut tickets = conn.prepare(&format!(
        "SELECT t.id, t.title, t.description, t.status, t.priority, t.category,
                t.custom_field_values, t.created_at, t.updated_at, t.resolved_at, t.closed_at,
                t.submitter_id, t.assigned_to_id
         FROM tickets t
         WHERE {cond}
         ORDER BY {TICKET_ORDER}"
    ))?;
    let mut notes = conn.prepare(&format!(
        "SELECT n.ticket_id, n.id, n.content, n.is_internal, n.is_email_generated,
                n.email_metadata, n.created_at, n.updated_at, n.author_id
         FROM ticket_notes n
         JOIN tickets t ON t.id = n.ticket_id
         WHERE {cond}
         ORDER BY {TICKET_ORDER}, n.created_at, n.id"
    ))?;
    let mut history = conn.prepare(&format!(
        "SELECT h.ticket_id, h.id, h.action, h.field_name, h.old_value, h.new_value,
                h.metadata, h.created_at, h.user_id
         FROM ticket_history h
         JOIN tickets t ON t.id = h.ticket_id
         WHERE {cond}
         ORDER BY {TICKET_ORDER}, h.created_at, h.id"
    ))?;

    let mut notes = notes
        .query_map(params_from_iter(&params), |row| {
            Ok((row.get::<_, String>(0)?, note_from_row(row, &people)))
        })?
        .peekable();
    let mut history = history
        .query_map(params_from_iter(&params), |row| {
            Ok((row.get::<_, String>(0)?, history_from_row(row, &people)))
        })?
        .peekable();

    let mut rows = tickets.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let mut ticket = ticket_from_row(row, field_names, &people)
            .with_context(|| format!("cannot read ticket {id}"))?;
        ticket.notes = take_children(&mut notes, &id)
            .with_context(|| format!("cannot read the notes of ticket {id}"))?;
        ticket.history = take_children(&mut history, &id)
            .with_context(|| format!("cannot read the history of ticket {id}"))?;
        emit(ticket)?;
    }
    Ok(())
}

/// Takes the children of `ticket_id` from a stream in the same ticket order as the tickets:
/// those at its head that name it.
pub(crate) fn take_children<T, E, I>(stream: &mut Peekable<I>, ticket_id: &str) -> Result<Vec<T>>
where
    E: Into<anyhow::Error>,
    I: Iterator<Item = std::result::Result<(String, Result<T>), E>>,
{
    let mut children = Vec::new();
    loop {
        match stream.peek() {
            Some(Ok((parent, _))) if parent == ticket_id => {
                if let Some(Ok((_, child))) = stream.next() {
                    children.push(child?);
                }
            }
            Some(Err(_)) => {
                if let Some(Err(err)) = stream.next() {
                    return Err(err.into());
                }
            }
            _ => return Ok(children),
        }
    }
}

/// Finds one person by user id, in one backend.
pub(crate) trait PersonLookup {
    fn find(&mut self, id: &str) -> Result<Option<PersonRef>>;
}

/// SQLite's person lookup: one prepared statement.
struct SqlitePeople<'c>(Statement<'c>);

impl PersonLookup for SqlitePeople<'_> {
    fn find(&mut self, id: &str) -> Result<Option<PersonRef>> {
        let mut rows = self.0.query([id])?;
        match rows.next()? {
            Some(row) => person(row, 0),
            None => Ok(None),
        }
    }
}

/// `PersonLookup`'s query, `?1` the user id.
pub(crate) const PERSON_SQL: &str = "SELECT email, first_name, last_name FROM users WHERE id = ";

/// The people records name, by user id: each read from `users` once, then remembered. At
/// most the company's members and former members, so a few hundred KiB at most.
pub(crate) struct People<L> {
    lookup: L,
    known: HashMap<String, Option<PersonRef>>,
}

impl<L: PersonLookup> People<L> {
    pub(crate) fn new(lookup: L) -> Self {
        People {
            lookup,
            known: HashMap::new(),
        }
    }

    /// The person with this id; `None` for no id, or an id no user row has.
    fn get(&mut self, id: Option<String>) -> Result<Option<PersonRef>> {
        let Some(id) = id else { return Ok(None) };
        if let Some(person) = self.known.get(&id) {
            return Ok(person.clone());
        }
        let person = self.lookup.find(&id)?;
        self.known.insert(id, person.clone());
        Ok(person)
    }
}

fn sqlite_people(conn: &Connection) -> Result<People<SqlitePeople<'_>>> {
    Ok(People::new(SqlitePeople(
        conn.prepare(&format!("{PERSON_SQL}?1"))?,
    )))
}

/// The person whose id is in column `index`.
fn person_at<R: RowRead>(
    row: &R,
    index: usize,
    people: &RefCell<People<impl PersonLookup>>,
) -> Result<Option<PersonRef>> {
    people.borrow_mut().get(row.get(index)?)
}

pub(crate) fn ticket_from_row<R: RowRead>(
    row: &R,
    field_names: &HashMap<String, String>,
    people: &RefCell<People<impl PersonLookup>>,
) -> Result<TicketRecord> {
    Ok(TicketRecord {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        status: row.get(3)?,
        priority: parse_enum(row, 4, Priority::parse)?.into(),
        category: row.get(5)?,
        custom_fields: values_by_name(json_column(row, 6)?, field_names),
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        resolved_at: row.get(9)?,
        closed_at: row.get(10)?,
        created_by: person_at(row, 11, people)?,
        assigned_to: person_at(row, 12, people)?,
        notes: Vec::new(),
        history: Vec::new(),
    })
}

/// Re-keys a ticket's custom field values from field ids to field names. A value whose
/// field no longer exists keeps its id as the key, so nothing is dropped.
fn values_by_name(values: Value, field_names: &HashMap<String, String>) -> Map<String, Value> {
    match values {
        Value::Object(by_id) => by_id
            .into_iter()
            .map(|(id, value)| match field_names.get(&id) {
                Some(name) => (name.clone(), value),
                None => (id, value),
            })
            .collect(),
        _ => Map::new(),
    }
}

pub(crate) fn note_from_row<R: RowRead>(
    row: &R,
    people: &RefCell<People<impl PersonLookup>>,
) -> Result<NoteRecord> {
    Ok(NoteRecord {
        id: row.get(1)?,
        content: row.get(2)?,
        is_internal: row.get(3)?,
        is_email_generated: row.get(4)?,
        email_metadata: json_column(row, 5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        author: person_at(row, 8, people)?,
    })
}

pub(crate) fn history_from_row<R: RowRead>(
    row: &R,
    people: &RefCell<People<impl PersonLookup>>,
) -> Result<HistoryRecord> {
    Ok(HistoryRecord {
        id: row.get(1)?,
        action: row.get(2)?,
        field_name: row.get(3)?,
        old_value: row.get(4)?,
        new_value: row.get(5)?,
        metadata: json_column(row, 6)?,
        created_at: row.get(7)?,
        user: person_at(row, 8, people)?,
    })
}

/// The scope's attachment metadata, in ticket order (as the tickets pass gives them).
pub(crate) fn for_each_attachment(
    conn: &Connection,
    scope: &TicketScope,
    mut emit: impl FnMut(AttachmentRecord) -> Result<()>,
) -> Result<()> {
    let (cond, params) = scope.condition();
    let mut people = sqlite_people(conn)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT f.id, f.ticket_id, f.note_id, f.file_name, f.original_name, f.file_size,
                f.mime_type, f.storage_key, f.created_at, f.uploaded_by_id
         FROM file_attachments f
         JOIN tickets t ON t.id = f.ticket_id
         WHERE {cond}
         ORDER BY {TICKET_ORDER}, f.id"
    ))?;
    let mut rows = stmt.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        emit(attachment_from_row(row, &mut people)?)?;
    }
    Ok(())
}

/// A row of the attachments query.
pub(crate) fn attachment_from_row<R: RowRead>(
    row: &R,
    people: &mut People<impl PersonLookup>,
) -> Result<AttachmentRecord> {
    let id: String = row.get(0)?;
    (|| -> Result<AttachmentRecord> {
        Ok(AttachmentRecord {
            ticket_id: row.get(1)?,
            note_id: row.get(2)?,
            file_name: row.get(3)?,
            original_name: row.get(4)?,
            file_size: row.get::<Option<i64>>(5)?.unwrap_or(0),
            file_type: row.get(6)?,
            file_path: row.get(7)?,
            uploaded_at: row.get(8)?,
            uploaded_by: people.get(row.get(9)?)?,
            id: id.as_str().into(),
        })
    })()
    .with_context(|| format!("cannot read attachment {id}"))
}

/// A person from three columns (email, first name, last name); `None` when the user row
/// is missing.
pub(crate) fn person<R: RowRead>(row: &R, first: usize) -> Result<Option<PersonRef>> {
    let email: Option<Text> = row.get(first)?;
    Ok(email.map(|email| PersonRef {
        email: Some(email),
        first_name: row.get::<Option<Text>>(first + 1).ok().flatten(),
        last_name: row.get::<Option<Text>>(first + 2).ok().flatten(),
    }))
}

/// A JSON text column as a JSON value; text that does not parse is kept as a string so the
/// export loses nothing.
pub(crate) fn json_column<R: RowRead>(row: &R, index: usize) -> Result<Value> {
    let text: Option<String> = row.get(index)?;
    Ok(match text {
        None => Value::Null,
        Some(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

fn parse_enum<R: RowRead, T>(row: &R, index: usize, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.get(index)?;
    parse(&text).ok_or_else(|| {
        anyhow::anyhow!(
            "column {} holds {text:?}, which the archive format does not allow",
            row.column_name(index)
        )
    })
}
