//! Database state for the crash and concurrency tests: comparing whole-database dumps
//! (`table_rows`), SQLite's own integrity check, the journal mode, and bulk ticket data
//! written in SQL so that an import or export runs long enough to be interrupted.

use std::collections::BTreeMap;

use rusqlite::Connection;

/// Every row of every table, rendered and sorted, by table name (as `table_rows` gives).
pub type Dump = BTreeMap<String, Vec<String>>;

/// Asserts two dumps are equal, naming the first table that differs and how.
pub fn assert_same_rows(before: &Dump, after: &Dump, what: &str) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{what}: the set of tables changed"
    );
    for (table, rows) in before {
        let now = &after[table];
        if rows != now {
            let gone: Vec<_> = rows.iter().filter(|r| !now.contains(r)).take(3).collect();
            let new: Vec<_> = now.iter().filter(|r| !rows.contains(r)).take(3).collect();
            panic!(
                "{what}: table {table} changed ({} rows before, {} after); \
                 gone e.g. {gone:#?}; new e.g. {new:#?}",
                rows.len(),
                now.len()
            );
        }
    }
}

/// `PRAGMA integrity_check`'s verdict: `ok`, or the problems it lists.
pub fn integrity(conn: &Connection) -> String {
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .expect("integrity_check");
    let lines: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .expect("read integrity_check");
    lines.join("; ")
}

/// Sets the journal mode (`delete` or `wal`) and checks SQLite took it.
pub fn set_journal_mode(conn: &Connection, mode: &str) {
    let set: String = conn
        .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |row| {
            row.get(0)
        })
        .expect("set the journal mode");
    assert!(
        set.eq_ignore_ascii_case(mode),
        "journal_mode {mode}: got {set}"
    );
}

/// Adds `tickets` tickets to `company_id`, each with five notes (about `note_bytes` of text
/// each), three history entries, and (every other ticket) an attachment on its first note.
/// People are `members` in turn (they must be members of the company). Ids carry `tag` (up
/// to 4 hex digits), so that two fills never collide. One transaction, all in SQL.
pub fn fill_tickets(
    conn: &Connection,
    company_id: &str,
    members: &[&str],
    tag: u16,
    tickets: u32,
    note_bytes: u32,
) {
    conn.execute_batch("BEGIN").expect("begin");
    conn.execute(
        "CREATE TEMP TABLE fill_people (k INTEGER PRIMARY KEY, id TEXT NOT NULL)",
        [],
    )
    .expect("temp table");
    for (k, member) in members.iter().enumerate() {
        conn.execute(
            "INSERT INTO fill_people (k, id) SELECT ?1, id FROM users WHERE email = ?2",
            rusqlite::params![k as i64, member],
        )
        .expect("a member");
    }
    let people = members.len() as i64;
    let found: i64 = conn
        .query_row("SELECT count(*) FROM fill_people", [], |row| row.get(0))
        .expect("count the members");
    assert_eq!(found, people, "every member must exist");
    // Ticket i is b<tag>…-<i>; its notes d<tag>…<j>-<i>, history e<tag>…<j>-<i>.
    let person = |expr: &str| format!("(SELECT id FROM fill_people WHERE k = ({expr}) % {people})");
    let at = |offset: &str| {
        format!("strftime('%Y-%m-%dT%H:%M:%fZ', 1735689600 + i * 3600 + {offset}, 'unixepoch')")
    };
    let series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)";
    let ticket_id = "printf('b%04x00-0000-4000-8000-%012d', ?1, i)";
    conn.execute(
        &format!(
            "{series}
             INSERT INTO tickets (id, company_id, title, description, status, priority, category,
                                  submitter_id, assigned_to_id, custom_field_values,
                                  created_at, updated_at, resolved_at, closed_at)
             SELECT {ticket_id}, ?3, 'Bulk ticket ' || i || ' «' || hex(randomblob(8)) || '»',
                    'Bulk description ' || hex(randomblob(?4 / 4)),
                    CASE i % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'in_progress' ELSE 'closed' END,
                    CASE i % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high'
                               ELSE 'urgent' END,
                    CASE WHEN i % 5 = 0 THEN NULL ELSE 'bulk' END,
                    {submitter}, CASE WHEN i % 2 = 0 THEN NULL ELSE {assignee} END, '{{}}',
                    {created}, {updated}, NULL,
                    CASE WHEN i % 3 = 2 THEN {updated} END
             FROM n",
            submitter = person("i"),
            assignee = person("i + 1"),
            created = at("0"),
            updated = at("600"),
        ),
        rusqlite::params![tag, tickets, company_id, note_bytes],
    )
    .expect("bulk tickets");
    conn.execute(
        &format!(
            "{series}, k(j) AS (VALUES (1), (2), (3), (4), (5))
             INSERT INTO ticket_notes (id, ticket_id, author_id, content, is_internal,
                                       is_email_generated, email_metadata, created_at, updated_at)
             SELECT printf('d%04x00-0000-4000-%04d-%012d', ?1, j, i), {ticket_id}, {author},
                    'Note ' || j || ' — ' || hex(randomblob(?3 / 2)), j % 2, 0,
                    CASE WHEN j = 5 THEN '{{\"messageId\":\"<' || i || '@bulk>\"}}' END,
                    {created}, {created}
             FROM n, k",
            author = person("i + j"),
            created = at("j * 60"),
        ),
        rusqlite::params![tag, tickets, note_bytes],
    )
    .expect("bulk notes");
    conn.execute(
        &format!(
            "{series}, k(j) AS (VALUES (1), (2), (3))
             INSERT INTO ticket_history (id, ticket_id, user_id, action, field_name, old_value,
                                         new_value, metadata, created_at)
             SELECT printf('e%04x00-0000-4000-%04d-%012d', ?1, j, i), {ticket_id}, {user},
                    CASE j WHEN 1 THEN 'created' ELSE 'status_changed' END,
                    CASE WHEN j > 1 THEN 'status' END, CASE WHEN j > 1 THEN 'open' END,
                    CASE WHEN j > 1 THEN 'in_progress' END,
                    CASE WHEN j = 3 THEN '{{\"via\":\"bulk\"}}' END, {created}
             FROM n, k",
            user = person("i * j"),
            created = at("j * 90"),
        ),
        rusqlite::params![tag, tickets],
    )
    .expect("bulk history");
    conn.execute(
        &format!(
            "{series}
             INSERT INTO file_attachments (id, ticket_id, note_id, file_name, original_name,
                                           file_size, mime_type, uploaded_by_id, storage_key,
                                           created_at)
             SELECT printf('f%04x00-0000-4000-8000-%012d', ?1, i), {ticket_id},
                    printf('d%04x00-0000-4000-%04d-%012d', ?1, 1, i),
                    'file-' || i || '.pdf', 'Scan ' || i || '.pdf', i * 17, 'application/pdf',
                    {uploader}, 'bulk/' || i, {created}
             FROM n WHERE i % 2 = 0",
            uploader = person("i"),
            created = at("120"),
        ),
        rusqlite::params![tag, tickets],
    )
    .expect("bulk attachments");
    conn.execute_batch("DROP TABLE temp.fill_people; COMMIT")
        .expect("commit the bulk data");
}
