//! The export's side of the storage seam: one read snapshot of the database, whichever it
//! is, and the streams of records an export reads from it.
//!
//! A backend opens the snapshot (`Database::read_snapshot`) and hands it to the work as a
//! concrete type: the work is generic over `ReadSnapshot`, so each backend's loops are
//! compiled for it, with no dispatch per record.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::Connection;

use super::export_rows::{self, TicketScope};
use crate::archive::records::{
    AttachmentRecord, CompanyRecord, Counts, CustomFieldRecord, TicketRecord, UserRecord,
};

/// One consistent view of the database: every read of one export comes from it.
pub(crate) trait ReadSnapshot {
    /// Counts of every section but tickets' notes and history (`count_ticket_children`).
    fn count_records(&self, scope: &TicketScope) -> Result<Counts>;
    /// How many notes and history entries the scope's tickets have.
    fn count_ticket_children(&self, scope: &TicketScope) -> Result<(u64, u64)>;
    /// The company's own row.
    fn company(&self, company_id: &str) -> Result<CompanyRecord>;
    /// The company's custom field names by id.
    fn field_names(&self, company_id: &str) -> Result<HashMap<String, String>>;
    /// The company's members, by id.
    fn for_each_user(
        &self,
        company_id: &str,
        emit: impl FnMut(UserRecord) -> Result<()>,
    ) -> Result<()>;
    /// The company's custom field definitions, in display order.
    fn for_each_custom_field(
        &self,
        company_id: &str,
        emit: impl FnMut(CustomFieldRecord) -> Result<()>,
    ) -> Result<()>;
    /// The scope's tickets in id order, each with its notes and history.
    fn for_each_ticket(
        &self,
        scope: &TicketScope,
        field_names: &HashMap<String, String>,
        emit: impl FnMut(TicketRecord) -> Result<()>,
    ) -> Result<()>;
    /// The scope's attachments, by ticket then id.
    fn for_each_attachment(
        &self,
        scope: &TicketScope,
        emit: impl FnMut(AttachmentRecord) -> Result<()>,
    ) -> Result<()>;
}

/// What runs inside a snapshot; generic so that each backend gets its own copy.
pub(crate) trait SnapshotWork {
    type Output;
    fn run<S: ReadSnapshot>(self, snapshot: &S) -> Result<Self::Output>;
}

/// A SQLite read transaction (`BEGIN DEFERRED`) is the snapshot: `export_rows` reads it.
pub(crate) struct SqliteSnapshot<'c>(pub &'c Connection);

impl ReadSnapshot for SqliteSnapshot<'_> {
    fn count_records(&self, scope: &TicketScope) -> Result<Counts> {
        export_rows::count_records(self.0, scope)
    }

    fn count_ticket_children(&self, scope: &TicketScope) -> Result<(u64, u64)> {
        export_rows::count_ticket_children(self.0, scope)
    }

    fn company(&self, company_id: &str) -> Result<CompanyRecord> {
        export_rows::company(self.0, company_id)
    }

    fn field_names(&self, company_id: &str) -> Result<HashMap<String, String>> {
        export_rows::field_names(self.0, company_id)
    }

    fn for_each_user(
        &self,
        company_id: &str,
        emit: impl FnMut(UserRecord) -> Result<()>,
    ) -> Result<()> {
        export_rows::for_each_user(self.0, company_id, emit)
    }

    fn for_each_custom_field(
        &self,
        company_id: &str,
        emit: impl FnMut(CustomFieldRecord) -> Result<()>,
    ) -> Result<()> {
        export_rows::for_each_custom_field(self.0, company_id, emit)
    }

    fn for_each_ticket(
        &self,
        scope: &TicketScope,
        field_names: &HashMap<String, String>,
        emit: impl FnMut(TicketRecord) -> Result<()>,
    ) -> Result<()> {
        export_rows::for_each_ticket(self.0, scope, field_names, emit)
    }

    fn for_each_attachment(
        &self,
        scope: &TicketScope,
        emit: impl FnMut(AttachmentRecord) -> Result<()>,
    ) -> Result<()> {
        export_rows::for_each_attachment(self.0, scope, emit)
    }
}
