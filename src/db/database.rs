//! The storage seam: an open database of either backend, and what commands ask of it.
//!
//! Commands hold a `Database` and never look inside. Each method matches the backend once
//! and hands over to that backend's code (SQLite's in `db/`, PostgreSQL's in `db/pg/`); the
//! hot loops (an export's records) run inside one such call, generic over the backend
//! (`ReadSnapshot`), so no record pays for the choice.

use std::path::Path;

use anyhow::Result;
use rusqlite::Connection;

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

    /// The SQLite connection, for what does not work on PostgreSQL yet: there, a usage
    /// error saying that `doing` does not.
    pub(crate) fn sqlite(&self, doing: &str) -> Result<&Connection> {
        match self {
            Database::Sqlite(conn) => Ok(conn),
            Database::Postgres(server) => Err(not_yet(server, doing)),
        }
    }

    /// `sqlite`, keeping the connection.
    pub(crate) fn into_sqlite(self, doing: &str) -> Result<Connection> {
        match self {
            Database::Sqlite(conn) => Ok(conn),
            Database::Postgres(server) => Err(not_yet(&server, doing)),
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

    /// Whether nothing can be written (a read-only file, a hot standby).
    pub(crate) fn is_read_only(&self) -> Result<bool> {
        match self {
            Database::Sqlite(conn) => Ok(conn.is_readonly(rusqlite::MAIN_DB)?),
            Database::Postgres(server) => server.is_read_only(),
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
            Database::Postgres(_) => {}
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
