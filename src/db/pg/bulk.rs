//! A bulk load into empty tables, as a restore into an empty database does it: their keys,
//! indexes and foreign keys set aside (`set_aside`) and made again once the rows are in
//! (`Restore`), each checking every row at once: the tickets' tables, and the users'.
//! ARCHITECTURE.md ("An import") says when.

use anyhow::Result;
use postgres::Transaction;

use crate::db::import_rows::{Kind, USERS};
use crate::error::Failure;

/// The tables a restore's tickets fill.
pub(super) const TICKET_TABLES: &[&str] = &[
    "tickets",
    "ticket_notes",
    "ticket_history",
    "file_attachments",
];
/// The tables a restore's users fill.
pub(super) const USER_TABLES: &[&str] = &["users", "user_company_associations"];

/// What a row of a table with an `id` key is called, for an id the archive holds twice.
fn record_name(table: &str) -> Option<&'static str> {
    if table == USERS.table {
        return Some("user");
    }
    (Kind::ALL.into_iter())
        .find(|kind| kind.table().table == table)
        .map(Kind::name)
}

/// One statement that puts back what a bulk load set aside.
pub(super) struct Restore {
    /// 1 for a key, 2 an index, 3 a foreign key: the order they are made again in.
    step: i32,
    sql: String,
    /// The table, for a primary key or unique constraint (which an id twice fails).
    unique_on: Option<String>,
    /// For a foreign key that checks every attachment's ticket, or note: which.
    checks: Option<Kind>,
}

impl Restore {
    /// A primary key or unique constraint, put back first.
    pub(super) fn is_key(&self) -> bool {
        self.unique_on.is_some()
    }

    /// The attachments' reference (to their ticket, or note) that this foreign key checks
    /// when it is made again, if it is one of theirs.
    pub(super) fn checks(&self) -> Option<Kind> {
        self.checks
    }

    /// Where it comes in the order they are made again: keys first (a foreign key needs the
    /// key it names), then indexes, then foreign keys.
    pub(super) fn step(&self) -> i32 {
        self.step
    }

    /// Makes it again; a key that finds an id twice is the archive's error.
    pub(super) fn run(&self, tx: &mut Transaction<'_>) -> Result<()> {
        tx.batch_execute(&self.sql).map_err(|err| self.failure(err))
    }

    /// What a failure to put it back means: an id twice in the archive, or the error.
    fn failure(&self, err: postgres::Error) -> anyhow::Error {
        let duplicate = err.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION);
        let kind = self.unique_on.as_deref().and_then(record_name);
        // "Key (id)=(…) is duplicated."
        let id = err
            .as_db_error()
            .and_then(|db| db.detail())
            .and_then(|detail| detail.strip_prefix("Key (id)=("))
            .and_then(|rest| rest.strip_suffix(") is duplicated."));
        match (duplicate, kind, id) {
            (true, Some(kind), Some(id)) => {
                Failure::InvalidArchive(format!("the archive holds {kind} {id} more than once"))
                    .into()
            }
            _ => anyhow::Error::new(err).context(format!("cannot run `{}`", self.sql)),
        }
    }
}

/// Sets aside the foreign keys, keys and indexes of `tables` (and the foreign keys that
/// name them), and gives the statements that put them back, when a bulk load is safe: the
/// tables are plain tables (without row-level security, whose policies could hide rows from
/// the look for any), the import may alter them, no row is in any, and an exclusive
/// lock on each, and on the tables whose foreign keys name them, was free at once
/// (taken, so none can be added but the import's until it
/// ends). None when it is not.
pub(super) fn set_aside(tx: &mut Transaction<'_>, tables: &[&str]) -> Result<Option<Vec<Restore>>> {
    // The tables whose foreign keys name them are altered too (those keys dropped): they
    // are locked with them, at once or not at all, never waited for.
    let related: Vec<String> = tx
        .query(
            "SELECT DISTINCT k.conrelid::regclass::text FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.confrelid
             WHERE k.contype = 'f' AND c.relname = ANY($1)
               AND c.relnamespace = current_schema()::regnamespace
               AND NOT k.conrelid IN (SELECT oid FROM pg_class WHERE relname = ANY($1)
                                      AND relnamespace = current_schema()::regnamespace)",
            &[&tables],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let locked: Vec<&str> = (tables.iter().copied())
        .chain(related.iter().map(String::as_str))
        .collect();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT",
        locked.join(", ")
    ))?;
    let empty: Vec<String> = tables
        .iter()
        .map(|table| format!("NOT EXISTS (SELECT 1 FROM {table})"))
        .collect();
    let fit: bool = tx
        .query_one(
            &format!(
                "WITH t AS (SELECT oid, relname FROM pg_class
                            WHERE relname = ANY($1)
                              AND relnamespace = current_schema()::regnamespace),
                      related AS (SELECT conrelid AS oid FROM pg_constraint
                                  WHERE confrelid IN (SELECT oid FROM t)
                                  UNION SELECT oid FROM t)
                 SELECT count(*) = {count}
                    AND bool_and(c.relkind = 'r' AND c.relreplident <> 'i'
                                 AND NOT c.relrowsecurity
                                 AND NOT c.relhassubclass
                                 AND NOT EXISTS (SELECT 1 FROM pg_inherits i
                                                 WHERE i.inhrelid = c.oid))
                    AND (SELECT bool_and(pg_has_role(r.relowner, 'USAGE'))
                         FROM pg_class r WHERE r.oid IN (SELECT oid FROM related))
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                    WHERE k.conrelid IN (SELECT oid FROM t)
                                      AND k.contype NOT IN ('p', 'u', 'f', 'c'))
                    AND {empty}
                 FROM pg_class c WHERE c.oid IN (SELECT oid FROM t)",
                count = tables.len(),
                empty = empty.join(" AND "),
            ),
            &[&tables],
        )?
        .get(0);
    if !fit {
        return Ok(None);
    }
    // Put back keys first (a foreign key needs the key it names), then indexes, then
    // foreign keys; set aside the other way round.
    // A foreign key from file_attachments (ticket_id) to tickets (id), or (note_id) to
    // ticket_notes (id), checks that reference of every attachment when it is made again
    // (unless it was NOT VALID or NOT ENFORCED, and is so again).
    let rows = tx.query(
        "WITH t AS (SELECT oid, relname::text FROM pg_class
                    WHERE relname = ANY($1) AND relnamespace = current_schema()::regnamespace)
         SELECT 1 AS step, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),
                format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,
                       pg_get_constraintdef(k.oid)),
                k.conrelid::regclass::text, NULL
         FROM pg_constraint k WHERE k.conrelid IN (SELECT oid FROM t) AND k.contype IN ('p', 'u')
         UNION ALL
         SELECT 2, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid),
                NULL, NULL
         FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM t)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                                                           AND k.conrelid = i.indrelid)
         UNION ALL
         SELECT 3, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),
                format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,
                       pg_get_constraintdef(k.oid)),
                NULL,
                CASE WHEN k.convalidated
                          AND coalesce((to_jsonb(k) ->> 'conenforced')::boolean, true)
                          AND k.conrelid = (SELECT oid FROM t WHERE relname = 'file_attachments')
                          AND cardinality(k.conkey) = 1
                          AND (SELECT attname FROM pg_attribute
                               WHERE attrelid = k.confrelid AND attnum = k.confkey[1]) = 'id'
                THEN CASE (SELECT attname FROM pg_attribute
                           WHERE attrelid = k.conrelid AND attnum = k.conkey[1])
                  WHEN 'ticket_id' THEN CASE WHEN k.confrelid = (SELECT oid FROM t
                                                                 WHERE relname = 'tickets')
                                             THEN 'ticket' END
                  WHEN 'note_id' THEN CASE WHEN k.confrelid = (SELECT oid FROM t
                                                               WHERE relname = 'ticket_notes')
                                           THEN 'note' END
                END END
         FROM pg_constraint k WHERE k.contype = 'f'
           AND (k.conrelid IN (SELECT oid FROM t) OR k.confrelid IN (SELECT oid FROM t))
         ORDER BY 1, 2",
        &[&tables],
    )?;
    for row in rows.iter().rev() {
        tx.batch_execute(row.get(1))?;
    }
    Ok(Some(
        rows.iter()
            .map(|row| Restore {
                step: row.get(0),
                sql: row.get(2),
                unique_on: row.get(3),
                checks: match row.get::<_, Option<&str>>(4) {
                    Some("ticket") => Some(Kind::Ticket),
                    Some("note") => Some(Kind::Note),
                    _ => None,
                },
            })
            .collect(),
    ))
}
