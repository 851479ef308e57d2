//! The rest of the attack surface: databases that cannot be written, are missing, are
//! directories, are not SQLite, or were made by the web app (no `init`); names and emails
//! full of quotes and SQL; archive file permissions whatever the umask; a disk that fills up
//! during an export or an import.
//!
//! The tests run as root (as CI does), where file modes do not stop writes: a read-only
//! database is made with the immutable attribute (`chattr +i`), a full disk with a tiny
//! tmpfs. Where the machine does not allow those, the test says so on stderr and checks
//! nothing else.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;

use support::*;

fn exports_logged(db: &Path) -> i64 {
    count_rows(&open_db(db), "data_export_logs")
}

/// How many exports are logged `failed`; each must have an error that contains `cause`, and
/// no file.
fn failed_exports(db: &Path, cause: &str) -> usize {
    let conn = open_db(db);
    let mut stmt = conn
        .prepare("SELECT exported_data FROM data_export_logs")
        .unwrap();
    let details: Vec<Value> = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|text| json(text.unwrap().as_bytes()))
        .filter(|detail| detail["status"] == "failed")
        .collect();
    for detail in &details {
        let error = detail["error"].as_str().unwrap_or_default();
        assert!(error.contains(cause), "{cause:?} in {detail}");
        assert!(detail.get("file").is_none(), "{detail}");
    }
    details.len()
}

// ---------------------------------------------------------------------------------------
// A read-only database

/// Runs `body` while the demo database is immutable (or skips it, as [`Immutable::or_skip`]
/// says), then checks that it left every row as it was.
fn with_read_only_db(demo: &Demo, body: impl FnOnce()) {
    let before = table_rows(&demo.conn());
    let Some(frozen) = Immutable::or_skip(&demo.db) else {
        return;
    };
    body();
    drop(frozen);
    assert_eq!(table_rows(&demo.conn()), before, "the database changed");
}

/// An export that cannot be logged is no export: it fails, and leaves no archive behind.
#[test]
fn a_read_only_database_fails_the_export_and_leaves_no_archive() {
    let demo = Demo::new();
    with_read_only_db(&demo, || {
        for format in ["zip", "json"] {
            let target = demo.out_path(&format!("acme.{format}"));
            let stderr = fails_with(demo.acme().arg("export").arg("-o").arg(&target), 1);
            assert!(stderr.contains("read-only"), "{stderr}");
            assert!(
                files_under(&demo.out).is_empty(),
                "{format}: left {:?}",
                files_under(&demo.out)
            );
        }
    });
}

/// A prune that could not record what it deleted deletes nothing.
#[test]
fn a_read_only_database_fails_the_prune_and_deletes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    with_read_only_db(&demo, || {
        let stderr = fails_with(
            demo.acme()
                .args(["prune", "--older-than", "0h", "--keep-last", "0"]),
            1,
        );
        assert!(stderr.contains("read-only"), "{stderr}");
        assert!(
            archive.exists(),
            "the archive was deleted without its record"
        );
    });
}

/// An import into a database that cannot be written fails and changes nothing; reading it
/// (the history) still works.
#[test]
fn a_read_only_database_fails_the_import_and_changes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    with_read_only_db(&demo, || {
        let output = demo
            .acme()
            .args(["import", "--skip-duplicates"])
            .arg(&archive)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("readonly"), "{stderr}");
        demo.acme().arg("history").assert().success();
    });
}

// ---------------------------------------------------------------------------------------
// Databases that are missing, directories, or not SQLite

#[test]
fn a_database_in_a_missing_directory_is_not_found_and_nothing_is_created() {
    let demo = Demo::new();
    let missing = demo.dir.path().join("no-such-dir");
    let db = missing.join("bomizzel.db");
    let archive = demo.export_acme("acme.zip");
    for args in [
        vec!["export", "-o", "-"],
        vec!["import", "--skip-duplicates", archive.to_str().unwrap()],
        vec!["history"],
        vec!["prune", "--older-than", "1d"],
    ] {
        let stderr = fails_with(cmd(&db).args(AS_ACME_ADMIN).args(&args), 6);
        assert!(stderr.contains("database not found"), "{args:?}: {stderr}");
        assert!(stderr.contains("no-such-dir"), "{args:?}: {stderr}");
    }
    let stderr = fails_with(cmd(&db).arg("init"), 1);
    assert!(stderr.contains("no-such-dir"), "{stderr}");
    assert!(!missing.exists(), "a directory was created");
}

/// Without --db (or BOMIZZEL_DB) and no ./bomizzel.db, the message says first how to name
/// the database, not how to make an empty one; only import, which may be a restore onto a
/// new machine, says how to make one to restore into. Given and missing, it is named.
#[test]
fn a_missing_database_says_how_to_name_one_and_suggests_init_only_for_a_restore() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let archive = archive.to_str().expect("a UTF-8 path");
    let empty = tempfile::tempdir().expect("a temporary directory");
    let restore = ["import", "--skip-duplicates", archive];
    let commands: [&[&str]; 5] = [
        &["export", "-o", "-"],
        &["history"],
        &["prune", "--older-than", "1d"],
        &["import", "--export-id", "export_20260101T000000Z_00000000"],
        &restore,
    ];
    for args in commands {
        let mut run = bin();
        run.current_dir(empty.path()).args(AS_ACME_ADMIN).args(args);
        let stderr = fails_with(&mut run, 6);
        assert!(
            stderr.contains("pass --db PATH or set BOMIZZEL_DB")
                && stderr.contains("./bomizzel.db")
                && stderr.contains(&empty.path().display().to_string()),
            "{args:?}: {stderr}"
        );
        let restoring = args[0] == "import" && args[1] != "--export-id";
        assert_eq!(
            stderr.contains("create an empty one with `bomizzel-backup --db PATH init`"),
            restoring,
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.contains("init"), restoring, "{args:?}: {stderr}");
    }

    // Named (by --db or BOMIZZEL_DB) and missing: the name is the news.
    let missing = empty.path().join("bomizzel.db");
    for args in [&["history"][..], &restore] {
        let mut named = bin();
        named
            .current_dir(empty.path())
            .env("BOMIZZEL_DB", &missing)
            .args(AS_ACME_ADMIN)
            .args(args);
        let stderr = fails_with(&mut named, 6);
        assert!(
            stderr.contains(&format!("database not found: {}", missing.display()))
                && !stderr.contains("BOMIZZEL_DB"),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.contains("init"), args[0] == "import", "{stderr}");
    }
    assert!(files_under(empty.path()).is_empty(), "a file was created");
}

#[test]
fn a_directory_as_the_database_is_a_usage_error() {
    let demo = Demo::new();
    for (args, needle) in [
        (vec!["export", "-o", "-"], "is a directory"),
        (vec!["history"], "is a directory"),
        (vec!["init"], "already exists"),
    ] {
        let stderr = fails_with(cmd(&demo.out).args(AS_ACME_ADMIN).args(&args), 2);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert!(
        files_under(&demo.out).is_empty(),
        "{:?}",
        files_under(&demo.out)
    );
}

/// Text, an empty file, and an SQLite file of another application: each is refused by
/// name and left byte for byte as it was (no schema written into it, no journal beside it).
#[test]
fn a_file_that_is_not_a_bomizzel_database_is_refused_and_left_untouched() {
    let demo = Demo::new();
    let other = demo.out_path("other.db");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
            .unwrap();
    }
    let text = demo.out_path("notes.txt");
    fs::write(
        &text,
        "these are not the tables you are looking for\n".repeat(200),
    )
    .unwrap();
    let empty = demo.out_path("empty.db");
    fs::write(&empty, b"").unwrap();
    for (db, expected) in [
        (&text, "not a Bomizzel database"),
        (&empty, "missing table companies"),
        (&other, "missing table companies"),
    ] {
        let bytes = fs::read(db).unwrap();
        for args in [vec!["export", "-o", "-"], vec!["history"]] {
            let stderr = fails_with(cmd(db).args(AS_ACME_ADMIN).args(&args), 1);
            assert!(
                stderr.contains(expected) && stderr.contains(db.to_str().unwrap()),
                "{}: {stderr}",
                db.display()
            );
        }
        assert_eq!(fs::read(db).unwrap(), bytes, "{} changed", db.display());
    }
    let mut left = files_under(&demo.out);
    left.retain(|f| !["other.db", "notes.txt", "empty.db"].contains(&f.as_str()));
    assert!(left.is_empty(), "left beside them: {left:?}");
}

// ---------------------------------------------------------------------------------------
// A database the web app made: no `init`, none of the tool's tables or indexes

/// The ids of a `--json` history listing, newest first.
fn history_ids(demo: &Demo) -> Vec<String> {
    let listing = json_ok(demo.acme().args(["--json", "history"]));
    listing
        .as_array()
        .expect("a list")
        .iter()
        .map(|entry| entry["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The status of one entry of the `--json` history listing.
fn history_status(demo: &Demo, id: &str) -> String {
    let entry = json_ok(demo.acme().args(["--json", "history", id]));
    entry["status"].as_str().expect("a status").to_owned()
}

/// `schema` and these objects of the tool's.
fn with(schema: &BTreeSet<String>, objects: &[&str]) -> BTreeSet<String> {
    let mut all = schema.clone();
    all.extend(objects.iter().map(|o| o.to_string()));
    all
}

/// The commands that only read leave the web app's database as it was: `history` byte for
/// byte, and a validation adds nothing but its own row in the web app's import log (or,
/// without that log, nothing at all).
#[test]
fn history_and_validation_write_nothing_into_a_web_app_database() {
    let demo = Demo::web_app();
    let elsewhere = Demo::new();
    let archive = elsewhere.export_acme("acme.zip");
    let bytes = fs::read(&demo.db).unwrap();

    assert_eq!(history_ids(&demo), [WEB_IMPORT_ID, WEB_EXPORT_ID]);
    let table = demo.acme().arg("history").output().unwrap();
    assert!(table.status.success(), "{}", stderr_of(&table));
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains(WEB_EXPORT_ID)
            && table.contains("5 users, 4 custom fields, 6 tickets, 3 attachments"),
        "{table}"
    );
    let entry = json_ok(demo.acme().args(["--json", "history", WEB_EXPORT_ID]));
    assert_eq!(entry["detail"]["customFields"], 4);
    demo.acme()
        .args(["history", WEB_IMPORT_ID])
        .assert()
        .success()
        .stdout(predicates::str::contains("2 users, 5 tickets imported"));
    demo.acme()
        .args(["history", "--kind", "prune"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "No prune entries for Acme Corp yet.",
        ));
    assert!(
        fs::read(&demo.db).unwrap() == bytes,
        "history changed the file"
    );

    let schema = schema_objects(&demo.conn());
    let mut rows = table_rows(&demo.conn());
    let plan = json_ok(
        demo.acme()
            .args(["--json", "import", "--validate-only", "--skip-duplicates"])
            .arg(&archive),
    );
    assert_eq!(plan["status"], "validated");
    assert_eq!(plan["outcomes"]["tickets"]["skipped"], 6);
    assert_eq!(schema_objects(&demo.conn()), schema, "no table, no index");
    let mut now = table_rows(&demo.conn());
    let imports = (
        rows.remove("data_import_logs").unwrap(),
        now.remove("data_import_logs").unwrap(),
    );
    assert_eq!(now, rows, "only the import log changed");
    assert_eq!(imports.1.len(), imports.0.len() + 1, "the validation's row");

    // A web app that never imported has no import log: then the validation is not recorded,
    // and the file stays byte for byte as it was.
    demo.conn()
        .execute_batch("DROP TABLE data_import_logs")
        .unwrap();
    let bytes = fs::read(&demo.db).unwrap();
    let plan = json_ok(
        demo.acme()
            .args(["--json", "import", "--validate-only", "--skip-duplicates"])
            .arg(&archive),
    );
    assert_eq!(plan["status"], "validated");
    assert_eq!(history_ids(&demo), [WEB_EXPORT_ID]);
    assert!(fs::read(&demo.db).unwrap() == bytes, "the file changed");
}

/// Every command's usual run on the web app's database, and what each leaves in it: only
/// the commands that write create tables, only the ones they need, inside their own
/// transaction; none creates an index.
#[test]
fn every_command_works_on_a_web_app_database() {
    let demo = Demo::web_app();
    let app = schema_objects(&demo.conn());
    assert!(app.contains("table data_export_logs") && app.contains("table data_import_logs"));
    assert!(
        !app.iter().any(|o| o.contains("bomizzel_backup")),
        "{app:?}"
    );

    // export: logged in the web app's own export log; nothing created.
    let export = |name: &str| {
        let report = json_ok(
            demo.acme()
                .args(["--json", "export", "-o"])
                .arg(demo.out_path(name)),
        );
        report["exportId"].as_str().expect("exportId").to_owned()
    };
    let zip = export("acme.zip");
    let json_file = demo.out_path("acme.json");
    let json_export = export("acme.json");
    assert_eq!(schema_objects(&demo.conn()), app);
    let records = RecordIds::in_db(&demo.conn(), ids::ACME);
    for name in ["acme.zip", "acme.json"] {
        let archive = Archive::read(&demo.out_path(name));
        assert_eq!(RecordIds::in_archive(&archive), records, "{name}");
    }
    assert_eq!(
        history_ids(&demo),
        [&json_export, &zip, WEB_IMPORT_ID, WEB_EXPORT_ID]
    );
    assert_eq!(history_status(&demo, &zip), "ok");
    demo.acme()
        .args(["history", &zip])
        .assert()
        .success()
        .stdout(predicates::str::contains("acme.zip (exists)"));

    // import: a validation creates nothing; a conflict takes the id map it created away
    // again with its rollback; an import keeps it.
    let validated = json_ok(
        demo.acme()
            .args(["--json", "import", "--validate-only", "--skip-duplicates"])
            .arg(demo.out_path("acme.zip")),
    );
    assert_eq!(validated["conflictCount"], 0);
    assert_eq!(schema_objects(&demo.conn()), app);
    fails_with(demo.acme().arg("import").arg(demo.out_path("acme.zip")), 4);
    assert_eq!(schema_objects(&demo.conn()), app);
    let imported = json_ok(
        demo.acme()
            .args(["--json", "import", "--skip-duplicates"])
            .arg(demo.out_path("acme.zip")),
    );
    assert_eq!(imported["status"], "ok");
    assert_eq!(imported["outcomes"]["tickets"]["skipped"], 6);
    let app_and_map = with(&app, &["table bomizzel_backup_id_map"]);
    assert_eq!(schema_objects(&demo.conn()), app_and_map);
    assert_eq!(RecordIds::in_db(&demo.conn(), ids::ACME), records);
    let import_id = imported["importId"].as_str().unwrap();
    assert_eq!(history_status(&demo, import_id), "ok");

    // prune: a dry run creates nothing; a run creates its log and marks what it deleted.
    demo.conn()
        .execute(
            "UPDATE data_export_logs SET created_at = '2025-12-01T00:00:00.000Z'
             WHERE export_id = ?1",
            [&zip],
        )
        .unwrap();
    let policy = ["prune", "--older-than", "7d", "--keep-last", "1"];
    let dry = json_ok(demo.acme().arg("--json").args(policy).arg("--dry-run"));
    assert_eq!(dry["deleted"][0]["exportId"], zip.as_str(), "{dry}");
    assert!(demo.out_path("acme.zip").exists());
    assert_eq!(schema_objects(&demo.conn()), app_and_map);
    let pruned = json_ok(demo.acme().arg("--json").args(policy));
    assert_eq!(pruned["deleted"][0]["exportId"], zip.as_str(), "{pruned}");
    assert!(!demo.out_path("acme.zip").exists());
    assert_eq!(
        schema_objects(&demo.conn()),
        with(&app_and_map, &["table bomizzel_backup_prune_logs"])
    );
    assert_eq!(history_status(&demo, &zip), "pruned");
    let prune_id = pruned["pruneId"].as_str().unwrap();
    assert_eq!(history_ids(&demo)[0], prune_id);
    assert_eq!(history_status(&demo, prune_id), "ok");
    assert_eq!(
        history_status(&demo, WEB_EXPORT_ID),
        "ok",
        "no file, never pruned"
    );

    // The web app's database restores onto a new one with --create-company.
    let fresh = demo.dir.path().join("fresh.db");
    cmd(&fresh).arg("init").assert().success();
    let restore = ["--json", "import", "--create-company"];
    let restored = json_ok(
        cmd(&fresh)
            .args(["--actor", ids::ACME_ADMIN])
            .args(restore)
            .arg(&json_file),
    );
    assert_eq!(restored["companyCreated"], true);
    assert_eq!(RecordIds::in_db(&open_db(&fresh), ids::ACME), records);
}

/// A command that writes creates what it needs before anything else: an export that cannot
/// create the export log (the database is locked) writes no archive and creates no table.
#[test]
fn an_export_creates_its_log_before_its_archive() {
    let demo = Demo::web_app();
    demo.conn()
        .execute_batch("DROP TABLE data_export_logs")
        .unwrap();
    let schema = schema_objects(&demo.conn());
    let target = demo.out_path("acme.zip");
    {
        let _lock = LockHolder::take(&demo.db, "IMMEDIATE");
        fails_with(
            demo.acme()
                .args(["--busy-timeout", "0.2", "export", "-o"])
                .arg(&target),
            7,
        );
    }
    assert!(files_under(&demo.out).is_empty(), "no archive");
    assert_eq!(schema_objects(&demo.conn()), schema, "no table");

    let report = json_ok(demo.acme().args(["--json", "export", "-o"]).arg(&target));
    assert_eq!(
        schema_objects(&demo.conn()),
        with(&schema, &["table data_export_logs"])
    );
    assert_eq!(
        history_ids(&demo),
        [report["exportId"].as_str().unwrap(), WEB_IMPORT_ID]
    );
}

// ---------------------------------------------------------------------------------------
// Quotes and SQL in names and emails

const EVIL_COMPANY: &str = "Robert'); DROP TABLE tickets;--";
const EVIL_ID: &str = "c0000000-0000-4000-8000-0000000000ee";
const EVIL_ADMIN: &str = "o'brien+\"x\";--@evil.example";

/// A company and admin named to break any SQL built by pasting strings, with a ticket and
/// a note carrying the same kind of text.
fn add_evil_company(db: &Path) {
    let conn = open_db(db);
    let at = "2026-03-01T00:00:00.000Z";
    conn.execute(
        "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
         VALUES (?1, ?2, 'evil.example', ?3, 1, ?4, ?4)",
        (EVIL_ID, EVIL_COMPANY, "'; DELETE FROM users; --", at),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role,
                            is_active, email_verified, preferences, created_at, updated_at)
         VALUES ('a0000000-0000-4000-8000-0000000000ee', ?1, 'x', 'Bobby'' ', 'Tables\"', NULL,
                 'admin', 1, 1, '{\"q\":\"''\"}', ?2, ?2)",
        (EVIL_ADMIN, at),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
         VALUES ('a0000000-0000-4000-8000-0000000000ee', ?1, 'admin', ?2, ?2)",
        (EVIL_ID, at),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO tickets (id, company_id, title, description, status, priority, category,
                              submitter_id, assigned_to_id, custom_field_values, created_at, updated_at)
         VALUES ('b0000000-0000-4000-8000-0000000000ee', ?1, ?2, ?3, 'open', 'high', '\"',
                 'a0000000-0000-4000-8000-0000000000ee', NULL, '{}', ?4, ?4)",
        (
            EVIL_ID,
            "'); UPDATE users SET role = 'admin'; --",
            "\"; DROP TABLE companies; -- \\ \u{0} ' \"",
            at,
        ),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO ticket_notes (id, ticket_id, author_id, content, is_internal,
                                   is_email_generated, email_metadata, created_at, updated_at)
         VALUES ('d0000000-0000-4000-8000-0000000000ee', 'b0000000-0000-4000-8000-0000000000ee',
                 'a0000000-0000-4000-8000-0000000000ee', ?1, 0, 0, NULL, ?2, ?2)",
        ("Robert'); DROP TABLE ticket_notes;--", at),
    )
    .unwrap();
}

#[test]
fn quotes_and_sql_in_names_and_emails_are_only_data() {
    let demo = Demo::new();
    add_evil_company(&demo.db);
    let evil = || {
        let mut cmd = demo.cmd();
        cmd.args(["--company", EVIL_COMPANY, "--actor", EVIL_ADMIN]);
        cmd
    };
    // The default file name is made of the name, in the working directory.
    evil()
        .current_dir(&demo.out)
        .arg("export")
        .assert()
        .success();
    let files = files_under(&demo.out);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files.iter().next().unwrap().clone();
    assert!(
        name.starts_with("bomizzel-") && name.ends_with(".zip"),
        "{name}"
    );
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "an unsafe file name: {name}"
    );
    let zip = demo.out.join(&name);
    let json_file = demo.out_path("evil.json");
    evil()
        .arg("export")
        .arg("-o")
        .arg(&json_file)
        .assert()
        .success();
    let archive = Archive::read(&json_file);
    assert_eq!(archive.manifest["companyName"], EVIL_COMPANY);
    assert_eq!(archive.records("users")[0]["email"], EVIL_ADMIN);

    // Restored onto a new database, every string comes back exactly.
    for (file, db_name) in [(&zip, "new-zip.db"), (&json_file, "new-json.db")] {
        let db = demo.dir.path().join(db_name);
        cmd(&db).arg("init").assert().success();
        cmd(&db)
            .args(["--actor", EVIL_ADMIN])
            .args(["import", "--create-company"])
            .arg(file)
            .assert()
            .success();
        let conn = open_db(&db);
        let one = |sql: &str| -> String { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
        assert_eq!(one("SELECT name FROM companies"), EVIL_COMPANY);
        assert_eq!(one("SELECT email FROM users"), EVIL_ADMIN);
        assert_eq!(
            one("SELECT title FROM tickets"),
            "'); UPDATE users SET role = 'admin'; --"
        );
        assert_eq!(
            one("SELECT description FROM tickets"),
            "\"; DROP TABLE companies; -- \\ \u{0} ' \""
        );
        assert_eq!(
            one("SELECT content FROM ticket_notes"),
            "Robert'); DROP TABLE ticket_notes;--"
        );
        // Importing it again finds everything by the same strings.
        let report = cmd(&db)
            .args(["--company", EVIL_COMPANY, "--actor", EVIL_ADMIN, "--json"])
            .args(["import", "--skip-duplicates"])
            .arg(file)
            .output()
            .unwrap();
        assert!(report.status.success(), "{}", stderr_of(&report));
        let report: Value = json(&report.stdout);
        assert_eq!(report["outcomes"]["tickets"]["skipped"], 1, "{report:#}");
        assert_eq!(report["outcomes"]["users"]["skipped"], 1, "{report:#}");
    }
    // And in the demo database, every table and every other company's row is still there.
    let conn = demo.conn();
    for table in ["tickets", "ticket_notes", "users", "companies"] {
        assert!(count_rows(&conn, table) > 0, "{table}");
    }
    assert_eq!(
        count(&conn, "SELECT count(*) FROM users WHERE role = 'admin'", []),
        count(
            &open_db(&Demo::new().db),
            "SELECT count(*) FROM users WHERE role = 'admin'",
            []
        ) + 1
    );
    demo.cmd()
        .args(["--company", EVIL_COMPANY, "--actor", EVIL_ADMIN, "history"])
        .assert()
        .success();
}

// ---------------------------------------------------------------------------------------
// Archive permissions

/// An archive holds personal data: it is readable by its owner alone, even under a umask
/// that would make new files world-writable.
#[test]
fn archives_are_owner_only_whatever_the_umask() {
    let demo = Demo::new();
    let binary = assert_cmd::cargo::cargo_bin(BINARY);
    for name in ["acme.zip", "acme.json"] {
        let target = demo.out_path(name);
        let status = Process::new("sh")
            .arg("-c")
            .arg("umask 000; exec \"$@\"")
            .arg("sh")
            .arg(&binary)
            .arg("--db")
            .arg(&demo.db)
            .args(AS_ACME_ADMIN)
            .arg("-q")
            .arg("export")
            .arg("-o")
            .arg(&target)
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        assert_eq!(mode(&target), 0o600, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// A full disk

/// A tmpfs of `kib` KiB mounted on a new directory, unmounted when dropped.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(at: PathBuf, kib: u64) -> Option<Self> {
        fs::create_dir(&at).unwrap();
        let size = format!("size={kib}k");
        let mounted = shell(
            "mount",
            &[
                "-t".as_ref(),
                "tmpfs".as_ref(),
                "-o".as_ref(),
                size.as_ref(),
                "tmpfs".as_ref(),
                at.as_os_str(),
            ],
        );
        mounted.then_some(Self(at))
    }

    /// Fills the disk but for about `spare` bytes.
    fn fill(&self, spare: u64) {
        let free = || {
            let out = Process::new("df")
                .args(["-B1", "--output=avail"])
                .arg(&self.0)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .nth(1)
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        };
        let filler = self.0.join("filler");
        let size = free().saturating_sub(spare);
        fs::write(&filler, vec![0u8; size as usize]).unwrap();
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        shell("umount", &[self.0.as_os_str()]);
    }
}

/// An export to a disk that fills up fails with the system's word for it, leaves no
/// partial archive and no temporary file, and is logged as failed.
#[test]
fn a_full_disk_fails_the_export_without_leaving_a_partial_archive() {
    let demo = Demo::new();
    let Some(disk) = TinyDisk::mount(demo.dir.path().join("disk"), 64) else {
        cannot_run_here("cannot mount a tmpfs here");
        return;
    };
    disk.fill(2048);
    let before = exports_logged(&demo.db);
    for name in ["acme.zip", "acme.json"] {
        let stderr = fails_with(
            demo.acme().arg("export").arg("-o").arg(disk.0.join(name)),
            1,
        );
        assert!(stderr.contains("No space left on device"), "{stderr}");
        assert_eq!(
            files_under(&disk.0),
            ["filler".to_string()].into(),
            "{name}: left behind"
        );
    }
    // Each logged as failed, with no file.
    assert_eq!(exports_logged(&demo.db), before + 2);
    assert_eq!(failed_exports(&demo.db, "No space left on device"), 2);

    // Streaming to a full device: the same failure, logged the same way.
    let full = fs::File::create("/dev/full").unwrap();
    let output = Process::new(assert_cmd::cargo::cargo_bin(BINARY))
        .arg("--db")
        .arg(&demo.db)
        .args(AS_ACME_ADMIN)
        .args(["export", "-o", "-"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("No space left on device"));
    assert_eq!(exports_logged(&demo.db), before + 3);
    assert_eq!(failed_exports(&demo.db, "No space left on device"), 3);
}

/// An import into a database on a disk that fills up rolls back: the database is as it
/// was, and SQLite still finds it sound.
#[test]
fn a_full_disk_fails_the_import_and_changes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    // An empty company to import into, so the import has everything to write.
    let conn = demo.conn();
    conn.execute_batch(
        "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
         VALUES ('c0000000-0000-4000-8000-0000000000ff', 'Empty', NULL, NULL, 1,
                 '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
         INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
         SELECT id, 'c0000000-0000-4000-8000-0000000000ff', 'admin', created_at, updated_at
           FROM users WHERE email = 'ada@acme.example';",
    )
    .unwrap();
    drop(conn);
    let Some(disk) = TinyDisk::mount(demo.dir.path().join("disk"), 1024) else {
        cannot_run_here("cannot mount a tmpfs here");
        return;
    };
    let db = disk.0.join("bomizzel.db");
    fs::copy(&demo.db, &db).unwrap();
    let before = table_rows(&open_db(&db));
    // Room for a little journal, not for the import.
    disk.fill(8 * 1024);
    let output = cmd(&db)
        .args(["--company", "Empty", "--actor", ids::ACME_ADMIN])
        .args(["import", "--skip-duplicates"])
        .arg(&archive)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("full") || stderr.contains("No space"),
        "{stderr}"
    );
    fs::remove_file(disk.0.join("filler")).unwrap();
    let conn = open_db(&db);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut after = table_rows(&conn);
    let mut before = before;
    // A failed import may be logged, once there is room again; nothing else may change.
    after.remove("data_import_logs");
    before.remove("data_import_logs");
    assert_eq!(after, before, "the database changed");
}
