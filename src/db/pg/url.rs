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
//! No error about the URL quotes any part of it: a password with a stray `@`, `/` or `&`
//! could land anywhere in it, and the message may end up in a cron job's mail.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use postgres::config::{Host, SslMode};

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

/// libpq parameters this tool does not implement: named in the refusal, since they are
/// libpq's words and not the user's.
const NOT_SUPPORTED: &[&str] = &[
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
    "requirepeer",
    "passfile",
    "service",
    "gssencmode",
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
    masked: String,
}

impl PgUrl {
    /// Reads a `postgresql://` or `postgres://` URL; `PGPASSWORD` gives the password when
    /// the URL has none. A URL this cannot read is a usage error that quotes none of it.
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let env_password = std::env::var("PGPASSWORD").ok();
        Self::parse_with(text, env_password.as_deref())
    }

    /// `parse`, with `PGPASSWORD`'s value given.
    pub(crate) fn parse_with(text: &str, env_password: Option<&str>) -> Result<Self, Failure> {
        let parts = Parts::split(text)?;
        let mut settings = Settings::default();
        settings.read_location(parts.location)?;
        if let Some(userinfo) = parts.userinfo {
            settings.read_userinfo(userinfo)?;
        }
        if let Some(query) = parts.query {
            settings.read_query(query)?;
        }
        if settings.password.is_none() {
            settings.password = env_password.filter(|p| !p.is_empty()).map(str::to_owned);
        }
        Ok(Self {
            config: Box::new(settings.into_config()?),
            masked: parts.masked(),
        })
    }

    /// The settings to connect with (the password among them).
    pub(crate) fn config(&self) -> &postgres::Config {
        &self.config
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

    /// The database's name: the URL's, else (as the server does) the user's.
    pub fn database(&self) -> Option<&str> {
        self.config.get_dbname().or(self.config.get_user())
    }

    /// The user name the URL gives, if any.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// Whether a password was given, in the URL or by `PGPASSWORD`.
    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some()
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

/// What the URL says, decoded, before defaults.
#[derive(Default)]
struct Settings {
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    hosts: Vec<String>,
    ports: Vec<Option<u16>>,
    ssl_mode: Option<SslMode>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    /// `key='value'` pairs for `postgres::Config::from_str`.
    passed_on: Vec<String>,
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
        if let Some(password) = password {
            self.password = Some(decode(password)?);
        }
        Ok(())
    }

    /// `host[:port],…[/dbname]`; IPv6 addresses in brackets; a host that decodes to an
    /// absolute path (`%2Fvar%2Frun%2Fpostgresql`) is a socket directory.
    fn read_location(&mut self, location: &str) -> Result<(), Failure> {
        let (netloc, path) = match location.split_once('/') {
            Some((netloc, path)) => (netloc, Some(path)),
            None => (location, None),
        };
        if !netloc.is_empty() {
            for chunk in netloc.split(',') {
                let (host, port) = split_host_port(chunk)?;
                self.hosts.push(decode(host)?);
                self.ports.push(port.map(parse_port).transpose()?.flatten());
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
            let value = decode(value)?;
            match key.as_str() {
                "user" => self.user = Some(value),
                "password" => self.password = Some(value),
                "dbname" => self.dbname = Some(value),
                "host" => {
                    self.hosts = value.split(',').map(str::to_owned).collect();
                }
                "port" => {
                    self.ports = value.split(',').map(parse_port).collect::<Result<_, _>>()?;
                }
                "sslmode" => self.ssl_mode = Some(ssl_mode(&value)?),
                "application_name" => self.application_name = Some(value),
                "fallback_application_name" => self.fallback_application_name = Some(value),
                known if PASSED_ON.contains(&known) => self
                    .passed_on
                    .push(format!("{known}='{}'", conninfo_escape(&value))),
                known if NOT_SUPPORTED.contains(&known) => {
                    return Err(invalid(&format!(
                        "this tool does not support the libpq parameter {known}"
                    )));
                }
                _ => {
                    return Err(invalid(&format!(
                        "its parameter {} is not a libpq connection parameter this tool knows \
                         (it knows host, port, user, password, dbname, sslmode, \
                         application_name, {})",
                        position + 1,
                        PASSED_ON.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    fn into_config(self) -> Result<postgres::Config, Failure> {
        let mut config = postgres::Config::from_str(&self.passed_on.join(" "))
            .map_err(|err| invalid(&format!("one of its parameters is not valid ({err})")))?;
        if let Some(user) = &self.user {
            config.user(user);
        }
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(dbname) = &self.dbname {
            config.dbname(dbname);
        }
        let hosts = if self.hosts.is_empty() {
            vec![default_socket_dir().to_owned()]
        } else {
            self.hosts
        };
        if self.ports.len() > 1 && self.ports.len() != hosts.len() {
            return Err(invalid(&format!(
                "it names {} hosts and {} ports; give one port, or one for each host",
                hosts.len(),
                self.ports.len()
            )));
        }
        for host in &hosts {
            if host.starts_with('/') {
                config.host_path(host);
            } else if host.is_empty() {
                return Err(invalid("one of its hosts is empty"));
            } else {
                config.host(host);
            }
        }
        let ports: Vec<u16> = match self.ports.as_slice() {
            [] => vec![DEFAULT_PORT],
            ports => ports.iter().map(|p| p.unwrap_or(DEFAULT_PORT)).collect(),
        };
        for port in ports {
            config.port(port);
        }
        let application_name = self
            .application_name
            .or(self.fallback_application_name)
            .unwrap_or_else(|| APPLICATION_NAME.to_owned());
        config.application_name(&application_name);
        // libpq never uses TLS on a local socket (the server refuses it there), whatever
        // sslmode says; tokio-postgres would fail a `require` instead.
        let all_sockets = hosts.iter().all(|h| h.starts_with('/'));
        config.ssl_mode(match self.ssl_mode {
            _ if all_sockets => SslMode::Disable,
            Some(mode) => mode,
            None => SslMode::Prefer,
        });
        Ok(config)
    }
}

/// The sslmode values this tool implements. `require` encrypts without checking the
/// server's certificate, as libpq's does (when no root certificate file is installed).
fn ssl_mode(value: &str) -> Result<SslMode, Failure> {
    match value {
        "disable" => Ok(SslMode::Disable),
        "prefer" => Ok(SslMode::Prefer),
        "require" => Ok(SslMode::Require),
        "allow" | "verify-ca" | "verify-full" => Err(invalid(&format!(
            "sslmode={value} is not supported yet; use sslmode=require (encrypted, the server's \
             certificate not verified), prefer or disable"
        ))),
        _ => Err(invalid(
            "its sslmode is none of disable, allow, prefer, require, verify-ca, verify-full",
        )),
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
fn parse_port(text: &str) -> Result<Option<u16>, Failure> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(invalid("a port is not a number from 1 to 65535")),
    }
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
        PgUrl::parse_with(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refusal(text: &str) -> String {
        match PgUrl::parse_with(text, None) {
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
        for (value, mode) in [
            ("disable", SslMode::Disable),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
        ] {
            let url = url(&format!("postgresql://h/db?sslmode={value}"));
            assert_eq!(url.config().get_ssl_mode(), mode);
        }
        for value in ["verify-full", "verify-ca", "allow"] {
            let message = refusal(&format!("postgresql://h/db?sslmode={value}"));
            assert!(message.contains(&format!("sslmode={value} is not supported")));
            assert!(message.contains("sslmode=require"), "{message}");
        }
        assert!(refusal("postgresql://h/db?sslmode=always").contains("its sslmode is none of"));
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
        let env = Some("from-env");
        let without = PgUrl::parse_with("postgresql://ada@h/db", env).unwrap();
        assert_eq!(without.config().get_password(), Some(&b"from-env"[..]));
        assert!(without.has_password());
        let with = PgUrl::parse_with("postgresql://ada:given@h/db", env).unwrap();
        assert_eq!(with.config().get_password(), Some(&b"given"[..]));
        let empty = PgUrl::parse_with("postgresql://ada@h/db", Some("")).unwrap();
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
        let message = refusal("postgresql://h/db?sslrootcert=/etc/ca.pem");
        assert!(
            message.contains("the libpq parameter sslrootcert"),
            "{message}"
        );
    }

    #[test]
    fn a_path_or_a_key_value_string_is_not_a_url() {
        assert!(refusal("host=localhost dbname=x").contains("does not start with postgresql://"));
    }
}
