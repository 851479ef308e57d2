//! Opening the database: never creating one by accident, checking it is a Bomizzel
//! database, and making sure the tool's own tables exist.

pub mod export_rows;
pub mod import_rows;
pub mod logs;
pub mod schema;
pub mod tenant;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};

use crate::error::Failure;

/// How to open the database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub busy_timeout: Duration,
}

/// Opens an existing Bomizzel database for reading and writing.
///
/// A path that does not exist is `NotFound`, never a new empty file; a file without the
/// application's tables is refused with the names of what is missing.
pub fn open(path: &Path, options: OpenOptions) -> Result<Connection> {
    if !path.exists() {
        return Err(Failure::NotFound(format!(
            "database not found: {} (create one with `bomizzel-backup init`)",
            path.display()
        ))
        .into());
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
        if crate::error::classify(&err).0 == 7 {
            err
        } else {
            err.context(format!("{} is not a Bomizzel database", path.display()))
        }
    })?;
    ensure_tool_tables(&conn)?;
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
    conn.execute_batch(&format!(
        "BEGIN; {} {} COMMIT;",
        schema::APP_SCHEMA,
        schema::tool_schema()
    ))
    .with_context(|| format!("cannot write the schema to {}", path.display()))?;
    Ok(conn)
}

fn configure(conn: &Connection, options: OpenOptions) -> Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Fails with `InvalidDatabase`-style context naming every missing table or column.
fn check_schema(conn: &Connection) -> Result<()> {
    let mut missing = Vec::new();
    let mut columns_of = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(|err| match crate::error::is_busy(&err) {
            true => anyhow::Error::new(err).context("cannot read the database schema"),
            false => anyhow::anyhow!("cannot read its schema ({err})"),
        })?;
    for (table, columns) in schema::APP_TABLES {
        let present: Vec<String> = columns_of
            .query_map([table], |row| row.get(0))
            .context("cannot read the database schema (is it an SQLite file?)")?
            .collect::<rusqlite::Result<_>>()
            .context("cannot read the database schema (is it an SQLite file?)")?;
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

/// Creates the log tables (when the web app has not yet done so) and the id map. Skips the write (and its
/// lock) when they exist, so a read-only database can still be inspected.
fn ensure_tool_tables(conn: &Connection) -> Result<()> {
    let present: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'
         AND name IN ('data_export_logs', 'data_import_logs', 'bomizzel_backup_id_map')",
        [],
        |row| row.get(0),
    )?;
    if present < 3 {
        conn.execute_batch(&format!(
            "{} {}",
            schema::TOOL_SCHEMA,
            schema::ID_MAP_SCHEMA
        ))
        .context("cannot create the tool's own tables")?;
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
