//! `ReadSnapshot` on PostgreSQL: one `REPEATABLE READ, READ ONLY` transaction, every
//! section streamed through portals fetched `BATCH` rows at a time (never a whole table in
//! memory). The rows become records through `db::export_rows`' own functions; what is
//! PostgreSQL's here is the SQL: `$n` parameters, and JSON read as `jsonb::text`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::vec;

use anyhow::{Context, Result};
use postgres::types::ToSql;
use postgres::{Portal, Row, Statement, Transaction};

use crate::archive::records::{
    AttachmentRecord, CompanyRecord, Counts, CustomFieldRecord, PersonRef, TicketRecord, UserRecord,
};
use crate::db::export_rows::{
    self, COMPANY_SQL, PERSON_SQL, People, PersonLookup, TicketScope, take_children,
};
use crate::db::snapshot::ReadSnapshot;

/// Rows fetched from a portal at a time: large enough that the round trips do not count,
/// small enough that memory stays flat.
const BATCH: i32 = 1000;

/// The snapshot: the export's read-only transaction.
pub(crate) struct PgSnapshot<'c> {
    tx: RefCell<Transaction<'c>>,
}

impl<'c> PgSnapshot<'c> {
    /// Begins the snapshot's transaction.
    pub(crate) fn begin(client: &'c mut postgres::Client) -> Result<Self> {
        let tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        Ok(PgSnapshot {
            tx: RefCell::new(tx),
        })
    }

    /// Ends the snapshot (it wrote nothing).
    pub(crate) fn finish(self) -> Result<()> {
        Ok(self.tx.into_inner().commit()?)
    }

    fn count(&self, sql: &str, params: &[&str]) -> Result<u64> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let n: i64 = self.tx.borrow_mut().query_one(sql, &params)?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn rows(&self, sql: &str, params: &[&str]) -> Result<Rows<'_, 'c>> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let portal = self.tx.borrow_mut().bind(sql, &params)?;
        Ok(Rows {
            tx: &self.tx,
            portal,
            buffer: Vec::new().into_iter(),
            done: false,
        })
    }

    fn people(&self) -> Result<People<PgPeople<'_, 'c>>> {
        let stmt = self.tx.borrow_mut().prepare(&format!("{PERSON_SQL}$1"))?;
        Ok(People::new(PgPeople { tx: &self.tx, stmt }))
    }
}

/// A query's rows, fetched from its portal a batch at a time.
struct Rows<'s, 'c> {
    tx: &'s RefCell<Transaction<'c>>,
    portal: Portal,
    buffer: vec::IntoIter<Row>,
    done: bool,
}

impl Rows<'_, '_> {
    fn next_row(&mut self) -> Result<Option<Row>> {
        if let Some(row) = self.buffer.next() {
            return Ok(Some(row));
        }
        if self.done {
            return Ok(None);
        }
        let rows = self.tx.borrow_mut().query_portal(&self.portal, BATCH)?;
        self.done = rows.len() < BATCH as usize;
        self.buffer = rows.into_iter();
        Ok(self.buffer.next())
    }

    /// Each row, until the first error.
    fn for_each(mut self, mut take: impl FnMut(Row) -> Result<()>) -> Result<()> {
        while let Some(row) = self.next_row()? {
            take(row)?;
        }
        Ok(())
    }
}

impl Iterator for Rows<'_, '_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        self.next_row().transpose()
    }
}

/// People by id, from the snapshot.
pub(crate) struct PgPeople<'s, 'c> {
    tx: &'s RefCell<Transaction<'c>>,
    stmt: Statement,
}

impl PersonLookup for PgPeople<'_, '_> {
    fn find(&mut self, id: &str) -> Result<Option<PersonRef>> {
        match self.tx.borrow_mut().query_opt(&self.stmt, &[&id])? {
            Some(row) => export_rows::person(&row, 0),
            None => Ok(None),
        }
    }
}

fn placeholder(n: usize) -> String {
    format!("${n}")
}

impl ReadSnapshot for PgSnapshot<'_> {
    fn count_records(&self, scope: &TicketScope) -> Result<Counts> {
        let (cond, params) = scope.condition_as(placeholder);
        let company = [scope.company_id.as_str()];
        Ok(Counts {
            users: self.count(
                "SELECT count(*) FROM user_company_associations WHERE company_id = $1",
                &company,
            )?,
            custom_fields: self.count(
                "SELECT count(*) FROM custom_fields WHERE company_id = $1",
                &company,
            )?,
            tickets: self.count(
                &format!("SELECT count(*) FROM tickets t WHERE {cond}"),
                &params,
            )?,
            attachments: self.count(
                &format!(
                    "SELECT count(*) FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id \
                     WHERE {cond}"
                ),
                &params,
            )?,
            notes: 0,
            history: 0,
        })
    }

    fn count_ticket_children(&self, scope: &TicketScope) -> Result<(u64, u64)> {
        let (cond, params) = scope.condition_as(placeholder);
        let count_of = |table: &str| {
            self.count(
                &format!(
                    "SELECT count(*) FROM {table} c JOIN tickets t ON t.id = c.ticket_id WHERE {cond}"
                ),
                &params,
            )
        };
        Ok((count_of("ticket_notes")?, count_of("ticket_history")?))
    }

    fn company(&self, company_id: &str) -> Result<CompanyRecord> {
        let row = self
            .tx
            .borrow_mut()
            .query_one(&format!("{COMPANY_SQL}$1"), &[&company_id])
            .with_context(|| format!("cannot read company {company_id}"))?;
        export_rows::company_from_row(&row)
    }

    fn field_names(&self, company_id: &str) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        self.rows(
            "SELECT id, name FROM custom_fields WHERE company_id = $1",
            &[company_id],
        )?
        .for_each(|row| {
            names.insert(row.try_get(0)?, row.try_get(1)?);
            Ok(())
        })?;
        Ok(names)
    }

    fn for_each_user(
        &self,
        company_id: &str,
        mut emit: impl FnMut(UserRecord) -> Result<()>,
    ) -> Result<()> {
        self.rows(
            "SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.role, a.role,
                    u.is_active, u.email_verified, u.preferences::text, u.created_at, u.updated_at
             FROM user_company_associations a JOIN users u ON u.id = a.user_id
             WHERE a.company_id = $1
             ORDER BY u.id",
            &[company_id],
        )?
        .for_each(|row| emit(export_rows::user_from_row(&row)?))
    }

    fn for_each_custom_field(
        &self,
        company_id: &str,
        mut emit: impl FnMut(CustomFieldRecord) -> Result<()>,
    ) -> Result<()> {
        self.rows(
            "SELECT id, name, label, type, options::text, validation::text, is_required,
                    is_active, display_order, created_at, updated_at
             FROM custom_fields WHERE company_id = $1
             ORDER BY display_order, name",
            &[company_id],
        )?
        .for_each(|row| emit(export_rows::field_from_row(&row)?))
    }

    fn for_each_ticket(
        &self,
        scope: &TicketScope,
        field_names: &HashMap<String, String>,
        mut emit: impl FnMut(TicketRecord) -> Result<()>,
    ) -> Result<()> {
        let (cond, params) = scope.condition_as(placeholder);
        let people = RefCell::new(self.people()?);
        let tickets = self.rows(
            &format!(
                "SELECT t.id, t.title, t.description, t.status, t.priority, t.category,
                        t.custom_field_values::text, t.created_at, t.updated_at, t.resolved_at,
                        t.closed_at, t.submitter_id, t.assigned_to_id
                 FROM tickets t WHERE {cond} ORDER BY t.id"
            ),
            &params,
        )?;
        let mut notes = self
            .rows(
                &format!(
                    "SELECT n.ticket_id, n.id, n.content, n.is_internal, n.is_email_generated,
                            n.email_metadata::text, n.created_at, n.updated_at, n.author_id
                     FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id
                     WHERE {cond} ORDER BY t.id, n.created_at, n.id"
                ),
                &params,
            )?
            .map(|row| {
                row.and_then(|row| Ok((row.try_get(0)?, export_rows::note_from_row(&row, &people))))
            })
            .peekable();
        let mut history = self
            .rows(
                &format!(
                    "SELECT h.ticket_id, h.id, h.action, h.field_name, h.old_value, h.new_value,
                            h.metadata::text, h.created_at, h.user_id
                     FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id
                     WHERE {cond} ORDER BY t.id, h.created_at, h.id"
                ),
                &params,
            )?
            .map(|row| {
                row.and_then(|row| {
                    Ok((
                        row.try_get(0)?,
                        export_rows::history_from_row(&row, &people),
                    ))
                })
            })
            .peekable();
        tickets.for_each(|row| {
            let id: String = row.try_get(0)?;
            let mut ticket = export_rows::ticket_from_row(&row, field_names, &people)
                .with_context(|| format!("cannot read ticket {id}"))?;
            ticket.notes = take_children(&mut notes, &id)
                .with_context(|| format!("cannot read the notes of ticket {id}"))?;
            ticket.history = take_children(&mut history, &id)
                .with_context(|| format!("cannot read the history of ticket {id}"))?;
            emit(ticket)
        })
    }

    fn for_each_attachment(
        &self,
        scope: &TicketScope,
        mut emit: impl FnMut(AttachmentRecord) -> Result<()>,
    ) -> Result<()> {
        let (cond, params) = scope.condition_as(placeholder);
        let mut people = self.people()?;
        self.rows(
            &format!(
                "SELECT f.id, f.ticket_id, f.note_id, f.file_name, f.original_name, f.file_size,
                        f.mime_type, f.storage_key, f.created_at, f.uploaded_by_id
                 FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id
                 WHERE {cond} ORDER BY t.id, f.id"
            ),
            &params,
        )?
        .for_each(|row| emit(export_rows::attachment_from_row(&row, &mut people)?))
    }
}
