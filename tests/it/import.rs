//! `import` end to end: the real binary on real SQLite files, playing the user guide's
//! scenarios (weekly backup, accidental deletion, moving to a new account, restore onto a
//! new disk) and checked against the rows the database holds afterwards, not only against
//! what the tool prints.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

use support::postgres::{PgDatabase, pg_bin};
use support::*;

mod tickets;

// ---------------------------------------------------------------------------------------
// The demo's rows that the scenarios touch

use support::ids::{
    ADA_ID, BOB_ID, CAROL, CAROL_ID, FIELD_PLAN, FIELD_SEATS, NOTE_D1, NOTE_D5, T1, T3, T4, T6,
};

/// The empty company of the "moving to a new account" scenario, and its admin.
pub(crate) const INITECH: &str = "c0000000-0000-4000-8000-000000000003";
const INITECH_ADMIN: &str = "ian@initech.example";
const INITECH_ADMIN_ID: &str = "a0000000-0000-4000-8000-000000000009";

/// The section names of the `--json` report's `outcomes`.
const OUTCOME_SECTIONS: [&str; 6] = [
    "users",
    "customFields",
    "tickets",
    "notes",
    "history",
    "attachments",
];

/// The summary keys the web app's History tab reads from `imported_data`.
const WEB_APP_LOG_KEYS: [&str; 7] = [
    "usersImported",
    "usersSkipped",
    "ticketsImported",
    "ticketsSkipped",
    "customFieldsImported",
    "errors",
    "status",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives")
        .join(name)
}

// ---------------------------------------------------------------------------------------
// Running the binary

/// `import [args] --json FILE` as Acme's admin.
fn acme_import(demo: &Demo, args: &[&str], file: &Path) -> Command {
    let mut cmd = demo.acme();
    cmd.arg("--json").arg("import").args(args).arg(file);
    cmd
}

/// One section's tally as `[created, updated, skipped, linked]`.
fn tally(report: &Value, section: &str) -> [u64; 4] {
    let t = &report["outcomes"][section];
    ["created", "updated", "skipped", "linked"].map(|k| {
        t[k].as_u64()
            .unwrap_or_else(|| panic!("outcomes.{section}.{k} in {report:#}"))
    })
}

/// How many existing records of a section `--overwrite` found already as the archive has them.
fn unchanged(report: &Value, section: &str) -> u64 {
    report["outcomes"][section]["unchanged"]
        .as_u64()
        .unwrap_or_else(|| panic!("outcomes.{section}.unchanged in {report:#}"))
}

/// The parts of a report that a plan and its import must share.
fn plan_part(report: &Value) -> Value {
    json!({
        "outcomes": report["outcomes"],
        "conflictCount": report["conflictCount"],
        "conflicts": report["conflicts"],
        "warnings": report["warnings"],
        "passwordResetRequired": report["passwordResetRequired"],
    })
}

// ---------------------------------------------------------------------------------------
// Database state

type Row = BTreeMap<String, Sql>;

/// Every row of every table, keyed by table name and then by primary key (`a|b` for a
/// composite key).
#[derive(Debug, Clone, PartialEq)]
struct Dump(BTreeMap<String, BTreeMap<String, Row>>);

/// Whether a column holds JSON text: the application's JSON columns, and the logs' details.
fn is_json_column(column: &str) -> bool {
    APP_JSON_COLUMNS.contains(&column) || ["exported_data", "imported_data"].contains(&column)
}

fn key_text(value: &Sql) -> String {
    match value {
        Sql::Text(text) => text.clone(),
        Sql::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

fn dump(conn: &Connection) -> Dump {
    let tables = strings(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        [],
    );
    let mut all = BTreeMap::new();
    for table in tables {
        let mut key_columns: Vec<(i64, String)> = conn
            .prepare("SELECT pk, name FROM pragma_table_info(?1) WHERE pk > 0")
            .unwrap()
            .query_map([&table], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        key_columns.sort();
        assert!(!key_columns.is_empty(), "{table} has no primary key");
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let names: Vec<String> = stmt.column_names().map(String::from).collect();
        let rows: Vec<Row> = stmt
            .query_map([], |row| {
                (0..names.len())
                    .map(|i| Ok((names[i].clone(), row.get::<_, Sql>(i)?)))
                    .collect()
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let rows = rows
            .into_iter()
            .map(|row| {
                let key = key_columns
                    .iter()
                    .map(|(_, column)| key_text(&row[column]))
                    .collect::<Vec<_>>()
                    .join("|");
                (key, row)
            })
            .collect();
        all.insert(table, rows);
    }
    Dump(all)
}

impl Dump {
    fn table(&self, table: &str) -> &BTreeMap<String, Row> {
        self.0
            .get(table)
            .unwrap_or_else(|| panic!("no table {table}"))
    }

    fn row(&self, table: &str, key: &str) -> &Row {
        self.table(table)
            .get(key)
            .unwrap_or_else(|| panic!("no row {table}[{key}]"))
    }

    fn get(&self, table: &str, key: &str, column: &str) -> &Sql {
        self.row(table, key)
            .get(column)
            .unwrap_or_else(|| panic!("no column {table}.{column}"))
    }

    fn set(&mut self, table: &str, key: &str, column: &str, value: Sql) {
        let row = self
            .0
            .get_mut(table)
            .and_then(|rows| rows.get_mut(key))
            .unwrap_or_else(|| panic!("no row {table}[{key}]"));
        let cell = row
            .get_mut(column)
            .unwrap_or_else(|| panic!("no column {table}.{column}"));
        *cell = value;
    }

    /// The dump without one table (the import log, which every run writes to).
    fn without(&self, table: &str) -> Dump {
        let mut copy = self.clone();
        copy.0.remove(table);
        copy
    }

    /// Only the rows `keep` accepts.
    fn only(&self, keep: impl Fn(&str, &str, &Row) -> bool) -> Dump {
        Dump(
            self.0
                .iter()
                .map(|(table, rows)| {
                    let rows = rows
                        .iter()
                        .filter(|(key, row)| keep(table, key, row))
                        .map(|(key, row)| (key.clone(), row.clone()))
                        .collect();
                    (table.clone(), rows)
                })
                .collect(),
        )
    }

    /// Rewrites the JSON columns of the rows `pick` accepts in one canonical form (sorted
    /// keys), for rows an import wrote: it stores the same JSON values, not the same text.
    fn canonical_json(&mut self, pick: impl Fn(&str, &str) -> bool) {
        for (table, rows) in self.0.iter_mut() {
            for (key, row) in rows.iter_mut() {
                if !pick(table, key) {
                    continue;
                }
                for (column, cell) in row.iter_mut() {
                    if let Sql::Text(text) = cell
                        && is_json_column(column)
                    {
                        let value: Value = serde_json::from_str(text).unwrap_or_else(|e| {
                            panic!("{table}[{key}].{column} is not JSON ({e}): {text}")
                        });
                        *text = value.to_string();
                    }
                }
            }
        }
    }

    fn keys(&self) -> BTreeSet<(String, String)> {
        self.0
            .iter()
            .flat_map(|(table, rows)| rows.keys().map(move |key| (table.clone(), key.clone())))
            .collect()
    }
}

/// Every difference between two sets of tables (table → key → row): rows missing or
/// unexpected and, in rows that differ, each field (as `fields` renders a row) that does.
fn differences<R: PartialEq>(
    expected: &BTreeMap<String, BTreeMap<String, R>>,
    actual: &BTreeMap<String, BTreeMap<String, R>>,
    fields: impl Fn(&R) -> BTreeMap<String, String>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let empty = BTreeMap::new();
    let tables: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    for table in tables {
        let want = expected.get(table).unwrap_or(&empty);
        let have = actual.get(table).unwrap_or(&empty);
        let keys: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        for key in keys {
            match (want.get(key), have.get(key)) {
                (Some(w), Some(h)) if w != h => {
                    let (w, h) = (fields(w), fields(h));
                    let names: BTreeSet<&String> = w.keys().chain(h.keys()).collect();
                    for name in names {
                        if w.get(name) != h.get(name) {
                            let show = |v: Option<&String>| v.map_or("nothing", |v| v).to_owned();
                            diffs.push(format!(
                                "{table}[{key}].{name}: expected {}, found {}",
                                show(w.get(name)),
                                show(h.get(name))
                            ));
                        }
                    }
                }
                (Some(_), None) => diffs.push(format!("{table}[{key}]: missing")),
                (None, Some(h)) => {
                    diffs.push(format!("{table}[{key}]: unexpected {:?}", fields(h)));
                }
                _ => {}
            }
        }
    }
    diffs
}

/// Fails with every difference, row by row and column by column.
fn assert_same(expected: &Dump, actual: &Dump, what: &str) {
    let diffs = differences(&expected.0, &actual.0, |row| {
        row.iter()
            .map(|(column, value)| (column.clone(), format!("{value:?}")))
            .collect()
    });
    assert!(
        diffs.is_empty(),
        "{what}: the database differs:\n  {}",
        diffs.join("\n  ")
    );
}

/// Fails unless the database equals `before` in every table but the import log.
fn assert_only_the_log_changed(before: &Dump, conn: &Connection, what: &str) {
    assert_same(
        &before.without("data_import_logs"),
        &dump(conn).without("data_import_logs"),
        what,
    );
}

fn text(value: &str) -> Sql {
    Sql::Text(value.to_owned())
}

/// The `imported_data` of every import log row, oldest first, with the row's company and user.
fn import_logs(conn: &Connection) -> Vec<(String, Option<String>, Value)> {
    conn.prepare(
        "SELECT company_id, user_id, imported_data FROM data_import_logs ORDER BY created_at, rowid",
    )
    .unwrap()
    .query_map([], |row| {
        let data: String = row.get(2)?;
        Ok((row.get(0)?, row.get(1)?, json(data.as_bytes())))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn statuses(conn: &Connection) -> Vec<String> {
    import_logs(conn)
        .into_iter()
        .map(|(_, _, data)| data["status"].as_str().expect("a status").to_owned())
        .collect()
}

/// Acme's rows per kind, for comparing what a deletion removed with what a plan creates.
fn acme_counts(conn: &Connection) -> [i64; 5] {
    [
        "SELECT count(*) FROM user_company_associations WHERE company_id = ?1",
        "SELECT count(*) FROM tickets WHERE company_id = ?1",
        "SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id WHERE t.company_id = ?1",
        "SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id WHERE t.company_id = ?1",
        "SELECT count(*) FROM file_attachments f JOIN tickets t ON t.id = f.ticket_id WHERE t.company_id = ?1",
    ]
    .map(|sql| count(conn, sql, [ids::ACME]))
}

// ---------------------------------------------------------------------------------------
// Arranging scenarios

/// The accidental deletion: two Acme tickets (their notes, history and attachments go by
/// cascade) and carol, whose references elsewhere become NULL.
fn delete_tickets_and_carol(conn: &Connection) {
    conn.execute("DELETE FROM tickets WHERE id IN (?1, ?2)", [T1, T3])
        .unwrap();
    assert_eq!(
        conn.execute("DELETE FROM users WHERE email = ?1", [CAROL])
            .unwrap(),
        1
    );
}

/// An empty company "Initech" with its own admin, in the demo database.
pub(crate) fn add_initech(conn: &Connection) {
    conn.execute_batch(&format!(
        "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
         VALUES ('{INITECH}', 'Initech', 'initech.example', NULL, 1,
                 '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z');
         INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role,
                            is_active, email_verified, preferences, created_at, updated_at)
         VALUES ('{INITECH_ADMIN_ID}', '{INITECH_ADMIN}', '$2b$10$DEMOHASHianXXXX', 'Ian', 'Initech',
                 NULL, 'admin', 1, 1, '{{}}', '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z');
         INSERT INTO user_company_associations (user_id, company_id, role, created_at, updated_at)
         VALUES ('{INITECH_ADMIN_ID}', '{INITECH}', 'admin',
                 '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z');"
    ))
    .unwrap();
}

/// Imports into Initech as its admin.
fn initech_import(demo: &Demo, args: &[&str], file: &Path) -> Command {
    let mut cmd = demo.cmd();
    cmd.args(["--company", "Initech", "--actor", INITECH_ADMIN])
        .arg("--json")
        .arg("import")
        .args(args)
        .arg(file);
    cmd
}

/// The edits that `--overwrite` must undo (and bob's, which it must keep).
fn edit_acme(conn: &Connection) {
    conn.execute_batch(&format!(
        "UPDATE tickets SET title = 'EDITED title' WHERE id = '{T1}';
         UPDATE ticket_notes SET content = 'EDITED note' WHERE id = '{NOTE_D1}';
         UPDATE users SET first_name = 'EDITED Carol' WHERE id = '{CAROL_ID}';
         UPDATE custom_fields SET label = 'EDITED Seats' WHERE id = '{FIELD_SEATS}';
         UPDATE users SET first_name = 'EDITED Bob' WHERE id = '{BOB_ID}';
         UPDATE user_company_associations SET role = 'admin'
          WHERE user_id = '{BOB_ID}' AND company_id = '{}';",
        ids::ACME
    ))
    .unwrap();
}

/// A new database made by `init`.
fn init_db(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    cmd(&path).arg("init").assert().success();
    path
}

// ---------------------------------------------------------------------------------------
// Weekly backup: validate the file alone

#[test]
fn weekly_backup_validates_without_a_database_and_creates_none() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let nowhere = demo.dir.path().join("none.db");

    cmd(&nowhere)
        .args(["import", "--validate-only"])
        .arg(&archive)
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("a valid archive of Acme Corp"));
    assert!(!nowhere.exists(), "validate-only created the database");

    let report = json_ok(
        cmd(&nowhere)
            .args(["--json", "import", "--validate-only"])
            .arg(&archive),
    );
    assert!(
        !nowhere.exists(),
        "validate-only --json created the database"
    );
    let manifest = Archive::read(&archive).manifest;
    assert_eq!(report["valid"], true);
    assert_eq!(report["counts"], manifest["counts"]);
    assert_eq!(
        report["counts"],
        json!({"users": 5, "customFields": 4, "tickets": 6, "notes": 5, "history": 4, "attachments": 3})
    );
    assert_eq!(report["source"]["layout"], "zip");
    assert_eq!(report["source"]["companyId"], ids::ACME);
    assert_eq!(report["source"]["exportId"], manifest["exportId"]);
}

#[test]
fn weekly_backup_in_json_validates_without_a_database() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.json");
    let nowhere = demo.dir.path().join("none.db");
    let report = json_ok(
        cmd(&nowhere)
            .args(["--json", "import", "--validate-only"])
            .arg(&archive),
    );
    assert!(!nowhere.exists());
    assert_eq!(report["valid"], true);
    assert_eq!(report["source"]["layout"], "json");
    assert_eq!(report["counts"], Archive::read(&archive).manifest["counts"]);
}

// ---------------------------------------------------------------------------------------
// Accidental deletion

#[test]
fn accidental_deletion_validate_only_shows_exactly_the_deleted_records() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    let before = acme_counts(&conn);
    delete_tickets_and_carol(&conn);
    let after = acme_counts(&conn);
    let deleted: Vec<u64> = before
        .iter()
        .zip(after)
        .map(|(b, a)| (b - a) as u64)
        .collect();
    assert_eq!(deleted, [1, 2, 4, 3, 2], "what the arrangement deletes");

    let plan = json_ok(&mut acme_import(
        &demo,
        &["--validate-only", "--skip-duplicates"],
        &archive,
    ));
    assert_eq!(plan["status"], "validated");
    let counts = Archive::read(&archive).manifest["counts"].clone();
    for (section, deleted) in ["users", "tickets", "notes", "history", "attachments"]
        .into_iter()
        .zip(deleted)
    {
        let total = counts[section].as_u64().unwrap();
        assert_eq!(
            tally(&plan, section),
            [deleted, 0, total - deleted, 0],
            "{section}: created, updated, skipped, linked"
        );
    }
    assert_eq!(tally(&plan, "customFields"), [0, 0, 4, 0]);
    assert_eq!(plan["conflictCount"], 0);
    assert_eq!(
        plan["passwordResetRequired"], 1,
        "carol must set a password"
    );
    // The restored note whose author was deleted keeps no author (null in the tool's own
    // archive means nobody), so there is nothing to warn about.
    assert_eq!(plan["warnings"], json!({}));
}

#[test]
fn accidental_deletion_is_restored_with_original_ids_and_nothing_else_changes() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    let original = dump(&conn);
    delete_tickets_and_carol(&conn);
    let damaged = dump(&conn);
    let deleted: BTreeSet<(String, String)> = original
        .keys()
        .difference(&damaged.keys())
        .cloned()
        .collect();
    assert_eq!(
        deleted
            .iter()
            .filter(|(table, _)| table == "tickets")
            .count(),
        2
    );

    let report = json_ok(&mut acme_import(&demo, &["--skip-duplicates"], &archive));
    assert_eq!(report["status"], "ok");
    assert_eq!(tally(&report, "tickets"), [2, 0, 4, 0]);

    let restored = dump(&conn);
    // The restored rows were written by the import: same JSON values, maybe not the same
    // key order. Every other row is compared as it is stored.
    let was_deleted =
        |table: &str, key: &str| deleted.contains(&(table.to_owned(), key.to_owned()));
    let mut expected = original.without("data_import_logs");
    let mut actual = restored.without("data_import_logs");
    expected.canonical_json(was_deleted);
    actual.canonical_json(was_deleted);

    // What the restore legitimately changes:
    // - carol comes back without a password (she must set a new one);
    expected.set("users", CAROL_ID, "password_hash", Sql::Null);
    // - her membership is new: the archive has no membership timestamps;
    let membership = format!("{CAROL_ID}|{}", ids::ACME);
    let joined = actual.get("user_company_associations", &membership, "created_at");
    assert_ne!(
        joined,
        original.get("user_company_associations", &membership, "created_at")
    );
    assert_eq!(
        joined,
        actual.get("user_company_associations", &membership, "updated_at")
    );
    for column in ["created_at", "updated_at"] {
        let now = actual
            .get("user_company_associations", &membership, column)
            .clone();
        expected.set("user_company_associations", &membership, column, now);
    }
    // - records that were skipped keep the NULL the deletion left where carol was;
    expected.set("tickets", T4, "assigned_to_id", Sql::Null);
    expected.set("ticket_notes", NOTE_D5, "author_id", Sql::Null);
    // (a restored note whose author was deleted keeps no author: null means nobody)
    assert_same(&expected, &actual, "after the restore");

    // Spelled out, what the dump comparison above covers.
    assert_eq!(restored.get("users", CAROL_ID, "email"), &text(CAROL));
    assert_eq!(restored.get("tickets", T3, "submitter_id"), &text(CAROL_ID));
    let values: Value = match restored.get("tickets", T1, "custom_field_values") {
        Sql::Text(values) => json(values.as_bytes()),
        other => panic!("custom_field_values: {other:?}"),
    };
    assert_eq!(values, json!({FIELD_SEATS: 12, FIELD_PLAN: "pro"}));
    assert_eq!(
        restored.get(
            "file_attachments",
            "ff000000-0000-4000-8000-000000000001",
            "note_id"
        ),
        &text(NOTE_D1)
    );
    assert_eq!(
        restored.get("tickets", T1, "created_at"),
        &text("2025-12-31T23:59:59.999Z")
    );
}

// ---------------------------------------------------------------------------------------
// Validate-only changes nothing; its plan is what the import does

#[test]
fn validate_only_changes_nothing_but_its_log_row() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    // A state in which the import would write: deleted records to create, edits to overwrite.
    delete_tickets_and_carol(&conn);
    conn.execute("UPDATE tickets SET title = 'EDITED' WHERE id = ?1", [T4])
        .unwrap();
    let before = dump(&conn);

    for policy in ["--skip-duplicates", "--overwrite"] {
        let plan = json_ok(&mut acme_import(
            &demo,
            &["--validate-only", policy],
            &archive,
        ));
        assert_eq!(plan["status"], "validated");
        assert!(tally(&plan, "tickets")[0] > 0, "the plan would write");
    }
    // Strict: the plan has conflicts, so it exits 4, and still changes nothing.
    let stderr = fails_with(
        demo.acme()
            .args(["import", "--validate-only"])
            .arg(&archive),
        4,
    );
    assert!(stderr.contains("Failed to import user: Email already exists (ada@acme.example)"));

    let after = dump(&conn);
    assert_same(
        &before.without("data_import_logs"),
        &after.without("data_import_logs"),
        "after three validate-only runs",
    );
    assert_eq!(count_rows(&conn, "data_import_logs"), 3);
    assert_eq!(statuses(&conn), ["validated", "validated", "validated"]);
    // Without its log rows, the database is the one before, log table included.
    conn.execute("DELETE FROM data_import_logs", []).unwrap();
    assert_same(&before, &dump(&conn), "without the log rows");
}

#[test]
fn plan_equals_import_for_every_policy() {
    // Skip duplicates after a deletion: creates and skips.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    delete_tickets_and_carol(&demo.conn());
    let plan = json_ok(&mut acme_import(
        &demo,
        &["--validate-only", "--skip-duplicates"],
        &archive,
    ));
    let done = json_ok(&mut acme_import(&demo, &["--skip-duplicates"], &archive));
    assert_eq!(plan_part(&plan), plan_part(&done), "skip-duplicates");
    assert_eq!(tally(&done, "notes"), [4, 0, 1, 0]);

    // Overwrite after edits: updates (and a profile kept, with its warning).
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    edit_acme(&demo.conn());
    let plan = json_ok(&mut acme_import(
        &demo,
        &["--validate-only", "--overwrite"],
        &archive,
    ));
    let done = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(plan_part(&plan), plan_part(&done), "overwrite");
    // Only the edited ticket is updated; the others already hold the archive's values.
    assert_eq!(tally(&done, "tickets"), [0, 1, 0, 0]);
    assert_eq!(unchanged(&done, "tickets"), 5);

    // Strict into an empty company of the same database: creates and links.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    add_initech(&demo.conn());
    let plan = json_ok(&mut initech_import(&demo, &["--validate-only"], &archive));
    let done = json_ok(&mut initech_import(&demo, &[], &archive));
    assert_eq!(plan_part(&plan), plan_part(&done), "strict into Initech");
    assert_eq!(tally(&done, "users"), [0, 0, 0, 5]);
}

#[test]
fn plan_equals_import_when_records_refer_to_a_user_the_plan_creates() {
    // Carol deleted, her tickets, notes and history keep no one in her place. The import
    // creates her again and they refer to her once more; the plan, which has no id for her
    // yet, counts them as updated too.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    assert_eq!(
        conn.execute("DELETE FROM users WHERE email = ?1", [CAROL])
            .unwrap(),
        1
    );
    let plan = json_ok(&mut acme_import(
        &demo,
        &["--validate-only", "--overwrite"],
        &archive,
    ));
    let done = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(plan_part(&plan), plan_part(&done));
    assert_eq!(tally(&plan, "users"), [1, 0, 0, 0]);
    for (section, updated) in [("tickets", 2), ("notes", 1), ("attachments", 1)] {
        assert_eq!(tally(&plan, section), [0, updated, 0, 0], "{section}");
    }
}

/// A deleted custom field and a deleted note come back with their archive ids: the plan
/// knows those ids, so it says what the import does. The tickets still holding the field's
/// values are unchanged (the plan once counted them updated), and the attachment that lost
/// its note gets it back, updated (the plan once counted it unchanged).
#[test]
fn plan_equals_import_when_a_deleted_field_or_note_comes_back() {
    let cases = [
        (
            "DELETE FROM custom_fields WHERE id = (SELECT min(id) FROM custom_fields
               WHERE company_id = ?1)",
            [("customFields", [1, 0, 0, 0]), ("tickets", [0, 0, 0, 0])],
        ),
        (
            "DELETE FROM ticket_notes WHERE id = (SELECT min(a.note_id) FROM file_attachments a
               JOIN tickets t ON t.id = a.ticket_id WHERE t.company_id = ?1)",
            [("notes", [1, 0, 0, 0]), ("attachments", [0, 1, 0, 0])],
        ),
    ];
    for (delete, expected) in cases {
        let demo = Demo::new();
        let archive = demo.export_acme("acme.zip");
        assert_eq!(
            demo.conn().execute(delete, [ids::ACME]).unwrap(),
            1,
            "{delete}"
        );
        let plan = json_ok(&mut acme_import(
            &demo,
            &["--validate-only", "--overwrite"],
            &archive,
        ));
        let done = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
        assert_eq!(plan_part(&plan), plan_part(&done), "{delete}");
        for (section, tallied) in expected {
            assert_eq!(tally(&done, section), tallied, "{section} after {delete}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Moving to a new account in the same database

/// The id map's entries of one kind for a company: archive id → local id.
fn id_map(conn: &Connection, company: &str, kind: &str) -> BTreeMap<String, String> {
    pairs(
        conn,
        "SELECT archive_id, local_id FROM bomizzel_backup_id_map
         WHERE company_id = ?1 AND kind = ?2",
        [company, kind],
    )
}

fn key_set<V>(map: &BTreeMap<String, V>) -> BTreeSet<String> {
    map.keys().cloned().collect()
}

fn json_cell(value: &Sql) -> Value {
    match value {
        Sql::Text(text) => json(text.as_bytes()),
        Sql::Null => Value::Null,
        other => panic!("not JSON text: {other:?}"),
    }
}

#[test]
fn a_declined_overwrite_changes_nothing_and_is_logged_cancelled() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    edit_acme(&demo.conn());
    let before = dump(&demo.conn());
    let archive = archive.to_str().unwrap();
    let session = terminal::run(
        &terminal::with_db(&demo.db, &AS_ACME_ADMIN)
            .into_iter()
            .chain(["import", "--overwrite", archive])
            .collect::<Vec<_>>(),
        "n\n",
    );
    assert_eq!(session.code, Some(2), "{}", session.screen);
    // The plan has its heading, then the question; the rates are whole numbers of records.
    assert!(
        session
            .screen
            .contains("This import into Acme Corp would do:"),
        "{}",
        session.screen
    );
    assert!(
        session
            .screen
            .contains("Overwrite existing records of Acme Corp with the archive's values?"),
        "{}",
        session.screen
    );
    assert!(session.screen.contains(" records ("), "{}", session.screen);
    assert!(!session.screen.contains(".0000/s"), "{}", session.screen);
    assert!(
        session
            .screen
            .contains("import cancelled; nothing was changed"),
        "{}",
        session.screen
    );
    let conn = demo.conn();
    assert_same(
        &before,
        &dump(&conn).without("data_import_logs"),
        "declined",
    );
    let logs = import_logs(&conn);
    assert_eq!(logs.last().unwrap().2["status"], "cancelled");
}

#[test]
fn validate_only_without_db_checks_the_file_alone_even_beside_a_bomizzel_db() {
    // A ./bomizzel.db in the current folder is not "a database" for --validate-only: only
    // --db (or BOMIZZEL_DB) names one.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    fs::copy(&demo.db, demo.out.join("bomizzel.db")).unwrap();
    let report = json_ok(
        bin()
            .current_dir(&demo.out)
            .args(["--json", "import", "--validate-only"])
            .arg(&archive),
    );
    // The file-only report: `valid` and counts, no plan.
    assert_eq!(report["valid"], true, "{report}");
    assert!(report.get("outcomes").is_none(), "{report}");
}

#[test]
fn dry_run_is_validate_only_and_verbose_says_each_step() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let before = dump(&demo.conn());
    let output = demo
        .acme()
        .args(["-v", "import", "--dry-run", "--skip-duplicates"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let said = stderr_of(&output);
    for step in [
        "bomizzel-backup: opened the database",
        "bomizzel-backup: read ",
        "bomizzel-backup: target: Acme Corp (c0000000-0000-4000-8000-000000000001)",
        "bomizzel-backup: acting as ada@acme.example",
        "bomizzel-backup: planning in a read transaction; nothing will be written",
        "valid; importing it into Acme Corp would do this",
    ] {
        assert!(said.contains(step), "{step:?} in {said}");
    }
    assert_same(
        &before,
        &dump(&demo.conn()).without("data_import_logs"),
        "a dry run",
    );
    // Without -v, none of the steps.
    let quiet = demo
        .acme()
        .args(["import", "--dry-run", "--skip-duplicates"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        !stderr_of(&quiet).contains("acting as"),
        "{}",
        stderr_of(&quiet)
    );
}

#[test]
fn a_validation_with_conflicts_is_one_json_document() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let output = demo
        .acme()
        .args(["--json", "import", "--validate-only"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    // `from_slice` refuses anything after the first document.
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["status"], "validated");
    assert!(report["conflictCount"].as_u64().unwrap() > 0);
    assert_eq!(report["error"]["kind"], "conflict");
    assert_eq!(report["error"]["exitCode"], 4);
}

#[test]
fn every_invalid_archive_message_names_the_file() {
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "seats.json", |doc| {
        doc["data"]["tickets"][0]["title"] = json!(42);
    });
    let name = damaged.to_str().unwrap();
    for stderr in [
        fails_with(
            cmd(&demo.dir.path().join("none.db"))
                .args(["import", "--validate-only"])
                .arg(&damaged),
            3,
        ),
        fails_with(
            demo.acme()
                .args(["import", "--skip-duplicates"])
                .arg(&damaged),
            3,
        ),
    ] {
        assert!(
            stderr.contains(&format!(
                "Invalid import data: {name}: 1 problem: tickets[0].title"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn another_companys_archive_is_named_and_its_admin_grants_listed() {
    let demo = Demo::new();
    let archive_path = demo.export_acme("acme.zip");
    add_initech(&demo.conn());
    // The plan says whose archive goes where, and who becomes an admin of Initech.
    let output = demo
        .cmd()
        .args(["--company", "Initech", "--actor", INITECH_ADMIN])
        .args(["import", "--validate-only"])
        .arg(&archive_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let said = stderr_of(&output);
    assert!(
        said.contains("Acme Corp's archive ") && said.contains("valid; importing it into Initech"),
        "{said}"
    );
    let grants = "ada@acme.example, carol@acme.example, frank@acme.example";
    assert!(
        said.contains(&format!(
            "The import would make these people of other companies admins of Initech: {grants}"
        )),
        "{said}"
    );
    // The report says the same, as fields.
    let report = json_ok(&mut initech_import(&demo, &[], &archive_path));
    assert_eq!(report["crossCompany"], true);
    assert_eq!(report["source"]["companyName"], "Acme Corp");
    assert_eq!(report["companyName"], "Initech");
    assert_eq!(
        report["adminGrants"],
        json!([
            "ada@acme.example",
            "carol@acme.example",
            "frank@acme.example"
        ])
    );
    // Acme's own archive into Acme is no cross-company import.
    let own = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates"],
        &archive_path,
    ));
    assert_eq!(own["crossCompany"], false);
    assert_eq!(own["adminGrants"], json!([]));
}

#[test]
fn moving_to_a_new_account_copies_everything_and_changes_no_other_company() {
    let demo = Demo::new();
    let archive_path = demo.export_acme("acme.zip");
    let archive = Archive::read(&archive_path);
    let conn = demo.conn();
    add_initech(&conn);
    let before = dump(&conn);

    let report = json_ok(&mut initech_import(&demo, &[], &archive_path));
    assert_eq!(report["companyId"], INITECH);
    assert_eq!(
        OUTCOME_SECTIONS.map(|s| tally(&report, s)),
        [
            [0, 0, 0, 5],
            [4, 0, 0, 0],
            [6, 0, 0, 0],
            [5, 0, 0, 0],
            [4, 0, 0, 0],
            [3, 0, 0, 0]
        ]
    );
    assert_eq!(report["passwordResetRequired"], 0);
    let after = dump(&conn);

    // Acme's and Globex's rows, the users and every other row that existed: byte for byte.
    let existing = before.keys();
    let old_rows = after.only(|table, key, _| existing.contains(&(table.into(), key.into())));
    assert_same(
        &before,
        &old_rows.without("data_import_logs"),
        "the rows that existed",
    );
    // The new rows are all Initech's: memberships, fields, tickets, their children, id map.
    let new_keys: BTreeMap<String, usize> =
        after
            .keys()
            .difference(&existing)
            .fold(BTreeMap::new(), |mut n, (table, _)| {
                *n.entry(table.clone()).or_default() += 1;
                n
            });
    let expected_new: BTreeMap<String, usize> = [
        ("bomizzel_backup_id_map", 18),
        ("custom_fields", 4),
        ("data_import_logs", 1),
        ("file_attachments", 3),
        ("ticket_history", 4),
        ("ticket_notes", 5),
        ("tickets", 6),
        ("user_company_associations", 5),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_owned(), n))
    .collect();
    assert_eq!(new_keys, expected_new);

    // Shared users are linked with the archive's company role, not copied or modified.
    for user in archive.records("users") {
        let id = user["id"].as_str().unwrap();
        let key = format!("{id}|{INITECH}");
        assert_eq!(
            after.get("user_company_associations", &key, "role"),
            &text(user["companyRole"].as_str().unwrap()),
            "{}",
            user["email"]
        );
    }

    // Fields by name, with fresh ids (Acme's are taken) and the same definitions.
    let field_ids = pairs(
        &conn,
        "SELECT a.id, i.id FROM custom_fields a JOIN custom_fields i ON i.name = a.name
         WHERE a.company_id = ?1 AND i.company_id = ?2",
        [ids::ACME, INITECH],
    );
    assert_eq!(field_ids.len(), 4);
    for (acme_id, initech_id) in &field_ids {
        assert_ne!(acme_id, initech_id);
        let mut want = before.row("custom_fields", acme_id).clone();
        want.insert("id".into(), text(initech_id));
        want.insert("company_id".into(), text(INITECH));
        let have = after.row("custom_fields", initech_id).clone();
        let canonical = |row: &Row| {
            let mut d = Dump(BTreeMap::from([(
                "custom_fields".to_owned(),
                BTreeMap::from([(String::new(), row.clone())]),
            )]));
            d.canonical_json(|_, _| true);
            d
        };
        assert_same(&canonical(&want), &canonical(&have), "an Initech field");
    }

    // Tickets, notes, history and attachments: fresh ids, each recorded in the id map.
    let ids_in_archive = RecordIds::in_archive(&archive);
    let tickets = id_map(&conn, INITECH, "ticket");
    let notes = id_map(&conn, INITECH, "note");
    let history = id_map(&conn, INITECH, "history");
    let attachments = id_map(&conn, INITECH, "attachment");
    assert_eq!(key_set(&tickets), ids_in_archive.tickets);
    assert_eq!(key_set(&notes), key_set(&ids_in_archive.notes));
    assert_eq!(key_set(&history), key_set(&ids_in_archive.history));
    assert_eq!(key_set(&attachments), key_set(&ids_in_archive.attachments));
    let initech = RecordIds::in_db(&conn, INITECH);
    let local: BTreeSet<String> = tickets.values().cloned().collect();
    assert_eq!(initech.tickets, local);
    let local: BTreeSet<String> = notes.values().cloned().collect();
    assert_eq!(key_set(&initech.notes), local);
    for (archive_id, local_id) in tickets
        .iter()
        .chain(&notes)
        .chain(&history)
        .chain(&attachments)
    {
        assert_ne!(archive_id, local_id, "a fresh id for {archive_id}");
    }

    // Each copy equals its original but for its ids: people are the same linked users,
    // and nobody (a null person in the archive) stays nobody.
    let copy = |table: &str, original: &str, local: &str, edit: &dyn Fn(&mut Row)| {
        let mut want = before.row(table, original).clone();
        want.insert("id".into(), text(local));
        edit(&mut want);
        let have = after.row(table, local);
        for (column, value) in &want {
            if is_json_column(column) {
                assert_eq!(
                    json_cell(value),
                    json_cell(&have[column]),
                    "{table}[{local}].{column}"
                );
            } else {
                assert_eq!(
                    value, &have[column],
                    "{table}[{local}].{column} (from {original})"
                );
            }
        }
    };
    for (original, local) in &tickets {
        copy("tickets", original, local, &|row| {
            row.insert("company_id".into(), text(INITECH));
            let values = json_cell(&row["custom_field_values"]);
            let rekeyed: serde_json::Map<String, Value> = values
                .as_object()
                .unwrap()
                .iter()
                .map(|(field, value)| (field_ids[field].clone(), value.clone()))
                .collect();
            row.insert(
                "custom_field_values".into(),
                text(&Value::Object(rekeyed).to_string()),
            );
        });
    }
    for (original, local) in notes.iter().chain(&history) {
        let table = if notes.contains_key(original) {
            "ticket_notes"
        } else {
            "ticket_history"
        };
        copy(table, original, local, &|row| {
            let ticket = key_text(&row["ticket_id"]);
            row.insert("ticket_id".into(), text(&tickets[&ticket]));
        });
    }
    for (original, local) in &attachments {
        copy("file_attachments", original, local, &|row| {
            let ticket = key_text(&row["ticket_id"]);
            row.insert("ticket_id".into(), text(&tickets[&ticket]));
            if let Sql::Text(note) = &row["note_id"] {
                let mapped = notes[note].clone();
                row.insert("note_id".into(), text(&mapped));
            }
        });
    }
    assert_eq!(
        after.get("tickets", &tickets[T6], "submitter_id"),
        &Sql::Null
    );
}

#[test]
fn importing_into_the_new_account_again_creates_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    add_initech(&conn);
    json_ok(&mut initech_import(&demo, &[], &archive));
    let once = dump(&conn);

    let again = json_ok(&mut initech_import(&demo, &["--skip-duplicates"], &archive));
    assert_eq!(
        OUTCOME_SECTIONS.map(|s| tally(&again, s)),
        [
            [0, 0, 5, 0],
            [0, 0, 4, 0],
            [0, 0, 6, 0],
            [0, 0, 5, 0],
            [0, 0, 4, 0],
            [0, 0, 3, 0]
        ]
    );
    assert_eq!(again["warnings"], json!({}));
    assert_only_the_log_changed(&once, &conn, "after importing the same archive again");
    // Strict, the second time is all conflicts, and still writes nothing.
    let stderr = fails_with(&mut initech_import(&demo, &[], &archive), 4);
    assert!(
        stderr.contains("Email already exists (ada@acme.example)"),
        "{stderr}"
    );
    assert_only_the_log_changed(&once, &conn, "after a strict import of the same archive");
}

// ---------------------------------------------------------------------------------------
// Strict and overwrite

#[test]
fn strict_import_of_existing_data_exits_4_names_the_email_and_writes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    // Something to create too, so "writes nothing" means something.
    conn.execute("DELETE FROM tickets WHERE id = ?1", [T1])
        .unwrap();
    let before = dump(&conn);

    let output = demo
        .acme()
        .args(["--json", "import"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("Failed to import user: Email already exists (ada@acme.example)"),
        "{stderr}"
    );
    let error = json(&output.stdout);
    assert_eq!(error["error"]["exitCode"], 4);
    assert_eq!(error["error"]["kind"], "conflict");

    assert_only_the_log_changed(&before, &conn, "after a refused strict import");
    let logs = import_logs(&conn);
    assert_eq!(logs.len(), 1);
    let (company, user, data) = &logs[0];
    assert_eq!(company, ids::ACME);
    assert_eq!(user.as_deref(), Some(ADA_ID));
    assert_eq!(data["status"], "failed");
    assert_eq!(data["ticketsImported"], 0);
    let errors = data["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e
            .as_str()
            .unwrap()
            .contains("Email already exists (ada@acme.example)")),
        "{errors:?}"
    );
}

#[test]
fn overwrite_puts_edited_fields_back() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    let original = dump(&conn);
    edit_acme(&conn);

    let report = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(report["status"], "ok");
    assert_eq!(report["policy"], "overwrite");
    // Carol's profile and Bob's role were edited; the other records are as archived.
    assert_eq!(tally(&report, "users"), [0, 2, 0, 0]);
    assert_eq!(unchanged(&report, "users"), 3);
    assert_eq!(tally(&report, "customFields"), [0, 1, 0, 0]);
    assert_eq!(unchanged(&report, "customFields"), 3);
    assert_eq!(
        OUTCOME_SECTIONS.map(|s| unchanged(&report, s)),
        [3, 3, 5, 4, 4, 3]
    );
    // Overwriting again changes nothing: everything is unchanged.
    let again = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(
        OUTCOME_SECTIONS.map(|s| tally(&again, s)[1]),
        [0; 6],
        "{again:#}"
    );
    assert_eq!(
        OUTCOME_SECTIONS.map(|s| unchanged(&again, s)),
        [5, 4, 6, 5, 4, 3]
    );
    // History says so too.
    let shown = demo
        .acme()
        .args(["history", again["importId"].as_str().unwrap()])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("0 created, 0 updated, 5 unchanged, 0 skipped, 0 linked"),
        "{shown}"
    );

    let restored = dump(&conn);
    assert_eq!(
        restored.get("tickets", T1, "title"),
        original.get("tickets", T1, "title")
    );
    assert_eq!(
        restored.get("ticket_notes", NOTE_D1, "content"),
        original.get("ticket_notes", NOTE_D1, "content")
    );
    assert_eq!(
        restored.get("users", CAROL_ID, "first_name"),
        &text("Carol")
    );
    assert_eq!(
        restored.get("custom_fields", FIELD_SEATS, "label"),
        &text("Seats")
    );
    // Passwords of existing users are never touched.
    assert_eq!(
        restored.get("users", CAROL_ID, "password_hash"),
        original.get("users", CAROL_ID, "password_hash")
    );

    // Everything else as before the edits, JSON compared as values (overwritten rows are
    // rewritten from the archive), except what overwrite legitimately changes:
    let mut expected = original.without("data_import_logs");
    let mut actual = restored.without("data_import_logs");
    expected.canonical_json(|_, _| true);
    actual.canonical_json(|_, _| true);
    // - bob also belongs to Globex: his profile stays as edited (checked in its own test);
    expected.set("users", BOB_ID, "first_name", text("EDITED Bob"));
    // - his membership role went back to the archive's, which touched its updated_at;
    let bob = format!("{BOB_ID}|{}", ids::ACME);
    let touched = actual
        .get("user_company_associations", &bob, "updated_at")
        .clone();
    assert_ne!(
        &touched,
        original.get("user_company_associations", &bob, "updated_at")
    );
    expected.set("user_company_associations", &bob, "updated_at", touched);
    // Records with nobody as submitter, author, user or uploader (null in the tool's own
    // archive) keep nobody: nothing else differs.
    assert_same(&expected, &actual, "after the overwrite");
}

#[test]
fn overwrite_keeps_the_profile_of_a_user_of_another_company_but_sets_the_role() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    edit_acme(&conn);
    let globex_before = RecordIds::in_db(&conn, ids::GLOBEX);

    let report = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM users WHERE id = ?1 AND first_name = 'EDITED Bob'",
            [BOB_ID]
        ),
        1,
        "bob's profile is kept"
    );
    assert_eq!(
        strings(
            &conn,
            "SELECT role FROM user_company_associations WHERE user_id = ?1 AND company_id = ?2",
            [BOB_ID, ids::ACME]
        ),
        BTreeSet::from(["member".to_owned()]),
        "bob's Acme role follows the archive"
    );
    assert_eq!(
        strings(
            &conn,
            "SELECT role FROM user_company_associations WHERE user_id = ?1 AND company_id = ?2",
            [BOB_ID, ids::GLOBEX]
        ),
        BTreeSet::from(["member".to_owned()])
    );
    assert_eq!(RecordIds::in_db(&conn, ids::GLOBEX), globex_before);
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings
            .keys()
            .any(|w| w.contains("bob@acme.example") && w.contains("profile kept")),
        "{warnings:?}"
    );
}

#[test]
fn skip_duplicates_with_overwrite_is_a_usage_error() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let before = dump(&demo.conn());
    fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--overwrite"])
            .arg(&archive),
        2,
    );
    assert_same(&before, &dump(&demo.conn()), "after a usage error");
}

// ---------------------------------------------------------------------------------------
// Round trip and restore onto a new database

/// Records by id, section by section, for comparing two archives regardless of order.
fn records_by_id(archive: &Archive) -> BTreeMap<String, BTreeMap<String, Value>> {
    archive
        .sections
        .iter()
        .map(|(section, records)| {
            let by_id = records
                .iter()
                .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
                .collect();
            (section.clone(), by_id)
        })
        .collect()
}

/// Fails naming each record that differs, and the keys in which it does.
fn assert_same_records(
    expected: &BTreeMap<String, BTreeMap<String, Value>>,
    actual: &BTreeMap<String, BTreeMap<String, Value>>,
) {
    let diffs = differences(expected, actual, |record| {
        record
            .as_object()
            .expect("a record object")
            .iter()
            .map(|(key, value)| (key.clone(), value.to_string()))
            .collect()
    });
    assert!(
        diffs.is_empty(),
        "the records differ:\n  {}",
        diffs.join("\n  ")
    );
}

/// How many person references of an archive are null (nobody: a ticket without submitter,
/// a note whose author was deleted, a history entry or an attachment without a user).
fn null_people(archive: &Archive) -> usize {
    let tickets = archive.records("tickets").iter().map(|ticket| {
        let notes = ticket["notes"].as_array().unwrap();
        let history = ticket["history"].as_array().unwrap();
        usize::from(ticket["createdBy"].is_null())
            + notes.iter().filter(|n| n["author"].is_null()).count()
            + history.iter().filter(|h| h["user"].is_null()).count()
    });
    let uploads = archive
        .records("attachments")
        .iter()
        .filter(|a| a["uploadedBy"].is_null())
        .count();
    tickets.sum::<usize>() + uploads
}

/// Restores an archive onto a new `init`ed database as ada with `--create-company`;
/// returns the database and the `--json` report.
fn restore_onto_new_db(demo: &Demo, archive: &Path) -> (PathBuf, Value) {
    let new_db = init_db(demo.dir.path(), "restored.db");
    let report = json_ok(
        cmd(&new_db)
            .args(["--actor", ids::ACME_ADMIN, "--json", "import"])
            .arg("--create-company")
            .arg(archive),
    );
    assert_eq!(report["status"], "ok");
    assert_eq!(report["companyCreated"], true);
    (new_db, report)
}

fn round_trip(name: &str) {
    let demo = Demo::new();
    let first_path = demo.export_acme(name);
    let first = Archive::read(&first_path);
    let (new_db, _) = restore_onto_new_db(&demo, &first_path);

    let second_path = demo.dir.path().join(format!("again-{name}"));
    cmd(&new_db)
        .args(AS_ACME_ADMIN)
        .args(["export", "-o"])
        .arg(&second_path)
        .assert()
        .success();
    let second = Archive::read(&second_path);

    // The demo keeps references to nobody on purpose: they must survive as nobody.
    assert!(null_people(&first) >= 4, "the demo has null people");
    assert_same_records(&records_by_id(&first), &records_by_id(&second));
    assert_eq!(second.manifest["counts"], first.manifest["counts"]);
    assert_eq!(second.manifest["companyId"], first.manifest["companyId"]);
    assert_eq!(
        second.manifest["companyName"],
        first.manifest["companyName"]
    );
}

#[test]
fn round_trip_through_an_empty_database_keeps_every_record_zip() {
    round_trip("acme.zip");
}

#[test]
fn round_trip_through_an_empty_database_keeps_every_record_json() {
    round_trip("acme.json");
}

#[test]
fn restore_onto_a_new_database_creates_the_company_and_its_records() {
    let demo = Demo::new();
    let archive_path = demo.export_acme("acme.zip");
    let archive = Archive::read(&archive_path);
    let (new_db, report) = restore_onto_new_db(&demo, &archive_path);
    assert_eq!(report["passwordResetRequired"], 5);
    let conn = open_db(&new_db);
    assert_eq!(
        strings(&conn, "SELECT id || ' ' || name FROM companies", []),
        BTreeSet::from([format!("{} Acme Corp", ids::ACME)])
    );
    // The company row as it was: domain, description, flags and times.
    assert_eq!(
        dump(&conn).row("companies", ids::ACME),
        dump(&demo.conn()).row("companies", ids::ACME)
    );
    // Every record with its archive id (all free in a new database): nothing mapped.
    assert_eq!(
        RecordIds::in_db(&conn, ids::ACME),
        RecordIds::in_archive(&archive)
    );
    assert_eq!(count_rows(&conn, "bomizzel_backup_id_map"), 0);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM users WHERE password_hash IS NOT NULL",
            []
        ),
        0,
        "restored users must set a password"
    );
    let logs = import_logs(&conn);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].0, ids::ACME);
    assert_eq!(logs[0].1.as_deref(), Some(ADA_ID));
    assert_eq!(logs[0].2["companyCreated"], true);
}

#[test]
fn create_company_needs_an_active_admin_among_the_archive_users() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let new_db = init_db(demo.dir.path(), "new.db");
    let before = dump(&open_db(&new_db));
    for actor in [
        ids::ACME_CUSTOMER,
        ids::INACTIVE_ADMIN,
        "nobody@acme.example",
    ] {
        let stderr = fails_with(
            cmd(&new_db)
                .args(["--actor", actor, "import", "--create-company"])
                .arg(&archive),
            5,
        );
        assert!(stderr.contains("Permission denied"), "{actor}: {stderr}");
    }
    assert_same(&before, &dump(&open_db(&new_db)), "after refused restores");
}

#[test]
fn without_create_company_a_missing_company_exits_6_listing_the_choices() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let new_db = init_db(demo.dir.path(), "new.db");
    let conn = open_db(&new_db);
    conn.execute(
        "INSERT INTO companies (id, name, is_active, created_at, updated_at)
         VALUES (?1, 'Initech', 1, '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')",
        [INITECH],
    )
    .unwrap();
    let before = dump(&conn);
    let stderr = fails_with(
        cmd(&new_db)
            .args(["--actor", ids::ACME_ADMIN, "import", "--skip-duplicates"])
            .arg(&archive),
        6,
    );
    assert!(stderr.contains("Acme Corp"), "{stderr}");
    assert!(stderr.contains(&format!("Initech ({INITECH})")), "{stderr}");
    assert!(stderr.contains("--create-company"), "{stderr}");
    assert_same(&before, &dump(&conn), "after the refusal");
}

// ---------------------------------------------------------------------------------------
// Files written by the Bomizzel web app (SPEC 3.3)

fn one_id(conn: &Connection, sql: &str, param: &str) -> String {
    let found = strings(conn, sql, [param]);
    assert_eq!(found.len(), 1, "{sql} ({param}): {found:?}");
    found.into_iter().next().unwrap()
}

/// A file the web app's own exporter wrote (`fixtures/archives/webapp/`, see its README).
fn web_app_file(name: &str) -> PathBuf {
    fixture(&format!("webapp/{name}"))
}

/// The web app's files, each showing one of its quirks by itself, and their admins.
pub(crate) const WEB_APP_FILES: [(&str, &str); 8] = [
    ("webapp-full", "olivia@full.example"),
    ("webapp-owner", "oscar@owner.example"),
    ("webapp-priority", "priya@priority.example"),
    ("webapp-user-role", "uma@userrole.example"),
    ("webapp-null-booleans", "nora@nullbool.example"),
    ("webapp-case-twins", "tina@twins.example"),
    ("webapp-no-field-type", "nick@nofieldtype.example"),
    ("webapp-real-schema-users-only", "olivia@full.example"),
];

/// A new database with one web app file restored into it (`--create-company`, as its
/// admin): the temporary directory, the database and the import's JSON report.
fn restore_web_app(file: &Path, admin: &str) -> (tempfile::TempDir, PathBuf, Value) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restored.db");
    cmd(&db).arg("init").assert().success();
    let report = json_ok(
        cmd(&db)
            .args(["--actor", admin, "--json", "import", "--create-company"])
            .arg(file),
    );
    (dir, db, report)
}

/// Each of the web app's files restores in both containers; the report's warnings say
/// exactly what was translated.
fn restore_each_container(name: &str, admin: &str, warnings: Value) -> Vec<Restored> {
    ["json", "zip"]
        .map(|ext| {
            let (dir, db, report) = restore_web_app(&web_app_file(&format!("{name}.{ext}")), admin);
            assert_eq!(report["status"], "ok", "{name}.{ext}");
            assert_eq!(report["companyCreated"], true, "{name}.{ext}");
            assert_eq!(report["warnings"], warnings, "{name}.{ext}");
            (dir, db, report)
        })
        .into()
}

/// A restored database in its temporary directory, and the import's report.
type Restored = (tempfile::TempDir, PathBuf, Value);

const OWNER_WARNING: &str =
    "company role \"owner\" (the company's creator): imported as an admin membership";
const SCALE_WARNING: &str = "ticket priority on the web app's 0-100 scale: 80 and above taken as high, 60-79 as medium, below 60 as low";

#[test]
fn the_web_apps_full_export_restores_onto_a_new_database() {
    for (_dir, db, report) in restore_each_container(
        "webapp-full",
        "olivia@full.example",
        json!({ OWNER_WARNING: 1, SCALE_WARNING: 4 }),
    ) {
        assert_eq!(
            OUTCOME_SECTIONS.map(|s| tally(&report, s)),
            [
                [4, 0, 0, 0],
                [3, 0, 0, 0],
                [4, 0, 0, 0],
                [4, 0, 0, 0],
                [0, 0, 0, 0],
                [2, 0, 0, 0]
            ]
        );
        assert_eq!(report["passwordResetRequired"], 4);
        let conn = open_db(&db);
        let rows = dump(&conn);
        let company = "c0000000-0000-4000-8000-000000000001";
        assert_eq!(
            rows.get("companies", company, "name"),
            &text("Webapp Full Co")
        );
        // The owner is an admin member; nobody has a password.
        let roles = pairs(
            &conn,
            "SELECT u.email, a.role FROM users u JOIN user_company_associations a ON a.user_id = u.id",
            [],
        );
        assert_eq!(
            roles,
            BTreeMap::from([
                ("adam@full.example".to_owned(), "admin".to_owned()),
                ("carl@full.example".to_owned(), "member".to_owned()),
                ("mia@full.example".to_owned(), "member".to_owned()),
                ("olivia@full.example".to_owned(), "admin".to_owned()),
            ])
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM users WHERE password_hash IS NULL",
                []
            ),
            4
        );
        // Priorities 0, 20, 50 are low and 80 high; the unassigned ticket stays unassigned.
        let priorities = pairs(&conn, "SELECT title, priority FROM tickets", []);
        assert_eq!(priorities["Password reset"], "low");
        assert_eq!(priorities["New laptop"], "low");
        assert_eq!(priorities["Printer jammed"], "low");
        assert_eq!(priorities["VPN drops"], "high");
        let laptop = "b0000001-0000-4000-8000-000000000003";
        assert_eq!(rows.get("tickets", laptop, "assigned_to_id"), &Sql::Null);
        assert_eq!(rows.get("tickets", laptop, "category"), &Sql::Null);
        // Values re-keyed by field id; a field without label or updatedAt takes its name
        // and createdAt; a note without updatedAt its createdAt.
        let jammed = "b0000001-0000-4000-8000-000000000001";
        assert_eq!(
            json_cell(rows.get("tickets", jammed, "custom_field_values")),
            json!({
                "f0000001-0000-4000-8000-000000000001": "High",
                "f0000001-0000-4000-8000-000000000002": 3,
                "f0000001-0000-4000-8000-000000000003": "PO-1"
            })
        );
        let severity = "f0000001-0000-4000-8000-000000000001";
        assert_eq!(
            rows.get("custom_fields", severity, "label"),
            &text("severity")
        );
        assert_eq!(
            rows.get("custom_fields", severity, "type"),
            &text("picklist")
        );
        assert_eq!(
            rows.get("custom_fields", severity, "updated_at"),
            rows.get("custom_fields", severity, "created_at")
        );
        let note = "d0000001-0000-4000-8000-000000000002";
        assert_eq!(
            rows.get("ticket_notes", note, "is_internal"),
            &Sql::Integer(1)
        );
        assert_eq!(
            rows.get("ticket_notes", note, "updated_at"),
            rows.get("ticket_notes", note, "created_at")
        );
        // An attachment without originalName takes its fileName.
        let jam = "e0000001-0000-4000-8000-000000000001";
        assert_eq!(
            rows.get("file_attachments", jam, "original_name"),
            &text("1706778300000-jam.jpg")
        );
        // The same file again changes nothing.
        let again = json_ok(
            cmd(&db)
                .args([
                    "--actor",
                    "olivia@full.example",
                    "--json",
                    "import",
                    "--skip-duplicates",
                ])
                .arg(web_app_file("webapp-full.json")),
        );
        assert_eq!(
            OUTCOME_SECTIONS.map(|s| tally(&again, s)[0] + tally(&again, s)[1]),
            [0; 6]
        );
    }
}

#[test]
fn the_web_apps_owner_is_an_admin_who_may_restore_the_company() {
    for (_dir, db, _) in restore_each_container(
        "webapp-owner",
        "oscar@owner.example",
        json!({ OWNER_WARNING: 1 }),
    ) {
        let conn = open_db(&db);
        assert_eq!(
            strings(&conn, "SELECT role FROM user_company_associations", []),
            BTreeSet::from(["admin".to_owned()])
        );
    }
}

#[test]
fn the_web_apps_priority_scale_maps_to_its_bands_and_null_is_medium() {
    for (_dir, db, _) in restore_each_container(
        "webapp-priority",
        "priya@priority.example",
        json!({
            SCALE_WARNING: 6,
            "ticket without a priority: taken as medium, the web app's default": 1
        }),
    ) {
        let by_id = pairs(
            &open_db(&db),
            "SELECT substr(id, -2), priority FROM tickets",
            [],
        );
        // 10, 59, 60, 79, 80, 100 and null, in the seeded order.
        let expected = [
            ("01", "low"),
            ("02", "low"),
            ("03", "medium"),
            ("04", "medium"),
            ("05", "high"),
            ("06", "high"),
            ("07", "medium"),
        ];
        assert_eq!(
            by_id,
            expected
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        );
    }
}

#[test]
fn the_web_apps_user_role_is_a_customer() {
    for (_dir, db, _) in restore_each_container(
        "webapp-user-role",
        "uma@userrole.example",
        json!({ "user role \"user\" (written by the web app's importer): taken as customer": 1 }),
    ) {
        let roles = pairs(&open_db(&db), "SELECT email, role FROM users", []);
        assert_eq!(roles["ulrich@userrole.example"], "customer");
        assert_eq!(roles["uma@userrole.example"], "admin");
    }
}

#[test]
fn the_web_apps_null_flags_take_the_columns_defaults() {
    for (_dir, db, _) in restore_each_container(
        "webapp-null-booleans",
        "nora@nullbool.example",
        json!({
            "custom field isActive null: taken as active": 1,
            "custom field isRequired null: taken as not required": 1,
            "note isInternal null: taken as not internal": 1,
            "user emailVerified null: taken as not verified": 1,
            "user isActive null: taken as active": 1,
            SCALE_WARNING: 1
        }),
    ) {
        let conn = open_db(&db);
        let flags = |sql: &str| count(&conn, sql, []);
        assert_eq!(
            flags(
                "SELECT is_active * 10 + email_verified FROM users WHERE email = 'nell@nullbool.example'"
            ),
            10
        );
        assert_eq!(
            flags("SELECT is_active * 10 + is_required FROM custom_fields WHERE name = 'site'"),
            10
        );
        assert_eq!(flags("SELECT is_internal FROM ticket_notes"), 0);
    }
}

#[test]
fn the_web_apps_case_twins_are_one_user() {
    let twins = "users Sam@twins.example and sam@twins.example: emails that differ only in case are one user; the first record imported, references to either resolve to it";
    for (_dir, db, report) in restore_each_container(
        "webapp-case-twins",
        "tina@twins.example",
        json!({ twins: 1, SCALE_WARNING: 1 }),
    ) {
        assert_eq!(tally(&report, "users"), [2, 0, 0, 0]);
        let conn = open_db(&db);
        let sam = one_id(
            &conn,
            "SELECT id FROM users WHERE email = ?1",
            "Sam@twins.example",
        );
        assert_eq!(sam, "a0000006-0000-4000-8000-000000000002");
        assert_eq!(count_rows(&conn, "users"), 2);
        // The ticket and its note name the lower-case twin: both are the first record's user.
        assert_eq!(
            strings(&conn, "SELECT submitter_id FROM tickets", []),
            BTreeSet::from([sam.clone()])
        );
        assert_eq!(
            strings(&conn, "SELECT author_id FROM ticket_notes", []),
            BTreeSet::from([sam])
        );
    }
}

#[test]
fn the_web_apps_fields_without_a_type_keep_their_numbers() {
    for (_dir, db, _) in restore_each_container(
        "webapp-no-field-type",
        "nick@nofieldtype.example",
        json!({
            "custom field seats: no type in the archive; imported as string, its values as they are": 1,
            "custom field weight: no type in the archive; imported as string, its values as they are": 1,
            SCALE_WARNING: 1
        }),
    ) {
        let conn = open_db(&db);
        assert_eq!(
            strings(&conn, "SELECT type FROM custom_fields", []),
            BTreeSet::from(["string".to_owned()])
        );
        let values: String = conn
            .query_row("SELECT custom_field_values FROM tickets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&values).unwrap(),
            json!({
                "f0000007-0000-4000-8000-000000000001": 12,
                "f0000007-0000-4000-8000-000000000002": 2.5
            })
        );
    }
}

#[test]
fn the_web_apps_users_only_export_restores_its_users() {
    for (_dir, db, report) in restore_each_container(
        "webapp-real-schema-users-only",
        "olivia@full.example",
        json!({ OWNER_WARNING: 1 }),
    ) {
        assert_eq!(tally(&report, "users"), [4, 0, 0, 0]);
        assert_eq!(count_rows(&open_db(&db), "tickets"), 0);
    }
}

#[test]
fn web_app_files_validate_without_a_database_and_name_their_quirks() {
    let demo = Demo::new();
    let nowhere = demo.dir.path().join("none.db");
    for (name, _) in WEB_APP_FILES {
        for ext in ["json", "zip"] {
            let report = json_ok(
                cmd(&nowhere)
                    .args(["--json", "import", "--validate-only"])
                    .arg(web_app_file(&format!("{name}.{ext}"))),
            );
            assert_eq!(report["valid"], true, "{name}.{ext}");
            assert!(
                report["source"]["companyName"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("Webapp")),
                "{name}.{ext}: {report}"
            );
        }
    }
    let report = json_ok(
        cmd(&nowhere)
            .args(["--json", "import", "--validate-only"])
            .arg(web_app_file("webapp-full.zip")),
    );
    assert_eq!(
        report["counts"],
        json!({"users": 4, "customFields": 3, "tickets": 4, "notes": 4, "history": 0, "attachments": 2})
    );
    assert_eq!(
        report["warnings"],
        json!({ OWNER_WARNING: 1, SCALE_WARNING: 4 })
    );
    assert!(!nowhere.exists());
}

#[test]
fn a_web_app_file_into_an_existing_company_falls_back_where_people_are_missing() {
    // The full export names Acme's id: it goes into Acme Corp, whose members it lacks.
    let demo = Demo::new();
    let conn = demo.conn();
    let before = count_rows(&conn, "users");
    let report = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates"],
        &web_app_file("webapp-full.json"),
    ));
    assert_eq!(tally(&report, "users"), [4, 0, 0, 0]);
    assert_eq!(count_rows(&conn, "users"), before + 4);
    // No warning for the unassigned ticket: the web app's null assignee is nobody.
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().all(|w| !w.contains("assignee")),
        "{warnings:?}"
    );
    let laptop = "b0000001-0000-4000-8000-000000000003";
    assert_eq!(
        dump(&conn).get("tickets", laptop, "assigned_to_id"),
        &Sql::Null
    );
}

// ---------------------------------------------------------------------------------------
// Corrupt input: exit 3, nothing changed

/// Imports a damaged file as Acme's admin and expects exit 3 with every `needle` in the
/// message, no change to any table but the log (where only a failed run may appear), and
/// the same verdict from `--validate-only` without a database.
fn assert_rejected(demo: &Demo, file: &Path, needles: &[&str]) {
    let conn = demo.conn();
    let before = dump(&conn);
    let stderr = fails_with(
        demo.acme().args(["import", "--skip-duplicates"]).arg(file),
        3,
    );
    assert!(stderr.contains("Invalid import data"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "no {needle:?} in {stderr}");
    }
    assert_only_the_log_changed(&before, &conn, "after a rejected archive");
    assert!(
        statuses(&conn).iter().all(|s| s == "failed"),
        "{:?}",
        statuses(&conn)
    );

    let nowhere = demo.dir.path().join("none.db");
    let stderr = fails_with(
        cmd(&nowhere).args(["import", "--validate-only"]).arg(file),
        3,
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "validate-only: no {needle:?} in {stderr}"
        );
    }
    assert!(!nowhere.exists());
}

/// Rewrites a zip archive with `edit` applied to its entries, in the writer's order
/// (sections first, manifest last), deflated.
fn rewrite_zip(bytes: &[u8], edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> Vec<u8> {
    let mut entries = zip_entries(bytes);
    edit(&mut entries);
    zip_in_order(&entries)
}

/// Where an entry's compressed bytes lie in the zip file.
fn compressed_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let entry = zip.by_name(name).unwrap();
    let header = entry.header_start() as usize;
    let size = entry.compressed_size() as usize;
    assert_eq!(&bytes[header..header + 4], b"PK\x03\x04");
    let name_len = u16::from_le_bytes([bytes[header + 26], bytes[header + 27]]) as usize;
    let extra_len = u16::from_le_bytes([bytes[header + 28], bytes[header + 29]]) as usize;
    let start = header + 30 + name_len + extra_len;
    start..start + size
}

#[test]
fn a_flipped_byte_in_a_zip_entry_exits_3() {
    let demo = Demo::new();
    let mut bytes = fs::read(demo.export_acme("acme.zip")).unwrap();
    let range = compressed_range(&bytes, "tickets.json");
    bytes[range.start + range.len() / 2] ^= 0x10;
    let damaged = demo.out_path("flipped.zip");
    fs::write(&damaged, &bytes).unwrap();
    assert_rejected(&demo, &damaged, &["tickets.json"]);
}

#[test]
fn a_truncated_zip_exits_3() {
    let demo = Demo::new();
    let bytes = fs::read(demo.export_acme("acme.zip")).unwrap();
    let damaged = demo.out_path("truncated.zip");
    fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    assert_rejected(&demo, &damaged, &["zip"]);
}

/// The demo's json archive with one edit to its document.
fn edited_json_archive(demo: &Demo, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut document = json(&fs::read(demo.export_acme("acme.json")).unwrap());
    edit(&mut document);
    let path = demo.out_path(name);
    fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    path
}

#[test]
fn a_refused_ticket_is_the_reported_cause_not_its_attachments() {
    // The first ticket with an attachment gets a priority no scale knows.
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "cause.json", |doc| {
        let with_file = doc["data"]["attachments"][0]["ticketId"].clone();
        let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
        let ticket = tickets.iter_mut().find(|t| t["id"] == with_file).unwrap();
        ticket["priority"] = json!("mega");
    });
    let index = json(&fs::read(&damaged).unwrap())["data"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["priority"] == "mega")
        .unwrap();
    let place = format!("tickets[{index}].priority");
    // Into the company that has the records, into a new one, and the file alone.
    let new_db = init_db(demo.dir.path(), "new.db");
    for (stderr, what) in [
        (
            fails_with(
                demo.acme()
                    .args(["import", "--skip-duplicates"])
                    .arg(&damaged),
                3,
            ),
            "existing company",
        ),
        (
            fails_with(
                cmd(&new_db)
                    .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
                    .arg(&damaged),
                3,
            ),
            "new company",
        ),
        (
            fails_with(
                cmd(&demo.dir.path().join("none.db"))
                    .args(["import", "--validate-only"])
                    .arg(&damaged),
                3,
            ),
            "file alone",
        ),
    ] {
        assert!(stderr.contains(&place), "{what}: {stderr}");
        assert!(!stderr.contains("attachment"), "{what}: {stderr}");
    }
    assert_eq!(count_rows(&open_db(&new_db), "companies"), 0);
}

#[test]
fn a_broken_admin_record_is_an_invalid_archive_not_a_permission_problem() {
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "admin.json", |doc| {
        let users = doc["data"]["users"].as_array_mut().unwrap();
        let ada = users
            .iter_mut()
            .find(|u| u["email"] == ids::ACME_ADMIN)
            .unwrap();
        ada["isActive"] = json!("yes");
    });
    let new_db = init_db(demo.dir.path(), "new.db");
    let stderr = fails_with(
        cmd(&new_db)
            .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
            .arg(&damaged),
        3,
    );
    assert!(stderr.contains(".isActive"), "{stderr}");
    assert!(!stderr.contains("Permission denied"), "{stderr}");
    assert_eq!(count_rows(&open_db(&new_db), "companies"), 0);
}

#[test]
fn an_unknown_priority_is_refused_with_its_place() {
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "mega.json", |doc| {
        doc["data"]["tickets"][0]["priority"] = json!("mega");
    });
    assert_rejected(&demo, &damaged, &["tickets[0].priority", "mega"]);
}

#[test]
fn a_number_as_ticket_title_is_refused_with_its_place() {
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "title.json", |doc| {
        doc["data"]["tickets"][0]["title"] = json!(42);
    });
    assert_rejected(&demo, &damaged, &["tickets[0].title"]);
}

#[test]
fn a_custom_field_value_of_the_wrong_type_is_kept_and_its_place_named() {
    let demo = Demo::new();
    let mut place = String::new();
    let damaged = edited_json_archive(&demo, "seats.json", |doc| {
        let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
        let index = tickets
            .iter()
            .position(|t| t["customFields"].get("seats").is_some())
            .unwrap();
        tickets[index]["customFields"]["seats"] = json!("abc");
        place = format!("tickets[{index}].customFields.seats");
    });
    let report = json_ok(
        cmd(&demo.dir.path().join("none.db"))
            .args(["--json", "import", "--validate-only"])
            .arg(&damaged),
    );
    assert_eq!(report["valid"], true);
    assert_eq!(
        report["warnings"],
        json!({
            format!("custom field seats: values its definition does not allow, kept as they are (first: {place}: expected integer, got \"abc\")"): 1
        })
    );
    let restored = demo.dir.path().join("restored.db");
    cmd(&restored).arg("init").assert().success();
    cmd(&restored)
        .args([
            "--actor",
            ids::ACME_ADMIN,
            "-q",
            "import",
            "--create-company",
        ])
        .arg(&damaged)
        .assert()
        .success();
    assert_eq!(
        count(
            &open_db(&restored),
            "SELECT count(*) FROM tickets WHERE json_extract(custom_field_values, ?1) = 'abc'",
            [format!("$.\"{FIELD_SEATS}\"")]
        ),
        1
    );
}

#[test]
fn an_entry_changed_behind_the_manifest_fails_its_checksum() {
    let demo = Demo::new();
    let bytes = fs::read(demo.export_acme("acme.zip")).unwrap();
    let tampered = rewrite_zip(&bytes, |entries| {
        let tickets = entries.get_mut("tickets.json").unwrap();
        let text = String::from_utf8(tickets.clone()).unwrap();
        // Same length, so only the checksum can tell.
        let edited = text.replacen("Cannot log in", "Cannot log on", 1);
        assert_ne!(edited, text);
        *tickets = edited.into_bytes();
    });
    let damaged = demo.out_path("tampered.zip");
    fs::write(&damaged, tampered).unwrap();
    assert_rejected(&demo, &damaged, &["tickets.json", "checksum"]);
}

#[test]
fn a_newer_format_version_names_both_versions() {
    let demo = Demo::new();
    let bytes = fs::read(demo.export_acme("acme.zip")).unwrap();
    let newer = rewrite_zip(&bytes, |entries| {
        let mut manifest = json(&entries["manifest.json"]);
        manifest["formatVersion"] = json!(2);
        entries.insert(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        );
    });
    let damaged = demo.out_path("v2.zip");
    fs::write(&damaged, newer).unwrap();
    assert_rejected(&demo, &damaged, &["format version 2", "version 1"]);
}

// ---------------------------------------------------------------------------------------
// Who, what and where

#[test]
fn a_non_admin_actor_exits_5_and_changes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let before = dump(&demo.conn());
    for actor in [ids::ACME_CUSTOMER, ids::INACTIVE_ADMIN, ids::GLOBEX_ADMIN] {
        let stderr = fails_with(
            demo.cmd()
                .args(["--company", "Acme Corp", "--actor", actor])
                .args(["import", "--skip-duplicates"])
                .arg(&archive),
            5,
        );
        assert!(stderr.contains("Permission denied"), "{actor}: {stderr}");
    }
    let after = dump(&demo.conn());
    assert_same(
        &before.without("data_import_logs"),
        &after.without("data_import_logs"),
        "after refused imports",
    );
    // Each refusal is on the record, as a failed import of Acme.
    let conn = demo.conn();
    let refusals = strings(
        &conn,
        "SELECT imported_data FROM data_import_logs WHERE company_id = ?1",
        [ids::ACME],
    );
    assert_eq!(refusals.len(), 3);
    for detail in refusals {
        let detail: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["status"], "failed");
        assert!(
            detail["error"]
                .as_str()
                .unwrap()
                .contains("Permission denied")
        );
    }
}

#[test]
fn a_missing_archive_exits_6() {
    let demo = Demo::new();
    let missing = demo.out_path("no-such.zip");
    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates"])
            .arg(&missing),
        6,
    );
    assert!(stderr.contains("no-such.zip"), "{stderr}");
    let nowhere = demo.dir.path().join("none.db");
    fails_with(
        cmd(&nowhere)
            .args(["import", "--validate-only"])
            .arg(&missing),
        6,
    );
    // The failed attempt on Acme is logged with its cause; the run without a database
    // has no log to write.
    let conn = demo.conn();
    let logged = strings(&conn, "SELECT imported_data FROM data_import_logs", []);
    assert_eq!(logged.len(), 1);
    let detail: Value = serde_json::from_str(logged.iter().next().unwrap()).unwrap();
    assert_eq!(detail["status"], "failed");
    assert!(detail["error"].as_str().unwrap().contains("no-such.zip"));
    assert!(!nowhere.exists());
}

#[test]
fn an_unknown_company_exits_6() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let before = dump(&demo.conn());
    let stderr = fails_with(
        demo.cmd()
            .args(["--company", "Umbrella", "--actor", ids::ACME_ADMIN])
            .args(["import", "--skip-duplicates"])
            .arg(&archive),
        6,
    );
    assert!(stderr.contains("Umbrella"), "{stderr}");
    assert!(stderr.contains("Acme Corp"), "the choices: {stderr}");
    assert_same(&before, &dump(&demo.conn()), "after an unknown company");
}

// ---------------------------------------------------------------------------------------
// The import log

#[test]
fn every_run_writes_one_import_log_row_with_the_web_app_keys() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    delete_tickets_and_carol(&conn);

    let validated = json_ok(&mut acme_import(
        &demo,
        &["--validate-only", "--skip-duplicates"],
        &archive,
    ));
    fails_with(demo.acme().args(["import"]).arg(&archive), 4);
    let done = json_ok(&mut acme_import(&demo, &["--skip-duplicates"], &archive));

    let logs = import_logs(&conn);
    assert_eq!(logs.len(), 3, "one row per run");
    for (company, user, data) in &logs {
        assert_eq!(company, ids::ACME);
        assert_eq!(user.as_deref(), Some(ADA_ID));
        for key in WEB_APP_LOG_KEYS {
            assert!(data.get(key).is_some(), "no {key} in {data:#}");
        }
        assert!(data["errors"].is_array());
    }
    let [validated_log, failed_log, ok_log] = [&logs[0].2, &logs[1].2, &logs[2].2];
    assert_eq!(validated_log["status"], "validated");
    assert_eq!(failed_log["status"], "failed");
    assert_eq!(ok_log["status"], "ok");

    // The counts are the plan's: users created + linked + updated, and so on.
    for (log, report) in [(validated_log, &validated), (ok_log, &done)] {
        let users = tally(report, "users");
        let tickets = tally(report, "tickets");
        let fields = tally(report, "customFields");
        assert_eq!(log["usersImported"], users[0] + users[1] + users[3]);
        assert_eq!(log["usersSkipped"], users[2]);
        assert_eq!(log["ticketsImported"], tickets[0] + tickets[1]);
        assert_eq!(log["ticketsSkipped"], tickets[2]);
        assert_eq!(log["customFieldsImported"], fields[0] + fields[1]);
        assert_eq!(log["errors"], json!([]));
    }
    assert_eq!(ok_log["usersImported"], 1);
    assert_eq!(ok_log["ticketsImported"], 2);
    assert_eq!(ok_log["ticketsSkipped"], 4);
    assert!(!failed_log["errors"].as_array().unwrap().is_empty());
    assert_eq!(failed_log["ticketsImported"], 0);
    // The log row's import id is the one the report gave.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM data_import_logs WHERE import_id = ?1",
            [done["importId"].as_str().unwrap()]
        ),
        1
    );
}

// ---------------------------------------------------------------------------------------
// stdin

#[test]
fn dash_reads_the_archive_from_stdin() {
    let demo = Demo::new();
    for name in ["acme.zip", "acme.json"] {
        let bytes = fs::read(demo.export_acme(name)).unwrap();
        let conn = demo.conn();
        conn.execute("DELETE FROM tickets WHERE id = ?1", [T1])
            .unwrap();

        let nowhere = demo.dir.path().join("none.db");
        let checked = json_ok(
            cmd(&nowhere)
                .args(["--json", "import", "--validate-only", "-"])
                .write_stdin(bytes.clone()),
        );
        assert_eq!(checked["valid"], true);
        assert_eq!(checked["source"]["file"], "-");
        assert!(!nowhere.exists());

        let report = json_ok(
            demo.acme()
                .args(["--json", "import", "--skip-duplicates", "-"])
                .write_stdin(bytes),
        );
        assert_eq!(report["source"]["file"], "-");
        assert_eq!(tally(&report, "tickets"), [1, 0, 5, 0], "{name}");
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM ticket_notes WHERE ticket_id = ?1",
                [T1]
            ),
            2,
            "{name}: the ticket is back with its notes"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Report shapes

#[test]
fn json_import_report_shape() {
    let demo = Demo::new();
    let mut report = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates"],
        &web_app_file("webapp-full.json"),
    ));
    redact(&mut report, &["importId", "exportId", "exportedAt", "file"]);
    insta::assert_json_snapshot!("json_import_report", report);
}

#[test]
fn json_validate_file_report_shape() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let mut report = json_ok(
        cmd(&demo.dir.path().join("none.db"))
            .args(["--json", "import", "--validate-only"])
            .arg(&archive),
    );
    redact(&mut report, &["importId", "exportId", "exportedAt", "file"]);
    insta::assert_json_snapshot!("json_validate_file_report", report);
}

// ---------------------------------------------------------------------------------------
// What another company's archive may not do

/// Globex gets a `seats` field of its own, a string, with a value no integer field takes.
fn globex_with_text_seats(demo: &Demo) -> PathBuf {
    let conn = demo.conn();
    conn.execute_batch(
        "INSERT INTO custom_fields (id, company_id, name, label, type, is_required, options,
                validation, display_order, is_active, created_at, updated_at)
         VALUES ('f0000000-0000-4000-8000-0000000000g1', 'c0000000-0000-4000-8000-000000000002',
                 'seats', 'Seats', 'string', 0, NULL, NULL, 2, 1,
                 '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
         UPDATE tickets SET custom_field_values =
                '{\"f0000000-0000-4000-8000-0000000000g1\":\"many\"}'
         WHERE id = 'b0000000-0000-4000-8000-000000000102';",
    )
    .unwrap();
    let path = demo.out_path("globex.zip");
    demo.cmd()
        .args([
            "--company",
            "Globex \"Zürich\" & Co",
            "--actor",
            ids::GLOBEX_ADMIN,
        ])
        .args(["export", "-o"])
        .arg(&path)
        .assert()
        .success();
    path
}

#[test]
fn a_value_that_does_not_fit_the_targets_field_is_kept_with_a_warning() {
    let demo = Demo::new();
    let archive = globex_with_text_seats(&demo);
    let report = json_ok(&mut acme_import(&demo, &["--skip-duplicates"], &archive));
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().any(|w| w.starts_with(
            "ticket custom field seats: values that Acme Corp's field does not allow, kept as they are (first: ticket b0000000-0000-4000-8000-000000000102: expected integer, got \"many\")"
        )),
        "{warnings:?}"
    );
    // Acme's copy of the laptop ticket keeps the value, under Acme's integer `seats` field.
    let conn = demo.conn();
    let values = strings(
        &conn,
        "SELECT custom_field_values FROM tickets
         WHERE company_id = ?1 AND title = 'Globex: new laptop'",
        [ids::ACME],
    );
    assert_eq!(values.len(), 1);
    let values: Value = serde_json::from_str(values.iter().next().unwrap()).unwrap();
    assert_eq!(values[FIELD_SEATS], "many", "{values}");
    // Acme's next export is still a valid archive, which says what it keeps.
    let again = demo.export_acme("again.zip");
    cmd(&demo.dir.path().join("none.db"))
        .args(["import", "--validate-only"])
        .arg(&again)
        .assert()
        .success();
}

#[test]
fn an_overwrite_never_demotes_the_importing_admin() {
    let demo = Demo::new();
    let conn = demo.conn();
    // ada is a plain member of Globex, so Globex's archive says "member" for her.
    conn.execute(
        "INSERT INTO user_company_associations VALUES (?1, ?2, 'member', ?3, ?3)",
        [ids::ADA_ID, ids::GLOBEX, "2026-01-01T00:00:00.000Z"],
    )
    .unwrap();
    let archive = demo.out_path("globex.zip");
    demo.cmd()
        .args(["--company", ids::GLOBEX, "--actor", ids::GLOBEX_ADMIN])
        .args(["export", "-o"])
        .arg(&archive)
        .assert()
        .success();
    let report = json_ok(&mut acme_import(&demo, &["--overwrite", "--yes"], &archive));
    assert_eq!(
        strings(
            &conn,
            "SELECT role FROM user_company_associations WHERE user_id = ?1 AND company_id = ?2",
            [ids::ADA_ID, ids::ACME]
        ),
        BTreeSet::from(["admin".to_owned()]),
        "ada lost her admin rights to her own import"
    );
    let warnings = report["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().any(|w| w.contains("ada@acme.example")),
        "{warnings:?}"
    );
}

#[test]
fn emails_that_differ_beyond_ascii_case_are_two_users() {
    // SQLite's NOCASE folds ASCII only, so the database can hold both; so may an archive.
    let demo = Demo::new();
    let path = demo.export_acme("acme.json");
    let mut document: Value = json(&fs::read(&path).unwrap());
    let users = document["data"]["users"].as_array_mut().unwrap();
    let template = users[0].clone();
    for (id, email) in [
        ("u-eva-1", "Éva@acme.example"),
        ("u-eva-2", "éva@acme.example"),
    ] {
        let mut user = template.clone();
        user["id"] = json!(id);
        user["email"] = json!(email);
        users.push(user);
    }
    let count = users.len();
    document["exportInfo"]["counts"]["users"] = json!(count);
    fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
    cmd(&demo.dir.path().join("none.db"))
        .args(["import", "--validate-only"])
        .arg(&path)
        .assert()
        .success();
}

// ---------------------------------------------------------------------------------------
// Repeated records: the validator (with a database to plan against, or none) and the
// database itself (an import into an empty company) both refuse them

/// Acme's json archive with `edit` applied to its document, counts kept honest.
pub(crate) fn edited_acme_json(demo: &Demo, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let path = demo.export_acme("edited.json");
    let mut document: Value = json(&fs::read(&path).unwrap());
    edit(&mut document);
    let data = &document["data"];
    let tickets = data["tickets"].as_array().unwrap();
    let children = |key: &str| -> usize {
        tickets
            .iter()
            .map(|t| t[key].as_array().unwrap().len())
            .sum()
    };
    let counts = json!({
        "users": data["users"].as_array().unwrap().len(),
        "customFields": data["customFields"].as_array().unwrap().len(),
        "tickets": tickets.len(),
        "notes": children("notes"),
        "history": children("history"),
        "attachments": data["attachments"].as_array().unwrap().len(),
    });
    document["exportInfo"]["counts"] = counts;
    fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
    path
}

/// Restoring `archive` onto a new database, SQLite and PostgreSQL, exits 3 naming `problem`, and leaves the new
/// database without a company; checking the file alone exits 3 too.
fn refused_everywhere(demo: &Demo, archive: &Path, problem: &str, alone: &str) {
    let new_db = init_db(demo.dir.path(), "fresh.db");
    let stderr = fails_with(
        cmd(&new_db)
            .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
            .arg(archive),
        3,
    );
    assert!(stderr.contains(problem), "{stderr}");
    assert_eq!(count_rows(&open_db(&new_db), "companies"), 0);
    assert_eq!(count_rows(&open_db(&new_db), "tickets"), 0);
    // The same onto a new PostgreSQL database, which gets its rows in batches.
    let pg = PgDatabase::new();
    pg_bin()
        .args(["--db", &pg.url(), "init"])
        .assert()
        .success();
    let stderr = fails_with(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN])
            .args(["import", "--create-company"])
            .arg(archive),
        3,
    );
    assert!(stderr.contains(problem), "{stderr}");
    let left = pg
        .client()
        .query_one("SELECT count(*) FROM companies", &[])
        .unwrap();
    assert_eq!(left.get::<_, i64>(0), 0);
    let stderr = fails_with(
        cmd(&demo.dir.path().join("none.db"))
            .args(["import", "--validate-only"])
            .arg(archive),
        3,
    );
    assert!(stderr.contains(alone), "{stderr}");
}

#[test]
fn a_ticket_twice_is_refused_even_into_an_empty_company() {
    let demo = Demo::new();
    let archive = edited_acme_json(&demo, |doc| {
        let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
        let mut copy = tickets[1].clone();
        copy["notes"] = json!([]);
        copy["history"] = json!([]);
        tickets.push(copy);
    });
    refused_everywhere(&demo, &archive, "more than once", "duplicate ticket id");
}

#[test]
fn a_note_under_two_tickets_is_refused_even_into_an_empty_company() {
    let demo = Demo::new();
    let archive = edited_acme_json(&demo, |doc| {
        let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
        let note = tickets[0]["notes"][0].clone();
        tickets[1]["notes"].as_array_mut().unwrap().push(note);
    });
    refused_everywhere(&demo, &archive, "more than once", "duplicate note id");
}

#[test]
fn an_attachment_of_a_ticket_outside_the_archive_is_refused_even_into_an_empty_company() {
    let demo = Demo::new();
    let archive = edited_acme_json(&demo, |doc| {
        doc["data"]["attachments"][0]["ticketId"] = json!("b0000000-0000-4000-8000-00000000dead");
    });
    refused_everywhere(&demo, &archive, "not in the archive", "not in the archive");
}

#[test]
fn a_json_document_with_attachments_before_tickets_loses_none() {
    let demo = Demo::new();
    // Re-serialized with sorted keys: `attachments` comes first in `data`.
    let archive = edited_acme_json(&demo, |_| {});
    let text = fs::read_to_string(&archive).unwrap();
    assert!(text.find("\"attachments\"").unwrap() < text.find("\"tickets\"").unwrap());
    let new_db = init_db(demo.dir.path(), "fresh.db");
    let report = json_ok(
        cmd(&new_db)
            .args([
                "--actor",
                ids::ACME_ADMIN,
                "--json",
                "import",
                "--create-company",
            ])
            .arg(&archive),
    );
    assert_eq!(tally(&report, "attachments"), [3, 0, 0, 0]);
    assert_eq!(count_rows(&open_db(&new_db), "file_attachments"), 3);
}
