//! `logs::LogStore` on PostgreSQL: the detail is `jsonb`.

use anyhow::Result;

use super::Server;
use crate::db::logs::{LogStore, NewEntry};

impl LogStore for Server {
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
}
