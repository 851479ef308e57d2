//! Failures that carry an exit status: the cases a caller (and a shell script) must tell apart.
//!
//! Everything else is an `anyhow::Error` and exits 1. `exit_code` walks an error's cause
//! chain, so a typed failure keeps its status however much context is added above it.

use std::io;

use crate::interrupt::Signal;

/// A failure with its own exit status, as documented in the man page.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command line or its environment asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The archive is unreadable, corrupt, or fails validation.
    #[error("Invalid import data: {0}")]
    InvalidArchive(String),
    /// Records already exist and no duplicate policy was given.
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this for this company.
    #[error("Permission denied: {0}")]
    PermissionDenied(String),
    /// An input file, company or export id does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database stayed locked past the busy timeout (see `explain_busy`).
    #[error("{0}")]
    Busy(String),
    /// The operator declined a confirmation; nothing was changed.
    #[error("{0}")]
    Cancelled(String),
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped the run; nothing was left behind.
    #[error("interrupted")]
    Interrupted(Signal),
    /// The archive is encrypted and nothing given opens it: no identity, a wrong identity,
    /// a wrong passphrase.
    #[error("{0}")]
    CannotDecrypt(String),
    /// `verify`: the archive reads, but restoring it does not give its records back.
    #[error("{0}")]
    NotRestorable(String),
}

impl Failure {
    /// What the failure means for the process.
    pub fn class(&self) -> Class {
        match self {
            Failure::Usage(_) => Class::Usage,
            Failure::InvalidArchive(_) => Class::InvalidArchive,
            Failure::Conflict(_) => Class::Conflict,
            Failure::PermissionDenied(_) => Class::PermissionDenied,
            Failure::NotFound(_) => Class::NotFound,
            Failure::Busy(_) => Class::Busy,
            Failure::Cancelled(_) => Class::Cancelled,
            Failure::Interrupted(signal) => Class::Interrupted(*signal),
            Failure::CannotDecrypt(_) => Class::CannotDecrypt,
            Failure::NotRestorable(_) => Class::NotRestorable,
        }
    }
}

/// What an error means for the process: the exit status and the `--json` kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Anything without a status of its own: exit 1.
    Unexpected,
    Usage,
    InvalidArchive,
    Conflict,
    PermissionDenied,
    NotFound,
    Busy,
    Cancelled,
    Interrupted(Signal),
    /// `verify`: the archive reads, but does not restore to the same records.
    NotRestorable,
    /// An encrypted archive that nothing given opens.
    CannotDecrypt,
}

impl Class {
    pub fn exit_code(self) -> u8 {
        match self {
            Class::Unexpected => 1,
            Class::Usage | Class::Cancelled => 2,
            Class::InvalidArchive | Class::NotRestorable => 3,
            Class::Conflict => 4,
            Class::PermissionDenied => 5,
            Class::NotFound => 6,
            Class::Busy => 7,
            Class::Interrupted(signal) => signal.exit_code(),
            Class::CannotDecrypt => 8,
        }
    }

    /// A short stable name for the `--json` error object.
    pub fn kind(self) -> &'static str {
        match self {
            Class::Unexpected => "failure",
            Class::Usage => "usage",
            Class::InvalidArchive => "invalid-archive",
            Class::Conflict => "conflict",
            Class::PermissionDenied => "permission-denied",
            Class::NotFound => "not-found",
            Class::Busy => "busy",
            Class::Cancelled => "cancelled",
            Class::Interrupted(_) => "interrupted",
            Class::CannotDecrypt => "cannot-decrypt",
            Class::NotRestorable => "not-restorable",
        }
    }
}

/// What an error means: the first typed failure in its cause chain, or SQLite giving up on
/// a lock, or PostgreSQL's `lock_timeout` (SQLSTATE 55P03, lock not available), else
/// unexpected.
pub fn classify(err: &anyhow::Error) -> Class {
    for cause in err.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return failure.class();
        }
        if let Some(sql) = cause.downcast_ref::<rusqlite::Error>()
            && is_busy(sql)
        {
            return Class::Busy;
        }
        if let Some(pg) = cause.downcast_ref::<postgres::Error>()
            && pg.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
        {
            return Class::Busy;
        }
    }
    Class::Unexpected
}

/// The `--json` error object: `{"kind", "exitCode", "message"}`.
pub fn json_error(err: &anyhow::Error) -> serde_json::Value {
    let class = classify(err);
    serde_json::json!({
        "kind": class.kind(),
        "exitCode": class.exit_code(),
        "message": format!("{err:#}"),
    })
}

/// A run that did its work but could not write its log row.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unlogged(pub String);

/// SQLite only says "database is locked": this says what that means, and what to do, as a
/// `Failure::Busy` over the original error. `undone` names the work that did not happen
/// ("exported", "imported"); a command that only reads has none.
pub fn explain_busy(
    err: anyhow::Error,
    db: &str,
    busy_timeout: std::time::Duration,
    undone: Option<&str>,
) -> anyhow::Error {
    if classify(&err) != Class::Busy {
        return err;
    }
    let outcome = match (err.downcast_ref::<Unlogged>(), undone) {
        (Some(_), _) => String::new(),
        (None, Some(undone)) => format!("; nothing was {undone}, try again later"),
        (None, None) => "; try again later".to_owned(),
    };
    err.context(Failure::Busy(format!(
        "another process held a lock on {db} for longer than --busy-timeout ({}s){outcome}",
        busy_timeout.as_secs_f64(),
    )))
}

/// A message with its control characters escaped (`\n` for a line break): an archive's
/// strings end up in error messages, which are printed as one line and must stay one.
pub fn one_line(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_owned();
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// True when SQLite gave up waiting for a lock.
pub fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A closed pipe on stdout (`bomizzel-backup export -o - | head`) is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// At most 60 characters of a value, for messages.
pub fn shortened(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
