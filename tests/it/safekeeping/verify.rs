//! `verify`: a restore into a scratch database and a comparison, without `--db`, company or
//! actor, on the tool's own archives, damaged ones, encrypted ones and the web app's files.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::safekeeping::encryption::export_acme;
use crate::safekeeping::keys;
use crate::support::{self, Demo, count, fails_with, files_under, ids, json_ok, redact, stderr_of};

/// A file the web app's own exporter wrote (`fixtures/archives/webapp/`).
fn web_app_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives/webapp")
        .join(name)
}

/// `verify --json FILE` with the options `args`, which must succeed.
fn verified(args: &[&std::ffi::OsStr]) -> Value {
    json_ok(support::bin().args(["--json", "verify"]).args(args))
}

/// Acme's record counts in the demo database, as `verify` reports them per section.
fn acme_counts(demo: &Demo) -> [(&'static str, i64); 6] {
    let conn = demo.conn();
    let of = |sql: &str| count(&conn, sql, [ids::ACME]);
    [
        (
            "users",
            of("SELECT count(*) FROM user_company_associations WHERE company_id = ?1"),
        ),
        (
            "customFields",
            of("SELECT count(*) FROM custom_fields WHERE company_id = ?1"),
        ),
        (
            "tickets",
            of("SELECT count(*) FROM tickets WHERE company_id = ?1"),
        ),
        (
            "notes",
            of(
                "SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id WHERE t.company_id = ?1",
            ),
        ),
        (
            "history",
            of(
                "SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id WHERE t.company_id = ?1",
            ),
        ),
        (
            "attachments",
            of(
                "SELECT count(*) FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id WHERE t.company_id = ?1",
            ),
        ),
    ]
}

#[test]
fn a_good_archive_is_restorable_and_every_record_is_back() {
    let demo = Demo::new();
    for name in ["acme.zip", "acme.json"] {
        let archive = demo.export_acme(name);
        let report = verified(&[archive.as_os_str()]);
        assert_eq!(report["restorable"], true, "{name}: {report}");
        assert_eq!(report["differenceCount"], 0);
        assert_eq!(
            report["restoredAs"],
            ids::ACME_ADMIN,
            "runs as the exporter"
        );
        assert_eq!(report["encrypted"], false);
        for (section, records) in acme_counts(&demo) {
            let check = &report["sections"][section];
            assert_eq!(check["archive"], records, "{name} {section}");
            assert_eq!(check["restored"], records, "{name} {section}");
            if !check["identical"].is_null() {
                assert_eq!(check["identical"], records, "{name} {section}");
            }
        }
        assert_eq!(report["adjusted"]["personReferences"], 0);
    }
}

#[test]
fn verify_needs_no_database_company_or_actor_and_never_touches_one() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let place = tempfile::tempdir().unwrap();
    let not_a_database = place.path().join("notes.txt");
    fs::write(&not_a_database, "not a database").unwrap();
    let missing = place.path().join("missing.db");
    let before = support::table_rows(&demo.conn());
    let runs = [
        support::cmd(&not_a_database),
        support::cmd(&missing),
        support::cmd(&demo.db),
        {
            let mut cmd = support::bin();
            cmd.env("BOMIZZEL_DB", &demo.db)
                .env("BOMIZZEL_COMPANY", "Globex")
                .env("BOMIZZEL_ACTOR", "nobody@example.invalid");
            cmd
        },
    ];
    for mut cmd in runs {
        let output = cmd
            .current_dir(place.path())
            .arg("verify")
            .arg(&archive)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(stderr_of(&output).contains("restorable"));
    }
    assert_eq!(fs::read(&not_a_database).unwrap(), b"not a database");
    assert!(!missing.exists(), "verify created the --db file");
    assert_eq!(
        files_under(place.path()),
        ["notes.txt".to_owned()].into(),
        "verify left a file behind"
    );
    assert_eq!(
        support::table_rows(&demo.conn()),
        before,
        "the demo database changed"
    );
}

#[test]
fn a_damaged_archive_is_not_restorable() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let mut entries = support::zip_entries(&fs::read(&archive).unwrap());
    let tickets = entries.get_mut("tickets.json").unwrap();
    let at = tickets.len() / 2;
    tickets[at] ^= 0x20;
    let changed = demo.out_path("changed.zip");
    fs::write(&changed, support::zip_in_order(&entries)).unwrap();
    let err = fails_with(support::bin().arg("verify").arg(&changed), 3);
    assert!(err.contains("checksum mismatch"), "{err}");

    // A problem found by the restore's validation names the file too.
    let dangling = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives/bad/webapp-dangling-attachment.json");
    let err = fails_with(support::bin().arg("verify").arg(&dangling), 3);
    assert!(
        err.contains("webapp-dangling-attachment.json") && err.contains("not in the archive"),
        "{err}"
    );

    let truncated =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archives/bad/webapp-truncated.json");
    let output = support::bin()
        .args(["--json", "verify"])
        .arg(&truncated)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = support::json(&output.stdout);
    assert_eq!(report["error"]["kind"], "invalid-archive");
    assert_eq!(report["error"]["exitCode"], 3);
}

#[test]
fn an_encrypted_archive_verifies_with_its_key_and_is_8_without() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let (file, _) = export_acme(&demo, &["-r".as_ref(), key.recipient.as_ref()]);
    let report = verified(&["-i".as_ref(), key.identity.as_os_str(), file.as_os_str()]);
    assert_eq!(report["restorable"], true);
    assert_eq!(report["encrypted"], true);

    let output = support::bin()
        .args(["--json", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(8), "{}", stderr_of(&output));
    let report = support::json(&output.stdout);
    assert_eq!(report["error"]["kind"], "cannot-decrypt");
    assert_eq!(report["error"]["exitCode"], 8);
}

#[test]
fn the_web_apps_files_restore_with_the_adjustments_the_import_reports() {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(web_app_file("")).unwrap() {
        let path = entry.unwrap().path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "zip")
        ) {
            continue;
        }
        let report = verified(&[path.as_os_str()]);
        assert_eq!(report["restorable"], true, "{}: {report}", path.display());
        assert_eq!(
            report["source"]["layout"] == "json",
            path.extension().unwrap() == "json"
        );
        // The web app names its exporter by user id only: still found among the users.
        assert!(
            report["restoredAs"].is_string(),
            "{}: {report}",
            path.display()
        );
    }
    let report = verified(&[web_app_file("webapp-priority.json").as_os_str()]);
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().any(|w| w.contains("0-100 scale")),
        "the priority translation is reported: {warnings:?}"
    );
    let report = verified(&[web_app_file("webapp-case-twins.zip").as_os_str()]);
    assert_eq!(
        report["sections"]["users"]["archive"],
        report["sections"]["users"]["restored"]
    );
    assert!(
        report["warnings"]
            .as_object()
            .unwrap()
            .keys()
            .any(|w| w.contains("differ only in case")),
        "{report}"
    );
    assert!(files_under(dir.path()).is_empty());
}

#[test]
fn values_their_field_no_longer_allows_are_kept_and_identical() {
    let demo = Demo::new();
    demo.conn()
        .execute(
            "UPDATE tickets SET custom_field_values = json_set(custom_field_values, '$.\"f0000000-0000-4000-8000-000000000002\"', 'legacy-plan')
             WHERE id = (SELECT min(id) FROM tickets WHERE company_id = ?1)",
            [ids::ACME],
        )
        .unwrap();
    let archive = demo.export_acme("acme.zip");
    let report = verified(&[archive.as_os_str()]);
    assert_eq!(report["restorable"], true, "{report}");
    assert_eq!(report["differenceCount"], 0);
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings
            .keys()
            .any(|w| w.contains("plan") && w.contains("legacy-plan")),
        "{warnings:?}"
    );
}

#[test]
fn people_a_no_users_archive_cannot_hold_are_adjusted_not_differences() {
    let demo = Demo::new();
    let archive = demo.out_path("tickets-only.json");
    demo.acme()
        .args(["-q", "export", "--no-users", "-o"])
        .arg(&archive)
        .assert()
        .success();
    let report = verified(&[archive.as_os_str()]);
    assert_eq!(report["restorable"], true, "{report}");
    assert_eq!(
        report["restoredAs"],
        Value::Null,
        "the exporter is not in the archive"
    );
    assert!(report["adjusted"]["personReferences"].as_u64().unwrap() > 0);
    assert!(
        report["adjusted"]["first"]
            .as_str()
            .unwrap()
            .contains("@acme.example"),
        "{report}"
    );
}

#[test]
fn the_json_report_has_its_shape() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let mut report = verified(&[archive.as_os_str()]);
    redact(&mut report, &["file", "exportId", "exportedAt"]);
    insta::assert_json_snapshot!("verify_report", report);
}
