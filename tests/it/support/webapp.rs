//! A database as the Bomizzel web app makes it, without `init`: the application's tables with
//! the web app's own indexes, its two log tables holding rows it wrote, and none of the
//! tool's own tables or indexes. Filled with the demo data.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, params};

use super::{DEMO_SQL, ids, strings};

/// Ada, Acme's admin, who made the web app's Acme rows.
const ADA_ID: &str = "a0000000-0000-4000-8000-000000000001";
const DAVE_ID: &str = "a0000000-0000-4000-8000-000000000006";

/// The web app's ids: `export_<company id>_<Date.now()>`, and so for imports.
pub const WEB_EXPORT_ID: &str = "export_c0000000-0000-4000-8000-000000000001_1763632800000";
pub const WEB_IMPORT_ID: &str = "import_c0000000-0000-4000-8000-000000000001_1763636400000";
pub const WEB_GLOBEX_EXPORT_ID: &str = "export_c0000000-0000-4000-8000-000000000002_1763719200000";

/// The web app's indexes: none has `id` as its last column, as the ones `init` adds for
/// export's ordering do.
const WEB_APP_INDEXES: &str = include_str!("../../../fixtures/webapp-indexes.sql");

/// The web app's log tables, as its migrations define them (the two alike): a nullable
/// summary, and its own foreign keys.
const WEB_APP_LOGS: [(&str, &str, &str); 2] = [
    ("data_export_logs", "export_id", "exported_data"),
    ("data_import_logs", "import_id", "imported_data"),
];

fn web_app_log_table((table, id_column, data_column): (&str, &str, &str)) -> String {
    format!(
        "CREATE TABLE {table} (
             id TEXT PRIMARY KEY,
             company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
             user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
             {id_column} TEXT NOT NULL UNIQUE,
             {data_column} TEXT,
             created_at TEXT NOT NULL
         );\n"
    )
}

/// The web app's schema: the application's tables as `init` writes them (the same tables and
/// columns), with the web app's indexes instead of `init`'s, and its two log tables.
pub fn web_app_schema() -> String {
    let tables: Vec<&str> = bomizzel_backup::db::schema::APP_SCHEMA
        .lines()
        .filter(|line| !line.trim_start().starts_with("CREATE INDEX"))
        .collect();
    let logs: String = WEB_APP_LOGS.map(web_app_log_table).concat();
    format!("{}\n{WEB_APP_INDEXES}{logs}", tables.join("\n"))
}

/// Creates the web app's database at `path`, which must not exist: its schema, the demo
/// data and the web app's log rows.
pub fn build_web_app(path: &Path) {
    assert!(!path.exists(), "{} exists", path.display());
    let conn = Connection::open(path).expect("create the web app's database");
    conn.execute_batch(&web_app_schema())
        .expect("write the web app's schema");
    conn.execute_batch(DEMO_SQL).expect("load the demo data");
    insert_web_app_rows(&conn);
}

/// Log rows as the web app writes them: its summary counts only (`exported_data` is
/// `JSON.stringify(counts)`), no file, its own ids; two of Acme's and one of Globex's.
pub fn insert_web_app_rows(conn: &Connection) {
    let insert = |(table, id_column, data_column): (&str, &str, &str), row: [&str; 6]| {
        conn.execute(
            &format!(
                "INSERT INTO {table} (id, company_id, user_id, {id_column}, {data_column}, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            params![row[0], row[1], row[2], row[3], row[4], row[5]],
        )
        .unwrap_or_else(|e| panic!("insert the web app's row into {table}: {e}"));
    };
    let [export_log, import_log] = WEB_APP_LOGS;
    let export = |row| insert(export_log, row);
    export([
        "9f1c2b7e-0000-4000-8000-000000000001",
        ids::ACME,
        ADA_ID,
        WEB_EXPORT_ID,
        r#"{"users":5,"tickets":6,"attachments":3,"customFields":4}"#,
        "2025-11-20T10:00:00.000Z",
    ]);
    export([
        "9f1c2b7e-0000-4000-8000-000000000003",
        ids::GLOBEX,
        DAVE_ID,
        WEB_GLOBEX_EXPORT_ID,
        r#"{"users":3,"tickets":2,"attachments":0,"customFields":1}"#,
        "2025-11-21T10:00:00.000Z",
    ]);
    insert(
        import_log,
        [
            "9f1c2b7e-0000-4000-8000-000000000002",
            ids::ACME,
            ADA_ID,
            WEB_IMPORT_ID,
            r#"{"usersImported":2,"usersSkipped":1,"ticketsImported":5,"ticketsSkipped":0,"customFieldsImported":1,"errors":[]}"#,
            "2025-11-20T11:00:00.000Z",
        ],
    );
}

/// The database's tables and the indexes made by a statement (`table users`,
/// `index tickets_company_id_created_at_index`), leaving out SQLite's own for keys.
pub fn schema_objects(conn: &Connection) -> BTreeSet<String> {
    strings(
        conn,
        "SELECT type || ' ' || name FROM sqlite_master
         WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'",
        [],
    )
}
