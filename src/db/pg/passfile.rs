//! libpq's password file (`~/.pgpass`, or `PGPASSFILE`, or the URL's `passfile`): reading
//! it as libpq does, and finding the password for one server, database and user in it.
//!
//! A line is `hostname:port:database:username:password`; a field may be `*` (anything),
//! `\:` and `\\` are a colon and a backslash, lines starting with `#` are comments, and the
//! first line that matches gives the password. A file that others may read is not read, with
//! a warning naming it; one that is missing or cannot be read is silently none.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// What a password file gave: its text, or why it is left unread.
pub(crate) enum PassFile {
    /// Missing, unreadable, or not there at all (libpq says nothing of it either).
    Absent,
    /// Not read: the warning to show (it names the file, never a line of it).
    Ignored(String),
    /// Its content, to look passwords up in.
    Read(Vec<u8>),
}

impl PassFile {
    /// Reads the file at `path`, unless it is not a plain file or its mode lets the group or
    /// others in (`mode & 0o077`), as libpq refuses it then.
    pub(crate) fn load(path: &Path) -> Self {
        let Ok(metadata) = fs::metadata(path) else {
            return PassFile::Absent;
        };
        if !metadata.is_file() {
            return PassFile::Ignored(format!(
                "password file \"{}\" is not a plain file, so it is not read",
                path.display()
            ));
        }
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return PassFile::Ignored(format!(
                "password file \"{}\" has group or world access (mode {:04o}), so it is not \
                 read; permissions should be u=rw (0600) or less: chmod 0600 {}",
                path.display(),
                mode & 0o7777,
                path.display()
            ));
        }
        fs::read(path).map_or(PassFile::Absent, PassFile::Read)
    }

    /// The password of the first line that matches the connection, if any. `host` is the
    /// host as connected to, or the socket directory (see `pg::url` for which directory is
    /// `localhost`).
    pub(crate) fn find(
        &self,
        host: &str,
        port: u16,
        database: &str,
        user: &str,
    ) -> Option<Vec<u8>> {
        let PassFile::Read(text) = self else {
            return None;
        };
        let port = port.to_string();
        text.split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty() && !line.starts_with(b"#"))
            .find_map(|line| {
                let rest = field(line, host.as_bytes())?;
                let rest = field(rest, port.as_bytes())?;
                let rest = field(rest, database.as_bytes())?;
                let rest = field(rest, user.as_bytes())?;
                Some(password(rest))
            })
    }
}

/// Whether the field at the start of `line` matches `value`, and then the rest of the line
/// after its `:`: libpq's `pwdfMatchesString`, which takes `*:` as anything and compares the
/// field unescaped (`\x` is `x`) with the value.
fn field<'a>(line: &'a [u8], value: &[u8]) -> Option<&'a [u8]> {
    if let Some(rest) = line.strip_prefix(b"*:") {
        return Some(rest);
    }
    let mut expected = value;
    let mut i = 0;
    loop {
        let escaped = line.get(i) == Some(&b'\\');
        if escaped {
            i += 1;
        }
        let c = *line.get(i)?;
        if c == b':' && !escaped && expected.is_empty() {
            return Some(&line[i + 1..]);
        }
        let (first, rest) = expected.split_first()?;
        if *first != c {
            return None;
        }
        expected = rest;
        i += 1;
    }
}

/// The password field, unescaped, up to an unescaped `:` (anything after it is ignored, as
/// libpq does). A backslash at the very end stays.
fn password(rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0;
    while let Some(&c) = rest.get(i) {
        match c {
            b':' => break,
            b'\\' if i + 1 < rest.len() => {
                out.push(rest[i + 1]);
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PassFile {
        PassFile::Read(text.as_bytes().to_vec())
    }

    fn found(file: &PassFile, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
        file.find(host, port, database, user)
            .map(|p| String::from_utf8(p).expect("UTF-8"))
    }

    #[test]
    fn the_first_matching_line_wins() {
        let pgpass = file(
            "# a comment:*:*:*:no\n\
             db.example:5432:bomizzel:ada:first\n\
             db.example:5432:bomizzel:ada:second\n\
             *:*:*:ada:any-host\n",
        );
        assert_eq!(
            found(&pgpass, "db.example", 5432, "bomizzel", "ada").as_deref(),
            Some("first")
        );
        assert_eq!(
            found(&pgpass, "other.example", 6543, "x", "ada").as_deref(),
            Some("any-host")
        );
        assert_eq!(found(&pgpass, "db.example", 5432, "bomizzel", "bob"), None);
    }

    #[test]
    fn each_field_must_match_unless_a_wildcard() {
        let pgpass = file("h:5433:db:ada:pw\n");
        assert_eq!(
            found(&pgpass, "h", 5433, "db", "ada").as_deref(),
            Some("pw")
        );
        for (host, port, database, user) in [
            ("H", 5433, "db", "ada"),
            ("h", 5432, "db", "ada"),
            ("h", 5433, "db2", "ada"),
            ("h", 5433, "d", "ada"),
            ("h", 5433, "db", "adam"),
            ("hh", 5433, "db", "ada"),
        ] {
            assert_eq!(
                found(&pgpass, host, port, database, user),
                None,
                "{host} {port} {database} {user}"
            );
        }
        // `*` is a wildcard only as the whole field.
        let partial = file("h*:5433:db:ada:pw\n*:*:d*:ada:pw2\n");
        assert_eq!(found(&partial, "hx", 5433, "db", "ada"), None);
        assert_eq!(
            found(&partial, "h*", 5433, "db", "ada").as_deref(),
            Some("pw")
        );
        assert_eq!(found(&partial, "h", 1, "d*", "ada").as_deref(), Some("pw2"));
        assert_eq!(found(&partial, "h", 1, "db", "ada"), None);
    }

    #[test]
    fn escaped_colons_and_backslashes() {
        let pgpass = file(
            "\\:\\:1:5432:we\\\\ird\\:db:ada:pa\\:ss\\\\word:ignored\n\
             \\*:*:*:*:a literal star\n\
             h:5432:db:ada:ends with\\\n",
        );
        assert_eq!(
            found(&pgpass, "::1", 5432, "we\\ird:db", "ada").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            found(&pgpass, "*", 1, "x", "y").as_deref(),
            Some("a literal star")
        );
        assert_eq!(found(&pgpass, "x", 1, "x", "y"), None);
        assert_eq!(
            found(&pgpass, "h", 5432, "db", "ada").as_deref(),
            Some("ends with\\")
        );
    }

    #[test]
    fn crlf_empty_and_short_lines() {
        let pgpass = file("\r\n\nh:5432:db\nh:5432:db:ada\r\nh:5432:db:ada:\r\n*:*:*:*:crlf\r\n");
        // A line with no password field never matches; an empty one is an empty password.
        assert_eq!(found(&pgpass, "h", 5432, "db", "ada").as_deref(), Some(""));
        assert_eq!(found(&pgpass, "x", 1, "y", "z").as_deref(), Some("crlf"));
    }

    #[test]
    fn nothing_in_a_file_not_read() {
        assert_eq!(found(&PassFile::Absent, "h", 5432, "db", "ada"), None);
        let ignored = PassFile::Ignored("w".into());
        assert_eq!(found(&ignored, "h", 5432, "db", "ada"), None);
    }

    #[test]
    fn a_file_others_may_read_is_ignored_with_a_warning() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("pgpass");
        fs::write(&path, "*:*:*:*:s3cret\n").expect("write");
        for (mode, read) in [
            (0o600, true),
            (0o400, true),
            (0o640, false),
            (0o604, false),
            (0o610, false),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            match PassFile::load(&path) {
                PassFile::Read(_) => assert!(read, "{mode:o} was read"),
                PassFile::Ignored(warning) => {
                    assert!(!read, "{mode:o} was ignored");
                    assert!(
                        warning.contains(&format!("\"{}\"", path.display())),
                        "{warning}"
                    );
                    assert!(warning.contains("group or world access"), "{warning}");
                    assert!(!warning.contains("s3cret"), "{warning}");
                }
                PassFile::Absent => panic!("{mode:o}: absent"),
            }
        }
        assert!(matches!(
            PassFile::load(&dir.path().join("missing")),
            PassFile::Absent
        ));
        match PassFile::load(dir.path()) {
            PassFile::Ignored(warning) => {
                assert!(warning.contains("not a plain file"), "{warning}")
            }
            _ => panic!("a directory was not refused"),
        }
    }
}
