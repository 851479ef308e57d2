//! An open PostgreSQL database behind the storage seam: the connection, its URL (for
//! messages, masked), and what `Database` asks of it beyond the export's reads
//! (`export_rows`) and the tenant lookups (`tenant`).

use std::cell::{RefCell, RefMut};

use anyhow::{Context, Result};
use postgres::Client;

use super::export_rows::PgSnapshot;
use super::{PgUrl, connect, describe, schema};
use crate::db::schema::{APP_TABLES, ToolTable};
use crate::db::snapshot::SnapshotWork;
use crate::db::{OpenOptions, missing_columns};

/// Serializes creating the tool's tables: two commands creating the same table at once
/// would otherwise fail on PostgreSQL's catalog (`CREATE TABLE IF NOT EXISTS` is not safe
/// against a concurrent one). A transaction-scoped advisory lock on this key.
const TOOL_TABLES_LOCK: &str = "bomizzel-backup: tool tables";

/// A connected PostgreSQL database that holds the application's tables.
pub(crate) struct Server {
    client: RefCell<Client>,
    url: PgUrl,
    /// How long a write waits for a lock (`--busy-timeout`), as `lock_timeout`.
    busy_timeout: std::time::Duration,
}

/// Every column of the application's tables whose type is not `init`'s, named with both
/// types: the tool reads and writes each column as that type, so another schema with the
/// same names (the web app's own PostgreSQL one: `uuid` ids, `timestamptz` times) would
/// fail part-way with a driver's message instead.
fn other_types(columns: &[(String, String, String)]) -> Option<String> {
    let differing: Vec<String> = schema::app_column_types()
        .iter()
        .filter_map(|(table, column, wanted)| {
            let (_, _, found) = columns.iter().find(|(t, c, _)| t == table && c == column)?;
            (found != wanted).then(|| format!("{table}.{column} {found} (not {wanted})"))
        })
        .collect();
    (!differing.is_empty()).then(|| format!("other column types: {}", differing.join(", ")))
}

impl Server {
    /// Connects (`pg::connect`: a missing database is not found) and checks the schema.
    pub(crate) fn open(url: &PgUrl, options: OpenOptions) -> Result<Self> {
        let mut client = connect(url)?;
        let columns: Vec<(String, String, String)> = client
            .query(
                "SELECT table_name::text, column_name::text, data_type::text
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = ANY($1)",
                &[&APP_TABLES.iter().map(|(t, _)| *t).collect::<Vec<_>>()],
            )
            .map_err(|err| anyhow::anyhow!("cannot read the schema of {url}: {}", describe(&err)))?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        let missing = missing_columns(|table| {
            Ok(columns
                .iter()
                .filter(|(t, _, _)| t == table)
                .map(|(_, c, _)| c.clone())
                .collect())
        })
        .err()
        .map(|missing| missing.to_string());
        let problems: Vec<String> = missing.into_iter().chain(other_types(&columns)).collect();
        if !problems.is_empty() {
            anyhow::bail!(
                "{url} is not a Bomizzel database (run init on an empty one): {}. A database \
                 in another schema, such as the web app's own, comes over through the web \
                 app's export and `import`",
                problems.join("; ")
            );
        }
        // Every statement waits for a lock as long as --busy-timeout says, then fails with
        // 55P03, which is busy (exit 7), as SQLite's busy timeout does.
        client
            .batch_execute(&lock_timeout_sql("", options.busy_timeout))
            .map_err(|err| {
                anyhow::anyhow!("cannot set lock_timeout on {url}: {}", describe(&err))
            })?;
        Ok(Server {
            client: RefCell::new(client),
            url: url.clone(),
            busy_timeout: options.busy_timeout,
        })
    }

    /// The URL, masked when shown.
    pub(crate) fn url(&self) -> &PgUrl {
        &self.url
    }

    /// The connection, for one call's queries.
    pub(crate) fn client(&self) -> RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    pub(crate) fn read_snapshot<W: SnapshotWork>(&self, work: W) -> Result<W::Output> {
        let mut client = self.client();
        let snapshot = PgSnapshot::begin(&mut client)
            .with_context(|| format!("cannot begin a read transaction on {}", self.url))?;
        let output = work.run(&snapshot)?;
        snapshot.finish()?;
        Ok(output)
    }

    /// `SET LOCAL lock_timeout`, from `--busy-timeout`: a lock held longer is SQLSTATE
    /// 55P03, which `error::classify` takes as busy. At least a millisecond, as 0 would be
    /// no timeout at all.
    pub(crate) fn lock_timeout_sql(&self) -> String {
        lock_timeout_sql("LOCAL ", self.busy_timeout)
    }

    /// After a lock outlasted the busy timeout: one more try at a write (a log row) waits
    /// a millisecond at most.
    pub(crate) fn stop_waiting_for_locks(&self) {
        let _ = self
            .client()
            .batch_execute(&lock_timeout_sql("", std::time::Duration::ZERO));
    }

    /// Runs `work` (which uses this server) inside one transaction, under the busy timeout
    /// and `TOOL_TABLES_LOCK`, with the missing ones of `tables` created first; commits
    /// when it succeeds, else rolls back.
    pub(crate) fn write_transaction<R>(
        &self,
        tables: &[ToolTable],
        work: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.client().batch_execute("BEGIN")?;
        let output = self
            .tool_tables_in_transaction(tables)
            .and_then(|()| work());
        let end = match output {
            Ok(_) => "COMMIT",
            Err(_) => "ROLLBACK",
        };
        let ended = self.client().batch_execute(end);
        let output = output?;
        ended?;
        Ok(output)
    }

    fn tool_tables_in_transaction(&self, tables: &[ToolTable]) -> Result<()> {
        let mut client = self.client();
        client.batch_execute(&self.lock_timeout_sql())?;
        client.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&TOOL_TABLES_LOCK],
        )?;
        for &table in tables {
            client
                .batch_execute(schema::tool_table(table))
                .with_context(|| format!("cannot create table {} in {}", table.name(), self.url))?;
        }
        Ok(())
    }

    pub(crate) fn is_read_only(&self) -> Result<bool> {
        let row = self.client().query_one(
            "SELECT current_setting('transaction_read_only') = 'on'",
            &[],
        )?;
        Ok(row.try_get(0)?)
    }

    /// Whether this role may add rows to `table` (`Database::may_insert_into`).
    pub(crate) fn may_insert_into(&self, table: ToolTable) -> Result<bool> {
        let row = self.client().query_one(
            "SELECT pg_catalog.has_table_privilege($1, 'INSERT')",
            &[&table.name()],
        )?;
        Ok(row.try_get(0)?)
    }

    /// Creates the missing ones of `tables`, under `TOOL_TABLES_LOCK`, in one transaction.
    pub(crate) fn create_tool_tables_now(&self, tables: &[ToolTable]) -> Result<()> {
        let mut client = self.client();
        // Only the missing ones: `CREATE TABLE IF NOT EXISTS` needs the right to create in
        // the schema even when the table is there, which a role that only writes the tables
        // (not the one that ran `init`) may lack.
        let names: Vec<&str> = tables.iter().map(|table| table.name()).collect();
        let present: Vec<String> = client
            .query(
                "SELECT t FROM unnest($1::text[]) t WHERE to_regclass(quote_ident(t)) IS NOT NULL",
                &[&names],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let tables: Vec<ToolTable> = tables
            .iter()
            .copied()
            .filter(|table| !present.iter().any(|name| name == table.name()))
            .collect();
        if tables.is_empty() {
            return Ok(());
        }
        let mut tx = client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&TOOL_TABLES_LOCK],
        )?;
        for table in tables {
            tx.batch_execute(schema::tool_table(table))
                .with_context(|| format!("cannot create table {} in {}", table.name(), self.url))?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// `SET [LOCAL] lock_timeout` to `timeout`, in milliseconds: at least one, as 0 would be no
/// timeout at all.
fn lock_timeout_sql(scope: &str, timeout: std::time::Duration) -> String {
    let ms = timeout.as_millis().max(1);
    format!("SET {scope}lock_timeout = {ms}")
}
