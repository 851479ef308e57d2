//! Reading one company's records for export, as streams in the archive's shapes.
//!
//! Tickets come from three ordered passes (tickets, notes, history, each sorted by ticket
//! id) merged in memory, so a ticket's notes and history join it without a query per ticket
//! and only one ticket is held at a time.

use std::collections::HashMap;
use std::iter::Peekable;

use anyhow::{Context, Result};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params_from_iter};
use serde_json::{Map, Value};

use crate::archive::records::{
    AttachmentRecord, CompanyRecord, CompanyRole, Counts, CustomFieldRecord, FieldType,
    HistoryRecord, NoteRecord, PersonRef, Priority, TicketRecord, UserRecord, UserRole,
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
    /// The `WHERE` condition on tickets aliased `t`, and its parameters.
    fn condition(&self) -> (String, Vec<SqlValue>) {
        let mut sql = String::from("t.company_id = ?1");
        let mut params = vec![SqlValue::Text(self.company_id.clone())];
        if let Some(from) = &self.created_from {
            params.push(SqlValue::Text(from.clone()));
            sql.push_str(&format!(" AND t.created_at >= ?{}", params.len()));
        }
        if let Some(before) = &self.created_before {
            params.push(SqlValue::Text(before.clone()));
            sql.push_str(&format!(" AND t.created_at < ?{}", params.len()));
        }
        (sql, params)
    }
}

/// Counts every section's records, so the progress bar and the json container's
/// `exportInfo` know them before streaming starts.
pub(crate) fn count_records(conn: &Connection, scope: &TicketScope) -> Result<Counts> {
    let (cond, params) = scope.condition();
    let count = |sql: String, params: &[SqlValue]| -> Result<u64> {
        let n: i64 = conn.query_row(&sql, params_from_iter(params), |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let company = [SqlValue::Text(scope.company_id.clone())];
    Ok(Counts {
        users: count(
            "SELECT count(*) FROM user_company_associations WHERE company_id = ?1".into(),
            &company,
        )?,
        custom_fields: count(
            "SELECT count(*) FROM custom_fields WHERE company_id = ?1".into(),
            &company,
        )?,
        tickets: count(
            format!("SELECT count(*) FROM tickets t WHERE {cond}"),
            &params,
        )?,
        notes: count(
            format!(
                "SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id WHERE {cond}"
            ),
            &params,
        )?,
        history: count(
            format!(
                "SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id WHERE {cond}"
            ),
            &params,
        )?,
        attachments: count(
            format!(
                "SELECT count(*) FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id WHERE {cond}"
            ),
            &params,
        )?,
    })
}

/// The company's own row, for the manifest.
pub(crate) fn company(conn: &Connection, company_id: &str) -> Result<CompanyRecord> {
    conn.query_row(
        "SELECT id, name, domain, description, is_active, created_at, updated_at
         FROM companies WHERE id = ?1",
        [company_id],
        |row| {
            Ok(CompanyRecord {
                id: row.get(0)?,
                name: row.get(1)?,
                domain: row.get(2)?,
                description: row.get(3)?,
                is_active: row.get(4)?,
                created_at: row.get(5)?,
                updated_at: row.get(6)?,
            })
        },
    )
    .with_context(|| format!("cannot read company {company_id}"))
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
        let id: String = row.get(0)?;
        let record = (|| -> Result<UserRecord> {
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
        .with_context(|| format!("cannot read user {id}"))?;
        emit(record)?;
    }
    Ok(())
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
        let id: String = row.get(0)?;
        let record = (|| -> Result<CustomFieldRecord> {
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
        .with_context(|| format!("cannot read custom field {id}"))?;
        emit(record)?;
    }
    Ok(())
}

/// The company's custom field names by id: the archive keys ticket values by name.
pub(crate) fn field_names(conn: &Connection, company_id: &str) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT id, name FROM custom_fields WHERE company_id = ?1")?;
    let names = stmt
        .query_map([company_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// The scope's tickets, each with its notes and history, in ticket id order.
pub(crate) fn for_each_ticket(
    conn: &Connection,
    scope: &TicketScope,
    field_names: &HashMap<String, String>,
    mut emit: impl FnMut(TicketRecord) -> Result<()>,
) -> Result<()> {
    let (cond, params) = scope.condition();
    let mut tickets = conn.prepare(&format!(
        "SELECT t.id, t.title, t.description, t.status, t.priority, t.category,
                t.custom_field_values, t.created_at, t.updated_at, t.resolved_at, t.closed_at,
                s.email, s.first_name, s.last_name, a.email, a.first_name, a.last_name
         FROM tickets t
         LEFT JOIN users s ON s.id = t.submitter_id
         LEFT JOIN users a ON a.id = t.assigned_to_id
         WHERE {cond}
         ORDER BY t.id"
    ))?;
    let mut notes = conn.prepare(&format!(
        "SELECT n.ticket_id, n.id, n.content, n.is_internal, n.is_email_generated,
                n.email_metadata, n.created_at, n.updated_at,
                u.email, u.first_name, u.last_name
         FROM ticket_notes n
         JOIN tickets t ON t.id = n.ticket_id
         LEFT JOIN users u ON u.id = n.author_id
         WHERE {cond}
         ORDER BY n.ticket_id, n.created_at, n.id"
    ))?;
    let mut history = conn.prepare(&format!(
        "SELECT h.ticket_id, h.id, h.action, h.field_name, h.old_value, h.new_value,
                h.metadata, h.created_at, u.email, u.first_name, u.last_name
         FROM ticket_history h
         JOIN tickets t ON t.id = h.ticket_id
         LEFT JOIN users u ON u.id = h.user_id
         WHERE {cond}
         ORDER BY h.ticket_id, h.created_at, h.id"
    ))?;

    let mut notes = notes
        .query_map(params_from_iter(&params), |row| {
            Ok((row.get::<_, String>(0)?, note_from_row(row)))
        })?
        .peekable();
    let mut history = history
        .query_map(params_from_iter(&params), |row| {
            Ok((row.get::<_, String>(0)?, history_from_row(row)))
        })?
        .peekable();

    let mut rows = tickets.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let mut ticket = ticket_from_row(row, field_names)
            .with_context(|| format!("cannot read ticket {id}"))?;
        ticket.notes = take_children(&mut notes, &id)
            .with_context(|| format!("cannot read the notes of ticket {id}"))?;
        ticket.history = take_children(&mut history, &id)
            .with_context(|| format!("cannot read the history of ticket {id}"))?;
        emit(ticket)?;
    }
    Ok(())
}

/// Takes the children of `ticket_id` from a stream sorted by ticket id.
fn take_children<T, I>(stream: &mut Peekable<I>, ticket_id: &str) -> Result<Vec<T>>
where
    I: Iterator<Item = rusqlite::Result<(String, Result<T>)>>,
{
    let mut children = Vec::new();
    loop {
        match stream.peek() {
            Some(Ok((parent, _))) if parent.as_str() < ticket_id => {
                // Cannot happen with both sides sorted by the same key; skip defensively.
                stream.next();
            }
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

fn ticket_from_row(row: &Row<'_>, field_names: &HashMap<String, String>) -> Result<TicketRecord> {
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
        created_by: person(row, 11)?,
        assigned_to: person(row, 14)?,
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

fn note_from_row(row: &Row<'_>) -> Result<NoteRecord> {
    Ok(NoteRecord {
        id: row.get(1)?,
        content: row.get(2)?,
        is_internal: row.get(3)?,
        is_email_generated: row.get(4)?,
        email_metadata: json_column(row, 5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        author: person(row, 8)?,
    })
}

fn history_from_row(row: &Row<'_>) -> Result<HistoryRecord> {
    Ok(HistoryRecord {
        id: row.get(1)?,
        action: row.get(2)?,
        field_name: row.get(3)?,
        old_value: row.get(4)?,
        new_value: row.get(5)?,
        metadata: json_column(row, 6)?,
        created_at: row.get(7)?,
        user: person(row, 8)?,
    })
}

/// The scope's attachment metadata, in ticket order.
pub(crate) fn for_each_attachment(
    conn: &Connection,
    scope: &TicketScope,
    mut emit: impl FnMut(AttachmentRecord) -> Result<()>,
) -> Result<()> {
    let (cond, params) = scope.condition();
    let mut stmt = conn.prepare(&format!(
        "SELECT f.id, f.ticket_id, f.note_id, f.file_name, f.original_name, f.file_size,
                f.mime_type, f.storage_key, f.created_at, u.email, u.first_name, u.last_name
         FROM file_attachments f
         JOIN tickets t ON t.id = f.ticket_id
         LEFT JOIN users u ON u.id = f.uploaded_by_id
         WHERE {cond}
         ORDER BY f.ticket_id, f.id"
    ))?;
    let mut rows = stmt.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let record = (|| -> Result<AttachmentRecord> {
            Ok(AttachmentRecord {
                ticket_id: row.get(1)?,
                note_id: row.get(2)?,
                file_name: row.get(3)?,
                original_name: row.get(4)?,
                file_size: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                file_type: row.get(6)?,
                file_path: row.get(7)?,
                uploaded_at: row.get(8)?,
                uploaded_by: person(row, 9)?,
                id: id.clone(),
            })
        })()
        .with_context(|| format!("cannot read attachment {id}"))?;
        emit(record)?;
    }
    Ok(())
}

/// A person from three columns (email, first name, last name); `None` when the user row
/// is missing.
fn person(row: &Row<'_>, first: usize) -> Result<Option<PersonRef>> {
    let email: Option<String> = row.get(first)?;
    Ok(email.map(|email| PersonRef {
        email: Some(email),
        first_name: row.get(first + 1).ok().flatten(),
        last_name: row.get(first + 2).ok().flatten(),
    }))
}

/// A JSON text column as a JSON value; text that does not parse is kept as a string so the
/// export loses nothing.
fn json_column(row: &Row<'_>, index: usize) -> Result<Value> {
    let text: Option<String> = row.get(index)?;
    Ok(match text {
        None => Value::Null,
        Some(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

fn parse_enum<T>(row: &Row<'_>, index: usize, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.get(index)?;
    parse(&text).ok_or_else(|| {
        anyhow::anyhow!(
            "column {} holds {text:?}, which the archive format does not allow",
            row.as_ref().column_name(index).unwrap_or("?")
        )
    })
}
