//! `logs::LogStore` on PostgreSQL: the detail is `jsonb`.

use anyhow::Result;

use super::Server;
use crate::db::logs::{EntryQuery, LogEntry, LogKind, LogStore, NewEntry, entry_of};

impl LogStore for Server {
    fn set_detail(&self, kind: LogKind, entry_id: &str, detail: &str) -> Result<()> {
        let sql = kind.update_detail_sql(|n| match n {
            2 => "$2::text::jsonb".to_owned(),
            n => format!("${n}"),
        });
        self.client().execute(&sql, &[&entry_id, &detail])?;
        Ok(())
    }

    fn insert_entry(&self, entry: &NewEntry<'_>) -> Result<()> {
        let sql = entry.insert_sql(|n| match n {
            5 => "$5::text::jsonb".to_owned(),
            n => format!("${n}"),
        });
        self.client().execute(
            &sql,
            &[
                &uuid::Uuid::new_v4().to_string(),
                &entry.company_id,
                &entry.actor_id,
                &entry.entry_id,
                &entry.detail,
                &entry.created_at,
            ],
        )?;
        Ok(())
    }

    fn has_log(&self, kind: LogKind) -> Result<bool> {
        let row = self.client().query_one(
            "SELECT to_regclass(quote_ident($1)) IS NOT NULL",
            &[&kind.table().name()],
        )?;
        Ok(row.try_get(0)?)
    }

    fn query_entries(&self, query: &EntryQuery<'_>) -> Result<Vec<LogEntry>> {
        let sql = query.sql(|n| format!("${n}"), |column| format!("{column}::text"));
        let rows = match query.entry_id {
            Some(id) => self.client().query(&sql, &[&query.company_id, &id])?,
            // NULL: no limit.
            None => self
                .client()
                .query(&sql, &[&query.company_id, &query.limit()])?,
        };
        rows.iter().map(entry_of).collect()
    }
}
