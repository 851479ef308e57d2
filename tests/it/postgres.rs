//! PostgreSQL as `--db`: `init` on the throwaway cluster of `support::postgres`, the URL
//! forms (TCP, a socket directory, sslmode, PGPASSWORD), libpq's environment variables and
//! password file (what a URL leaves out), and what a failed connection says:
//! the server and the exit status, never the password. Then the scenarios on either
//! backend (`Backend`), and PostgreSQL's own versions of the crash and concurrency tests,
//! with their helpers: a killed import, an export during inserts.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;
use bomizzel_backup::db::pg::{self, APPLICATION_NAME, PgUrl};
use bomizzel_backup::db::schema::{APP_TABLES, ToolTable};

use serde_json::Value;

use crate::concurrency::{ACME_PEOPLE, acme_people, export_while_writing};
use crate::crash::{acme_command, bulk_archive, kill_when};
use crate::import::{INITECH, WEB_APP_FILES, add_initech, edited_acme_json};
use crate::safekeeping::keys::age_key;
use crate::support::postgres::{
    Backend, NO_PASSWORD_FILE, PgDatabase, SUPERUSER, cluster, pg_bin, unused_port,
};
use crate::support::state::{assert_same_rows, fill_tickets};
use crate::support::{
    AS_ACME_ADMIN, Archive, Demo, RecordIds, fails_with, ids, json, json_ok, stderr_of,
};

/// `bomizzel-backup --db URL init`.
fn init(url: &str) -> Command {
    let mut cmd = pg_bin();
    cmd.args(["--db", url, "init"]);
    cmd
}

/// Whether the tool's own connection to `url` is encrypted, as the server sees it.
fn tool_connection_uses_tls(url: &str) -> bool {
    let url = PgUrl::parse(url).expect("a URL the tool reads");
    let mut client = pg::connect(&url).expect("the tool connects");
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl")
        .get(0)
}

/// Every table `init` makes, sorted.
fn schema_tables() -> Vec<String> {
    let mut tables: Vec<String> = APP_TABLES
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(ToolTable::ALL.map(|t| t.name().to_string()))
        .collect();
    tables.sort();
    tables
}

#[test]
fn init_creates_the_schema_in_an_empty_database() {
    let db = PgDatabase::new();
    let output = init(&db.url()).arg("--json").output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report = json(&output.stdout);
    assert_eq!(report["database"], db.url_as("postgres:***", ""));
    assert_eq!(db.tables(), schema_tables());

    let mut client = db.client();
    for (table, columns) in APP_TABLES {
        let present: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1",
                &[table],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        for column in *columns {
            assert!(present.iter().any(|p| p == column), "{table}.{column}");
        }
    }
    // Text sorts bytewise, as in SQLite, so records come out in the same order.
    let other_collation: Vec<String> = client
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND data_type = 'text'
               AND collation_name IS DISTINCT FROM 'C'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(other_collation, Vec::<String>::new());
    let type_of = |client: &mut postgres::Client, table: &str, column: &str| -> String {
        client
            .query_one(
                "SELECT data_type::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .unwrap()
            .get(0)
    };
    for (table, column, expected) in [
        ("users", "is_active", "boolean"),
        ("users", "preferences", "jsonb"),
        ("tickets", "custom_field_values", "jsonb"),
        ("tickets", "created_at", "text"),
        ("file_attachments", "file_size", "bigint"),
        ("data_export_logs", "exported_data", "jsonb"),
    ] {
        assert_eq!(
            type_of(&mut client, table, column),
            expected,
            "{table}.{column}"
        );
    }
}

/// The constraints SQLite's schema has: email unique ignoring ASCII case (NOCASE folds
/// nothing else), foreign keys, the CHECKs.
#[test]
fn the_schema_keeps_sqlites_constraints() {
    let db = PgDatabase::new();
    init(&db.url()).assert().success();
    let mut client = db.client();
    let add_user = |client: &mut postgres::Client, id: &str, email: &str, role: &str| {
        client.execute(
            "INSERT INTO users (id, email, role, created_at, updated_at)
             VALUES ($1, $2, $3, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            &[&id, &email, &role],
        )
    };
    let code = |result: Result<u64, postgres::Error>| {
        result
            .expect_err("the database refuses it")
            .code()
            .expect("a database error")
            .code()
            .to_owned()
    };
    add_user(&mut client, "u1", "Ada@Example.com", "admin").unwrap();
    assert_eq!(
        code(add_user(&mut client, "u2", "ada@EXAMPLE.COM", "admin")),
        "23505"
    );
    add_user(&mut client, "u3", "émile@example.com", "customer").unwrap();
    add_user(&mut client, "u4", "Émile@example.com", "customer").unwrap();
    assert_eq!(
        code(add_user(&mut client, "u5", "x@example.com", "boss")),
        "23514"
    );
    let orphan = client.execute(
        "INSERT INTO tickets (id, company_id, title, status, created_at, updated_at)
         VALUES ('t1', 'no-such-company', 'x', 'open', 'a', 'a')",
        &[],
    );
    assert_eq!(code(orphan), "23503");
}

#[test]
fn init_twice_is_refused_and_changes_nothing() {
    let db = PgDatabase::new();
    init(&db.url()).assert().success();
    db.client()
        .execute(
            "INSERT INTO companies (id, name, created_at, updated_at) VALUES ('c1', 'Acme', 'a', 'a')",
            &[],
        )
        .unwrap();
    let stderr = fails_with(&mut init(&db.url()), 2);
    assert!(stderr.contains("already has Bomizzel tables ("), "{stderr}");
    assert!(stderr.contains("companies"), "{stderr}");
    assert!(stderr.contains(&db.url_as("postgres:***", "")), "{stderr}");
    assert!(!stderr.contains(&cluster().password), "{stderr}");
    let companies = db.count("companies");
    assert_eq!(companies, 1);
}

/// A database in another encoding than UTF8 could not hold every text an archive may have
/// (an emoji in a LATIN1 one fails the import part-way): init refuses it, naming the
/// encoding and how to make one, and writes nothing.
#[test]
fn init_refuses_a_database_not_in_utf8() {
    let pg = PgDatabase::new();
    let latin1 = format!("{}_latin1", pg.name);
    pg.client()
        .batch_execute(&format!(
            "CREATE DATABASE {latin1} ENCODING 'LATIN1' TEMPLATE template0 \
             LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .unwrap();
    let url = db_url_named(&pg, &latin1);
    let stderr = fails_with(&mut init(&url), 2);
    assert!(
        stderr.contains("is in the LATIN1 encoding") && stderr.contains("createdb --encoding UTF8"),
        "{stderr}"
    );
    let tables: i64 = pg
        .cluster
        .connect(&latin1)
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

/// The URL of another database of the cluster, as `PgDatabase::url` has it.
fn db_url_named(pg: &PgDatabase, name: &str) -> String {
    pg.url()
        .replace(&format!("/{}", pg.name), &format!("/{name}"))
}

#[test]
fn init_refuses_a_database_with_any_of_its_tables() {
    let db = PgDatabase::new();
    db.client()
        .batch_execute("CREATE TABLE data_import_logs (anything text)")
        .unwrap();
    let stderr = fails_with(&mut init(&db.url()), 2);
    assert!(
        stderr.contains("already has Bomizzel tables (data_import_logs)"),
        "{stderr}"
    );
    assert_eq!(db.tables(), ["data_import_logs"]);
}

/// What opening `url` with each command that reads or writes it says, all failing with
/// exit 1: export, import, history.
fn refusals(url: &str) -> Vec<String> {
    let archive = crate::support::fixture_archive("webapp/webapp-full.zip");
    let actor = ["--actor", "olivia@full.example"];
    let mut import = pg_bin();
    import.args(["--db", url]).args(actor);
    import.arg("import").arg("--create-company").arg(&archive);
    let mut export = pg_bin();
    export.args(["--db", url, "--company", "Webapp Full Co"]);
    export.args(actor).args(["export", "-o", "-"]);
    let mut history = pg_bin();
    history.args(["--db", url, "--company", "Webapp Full Co"]);
    history.args(actor).arg("history");
    [&mut import, &mut export, &mut history]
        .into_iter()
        .map(|cmd| {
            let stderr = fails_with(cmd, 1);
            assert!(stderr.contains("is not a Bomizzel database"), "{stderr}");
            assert!(
                stderr.contains("A database in another schema, such as the web app's own"),
                "{stderr}"
            );
            assert!(!stderr.contains(&cluster().password), "{stderr}");
            stderr
        })
        .collect()
}

/// A database with the tool's tables and columns but other types is refused up front,
/// naming each column and both types, before any command reads or writes a row.
#[test]
fn columns_of_another_type_are_refused_naming_them() {
    let db = PgDatabase::new();
    init(&db.url()).assert().success();
    db.client()
        .batch_execute(
            "ALTER TABLE ticket_notes DROP CONSTRAINT ticket_notes_ticket_id_fkey;
             ALTER TABLE ticket_history DROP CONSTRAINT ticket_history_ticket_id_fkey;
             ALTER TABLE file_attachments DROP CONSTRAINT file_attachments_ticket_id_fkey;
             ALTER TABLE tickets ALTER COLUMN id TYPE uuid USING id::uuid;
             ALTER TABLE tickets ALTER COLUMN created_at TYPE timestamptz
                 USING created_at::timestamptz;",
        )
        .unwrap();
    for stderr in refusals(&db.url()) {
        assert!(
            stderr.contains(
                "(run init on an empty one): other column types: tickets.id uuid (not text), \
                 tickets.created_at timestamp with time zone (not text). A database"
            ),
            "{stderr}"
        );
    }
    let companies = db.count("companies");
    assert_eq!(companies, 0);
}

/// The web app's own PostgreSQL schema, as its migrations make it (a fixture from them):
/// every command refuses it, naming the columns it lacks and those of other types, and
/// writes nothing to it (it has log tables of its own by the tool's names).
#[test]
fn the_web_apps_own_postgres_schema_is_refused_naming_what_differs() {
    let db = PgDatabase::new();
    let schema = include_str!("../../fixtures/webapp-postgres-schema.sql");
    // pg_dump's psql commands (\restrict) are not SQL.
    let sql: String = schema
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .map(|line| format!("{line}\n"))
        .collect();
    db.client().batch_execute(&sql).unwrap();
    let mut client = db.client();
    let rows = |client: &mut postgres::Client| -> i64 {
        client
            .query_one(
                "SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM users)
                      + (SELECT count(*) FROM data_import_logs)
                      + (SELECT count(*) FROM data_export_logs)",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let tables_before = db.tables();
    assert!(tables_before.contains(&"data_import_logs".to_owned()));
    assert!(tables_before.contains(&"knex_migrations".to_owned()));
    for stderr in refusals(&db.url()) {
        for part in [
            "(run init on an empty one): missing column custom_fields.company_id, \
             column custom_fields.display_order, column tickets.category; other column types: \
             companies.id uuid (not text), ",
            "tickets.priority integer (not text)",
            "ticket_notes.created_at timestamp with time zone (not text)",
            "file_attachments.file_size integer (not bigint)",
        ] {
            assert!(stderr.contains(part), "{part}\n{stderr}");
        }
    }
    assert_eq!(rows(&mut client), 0);
    assert_eq!(db.tables(), tables_before);
}

#[test]
fn a_missing_database_is_not_found_and_never_created() {
    let cluster = cluster();
    let name = "no_such_database";
    let url = format!(
        "postgresql://postgres:{}@127.0.0.1:{}/{name}",
        cluster.password, cluster.port
    );
    let output = init(&url).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(6), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("database not found: \"no_such_database\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", cluster.port)),
        "{stderr}"
    );
    assert!(stderr.contains("postgresql://postgres:***@"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(json(stdout.as_bytes())["error"]["kind"], "not-found");
    for text in [&stderr, &*stdout] {
        assert!(!text.contains(&cluster.password), "{text}");
    }
    let exists: i64 = cluster
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(exists, 0);
}

#[test]
fn an_unreachable_server_is_exit_1_naming_host_and_port() {
    let port = unused_port();
    let secret = "hunter2-not-shown";
    let stderr = fails_with(
        &mut init(&format!(
            "postgresql://ada:{secret}@127.0.0.1:{port}/bomizzel"
        )),
        1,
    );
    assert!(
        stderr.contains(&format!("PostgreSQL server at 127.0.0.1:{port} (")),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(
        stderr.contains("check that the server is running"),
        "{stderr}"
    );
    assert!(!stderr.contains(secret), "{stderr}");

    let stderr = fails_with(
        &mut init("postgresql:///bomizzel?host=/nonexistent/socket/dir&port=5999"),
        1,
    );
    assert!(
        stderr.contains("at socket /nonexistent/socket/dir/.s.PGSQL.5999")
            && stderr.contains("No such file or directory"),
        "{stderr}"
    );
}

/// However it is given (in the URL, as a parameter, in PGPASSWORD), a wrong password is
/// refused and shown nowhere, --json included.
#[test]
fn a_wrong_password_is_refused_and_never_shown() {
    let db = PgDatabase::new();
    let wrong = "Wr0ng-pa55word";
    for (url, env) in [
        (db.url_as(&format!("postgres:{wrong}"), ""), None),
        (db.url_as("postgres", &format!("password={wrong}")), None),
        (db.url_as("postgres", ""), Some(wrong)),
    ] {
        let mut cmd = init(&url);
        cmd.arg("--json");
        if let Some(password) = env {
            cmd.env("PGPASSWORD", password);
        }
        let output = cmd.output().unwrap();
        let stderr = stderr_of(&output);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        assert!(
            stderr.contains("refused to log in \"postgres\"")
                && stderr.contains("password authentication failed"),
            "{stderr}"
        );
        assert_eq!(json(stdout.as_bytes())["error"]["kind"], "failure");
        for text in [&stderr, &*stdout] {
            assert!(!text.contains(wrong), "{url}: the password shows in {text}");
        }
    }
    assert_eq!(db.tables(), Vec::<String>::new());
}

#[test]
fn pgpassword_is_the_password_when_the_url_has_none() {
    let db = PgDatabase::new();
    let password = &db.cluster.password;
    let stderr = fails_with(&mut init(&db.url_as("postgres", "")), 1);
    assert!(
        stderr.contains(&format!(
            "give the password in the URL, in PGPASSWORD or in the password file \
             {NO_PASSWORD_FILE}"
        )),
        "{stderr}"
    );

    init(&db.url_as("postgres", ""))
        .env("PGPASSWORD", password)
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());

    // The URL's password comes first, as with libpq.
    let other = PgDatabase::new();
    init(&other.url())
        .env("PGPASSWORD", "not-this-one")
        .assert()
        .success();
}

/// A login role of the test's own (named after its database) with `password`, which the
/// cluster asks for over TCP; a superuser, so `init` may create tables.
fn role_with_password(db: &PgDatabase, password: &str) -> String {
    let role = format!("{}_login", db.name);
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{}'",
            password.replace('\'', "''")
        ))
        .expect("create the role");
    role
}

/// A password file for `role` on `db` over TCP, escapes and all, with lines around it that
/// must not be taken: a comment, other users and databases, a catch-all after it.
fn password_file_for(db: &PgDatabase, role: &str, password: &str, mode: u32) -> PasswordFile {
    use std::os::unix::fs::PermissionsExt;
    let port = db.cluster.port;
    let name = &db.name;
    let escaped = password.replace('\\', "\\\\").replace(':', "\\:");
    let text = format!(
        "# 127.0.0.1:{port}:{name}:{role}:not-a-line\n\
         127.0.0.1:{port}:{name}:someone_else:wrong-user\n\
         127.0.0.1:{port}:other_db:{role}:wrong-database\n\
         127.0.0.1:*:{name}:{role}:{escaped}\n\
         *:*:*:*:wrong-catch-all\n"
    );
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("pgpass");
    std::fs::write(&path, text).expect("write the password file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    PasswordFile { _dir: dir, path }
}

struct PasswordFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

/// A password with the characters the file escapes, made up for the run.
fn made_up_password() -> String {
    format!("pa:ss\\word-{}", uuid::Uuid::new_v4().simple())
}

/// A URL without a password logs in with the password file's (PGPASSFILE), read with its
/// escapes, the first line that matches winning.
#[test]
fn a_password_file_gives_the_password_a_url_leaves_out() {
    let db = PgDatabase::new();
    let password = made_up_password();
    let role = role_with_password(&db, &password);
    let file = password_file_for(&db, &role, &password, 0o600);
    let url = db.url_as(&role, "");
    let stderr = fails_with(&mut init(&url), 1);
    assert!(stderr.contains("give the password in the URL"), "{stderr}");

    // A wrong one is refused, the message naming where it came from, not what it is.
    let wrong = password_file_for(&db, &role, "wr0ng:pa55", 0o600);
    let stderr = fails_with(init(&url).env("PGPASSFILE", &wrong.path), 1);
    assert!(
        stderr.contains(&format!(
            "check the user name and the password in the password file {}",
            wrong.path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("pa55"), "{stderr}");
    assert_eq!(db.tables(), Vec::<String>::new());

    init(&url).env("PGPASSFILE", &file.path).assert().success();
    assert_eq!(db.tables(), schema_tables());
}

/// As libpq: a password file the group or others may read is not read, with a warning that
/// names it; the login then fails (1) and no password shows, --json included.
#[test]
fn a_password_file_others_may_read_is_ignored_with_a_warning() {
    let db = PgDatabase::new();
    let password = made_up_password();
    let role = role_with_password(&db, &password);
    let file = password_file_for(&db, &role, &password, 0o644);
    let url = db.url_as(&role, "");
    let output = init(&url)
        .arg("--json")
        .env("PGPASSFILE", &file.path)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let warning = format!(
        "bomizzel-backup: warning: password file \"{}\" has group or world access",
        file.path.display()
    );
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
    assert!(stderr.contains("password missing"), "{stderr}");
    assert_eq!(json(stdout.as_bytes())["error"]["kind"], "failure");
    let unescaped_tail = password.split(':').next_back().expect("a tail");
    for text in [&stderr, &*stdout] {
        for secret in [&*password, unescaped_tail, "wrong-"] {
            assert!(!text.contains(secret), "{secret} shows in {text}");
        }
    }
    assert_eq!(db.tables(), Vec::<String>::new());

    // The same file, private, is read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = init(&url).env("PGPASSFILE", &file.path).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(!stderr_of(&output).contains("warning"));
    assert_eq!(db.tables(), schema_tables());
}

/// An export that logs in with the password file's password shows it nowhere: not in its
/// messages (--verbose names the database by its URL), its --json report, nor its log row.
#[test]
fn a_password_from_the_file_is_in_no_report_or_log_row() {
    let backend = Backend::postgres();
    let Backend::Postgres(demo, pg) = &backend else {
        unreachable!("Backend::postgres is PostgreSQL")
    };
    let password = made_up_password();
    let role = role_with_password(pg, &password);
    let file = password_file_for(pg, &role, &password, 0o600);
    let output = pg_bin()
        .arg("--db")
        .arg(pg.url_as(&role, ""))
        .args(AS_ACME_ADMIN)
        .args(["--json", "--verbose", "export", "-o"])
        .arg(demo.out_path("pgpass.zip"))
        .env("PGPASSFILE", &file.path)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("opened the database {}", pg.url_as(&role, ""))),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows = backend.rows("SELECT * FROM data_export_logs");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let unescaped_tail = password.split(':').next_back().expect("a tail");
    for text in [&stderr, &*stdout, &rows.join("\n")] {
        assert!(
            !text.contains(unescaped_tail),
            "the password shows in {text}"
        );
    }
}

/// PGHOST (a socket directory, or a list), PGPORT, PGUSER and PGDATABASE fill a bare
/// `postgresql://`; what the URL says comes first.
#[test]
fn libpq_variables_fill_a_bare_url() {
    let db = PgDatabase::new();
    let cluster = db.cluster;
    init("postgresql://")
        .env("PGHOST", &cluster.dir)
        .env("PGPORT", cluster.port.to_string())
        .env("PGUSER", SUPERUSER)
        .env("PGDATABASE", &db.name)
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());

    // Lists: a server that is not there, then the socket; the URL's database over
    // PGDATABASE's, PGPASSWORD for TCP.
    let other = PgDatabase::new();
    let hosts = format!("127.0.0.1,{}", cluster.dir.display());
    init(&format!("postgresql:///{}", other.name))
        .env("PGHOST", hosts)
        .env("PGPORT", format!("{},{}", unused_port(), cluster.port))
        .env("PGUSER", SUPERUSER)
        .env("PGDATABASE", "no_such_database")
        .assert()
        .success();
    assert_eq!(other.tables(), schema_tables());

    // Over TCP, with the port in the URL and the rest from the environment.
    let tcp = PgDatabase::new();
    init(&format!("postgresql://127.0.0.1:{}", cluster.port))
        .env("PGUSER", SUPERUSER)
        .env("PGDATABASE", &tcp.name)
        .env("PGPASSWORD", &cluster.password)
        .assert()
        .success();
    assert_eq!(tcp.tables(), schema_tables());
}

/// The database defaults to the user's name, and the user to the OS user's (libpq's
/// defaults), when neither the URL nor the environment names them.
#[test]
fn the_database_defaults_to_the_user_and_the_user_to_the_os_user() {
    let db = PgDatabase::new();
    let cluster = db.cluster;
    db.client()
        .batch_execute(&format!("CREATE ROLE {} LOGIN SUPERUSER", db.name))
        .expect("a role named as the database");
    init("postgresql://")
        .env("PGHOST", &cluster.dir)
        .env("PGPORT", cluster.port.to_string())
        .env("PGUSER", &db.name)
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());

    // The OS user (root in CI), with a role and a database of that name.
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let os_user = String::from_utf8(id.stdout).unwrap().trim().to_owned();
    let mut admin = cluster.admin();
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{os_user}') THEN \
             CREATE ROLE \"{os_user}\" LOGIN SUPERUSER; END IF; END $$"
        ))
        .expect("a role named as the OS user");
    let has_database = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&os_user],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1;
    if !has_database {
        admin
            .batch_execute(&format!("CREATE DATABASE \"{os_user}\""))
            .expect("a database named as the OS user");
    }
    let socket = format!(
        "postgresql://?host={}&port={}",
        cluster.dir.display(),
        cluster.port
    );
    init(&socket).assert().success();
    let tables = cluster
        .connect(&os_user)
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = $1",
            &[&ToolTable::PruneLog.name()],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(tables, 1, "init did not reach the database {os_user:?}");
}

/// PGSSLMODE is the sslmode when the URL has none, and refused as the URL's would be.
#[test]
fn pgsslmode_is_the_sslmode_a_url_leaves_out() {
    let db = PgDatabase::new();
    // plain_only gets in over TCP without TLS only.
    let url = db.url_as("plain_only", "");
    let stderr = fails_with(init(&url).env("PGSSLMODE", "require"), 1);
    assert!(
        stderr.contains("refused to log in \"plain_only\""),
        "{stderr}"
    );
    let stderr = fails_with(init(&url).env("PGSSLMODE", "allow"), 2);
    assert!(
        stderr
            .contains("PGSSLMODE is not a value this tool can use: sslmode=allow is not supported"),
        "{stderr}"
    );
    assert_eq!(db.tables(), Vec::<String>::new());
    init(&db.url_as("plain_only", "sslmode=disable"))
        .env("PGSSLMODE", "require")
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());
}

/// `require` encrypts (a self-signed certificate is fine, as with libpq); `prefer` does when
/// the server offers it.
#[test]
fn sslmode_require_and_prefer_encrypt() {
    let db = PgDatabase::new();
    let password = format!("postgres:{}", db.cluster.password);
    for query in ["sslmode=require", "sslmode=prefer", ""] {
        assert!(
            tool_connection_uses_tls(&db.url_as(&password, query)),
            "{query}"
        );
    }
    binary_gets_in_only_as("require", "tls_only", "plain_only");
}

#[test]
fn sslmode_disable_does_not_encrypt() {
    let db = PgDatabase::new();
    let password = format!("postgres:{}", db.cluster.password);
    assert!(!tool_connection_uses_tls(
        &db.url_as(&password, "sslmode=disable")
    ));
    binary_gets_in_only_as("disable", "plain_only", "tls_only");
}

/// With `sslmode`, the binary's init is let in as `admitted` and refused as `refused`: the
/// server admits `tls_only` over TLS only and `plain_only` without it only, so this shows
/// what the binary itself negotiated.
fn binary_gets_in_only_as(sslmode: &str, admitted: &str, refused: &str) {
    let db = PgDatabase::new();
    let query = format!("sslmode={sslmode}");
    let stderr = fails_with(&mut init(&db.url_as(refused, &query)), 1);
    assert!(
        stderr.contains(&format!("refused to log in \"{refused}\"")),
        "{stderr}"
    );
    assert_eq!(db.tables(), Vec::<String>::new());
    init(&db.url_as(admitted, &query)).assert().success();
    assert_eq!(db.tables(), schema_tables());
}

#[test]
fn the_server_sees_the_tools_name() {
    let db = PgDatabase::new();
    let url = PgUrl::parse(&db.url()).unwrap();
    let name: String = pg::connect(&url)
        .unwrap()
        .query_one("SELECT current_setting('application_name')", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, APPLICATION_NAME);
}

/// `?host=/dir` and the percent-encoded directory in place of the host both reach the
/// server's socket; TLS is never used there, whatever sslmode says (as libpq).
#[test]
fn a_socket_directory_as_the_host() {
    let db = PgDatabase::new();
    init(&db.socket_url()).assert().success();
    assert_eq!(db.tables(), schema_tables());

    let other = PgDatabase::new();
    let encoded = other.cluster.dir.display().to_string().replace('/', "%2F");
    init(&format!(
        "postgresql://postgres@{encoded}:{}/{}?sslmode=require",
        other.cluster.port, other.name
    ))
    .assert()
    .success();
    assert_eq!(other.tables(), schema_tables());
}

/// `init` of `url` with HOME in a new empty directory (no `~/.postgresql` of the machine's
/// own), and that directory.
fn init_at_home(url: &str) -> (Command, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = init(url);
    cmd.env("HOME", home.path());
    for libpq in ["PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY"] {
        cmd.env_remove(libpq);
    }
    (cmd, home)
}

/// A cluster file's path, as a URL parameter's value (`sslrootcert=…`).
fn tls_file(db: &PgDatabase, parameter: &str, file: &str) -> String {
    format!("{parameter}={}", db.cluster.dir.join(file).display())
}

/// `verify-full` lets in only a server whose certificate an authority of `sslrootcert`
/// signed for the host of the URL; `verify-ca` does not look at the name. The name is the
/// URL's host, so `hostaddr` reaches the same server under a name its certificate does not
/// hold. Nothing is written where a check fails.
#[test]
fn verify_full_checks_the_authority_and_the_name_verify_ca_the_authority() {
    let db = PgDatabase::new();
    let ca = tls_file(&db, "sslrootcert", "ca.crt");
    let other = tls_file(&db, "sslrootcert", "other-ca.crt");
    for mode in ["verify-full", "verify-ca"] {
        let url = db.url_as("tls_only", &format!("sslmode={mode}&{other}"));
        let stderr = fails_with(&mut init_at_home(&url).0, 1);
        assert!(
            stderr.contains(&format!(
                "cannot connect to the PostgreSQL server at 127.0.0.1:{}",
                db.cluster.port
            )),
            "{mode}: {stderr}"
        );
        assert!(stderr.contains("UnknownIssuer"), "{mode}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "its certificate was checked against the root certificates in {}, and none of \
                 them signed it",
                db.cluster.dir.join("other-ca.crt").display()
            )),
            "{mode}: {stderr}"
        );
    }
    let misnamed = |mode: &str| {
        format!(
            "postgresql://tls_only@db.example:{}/{}?hostaddr=127.0.0.1&sslmode={mode}&{ca}",
            db.cluster.port, db.name
        )
    };
    let stderr = fails_with(&mut init_at_home(&misnamed("verify-full")).0, 1);
    assert!(
        stderr.contains("certificate not valid for name \"db.example\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("or use sslmode=verify-ca to check the authority only"),
        "{stderr}"
    );
    assert_eq!(db.tables(), Vec::<String>::new());
    init_at_home(&misnamed("verify-ca")).0.assert().success();
    assert_eq!(db.tables(), schema_tables());

    let named = PgDatabase::new();
    let url = named.url_as("tls_only", &format!("sslmode=verify-full&{ca}"));
    assert!(tool_connection_uses_tls(&url));
    init_at_home(&url).0.assert().success();
    assert_eq!(named.tables(), schema_tables());

    // The server's own certificate as the root: trusted as itself (as a self-signed one
    // copied into root.crt is), though its authority is not there.
    let pinned = PgDatabase::new();
    let itself = tls_file(&pinned, "sslrootcert", "server.crt");
    init_at_home(&pinned.url_as("tls_only", &format!("sslmode=verify-full&{itself}")))
        .0
        .assert()
        .success();
    assert_eq!(pinned.tables(), schema_tables());
}

/// The root certificates come from `sslrootcert`, else `PGSSLROOTCERT`, else
/// `~/.postgresql/root.crt`; where that file is, `require` checks the authority too (libpq's
/// rule); where none is, the modes that check are refused as not found (6), and a file named
/// that does not exist is not found in any mode.
#[test]
fn root_certificates_from_the_url_the_environment_or_home() {
    let db = PgDatabase::new();
    let dir = &db.cluster.dir;
    let (mut cmd, home) = init_at_home(&db.url_as("tls_only", "sslmode=verify-full"));
    let stderr = fails_with(&mut cmd, 6);
    let default = home.path().join(".postgresql/root.crt");
    assert!(
        stderr.contains(&format!(
            "the root certificate file {} does not exist",
            default.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("sslrootcert"), "{stderr}");
    // In the environment.
    let (mut cmd, _home) = init_at_home(&db.url_as("tls_only", "sslmode=verify-full"));
    let stderr = fails_with(cmd.env("PGSSLROOTCERT", dir.join("other-ca.crt")), 1);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    // Named, and missing: not found, whatever the mode.
    for mode in ["require", "verify-ca"] {
        let url = db.url_as(
            "tls_only",
            &format!("sslmode={mode}&sslrootcert=/nowhere/ca.pem"),
        );
        let stderr = fails_with(&mut init_at_home(&url).0, 6);
        assert!(
            stderr.contains("the root certificate file /nowhere/ca.pem does not exist"),
            "{mode}: {stderr}"
        );
    }
    // In the home directory: require checks the authority with it.
    let (mut cmd, home) = init_at_home(&db.url_as("tls_only", "sslmode=require"));
    let root = home.path().join(".postgresql/root.crt");
    fs::create_dir(home.path().join(".postgresql")).unwrap();
    fs::copy(dir.join("other-ca.crt"), &root).unwrap();
    let stderr = fails_with(&mut cmd, 1);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert_eq!(db.tables(), Vec::<String>::new());
    fs::copy(dir.join("ca.crt"), &root).unwrap();
    cmd.assert().success();
    assert_eq!(db.tables(), schema_tables());
}

/// A server that asks for a client certificate gets the one of `sslcert` and `sslkey` (or
/// `~/.postgresql/postgresql.crt` and `.key`); a key others may read is refused, as libpq
/// refuses it, and a certificate named that is not there is not found.
#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let db = PgDatabase::new();
    let dir = &db.cluster.dir;
    let plain = db.url_as("cert_only", "sslmode=require");
    let stderr = fails_with(&mut init_at_home(&plain).0, 1);
    assert!(
        stderr.contains("refused to log in \"cert_only\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("give a client certificate it accepts in sslcert and sslkey"),
        "{stderr}"
    );
    let named = format!(
        "{plain}&{}&{}",
        tls_file(&db, "sslcert", "client.crt"),
        tls_file(&db, "sslkey", "client.key")
    );
    init_at_home(&named).0.assert().success();
    assert_eq!(db.tables(), schema_tables());

    let db = PgDatabase::new();
    let plain = db.url_as("cert_only", "sslmode=require");
    let (mut cmd, home) = init_at_home(&plain);
    let own = home.path().join(".postgresql");
    fs::create_dir(&own).unwrap();
    fs::copy(dir.join("client.crt"), own.join("postgresql.crt")).unwrap();
    fs::copy(dir.join("client.key"), own.join("postgresql.key")).unwrap();
    fs::set_permissions(
        own.join("postgresql.key"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let stderr = fails_with(&mut cmd, 2);
    assert!(
        stderr.contains(&format!(
            "the key {} may be read or written by others (mode 644)",
            own.join("postgresql.key").display()
        )),
        "{stderr}"
    );
    assert_eq!(db.tables(), Vec::<String>::new());
    fs::set_permissions(
        own.join("postgresql.key"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    cmd.assert().success();
    assert_eq!(db.tables(), schema_tables());

    let missing = format!("{plain}&sslcert=/nowhere/client.crt");
    let stderr = fails_with(&mut init_at_home(&missing).0, 6);
    assert!(
        stderr.contains("the client certificate file /nowhere/client.crt does not exist"),
        "{stderr}"
    );
    let keyless = format!(
        "{plain}&{}&sslkey=/nowhere/client.key",
        tls_file(&db, "sslcert", "client.crt")
    );
    let stderr = fails_with(&mut init_at_home(&keyless).0, 6);
    assert!(
        stderr.contains("has no key: /nowhere/client.key does not exist"),
        "{stderr}"
    );
}

/// `sslrootcert=system` checks the server against the system's authorities (here made the
/// test authority, by `SSL_CERT_FILE`, which the system's store honours as OpenSSL does),
/// with the host's name; a weaker sslmode with it is a usage error.
#[test]
fn the_systems_roots_are_checked_with_verify_full_only() {
    let db = PgDatabase::new();
    let url = db.url_as("tls_only", "sslrootcert=system");
    let (mut cmd, _home) = init_at_home(&url);
    let stderr = fails_with(
        cmd.env("SSL_CERT_FILE", db.cluster.dir.join("other-ca.crt")),
        1,
    );
    assert!(
        stderr.contains(
            "its certificate was checked against the system's root certificates \
             (sslrootcert=system), and none of them signed it"
        ),
        "{stderr}"
    );
    let url = db.url_as("tls_only", "sslrootcert=system&sslmode=require");
    let stderr = fails_with(&mut init_at_home(&url).0, 2);
    assert!(
        stderr.contains("sslrootcert=system needs sslmode=verify-full"),
        "{stderr}"
    );
    assert_eq!(db.tables(), Vec::<String>::new());
    let url = db.url_as("tls_only", "sslrootcert=system");
    let (mut cmd, _home) = init_at_home(&url);
    cmd.env("SSL_CERT_FILE", db.cluster.dir.join("ca.crt"))
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());
}

/// A libpq variable that asks for a check the tool does not make is refused (2), not
/// ignored; one set to what asks for nothing is fine.
#[test]
fn libpq_variables_asking_for_checks_it_does_not_make_are_refused() {
    let db = PgDatabase::new();
    for (variable, value) in [
        ("PGSSLCRL", "/etc/ssl/revoked.pem"),
        ("PGGSSENCMODE", "require"),
        ("PGSSLMINPROTOCOLVERSION", "TLSv1.3"),
    ] {
        let (mut cmd, _home) = init_at_home(&db.url());
        let stderr = fails_with(cmd.env(variable, value), 2);
        assert!(
            stderr.contains(&format!(
                "{variable} is not a value this tool can use: it asks for a check"
            )),
            "{variable}: {stderr}"
        );
    }
    assert_eq!(db.tables(), Vec::<String>::new());
    let (mut cmd, _home) = init_at_home(&db.url());
    cmd.env("PGGSSENCMODE", "prefer")
        .env("PGSSLMINPROTOCOLVERSION", "TLSv1.2")
        .assert()
        .success();
    assert_eq!(db.tables(), schema_tables());
}

/// A service file's section reaches the server as with psql: named by `service=` or by
/// PGSERVICE, the file in PGSERVICEFILE, the URL's own parts first. A service no file has
/// is not found (6), and no other database is reached instead.
#[test]
fn a_service_names_the_server_as_with_psql() {
    let db = PgDatabase::new();
    let other = PgDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let services = files.path().join("services.conf");
    fs::write(
        &services,
        format!(
            "# the helpdesk\n[helpdesk]\nhost=127.0.0.1\nport={}\ndbname={}\nuser=tls_only\n\
             sslmode=require\n",
            db.cluster.port, db.name
        ),
    )
    .unwrap();
    let with_services = |url: &str| {
        let (mut cmd, home) = init_at_home(url);
        cmd.env("PGSERVICEFILE", &services)
            .env("PGSYSCONFDIR", files.path())
            .env_remove("PGSERVICE");
        (cmd, home)
    };
    let (mut cmd, _home) = with_services("postgresql://?service=helpdesk");
    cmd.assert().success();
    assert_eq!(db.tables(), schema_tables());
    let (mut cmd, _home) = with_services(&format!("postgresql:///{}", other.name));
    cmd.env("PGSERVICE", "helpdesk").assert().success();
    assert_eq!(other.tables(), schema_tables());
    let (mut cmd, _home) = with_services("postgresql://?service=nope");
    let stderr = fails_with(&mut cmd, 6);
    assert!(
        stderr.contains("the PostgreSQL service \"nope\" is in no service file"),
        "{stderr}"
    );
    assert!(stderr.contains(&services.display().to_string()), "{stderr}");
}

#[test]
fn an_sslmode_it_does_not_support_is_a_usage_error() {
    let stderr = fails_with(
        &mut init("postgresql://ada:hunter2@db.example/bomizzel?sslmode=allow"),
        2,
    );
    assert!(
        stderr.contains("sslmode=allow is not supported"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// The export's records, by section, with the manifest's counts: what must not depend on
/// the backend.
fn exported(backend: &Backend, name: &str, extra: &[&str]) -> (Value, Archive) {
    let path = backend.demo().out_path(name);
    let report = json_ok(
        backend
            .acme()
            .arg("--json")
            .arg("export")
            .arg("-o")
            .arg(&path)
            .args(extra),
    );
    (report, Archive::read(&path))
}

/// An export from PostgreSQL holds the same records, in the same order, as one of the same
/// data from SQLite, in both containers and with a date window; it is logged in the
/// database's own export log.
#[test]
fn export_gives_the_same_records_from_either_backend() {
    let [sqlite, postgres] = Backend::both();
    for (name, extra) in [
        ("all.zip", &[][..]),
        ("all.json", &[]),
        (
            "window.zip",
            &["--since", "2026-01-01", "--until", "2026-06-30"],
        ),
    ] {
        let (sqlite_report, from_sqlite) = exported(&sqlite, name, extra);
        let (pg_report, from_pg) = exported(&postgres, name, extra);
        assert_eq!(from_pg.sections, from_sqlite.sections, "{name}");
        assert!(!from_pg.records("tickets").is_empty() || !extra.is_empty());
        assert_eq!(pg_report["counts"], sqlite_report["counts"], "{name}");
        assert_eq!(
            from_pg.manifest["company"], from_sqlite.manifest["company"],
            "{name}"
        );
    }
    let Backend::Postgres(_, pg) = &postgres else {
        unreachable!()
    };
    let logged: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM data_export_logs", &[])
        .expect("count the export log")
        .get(0);
    assert_eq!(logged, 3);
}

/// An export's snapshot is PostgreSQL's `REPEATABLE READ, READ ONLY`: a company it cannot
/// find is not found (exit 6) and the message shows the URL masked.
#[test]
fn an_unknown_company_on_postgres_is_not_found_without_the_password() {
    let backend = Backend::postgres();
    let mut cmd = pg_bin();
    cmd.arg("--db")
        .arg(backend.db())
        .args(["--company", "Nope Inc", "--actor", "ada@acme.example"])
        .args(["export", "-o", "-"]);
    let stderr = fails_with(&mut cmd, 6);
    assert!(stderr.contains("company not found"), "{stderr}");
    assert!(!stderr.contains(cluster().password.as_str()), "{stderr}");
}

/// `history` reads PostgreSQL's logs as SQLite's: the exports listed newest first, one in
/// full by its id, and `--json` the same on both backends.
#[test]
fn history_lists_exports_on_either_backend() {
    for backend in Backend::both() {
        let (first, _) = exported(&backend, "first.zip", &[]);
        let (second, _) = exported(&backend, "second.json", &[]);
        let listed = json_ok(
            backend
                .acme()
                .args(["--json", "history", "--kind", "export"]),
        );
        let ids: Vec<&str> = listed
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|entry| entry["id"].as_str())
            .collect();
        let first_id = first["exportId"].as_str().expect("an export id");
        let second_id = second["exportId"].as_str().expect("an export id");
        assert!(
            ids.contains(&first_id) && ids.contains(&second_id),
            "{ids:?}"
        );
        let one = json_ok(backend.acme().args(["--json", "history", first_id]));
        assert_eq!(one["id"], first_id, "{one}");
        assert_eq!(one["kind"], "export", "{one}");
        let limited = json_ok(backend.acme().args(["--json", "history", "--limit", "1"]));
        assert_eq!(limited.as_array().map(Vec::len), Some(1), "{limited}");
    }
}

/// A fresh `init`ed PostgreSQL database, and its `--db` value.
fn empty_postgres() -> (PgDatabase, String) {
    let pg = PgDatabase::new();
    let url = pg.url();
    init(&url).assert().success();
    (pg, url)
}

/// `import --create-company FILE` into `db` as Acme's admin (the archive's own admin).
fn restore_into(db: &std::ffi::OsStr, archive: &std::path::Path) {
    let mut cmd = pg_bin();
    cmd.arg("--db")
        .arg(db)
        .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
        .arg(archive);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
}

/// Exports Acme from `db` to `path` and reads it.
fn export_from(db: &std::ffi::OsStr, path: &std::path::Path) -> Archive {
    let mut cmd = pg_bin();
    cmd.arg("--db")
        .arg(db)
        .args(AS_ACME_ADMIN)
        .args(["export", "-o"])
        .arg(path);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    Archive::read(path)
}

/// SQLite → archive → PostgreSQL (`--create-company`, a restore onto a new server) →
/// archive gives the same records, and so does that archive restored into a new SQLite
/// database, and that one's archive restored onto another PostgreSQL database: archives
/// move between deployments of either backend without a loss.
#[test]
fn a_round_trip_through_postgres_keeps_every_record() {
    let demo = Demo::new();
    // Text that COPY's text format must escape (tab, CR, LF, backslash, its NULL `\N` and
    // end-of-data `\.` spelled out), also inside JSON.
    demo.conn()
        .execute_batch(&format!(
            "UPDATE tickets SET title = 'tab' || char(9) || 'cr' || char(13) || 'lf' || char(10),
                    description = 'a \\N b \\ c \\\\ d \\t e \\.'
              WHERE id = (SELECT min(id) FROM tickets WHERE company_id = '{acme}');
             UPDATE ticket_notes SET content = '\\.' || char(10) || '\\.',
                    email_metadata = json_object('subject', 'x' || char(9) || '\\N\\')
              WHERE id = (SELECT min(n.id) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id
                          WHERE t.company_id = '{acme}');",
            acme = ids::ACME
        ))
        .unwrap();
    let first_path = demo.export_acme("first.zip");
    let first = Archive::read(&first_path);
    let titles: Vec<&str> = first
        .records("tickets")
        .iter()
        .filter_map(|ticket| ticket["title"].as_str())
        .collect();
    assert!(titles.contains(&"tab\tcr\rlf\n"), "{titles:?}");

    let (_pg, url) = empty_postgres();
    restore_into(url.as_ref(), &first_path);
    let from_pg = export_from(url.as_ref(), &demo.out_path("from-pg.zip"));
    assert_eq!(from_pg.sections, first.sections);
    assert_eq!(from_pg.manifest["company"], first.manifest["company"]);

    let sqlite = demo.dir.path().join("again.db");
    pg_bin()
        .arg("--db")
        .arg(&sqlite)
        .arg("init")
        .assert()
        .success();
    restore_into(sqlite.as_os_str(), &demo.out_path("from-pg.zip"));
    let again = export_from(sqlite.as_os_str(), &demo.out_path("again.zip"));
    assert_eq!(again.sections, first.sections);

    // And back onto a second PostgreSQL server: PostgreSQL → archive → SQLite → archive →
    // PostgreSQL, the same records all the way.
    let (_pg2, url2) = empty_postgres();
    restore_into(url2.as_ref(), &demo.out_path("again.zip"));
    let back = export_from(url2.as_ref(), &demo.out_path("back.zip"));
    assert_eq!(back.sections, from_pg.sections);
}

/// The web app's own export files (each of its quirks), and an archive encrypted to an age
/// key, restore onto PostgreSQL as onto SQLite: the same report, and an export of what each
/// restored gives the same records.
#[test]
fn web_app_files_and_encrypted_archives_restore_onto_either_backend() {
    let demo = Demo::new();
    let key = age_key(demo.dir.path(), "ops");
    let plain = demo.export_acme("acme.zip");
    let sealed = demo.out_path("acme.zip.age");
    pg_bin()
        .arg("--db")
        .arg(&demo.db)
        .args(AS_ACME_ADMIN)
        .args(["export", "-r", &key.recipient, "-o"])
        .arg(&sealed)
        .assert()
        .success();
    let web_app: Vec<(&str, std::path::PathBuf)> = WEB_APP_FILES
        .iter()
        .map(|(name, admin)| {
            let file = crate::support::fixture_archive(&format!("webapp/{name}.json"));
            (*admin, file)
        })
        .collect();
    let export_as = |db: &std::ffi::OsStr, actor: &str, path: &std::path::Path| -> Archive {
        pg_bin()
            .arg("--db")
            .arg(db)
            .args(["--actor", actor, "export", "-o"])
            .arg(path)
            .assert()
            .success();
        Archive::read(path)
    };
    // Each file onto a new database of each backend, as its own admin.
    let mut restores: Vec<_> = web_app
        .iter()
        .map(|(admin, file)| (*admin, file, None))
        .collect();
    restores.push((ids::ACME_ADMIN, &sealed, Some(&key.identity)));
    let mut restored = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let mut exports = Vec::new();
        for (n, (actor, file, identity)) in restores.iter().enumerate() {
            let pg = PgDatabase::new();
            let db: std::ffi::OsString = match backend {
                "sqlite" => demo.dir.path().join(format!("restored-{n}.db")).into(),
                _ => pg.url().into(),
            };
            pg_bin().arg("--db").arg(&db).arg("init").assert().success();
            let mut import = pg_bin();
            import
                .arg("--db")
                .arg(&db)
                .args(["--actor", actor, "import", "--create-company"]);
            if let Some(identity) = identity {
                import.arg("-i").arg(identity);
            }
            let mut report = json_ok(import.arg("--json").arg(file));
            // What differs by run: when, which database, how long.
            for varying in [
                "importId",
                "startedAt",
                "finishedAt",
                "database",
                "durationMs",
            ] {
                report.as_object_mut().unwrap().remove(varying);
            }
            // Into a new PostgreSQL database, tickets are a bulk load; SQLite has none.
            let bulk = report.as_object_mut().unwrap().remove("bulkLoad");
            let has_tickets = report["outcomes"]["tickets"]["created"] != 0;
            let expected = (backend == "postgres" && has_tickets).then_some(Value::Bool(true));
            assert_eq!(bulk, expected, "{backend}: {report}");
            // And the users, into a database with none, on PostgreSQL.
            let bulk_users = report.as_object_mut().unwrap().remove("bulkLoadUsers");
            let expected = (backend == "postgres").then_some(Value::Bool(true));
            assert_eq!(bulk_users, expected, "{backend}: {report}");
            let out = demo.out_path(&format!("{backend}-{n}.zip"));
            exports.push((report, export_as(&db, actor, &out).sections));
        }
        restored.push(exports);
    }
    let (sqlite, postgres) = (&restored[0], &restored[1]);
    assert_eq!(sqlite.last().unwrap().1, Archive::read(&plain).sections);
    assert_eq!(sqlite.len(), WEB_APP_FILES.len() + 1);
    for (n, (on_sqlite, on_postgres)) in sqlite.iter().zip(postgres).enumerate() {
        assert_eq!(on_postgres.0, on_sqlite.0, "the report of file {n}");
        assert_eq!(on_postgres.1, on_sqlite.1, "the records of file {n}");
        assert!(!on_sqlite.1.is_empty());
    }
}

/// Moving to a new account in the same database: Acme's archive imported into Initech (an
/// empty company) gets a fresh id for each ticket, note, history entry and attachment, each
/// recorded in the id map, with every reference pointing at the copies; Acme's rows stay as
/// they were, on either backend.
#[test]
fn a_copy_into_another_company_gets_fresh_ids_on_either_backend() {
    let with_initech = || {
        let demo = Demo::new();
        add_initech(&demo.conn());
        demo
    };
    for backend in [
        Backend::Sqlite(with_initech()),
        Backend::postgres_of(with_initech()),
    ] {
        let (_, archive) = exported(&backend, "acme.zip", &[]);
        let in_archive = RecordIds::in_archive(&archive);
        let acme = backend.company_rows(ids::ACME);
        let report = json_ok(
            pg_bin()
                .arg("--db")
                .arg(backend.db())
                .args(["--company", "Initech", "--actor", "ian@initech.example"])
                .args(["--json", "import"])
                .arg(backend.demo().out_path("acme.zip")),
        );
        assert_eq!(report["status"], "ok", "{report}");
        assert_eq!(backend.company_rows(ids::ACME), acme, "Acme's rows changed");

        let count = |sql: String| -> usize {
            let rows = backend.rows(&format!("SELECT count(*) FROM ({sql}) x"));
            let digits: String = rows[0].chars().filter(char::is_ascii_digit).collect();
            digits.parse().unwrap()
        };
        let initech_tickets = format!("SELECT id FROM tickets WHERE company_id = '{INITECH}'");
        for (kind, table, owner, expected) in [
            (
                "ticket",
                "tickets",
                "company_id = '{INITECH}'",
                in_archive.tickets.len(),
            ),
            (
                "note",
                "ticket_notes",
                "ticket_id IN ({T})",
                in_archive.notes.len(),
            ),
            (
                "history",
                "ticket_history",
                "ticket_id IN ({T})",
                in_archive.history.len(),
            ),
            (
                "attachment",
                "file_attachments",
                "ticket_id IN ({T})",
                in_archive.attachments.len(),
            ),
        ] {
            assert!(expected > 0, "{kind}");
            let owner = owner
                .replace("{INITECH}", INITECH)
                .replace("{T}", &initech_tickets);
            let rows = format!("SELECT id FROM {table} WHERE {owner}");
            assert_eq!(count(rows.clone()), expected, "Initech's {table}");
            let remapped = format!(
                "SELECT 1 FROM bomizzel_backup_id_map m JOIN {table} r ON r.id = m.local_id
                 WHERE m.company_id = '{INITECH}' AND m.kind = '{kind}'
                   AND m.archive_id <> m.local_id AND r.id IN ({rows})"
            );
            assert_eq!(count(remapped), expected, "fresh {kind} ids in the id map");
        }
        let attached_notes = archive
            .records("attachments")
            .iter()
            .filter(|attachment| !attachment["noteId"].is_null())
            .count();
        assert!(attached_notes > 0);
        let on_copies = format!(
            "SELECT 1 FROM file_attachments a JOIN ticket_notes n ON n.id = a.note_id
             WHERE n.ticket_id IN ({initech_tickets}) AND a.ticket_id = n.ticket_id"
        );
        assert_eq!(
            count(on_copies),
            attached_notes,
            "attachments on the copied notes"
        );

        // Again, as a nightly run would: every record is found through the id map.
        let initech = backend.company_rows(INITECH);
        for (policy, outcome) in [
            ("--skip-duplicates", "skipped"),
            ("--overwrite", "unchanged"),
        ] {
            let again = json_ok(
                pg_bin()
                    .arg("--db")
                    .arg(backend.db())
                    .args(["--company", "Initech", "--actor", "ian@initech.example"])
                    .args(["--json", "import", "--yes", policy])
                    .arg(backend.demo().out_path("acme.zip")),
            );
            for (kind, records) in [
                ("tickets", in_archive.tickets.len()),
                ("notes", in_archive.notes.len()),
                ("history", in_archive.history.len()),
                ("attachments", in_archive.attachments.len()),
            ] {
                let found = &again["outcomes"][kind][outcome];
                assert_eq!(found, records as u64, "{policy} {kind}: {again}");
            }
            assert_eq!(backend.company_rows(INITECH), initech, "{policy}");
        }
    }
}

/// Imports into Acme under every policy change nothing of Globex, byte for byte, on either
/// backend; a strict import of what exists is a conflict (exit 4) that writes nothing.
#[test]
fn imports_leave_another_company_alone_on_either_backend() {
    for backend in Backend::both() {
        exported(&backend, "acme.zip", &[]);
        let archive = backend.demo().out_path("acme.zip");
        // Something for each import to write: a ticket to bring back, a title to put back.
        backend.execute(&format!(
            "DELETE FROM tickets WHERE id = (SELECT min(id) FROM tickets
               WHERE company_id = '{acme}');
             UPDATE tickets SET title = 'EDITED' WHERE id = (SELECT max(id) FROM tickets
               WHERE company_id = '{acme}');",
            acme = ids::ACME
        ));
        let globex = backend.company_rows(ids::GLOBEX);
        assert!(globex.iter().any(|(_, rows)| !rows.is_empty()));

        let before = backend.app_rows();
        let stderr = fails_with(backend.acme().arg("import").arg(&archive), 4);
        assert!(stderr.contains("Email already exists"), "{stderr}");
        assert_eq!(backend.app_rows(), before, "a refused strict import wrote");
        // The plan against the database says the same, and writes nothing either.
        fails_with(
            backend
                .acme()
                .args(["import", "--validate-only"])
                .arg(&archive),
            4,
        );
        assert_eq!(backend.app_rows(), before, "a validation wrote");

        for policy in ["--skip-duplicates", "--overwrite"] {
            let report = json_ok(
                backend
                    .acme()
                    .args(["--json", "import", "--yes", policy])
                    .arg(&archive),
            );
            assert_eq!(report["status"], "ok", "{report}");
            assert_eq!(backend.company_rows(ids::GLOBEX), globex, "{policy}");
        }
        let titles = backend.rows("SELECT title FROM tickets WHERE title = 'EDITED'");
        assert!(titles.is_empty(), "{titles:?}");
        let again = export_from(&backend.db(), &backend.demo().out_path("again.zip"));
        assert_eq!(again.sections, Archive::read(&archive).sections);
    }
}

/// A lock another connection holds outlasts `--busy-timeout`: a table's (the web app
/// writing), or the company's import lock (another import into it): exit 7, busy, the URL
/// masked in the message, and nothing written but the failed import's log row.
#[test]
fn an_import_waiting_on_a_lock_is_busy_and_writes_nothing() {
    let backend = Backend::postgres();
    let Backend::Postgres(_, pg) = &backend else {
        unreachable!()
    };
    exported(&backend, "acme.zip", &[]);
    let archive = backend.demo().out_path("acme.zip");
    backend.execute(&format!(
        "DELETE FROM tickets WHERE company_id = '{}'",
        ids::ACME
    ));
    let before = backend.app_rows();
    let holds = [
        "LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE".to_owned(),
        format!(
            "SELECT pg_advisory_xact_lock(hashtext('bomizzel-import:' || '{}'))",
            ids::ACME
        ),
    ];
    for (n, hold) in holds.iter().enumerate() {
        let mut holder = pg.client();
        let mut lock = holder.transaction().unwrap();
        lock.batch_execute(hold).unwrap();
        let output = backend
            .acme()
            .args([
                "--busy-timeout",
                "1",
                "--json",
                "import",
                "--skip-duplicates",
            ])
            .arg(&archive)
            .output()
            .unwrap();
        lock.rollback().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(7), "{hold}: {stderr}");
        assert!(stderr.contains("--busy-timeout (1s)"), "{stderr}");
        assert!(stderr.contains(":***@127.0.0.1"), "{stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(json(stdout.as_bytes())["error"]["kind"], "busy");
        for text in [&stderr, &*stdout] {
            assert!(!text.contains(&cluster().password), "{text}");
        }
        assert_eq!(backend.app_rows(), before, "{hold}");
        let logged = backend.rows("SELECT imported_data FROM data_import_logs");
        assert_eq!(logged.len(), n + 1, "{logged:?}");
        assert!(
            logged.iter().all(|row| row.contains("failed")),
            "{logged:?}"
        );
    }
    // Once the lock is gone, the same import goes through.
    backend
        .acme()
        .args(["import", "--skip-duplicates"])
        .arg(&archive)
        .assert()
        .success();
    assert_ne!(backend.app_rows(), before);
}

/// Two imports into different companies that both bring the same new user: the second
/// waits for the first (within `--busy-timeout`) and then links the user the first made,
/// where it used to fail on the unique email. The first is played by a connection that
/// holds the user's lock with the user inserted, as an import about to create it does.
#[test]
fn a_user_another_import_is_creating_is_waited_for_and_then_linked() {
    let backend = Backend::postgres();
    let Backend::Postgres(demo, pg) = &backend else {
        unreachable!()
    };
    let archive = edited_acme_json(demo, |doc| {
        let users = doc["data"]["users"].as_array_mut().unwrap();
        let mut newbie = users[0].clone();
        newbie["id"] = "a0000000-0000-4000-8000-0000000000ee".into();
        newbie["email"] = "newbie@example.com".into();
        users.push(newbie);
    });
    let mut holder = pg.client();
    let mut other = holder.transaction().unwrap();
    other
        .batch_execute(
            "SELECT pg_advisory_xact_lock(hashtext('bomizzel-email:' || 'newbie@example.com'));
             INSERT INTO users (id, email, role, created_at, updated_at)
             VALUES ('a0000000-0000-4000-8000-0000000000ff', 'Newbie@Example.com', 'customer',
                     '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');",
        )
        .unwrap();
    let archive_arg = archive.to_str().unwrap();
    let import = acme_command(
        backend.db(),
        &[
            "--busy-timeout",
            "60",
            "import",
            "--skip-duplicates",
            archive_arg,
        ],
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("start the binary");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let waiting = pg
        .client()
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(waiting, 1, "the import waits for the user's lock");
    other.commit().unwrap();
    let output = import.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let newbie = backend.rows(
        "SELECT u.id, a.company_id FROM users u JOIN user_company_associations a
           ON a.user_id = u.id WHERE lower(u.email) = 'newbie@example.com'",
    );
    assert_eq!(
        newbie,
        [format!(
            "(a0000000-0000-4000-8000-0000000000ff,{})",
            ids::ACME
        )]
    );
}

/// `prune` deletes an old archive on either backend and `history` shows it pruned;
/// `import --export-id` restores from a recorded archive.
#[test]
fn prune_and_import_by_export_id_on_either_backend() {
    for backend in Backend::both() {
        let export = |name: &str| -> String {
            let (report, _) = exported(&backend, name, &[]);
            report["exportId"].as_str().expect("exportId").to_owned()
        };
        let old = export("old.zip");
        let kept = export("kept.zip");
        backend.execute(&format!(
            "UPDATE data_export_logs SET created_at = '2020-01-01T00:00:00.000Z'
             WHERE export_id = '{old}'"
        ));
        let report = json_ok(backend.acme().args([
            "--json",
            "prune",
            "--older-than",
            "30d",
            "--keep-last",
            "1",
        ]));
        let deleted: Vec<&str> = report["deleted"]
            .as_array()
            .expect("deleted")
            .iter()
            .filter_map(|a| a["exportId"].as_str())
            .collect();
        assert_eq!(deleted, [old.as_str()], "{report}");
        assert!(!backend.demo().out_path("old.zip").exists());
        assert!(backend.demo().out_path("kept.zip").exists());
        let entry = json_ok(backend.acme().args(["--json", "history", &old]));
        assert!(
            entry.to_string().contains("pruned"),
            "history does not show {old} pruned: {entry}"
        );
        // The pruned one is gone (6); the kept one restores what was deleted since.
        fails_with(
            backend
                .acme()
                .args(["import", "--skip-duplicates", "--export-id", &old]),
            6,
        );
        let before = backend.rows("SELECT id FROM tickets");
        backend.execute(&format!(
            "DELETE FROM tickets WHERE id = (SELECT min(id) FROM tickets
               WHERE company_id = '{}')",
            ids::ACME
        ));
        json_ok(backend.acme().args([
            "--json",
            "import",
            "--skip-duplicates",
            "--export-id",
            &kept,
        ]));
        assert_eq!(backend.rows("SELECT id FROM tickets"), before);
    }
}

/// `import --validate-only` with a URL plans against that database (SPEC: a PostgreSQL URL
/// is always a database): one that does not exist is not found (6), never a check of the
/// file alone; one that does gives the plan, and writes nothing.
#[test]
fn validate_only_with_a_url_plans_against_the_database() {
    let archive = crate::support::fixture_archive("webapp/webapp-full.zip");
    let missing = PgDatabase::new();
    let url = missing.url().replace(&missing.name, "no_such_database");
    let mut cmd = pg_bin();
    cmd.args(["--db", &url, "import", "--validate-only"])
        .arg(&archive);
    let stderr = fails_with(&mut cmd, 6);
    assert!(stderr.contains("database not found"), "{stderr}");
    assert!(!stderr.contains(&cluster().password), "{stderr}");

    let (pg, url) = empty_postgres();
    let mut cmd = pg_bin();
    cmd.args(["--db", &url, "--actor", "adam@full.example", "--json"])
        .args(["import", "--validate-only", "--create-company"])
        .arg(&archive);
    let report = json_ok(&mut cmd);
    assert_eq!(report["status"], "validated", "{report}");
    assert_eq!(report["outcomes"]["tickets"]["created"], 4, "{report}");
    let companies = pg.count("companies");
    assert_eq!(companies, 0);
}

/// An import SIGKILLed in the middle (the crash tests' bulk archive, a thousand tickets,
/// killed once its transaction has written a megabyte of notes) leaves every table of the
/// database as it was, every company's rows and the logs: the server rolls the transaction
/// back when the connection drops. The same import then goes through, and is the only one
/// logged.
#[test]
fn a_killed_import_leaves_the_database_as_it_was() {
    let backend = Backend::postgres();
    let Backend::Postgres(demo, pg) = &backend else {
        unreachable!()
    };
    let archive = demo.out_path("bulk.json");
    std::fs::write(&archive, bulk_archive()).expect("write the archive");
    let archive_arg = archive.to_str().expect("a UTF-8 path");
    let before = backend.every_row();
    let acme_tickets = format!("SELECT id FROM tickets WHERE company_id = '{}'", ids::ACME);
    let tickets_before = backend.rows(&acme_tickets).len();

    let mut watcher = pg.client();
    let mut notes_bytes = || -> i64 {
        watcher
            .query_one("SELECT pg_total_relation_size('ticket_notes')", &[])
            .expect("the size of ticket_notes")
            .get(0)
    };
    let start = notes_bytes();
    let mut child = acme_command(backend.db(), &["import", "--skip-duplicates", archive_arg])
        .spawn()
        .expect("start the binary");
    let mut written = 0;
    let took = kill_when(&mut child, "import", || {
        written = notes_bytes() - start;
        written > 1 << 20
    });
    eprintln!("killed after {took:?}, with {written} bytes of notes written and not committed");

    // The server sees the connection close and ends its session, rolling back.
    let started = std::time::Instant::now();
    while pg.sessions_of(APPLICATION_NAME) > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the killed import's session is still open"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_same_rows(&before, &backend.every_row(), "after the kill");

    // Nothing is left locked: the same import goes through, whole, and alone in the log.
    backend
        .acme()
        .args(["-q", "import", "--skip-duplicates"])
        .arg(&archive)
        .assert()
        .success();
    assert_eq!(
        backend.rows(&acme_tickets).len(),
        tickets_before + crate::crash::TICKETS as usize
    );
    let logged: Vec<String> = pg
        .client()
        .query("SELECT imported_data->>'status' FROM data_import_logs", &[])
        .expect("read the import log")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(logged, ["ok"], "only the completed import is logged");
}

/// An export while another connection keeps inserting into the company (each transaction
/// a ticket, its two notes, its history and an attachment, and a note on an older ticket)
/// is one snapshot: exactly the writer's first k transactions, whole, for a k committed
/// while the export ran, and the writer is never held up by it (the concurrency tests'
/// checks, on PostgreSQL's `REPEATABLE READ` transaction).
#[test]
fn an_export_during_inserts_is_one_snapshot() {
    let demo = Demo::new();
    // Enough that the export runs a while, with the writer going all the time.
    fill_tickets(&demo.conn(), ids::ACME, &ACME_PEOPLE, 0xc1, 400, 300);
    let people = acme_people(&demo.conn());
    let backend = Backend::postgres_of(demo);
    let Backend::Postgres(demo, pg) = &backend else {
        unreachable!()
    };
    let mut writer = pg.client();
    let moment = export_while_writing(
        demo,
        backend.acme(),
        people,
        move |statements| {
            writer
                .batch_execute(&format!("BEGIN; {statements} COMMIT;"))
                .expect("a writer transaction");
        },
        "postgres",
    );
    moment.assert_writes_went_on();
    let written = backend.rows("SELECT id FROM tickets WHERE id LIKE 'b0c0ffee-%'");
    assert_eq!(written.len() as u64, moment.total);
}

/// The keys, indexes and foreign keys of the tables a bulk load fills (and those naming
/// them), as (name, oid, definition), by name: a bulk load makes each again (new oids),
/// the same (same definitions).
fn keys_and_indexes(pg: &PgDatabase) -> Vec<(String, i64, String)> {
    pg.client()
        .query(
            "WITH t AS (SELECT oid FROM pg_class WHERE relname IN
                        ('tickets', 'ticket_notes', 'ticket_history', 'file_attachments',
                         'users', 'user_company_associations'))
             SELECT conname::text, oid::int8, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE (conrelid IN (SELECT oid FROM t) OR confrelid IN (SELECT oid FROM t))
               AND contype <> 'c'
             UNION ALL
             SELECT indexrelid::regclass::text, indexrelid::int8, pg_get_indexdef(indexrelid)
             FROM pg_index WHERE indrelid IN (SELECT oid FROM t)
             ORDER BY 1, 3",
            &[],
        )
        .expect("list keys and indexes")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// Names and definitions, oids aside.
fn definitions(keys: &[(String, i64, String)]) -> Vec<(&str, &str)> {
    keys.iter()
        .map(|(name, _, def)| (name.as_str(), def.as_str()))
        .collect()
}

/// A new `init`ed database, with an index of the operator's own on tickets, and the crash
/// tests' bulk archive (a thousand of Acme's tickets) written next to it.
fn empty_database_and_bulk_archive() -> (PgDatabase, tempfile::TempDir, String) {
    let pg = PgDatabase::new();
    init(&pg.url()).assert().success();
    pg.client()
        .batch_execute(
            "CREATE INDEX operators_own ON tickets (lower(title)) WHERE status <> 'closed'",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bulk.json");
    std::fs::write(&archive, bulk_archive()).unwrap();
    let archive = archive.to_str().unwrap().to_owned();
    (pg, dir, archive)
}

/// A role that carries tight timeouts, as managed servers set them, does not cancel the
/// tool's work: each session starts as pg_dump's does, with no statement or
/// idle-in-transaction timeout. Init, a bulk import, a re-import and an export all finish.
#[test]
fn a_roles_timeouts_do_not_cancel_the_work() {
    let pg = PgDatabase::new();
    let role = format!("hurried_{}", pg.name);
    pg.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN SUPERUSER;
             ALTER ROLE {role} SET statement_timeout = '250ms';
             ALTER ROLE {role} SET idle_in_transaction_session_timeout = '1ms';"
        ))
        .unwrap();
    let cluster = &pg.cluster;
    // The role's own sessions have them: a statement of 300 ms is cancelled.
    let slow = postgres::Config::new()
        .host_path(&cluster.dir)
        .port(cluster.port)
        .user(&role)
        .dbname(&pg.name)
        .connect(postgres::NoTls)
        .unwrap()
        .batch_execute("SELECT pg_sleep(0.3)");
    assert!(
        slow.is_err_and(|e| e.to_string().contains("timeout") || format!("{e:?}").contains("57014")),
        "the role's statement_timeout did not hold"
    );
    let url = pg.socket_url_as(&role);
    init(&url).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bulk.json");
    std::fs::write(&archive, bulk_archive()).unwrap();
    let out = dir.path().join("again.zip");
    for args in [
        vec!["import", "--create-company", archive.to_str().unwrap()],
        vec!["import", "--skip-duplicates", archive.to_str().unwrap()],
        vec!["export", "-o", out.to_str().unwrap()],
    ] {
        pg_bin()
            .args(["--db", &url, "--actor", ids::ACME_ADMIN])
            .args(&args)
            .assert()
            .success();
    }
    let tickets = json(bulk_archive())["data"]["tickets"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(pg.count("tickets"), tickets as i64);
    assert!(Archive::read(&out).sections.contains_key("tickets"));
}

/// A role that may read everything and write nothing (one made for pg_dump) gets no
/// archive: its export could not be recorded in the log, so it is refused before a file
/// is written. With INSERT on the export log, the same role exports.
#[test]
fn a_role_that_cannot_write_the_export_log_gets_no_archive() {
    let (pg, dir, archive) = empty_database_and_bulk_archive();
    pg_bin()
        .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN])
        .args(["import", "--create-company", &archive])
        .assert()
        .success();
    let role = format!("reader_{}", pg.name);
    pg.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
        ))
        .unwrap();
    let url = pg.socket_url_as(&role);
    let out = dir.path().join("read.zip");
    let export = || {
        let mut cmd = pg_bin();
        cmd.args(["--db", &url, "--actor", ids::ACME_ADMIN, "export", "-o"])
            .arg(&out);
        cmd
    };
    let stderr = fails_with(&mut export(), 1);
    assert!(
        stderr.contains("does not let this role add rows to data_export_logs")
            && stderr.contains("nothing was done"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(pg.count("data_export_logs"), 0);
    pg.client()
        .batch_execute(&format!("GRANT INSERT ON data_export_logs TO {role}"))
        .unwrap();
    export().assert().success();
    assert!(out.exists());
    assert_eq!(pg.count("data_export_logs"), 1);
}

/// A restore into an empty database is a bulk load: the tables' keys, indexes (the
/// operator's own too) and foreign keys are set aside and made again, the same, and every
/// row is in; the foreign keys hold afterwards as before. The users' and memberships'
/// too, as the database has no users.
#[test]
fn a_restore_into_an_empty_database_loads_in_bulk_and_puts_every_key_back() {
    let (pg, _dir, archive) = empty_database_and_bulk_archive();
    let before = keys_and_indexes(&pg);
    assert_eq!(before.len(), 31, "{before:?}");
    let report = json_ok(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "--json"])
            .args(["import", "--create-company", &archive]),
    );
    assert_eq!(report["bulkLoad"], true, "{report}");
    assert_eq!(report["bulkLoadUsers"], true, "{report}");
    let output = pg_bin()
        .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN])
        .args(["import", "--skip-duplicates", &archive])
        .output()
        .unwrap();
    assert!(output.status.success());
    // A re-import into a company with tickets is no bulk load, and does not say it is.
    assert!(
        !stderr_of(&output).contains("Loaded in bulk"),
        "{}",
        stderr_of(&output)
    );
    let after = keys_and_indexes(&pg);
    assert_eq!(definitions(&after), definitions(&before));
    for ((name, old, _), (_, new, _)) in before.iter().zip(&after) {
        assert_ne!(old, new, "{name} was not made again: no bulk load");
    }
    let mut client = pg.client();
    let document: Value = json(bulk_archive());
    let tickets = document["data"]["tickets"].as_array().unwrap();
    let notes: usize = tickets
        .iter()
        .map(|t| t["notes"].as_array().unwrap().len())
        .sum();
    assert!(tickets.len() > 1000);
    assert_eq!(pg.count("tickets"), tickets.len() as i64);
    assert_eq!(pg.count("ticket_notes"), notes as i64);
    let orphan = client.batch_execute(
        "INSERT INTO ticket_notes (id, ticket_id, content, created_at, updated_at)
         VALUES ('n-orphan', 'no-such-ticket', 'x', '2026-01-01T00:00:00.000Z',
                 '2026-01-01T00:00:00.000Z')",
    );
    let err = orphan.expect_err("the foreign key is back");
    assert!(
        err.to_string().contains("ticket_notes_ticket_id_fkey")
            || format!("{:?}", err.as_db_error()).contains("ticket_notes_ticket_id_fkey"),
        "{err:?}"
    );
}

/// Into a database that has users already (of the web app, of another company), the
/// users are looked up as always and their keys stay as they were, while the tickets,
/// into empty tables, still go in as a bulk load.
#[test]
fn users_go_in_bulk_only_into_a_database_without_users() {
    let (pg, _dir, archive) = empty_database_and_bulk_archive();
    pg.client()
        .batch_execute(
            "INSERT INTO users (id, email, first_name, last_name, role, created_at, updated_at)
             VALUES ('u-elsewhere', 'someone@elsewhere.example', 'Some', 'One', 'customer',
                     '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        )
        .unwrap();
    let before = keys_and_indexes(&pg);
    let report = json_ok(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "--json"])
            .args(["import", "--create-company", &archive]),
    );
    assert_eq!(report["bulkLoad"], true, "{report}");
    assert_eq!(report.get("bulkLoadUsers"), None, "{report}");
    let after = keys_and_indexes(&pg);
    assert_eq!(definitions(&after), definitions(&before));
    let users_own = |name: &str| name.starts_with("user");
    for ((name, old, _), (_, new, _)) in before.iter().zip(&after) {
        match users_own(name) {
            true => assert_eq!(old, new, "{name} was made again: users went in bulk"),
            false => assert_ne!(old, new, "{name} was not made again: no bulk load"),
        }
    }
    let users = report["outcomes"]["users"]["created"].as_u64().unwrap();
    assert!(users > 1, "{report}");
    assert_eq!(pg.count("users"), users as i64 + 1);
}

/// Users go in as a bulk load beside tickets that cannot: with row-level security on the
/// notes (whose policies could hide rows from the look for any), the tickets go in one by
/// one and their keys are never touched, while the users' keys, indexes and foreign keys
/// come back, the same. Where another session reads a table whose foreign key names the
/// users (here the history's), neither goes in bulk (that key could not be dropped without
/// waiting for it), and every key is as it was. Every row is in, either way.
#[test]
fn users_go_in_bulk_beside_tickets_that_cannot() {
    let document: Value = json(bulk_archive());
    let tickets = document["data"]["tickets"].as_array().unwrap().len() as i64;
    for (setup, users_in_bulk) in [("row-level security", true), ("a reader", false)] {
        let (pg, _dir, archive) = empty_database_and_bulk_archive();
        let mut reader = pg.client();
        let mut held = None;
        if users_in_bulk {
            (pg.client())
                .batch_execute("ALTER TABLE ticket_notes ENABLE ROW LEVEL SECURITY")
                .unwrap();
        } else {
            let mut tx = reader.transaction().unwrap();
            tx.batch_execute("SELECT count(*) FROM ticket_history")
                .unwrap();
            held = Some(tx);
        }
        let before = keys_and_indexes(&pg);
        let report = json_ok(
            pg_bin()
                .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "--json"])
                .args(["import", "--create-company", &archive]),
        );
        drop(held);
        assert_ne!(report["bulkLoad"], true, "{setup}: {report}");
        let users_reported = report.get("bulkLoadUsers") == Some(&Value::Bool(true));
        assert_eq!(users_reported, users_in_bulk, "{setup}: {report}");
        let after = keys_and_indexes(&pg);
        assert_eq!(definitions(&after), definitions(&before), "{setup}");
        // The users' own, and the foreign keys naming them.
        for ((name, old, definition), (_, new, _)) in before.iter().zip(&after) {
            let theirs = name.starts_with("user") || definition.contains("REFERENCES users(");
            assert_eq!(old != new, users_in_bulk && theirs, "{setup}: {name}");
        }
        assert_eq!(pg.count("tickets"), tickets, "{setup}");
    }
}

/// A ticket id met twice far apart in the archive (in different batches, so no lookup
/// sees both) is refused when the keys come back, as the archive's error (exit 3), and
/// the database is as it was: no row, and its keys and indexes the very same.
#[test]
fn an_id_twice_in_a_bulk_load_is_the_archives_error_and_changes_nothing() {
    let (pg, dir, archive) = empty_database_and_bulk_archive();
    let mut document: Value = json(&std::fs::read(&archive).unwrap());
    let tickets = document["data"]["tickets"].as_array_mut().unwrap();
    let first = tickets[0]["id"].clone();
    tickets.last_mut().unwrap()["id"] = first.clone();
    let edited = dir.path().join("twice.json");
    std::fs::write(&edited, serde_json::to_vec(&document).unwrap()).unwrap();
    let before = keys_and_indexes(&pg);
    let stderr = fails_with(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN])
            .args(["import", "--create-company"])
            .arg(&edited),
        3,
    );
    let first = first.as_str().unwrap();
    assert!(
        stderr.contains(&format!("the archive holds ticket {first} more than once")),
        "{stderr}"
    );
    assert_eq!(keys_and_indexes(&pg), before);
    let companies = pg.count("companies");
    assert_eq!(companies, 0);
}

/// An attachment that names a ticket, or a note, the archive does not hold is the
/// archive's error when it is restored into an empty database (exit 3, the attachment and
/// what it names), and nothing is written: on SQLite as the attachment is read; in
/// PostgreSQL's bulk load once every row is in, by the attachments' foreign keys as they
/// come back, and where the operator has dropped one of those, by looking.
#[test]
fn an_attachment_naming_what_the_archive_lacks_is_refused_on_either_backend() {
    let (pg, dir, archive) = empty_database_and_bulk_archive();
    let document: Value = json(&std::fs::read(&archive).unwrap());
    let attachments = document["data"]["attachments"].as_array().unwrap();
    let with_note = (attachments.iter())
        .position(|a| !a["noteId"].is_null())
        .unwrap();
    let attachment_id = attachments[with_note]["id"].as_str().unwrap().to_owned();
    let edited = |field: &str, value: &str| {
        let mut document = document.clone();
        document["data"]["attachments"][with_note][field] = value.into();
        let path = dir.path().join(format!("{field}.json"));
        std::fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
        path
    };
    let cases = [
        (
            edited("ticketId", "no-such-ticket"),
            "ticket no-such-ticket",
        ),
        (edited("noteId", "no-such-note"), "note no-such-note"),
    ];
    let sqlite = dir.path().join("empty.db");
    let targets = [sqlite.to_str().unwrap().to_owned(), pg.url()];
    pg_bin()
        .args(["--db", &targets[0], "init"])
        .assert()
        .success();
    let refused = |db: &str, file: &std::path::Path, named: &str| {
        let stderr = fails_with(
            pg_bin()
                .args(["--db", db, "--actor", ids::ACME_ADMIN])
                .args(["import", "--create-company"])
                .arg(file),
            3,
        );
        let expected = format!("attachment {attachment_id}: its {named} is not in the archive");
        assert!(stderr.contains(&expected), "{db}: {stderr}");
    };
    let keys = keys_and_indexes(&pg);
    for db in &targets {
        for (file, named) in &cases {
            refused(db, file, named);
        }
    }
    assert_eq!(keys_and_indexes(&pg), keys);
    assert_eq!(pg.count("companies"), 0);
    let conn = rusqlite::Connection::open(&sqlite).unwrap();
    let companies: i64 =
        (conn.query_row("SELECT count(*) FROM companies", [], |r| r.get(0))).unwrap();
    assert_eq!(companies, 0);

    // Without the foreign key to the notes, the bulk load looks for what it would check.
    pg.client()
        .batch_execute("ALTER TABLE file_attachments DROP CONSTRAINT file_attachments_note_id_fkey")
        .unwrap();
    refused(&pg.url(), &cases[1].0, cases[1].1);
    assert_eq!(pg.count("companies"), 0);
    let report = json_ok(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "--json"])
            .args(["import", "--create-company", &archive]),
    );
    assert_eq!(report["bulkLoad"], true, "{report}");
    assert_eq!(pg.count("file_attachments"), attachments.len() as i64);
}

/// A record the archive's reader refuses late in the archive, batches after the importer
/// began writing (the archive is read a batch ahead on a thread of its own), is the
/// archive's error, named by its place (exit 3), and nothing is written: not by a bulk
/// load into an empty database (no company, the same keys), nor by a re-import into the
/// company that has the records (every row as it was).
#[test]
fn a_bad_record_late_in_the_archive_is_refused_and_writes_nothing() {
    let (pg, dir, archive) = empty_database_and_bulk_archive();
    let mut document: Value = json(&std::fs::read(&archive).unwrap());
    document["data"]["tickets"][900]["priority"] = "mega".into();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, serde_json::to_vec(&document).unwrap()).unwrap();
    let url = pg.url();
    let import = |args: &[&str], file: &std::path::Path| {
        let mut cmd = pg_bin();
        cmd.args(["--db", &url, "--actor", ids::ACME_ADMIN, "import"])
            .args(args)
            .arg(file);
        cmd
    };

    let keys = keys_and_indexes(&pg);
    let stderr = fails_with(&mut import(&["--create-company"], &broken), 3);
    assert!(stderr.contains("tickets[900].priority"), "{stderr}");
    assert_eq!(pg.count("companies"), 0);
    assert_eq!(keys_and_indexes(&pg), keys);

    import(&["--create-company"], archive.as_ref())
        .assert()
        .success();
    let backend = Backend::Postgres(Demo::new(), pg);
    let before = backend.app_rows();
    let stderr = fails_with(&mut import(&["--skip-duplicates"], &broken), 3);
    assert!(stderr.contains("tickets[900].priority"), "{stderr}");
    assert_eq!(backend.app_rows(), before);
}

/// No bulk load where it would not be safe: a table another session holds a lock on (the
/// import does not wait for it, nor fail), or a database with tickets already. The rows
/// go in one by one and the keys stay the same ones.
#[test]
fn no_bulk_load_into_tables_in_use_or_not_empty() {
    let (pg, _dir, archive) = empty_database_and_bulk_archive();
    let before = keys_and_indexes(&pg);
    let mut reader = pg.client();
    let mut open = reader.transaction().unwrap();
    open.query("SELECT count(*) FROM ticket_history", &[])
        .unwrap();
    let report = json_ok(
        pg_bin()
            .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "--json"])
            .args([
                "--busy-timeout",
                "2",
                "import",
                "--create-company",
                &archive,
            ]),
    );
    assert_eq!(report.get("bulkLoad"), None, "{report}");
    open.commit().unwrap();
    assert_eq!(keys_and_indexes(&pg), before);

    // Into an empty company of a database with tickets (Acme's, copied into Initech).
    let demo = Demo::new();
    add_initech(&demo.conn());
    let backend = Backend::postgres_of(demo);
    let Backend::Postgres(demo, pg) = &backend else {
        unreachable!()
    };
    let before = keys_and_indexes(pg);
    pg_bin()
        .arg("--db")
        .arg(backend.db())
        .args([
            "--company",
            "Initech",
            "--actor",
            "ian@initech.example",
            "-q",
        ])
        .arg("import")
        .arg(demo.export_acme("acme.json"))
        .assert()
        .success();
    let tickets_of = |company: &str| {
        backend
            .rows(&format!(
                "SELECT id FROM tickets WHERE company_id = '{company}'"
            ))
            .len()
    };
    assert_eq!(tickets_of(INITECH), tickets_of(ids::ACME));
    assert_eq!(keys_and_indexes(pg), before);
}

/// A bulk load SIGKILLed once it holds its tables (their keys set aside) leaves the
/// database as it was, keys and indexes the very same ones: the server rolls back the
/// whole transaction, what it set aside included. The same restore then goes through.
#[test]
fn a_killed_bulk_load_leaves_every_key_and_index_as_it_was() {
    let (pg, _dir, archive) = empty_database_and_bulk_archive();
    let before = keys_and_indexes(&pg);
    let mut watcher = pg.client();
    let mut child = crate::crash::plain_command(
        &pg.url(),
        ids::ACME_ADMIN,
        &["import", "--create-company", &archive],
    )
    .spawn()
    .expect("start the binary");
    kill_when(&mut child, "import", || {
        watcher
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE a.application_name = $1 AND l.mode = 'AccessExclusiveLock'
                   AND l.relation = 'tickets'::regclass",
                &[&APPLICATION_NAME],
            )
            .expect("read the locks")
            .get::<_, i64>(0)
            > 0
    });
    let started = std::time::Instant::now();
    while pg.sessions_of(APPLICATION_NAME) > 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(keys_and_indexes(&pg), before);
    let rows: i64 = pg
        .client()
        .query_one(
            "SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM tickets)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    pg_bin()
        .args(["--db", &pg.url(), "--actor", ids::ACME_ADMIN, "-q"])
        .args(["import", "--create-company", &archive])
        .assert()
        .success();
}

/// A role that may write the tables but does not own them (an operator's import account,
/// not the one that ran `init`) gets no bulk load: it could not make the keys again. Its
/// restore goes in row by row, whole, and the keys stay the very same ones.
#[test]
fn a_role_that_does_not_own_the_tables_gets_no_bulk_load() {
    let (pg, _dir, archive) = empty_database_and_bulk_archive();
    let role = format!("{}_clerk", pg.name);
    pg.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'clerk-pass';
             GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};"
        ))
        .unwrap();
    let before = keys_and_indexes(&pg);
    let url = pg.url_as(&format!("{role}:clerk-pass"), "");
    let report = json_ok(
        pg_bin()
            .args(["--db", &url, "--actor", ids::ACME_ADMIN, "--json"])
            .args(["import", "--create-company", &archive]),
    );
    assert_eq!(report["status"], "ok", "{report}");
    assert_eq!(report.get("bulkLoad"), None, "{report}");
    assert_eq!(keys_and_indexes(&pg), before);
    let document: Value = json(bulk_archive());
    let tickets = document["data"]["tickets"].as_array().unwrap().len();
    assert_eq!(pg.count("tickets"), tickets as i64);
}

/// How many index scans each of `indexes` has had, once the server has counted those of
/// the sessions that ended (a session's counts reach the statistics when it exits).
fn index_scans(pg: &PgDatabase, indexes: &[&str], more_than: &[i64]) -> Vec<i64> {
    let read = || -> Vec<i64> {
        let mut client = pg.client();
        (indexes.iter())
            .map(|index| {
                let sql = "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1";
                client.query_one(sql, &[index]).expect(sql).get(0)
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let scans = read();
        let counted = scans
            .iter()
            .zip(more_than)
            .any(|(now, before)| now > before);
        if counted || std::time::Instant::now() > deadline {
            return scans;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A re-import of what a company already has (the no-op `--skip-duplicates`, a nightly
/// `--overwrite`) finds every record, over several batches of tickets; the no-op finds the
/// notes and history of the company's tickets under those tickets, off their `ticket_id`
/// index, and never looks one up by its id. (Sequential scans are off for the database, so
/// that each lookup's shape shows in the one index it can use.)
#[test]
fn a_re_import_finds_notes_and_history_under_their_tickets() {
    let demo = Demo::new();
    fill_tickets(&demo.conn(), ids::ACME, &ACME_PEOPLE, 0xd1, 600, 40);
    let backend = Backend::postgres_of(demo);
    let Backend::Postgres(_, pg) = &backend else {
        unreachable!()
    };
    let (_, archive) = exported(&backend, "acme.zip", &[]);
    let tickets = &archive.sections["tickets"];
    let nested = |key: &str| -> usize {
        (tickets.iter())
            .map(|ticket| ticket[key].as_array().map_or(0, Vec::len))
            .sum()
    };
    let counts = [
        ("tickets", tickets.len()),
        ("notes", nested("notes")),
        ("history", nested("history")),
        ("attachments", archive.sections["attachments"].len()),
    ];
    assert!(tickets.len() > 600, "{counts:?}: more than two batches");
    let path = backend.demo().out_path("acme.zip");
    let database: String = pg
        .client()
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    pg.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{database}\" SET enable_seqscan = off"
        ))
        .unwrap();
    let by_id = ["ticket_notes_pkey", "ticket_history_pkey"];
    let by_ticket = ["ticket_notes_ticket", "ticket_history_ticket"];
    let before_by_id = index_scans(pg, &by_id, &[i64::MAX; 2]);
    let before_by_ticket = index_scans(pg, &by_ticket, &[i64::MAX; 2]);

    for (policy, outcome) in [
        ("--skip-duplicates", "skipped"),
        ("--overwrite", "unchanged"),
    ] {
        let report = json_ok(
            backend
                .acme()
                .args(["--json", "import", "--yes", policy])
                .arg(&path),
        );
        for (kind, count) in counts {
            let found = &report["outcomes"][kind][outcome];
            assert_eq!(found, count as u64, "{policy} {kind}: {report}");
        }
        if policy == "--skip-duplicates" {
            let after_by_ticket = index_scans(pg, &by_ticket, &before_by_ticket);
            let after_by_id = index_scans(pg, &by_id, &[i64::MAX; 2]);
            assert!(
                (after_by_ticket.iter().zip(&before_by_ticket))
                    .all(|(after, before)| after > before),
                "{before_by_ticket:?} -> {after_by_ticket:?}"
            );
            assert_eq!(
                after_by_id, before_by_id,
                "notes or history looked up by id"
            );
        }
    }
}

/// `--overwrite` puts back what was edited, one record of each kind, and counts the rest
/// unchanged: the plan (`--validate-only`) and the import say the same, on either backend,
/// over more records than one batch of updates, and a second run finds nothing to change.
#[test]
fn overwrite_counts_what_it_changes_the_same_on_either_backend() {
    let filled = || {
        let demo = Demo::new();
        fill_tickets(&demo.conn(), ids::ACME, &ACME_PEOPLE, 0xd2, 600, 40);
        demo
    };
    let mut reports = Vec::new();
    for backend in [Backend::Sqlite(filled()), Backend::postgres_of(filled())] {
        let (_, archive) = exported(&backend, "acme.zip", &[]);
        let path = backend.demo().out_path("acme.zip");
        let acme_tickets = format!("SELECT id FROM tickets WHERE company_id = '{}'", ids::ACME);
        backend.execute(&format!(
            "UPDATE tickets SET title = 'EDITED' WHERE id = (SELECT max(id) FROM ({acme_tickets}) t);
             UPDATE ticket_notes SET content = 'EDITED' WHERE id =
               (SELECT min(id) FROM ticket_notes WHERE ticket_id IN ({acme_tickets}));
             UPDATE ticket_history SET new_value = 'EDITED' WHERE id =
               (SELECT min(id) FROM ticket_history WHERE ticket_id IN ({acme_tickets}));
             UPDATE file_attachments SET file_size = file_size + 1 WHERE id =
               (SELECT min(id) FROM file_attachments WHERE ticket_id IN ({acme_tickets}));"
        ));
        let run = |args: &[&str]| {
            let report = json_ok(
                backend
                    .acme()
                    .arg("--json")
                    .arg("import")
                    .args(args)
                    .arg(&path),
            );
            report["outcomes"].clone()
        };
        let plan = run(&["--validate-only", "--overwrite"]);
        let import = run(&["--overwrite", "--yes"]);
        assert_eq!(plan, import);
        for kind in ["tickets", "notes", "history", "attachments"] {
            assert_eq!(import[kind]["updated"], 1, "{kind}: {import}");
            assert!(
                import[kind]["unchanged"].as_u64().unwrap() > 0,
                "{kind}: {import}"
            );
        }
        assert!(
            import["tickets"]["unchanged"].as_u64().unwrap() > 512,
            "{import}"
        );
        let again = run(&["--overwrite", "--yes"]);
        for kind in ["tickets", "notes", "history", "attachments"] {
            assert_eq!(again[kind]["updated"], 0, "{kind}: {again}");
        }
        let restored = export_from(&backend.db(), &backend.demo().out_path("restored.zip"));
        assert_eq!(restored.sections, archive.sections);
        reports.push(import);
    }
    assert_eq!(reports[0], reports[1]);
}

/// Two records of an archive that are one row of the company (one of them through the id
/// map, as a copy's earlier import left it) are written in the archive's order under
/// `--overwrite`, each counted, on either backend: the later one's values stay.
#[test]
fn two_records_of_one_row_are_written_in_order_on_either_backend() {
    let mut reports = Vec::new();
    for backend in Backend::both() {
        let ticket = ids::T1;
        let archive = edited_acme_json(backend.demo(), |doc| {
            let tickets = doc["data"]["tickets"].as_array_mut().unwrap();
            let at = tickets.iter().position(|t| t["id"] == ticket).unwrap();
            tickets[at]["title"] = "FROM ITSELF".into();
            let mut twin = tickets[at].clone();
            twin["id"] = "twin-of-the-first".into();
            twin["title"] = "FROM ITS TWIN".into();
            twin["notes"] = Value::Array(Vec::new());
            twin["history"] = Value::Array(Vec::new());
            tickets.insert(at, twin);
        });
        // An import that ran before made the table; the entry is what a copy's import
        // leaves when an id was taken.
        json_ok(
            backend
                .acme()
                .args(["--json", "import", "--skip-duplicates"])
                .arg(&archive),
        );
        backend.execute(&format!(
            "INSERT INTO bomizzel_backup_id_map (company_id, kind, archive_id, local_id, created_at)
             VALUES ('{}', 'ticket', 'twin-of-the-first', '{ticket}', '2024-01-01T00:00:00.000Z')",
            ids::ACME
        ));
        let report = json_ok(
            backend
                .acme()
                .args(["--json", "import", "--overwrite", "--yes"])
                .arg(&archive),
        );
        let titles = backend.rows(&format!("SELECT title FROM tickets WHERE id = '{ticket}'"));
        assert_eq!(titles.len(), 1);
        assert!(titles[0].contains("FROM ITSELF"), "{titles:?}");
        assert_eq!(report["outcomes"]["tickets"]["updated"], 2, "{report}");
        reports.push(report["outcomes"].clone());
    }
    assert_eq!(reports[0], reports[1]);
}

/// PostgreSQL's `text` and `jsonb` cannot hold U+0000, which SQLite keeps: a note of the
/// web app's file whose content holds one (as JSON's `\u0000`) moves into SQLite as it is,
/// and PostgreSQL refuses the archive, importing nothing, naming the note's place and the
/// character (exit 3), as the plan of `--validate-only` does; a key of a ticket's custom
/// fields, and the company's name in the manifest, likewise. A backslash followed by
/// `u0000` is no such character.
#[test]
fn a_nul_character_is_kept_by_sqlite_and_refused_by_postgres_by_its_place() {
    let webapp = crate::support::fixture_archive("webapp/webapp-full.json");
    let mut document: Value = json(&std::fs::read(webapp).unwrap());
    let tickets = document["data"]["tickets"].as_array().unwrap();
    let with_note = tickets
        .iter()
        .position(|t| t["notes"][0].is_object())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, document: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(document).unwrap()).unwrap();
        path
    };
    let content = "before\u{0}after";
    document["data"]["tickets"][with_note]["notes"][0]["content"] = content.into();
    let in_note = write("note.json", &document);
    let mut keyed = document.clone();
    keyed["data"]["tickets"][with_note]["notes"][0]["content"] = "plain".into();
    keyed["data"]["tickets"][0]["customFields"] = serde_json::json!({"sev\u{0}erity": "Low"});
    let in_key = write("key.json", &keyed);
    let mut named = document.clone();
    named["data"]["tickets"][with_note]["notes"][0]["content"] = "plain".into();
    let company = named["exportInfo"]["companyName"]
        .as_str()
        .unwrap()
        .to_owned();
    named["exportInfo"]["companyName"] = format!("{company}\u{0}").into();
    let in_name = write("name.json", &named);
    let mut escaped = keyed.clone();
    escaped["data"]["tickets"][0]["customFields"] = serde_json::json!({});
    escaped["data"]["tickets"][with_note]["notes"][0]["content"] = "a \\u0000 b".into();
    let escaped = write("escaped.json", &escaped);
    let import = |db: &str, args: &[&str], file: &std::path::Path| {
        let mut cmd = pg_bin();
        cmd.args([
            "--db",
            db,
            "--actor",
            "adam@full.example",
            "import",
            "--create-company",
        ])
        .args(args)
        .arg(file);
        cmd
    };

    let pg = PgDatabase::new();
    init(&pg.url()).assert().success();
    for (file, place) in [
        (&in_note, format!("tickets[{with_note}].notes[0].content")),
        (&in_name, "manifest.companyName".to_owned()),
        (
            &in_key,
            "tickets[0].customFields.\"sev\\0erity\"".to_owned(),
        ),
    ] {
        for args in [&["--validate-only"][..], &[]] {
            let stderr = fails_with(&mut import(&pg.url(), args, file), 3);
            let expected =
                format!("{place}: holds the character U+0000 (NUL), which PostgreSQL cannot store");
            assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        }
    }
    assert_eq!(pg.count("companies"), 0);
    import(&pg.url(), &[], &escaped).assert().success();
    let stored = pg
        .client()
        .query(
            "SELECT content FROM ticket_notes WHERE content LIKE 'a %'",
            &[],
        )
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].get::<_, String>(0), "a \\u0000 b");

    let sqlite = dir.path().join("kept.db");
    let sqlite_db = sqlite.to_str().unwrap();
    pg_bin()
        .args(["--db", sqlite_db, "init"])
        .assert()
        .success();
    import(sqlite_db, &[], &in_note).assert().success();
    let conn = rusqlite::Connection::open(&sqlite).unwrap();
    let kept: String = conn
        .query_row(
            "SELECT content FROM ticket_notes WHERE content LIKE 'before%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, content);
}
