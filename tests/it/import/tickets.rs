//! `import --ticket ID` and `--tickets-from FILE`: restoring chosen tickets, checked against
//! the whole database afterwards. The accidental deletion of one ticket must not bring back
//! the ones deleted on purpose, nor touch anything the chosen ticket does not bring.

use super::*;

use support::ids::GINA_ID;

/// Whether a row of a dump is a ticket's own or one of its notes, history entries or
/// attachments.
fn of_ticket(ticket: &str) -> impl Fn(&str, &str, &Row) -> bool + '_ {
    move |table, key, row| {
        (table == "tickets" && key == ticket) || row.get("ticket_id") == Some(&text(ticket))
    }
}

/// The keys of the rows that `pick` accepts in `dump`.
fn keys_where(dump: &Dump, pick: impl Fn(&str, &str, &Row) -> bool) -> BTreeSet<(String, String)> {
    dump.only(pick).keys()
}

/// What a report says it took and left: the chosen tickets and the counts not chosen.
fn choice(report: &Value) -> (Value, Value) {
    (report["chosenTickets"].clone(), report["notChosen"].clone())
}

/// The parts a plan and its import must share, with what a selective import adds.
fn selective_plan(report: &Value) -> Value {
    json!({"plan": plan_part(report), "choice": choice(report)})
}

/// What the demo's Acme archive holds besides the printer ticket (T1), which refers to gina
/// and bob and to the fields seats and plan.
fn all_but_t1() -> Value {
    json!({"users": 3, "customFields": 2, "tickets": 5, "notes": 3, "history": 2, "attachments": 2})
}

/// Deletes tickets the way the web app does: their notes, history and attachments go by
/// cascade.
fn delete_tickets(conn: &Connection, tickets: &[&str]) {
    for ticket in tickets {
        assert_eq!(
            conn.execute("DELETE FROM tickets WHERE id = ?1", [ticket])
                .unwrap(),
            1
        );
    }
}

/// A ticket list file in the output directory.
fn ticket_list(demo: &Demo, name: &str, text: &str) -> PathBuf {
    let path = demo.out_path(name);
    fs::write(&path, text).unwrap();
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

// ---------------------------------------------------------------------------------------
// Into the database the ticket was deleted from

#[test]
fn one_deleted_ticket_comes_back_alone_and_nothing_else_changes() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    let original = dump(&conn);
    // The printer ticket was deleted by mistake, the invoice on purpose.
    delete_tickets(&conn, &[T1, T3]);
    let restored_rows = keys_where(&original, of_ticket(T1));
    assert_eq!(
        restored_rows.len(),
        6,
        "the ticket, 2 notes, 2 history, 1 file"
    );

    let report = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates", "--ticket", T1],
        &archive,
    ));
    assert_eq!(report["status"], "ok");
    assert_eq!(choice(&report), (json!([T1]), all_but_t1()));
    for (section, expected) in [
        ("tickets", [1, 0, 0, 0]),
        ("notes", [2, 0, 0, 0]),
        ("history", [2, 0, 0, 0]),
        ("attachments", [1, 0, 0, 0]),
        // gina and bob, seats and plan: there already, and not counted with the rest.
        ("users", [0, 0, 2, 0]),
        ("customFields", [0, 0, 2, 0]),
    ] {
        assert_eq!(tally(&report, section), expected, "{section}");
    }
    assert_eq!(report["conflictCount"], 0);

    // The whole database is the original one without the invoice ticket (whose rows the
    // restore must not bring back); the printer ticket's rows were written by the import,
    // so their JSON is compared as values.
    let mut expected = original
        .only(|table, key, row| !of_ticket(T3)(table, key, row))
        .without("data_import_logs");
    let mut actual = dump(&conn).without("data_import_logs");
    let was_restored =
        |table: &str, key: &str| restored_rows.contains(&(table.to_owned(), key.to_owned()));
    expected.canonical_json(was_restored);
    actual.canonical_json(was_restored);
    assert_same(&expected, &actual, "after restoring the printer ticket");
}

#[test]
fn the_plan_and_the_summary_say_what_was_not_chosen() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    delete_tickets(&demo.conn(), &[T1]);
    let output = demo
        .acme()
        .args(["import", "--skip-duplicates", "--ticket", T1])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!(
            "Only the chosen tickets, with the users and custom fields they refer to: {T1}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "not chosen, left in the archive: 3 users, 2 custom fields, 5 tickets \
             (3 notes, 2 history entries), 2 attachments"
        ),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Into a new database

#[test]
fn into_a_new_database_only_the_chosen_ticket_comes_with_whom_it_names_and_the_actor() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let new_db = init_db(demo.dir.path(), "new.db");
    // Carol restores; the printer ticket names gina and bob, not her.
    let report = json_ok(
        cmd(&new_db)
            .args(["--actor", CAROL, "--json", "import", "--create-company"])
            .args(["--ticket", T1])
            .arg(&archive),
    );
    assert_eq!(report["companyCreated"], true);
    assert_eq!(tally(&report, "users"), [3, 0, 0, 0]);
    assert_eq!(report["passwordResetRequired"], 3);
    assert_eq!(
        choice(&report).1,
        json!({"users": 2, "customFields": 2, "tickets": 5, "notes": 3, "history": 2, "attachments": 2})
    );

    let conn = open_db(&new_db);
    let mut expected = RecordIds::in_archive(&Archive::read(&archive))
        .only_tickets(&BTreeSet::from([T1.to_owned()]));
    expected.users = BTreeSet::from([BOB_ID, CAROL_ID, GINA_ID].map(String::from));
    expected.custom_fields = BTreeSet::from([FIELD_SEATS, FIELD_PLAN].map(String::from));
    assert_eq!(RecordIds::in_db(&conn, ids::ACME), expected);
    // No one else, in any company.
    assert_eq!(count_rows(&conn, "users"), 3);
    assert_eq!(
        strings(
            &conn,
            "SELECT role FROM user_company_associations WHERE user_id = ?1",
            [CAROL_ID]
        ),
        BTreeSet::from(["admin".to_owned()])
    );
    assert_eq!(
        strings(
            &conn,
            "SELECT submitter_id || ' ' || assigned_to_id FROM tickets WHERE id = ?1",
            [T1]
        ),
        BTreeSet::from([format!("{GINA_ID} {BOB_ID}")])
    );
}

// ---------------------------------------------------------------------------------------
// Lists of ids

#[test]
fn tickets_from_a_file_with_comments_and_from_stdin_choose_the_same() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    delete_tickets(&conn, &[T1, T3, T4]);
    let text = format!(
        "# the printer and the invoice, deleted by mistake\n\n{T1}   # printer\n  {T3}\r\n\
         # {T4} was deleted on purpose\n{T1}\n"
    );
    let list = ticket_list(&demo, "ids.txt", &text);

    let from_file = json_ok(&mut acme_import(
        &demo,
        &[
            "--validate-only",
            "--skip-duplicates",
            "--tickets-from",
            arg(&list),
        ],
        &archive,
    ));
    let from_stdin = json_ok(
        acme_import(
            &demo,
            &[
                "--validate-only",
                "--skip-duplicates",
                "--tickets-from",
                "-",
            ],
            &archive,
        )
        .write_stdin(text.clone()),
    );
    assert_eq!(from_file["chosenTickets"], json!([T1, T3]));
    assert_eq!(selective_plan(&from_file), selective_plan(&from_stdin));
    assert_eq!(tally(&from_file, "tickets"), [2, 0, 0, 0]);

    // Ids given both ways are one choice.
    let done = json_ok(
        acme_import(
            &demo,
            &["--skip-duplicates", "--ticket", T3, "--tickets-from", "-"],
            &archive,
        )
        .write_stdin(text),
    );
    assert_eq!(done["chosenTickets"], json!([T3, T1]));
    assert_eq!(tally(&done, "tickets"), [2, 0, 0, 0]);
    let tickets = strings(
        &conn,
        "SELECT id FROM tickets WHERE company_id = ?1",
        [ids::ACME],
    );
    assert!(tickets.contains(T1) && tickets.contains(T3), "{tickets:?}");
    assert!(
        !tickets.contains(T4),
        "the ticket deleted on purpose came back"
    );
}

#[test]
fn an_unknown_ticket_id_exits_6_naming_every_missing_one_and_changes_nothing() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    delete_tickets(&conn, &[T1]);
    let before = dump(&conn);
    let missing = "b0000000-0000-4000-8000-000000000999";
    let list = ticket_list(&demo, "ids.txt", &format!("{missing}\n"));
    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--ticket", T1])
            .args(["--ticket", "no-such-ticket", "--tickets-from", arg(&list)])
            .arg(&archive),
        6,
    );
    assert!(
        stderr.contains(&format!(
            "tickets no-such-ticket, {missing} are not in the archive"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(T1), "{stderr}");
    assert!(stderr.contains("list --tickets"), "{stderr}");
    assert_only_the_log_changed(&before, &conn, "after the refusal");
    let (_, _, logged) = import_logs(&conn).pop().unwrap();
    assert_eq!(logged["status"], "failed");
    assert_eq!(
        logged["chosenTickets"],
        json!([T1, "no-such-ticket", missing])
    );

    // The file alone, without a database: the same answer.
    let stderr = fails_with(
        cmd(&demo.dir.path().join("none.db"))
            .args(["import", "--validate-only", "--ticket", "no-such-ticket"])
            .arg(&archive),
        6,
    );
    assert!(
        stderr.contains("ticket no-such-ticket is not in the archive"),
        "{stderr}"
    );
}

#[test]
fn the_file_alone_confirms_the_chosen_tickets_are_in_it() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let report = json_ok(
        cmd(&demo.dir.path().join("none.db"))
            .args(["--json", "import", "--validate-only", "--ticket", T3])
            .arg(&archive),
    );
    assert_eq!(report["valid"], true);
    assert_eq!(report["chosenTickets"], json!([T3]));
    assert_eq!(report["counts"], Archive::read(&archive).manifest["counts"]);
}

#[test]
fn a_list_naming_no_ticket_or_sharing_stdin_with_the_archive_is_a_usage_error() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let empty = ticket_list(&demo, "empty.txt", "# nothing yet\n\n");
    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--tickets-from", arg(&empty)])
            .arg(&archive),
        2,
    );
    assert!(stderr.contains("lists no ticket ids"), "{stderr}");

    let two = ticket_list(&demo, "two.txt", &format!("{T1}\n{T1} {T3}\n"));
    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--tickets-from", arg(&two)])
            .arg(&archive),
        2,
    );
    assert!(
        stderr.contains("two.txt, line 2: one ticket id a line"),
        "{stderr}"
    );

    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--tickets-from", "-", "-"])
            .write_stdin(fs::read(&archive).unwrap()),
        2,
    );
    assert!(
        stderr.contains("cannot both be read from stdin"),
        "{stderr}"
    );

    let stderr = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--tickets-from"])
            .arg(demo.out_path("absent.txt"))
            .arg(&archive),
        6,
    );
    assert!(stderr.contains("absent.txt does not exist"), "{stderr}");
    assert_eq!(count_rows(&demo.conn(), "data_import_logs"), 0);
}

#[test]
fn an_invalid_archive_is_refused_though_no_chosen_ticket_is_bad() {
    let demo = Demo::new();
    let damaged = edited_json_archive(&demo, "bad.json", |doc| {
        let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
        let other = tickets.iter_mut().find(|t| t["id"] == T4).unwrap();
        other["priority"] = json!("mega");
    });
    let index = json(&fs::read(&damaged).unwrap())["data"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["id"] == T4)
        .unwrap();
    let conn = demo.conn();
    delete_tickets(&conn, &[T1]);
    let before = dump(&conn);
    // A chosen ticket that is fine, and one the archive lacks: the archive's fault comes first.
    for chosen in [T1, "no-such-ticket"] {
        let stderr = fails_with(
            demo.acme()
                .args(["import", "--skip-duplicates", "--ticket", chosen])
                .arg(&damaged),
            3,
        );
        assert!(
            stderr.contains(&format!("tickets[{index}].priority")),
            "{chosen}: {stderr}"
        );
    }
    assert_only_the_log_changed(&before, &conn, "after the refusals");
}

// ---------------------------------------------------------------------------------------
// Policies and the plan

#[test]
fn plan_equals_the_import_of_chosen_tickets_for_every_policy() {
    // Skip duplicates after the deletion: creates the ticket, skips whom it names.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    delete_tickets(&demo.conn(), &[T1, T3]);
    let args = ["--skip-duplicates", "--ticket", T1];
    let plan = json_ok(&mut acme_import(
        &demo,
        &[&["--validate-only"], &args[..]].concat(),
        &archive,
    ));
    let done = json_ok(&mut acme_import(&demo, &args, &archive));
    assert_eq!(plan["status"], "validated");
    assert_eq!(
        selective_plan(&plan),
        selective_plan(&done),
        "skip-duplicates"
    );
    assert_eq!(tally(&done, "notes"), [2, 0, 0, 0]);

    // Overwrite after edits.
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    edit_acme(&demo.conn());
    let args = ["--overwrite", "--yes", "--ticket", T1];
    let plan = json_ok(&mut acme_import(
        &demo,
        &[&["--validate-only"], &args[..]].concat(),
        &archive,
    ));
    let done = json_ok(&mut acme_import(&demo, &args, &archive));
    assert_eq!(selective_plan(&plan), selective_plan(&done), "overwrite");
    assert_eq!(tally(&done, "tickets"), [0, 1, 0, 0]);
    assert_eq!(choice(&done), (json!([T1]), all_but_t1()));
}

#[test]
fn overwrite_of_a_chosen_ticket_puts_back_only_what_it_brings() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    // Edits to the printer ticket, its note, bob and seats (which it brings), and to carol
    // and ticket T4 (which it does not).
    edit_acme(&conn);
    conn.execute("UPDATE tickets SET title = 'EDITED T4' WHERE id = ?1", [T4])
        .unwrap();
    let report = json_ok(&mut acme_import(
        &demo,
        &["--overwrite", "--yes", "--ticket", T1],
        &archive,
    ));
    assert_eq!(tally(&report, "tickets"), [0, 1, 0, 0]);
    assert_eq!(tally(&report, "notes"), [0, 1, 0, 0]);
    assert_eq!(unchanged(&report, "notes"), 1);

    let after = dump(&conn);
    let title = |id: &str| after.get("tickets", id, "title").clone();
    assert_eq!(
        title(T1),
        text("Printer says \"PC LOAD LETTER\" — 紙がない")
    );
    assert_eq!(
        after.get("ticket_notes", NOTE_D1, "content"),
        &text("Replaced the toner. \"Works now\".")
    );
    assert_eq!(
        after.get("custom_fields", FIELD_SEATS, "label"),
        &text("Seats")
    );
    let bob_in_acme = format!("{BOB_ID}|{}", ids::ACME);
    assert_eq!(
        after.get("user_company_associations", &bob_in_acme, "role"),
        &text("member")
    );
    // What the chosen ticket does not bring keeps its edits.
    assert_eq!(title(T4), text("EDITED T4"));
    assert_eq!(
        after.get("users", CAROL_ID, "first_name"),
        &text("EDITED Carol")
    );
}

#[test]
fn strict_restore_of_a_chosen_ticket_conflicts_only_over_what_it_brings() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    let before = dump(&conn);
    let output = acme_import(&demo, &["--validate-only", "--ticket", T1], &archive)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let plan = json(&output.stdout);
    // gina and bob, seats and plan, the ticket, its 2 notes, 2 history entries and file.
    assert_eq!(plan["conflictCount"], 10);
    let conflicts = plan["conflicts"].to_string();
    for named in [ids::ACME_CUSTOMER, ids::SHARED_USER, "seats", T1, NOTE_D1] {
        assert!(conflicts.contains(named), "{named} in {conflicts}");
    }
    for not_named in [ids::ACME_ADMIN, CAROL, "budget", T3] {
        assert!(!conflicts.contains(not_named), "{not_named} in {conflicts}");
    }

    let stderr = fails_with(
        demo.acme().args(["import", "--ticket", T1]).arg(&archive),
        4,
    );
    assert!(
        stderr.contains("Failed to import user: Email already exists"),
        "{stderr}"
    );
    assert_only_the_log_changed(&before, &conn, "after the strict refusals");
}

// ---------------------------------------------------------------------------------------
// The log and history

#[test]
fn the_log_row_and_history_name_the_chosen_tickets() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    let conn = demo.conn();
    delete_tickets(&conn, &[T1, T3]);
    let report = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates", "--ticket", T1, "--ticket", T3],
        &archive,
    ));
    let import_id = report["importId"].as_str().unwrap();

    let (_, _, logged) = import_logs(&conn).pop().unwrap();
    assert_eq!(logged["chosenTickets"], json!([T1, T3]));
    assert_eq!(logged["notChosen"], report["notChosen"]);
    assert_eq!(logged["notChosen"]["tickets"], 4);

    let detail = stdout_ok(demo.acme().args(["history", import_id]));
    let lines = detail_lines(&detail);
    assert_eq!(
        value(&lines, "tickets asked for"),
        format!("{T1}, {T3} (only these, with the users and custom fields they refer to)")
    );
    assert_eq!(
        value(&lines, "not chosen"),
        "1 user, 1 custom field, 4 tickets (1 note, 1 history entry), 1 attachment, \
         left in the archive"
    );
    let listing = stdout_ok(demo.acme().args(["history", "--kind", "import"]));
    assert!(listing.contains("only 2 chosen tickets"), "{listing}");
    let entry = json_ok(demo.acme().args(["--json", "history", import_id]));
    assert_eq!(entry["detail"]["chosenTickets"], json!([T1, T3]));

    // A whole import's row has neither.
    json_ok(&mut acme_import(&demo, &["--skip-duplicates"], &archive));
    let (_, _, whole) = import_logs(&conn).pop().unwrap();
    assert!(whole.get("chosenTickets").is_none() && whole.get("notChosen").is_none());
}

#[test]
fn json_chosen_tickets_report_shape() {
    let demo = Demo::new();
    let archive = demo.export_acme("acme.zip");
    delete_tickets(&demo.conn(), &[T1]);
    let mut report = json_ok(&mut acme_import(
        &demo,
        &["--skip-duplicates", "--ticket", T1],
        &archive,
    ));
    redact(&mut report, &["importId", "exportId", "exportedAt", "file"]);
    // With the other snapshots, though this module sits a folder deeper.
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_json_snapshot!("json_chosen_tickets_report", report);
    });
}
