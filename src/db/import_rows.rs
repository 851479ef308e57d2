//! The database side of an import: finding what already exists in the target company and
//! writing archive records into it. Every statement is prepared once and cached.
//!
//! Nothing here deletes, and nothing touches a row of another company: updates carry the
//! company in their `WHERE` clause.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::archive::records::{
    AttachmentRecord, CompanyRecord, CompanyRole, CustomFieldRecord, FieldRule, FieldType,
    HistoryRecord, NoteRecord, NullFlag, TicketRecord, UserRecord,
};

use crate::db::has_table;
use crate::db::schema::{self, ToolTable};
use crate::error::Failure;

/// What a `put` did: wrote (or, comparing, would write) the row, or found it the same, or
/// held it to be sent with others, to be counted by `ImportTarget::later`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Changed,
    Unchanged,
    Later,
}

impl Written {
    /// Whether the row changed, for a row a target may not hold for later (a user's).
    fn now(self) -> Result<bool> {
        match self {
            Written::Changed => Ok(true),
            Written::Unchanged => Ok(false),
            Written::Later => Err(anyhow!("a user's row was held to be written later")),
        }
    }
}

impl From<bool> for Written {
    fn from(changed: bool) -> Self {
        match changed {
            true => Written::Changed,
            false => Written::Unchanged,
        }
    }
}

/// Rows a target sent later (`Written::Later`): how many changed (or would) and how many
/// were the same.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counted {
    pub changed: u64,
    pub same: u64,
}

/// What writing a record does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Write {
    /// A new row.
    Insert,
    /// The existing row takes the archive's values, where they differ.
    Update,
    /// Nothing is written: only whether an update would change the row (for a plan).
    Compare,
}

/// How the rows of one table are written: the table's columns (as the schema contract
/// lists them), bound in that order, `$1` (or `?1`) first. The first `key` columns find an
/// existing row; the update sets the columns from `skip` on, which are bound from
/// `skip_to` + 1 on; the columns between `skip_to` and `skip` are not written (a user's
/// password) and a new row has them NULL. The same values are bound to the insert, the
/// update and the comparison.
pub(crate) struct Updated {
    pub table: &'static str,
    key: usize,
    skip: usize,
    skip_to: usize,
    /// Columns holding JSON, compared as JSON values (key order and spacing aside).
    json: &'static [&'static str],
    /// The statements in SQLite's words, written once (they are the same for every row).
    insert: OnceLock<String>,
    update: OnceLock<String>,
    differs: OnceLock<String>,
}

/// A backend's words for the statements of `Updated`.
pub(crate) struct Dialect {
    /// The `n`th parameter as a column of this kind (JSON or not) takes it.
    pub param: fn(usize, bool) -> String,
    /// True when `column` (JSON or not) holds the value `param` binds.
    pub same: fn(&str, &str, bool) -> String,
}

/// SQLite's: `?n`, JSON text compared in a canonical form.
const SQLITE: Dialect = Dialect {
    param: |n, _| format!("?{n}"),
    same: |column, param, json| match json {
        true => format!("{} IS {}", canonical_json(column), canonical_json(param)),
        false => format!("{column} IS {param}"),
    },
};

impl Updated {
    const fn new(
        table: &'static str,
        key: usize,
        skip: usize,
        skip_to: usize,
        json: &'static [&'static str],
    ) -> Self {
        Self {
            table,
            key,
            skip,
            skip_to,
            json,
            insert: OnceLock::new(),
            update: OnceLock::new(),
            differs: OnceLock::new(),
        }
    }

    fn all_columns(&self) -> &'static [&'static str] {
        schema::APP_TABLES
            .iter()
            .find(|(table, _)| *table == self.table)
            .map_or(&[], |(_, columns)| columns)
    }

    /// The columns a new row's values are bound to, in their order (a column not written
    /// is left out: it keeps its default, NULL).
    pub(crate) fn bound_columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        let columns = self.all_columns();
        let (written, rest) = columns.split_at(columns.len().min(self.skip_to));
        written
            .iter()
            .chain(&rest[rest.len().min(self.skip - written.len())..])
            .copied()
    }

    /// The updated columns with the number of the parameter each is bound from.
    fn updated(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        let columns = self.all_columns();
        let skipped = columns.len().min(self.skip);
        columns[skipped..]
            .iter()
            .enumerate()
            .map(|(i, column)| (self.skip_to + 1 + i, *column))
    }

    fn param(&self, dialect: &Dialect, n: usize, column: &str) -> String {
        (dialect.param)(n, self.json.contains(&column))
    }

    /// The row's key: its first `key` columns equal to their parameters.
    fn key_sql(&self, dialect: &Dialect) -> String {
        self.all_columns()
            .iter()
            .take(self.key)
            .enumerate()
            .map(|(i, column)| format!("{column} = {}", self.param(dialect, i + 1, column)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// True when every updated column already holds the value bound for it.
    fn same_sql(&self, dialect: &Dialect) -> String {
        self.updated()
            .map(|(n, column)| {
                let json = self.json.contains(&column);
                (dialect.same)(column, &self.param(dialect, n, column), json)
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// A new row: every column, those not written NULL.
    pub(crate) fn insert_sql_in(&self, dialect: &Dialect) -> String {
        let columns = self.all_columns();
        let values: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| match i {
                i if i < self.skip_to => self.param(dialect, i + 1, column),
                i if i < self.skip => "NULL".to_owned(),
                i => self.param(dialect, i - self.skip + self.skip_to + 1, column),
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table,
            columns.join(", "),
            values.join(", ")
        )
    }

    /// Sets the row's columns, when one of them differs (so an unchanged row counts 0).
    /// With `source`, the rows of a `FROM` item (`dialect` naming its columns as the
    /// parameters) are each set so.
    pub(crate) fn update_sql_in(&self, dialect: &Dialect, source: Option<&str>) -> String {
        let set = self
            .updated()
            .map(|(n, column)| format!("{column} = {}", self.param(dialect, n, column)))
            .collect::<Vec<_>>()
            .join(", ");
        let from = source.map(|source| format!(" FROM {source}"));
        format!(
            "UPDATE {} SET {set}{} WHERE {} AND NOT ({})",
            self.table,
            from.unwrap_or_default(),
            self.key_sql(dialect),
            self.same_sql(dialect)
        )
    }

    /// One row for each row an update would change (with `source` as for `update_sql_in`).
    pub(crate) fn differs_sql_in(&self, dialect: &Dialect, source: Option<&str>) -> String {
        let from = source.map(|source| format!(", {source}"));
        format!(
            "SELECT 1 FROM {}{} WHERE {} AND NOT ({})",
            self.table,
            from.unwrap_or_default(),
            self.key_sql(dialect),
            self.same_sql(dialect)
        )
    }

    /// The statement that writes a row so, in SQLite's words.
    fn sqlite_sql(&self, write: Write) -> &str {
        match write {
            Write::Insert => self.insert.get_or_init(|| self.insert_sql_in(&SQLITE)),
            Write::Update => self
                .update
                .get_or_init(|| self.update_sql_in(&SQLITE, None)),
            Write::Compare => (self.differs).get_or_init(|| self.differs_sql_in(&SQLITE, None)),
        }
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
pub(crate) static USERS: Updated = Updated::new("users", 1, 3, 2, &["preferences"]);

pub(crate) static CUSTOM_FIELDS: Updated =
    Updated::new("custom_fields", 2, 2, 2, &["options", "validation"]);

pub(crate) static TICKETS: Updated = Updated::new("tickets", 2, 2, 2, &["custom_field_values"]);

pub(crate) static NOTES: Updated = Updated::new("ticket_notes", 1, 1, 1, &["email_metadata"]);

pub(crate) static HISTORY: Updated = Updated::new("ticket_history", 1, 1, 1, &["metadata"]);

pub(crate) static ATTACHMENTS: Updated = Updated::new("file_attachments", 1, 1, 1, &[]);

/// One value bound to a row's statement, borrowed from the record: what a backend needs to
/// know of its type to bind it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound<'a> {
    Text(Option<&'a str>),
    /// JSON text (SQLite keeps it as text, PostgreSQL as `jsonb`).
    Json(Option<&'a str>),
    Int(i64),
    Bool(bool),
}

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Bound::Text(text) | Bound::Json(text) => text.to_sql(),
            Bound::Int(n) => n.to_sql(),
            Bound::Bool(b) => b.to_sql(),
        }
    }
}

/// Record kinds that are found by archive id (directly or through the id map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Ticket,
    Note,
    History,
    Attachment,
}

impl Kind {
    /// The kinds of rows under a company's tickets, tickets first.
    pub(crate) const ALL: [Kind; 4] = [Kind::Ticket, Kind::Note, Kind::History, Kind::Attachment];

    /// The table of this kind's rows.
    pub(crate) fn table(self) -> &'static Updated {
        match self {
            Kind::Ticket => &TICKETS,
            Kind::Note => &NOTES,
            Kind::History => &HISTORY,
            Kind::Attachment => &ATTACHMENTS,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
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
}

/// An entry of the id map: which company's record of which kind, by its archive id.
pub(crate) struct MapKey<'a> {
    pub company_id: &'a str,
    pub kind: Kind,
    pub archive_id: &'a str,
}

/// The id map's statements. Parameters: the company, the kind, the archive id, then for
/// `map` the local id and the time, for `claimed` the time.
pub(crate) struct IdMapSql {
    pub mapped: String,
    pub map: String,
    pub claimed: String,
}

impl IdMapSql {
    /// The statements with `param(n)` for the `n`th parameter.
    pub(crate) fn new(param: fn(usize) -> String) -> Self {
        let key = format!(
            "company_id = {} AND kind = {} AND archive_id = {}",
            param(1),
            param(2),
            param(3)
        );
        let values = (1..=5).map(param).collect::<Vec<_>>().join(", ");
        Self {
            mapped: format!("SELECT local_id FROM bomizzel_backup_id_map WHERE {key}"),
            map: Self::map_from(&format!("VALUES ({values})")),
            claimed: format!(
                "SELECT 1 FROM bomizzel_backup_id_map WHERE {key} AND created_at = {}",
                param(4)
            ),
        }
    }

    /// Records (or replaces) the entries `source` gives as (company, kind, archive id,
    /// local id, time) rows.
    pub(crate) fn map_from(source: &str) -> String {
        format!(
            "INSERT INTO bomizzel_backup_id_map (company_id, kind, archive_id, local_id, created_at)
             {source}
             ON CONFLICT (company_id, kind, archive_id)
             DO UPDATE SET local_id = excluded.local_id, created_at = excluded.created_at"
        )
    }
}

/// The id map's statements in SQLite's words, written once.
fn sqlite_id_map() -> &'static IdMapSql {
    static SQL: OnceLock<IdMapSql> = OnceLock::new();
    SQL.get_or_init(|| IdMapSql::new(|n| format!("?{n}")))
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

/// What an import asks of the database it writes to, in that backend's words: one
/// implementation per backend (`SqliteTarget`, `pg`'s), each inside the import's
/// transaction. `ImportDb` holds the logic, once, over these.
pub(crate) trait ImportTarget {
    /// Whether the company has a ticket.
    fn has_tickets(&self, company_id: &str) -> Result<bool>;
    /// Whether the id map exists and holds entries for the company.
    fn id_map_in_use(&self, company_id: &str) -> Result<bool>;
    /// The company's members as (email, user id).
    fn members(&self, company_id: &str) -> Result<Vec<(String, String)>>;
    /// The company's custom fields.
    fn custom_fields(&self, company_id: &str) -> Result<Vec<TargetField>>;
    /// A user by email (ASCII case aside), as seen from the company.
    fn find_user(&self, email: &str, company_id: &str) -> Result<Option<ExistingUser>>;
    fn user_id_taken(&self, id: &str) -> Result<bool>;
    /// `find_user` for many emails (a batch of `LOOKS_AHEAD`): the users found, each with
    /// its email folded to ASCII lowercase. A target whose `find_user` takes a lock before
    /// it finds none (PostgreSQL's `EMAIL_LOCK`) takes those of the emails not found here,
    /// and looks again.
    fn find_users(&self, emails: &[&str], company_id: &str) -> Result<Vec<(String, ExistingUser)>> {
        let mut found = Vec::new();
        for email in emails {
            if let Some(user) = self.find_user(email, company_id)? {
                found.push((email.to_ascii_lowercase(), user));
            }
        }
        Ok(found)
    }
    /// `user_id_taken` for many ids: those taken.
    fn user_ids_taken(&self, ids: &[&str]) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for id in ids {
            if self.user_id_taken(id)? {
                taken.push((*id).to_owned());
            }
        }
        Ok(taken)
    }
    fn field_id_taken(&self, id: &str) -> Result<bool>;
    /// A ticket's company, or a child's ticket (`Kind::parent_sql`).
    fn parent(&self, kind: Kind, id: &str) -> Result<Option<String>>;
    /// Whether `parents` answers many ids for much less than a query each (a server, where
    /// each query is a round trip): the import then takes records in batches and looks
    /// their rows up together. SQLite answers each lookup in-process as fast.
    const LOOKS_AHEAD: bool = false;
    /// Whether its texts (`text` and JSON columns) can hold U+0000. PostgreSQL's cannot:
    /// the validator then refuses a record with one (`Validator::refusing_nul`).
    const STORES_NUL: bool = true;
    /// `parent` for many ids: the rows of this kind among `ids`, each as (id, parent). Ids
    /// that are not found are left out.
    fn parents(&self, kind: Kind, ids: &[&str]) -> Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        for id in ids {
            if let Some(parent) = self.parent(kind, id)? {
                found.push(((*id).to_owned(), parent));
            }
        }
        Ok(found)
    }
    /// The rows of this kind (notes, history entries or attachments) under any of these
    /// tickets, each as (id, ticket id), for `look_ahead`: a server reads a ticket's
    /// children off its ticket index for much less than it looks up each id. A target may
    /// answer none: the ids are then looked up one by one (`parents`).
    fn rows_under(&self, _kind: Kind, _tickets: &[&str]) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
    /// Tickets (with their notes and history) are about to be written into a company that
    /// started empty. A target may then load them in bulk, as a restore into an empty
    /// database does: when no ticket, note, history entry or attachment exists anywhere and
    /// none can be added by others until the import ends, it may set the tables' keys,
    /// indexes and foreign keys aside and put them back once the rows are in (before
    /// anything else is asked, and before the commit), checking every row at once. True
    /// when it does: every row of those tables is then the import's own, so the look-ahead
    /// need not ask (an id met twice is refused when the keys come back), and the
    /// attachments' references are checked together (`stray_reference`).
    fn bulk_tickets(&self) -> Result<bool> {
        Ok(false)
    }
    /// Users are about to be written. True when the database has none and none can be
    /// added by others until the import ends (a restore into a new database): every user
    /// of the archive is then new, and none needs a lookup. A target may then load them in
    /// bulk, as `bulk_tickets` says.
    fn users_all_new(&self) -> Result<bool> {
        Ok(false)
    }
    /// After a bulk load, whose attachments were written with their references as the
    /// archive has them: one attachment whose ticket or note is not among the rows, as
    /// (attachment id, the kind it names, that id). None when all are there.
    fn stray_reference(&self) -> Result<Option<(String, Kind, String)>> {
        Ok(None)
    }
    /// The ids of one ticket's notes and history entries. By default none are known: each
    /// child is then looked up on its own, which a target that looks ahead answers from
    /// the batch's look-ahead (each child's ticket, and that ticket's company) without the
    /// query per ticket.
    fn children_of(&self, _ticket_id: &str) -> Result<TicketChildren> {
        Ok(TicketChildren::default())
    }
    /// The id map's local id for an archive id.
    fn mapped(&self, key: &MapKey<'_>) -> Result<Option<String>>;
    /// `mapped` for many archive ids of one kind of the company: (archive id, local id) for
    /// those the map has.
    fn mapped_many(
        &self,
        company_id: &str,
        kind: Kind,
        archive_ids: &[&str],
    ) -> Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        for archive_id in archive_ids {
            let key = MapKey {
                company_id,
                kind,
                archive_id,
            };
            if let Some(local_id) = self.mapped(&key)? {
                found.push(((*archive_id).to_owned(), local_id));
            }
        }
        Ok(found)
    }
    /// Records (or replaces) an id map entry.
    fn map_id(&self, key: &MapKey<'_>, local_id: &str, now: &str) -> Result<()>;
    /// Whether the id map got this archive id at `now`.
    fn claimed_since(&self, key: &MapKey<'_>, now: &str) -> Result<bool>;
    /// The user's membership role in the company, if any.
    fn membership_role(&self, user_id: &str, company_id: &str) -> Result<Option<String>>;
    /// Adds the membership or sets its role; true when that changed anything.
    fn set_membership(
        &self,
        user_id: &str,
        company_id: &str,
        role: &str,
        now: &str,
    ) -> Result<bool>;
    /// Writes a row of `table` (see `Write`) with `values` bound in the table's order: it
    /// is (or would be) new or changed, or it is the same; or the target holds it to send
    /// with others, and `later` counts it (only a ticket's, note's, history entry's or
    /// attachment's, whose ids an archive holds once).
    fn put(&self, table: &'static Updated, write: Write, values: &[Bound<'_>]) -> Result<Written>;
    /// Sends what `put` held for later and tells, per table, how many of those rows changed
    /// (or would) and how many were the same, since it was last asked.
    fn later(&self) -> Result<Vec<(Kind, Counted)>> {
        Ok(Vec::new())
    }
    /// Creates the archive's company (`--create-company`).
    fn create_company(&self, company: &CompanyRecord) -> Result<()>;
    /// Writes the rows `put` has held back, if the backend holds any (PostgreSQL sends new
    /// rows in batches); the import calls it before it commits.
    fn flush(&self) -> Result<()>;
}

/// The import's work inside its transaction, generic so that each backend's per-record
/// loop is compiled for it (no dispatch per record).
pub(crate) trait ImportWork {
    type Output;
    fn run<T: ImportTarget>(self, target: &T) -> Result<Self::Output>;
}

/// SQLite as an import's target: a connection in the import's transaction, every
/// statement prepared once and cached.
pub(crate) struct SqliteTarget<'c>(pub &'c Connection);

impl<'c> SqliteTarget<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(64);
        Self(conn)
    }

    fn exists(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool> {
        Ok(self.0.prepare_cached(sql)?.exists(params)?)
    }

    fn text(&self, sql: &str, params: impl rusqlite::Params) -> Result<Option<String>> {
        Ok(self
            .0
            .prepare_cached(sql)?
            .query_row(params, |row| row.get(0))
            .optional()?)
    }
}

impl ImportTarget for SqliteTarget<'_> {
    fn has_tickets(&self, company_id: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM tickets WHERE company_id = ?1 LIMIT 1",
            [company_id],
        )
    }

    fn id_map_in_use(&self, company_id: &str) -> Result<bool> {
        // A database without the id map (one the web app made) has no mappings; an import
        // creates the table before it gets here, a validation leaves it missing.
        Ok(has_table(self.0, ToolTable::IdMap)?
            && self.exists(
                "SELECT 1 FROM bomizzel_backup_id_map WHERE company_id = ?1 LIMIT 1",
                [company_id],
            )?)
    }

    fn members(&self, company_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT u.email, u.id FROM users u
             JOIN user_company_associations a ON a.user_id = u.id
             WHERE a.company_id = ?1",
        )?;
        let rows = stmt
            .query_map([company_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn custom_fields(&self, company_id: &str) -> Result<Vec<TargetField>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT name, id, type, options FROM custom_fields WHERE company_id = ?1",
        )?;
        let rows = stmt
            .query_map([company_id], |row| {
                let options: Option<String> = row.get(3)?;
                Ok(TargetField::stored(
                    row.get(0)?,
                    row.get(1)?,
                    &row.get::<_, String>(2)?,
                    options.as_deref(),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn find_user(&self, email: &str, company_id: &str) -> Result<Option<ExistingUser>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT u.id,
                        EXISTS (SELECT 1 FROM user_company_associations a
                                WHERE a.user_id = u.id AND a.company_id = ?2),
                        (SELECT count(*) FROM user_company_associations a
                         WHERE a.user_id = u.id AND a.company_id <> ?2)
                 FROM users u WHERE u.email = ?1 COLLATE NOCASE",
            )?
            .query_row(params![email, company_id], |row| {
                Ok(ExistingUser {
                    id: row.get(0)?,
                    is_member: row.get(1)?,
                    other_companies: row.get(2)?,
                })
            })
            .optional()?)
    }

    fn user_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM users WHERE id = ?1", [id])
    }

    fn field_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM custom_fields WHERE id = ?1", [id])
    }

    fn parent(&self, kind: Kind, id: &str) -> Result<Option<String>> {
        self.text(kind.parent_sql(), [id])
    }

    fn children_of(&self, ticket_id: &str) -> Result<TicketChildren> {
        let mut stmt = self.0.prepare_cached(
            "SELECT 0, id FROM ticket_notes WHERE ticket_id = ?1
             UNION ALL
             SELECT 1, id FROM ticket_history WHERE ticket_id = ?1",
        )?;
        let mut children = TicketChildren::default();
        let mut rows = stmt.query([ticket_id])?;
        while let Some(row) = rows.next()? {
            children.add(row.get::<_, i64>(0)? == 0, row.get(1)?);
        }
        Ok(children)
    }

    fn mapped(&self, key: &MapKey<'_>) -> Result<Option<String>> {
        let sql = &sqlite_id_map().mapped;
        self.text(
            sql,
            params![key.company_id, key.kind.name(), key.archive_id],
        )
    }

    fn map_id(&self, key: &MapKey<'_>, local_id: &str, now: &str) -> Result<()> {
        let (company_id, kind, archive_id) = (key.company_id, key.kind.name(), key.archive_id);
        self.0
            .prepare_cached(&sqlite_id_map().map)?
            .execute(params![company_id, kind, archive_id, local_id, now])?;
        Ok(())
    }

    fn claimed_since(&self, key: &MapKey<'_>, now: &str) -> Result<bool> {
        let sql = &sqlite_id_map().claimed;
        self.exists(
            sql,
            params![key.company_id, key.kind.name(), key.archive_id, now],
        )
    }

    fn membership_role(&self, user_id: &str, company_id: &str) -> Result<Option<String>> {
        self.text(
            "SELECT role FROM user_company_associations WHERE user_id = ?1 AND company_id = ?2",
            params![user_id, company_id],
        )
    }

    fn set_membership(
        &self,
        user_id: &str,
        company_id: &str,
        role: &str,
        now: &str,
    ) -> Result<bool> {
        Ok(self
            .0
            .prepare_cached(
                "INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (user_id, company_id) DO UPDATE
                 SET role = excluded.role, updated_at = excluded.updated_at
                 WHERE role <> excluded.role",
            )?
            .execute(params![user_id, company_id, role, now])?
            > 0)
    }

    fn put(&self, table: &'static Updated, write: Write, values: &[Bound<'_>]) -> Result<Written> {
        let mut stmt = self.0.prepare_cached(table.sqlite_sql(write))?;
        let values = rusqlite::params_from_iter(values);
        let changed = match write {
            Write::Insert | Write::Update => stmt.execute(values)? > 0,
            Write::Compare => stmt.exists(values)?,
        };
        Ok(changed.into())
    }

    fn create_company(&self, company: &CompanyRecord) -> Result<()> {
        create_company(self.0, company)
    }

    /// SQLite writes each row as `put` is called: nothing is held back.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// What a look-ahead found, per kind: each id asked, with its row's parent when the row
/// exists. Cleared for each batch, its maps keep their room.
#[derive(Default)]
struct Known([foldhash::HashMap<String, Option<String>>; 4]);

impl Known {
    fn of(&mut self, kind: Kind) -> &mut foldhash::HashMap<String, Option<String>> {
        &mut self.0[kind as usize]
    }

    fn get(&self, kind: Kind) -> &foldhash::HashMap<String, Option<String>> {
        &self.0[kind as usize]
    }

    fn clear(&mut self) {
        self.0.iter_mut().for_each(HashMap::clear);
    }
}

/// The target company's view of the database during an import.
pub(crate) struct ImportDb<'c, T> {
    target: &'c T,
    company_id: String,
    /// The company had no tickets when the import began, so no archive record can already
    /// exist in it: identity lookups are skipped (the restore into an empty company).
    started_empty: bool,
    /// Whether the id map may hold entries for the company; when not, lookups skip it.
    map_in_use: Cell<bool>,
    /// What the last `look_ahead` found: `parent` (and so `exists_anywhere`) answers from
    /// it.
    known: RefCell<Known>,
    /// What the last `look_ahead` found in the id map: each archive id asked, with its
    /// local id when the map has one (`mapped` answers from it).
    known_maps: RefCell<Known>,
    /// The batch began with no entry in the id map for the company: `known_maps` holds
    /// every entry there is (those this batch made).
    maps_known: Cell<bool>,
    /// Whether the target loads the tickets in bulk, once asked.
    bulk: Cell<Option<bool>>,
    /// What the last `look_ahead_users` found: each email asked (folded to ASCII lowercase)
    /// with its user if any, each user id asked with whether it is taken. Each answer is
    /// given once: a second lookup (the same user twice, ASCII case aside) asks the target,
    /// which sees what the first one wrote.
    known_users: RefCell<HashMap<String, Option<ExistingUser>>>,
    known_user_ids: RefCell<HashMap<String, bool>>,
    /// Whether the database had no user and no other session can add one (asked once,
    /// `ImportTarget::users_all_new`).
    users_all_new: Cell<Option<bool>>,
    /// The batch is a bulk load's: none of its rows exists (an id met twice is refused when
    /// the target's keys come back).
    all_new: Cell<bool>,
}

impl<'c, T: ImportTarget> ImportDb<'c, T> {
    pub(crate) fn new(target: &'c T, company_id: &str) -> Result<Self> {
        let started_empty = !target.has_tickets(company_id)?;
        let map_in_use = target.id_map_in_use(company_id)?;
        Ok(Self {
            target,
            company_id: company_id.to_owned(),
            started_empty,
            map_in_use: Cell::new(map_in_use),
            known: RefCell::default(),
            known_maps: RefCell::default(),
            maps_known: Cell::new(false),
            bulk: Cell::new(None),
            all_new: Cell::new(false),
            known_users: RefCell::default(),
            known_user_ids: RefCell::default(),
            users_all_new: Cell::new(None),
        })
    }

    /// Looks up the rows of the records about to be imported, a few queries for many
    /// records, so that their lookups need no query each; what an earlier look-ahead found
    /// is forgotten. The asks come in order, tickets first: notes, history entries and
    /// attachments are first fetched under those of the batch's tickets the company has
    /// (the rows of an archive already restored are found so, for a fraction of a lookup
    /// by id each), and only the ids not found there are looked up.
    /// Tickets in a company that started empty are looked up nowhere when the target loads
    /// them in bulk (`ImportTarget::bulk_tickets`), nor the attachments after them: no row
    /// of theirs exists but the import's own.
    pub(crate) fn look_ahead(&self, asks: &[(Kind, Vec<&str>)], tickets: bool) -> Result<()> {
        let bulk = match tickets {
            true => self.bulk_tickets()?,
            false => self.bulk_loaded(),
        };
        self.all_new.set(bulk);
        let mut known = self.known.borrow_mut();
        known.clear();
        if bulk {
            return Ok(());
        }
        let mut maps = self.known_maps.borrow_mut();
        maps.clear();
        // Where it is not, no id can be mapped but by this batch (`claim_id` notes it).
        self.maps_known.set(!self.map_in_use.get());
        let mut company_tickets: Vec<String> = Vec::new();
        for (kind, ids) in asks.iter().filter(|(_, ids)| !ids.is_empty()) {
            // Where the id map is in use, the rows an archive id maps to are asked too.
            let mut locals = Vec::new();
            if self.map_in_use.get() {
                let mapped = maps.of(*kind);
                mapped.extend(ids.iter().map(|id| ((*id).to_owned(), None)));
                for (archive_id, local_id) in
                    self.target.mapped_many(&self.company_id, *kind, ids)?
                {
                    locals.push(local_id.clone());
                    mapped.insert(archive_id, Some(local_id));
                }
            }
            let asked: Vec<&str> = (ids.iter().copied())
                .chain(locals.iter().map(String::as_str))
                .collect();
            let answers = known.of(*kind);
            if !company_tickets.is_empty() {
                let tickets: Vec<&str> = company_tickets.iter().map(String::as_str).collect();
                for (id, ticket) in self.target.rows_under(*kind, &tickets)? {
                    answers.insert(id, Some(ticket));
                }
            }
            // A note's, history entry's or attachment's archive id whose mapped row exists
            // needs no lookup of its own: that row is the record's (`resolve_under` tries
            // it first), so such ids are looked up only when their mapped row was not
            // found. (A ticket's archive id is always looked up: a row found by its archive
            // id may be under it.)
            let mapped = maps.get(*kind);
            let local_of = |id: &str| match kind {
                Kind::Ticket => None,
                _ => mapped.get(id).and_then(Option::as_deref),
            };
            let (later, now): (Vec<&str>, Vec<&str>) =
                asked.iter().partition(|id| local_of(id).is_some());
            self.ask_parents(*kind, answers, now)?;
            let found = |local: &str| matches!(answers.get(local), Some(Some(_)));
            let unfound: Vec<&str> = (later.into_iter())
                .filter(|id| local_of(id).is_none_or(|local| !found(local)))
                .collect();
            self.ask_parents(*kind, answers, unfound)?;
            // A company that started empty has only the import's own rows under its
            // tickets, and they need no finding (a bulk load's indexes are not back yet).
            if *kind == Kind::Ticket && !self.started_empty {
                let ours =
                    |id: &&str| matches!(answers.get(*id), Some(Some(c)) if *c == self.company_id);
                company_tickets = asked.into_iter().filter(ours).map(str::to_owned).collect();
            }
        }
        Ok(())
    }

    /// Looks up the parents of those of `ids` not answered yet, noting the ones not found.
    fn ask_parents(
        &self,
        kind: Kind,
        answers: &mut foldhash::HashMap<String, Option<String>>,
        ids: Vec<&str>,
    ) -> Result<()> {
        let unknown: Vec<&str> = ids
            .into_iter()
            .filter(|id| !answers.contains_key(*id))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        answers.extend(unknown.iter().map(|id| ((*id).to_owned(), None)));
        for (id, parent) in self.target.parents(kind, &unknown)? {
            answers.insert(id, Some(parent));
        }
        Ok(())
    }

    /// Whether this import's tickets went in as a bulk load.
    pub(crate) fn bulk_loaded(&self) -> bool {
        self.bulk.get() == Some(true)
    }

    /// Whether this import's users went in as a bulk load (`ImportTarget::users_all_new`).
    pub(crate) fn users_bulk_loaded(&self) -> bool {
        self.users_all_new.get() == Some(true)
    }

    /// After a bulk load, an attachment whose ticket or note the import did not write
    /// (`ImportTarget::stray_reference`).
    pub(crate) fn stray_reference(&self) -> Result<Option<(String, Kind, String)>> {
        self.target.stray_reference()
    }

    /// Whether the target loads this import's tickets in bulk: asked once, at the first
    /// batch of tickets, and only of a company that started empty.
    fn bulk_tickets(&self) -> Result<bool> {
        if !self.started_empty {
            return Ok(false);
        }
        asked_once(&self.bulk, || self.target.bulk_tickets())
    }

    /// What the last look-ahead found of this row: `Some(None)` when it found no such row.
    fn looked_up(&self, kind: Kind, id: &str) -> Option<Option<String>> {
        if self.all_new.get() {
            return Some(None);
        }
        self.known.borrow().get(kind).get(id).cloned()
    }

    /// A row's parent (`ImportTarget::parent`), from the look-ahead when it asked.
    fn parent(&self, kind: Kind, id: &str) -> Result<Option<String>> {
        match self.looked_up(kind, id) {
            Some(parent) => Ok(parent),
            None => self.target.parent(kind, id),
        }
    }

    /// Whether a row of this kind has this id, in any company (its parent is never NULL).
    fn exists_anywhere(&self, kind: Kind, id: &str) -> Result<bool> {
        Ok(self.parent(kind, id)?.is_some())
    }

    /// The company's members as (email, user id).
    pub(crate) fn members(&self) -> Result<Vec<(String, String)>> {
        self.target.members(&self.company_id)
    }

    /// The company's custom fields.
    pub(crate) fn custom_fields(&self) -> Result<Vec<TargetField>> {
        self.target.custom_fields(&self.company_id)
    }

    /// Looks up the users of a batch together (`look_ahead` for users): by email, and
    /// whether their archive ids are taken; where the database has no user
    /// (`ImportTarget::users_all_new`), nothing is asked.
    pub(crate) fn look_ahead_users(&self, emails: &[&str], ids: &[&str]) -> Result<()> {
        let all_new = asked_once(&self.users_all_new, || self.target.users_all_new())?;
        let mut known = self.known_users.borrow_mut();
        known.clear();
        known.extend(
            emails
                .iter()
                .map(|email| (email.to_ascii_lowercase(), None)),
        );
        let mut known_ids = self.known_user_ids.borrow_mut();
        known_ids.clear();
        known_ids.extend(ids.iter().map(|id| ((*id).to_owned(), false)));
        if all_new {
            return Ok(());
        }
        for (email, user) in self.target.find_users(emails, &self.company_id)? {
            known.insert(email, Some(user));
        }
        for id in self.target.user_ids_taken(ids)? {
            known_ids.insert(id, true);
        }
        Ok(())
    }

    pub(crate) fn find_user(&self, email: &str) -> Result<Option<ExistingUser>> {
        let known = self
            .known_users
            .borrow_mut()
            .remove(&email.to_ascii_lowercase());
        match known {
            Some(user) => Ok(user),
            None => self.target.find_user(email, &self.company_id),
        }
    }

    pub(crate) fn user_id_taken(&self, id: &str) -> Result<bool> {
        let known = self.known_user_ids.borrow_mut().remove(id);
        match known {
            Some(taken) => Ok(taken),
            None => self.target.user_id_taken(id),
        }
    }

    /// Inserts a user without a password, or updates that user's profile: never the
    /// email (identity) nor the password.
    pub(crate) fn write_user(&self, id: &str, user: &UserRecord, write: Write) -> Result<bool> {
        let preferences = json_text(&user.preferences);
        self.target
            .put(
                &USERS,
                write,
                &[
                    Bound::Text(Some(id)),
                    Bound::Text(Some(&user.email)),
                    Bound::Text(user.first_name.as_deref()),
                    Bound::Text(user.last_name.as_deref()),
                    Bound::Text(user.phone.as_deref()),
                    Bound::Text(Some(user.role.value.as_str())),
                    Bound::Bool(NullFlag::UserActive.read(user.is_active)),
                    Bound::Bool(NullFlag::UserEmailVerified.read(user.email_verified)),
                    Bound::Json(Some(preferences.as_deref().unwrap_or("{}"))),
                    Bound::Text(Some(&user.created_at)),
                    Bound::Text(Some(&user.updated_at)),
                ],
            )?
            .now()
    }

    /// What the target wrote later (`Written::Later`), counted per table (`ImportTarget::later`).
    pub(crate) fn later(&self) -> Result<Vec<(Kind, Counted)>> {
        self.target.later()
    }

    /// Whether setting this role would change the user's membership (or make one).
    pub(crate) fn membership_differs(&self, user_id: &str, role: CompanyRole) -> Result<bool> {
        let current = self.target.membership_role(user_id, &self.company_id)?;
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
        self.target
            .set_membership(user_id, &self.company_id, role.as_str(), now)
    }

    pub(crate) fn field_id_taken(&self, id: &str) -> Result<bool> {
        self.target.field_id_taken(id)
    }

    /// Inserts a field, or updates that field of the company.
    pub(crate) fn write_field(
        &self,
        id: &str,
        field: &CustomFieldRecord,
        field_type: FieldType,
        write: Write,
    ) -> Result<Written> {
        let options = json_text(&field.options);
        let validation = json_text(&field.validation);
        self.target.put(
            &CUSTOM_FIELDS,
            write,
            &[
                Bound::Text(Some(id)),
                Bound::Text(Some(&self.company_id)),
                Bound::Text(Some(&field.name)),
                Bound::Text(Some(field.label.as_deref().unwrap_or(&field.name))),
                Bound::Text(Some(field_type.as_str())),
                Bound::Bool(NullFlag::FieldRequired.read(field.is_required)),
                Bound::Json(options.as_deref()),
                Bound::Json(validation.as_deref()),
                Bound::Int(field.display_order.unwrap_or(0)),
                Bound::Bool(NullFlag::FieldActive.read(field.is_active)),
                Bound::Text(Some(&field.created_at)),
                Bound::Text(Some(
                    field.updated_at.as_deref().unwrap_or(&field.created_at),
                )),
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
        let company = match kind {
            Kind::Ticket => self.parent(Kind::Ticket, id)?,
            _ => match self.parent(kind, id)? {
                Some(ticket) if known_ticket == Some(ticket.as_str()) => return Ok(true),
                Some(ticket) => self.parent(Kind::Ticket, &ticket)?,
                None => None,
            },
        };
        Ok(company.as_deref() == Some(self.company_id.as_str()))
    }

    /// The ids of one ticket's notes and history entries, in one query: an existing
    /// ticket's children are then recognised without a query each.
    pub(crate) fn children_of(&self, ticket_id: &str) -> Result<TicketChildren> {
        self.target.children_of(ticket_id)
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
        let mapped = self.mapped(kind, archive_id)?;
        for candidate in mapped.as_deref().into_iter().chain([archive_id]) {
            if self.in_company(kind, candidate, ticket)? {
                return Ok(Some(candidate.to_owned()));
            }
        }
        Ok(None)
    }

    /// The id map's local id for an archive id of the company, from the look-ahead when it
    /// asked; none when the map is not in use.
    fn mapped(&self, kind: Kind, archive_id: &str) -> Result<Option<String>> {
        if !self.map_in_use.get() {
            return Ok(None);
        }
        if let Some(answer) = self.known_maps.borrow().get(kind).get(archive_id) {
            return Ok(answer.clone());
        }
        if self.maps_known.get() {
            return Ok(None);
        }
        self.target.mapped(&self.map_key(kind, archive_id))
    }

    /// The id a new record gets: its archive id when free anywhere in the database, else a
    /// fresh one, recorded in the id map.
    ///
    /// In a company that started empty, an id this import already claimed (in the company,
    /// or in the id map since `now`) can only be an archive that holds the same record
    /// twice: that is refused here, so such imports need not remember every id they read.
    pub(crate) fn claim_id(&self, kind: Kind, archive_id: &str, now: &str) -> Result<String> {
        if !self.exists_anywhere(kind, archive_id)? {
            // The row is about to exist: the look-ahead's answer no longer holds.
            self.known.borrow_mut().of(kind).remove(archive_id);
            return Ok(archive_id.to_owned());
        }
        if self.started_empty
            && (self.in_company(kind, archive_id, None)?
                || self
                    .target
                    .claimed_since(&self.map_key(kind, archive_id), now)?)
        {
            return Err(Failure::InvalidArchive(format!(
                "the archive holds {} {archive_id} more than once",
                kind.name()
            ))
            .into());
        }
        let fresh = uuid::Uuid::new_v4().to_string();
        self.map_in_use.set(true);
        self.target
            .map_id(&self.map_key(kind, archive_id), &fresh, now)?;
        let answer = Some(fresh.clone());
        self.known_maps
            .borrow_mut()
            .of(kind)
            .insert(archive_id.to_owned(), answer);
        Ok(fresh)
    }

    fn map_key<'k>(&'k self, kind: Kind, archive_id: &'k str) -> MapKey<'k> {
        MapKey {
            company_id: &self.company_id,
            kind,
            archive_id,
        }
    }

    /// Whether the company had no tickets when the import began.
    pub(crate) fn started_empty(&self) -> bool {
        self.started_empty
    }

    /// Inserts a ticket, or updates that ticket of the company.
    pub(crate) fn write_ticket(&self, row: &TicketRow<'_>, write: Write) -> Result<Written> {
        let t = row.ticket;
        self.target.put(
            &TICKETS,
            write,
            &[
                Bound::Text(Some(row.id)),
                Bound::Text(Some(&self.company_id)),
                Bound::Text(Some(&t.title)),
                Bound::Text(t.description.as_deref()),
                Bound::Text(Some(&t.status)),
                Bound::Text(Some(t.priority.value.as_str())),
                Bound::Text(t.category.as_deref()),
                Bound::Text(row.submitter_id),
                Bound::Text(row.assignee_id),
                Bound::Json(Some(&row.custom_field_values)),
                Bound::Text(Some(&t.created_at)),
                Bound::Text(Some(&t.updated_at)),
                Bound::Text(t.resolved_at.as_deref()),
                Bound::Text(t.closed_at.as_deref()),
            ],
        )
    }

    /// Inserts a note (`row`'s person is its author), or updates that note.
    pub(crate) fn write_note(
        &self,
        row: &ChildRow<'_>,
        note: &NoteRecord,
        write: Write,
    ) -> Result<Written> {
        let email_metadata = json_text(&note.email_metadata);
        self.target.put(
            &NOTES,
            write,
            &[
                Bound::Text(Some(row.id)),
                Bound::Text(Some(row.ticket_id)),
                Bound::Text(row.person_id),
                Bound::Text(Some(&note.content)),
                Bound::Bool(NullFlag::NoteInternal.read(note.is_internal)),
                Bound::Bool(note.is_email_generated),
                Bound::Json(email_metadata.as_deref()),
                Bound::Text(Some(&note.created_at)),
                Bound::Text(Some(note.updated_at.as_deref().unwrap_or(&note.created_at))),
            ],
        )
    }

    /// Inserts a history entry (`row`'s person is its user), or updates that entry.
    pub(crate) fn write_history(
        &self,
        row: &ChildRow<'_>,
        entry: &HistoryRecord,
        write: Write,
    ) -> Result<Written> {
        let metadata = json_text(&entry.metadata);
        self.target.put(
            &HISTORY,
            write,
            &[
                Bound::Text(Some(row.id)),
                Bound::Text(Some(row.ticket_id)),
                Bound::Text(row.person_id),
                Bound::Text(Some(&entry.action)),
                Bound::Text(entry.field_name.as_deref()),
                Bound::Text(entry.old_value.as_deref()),
                Bound::Text(entry.new_value.as_deref()),
                Bound::Json(metadata.as_deref()),
                Bound::Text(Some(&entry.created_at)),
            ],
        )
    }

    pub(crate) fn write_attachment(
        &self,
        row: &AttachmentRow<'_>,
        write: Write,
    ) -> Result<Written> {
        let a = row.attachment;
        self.target.put(
            &ATTACHMENTS,
            write,
            &[
                Bound::Text(Some(row.id)),
                Bound::Text(Some(row.ticket_id)),
                Bound::Text(row.note_id),
                Bound::Text(Some(&a.file_name)),
                Bound::Text(row.original_name),
                Bound::Int(a.file_size),
                Bound::Text(a.file_type.as_deref()),
                Bound::Text(row.uploader_id),
                Bound::Text(a.file_path.as_deref()),
                Bound::Text(Some(&a.uploaded_at)),
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

impl TargetField {
    /// A field as the database stores it: its type and its options as JSON text.
    pub(crate) fn stored(
        name: String,
        id: String,
        field_type: &str,
        options: Option<&str>,
    ) -> Self {
        let options = options
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        Self {
            name,
            id,
            rule: FieldRule::stored(field_type, &options),
        }
    }
}

/// The ids of an existing ticket's notes and history entries.
#[derive(Debug, Default)]
pub(crate) struct TicketChildren {
    pub notes: HashSet<String>,
    pub history: HashSet<String>,
}

impl TicketChildren {
    /// Adds a note's id (`note`), else a history entry's.
    pub(crate) fn add(&mut self, note: bool, id: String) {
        match note {
            true => self.notes.insert(id),
            false => self.history.insert(id),
        };
    }
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

/// A target's answer that holds for the whole import (`ImportTarget::bulk_tickets`,
/// `users_all_new`): asked the first time, kept in `cell`.
fn asked_once(cell: &Cell<Option<bool>>, ask: impl FnOnce() -> Result<bool>) -> Result<bool> {
    if let Some(answer) = cell.get() {
        return Ok(answer);
    }
    let answer = ask()?;
    cell.set(Some(answer));
    Ok(answer)
}
