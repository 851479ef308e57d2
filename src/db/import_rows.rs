//! The database side of an import: finding what already exists in the target company and
//! writing archive records into it. Every statement is prepared once and cached.
//!
//! Nothing here deletes, and nothing touches a row of another company: updates carry the
//! company in their `WHERE` clause.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::OnceLock;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::archive::records::{
    AttachmentRecord, CompanyRecord, CompanyRole, CustomFieldRecord, FieldRule, FieldType,
    HistoryRecord, NoteRecord, NullFlag, TicketRecord, UserRecord,
};

use crate::db::has_table;
use crate::db::schema::{self, ToolTable};
use crate::error::Failure;

/// What writing a record does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// A new row.
    Insert,
    /// The existing row takes the archive's values, where they differ.
    Update,
    /// Nothing is written: only whether an update would change the row (for a plan).
    Compare,
}

/// How an existing row of one table is updated: the table's columns (as the schema
/// contract lists them) from `skip` on, bound from `?first` on in that order (`?1` is the
/// row's id), and the row's key.
struct Updated {
    table: &'static str,
    key: &'static str,
    skip: usize,
    first: usize,
    /// Columns holding JSON text, compared as JSON values (key order and spacing aside).
    json: &'static [&'static str],
    /// The update and the comparison, written once (they are the same for every row).
    update: OnceLock<String>,
    differs: OnceLock<String>,
}

impl Updated {
    fn columns(&self) -> &'static [&'static str] {
        schema::APP_TABLES
            .iter()
            .find(|(table, _)| *table == self.table)
            .map_or(&[], |(_, columns)| &columns[self.skip..])
    }

    /// True when every column already holds the value bound for it.
    fn same_sql(&self) -> String {
        self.columns()
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let n = self.first + i;
                if self.json.contains(column) {
                    format!(
                        "{} IS {}",
                        canonical_json(column),
                        canonical_json(&format!("?{n}"))
                    )
                } else {
                    format!("{column} IS ?{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Sets the row's columns, when one of them differs (so an unchanged row counts 0).
    fn update_sql(&self) -> &str {
        self.update.get_or_init(|| self.write_update_sql())
    }

    /// One row when an update would change the row.
    fn differs_sql(&self) -> &str {
        self.differs.get_or_init(|| {
            format!(
                "SELECT 1 FROM {} WHERE {} AND NOT ({})",
                self.table,
                self.key,
                self.same_sql()
            )
        })
    }

    fn write_update_sql(&self) -> String {
        let set = self
            .columns()
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ?{}", self.first + i))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "UPDATE {} SET {set} WHERE {} AND NOT ({})",
            self.table,
            self.key,
            self.same_sql()
        )
    }
}

/// JSON text in a form where equal values are equal text: each leaf's path, type and value,
/// sorted by path. Text that is not JSON stays itself.
fn canonical_json(expr: &str) -> String {
    format!(
        "(CASE WHEN json_valid({expr}) THEN (SELECT group_concat(fullkey || ' ' || type || ' ' || \
         coalesce(quote(atom), ''), char(10)) FROM (SELECT fullkey, type, atom \
         FROM json_tree({expr}) ORDER BY fullkey)) ELSE {expr} END)"
    )
}

/// Users: never the email (identity, `?2`) nor the password hash.
static USERS: Updated = Updated {
    table: "users",
    key: "id = ?1",
    skip: 3,
    first: 3,
    json: &["preferences"],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

static CUSTOM_FIELDS: Updated = Updated {
    table: "custom_fields",
    key: "id = ?1 AND company_id = ?2",
    skip: 2,
    first: 3,
    json: &["options", "validation"],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

static TICKETS: Updated = Updated {
    table: "tickets",
    key: "id = ?1 AND company_id = ?2",
    skip: 2,
    first: 3,
    json: &["custom_field_values"],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

static NOTES: Updated = Updated {
    table: "ticket_notes",
    key: "id = ?1",
    skip: 1,
    first: 2,
    json: &["email_metadata"],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

static HISTORY: Updated = Updated {
    table: "ticket_history",
    key: "id = ?1",
    skip: 1,
    first: 2,
    json: &["metadata"],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

static ATTACHMENTS: Updated = Updated {
    table: "file_attachments",
    key: "id = ?1",
    skip: 1,
    first: 2,
    json: &[],
    update: OnceLock::new(),
    differs: OnceLock::new(),
};

/// Record kinds that are found by archive id (directly or through the id map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ticket,
    Note,
    History,
    Attachment,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ticket => "ticket",
            Kind::Note => "note",
            Kind::History => "history",
            Kind::Attachment => "attachment",
        }
    }

    /// The parent of the row of this kind with id ?1: a ticket's company, or a child's
    /// ticket. (Two single-table lookups: SQLite re-plans a join like this on every run.)
    fn parent_sql(self) -> &'static str {
        match self {
            Kind::Ticket => "SELECT company_id FROM tickets WHERE id = ?1",
            Kind::Note => "SELECT ticket_id FROM ticket_notes WHERE id = ?1",
            Kind::History => "SELECT ticket_id FROM ticket_history WHERE id = ?1",
            Kind::Attachment => "SELECT ticket_id FROM file_attachments WHERE id = ?1",
        }
    }

    /// A row of this kind with id ?1, in any company.
    fn anywhere_sql(self) -> &'static str {
        match self {
            Kind::Ticket => "SELECT 1 FROM tickets WHERE id = ?1",
            Kind::Note => "SELECT 1 FROM ticket_notes WHERE id = ?1",
            Kind::History => "SELECT 1 FROM ticket_history WHERE id = ?1",
            Kind::Attachment => "SELECT 1 FROM file_attachments WHERE id = ?1",
        }
    }
}

/// A user found by email.
#[derive(Debug, Clone)]
pub(crate) struct ExistingUser {
    pub id: String,
    /// Whether the user is already a member of the target company.
    pub is_member: bool,
    /// How many other companies the user belongs to.
    pub other_companies: i64,
}

/// The target company's view of the database during an import.
pub(crate) struct ImportDb<'c> {
    conn: &'c Connection,
    company_id: String,
    /// The company had no tickets when the import began, so no archive record can already
    /// exist in it: identity lookups are skipped (the restore into an empty company).
    started_empty: bool,
    /// Whether the id map may hold entries for the company; when not, lookups skip it.
    map_in_use: Cell<bool>,
}

impl<'c> ImportDb<'c> {
    pub(crate) fn new(conn: &'c Connection, company_id: &str) -> Result<Self> {
        conn.set_prepared_statement_cache_capacity(64);
        let started_empty = !conn
            .prepare_cached("SELECT 1 FROM tickets WHERE company_id = ?1 LIMIT 1")?
            .exists([company_id])?;
        // A database without the id map (one the web app made) has no mappings; an import
        // creates the table before it gets here, a validation leaves it missing.
        let map_in_use = has_table(conn, ToolTable::IdMap)?
            && conn
                .prepare_cached(
                    "SELECT 1 FROM bomizzel_backup_id_map WHERE company_id = ?1 LIMIT 1",
                )?
                .exists([company_id])?;
        Ok(Self {
            conn,
            company_id: company_id.to_owned(),
            started_empty,
            map_in_use: Cell::new(map_in_use),
        })
    }

    fn exists(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool> {
        Ok(self.conn.prepare_cached(sql)?.exists(params)?)
    }

    /// The company's members as (email, user id).
    pub(crate) fn members(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.email, u.id FROM users u
             JOIN user_company_associations a ON a.user_id = u.id
             WHERE a.company_id = ?1",
        )?;
        let rows = stmt
            .query_map([&self.company_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The company's custom fields.
    pub(crate) fn custom_fields(&self) -> Result<Vec<TargetField>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, id, type, options FROM custom_fields WHERE company_id = ?1",
        )?;
        let rows = stmt
            .query_map([&self.company_id], |row| {
                let field_type: String = row.get(2)?;
                let options: Option<String> = row.get(3)?;
                let options = options
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or(Value::Null);
                Ok(TargetField {
                    name: row.get(0)?,
                    id: row.get(1)?,
                    rule: FieldRule::stored(&field_type, &options),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub(crate) fn find_user(&self, email: &str) -> Result<Option<ExistingUser>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT u.id,
                        EXISTS (SELECT 1 FROM user_company_associations a
                                WHERE a.user_id = u.id AND a.company_id = ?2),
                        (SELECT count(*) FROM user_company_associations a
                         WHERE a.user_id = u.id AND a.company_id <> ?2)
                 FROM users u WHERE u.email = ?1 COLLATE NOCASE",
            )?
            .query_row(params![email, self.company_id], |row| {
                Ok(ExistingUser {
                    id: row.get(0)?,
                    is_member: row.get(1)?,
                    other_companies: row.get(2)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn user_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM users WHERE id = ?1", [id])
    }

    /// Writes a row (see `Write`); true when it is (or would be) new or changed.
    fn put(
        &self,
        write: Write,
        insert: &str,
        updated: &Updated,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<bool> {
        Ok(match write {
            Write::Insert => self.conn.prepare_cached(insert)?.execute(params)? > 0,
            Write::Update => {
                self.conn
                    .prepare_cached(updated.update_sql())?
                    .execute(params)?
                    > 0
            }
            Write::Compare => self
                .conn
                .prepare_cached(updated.differs_sql())?
                .exists(params)?,
        })
    }

    /// Inserts a user without a password, or updates that user's profile: never the
    /// email (identity) nor the password.
    pub(crate) fn write_user(&self, id: &str, user: &UserRecord, write: Write) -> Result<bool> {
        let insert = "INSERT INTO users (id, email, password_hash, first_name, last_name, phone,
                    role, is_active, email_verified, preferences, created_at, updated_at)
             VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
        self.put(
            write,
            insert,
            &USERS,
            params![
                id,
                user.email,
                user.first_name,
                user.last_name,
                user.phone,
                user.role.value.as_str(),
                NullFlag::UserActive.read(user.is_active),
                NullFlag::UserEmailVerified.read(user.email_verified),
                json_text(&user.preferences).unwrap_or_else(|| "{}".into()),
                user.created_at,
                user.updated_at,
            ],
        )
    }

    /// Whether setting this role would change the user's membership (or make one).
    pub(crate) fn membership_differs(&self, user_id: &str, role: CompanyRole) -> Result<bool> {
        let current: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT role FROM user_company_associations WHERE user_id = ?1 AND company_id = ?2",
            )?
            .query_row(params![user_id, self.company_id], |row| row.get(0))
            .optional()?;
        Ok(current.as_deref() != Some(role.as_str()))
    }

    /// Adds the user to the company, or sets the role of an existing membership; true when
    /// that changed anything.
    pub(crate) fn set_membership(
        &self,
        user_id: &str,
        role: CompanyRole,
        now: &str,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (user_id, company_id) DO UPDATE
                 SET role = excluded.role, updated_at = excluded.updated_at
                 WHERE role <> excluded.role",
            )?
            .execute(params![user_id, self.company_id, role.as_str(), now])?
            > 0)
    }

    pub(crate) fn field_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM custom_fields WHERE id = ?1", [id])
    }

    /// Inserts a field, or updates that field of the company.
    pub(crate) fn write_field(
        &self,
        id: &str,
        field: &CustomFieldRecord,
        field_type: FieldType,
        write: Write,
    ) -> Result<bool> {
        let insert = "INSERT INTO custom_fields (id, company_id, name, label, type, is_required,
                    options, validation, display_order, is_active, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
        self.put(
            write,
            insert,
            &CUSTOM_FIELDS,
            params![
                id,
                self.company_id,
                field.name,
                field.label.as_deref().unwrap_or(&field.name),
                field_type.as_str(),
                NullFlag::FieldRequired.read(field.is_required),
                json_text(&field.options),
                json_text(&field.validation),
                field.display_order.unwrap_or(0),
                NullFlag::FieldActive.read(field.is_active),
                field.created_at,
                field.updated_at.as_deref().unwrap_or(&field.created_at),
            ],
        )
    }

    /// The existing row of the company that an archive record is (identity), if any.
    /// In a company that started empty there is none: every record is new, and archive ids
    /// are unique, so nothing this import wrote can be met again as a record.
    pub(crate) fn find_existing(&self, kind: Kind, archive_id: &str) -> Result<Option<String>> {
        self.find_existing_under(kind, archive_id, None)
    }

    /// `find_existing` for a child record, given the company's ticket it belongs under,
    /// which saves a query when the child is found there.
    pub(crate) fn find_existing_under(
        &self,
        kind: Kind,
        archive_id: &str,
        ticket: Option<&str>,
    ) -> Result<Option<String>> {
        if self.started_empty {
            return Ok(None);
        }
        self.resolve_under(kind, archive_id, ticket)
    }

    /// Whether the row of this kind with this id belongs to the target company; a child
    /// of `known_ticket` (a ticket of the company) does without the second lookup.
    fn in_company(&self, kind: Kind, id: &str, known_ticket: Option<&str>) -> Result<bool> {
        let parent = |kind: Kind, id: &str| -> Result<Option<String>> {
            Ok(self
                .conn
                .prepare_cached(kind.parent_sql())?
                .query_row([id], |row| row.get(0))
                .optional()?)
        };
        let company = match kind {
            Kind::Ticket => parent(Kind::Ticket, id)?,
            _ => match parent(kind, id)? {
                Some(ticket) if known_ticket == Some(ticket.as_str()) => return Ok(true),
                Some(ticket) => parent(Kind::Ticket, &ticket)?,
                None => None,
            },
        };
        Ok(company.as_deref() == Some(self.company_id.as_str()))
    }

    /// The ids of one ticket's notes and history entries, in one query: an existing
    /// ticket's children are then recognised without a query each.
    pub(crate) fn children_of(&self, ticket_id: &str) -> Result<TicketChildren> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 0, id FROM ticket_notes WHERE ticket_id = ?1
             UNION ALL
             SELECT 1, id FROM ticket_history WHERE ticket_id = ?1",
        )?;
        let mut children = TicketChildren::default();
        let mut rows = stmt.query([ticket_id])?;
        while let Some(row) = rows.next()? {
            let list = match row.get::<_, i64>(0)? {
                0 => &mut children.notes,
                _ => &mut children.history,
            };
            list.insert(row.get(1)?);
        }
        Ok(children)
    }

    /// Like `find_existing` for a note or history entry, given the ids its ticket already
    /// has (`children_of`): a child found there needs no query.
    pub(crate) fn find_existing_child(
        &self,
        kind: Kind,
        archive_id: &str,
        siblings: &HashSet<String>,
    ) -> Result<Option<String>> {
        if !self.map_in_use.get() && siblings.contains(archive_id) {
            return Ok(Some(archive_id.to_owned()));
        }
        self.find_existing(kind, archive_id)
    }

    /// Where an archive id lives in the target company: the id map's entry when it still
    /// points at a row of the company, else the id itself when it is the company's.
    pub(crate) fn resolve(&self, kind: Kind, archive_id: &str) -> Result<Option<String>> {
        self.resolve_under(kind, archive_id, None)
    }

    /// `resolve` for a child record, given the company's ticket it belongs under.
    pub(crate) fn resolve_under(
        &self,
        kind: Kind,
        archive_id: &str,
        ticket: Option<&str>,
    ) -> Result<Option<String>> {
        let mapped: Option<String> = if self.map_in_use.get() {
            self.conn
                .prepare_cached(
                    "SELECT local_id FROM bomizzel_backup_id_map
                     WHERE company_id = ?1 AND kind = ?2 AND archive_id = ?3",
                )?
                .query_row(params![self.company_id, kind.name(), archive_id], |row| {
                    row.get(0)
                })
                .optional()?
        } else {
            None
        };
        for candidate in mapped.as_deref().into_iter().chain([archive_id]) {
            if self.in_company(kind, candidate, ticket)? {
                return Ok(Some(candidate.to_owned()));
            }
        }
        Ok(None)
    }

    /// The id a new record gets: its archive id when free anywhere in the database, else a
    /// fresh one, recorded in the id map.
    ///
    /// In a company that started empty, an id this import already claimed (in the company,
    /// or in the id map since `now`) can only be an archive that holds the same record
    /// twice: that is refused here, so such imports need not remember every id they read.
    pub(crate) fn claim_id(&self, kind: Kind, archive_id: &str, now: &str) -> Result<String> {
        if !self.exists(kind.anywhere_sql(), [archive_id])? {
            return Ok(archive_id.to_owned());
        }
        if self.started_empty
            && (self.in_company(kind, archive_id, None)?
                || self.claimed_since(kind, archive_id, now)?)
        {
            return Err(Failure::InvalidArchive(format!(
                "the archive holds {} {archive_id} more than once",
                kind.name()
            ))
            .into());
        }
        let fresh = uuid::Uuid::new_v4().to_string();
        self.map_in_use.set(true);
        self.conn
            .prepare_cached(
                "INSERT INTO bomizzel_backup_id_map (company_id, kind, archive_id, local_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (company_id, kind, archive_id)
                 DO UPDATE SET local_id = excluded.local_id, created_at = excluded.created_at",
            )?
            .execute(params![self.company_id, kind.name(), archive_id, fresh, now])?;
        Ok(fresh)
    }

    /// Whether the id map got this archive id at `now` (by this import).
    fn claimed_since(&self, kind: Kind, archive_id: &str, now: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM bomizzel_backup_id_map
             WHERE company_id = ?1 AND kind = ?2 AND archive_id = ?3 AND created_at = ?4",
            params![self.company_id, kind.name(), archive_id, now],
        )
    }

    /// Whether the company had no tickets when the import began.
    pub(crate) fn started_empty(&self) -> bool {
        self.started_empty
    }

    /// Inserts a ticket, or updates that ticket of the company.
    pub(crate) fn write_ticket(&self, row: &TicketRow<'_>, write: Write) -> Result<bool> {
        let insert = "INSERT INTO tickets (id, company_id, title, description, status, priority,
                    category, submitter_id, assigned_to_id, custom_field_values, created_at,
                    updated_at, resolved_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
        let t = row.ticket;
        self.put(
            write,
            insert,
            &TICKETS,
            params![
                row.id,
                self.company_id,
                t.title,
                t.description,
                t.status,
                t.priority.value.as_str(),
                t.category,
                row.submitter_id,
                row.assignee_id,
                row.custom_field_values,
                t.created_at,
                t.updated_at,
                t.resolved_at,
                t.closed_at,
            ],
        )
    }

    /// Inserts a note (`row`'s person is its author), or updates that note.
    pub(crate) fn write_note(
        &self,
        row: &ChildRow<'_>,
        note: &NoteRecord,
        write: Write,
    ) -> Result<bool> {
        let insert = "INSERT INTO ticket_notes (id, ticket_id, author_id, content, is_internal,
                    is_email_generated, email_metadata, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
        self.put(
            write,
            insert,
            &NOTES,
            params![
                row.id,
                row.ticket_id,
                row.person_id,
                note.content,
                NullFlag::NoteInternal.read(note.is_internal),
                note.is_email_generated,
                json_text(&note.email_metadata),
                note.created_at,
                note.updated_at.as_deref().unwrap_or(&note.created_at),
            ],
        )
    }

    /// Inserts a history entry (`row`'s person is its user), or updates that entry.
    pub(crate) fn write_history(
        &self,
        row: &ChildRow<'_>,
        entry: &HistoryRecord,
        write: Write,
    ) -> Result<bool> {
        let insert = "INSERT INTO ticket_history (id, ticket_id, user_id, action, field_name,
                    old_value, new_value, metadata, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
        self.put(
            write,
            insert,
            &HISTORY,
            params![
                row.id,
                row.ticket_id,
                row.person_id,
                entry.action,
                entry.field_name,
                entry.old_value,
                entry.new_value,
                json_text(&entry.metadata),
                entry.created_at,
            ],
        )
    }

    pub(crate) fn write_attachment(&self, row: &AttachmentRow<'_>, write: Write) -> Result<bool> {
        let insert = "INSERT INTO file_attachments (id, ticket_id, note_id, file_name,
                    original_name, file_size, mime_type, uploaded_by_id, storage_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
        let a = row.attachment;
        self.put(
            write,
            insert,
            &ATTACHMENTS,
            params![
                row.id,
                row.ticket_id,
                row.note_id,
                a.file_name,
                row.original_name,
                a.file_size,
                a.file_type,
                row.uploader_id,
                a.file_path,
                a.uploaded_at,
            ],
        )
    }
}

/// A custom field of the target company.
#[derive(Debug)]
pub(crate) struct TargetField {
    pub name: String,
    pub id: String,
    /// What its values may be; `None` when the archive format cannot say.
    pub rule: Option<FieldRule>,
}

/// The ids of an existing ticket's notes and history entries.
#[derive(Debug, Default)]
pub(crate) struct TicketChildren {
    pub notes: HashSet<String>,
    pub history: HashSet<String>,
}

/// A ticket with its references resolved to the target company.
pub(crate) struct TicketRow<'a> {
    pub id: &'a str,
    pub ticket: &'a TicketRecord,
    pub submitter_id: Option<&'a str>,
    pub assignee_id: Option<&'a str>,
    /// The values as JSON text keyed by the target's field ids.
    pub custom_field_values: String,
}

/// A note or history entry with its references resolved to the target company.
pub(crate) struct ChildRow<'a> {
    pub id: &'a str,
    pub ticket_id: &'a str,
    /// A note's author, a history entry's user.
    pub person_id: Option<&'a str>,
}

/// An attachment with its references resolved to the target company.
pub(crate) struct AttachmentRow<'a> {
    pub id: &'a str,
    pub attachment: &'a AttachmentRecord,
    /// The archive's originalName, or (in a web app file that leaves it out) the fileName.
    pub original_name: Option<&'a str>,
    pub ticket_id: &'a str,
    pub note_id: Option<&'a str>,
    pub uploader_id: Option<&'a str>,
}

/// A JSON value as column text; `null` is SQL NULL.
fn json_text(value: &Value) -> Option<String> {
    (!value.is_null()).then(|| value.to_string())
}

/// Creates the archive's company on a database that lacks it (`--create-company`), as the
/// archive describes it.
pub(crate) fn create_company(conn: &Connection, company: &CompanyRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            company.id,
            company.name,
            company.domain,
            company.description,
            company.is_active,
            company.created_at,
            company.updated_at
        ],
    )?;
    Ok(())
}
