//! libpq's connection service file (`pg_service.conf`): named sets of connection parameters,
//! which a URL's `service=NAME` (else `PGSERVICE`) takes in.
//!
//! As libpq: the user's file (`PGSERVICEFILE`, else `~/.pg_service.conf`) is read first,
//! then the system's (`PGSYSCONFDIR/pg_service.conf`, else Debian's
//! `/etc/postgresql-common/pg_service.conf`); the first that has a `[NAME]` section gives its
//! `key=value` lines. Blank lines and lines that start with `#` are skipped. Where no file
//! has the service, it is not found: libpq refuses the connection then too, and reaching
//! another database instead would be worse.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Failure;

/// Where libpq looks for the system's service file when `PGSYSCONFDIR` is not set: Debian's
/// build of libpq (`pg_config --sysconfdir`).
const SYSTEM_DIR: &str = "/etc/postgresql-common";

/// One parameter of a service: the file and line it is on (for messages), its key and value.
pub(super) struct Parameter {
    pub(super) file: PathBuf,
    pub(super) line: usize,
    pub(super) key: String,
    pub(super) value: String,
}

/// The files to look in, in order: the user's (`PGSERVICEFILE`, else in `home`), then the
/// system's (in `PGSYSCONFDIR`, else `SYSTEM_DIR`).
pub(super) fn files(
    service_file: Option<&Path>,
    home: Option<&Path>,
    sysconfdir: Option<&Path>,
) -> Vec<PathBuf> {
    let user = service_file
        .map(Path::to_owned)
        .or_else(|| home.map(|home| home.join(".pg_service.conf")));
    let system = sysconfdir
        .unwrap_or(Path::new(SYSTEM_DIR))
        .join("pg_service.conf");
    user.into_iter().chain([system]).collect()
}

/// The parameters of the service `name`, from the first of `files` that has it.
pub(super) fn lookup(name: &str, files: &[PathBuf]) -> Result<Vec<Parameter>, Failure> {
    for file in files {
        let text = match fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(Failure::Usage(format!(
                    "cannot read the service file {}: {err}",
                    file.display()
                )));
            }
        };
        if let Some(parameters) = section(&text, name, file)? {
            return Ok(parameters);
        }
    }
    let looked_in: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(Failure::NotFound(format!(
        "the PostgreSQL service {name:?} is in no service file (looked in {})",
        looked_in.join(", ")
    )))
}

/// The `[name]` section of a service file, if it has one: as libpq reads it, the first
/// line that starts with `[name]` opens it (what follows the `]` is not read), the next
/// line that starts with `[` ends it, and a key given twice keeps its first value.
fn section(text: &str, name: &str, file: &Path) -> Result<Option<Vec<Parameter>>, Failure> {
    let mut found: Option<Vec<Parameter>> = None;
    for (at, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            if found.is_some() {
                break;
            }
            if header
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(']'))
            {
                found = Some(Vec::new());
            }
            continue;
        }
        let Some(parameters) = found.as_mut() else {
            continue;
        };
        let number = at + 1;
        let Some((key, value)) = line.split_once('=') else {
            return Err(syntax(
                file,
                number,
                "a line is neither `[name]` nor `key=value`",
            ));
        };
        if key == "service" {
            return Err(syntax(
                file,
                number,
                "a service cannot name another service",
            ));
        }
        if parameters.iter().any(|given| given.key == key) {
            continue;
        }
        parameters.push(Parameter {
            file: file.to_owned(),
            line: number,
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(found)
}

fn syntax(file: &Path, line: usize, reason: &str) -> Failure {
    Failure::Usage(format!(
        "the service file {}, line {line}: {reason}",
        file.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    fn pairs(parameters: &[Parameter]) -> Vec<(&str, &str)> {
        parameters
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect()
    }

    #[test]
    fn the_first_file_with_the_service_gives_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let user = write(
            dir.path(),
            "user.conf",
            "# mine\n[broken\n[other]\nhost=elsewhere\n\n[prod]  # the main one\n  \
             host=db.example  \nport=5433\n[prod]\nhost=second\n[production]\nhost=p\n",
        );
        let system = write(
            dir.path(),
            "system.conf",
            "[prod]\nhost=system\n[stage]\nhost=s\n",
        );
        let files = [user.clone(), dir.path().join("missing.conf"), system];
        let prod = lookup("prod", &files).unwrap();
        assert_eq!(pairs(&prod), [("host", "db.example"), ("port", "5433")]);
        assert_eq!((prod[1].file.as_path(), prod[1].line), (user.as_path(), 8));
        assert_eq!(
            pairs(&lookup("production", &files).unwrap()),
            [("host", "p")]
        );
        assert_eq!(pairs(&lookup("stage", &files).unwrap()), [("host", "s")]);
        match lookup("none", &files) {
            Err(Failure::NotFound(message)) => {
                assert!(message.contains("service \"none\" is in no service file"));
                assert!(message.contains("missing.conf"), "{message}");
            }
            other => panic!("{:?}", other.map(|p| p.len())),
        }
    }

    #[test]
    fn a_bad_line_is_named_by_its_file_and_number() {
        let dir = tempfile::tempdir().unwrap();
        for (text, reason, line) in [
            ("[prod]\nhost\n", "neither `[name]` nor `key=value`", 2),
            (
                "\n[prod]\nservice=other\n",
                "cannot name another service",
                3,
            ),
        ] {
            let file = write(dir.path(), "bad.conf", text);
            let Err(Failure::Usage(message)) = lookup("prod", std::slice::from_ref(&file)) else {
                panic!("{text:?} was read");
            };
            let place = format!("the service file {}, line {line}: ", file.display());
            assert!(message.starts_with(&place), "{message}");
            assert!(message.contains(reason), "{message}");
        }
    }

    #[test]
    fn the_files_in_order() {
        let home = Path::new("/home/ada");
        assert_eq!(
            files(None, Some(home), None),
            [
                PathBuf::from("/home/ada/.pg_service.conf"),
                PathBuf::from("/etc/postgresql-common/pg_service.conf")
            ]
        );
        assert_eq!(
            files(
                Some(Path::new("/s.conf")),
                Some(home),
                Some(Path::new("/etc/pg"))
            ),
            [
                PathBuf::from("/s.conf"),
                PathBuf::from("/etc/pg/pg_service.conf")
            ]
        );
        assert_eq!(
            files(None, None, None),
            [PathBuf::from("/etc/postgresql-common/pg_service.conf")]
        );
    }
}
