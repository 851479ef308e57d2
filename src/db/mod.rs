//! Opening the database: never creating one by accident, and checking it is a Bomizzel
//! database. Opening writes nothing: a command that writes creates the tool's tables it
//! needs (`create_tool_tables`) inside its own transaction, and one that only reads takes a
//! missing one as empty.

mod columns;
mod database;
pub(crate) mod export_rows;
pub(crate) mod import_rows;
mod location;
pub(crate) mod logs;
pub mod pg;
pub mod schema;
pub(crate) mod snapshot;
pub(crate) mod tenant;

pub(crate) use database::Database;
pub use location::Location;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::Failure;
use schema::ToolTable;

/// How to open the database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// At most `MAX_BUSY_TIMEOUT`.
    pub busy_timeout: Duration,
}

/// The longest SQLite waits for a lock: its busy timeout is an `int` of milliseconds.
pub(crate) const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Opens an existing Bomizzel database for reading and writing.
///
/// A path that does not exist is `NotFound`, never a new empty file; a file without the
/// application's tables is refused with the names of what is missing.
pub fn open(path: &Path, options: OpenOptions) -> Result<Connection> {
    if !path.exists() {
        return Err(Failure::NotFound(format!("database not found: {}", path.display())).into());
    }
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "--db {} is a directory, not a database file",
            path.display()
        ))
        .into());
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    configure(&conn, options)?;
    check_schema(&conn).map_err(|err| {
        // A locked file may be a fine database: say busy, not "not a Bomizzel database".
        if crate::error::classify(&err) == crate::error::Class::Busy {
            err
        } else {
            err.context(format!("{} is not a Bomizzel database", path.display()))
        }
    })?;
    Ok(conn)
}

/// Creates a new database with the full schema. Refuses to touch an existing file.
pub fn create(path: &Path, options: OpenOptions) -> Result<Connection> {
    if path.exists() {
        return Err(Failure::Usage(format!(
            "{} already exists; init only creates new databases",
            path.display()
        ))
        .into());
    }
    let conn = Connection::open(path)
        .with_context(|| format!("cannot create database {}", path.display()))?;
    configure(&conn, options)?;
    write_schema(&conn)
        .with_context(|| format!("cannot write the schema to {}", path.display()))?;
    Ok(conn)
}

/// A scratch database with the schema `init` writes, for `verify` to restore into: SQLite's
/// temporary database (an empty file name). Its pages stay in memory until they outgrow the
/// page cache, then go to a private file that has no name and goes when the connection
/// closes, so memory stays flat however large the archive.
pub fn scratch() -> Result<Connection> {
    let conn = Connection::open("").context("cannot create a temporary database")?;
    configure(
        &conn,
        OpenOptions {
            busy_timeout: Duration::ZERO,
        },
    )?;
    write_schema(&conn).context("cannot write the schema to a temporary database")?;
    // Not in `init`'s schema, and only here, where the database is the tool's own: export
    // reads tickets in id order, which is the order a restore writes them in, so with this
    // index verify's re-export walks the restored rows as they lie instead of sorting them.
    conn.execute_batch("CREATE INDEX scratch_tickets_by_id ON tickets(company_id, id);")
        .context("cannot index a temporary database")?;
    Ok(conn)
}

/// The application's schema and the tool's tables, in one transaction.
fn write_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN; {} {} COMMIT;",
        schema::APP_SCHEMA,
        schema::tool_schema()
    ))
}

fn configure(conn: &Connection, options: OpenOptions) -> Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Fails with `InvalidDatabase`-style context naming every missing table or column.
fn check_schema(conn: &Connection) -> Result<()> {
    let mut columns_of = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(|err| match crate::error::is_busy(&err) {
            true => anyhow::Error::new(err).context("cannot read the database schema"),
            false => anyhow::anyhow!("cannot read its schema ({err})"),
        })?;
    missing_columns(|table| {
        columns_of
            .query_map([table], |row| row.get(0))
            .context("cannot read the database schema (is it an SQLite file?)")?
            .collect::<rusqlite::Result<_>>()
            .context("cannot read the database schema (is it an SQLite file?)")
    })
}

/// Fails naming every table or column of the application's schema that `columns_of` (a
/// table's column names, none when the table is missing) does not give.
pub(crate) fn missing_columns(
    mut columns_of: impl FnMut(&str) -> Result<Vec<String>>,
) -> Result<()> {
    let mut missing = Vec::new();
    for (table, columns) in schema::APP_TABLES {
        let present = columns_of(table)?;
        if present.is_empty() {
            missing.push(format!("table {table}"));
            continue;
        }
        for column in *columns {
            if !present.iter().any(|p| p == column) {
                missing.push(format!("column {table}.{column}"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("missing {}", missing.join(", ")))
    }
}

/// Whether the database has this table (of the tool's: a database the web app made may lack
/// it, and then holds nothing the table would).
pub fn has_table(conn: &Connection, table: ToolTable) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists([table.name()])
        .with_context(|| format!("cannot look for table {} in the database", table.name()))
}

/// Creates those of `tables` that are missing, inside the writing command's own transaction
/// and before anything else it writes, so that they come (and on a rollback go) with its
/// work. Writes nothing when they all exist.
pub fn create_tool_tables(tx: &Transaction<'_>, tables: &[ToolTable]) -> Result<()> {
    for &table in tables {
        if !has_table(tx, table)? {
            tx.execute_batch(table.schema())
                .with_context(|| format!("cannot create table {} in the database", table.name()))?;
        }
    }
    Ok(())
}

/// `create_tool_tables` in a short write transaction of its own, for a command whose one
/// write comes after work that must not start unless that write can be made (an export's
/// log row, after the archive). Takes no lock when the tables exist.
pub fn create_tool_tables_now(conn: &Connection, tables: &[ToolTable]) -> Result<()> {
    let mut missing = false;
    for &table in tables {
        missing |= !has_table(conn, table)?;
    }
    if missing {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        create_tool_tables(&tx, tables)?;
        tx.commit()?;
    }
    Ok(())
}

/// The current UTC time in the database's timestamp format.
pub fn now_timestamp() -> String {
    format_timestamp(chrono::Utc::now())
}

/// A UTC instant in the database's timestamp format (`2026-11-25T14:30:00.000Z`).
pub fn format_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
