//! `export` end to end: the real binary on a real demo database, checked against the
//! archive it writes and the rows the database holds.

use crate::support;
use crate::support::state;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use support::*;

/// Acme's ticket creation times in the demo data; the date tests choose among them.
const DEC31_LAST_MS: &str = "2025-12-31T23:59:59.999Z";
const JAN01_MIDNIGHT: &str = "2026-01-01T00:00:00.000Z";
const JAN15_AFTERNOON: &str = "2026-01-15T14:30:00.000Z";
const JAN31_LAST_MS: &str = "2026-01-31T23:59:59.999Z";
const FEB01_MIDNIGHT: &str = "2026-02-01T00:00:00.000Z";
const MAR10_MORNING: &str = "2026-03-10T08:15:00.000Z";

/// Every section's zip entry, with the manifest.
const ALL_ENTRIES: [&str; 5] = [
    "manifest.json",
    "users.json",
    "custom_fields.json",
    "tickets.json",
    "attachments.json",
];

/// The test hook that sets the export's clock (for ages, and for exports in the same
/// millisecond), and a time to set it to.
const CLOCK: (&str, &str) = ("BOMIZZEL_TEST_EXPORTED_AT", "2026-12-01T14:22:53.123Z");

/// Exports Acme as its admin to `out/<name>` with `args`, expecting success.
fn export_acme(demo: &Demo, name: &str, args: &[&str]) -> Archive {
    export_acme_at(demo, None, name, args)
}

/// `export_acme`, with the export's clock set to `now` (RFC 3339) when given.
fn export_acme_at(demo: &Demo, now: Option<&str>, name: &str, args: &[&str]) -> Archive {
    let path = demo.out_path(name);
    let mut export = demo.acme();
    if let Some(now) = now {
        export.env(CLOCK.0, now);
    }
    export
        .arg("export")
        .arg("-o")
        .arg(&path)
        .args(args)
        .assert()
        .success();
    Archive::read(&path)
}

/// Exports Acme to `out/acme.zip` and returns its raw entries by name, and parsed.
fn export_acme_zip(demo: &Demo, args: &[&str]) -> (BTreeMap<String, Vec<u8>>, Archive) {
    let archive = export_acme(demo, "acme.zip", args);
    let entries = zip_entries(&fs::read(demo.out_path("acme.zip")).unwrap());
    (entries, archive)
}

fn names(entries: &BTreeMap<String, Vec<u8>>) -> BTreeSet<&str> {
    entries.keys().map(String::as_str).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The Acme tickets created at exactly these times, each of which must exist.
fn acme_tickets_created_at(demo: &Demo, times: &[&str]) -> BTreeSet<String> {
    let conn = demo.conn();
    times
        .iter()
        .map(|at| {
            let found = strings(
                &conn,
                "SELECT id FROM tickets WHERE company_id = ?1 AND created_at = ?2",
                [ids::ACME, at],
            );
            assert_eq!(found.len(), 1, "one Acme ticket created at {at}");
            found.into_iter().next().unwrap()
        })
        .collect()
}

/// Nothing was exported: the output directory is empty (no archive, no temporary file)
/// and no export was logged.
fn assert_nothing_exported(demo: &Demo) {
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "files left behind");
    assert_eq!(count_rows(&demo.conn(), "data_export_logs"), 0);
}

/// The export log's rows (export id, detail), oldest first.
fn logged_exports(demo: &Demo) -> Vec<(String, Value)> {
    let conn = demo.conn();
    let mut stmt = conn
        .prepare("SELECT export_id, exported_data FROM data_export_logs ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get::<_, String>(1)?)))
        .unwrap()
        .map(|row| {
            let (id, detail) = row.unwrap();
            (id, json(detail.as_bytes()))
        })
        .collect()
}

/// The log holds `attempts` exports, each `failed` with an error that contains `error`, and
/// no `file`, so that prune and `import --export-id` pass them by; `history` shows them
/// `failed`, with their error. Returns their export ids, oldest first.
fn assert_failed_exports(demo: &Demo, attempts: usize, error: &str) -> Vec<String> {
    let logged = logged_exports(demo);
    assert_eq!(logged.len(), attempts, "{logged:?}");
    for (_, detail) in &logged {
        assert_eq!(detail["status"], "failed", "{detail}");
        let message = detail["error"].as_str().unwrap_or_default();
        assert!(message.contains(error), "{error:?} in {detail}");
        assert!(detail.get("file").is_none(), "{detail}");
    }
    let listed = json_ok(demo.acme().args(["--json", "history", "--kind", "export"]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), attempts, "{listed:?}");
    for entry in listed {
        assert_eq!(entry["status"], "failed", "{entry}");
        assert!(entry["file"].is_null(), "{entry}");
    }
    let mut ids: Vec<String> = listed
        .iter()
        .map(|entry| entry["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    for id in &ids {
        demo.acme()
            .args(["import", "--export-id", id])
            .assert()
            .code(6)
            .stderr(predicate::str::contains("Export file not found"));
    }
    ids
}

// ---------------------------------------------------------------------------------------
// Sections

#[test]
fn full_export_holds_exactly_acmes_records() {
    let demo = Demo::new();
    let archive = export_acme(&demo, "acme.zip", &[]);

    let expected = RecordIds::in_db(&demo.conn(), ids::ACME);
    assert_eq!(RecordIds::in_archive(&archive), expected);
    assert!(!expected.notes.is_empty() && !expected.history.is_empty());
    assert_eq!(
        archive.manifest["options"],
        serde_json::json!({
            "includeUsers": true, "includeTickets": true, "includeAttachments": true,
            "includeCustomFields": true, "dateFrom": null, "dateTo": null
        })
    );
}

#[test]
fn default_zip_holds_the_manifest_and_every_section() {
    let demo = Demo::new();
    let (entries, _) = export_acme_zip(&demo, &[]);
    assert_eq!(names(&entries), ALL_ENTRIES.into_iter().collect());
}

/// Exports Acme as a zip with `flag` and checks that it holds exactly the entries `kept`
/// and, of Acme's records, all but those `leave_out` clears.
fn assert_leaves_out(
    flag: &str,
    kept: [&str; 4],
    leave_out: impl FnOnce(&mut RecordIds),
) -> Archive {
    let demo = Demo::new();
    let (entries, archive) = export_acme_zip(&demo, &[flag]);
    assert_eq!(names(&entries), BTreeSet::from(kept));
    let mut expected = RecordIds::in_db(&demo.conn(), ids::ACME);
    leave_out(&mut expected);
    assert_eq!(RecordIds::in_archive(&archive), expected);
    archive
}

#[test]
fn no_users_leaves_out_only_the_users() {
    let archive = assert_leaves_out(
        "--no-users",
        [
            "manifest.json",
            "custom_fields.json",
            "tickets.json",
            "attachments.json",
        ],
        |all| all.users.clear(),
    );
    assert_eq!(archive.manifest["options"]["includeUsers"], false);
    assert_eq!(archive.manifest["counts"]["users"], 0);
}

#[test]
fn no_custom_fields_leaves_out_only_the_field_definitions() {
    let archive = assert_leaves_out(
        "--no-custom-fields",
        [
            "manifest.json",
            "users.json",
            "tickets.json",
            "attachments.json",
        ],
        |all| all.custom_fields.clear(),
    );
    assert_eq!(archive.manifest["options"]["includeCustomFields"], false);
    assert_eq!(archive.manifest["counts"]["customFields"], 0);
    // Ticket values still name their fields, even without the definitions.
    let printer = archive
        .records("tickets")
        .iter()
        .find(|t| t["createdAt"] == DEC31_LAST_MS)
        .unwrap();
    assert_eq!(printer["customFields"]["seats"], 12);
}

#[test]
fn no_attachments_leaves_out_only_the_attachments() {
    let archive = assert_leaves_out(
        "--no-attachments",
        [
            "manifest.json",
            "users.json",
            "custom_fields.json",
            "tickets.json",
        ],
        |all| all.attachments.clear(),
    );
    assert_eq!(archive.manifest["options"]["includeAttachments"], false);
    assert_eq!(archive.manifest["options"]["includeTickets"], true);
    assert_eq!(archive.manifest["counts"]["attachments"], 0);
}

#[test]
fn no_tickets_leaves_out_tickets_and_their_attachments() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    demo.acme()
        .args(["export", "--no-tickets", "-o"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("attachments"));
    let entries = zip_entries(&fs::read(&path).unwrap());
    assert_eq!(
        names(&entries),
        BTreeSet::from(["manifest.json", "users.json", "custom_fields.json"])
    );
    let archive = Archive::from_zip(&fs::read(&path).unwrap());
    let all = RecordIds::in_db(&demo.conn(), ids::ACME);
    let expected = RecordIds {
        users: all.users,
        custom_fields: all.custom_fields,
        ..RecordIds::default()
    };
    assert_eq!(RecordIds::in_archive(&archive), expected);
    let options = &archive.manifest["options"];
    assert_eq!(options["includeTickets"], false);
    assert_eq!(options["includeAttachments"], false);
    let counts = &archive.manifest["counts"];
    for key in ["tickets", "notes", "history", "attachments"] {
        assert_eq!(counts[key], 0, "counts.{key}");
    }
}

#[test]
fn ticket_custom_field_values_are_keyed_by_field_name() {
    let demo = Demo::new();
    let archive = export_acme(&demo, "acme.zip", &[]);
    let by_created: BTreeMap<&str, &Value> = archive
        .records("tickets")
        .iter()
        .map(|t| (t["createdAt"].as_str().unwrap(), &t["customFields"]))
        .collect();
    assert_eq!(
        by_created[DEC31_LAST_MS],
        &serde_json::json!({"seats": 12, "plan": "pro"})
    );
    assert_eq!(
        by_created[JAN15_AFTERNOON],
        &serde_json::json!({"seats": 15, "budget": 1234.5})
    );
    assert_eq!(by_created[JAN01_MIDNIGHT], &serde_json::json!({}));
}

// ---------------------------------------------------------------------------------------
// Date window

/// Exports Acme with `args` and checks the archive holds exactly the tickets created at
/// `times`, with their notes, history and attachments, and every user and field.
fn assert_window(args: &[&str], times: &[&str]) -> Archive {
    assert_window_at(None, args, times)
}

/// `assert_window` for an export made at the time `now` (RFC 3339), when given.
fn assert_window_at(now: Option<&str>, args: &[&str], times: &[&str]) -> Archive {
    let demo = Demo::new();
    let archive = export_acme_at(&demo, now, "window.zip", args);
    let tickets = acme_tickets_created_at(&demo, times);
    let expected = RecordIds::in_db(&demo.conn(), ids::ACME).only_tickets(&tickets);
    assert_eq!(RecordIds::in_archive(&archive), expected, "{args:?}");
    let counts = &archive.manifest["counts"];
    assert_eq!(counts["tickets"], tickets.len());
    assert_eq!(counts["notes"], expected.notes.len());
    assert_eq!(counts["history"], expected.history.len());
    assert_eq!(counts["attachments"], expected.attachments.len());
    archive
}

#[test]
fn since_and_until_days_are_inclusive_whole_days() {
    let archive = assert_window(
        &["--since", "2026-01-01", "--until", "2026-01-31"],
        &[JAN01_MIDNIGHT, JAN15_AFTERNOON, JAN31_LAST_MS],
    );
    // The window's children are not vacuous: ticket 3 has notes, history and a file.
    let counts = &archive.manifest["counts"];
    assert_eq!(
        (&counts["notes"], &counts["history"], &counts["attachments"]),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );
    assert_eq!(archive.manifest["options"]["dateFrom"], "2026-01-01");
    assert_eq!(archive.manifest["options"]["dateTo"], "2026-01-31");
}

#[test]
fn since_alone_starts_at_midnight_of_that_day() {
    assert_window(&["--since", "2026-02-01"], &[FEB01_MIDNIGHT, MAR10_MORNING]);
}

#[test]
fn until_alone_ends_at_the_last_instant_of_that_day() {
    assert_window(
        &["--until", "2026-01-31"],
        &[
            DEC31_LAST_MS,
            JAN01_MIDNIGHT,
            JAN15_AFTERNOON,
            JAN31_LAST_MS,
        ],
    );
}

#[test]
fn same_day_since_and_until_give_that_day() {
    assert_window(
        &["--since", "2026-01-15", "--until", "2026-01-15"],
        &[JAN15_AFTERNOON],
    );
}

#[test]
fn rfc3339_bounds_are_inclusive_instants_in_any_offset() {
    // 01:00+01:00 is Acme's midnight ticket; the upper bound is a ticket's exact instant.
    let archive = assert_window(
        &[
            "--since",
            "2026-01-01T01:00:00+01:00",
            "--until",
            "2026-01-15T14:30:00Z",
        ],
        &[JAN01_MIDNIGHT, JAN15_AFTERNOON],
    );
    assert_eq!(
        archive.manifest["options"]["dateFrom"],
        "2026-01-01T00:00:00.000Z"
    );
    assert_eq!(
        archive.manifest["options"]["dateTo"],
        "2026-01-15T14:30:00.000Z"
    );
}

#[test]
fn a_time_without_a_zone_is_utc() {
    for since in [
        "2026-01-15T14:30:00",
        "2026-01-15 14:30:00",
        "2026-01-15T14:30",
    ] {
        let archive = assert_window(
            &["--since", since],
            &[
                JAN15_AFTERNOON,
                JAN31_LAST_MS,
                FEB01_MIDNIGHT,
                MAR10_MORNING,
            ],
        );
        assert_eq!(
            archive.manifest["options"]["dateFrom"], "2026-01-15T14:30:00.000Z",
            "{since}"
        );
    }
    assert_window(
        &["--until", "2026-01-15 14:29:59.999"],
        &[DEC31_LAST_MS, JAN01_MIDNIGHT],
    );
}

#[test]
fn an_age_counts_back_from_the_time_of_the_export() {
    // A calendar month before 15 February, 14:30 is Acme's ticket of 15 January, exactly.
    let archive = assert_window_at(
        Some("2026-02-15T14:30:00.000Z"),
        &["--since", "1m"],
        &[
            JAN15_AFTERNOON,
            JAN31_LAST_MS,
            FEB01_MIDNIGHT,
            MAR10_MORNING,
        ],
    );
    assert_eq!(
        archive.manifest["options"]["dateFrom"],
        "2026-01-15T14:30:00.000Z"
    );
    // From 1 January, 14:30 to 1 February, 14:30.
    let archive = assert_window_at(
        Some("2026-02-15T14:30:00.000Z"),
        &["--since", "45d", "--until", "2w"],
        &[JAN15_AFTERNOON, JAN31_LAST_MS, FEB01_MIDNIGHT],
    );
    assert_eq!(
        archive.manifest["options"]["dateTo"],
        "2026-02-01T14:30:00.000Z"
    );
    // Both ends included: 24 hours before is the first instant in.
    assert_window_at(
        Some("2026-01-01T23:59:59.999Z"),
        &["--since", "24h", "--until", "0h"],
        &[DEC31_LAST_MS, JAN01_MIDNIGHT],
    );
    assert_window_at(
        Some("2027-01-01T00:00:00.000Z"),
        &["--since", "1y"],
        &[
            JAN01_MIDNIGHT,
            JAN15_AFTERNOON,
            JAN31_LAST_MS,
            FEB01_MIDNIGHT,
            MAR10_MORNING,
        ],
    );
}

#[test]
fn a_window_without_tickets_is_a_warning() {
    let demo = Demo::new();
    let cases = [
        (
            vec!["--since", "2999-01-01"],
            "warning: --since 2999-01-01 is in the future, so the archive holds no tickets",
        ),
        (
            vec!["--until", "2020-01-01"],
            "warning: no tickets were created from the beginning to 2020-01-01, so the archive \
             holds none",
        ),
        (
            vec!["--since", "7d"],
            "warning: no tickets were created from 2026-11-24T14:22:53.123Z to now, so the \
             archive holds none",
        ),
    ];
    for (args, warning) in cases {
        let path = demo.out_path("window.zip");
        let output = demo
            .acme()
            .env(CLOCK.0, CLOCK.1)
            .args(["export", "--force", "-o"])
            .arg(&path)
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        let said = stderr_of(&output);
        let warnings: Vec<&str> = said.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(warnings, [warning], "{args:?}");
        assert_eq!(Archive::read(&path).records("tickets").len(), 0, "{args:?}");
    }
    // Not where tickets were left out anyway, nor under -q, nor for a window with tickets.
    for args in [
        vec!["--since", "2999-01-01", "--no-tickets"],
        vec!["-q", "--since", "2999-01-01"],
        vec!["--since", "2026-01-01"],
    ] {
        let output = demo
            .acme()
            .args(["export", "--force", "-o"])
            .arg(demo.out_path("window.zip"))
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
        assert!(
            !stderr_of(&output).contains("warning"),
            "{args:?}: {}",
            stderr_of(&output)
        );
    }
}

#[test]
fn window_without_tickets_gives_empty_sections() {
    let demo = Demo::new();
    let (entries, _) = export_acme_zip(&demo, &["--since", "2030-01-01"]);
    assert_eq!(json(&entries["tickets.json"]), serde_json::json!([]));
    assert_eq!(json(&entries["attachments.json"]), serde_json::json!([]));
    let manifest = json(&entries["manifest.json"]);
    assert_eq!(manifest["counts"]["tickets"], 0);
    assert_eq!(manifest["counts"]["users"], 5);
}

#[test]
fn a_bad_date_is_a_usage_error() {
    let demo = Demo::new();
    for bad in [
        "2026-02-30",
        "31/01/2026",
        "yesterday",
        "2026-01-15T25:00:00Z",
        "2026-01-15 25:00:00",
        "7x",
        "1.5d",
    ] {
        for flag in ["--since", "--until"] {
            demo.acme()
                .args(["export", flag, bad, "-o"])
                .arg(demo.out_path("x.zip"))
                .assert()
                .code(2)
                .stderr(predicate::str::contains(bad));
        }
    }
    assert_nothing_exported(&demo);
}

/// clap reads `--since`, `--until` and `--busy-timeout` into typed values: a bad one is a
/// usage error that names the flag and the value, and with `--json` the error is also the
/// JSON document on stdout, as any other error's.
#[test]
fn bad_values_are_usage_errors_naming_the_flag_with_json_too() {
    let demo = Demo::new();
    let cases: [(&[&str], &str); 6] = [
        (&["export", "--since", "3x"], "'3x' for '--since"),
        (
            &["export", "--until", "2026-13-01"],
            "'2026-13-01' for '--until",
        ),
        (
            &["--busy-timeout", "-1", "export"],
            "'-1' for '--busy-timeout",
        ),
        (
            &["--busy-timeout", "NaN", "export"],
            "'NaN' for '--busy-timeout",
        ),
        // More than SQLite's longest wait (24 days): these used to panic.
        (
            &["--busy-timeout", "1e30", "export"],
            "'1e30' for '--busy-timeout",
        ),
        (
            &["export", "--busy-timeout=2147484"],
            "'2147484' for '--busy-timeout",
        ),
    ];
    for (args, says) in cases {
        let out = demo
            .acme()
            .args(args)
            .arg("--json")
            .args(["-o"])
            .arg(demo.out_path("x.zip"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        let error = &json(&out.stdout)["error"];
        assert_eq!(error["kind"], "usage", "{args:?}: {error}");
        assert_eq!(error["exitCode"], 2, "{args:?}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{args:?}: {error}"
        );
    }
    assert_nothing_exported(&demo);
    // Seconds, fractions included, as before.
    for timeout in ["0.5", "5", "0"] {
        demo.acme()
            .args(["-q", "--busy-timeout", timeout, "export", "-o"])
            .arg(demo.out_path(&format!("t{timeout}.zip")))
            .assert()
            .success();
    }
}

#[test]
fn since_after_until_is_a_usage_error() {
    let demo = Demo::new();
    demo.acme()
        .args([
            "export",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-31",
            "-o",
        ])
        .arg(demo.out_path("x.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
    assert_nothing_exported(&demo);
}

// ---------------------------------------------------------------------------------------
// Manifest

#[test]
fn manifest_counts_equal_the_database_and_the_records() {
    let demo = Demo::new();
    let archive = export_acme(&demo, "acme.zip", &[]);
    let conn = demo.conn();
    let db = |sql: &str| count(&conn, sql, [ids::ACME]);
    let in_db = serde_json::json!({
        "users": db("SELECT count(*) FROM user_company_associations WHERE company_id = ?1"),
        "customFields": db("SELECT count(*) FROM custom_fields WHERE company_id = ?1"),
        "tickets": db("SELECT count(*) FROM tickets WHERE company_id = ?1"),
        "notes": db("SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id
                     WHERE t.company_id = ?1"),
        "history": db("SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id
                       WHERE t.company_id = ?1"),
        "attachments": db("SELECT count(*) FROM file_attachments f
                           JOIN tickets t ON t.id = f.ticket_id WHERE t.company_id = ?1"),
    });
    assert_eq!(archive.manifest["counts"], in_db);

    let tickets = archive.records("tickets");
    let nested = |key: &str| -> usize {
        tickets
            .iter()
            .map(|t| t[key].as_array().unwrap().len())
            .sum()
    };
    let in_records = serde_json::json!({
        "users": archive.records("users").len(),
        "customFields": archive.records("customFields").len(),
        "tickets": tickets.len(),
        "notes": nested("notes"),
        "history": nested("history"),
        "attachments": archive.records("attachments").len(),
    });
    assert_eq!(archive.manifest["counts"], in_records);
}

#[test]
fn manifest_names_the_company_the_actor_and_the_format() {
    let demo = Demo::new();
    let manifest = export_acme(&demo, "acme.zip", &[]).manifest;
    assert_eq!(manifest["format"], "bomizzel-export");
    assert_eq!(manifest["formatVersion"], 1);
    assert_eq!(manifest["companyId"], ids::ACME);
    assert_eq!(manifest["companyName"], "Acme Corp");
    assert_eq!(manifest["exportedBy"], ids::ADA_ID);
    assert_eq!(manifest["exportedByEmail"], ids::ACME_ADMIN);
}

// ---------------------------------------------------------------------------------------
// Company isolation

#[test]
fn acme_archive_holds_nothing_of_globex() {
    let demo = Demo::new();
    let (entries, archive) = export_acme_zip(&demo, &[]);
    let globex = RecordIds::in_db(&demo.conn(), ids::GLOBEX);
    let bob = "a0000000-0000-4000-8000-000000000002";
    // Every Globex record but the shared member, by id, anywhere in any entry.
    let mut foreign = globex.all();
    foreign.remove(bob);
    assert!(
        foreign.len() >= 7,
        "the demo has Globex records: {foreign:?}"
    );
    for (name, bytes) in &entries {
        for id in &foreign {
            assert!(!contains_bytes(bytes, id.as_bytes()), "{id} in {name}");
        }
        for email in [
            "dave@globex.example",
            "erin@globex.example",
            "zoe@nowhere.example",
        ] {
            assert!(
                !contains_bytes(bytes, email.as_bytes()),
                "{email} in {name}"
            );
        }
        let lower = String::from_utf8_lossy(bytes).to_lowercase();
        assert!(!lower.contains("globex"), "Globex mentioned in {name}");
    }
    let emails: BTreeSet<&str> = archive
        .records("users")
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(ids::SHARED_USER));
    assert_eq!(
        emails,
        BTreeSet::from([
            "ada@acme.example",
            "bob@acme.example",
            "carol@acme.example",
            "frank@acme.example",
            "gina@acme.example"
        ])
    );
}

#[test]
fn globex_archive_holds_nothing_of_acme() {
    let demo = Demo::new();
    let path = demo.out_path("globex.zip");
    demo.cmd()
        .args(["--company", ids::GLOBEX, "--actor", ids::GLOBEX_ADMIN])
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    let archive = Archive::read(&path);
    assert_eq!(
        RecordIds::in_archive(&archive),
        RecordIds::in_db(&demo.conn(), ids::GLOBEX)
    );
    let emails: BTreeSet<&str> = archive
        .records("users")
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        BTreeSet::from([
            "bob@acme.example",
            "dave@globex.example",
            "erin@globex.example"
        ])
    );
    let bob = archive
        .records("users")
        .iter()
        .find(|u| u["email"] == ids::SHARED_USER)
        .unwrap();
    assert_eq!(bob["companyRole"], "member");
}

// ---------------------------------------------------------------------------------------
// Password hashes

const HASH_MARKERS: [&str; 2] = ["DEMOHASH", "$2b$"];

fn assert_no_hash(what: &str, bytes: &[u8]) {
    for marker in HASH_MARKERS {
        assert!(
            !contains_bytes(bytes, marker.as_bytes()),
            "{marker} found in {what}"
        );
    }
}

/// No object key anywhere mentions a password.
fn assert_no_password_key(what: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                assert!(
                    !key.to_lowercase().contains("password"),
                    "key {key} in {what}"
                );
                assert_no_password_key(what, inner);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_no_password_key(what, v)),
        _ => {}
    }
}

#[test]
fn the_demo_really_holds_password_hashes() {
    // Guards the tests below: they would pass vacuously if the markers were not there.
    let demo = Demo::new();
    let hashed = count(
        &demo.conn(),
        "SELECT count(*) FROM users u JOIN user_company_associations a ON a.user_id = u.id
         WHERE a.company_id = ?1 AND u.password_hash LIKE '$2b$%DEMOHASH%'",
        [ids::ACME],
    );
    assert!(hashed >= 3);
}

#[test]
fn no_password_hash_in_the_zip_archive() {
    let demo = Demo::new();
    let (entries, _) = export_acme_zip(&demo, &[]);
    assert_no_hash(
        "the zip file",
        &fs::read(demo.out_path("acme.zip")).unwrap(),
    );
    for (name, bytes) in &entries {
        assert_no_hash(name, bytes);
        assert_no_password_key(name, &json(bytes));
    }
}

#[test]
fn no_password_hash_in_the_json_archive() {
    let demo = Demo::new();
    let path = demo.out_path("acme.json");
    demo.acme()
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    let bytes = fs::read(&path).unwrap();
    assert_no_hash("the json archive", &bytes);
    assert_no_password_key("the json archive", &json(&bytes));
}

#[test]
fn no_password_hash_on_stdout_or_stderr() {
    let demo = Demo::new();
    for format in ["zip", "json"] {
        let output = demo
            .acme()
            .args(["export", "--format", format, "-o", "-"])
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_no_hash("stdout", &output.stdout);
        assert_no_hash("stderr", &output.stderr);
        let archive = Archive::parse(&output.stdout);
        assert!(!archive.records("users").is_empty());
        for (key, records) in &archive.sections {
            assert_no_password_key(key, &Value::Array(records.clone()));
        }
        if format == "zip" {
            for (name, bytes) in zip_entries(&output.stdout) {
                assert_no_hash(&name, &bytes);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Zip integrity

#[test]
fn zip_passes_unzip_test() {
    let demo = Demo::new();
    export_acme(&demo, "acme.zip", &[]);
    let output = std::process::Command::new("unzip")
        .arg("-t")
        .arg(demo.out_path("acme.zip"))
        .output()
        .expect("run unzip (is it installed?)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "unzip -t failed: {text}");
    assert!(text.contains("No errors detected"), "{text}");
    for entry in ALL_ENTRIES {
        assert!(text.contains(&format!("testing: {entry}")), "{text}");
    }
}

#[test]
fn manifest_checksums_match_the_entries() {
    let demo = Demo::new();
    let (entries, _) = export_acme_zip(&demo, &[]);
    let manifest = json(&entries["manifest.json"]);
    let listed = manifest["entries"].as_object().expect("manifest.entries");
    let sections: BTreeSet<&str> = names(&entries)
        .into_iter()
        .filter(|n| *n != "manifest.json")
        .collect();
    assert_eq!(
        listed.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        sections
    );
    for (name, digest) in listed {
        let bytes = &entries[name];
        assert_eq!(digest["bytes"], bytes.len(), "{name} length");
        assert_eq!(digest["sha256"], sha256_hex(bytes), "{name} sha256");
    }
}

#[test]
fn zip_entries_are_deflated() {
    let demo = Demo::new();
    export_acme(&demo, "acme.zip", &[]);
    let file = fs::File::open(demo.out_path("acme.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    for index in 0..zip.len() {
        let entry = zip.by_index(index).unwrap();
        assert_eq!(
            entry.compression(),
            zip::CompressionMethod::Deflated,
            "{:?}",
            entry.name()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The json container

fn assert_web_app_layout(bytes: &[u8], sections: &[&str]) {
    let document = json(bytes);
    let top: BTreeSet<&str> = document
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, BTreeSet::from(["exportInfo", "data"]));
    let data = document["data"].as_object().expect("data object");
    assert_eq!(
        data.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        sections.iter().copied().collect()
    );
    assert!(data.values().all(Value::is_array));
    let info = &document["exportInfo"];
    assert_eq!(info["format"], "bomizzel-export");
    assert_eq!(info["companyName"], "Acme Corp");
    assert!(info["counts"].is_object());
    assert!(
        info.get("entries").is_none(),
        "no zip entry digests in json"
    );
}

#[test]
fn json_extension_writes_the_web_app_layout() {
    let demo = Demo::new();
    let archive = export_acme(&demo, "acme.json", &[]);
    assert_web_app_layout(
        &fs::read(demo.out_path("acme.json")).unwrap(),
        &["users", "customFields", "tickets", "attachments"],
    );
    assert_eq!(
        RecordIds::in_archive(&archive),
        RecordIds::in_db(&demo.conn(), ids::ACME)
    );
    assert_eq!(archive.manifest["counts"]["tickets"], 6);
}

#[test]
fn format_flag_overrides_the_extension() {
    let demo = Demo::new();
    let json_path = demo.out_path("really-json.zip");
    let zip_path = demo.out_path("really-zip.json");
    demo.acme()
        .args(["export", "--format", "json", "-o"])
        .arg(&json_path)
        .assert()
        .success();
    demo.acme()
        .args(["export", "--format", "zip", "-o"])
        .arg(&zip_path)
        .assert()
        .success();
    assert_web_app_layout(
        &fs::read(&json_path).unwrap(),
        &["users", "customFields", "tickets", "attachments"],
    );
    let entries = zip_entries(&fs::read(&zip_path).unwrap());
    assert_eq!(names(&entries), ALL_ENTRIES.into_iter().collect());
}

#[test]
fn json_container_leaves_out_skipped_sections() {
    let demo = Demo::new();
    let archive = export_acme(&demo, "acme.json", &["--no-users", "--no-tickets"]);
    assert_web_app_layout(
        &fs::read(demo.out_path("acme.json")).unwrap(),
        &["customFields"],
    );
    assert_eq!(
        RecordIds::in_archive(&archive).custom_fields,
        RecordIds::in_db(&demo.conn(), ids::ACME).custom_fields
    );
}

// ---------------------------------------------------------------------------------------
// Standard output

#[test]
fn dash_writes_the_zip_to_stdout_and_nothing_else() {
    let demo = Demo::new();
    let output = demo
        .acme()
        .current_dir(&demo.out)
        .args(["export", "-o", "-"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = &output.stdout;
    assert!(stdout.starts_with(b"PK\x03\x04"), "starts as a zip");
    // The end of central directory record, with no comment, is the very last thing.
    assert!(stdout.len() > 22 && stdout[stdout.len() - 22..].starts_with(b"PK\x05\x06"));
    let archive = Archive::from_zip(stdout);
    assert_eq!(
        RecordIds::in_archive(&archive),
        RecordIds::in_db(&demo.conn(), ids::ACME)
    );
    // The logged length and checksum are those of exactly what stdout carried.
    let logged: String = demo
        .conn()
        .query_row("SELECT exported_data FROM data_export_logs", [], |r| {
            r.get(0)
        })
        .unwrap();
    let logged = json(logged.as_bytes());
    assert_eq!(logged["bytes"], stdout.len());
    assert_eq!(logged["sha256"], sha256_hex(stdout));
    assert_eq!(logged["file"], "-");
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "no file written");
}

#[test]
fn dash_with_format_json_writes_one_json_document() {
    let demo = Demo::new();
    let output = demo
        .acme()
        .current_dir(&demo.out)
        .args(["export", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    // `json` refuses trailing content, so stdout is this one document.
    assert_web_app_layout(
        &output.stdout,
        &["users", "customFields", "tickets", "attachments"],
    );
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "no file written");
}

#[test]
fn json_report_and_archive_on_stdout_together_is_a_usage_error() {
    let demo = Demo::new();
    let output = demo
        .acme()
        .current_dir(&demo.out)
        .args(["--json", "export", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("stdout"));
    // stdout holds the error object only, never archive bytes.
    assert_eq!(json(&output.stdout)["error"]["exitCode"], 2);
    assert_nothing_exported(&demo);
}

// ---------------------------------------------------------------------------------------
// Output file names

/// Checks `name` is `bomizzel-acme-corp-<yyyymmddThhmmssSSSZ>.<ext>` and its time is the
/// manifest's `exportedAt` to the millisecond.
fn assert_default_name(name: &str, ext: &str, exported_at: &str) {
    let stamp = name
        .strip_prefix("bomizzel-acme-corp-")
        .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
        .unwrap_or_else(|| panic!("unexpected name {name}"));
    assert_eq!(stamp.len(), 19, "{name}");
    let expected: String = exported_at
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | '.'))
        .collect();
    assert_eq!(stamp, expected, "{name} vs {exported_at}");
}

/// The only file in `dir`.
fn only_file(dir: &Path) -> String {
    let files = files_under(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn default_output_is_a_timestamped_zip_in_the_current_directory() {
    let demo = Demo::new();
    let before = chrono::Utc::now();
    demo.acme()
        .current_dir(&demo.out)
        .arg("export")
        .assert()
        .success();
    let after = chrono::Utc::now();
    let name = only_file(&demo.out);
    let manifest = Archive::read(&demo.out_path(&name)).manifest;
    let exported_at = manifest["exportedAt"].as_str().unwrap();
    assert_default_name(&name, "zip", exported_at);
    let at = chrono::DateTime::parse_from_rfc3339(exported_at).unwrap();
    assert!(before <= at && at <= after, "{exported_at} is now");
}

#[test]
fn directory_output_gets_the_default_name_inside_it() {
    let demo = Demo::new();
    demo.acme()
        .args(["export", "-o"])
        .arg(&demo.out)
        .assert()
        .success();
    let name = only_file(&demo.out);
    let manifest = Archive::read(&demo.out_path(&name)).manifest;
    assert_default_name(&name, "zip", manifest["exportedAt"].as_str().unwrap());
}

#[test]
fn directory_output_in_json_format_gets_a_json_name() {
    let demo = Demo::new();
    demo.acme()
        .args(["export", "--format", "json", "-o"])
        .arg(&demo.out)
        .assert()
        .success();
    let name = only_file(&demo.out);
    let manifest = Archive::read(&demo.out_path(&name)).manifest;
    assert_default_name(&name, "json", manifest["exportedAt"].as_str().unwrap());
}

/// The default name at `CLOCK`, numbered from 2 on.
fn name_at_clock(n: usize) -> String {
    match n {
        1 => "bomizzel-acme-corp-20261201T142253123Z.zip".to_owned(),
        n => format!("bomizzel-acme-corp-20261201T142253123Z-{n}.zip"),
    }
}

/// Checks that each file of `dir` is the archive its export logged, under its name.
fn assert_each_archive_logged(demo: &Demo, dir: &Path) {
    let logged = logged_exports(demo);
    for name in files_under(dir) {
        let path = fs::canonicalize(dir.join(&name)).unwrap();
        let manifest = Archive::read(&path).manifest;
        let (_, detail) = logged
            .iter()
            .find(|(id, _)| manifest["exportId"] == id.as_str())
            .unwrap_or_else(|| panic!("{name} is not logged: {logged:?}"));
        assert_eq!(detail["file"], path.display().to_string(), "{name}");
        assert_eq!(
            detail["sha256"],
            sha256_hex(&fs::read(&path).unwrap()),
            "{name}"
        );
    }
}

#[test]
fn exports_in_the_same_millisecond_get_numbered_names() {
    let demo = Demo::new();
    // One after another, each way of writing the file; --force does not make a default name
    // replace the earlier backup.
    let runs: [(TempFile, &[&str]); 4] = [
        (TempFile::Unnamed, &[]),
        (TempFile::Named, &[]),
        (TempFile::Unnamed, &["--force"]),
        (TempFile::Named, &["--force"]),
    ];
    for (temp, extra) in runs {
        demo.acme()
            .env(CLOCK.0, CLOCK.1)
            .envs(temp.env())
            .arg("export")
            .args(extra)
            .arg("-o")
            .arg(&demo.out)
            .assert()
            .success();
    }
    let expected: BTreeSet<String> = (1..=4).map(name_at_clock).collect();
    assert_eq!(files_under(&demo.out), expected);
    assert_each_archive_logged(&demo, &demo.out);

    // At the same time, into one folder: each takes a name no other has.
    let together = demo.out_path("together");
    fs::create_dir(&together).unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin(BINARY));
            cmd.arg("--db")
                .arg(&demo.db)
                .args(AS_ACME_ADMIN)
                .args(["--busy-timeout", "30", "export", "-o"])
                .arg(&together)
                .env(CLOCK.0, CLOCK.1)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            if i % 2 == 1 {
                cmd.envs(TempFile::Named.env());
            }
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    assert_eq!(files_under(&together), expected);
    assert_each_archive_logged(&demo, &together);
}

#[test]
fn an_earlier_backup_by_its_default_name_is_never_offered_to_force() {
    let demo = Demo::new();
    for name in [
        name_at_clock(1),
        name_at_clock(2),
        // The names before they had milliseconds.
        "bomizzel-acme-corp-20261123T023000Z.zip".to_owned(),
    ] {
        let target = demo.out_path(&name);
        fs::write(&target, b"an earlier backup").unwrap();
        let output = demo
            .acme()
            .args(["export", "-o"])
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}");
        let said = stderr_of(&output);
        assert!(
            said.contains(&format!("{} already exists", target.display()))
                && said.contains("earlier backup")
                && said.contains(&format!("-o {}/", demo.out.display()))
                && !said.contains("--force"),
            "{said}"
        );
        assert_eq!(fs::read(&target).unwrap(), b"an earlier backup");
    }
}

#[test]
fn default_names_transliterate_the_company() {
    let demo = Demo::new();
    demo.cmd()
        .args(["--company", ids::GLOBEX, "--actor", ids::GLOBEX_ADMIN])
        .args(["export", "-o"])
        .arg(&demo.out)
        .env(CLOCK.0, CLOCK.1)
        .assert()
        .success();
    // Globex "Zürich" & Co
    assert_eq!(
        files_under(&demo.out),
        set(&["bomizzel-globex-zurich-co-20261201T142253123Z.zip"])
    );
}

// ---------------------------------------------------------------------------------------
// Failed exports leave nothing behind

#[test]
fn an_output_folder_that_does_not_exist_is_not_found() {
    let demo = Demo::new();
    let cases = [
        ("missing/acme.zip", "missing"),
        ("missing/sub/acme.zip", "missing/sub"),
        // A folder (the trailing /) for the default name.
        ("newdir/", "newdir"),
    ];
    let mut attempts = 0;
    for temp in TempFile::BOTH {
        for (output, folder) in cases {
            let result = demo
                .acme()
                .current_dir(&demo.out)
                .envs(temp.env())
                .args(["export", "-o", output])
                .output()
                .unwrap();
            attempts += 1;
            let said = stderr_of(&result);
            assert_eq!(result.status.code(), Some(6), "{temp:?} {output}: {said}");
            assert_eq!(
                said,
                format!(
                    "bomizzel-backup: the output folder {folder} does not exist; create it \
                     first (mkdir -p {folder}) or choose another\n"
                ),
                "{temp:?} {output}"
            );
        }
    }
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "nothing created");
    assert_failed_exports(&demo, attempts, "does not exist");

    // With --json, the error is the one document on stdout.
    let result = demo
        .acme()
        .args(["--json", "export", "-o"])
        .arg(demo.out_path("gone").join("acme.zip"))
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(6));
    let report = json(&result.stdout);
    assert_eq!(report["error"]["kind"], "not-found", "{report}");
    assert_eq!(report["error"]["exitCode"], 6, "{report}");
}

#[test]
fn output_under_a_regular_file_fails_and_leaves_nothing() {
    let demo = Demo::new();
    let blocker = demo.out_path("not-a-dir");
    fs::write(&blocker, b"just a file").unwrap();
    demo.acme()
        .args(["export", "-o"])
        .arg(blocker.join("acme.zip"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not-a-dir"));
    assert_eq!(fs::read(&blocker).unwrap(), b"just a file");
    assert_eq!(files_under(&demo.out), set(&["not-a-dir"]));
    assert_failed_exports(&demo, 1, "not-a-dir");
}

#[test]
fn a_failure_while_writing_leaves_no_partial_file() {
    let demo = Demo::new();
    // A priority the archive format cannot express makes the export fail mid-stream,
    // after the temporary file exists and other sections are written.
    let conn = demo.conn();
    conn.pragma_update(None, "ignore_check_constraints", true)
        .unwrap();
    conn.execute(
        "UPDATE tickets SET priority = 'critical' WHERE company_id = ?1 AND created_at = ?2",
        [ids::ACME, MAR10_MORNING],
    )
    .unwrap();
    drop(conn);
    for temp in TempFile::BOTH {
        demo.acme()
            .envs(temp.env())
            .args(["export", "-o"])
            .arg(demo.out_path("acme.zip"))
            .assert()
            .code(1)
            .stderr(predicate::str::contains("critical"));
        assert_eq!(
            files_under(&demo.out),
            BTreeSet::new(),
            "{temp:?}: files left"
        );
    }
    assert_failed_exports(&demo, TempFile::BOTH.len(), "critical");
}

#[test]
fn an_existing_file_is_refused_without_force() {
    let demo = Demo::new();
    let target = demo.out_path("acme.zip");
    let original = b"yesterday's backup, not to be lost".to_vec();
    fs::write(&target, &original).unwrap();
    for temp in TempFile::BOTH {
        demo.acme()
            .envs(temp.env())
            .args(["export", "-o"])
            .arg(&target)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(target.display().to_string()))
            .stderr(predicate::str::contains("--force"));
        assert_eq!(fs::read(&target).unwrap(), original);
        assert_eq!(
            files_under(&demo.out),
            set(&["acme.zip"]),
            "{temp:?}: no temporary file"
        );
    }
    assert_failed_exports(&demo, TempFile::BOTH.len(), "already exists");
}

#[test]
fn force_replaces_an_existing_file() {
    let demo = Demo::new();
    let target = demo.out_path("acme.zip");
    for temp in TempFile::BOTH {
        fs::write(&target, b"old").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        }
        demo.acme()
            .envs(temp.env())
            .args(["export", "--force", "-o"])
            .arg(&target)
            .assert()
            .success();
        let archive = Archive::read(&target);
        assert_eq!(archive.manifest["companyId"], ids::ACME);
        assert_eq!(mode(&target), 0o600, "{temp:?}");
        assert_eq!(
            files_under(&demo.out),
            set(&["acme.zip"]),
            "{temp:?}: no temporary file"
        );
    }
}

#[test]
fn force_never_replaces_the_database_itself() {
    let demo = Demo::new();
    let link = demo.out_path("link-to.db");
    std::os::unix::fs::symlink(&demo.db, &link).unwrap();
    let before = fs::read(&demo.db).unwrap();
    for target in [&demo.db, &link] {
        demo.acme()
            .args(["export", "--force", "-o"])
            .arg(target)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("database"));
    }
    assert_eq!(fs::read(&demo.db).unwrap(), before, "the database changed");
    assert_eq!(count_rows(&demo.conn(), "data_export_logs"), 0);
    assert_eq!(
        files_under(&demo.out),
        set(&["link-to.db"]),
        "no temporary file"
    );
}

#[test]
fn archives_are_readable_by_their_owner_only() {
    let demo = Demo::new();
    for name in ["acme.zip", "acme.json"] {
        export_acme(&demo, name, &[]);
        assert_eq!(mode(&demo.out_path(name)), 0o600, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Who may export

fn assert_denied(actor: &str) {
    let demo = Demo::new();
    let output = demo
        .cmd()
        .args(["--company", "Acme Corp", "--actor", actor, "export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(5), "{actor}: {stderr}");
    assert!(
        stderr.starts_with("bomizzel-backup: Permission denied"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(output.stdout.is_empty());
    assert_nothing_exported(&demo);
}

#[test]
fn a_customer_is_denied() {
    assert_denied(ids::ACME_CUSTOMER);
}

#[test]
fn an_inactive_admin_is_denied() {
    assert_denied(ids::INACTIVE_ADMIN);
}

#[test]
fn an_unknown_email_is_denied() {
    assert_denied("mallory@acme.example");
}

#[test]
fn an_admin_of_another_company_is_denied() {
    assert_denied(ids::GLOBEX_ADMIN);
}

#[test]
fn a_member_who_is_not_an_admin_is_denied() {
    // bob is an employee and a plain member of Acme.
    assert_denied(ids::SHARED_USER);
}

#[test]
fn no_actor_is_a_usage_error() {
    let demo = Demo::new();
    demo.cmd()
        .args(["--company", "Acme Corp", "export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--actor"));
    assert_nothing_exported(&demo);
}

#[test]
fn a_membership_admin_may_export() {
    // carol is a team lead by user role and an admin of Acme by membership.
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    demo.cmd()
        .args(["--company", "Acme Corp", "--actor", "carol@acme.example"])
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(
        Archive::read(&path).manifest["exportedByEmail"],
        "carol@acme.example"
    );
}

#[test]
fn a_member_with_the_admin_user_role_may_export() {
    let demo = Demo::new();
    demo.conn()
        .execute(
            "UPDATE users SET role = 'admin' WHERE email = ?1",
            [ids::SHARED_USER],
        )
        .unwrap();
    demo.cmd()
        .args(["--company", "Acme Corp", "--actor", ids::SHARED_USER])
        .args(["export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .success();
}

#[test]
fn the_actor_email_ignores_case() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    demo.cmd()
        .args(["--company", "Acme Corp", "--actor", "ADA@Acme.Example"])
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(Archive::read(&path).manifest["exportedBy"], ids::ADA_ID);
}

// ---------------------------------------------------------------------------------------
// Databases and companies that are not there

#[test]
fn an_unknown_company_is_not_found() {
    let demo = Demo::new();
    demo.cmd()
        .args([
            "--company",
            "Initech",
            "--actor",
            ids::ACME_ADMIN,
            "export",
            "-o",
        ])
        .arg(demo.out_path("x.zip"))
        .assert()
        .code(6)
        .stderr(predicate::str::contains("Initech"));
    assert_nothing_exported(&demo);
}

#[test]
fn a_missing_database_is_not_found_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nope.db");
    cmd(&db)
        .current_dir(dir.path())
        .args(AS_ACME_ADMIN)
        .arg("export")
        .assert()
        .code(6)
        .stderr(predicate::str::contains("nope.db"));
    assert!(!db.exists(), "the database file was created");
    assert_eq!(files_under(dir.path()), BTreeSet::new());
}

#[test]
fn an_unrelated_sqlite_file_is_not_a_bomizzel_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inventory.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE inventory (id INTEGER PRIMARY KEY, item TEXT);")
        .unwrap();
    let before = fs::read(&db).unwrap();
    let output = cmd(&db)
        .current_dir(dir.path())
        .args(AS_ACME_ADMIN)
        .arg("export")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert_ne!(output.status.code(), Some(0));
    assert!(stderr.contains("not a Bomizzel database"), "{stderr}");
    for table in [
        "companies",
        "users",
        "tickets",
        "ticket_notes",
        "custom_fields",
    ] {
        assert!(stderr.contains(table), "{table} not named: {stderr}");
    }
    // Refused before anything is written: not even the tool's log tables.
    assert_eq!(fs::read(&db).unwrap(), before);
    assert_eq!(files_under(dir.path()), set(&["inventory.db"]));
}

#[test]
fn a_file_of_random_bytes_is_not_a_bomizzel_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("noise.db");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    fs::write(&db, &noise).unwrap();
    let output = cmd(&db)
        .current_dir(dir.path())
        .args(AS_ACME_ADMIN)
        .arg("export")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("not a Bomizzel database"), "{stderr}");
    assert!(stderr.contains("noise.db"), "{stderr}");
    assert_eq!(fs::read(&db).unwrap(), noise, "the file was changed");
    assert_eq!(files_under(dir.path()), set(&["noise.db"]));
}

#[test]
fn a_locked_database_is_busy() {
    let demo = Demo::new();
    let holder = demo.conn();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    demo.acme()
        .args(["--busy-timeout", "0.2", "export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .code(7);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_nothing_exported(&demo);
}

// ---------------------------------------------------------------------------------------
// Choosing the company

fn exported_company(demo: &Demo, company: Option<&str>) -> Value {
    let path = demo.out_path("acme.zip");
    let mut cmd = demo.cmd();
    if let Some(company) = company {
        cmd.args(["--company", company]);
    }
    cmd.args(["--actor", ids::ACME_ADMIN, "export", "-o"])
        .arg(&path)
        .assert()
        .success();
    Archive::read(&path).manifest["companyId"].clone()
}

#[test]
fn the_company_by_id() {
    let demo = Demo::new();
    assert_eq!(exported_company(&demo, Some(ids::ACME)), ids::ACME);
}

#[test]
fn the_company_by_name_ignoring_case() {
    for name in ["Acme Corp", "acme corp", "ACME CORP"] {
        let demo = Demo::new();
        assert_eq!(exported_company(&demo, Some(name)), ids::ACME, "{name}");
    }
}

#[test]
fn no_company_with_two_in_the_database_lists_both() {
    let demo = Demo::new();
    demo.cmd()
        .args(["--actor", ids::ACME_ADMIN, "export", "-o"])
        .arg(demo.out_path("x.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--company"))
        .stderr(predicate::str::contains("Acme Corp"))
        .stderr(predicate::str::contains("Globex \"Zürich\" & Co"));
    assert_nothing_exported(&demo);
}

#[test]
fn no_company_with_one_in_the_database_is_that_one() {
    let demo = Demo::new();
    // Foreign keys cascade Globex's fields, tickets and memberships away with it.
    demo.conn()
        .execute("DELETE FROM companies WHERE id = ?1", [ids::GLOBEX])
        .unwrap();
    assert_eq!(count_rows(&demo.conn(), "companies"), 1);
    assert_eq!(exported_company(&demo, None), ids::ACME);
}

// ---------------------------------------------------------------------------------------
// Global options

#[test]
fn global_options_after_the_subcommand() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    bin()
        .arg("export")
        .arg("--db")
        .arg(&demo.db)
        .args(["--company", "Acme Corp", "--actor", ids::ACME_ADMIN, "-o"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(Archive::read(&path).manifest["companyId"], ids::ACME);
}

#[test]
fn global_options_from_the_environment() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    bin()
        .env("BOMIZZEL_DB", &demo.db)
        .env("BOMIZZEL_COMPANY", "Acme Corp")
        .env("BOMIZZEL_ACTOR", ids::ACME_ADMIN)
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    let manifest = Archive::read(&path).manifest;
    assert_eq!(manifest["companyId"], ids::ACME);
    assert_eq!(manifest["exportedByEmail"], ids::ACME_ADMIN);
}

#[test]
fn the_command_line_wins_over_the_environment() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    bin()
        .env("BOMIZZEL_DB", demo.dir.path().join("elsewhere.db"))
        .env("BOMIZZEL_COMPANY", ids::GLOBEX)
        .env("BOMIZZEL_ACTOR", ids::GLOBEX_ADMIN)
        .arg("--db")
        .arg(&demo.db)
        .args(AS_ACME_ADMIN)
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    let manifest = Archive::read(&path).manifest;
    assert_eq!(manifest["companyId"], ids::ACME);
    assert_eq!(manifest["exportedByEmail"], ids::ACME_ADMIN);
}

// ---------------------------------------------------------------------------------------
// The export log

#[test]
fn the_export_log_row_describes_the_archive() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    let archive = export_acme(&demo, "acme.zip", &["--since", "2026-01-01"]);
    let conn = demo.conn();
    assert_eq!(count_rows(&conn, "data_export_logs"), 1);
    let (company_id, user_id, export_id, data, created_at): (
        String,
        String,
        String,
        String,
        String,
    ) = conn
        .query_row(
            "SELECT company_id, user_id, export_id, exported_data, created_at
             FROM data_export_logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let manifest = &archive.manifest;
    assert_eq!(company_id, ids::ACME);
    assert_eq!(export_id, manifest["exportId"].as_str().unwrap());
    assert_eq!(user_id, manifest["exportedBy"].as_str().unwrap());
    assert_eq!(user_id, ids::ADA_ID);
    assert_eq!(created_at, manifest["exportedAt"].as_str().unwrap());

    let data = json(data.as_bytes());
    let counts = &manifest["counts"];
    for key in ["users", "tickets", "attachments", "customFields"] {
        assert_eq!(data[key], counts[key], "{key}");
    }
    assert_eq!(data["tickets"], 5);
    let file = fs::read(&path).unwrap();
    assert_eq!(data["bytes"], file.len());
    assert_eq!(data["sha256"], sha256_hex(&file));
    assert_eq!(
        Path::new(data["file"].as_str().unwrap()),
        fs::canonicalize(&path).unwrap()
    );
    assert_eq!(data["options"]["dateFrom"], "2026-01-01");
}

// ---------------------------------------------------------------------------------------
// What it prints

fn json_report(demo: &Demo, path: &Path) -> Value {
    let output = demo
        .acme()
        .args(["--json", "export", "-o"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    json(&output.stdout)
}

#[test]
fn json_report_shape() {
    let demo = Demo::new();
    let mut report = json_report(&demo, &demo.out_path("acme.zip"));
    redact(
        &mut report,
        &["exportId", "file", "exportedAt", "sha256", "bytes"],
    );
    insta::assert_json_snapshot!("json_report", report);
}

#[test]
fn json_report_describes_the_written_file() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    let report = json_report(&demo, &path);
    let file = fs::read(&path).unwrap();
    assert_eq!(report["bytes"], file.len());
    assert_eq!(report["sha256"], sha256_hex(&file));
    assert_eq!(
        Path::new(report["file"].as_str().unwrap()),
        fs::canonicalize(&path).unwrap()
    );
    let manifest = Archive::read(&path).manifest;
    assert_eq!(report["exportId"], manifest["exportId"]);
    assert_eq!(report["exportedAt"], manifest["exportedAt"]);
    assert_eq!(report["counts"], manifest["counts"]);
}

#[test]
fn json_error_is_an_object_on_stdout() {
    let demo = Demo::new();
    let output = demo
        .cmd()
        .args(["--company", "Acme Corp", "--actor", ids::ACME_CUSTOMER])
        .args(["--json", "export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let mut report = json(&output.stdout);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Permission denied")
    );
    redact(&mut report, &["message"]);
    insta::assert_json_snapshot!("json_error", report);
}

#[test]
fn the_summary_goes_to_stderr_and_stdout_stays_empty() {
    let demo = Demo::new();
    let output = demo
        .acme()
        .args(["export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = stderr_of(&output);
    let manifest = Archive::read(&demo.out_path("acme.zip")).manifest;
    assert!(
        stderr.contains(manifest["exportId"].as_str().unwrap()),
        "{stderr}"
    );
    assert!(stderr.contains("acme.zip"), "{stderr}");
}

#[test]
fn quiet_success_prints_nothing() {
    let demo = Demo::new();
    demo.acme()
        .args(["-q", "export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert!(demo.out_path("acme.zip").exists());
}

#[test]
fn quiet_failure_still_prints_the_error() {
    let demo = Demo::new();
    demo.cmd()
        .args([
            "-q",
            "--company",
            "Acme Corp",
            "--actor",
            ids::ACME_CUSTOMER,
        ])
        .args(["export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with(
            "bomizzel-backup: Permission denied",
        ));
}

#[test]
fn verbose_says_each_step_and_the_summary_how_long_it_took() {
    let demo = Demo::new();
    let path = demo.out_path("acme.zip");
    let output = demo
        .acme()
        .args(["--verbose", "export", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let said = stderr_of(&output);
    assert!(
        said.contains("bomizzel-backup: opened the database")
            && said.contains(
                "exporting Acme Corp (c0000000-0000-4000-8000-000000000001) as ada@acme.example"
            )
            && said.contains("bomizzel-backup: reading every section from one read transaction"),
        "{said}"
    );
    let summary = said
        .lines()
        .find(|l| l.starts_with("Exported Acme Corp to "))
        .expect("the summary");
    assert!(
        summary.ends_with(" s") && summary.contains(") in "),
        "{summary}"
    );
}

#[test]
fn a_reader_that_stops_early_fails_the_export_and_logs_it() {
    // `export -o - | head -c 1000`: stdout closes while the archive is still being written.
    // The archive must be larger than a pipe's buffer for the close to be felt. That is an
    // incomplete backup, unlike `history | head`, which stays a quiet success.
    let demo = Demo::new();
    state::fill_tickets(
        &demo.conn(),
        ids::ACME,
        &[ids::ACME_ADMIN, ids::SHARED_USER],
        1,
        400,
        2000,
    );
    for format in ["zip", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin(BINARY))
            .args(["--db"])
            .arg(&demo.db)
            .args(AS_ACME_ADMIN)
            .arg("-q")
            .args(["export", "--format", format, "-o", "-"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1000];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}: {output:?}");
        assert_eq!(
            stderr_of(&output),
            "bomizzel-backup: the output closed before the archive was complete: whatever \
             read standard output stopped early, so this backup is incomplete\n",
            "{format}"
        );
    }
    let failed = assert_failed_exports(
        &demo,
        2,
        "the output closed before the archive was complete",
    );
    for ((_, detail), format) in logged_exports(&demo).iter().zip(["zip", "json"]) {
        assert_eq!(detail["target"], "-", "{detail}");
        assert_eq!(detail["format"], format, "{detail}");
    }
    // Prune has nothing to do with them: they name no file.
    let pruned = json_ok(demo.acme().args([
        "--json",
        "prune",
        "--older-than",
        "0h",
        "--keep-last",
        "0",
        "--dry-run",
    ]));
    assert_eq!(pruned["deleted"], serde_json::json!([]), "{pruned}");
    let shown = demo.acme().args(["history", &failed[0]]).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    let lines = detail_lines(&shown);
    assert_eq!(value(&lines, "status"), "failed", "{shown}");
    assert_eq!(value(&lines, "meant for"), "standard output", "{shown}");
}

#[test]
fn an_archive_is_never_written_to_a_terminal() {
    let demo = Demo::new();
    for args in [
        vec!["export", "-o", "-"],
        vec!["export", "--format", "json", "-o", "-"],
    ] {
        let mut all = AS_ACME_ADMIN.to_vec();
        all.extend(args);
        let session = terminal::run(&terminal::with_db(&demo.db, &all), "");
        assert_eq!(session.code, Some(2), "{all:?}: {}", session.screen);
        assert_eq!(
            session.screen.trim_end(),
            "bomizzel-backup: refusing to write the archive to a terminal; redirect it or use \
             -o FILE",
            "{all:?}"
        );
    }
    // Refused before anything was done: nothing written, nothing logged.
    assert_nothing_exported(&demo);
}

#[test]
fn a_value_its_field_no_longer_allows_is_restored_as_it_was() {
    // "platinum" was taken out of the plan picklist after a ticket used it.
    let demo = Demo::new();
    demo.conn()
        .execute(
            "UPDATE tickets SET custom_field_values = json_set(custom_field_values,
                 '$.\"f0000000-0000-4000-8000-000000000002\"', 'platinum')
             WHERE id = 'b0000000-0000-4000-8000-000000000005'",
            [],
        )
        .unwrap();
    let path = demo.out_path("acme.zip");
    let output = demo
        .acme()
        .args(["export", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        !stderr_of(&output).contains("warning"),
        "{}",
        stderr_of(&output)
    );
    // The backup keeps the value as it is…
    let archive = Archive::read(&path);
    let ticket = archive
        .records("tickets")
        .iter()
        .find(|t| t["id"] == "b0000000-0000-4000-8000-000000000005")
        .unwrap();
    assert_eq!(ticket["customFields"]["plan"], "platinum");
    // …validation accepts it, naming the value's place in a warning…
    let checked = cmd(&demo.dir.path().join("none.db"))
        .args(["import", "--validate-only"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", stderr_of(&checked));
    let said = stderr_of(&checked);
    assert!(
        said.contains("custom field plan: values its definition does not allow, kept as they are")
            && said.contains(".customFields.plan: \"platinum\" is not one of the picklist options"),
        "{said}"
    );
    // …and a restore onto an empty database gives it back.
    let restored = demo.dir.path().join("restored.db");
    cmd(&restored).arg("init").assert().success();
    cmd(&restored)
        .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
        .arg(&path)
        .assert()
        .success();
    let value: String = open_db(&restored)
        .query_row(
            "SELECT json_extract(custom_field_values, '$.\"f0000000-0000-4000-8000-000000000002\"')
             FROM tickets WHERE id = 'b0000000-0000-4000-8000-000000000005'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(value, "platinum");
}

/// Tickets come in id order, whenever they were created; a ticket's notes and history in
/// time order, ties by id; attachments in their tickets' order. On a database `init` made
/// and on one the web app made (whose indexes end without `id`) alike.
#[test]
fn records_come_in_id_and_time_order_on_every_database() {
    for demo in [Demo::new(), Demo::web_app()] {
        let conn = demo.conn();
        // An early ticket with the largest id, and two created in the same millisecond,
        // inserted in the opposite order to their ids; each with two notes of one time.
        conn.execute_batch(&format!(
            "INSERT INTO tickets (id, company_id, title, status, priority, custom_field_values,
                 created_at, updated_at) VALUES
               ('ffffffff-early', '{acme}', 'Early', 'open', 'low', '{{}}',
                '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z'),
               ('00000000-tie-b', '{acme}', 'Tie B', 'open', 'low', '{{}}',
                '2026-01-15T12:00:00.000Z', '2026-01-15T12:00:00.000Z'),
               ('00000000-tie-a', '{acme}', 'Tie A', 'open', 'low', '{{}}',
                '2026-01-15T12:00:00.000Z', '2026-01-15T12:00:00.000Z');
             INSERT INTO ticket_notes (id, ticket_id, content, is_internal, is_email_generated,
                 created_at, updated_at) VALUES
               ('note-z', '00000000-tie-a', 'z', 0, 0, '2026-01-16T00:00:00.000Z',
                '2026-01-16T00:00:00.000Z'),
               ('note-a', '00000000-tie-a', 'a', 0, 0, '2026-01-16T00:00:00.000Z',
                '2026-01-16T00:00:00.000Z');",
            acme = ids::ACME
        ))
        .unwrap();
        drop(conn);

        let archive = export_acme(&demo, "ordered.zip", &[]);
        let tickets = archive.records("tickets");
        let keys: Vec<&str> = tickets.iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(keys[..2], ["00000000-tie-a", "00000000-tie-b"]);
        assert_eq!(keys.last(), Some(&"ffffffff-early"));
        assert!(keys.is_sorted(), "tickets in id order: {keys:?}");
        for ticket in tickets {
            for children in ["notes", "history"] {
                let times: Vec<(&str, &str)> = ticket[children]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (c["createdAt"].as_str().unwrap(), c["id"].as_str().unwrap()))
                    .collect();
                let mut sorted = times.clone();
                sorted.sort();
                assert_eq!(times, sorted, "{children} of ticket {}", ticket["id"]);
            }
        }
        let position = |id: &str| keys.iter().position(|k| *k == id).unwrap();
        let attachment_order: Vec<usize> = archive
            .records("attachments")
            .iter()
            .map(|a| position(a["ticketId"].as_str().unwrap()))
            .collect();
        assert!(attachment_order.len() > 1);
        assert!(attachment_order.is_sorted(), "attachments in ticket order");
    }
}

/// A value SQLite holds in a text column that is not text (SQLite types values, not
/// columns: here a blob in a ticket's title) fails the export, exit 1, naming the ticket,
/// the column and the value's type, and leaves no archive, only a failed log row.
#[test]
fn a_value_that_is_not_text_in_a_text_column_is_named_by_its_column() {
    let demo = Demo::new();
    demo.conn()
        .execute(
            "UPDATE tickets SET title = x'41' WHERE rowid = (SELECT min(rowid) FROM tickets)",
            [],
        )
        .unwrap();
    demo.acme()
        .args(["export", "-o"])
        .arg(demo.out_path("acme.zip"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "Invalid column type Blob at index: 1, name: title",
        ))
        .stderr(predicate::str::contains("cannot read ticket "));
    assert_eq!(files_under(&demo.out), BTreeSet::new(), "files left behind");
    assert_failed_exports(&demo, 1, "name: title");
}
