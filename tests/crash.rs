//! Killed processes (issue 6, point 3): an import SIGKILLed in the middle of a large archive
//! leaves the database exactly as it was, in both journal modes; an export SIGKILLed in the
//! middle leaves no file at all (issue 9, point 5: an unnamed file, O_TMPFILE), or, where the
//! file system refuses unnamed files, a hidden temporary file that a later export clears.
//!
//! The archive is big enough that the import's changes outgrow its page cache, so SQLite
//! has already written some of them to the database file (rollback journal) or to the WAL
//! when the kill lands: the test waits for that, then kills, so recovery has real work to do.

#[path = "support/state.rs"]
mod state;
mod support;

use std::collections::BTreeSet;
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
fn acme_command(db: &Path, args: &[&str]) -> Command {
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
        .stderr(Stdio::null());
    cmd
}

fn spawn_acme(db: &Path, args: &[&str]) -> Child {
    acme_command(db, args).spawn().expect("start the binary")
}

/// Polls until `ready` holds. Panics if the child exits first (what the test does next would
/// then not land in the middle) or takes longer than `PATIENCE`.
fn wait_until(child: &mut Child, what: &str, mut ready: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!(
                "the {what} finished ({status}) before the test could stop it mid-way \
                 (if the import's page cache grew, raise TICKETS or NOTE_BYTES)"
            );
        }
        if ready() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the {what} did not get far enough in {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `ready` holds, then SIGKILLs the child.
fn kill_when(child: &mut Child, what: &str, ready: impl FnMut() -> bool) -> Duration {
    let took = wait_until(child, what, ready);
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("reap the child");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the {what} was not killed: {status}"
    );
    took
}

/// The archive that process `pid` is writing in `dir`, as its open file descriptor shows it:
/// the file's name (`#<inode> (deleted)` for a file that has none) and its length so far.
fn archive_in_progress(pid: u32, dir: &Path) -> Option<(String, u64)> {
    let dir = fs::canonicalize(dir).ok()?;
    fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .flatten()
        .find_map(|fd| {
            let target = fs::read_link(fd.path()).ok()?;
            if target.parent() != Some(dir.as_path()) {
                return None;
            }
            let len = fs::metadata(fd.path()).ok()?.len();
            Some((target.file_name()?.to_string_lossy().into_owned(), len))
        })
}

/// True once process `pid` has written a good part of an archive in `dir`.
fn writing_archive(pid: u32, dir: &Path) -> bool {
    archive_in_progress(pid, dir).is_some_and(|(_, len)| len > 256 << 10)
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
fn a_killed_export_leaves_no_file_at_all() {
    let demo = bulk_demo();
    let target = demo.out_path("acme.zip");
    let target_arg = target.to_str().expect("a UTF-8 path");
    let mut child = spawn_acme(&demo.db, &["export", "-o", target_arg]);
    let pid = child.id();
    let mut seen = None;
    kill_when(&mut child, "export", || {
        seen = archive_in_progress(pid, &demo.out).filter(|(_, len)| *len > 256 << 10);
        seen.is_some()
    });
    // The archive was being written to a file with no name (O_TMPFILE), which the kernel
    // removed with the process: nothing at all is left in the folder, not even a dot file.
    let (name, _) = seen.expect("the export was writing its archive");
    assert!(
        name.starts_with('#') && name.ends_with(" (deleted)"),
        "the archive was written under a name: {name}"
    );
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "files left behind");
    assert_eq!(
        count_rows(&demo.conn(), "data_export_logs"),
        0,
        "a killed export is not logged"
    );
}

#[test]
fn a_killed_export_on_a_file_system_without_unnamed_files_leaves_a_temporary_file_cleared_later() {
    let demo = bulk_demo();
    let target = demo.out_path("acme.zip");
    let target_arg = target.to_str().expect("a UTF-8 path");
    let mut child = acme_command(&demo.db, &["export", "-o", target_arg])
        .envs(TempFile::Named.env())
        .spawn()
        .expect("start the binary");
    let pid = child.id();
    kill_when(&mut child, "export", || writing_archive(pid, &demo.out));

    // Nothing at the target: an interrupted export never looks like an archive. A process
    // killed with SIGKILL cannot remove a named temporary file; what is left is a dot file
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
    // says so, whichever kind of temporary file it uses itself. (A copy waits its turn.)
    let copy = demo.out_path(".earlier.zip.a1B2c3.partial");
    fs::copy(stale, &copy).expect("copy the leftover");
    for (leftover, temp) in [(stale.clone(), TempFile::Named), (copy, TempFile::Unnamed)] {
        let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
        fs::File::options()
            .write(true)
            .open(&leftover)
            .and_then(|f| f.set_modified(two_hours_ago))
            .expect("age the leftover");
        let later = demo.out_path(&format!("later-{temp:?}.zip"));
        let output = demo
            .acme()
            .envs(temp.env())
            .args(["export", "--no-tickets", "-o"])
            .arg(&later)
            .output()
            .expect("run the export");
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !leftover.exists(),
            "{temp:?}: the stale temporary file is still there"
        );
        let name = leftover.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            stderr.contains(&name),
            "{temp:?}: the removal is not reported: {stderr}"
        );
        assert!(!Archive::read(&later).records("users").is_empty());
    }
    assert_eq!(
        files_under(&demo.out),
        ["later-Named.zip", "later-Unnamed.zip", "other.zip"]
            .map(String::from)
            .into(),
    );
}

#[test]
fn a_file_that_appears_during_the_export_is_never_replaced() {
    let demo = bulk_demo();
    for temp in TempFile::BOTH {
        let target = demo.out_path(&format!("{temp:?}.zip"));
        let target_arg = target.to_str().expect("a UTF-8 path");
        let mut child = acme_command(&demo.db, &["export", "-o", target_arg])
            .envs(temp.env())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        let pid = child.id();
        wait_until(&mut child, "export", || writing_archive(pid, &demo.out));
        let theirs = b"written by someone else while the export ran";
        fs::write(&target, theirs).expect("write the other file");
        let output = child.wait_with_output().expect("reap the child");
        assert_eq!(output.status.code(), Some(1), "{temp:?}: {output:?}");
        assert!(
            stderr_of(&output).contains("already exists; pass --force"),
            "{temp:?}: {}",
            stderr_of(&output)
        );
        assert_eq!(fs::read(&target).expect("read the other file"), theirs);
    }
    assert_eq!(
        files_under(&demo.out),
        ["Named.zip", "Unnamed.zip"].map(String::from).into(),
        "temporary files left behind"
    );
    assert_eq!(count_rows(&demo.conn(), "data_export_logs"), 0);
}
