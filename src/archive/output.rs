//! The archive file: written where nothing can mistake it for a backup, and given its name
//! only once it is complete and synced.
//!
//! On Linux it starts as an unnamed file (`O_TMPFILE`) in the target's directory, linked in at
//! the end: a process killed on the way leaves nothing at all. Where the file system refuses
//! unnamed files, and on other systems, it is a hidden `.<name>.<random>.partial` beside the
//! target, renamed at the end; what a killed export left of those, a later export removes.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

use super::name;
use crate::error::Failure;
use crate::interrupt;
use crate::report::Reporter;

/// What to do when the target's name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameTaken {
    /// Fail, naming the file (a name given without `--force`).
    Refuse,
    /// Put the archive in its place (`--force`).
    Replace,
    /// Take the next free name of the series `x.zip`, `x-2.zip`, `x-3.zip`, … (a default
    /// name, which must never replace an earlier backup).
    NextFree,
}

/// How far `NameTaken::NextFree` counts before it gives up.
const MAX_NUMBERED: u32 = 9999;

/// An archive file being written, not yet under its name.
pub(crate) struct PendingFile {
    target: PathBuf,
    dir: PathBuf,
    /// The target's directory, open: synced once the name is in it.
    dir_handle: File,
    /// `.<name>.`, the start of the temporary names beside the target.
    partial_prefix: String,
    taken: NameTaken,
    temp: Temp,
}

enum Temp {
    /// No name at all until it is complete.
    #[cfg(target_os = "linux")]
    Unnamed(File),
    /// A hidden name beside the target, removed when dropped.
    Named(NamedTempFile),
}

impl PendingFile {
    /// Starts the file for `target`, readable by its owner only (it holds personal data).
    /// An existing target is refused at once under `NameTaken::Refuse`; a missing folder is
    /// "not found" (exit 6).
    pub(crate) fn create(target: &Path, taken: NameTaken, reporter: &Reporter) -> Result<Self> {
        if taken == NameTaken::Refuse && target.exists() {
            return Err(already_exists(target));
        }
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let cannot_create = |err: io::Error| match err.kind() {
            io::ErrorKind::NotFound => missing_folder(&dir),
            _ => anyhow::Error::new(err)
                .context(format!("cannot create a file in {}", dir.display())),
        };
        let dir_handle = File::open(&dir).map_err(cannot_create)?;
        let stem = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        let partial_prefix = format!(".{stem}.");
        remove_stale_partials(&dir, reporter);
        let temp = match unnamed_temp(&dir_handle).map_err(cannot_create)? {
            Some(temp) => temp,
            None => Temp::Named(
                partial_names(&partial_prefix)
                    .tempfile_in(&dir)
                    .map_err(cannot_create)?,
            ),
        };
        Ok(Self {
            target: target.to_path_buf(),
            dir,
            dir_handle,
            partial_prefix,
            taken,
            temp,
        })
    }

    /// A handle to write the archive through; flush it before `persist`.
    pub(crate) fn writer(&self) -> Result<File> {
        self.file()
            .try_clone()
            .with_context(|| format!("cannot write {}", self.target.display()))
    }

    fn file(&self) -> &File {
        match &self.temp {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(file) => file,
            Temp::Named(temp) => temp.as_file(),
        }
    }

    /// Syncs the file, gives it the target's name (or, under `NameTaken::NextFree`, the
    /// first free one of its series), then syncs the directory, so that a crash keeps both
    /// or neither. A signal that arrived before the name is given stops it there. Returns
    /// the archive's canonical path.
    pub(crate) fn persist(self) -> Result<PathBuf> {
        self.file()
            .sync_all()
            .with_context(|| format!("cannot write {}", self.target.display()))?;
        interrupt::check()?;
        let replace = self.taken == NameTaken::Replace;
        let mut temp = self.temp;
        let mut n = 1;
        let named = loop {
            let path = name::numbered(&self.target, n);
            match temp.take_name(&path, replace, &self.dir, &self.partial_prefix) {
                Ok(()) => break path,
                // A link that finds the name taken is the check: no other export can take
                // the same name between a look and the link.
                Err((err, back))
                    if err.kind() == io::ErrorKind::AlreadyExists
                        && self.taken == NameTaken::NextFree
                        && n < MAX_NUMBERED =>
                {
                    n += 1;
                    temp = back;
                }
                // Without --force, a file that appeared there during the export is kept too.
                Err((err, _)) if err.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(already_exists(&path));
                }
                // The folder went away while the archive was written.
                Err((err, _)) if err.kind() == io::ErrorKind::NotFound => {
                    return Err(missing_folder(&self.dir));
                }
                Err((err, _)) => {
                    return Err(err)
                        .with_context(|| format!("cannot move the archive to {}", path.display()));
                }
            }
        };
        // The name is durable only once the directory is synced.
        self.dir_handle
            .sync_all()
            .with_context(|| format!("cannot sync directory {}", self.dir.display()))?;
        Ok(fs::canonicalize(&named).unwrap_or(named))
    }
}

impl Temp {
    /// Gives the file the name `path`, replacing a file there only when `replace`; on failure
    /// hands the file back with the error, for another try under another name.
    fn take_name(
        self,
        path: &Path,
        replace: bool,
        dir: &Path,
        partial_prefix: &str,
    ) -> Result<(), (io::Error, Temp)> {
        match self {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(file) => {
                let linked = match unnamed::link(&file, path) {
                    // A link never replaces a name: with --force the file gets a temporary
                    // name first, which the rename then puts over the target.
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists && replace => {
                        partial_names(partial_prefix)
                            .make_in(dir, |temp| unnamed::link(&file, temp))
                            .and_then(|linked| linked.persist(path).map_err(|e| e.error))
                            .map(drop)
                    }
                    linked => linked,
                };
                linked.map_err(|err| (err, Temp::Unnamed(file)))
            }
            Temp::Named(temp) => {
                let persisted = if replace {
                    temp.persist(path)
                } else {
                    temp.persist_noclobber(path)
                };
                persisted
                    .map(drop)
                    .map_err(|e| (e.error, Temp::Named(e.file)))
            }
        }
    }
}

/// An unnamed file in `dir`, where the system has them.
#[cfg(target_os = "linux")]
fn unnamed_temp(dir: &File) -> io::Result<Option<Temp>> {
    Ok(unnamed::create(dir)?.map(Temp::Unnamed))
}

#[cfg(not(target_os = "linux"))]
fn unnamed_temp(_dir: &File) -> io::Result<Option<Temp>> {
    Ok(None)
}

/// A taken name. `--force` is offered only for a name that export does not give by itself:
/// one that it does is most likely an earlier backup, which a new one must not replace.
fn already_exists(target: &Path) -> anyhow::Error {
    if name::is_default_name(target) {
        let dir = target.parent().filter(|dir| !dir.as_os_str().is_empty());
        anyhow::anyhow!(
            "{} already exists, and its name says it is an earlier backup; give another file \
             name, or only the folder (-o {}/), which gets a new name",
            target.display(),
            dir.map_or(".".into(), |dir| dir.display().to_string())
        )
    } else {
        anyhow::anyhow!(
            "{} already exists; pass --force to replace it, or give another name",
            target.display()
        )
    }
}

/// The output folder does not exist: "not found", with the command that makes it.
fn missing_folder(dir: &Path) -> anyhow::Error {
    Failure::NotFound(format!(
        "the output folder {} does not exist; create it first (mkdir -p {}) or choose another",
        dir.display(),
        shell_word(&dir.to_string_lossy())
    ))
    .into()
}

/// `word` as a shell reads it back: as it is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `.<name>.<random>.partial`, the names of temporary files beside the target.
fn partial_names(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(prefix)
        .rand_bytes(PARTIAL_RANDOM_CHARS)
        .suffix(".partial");
    builder
}

/// How long a temporary archive must lie untouched before an export takes it for the
/// leftover of an interrupted one: a running export writes to its file all the time.
const STALE_PARTIAL: Duration = Duration::from_secs(3600);

/// How many random letters or digits a temporary archive's name carries.
const PARTIAL_RANDOM_CHARS: usize = 6;

/// Removes what killed exports left in `dir`: their `.<name>.<random>.partial` files, once
/// nothing has written to them for `STALE_PARTIAL`. A process killed with SIGKILL cannot
/// remove its own, and the personal data in it must not stay forever. Best effort: a file
/// that cannot be removed stays, and the export goes on.
fn remove_stale_partials(dir: &Path, reporter: &Reporter) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !entry.file_name().to_str().is_some_and(is_partial_name) {
            continue;
        }
        let stale = entry
            .metadata()
            .ok()
            .filter(|meta| meta.is_file())
            .and_then(|meta| meta.modified().ok())
            .and_then(|at| now.duration_since(at).ok())
            .is_some_and(|age| age >= STALE_PARTIAL);
        if stale && fs::remove_file(entry.path()).is_ok() {
            reporter.note(format!(
                "removed {}, left by an interrupted export",
                entry.path().display()
            ));
        }
    }
}

/// True for the names `partial_names` gives: `.`, the target's name, `.`,
/// `PARTIAL_RANDOM_CHARS` random letters or digits, `.partial`.
fn is_partial_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".partial"))
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(target, random)| {
            !target.is_empty()
                && random.len() == PARTIAL_RANDOM_CHARS
                && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Unnamed files: `open(O_TMPFILE)` in the directory, `linkat` to name them.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    /// Test hook, read nowhere else: when set, export takes the file system for one that
    /// refuses unnamed files, so the tests can cover the named temporary file on one that
    /// accepts them (mounting one that does not would need root).
    const REFUSE_FOR_TESTS: &str = "BOMIZZEL_TEST_REFUSE_O_TMPFILE";

    /// An unnamed file in `dir`, mode 0600; `None` where the file system (or an old kernel)
    /// refuses them.
    pub(super) fn create(dir: &File) -> io::Result<Option<File>> {
        if std::env::var_os(REFUSE_FOR_TESTS).is_some() {
            return Ok(None);
        }
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        match rustix::fs::openat(dir, ".", flags, Mode::RUSR | Mode::WUSR) {
            Ok(fd) => Ok(Some(File::from(fd))),
            // EOPNOTSUPP: the file system has no unnamed files; EISDIR: the kernel predates
            // them and took the flag for O_DIRECTORY; EINVAL: it knows no such flag.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Gives `file` the name `path`; an existing name is an `AlreadyExists` error. Linked
    /// through /proc, which needs no privilege; without /proc, by `AT_EMPTY_PATH`, which some
    /// kernels allow only with CAP_DAC_READ_SEARCH.
    pub(super) fn link(file: &File, path: &Path) -> io::Result<()> {
        let by_proc = format!("/proc/self/fd/{}", file.as_raw_fd());
        match rustix::fs::linkat(CWD, by_proc.as_str(), CWD, path, AtFlags::SYMLINK_FOLLOW) {
            Err(Errno::NOENT) if !Path::new("/proc/self/fd").is_dir() => {
                rustix::fs::linkat(file, "", CWD, path, AtFlags::EMPTY_PATH)
            }
            linked => linked,
        }
        .map_err(io::Error::from)
    }
}
