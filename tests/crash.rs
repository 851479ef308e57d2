//! Killed processes (issue 6, point 3): an import SIGKILLed in the middle of a large archive
//! leaves the database exactly as it was, in both journal modes; an export SIGKILLed in the
//! middle leaves nothing at the target path, and its temporary file is cleared later.
//!
//! The archive is big enough that the import's changes outgrow its page cache, so SQLite
//! has already written some of them to the database file (rollback journal) or to the WAL
//! when the kill lands: the test waits for that, then kills, so recovery has real work to do.

#[path = "support/state.rs"]
mod state;
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use state::{assert_same_rows, fill_tickets, integrity, set_journal_mode};
use support::*;

/// Bulk tickets for Acme, and the size of each of their five notes: about 24 MiB of rows,
/// more than the import's 16 MiB page cache, so an import must spill before it commits.
const TICKETS: u32 = 1_000;
const NOTE_BYTES: u32 = 2_400;

/// Acme's members, who author the bulk data.
const ACME_PEOPLE: [&str; 4] = [
    ids::ACME_ADMIN,
    ids::SHARED_USER,
    "carol@acme.example",
    ids::ACME_CUSTOMER,
];

/// How long a child may take to reach the point where the test kills it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A json export of Acme with the bulk tickets added: built once per test run and kept in
/// memory, so each test writes its own copy into its own temporary directory.
fn bulk_archive() -> &'static [u8] {
    static ARCHIVE: OnceLock<Vec<u8>> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let demo = bulk_demo();
        fs::read(demo.export_acme("acme.json")).expect("read the bulk archive")
    })
}

/// The demo database with the bulk tickets added to Acme.
fn bulk_demo() -> Demo {
    let demo = Demo::new();
    fill_tickets(
        &demo.conn(),
        ids::ACME,
        &ACME_PEOPLE,
        0xb1,
        TICKETS,
        NOTE_BYTES,
    );
    demo
}

/// The binary as a child process (not assert_cmd: the test must kill it while it runs),
/// acting as Acme's admin, with a clean environment and no output to wait on.
fn spawn_acme(db: &Path, args: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bomizzel-backup"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BOMIZZEL_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--db")
        .arg(db)
        .args(["--company", "Acme Corp", "--actor", ids::ACME_ADMIN, "-q"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary")
}

/// Polls until `ready` holds, then SIGKILLs the child. Panics if the child exits first
/// (the kill would then not land in the middle) or takes longer than `PATIENCE`.
fn kill_when(child: &mut Child, what: &str, mut ready: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!(
                "the {what} finished ({status}) before the test could kill it mid-way \
                 (if the import's page cache grew, raise TICKETS or NOTE_BYTES)"
            );
        }
        if ready() {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the {what} did not get far enough in {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("reap the child");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the {what} was not killed: {status}"
    );
    started.elapsed()
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// `path` with `suffix` appended to its file name (`demo.db-journal`, `demo.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Imports the bulk archive into a fresh demo database in `journal_mode`, kills the import
/// once SQLite has written part of the transaction to disk, and checks that the database is
/// exactly as before, intact, and still takes the same import afterwards.
fn killed_import(journal_mode: &str) {
    let demo = Demo::new();
    let archive = demo.out_path("bulk.json");
    fs::write(&archive, bulk_archive()).expect("write the archive");
    let acme_tickets = "SELECT count(*) FROM tickets WHERE company_id = ?1";
    let (before, tickets_before) = {
        let conn = demo.conn();
        set_journal_mode(&conn, journal_mode);
        (table_rows(&conn), count(&conn, acme_tickets, [ids::ACME]))
    };
    let wal = journal_mode == "wal";
    let journal = sibling(&demo.db, if wal { "-wal" } else { "-journal" });
    let db_len = file_len(&demo.db);
    let archive_arg = archive.to_str().expect("a UTF-8 path");

    let mut child = spawn_acme(&demo.db, &["import", "--skip-duplicates", archive_arg]);
    // Rollback journal: the spill writes new pages into the database file itself, with the
    // original state in the journal. WAL: the spill appends uncommitted frames to the WAL.
    let took = kill_when(&mut child, "import", || {
        file_len(&demo.db) > db_len + (1 << 20) || file_len(&journal) > 1 << 20
    });
    // The kill left the transaction half-written on disk: a hot journal, or a WAL with
    // frames that no commit covers.
    assert!(
        file_len(&journal) > 0,
        "{journal_mode}: the import was killed after writing to the database, and left no {}",
        journal.display()
    );
    eprintln!(
        "{journal_mode}: killed after {took:?}; database {} → {} bytes, {} {} bytes",
        db_len,
        file_len(&demo.db),
        journal.display(),
        file_len(&journal)
    );

    let conn = demo.conn();
    assert_eq!(integrity(&conn), "ok", "{journal_mode}: integrity_check");
    assert_same_rows(&before, &table_rows(&conn), journal_mode);
    drop(conn);
    if !wal {
        assert!(!journal.exists(), "the hot journal was not rolled back");
        assert_eq!(file_len(&demo.db), db_len, "the database was not truncated");
    }

    // The tool takes the same import afterwards, and it is complete.
    demo.acme()
        .args(["-q", "import", "--skip-duplicates"])
        .arg(&archive)
        .assert()
        .success();
    let conn = demo.conn();
    assert_eq!(integrity(&conn), "ok", "{journal_mode}: after the re-run");
    assert_eq!(
        count(&conn, acme_tickets, [ids::ACME]),
        tickets_before + i64::from(TICKETS)
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM data_import_logs WHERE imported_data ->> '$.status' = 'ok'",
            []
        ),
        1,
        "only the completed import is logged"
    );
}

#[test]
fn a_killed_import_leaves_a_rollback_journal_database_as_it_was() {
    killed_import("delete");
}

#[test]
fn a_killed_import_leaves_a_wal_database_as_it_was() {
    killed_import("wal");
}

/// The temporary files an export left in `dir`: `.<name>.<random>.partial`.
fn partials(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.");
    files_under(dir)
        .into_iter()
        .filter(|f| f.starts_with(&prefix) && f.ends_with(".partial"))
        .map(|f| dir.join(f))
        .collect()
}

#[test]
fn a_killed_export_leaves_no_archive_and_its_temporary_file_is_cleared_later() {
    let demo = bulk_demo();
    let target = demo.out_path("acme.zip");
    let target_arg = target.to_str().expect("a UTF-8 path");
    let mut child = spawn_acme(&demo.db, &["export", "-o", target_arg]);
    kill_when(&mut child, "export", || {
        partials(&demo.out, "acme.zip")
            .iter()
            .any(|p| file_len(p) > 256 << 10)
    });

    // Nothing at the target: an interrupted export never looks like an archive. A process
    // killed with SIGKILL cannot remove its temporary file; what is left is a dot file
    // named `.partial`, readable by its owner only (it holds personal data).
    assert!(!target.exists(), "a partial archive at the target path");
    let left = partials(&demo.out, "acme.zip");
    assert_eq!(
        files_under(&demo.out).len(),
        left.len(),
        "only temporary files are left: {:?}",
        files_under(&demo.out)
    );
    assert_eq!(left.len(), 1, "{left:?}");
    let stale = &left[0];
    assert_eq!(mode(stale), 0o600, "the leftover is readable by others");
    assert_eq!(
        count_rows(&demo.conn(), "data_export_logs"),
        0,
        "a killed export is not logged"
    );

    // A leftover that may still be written (as by a concurrent export) is kept...
    let other = demo.out_path("other.zip");
    demo.acme()
        .args(["-q", "export", "--no-tickets", "-o"])
        .arg(&other)
        .assert()
        .success();
    assert!(stale.exists(), "a recent temporary file was removed");
    // ...and one untouched for over an hour is an interrupted export's: the next export
    // into that directory, of any name (a scheduled one has the time in it), removes it and
    // says so.
    let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
    fs::File::options()
        .write(true)
        .open(stale)
        .and_then(|f| f.set_modified(two_hours_ago))
        .expect("age the leftover");
    let later = demo.out_path("later.zip");
    let output = demo
        .acme()
        .args(["export", "--no-tickets", "-o"])
        .arg(&later)
        .output()
        .expect("run the export");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stale.exists(), "the stale temporary file is still there");
    let name = stale.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains(&name),
        "the removal is not reported: {stderr}"
    );
    assert_eq!(
        files_under(&demo.out),
        ["later.zip", "other.zip"].map(String::from).into(),
    );
    assert!(!Archive::read(&later).records("users").is_empty());
}
