//! `ImportTarget` on PostgreSQL: the import's lookups and writes in its dialect (`$n`,
//! `jsonb`, `lower(email)` under `COLLATE "C"`), inside the import's one transaction, each
//! statement prepared once per transaction and reused. New rows are held back and sent in
//! batches with `COPY … FROM STDIN`, one round trip for thousands of rows, full batches on a
//! thread of their own while the import goes on; updates of existing records and id map
//! entries are held too, and sent a few hundred per statement; anything else the import
//! asks of the database waits for them and sends the rest first, so it always sees them.
//! Into empty tables, a bulk load (`bulk`).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::Scope;

use anyhow::{Context, Result, anyhow, bail};
use postgres::types::{ToSql, Type};
use postgres::{Row, Statement, Transaction};

use super::Server;
use super::bulk::{Restore, TICKET_TABLES, USER_TABLES, set_aside};
use crate::archive::records::CompanyRecord;
use crate::db::import_rows::{
    ATTACHMENTS, Bound, CUSTOM_FIELDS, Counted, Dialect, ExistingUser, HISTORY, IdMapSql,
    ImportTarget, ImportWork, Kind, MapKey, NOTES, TICKETS, TargetField, USERS, Updated, Write,
    Written,
};
use crate::db::schema::ToolTable;

/// PostgreSQL's words for `Updated`'s statements: JSON bound as text and cast, compared as
/// `jsonb` values (key order and spacing aside).
const POSTGRES: Dialect = Dialect {
    param: |n, json| match json {
        true => format!("${n}::jsonb"),
        false => format!("${n}"),
    },
    same: |column, param, _| format!("{column} IS NOT DISTINCT FROM {param}"),
};

/// The id map's statements in PostgreSQL's words, written once.
fn pg_id_map() -> &'static IdMapSql {
    static SQL: OnceLock<IdMapSql> = OnceLock::new();
    SQL.get_or_init(|| IdMapSql::new(|n| format!("${n}")))
}

/// `IdMapSql::map` for arrays of entries, one array per column.
fn pg_map_many() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        IdMapSql::map_from(
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])",
        )
    })
}

/// A transaction-scoped advisory lock per company: two imports into one company never
/// interleave (the second waits, up to the busy timeout).
const COMPANY_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('bomizzel-import:' || $1::text))";

/// Transaction-scoped advisory locks, one per email (folded to ASCII lowercase), taken in
/// the order given by an import about to create those users: two imports into different
/// companies that would both create the same user take turns, and the second finds the
/// first's user (as SQLite's one writer at a time does) instead of failing on the unique
/// email.
const EMAIL_LOCKS: &str = "SELECT pg_advisory_xact_lock(hashtext('bomizzel-email:' || e))
     FROM unnest($1::text[] COLLATE \"C\") WITH ORDINALITY AS t(e, n) ORDER BY n";

impl Server {
    /// Its `text` and `jsonb` cannot hold U+0000.
    pub(crate) const STORES_NUL: bool = false;

    /// `Database::import_transaction` on PostgreSQL.
    pub(crate) fn import_transaction<W: ImportWork>(
        &self,
        company_id: &str,
        work: W,
    ) -> Result<W::Output> {
        // The tool's tables first, in a short transaction of their own (`CREATE TABLE IF
        // NOT EXISTS` under a lock): the import's then holds no lock on the catalog.
        self.create_tool_tables_now(&[ToolTable::IdMap, ToolTable::ImportLog])?;
        let mut client = self.client();
        let mut tx = client
            .transaction()
            .with_context(|| format!("cannot begin the import's transaction on {}", self.url()))?;
        tx.batch_execute(&self.lock_timeout_sql())?;
        tx.execute(COMPANY_LOCK, &[&company_id])?;
        let tx = Mutex::new(tx);
        let output = std::thread::scope(|scope| {
            let target = PgTarget::new(&tx, Some(Copier::start(scope, &tx)), true);
            let output = work.run(&target)?;
            target.flush()?;
            anyhow::Ok(output)
        })?;
        tx.into_inner()
            .map_err(|_| lost_connection())?
            .commit()
            .context("cannot commit the import")?;
        Ok(output)
    }

    /// `Database::plan_transaction` on PostgreSQL: a read-only transaction, rolled back.
    pub(crate) fn plan_transaction<W: ImportWork>(&self, work: W) -> Result<W::Output> {
        let mut client = self.client();
        let tx = Mutex::new(client.build_transaction().read_only(true).start()?);
        work.run(&PgTarget::new(&tx, None, false))
    }
}

/// The connection, once no other thread uses it.
fn unlock<'t, 'c>(tx: &'t Mutex<Transaction<'c>>) -> Result<MutexGuard<'t, Transaction<'c>>> {
    tx.lock().map_err(|_| lost_connection())
}

/// A panic on the copier (which ends the process in a release build) left the connection.
fn lost_connection() -> anyhow::Error {
    anyhow!("the import's connection was left in an unknown state")
}

/// A table whose new rows are held back: one `put` writes, or the memberships of the new
/// users held (which can only be new).
#[derive(Clone, Copy)]
enum HeldTable {
    Rows(&'static Updated),
    Memberships,
}

use HeldTable::{Memberships, Rows};

/// The held tables, in the order their foreign keys need them sent: a row's parents always
/// go first.
static HELD_TABLES: [HeldTable; 7] = [
    Rows(&USERS),
    Memberships,
    Rows(&CUSTOM_FIELDS),
    Rows(&TICKETS),
    Rows(&NOTES),
    Rows(&HISTORY),
    Rows(&ATTACHMENTS),
];

impl HeldTable {
    fn name(self) -> &'static str {
        match self {
            Rows(table) => table.table,
            Memberships => "user_company_associations",
        }
    }

    /// `COPY` of the table's new rows, their columns named.
    fn copy_sql(self) -> String {
        let columns = match self {
            Rows(table) => table.bound_columns().collect::<Vec<_>>().join(", "),
            Memberships => MEMBERSHIP_COLUMNS.to_owned(),
        };
        format!("COPY {} ({columns}) FROM STDIN", self.name())
    }
}

/// Held updates of a kind are sent once this many are held (or when anything else is
/// asked).
const HELD_UPDATES: usize = 512;

/// The kinds of record whose updates are held, in `Kind`'s order.
const RECORD_KINDS: [Kind; 4] = [Kind::Ticket, Kind::Note, Kind::History, Kind::Attachment];

/// `Updated`'s statements over many rows: each parameter is a column of `unnest`'s rows.
const UNNESTED: Dialect = Dialect {
    param: |n, json| match json {
        true => format!("v.c{n}::jsonb"),
        false => format!("v.c{n}"),
    },
    same: POSTGRES.same,
};

/// The held updates (or comparisons) of one kind's rows: a column of values per bound
/// value, sent as arrays in one statement whose count says how many rows changed. A row is
/// updated once per statement (`holds`).
struct HeldUpdates {
    kind: Kind,
    write: Write,
    columns: Vec<HeldColumn>,
    /// The ids of the rows held (their first value).
    ids: foldhash::HashSet<String>,
    /// Prepared on first use.
    statement: Option<Statement>,
}

/// One bound value's column of held values.
enum HeldColumn {
    Text(Vec<Option<String>>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

impl HeldColumn {
    fn len(&self) -> usize {
        match self {
            HeldColumn::Text(texts) => texts.len(),
            HeldColumn::Int(ints) => ints.len(),
            HeldColumn::Bool(bools) => bools.len(),
        }
    }

    fn clear(&mut self) {
        match self {
            HeldColumn::Text(texts) => texts.clear(),
            HeldColumn::Int(ints) => ints.clear(),
            HeldColumn::Bool(bools) => bools.clear(),
        }
    }
}

impl HeldUpdates {
    /// An empty set, with columns of the types `values` has.
    fn new(kind: Kind, write: Write, values: &[Bound<'_>]) -> Self {
        let columns = (values.iter())
            .map(|value| match value {
                Bound::Text(_) | Bound::Json(_) => HeldColumn::Text(Vec::new()),
                Bound::Int(_) => HeldColumn::Int(Vec::new()),
                Bound::Bool(_) => HeldColumn::Bool(Vec::new()),
            })
            .collect();
        Self {
            kind,
            write,
            columns,
            ids: foldhash::HashSet::default(),
            statement: None,
        }
    }

    /// Whether the row these values update is held already.
    fn holds(&self, values: &[Bound<'_>]) -> bool {
        matches!(values.first(), Some(Bound::Text(Some(id))) if self.ids.contains(*id))
    }

    fn push(&mut self, values: &[Bound<'_>]) -> Result<()> {
        if let Some(Bound::Text(Some(id))) = values.first() {
            self.ids.insert((*id).to_owned());
        }
        for (column, value) in self.columns.iter_mut().zip(values) {
            match (column, value) {
                (HeldColumn::Text(texts), Bound::Text(text) | Bound::Json(text)) => {
                    texts.push(text.map(str::to_owned));
                }
                (HeldColumn::Int(ints), Bound::Int(n)) => ints.push(*n),
                (HeldColumn::Bool(bools), Bound::Bool(b)) => bools.push(*b),
                _ => bail!("a {} row's values changed type", self.kind.name()),
            }
        }
        Ok(())
    }

    /// How many rows are held.
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, HeldColumn::len)
    }

    /// Sends the held rows in one statement and empties the columns: how many changed (or
    /// would) and how many were the same; `None` when none were held.
    fn send(&mut self, tx: &mut Transaction<'_>) -> Result<Option<Counted>> {
        let rows = self.rows() as u64;
        if rows == 0 {
            return Ok(None);
        }
        let statement = match &self.statement {
            Some(statement) => statement.clone(),
            None => {
                let prepared = self.prepare(tx)?;
                self.statement.insert(prepared).clone()
            }
        };
        let params: Vec<&(dyn ToSql + Sync)> = (self.columns.iter())
            .map(|column| match column {
                HeldColumn::Text(texts) => texts as &(dyn ToSql + Sync),
                HeldColumn::Int(ints) => ints,
                HeldColumn::Bool(bools) => bools,
            })
            .collect();
        let changed = match self.write {
            Write::Compare => tx.query(&statement, &params)?.len() as u64,
            Write::Insert | Write::Update => tx.execute(&statement, &params)?,
        };
        self.ids.clear();
        self.columns.iter_mut().for_each(HeldColumn::clear);
        Ok(Some(Counted {
            changed,
            same: rows.saturating_sub(changed),
        }))
    }

    /// `Updated`'s update (or comparison) with the rows of `unnest` over the columns.
    fn prepare(&self, tx: &mut Transaction<'_>) -> Result<Statement> {
        let (arrays, types): (Vec<String>, Vec<Type>) = (self.columns.iter().enumerate())
            .map(|(i, column)| {
                let (name, array) = match column {
                    HeldColumn::Text(_) => ("text", Type::TEXT_ARRAY),
                    HeldColumn::Int(_) => ("int8", Type::INT8_ARRAY),
                    HeldColumn::Bool(_) => ("bool", Type::BOOL_ARRAY),
                };
                (format!("${}::{name}[]", i + 1), array)
            })
            .unzip();
        let names: Vec<String> = (1..=arrays.len()).map(|n| format!("c{n}")).collect();
        let source = format!("unnest({}) AS v({})", arrays.join(", "), names.join(", "));
        let table = self.kind.table();
        let sql = match self.write {
            Write::Compare => table.differs_sql_in(&UNNESTED, Some(&source)),
            Write::Insert | Write::Update => table.update_sql_in(&UNNESTED, Some(&source)),
        };
        Ok(tx.prepare_typed(&sql, &types)?)
    }
}

/// A held membership's values, in this order.
const MEMBERSHIP_COLUMNS: &str = "user_id, company_id, role, created_at, updated_at";

/// Held rows are sent once they reach this many bytes (or when anything else is asked).
const HELD_BYTES: usize = 1 << 20;

/// New rows in `COPY`'s text format, of every table in one buffer: the room a batch takes
/// is the same whichever tables its rows are of.
#[derive(Default)]
struct Held {
    /// The rows, each ending in a newline, in the order they were held.
    text: Vec<u8>,
    /// Each row's table (its place in `HELD_TABLES`) and where the row ends in `text`.
    rows: Vec<(usize, usize)>,
}

impl Held {
    fn push(&mut self, table: usize, values: &[Bound<'_>]) {
        copy_row(&mut self.text, values);
        self.rows.push((table, self.text.len()));
    }

    /// The rows of one table, in order.
    fn rows_of(&self, table: usize) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.rows.iter().map(|&(_, end)| end));
        (self.rows.iter().zip(starts))
            .filter(move |((of, _), _)| *of == table)
            .map(|(&(_, end), start)| &self.text[start..end])
    }

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }
}

/// Writes held rows, table by table in `HELD_TABLES`' order, and empties the buffer
/// (whatever the outcome: a failed write fails the import).
fn send(tx: &mut Transaction<'_>, held: &mut Held) -> Result<()> {
    let sent = HELD_TABLES.iter().enumerate().try_for_each(|(at, table)| {
        copy_in(tx, table, held.rows_of(at))
            .with_context(|| format!("cannot write the new rows of {}", table.name()))
    });
    held.clear();
    sent
}

/// Writes rows of one table with one `COPY` (none without rows), in messages of 64 KiB
/// (the writer alone sends one per 4 KiB).
fn copy_in<'r>(
    tx: &mut Transaction<'_>,
    table: &HeldTable,
    rows: impl Iterator<Item = &'r [u8]>,
) -> Result<()> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(());
    }
    let mut copy = std::io::BufWriter::with_capacity(64 << 10, tx.copy_in(&table.copy_sql())?);
    for row in rows {
        copy.write_all(row)?;
    }
    copy.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .finish()?;
    Ok(())
}

/// A thread that writes full buffers of held rows while the import reads and decides the
/// next records: the server inserts one batch while the client makes the next. The
/// connection is the copier's from a hand-off until the import has its outcome back.
struct Copier {
    rows: SyncSender<Held>,
    /// Each batch's buffers back, emptied, with how the write went.
    done: Receiver<(Held, Result<()>)>,
}

impl Copier {
    fn start<'s, 'c: 's>(scope: &'s Scope<'s, '_>, tx: &'s Mutex<Transaction<'c>>) -> Self {
        let (rows, to_write) = sync_channel::<Held>(0);
        let (written, done) = sync_channel(1);
        scope.spawn(move || {
            for mut held in to_write {
                let outcome = unlock(tx).and_then(|mut tx| send(&mut tx, &mut held));
                if written.send((held, outcome)).is_err() {
                    break;
                }
            }
        });
        Self { rows, done }
    }
}

/// The import's transaction, its prepared statements and the new rows not yet sent.
struct PgTarget<'t, 'c> {
    tx: &'t Mutex<Transaction<'c>>,
    /// An import's copier (a plan writes nothing).
    copier: Option<Copier>,
    /// Whether the copier is writing a batch now.
    in_flight: Cell<bool>,
    /// The buffers of the batch written last, emptied, for the next one.
    spare: RefCell<Held>,
    statements: RefCell<HashMap<&'static str, Statement>>,
    writes: RefCell<HashMap<(&'static str, Write), Statement>>,
    held: RefCell<Held>,
    /// Updates (or comparisons) of existing records' rows, held to be sent together.
    updates: RefCell<Vec<HeldUpdates>>,
    /// Id map entries held: company, kind, archive id, local id, time.
    held_maps: RefCell<[Vec<String>; 5]>,
    /// What the updates sent so far found, per kind, until `later` tells it.
    counted: RefCell<[Counted; 4]>,
    /// The ids of the new users held, not sent yet (their memberships are held too).
    held_users: RefCell<HashSet<String>>,
    /// An import's transaction (not a plan's), which takes `EMAIL_LOCKS` for users it may
    /// create.
    importing: bool,
    /// During a bulk load (`bulk_load`): what puts the tables' keys, indexes and foreign
    /// keys back, in order, and is not back yet.
    restore: RefCell<Vec<Restore>>,
}

type Params<'p> = [&'p (dyn ToSql + Sync)];

/// Which of the attachments' references (to their ticket, their note) the foreign keys a
/// bulk load put back checked; or the error of one that found a reference astray.
type Checked = std::result::Result<Vec<Kind>, anyhow::Error>;

impl<'t, 'c> PgTarget<'t, 'c> {
    fn new(tx: &'t Mutex<Transaction<'c>>, copier: Option<Copier>, importing: bool) -> Self {
        Self {
            tx,
            copier,
            in_flight: Cell::new(false),
            spare: RefCell::default(),
            statements: RefCell::new(HashMap::new()),
            writes: RefCell::new(HashMap::new()),
            held: RefCell::default(),
            updates: RefCell::default(),
            held_maps: RefCell::default(),
            counted: RefCell::default(),
            held_users: RefCell::default(),
            importing,
            restore: RefCell::default(),
        }
    }

    /// Users by email (folded to ASCII lowercase), each with whether it is a member of the
    /// company and how many other companies it belongs to, as the database has them now.
    fn users_by_emails(
        &self,
        folded: &[impl AsRef<str> + Sync + ToSql],
        company_id: &str,
    ) -> Result<Vec<(String, ExistingUser)>> {
        self.query(
            "SELECT e.email, u.id,
                    EXISTS (SELECT 1 FROM user_company_associations a
                            WHERE a.user_id = u.id AND a.company_id = $2),
                    (SELECT count(*) FROM user_company_associations a
                     WHERE a.user_id = u.id AND a.company_id <> $2)
             FROM unnest($1::text[]) AS e(email)
             JOIN users u ON lower(u.email) = e.email COLLATE \"C\"",
            &[&folded, &company_id],
        )?
        .iter()
        .map(|row| {
            let user = ExistingUser {
                id: row.try_get(1)?,
                is_member: row.try_get(2)?,
                other_companies: row.try_get(3)?,
            };
            Ok((row.try_get(0)?, user))
        })
        .collect()
    }

    /// The transaction, with the held rows sent first and a bulk load's keys back:
    /// whatever comes next sees them, and finds a row by its id as fast as without a bulk
    /// load. (Its indexes and foreign keys come back before the commit.)
    fn tx(&self) -> Result<MutexGuard<'t, Transaction<'c>>> {
        self.send_held()?;
        self.put_back(Restore::is_key)??;
        self.connection()
    }

    /// The connection, once the copier has written what it was given (which every
    /// statement then sees), but not the rows still held.
    fn connection(&self) -> Result<MutexGuard<'t, Transaction<'c>>> {
        if self.in_flight.replace(false) {
            let copier = self.copier.as_ref().context("no copier")?;
            let (emptied, outcome) = copier.done.recv().map_err(|_| lost_connection())?;
            *self.spare.borrow_mut() = emptied;
            outcome?;
        }
        unlock(self.tx)
    }

    /// Gives the held rows to the copier, to be written while the import goes on (or
    /// writes them now, without one).
    fn hand_off(&self) -> Result<()> {
        let Some(copier) = &self.copier else {
            return self.send_held();
        };
        drop(self.connection()?);
        let rows = std::mem::replace(
            &mut *self.held.borrow_mut(),
            std::mem::take(&mut *self.spare.borrow_mut()),
        );
        self.held_users.borrow_mut().clear();
        copier.rows.send(rows).map_err(|_| lost_connection())?;
        self.in_flight.set(true);
        Ok(())
    }

    /// Writes the held rows, table by table in `HELD_TABLES`' order, then the held updates
    /// (which may name a row just written), counting what they changed.
    fn send_held(&self) -> Result<()> {
        self.held_users.borrow_mut().clear();
        let map_many = match self.held_maps.borrow()[0].is_empty() {
            true => None,
            false => Some(self.statement(pg_map_many())?),
        };
        let mut tx = self.connection()?;
        send(&mut tx, &mut self.held.borrow_mut())?;
        if let Some(map_many) = map_many {
            let mut maps = self.held_maps.borrow_mut();
            let columns = [&maps[0], &maps[1], &maps[2], &maps[3], &maps[4]];
            tx.execute(&map_many, &columns.map(|c| c as &(dyn ToSql + Sync)))?;
            maps.iter_mut().for_each(Vec::clear);
        }
        for updates in self.updates.borrow_mut().iter_mut() {
            let Some(counted) = updates.send(&mut tx)? else {
                continue;
            };
            let mut all = self.counted.borrow_mut();
            let kind = &mut all[updates.kind as usize];
            kind.changed += counted.changed;
            kind.same += counted.same;
        }
        Ok(())
    }

    /// Holds an update (or comparison) of an existing record's row, to be sent with others.
    fn hold_update(&self, kind: Kind, write: Write, values: &[Bound<'_>]) -> Result<()> {
        let full = {
            let mut updates = self.updates.borrow_mut();
            let at = match (updates.iter()).position(|u| u.kind == kind && u.write == write) {
                Some(at) => at,
                None => {
                    updates.push(HeldUpdates::new(kind, write, values));
                    updates.len() - 1
                }
            };
            // A row updated twice (two records of one row, one found through the id map)
            // is written in order, as two statements would write it.
            if updates[at].holds(values) {
                drop(updates);
                self.send_held()?;
                updates = self.updates.borrow_mut();
            }
            updates[at].push(values)?;
            updates[at].rows() >= HELD_UPDATES
        };
        if full {
            self.send_held()?;
        }
        Ok(())
    }

    /// Puts back those of what a bulk load set aside that `which` chooses, in order: each
    /// key, index or foreign key is made again, checking every row at once. A key that
    /// finds an id twice is the archive's doing.
    ///
    /// Tells which of the attachments' references the foreign keys made again checked;
    /// one that finds a reference astray is made in a savepoint, rolled back, so that the
    /// attachment can still be looked for (`stray_reference`): its error, instead.
    fn put_back(&self, which: fn(&Restore) -> bool) -> Result<Checked> {
        let now: Vec<Restore> = {
            let mut restore = self.restore.borrow_mut();
            let (now, later) = restore.drain(..).partition(which);
            *restore = later;
            now
        };
        let mut checked = Vec::new();
        if now.is_empty() {
            return Ok(Ok(checked));
        }
        let mut tx = self.connection()?;
        for step in now {
            let Some(kind) = step.checks() else {
                step.run(&mut tx)?;
                continue;
            };
            tx.batch_execute("SAVEPOINT bomizzel_check")?;
            if let Err(err) = step.run(&mut tx) {
                tx.batch_execute("ROLLBACK TO SAVEPOINT bomizzel_check")?;
                return Ok(Err(err));
            }
            tx.batch_execute("RELEASE SAVEPOINT bomizzel_check")?;
            checked.push(kind);
        }
        Ok(Ok(checked))
    }

    /// Sets `tables`' keys, indexes and foreign keys aside for a bulk load (`set_aside`),
    /// to be put back with any set aside before, in their order. False when the tables
    /// are not for one (in use, not empty, not the import's to alter): the locks taken to
    /// find out go with the savepoint, and rows go in one by one.
    fn bulk_load(&self, tables: &[&str]) -> Result<bool> {
        if !self.importing {
            return Ok(false);
        }
        self.send_held()?;
        let mut tx = self.connection()?;
        tx.batch_execute("SAVEPOINT bomizzel_bulk")?;
        match set_aside(&mut tx, tables) {
            Ok(Some(set_aside)) => {
                tx.batch_execute("RELEASE SAVEPOINT bomizzel_bulk")?;
                let mut restore = self.restore.borrow_mut();
                restore.extend(set_aside);
                restore.sort_by_key(Restore::step);
                Ok(true)
            }
            Ok(None) | Err(_) => {
                tx.batch_execute(
                    "ROLLBACK TO SAVEPOINT bomizzel_bulk; RELEASE SAVEPOINT bomizzel_bulk",
                )?;
                Ok(false)
            }
        }
    }

    fn statement(&self, sql: &'static str) -> Result<Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.connection()?.prepare(sql)?;
        self.statements.borrow_mut().insert(sql, stmt.clone());
        Ok(stmt)
    }

    fn query(&self, sql: &'static str, params: &Params<'_>) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        Ok(self.tx()?.query(&stmt, params)?)
    }

    fn query_opt(&self, sql: &'static str, params: &Params<'_>) -> Result<Option<Row>> {
        let stmt = self.statement(sql)?;
        Ok(self.tx()?.query_opt(&stmt, params)?)
    }

    /// Holds a new row of `table` back, to be sent with others of its table.
    fn hold(&self, table: &'static Updated, values: &[Bound<'_>]) -> Result<()> {
        let slot = HELD_TABLES
            .iter()
            .position(|held| matches!(held, Rows(held) if std::ptr::eq(*held, table)))
            .with_context(|| format!("no batch for the table {}", table.table))?;
        if std::ptr::eq(table, &USERS)
            && let Some(Bound::Text(Some(id))) = values.first()
        {
            self.held_users.borrow_mut().insert((*id).to_owned());
            // Its membership comes next (`set_membership`), held beside it: a full buffer
            // goes to the copier after that one, not between them.
            self.held.borrow_mut().push(slot, values);
            return Ok(());
        }
        self.hold_in(slot, values)
    }

    /// Holds a new row in the buffer of `HELD_TABLES[slot]`.
    fn hold_in(&self, slot: usize, values: &[Bound<'_>]) -> Result<()> {
        let full = {
            let mut held = self.held.borrow_mut();
            held.push(slot, values);
            held.text.len() >= HELD_BYTES
        };
        if full {
            self.hand_off()?;
        }
        Ok(())
    }

    fn exists(&self, sql: &'static str, params: &Params<'_>) -> Result<bool> {
        Ok(self.query_opt(sql, params)?.is_some())
    }

    fn text(&self, sql: &'static str, params: &Params<'_>) -> Result<Option<String>> {
        Ok(self
            .query_opt(sql, params)?
            .map(|row| row.try_get(0))
            .transpose()?)
    }

    /// The two text columns of each row `sql` finds.
    fn pairs(&self, sql: &'static str, params: &Params<'_>) -> Result<Vec<(String, String)>> {
        self.query(sql, params)?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The statement that writes `table`'s rows so, prepared with the values' types.
    fn write_statement(
        &self,
        table: &'static Updated,
        write: Write,
        values: &[Bound<'_>],
    ) -> Result<Statement> {
        let key = (table.table, write);
        if let Some(stmt) = self.writes.borrow().get(&key) {
            return Ok(stmt.clone());
        }
        let sql = match write {
            Write::Insert => table.insert_sql_in(&POSTGRES),
            Write::Update => table.update_sql_in(&POSTGRES, None),
            Write::Compare => table.differs_sql_in(&POSTGRES, None),
        };
        let types: Vec<Type> = values.iter().map(pg_type).collect();
        let stmt = self.connection()?.prepare_typed(&sql, &types)?;
        self.writes.borrow_mut().insert(key, stmt.clone());
        Ok(stmt)
    }
}

/// Appends a row in `COPY`'s text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_row(out: &mut Vec<u8>, values: &[Bound<'_>]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match value {
            Bound::Text(None) | Bound::Json(None) => out.extend_from_slice(b"\\N"),
            Bound::Text(Some(text)) | Bound::Json(Some(text)) => copy_text(out, text),
            Bound::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Bound::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        }
    }
    out.push(b'\n');
}

/// Text as a `COPY` text field: the backslash and the characters that end a field or a row
/// escaped, everything else as it is.
fn copy_text(out: &mut Vec<u8>, text: &str) {
    let mut rest = text.as_bytes();
    while let Some(at) = to_escape(rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// Where the first byte that `copy_text` escapes is. Most text has none: it is passed
/// over a word of 8 bytes at a time, and only a word with a backslash or a control
/// character in it is looked at byte by byte.
fn to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let escaped = |byte: &u8| matches!(byte, b'\\' | b'\t' | b'\n' | b'\r');
    let (words, tail) = bytes.as_chunks::<8>();
    for (n, word) in words.iter().enumerate() {
        let w = u64::from_le_bytes(*word);
        // A byte below 0x20, or a zero byte where a backslash was (each test sets a high
        // bit for such a byte, and may set one above it; the look that follows is exact).
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let backslash = backslash.wrapping_sub(ONES) & !backslash;
        if (control | backslash) & HIGH != 0
            && let Some(at) = word.iter().position(escaped)
        {
            return Some(n * 8 + at);
        }
    }
    let start = bytes.len() - tail.len();
    tail.iter().position(escaped).map(|at| start + at)
}

/// The type a value is bound as (JSON as text, cast to `jsonb` in the statement).
fn pg_type(value: &Bound<'_>) -> Type {
    match value {
        Bound::Text(_) | Bound::Json(_) => Type::TEXT,
        Bound::Int(_) => Type::INT8,
        Bound::Bool(_) => Type::BOOL,
    }
}

fn pg_value<'b>(value: &'b Bound<'_>) -> &'b (dyn ToSql + Sync) {
    match value {
        Bound::Text(text) | Bound::Json(text) => text,
        Bound::Int(n) => n,
        Bound::Bool(b) => b,
    }
}

/// `Kind::parent_sql` in PostgreSQL's words.
fn parent_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Ticket => "SELECT company_id FROM tickets WHERE id = $1",
        Kind::Note => "SELECT ticket_id FROM ticket_notes WHERE id = $1",
        Kind::History => "SELECT ticket_id FROM ticket_history WHERE id = $1",
        Kind::Attachment => "SELECT ticket_id FROM file_attachments WHERE id = $1",
    }
}

/// `Kind::rows_sql` in PostgreSQL's words: the ids are a `text[]`.
fn rows_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Ticket => "SELECT id, company_id FROM tickets WHERE id = ANY($1)",
        Kind::Note => "SELECT id, ticket_id FROM ticket_notes WHERE id = ANY($1)",
        Kind::History => "SELECT id, ticket_id FROM ticket_history WHERE id = ANY($1)",
        Kind::Attachment => "SELECT id, ticket_id FROM file_attachments WHERE id = ANY($1)",
    }
}

/// The rows of a kind under any ticket of a `text[]` (`ImportTarget::rows_under`); the
/// notes' and history's come off their `(ticket_id, created_at, id)` index alone.
fn under_sql(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Ticket => None,
        Kind::Note => Some("SELECT id, ticket_id FROM ticket_notes WHERE ticket_id = ANY($1)"),
        Kind::History => Some("SELECT id, ticket_id FROM ticket_history WHERE ticket_id = ANY($1)"),
        Kind::Attachment => {
            Some("SELECT id, ticket_id FROM file_attachments WHERE ticket_id = ANY($1)")
        }
    }
}

impl ImportTarget for PgTarget<'_, '_> {
    const LOOKS_AHEAD: bool = true;
    const STORES_NUL: bool = Server::STORES_NUL;

    fn has_tickets(&self, company_id: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM tickets WHERE company_id = $1 LIMIT 1",
            &[&company_id],
        )
    }

    fn id_map_in_use(&self, company_id: &str) -> Result<bool> {
        let present: bool = self
            .query_opt(
                "SELECT to_regclass('bomizzel_backup_id_map') IS NOT NULL",
                &[],
            )?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(false);
        Ok(present
            && self.exists(
                "SELECT 1 FROM bomizzel_backup_id_map WHERE company_id = $1 LIMIT 1",
                &[&company_id],
            )?)
    }

    fn members(&self, company_id: &str) -> Result<Vec<(String, String)>> {
        self.query(
            "SELECT u.email, u.id FROM users u
             JOIN user_company_associations a ON a.user_id = u.id
             WHERE a.company_id = $1",
            &[&company_id],
        )?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
    }

    fn custom_fields(&self, company_id: &str) -> Result<Vec<TargetField>> {
        self.query(
            "SELECT name, id, type, options::text FROM custom_fields WHERE company_id = $1",
            &[&company_id],
        )?
        .iter()
        .map(|row| {
            let field_type: String = row.try_get(2)?;
            let options: Option<String> = row.try_get(3)?;
            Ok(TargetField::stored(
                row.try_get(0)?,
                row.try_get(1)?,
                &field_type,
                options.as_deref(),
            ))
        })
        .collect()
    }

    /// `find_users` of one email: one way to find users, and to lock those not found.
    fn find_user(&self, email: &str, company_id: &str) -> Result<Option<ExistingUser>> {
        Ok(self
            .find_users(&[email], company_id)?
            .pop()
            .map(|(_, user)| user))
    }

    fn user_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM users WHERE id = $1", &[&id])
    }

    fn find_users(&self, emails: &[&str], company_id: &str) -> Result<Vec<(String, ExistingUser)>> {
        let folded: Vec<String> = emails.iter().map(|e| e.to_ascii_lowercase()).collect();
        let mut found = self.users_by_emails(&folded, company_id)?;
        if !self.importing {
            return Ok(found);
        }
        // About to create the rest: as `find_user`, after their locks (taken in one order by
        // every import, so two never wait on each other's), a user another import created
        // meanwhile is found, and none can be created until this one commits.
        let mut missing: Vec<&str> = folded
            .iter()
            .filter(|email| !found.iter().any(|(f, _)| f == *email))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort_unstable();
        missing.dedup();
        self.query(EMAIL_LOCKS, &[&missing])?;
        found.extend(self.users_by_emails(&missing, company_id)?);
        Ok(found)
    }

    fn user_ids_taken(&self, ids: &[&str]) -> Result<Vec<String>> {
        self.query(
            "SELECT u.id FROM unnest($1::text[]) AS e(id) JOIN users u ON u.id = e.id",
            &[&ids],
        )?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
    }

    fn field_id_taken(&self, id: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM custom_fields WHERE id = $1", &[&id])
    }

    fn parent(&self, kind: Kind, id: &str) -> Result<Option<String>> {
        self.text(parent_sql(kind), &[&id])
    }

    fn parents(&self, kind: Kind, ids: &[&str]) -> Result<Vec<(String, String)>> {
        self.pairs(rows_sql(kind), &[&ids])
    }

    fn rows_under(&self, kind: Kind, tickets: &[&str]) -> Result<Vec<(String, String)>> {
        match under_sql(kind) {
            Some(sql) => self.pairs(sql, &[&tickets]),
            None => Ok(Vec::new()),
        }
    }

    fn mapped(&self, key: &MapKey<'_>) -> Result<Option<String>> {
        let sql = &pg_id_map().mapped;
        self.text(sql, &[&key.company_id, &key.kind.name(), &key.archive_id])
    }

    fn mapped_many(
        &self,
        company_id: &str,
        kind: Kind,
        archive_ids: &[&str],
    ) -> Result<Vec<(String, String)>> {
        // One lookup of the whole key per id, whatever the table's statistics say (the
        // map may have grown by thousands in this very transaction): the planner, left to
        // itself, may match the company and kind in the key and filter the ids row by row.
        let sql = "SELECT a.id, m.local_id FROM unnest($3::text[]) AS a(id)
                   CROSS JOIN LATERAL (SELECT local_id FROM bomizzel_backup_id_map
                                       WHERE company_id = $1 AND kind = $2 AND archive_id = a.id
                                       LIMIT 1) m";
        self.pairs(sql, &[&company_id, &kind.name(), &archive_ids])
    }

    /// Held, and sent with the held rows, before anything else is asked.
    fn map_id(&self, key: &MapKey<'_>, local_id: &str, now: &str) -> Result<()> {
        let full = {
            let mut held = self.held_maps.borrow_mut();
            let entry = [
                key.company_id,
                key.kind.name(),
                key.archive_id,
                local_id,
                now,
            ];
            for (column, value) in held.iter_mut().zip(entry) {
                column.push(value.to_owned());
            }
            held[0].len() >= HELD_UPDATES
        };
        if full {
            self.send_held()?;
        }
        Ok(())
    }

    fn claimed_since(&self, key: &MapKey<'_>, now: &str) -> Result<bool> {
        let sql = &pg_id_map().claimed;
        self.exists(
            sql,
            &[&key.company_id, &key.kind.name(), &key.archive_id, &now],
        )
    }

    fn membership_role(&self, user_id: &str, company_id: &str) -> Result<Option<String>> {
        self.text(
            "SELECT role FROM user_company_associations WHERE user_id = $1 AND company_id = $2",
            &[&user_id, &company_id],
        )
    }

    fn set_membership(
        &self,
        user_id: &str,
        company_id: &str,
        role: &str,
        now: &str,
    ) -> Result<bool> {
        if self.held_users.borrow().contains(user_id) {
            let slot = HELD_TABLES
                .iter()
                .position(|held| matches!(held, Memberships))
                .context("no batch for memberships")?;
            let values = [user_id, company_id, role, now, now].map(|v| Bound::Text(Some(v)));
            self.hold_in(slot, &values)?;
            return Ok(true);
        }
        let stmt = self.statement(
            "INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (user_id, company_id) DO UPDATE
             SET role = excluded.role, updated_at = excluded.updated_at
             WHERE user_company_associations.role <> excluded.role",
        )?;
        let changed = self
            .tx()?
            .execute(&stmt, &[&user_id, &company_id, &role, &now])?;
        Ok(changed > 0)
    }

    /// New rows are held for `COPY`; the updates of a ticket, note, history entry or
    /// attachment are held to be sent together, and counted later.
    fn put(&self, table: &'static Updated, write: Write, values: &[Bound<'_>]) -> Result<Written> {
        if write == Write::Insert {
            self.hold(table, values)?;
            return Ok(Written::Changed);
        }
        if let Some(kind) = RECORD_KINDS
            .into_iter()
            .find(|k| std::ptr::eq(k.table(), table))
        {
            self.hold_update(kind, write, values)?;
            return Ok(Written::Later);
        }
        let stmt = self.write_statement(table, write, values)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(pg_value).collect();
        let mut tx = self.tx()?;
        let changed = match write {
            Write::Insert | Write::Update => tx.execute(&stmt, &params)? > 0,
            Write::Compare => tx.query_opt(&stmt, &params)?.is_some(),
        };
        Ok(changed.into())
    }

    fn later(&self) -> Result<Vec<(Kind, Counted)>> {
        self.send_held()?;
        let counted = std::mem::take(&mut *self.counted.borrow_mut());
        Ok(RECORD_KINDS.into_iter().zip(counted).collect())
    }

    fn create_company(&self, company: &CompanyRecord) -> Result<()> {
        self.tx()?.execute(
            "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &company.id,
                &company.name,
                &company.domain,
                &company.description,
                &company.is_active,
                &company.created_at,
                &company.updated_at,
            ],
        )?;
        Ok(())
    }

    fn bulk_tickets(&self) -> Result<bool> {
        self.bulk_load(TICKET_TABLES)
    }

    /// The users and their memberships go in as a bulk load too, into a database that has
    /// none.
    fn users_all_new(&self) -> Result<bool> {
        self.bulk_load(USER_TABLES)
    }

    fn stray_reference(&self) -> Result<Option<(String, Kind, String)>> {
        // The attachments' foreign keys, made again, check every reference at once; the
        // rows are looked at only when one finds a reference astray, or where none does.
        self.send_held()?;
        let astray = match self.put_back(|_| true)? {
            Ok(checked)
                if [Kind::Ticket, Kind::Note]
                    .iter()
                    .all(|k| checked.contains(k)) =>
            {
                return Ok(None);
            }
            Ok(_) => None,
            Err(err) => Some(err),
        };
        // Every row of these tables is the import's own: a reference is found or stray.
        let row = self.query_opt(
            "SELECT a.id, t.id IS NULL, CASE WHEN t.id IS NULL THEN a.ticket_id ELSE a.note_id END
             FROM file_attachments a LEFT JOIN tickets t ON t.id = a.ticket_id
             WHERE t.id IS NULL
                OR (a.note_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM ticket_notes n WHERE n.id = a.note_id))
             ORDER BY a.id LIMIT 1",
            &[],
        )?;
        let Some(row) = row else {
            return astray.map_or(Ok(None), Err);
        };
        let kind = match row.try_get(1)? {
            true => Kind::Ticket,
            false => Kind::Note,
        };
        Ok(Some((row.try_get(0)?, kind, row.try_get(2)?)))
    }

    fn flush(&self) -> Result<()> {
        self.send_held()?;
        self.put_back(|_| true)??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `copy_text` escapes exactly the backslash, tab, newline and carriage return,
    /// wherever they fall in its words of 8 bytes, and keeps every other byte.
    #[test]
    fn copy_text_escapes_what_ends_a_field_and_keeps_the_rest() {
        let reference = |text: &str| {
            let mut out = String::new();
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    other => out.push(other),
                }
            }
            out
        };
        let specials = [
            '\\', '\t', '\n', '\r', '\u{1}', '\u{1f}', ' ', '\u{7f}', 'é',
        ];
        for len in 0..20 {
            for at in 0..len {
                for special in specials {
                    let mut text: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    text.replace_range(at..=at, &special.to_string());
                    let mut out = Vec::new();
                    copy_text(&mut out, &text);
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        reference(&text),
                        "{text:?}"
                    );
                }
            }
        }
        let mut out = Vec::new();
        copy_text(&mut out, "naïve\\path\twith\r\nlines, \u{1b}[0m and 東京");
        assert_eq!(
            out,
            "naïve\\\\path\\twith\\r\\nlines, \u{1b}[0m and 東京".as_bytes()
        );
    }
}
