//! Killed processes (issue 6, point 3): an import SIGKILLed in the middle of a large archive
//! leaves the database exactly as it was, in both journal modes; an export SIGKILLed in the
//! middle leaves no file at all (issue 9, point 5: an unnamed file, O_TMPFILE), or, where the
//! file system refuses unnamed files, a hidden temporary file that a later export clears.
//!
//! Interrupted processes (issue 10, point 4): SIGINT, SIGTERM or SIGHUP in the middle of an
//! export or import ends it with 128 + the signal, one line on stderr, no file left and no
//! change to the database, and logs it `interrupted`.
//!
//! The archive is big enough that the import's changes outgrow its page cache, so SQLite
//! has already written some of them to the database file (rollback journal) or to the WAL
//! when the kill lands: the test waits for that, then kills, so recovery has real work to do.
//! The bulk archive and the kill helpers serve PostgreSQL's killed import too
//! (`postgres::a_killed_import_leaves_the_database_as_it_was`).

use crate::support;
use crate::support::state;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use rustix::process::{Pid, Signal, kill_process};
use state::{Dump, assert_same_rows, fill_tickets, integrity, set_journal_mode};
use support::*;

/// Bulk tickets for Acme, and the size of each of their five notes: about 24 MiB of rows,
/// more than the import's 16 MiB page cache, so an import must spill before it commits.
pub(crate) const TICKETS: u32 = 1_000;
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
pub(crate) fn bulk_archive() -> &'static [u8] {
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
/// acting as Acme's admin, with a clean environment (no `BOMIZZEL_*` or `PG*` variable)
/// and no output to wait on. `db` is a SQLite path or a PostgreSQL URL.
pub(crate) fn acme_command(db: impl AsRef<OsStr>, args: &[&str]) -> Command {
    acme_command_via(&[], db, args)
}

/// The binary as a child process for `--db db --actor actor -q` (no company: for
/// `import --create-company`), as `acme_command` starts it.
pub(crate) fn plain_command(db: &str, actor: &str, args: &[&str]) -> Command {
    quiet_binary(&[], db, &["--actor", actor], args)
}

/// `acme_command`, started by `launcher` (a program and its arguments, which then runs the
/// binary as its last argument before the binary's own).
fn acme_command_via(launcher: &[&str], db: impl AsRef<OsStr>, args: &[&str]) -> Command {
    quiet_binary(launcher, db, &AS_ACME_ADMIN, args)
}

/// The binary with `--db db`, `who` and `-q` before `args`, with a clean environment (no
/// `BOMIZZEL_*` or `PG*` variable) and no input or output, started by `launcher`.
fn quiet_binary(launcher: &[&str], db: impl AsRef<OsStr>, who: &[&str], args: &[&str]) -> Command {
    let binary = env!("CARGO_BIN_EXE_bomizzel-backup");
    let mut cmd = match launcher.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(binary);
            cmd
        }
        None => Command::new(binary),
    };
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("BOMIZZEL_") || key_text.starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--db")
        .arg(db)
        .args(who)
        .arg("-q")
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
pub(crate) fn kill_when(child: &mut Child, what: &str, ready: impl FnMut() -> bool) -> Duration {
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

/// Waits until `ready` holds, then sends `signal` to the child, and collects its output.
fn signal_when(
    mut child: Child,
    what: &str,
    signal: Signal,
    ready: impl FnMut() -> bool,
) -> std::process::Output {
    wait_until(&mut child, what, ready);
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(Pid::from_raw)
        .expect("a process id");
    kill_process(pid, signal).expect("signal the child");
    child.wait_with_output().expect("reap the child")
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

/// A fresh demo database in a journal mode, with the bulk archive beside it: an import to
/// stop part-way.
struct BulkImport {
    demo: Demo,
    archive: PathBuf,
    journal: PathBuf,
    db_len: u64,
    before: Dump,
}

impl BulkImport {
    fn new(journal_mode: &str) -> Self {
        let demo = Demo::new();
        let archive = demo.out_path("bulk.json");
        fs::write(&archive, bulk_archive()).expect("write the archive");
        let before = {
            let conn = demo.conn();
            set_journal_mode(&conn, journal_mode);
            table_rows(&conn)
        };
        let wal = journal_mode == "wal";
        let journal = sibling(&demo.db, if wal { "-wal" } else { "-journal" });
        let db_len = file_len(&demo.db);
        Self {
            demo,
            archive,
            journal,
            db_len,
            before,
        }
    }

    fn command(&self) -> Command {
        let archive = self.archive.to_str().expect("a UTF-8 path");
        acme_command(&self.demo.db, &["import", "--skip-duplicates", archive])
    }

    /// True once SQLite has written part of the import's transaction to disk. Rollback
    /// journal: the spill writes new pages into the database file itself, with the original
    /// state in the journal. WAL: the spill appends uncommitted frames to the WAL.
    fn spilled(&self) -> bool {
        file_len(&self.demo.db) > self.db_len + (1 << 20) || file_len(&self.journal) > 1 << 20
    }
}

/// Imports the bulk archive into a fresh demo database in `journal_mode`, kills the import
/// once SQLite has written part of the transaction to disk, and checks that the database is
/// exactly as before, intact, and still takes the same import afterwards.
fn killed_import(journal_mode: &str) {
    let bulk = BulkImport::new(journal_mode);
    let (demo, journal, db_len) = (&bulk.demo, &bulk.journal, bulk.db_len);
    let wal = journal_mode == "wal";
    let acme_tickets = "SELECT count(*) FROM tickets WHERE company_id = ?1";
    let tickets_before = count(&demo.conn(), acme_tickets, [ids::ACME]);

    let mut child = bulk.command().spawn().expect("start the binary");
    let took = kill_when(&mut child, "import", || bulk.spilled());
    // The kill left the transaction half-written on disk: a hot journal, or a WAL with
    // frames that no commit covers.
    assert!(
        file_len(journal) > 0,
        "{journal_mode}: the import was killed after writing to the database, and left no {}",
        journal.display()
    );
    eprintln!(
        "{journal_mode}: killed after {took:?}; database {} → {} bytes, {} {} bytes",
        db_len,
        file_len(&demo.db),
        journal.display(),
        file_len(journal)
    );

    let conn = demo.conn();
    assert_eq!(integrity(&conn), "ok", "{journal_mode}: integrity_check");
    assert_same_rows(&bulk.before, &table_rows(&conn), journal_mode);
    drop(conn);
    if !wal {
        assert!(!journal.exists(), "the hot journal was not rolled back");
        assert_eq!(file_len(&demo.db), db_len, "the database was not truncated");
    }

    // The tool takes the same import afterwards, and it is complete.
    demo.acme()
        .args(["-q", "import", "--skip-duplicates"])
        .arg(&bulk.archive)
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
    // Each logged as failed, naming no file: the file there is not theirs.
    let logged = strings(
        &demo.conn(),
        "SELECT exported_data FROM data_export_logs",
        [],
    );
    assert_eq!(logged.len(), TempFile::BOTH.len(), "{logged:?}");
    for detail in logged {
        let detail = support::json(detail.as_bytes());
        assert_eq!(detail["status"], "failed", "{detail}");
        assert!(detail.get("file").is_none(), "{detail}");
        let error = detail["error"].as_str().unwrap_or_default();
        assert!(error.contains("already exists"), "{detail}");
    }
}

/// The one line an interrupted run prints under `-q`.
const INTERRUPTED: &str = "bomizzel-backup: interrupted\n";

/// Sends `signal` to an export of the bulk data once it is writing its archive, and checks
/// that the export stops as asked: exit 128 + the signal, one line on stderr (and with
/// `--json` the error object on stdout), no file at all in the folder, and the export logged
/// `interrupted`, as `history` shows it.
fn interrupted_export(signal: Signal, temp: TempFile, json: bool) {
    let demo = bulk_demo();
    let target = demo.out_path("acme.zip");
    let target_arg = target.to_str().expect("a UTF-8 path");
    let mut args = vec!["export", "-o", target_arg];
    if json {
        args.insert(0, "--json");
    }
    // Through `env --default-signal`: a test run under `nohup` (or anything else that
    // ignores SIGHUP) would hand the export an ignored SIGHUP, which it rightly keeps
    // ignoring.
    let child = acme_command_via(&["env", "--default-signal"], &demo.db, &args)
        .envs(temp.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let pid = child.id();
    let output = signal_when(child, "export", signal, || writing_archive(pid, &demo.out));

    let code = 128 + signal.as_raw();
    let what = format!("{temp:?} export, signal {}", signal.as_raw());
    assert_eq!(output.status.code(), Some(code), "{what}: {output:?}");
    assert_eq!(stderr_of(&output), INTERRUPTED, "{what}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if json {
        assert_eq!(
            support::json(&output.stdout),
            serde_json::json!({
                "error": {"kind": "interrupted", "exitCode": code, "message": "interrupted"}
            }),
            "{what}"
        );
    } else {
        assert_eq!(stdout, "", "{what}");
    }
    assert_eq!(
        files_under(&demo.out),
        BTreeSet::new(),
        "{what}: files left"
    );

    let logged: Vec<String> = strings(
        &demo.conn(),
        "SELECT exported_data FROM data_export_logs",
        [],
    )
    .into_iter()
    .collect();
    assert_eq!(logged.len(), 1, "{what}: {logged:?}");
    let detail = support::json(logged[0].as_bytes());
    assert_eq!(detail["status"], "interrupted", "{what}");
    let name = match signal.as_raw() {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "SIGHUP",
    };
    assert_eq!(detail["error"], format!("interrupted by {name}"), "{what}");
    assert_eq!(detail["target"], target_arg, "{what}");
    // No file: prune and `import --export-id` look for one there.
    assert!(detail.get("file").is_none(), "{what}: {detail}");
    let listed = json_ok(demo.acme().args(["--json", "history"]));
    assert_eq!(listed[0]["status"], "interrupted", "{what}: {listed}");
    assert_eq!(
        listed[0]["what"],
        format!("interrupted by {name}"),
        "{what}"
    );
}

#[test]
fn ctrl_c_stops_an_export_leaving_nothing_and_logs_it_interrupted() {
    interrupted_export(Signal::INT, TempFile::Unnamed, false);
}

#[test]
fn sigterm_stops_an_export_with_a_named_temporary_file_and_removes_it() {
    interrupted_export(Signal::TERM, TempFile::Named, false);
}

#[test]
fn sighup_stops_an_export_with_the_json_error_object() {
    interrupted_export(Signal::HUP, TempFile::Unnamed, true);
}

/// Sends `signal` to an import of the bulk archive once SQLite has written part of it to
/// disk: it exits 128 + the signal with one line, rolls back (the database is as it was) and
/// logs the import `interrupted`.
fn interrupted_import(signal: Signal) {
    let bulk = BulkImport::new("delete");
    let child = bulk
        .command()
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let output = signal_when(child, "import", signal, || bulk.spilled());

    let what = format!("import, signal {}", signal.as_raw());
    assert_eq!(
        output.status.code(),
        Some(128 + signal.as_raw()),
        "{what}: {output:?}"
    );
    assert_eq!(stderr_of(&output), INTERRUPTED, "{what}");
    let conn = bulk.demo.conn();
    assert_eq!(integrity(&conn), "ok", "{what}");
    let mut after = table_rows(&conn);
    let logs = after.remove("data_import_logs").unwrap_or_default();
    let mut before = bulk.before.clone();
    before.remove("data_import_logs");
    assert_same_rows(&before, &after, &what);
    assert_eq!(logs.len(), 1, "{what}: {logs:?}");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM data_import_logs
             WHERE imported_data ->> '$.status' = 'interrupted'
               AND imported_data ->> '$.error' LIKE 'interrupted by SIG%'",
            []
        ),
        1,
        "{what}: {logs:?}"
    );
}

#[test]
fn ctrl_c_stops_an_import_which_rolls_back_and_is_logged_interrupted() {
    interrupted_import(Signal::INT);
}

#[test]
fn sigterm_stops_an_import_which_rolls_back_and_is_logged_interrupted() {
    interrupted_import(Signal::TERM);
}

/// True once process `pid` handles SIGINT itself: once it catches SIGTERM (`SigCgt` in its
/// status, bit N-1 for signal N), which it starts to only after SIGINT's handling is all in
/// place.
fn catches_sigint(pid: u32) -> bool {
    let bit = 1u64 << (Signal::TERM.as_raw() - 1);
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .is_some_and(|mask| mask & bit != 0)
}

#[test]
fn a_signal_during_a_lock_wait_ends_the_import_as_interrupted() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    // Another writer holds the lock, so the import waits out its busy timeout; a signal
    // cannot cut SQLite's wait short, but the run is still the operator's interrupted one,
    // not a busy database (7).
    let holder = demo.conn();
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the lock");
    let archive_arg = archive.to_str().expect("a UTF-8 path");
    let child = acme_command(
        &demo.db,
        &[
            "--busy-timeout",
            "1",
            "import",
            "--skip-duplicates",
            archive_arg,
        ],
    )
    .stderr(Stdio::piped())
    .spawn()
    .expect("start the binary");
    let pid = child.id();
    let output = signal_when(child, "import", Signal::INT, || catches_sigint(pid));
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert_eq!(stderr_of(&output), INTERRUPTED);
    holder.execute_batch("ROLLBACK").expect("release the lock");
}

#[test]
fn an_export_started_with_sighup_ignored_ignores_it() {
    // `nohup` and background jobs of scripts start with signals ignored, and a process keeps
    // ignoring what it was told to ignore.
    let demo = bulk_demo();
    let target = demo.out_path("acme.zip");
    let target_arg = target.to_str().expect("a UTF-8 path");
    let ignoring_hup = ["sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""];
    let child = acme_command_via(&ignoring_hup, &demo.db, &["export", "-o", target_arg])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let pid = child.id();
    let output = signal_when(child, "export", Signal::HUP, || {
        writing_archive(pid, &demo.out)
    });
    assert!(output.status.success(), "{output:?}");
    assert!(!Archive::read(&target).records("tickets").is_empty());
    assert_eq!(
        count(
            &demo.conn(),
            "SELECT count(*) FROM data_export_logs WHERE exported_data ->> '$.status' IS NULL",
            []
        ),
        1,
        "the export is logged as complete"
    );
}
