//! A PostgreSQL connection URL, read as libpq reads it, into the `postgres::Config` the
//! connection is made from, and the form of it that messages show: the password replaced by
//! `***`.
//!
//! The parsing is ours, not `postgres::Config::from_str`'s, for three reasons: the masked form
//! must be cut exactly where the password was read from; that parser takes the user name up to
//! an `@` anywhere in the string (so `?user=a@b` misreads) where libpq stops at the path; and
//! libpq's defaults differ in places (a URL without a host is the local socket, a query
//! parameter overrides the same part of the URL). The settings it does not interpret itself
//! (timeouts, keepalives, …) are handed to `Config::from_str` one by one.
//!
//! What the URL leaves out comes from its service (`service=`, else `PGSERVICE`: a section of
//! the service file, `service.rs`), then libpq's environment variables, then libpq's defaults
//! (`Environment`): the hosts (`PGHOST`, else the local socket), the ports (`PGPORT`, else
//! 5432), the user (`PGUSER`, else the effective OS user), the database (`PGDATABASE`, else
//! the user's name), `sslmode` (`PGSSLMODE`, else `prefer`), the TLS files `sslrootcert`,
//! `sslcert` and `sslkey` (`PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, else in
//! `~/.postgresql`; `tls.rs`), `connect_timeout` (`PGCONNECT_TIMEOUT`), and the password: `PGPASSWORD`, else the password file
//! (`passfile`, `PGPASSFILE`, else `~/.pgpass`; `passfile.rs`), looked up for each host.
//!
//! No error about the URL quotes any part of it: a password with a stray `@`, `/` or `&`
//! could land anywhere in it, and the message may end up in a cron job's mail. A password
//! from the environment or the file is no part of the URL, so never of its masked form.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use postgres::config::{Host, SslMode};

use super::passfile::PassFile;
use super::service;
use super::tls::{FileSetting, Mode, Roots, Tls};
use crate::error::Failure;

/// The schemes that make `--db` a PostgreSQL URL, as libpq accepts them.
pub const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// What the server is told the client is, unless the URL says otherwise (`pg_stat_activity`).
pub const APPLICATION_NAME: &str = "bomizzel-backup";

/// libpq's port when none is given.
const DEFAULT_PORT: u16 = 5432;

/// Query parameters passed to `postgres::Config` as they are: their values are not secret,
/// and it checks them.
const PASSED_ON: &[&str] = &[
    "options",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "hostaddr",
    "sslnegotiation",
];

/// libpq's variables for the parameters passed on as they are (`PASSED_ON`), besides
/// `PGCONNECT_TIMEOUT`, which is checked first.
const ENV_PASSED_ON: &[(&str, &str)] = &[
    ("PGHOSTADDR", "hostaddr"),
    ("PGOPTIONS", "options"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
];

/// libpq's variables that ask for a check this tool does not make, with the values that ask
/// for nothing (None: any value asks). One that is set is refused rather than ignored: a
/// connection without the check the operator's environment asks for would be a quiet
/// downgrade.
const ENV_NOT_SUPPORTED: &[(&str, Option<&[&str]>)] = &[
    ("PGSSLCRL", None),
    ("PGSSLCRLDIR", None),
    ("PGREQUIREPEER", None),
    ("PGREQUIREAUTH", None),
    ("PGGSSENCMODE", Some(&["disable", "prefer"])),
    (
        "PGSSLMINPROTOCOLVERSION",
        Some(&["TLSv1", "TLSv1.1", "TLSv1.2"]),
    ),
    ("PGSSLMAXPROTOCOLVERSION", Some(&["TLSv1.3"])),
];

/// libpq parameters this tool does not implement: named in the refusal, since they are
/// libpq's words and not the user's.
const NOT_SUPPORTED: &[&str] = &[
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
    "requirepeer",
    "gsslib",
    "gssdelegation",
    "krbsrvname",
    "require_auth",
    "replication",
    "client_encoding",
];

/// A PostgreSQL server and database to connect to. `Display` is the masked URL.
#[derive(Clone)]
pub struct PgUrl {
    /// Boxed: a `Location` holds a `PgUrl` or a path, and this is most of its size.
    config: Box<postgres::Config>,
    /// One config per host, in order, when the password file gives the hosts different
    /// passwords (a password is one per `postgres::Config`); else empty, and `config` is
    /// the one to connect with.
    per_host: Vec<postgres::Config>,
    /// How the connections use TLS, and the files for it.
    tls: Tls,
    password: PasswordSource,
    masked: String,
    /// Why the password file was not read, for the operator (`parse` shows it once).
    warning: Option<String>,
}

/// Where the password came from, for messages (never the password itself).
#[derive(Clone, Debug, PartialEq, Eq)]
enum PasswordSource {
    Url,
    /// The service file that gave it.
    Service(PathBuf),
    Environment,
    File(PathBuf),
    /// None given; the password file that was looked in, if any.
    None(Option<PathBuf>),
}

/// The libpq environment variables this tool reads, and what libpq's defaults come from
/// (`HOME`, the effective OS user): read once per URL (`from_process`), made up by tests.
/// An empty variable counts as unset.
#[derive(Clone, Debug, Default)]
pub(crate) struct Environment {
    /// `PGHOST`: host names or socket directories, comma-separated.
    pub(crate) host: Option<String>,
    /// `PGPORT`: ports, comma-separated.
    pub(crate) port: Option<String>,
    /// `PGUSER`.
    pub(crate) user: Option<String>,
    /// `PGDATABASE`.
    pub(crate) database: Option<String>,
    /// `PGPASSWORD`.
    pub(crate) password: Option<String>,
    /// `PGPASSFILE`.
    pub(crate) passfile: Option<PathBuf>,
    /// `PGSSLMODE`.
    pub(crate) sslmode: Option<String>,
    /// `PGSSLROOTCERT`.
    pub(crate) sslrootcert: Option<String>,
    /// `PGSSLCERT`.
    pub(crate) sslcert: Option<PathBuf>,
    /// `PGSSLKEY`.
    pub(crate) sslkey: Option<PathBuf>,
    /// `PGCONNECT_TIMEOUT`.
    pub(crate) connect_timeout: Option<String>,
    /// `PGAPPNAME`.
    pub(crate) application_name: Option<String>,
    /// The variables of `ENV_PASSED_ON` that are set, as (variable, parameter, value).
    pub(crate) passed_on: Vec<(&'static str, &'static str, String)>,
    /// `PGSERVICE`.
    pub(crate) service: Option<String>,
    /// `PGSERVICEFILE`.
    pub(crate) service_file: Option<PathBuf>,
    /// `PGSYSCONFDIR`, where the system's service file is.
    pub(crate) sysconfdir: Option<PathBuf>,
    /// The first variable of `ENV_NOT_SUPPORTED` set to a value that asks for a check.
    pub(crate) unsupported: Option<&'static str>,
    /// `HOME`, where `.pgpass` is.
    pub(crate) home: Option<PathBuf>,
    /// The effective OS user's name, the user when none is given.
    pub(crate) os_user: Option<String>,
}

impl Environment {
    /// This process's.
    pub(crate) fn from_process() -> Self {
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            host: text("PGHOST"),
            port: text("PGPORT"),
            user: text("PGUSER"),
            database: text("PGDATABASE"),
            password: text("PGPASSWORD"),
            passfile: path("PGPASSFILE"),
            sslmode: text("PGSSLMODE"),
            sslrootcert: text("PGSSLROOTCERT"),
            sslcert: path("PGSSLCERT"),
            sslkey: path("PGSSLKEY"),
            connect_timeout: text("PGCONNECT_TIMEOUT"),
            application_name: text("PGAPPNAME"),
            passed_on: ENV_PASSED_ON
                .iter()
                .filter_map(|(variable, key)| text(variable).map(|value| (*variable, *key, value)))
                .collect(),
            service: text("PGSERVICE"),
            service_file: path("PGSERVICEFILE"),
            sysconfdir: path("PGSYSCONFDIR"),
            unsupported: ENV_NOT_SUPPORTED
                .iter()
                .find(|(variable, harmless)| {
                    text(variable).is_some_and(|value| {
                        harmless.is_none_or(|harmless| !harmless.contains(&value.as_str()))
                    })
                })
                .map(|(variable, _)| *variable),
            home: path("HOME"),
            // As libpq: the effective user id's name (tokio-postgres's own default too).
            os_user: whoami::username().ok().filter(|u| !u.is_empty()),
        }
    }
}

impl PgUrl {
    /// Reads a `postgresql://` or `postgres://` URL, with what it leaves out from this
    /// process's environment (see the module's doc). A URL this cannot read is a usage
    /// error that quotes none of it; so is a libpq variable this cannot use, naming it. A
    /// password file left unread is said on stderr, once per run.
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let url = Self::parse_with(text, &Environment::from_process())?;
        static WARNED: AtomicBool = AtomicBool::new(false);
        if let Some(warning) = &url.warning
            && !WARNED.swap(true, Ordering::Relaxed)
        {
            // Not eprintln!, which panics when stderr is gone.
            let _ = writeln!(std::io::stderr(), "bomizzel-backup: warning: {warning}");
        }
        Ok(url)
    }

    /// The masked form of a URL (`Display`'s), from its text alone; None for a URL this
    /// cannot read.
    pub(crate) fn masked_text(text: &str) -> Option<String> {
        Parts::split(text).ok().map(|parts| parts.masked())
    }

    /// `parse`, with the environment given.
    pub(crate) fn parse_with(text: &str, env: &Environment) -> Result<Self, Failure> {
        let parts = Parts::split(text)?;
        let mut settings = Settings::default();
        settings.read_service(parts.query, env)?;
        settings.read_location(parts.location)?;
        if let Some(userinfo) = parts.userinfo {
            settings.read_userinfo(userinfo)?;
        }
        if let Some(query) = parts.query {
            settings.read_query(query)?;
        }
        settings.fill_in(env)?;
        settings.into_url(parts.masked(), env)
    }

    /// The settings with all the hosts, and the password when it is one for all of them.
    #[cfg(test)]
    pub(crate) fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// How its connections use TLS.
    pub(super) fn tls(&self) -> &Tls {
        &self.tls
    }

    /// The settings to connect with, to try in order: one for all the hosts, or one per
    /// host when their passwords differ.
    pub(crate) fn configs(&self) -> &[postgres::Config] {
        match self.per_host.as_slice() {
            [] => std::slice::from_ref(&*self.config),
            per_host => per_host,
        }
    }

    /// The servers it names, for messages: `host:port` or `socket DIR/.s.PGSQL.PORT`.
    pub fn servers(&self) -> String {
        let ports = self.config.get_ports();
        self.config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = ports
                    .get(i)
                    .or(ports.first())
                    .copied()
                    .unwrap_or(DEFAULT_PORT);
                match host {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                    Host::Tcp(name) => format!("{name}:{port}"),
                    Host::Unix(dir) => {
                        format!("socket {}", dir.join(format!(".s.PGSQL.{port}")).display())
                    }
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The database's name: the URL's, else `PGDATABASE`, else (as the server does) the
    /// user's.
    pub fn database(&self) -> Option<&str> {
        self.config.get_dbname().or(self.config.get_user())
    }

    /// The user name: the URL's, else `PGUSER`, else the OS user's.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// Whether a password was given: in the URL, by `PGPASSWORD` or by the password file.
    pub fn has_password(&self) -> bool {
        !matches!(self.password, PasswordSource::None(_))
    }

    /// Where the password came from, or where one may be given, for messages: "in the
    /// URL", "in PGPASSWORD", "in the password file F", or all the places there are.
    pub fn password_source(&self) -> String {
        match &self.password {
            PasswordSource::Url => "in the URL".to_owned(),
            PasswordSource::Service(path) => format!("in the service file {}", path.display()),
            PasswordSource::Environment => "in PGPASSWORD".to_owned(),
            PasswordSource::File(path) => format!("in the password file {}", path.display()),
            PasswordSource::None(Some(path)) => format!(
                "in the URL, in PGPASSWORD or in the password file {}",
                path.display()
            ),
            PasswordSource::None(None) => "in the URL or in PGPASSWORD".to_owned(),
        }
    }
}

/// The masked URL: what every message shows.
impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked)
    }
}

/// Masked too: a `{:?}` in a message or a log must not show the password either.
impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgUrl").field(&self.masked).finish()
    }
}

/// The URL cut into its parts, as written.
struct Parts<'a> {
    scheme: &'a str,
    /// `user[:password]`, before the `@`.
    userinfo: Option<&'a str>,
    /// `host[:port][,…][/dbname]`.
    location: &'a str,
    /// After the `?`.
    query: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn split(text: &'a str) -> Result<Self, Failure> {
        let (scheme, rest) = SCHEMES
            .iter()
            .find_map(|scheme| text.strip_prefix(scheme).map(|rest| (*scheme, rest)))
            .ok_or_else(|| invalid("it does not start with postgresql:// or postgres://"))?;
        // libpq takes the user name and password up to the first `@` that comes before any
        // `/`, so a password may hold a `?` or `#` as typed.
        let (userinfo, after) = match rest.find(['@', '/']) {
            Some(at) if rest.as_bytes()[at] == b'@' => (Some(&rest[..at]), &rest[at + 1..]),
            _ => (None, rest),
        };
        let (location, query) = match after.split_once('?') {
            Some((location, query)) => (location, Some(query)),
            None => (after, None),
        };
        // A second `@` means a password (or a user name) with an `@` or `/` in it that was
        // not percent-encoded: its tail would be read as the host or the database, and shown.
        if location.contains('@') {
            return Err(invalid(
                "it has an `@` after the user name and password; percent-encode `@`, `/`, `?` \
                 and `:` in them (%40, %2F, %3F, %3A)",
            ));
        }
        Ok(Self {
            scheme,
            userinfo,
            location,
            query,
        })
    }

    /// The URL as written, with the password (`user:PASSWORD@`, `password=PASSWORD`)
    /// replaced by `***`.
    fn masked(&self) -> String {
        let mut masked = String::from(self.scheme);
        if let Some(userinfo) = self.userinfo {
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    masked.push_str(user);
                    masked.push_str(":***");
                }
                None => masked.push_str(userinfo),
            }
            masked.push('@');
        }
        masked.push_str(self.location);
        if let Some(query) = self.query {
            masked.push('?');
            let params: Vec<Cow<'_, str>> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if decode(key).is_ok_and(|k| k == "password") => {
                        Cow::Owned(format!("{key}=***"))
                    }
                    _ => Cow::Borrowed(param),
                })
                .collect();
            masked.push_str(&params.join("&"));
        }
        masked
    }
}

/// What the URL says, decoded; then what the environment and libpq's defaults fill in.
#[derive(Default)]
struct Settings {
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    hosts: Vec<String>,
    ports: Vec<Option<u16>>,
    ssl_mode: Option<Mode>,
    /// `sslrootcert`: a file, or `system`.
    sslrootcert: Option<String>,
    sslcert: Option<PathBuf>,
    sslkey: Option<PathBuf>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    /// The URL's `passfile`.
    passfile: Option<PathBuf>,
    /// The service file that gave the password, unless the URL gives one after it.
    password_in_service: Option<PathBuf>,
    /// The parameters for `postgres::Config::from_str`, each once (a later value replaces
    /// an earlier one), with where it came from.
    passed_on: Vec<Passed>,
}

/// A parameter passed on to `postgres::Config` as it is.
struct Passed {
    key: &'static str,
    value: String,
    from: Origin,
}

/// Where a parameter came from, for messages.
enum Origin {
    Url,
    /// A service file, and the line.
    Service(PathBuf, usize),
    /// The environment variable.
    Environment(&'static str),
}

impl Origin {
    /// A value of `key` that `postgres::Config` refuses, said where it was given (the
    /// value is not quoted: it came with the rest of the URL).
    fn refusal(&self, key: &str, reason: &str) -> Failure {
        let reason = format!("its {key} is not valid ({reason})");
        match self {
            Self::Url => invalid(&reason),
            Self::Service(file, line) => {
                Failure::Usage(format!("{}: {reason}", service_place(file, *line)))
            }
            Self::Environment(variable) => env_invalid(variable, &reason),
        }
    }
}

impl Settings {
    fn read_userinfo(&mut self, userinfo: &str) -> Result<(), Failure> {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            self.user = Some(decode(user)?);
        }
        // As libpq: an empty password here is none (`user:@host`).
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            self.password = Some(decode(password)?);
            self.password_in_service = None;
        }
        Ok(())
    }

    /// `host[:port],…[/dbname]`; IPv6 addresses in brackets; a host that decodes to an
    /// absolute path (`%2Fvar%2Frun%2Fpostgresql`) is a socket directory. As libpq: one
    /// empty host names none (`PGHOST` may), one host without a port names no port
    /// (`PGPORT` may); in a list, an empty one is the default.
    fn read_location(&mut self, location: &str) -> Result<(), Failure> {
        let (netloc, path) = match location.split_once('/') {
            Some((netloc, path)) => (netloc, Some(path)),
            None => (location, None),
        };
        if !netloc.is_empty() {
            let (mut hosts, mut ports) = (Vec::new(), Vec::new());
            for chunk in netloc.split(',') {
                let (host, port) = split_host_port(chunk)?;
                hosts.push(decode(host)?);
                ports.push(port.map(url_port).transpose()?.flatten());
            }
            // What it names replaces the service's; what it leaves empty does not.
            if hosts != [""] {
                self.hosts = hosts;
            }
            if ports != [None] {
                self.ports = ports;
            }
        }
        if let Some(path) = path.filter(|p| !p.is_empty()) {
            self.dbname = Some(decode(path)?);
        }
        Ok(())
    }

    /// `key=value&…`: a parameter overrides what the rest of the URL says (libpq's rule).
    fn read_query(&mut self, query: &str) -> Result<(), Failure> {
        for (position, param) in query.split('&').enumerate() {
            if param.is_empty() {
                continue;
            }
            let Some((key, value)) = param.split_once('=') else {
                return Err(invalid(&format!(
                    "its parameter {} has no `=value`",
                    position + 1
                )));
            };
            let key = decode(key)?;
            if key == "service" {
                continue; // read first (`read_service`)
            }
            let value = decode(value)?;
            if key == "password" {
                self.password_in_service = None;
            }
            self.set(&key, value, Origin::Url).map_err(|reason| {
                invalid(&reason.unwrap_or_else(|| {
                    format!(
                        "its parameter {} is not a libpq connection parameter this tool knows \
                         (it knows {})",
                        position + 1,
                        known_parameters()
                    )
                }))
            })?;
        }
        Ok(())
    }

    /// A parameter for `postgres::Config`, replacing what was given for it before.
    fn pass_on(&mut self, key: &'static str, value: String, from: Origin) {
        self.passed_on.retain(|passed| passed.key != key);
        self.passed_on.push(Passed { key, value, from });
    }

    fn passes_on(&self, key: &str) -> bool {
        self.passed_on.iter().any(|passed| passed.key == key)
    }

    /// The URL's service (`service=`, else `PGSERVICE`): its parameters, each where the
    /// URL does not say otherwise (so before the URL's own are read).
    fn read_service(&mut self, query: Option<&str>, env: &Environment) -> Result<(), Failure> {
        let mut name = env.service.clone();
        for param in query.into_iter().flat_map(|q| q.split('&')) {
            if let Some((key, value)) = param.split_once('=')
                && decode(key)? == "service"
            {
                name = Some(decode(value)?);
            }
        }
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let files = service::files(
            env.service_file.as_deref(),
            env.home.as_deref(),
            env.sysconfdir.as_deref(),
        );
        for parameter in service::lookup(&name, &files)? {
            if parameter.key == "password" {
                self.password_in_service = Some(parameter.file.clone());
            }
            let from = Origin::Service(parameter.file.clone(), parameter.line);
            // Neither the key nor the value is quoted: the line may hold a password.
            self.set(&parameter.key, parameter.value, from)
                .map_err(|reason| {
                    Failure::Usage(format!(
                        "{}: {}",
                        service_place(&parameter.file, parameter.line),
                        reason.unwrap_or_else(|| format!(
                            "not a libpq connection parameter this tool knows (it knows {})",
                            known_parameters()
                        ))
                    ))
                })?;
        }
        Ok(())
    }

    /// One parameter, from the URL's query or a service. `Err(None)` for a key that is no
    /// parameter this tool knows; `Err(Some(reason))` for one it cannot use.
    fn set(&mut self, key: &str, value: String, from: Origin) -> Result<(), Option<String>> {
        match key {
            "user" => self.user = Some(value),
            "password" => self.password = Some(value),
            "dbname" => self.dbname = Some(value),
            "host" => {
                self.hosts = value.split(',').map(str::to_owned).collect();
            }
            "port" => {
                self.ports = (value.split(','))
                    .map(parse_port)
                    .collect::<Result<_, _>>()
                    .map_err(|reason| Some(reason.to_owned()))?;
            }
            "sslmode" => self.ssl_mode = Some(Mode::parse(&value).map_err(Some)?),
            "sslrootcert" => self.sslrootcert = Some(value),
            "sslcert" => self.sslcert = Some(PathBuf::from(value)),
            "sslkey" => self.sslkey = Some(PathBuf::from(value)),
            "application_name" => self.application_name = Some(value),
            "fallback_application_name" => self.fallback_application_name = Some(value),
            "passfile" => self.passfile = Some(PathBuf::from(value)),
            // There is no GSSAPI here: only asking for none, or for it where there is, is
            // fine (a service file often says `gssencmode=disable`).
            "gssencmode" => match value.as_str() {
                "disable" | "prefer" => {}
                _ => {
                    return Err(Some(
                        "gssencmode asks for GSSAPI encryption, which this tool does not have; \
                         use sslmode for TLS"
                            .to_owned(),
                    ));
                }
            },
            _ => {
                if let Some(key) = PASSED_ON.iter().find(|k| **k == key) {
                    self.pass_on(key, value, from);
                } else if NOT_SUPPORTED.contains(&key) {
                    return Err(Some(format!(
                        "this tool does not support the libpq parameter {key}"
                    )));
                } else {
                    return Err(None);
                }
            }
        }
        Ok(())
    }

    /// What the URL left out, from the environment, then libpq's defaults: a URL's value
    /// always comes first. The password is `password_for`'s.
    fn fill_in(&mut self, env: &Environment) -> Result<(), Failure> {
        if let Some(variable) = env.unsupported {
            return Err(env_invalid(
                variable,
                "it asks for a check of the connection this tool does not make (revocation \
                 lists, peer or authentication requirements, GSSAPI encryption, TLS versions \
                 other than 1.2 and 1.3); unset it for this command",
            ));
        }
        if let (true, Some(hosts)) = (self.hosts.is_empty(), &env.host) {
            self.hosts = hosts.split(',').map(str::to_owned).collect();
        }
        if let (true, Some(ports)) = (self.ports.is_empty(), &env.port) {
            self.ports = ports
                .split(',')
                .map(parse_port)
                .collect::<Result<_, _>>()
                .map_err(|reason| env_invalid("PGPORT", reason))?;
        }
        if self.user.is_none() {
            self.user = env.user.clone().or_else(|| env.os_user.clone());
        }
        if self.dbname.is_none() {
            self.dbname = env.database.clone().or_else(|| self.user.clone());
        }
        if let (None, Some(mode)) = (self.ssl_mode, &env.sslmode) {
            self.ssl_mode = Some(Mode::parse(mode).map_err(|r| env_invalid("PGSSLMODE", &r))?);
        }
        self.sslrootcert = self.sslrootcert.take().or_else(|| env.sslrootcert.clone());
        self.sslcert = self.sslcert.take().or_else(|| env.sslcert.clone());
        self.sslkey = self.sslkey.take().or_else(|| env.sslkey.clone());
        // libpq's rule: the system's roots are checked with the host's name, or not used.
        match (self.sslrootcert.as_deref(), self.ssl_mode) {
            (Some("system"), None) => self.ssl_mode = Some(Mode::VerifyFull),
            (Some("system"), Some(mode)) if mode != Mode::VerifyFull => {
                return Err(Failure::Usage(
                    "sslrootcert=system needs sslmode=verify-full (libpq's rule: the system's \
                     root certificates are used only to check the server's name too)"
                        .to_owned(),
                ));
            }
            _ => {}
        }
        if self.application_name.is_none() {
            self.application_name = env.application_name.clone();
        }
        for (variable, key, value) in &env.passed_on {
            if !self.passes_on(key) {
                self.pass_on(key, value.clone(), Origin::Environment(variable));
            }
        }
        if let (false, Some(seconds)) = (self.passes_on("connect_timeout"), &env.connect_timeout) {
            // libpq's: whole seconds, 0 or less for none.
            seconds.trim_end().parse::<i64>().map_err(|_| {
                env_invalid("PGCONNECT_TIMEOUT", "it is not a whole number of seconds")
            })?;
            let from = Origin::Environment("PGCONNECT_TIMEOUT");
            self.pass_on("connect_timeout", seconds.trim_end().to_owned(), from);
        }
        if self.passfile.is_none() {
            self.passfile = env
                .passfile
                .clone()
                .or_else(|| env.home.as_ref().map(|home| home.join(".pgpass")));
        }
        Ok(())
    }

    /// Each host, with its port: the socket directory for none (or an empty one), 5432 for
    /// no port; one port for all, or one for each.
    fn targets(&self) -> Result<Vec<(String, u16)>, Failure> {
        let hosts: Vec<&str> = match self.hosts.as_slice() {
            [] => vec![default_socket_dir()],
            hosts => hosts
                .iter()
                .map(|h| {
                    if h.is_empty() {
                        default_socket_dir()
                    } else {
                        h
                    }
                })
                .collect(),
        };
        let port = |i: usize| match self.ports.as_slice() {
            [] => DEFAULT_PORT,
            [one] => one.unwrap_or(DEFAULT_PORT),
            ports => ports[i].unwrap_or(DEFAULT_PORT),
        };
        if self.ports.len() > 1 && self.ports.len() != hosts.len() {
            return Err(Failure::Usage(format!(
                "the PostgreSQL URL (with PGHOST and PGPORT) names {} hosts and {} ports; give \
                 one port, or one for each host",
                hosts.len(),
                self.ports.len()
            )));
        }
        Ok(hosts
            .into_iter()
            .enumerate()
            .map(|(i, host)| (host.to_owned(), port(i)))
            .collect())
    }

    /// The password for each of `targets`, and where it came from: the URL's, else
    /// `PGPASSWORD`, else the password file's line for that host (an empty password is
    /// none, and an empty one in the URL still lets the file give one, as with libpq).
    /// The warning is why the file was not read.
    fn password_for(
        &self,
        targets: &[(String, u16)],
        env: &Environment,
    ) -> (PasswordSource, Vec<Option<Vec<u8>>>, Option<String>) {
        let same = |password: &str| vec![Some(password.as_bytes().to_vec()); targets.len()];
        match (self.password.as_deref(), env.password.as_deref()) {
            (Some(password), _) if !password.is_empty() => {
                let source = match &self.password_in_service {
                    Some(file) => PasswordSource::Service(file.clone()),
                    None => PasswordSource::Url,
                };
                return (source, same(password), None);
            }
            (None, Some(password)) if !password.is_empty() => {
                return (PasswordSource::Environment, same(password), None);
            }
            _ => {}
        }
        let (Some(path), Some(user), Some(dbname)) = (&self.passfile, &self.user, &self.dbname)
        else {
            return (
                PasswordSource::None(self.passfile.clone()),
                vec![None; targets.len()],
                None,
            );
        };
        let file = PassFile::load(path);
        let found: Vec<Option<Vec<u8>>> = targets
            .iter()
            .map(|(host, port)| {
                file.find(passfile_host(host), *port, dbname, user)
                    .filter(|p| !p.is_empty())
            })
            .collect();
        let source = match found.iter().any(Option::is_some) {
            true => PasswordSource::File(path.clone()),
            false => PasswordSource::None(Some(path.clone())),
        };
        let warning = match file {
            PassFile::Ignored(warning) => Some(warning),
            _ => None,
        };
        (source, found, warning)
    }

    fn into_url(self, masked: String, env: &Environment) -> Result<PgUrl, Failure> {
        // Without a host, the connection would be taken for the local socket's (no TLS),
        // while libpq reaches the address over TCP.
        if self.hosts.is_empty() && self.passes_on("hostaddr") {
            return Err(Failure::Usage(
                "hostaddr is given without host: give the host's name too (host= or PGHOST), \
                 which TLS and the password file know the server by"
                    .to_owned(),
            ));
        }
        let targets = self.targets()?;
        let (password, passwords, warning) = self.password_for(&targets, env);
        let base = self.base_config()?;
        let tls = match targets.iter().all(|(host, _)| is_socket(host)) {
            true => Tls::none(),
            false => self.tls(env),
        };
        let config = |targets: &[(String, u16)], password: Option<&[u8]>| {
            let mut config = base.clone();
            for (host, port) in targets {
                if is_socket(host) {
                    config.host_path(host);
                } else {
                    config.host(host);
                }
                config.port(*port);
            }
            if let Some(password) = password {
                config.password(password);
            }
            // libpq never uses TLS on a local socket (the server refuses it there), whatever
            // sslmode says; tokio-postgres would fail a `require` instead.
            if targets.iter().all(|(host, _)| is_socket(host)) {
                config.ssl_mode(SslMode::Disable);
            }
            config
        };
        let differ = passwords.iter().any(|p| Some(p) != passwords.first());
        // A config of one host cannot keep a `hostaddr` list (one address per host).
        if differ && self.passes_on("hostaddr") {
            return Err(Failure::Usage(
                "the password file gives the URL's hosts different passwords, which this tool \
                 can use only without hostaddr; give the password in the URL or in PGPASSWORD"
                    .to_owned(),
            ));
        }
        let (config, per_host) = if differ {
            let each = targets
                .iter()
                .zip(&passwords)
                .map(|(target, password)| config(std::slice::from_ref(target), password.as_deref()))
                .collect();
            (config(&targets, None), each)
        } else {
            let password = passwords.first().and_then(Option::as_deref);
            (config(&targets, password), Vec::new())
        };
        Ok(PgUrl {
            config: Box::new(config),
            per_host,
            tls,
            password,
            masked,
            warning,
        })
    }

    /// Everything but the hosts, the ports and the password.
    fn base_config(&self) -> Result<postgres::Config, Failure> {
        let conninfo =
            |passed: &Passed| format!("{}='{}'", passed.key, conninfo_escape(&passed.value));
        // Each on its own first, so that a refusal says which, and where it was given.
        for passed in &self.passed_on {
            postgres::Config::from_str(&conninfo(passed))
                .map_err(|err| passed.from.refusal(passed.key, &err.to_string()))?;
        }
        let all: Vec<String> = self.passed_on.iter().map(conninfo).collect();
        let mut config = postgres::Config::from_str(&all.join(" "))
            .map_err(|err| invalid(&format!("one of its parameters is not valid ({err})")))?;
        if let Some(user) = &self.user {
            config.user(user);
        }
        if let Some(dbname) = &self.dbname {
            config.dbname(dbname);
        }
        let application_name = self
            .application_name
            .as_deref()
            .or(self.fallback_application_name.as_deref())
            .unwrap_or(APPLICATION_NAME);
        config.application_name(application_name);
        config.ssl_mode(self.mode().ssl_mode());
        Ok(config)
    }

    /// The URL's `sslmode`, else `PGSSLMODE`, else libpq's default.
    fn mode(&self) -> Mode {
        self.ssl_mode.unwrap_or(Mode::Prefer)
    }

    /// The TLS settings: the mode, and the files given, else libpq's defaults in
    /// `~/.postgresql` (which may be missing).
    fn tls(&self, env: &Environment) -> Tls {
        let file = |given: Option<&Path>, default: &str| match given {
            Some(path) => Some(FileSetting {
                path: path.to_owned(),
                given: true,
            }),
            None => env.home.as_ref().map(|home| FileSetting {
                path: home.join(".postgresql").join(default),
                given: false,
            }),
        };
        let roots = match self.sslrootcert.as_deref() {
            Some("system") => Some(Roots::System),
            given => file(given.map(Path::new), "root.crt").map(Roots::File),
        };
        Tls {
            mode: self.mode(),
            roots,
            cert: file(self.sslcert.as_deref(), "postgresql.crt"),
            key: file(self.sslkey.as_deref(), "postgresql.key"),
        }
    }
}

/// A line of a service file, for messages.
fn service_place(file: &Path, line: usize) -> String {
    format!("the service file {}, line {line}", file.display())
}

/// The parameters this tool reads, for messages.
fn known_parameters() -> String {
    format!(
        "host, port, user, password, passfile, dbname, service, sslmode, sslrootcert, sslcert, \
         sslkey, application_name, fallback_application_name, {}",
        PASSED_ON.join(", ")
    )
}

/// Whether a host is a socket directory.
fn is_socket(host: &str) -> bool {
    host.starts_with('/')
}

/// The host a password file line names for a connection to `host`: `localhost` for the
/// default socket directory (libpq's rule), else the host or directory as given.
fn passfile_host(host: &str) -> &str {
    if host == default_socket_dir() {
        "localhost"
    } else {
        host
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(chunk: &str) -> Result<(&str, Option<&str>), Failure> {
    if let Some(bracketed) = chunk.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 host has no closing `]`"))?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(invalid(
                    "an IPv6 host is followed by something else than :port",
                )),
            },
        };
    }
    Ok(match chunk.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (chunk, None),
    })
}

/// A port number; empty means the default.
fn parse_port(text: &str) -> Result<Option<u16>, &'static str> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err("a port is not a number from 1 to 65535"),
    }
}

/// A port of the URL.
fn url_port(text: &str) -> Result<Option<u16>, Failure> {
    parse_port(text).map_err(invalid)
}

fn decode(text: &str) -> Result<String, Failure> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| invalid("a percent-encoded part of it is not UTF-8"))
}

/// A value inside `'…'` in a libpq key/value string.
fn conninfo_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Where libpq looks for the server's socket when the URL names no host: Debian's
/// directory, else the upstream default.
fn default_socket_dir() -> &'static str {
    const DEBIAN: &str = "/var/run/postgresql";
    if Path::new(DEBIAN).is_dir() {
        DEBIAN
    } else {
        "/tmp"
    }
}

/// A libpq environment variable this tool cannot use: a usage error naming it.
fn env_invalid(variable: &str, reason: &str) -> Failure {
    Failure::Usage(format!(
        "{variable} is not a value this tool can use: {reason}"
    ))
}

fn invalid(reason: &str) -> Failure {
    Failure::Usage(format!(
        "--db is not a PostgreSQL URL this tool can use: {reason} \
         (postgresql://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require, or \
         postgresql:///DATABASE?host=/SOCKET/DIR)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> PgUrl {
        PgUrl::parse_with(text, &Environment::default()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refusal(text: &str) -> String {
        match PgUrl::parse_with(text, &Environment::default()) {
            Ok(url) => panic!("{text} was accepted as {url}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn reads_user_password_host_port_and_database() {
        let url = url("postgresql://ada:s%40cret@db.example:6543/bomizzel");
        let config = url.config();
        assert_eq!(config.get_user(), Some("ada"));
        assert_eq!(config.get_password(), Some(&b"s@cret"[..]));
        assert_eq!(config.get_hosts(), [Host::Tcp("db.example".into())]);
        assert_eq!(config.get_ports(), [6543]);
        assert_eq!(config.get_dbname(), Some("bomizzel"));
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(config.get_application_name(), Some(APPLICATION_NAME));
        assert_eq!(url.servers(), "db.example:6543");
        assert_eq!(url.database(), Some("bomizzel"));
    }

    #[test]
    fn the_short_scheme_and_the_defaults() {
        let url = url("postgres://db.example");
        assert_eq!(url.config().get_ports(), [DEFAULT_PORT]);
        assert_eq!(url.config().get_user(), None);
        assert_eq!(url.config().get_password(), None);
        assert_eq!(url.database(), None);
        assert_eq!(url.to_string(), "postgres://db.example");
    }

    #[test]
    fn a_socket_directory_as_a_parameter_or_percent_encoded() {
        for text in [
            "postgresql:///bomizzel?host=/tmp/pg%20dir&port=5433",
            "postgresql://%2Ftmp%2Fpg%20dir:5433/bomizzel",
            "postgresql://ignored.example/bomizzel?host=%2Ftmp%2Fpg%20dir&port=5433",
        ] {
            let url = url(text);
            assert_eq!(
                url.config().get_hosts(),
                [Host::Unix("/tmp/pg dir".into())],
                "{text}"
            );
            assert_eq!(url.servers(), "socket /tmp/pg dir/.s.PGSQL.5433", "{text}");
            assert_eq!(url.database(), Some("bomizzel"));
        }
    }

    #[test]
    fn no_host_is_the_local_socket() {
        let url = url("postgresql:///bomizzel");
        assert_eq!(
            url.config().get_hosts(),
            [Host::Unix(default_socket_dir().into())]
        );
    }

    #[test]
    fn no_tls_on_a_local_socket_whatever_sslmode_says() {
        let url = url("postgresql:///bomizzel?host=/tmp&sslmode=require");
        assert_eq!(url.config().get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn sslmode_values() {
        for (value, mode, checked) in [
            ("disable", SslMode::Disable, Mode::Disable),
            ("prefer", SslMode::Prefer, Mode::Prefer),
            ("require", SslMode::Require, Mode::Require),
            ("verify-ca", SslMode::Require, Mode::VerifyCa),
            ("verify-full", SslMode::Require, Mode::VerifyFull),
        ] {
            let url = url(&format!("postgresql://h/db?sslmode={value}"));
            assert_eq!(url.config().get_ssl_mode(), mode);
            assert_eq!(url.tls().mode, checked);
        }
        let message = refusal("postgresql://h/db?sslmode=allow");
        assert!(message.contains("sslmode=allow is not supported"));
        assert!(message.contains("sslmode=prefer"), "{message}");
        assert!(refusal("postgresql://h/db?sslmode=always").contains("sslmode is none of"));
    }

    /// The TLS files: the URL's, else the environment's, else libpq's defaults in
    /// `~/.postgresql`, marked as defaults (which may be missing).
    #[test]
    fn tls_files_from_the_url_the_environment_or_home() {
        let file = |path: &str, given| FileSetting {
            path: PathBuf::from(path),
            given,
        };
        let home = Environment {
            home: Some("/home/ada".into()),
            ..as_os_user("ada")
        };
        let tls = url_in("postgresql://h/db", &home).tls;
        assert_eq!(
            tls.roots,
            Some(Roots::File(file("/home/ada/.postgresql/root.crt", false)))
        );
        assert_eq!(
            tls.cert,
            Some(file("/home/ada/.postgresql/postgresql.crt", false))
        );
        assert_eq!(
            tls.key,
            Some(file("/home/ada/.postgresql/postgresql.key", false))
        );
        let env = Environment {
            sslrootcert: Some("/etc/env-ca.pem".into()),
            sslcert: Some("/etc/env.crt".into()),
            sslkey: Some("/etc/env.key".into()),
            ..home.clone()
        };
        let tls = url_in("postgresql://h/db", &env).tls;
        assert_eq!(tls.roots, Some(Roots::File(file("/etc/env-ca.pem", true))));
        assert_eq!(tls.cert, Some(file("/etc/env.crt", true)));
        assert_eq!(tls.key, Some(file("/etc/env.key", true)));
        let tls = url_in(
            "postgresql://h/db?sslrootcert=/ca.pem&sslcert=/c.crt&sslkey=/c.key",
            &env,
        )
        .tls;
        assert_eq!(tls.roots, Some(Roots::File(file("/ca.pem", true))));
        assert_eq!(tls.cert, Some(file("/c.crt", true)));
        assert_eq!(tls.key, Some(file("/c.key", true)));
        // No home, nothing given: no files at all.
        let tls = url_in("postgresql://h/db", &as_os_user("ada")).tls;
        assert_eq!((tls.roots, tls.cert, tls.key), (None, None, None));
        // A socket never uses TLS, whatever is given.
        let tls = url_in("postgresql:///db?host=/run/pg&sslmode=verify-full", &env).tls;
        assert_eq!(tls, Tls::none());
    }

    /// `sslrootcert=system` makes the mode verify-full, and refuses a weaker one.
    #[test]
    fn the_systems_roots_need_verify_full() {
        let env = as_os_user("ada");
        let tls = url_in("postgresql://h/db?sslrootcert=system", &env).tls;
        assert_eq!(
            (tls.mode, tls.roots),
            (Mode::VerifyFull, Some(Roots::System))
        );
        url_in(
            "postgresql://h/db?sslrootcert=system&sslmode=verify-full",
            &env,
        );
        for mode in ["require", "verify-ca", "prefer", "disable"] {
            let message = refusal(&format!(
                "postgresql://h/db?sslrootcert=system&sslmode={mode}"
            ));
            assert!(
                message.contains("sslrootcert=system needs sslmode=verify-full"),
                "{mode}: {message}"
            );
        }
        let env = Environment {
            sslrootcert: Some("system".into()),
            ..as_os_user("ada")
        };
        assert_eq!(url_in("postgresql://h/db", &env).tls.mode, Mode::VerifyFull);
    }

    #[test]
    fn several_hosts_ipv6_and_default_ports() {
        let url = url("postgresql://a.example:5433,[::1],b.example/db");
        assert_eq!(url.config().get_ports(), [5433, DEFAULT_PORT, DEFAULT_PORT]);
        assert_eq!(url.servers(), "a.example:5433, [::1]:5432, b.example:5432");
        assert!(refusal("postgresql://a,b,c/db?port=1,2").contains("3 hosts and 2 ports"));
    }

    #[test]
    fn parameters_override_the_url_and_pass_through() {
        let url = url(
            "postgresql://ada@h/one?dbname=two&user=bob&application_name=cron&connect_timeout=7",
        );
        let config = url.config();
        assert_eq!(config.get_dbname(), Some("two"));
        assert_eq!(config.get_user(), Some("bob"));
        assert_eq!(config.get_application_name(), Some("cron"));
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(7))
        );
        let fallback = self::url("postgresql://h/db?fallback_application_name=x");
        assert_eq!(fallback.config().get_application_name(), Some("x"));
    }

    #[test]
    fn pgpassword_only_when_the_url_has_none() {
        let env = Environment {
            password: Some("from-env".into()),
            ..Environment::default()
        };
        let without = PgUrl::parse_with("postgresql://ada@h/db", &env).unwrap();
        assert_eq!(without.config().get_password(), Some(&b"from-env"[..]));
        assert!(without.has_password());
        assert_eq!(without.password_source(), "in PGPASSWORD");
        let with = PgUrl::parse_with("postgresql://ada:given@h/db", &env).unwrap();
        assert_eq!(with.config().get_password(), Some(&b"given"[..]));
        assert_eq!(with.password_source(), "in the URL");
        let empty_env = Environment {
            password: Some(String::new()),
            ..Environment::default()
        };
        let empty = PgUrl::parse_with("postgresql://ada@h/db", &empty_env).unwrap();
        assert!(!empty.has_password());
        // The environment's password is no part of the URL, so never of its masked form.
        assert_eq!(without.to_string(), "postgresql://ada@h/db");
    }

    #[test]
    fn the_masked_form_hides_every_password() {
        for (text, masked) in [
            (
                "postgresql://ada:hunter2@h:5432/db?sslmode=require",
                "postgresql://ada:***@h:5432/db?sslmode=require",
            ),
            (
                "postgresql://ada:pa?ss#word@h/db",
                "postgresql://ada:***@h/db",
            ),
            ("postgresql://ada:@h/db", "postgresql://ada:***@h/db"),
            (
                "postgresql://h/db?user=ada&password=hunter2&sslmode=disable",
                "postgresql://h/db?user=ada&password=***&sslmode=disable",
            ),
            (
                "postgresql://h/db?pass%77ord=hunter2",
                "postgresql://h/db?pass%77ord=***",
            ),
            ("postgresql://ada@h/db", "postgresql://ada@h/db"),
        ] {
            let url = url(text);
            assert_eq!(url.to_string(), masked, "{text}");
            assert_eq!(format!("{url:?}"), format!("PgUrl({masked:?})"));
        }
    }

    /// However the password is mistyped, no refusal quotes any of it.
    #[test]
    fn refusals_never_quote_the_url() {
        for text in [
            "postgresql://ada:hun@ter2@h/db",
            "postgresql://ada:hun/ter2@h/db",
            "postgresql://h/db?password=hun&ter2",
            "postgresql://h/db?password=hun&ter2=x",
            "postgresql://ada:hunter2@h:ter2/db",
            "postgresql://ada:hunter2@[h/db",
            "postgresql://ada:hunter2@h/db?sslmode=ter2",
            "postgresql://ada:hunter2@h/%ffter2",
            "postgresql://h/db?password=hunter2&connect_timeout=ter2",
        ] {
            let message = refusal(text);
            assert!(
                !message.contains("ter2"),
                "{text} gave a message with part of its password: {message}"
            );
            assert!(
                message.starts_with("--db is not a PostgreSQL URL"),
                "{message}"
            );
        }
    }

    #[test]
    fn unsupported_libpq_parameters_are_named() {
        let message = refusal("postgresql://h/db?sslpassword=secret");
        assert!(
            message.contains("the libpq parameter sslpassword"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn a_path_or_a_key_value_string_is_not_a_url() {
        assert!(refusal("host=localhost dbname=x").contains("does not start with postgresql://"));
    }

    /// An environment with only the OS user (no HOME: no password file).
    fn as_os_user(user: &str) -> Environment {
        Environment {
            os_user: Some(user.into()),
            ..Environment::default()
        }
    }

    fn url_in(text: &str, env: &Environment) -> PgUrl {
        PgUrl::parse_with(text, env).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refusal_in(text: &str, env: &Environment) -> String {
        match PgUrl::parse_with(text, env) {
            Ok(url) => panic!("{text} was accepted as {url}"),
            Err(err) => err.to_string(),
        }
    }

    /// libpq's: the user is the effective OS user's name, the database the user's name, the
    /// host the local socket, whatever the URL leaves out of these.
    #[test]
    fn what_a_url_leaves_out_is_libpqs_default() {
        let env = as_os_user("osuser");
        for text in [
            "postgresql://",
            "postgres://",
            "postgresql:///",
            "postgresql://:/",
        ] {
            let url = url_in(text, &env);
            let config = url.config();
            assert_eq!(config.get_user(), Some("osuser"), "{text}");
            assert_eq!(config.get_dbname(), Some("osuser"), "{text}");
            assert_eq!(
                config.get_hosts(),
                [Host::Unix(default_socket_dir().into())],
                "{text}"
            );
            assert_eq!(config.get_ports(), [DEFAULT_PORT], "{text}");
            assert_eq!(url.to_string(), text);
        }
        let url = url_in("postgresql://db.example/", &env);
        assert_eq!(url.database(), Some("osuser"));
        let url = url_in("postgresql://ada@db.example", &env);
        assert_eq!((url.user(), url.database()), (Some("ada"), Some("ada")));
        let url = url_in("postgresql:///bomizzel", &env);
        assert_eq!(
            (url.user(), url.database()),
            (Some("osuser"), Some("bomizzel"))
        );
    }

    fn pg_env() -> Environment {
        Environment {
            host: Some("env.example".into()),
            port: Some("6000".into()),
            user: Some("envuser".into()),
            database: Some("envdb".into()),
            sslmode: Some("require".into()),
            connect_timeout: Some("9".into()),
            ..as_os_user("osuser")
        }
    }

    /// A service's parameters come after the URL's own and before the environment's, as
    /// libpq reads them; its password is said to be the service file's.
    #[test]
    fn a_service_fills_in_before_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("services.conf");
        std::fs::write(
            &file,
            "[prod]\nhost=svc.example\nport=6543\ndbname=svcdb\nuser=svcuser\n\
             sslmode=verify-full\nconnect_timeout=4\npassword=from-the-file\n\
             [typo]\nhots=x\n",
        )
        .unwrap();
        let env = Environment {
            service_file: Some(file.clone()),
            sysconfdir: Some(dir.path().to_owned()),
            ..pg_env()
        };
        let url = url_in("postgresql://?service=prod", &env);
        let config = url.config();
        assert_eq!(url.servers(), "svc.example:6543");
        assert_eq!(
            (config.get_user(), config.get_dbname()),
            (Some("svcuser"), Some("svcdb"))
        );
        assert_eq!(url.tls().mode, Mode::VerifyFull);
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(4))
        );
        assert_eq!(config.get_password(), Some(&b"from-the-file"[..]));
        assert_eq!(
            url.password_source(),
            format!("in the service file {}", file.display())
        );
        assert!(!url.to_string().contains("from-the-file"));
        // The URL's own come first; PGSERVICE names the service when the URL does not.
        let env = Environment {
            service: Some("prod".into()),
            ..env
        };
        let url = url_in("postgresql://ada:pw@url.example/urldb?port=7000", &env);
        assert_eq!(url.servers(), "url.example:7000");
        assert_eq!(url.user(), Some("ada"));
        assert_eq!(url.database(), Some("urldb"));
        assert_eq!(url.password_source(), "in the URL");
        // A host without a port keeps the service's port.
        assert_eq!(url_in("postgresql://h/db", &env).servers(), "h:6543");
        // A service that is not there is not found; a line this cannot read is named.
        let missing = PgUrl::parse_with("postgresql://?service=nope", &env).unwrap_err();
        assert!(matches!(missing, Failure::NotFound(_)), "{missing}");
        let typo = refusal_in("postgresql://?service=typo", &env);
        assert!(
            typo.starts_with(&format!(
                "the service file {}, line 10: not a libpq",
                file.display()
            )),
            "{typo}"
        );
    }

    /// What a service says as libpq reads it: a key's first value, `gssencmode=disable`
    /// taken as asking for nothing; the URL's passed-on parameters replace the service's
    /// (not added to them); a refused value is named by where it was given.
    #[test]
    fn a_services_values_are_replaced_not_added_to() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("services.conf");
        std::fs::write(
            &file,
            "[prod]\nhost=a.example,b.example\nhost=c.example\nhostaddr=10.0.0.1,10.0.0.2\n\
             gssencmode=disable\npassword=svc\n[gss]\nhost=h\ngssencmode=require\n\
             [bare]\nhostaddr=10.0.0.9\nsslmode=require\n[attrs]\nhost=h\n\
             target_session_attrs=sometimes\n",
        )
        .unwrap();
        let env = Environment {
            service_file: Some(file.clone()),
            sysconfdir: Some(dir.path().to_owned()),
            ..as_os_user("ada")
        };
        let url = url_in("postgresql://?service=prod", &env);
        assert_eq!(url.servers(), "a.example:5432, b.example:5432");
        let url = url_in(
            "postgresql://?service=prod&hostaddr=10.0.0.3,10.0.0.4",
            &env,
        );
        assert_eq!(url.config().get_hostaddrs().len(), 2);
        // The URL's password, even one in its query, is the URL's.
        let url = url_in("postgresql://?service=prod&password=mine", &env);
        assert_eq!(url.password_source(), "in the URL");
        let place = |line: usize| format!("the service file {}, line {line}: ", file.display());
        let gss = refusal_in("postgresql://?service=gss", &env);
        assert!(gss.starts_with(&place(9)), "{gss}");
        assert!(
            gss.contains("gssencmode asks for GSSAPI encryption"),
            "{gss}"
        );
        let bare = refusal_in("postgresql://?service=bare", &env);
        assert!(bare.contains("hostaddr is given without host"), "{bare}");
        let attrs = refusal_in("postgresql://?service=attrs", &env);
        assert!(
            attrs.starts_with(&format!(
                "{}its target_session_attrs is not valid",
                place(15)
            )),
            "{attrs}"
        );
        let env = Environment {
            passed_on: vec![(
                "PGTARGETSESSIONATTRS",
                "target_session_attrs",
                "sometimes".into(),
            )],
            ..as_os_user("ada")
        };
        let message = refusal_in("postgresql://h/db", &env);
        assert!(
            message.starts_with(
                "PGTARGETSESSIONATTRS is not a value this tool can use: its target_session_attrs"
            ),
            "{message}"
        );
    }

    /// libpq's variables for the parameters passed on, and PGAPPNAME, where the URL has
    /// none of them.
    #[test]
    fn the_environment_passes_on_options_and_the_application_name() {
        let env = Environment {
            application_name: Some("nightly".into()),
            passed_on: vec![
                ("PGOPTIONS", "options", "-c search_path=helpdesk".into()),
                (
                    "PGTARGETSESSIONATTRS",
                    "target_session_attrs",
                    "read-write".into(),
                ),
            ],
            ..as_os_user("ada")
        };
        let config = url_in("postgresql://h/db", &env).config().clone();
        assert_eq!(config.get_application_name(), Some("nightly"));
        assert_eq!(config.get_options(), Some("-c search_path=helpdesk"));
        let config = url_in(
            "postgresql://h/db?application_name=cron&options=-c%20work_mem%3D64MB",
            &env,
        )
        .config()
        .clone();
        assert_eq!(config.get_application_name(), Some("cron"));
        assert_eq!(config.get_options(), Some("-c work_mem=64MB"));
    }

    /// The environment fills what the URL leaves out, and only that.
    #[test]
    fn the_environment_fills_what_the_url_leaves_out() {
        let env = pg_env();
        let url = url_in("postgresql://", &env);
        let config = url.config();
        assert_eq!(config.get_hosts(), [Host::Tcp("env.example".into())]);
        assert_eq!(config.get_ports(), [6000]);
        assert_eq!(config.get_user(), Some("envuser"));
        assert_eq!(config.get_dbname(), Some("envdb"));
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(9))
        );
        assert_eq!(url.servers(), "env.example:6000");

        let url = url_in(
            "postgresql://ada@url.example:7000/urldb?sslmode=disable&connect_timeout=3",
            &env,
        );
        let config = url.config();
        assert_eq!(config.get_hosts(), [Host::Tcp("url.example".into())]);
        assert_eq!(config.get_ports(), [7000]);
        assert_eq!(config.get_user(), Some("ada"));
        assert_eq!(config.get_dbname(), Some("urldb"));
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );

        // Each part on its own: a host without a port takes PGPORT, a port without a host
        // PGHOST (libpq reads `:7000` as no host).
        let url = url_in("postgresql://url.example/db", &env);
        assert_eq!(url.servers(), "url.example:6000");
        let url = url_in("postgresql://:7000/db", &env);
        assert_eq!(url.servers(), "env.example:7000");
        // Several hosts in the URL with no port each take 5432 (libpq's `,` port list).
        let url = url_in("postgresql://a,b/db", &env);
        assert_eq!(url.servers(), "a:5432, b:5432");
        // A parameter counts as the URL's.
        let url = url_in("postgresql:///db?host=q.example&port=7001&user=q", &env);
        assert_eq!(url.servers(), "q.example:7001");
        assert_eq!(url.user(), Some("q"));
    }

    #[test]
    fn pghost_lists_and_socket_directories() {
        let env = Environment {
            host: Some("/tmp/pg dir,b.example,".into()),
            port: Some("5433,5434,".into()),
            ..as_os_user("osuser")
        };
        let url = url_in("postgresql:///db", &env);
        assert_eq!(
            url.servers(),
            format!(
                "socket /tmp/pg dir/.s.PGSQL.5433, b.example:5434, socket {}/.s.PGSQL.5432",
                default_socket_dir()
            )
        );
        let mismatched = Environment {
            port: Some("1,2".into()),
            ..env
        };
        assert!(refusal_in("postgresql:///db", &mismatched).contains("3 hosts and 2 ports"));
        // Only sockets: never TLS, whatever PGSSLMODE says.
        let sockets = Environment {
            host: Some("/tmp".into()),
            sslmode: Some("require".into()),
            ..as_os_user("osuser")
        };
        let url = url_in("postgresql:///db", &sockets);
        assert_eq!(url.config().get_ssl_mode(), SslMode::Disable);
    }

    /// PGSSLMODE takes the URL's values and is refused as the URL's sslmode is; PGPORT and
    /// PGCONNECT_TIMEOUT are checked too; each refusal names its variable.
    #[test]
    fn libpq_variables_it_cannot_use_are_usage_errors() {
        for (value, said) in [
            (
                "allow",
                "sslmode=allow is not supported (it tries without TLS first)",
            ),
            ("always", "sslmode is none of disable, allow, prefer"),
        ] {
            let env = Environment {
                sslmode: Some(value.into()),
                ..as_os_user("osuser")
            };
            let err = PgUrl::parse_with("postgresql://h/db", &env).expect_err(value);
            assert!(matches!(err, Failure::Usage(_)), "{value}");
            let message = err.to_string();
            assert!(message.starts_with("PGSSLMODE is not a value"), "{message}");
            assert!(message.contains(said), "{message}");
            assert!(
                refusal(&format!("postgresql://h/db?sslmode={value}")).contains(said),
                "{value}"
            );
            // The URL's own sslmode comes first.
            url_in("postgresql://h/db?sslmode=disable", &env);
        }
        let env = Environment {
            port: Some("54321x".into()),
            ..as_os_user("osuser")
        };
        assert!(refusal_in("postgresql://h/db", &env).starts_with("PGPORT is not a value"));
        let env = Environment {
            connect_timeout: Some("soon".into()),
            ..as_os_user("osuser")
        };
        assert!(
            refusal_in("postgresql://h/db", &env).starts_with("PGCONNECT_TIMEOUT is not a value")
        );
        url_in("postgresql://h/db?connect_timeout=4", &env);
        let env = Environment {
            unsupported: Some("PGSSLCRL"),
            ..as_os_user("osuser")
        };
        assert!(
            refusal_in("postgresql://h/db", &env)
                .starts_with("PGSSLCRL is not a value this tool can use: it asks for a check")
        );
    }

    /// A password file in a directory of its own, with `mode`.
    fn pgpass(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join(".pgpass");
        std::fs::write(&path, text).expect("write the password file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        (dir, path)
    }

    fn password_of(url: &PgUrl) -> Option<&str> {
        url.config()
            .get_password()
            .map(|p| std::str::from_utf8(p).expect("UTF-8"))
    }

    /// The URL's password, else PGPASSWORD, else the password file: PGPASSFILE, else the
    /// URL's passfile, else ~/.pgpass.
    #[test]
    fn the_password_files_place_and_precedence() {
        let (dir, home_file) = pgpass("*:*:*:*:from-home\n", 0o600);
        let (_other, env_file) = pgpass("*:*:*:*:from-pgpassfile\n", 0o600);
        let (_third, url_file) = pgpass("*:*:*:*:from-url-passfile\n", 0o600);
        let home = Environment {
            home: Some(dir.path().to_owned()),
            ..as_os_user("osuser")
        };
        let url = url_in("postgresql://h/db", &home);
        assert_eq!(password_of(&url), Some("from-home"));
        assert_eq!(
            url.password_source(),
            format!("in the password file {}", home_file.display())
        );
        // The password file's password is no part of the URL.
        assert_eq!(url.to_string(), "postgresql://h/db");

        let env = Environment {
            passfile: Some(env_file.clone()),
            ..home.clone()
        };
        assert_eq!(
            password_of(&url_in("postgresql://h/db", &env)),
            Some("from-pgpassfile")
        );
        let with_param = format!("postgresql://h/db?passfile={}", url_file.display());
        assert_eq!(
            password_of(&url_in(&with_param, &env)),
            Some("from-url-passfile")
        );
        let pgpassword = Environment {
            password: Some("from-pgpassword".into()),
            ..env.clone()
        };
        assert_eq!(
            password_of(&url_in("postgresql://h/db", &pgpassword)),
            Some("from-pgpassword")
        );
        assert_eq!(
            password_of(&url_in("postgresql://ada:from-url@h/db", &pgpassword)),
            Some("from-url")
        );
        // An empty password in the URL's user part is none (libpq does not keep it):
        // PGPASSWORD is read, else the file.
        assert_eq!(
            password_of(&url_in("postgresql://ada:@h/db", &pgpassword)),
            Some("from-pgpassword")
        );
        assert_eq!(
            password_of(&url_in("postgresql://ada:@h/db", &env)),
            Some("from-pgpassfile")
        );
        // No HOME, no PGPASSFILE: no file, and no password.
        let nowhere = url_in("postgresql://h/db", &as_os_user("osuser"));
        assert!(!nowhere.has_password());
        assert_eq!(nowhere.password_source(), "in the URL or in PGPASSWORD");
    }

    /// The file is looked up with the user and database as libpq fills them in.
    #[test]
    fn the_password_file_is_matched_with_the_filled_in_values() {
        let (_dir, path) = pgpass(
            "db.example:5432:osuser:osuser:os-defaults\n\
             env.example:6000:envdb:envuser:env-values\n\
             localhost:5432:*:*:default-socket\n\
             /tmp/elsewhere:5432:*:*:that-directory\n\
             db.example:*:*:*:any-port\n",
            0o600,
        );
        let env = Environment {
            passfile: Some(path.clone()),
            ..as_os_user("osuser")
        };
        let found =
            |text: &str, env: &Environment| password_of(&url_in(text, env)).map(str::to_owned);
        assert_eq!(
            found("postgresql://db.example", &env).as_deref(),
            Some("os-defaults")
        );
        assert_eq!(
            found("postgresql://db.example:5433", &env).as_deref(),
            Some("any-port")
        );
        let pg = Environment {
            passfile: Some(path.clone()),
            ..pg_env()
        };
        assert_eq!(found("postgresql://", &pg).as_deref(), Some("env-values"));
        // `localhost` is the default socket directory, not any other.
        assert_eq!(
            found("postgresql:///db", &env).as_deref(),
            Some("default-socket")
        );
        assert_eq!(
            found("postgresql:///db?host=/tmp/elsewhere", &env).as_deref(),
            Some("that-directory")
        );
        assert_eq!(found("postgresql:///db?host=/tmp/third", &env), None);
    }

    /// A file others may read is left unread, with a warning that names it and holds no
    /// password; a missing one is nothing to say.
    #[test]
    fn a_password_file_others_may_read_is_not_used() {
        let (_dir, path) = pgpass("*:*:*:*:s3cret\n", 0o644);
        let env = Environment {
            passfile: Some(path.clone()),
            ..as_os_user("osuser")
        };
        let url = url_in("postgresql://h/db", &env);
        assert!(!url.has_password());
        let warning = url.warning.as_deref().expect("a warning");
        assert!(warning.contains(&path.display().to_string()), "{warning}");
        assert!(warning.contains("group or world access"), "{warning}");
        assert!(!warning.contains("s3cret"), "{warning}");
        assert!(!format!("{url} {url:?}").contains("s3cret"));

        let missing = Environment {
            passfile: Some(path.with_file_name("missing")),
            ..env
        };
        let url = url_in("postgresql://h/db", &missing);
        assert!(!url.has_password() && url.warning.is_none());
    }

    /// Hosts the file gives different passwords get a config each, so a password goes only
    /// to its own host; one password for all stays one config.
    #[test]
    fn a_password_for_each_host() {
        let (_dir, path) = pgpass("a.example:*:*:*:pw-a\nc.example:*:*:*:pw-a\n", 0o600);
        let env = Environment {
            passfile: Some(path),
            ..as_os_user("osuser")
        };
        let url = url_in("postgresql://a.example,b.example:5433/db", &env);
        assert_eq!(password_of(&url), None);
        let each = |i: usize| {
            let config = &url.configs()[i];
            (
                config.get_hosts(),
                config.get_ports(),
                config.get_password(),
            )
        };
        assert_eq!(url.configs().len(), 2);
        assert_eq!(
            each(0),
            (
                &[Host::Tcp("a.example".into())][..],
                &[5432][..],
                Some(&b"pw-a"[..])
            )
        );
        assert_eq!(
            each(1),
            (&[Host::Tcp("b.example".into())][..], &[5433][..], None)
        );
        assert!(
            refusal_in(
                "postgresql://a.example,b.example/db?hostaddr=192.0.2.1,192.0.2.2",
                &env
            )
            .contains("can use only without hostaddr")
        );
        let same = url_in("postgresql://a.example,c.example/db", &env);
        assert_eq!(same.configs().len(), 1);
        assert_eq!(password_of(&same), Some("pw-a"));
    }
}
