//! `prune` and `import --export-id` end to end: the real binary on real SQLite files and real
//! archive files. Exports are back-dated in the log (their recorded time is what prune
//! goes by), then each test checks which files are left on disk and what the log says.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::params;
use serde_json::Value;

use support::*;

fn globex(demo: &Demo) -> Command {
    let mut cmd = demo.cmd();
    cmd.args(["--company", ids::GLOBEX, "--actor", ids::GLOBEX_ADMIN]);
    cmd
}

/// Exports as `who` to `out/<name>`; returns the export id.
fn export_as(mut who: Command, demo: &Demo, name: &str) -> String {
    let report = json_ok(
        who.args(["--json", "export", "-o"])
            .arg(demo.out_path(name)),
    );
    report["exportId"].as_str().expect("exportId").to_owned()
}

fn export_acme(demo: &Demo, name: &str) -> String {
    export_as(demo.acme(), demo, name)
}

/// Moves an export's recorded time into the past, e.g. `"-10 days"`, `"-25 hours"`.
fn back_date(demo: &Demo, export_id: &str, ago: &str) {
    let changed = demo
        .conn()
        .execute(
            "UPDATE data_export_logs
             SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2)
             WHERE export_id = ?1",
            params![export_id, ago],
        )
        .expect("back-date an export");
    assert_eq!(changed, 1, "no export {export_id}");
}

/// Acme exports `name` and back-dates it; returns the export id.
fn old_export(demo: &Demo, name: &str, ago: &str) -> String {
    let id = export_acme(demo, name);
    back_date(demo, &id, ago);
    id
}

/// Runs `prune` as Acme's admin with `--json` and these arguments.
fn prune(demo: &Demo, args: &[&str]) -> Value {
    json_ok(demo.acme().args(["--json", "prune"]).args(args))
}

/// The export ids in one list of a prune report (`deleted`, `kept`, `missing`, `changed`).
fn listed(report: &Value, list: &str) -> BTreeSet<String> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} in {report}"))
        .iter()
        .map(|a| a["exportId"].as_str().expect("exportId").to_owned())
        .collect()
}

fn set<const N: usize>(ids: [&String; N]) -> BTreeSet<String> {
    ids.into_iter().cloned().collect()
}

fn names<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

/// Every log row of the database (exports, imports, prunes), as text.
fn log_rows(demo: &Demo) -> Vec<String> {
    let conn = demo.conn();
    let mut rows = Vec::new();
    for (table, id, data) in [
        ("data_export_logs", "export_id", "exported_data"),
        ("data_import_logs", "import_id", "imported_data"),
        ("bomizzel_backup_prune_logs", "prune_id", "pruned_data"),
    ] {
        let sql = format!(
            "SELECT json_array('{table}', id, company_id, user_id, {id}, {data}, created_at)
             FROM {table} ORDER BY id"
        );
        rows.extend(strings(&conn, &sql, []));
    }
    rows
}

/// The export's status in Acme's history listing.
fn status_in_history(demo: &Demo, export_id: &str) -> String {
    let entries = json_ok(demo.acme().args(["--json", "history", "--kind", "export"]));
    entries
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["id"] == export_id)
        .unwrap_or_else(|| panic!("{export_id} not in {entries}"))["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// What goes and what stays

#[test]
fn deletes_old_recorded_archives_and_keeps_the_newest_n() {
    let demo = Demo::new();
    // Exported in name order, but back-dated so that e1 is the newest: prune goes by the
    // recorded time, not by file names or by the order of the rows.
    let e1 = old_export(&demo, "e1.zip", "-10 days");
    let e2 = old_export(&demo, "e2.zip", "-20 days");
    let e3 = old_export(&demo, "e3.json", "-30 days");
    let e4 = old_export(&demo, "e4.zip", "-40 days");
    let e5 = old_export(&demo, "e5.zip", "-50 days");
    fs::write(demo.out_path("notes.txt"), "not an archive").expect("write");
    let sizes: u64 = ["e4.zip", "e5.zip"]
        .iter()
        .map(|n| fs::metadata(demo.out_path(n)).expect("archive").len())
        .sum();

    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "3"]);
    assert_eq!(listed(&report, "deleted"), set([&e4, &e5]));
    assert_eq!(listed(&report, "kept"), set([&e1, &e2, &e3]));
    assert_eq!(report["bytesDeleted"], sizes);
    assert_eq!(report["dryRun"], false);
    assert_eq!(report["olderThan"], "7d");
    assert_eq!(report["keepLast"], 3);
    assert!(
        report["pruneId"]
            .as_str()
            .is_some_and(|id| id.starts_with("prune_"))
    );
    assert_eq!(
        files_under(&demo.out),
        names(["e1.zip", "e2.zip", "e3.json", "notes.txt"])
    );

    // Run again: nothing more goes, the newest three stay.
    let again = prune(&demo, &["--older-than", "7d", "--keep-last", "3"]);
    assert!(listed(&again, "deleted").is_empty(), "{again}");
    assert_eq!(files_under(&demo.out).len(), 4);

    // The default keeps three too.
    let default = prune(&demo, &["--older-than", "1h"]);
    assert_eq!(default["keepLast"], 3);
    assert!(listed(&default, "deleted").is_empty(), "{default}");
}

#[test]
fn young_archives_stay_whatever_keep_last_says() {
    let demo = Demo::new();
    let fresh = export_acme(&demo, "fresh.zip");
    let week = old_export(&demo, "week.zip", "-6 days");
    let month = old_export(&demo, "month.zip", "-30 days");
    let quarter = old_export(&demo, "quarter.zip", "-90 days");

    let report = prune(&demo, &["--older-than", "25d", "--keep-last", "1"]);
    assert_eq!(listed(&report, "deleted"), set([&month, &quarter]));
    assert_eq!(listed(&report, "kept"), set([&fresh, &week]));
    assert_eq!(files_under(&demo.out), names(["fresh.zip", "week.zip"]));

    // --keep-last 0: only age counts.
    let report = prune(&demo, &["--older-than", "1d", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&week]));
    assert_eq!(files_under(&demo.out), names(["fresh.zip"]));
}

#[test]
fn keeps_the_newest_n_that_still_exist() {
    let demo = Demo::new();
    let e1 = old_export(&demo, "e1.zip", "-10 days");
    let e2 = old_export(&demo, "e2.zip", "-20 days");
    let e3 = old_export(&demo, "e3.zip", "-30 days");
    let e4 = old_export(&demo, "e4.zip", "-40 days");
    let e5 = old_export(&demo, "e5.zip", "-50 days");
    // The two newest were deleted by hand: they cannot be among the backups kept.
    fs::remove_file(demo.out_path("e1.zip")).expect("remove");
    fs::remove_file(demo.out_path("e2.zip")).expect("remove");

    let out = demo
        .acme()
        .args(["prune", "--older-than", "7d", "--keep-last", "2"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("already gone: {e1}"))
            && stderr.contains(&format!("already gone: {e2}")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{e5} ")), "{stderr}");
    assert_eq!(files_under(&demo.out), names(["e3.zip", "e4.zip"]));

    let report = prune(
        &demo,
        &["--older-than", "7d", "--keep-last", "2", "--dry-run"],
    );
    assert_eq!(listed(&report, "kept"), set([&e3, &e4]));
    assert_eq!(listed(&report, "missing"), set([&e1, &e2]));
}

#[test]
fn a_path_exported_to_twice_counts_once() {
    let demo = Demo::new();
    // The same file name reused with --force: the older record's file is now the newer
    // export. Only one backup is on disk there, so it counts once towards --keep-last.
    let first = old_export(&demo, "acme.zip", "-40 days");
    let y = old_export(&demo, "y.zip", "-30 days");
    let z = old_export(&demo, "z.zip", "-50 days");
    let w = old_export(&demo, "w.zip", "-60 days");
    let report = json_ok(
        demo.acme()
            .args(["--json", "export", "--force", "-o"])
            .arg(demo.out_path("acme.zip")),
    );
    let second = report["exportId"].as_str().expect("exportId").to_owned();
    back_date(&demo, &second, "-20 days");

    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "3"]);
    assert_eq!(listed(&report, "kept"), set([&second, &y, &z]));
    assert_eq!(listed(&report, "deleted"), set([&w]));
    // The older record of acme.zip no longer matches its file: reported, never deleted.
    assert_eq!(listed(&report, "changed"), set([&first]));
    assert_eq!(
        files_under(&demo.out),
        names(["acme.zip", "y.zip", "z.zip"])
    );
    demo.acme()
        .args(["import", "--skip-duplicates", "--export-id", &second])
        .assert()
        .success();
}

#[test]
fn dry_run_deletes_nothing_and_changes_no_log_row() {
    let demo = Demo::new();
    let kept = export_acme(&demo, "new.zip");
    let old = old_export(&demo, "old.zip", "-30 days");
    let older = old_export(&demo, "older.zip", "-60 days");
    let before_files = files_under(&demo.out);
    let before_rows = log_rows(&demo);

    let out = demo
        .acme()
        .args([
            "--json",
            "prune",
            "--older-than",
            "7d",
            "--keep-last",
            "1",
            "--dry-run",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let report = json(&out.stdout);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["pruneId"], Value::Null);
    assert_eq!(listed(&report, "deleted"), set([&old, &older]));
    assert_eq!(listed(&report, "kept"), set([&kept]));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("Would delete 2 archives"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files_under(&demo.out), before_files);
    assert_eq!(log_rows(&demo), before_rows);

    // The real run does what the dry run said.
    let real = prune(&demo, &["--older-than", "7d", "--keep-last", "1"]);
    assert_eq!(listed(&real, "deleted"), listed(&report, "deleted"));
    assert_eq!(files_under(&demo.out), names(["new.zip"]));
    assert_ne!(log_rows(&demo), before_rows);
}

#[test]
fn files_the_log_does_not_record_survive() {
    let demo = Demo::new();
    let old = old_export(&demo, "old.zip", "-30 days");
    // Untracked: a stray file, and a copy of a real archive under another name.
    fs::write(demo.out_path("readme.txt"), "keep me").expect("write");
    fs::copy(demo.out_path("old.zip"), demo.out_path("copy-of-old.zip")).expect("copy");
    fs::create_dir(demo.out_path("sub")).expect("mkdir");
    fs::write(
        demo.out_path("sub/bomizzel-acme-corp-20200101T000000Z.zip"),
        "x",
    )
    .expect("write");

    let report = prune(&demo, &["--older-than", "1h", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&old]));
    assert_eq!(
        files_under(&demo.out),
        names([
            "copy-of-old.zip",
            "readme.txt",
            "sub/bomizzel-acme-corp-20200101T000000Z.zip"
        ])
    );
}

#[test]
fn a_recorded_file_already_gone_is_reported_not_an_error() {
    let demo = Demo::new();
    let gone = old_export(&demo, "gone.zip", "-30 days");
    let old = old_export(&demo, "old.zip", "-31 days");
    let gone_bytes = fs::read(demo.out_path("gone.zip")).expect("read");
    fs::remove_file(demo.out_path("gone.zip")).expect("remove");

    demo.acme()
        .args(["prune", "--older-than", "7d", "--keep-last", "0"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("already gone: {gone}")));
    assert!(files_under(&demo.out).is_empty());
    assert_eq!(status_in_history(&demo, &old), "pruned");
    assert_eq!(status_in_history(&demo, &gone), "missing");
    let prune_entry = json_ok(demo.acme().args(["--json", "history", "--kind", "prune"]));
    let prune_id = prune_entry[0]["id"].as_str().expect("id");
    let entry = json_ok(demo.acme().args(["--json", "history", prune_id]));
    assert_eq!(
        entry["detail"]["missing"][0]["exportId"],
        gone.as_str(),
        "{entry}"
    );

    // Gone is not pruned: should the file come back (a drive that was not mounted), it is
    // kept or deleted like any other, and not left outside retention for good.
    fs::write(demo.out_path("gone.zip"), &gone_bytes).expect("restore");
    assert_eq!(status_in_history(&demo, &gone), "ok");
    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&gone]));
    assert!(files_under(&demo.out).is_empty());
}

#[test]
fn a_recorded_file_that_changed_is_kept_and_reported() {
    let demo = Demo::new();
    let same_size = old_export(&demo, "same-size.zip", "-30 days");
    let other_size = old_export(&demo, "other-size.zip", "-31 days");
    let intact = old_export(&demo, "intact.zip", "-32 days");
    // Same length, different bytes: only the checksum tells.
    let path = demo.out_path("same-size.zip");
    let mut bytes = fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).expect("write");
    fs::write(demo.out_path("other-size.zip"), "something else now").expect("write");

    let out = demo
        .acme()
        .args(["--json", "prune", "--older-than", "7d", "--keep-last", "0"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let report = json(&out.stdout);
    assert_eq!(listed(&report, "changed"), set([&same_size, &other_size]));
    assert_eq!(listed(&report, "deleted"), set([&intact]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("kept, changed since its export: {same_size}")),
        "{stderr}"
    );
    assert_eq!(
        files_under(&demo.out),
        names(["other-size.zip", "same-size.zip"])
    );
    assert_eq!(fs::read(&path).expect("read"), bytes, "left as it was");
    assert!(demo.export_detail(&same_size).get("prunedAt").is_none());
}

// ---------------------------------------------------------------------------------------
// The log

#[test]
fn pruned_entries_show_in_history_and_the_prune_itself_too() {
    let demo = Demo::new();
    let kept = export_acme(&demo, "kept.zip");
    let old = old_export(&demo, "old.zip", "-30 days");
    let bytes = fs::metadata(demo.out_path("old.zip"))
        .expect("archive")
        .len();

    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "1"]);
    let prune_id = report["pruneId"].as_str().expect("pruneId").to_owned();

    assert_eq!(status_in_history(&demo, &old), "pruned");
    assert_eq!(status_in_history(&demo, &kept), "ok");
    let detail = demo.export_detail(&old);
    assert_eq!(detail["pruneId"], prune_id.as_str());
    assert!(detail["prunedAt"].is_string(), "{detail}");
    // The web app's summary keys are still there.
    assert_eq!(detail["users"], 5);
    assert_eq!(detail["tickets"], 6);

    let listing = json_ok(demo.acme().args(["--json", "history"]));
    let newest = &listing[0];
    assert_eq!(newest["id"], prune_id.as_str());
    assert_eq!(newest["kind"], "prune");
    assert_eq!(newest["status"], "ok");
    assert_eq!(newest["actor"], ids::ACME_ADMIN);
    assert!(
        newest["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("1 archive deleted (")),
        "{newest}"
    );

    let text = stdout_ok(demo.acme().args(["history", &prune_id]));
    let lines = detail_lines(&text);
    assert_eq!(
        value(&lines, "retention"),
        "delete archives older than 7d, always keeping the newest 1"
    );
    let old_file = fs::canonicalize(&demo.out).expect("out").join("old.zip");
    assert_eq!(
        value(&lines, "deleted"),
        format!("{old} {}", old_file.display())
    );
    let text = stdout_ok(demo.acme().args(["history", &old]));
    assert!(
        text.contains(&format!("{} (pruned ", old_file.display())),
        "{text}"
    );

    let entry = json_ok(demo.acme().args(["--json", "history", &prune_id]));
    assert_eq!(entry["detail"]["bytesDeleted"], bytes);
    assert_eq!(entry["detail"]["kept"], 1);

    let mut report = report;
    redact(
        &mut report,
        &[
            "pruneId",
            "exportId",
            "file",
            "exportedAt",
            "bytes",
            "bytesDeleted",
        ],
    );
    insta::assert_json_snapshot!("json_report", report);
}

// ---------------------------------------------------------------------------------------
// Recorded before deleted: `deleting`, then the file, then pruned

/// The export's prune state in its log detail: (`deletingSince`, `pruneId`, `prunedAt`).
fn prune_marks(demo: &Demo, export_id: &str) -> [Value; 3] {
    let detail = demo.export_detail(export_id);
    ["deletingSince", "pruneId", "prunedAt"].map(|key| detail.get(key).cloned().unwrap_or_default())
}

/// The prune entry's status and detail, from `history ID --json`.
fn prune_entry(demo: &Demo, prune_id: &str) -> (String, Value) {
    let entry = json_ok(demo.acme().args(["--json", "history", prune_id]));
    let status = entry["status"].as_str().expect("status").to_owned();
    (status, entry["detail"].clone())
}

const KILLED_PRUNE: &str = "prune_20260101T000000Z_deadbeef";

/// Leaves the log as a prune killed between its two transactions leaves it: its own row
/// `deleting`, and these exports marked as being deleted by it. (Their files are as the
/// test leaves them: the kill may have come before or after each deletion.)
fn killed_prune(demo: &Demo, export_ids: &[&String]) {
    let conn = demo.conn();
    let since = "2026-01-01T00:00:00.000Z";
    let deleting: Vec<Value> = export_ids
        .iter()
        .map(|id| serde_json::json!({"exportId": id}))
        .collect();
    let detail = serde_json::json!({
        "status": "deleting", "olderThan": "7d", "keepLast": 0, "dir": null,
        "deleting": deleting, "missing": [], "changed": [], "kept": 0,
    });
    conn.execute(
        "INSERT INTO bomizzel_backup_prune_logs (id, company_id, user_id, prune_id, pruned_data, created_at)
         SELECT 'killed-prune', ?1, id, ?2, ?3, ?4 FROM users WHERE email = ?5",
        params![ids::ACME, KILLED_PRUNE, detail.to_string(), since, ids::ACME_ADMIN],
    )
    .expect("the killed prune's row");
    for export_id in export_ids {
        conn.execute(
            "UPDATE data_export_logs
             SET exported_data = json_set(exported_data, '$.deletingSince', ?2, '$.pruneId', ?3)
             WHERE export_id = ?1",
            params![export_id, since, KILLED_PRUNE],
        )
        .expect("mark an export deleting");
    }
}

/// Runs a prune that cannot delete `path`, the file of `export_id`: it exits 1 naming the
/// file, leaves the export unmarked, and records itself `failed` with the reason, which
/// `history` shows. Returns the prune's log detail.
fn prune_that_cannot_delete(demo: &Demo, export_id: &str, path: &Path) -> Value {
    let error = format!("{}: ", path.display());
    let stderr = fails_with(
        demo.acme()
            .args(["prune", "--older-than", "7d", "--keep-last", "0"]),
        1,
    );
    assert!(
        stderr.contains(&format!("could not delete {error}")),
        "{stderr}"
    );
    assert_eq!(
        prune_marks(demo, export_id),
        [Value::Null, Value::Null, Value::Null]
    );
    let listing = json_ok(demo.acme().args(["--json", "history", "--kind", "prune"]));
    let prune_id = listing[0]["id"].as_str().expect("id");
    let (status, detail) = prune_entry(demo, prune_id);
    assert_eq!(status, "failed");
    let reason = detail["errors"][0].as_str().expect("the reason");
    assert!(reason.starts_with(&error), "{detail}");
    let text = stdout_ok(demo.acme().args(["history", prune_id]));
    assert_eq!(value(&detail_lines(&text), "error"), reason, "{text}");
    detail
}

/// Prune records each deletion before it makes it: when it cannot (another process holds
/// the database's write lock past --busy-timeout), it deletes nothing, and creates nothing.
#[test]
fn a_prune_that_cannot_record_first_deletes_nothing() {
    let demo = Demo::web_app();
    let old = old_export(&demo, "old.zip", "-30 days");
    let schema = schema_objects(&demo.conn());
    let detail = demo.export_detail(&old);
    {
        let _lock = LockHolder::take(&demo.db, "IMMEDIATE");
        let stderr = fails_with(
            demo.acme()
                .args(["--busy-timeout", "0.2", "prune", "--older-than", "7d"])
                .args(["--keep-last", "0"]),
            7,
        );
        assert!(stderr.contains("nothing was deleted"), "{stderr}");
    }
    assert_eq!(files_under(&demo.out), names(["old.zip"]));
    assert_eq!(demo.export_detail(&old), detail);
    assert_eq!(schema_objects(&demo.conn()), schema, "no prune log created");

    // Once the lock is gone, the same prune goes through.
    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&old]));
    assert_eq!(status_in_history(&demo, &old), "pruned");
}

/// A file that cannot be deleted (immutable: not even root may) keeps its export as it was,
/// and the prune says it failed; the others go as planned.
#[test]
fn a_file_that_cannot_be_deleted_keeps_its_export_unmarked() {
    let demo = Demo::new();
    let stuck = old_export(&demo, "stuck.zip", "-30 days");
    let old = old_export(&demo, "old.zip", "-31 days");
    let stuck_path = fs::canonicalize(demo.out_path("stuck.zip")).unwrap();
    let Some(frozen) = Immutable::or_skip(&stuck_path) else {
        return;
    };
    let detail = prune_that_cannot_delete(&demo, &stuck, &stuck_path);
    assert_eq!(listed(&detail, "deleted"), set([&old]));
    assert_eq!(files_under(&demo.out), names(["stuck.zip"]));
    assert_eq!(status_in_history(&demo, &stuck), "ok");
    assert_eq!(status_in_history(&demo, &old), "pruned");

    // Once it can be deleted, the next prune does.
    drop(frozen);
    let report = prune(&demo, &["--older-than", "7d", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&stuck]));
    assert!(files_under(&demo.out).is_empty());
}

/// A prune killed between marking its archives and recording their deletion shows as
/// `deleting` in the history; the next prune finishes its work whatever its own policy: an
/// archive whose file is gone is marked pruned, one whose file still matches is deleted, one
/// whose file changed since goes back to normal.
#[test]
fn an_interrupted_prune_shows_in_history_and_the_next_one_finishes_it() {
    let demo = Demo::new();
    let gone = old_export(&demo, "gone.zip", "-30 days");
    let intact = old_export(&demo, "intact.zip", "-31 days");
    let changed = old_export(&demo, "changed.zip", "-32 days");
    let young = export_acme(&demo, "young.zip");
    killed_prune(&demo, &[&gone, &intact, &changed]);
    fs::remove_file(demo.out_path("gone.zip")).unwrap();
    fs::write(demo.out_path("changed.zip"), "not the archive any more").unwrap();

    for export in [&gone, &intact, &changed] {
        assert_eq!(status_in_history(&demo, export), "deleting");
    }
    let (status, _) = prune_entry(&demo, KILLED_PRUNE);
    assert_eq!(status, "deleting");
    let listing = json_ok(demo.acme().args(["--json", "history", "--kind", "prune"]));
    assert_eq!(listing[0]["what"], "deleting 3 archives");
    demo.acme()
        .args(["history", &intact])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "intact.zip (being deleted by {KILLED_PRUNE} since 2026-01-01 00:00:00 UTC)"
        )));

    // A prune of another folder leaves them, and a dry run only says what it would do.
    fs::create_dir(demo.out_path("elsewhere")).unwrap();
    let policy = ["--older-than", "365d", "--keep-last", "5"];
    let elsewhere = json_ok(
        demo.acme()
            .args(["--json", "prune", "--dry-run", "--dir"])
            .arg(demo.out_path("elsewhere"))
            .args(policy),
    );
    assert!(listed(&elsewhere, "resumed").is_empty(), "{elsewhere}");
    let rows = log_rows(&demo);
    let dry = prune(&demo, &[&policy[..], &["--dry-run"]].concat());
    assert_eq!(listed(&dry, "resumed"), set([&gone, &intact]));
    assert_eq!(listed(&dry, "changed"), set([&changed]));
    assert_eq!(log_rows(&demo), rows);
    assert_eq!(
        files_under(&demo.out),
        names(["changed.zip", "intact.zip", "young.zip"])
    );

    // The policy keeps everything; the interrupted prune's work is finished all the same.
    let report = prune(&demo, &policy);
    let prune_id = report["pruneId"].as_str().expect("pruneId");
    assert!(listed(&report, "deleted").is_empty(), "{report}");
    assert_eq!(listed(&report, "resumed"), set([&gone, &intact]));
    assert_eq!(listed(&report, "changed"), set([&changed]));
    assert_eq!(listed(&report, "kept"), set([&young]));
    assert_eq!(files_under(&demo.out), names(["changed.zip", "young.zip"]));
    for export in [&gone, &intact] {
        assert_eq!(status_in_history(&demo, export), "pruned");
        let [deleting, by, _] = prune_marks(&demo, export);
        assert_eq!((deleting, by), (Value::Null, Value::from(prune_id)));
    }
    assert_eq!(
        prune_marks(&demo, &changed),
        [Value::Null, Value::Null, Value::Null]
    );
    assert_eq!(status_in_history(&demo, &changed), "ok");

    let (status, detail) = prune_entry(&demo, KILLED_PRUNE);
    assert_eq!(status, "interrupted");
    assert_eq!(detail["resumedBy"], prune_id);
    let listing = json_ok(demo.acme().args(["--json", "history", "--kind", "prune"]));
    assert_eq!(listing[0]["id"], prune_id);
    assert_eq!(listing[0]["status"], "ok");
    assert_eq!(
        listing[0]["what"],
        "finished 2 archives of an interrupted prune"
    );
    assert_eq!(
        listing[1]["what"],
        format!("interrupted deleting 3 archives; finished by {prune_id}")
    );
    let text = stdout_ok(demo.acme().args(["history", KILLED_PRUNE]));
    assert_eq!(
        value(&detail_lines(&text), "finished by"),
        prune_id,
        "{text}"
    );
}

/// An interrupted prune's archive that cannot be deleted now (its path has become a
/// directory, which not even root may unlink) goes back to normal, and the prune fails.
#[test]
fn an_interrupted_prunes_archive_that_cannot_be_deleted_goes_back_to_normal() {
    let demo = Demo::new();
    let blocked = old_export(&demo, "blocked.zip", "-30 days");
    let other = old_export(&demo, "other.zip", "-31 days");
    killed_prune(&demo, &[&blocked, &other]);
    let blocked_path = fs::canonicalize(demo.out_path("blocked.zip")).unwrap();
    fs::remove_file(&blocked_path).unwrap();
    fs::create_dir(&blocked_path).unwrap();
    fs::write(blocked_path.join("inside.txt"), "keep").unwrap();

    let detail = prune_that_cannot_delete(&demo, &blocked, &blocked_path);
    assert_eq!(listed(&detail, "resumed"), set([&other]));
    assert_eq!(files_under(&demo.out), names(["blocked.zip/inside.txt"]));
    assert_ne!(status_in_history(&demo, &blocked), "deleting");
    assert_eq!(status_in_history(&demo, &other), "pruned");
    assert_eq!(prune_entry(&demo, KILLED_PRUNE).0, "interrupted");
}

// ---------------------------------------------------------------------------------------
// The policy on the command line

#[test]
fn without_older_than_it_refuses_and_deletes_nothing() {
    let demo = Demo::new();
    old_export(&demo, "old.zip", "-365 days");
    let before = log_rows(&demo);
    for args in [
        vec!["prune"],
        vec!["prune", "--keep-last", "0"],
        vec!["prune", "--dry-run"],
    ] {
        demo.acme()
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("--older-than"));
    }
    assert_eq!(files_under(&demo.out), names(["old.zip"]));
    assert_eq!(log_rows(&demo), before);
}

#[test]
fn a_bad_duration_is_a_usage_error() {
    let demo = Demo::new();
    old_export(&demo, "old.zip", "-365 days");
    let before = log_rows(&demo);
    for bad in [
        "7x",
        "-1d",
        "d",
        "",
        "7",
        "1.5d",
        "7D",
        "7 d",
        "w12",
        "3000000000h",
    ] {
        let out = demo
            .acme()
            .args(["prune", "--keep-last", "0"])
            .arg(format!("--older-than={bad}"))
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(2),
            "--older-than={bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--older-than"),
            "{bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A bad policy is refused before the database is even opened.
    cmd(&demo.dir.path().join("nowhere.db"))
        .args(["prune", "--older-than", "7x"])
        .assert()
        .code(2);
    assert_eq!(files_under(&demo.out), names(["old.zip"]));
    assert_eq!(log_rows(&demo), before);
}

/// What a dry run with `--older-than older_than` and no minimum to keep would delete.
fn would_delete(demo: &Demo, older_than: &str) -> BTreeSet<String> {
    let policy = ["--older-than", older_than, "--keep-last", "0", "--dry-run"];
    listed(&prune(demo, &policy), "deleted")
}

#[test]
fn durations_in_hours_days_and_weeks() {
    let demo = Demo::new();
    let h23 = old_export(&demo, "23h.zip", "-23 hours");
    let h25 = old_export(&demo, "25h.zip", "-25 hours");
    let d6 = old_export(&demo, "6d.zip", "-6 days");
    let d8 = old_export(&demo, "8d.zip", "-8 days");
    let w11 = old_export(&demo, "11w.zip", "-77 days");
    let w13 = old_export(&demo, "13w.zip", "-91 days");
    let dry = |older_than: &str| would_delete(&demo, older_than);
    assert_eq!(dry("24h"), set([&h25, &d6, &d8, &w11, &w13]));
    assert_eq!(dry("7d"), set([&d8, &w11, &w13]));
    assert_eq!(dry("12w"), set([&w13]));
    assert_eq!(dry("1d"), dry("24h"), "a day is 24 hours");
    assert_eq!(dry("2w"), set([&w11, &w13]));
    assert_eq!(dry("14w"), BTreeSet::new());

    let report = prune(&demo, &["--older-than", "12w", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&w13]));
    let report = prune(&demo, &["--older-than", "24h", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&h25, &d6, &d8, &w11]));
    assert_eq!(listed(&report, "kept"), set([&h23]));
    assert_eq!(files_under(&demo.out), names(["23h.zip"]));
}

#[test]
fn durations_in_calendar_months_and_years() {
    let demo = Demo::new();
    // Away from the length of any month or year, so the test holds on every day it runs.
    let d27 = old_export(&demo, "27d.zip", "-27 days");
    let d32 = old_export(&demo, "32d.zip", "-32 days");
    let d170 = old_export(&demo, "170d.zip", "-170 days");
    let d190 = old_export(&demo, "190d.zip", "-190 days");
    let d360 = old_export(&demo, "360d.zip", "-360 days");
    let d370 = old_export(&demo, "370d.zip", "-370 days");
    let dry = |older_than: &str| would_delete(&demo, older_than);
    assert_eq!(dry("1m"), set([&d32, &d170, &d190, &d360, &d370]));
    assert_eq!(dry("6m"), set([&d190, &d360, &d370]));
    assert_eq!(dry("1y"), set([&d370]));
    assert_eq!(dry("12m"), dry("1y"), "a year is twelve months");
    assert_eq!(dry("2y"), BTreeSet::new());
    let report = prune(&demo, &["--older-than", "6m", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&d190, &d360, &d370]));
    assert_eq!(listed(&report, "kept"), set([&d27, &d32, &d170]));
    // The message says which units there are.
    demo.acme()
        .args(["prune", "--older-than", "6M"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("m (months) or y (years)"));
}

// ---------------------------------------------------------------------------------------
// import --export-id

#[test]
fn import_by_export_id() {
    let demo = Demo::new();
    let live = export_acme(&demo, "live.zip");
    let pruned = old_export(&demo, "pruned.zip", "-30 days");
    prune(&demo, &["--older-than", "7d", "--keep-last", "1"]);
    assert_eq!(files_under(&demo.out), names(["live.zip"]));

    // A pruned export: the user guide's words, exit 6, and nothing imported.
    let before = RecordIds::in_db(&demo.conn(), ids::ACME);
    demo.acme()
        .args(["import", "--skip-duplicates", "--export-id", &pruned])
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "Export file not found or has expired",
        ));
    // An id no one ever recorded, and another company's export.
    demo.acme()
        .args([
            "import",
            "--skip-duplicates",
            "--export-id",
            "export_20260101T000000Z_deadbeef",
        ])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("unknown export id"));
    let globex_export = export_as(globex(&demo), &demo, "globex.zip");
    demo.acme()
        .args(["import", "--skip-duplicates", "--export-id", &globex_export])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("unknown export id"));
    assert_eq!(RecordIds::in_db(&demo.conn(), ids::ACME), before);

    // A live export restores: delete a ticket, bring it back by id.
    let ticket = "b0000000-0000-4000-8000-000000000002";
    demo.conn()
        .execute("DELETE FROM tickets WHERE id = ?1", [ticket])
        .expect("delete a ticket");
    let report = json_ok(demo.acme().args([
        "--json",
        "import",
        "--skip-duplicates",
        "--export-id",
        &live,
    ]));
    assert_eq!(report["status"], "ok");
    assert_eq!(report["source"]["exportId"], live.as_str());
    assert_eq!(report["outcomes"]["tickets"]["created"], 1);
    assert_eq!(
        count(
            &demo.conn(),
            "SELECT count(*) FROM tickets WHERE id = ?1",
            [ticket]
        ),
        1
    );
    assert_eq!(RecordIds::in_db(&demo.conn(), ids::ACME), before);
}

#[test]
fn an_export_to_stdout_is_recorded_as_dash_and_never_pruned() {
    let demo = Demo::new();
    let out = demo
        .acme()
        .args(["export", "-o", "-"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(out.stdout.starts_with(b"PK\x03\x04"), "a zip on stdout");
    let id = strings(&demo.conn(), "SELECT export_id FROM data_export_logs", [])
        .into_iter()
        .next()
        .expect("the export's row");
    back_date(&demo, &id, "-365 days");
    assert_eq!(demo.export_detail(&id)["file"], "-");

    let report = prune(&demo, &["--older-than", "1h", "--keep-last", "0"]);
    for list in ["deleted", "kept", "missing", "changed"] {
        assert!(listed(&report, list).is_empty(), "{list}: {report}");
    }
    assert!(demo.export_detail(&id).get("prunedAt").is_none());
    assert_eq!(status_in_history(&demo, &id), "ok");
    demo.acme()
        .args(["import", "--skip-duplicates", "--export-id", &id])
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "Export file not found or has expired",
        ));
}

#[test]
fn another_companys_archives_are_never_touched() {
    let demo = Demo::new();
    let acme = old_export(&demo, "acme.zip", "-30 days");
    let globex_old = export_as(globex(&demo), &demo, "globex-old.zip");
    back_date(&demo, &globex_old, "-60 days");
    let globex_older = export_as(globex(&demo), &demo, "globex-older.zip");
    back_date(&demo, &globex_older, "-90 days");
    let globex_rows = |demo: &Demo| {
        strings(
            &demo.conn(),
            "SELECT exported_data FROM data_export_logs WHERE company_id = ?1",
            [ids::GLOBEX],
        )
    };
    let before = globex_rows(&demo);

    let report = prune(&demo, &["--older-than", "1h", "--keep-last", "0"]);
    assert_eq!(listed(&report, "deleted"), set([&acme]));
    assert_eq!(
        files_under(&demo.out),
        names(["globex-old.zip", "globex-older.zip"])
    );
    assert_eq!(globex_rows(&demo), before);
    assert_eq!(
        count(
            &demo.conn(),
            "SELECT count(*) FROM bomizzel_backup_prune_logs WHERE company_id = ?1",
            [ids::GLOBEX],
        ),
        0
    );

    // Globex's own prune keeps its newest, as it was told.
    let report =
        json_ok(globex(&demo).args(["--json", "prune", "--older-than", "7d", "--keep-last", "1"]));
    assert_eq!(listed(&report, "deleted"), set([&globex_older]));
    assert_eq!(files_under(&demo.out), names(["globex-old.zip"]));
}

#[test]
fn the_actor_must_be_an_admin() {
    let demo = Demo::new();
    old_export(&demo, "old.zip", "-30 days");
    demo.cmd()
        .args(["--company", "Acme Corp", "--actor", ids::ACME_CUSTOMER])
        .args(["prune", "--older-than", "1h", "--keep-last", "0"])
        .assert()
        .code(5);
    assert_eq!(files_under(&demo.out), names(["old.zip"]));
}

#[test]
fn dir_limits_the_policy_to_one_folder() {
    // Weekly backups in one folder, short-lived download copies in another: the 24-hour
    // cleanup of the downloads must not touch the weekly backups.
    let demo = Demo::new();
    for folder in ["weekly", "downloads"] {
        fs::create_dir(demo.out_path(folder)).unwrap();
    }
    let weekly = old_export(&demo, "weekly/w1.zip", "-3 days");
    let download = old_export(&demo, "downloads/d1.zip", "-2 days");
    let fresh = export_acme(&demo, "downloads/d2.zip");
    let policy = ["--older-than", "24h", "--keep-last", "0"];

    // Without a folder the policy would take the weekly backup as well.
    let everywhere = prune(&demo, &[&policy[..], &["--dry-run"]].concat());
    assert_eq!(listed(&everywhere, "deleted"), set([&weekly, &download]));

    let downloads = demo.out_path("downloads");
    let report = json_ok(
        demo.acme()
            .args(["--json", "prune"])
            .args(policy)
            .arg("--dir")
            .arg(&downloads),
    );
    assert_eq!(listed(&report, "deleted"), set([&download]));
    assert_eq!(listed(&report, "kept"), set([&fresh]));
    assert!(demo.out_path("weekly/w1.zip").exists());
    assert!(!demo.out_path("downloads/d1.zip").exists());
    assert!(demo.out_path("downloads/d2.zip").exists());

    // A folder that does not exist is a usage error.
    demo.acme()
        .args(["prune"])
        .args(policy)
        .arg("--dir")
        .arg(demo.out_path("nowhere"))
        .assert()
        .code(2);
}

// ---------------------------------------------------------------------------------------
// Calendar rules: --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly

/// A real export's file, outside `out` and out of the log, to copy as recorded archives.
fn template(demo: &Demo) -> std::path::PathBuf {
    let path = demo.dir.path().join("template.zip");
    let report = json_ok(demo.acme().args(["--json", "export", "-o"]).arg(&path));
    demo.conn()
        .execute(
            "DELETE FROM data_export_logs WHERE export_id = ?1",
            [report["exportId"].as_str().expect("exportId")],
        )
        .expect("forget the template's export");
    path
}

/// Records `out/<name>` as an Acme export made at `at` (RFC 3339): a copy of `template`
/// with the log row an export writes (its file, size and SHA-256). Returns the export id.
fn recorded_at(demo: &Demo, template: &Path, name: &str, at: &str) -> String {
    let file = fs::canonicalize(&demo.out).expect("out").join(name);
    fs::copy(template, &file).expect("copy the template");
    let bytes = fs::read(&file).expect("read");
    let export_id = format!("export_{name}");
    let detail = serde_json::json!({
        "file": file, "bytes": bytes.len(), "sha256": sha256_hex(&bytes),
    });
    demo.conn()
        .execute(
            "INSERT INTO data_export_logs (id, company_id, user_id, export_id, exported_data, created_at)
             SELECT ?1, ?2, id, ?1, ?3, ?4 FROM users WHERE email = ?5",
            params![export_id, ids::ACME, detail.to_string(), at, ids::ACME_ADMIN],
        )
        .expect("record the export");
    export_id
}

/// The time `modifier` (SQLite's, e.g. `-2 days`) from now, as the log records times.
fn ago(demo: &Demo, modifier: &str) -> String {
    demo.conn()
        .query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
            [modifier],
            |row| row.get(0),
        )
        .expect("a time")
}

/// Each kept archive's reasons from a prune report, as `daily 2026-02-01, last`: the rule
/// without its `keep` and the period it stands for. A deleted archive is absent.
fn kept_by(report: &Value) -> std::collections::BTreeMap<String, String> {
    let archives = report["kept"].as_array().expect("kept");
    archives
        .iter()
        .map(|archive| {
            let reasons: Vec<String> = archive["keptBy"]
                .as_array()
                .unwrap_or_else(|| panic!("keptBy in {archive}"))
                .iter()
                .map(|keep| {
                    let rule = keep["rule"].as_str().expect("rule");
                    let rule = rule.strip_prefix("keep").unwrap_or(rule).to_lowercase();
                    match keep["period"].as_str() {
                        Some(period) => format!("{rule} {period}"),
                        None => rule,
                    }
                })
                .collect();
            let id = archive["exportId"].as_str().expect("exportId");
            (id.to_owned(), reasons.join(", "))
        })
        .collect()
}

/// Archive dates against the rules, as restic's documentation of `forget` describes them
/// (doc/060_forget.rst): for the last N days, weeks (ISO, Monday to Sunday), months or years
/// that have archives, the newest archive of each is kept; an archive matching any rule is
/// kept. Unlike restic since 0.17, the oldest archive is not kept as well when a rule has
/// more periods than there are archives (SPEC §9).
#[test]
fn calendar_rules_keep_the_newest_archive_of_each_period() {
    let demo = Demo::new();
    let template = template(&demo);
    // Newest first. `b` is 1 ms before `a` but on another day; `c` and `d` share a day;
    // `e` (Sunday 2026-01-04) and `f` (Monday 2025-12-29) share ISO week 2026-W01 across
    // the year boundary; `i` and `j` share a day, `j` is the oldest archive.
    let archives = [
        ("a", "2026-02-01T00:00:00.000Z"),
        ("b", "2026-01-31T23:59:59.999Z"),
        ("c", "2026-01-05T20:00:00.000Z"),
        ("d", "2026-01-05T08:00:00.000Z"),
        ("e", "2026-01-04T12:00:00.000Z"),
        ("f", "2025-12-29T09:00:00.000Z"),
        ("g", "2025-12-28T09:00:00.000Z"),
        ("h", "2025-11-30T09:00:00.000Z"),
        ("i", "2024-06-15T09:00:00.000Z"),
        ("j", "2024-06-15T08:00:00.000Z"),
    ];
    for (name, at) in archives {
        recorded_at(&demo, &template, &format!("{name}.zip"), at);
    }
    // The policy, then each archive it keeps with the rules that keep it; the rest goes.
    let table: [(&[&str], &str); 9] = [
        (
            &["--keep-daily", "3"],
            "a: daily 2026-02-01 | b: daily 2026-01-31 | c: daily 2026-01-05",
        ),
        // `f` is in the same ISO week as `e`, though in another year.
        (
            &["--keep-weekly", "3"],
            "a: weekly 2026-W05 | c: weekly 2026-W02 | e: weekly 2026-W01",
        ),
        (
            &["--keep-weekly", "5"],
            "a: weekly 2026-W05 | c: weekly 2026-W02 | e: weekly 2026-W01 | \
             g: weekly 2025-W52 | h: weekly 2025-W48",
        ),
        (
            &["--keep-monthly", "3"],
            "a: monthly 2026-02 | b: monthly 2026-01 | f: monthly 2025-12",
        ),
        // More periods than there are: each period's newest, and not the oldest besides.
        (
            &["--keep-yearly", "10"],
            "a: yearly 2026 | f: yearly 2025 | i: yearly 2024",
        ),
        (
            &["--keep-daily", "20"],
            "a: daily 2026-02-01 | b: daily 2026-01-31 | c: daily 2026-01-05 | \
             e: daily 2026-01-04 | f: daily 2025-12-29 | g: daily 2025-12-28 | \
             h: daily 2025-11-30 | i: daily 2024-06-15",
        ),
        (
            &["--keep-last", "2", "--keep-weekly", "2"],
            "a: last, weekly 2026-W05 | b: last | c: weekly 2026-W02",
        ),
        (
            &[
                "--keep-daily",
                "1",
                "--keep-weekly",
                "2",
                "--keep-monthly",
                "3",
                "--keep-yearly",
                "2",
            ],
            "a: daily 2026-02-01, weekly 2026-W05, monthly 2026-02, yearly 2026 | \
             b: monthly 2026-01 | c: weekly 2026-W02 | f: monthly 2025-12, yearly 2025",
        ),
        // A rule of zero keeps nothing; the others still do.
        (
            &["--keep-daily", "0", "--keep-monthly", "1"],
            "a: monthly 2026-02",
        ),
    ];
    for (policy, expected) in table {
        let report = prune(&demo, &[policy, &["--dry-run"][..]].concat());
        let kept = kept_by(&report);
        let actual: Vec<String> = archives
            .iter()
            .filter_map(|(name, _)| {
                let why = kept.get(&format!("export_{name}.zip"))?;
                Some(format!("{name}: {why}"))
            })
            .collect();
        assert_eq!(actual.join(" | "), expected, "{policy:?}");
        // What is not kept goes, and only that.
        let deleted = listed(&report, "deleted");
        assert_eq!(deleted.len() + kept.len(), archives.len(), "{policy:?}");
        let keep_last = if policy.contains(&"--keep-last") {
            2
        } else {
            0
        };
        assert_eq!(
            report["keepLast"], keep_last,
            "the default beside a calendar rule"
        );
        assert_eq!(report["olderThan"], Value::Null);
    }
    assert_eq!(
        files_under(&demo.out).len(),
        archives.len(),
        "dry runs only"
    );
}

/// restic's own example (doc/060_forget.rst): a backup every Sunday for 12 weeks, then
/// `forget --keep-daily 4` keeps the last four Sundays and removes the other eight.
#[test]
fn restics_documented_example_of_twelve_sundays() {
    let demo = Demo::new();
    let template = template(&demo);
    let sundays = [
        "2019-09-01",
        "2019-09-08",
        "2019-09-15",
        "2019-09-22",
        "2019-09-29",
        "2019-10-06",
        "2019-10-13",
        "2019-10-20",
        "2019-10-27",
        "2019-11-03",
        "2019-11-10",
        "2019-11-17",
    ];
    let ids: Vec<String> = sundays
        .iter()
        .map(|day| {
            recorded_at(
                &demo,
                &template,
                &format!("{day}.zip"),
                &format!("{day}T11:00:00.000Z"),
            )
        })
        .collect();
    let report = prune(&demo, &["--keep-daily", "4"]);
    assert_eq!(listed(&report, "kept"), ids[8..].iter().cloned().collect());
    assert_eq!(
        listed(&report, "deleted"),
        ids[..8].iter().cloned().collect()
    );
    assert_eq!(
        files_under(&demo.out),
        names([
            "2019-10-27.zip",
            "2019-11-03.zip",
            "2019-11-10.zip",
            "2019-11-17.zip"
        ])
    );
}

#[test]
fn only_archives_that_exist_unchanged_count_for_a_period() {
    let demo = Demo::new();
    let template = template(&demo);
    let changed = recorded_at(&demo, &template, "changed.zip", "2026-03-02T10:00:00.000Z");
    let same_day = recorded_at(&demo, &template, "same-day.zip", "2026-03-02T08:00:00.000Z");
    let gone = recorded_at(&demo, &template, "gone.zip", "2026-03-01T10:00:00.000Z");
    let day_before = recorded_at(
        &demo,
        &template,
        "day-before.zip",
        "2026-02-28T10:00:00.000Z",
    );
    let oldest = recorded_at(&demo, &template, "oldest.zip", "2026-02-27T10:00:00.000Z");
    // Same length, another byte: no longer the archive its export wrote.
    let path = demo.out_path("changed.zip");
    let mut bytes = fs::read(&path).expect("read");
    bytes[0] ^= 0xff;
    fs::write(&path, &bytes).expect("write");
    fs::remove_file(demo.out_path("gone.zip")).expect("remove");

    // The newest of 2 March is changed: that day's newest intact archive stands for it; 1
    // March has none left, so the two days are 2 March and 28 February.
    let out = demo
        .acme()
        .args(["--json", "prune", "--keep-daily", "2"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report = json(&out.stdout);
    let kept = kept_by(&report);
    assert_eq!(
        kept.get(&same_day).map(String::as_str),
        Some("daily 2026-03-02")
    );
    assert_eq!(
        kept.get(&day_before).map(String::as_str),
        Some("daily 2026-02-28")
    );
    assert_eq!(kept.len(), 2, "{report}");
    assert_eq!(listed(&report, "changed"), set([&changed]));
    assert_eq!(listed(&report, "missing"), set([&gone]));
    assert_eq!(listed(&report, "deleted"), set([&oldest]));
    assert_eq!(
        files_under(&demo.out),
        names(["changed.zip", "day-before.zip", "same-day.zip"])
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with("Deleted 1 archive (") && stderr.contains("; kept 2 (2 daily)."),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("  kept (daily 2026-03-02): {same_day} ")),
        "{stderr}"
    );

    // The prune's entry in the history says what policy it applied.
    let prune_id = report["pruneId"].as_str().expect("pruneId");
    let text = stdout_ok(demo.acme().args(["history", prune_id]));
    let lines = detail_lines(&text);
    assert_eq!(
        value(&lines, "retention"),
        "keep 2 daily; delete the rest",
        "{text}"
    );

    // Nothing that still counts is left to go: a run that keeps what it finds is fine.
    let again = prune(&demo, &["--keep-daily", "2"]);
    assert!(listed(&again, "deleted").is_empty(), "{again}");
}

#[test]
fn calendar_rules_combine_with_keep_last_and_older_than() {
    let demo = Demo::new();
    let template = template(&demo);
    let hour = ago(&demo, "-1 hours");
    let now = recorded_at(&demo, &template, "now.zip", &hour);
    let d2 = recorded_at(&demo, &template, "2d.zip", &ago(&demo, "-2 days"));
    let d10 = recorded_at(&demo, &template, "10d.zip", &ago(&demo, "-10 days"));
    let d40 = recorded_at(&demo, &template, "40d.zip", &ago(&demo, "-40 days"));
    let d80 = recorded_at(&demo, &template, "80d.zip", &ago(&demo, "-80 days"));
    let day = |id: &String| {
        let at = demo
            .conn()
            .query_row(
                "SELECT created_at FROM data_export_logs WHERE export_id = ?1",
                [id],
                |row| row.get::<_, String>(0),
            )
            .expect("the export");
        format!("daily {}", &at[..10])
    };

    // Archives two days apart are on two days; the newest is also within 24 hours.
    let report = prune(
        &demo,
        &["--older-than", "24h", "--keep-daily", "2", "--dry-run"],
    );
    let kept = kept_by(&report);
    assert_eq!(kept[&now], format!("{}, olderthan", day(&now)));
    assert_eq!(kept[&d2], day(&d2));
    assert_eq!(listed(&report, "deleted"), set([&d10, &d40, &d80]));

    // Any rule keeps: the newest three, the newest of one year, and all within 7 days.
    let report = prune(
        &demo,
        &[
            "--older-than",
            "7d",
            "--keep-last",
            "3",
            "--keep-yearly",
            "1",
        ],
    );
    let kept = kept_by(&report);
    assert_eq!(
        kept[&now],
        format!("last, yearly {}, olderthan", &hour[..4])
    );
    assert_eq!(kept[&d2], "last, olderthan");
    assert_eq!(kept[&d10], "last");
    assert_eq!(listed(&report, "deleted"), set([&d40, &d80]));
    assert_eq!(report["olderThan"], "7d");
    assert_eq!(report["keepLast"], 3);
    assert_eq!(report["keepYearly"], 1);
    assert_eq!(report["keepDaily"], Value::Null);
    assert_eq!(
        files_under(&demo.out),
        names(["10d.zip", "2d.zip", "now.zip"])
    );
}

#[test]
fn a_policy_that_can_keep_nothing_is_refused() {
    let demo = Demo::new();
    let template = template(&demo);
    recorded_at(&demo, &template, "old.zip", "2025-01-01T00:00:00.000Z");
    let before = log_rows(&demo);
    for policy in [
        &["--keep-daily", "0"][..],
        &[
            "--keep-weekly",
            "0",
            "--keep-monthly",
            "0",
            "--keep-last",
            "0",
        ],
        &["--keep-yearly", "0", "--older-than", "0h"],
        &["--keep-daily", "0", "--dry-run"],
    ] {
        let stderr = fails_with(demo.acme().arg("prune").args(policy), 2);
        assert!(stderr.contains("keeps no archive"), "{policy:?}: {stderr}");
        // Refused before the database is opened.
        fails_with(
            cmd(&demo.dir.path().join("nowhere.db"))
                .arg("prune")
                .args(policy),
            2,
        );
    }
    assert_eq!(files_under(&demo.out), names(["old.zip"]));
    assert_eq!(log_rows(&demo), before);

    // A rule of zero beside one that can keep is fine, and so is a run that keeps nothing
    // because nothing it finds counts.
    let report = prune(
        &demo,
        &["--keep-daily", "0", "--older-than", "7d", "--dry-run"],
    );
    assert_eq!(listed(&report, "deleted").len(), 1);
    fs::remove_file(demo.out_path("old.zip")).expect("remove");
    let report = prune(&demo, &["--keep-weekly", "4"]);
    assert!(listed(&report, "kept").is_empty(), "{report}");
    assert_eq!(listed(&report, "missing").len(), 1, "{report}");
}
