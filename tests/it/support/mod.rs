//! Shared helpers for the integration tests: a fresh demo database in a temporary directory,
//! the real binary with a clean environment, and readers for archives and database state.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rusqlite::{Connection, Params};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

#[path = "../../../fixtures/demo.rs"]
mod demo;
pub(crate) use demo::*;
pub mod postgres;
pub mod state;
pub mod terminal;

mod webapp;
pub use webapp::*;

/// The binary under test.
pub const BINARY: &str = "bomizzel-backup";

/// The global options that make a command act as Acme's admin.
pub const AS_ACME_ADMIN: [&str; 4] = ["--company", "Acme Corp", "--actor", ids::ACME_ADMIN];

/// A demo database in its own temporary directory, removed when dropped. `out` is an empty
/// directory beside it for the files a test writes, so a test can assert on all of them.
pub struct Demo {
    pub dir: TempDir,
    pub db: PathBuf,
    pub out: PathBuf,
}

impl Demo {
    /// A fresh demo database (`fixtures/demo.sql`) and an empty output directory.
    pub fn new() -> Self {
        Self::built_by(|db| build(db).expect("build the demo database"))
    }

    /// The demo data in a database as the web app makes it (`webapp.rs`): no `init`, none
    /// of the tool's tables or indexes, and log rows the web app wrote.
    pub fn web_app() -> Self {
        Self::built_by(build_web_app)
    }

    /// A database that `build_db` makes at `demo.db`, and an empty output directory.
    fn built_by(build_db: impl FnOnce(&Path)) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let db = dir.path().join("demo.db");
        build_db(&db);
        let out = dir.path().join("out");
        fs::create_dir(&out).expect("create the output directory");
        Self { dir, db, out }
    }

    /// A path inside the output directory.
    pub fn out_path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// The binary with `--db` set to the demo database.
    pub fn cmd(&self) -> Command {
        cmd(&self.db)
    }

    /// The binary acting as Acme's admin (`--company "Acme Corp" --actor ada@acme.example`).
    pub fn acme(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.args(AS_ACME_ADMIN);
        cmd
    }

    /// Exports Acme as its admin to `out/<name>` (zip or json by the extension).
    pub fn export_acme(&self, name: &str) -> PathBuf {
        let path = self.out_path(name);
        self.acme()
            .arg("export")
            .arg("-o")
            .arg(&path)
            .assert()
            .success();
        path
    }

    /// The detail an export's log row records (`exported_data`).
    pub fn export_detail(&self, export_id: &str) -> Value {
        let text: String = self
            .conn()
            .query_row(
                "SELECT exported_data FROM data_export_logs WHERE export_id = ?1",
                [export_id],
                |row| row.get(0),
            )
            .expect("the export's log row");
        json(text.as_bytes())
    }

    /// A connection for assertions and for arranging database state.
    pub fn conn(&self) -> Connection {
        open_db(&self.db)
    }
}

/// A sample archive kept as a file under `fixtures/archives/` (`webapp/…`, `bad/…`).
pub fn fixture_archive(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives")
        .join(relative)
}

/// The binary with every `BOMIZZEL_*` variable removed from its environment, so the
/// developer's own settings never leak into a test.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin(BINARY).expect("the binary is built for integration tests");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BOMIZZEL_") {
            cmd.env_remove(key);
        }
    }
    for key in [
        "BOMIZZEL_DB",
        "BOMIZZEL_COMPANY",
        "BOMIZZEL_ACTOR",
        "BOMIZZEL_BUSY_TIMEOUT",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

/// How export makes its temporary file. `Unnamed` is Linux's way (`O_TMPFILE`) where the
/// file system has it, as the test directories' do; `Named` is `.<name>.<random>.partial`, the
/// fallback where a file system refuses it, which the binary's test hook forces here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempFile {
    Unnamed,
    Named,
}

impl TempFile {
    pub const BOTH: [TempFile; 2] = [TempFile::Unnamed, TempFile::Named];

    /// The environment that chooses it, for `Command::envs`.
    pub fn env(self) -> Option<(&'static str, &'static str)> {
        match self {
            TempFile::Unnamed => None,
            TempFile::Named => Some(("BOMIZZEL_TEST_REFUSE_O_TMPFILE", "1")),
        }
    }
}

/// The application's columns that hold JSON: text in SQLite, `jsonb` in PostgreSQL.
pub const APP_JSON_COLUMNS: [&str; 6] = [
    "preferences",
    "options",
    "validation",
    "custom_field_values",
    "email_metadata",
    "metadata",
];

/// The binary with a clean environment and `--db` set.
pub fn cmd(db: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg("--db").arg(db);
    cmd
}

/// Opens a database for assertions, with foreign keys on as the tool has them.
pub fn open_db(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the database");
    conn.pragma_update(None, "foreign_keys", true)
        .expect("enable foreign keys");
    conn
}

/// The single integer a query returns, such as a `count(*)`.
pub fn count(conn: &Connection, sql: &str, params: impl Params) -> i64 {
    conn.query_row(sql, params, |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// How many rows a table holds.
pub fn count_rows(conn: &Connection, table: &str) -> i64 {
    count(conn, &format!("SELECT count(*) FROM \"{table}\""), [])
}

/// The first column of every row a query returns, as a set of strings.
pub fn strings(conn: &Connection, sql: &str, params: impl Params) -> BTreeSet<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map(params, |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Pairs of the first two columns (child id → parent id), e.g. note id → ticket id.
pub fn pairs(conn: &Connection, sql: &str, params: impl Params) -> BTreeMap<String, String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every record id of one company, section by section, with each child's parent ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordIds {
    pub users: BTreeSet<String>,
    pub custom_fields: BTreeSet<String>,
    pub tickets: BTreeSet<String>,
    /// note id → ticket id
    pub notes: BTreeMap<String, String>,
    /// history entry id → ticket id
    pub history: BTreeMap<String, String>,
    /// attachment id → ticket id
    pub attachments: BTreeMap<String, String>,
}

impl RecordIds {
    /// What the database holds for `company_id`: its members, fields, tickets and their
    /// notes, history and attachments.
    pub fn in_db(conn: &Connection, company_id: &str) -> Self {
        Self {
            users: strings(
                conn,
                "SELECT user_id FROM user_company_associations WHERE company_id = ?1",
                [company_id],
            ),
            custom_fields: strings(
                conn,
                "SELECT id FROM custom_fields WHERE company_id = ?1",
                [company_id],
            ),
            tickets: strings(
                conn,
                "SELECT id FROM tickets WHERE company_id = ?1",
                [company_id],
            ),
            notes: pairs(
                conn,
                "SELECT n.id, n.ticket_id FROM ticket_notes n
                 JOIN tickets t ON t.id = n.ticket_id WHERE t.company_id = ?1",
                [company_id],
            ),
            history: pairs(
                conn,
                "SELECT h.id, h.ticket_id FROM ticket_history h
                 JOIN tickets t ON t.id = h.ticket_id WHERE t.company_id = ?1",
                [company_id],
            ),
            attachments: pairs(
                conn,
                "SELECT f.id, f.ticket_id FROM file_attachments f
                 JOIN tickets t ON t.id = f.ticket_id WHERE t.company_id = ?1",
                [company_id],
            ),
        }
    }

    /// Keeps only the tickets in `tickets` and the notes, history and attachments that
    /// belong to them.
    pub fn only_tickets(mut self, tickets: &BTreeSet<String>) -> Self {
        self.tickets.retain(|id| tickets.contains(id));
        self.notes.retain(|_, ticket| tickets.contains(ticket));
        self.history.retain(|_, ticket| tickets.contains(ticket));
        self.attachments
            .retain(|_, ticket| tickets.contains(ticket));
        self
    }

    /// What an archive holds; notes and history are taken from inside their tickets.
    pub fn in_archive(archive: &Archive) -> Self {
        let mut ids = Self::default();
        let id = |record: &Value| record["id"].as_str().expect("a string id").to_string();
        for user in archive.records("users") {
            ids.users.insert(id(user));
        }
        for field in archive.records("customFields") {
            ids.custom_fields.insert(id(field));
        }
        for ticket in archive.records("tickets") {
            let ticket_id = id(ticket);
            for note in ticket["notes"].as_array().expect("notes array") {
                ids.notes.insert(id(note), ticket_id.clone());
            }
            for entry in ticket["history"].as_array().expect("history array") {
                ids.history.insert(id(entry), ticket_id.clone());
            }
            ids.tickets.insert(ticket_id);
        }
        for attachment in archive.records("attachments") {
            let ticket = attachment["ticketId"].as_str().expect("ticketId");
            ids.attachments.insert(id(attachment), ticket.to_string());
        }
        ids
    }

    /// Every id, of any section.
    pub fn all(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        all.extend(self.users.iter().cloned());
        all.extend(self.custom_fields.iter().cloned());
        all.extend(self.tickets.iter().cloned());
        all.extend(self.notes.keys().cloned());
        all.extend(self.history.keys().cloned());
        all.extend(self.attachments.keys().cloned());
        all
    }
}

/// The entries of a zip archive by name. Panics on a duplicate name, which a reader that
/// finds entries by name could not tell apart.
pub fn zip_entries(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a readable zip archive");
    let mut entries = BTreeMap::new();
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).expect("a readable zip entry");
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .expect("an entry that inflates");
        let name = entry.name().expect("a valid entry name").into_owned();
        assert!(
            entries.insert(name.clone(), data).is_none(),
            "duplicate zip entry {name}"
        );
    }
    entries
}

/// An archive of either container, parsed: the manifest (`exportInfo` in json) and the
/// section arrays under their json keys (`users`, `customFields`, `tickets`, `attachments`).
#[derive(Debug, Clone)]
pub struct Archive {
    pub manifest: Value,
    pub sections: BTreeMap<String, Vec<Value>>,
}

impl Archive {
    /// Reads a zip or json archive, telling them apart by the zip signature.
    pub fn parse(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            Self::from_zip(bytes)
        } else {
            Self::from_json(bytes)
        }
    }

    pub fn read(path: &Path) -> Self {
        Self::parse(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    pub fn from_zip(bytes: &[u8]) -> Self {
        let entries = zip_entries(bytes);
        let manifest = json(entries.get("manifest.json").expect("a manifest.json entry"));
        let sections = entries
            .iter()
            .filter(|(name, _)| name.as_str() != "manifest.json")
            .map(|(name, data)| {
                let key = match name.as_str() {
                    "users.json" => "users",
                    "custom_fields.json" => "customFields",
                    "tickets.json" => "tickets",
                    "attachments.json" => "attachments",
                    other => panic!("unexpected zip entry {other}"),
                };
                (key.to_string(), array(json(data), name))
            })
            .collect();
        Self { manifest, sections }
    }

    pub fn from_json(bytes: &[u8]) -> Self {
        let mut document = json(bytes);
        let manifest = document["exportInfo"].take();
        let data = match document["data"].take() {
            Value::Object(data) => data,
            other => panic!("data is not an object: {other}"),
        };
        let sections = data
            .into_iter()
            .map(|(key, value)| {
                let records = array(value, &key);
                (key, records)
            })
            .collect();
        Self { manifest, sections }
    }

    /// The records of a section (json key); empty when the section is absent.
    pub fn records(&self, key: &str) -> &[Value] {
        self.sections.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Parses JSON bytes, panicking with the text on failure.
pub fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(2000)])
        )
    })
}

fn array(value: Value, what: &str) -> Vec<Value> {
    match value {
        Value::Array(records) => records,
        other => panic!("{what} is not a JSON array: {other}"),
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Replaces the values of `keys` (at any depth) with `"[key]"`, so a snapshot keeps the
/// shape but not values that change on every run.
pub fn redact(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if keys.contains(&key.as_str()) {
                    *inner = Value::String(format!("[{key}]"));
                } else {
                    redact(inner, keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact(item, keys)),
        _ => {}
    }
}

/// Every file under `dir` (recursively), as paths relative to it.
pub fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).expect("inside the root");
                found.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(dir, dir, &mut found);
    found
}

/// The file's Unix permission bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every row of every table, each rendered as one line and sorted, by table name: for
/// asserting that a run left a whole database as it found it.
pub fn table_rows(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let tables = strings(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        [],
    );
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{table}\""))
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| Ok(format!("{:?}", row.get::<_, rusqlite::types::Value>(i)?)))
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(|cells| cells.join(" | "))
                })
                .and_then(|rows| rows.collect())
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            rows.sort();
            (table, rows)
        })
        .collect()
}

/// A zip archive of `entries` in the given order, deflated, as the tool writes them.
pub fn build_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer
            .start_file(*name, options)
            .expect("start a zip entry");
        writer.write_all(data).expect("write a zip entry");
    }
    writer.finish().expect("finish the zip").into_inner()
}

/// Sets the manifest's `entries` to the true length and SHA-256 of every other entry, so an
/// edited section reaches the validator instead of failing its checksum.
pub fn refresh_digests(entries: &mut BTreeMap<String, Vec<u8>>) {
    let mut manifest = json(&entries["manifest.json"]);
    for (name, data) in entries.iter() {
        if name != "manifest.json" {
            manifest["entries"][name] =
                serde_json::json!({"bytes": data.len(), "sha256": sha256_hex(data)});
        }
    }
    entries.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("serialize the manifest"),
    );
}

/// A zip of `entries` in the writer's order: sections first, the manifest last.
pub fn zip_in_order(entries: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    use bomizzel_backup::archive::records::{MANIFEST_ENTRY, Section};
    let order = Section::ALL.map(Section::entry_name);
    let order: Vec<&str> = order.into_iter().chain([MANIFEST_ENTRY]).collect();
    let mut listed: Vec<(&str, &[u8])> = order
        .iter()
        .filter_map(|name| entries.get(*name).map(|data| (*name, data.as_slice())))
        .collect();
    for (name, data) in entries {
        if !order.contains(&name.as_str()) {
            listed.insert(0, (name.as_str(), data.as_slice()));
        }
    }
    build_zip(&listed)
}

/// The command's stderr as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed, and parses its `--json` stdout.
pub fn json_ok(cmd: &mut Command) -> Value {
    json(stdout_ok(cmd).as_bytes())
}

/// Runs a command that must succeed and returns its stdout as text.
pub fn stdout_ok(cmd: &mut Command) -> String {
    let output = cmd.output().expect("run the binary");
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstderr: {}\nstdout: {}",
        output.status.code(),
        stderr_of(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs the command, expecting exit status `code`, and returns its stderr.
pub fn fails_with(cmd: &mut Command, code: i32) -> String {
    let output = cmd.output().expect("run the binary");
    assert_eq!(
        output.status.code(),
        Some(code),
        "unexpected exit status\nstderr: {}\nstdout: {}",
        stderr_of(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    stderr_of(&output)
}

/// The `label  value` lines of `history ID`, in order.
pub fn detail_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| {
            let (label, value) = line.split_once("  ").unwrap_or((line, ""));
            (label.trim().to_owned(), value.trim().to_owned())
        })
        .collect()
}

/// The values of every `label` line of `detail_lines`.
pub fn values<'a>(lines: &'a [(String, String)], label: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The value of the one `label` line of `detail_lines`.
pub fn value<'a>(lines: &'a [(String, String)], label: &str) -> &'a str {
    match values(lines, label).as_slice() {
        [one] => one,
        other => panic!("expected one {label} line, got {other:?} in {lines:?}"),
    }
}

/// How many cases a property runs: `PROPTEST_CASES` when set (for long runs), else
/// `default` (what the test suite can afford).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The peak resident memory (KiB) and the output of running the binary with `args`, its
/// stdout thrown away: measured by the kernel (`getrusage` of the child), as `/usr/bin/time`
/// reports it.
pub fn peak_memory(args: &[&std::ffi::OsStr]) -> (u64, std::process::Output) {
    const SCRIPT: &str = "
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.stderr.buffer.write(done.stderr)
sys.exit(done.returncode)
";
    let binary = assert_cmd::cargo::cargo_bin(BINARY);
    let output = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(binary)
        .args(args)
        .output()
        .expect("python3 runs");
    let kib = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("python3 prints the peak memory in KiB");
    (kib, output)
}

/// Runs a program (as root, in CI), true when it worked.
pub fn shell(command: &str, args: &[&std::ffi::OsStr]) -> bool {
    std::process::Command::new(command)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes a file immutable for as long as it lives (`chattr +i`): even root cannot write,
/// rename or delete it. `None` where the filesystem or the user cannot.
pub struct Immutable(PathBuf);

impl Immutable {
    pub fn new(path: &Path) -> Option<Self> {
        shell("chattr", &["+i".as_ref(), path.as_os_str()]).then(|| Self(path.to_owned()))
    }

    /// [`Immutable::new`], or where it cannot be had, [`cannot_run_here`] (the caller then
    /// returns).
    pub fn or_skip(path: &Path) -> Option<Self> {
        let frozen = Self::new(path);
        if frozen.is_none() {
            cannot_run_here("this filesystem has no immutable attribute (chattr +i)");
        }
        frozen
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        shell("chattr", &["-i".as_ref(), self.0.as_os_str()]);
    }
}

/// A SQLite connection that holds a lock on `db` until dropped (rolled back).
pub struct LockHolder(Connection);

impl LockHolder {
    /// `BEGIN IMMEDIATE` (a write lock; readers go on) or `BEGIN EXCLUSIVE` (in rollback
    /// mode, no readers either), with a write made so the lock is really taken.
    pub fn take(db: &Path, begin: &str) -> Self {
        let conn = open_db(db);
        conn.execute_batch(&format!("BEGIN {begin}"))
            .expect("take the lock");
        conn.execute(
            "UPDATE companies SET description = description WHERE id = ?1",
            [ids::ACME],
        )
        .expect("write under the lock");
        Self(conn)
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// For a test that needs what this machine lacks (the immutable attribute, a tmpfs mount):
/// under CI (`CI` set, as `.ci/run` sets it) that fails the test, never a silent pass;
/// elsewhere it says so on stderr, and the caller returns.
pub fn cannot_run_here(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "this test cannot run on this machine: {reason}"
    );
    eprintln!("skipped (with CI set this fails): {reason}");
}
