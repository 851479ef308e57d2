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
    /// The database stayed locked past the busy timeout.
    #[error("database is busy: {0}; try again later")]
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
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Cancelled(_) => 2,
            Failure::InvalidArchive(_) | Failure::NotRestorable(_) => 3,
            Failure::Conflict(_) => 4,
            Failure::PermissionDenied(_) => 5,
            Failure::NotFound(_) => 6,
            Failure::Busy(_) => 7,
            Failure::Interrupted(signal) => signal.exit_code(),
            Failure::CannotDecrypt(_) => 8,
        }
    }

    /// A short stable name for the `--json` error object.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::InvalidArchive(_) => "invalid-archive",
            Failure::Conflict(_) => "conflict",
            Failure::PermissionDenied(_) => "permission-denied",
            Failure::NotFound(_) => "not-found",
            Failure::Busy(_) => "busy",
            Failure::Cancelled(_) => "cancelled",
            Failure::Interrupted(_) => "interrupted",
            Failure::CannotDecrypt(_) => "cannot-decrypt",
            Failure::NotRestorable(_) => "not-restorable",
        }
    }
}

/// What an error means for the process: its exit status and a stable kind name.
pub fn classify(err: &anyhow::Error) -> (u8, &'static str) {
    for cause in err.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return (failure.exit_code(), failure.kind());
        }
        if let Some(sql) = cause.downcast_ref::<rusqlite::Error>()
            && is_busy(sql)
        {
            return (7, "busy");
        }
    }
    (1, "failure")
}

/// The `--json` error object: `{"kind", "exitCode", "message"}`.
pub fn json_error(err: &anyhow::Error) -> serde_json::Value {
    let (code, kind) = classify(err);
    serde_json::json!({ "kind": kind, "exitCode": code, "message": format!("{err:#}") })
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
