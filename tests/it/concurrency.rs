//! Concurrent writers (issue 6, point 4), in both journal modes: an export taken while
//! another connection keeps inserting tickets and notes is one consistent snapshot, and an
//! import that meets another process's write lock waits `--busy-timeout`, then exits 7 with
//! a message and changes nothing; `history`, which only reads, says the same when readers
//! are locked out too. The writer and the snapshot checks serve PostgreSQL's test too
//! (`postgres::an_export_during_inserts_is_one_snapshot`): its SQL is the same on both.

use crate::support;
use crate::support::state;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use state::{assert_same_rows, fill_tickets, integrity, set_journal_mode};
use support::*;

const JOURNAL_MODES: [&str; 2] = ["delete", "wal"];

/// Acme's members, who author the bulk data and the writer's rows.
pub(crate) const ACME_PEOPLE: [&str; 3] = [ids::ACME_ADMIN, ids::SHARED_USER, ids::ACME_CUSTOMER];

/// The ids the writer gives the rows of its `seq`th transaction: a ticket, two notes on it,
/// a history entry, an attachment on its first note, and a note on an older ticket.
fn writer_ticket(seq: u64) -> String {
    format!("b0c0ffee-0000-4000-8000-{seq:012}")
}
fn writer_note(seq: u64, j: u64) -> String {
    format!("d0c0ffee-0000-4000-800{j}-{seq:012}")
}
fn writer_old_ticket_note(seq: u64) -> String {
    format!("d0c0ffef-0000-4000-8000-{seq:012}")
}
fn writer_history(seq: u64) -> String {
    format!("e0c0ffee-0000-4000-8000-{seq:012}")
}
fn writer_attachment(seq: u64) -> String {
    format!("f0c0ffee-0000-4000-8000-{seq:012}")
}

/// Another connection that inserts into Acme in small transactions until stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    /// How many transactions have committed.
    commits: Arc<AtomicU64>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// Starts writing: `transact` runs the statements it is given as one transaction on
    /// its own connection; `people` are Acme members' user ids, who author the rows;
    /// `old_tickets` are existing Acme tickets that get notes too.
    fn start(
        people: Vec<String>,
        old_tickets: Vec<String>,
        mut transact: impl FnMut(&str) + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicU64::new(0));
        let (stop_flag, committed) = (stop.clone(), commits.clone());
        let thread = std::thread::spawn(move || {
            let mut seq = 0;
            while !stop_flag.load(Ordering::SeqCst) {
                seq += 1;
                transact(&writer_statements(
                    seq,
                    &people,
                    &old_tickets[seq as usize % old_tickets.len()],
                ));
                committed.store(seq, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Self {
            stop,
            commits,
            thread,
        }
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` transactions have committed.
    fn wait_for(&self, n: u64) {
        let started = Instant::now();
        while self.commits() < n {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the writer is stuck"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Stops the writer; returns how many transactions it committed.
    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the writer thread panicked");
        self.commits.load(Ordering::SeqCst)
    }
}

/// The user ids of `ACME_PEOPLE`, in that order.
pub(crate) fn acme_people(conn: &Connection) -> Vec<String> {
    ACME_PEOPLE
        .iter()
        .map(|email| {
            conn.query_row("SELECT id FROM users WHERE email = ?1", [email], |row| {
                row.get(0)
            })
            .expect("an Acme member")
        })
        .collect()
}

/// The statements of one writer transaction, the rows of `seq`, in SQL that SQLite and
/// PostgreSQL both take (its values are literals without quotes in them).
fn writer_statements(seq: u64, people: &[String], old_ticket: &str) -> String {
    let at = format!("2026-04-01T00:00:{:02}.{:03}Z", seq / 1000 % 60, seq % 1000);
    let person = |k: u64| &people[(seq + k) as usize % people.len()];
    let ticket = writer_ticket(seq);
    let acme = ids::ACME;
    let note = |id: String, ticket: &str, author: &str, content: &str| {
        format!(
            "INSERT INTO ticket_notes (id, ticket_id, author_id, content, created_at, updated_at)
             VALUES ('{id}', '{ticket}', '{author}', '{content}', '{at}', '{at}');"
        )
    };
    [
        format!(
            "INSERT INTO tickets (id, company_id, title, description, status, priority,
                                  submitter_id, custom_field_values, created_at, updated_at)
             VALUES ('{ticket}', '{acme}', 'Concurrent ticket {seq}', 'written during an export',
                     'open', 'high', '{}', '{{}}', '{at}', '{at}');",
            person(0)
        ),
        note(
            writer_note(seq, 1),
            &ticket,
            person(1),
            &format!("note 1 of {seq}"),
        ),
        note(
            writer_note(seq, 2),
            &ticket,
            person(2),
            &format!("note 2 of {seq}"),
        ),
        note(
            writer_old_ticket_note(seq),
            old_ticket,
            person(3),
            "a late note",
        ),
        format!(
            "INSERT INTO ticket_history (id, ticket_id, user_id, action, created_at)
             VALUES ('{}', '{ticket}', '{}', 'created', '{at}');",
            writer_history(seq),
            person(0)
        ),
        format!(
            "INSERT INTO file_attachments (id, ticket_id, note_id, file_name, file_size,
                                           uploaded_by_id, created_at)
             VALUES ('{}', '{ticket}', '{}', 'log.txt', {seq}, '{}', '{at}');",
            writer_attachment(seq),
            writer_note(seq, 1),
            person(1)
        ),
    ]
    .join("\n")
}

/// The sequence number at the end of a writer id, or `None` for any other id.
fn writer_seq(id: &str, prefix: &str) -> Option<u64> {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.rsplit('-').next())
        .and_then(|seq| seq.parse().ok())
}

/// Splits a set of ids into the writer's sequence numbers (ids starting with `prefix`) and
/// the rest.
fn split_writer<'a>(
    ids: impl IntoIterator<Item = &'a String>,
    prefix: &str,
) -> (Vec<u64>, BTreeSet<String>) {
    let mut seqs = Vec::new();
    let mut others = BTreeSet::new();
    for id in ids {
        match writer_seq(id, prefix) {
            Some(seq) => seqs.push(seq),
            None => {
                others.insert(id.clone());
            }
        }
    }
    seqs.sort_unstable();
    (seqs, others)
}

#[test]
fn an_export_during_inserts_is_one_consistent_snapshot() {
    for mode in JOURNAL_MODES {
        export_during_inserts(mode);
    }
}

fn export_during_inserts(journal_mode: &str) {
    let demo = Demo::new();
    let conn = demo.conn();
    set_journal_mode(&conn, journal_mode);
    // Enough that the export runs a while, with the writer going all the time.
    fill_tickets(&conn, ids::ACME, &ACME_PEOPLE, 0xc1, 400, 300);
    let people = acme_people(&conn);
    drop(conn);
    let writer = open_db(&demo.db);
    // In rollback mode a commit waits for the export's read lock to go.
    writer
        .busy_timeout(Duration::from_secs(60))
        .expect("busy timeout");
    let moment = export_while_writing(
        &demo,
        demo.acme(),
        people,
        move |statements| {
            writer
                .execute_batch(&format!("BEGIN IMMEDIATE; {statements} COMMIT;"))
                .expect("a writer transaction");
        },
        journal_mode,
    );
    if journal_mode == "wal" {
        // Readers do not block the writer in WAL mode: it went on during the export.
        moment.assert_writes_went_on();
    }
    let conn = demo.conn();
    assert_eq!(integrity(&conn), "ok");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM tickets WHERE id LIKE 'b0c0ffee-%'",
            []
        ),
        moment.total as i64
    );
}

/// What `export_while_writing` saw: the snapshot held the writer's first `k` transactions;
/// `after` had committed when the export ended, `total` in all.
pub(crate) struct Moment {
    k: u64,
    after: u64,
    pub total: u64,
    what: String,
}

impl Moment {
    /// The writer committed while the export ran, after its snapshot: nothing held it up.
    pub fn assert_writes_went_on(&self) {
        assert!(
            self.after > self.k,
            "{}: no commit while the export ran ({} of {})",
            self.what,
            self.k,
            self.after
        );
    }
}

/// Exports Acme with `export` (the binary acting as Acme's admin on the demo's database or
/// another one holding the same rows; `-q export -o FILE` is added) while a writer runs
/// `transact` (see `Writer::start`) over and over, and checks the archive is one moment of
/// the database: the manifest's counts are its records, every attachment's ticket and note
/// are in it, and it holds the rows from before the writer started and exactly the
/// writer's first k transactions, whole, in every section, k committed while the export
/// ran. `demo` holds Acme's rows as they were before the writer started.
pub(crate) fn export_while_writing(
    demo: &Demo,
    mut export: assert_cmd::Command,
    people: Vec<String>,
    transact: impl FnMut(&str) + Send + 'static,
    what: &str,
) -> Moment {
    let initial = RecordIds::in_db(&demo.conn(), ids::ACME);
    let writer = Writer::start(people, initial.tickets.iter().cloned().collect(), transact);
    writer.wait_for(3);
    let committed_before = writer.commits();
    let archive_path = demo.out_path("during-inserts.zip");
    let output = export
        .args(["-q", "export", "-o"])
        .arg(&archive_path)
        .output()
        .expect("run the export");
    let committed_after = writer.commits();
    let total = writer.stop();
    assert!(output.status.success(), "{what}: {output:?}");

    let archive = Archive::read(&archive_path);
    let held = RecordIds::in_archive(&archive);

    // The manifest's counts are the records the archive holds.
    let counts = &archive.manifest["counts"];
    let notes: usize = archive
        .records("tickets")
        .iter()
        .map(|t| t["notes"].as_array().map_or(0, Vec::len))
        .sum();
    for (key, n) in [
        ("users", held.users.len()),
        ("customFields", held.custom_fields.len()),
        ("tickets", archive.records("tickets").len()),
        ("notes", notes),
        ("history", held.history.len()),
        ("attachments", archive.records("attachments").len()),
    ] {
        assert_eq!(counts[key], n, "{what}: manifest counts.{key}");
    }
    assert_eq!(held.tickets.len(), archive.records("tickets").len());
    assert_eq!(held.notes.len(), notes, "{what}: a note id twice");

    // Every attachment's ticket and note are in it.
    let note_ids: BTreeSet<&String> = held.notes.keys().collect();
    for attachment in archive.records("attachments") {
        let ticket = attachment["ticketId"].as_str().expect("ticketId");
        assert!(held.tickets.contains(ticket), "{what}: {attachment}");
        if let Some(note) = attachment["noteId"].as_str() {
            assert!(note_ids.contains(&note.to_string()), "{what}: {attachment}");
            assert_eq!(held.notes[note], ticket, "{what}: {attachment}");
        }
    }

    // One moment of the database: the rows from before the writer started, and exactly the
    // writer's first k transactions, whole, in every section.
    let (tickets, old_tickets) = split_writer(&held.tickets, "b0c0ffee-");
    let k = tickets.len() as u64;
    let first_k: Vec<u64> = (1..=k).collect();
    assert_eq!(tickets, first_k, "{what}: tickets not a prefix");
    assert_eq!(old_tickets, initial.tickets, "{what}: the older tickets");
    for (prefix, part) in [
        ("d0c0ffee-0000-4000-8001-", "first notes"),
        ("d0c0ffee-0000-4000-8002-", "second notes"),
        ("d0c0ffef-", "notes on older tickets"),
    ] {
        let (seqs, _) = split_writer(held.notes.keys(), prefix);
        assert_eq!(seqs, first_k, "{what}: {part} of a different moment");
    }
    let (notes_seqs, old_notes) = split_writer(held.notes.keys(), "d0c0ffe");
    assert_eq!(notes_seqs.len() as u64, 3 * k);
    assert_eq!(old_notes, initial.notes.keys().cloned().collect());
    for seq in 1..=k {
        assert_eq!(held.notes[&writer_note(seq, 1)], writer_ticket(seq));
        assert!(
            initial
                .tickets
                .contains(&held.notes[&writer_old_ticket_note(seq)])
        );
    }
    let (history, old_history) = split_writer(held.history.keys(), "e0c0ffee-");
    assert_eq!(history, first_k, "{what}: history of a different moment");
    assert_eq!(old_history, initial.history.keys().cloned().collect());
    let (attachments, old_attachments) = split_writer(held.attachments.keys(), "f0c0ffee-");
    assert_eq!(
        attachments, first_k,
        "{what}: attachments of a different moment"
    );
    assert_eq!(
        old_attachments,
        initial.attachments.keys().cloned().collect()
    );

    // The snapshot is of a moment while the export ran.
    assert!(
        (committed_before..=committed_after).contains(&k),
        "{what}: snapshot after {k} commits, export ran from {committed_before} to {committed_after}"
    );
    eprintln!(
        "{what}: {} tickets exported, snapshot after writer commit {k} \
         (export ran from {committed_before} to {committed_after}; {total} in all)",
        held.tickets.len()
    );
    Moment {
        k,
        after: committed_after,
        total,
        what: what.to_owned(),
    }
}

fn globex_import(demo: &Demo, archive: &Path) -> assert_cmd::Command {
    let mut cmd = demo.cmd();
    cmd.args([
        "--company",
        ids::GLOBEX,
        "--actor",
        ids::GLOBEX_ADMIN,
        "--busy-timeout",
        "2",
        "import",
        "--skip-duplicates",
    ])
    .arg(archive);
    cmd
}

fn import_under_a_lock(journal_mode: &str, begin: &str) {
    let what = format!("{journal_mode}, BEGIN {begin}");
    let demo = Demo::new();
    // Acme's archive, to import into Globex: every record of it would be new there.
    let archive = demo.export_acme("acme.zip");
    let tickets_of = "SELECT count(*) FROM tickets WHERE company_id = ?1";
    let (before, globex_tickets, acme_tickets) = {
        let conn = demo.conn();
        set_journal_mode(&conn, journal_mode);
        let tickets = |company| count(&conn, tickets_of, [company]);
        (table_rows(&conn), tickets(ids::GLOBEX), tickets(ids::ACME))
    };

    let holder = LockHolder::take(&demo.db, begin);
    let started = Instant::now();
    let output = globex_import(&demo, &archive)
        .output()
        .expect("run the import");
    let waited = started.elapsed();
    drop(holder);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{what}: {stderr}");
    assert!(
        waited >= Duration::from_secs(2),
        "{what}: gave up after {waited:?}, before the busy timeout"
    );
    // Once: logging the failed import does not wait out the timeout a second time (that
    // would take 4 s; the rest is room for a slow or busy machine).
    assert!(
        waited < Duration::from_millis(3800),
        "{what}: waited {waited:?}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("bomizzel-backup: another process held a lock on")
            && last.contains("--busy-timeout (2s); nothing was imported, try again later")
            && last.contains("database is locked"),
        "{what}: {stderr}"
    );
    let conn = demo.conn();
    assert_same_rows(&before, &table_rows(&conn), &what);
    drop(conn);

    // Once the lock is gone the same import goes through, and it does change the database.
    globex_import(&demo, &archive).assert().success();
    assert_eq!(
        count(&demo.conn(), tickets_of, [ids::GLOBEX]),
        globex_tickets + acme_tickets,
        "{what}: Globex got a copy of every Acme ticket"
    );
}

#[test]
fn an_import_waits_for_a_write_lock_then_exits_7_in_rollback_mode() {
    for begin in ["IMMEDIATE", "EXCLUSIVE"] {
        import_under_a_lock("delete", begin);
    }
}

#[test]
fn an_import_waits_for_a_write_lock_then_exits_7_in_wal_mode() {
    for begin in ["IMMEDIATE", "EXCLUSIVE"] {
        import_under_a_lock("wal", begin);
    }
}

/// An export under another process's lock: with readers locked out (rollback mode, BEGIN
/// EXCLUSIVE) nothing is exported; otherwise the snapshot is read and the archive written,
/// and only its log row has to wait for the lock, so the message must say the archive is
/// complete (exit 7 all the same: the export is not in the log, so prune cannot see it).
fn export_under_a_lock(journal_mode: &str, begin: &str) {
    let what = format!("{journal_mode}, BEGIN {begin}");
    let demo = Demo::new();
    set_journal_mode(&demo.conn(), journal_mode);
    let before = table_rows(&demo.conn());
    let target = demo.out_path("acme.zip");
    let holder = LockHolder::take(&demo.db, begin);
    let output = demo
        .acme()
        .args(["--busy-timeout", "1", "export", "-o"])
        .arg(&target)
        .output()
        .expect("run the export");
    drop(holder);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{what}: {stderr}");
    let prefix = "bomizzel-backup: another process held a lock on";
    assert!(stderr.starts_with(prefix), "{what}: {stderr}");
    assert_same_rows(&before, &table_rows(&demo.conn()), &what);
    if journal_mode == "delete" && begin == "EXCLUSIVE" {
        assert!(
            stderr.contains("(1s); nothing was exported, try again later"),
            "{what}: {stderr}"
        );
        assert_eq!(files_under(&demo.out), BTreeSet::new(), "{what}");
    } else {
        assert!(
            stderr.contains(&format!(
                "(1s): the archive {} is complete, but the export could not be recorded in the log",
                target.display()
            )),
            "{what}: {stderr}"
        );
        let archive = Archive::read(&target);
        assert_eq!(
            archive.records("tickets").len() as u64,
            archive.manifest["counts"]["tickets"]
                .as_u64()
                .expect("counts"),
            "{what}"
        );
    }
}

#[test]
fn an_export_under_a_write_lock_says_what_it_did() {
    for mode in JOURNAL_MODES {
        for begin in ["IMMEDIATE", "EXCLUSIVE"] {
            export_under_a_lock(mode, begin);
        }
    }
}

/// `history` only reads: under a write lock (or in WAL mode, any lock) it lists as usual;
/// when another process locks readers out too (rollback mode, BEGIN EXCLUSIVE), it waits
/// `--busy-timeout`, then says so in the words export and import use, and exits 7.
#[test]
fn history_under_a_lock_waits_then_says_another_process_holds_it() {
    for mode in JOURNAL_MODES {
        for begin in ["IMMEDIATE", "EXCLUSIVE"] {
            let what = format!("{mode}, BEGIN {begin}");
            let demo = Demo::new();
            set_journal_mode(&demo.conn(), mode);
            demo.export_acme("acme.zip");
            let holder = LockHolder::take(&demo.db, begin);
            let output = demo
                .acme()
                .args(["--busy-timeout", "1", "history"])
                .output()
                .expect("run history");
            drop(holder);
            let stderr = stderr_of(&output);
            if mode == "delete" && begin == "EXCLUSIVE" {
                assert_eq!(output.status.code(), Some(7), "{what}: {stderr}");
                assert!(output.stdout.is_empty(), "{what}");
                assert!(
                    stderr.starts_with(&format!(
                        "bomizzel-backup: another process held a lock on {} for longer than \
                         --busy-timeout (1s); try again later: ",
                        demo.db.display()
                    )),
                    "{what}: {stderr}"
                );
            } else {
                assert!(output.status.success(), "{what}: {stderr}");
                let listing = String::from_utf8_lossy(&output.stdout);
                assert_eq!(listing.lines().count(), 2, "{what}: {listing}");
            }
        }
    }
}
