//! A throwaway PostgreSQL cluster for the test run, and a fresh database in it for each test.
//!
//! The cluster starts once per test binary, when a test first asks for a database:
//! `initdb` into a new directory under /tmp, run as the `postgres` system user when the
//! tests run as root (PostgreSQL refuses to run as root); it listens on a free port of
//! 127.0.0.1, with TLS (certificates `openssl` makes then: `Certificates`), and on a socket
//! in that directory. Over TCP the superuser logs in with a password made up for the run; the
//! socket trusts. Two more roles let a test tell an encrypted connection from a plain one by
//! who gets in: `tls_only` (TCP with TLS only) and `plain_only` (TCP without TLS only); a
//! third, `cert_only`, gets in with the client certificate only.
//!
//! It stops when the test process ends, however it ends: the server runs under a small
//! shell whose standard input is a pipe this process holds and never closes; when the
//! process exits (or panics, or is killed) the pipe closes, the shell's `read` returns, and
//! it stops the server (fast shutdown) and removes the directory (`KEEPER`). Only a kill
//! during the seconds `initdb` runs, before that shell exists, leaves the directory behind. The shell is in a process
//! group of its own, so a Ctrl-C at the terminal reaches only the tests.
//!
//! When the cluster cannot start, every test that needs it fails with the reason: it is
//! never skipped.

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

/// The cluster's superuser.
pub const SUPERUSER: &str = "postgres";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The running cluster: where it is, and the pipe that keeps it alive.
pub struct Cluster {
    /// Its directory: the data, the certificate, the log and the socket.
    pub dir: PathBuf,
    pub port: u16,
    /// The superuser's password for TCP logins.
    pub password: String,
    /// Never written to, never closed: its end is the cluster's end (see the module's doc).
    _keeper: ChildStdin,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster, started on first use; a test that calls this fails when it cannot start.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        Cluster::start()
            .unwrap_or_else(|reason| panic!("cannot start the PostgreSQL test cluster: {reason}"))
    })
}

/// A fresh, empty database of the cluster, for one test (left for the cluster's end).
pub struct PgDatabase {
    pub name: String,
    pub cluster: &'static Cluster,
}

impl PgDatabase {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let cluster = cluster();
        let name = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        cluster
            .admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Self { name, cluster }
    }

    /// The superuser's URL over TCP, with the password (sslmode left to its default).
    pub fn url(&self) -> String {
        self.url_as(&format!("{SUPERUSER}:{}", self.cluster.password), "")
    }

    /// A URL over TCP to this database: `userinfo@127.0.0.1:port/name?query`.
    pub fn url_as(&self, userinfo: &str, query: &str) -> String {
        let Cluster { port, .. } = self.cluster;
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!(
            "postgresql://{userinfo}@127.0.0.1:{port}/{}{query}",
            self.name
        )
    }

    /// The URL through the cluster's socket (`?host=DIR`), where logins are trusted.
    pub fn socket_url(&self) -> String {
        self.socket_url_as(SUPERUSER)
    }

    /// `socket_url` for another role.
    pub fn socket_url_as(&self, user: &str) -> String {
        format!(
            "postgresql:///{}?host={}&port={}&user={user}",
            self.name,
            self.cluster.dir.display(),
            self.cluster.port
        )
    }

    /// A connection for assertions, through the socket, without TLS.
    pub fn client(&self) -> Client {
        self.cluster.connect(&self.name)
    }

    /// How many sessions the server has open on this database for `application` (the
    /// `application_name` a client gave).
    pub fn sessions_of(&self, application: &str) -> i64 {
        self.client()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = $2",
                &[&self.name, &application],
            )
            .expect("count the sessions")
            .get(0)
    }

    /// How many rows `table` holds.
    pub fn count(&self, table: &str) -> i64 {
        self.client()
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .expect("count the rows")
            .get(0)
    }

    /// The names of the tables in its `public` schema, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.client()
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' ORDER BY 1",
                &[],
            )
            .expect("list the tables")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }
}

/// The binary with no `PG*` variable from the developer's environment (it reads libpq's)
/// and no `BOMIZZEL_*` one, and `PGPASSFILE` naming a file that does not exist, so the
/// developer's `~/.pgpass` is not read either (a test sets its own).
pub fn pg_bin() -> assert_cmd::Command {
    let mut cmd = super::bin();
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env("PGPASSFILE", NO_PASSWORD_FILE);
    // Nor the machine's ~/.postgresql (a root.crt there would make `require` check).
    cmd.env("HOME", NO_HOME);
    cmd
}

/// Where `pg_bin` says the home directory is: nowhere.
pub const NO_HOME: &str = "/nonexistent/bomizzel-tests/home";

/// Where `pg_bin` says the password file is: nowhere.
pub const NO_PASSWORD_FILE: &str = "/nonexistent/bomizzel-tests/pgpass";

/// A TCP port of 127.0.0.1 that nothing listens on (free a moment ago).
pub fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

impl Cluster {
    /// A connection to `database` through the socket, as the superuser.
    pub fn connect(&self, database: &str) -> Client {
        self.try_connect(database)
            .unwrap_or_else(|e| panic!("connect to the test cluster's {database}: {e}"))
    }

    /// A connection to the `postgres` database, for creating databases.
    pub fn admin(&self) -> Client {
        self.connect("postgres")
    }

    fn try_connect(&self, database: &str) -> Result<Client, postgres::Error> {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(database);
        config.connect(NoTls)
    }

    fn start() -> Result<Self, String> {
        let bin = server_binaries()?;
        let owner = ServerUser::find()?;
        // Removed on the way out until the keeper shell owns it.
        let temp = tempfile::Builder::new()
            .prefix("bomizzel-pg-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot make a directory in /tmp: {e}"))?;
        let dir = temp.path().to_owned();
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        fs::write(dir.join("pwfile"), &password).map_err(|e| e.to_string())?;
        make_certificates(&dir)?;
        owner.give(&dir)?;
        for file in ["pwfile", "server.crt", "server.key", "ca.crt"] {
            owner.give(&dir.join(file))?;
        }
        let data = dir.join("data");
        run(
            owner
                .command(&bin.join("initdb"))
                .arg("--pgdata")
                .arg(&data)
                .args(["--username", SUPERUSER, "--encoding", "UTF8"])
                .args(["--locale", "C.UTF-8", "--no-sync"])
                .arg(format!("--pwfile={}", dir.join("pwfile").display())),
            "initdb",
        )?;
        let hba = data.join("pg_hba.conf");
        fs::write(&hba, HBA).map_err(|e| format!("cannot write {}: {e}", hba.display()))?;
        owner.give(&hba)?;

        let port = unused_port();
        let mut server = owner.command(&bin.join("postgres"));
        server.arg("-D").arg(&data).arg("-p").arg(port.to_string());
        server.arg("-k").arg(&dir);
        for setting in [
            "listen_addresses=127.0.0.1".to_owned(),
            "ssl=on".to_owned(),
            format!("ssl_cert_file={}", dir.join("server.crt").display()),
            format!("ssl_key_file={}", dir.join("server.key").display()),
            // The authority of the client certificates it accepts (`cert_only`'s).
            format!("ssl_ca_file={}", dir.join("ca.crt").display()),
            // A test cluster: nothing here must survive a crash.
            "fsync=off".to_owned(),
            "synchronous_commit=off".to_owned(),
            "full_page_writes=off".to_owned(),
        ] {
            server.arg("-c").arg(setting);
        }
        let mut keeper = Command::new("sh");
        keeper
            .args(["-c", KEEPER, "keeper"])
            .arg(&dir)
            .arg(server.get_program())
            .args(server.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = keeper
            .spawn()
            .map_err(|e| format!("cannot run sh to start postgres: {e}"))?;
        let dir = temp.keep(); // the same path, now the keeper shell's to remove
        let stdin = child.stdin.take().ok_or("no pipe to the keeper shell")?;
        let cluster = Self {
            dir,
            port,
            password,
            _keeper: stdin,
        };
        cluster.wait_until_ready()?;
        cluster.create_roles()?;
        Ok(cluster)
    }

    /// Polls the socket until the server takes connections; fails with its log if it exits
    /// or takes too long.
    fn wait_until_ready(&self) -> Result<(), String> {
        let read = |name: &str| {
            let mut text = String::new();
            let _ =
                fs::File::open(self.dir.join(name)).and_then(|mut f| f.read_to_string(&mut text));
            text
        };
        let started = Instant::now();
        loop {
            let last = match self.try_connect("postgres") {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            if self.dir.join("server.exit").exists() {
                return Err(format!(
                    "the server exited (status {}); its log:\n{}",
                    read("server.exit").trim(),
                    read("server.log")
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                let cause = std::error::Error::source(&last).map(ToString::to_string);
                return Err(format!(
                    "the server did not take connections within {START_TIMEOUT:?} ({last}: {}); \
                     its log:\n{}",
                    cause.unwrap_or_default(),
                    read("server.log")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn create_roles(&self) -> Result<(), String> {
        self.admin()
            .batch_execute(
                "CREATE ROLE tls_only LOGIN SUPERUSER; CREATE ROLE plain_only LOGIN SUPERUSER;
                 CREATE ROLE cert_only LOGIN SUPERUSER;",
            )
            .map_err(|e| format!("cannot create the test roles: {e}"))
    }
}

/// Who may log in how: the socket trusts (the tests' own connections); `tls_only` and
/// `plain_only` get in over TCP with and without TLS respectively, trusted, and are rejected
/// otherwise; `cert_only` with a client certificate the test authority signed for that name;
/// everyone else needs a password over TCP.
const HBA: &str = "\
local     all  all                        trust
hostssl   all  cert_only    127.0.0.1/32  cert
hostnossl all  cert_only    127.0.0.1/32  reject
hostssl   all  tls_only     127.0.0.1/32  trust
hostnossl all  tls_only     127.0.0.1/32  reject
hostnossl all  plain_only   127.0.0.1/32  trust
hostssl   all  plain_only   127.0.0.1/32  reject
host      all  all          127.0.0.1/32  scram-sha-256
";

/// Starts the server (its arguments after the directory), and a watcher that stops it
/// (SIGINT, fast shutdown) when the shell's standard input closes. When the server has
/// exited, for that or any reason, it writes its status to `server.exit` (the tests' sign that
/// it died starting), waits for the watcher, and removes the directory. Run by `sh -c`. The
/// pipe goes to the watcher as fd 3: an `&` job's own standard input is /dev/null.
const KEEPER: &str = r#"
dir=$1
shift
exec 3<&0
"$@" >"$dir/server.log" 2>&1 3<&- &
server=$!
{ read -r _ <&3; kill -INT "$server" 2>/dev/null; } &
exec 3<&-
wait "$server"
echo "$?" >"$dir/server.exit"
wait
rm -rf "$dir"
"#;

/// Runs a command to its end; its output is the error when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// The cluster's certificates, in its directory: an authority
/// (`ca.crt`) that signed the server's (`server.crt`, for `localhost` and 127.0.0.1) and a
/// client certificate for `cert_only` (`client.crt`, its key `client.key`, mode 600); and
/// another authority that signed neither (`other-ca.crt`). `openssl req -x509 -CA` needs
/// OpenSSL 3 (Debian 12's, which scripts/test installs).
fn make_certificates(dir: &Path) -> Result<(), String> {
    let authority = |name: &str| {
        vec![
            "-subj".to_owned(),
            format!("/CN=bomizzel test {name}"),
            "-addext".to_owned(),
            "basicConstraints=critical,CA:TRUE".to_owned(),
            "-addext".to_owned(),
            "keyUsage=critical,keyCertSign,cRLSign".to_owned(),
        ]
    };
    let signed = |name: &str, extensions: &[&str]| {
        let mut args = vec!["-CA", "ca.crt", "-CAkey", "ca.key", "-subj"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        args.push(format!("/CN={name}"));
        for extension in ["basicConstraints=critical,CA:FALSE"]
            .iter()
            .chain(extensions)
        {
            args.extend(["-addext".to_owned(), (*extension).to_owned()]);
        }
        args
    };
    for (stem, args) in [
        ("ca", authority("authority")),
        ("other-ca", authority("other authority")),
        (
            "server",
            signed(
                "localhost",
                &[
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "extendedKeyUsage=serverAuth",
                ],
            ),
        ),
        (
            "client",
            signed("cert_only", &["extendedKeyUsage=clientAuth"]),
        ),
    ] {
        let output = Command::new("openssl")
            .current_dir(dir)
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(&args)
            .args([
                "-keyout",
                &format!("{stem}.key"),
                "-out",
                &format!("{stem}.crt"),
            ])
            .output()
            .map_err(|e| {
                format!(
                    "cannot run openssl ({e}); install it: apt-get install openssl (scripts/test \
                     does)"
                )
            })?;
        if !output.status.success() {
            return Err(format!(
                "openssl could not make {stem}.crt: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        // The server refuses a key that others may read, and so does the tool.
        fs::set_permissions(
            dir.join(format!("{stem}.key")),
            fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The directory of `initdb` and `postgres`: Debian keeps them off PATH, in
/// /usr/lib/postgresql/<major>/bin (the newest is taken); else `pg_config --bindir`; else
/// wherever PATH has `initdb`.
fn server_binaries() -> Result<PathBuf, String> {
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Ok(bin);
    }
    let pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    pg_config
        .into_iter()
        .chain(on_path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, postgres) in /usr/lib/postgresql/*/bin, \
             pg_config --bindir or PATH; install them: apt-get install postgresql \
             (scripts/test does)"
                .to_owned()
        })
}

/// Who runs the server: the `postgres` system user when the tests run as root, else the
/// user running the tests.
enum ServerUser {
    Current,
    Postgres { uid: u32, gid: u32 },
}

impl ServerUser {
    fn find() -> Result<Self, String> {
        if !rustix::process::geteuid().is_root() {
            return Ok(ServerUser::Current);
        }
        let id = |flag: &str| -> Result<u32, String> {
            let output = Command::new("id")
                .args([flag, SUPERUSER])
                .output()
                .map_err(|e| format!("cannot run id: {e}"))?;
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .map_err(|_| {
                    "the tests run as root, and PostgreSQL will not: they need the postgres \
                     system user (apt-get install postgresql makes it)"
                        .to_owned()
                })
        };
        Ok(ServerUser::Postgres {
            uid: id("-u")?,
            gid: id("-g")?,
        })
    }

    /// A command that runs `program` as this user. `setpriv` changes user and then execs,
    /// so the process the keeper shell starts is the server itself, which its signal stops.
    fn command(&self, program: &Path) -> Command {
        match self {
            ServerUser::Current => Command::new(program),
            ServerUser::Postgres { uid, gid } => {
                let mut cmd = Command::new("setpriv");
                cmd.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .args(["--clear-groups", "--"])
                    .arg(program);
                cmd
            }
        }
    }

    /// Makes the file or directory this user's.
    fn give(&self, path: &Path) -> Result<(), String> {
        match self {
            ServerUser::Current => Ok(()),
            ServerUser::Postgres { uid, gid } => {
                std::os::unix::fs::chown(path, Some(*uid), Some(*gid)).map_err(|e| {
                    format!("cannot give {} to the postgres user: {e}", path.display())
                })
            }
        }
    }
}

/// The application's tables in the order their foreign keys allow filling them.
const APP_TABLES: [&str; 8] = [
    "companies",
    "users",
    "user_company_associations",
    "custom_fields",
    "tickets",
    "ticket_notes",
    "file_attachments",
    "ticket_history",
];

/// One backend of the parameterised tests: what `--db` says, filled with the demo data.
pub enum Backend {
    Sqlite(super::Demo),
    Postgres(super::Demo, PgDatabase),
}

impl Backend {
    /// Both backends, each with the demo data.
    pub fn both() -> [Backend; 2] {
        [Backend::Sqlite(super::Demo::new()), Backend::postgres()]
    }

    /// A fresh `init`ed PostgreSQL database holding the demo database's rows, copied table
    /// by table (independent of the tool's import, so it can check it).
    pub fn postgres() -> Backend {
        Backend::postgres_of(super::Demo::new())
    }

    /// A fresh `init`ed PostgreSQL database holding the rows of `demo`'s database (the demo
    /// data and whatever a test added to it), copied as `postgres` copies them.
    pub fn postgres_of(demo: super::Demo) -> Backend {
        let pg = PgDatabase::new();
        pg_bin()
            .args(["--db", &pg.url(), "init"])
            .assert()
            .success();
        copy_app_rows(&demo.conn(), &mut pg.client());
        Backend::Postgres(demo, pg)
    }

    /// The `--db` value.
    pub fn db(&self) -> std::ffi::OsString {
        match self {
            Backend::Sqlite(demo) => demo.db.clone().into_os_string(),
            Backend::Postgres(_, pg) => pg.url().into(),
        }
    }

    /// The demo (its output directory, and on SQLite its database).
    pub fn demo(&self) -> &super::Demo {
        match self {
            Backend::Sqlite(demo) | Backend::Postgres(demo, _) => demo,
        }
    }

    /// Runs SQL statements on this backend's database (arranging a test's state).
    pub fn execute(&self, sql: &str) {
        match self {
            Backend::Sqlite(demo) => demo.conn().execute_batch(sql).expect(sql),
            Backend::Postgres(_, pg) => pg.client().batch_execute(sql).expect(sql),
        }
    }

    /// The rows `sql` selects, each rendered as one line, sorted: for asserting that a run
    /// left them as they were. The rendering differs by backend, never within one.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        let mut rows: Vec<String> = match self {
            Backend::Sqlite(demo) => {
                let conn = demo.conn();
                let mut stmt = conn.prepare(sql).expect(sql);
                let columns = stmt.column_count();
                stmt.query_map([], |row| {
                    (0..columns)
                        .map(|i| Ok(format!("{:?}", row.get::<_, rusqlite::types::Value>(i)?)))
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(|cells| cells.join(" | "))
                })
                .and_then(|rows| rows.collect())
                .expect(sql)
            }
            Backend::Postgres(_, pg) => pg
                .client()
                .query(&format!("SELECT x::text FROM ({sql}) x"), &[])
                .expect(sql)
                .iter()
                .map(|row| row.get(0))
                .collect(),
        };
        rows.sort();
        rows
    }

    /// Every row of the application's tables, by table.
    pub fn app_rows(&self) -> Vec<(&'static str, Vec<String>)> {
        APP_TABLES
            .iter()
            .map(|table| (*table, self.rows(&format!("SELECT * FROM {table}"))))
            .collect()
    }

    /// Every row of every table, the tool's own included, by table (as `table_rows` gives
    /// for SQLite): for asserting that a run left a whole database as it found it.
    pub fn every_row(&self) -> super::state::Dump {
        match self {
            Backend::Sqlite(demo) => super::table_rows(&demo.conn()),
            Backend::Postgres(_, pg) => pg
                .tables()
                .into_iter()
                .map(|table| {
                    let rows = self.rows(&format!("SELECT * FROM \"{table}\""));
                    (table, rows)
                })
                .collect(),
        }
    }

    /// Every row that belongs to the company: its own row, its members and memberships,
    /// its custom fields and tickets, and its tickets' notes, history and attachments.
    pub fn company_rows(&self, company_id: &str) -> Vec<(&'static str, Vec<String>)> {
        let tickets = format!("SELECT id FROM tickets WHERE company_id = '{company_id}'");
        let own = format!("company_id = '{company_id}'");
        let queries = [
            ("companies", format!("id = '{company_id}'")),
            (
                "users",
                format!("id IN (SELECT user_id FROM user_company_associations WHERE {own})"),
            ),
            ("user_company_associations", own.clone()),
            ("custom_fields", own.clone()),
            ("tickets", own),
            ("ticket_notes", format!("ticket_id IN ({tickets})")),
            ("ticket_history", format!("ticket_id IN ({tickets})")),
            ("file_attachments", format!("ticket_id IN ({tickets})")),
        ];
        queries
            .into_iter()
            .map(|(table, filter)| {
                (
                    table,
                    self.rows(&format!("SELECT * FROM {table} WHERE {filter}")),
                )
            })
            .collect()
    }

    /// The binary on this backend, acting as Acme's admin.
    pub fn acme(&self) -> assert_cmd::Command {
        let mut cmd = pg_bin();
        cmd.arg("--db").arg(self.db());
        cmd.args(super::AS_ACME_ADMIN);
        cmd
    }
}

/// Copies every row of the application's tables from SQLite into PostgreSQL
/// (`json_populate_record` converts each column from its JSON form: 0/1 to boolean, JSON
/// text parsed first to `jsonb`).
pub fn copy_app_rows(from: &rusqlite::Connection, to: &mut Client) {
    let mut tx = to.transaction().expect("a transaction");
    for table in APP_TABLES {
        let mut stmt = from
            .prepare(&format!("SELECT * FROM {table}"))
            .expect("read a table");
        let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut rows = stmt.query([]).expect("read a table");
        while let Some(row) = rows.next().expect("a row") {
            let mut object = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                use rusqlite::types::ValueRef;
                let value = match row.get_ref(i).expect("a column") {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => n.into(),
                    ValueRef::Real(x) => x.into(),
                    ValueRef::Text(text) => {
                        let text = String::from_utf8_lossy(text).into_owned();
                        match super::APP_JSON_COLUMNS.contains(&name.as_str()) {
                            true => serde_json::from_str(&text)
                                .unwrap_or(serde_json::Value::String(text)),
                            false => text.into(),
                        }
                    }
                    ValueRef::Blob(_) => panic!("a blob in {table}.{name}"),
                };
                object.insert(name.clone(), value);
            }
            let record = serde_json::Value::Object(object).to_string();
            tx.execute(
                &format!(
                    "INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, $1::text::json)"
                ),
                &[&record],
            )
            .unwrap_or_else(|e| panic!("copy a row of {table} ({record}): {e}"));
        }
    }
    tx.commit().expect("commit the copy");
}
