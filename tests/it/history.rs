//! `history` end to end: the real binary on real SQLite files. Each test makes the activity
//! it lists (exports, imports that succeed, fail or only validate, rows the web app wrote)
//! and then reads it back as a table, as one entry in full, and as JSON.

use crate::support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::params;
use serde_json::Value;

use support::*;

use support::ids::ADA_ID;
/// Carol is Acme's other active admin.
const CAROL: &str = "carol@acme.example";

/// The values a snapshot must not hold: they change on every run.
const VOLATILE: [&str; 11] = [
    "id",
    "at",
    "file",
    "sha256",
    "bytes",
    "exportId",
    "importId",
    "exportedAt",
    "pruneId",
    "prunedAt",
    "tool",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives")
        .join(name)
}

/// Acme's admin exports to `out/<name>`; returns the export id and the file.
fn export_acme(demo: &Demo, name: &str) -> (String, PathBuf) {
    let path = demo.out_path(name);
    let report = json_ok(demo.acme().args(["--json", "export", "-o"]).arg(&path));
    (
        report["exportId"].as_str().expect("exportId").to_owned(),
        path,
    )
}

/// Globex's admin exports to `out/<name>`; returns the export id.
fn export_globex(demo: &Demo, name: &str) -> String {
    let report = json_ok(
        globex(demo)
            .args(["--json", "export", "-o"])
            .arg(demo.out_path(name)),
    );
    report["exportId"].as_str().expect("exportId").to_owned()
}

fn globex(demo: &Demo) -> Command {
    let mut cmd = demo.cmd();
    cmd.args(["--company", ids::GLOBEX, "--actor", ids::GLOBEX_ADMIN]);
    cmd
}

/// Acme's history as JSON, with extra arguments.
fn history_json(demo: &Demo, args: &[&str]) -> Vec<Value> {
    match json_ok(demo.acme().arg("--json").arg("history").args(args)) {
        Value::Array(entries) => entries,
        other => panic!("history --json is not a list: {other}"),
    }
}

/// One column of a history listing, top to bottom.
fn column<'a>(entries: &'a [Value], key: &str) -> Vec<&'a str> {
    entries
        .iter()
        .map(|e| e[key].as_str().unwrap_or_else(|| panic!("{key} in {e}")))
        .collect()
}

/// The cells of a table line: columns are separated by two or more spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The id of the single import log row of Acme whose status is `status`.
fn import_id_with_status(demo: &Demo, status: &str) -> String {
    let ids = strings(
        &demo.conn(),
        "SELECT import_id FROM data_import_logs
         WHERE company_id = ?1 AND json_extract(imported_data, '$.status') = ?2",
        params![ids::ACME, status],
    );
    assert_eq!(ids.len(), 1, "one {status} import: {ids:?}");
    ids.into_iter().next().expect("one id")
}

/// The activity of the first scenario: an export by ada, an import of the web app's file
/// by carol (ok), a strict re-import of the export (conflict, failed) and a validate-only
/// run with --skip-duplicates (validated). Returns the ids oldest first.
fn mixed_activity(demo: &Demo) -> [String; 4] {
    let (export_id, archive) = export_acme(demo, "acme.zip");
    let ok = json_ok(
        demo.cmd()
            .args(["--company", "Acme Corp", "--actor", CAROL, "--json"])
            .args(["import", "--skip-duplicates"])
            .arg(fixture("webapp/webapp-full.json")),
    );
    let ok_id = ok["importId"].as_str().expect("importId").to_owned();
    demo.acme()
        .arg("import")
        .arg(&archive)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("Email already exists"));
    let validated = json_ok(
        demo.acme()
            .args(["--json", "import", "--validate-only", "--skip-duplicates"])
            .arg(&archive),
    );
    assert_eq!(validated["status"], "validated");
    let failed_id = import_id_with_status(demo, "failed");
    let validated_id = validated["importId"].as_str().expect("importId").to_owned();
    [export_id, ok_id, failed_id, validated_id]
}

// ---------------------------------------------------------------------------------------
// The listing

#[test]
fn lists_exports_imports_failures_and_validations_newest_first() {
    let demo = Demo::new();
    let [export_id, ok_id, failed_id, validated_id] = mixed_activity(&demo);

    let entries = history_json(&demo, &[]);
    assert_eq!(
        column(&entries, "id"),
        [&validated_id, &failed_id, &ok_id, &export_id],
        "newest first"
    );
    assert_eq!(
        column(&entries, "kind"),
        ["import", "import", "import", "export"]
    );
    assert_eq!(
        column(&entries, "status"),
        ["validated", "failed", "ok", "ok"]
    );
    assert_eq!(
        column(&entries, "actor"),
        [ids::ACME_ADMIN, ids::ACME_ADMIN, CAROL, ids::ACME_ADMIN]
    );
    // What each did, from the counts it recorded: the demo's Acme has 5 users, 4 custom
    // fields, 6 tickets (5 notes, 4 history entries) and 3 attachments: 27 records.
    assert_eq!(
        column(&entries, "what"),
        [
            "0 created, 0 updated, 27 skipped, 0 linked",
            "Failed to import user: Email already exists (ada@acme.example); Failed…",
            "17 created, 0 updated, 0 skipped, 0 linked",
            "5 users, 4 custom fields, 6 tickets, 3 attachments",
        ]
    );
    let archive = demo.out_path("acme.zip");
    let archive = archive.to_str().expect("a UTF-8 path");
    assert_eq!(entries[0]["file"], archive);
    assert_eq!(entries[1]["file"], archive);
    assert!(
        entries[2]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("webapp-full.json")),
        "{}",
        entries[2]
    );
    assert_eq!(
        fs::canonicalize(entries[3]["file"].as_str().expect("file")).expect("the archive"),
        fs::canonicalize(archive).expect("the archive")
    );
    // Times are RFC 3339 in UTC, newest first.
    let times = column(&entries, "at");
    assert!(
        times.iter().all(|t| t.ends_with('Z') && t.contains('T')),
        "{times:?}"
    );
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // The table says the same, aligned, on stdout only.
    let out = demo.acme().arg("history").output().expect("run");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        cells(lines[0]),
        ["ID", "WHEN", "WHO", "KIND", "STATUS", "WHAT", "FILE"]
    );
    assert_eq!(lines.len(), 5, "{text}");
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| cells(l)).collect();
    for (row, entry) in rows.iter().zip(&entries) {
        assert_eq!(row.len(), 7, "{row:?}");
        assert_eq!(row[0], entry["id"]);
        assert!(row[1].ends_with(" UTC"), "{row:?}");
        assert_eq!(row[2], entry["actor"]);
        assert_eq!(row[3], entry["kind"]);
        assert_eq!(row[4], entry["status"]);
        assert_eq!(row[5], entry["what"]);
        assert_eq!(row[6], entry["file"]);
    }
    // Aligned: every column starts at the same place on every line.
    let status_at = lines[0].find("STATUS").expect("a STATUS column");
    for (line, entry) in lines[1..].iter().zip(&entries) {
        let status = entry["status"].as_str().expect("status");
        assert_eq!(line.find(status), Some(status_at), "{line}");
    }
}

#[test]
fn limit_and_kind_filter_the_listing() {
    let demo = Demo::new();
    let [export_id, ok_id, failed_id, validated_id] = mixed_activity(&demo);
    let (second_export, _) = export_acme(&demo, "second.zip");

    assert_eq!(
        column(&history_json(&demo, &["--limit", "2"]), "id"),
        [&second_export, &validated_id]
    );
    assert_eq!(
        column(&history_json(&demo, &["--kind", "export"]), "id"),
        [&second_export, &export_id]
    );
    assert_eq!(
        column(&history_json(&demo, &["--kind", "import"]), "id"),
        [&validated_id, &failed_id, &ok_id]
    );
    assert_eq!(
        column(
            &history_json(&demo, &["--kind", "import", "--limit", "1"]),
            "id"
        ),
        [&validated_id]
    );
    assert!(history_json(&demo, &["--kind", "prune"]).is_empty());

    // A prune is an entry of its own kind.
    json_ok(demo.acme().args(["--json", "prune", "--older-than", "12w"]));
    let prunes = history_json(&demo, &["--kind", "prune"]);
    assert_eq!(column(&prunes, "kind"), ["prune"]);
    assert_eq!(history_json(&demo, &[]).len(), 6);
    // 0 is no limit.
    assert_eq!(history_json(&demo, &["--limit", "0"]).len(), 6);
    let all = stdout_ok(demo.acme().args(["history", "--limit", "0"]));
    assert_eq!(all.lines().count(), 7, "{all}");

    // The table with a filter, and a filter that matches nothing: a note on stderr only.
    let table = stdout_ok(demo.acme().args(["history", "--kind", "export"]));
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        table.lines().skip(1).all(|l| cells(l)[3] == "export"),
        "{table}"
    );
    let fresh = Demo::new();
    fresh
        .acme()
        .args(["history", "--kind", "prune"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains(
            "No prune entries for Acme Corp yet.",
        ));
    fresh
        .acme()
        .args(["--json", "history"])
        .assert()
        .success()
        .stdout("[]\n");

    demo.acme()
        .args(["history", "--kind", "restore"])
        .assert()
        .code(2)
        .stdout("");
    demo.acme()
        .args(["history", "--limit", "many"])
        .assert()
        .code(2)
        .stdout("");
}

// ---------------------------------------------------------------------------------------
// One entry in full

#[test]
fn an_export_in_full_names_its_file_size_checksum_and_whether_it_still_exists() {
    let demo = Demo::new();
    let (export_id, archive) = export_acme(&demo, "acme.zip");
    let bytes = fs::read(&archive).expect("the archive");

    let text = stdout_ok(demo.acme().args(["history", &export_id]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "id"), export_id);
    assert_eq!(value(&lines, "kind"), "export");
    assert_eq!(value(&lines, "who"), ids::ACME_ADMIN);
    assert_eq!(value(&lines, "status"), "ok");
    assert!(value(&lines, "when").ends_with(" UTC"));
    assert_eq!(
        value(&lines, "what"),
        "5 users, 4 custom fields, 6 tickets, 3 attachments"
    );
    assert_eq!(
        value(&lines, "in the tickets"),
        "5 notes, 4 history entries"
    );
    assert_eq!(
        value(&lines, "sections"),
        "users, custom fields, tickets, attachments"
    );
    // Words, not the log's keys (`--json` has those).
    for key in ["customFields", "children", "sha256"] {
        assert!(!text.contains(key), "{key} in {text}");
    }
    let canonical = fs::canonicalize(&archive).expect("the archive");
    assert_eq!(
        value(&lines, "file"),
        format!("{} (exists)", canonical.display())
    );
    assert!(
        value(&lines, "size").ends_with(&format!("({} bytes)", bytes.len())),
        "{text}"
    );
    assert_eq!(value(&lines, "SHA-256"), sha256_hex(&bytes));
    assert_eq!(value(&lines, "format"), "a ZIP archive");

    let entry = json_ok(demo.acme().args(["--json", "history", &export_id]));
    assert_eq!(entry["id"], export_id.as_str());
    assert_eq!(entry["fileExists"], true);
    assert_eq!(entry["detail"]["sha256"], sha256_hex(&bytes).as_str());
    assert_eq!(entry["detail"]["bytes"], bytes.len() as u64);

    // A date range is part of the entry.
    let ranged = json_ok(
        demo.acme()
            .args(["--json", "export", "--no-users", "--since", "2026-01-01"])
            .args(["--until", "2026-01-31", "-o"])
            .arg(demo.out_path("january.json")),
    );
    let ranged_id = ranged["exportId"].as_str().expect("exportId");
    let text = stdout_ok(demo.acme().args(["history", ranged_id]));
    let lines = detail_lines(&text);
    assert_eq!(
        value(&lines, "sections"),
        "custom fields, tickets, attachments"
    );
    assert!(
        value(&lines, "tickets").starts_with("only those created from 2026-01-01"),
        "{text}"
    );
    assert_eq!(value(&lines, "format"), "one JSON document");

    // Gone from disk: the entry says so, and the listing too.
    fs::remove_file(&archive).expect("remove the archive");
    let text = stdout_ok(demo.acme().args(["history", &export_id]));
    let lines = detail_lines(&text);
    assert_eq!(
        value(&lines, "file"),
        format!("{} (missing)", canonical.display())
    );
    assert_eq!(value(&lines, "status"), "missing");
    let entry = json_ok(demo.acme().args(["--json", "history", &export_id]));
    assert_eq!(entry["fileExists"], false);
    let listed = history_json(&demo, &["--kind", "export"]);
    assert_eq!(column(&listed, "status"), ["ok", "missing"]);
}

/// An archive changed since its export (overwritten, edited, damaged) is no longer that
/// export: `import --export-id` refuses it as invalid (exit 3), naming the file and what
/// differs, and imports nothing; `history ID` says it changed, as prune's report does.
#[test]
fn a_file_changed_since_its_export_is_not_imported_by_id_and_shows_as_changed() {
    let demo = Demo::new();
    let (export_id, archive) = export_acme(&demo, "acme.zip");
    let exported = fs::read(&archive).expect("the archive");
    let (size, sha256) = (exported.len(), sha256_hex(&exported));
    let entry = json_ok(demo.acme().args(["--json", "history", &export_id]));
    assert_eq!(
        (&entry["fileExists"], &entry["fileChanged"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    // A ticket (without notes, history or attachments) lost since the backup: a restore by
    // export id would bring it back.
    const LOST: &str = "b0000000-0000-4000-8000-000000000002";
    let lost = || {
        count(
            &demo.conn(),
            "SELECT count(*) FROM tickets WHERE id = ?1",
            [LOST],
        )
    };
    demo.conn()
        .execute("DELETE FROM tickets WHERE id = ?1", [LOST])
        .expect("delete a ticket");
    let restore = || {
        let mut cmd = demo.acme();
        cmd.args(["import", "--skip-duplicates", "--export-id", &export_id]);
        cmd
    };
    let canonical = fs::canonicalize(&archive).expect("the archive");
    let mut damaged = exported.clone();
    damaged[size / 2] ^= 0x01;
    for (bytes, difference) in [
        (
            [&exported[..], b"\n"].concat(),
            format!(
                "expected {size} bytes with SHA-256 {sha256}, found {} bytes",
                size + 1
            ),
        ),
        (
            damaged.clone(),
            format!(
                "expected SHA-256 {sha256}, found {} (the same {size} bytes)",
                sha256_hex(&damaged)
            ),
        ),
    ] {
        fs::write(&archive, &bytes).expect("change the archive");
        let stderr = fails_with(&mut restore(), 3);
        assert!(
            stderr.contains(&format!(
                "Invalid import data: {}: changed since export {export_id}: {difference}",
                canonical.display()
            )),
            "{stderr}"
        );
        assert_eq!(lost(), 0, "a changed archive was imported");

        let text = stdout_ok(demo.acme().args(["history", &export_id]));
        assert_eq!(
            value(&detail_lines(&text), "file"),
            format!(
                "{} (exists, but changed since its export: {difference})",
                canonical.display()
            )
        );
        let entry = json_ok(demo.acme().args(["--json", "history", &export_id]));
        assert_eq!(
            (&entry["fileExists"], &entry["fileChanged"]),
            (&Value::Bool(true), &Value::Bool(true))
        );
    }
    // The refusals are in the history as failed imports, with the reason.
    let imports = history_json(&demo, &["--kind", "import"]);
    assert_eq!(column(&imports, "status"), ["failed", "failed"]);
    assert!(
        column(&imports, "what")
            .iter()
            .all(|what| what.contains("changed since export")),
        "{imports:?}"
    );

    // The file as exported again: restored by id.
    fs::write(&archive, &exported).expect("put the archive back");
    restore().assert().success();
    assert_eq!(lost(), 1, "the restore brought the ticket back");
    let entry = json_ok(demo.acme().args(["--json", "history", &export_id]));
    assert_eq!(entry["fileChanged"], false);
}

#[test]
fn an_import_in_full_gives_policy_outcomes_warnings_and_new_users() {
    let demo = Demo::new();
    let report = json_ok(
        demo.acme()
            .args(["--json", "import", "--skip-duplicates"])
            .arg(fixture("webapp/webapp-full.json")),
    );
    let import_id = report["importId"].as_str().expect("importId");

    let text = stdout_ok(demo.acme().args(["history", import_id]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "kind"), "import");
    assert_eq!(value(&lines, "status"), "ok");
    assert_eq!(
        value(&lines, "existing records"),
        "left as they were (--skip-duplicates)"
    );
    assert!(
        value(&lines, "file").ends_with("webapp-full.json"),
        "{text}"
    );
    assert!(
        value(&lines, "from").contains(" of Webapp Full Co, made "),
        "{text}"
    );
    // Per section, in the order the import works through them.
    let sections: Vec<&str> = lines[9..15].iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        sections,
        [
            "users",
            "custom fields",
            "tickets",
            "notes",
            "history entries",
            "attachments"
        ],
        "{text}"
    );
    assert_eq!(
        value(&lines, "custom fields"),
        "3 created, 0 updated, 0 skipped, 0 linked"
    );
    assert_eq!(
        value(&lines, "history entries"),
        "0 created, 0 updated, 0 skipped, 0 linked"
    );
    assert_eq!(
        value(&lines, "new users"),
        "4 without a password: each must set one before logging in"
    );
    assert_eq!(
        values(&lines, "warning"),
        [
            "company role \"owner\" (the company's creator): imported as an admin membership",
            "ticket priority on the web app's 0-100 scale: 80 and above taken as high, 60-79 as medium, below 60 as low (4 records)",
        ],
        "{text}"
    );
    assert!(values(&lines, "error").is_empty(), "{text}");

    // The JSON entry keeps the web app's summary keys beside the tool's detail.
    let entry = json_ok(demo.acme().args(["--json", "history", import_id]));
    assert!(entry.is_object(), "{entry}");
    let detail = &entry["detail"];
    assert_eq!(detail["usersImported"], 4);
    assert_eq!(detail["usersSkipped"], 0);
    assert_eq!(detail["ticketsImported"], 4);
    assert_eq!(detail["customFieldsImported"], 3);
    assert_eq!(detail["errors"], Value::Array(vec![]));
    assert_eq!(detail["outcomes"], report["outcomes"]);
    assert_eq!(detail["warnings"], report["warnings"]);
    assert_eq!(entry["fileExists"], Value::Null);
}

#[test]
fn a_failed_import_in_full_gives_its_error_and_a_validation_its_conflicts() {
    let demo = Demo::new();
    let (_, archive) = export_acme(&demo, "acme.zip");
    demo.acme().arg("import").arg(&archive).assert().code(4);
    demo.acme()
        .args(["import", "--validate-only"])
        .arg(&archive)
        .assert()
        .code(4);

    let failed = import_id_with_status(&demo, "failed");
    let text = stdout_ok(demo.acme().args(["history", &failed]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "status"), "failed");
    assert_eq!(
        value(&lines, "existing records"),
        "each a conflict (no --skip-duplicates or --overwrite)"
    );
    // It changed nothing: no counts of nothing done.
    assert!(values(&lines, "users").is_empty(), "{text}");
    let error = value(&lines, "error");
    assert!(
        error.starts_with("Failed to import user: Email already exists (ada@acme.example)"),
        "{text}"
    );
    assert!(error.contains("nothing was imported"), "{text}");
    assert!(values(&lines, "conflict").is_empty(), "{text}");

    // Validation records each conflict it found, and no error: nothing failed.
    let validated = import_id_with_status(&demo, "validated");
    let text = stdout_ok(demo.acme().args(["history", &validated]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "status"), "validated");
    assert_eq!(values(&lines, "conflict").len(), 27, "{text}");
    assert!(values(&lines, "conflict").contains(
        &"Failed to import ticket: Ticket already exists (b0000000-0000-4000-8000-000000000001)"
    ));
    assert!(values(&lines, "error").is_empty(), "{text}");
    let listed = history_json(&demo, &["--kind", "import", "--limit", "1"]);
    assert_eq!(
        listed[0]["what"],
        "0 created, 0 updated, 0 skipped, 0 linked; 27 conflicts"
    );
}

#[test]
fn json_shapes() {
    let demo = Demo::new();
    let [export_id, ok_id, failed_id, _] = mixed_activity(&demo);

    let mut listing = Value::Array(history_json(&demo, &[]));
    redact(&mut listing, &VOLATILE);
    insta::assert_json_snapshot!("json_listing", listing);

    let mut export = json_ok(demo.acme().args(["--json", "history", &export_id]));
    redact(&mut export, &VOLATILE);
    insta::assert_json_snapshot!("json_export_entry", export);

    let mut import = json_ok(demo.acme().args(["--json", "history", &ok_id]));
    redact(&mut import, &VOLATILE);
    insta::assert_json_snapshot!("json_import_entry", import);

    let mut failed = json_ok(demo.acme().args(["--json", "history", &failed_id]));
    redact(&mut failed, &VOLATILE);
    insta::assert_json_snapshot!("json_failed_import_entry", failed);
}

// ---------------------------------------------------------------------------------------
// Who sees what

#[test]
fn another_companys_entries_never_show() {
    let demo = Demo::new();
    let (acme_export, _) = export_acme(&demo, "acme.zip");
    let globex_export = export_globex(&demo, "globex.zip");
    let (acme_second, _) = export_acme(&demo, "acme2.zip");

    assert_eq!(
        column(&history_json(&demo, &[]), "id"),
        [&acme_second, &acme_export]
    );
    let globex_entries = match json_ok(globex(&demo).args(["--json", "history"])) {
        Value::Array(entries) => entries,
        other => panic!("not a list: {other}"),
    };
    assert_eq!(column(&globex_entries, "id"), [&globex_export]);
    assert_eq!(column(&globex_entries, "actor"), [ids::GLOBEX_ADMIN]);

    // Not by id either: another company's entry is as unknown as one that never was.
    globex(&demo)
        .args(["history", &acme_export])
        .assert()
        .code(6)
        .stdout("");
    demo.acme()
        .args(["history", &globex_export])
        .assert()
        .code(6)
        .stdout("");
    let table = stdout_ok(globex(&demo).arg("history"));
    assert!(!table.contains(&acme_export), "{table}");
    assert!(!table.contains("acme"), "{table}");
}

#[test]
fn the_actor_must_be_an_admin_of_the_company() {
    let demo = Demo::new();
    let (export_id, _) = export_acme(&demo, "acme.zip");
    for actor in [ids::ACME_CUSTOMER, ids::INACTIVE_ADMIN, ids::GLOBEX_ADMIN] {
        for args in [vec!["history"], vec!["history", export_id.as_str()]] {
            demo.cmd()
                .args(["--company", "Acme Corp", "--actor", actor])
                .args(&args)
                .assert()
                .code(5)
                .stdout("")
                .stderr(predicate::str::contains("Permission denied"));
        }
    }
    // No actor at all: told how to name one.
    demo.cmd()
        .args(["--company", "Acme Corp", "history"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--actor"));
}

#[test]
fn an_unknown_id_is_not_found() {
    let demo = Demo::new();
    export_acme(&demo, "acme.zip");
    demo.acme()
        .args(["history", "export_20260101T000000Z_00000000"])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicate::str::contains(
            "no history entry export_20260101T000000Z_00000000 for Acme Corp",
        ));
    let out = demo
        .acme()
        .args(["--json", "history", "nope"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(6));
    let error = json(&out.stdout);
    assert_eq!(error["error"]["kind"], "not-found");
    assert_eq!(error["error"]["exitCode"], 6);
}

// ---------------------------------------------------------------------------------------
// Rows the web app wrote

#[test]
fn entries_the_web_app_wrote_list_and_show() {
    let demo = Demo::new();
    insert_web_app_rows(&demo.conn());
    // An older export by the tool, back-dated before the web app's.
    let (tool_export, _) = export_acme(&demo, "acme.zip");
    demo.conn()
        .execute(
            "UPDATE data_export_logs SET created_at = '2025-11-19T09:00:00.000Z' WHERE export_id = ?1",
            [&tool_export],
        )
        .expect("back-date");

    let entries = history_json(&demo, &[]);
    assert_eq!(
        column(&entries, "id"),
        [WEB_IMPORT_ID, WEB_EXPORT_ID, tool_export.as_str()],
        "the web app's rows sort among the tool's by time"
    );
    assert_eq!(
        column(&entries, "at"),
        [
            "2025-11-20T11:00:00.000Z",
            "2025-11-20T10:00:00.000Z",
            "2025-11-19T09:00:00.000Z"
        ]
    );
    assert_eq!(column(&entries, "status"), ["ok", "ok", "ok"]);
    assert_eq!(column(&entries, "actor"), [ids::ACME_ADMIN; 3]);
    assert_eq!(
        column(&entries, "what")[..2],
        [
            "2 users, 5 tickets imported; 1 user, 0 tickets skipped",
            "5 users, 4 custom fields, 6 tickets, 3 attachments",
        ]
    );
    assert_eq!(entries[0]["file"], Value::Null);
    assert_eq!(entries[1]["file"], Value::Null);

    let table = stdout_ok(demo.acme().arg("history"));
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(cells).collect();
    assert_eq!(
        rows[0],
        [
            WEB_IMPORT_ID,
            "2025-11-20 11:00:00 UTC",
            ids::ACME_ADMIN,
            "import",
            "ok",
            "2 users, 5 tickets imported; 1 user, 0 tickets skipped",
            "-"
        ]
    );
    assert_eq!(
        rows[1],
        [
            WEB_EXPORT_ID,
            "2025-11-20 10:00:00 UTC",
            ids::ACME_ADMIN,
            "export",
            "ok",
            "5 users, 4 custom fields, 6 tickets, 3 attachments",
            "-"
        ]
    );

    // In full: what the web app recorded, and no file to speak of.
    let text = stdout_ok(demo.acme().args(["history", WEB_EXPORT_ID]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "when"), "2025-11-20 10:00:00 UTC");
    assert!(values(&lines, "file").is_empty(), "{text}");
    assert!(values(&lines, "SHA-256").is_empty(), "{text}");
    let entry = json_ok(demo.acme().args(["--json", "history", WEB_EXPORT_ID]));
    assert_eq!(entry["fileExists"], Value::Null);
    assert_eq!(entry["detail"]["customFields"], 4);
    let text = stdout_ok(demo.acme().args(["history", WEB_IMPORT_ID]));
    let lines = detail_lines(&text);
    assert_eq!(value(&lines, "kind"), "import");
    assert!(values(&lines, "error").is_empty(), "{text}");

    // The web app's export has no file here: restoring it by id is "expired", and prune
    // passes it by.
    demo.acme()
        .args(["import", "--export-id", WEB_EXPORT_ID])
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "Export file not found or has expired",
        ));
    let pruned =
        json_ok(
            demo.acme()
                .args(["--json", "prune", "--older-than", "1h", "--keep-last", "0"]),
        );
    let deleted: Vec<&str> = column(pruned["deleted"].as_array().expect("deleted"), "exportId");
    assert_eq!(deleted, [tool_export.as_str()]);
    assert_eq!(pruned["missing"], Value::Array(vec![]));
}

#[test]
fn odd_rows_do_not_break_the_listing() {
    let demo = Demo::new();
    let conn = demo.conn();
    // An actor who no longer exists, a detail that is not JSON, a time that is not RFC 3339.
    conn.execute(
        "INSERT INTO data_export_logs (id, company_id, user_id, export_id, exported_data, created_at)
         VALUES ('x1', ?1, 'a0000000-0000-4000-8000-0000000000ff', 'export_gone_user', '{\"users\":1}', '2026-11-01T00:00:00.000Z'),
                ('x2', ?1, NULL, 'export_not_json', 'not json at all', '2026-10-01T00:00:00.000Z'),
                ('x3', ?1, NULL, 'export_odd_time', '{}', '2026-09-01 08:00:00')",
        [ids::ACME],
    )
    .expect("insert odd rows");
    let entries = history_json(&demo, &[]);
    assert_eq!(
        column(&entries, "id"),
        ["export_gone_user", "export_not_json", "export_odd_time"]
    );
    assert_eq!(
        entries[0]["actor"], "a0000000-0000-4000-8000-0000000000ff",
        "a user who is gone shows by id"
    );
    assert_eq!(entries[1]["actor"], Value::Null);
    assert_eq!(entries[0]["what"], "1 user");
    assert_eq!(entries[2]["at"], "2026-09-01 08:00:00");
    let table = stdout_ok(demo.acme().arg("history"));
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.contains("2026-09-01 08:00:00"), "{table}");
    let entry = json_ok(demo.acme().args(["--json", "history", "export_not_json"]));
    assert_eq!(entry["detail"], "not json at all");
    stdout_ok(demo.acme().args(["history", "export_not_json"]));
}

/// WHO never shows a bare `-`: a run without an actor (here a validation refused for want
/// of one) says so, and a user deleted since shows by id.
#[test]
fn who_says_why_there_is_no_email() {
    let demo = Demo::new();
    let (ada_export, archive) = export_acme(&demo, "acme.zip");
    demo.cmd()
        .args(["--company", "Acme Corp", "import", "--validate-only"])
        .arg(&archive)
        .assert()
        .code(2);
    let no_actor = import_id_with_status(&demo, "failed");
    let carol_export = json_ok(
        demo.cmd()
            .args([
                "--company",
                "Acme Corp",
                "--actor",
                CAROL,
                "--json",
                "export",
                "-o",
            ])
            .arg(demo.out_path("carol.zip")),
    )["exportId"]
        .as_str()
        .expect("exportId")
        .to_owned();
    let carol_id: String = demo
        .conn()
        .query_row("SELECT id FROM users WHERE email = ?1", [CAROL], |row| {
            row.get(0)
        })
        .expect("carol");
    demo.conn()
        .execute("DELETE FROM users WHERE id = ?1", [&carol_id])
        .expect("delete carol");

    let entries = history_json(&demo, &[]);
    assert_eq!(
        column(&entries, "id"),
        [&carol_export, &no_actor, &ada_export]
    );
    assert_eq!(entries[0]["actor"], carol_id.as_str());
    assert_eq!(entries[1]["actor"], Value::Null);
    assert_eq!(entries[2]["actor"], ids::ACME_ADMIN);
    let table = stdout_ok(demo.acme().arg("history"));
    let who: Vec<String> = table
        .lines()
        .skip(1)
        .map(|line| cells(line)[2].to_owned())
        .collect();
    assert_eq!(who, [carol_id.as_str(), "(no actor)", ids::ACME_ADMIN]);

    let text = stdout_ok(demo.acme().args(["history", &no_actor]));
    assert!(
        value(&detail_lines(&text), "who").starts_with("(no actor: none was given"),
        "{text}"
    );
    let text = stdout_ok(demo.acme().args(["history", &carol_export]));
    assert_eq!(
        value(&detail_lines(&text), "who"),
        format!("{carol_id} (a user deleted since)")
    );
}

/// The web app clears a log row's user when it deletes the user (ON DELETE SET NULL): its
/// rows then have no actor, and say so.
#[test]
fn rows_the_web_app_left_without_a_user_say_no_actor() {
    let demo = Demo::web_app();
    demo.conn()
        .execute("DELETE FROM users WHERE email = ?1", [ids::ACME_ADMIN])
        .expect("delete ada, who made the web app's rows");
    let carol = || {
        let mut cmd = demo.cmd();
        cmd.args(["--company", "Acme Corp", "--actor", CAROL]);
        cmd
    };
    let table = stdout_ok(carol().arg("history"));
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(cells).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows.iter().all(|row| row[2] == "(no actor)"), "{table}");
}

/// A declined `--overwrite` is logged `cancelled`; its WHAT says so, instead of counting the
/// cancellation as a conflict.
#[test]
fn a_declined_overwrite_reads_as_cancelled() {
    let demo = Demo::new();
    let (_, archive) = export_acme(&demo, "acme.zip");
    let archive = archive.to_str().expect("a UTF-8 path");
    let mut args = terminal::with_db(&demo.db, &AS_ACME_ADMIN);
    args.extend(["import", "--overwrite", archive]);
    let session = terminal::run(&args, "n\n");
    assert_eq!(session.code, Some(2), "{}", session.screen);

    let imports = history_json(&demo, &["--kind", "import"]);
    assert_eq!(column(&imports, "status"), ["cancelled"]);
    assert_eq!(
        column(&imports, "what"),
        ["cancelled at the confirmation; nothing changed"]
    );
    let table = stdout_ok(demo.acme().args(["history", "--kind", "import"]));
    let row = table.lines().nth(1).map(cells).expect("a row");
    assert_eq!(
        row[4..6],
        [
            "cancelled",
            "cancelled at the confirmation; nothing changed"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Output

/// On a terminal the listing fits its width: a long path is shortened in the middle and the
/// rest of the row stays whole. Piped (to grep, say) every row is whole, and `history ID`
/// gives the path whole on a terminal too.
#[test]
fn on_a_terminal_the_listing_fits_its_width_and_piped_it_is_whole() {
    const COLUMNS: u16 = 200;
    let demo = Demo::new();
    let folder = "weekly-backups-of-acme-corp-kept-for-twelve-weeks-on-the-nas";
    fs::create_dir(demo.out_path(folder)).expect("a folder");
    let (export_id, archive) = export_acme(&demo, &format!("{folder}/acme-corp-full-backup.zip"));
    let file = fs::canonicalize(&archive).expect("the archive");
    let file = file.to_str().expect("a UTF-8 path");
    let what = "5 users, 4 custom fields, 6 tickets, 3 attachments";
    let on_terminal = |extra: &[&str]| {
        let mut args = terminal::with_db(
            &demo.db,
            &[
                "--company",
                "Acme Corp",
                "--actor",
                ids::ACME_ADMIN,
                "history",
            ],
        );
        args.extend_from_slice(extra);
        let session = terminal::run_with_width(&args, "", COLUMNS);
        assert_eq!(session.code, Some(0), "{}", session.screen);
        session.screen.replace('\r', "")
    };

    let screen = on_terminal(&[]);
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 2, "{screen}");
    for line in &lines {
        assert!(
            line.chars().count() <= usize::from(COLUMNS),
            "wider than the terminal: {line}"
        );
    }
    let row = cells(lines[1]);
    assert_eq!(row[0], export_id);
    assert_eq!(row[5], what);
    let (start, end) = row[6]
        .split_once('…')
        .expect("the path shortened in the middle");
    assert!(
        !start.is_empty()
            && file.starts_with(start)
            && file.ends_with(end)
            && end.ends_with("/acme-corp-full-backup.zip"),
        "{} for {file}",
        row[6]
    );

    let piped = stdout_ok(demo.acme().arg("history"));
    let row = piped.lines().nth(1).expect("a row");
    assert_eq!(cells(row)[5..], [what, file]);
    assert!(row.chars().count() > usize::from(COLUMNS), "{row}");

    let screen = on_terminal(&[&export_id]);
    assert_eq!(
        value(&detail_lines(&screen), "file"),
        format!("{file} (exists)")
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let demo = Demo::new();
    // Far more than a pipe holds, so the tool is still writing when the reader goes away.
    demo.conn()
        .execute(
            "INSERT INTO data_export_logs (id, company_id, user_id, export_id, exported_data, created_at)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             SELECT 'row' || i, ?1, ?2, printf('export_%s_%013d', ?1, i),
                    '{\"users\":5,\"tickets\":6,\"attachments\":3,\"customFields\":4}',
                    printf('2026-01-01T00:00:%02d.%03dZ', i / 1000, i % 1000)
             FROM n",
            params![ids::ACME, ADA_ID],
        )
        .expect("insert many rows");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bomizzel-backup"))
        .env_remove("BOMIZZEL_DB")
        .env_remove("BOMIZZEL_COMPANY")
        .env_remove("BOMIZZEL_ACTOR")
        .arg("--db")
        .arg(&demo.db)
        .args(AS_ACME_ADMIN)
        .args(["history", "--limit", "5000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read the header");
    // The reader is dropped here: `history | head -1`.
    assert!(first.starts_with("ID "), "{first}");
    let out = child.wait_with_output().expect("wait for the binary");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
