//! The storage seam: an open database of either backend, and what commands ask of it.
//!
//! Commands hold a `Database` and never look inside. Each method matches the backend once
//! and hands over to that backend's code (SQLite's in `db/`, PostgreSQL's in `db/pg/`); the
//! hot loops (an export's records) run inside one such call, generic over the backend
//! (`ReadSnapshot`), so no record pays for the choice.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::Connection;

use super::import_rows::{ImportTarget, ImportWork, SqliteTarget};
use super::pg::Server;
use super::schema::ToolTable;
use super::snapshot::{SnapshotWork, SqliteSnapshot};
use super::{Location, OpenOptions};
use crate::error::Failure;

/// An open Bomizzel database.
pub(crate) enum Database {
    Sqlite(Connection),
    Postgres(Box<Server>),
}

impl Database {
    /// Opens the database at `location` (which must exist and hold the application's
    /// tables; `db::open` says how for SQLite, `pg::Server::open` for PostgreSQL).
    pub(crate) fn open(location: &Location, options: OpenOptions) -> Result<Self> {
        Ok(match location {
            Location::Sqlite(path) => Database::Sqlite(super::open(path, options)?),
            Location::Postgres(url) => Database::Postgres(Box::new(Server::open(url, options)?)),
        })
    }

    /// Whether its texts can hold U+0000 (`ImportTarget::STORES_NUL`): PostgreSQL's cannot.
    pub(crate) fn stores_nul(&self) -> bool {
        match self {
            Database::Sqlite(_) => <SqliteTarget as ImportTarget>::STORES_NUL,
            Database::Postgres(_) => Server::STORES_NUL,
        }
    }

    /// The SQLite connection, for what only SQLite does (`verify`'s scratch database, and
    /// its comparison): on PostgreSQL, a usage error saying that `doing` does not work there.
    pub(crate) fn sqlite(&self, doing: &str) -> Result<&Connection> {
        match self {
            Database::Sqlite(conn) => Ok(conn),
            Database::Postgres(server) => Err(not_yet(server, doing)),
        }
    }

    /// Runs `work` on one consistent read snapshot: SQLite's `BEGIN DEFERRED`, PostgreSQL's
    /// `REPEATABLE READ, READ ONLY`.
    pub(crate) fn read_snapshot<W: SnapshotWork>(&mut self, work: W) -> Result<W::Output> {
        match self {
            Database::Sqlite(conn) => {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
                let output = work.run(&SqliteSnapshot(&tx))?;
                tx.commit()?;
                Ok(output)
            }
            Database::Postgres(server) => server.read_snapshot(work),
        }
    }

    /// Runs an import's `work` in one write transaction, committed only when it succeeds:
    /// SQLite's `IMMEDIATE` one (the tool's id map and import log created inside it, so
    /// they come and go with the import); on PostgreSQL, one under `--busy-timeout` as
    /// `lock_timeout` and a transaction-scoped advisory lock on `company_id`, so that two
    /// imports into one company never interleave.
    pub(crate) fn import_transaction<W: ImportWork>(
        &mut self,
        company_id: &str,
        work: W,
    ) -> Result<W::Output> {
        match self {
            Database::Sqlite(conn) => {
                // A larger page cache for this connection only (nothing is stored in the
                // file): the import touches many index pages, and 16 MiB keeps memory flat.
                conn.pragma_update(None, "cache_size", -16_384)?;
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                super::create_tool_tables(&tx, &[ToolTable::IdMap, ToolTable::ImportLog])?;
                let output = work.run(&SqliteTarget::new(&tx))?;
                tx.commit().context("cannot commit the import")?;
                Ok(output)
            }
            Database::Postgres(server) => server.import_transaction(company_id, work),
        }
    }

    /// Runs an import's `work` as a plan, in a read transaction that writes nothing.
    pub(crate) fn plan_transaction<W: ImportWork>(&mut self, work: W) -> Result<W::Output> {
        match self {
            Database::Sqlite(conn) => {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
                work.run(&SqliteTarget::new(&tx))
            }
            Database::Postgres(server) => server.plan_transaction(work),
        }
    }

    /// Runs `work` on this database in one short write transaction (prune's), with those of
    /// the tool's `tables` that are missing created first inside it.
    pub(crate) fn write_transaction<R>(
        &self,
        tables: &[ToolTable],
        work: impl FnOnce(&Database) -> Result<R>,
    ) -> Result<R> {
        match self {
            Database::Sqlite(conn) => {
                let tx = rusqlite::Transaction::new_unchecked(
                    conn,
                    rusqlite::TransactionBehavior::Immediate,
                )?;
                super::create_tool_tables(&tx, tables)?;
                let output = work(self)?;
                tx.commit()?;
                Ok(output)
            }
            Database::Postgres(server) => server.write_transaction(tables, || work(self)),
        }
    }

    /// Whether nothing can be written (a read-only file, a hot standby).
    pub(crate) fn is_read_only(&self) -> Result<bool> {
        match self {
            Database::Sqlite(conn) => Ok(conn.is_readonly(rusqlite::MAIN_DB)?),
            Database::Postgres(server) => server.is_read_only(),
        }
    }

    /// Whether this session may add rows to one of the tool's tables: a PostgreSQL role
    /// may read everything and write nothing (a backup role made for `pg_dump`); a SQLite
    /// file's writability is `is_read_only`'s.
    pub(crate) fn may_insert_into(&self, table: ToolTable) -> Result<bool> {
        match self {
            Database::Sqlite(_) => Ok(true),
            Database::Postgres(server) => server.may_insert_into(table),
        }
    }

    /// Whether `target` is the database's own file (which no output may replace).
    pub(crate) fn is_file(&self, target: &Path) -> bool {
        let Database::Sqlite(conn) = self else {
            return false;
        };
        let (Some(db), Ok(target)) = (conn.path(), std::fs::canonicalize(target)) else {
            return false;
        };
        std::fs::canonicalize(db).is_ok_and(|db| db == target)
    }

    /// Creates those of the tool's `tables` that are missing, in a short transaction of
    /// their own (`db::create_tool_tables_now`).
    pub(crate) fn create_tool_tables_now(&self, tables: &[ToolTable]) -> Result<()> {
        match self {
            Database::Sqlite(conn) => super::create_tool_tables_now(conn, tables),
            Database::Postgres(server) => server.create_tool_tables_now(tables),
        }
    }

    /// After a lock outlasted the busy timeout: one more try at a write (a log row) should
    /// not wait as long again.
    pub(crate) fn stop_waiting_for_locks(&self) {
        match self {
            Database::Sqlite(conn) => {
                let _ = conn.busy_timeout(std::time::Duration::ZERO);
            }
            Database::Postgres(server) => server.stop_waiting_for_locks(),
        }
    }
}

fn not_yet(server: &Server, doing: &str) -> anyhow::Error {
    Failure::Usage(format!(
        "--db {}: {doing} does not work on PostgreSQL yet",
        server.url()
    ))
    .into()
}
