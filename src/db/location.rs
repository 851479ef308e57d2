//! Where the database is: what `--db` (or `BOMIZZEL_DB`) names, a SQLite file or a
//! PostgreSQL server.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

use super::pg::{PgUrl, SCHEMES};
use crate::error::Failure;

/// A database location. `Display` is what messages show (a URL with its password masked).
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL.
    Postgres(PgUrl),
}

impl Location {
    /// A value starting with `postgresql://` or `postgres://` (libpq's schemes, exactly) is
    /// a PostgreSQL URL; anything else is a SQLite path (`./postgres://x` is a file).
    /// A URL this cannot use is a usage error.
    pub fn parse(value: &OsStr) -> Result<Self, Failure> {
        if !Self::is_url(value) {
            return Ok(Location::Sqlite(PathBuf::from(value)));
        }
        let text = value.to_str().ok_or_else(|| {
            Failure::Usage("--db is a PostgreSQL URL that is not valid UTF-8".into())
        })?;
        PgUrl::parse(text).map(Location::Postgres)
    }
}

impl Location {
    /// Whether `value` names a PostgreSQL server (by its scheme), whether or not the URL
    /// is one this tool can use.
    pub(crate) fn is_url(value: &OsStr) -> bool {
        let bytes = value.as_encoded_bytes();
        SCHEMES.iter().any(|s| bytes.starts_with(s.as_bytes()))
    }

    /// What messages call the database `value` names, as `Display` shows it, without
    /// reading what a URL leaves to the environment (its service and password files):
    /// "the database" for a URL this cannot read.
    pub(crate) fn shown(value: &OsStr) -> String {
        match Self::is_url(value) {
            true => (value.to_str().and_then(PgUrl::masked_text))
                .unwrap_or_else(|| "the database".to_owned()),
            false => PathBuf::from(value).display().to_string(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => path.display().fmt(f),
            Location::Postgres(url) => url.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Location {
        Location::parse(OsStr::new(text)).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn urls_are_postgres() {
        for text in [
            "postgresql://ada:pw@db.example/bomizzel",
            "postgres://db.example/bomizzel",
            "postgresql:///bomizzel?host=/var/run/postgresql",
        ] {
            assert!(matches!(parse(text), Location::Postgres(_)), "{text}");
        }
    }

    #[test]
    fn anything_else_is_a_sqlite_path() {
        for text in [
            "bomizzel.db",
            "/srv/bomizzel/bomizzel.db",
            "./postgres://x",
            "POSTGRESQL://db.example/x",
            "postgresql:/x",
            "mysql://db.example/x",
            "",
        ] {
            match parse(text) {
                Location::Sqlite(path) => assert_eq!(path, PathBuf::from(text)),
                other => panic!("{text} read as {other}"),
            }
        }
    }

    #[test]
    fn non_utf8_paths_stay_paths() {
        use std::os::unix::ffi::OsStrExt;
        let path = OsStr::from_bytes(b"/srv/caf\xe9.db");
        assert!(matches!(Location::parse(path), Ok(Location::Sqlite(_))));
        let url = OsStr::from_bytes(b"postgresql://h/caf\xe9");
        let err = Location::parse(url).expect_err("a non-UTF-8 URL");
        assert!(matches!(err, Failure::Usage(_)));
    }

    #[test]
    fn displays_the_path_or_the_masked_url() {
        assert_eq!(parse("/srv/b.db").to_string(), "/srv/b.db");
        let url = parse("postgresql://ada:hunter2@h/db");
        assert_eq!(url.to_string(), "postgresql://ada:***@h/db");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[test]
    fn a_url_it_cannot_use_is_a_usage_error() {
        let err = Location::parse(OsStr::new("postgresql://h/db?sslmode=allow"))
            .expect_err("allow is not supported");
        assert!(matches!(err, Failure::Usage(_)));
    }
}
