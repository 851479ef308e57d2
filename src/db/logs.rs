//! The activity logs: exports and imports (the web app's `data_export_logs` and
//! `data_import_logs`, which its History tab reads too) and the tool's own prune log.
//!
//! Each row's JSON detail keeps the web app's summary keys beside the tool's own fields
//! (`details`: the format). Reading takes a log whose table is missing (a database the web
//! app made has no prune log) as empty; writing needs the table, which the writing command
//! creates first. An export's row records its archive file, which `RecordedArchive` checks
//! is still the same.

mod details;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

pub(crate) use details::{
    ArchiveSource, Detail, ExportDetail, ImportDetail, LoggedArchive, PruneDetail, Rules,
    read as read_detail, recorded,
};

use super::has_table;
use super::schema::ToolTable;
use crate::archive::digest::digest_file;
use crate::archive::records::EntryDigest;
use crate::error::Failure;

/// Which log an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogKind {
    Export,
    Import,
    Prune,
}

impl LogKind {
    /// The log's table.
    pub(crate) fn table(self) -> ToolTable {
        match self {
            LogKind::Export => ToolTable::ExportLog,
            LogKind::Import => ToolTable::ImportLog,
            LogKind::Prune => ToolTable::PruneLog,
        }
    }

    /// Table, id column and detail column.
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        let table = self.table().name();
        match self {
            LogKind::Export => (table, "export_id", "exported_data"),
            LogKind::Import => (table, "import_id", "imported_data"),
            LogKind::Prune => (table, "prune_id", "pruned_data"),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            LogKind::Export => "export",
            LogKind::Import => "import",
            LogKind::Prune => "prune",
        }
    }

    pub(crate) const ALL: [LogKind; 3] = [LogKind::Export, LogKind::Import, LogKind::Prune];

    /// A new entry's id, `export_<UTC time>_<random>`: sortable, and unique even for runs
    /// in the same second.
    pub(crate) fn new_entry_id(self, at: chrono::DateTime<chrono::Utc>) -> String {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!(
            "{}_{}_{}",
            self.name(),
            at.format("%Y%m%dT%H%M%SZ"),
            &random[..8]
        )
    }
}

/// One log row, with the actor's email when the user still exists.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    pub kind: LogKind,
    pub id: String,
    pub created_at: String,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    /// The detail as recorded: its JSON, or its text when that is not JSON.
    pub detail: Value,
}

impl LogEntry {
    /// The detail read as its log's record (`details::read`: never fails).
    pub(crate) fn read<D: Detail>(&self) -> D {
        read_detail(&self.detail)
    }
}

/// A new log row.
pub(crate) struct NewEntry<'a> {
    pub kind: LogKind,
    pub company_id: &'a str,
    pub actor_id: Option<&'a str>,
    pub entry_id: &'a str,
    /// The detail as JSON text.
    pub detail: &'a str,
    pub created_at: &'a str,
}

impl NewEntry<'_> {
    /// The `INSERT`, with `placeholder(n)` for the `n`th value (row id, company, actor,
    /// entry id, detail, time).
    pub(crate) fn insert_sql(&self, placeholder: impl Fn(usize) -> String) -> String {
        let (table, id_column, detail_column) = self.kind.columns();
        let values: Vec<String> = (1..=6).map(placeholder).collect();
        format!(
            "INSERT INTO {table} (id, company_id, user_id, {id_column}, {detail_column}, created_at)
             VALUES ({})",
            values.join(", ")
        )
    }
}

impl LogKind {
    /// The `UPDATE` of an entry's detail, with `placeholder(n)` for the entry id (1) and
    /// the detail (2).
    pub(crate) fn update_detail_sql(self, placeholder: impl Fn(usize) -> String) -> String {
        let (table, id_column, detail_column) = self.columns();
        format!(
            "UPDATE {table} SET {detail_column} = {} WHERE {id_column} = {}",
            placeholder(2),
            placeholder(1)
        )
    }
}

/// Where log rows are written and read: one implementation per backend.
pub(crate) trait LogStore {
    fn insert_entry(&self, entry: &NewEntry<'_>) -> Result<()>;
    /// Replaces the detail (JSON text) of the entry of `kind` with this id.
    fn set_detail(&self, kind: LogKind, entry_id: &str, detail: &str) -> Result<()>;
    /// Whether the database has this log's table.
    fn has_log(&self, kind: LogKind) -> Result<bool>;
    /// The rows of `EntryQuery::sql` in this backend's words.
    fn query_entries(&self, query: &EntryQuery<'_>) -> Result<Vec<LogEntry>>;
}

/// A read of log entries: the company's, of `kinds` (whose tables exist), newest first,
/// either all (up to `limit`) or the one with `entry_id`.
pub(crate) struct EntryQuery<'a> {
    pub kinds: &'a [LogKind],
    pub company_id: &'a str,
    pub entry_id: Option<&'a str>,
    pub limit: Option<u64>,
}

impl EntryQuery<'_> {
    /// The query, with `param(n)` for the `n`th parameter (the company, then the entry id
    /// or the limit) and `detail(column)` for a detail column read as text.
    pub(crate) fn sql(
        &self,
        param: impl Fn(usize) -> String,
        detail: impl Fn(&str) -> String,
    ) -> String {
        let selects: Vec<String> = self
            .kinds
            .iter()
            .map(|kind| {
                let (table, id_column, detail_column) = kind.columns();
                let only = match self.entry_id {
                    Some(_) => format!(" AND l.{id_column} = {}", param(2)),
                    None => String::new(),
                };
                format!(
                    "SELECT '{}', l.{id_column}, l.created_at, l.user_id, u.email, {}
                     FROM {table} l LEFT JOIN users u ON u.id = l.user_id
                     WHERE l.company_id = {}{only}",
                    kind.name(),
                    detail(&format!("l.{detail_column}")),
                    param(1)
                )
            })
            .collect();
        let limit = match self.entry_id {
            Some(_) => String::new(),
            None => format!(" LIMIT {}", param(2)),
        };
        format!(
            "{} ORDER BY 3 DESC, 2 DESC{limit}",
            selects.join(" UNION ALL ")
        )
    }

    /// The limit as a number: `None` is no limit.
    pub(crate) fn limit(&self) -> Option<i64> {
        self.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl LogStore for Connection {
    fn set_detail(&self, kind: LogKind, entry_id: &str, detail: &str) -> Result<()> {
        self.execute(
            &kind.update_detail_sql(|n| format!("?{n}")),
            params![entry_id, detail],
        )?;
        Ok(())
    }

    fn has_log(&self, kind: LogKind) -> Result<bool> {
        has_table(self, kind.table())
    }

    fn query_entries(&self, query: &EntryQuery<'_>) -> Result<Vec<LogEntry>> {
        let sql = query.sql(|n| format!("?{n}"), str::to_owned);
        let mut stmt = self.prepare(&sql)?;
        let mut rows = match query.entry_id {
            Some(id) => stmt.query(params![query.company_id, id])?,
            // SQLite's "no limit" is -1.
            None => stmt.query(params![query.company_id, query.limit().unwrap_or(-1)])?,
        };
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            entries.push(entry_of(row)?);
        }
        Ok(entries)
    }

    fn insert_entry(&self, entry: &NewEntry<'_>) -> Result<()> {
        self.execute(
            &entry.insert_sql(|n| format!("?{n}")),
            params![
                uuid::Uuid::new_v4().to_string(),
                entry.company_id,
                entry.actor_id,
                entry.entry_id,
                entry.detail,
                entry.created_at
            ],
        )?;
        Ok(())
    }
}

impl LogStore for super::Database {
    fn set_detail(&self, kind: LogKind, entry_id: &str, detail: &str) -> Result<()> {
        match self {
            super::Database::Sqlite(conn) => conn.set_detail(kind, entry_id, detail),
            super::Database::Postgres(server) => server.set_detail(kind, entry_id, detail),
        }
    }

    fn insert_entry(&self, entry: &NewEntry<'_>) -> Result<()> {
        match self {
            super::Database::Sqlite(conn) => conn.insert_entry(entry),
            super::Database::Postgres(server) => server.insert_entry(entry),
        }
    }

    fn has_log(&self, kind: LogKind) -> Result<bool> {
        match self {
            super::Database::Sqlite(conn) => conn.has_log(kind),
            super::Database::Postgres(server) => server.has_log(kind),
        }
    }

    fn query_entries(&self, query: &EntryQuery<'_>) -> Result<Vec<LogEntry>> {
        match self {
            super::Database::Sqlite(conn) => conn.query_entries(query),
            super::Database::Postgres(server) => server.query_entries(query),
        }
    }
}

/// Appends an entry to its detail's log.
pub(crate) fn insert<D: Detail>(
    conn: &impl LogStore,
    company_id: &str,
    actor_id: Option<&str>,
    entry_id: &str,
    detail: &D,
    created_at: &str,
) -> Result<()> {
    conn.insert_entry(&NewEntry {
        kind: D::KIND,
        company_id,
        actor_id,
        entry_id,
        detail: &stored(detail)?,
        created_at,
    })
}

/// The company's entries of the chosen kinds, newest first.
pub(crate) fn list(
    conn: &impl LogStore,
    company_id: &str,
    kinds: &[LogKind],
    limit: Option<u64>,
) -> Result<Vec<LogEntry>> {
    let kinds = present(conn, kinds)?;
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    conn.query_entries(&EntryQuery {
        kinds: &kinds,
        company_id,
        entry_id: None,
        limit,
    })
}

/// The company's entry with this id, of any kind.
pub(crate) fn find(
    conn: &impl LogStore,
    company_id: &str,
    entry_id: &str,
) -> Result<Option<LogEntry>> {
    find_of(conn, company_id, entry_id, &LogKind::ALL)
}

/// The company's entry with this id, of one of these kinds.
pub(crate) fn find_of(
    conn: &impl LogStore,
    company_id: &str,
    entry_id: &str,
    kinds: &[LogKind],
) -> Result<Option<LogEntry>> {
    for kind in present(conn, kinds)? {
        let found = conn.query_entries(&EntryQuery {
            kinds: &[kind],
            company_id,
            entry_id: Some(entry_id),
            limit: None,
        })?;
        if let Some(entry) = found.into_iter().next() {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// The archive file recorded for an export of this company, while it is still the file
/// that export wrote: one changed since (overwritten, edited, damaged) is an invalid archive.
pub(crate) fn exported_file(
    conn: &impl LogStore,
    company: &super::tenant::Company,
    export_id: &str,
) -> Result<PathBuf> {
    let Some(entry) = find_of(conn, &company.id, export_id, &[LogKind::Export])? else {
        return Err(Failure::NotFound(format!(
            "unknown export id {export_id} for {}",
            company.name
        ))
        .into());
    };
    let expired = || {
        Failure::NotFound(format!(
            "Export file not found or has expired (export {export_id})"
        ))
    };
    let detail: ExportDetail = entry.read();
    let pruned = matches!(Retention::of(&detail), Retention::Pruned { .. });
    let Some(recorded) = RecordedArchive::of(&detail).filter(|_| !pruned) else {
        return Err(expired().into());
    };
    match recorded.state()? {
        FileState::Unchanged => Ok(recorded.path().to_owned()),
        FileState::Changed(change) => Err(Failure::InvalidArchive(format!(
            "{}: changed since export {export_id}: {change}",
            recorded.file
        ))
        .into()),
        FileState::Missing => Err(expired().into()),
    }
}

/// Those of `kinds` whose table the database has.
fn present(conn: &impl LogStore, kinds: &[LogKind]) -> Result<Vec<LogKind>> {
    let mut present = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        if conn.has_log(kind)? {
            present.push(kind);
        }
    }
    Ok(present)
}

/// Replaces an entry's detail (prune completes its own row).
pub(crate) fn update_detail<D: Detail>(
    conn: &impl LogStore,
    entry_id: &str,
    detail: &D,
) -> Result<()> {
    conn.set_detail(D::KIND, entry_id, &stored(detail)?)
}

/// Changes an entry's detail and writes it back (prune marks the exports whose files it
/// deletes). A detail that is not a JSON object, which only a row someone else wrote can
/// have, holds nothing the tool changes, and is left as it is.
pub(crate) fn change_detail<D: Detail>(
    conn: &impl LogStore,
    entry: &LogEntry,
    change: impl FnOnce(&mut D),
) -> Result<()> {
    if !entry.detail.is_object() {
        return Ok(());
    }
    let mut detail = entry.read();
    change(&mut detail);
    update_detail(conn, &entry.id, &detail)
}

/// A detail as a row stores it: JSON text with its keys in alphabetical order, as every
/// version has written them.
fn stored<D: Detail>(detail: &D) -> Result<String> {
    Ok(serde_json::to_value(detail)?.to_string())
}

/// How far prune has got with an export's archive, as the export's log detail records it
/// (`deletingSince`, `prunedAt`, `pruneId`): prune marks an archive `Deleting` and commits
/// before it deletes the file, and `Pruned` once it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Retention {
    /// Prune has not touched it.
    Kept,
    /// A prune is deleting the file, or was until it was interrupted: the next prune finishes.
    Deleting { prune_id: String, since: String },
    /// A prune deleted the file.
    Pruned {
        prune_id: Option<String>,
        at: String,
    },
}

impl Retention {
    pub(crate) fn of(detail: &ExportDetail) -> Self {
        match (&detail.pruned_at, &detail.deleting_since, &detail.prune_id) {
            (Some(at), _, prune_id) => Retention::Pruned {
                prune_id: prune_id.clone(),
                at: at.clone(),
            },
            (None, Some(since), Some(prune_id)) => Retention::Deleting {
                prune_id: prune_id.clone(),
                since: since.clone(),
            },
            _ => Retention::Kept,
        }
    }

    /// The detail with this state in place of the one it had.
    pub(crate) fn write_to(&self, detail: &mut ExportDetail) {
        (detail.pruned_at, detail.deleting_since, detail.prune_id) = match self.clone() {
            Retention::Kept => (None, None, None),
            Retention::Deleting { prune_id, since } => (None, Some(since), Some(prune_id)),
            Retention::Pruned { prune_id, at } => (Some(at), None, prune_id),
        };
    }
}

/// The archive file an export's log detail records (`file`), with the length and SHA-256
/// it was written with (`bytes`, `sha256`). An export to stdout (`-`) and a row the web
/// app wrote record no file here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedArchive {
    /// The path as recorded: absolute and canonical when the tool wrote it.
    pub file: String,
    /// None when the row records no length or SHA-256: then no file is the one exported.
    pub digest: Option<EntryDigest>,
}

/// Whether a recorded archive is still on disk as the export wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileState {
    /// Not there: deleted, moved, or on a drive that is not mounted.
    Missing,
    /// The length and SHA-256 the export recorded.
    Unchanged,
    /// Something else is there now (overwritten by a later `export --force`, edited, or
    /// damaged): import refuses it and prune keeps it.
    Changed(Change),
}

/// How a recorded archive differs from the file now at its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub recorded: Option<EntryDigest>,
    /// The file's length now.
    pub bytes: u64,
    /// Its SHA-256 now; not read when the length already differs.
    pub sha256: Option<String>,
}

impl RecordedArchive {
    pub(crate) fn of(detail: &ExportDetail) -> Option<Self> {
        let file = detail.file.as_ref().filter(|file| *file != "-")?;
        let digest = match (detail.bytes, &detail.sha256) {
            (Some(bytes), Some(sha256)) => Some(EntryDigest {
                bytes,
                sha256: sha256.clone(),
            }),
            _ => None,
        };
        Some(Self {
            file: file.clone(),
            digest,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        Path::new(&self.file)
    }

    /// Compares the file with the record: its length first, then (only when that matches)
    /// its SHA-256, which reads the whole file once.
    pub(crate) fn state(&self) -> Result<FileState> {
        let path = self.path();
        if !path.is_file() {
            return Ok(FileState::Missing);
        }
        let bytes = path
            .metadata()
            .with_context(|| format!("cannot read the size of {}", self.file))?
            .len();
        let changed = |sha256| {
            FileState::Changed(Change {
                recorded: self.digest.clone(),
                bytes,
                sha256,
            })
        };
        let Some(recorded) = self.digest.as_ref().filter(|d| d.bytes == bytes) else {
            return Ok(changed(None));
        };
        let found = digest_file(path).with_context(|| format!("cannot read {}", self.file))?;
        Ok(if found == *recorded {
            FileState::Unchanged
        } else {
            changed(Some(found.sha256))
        })
    }
}

impl fmt::Display for Change {
    /// `expected 3990 bytes with SHA-256 …, found 4001 bytes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(recorded) = &self.recorded else {
            return write!(
                f,
                "the export recorded no size or SHA-256 to compare its {} bytes with",
                self.bytes
            );
        };
        match &self.sha256 {
            Some(found) => write!(
                f,
                "expected SHA-256 {}, found {found} (the same {} bytes)",
                recorded.sha256, self.bytes
            ),
            None => write!(
                f,
                "expected {} bytes with SHA-256 {}, found {} bytes",
                recorded.bytes, recorded.sha256, self.bytes
            ),
        }
    }
}

/// A row of `EntryQuery::sql`.
pub(crate) fn entry_of<R: super::columns::RowRead>(row: &R) -> Result<LogEntry> {
    let kind = match row.get::<String>(0)?.as_str() {
        "export" => LogKind::Export,
        "import" => LogKind::Import,
        _ => LogKind::Prune,
    };
    let text: Option<String> = row.get(5)?;
    // Entries the web app wrote may hold anything; an unreadable detail is kept as text.
    let detail = text.map_or(Value::Null, |t| {
        serde_json::from_str(&t).unwrap_or(Value::String(t))
    });
    Ok(LogEntry {
        kind,
        id: row.get(1)?,
        created_at: row.get(2)?,
        actor_id: row.get(3)?,
        actor_email: row.get(4)?,
        detail,
    })
}
