//! One module per subcommand, and the session they share: an open database, the company
//! and the authorized actor.

pub mod completions;
pub mod export;
pub mod history;
pub mod import;
pub mod init;
pub mod prune;
pub mod verify;

use std::time::Duration;

use anyhow::Result;
use rusqlite::Connection;

use crate::cli::GlobalOpts;
use crate::db::{self, tenant};
use crate::error::Failure;

/// An open database with the company chosen and the actor checked.
pub struct Session {
    pub conn: Connection,
    pub company: tenant::Company,
    pub actor: tenant::Actor,
}

/// Turns the global options into database open options.
pub fn open_options(global: &GlobalOpts) -> Result<db::OpenOptions> {
    let seconds = global.busy_timeout;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(Failure::Usage(format!(
            "--busy-timeout must be a number of seconds, not {seconds}"
        ))
        .into());
    }
    Ok(db::OpenOptions {
        busy_timeout: Duration::from_secs_f64(seconds),
    })
}

/// Opens the database, resolves `--company` and checks `--actor` is its admin.
pub fn open_session(global: &GlobalOpts) -> Result<Session> {
    let conn = db::open(&global.db, open_options(global)?)?;
    let company = tenant::resolve_company(&conn, global.company.as_deref())?;
    let actor = tenant::authorize_actor(&conn, global.actor.as_deref(), &company)?;
    Ok(Session {
        conn,
        company,
        actor,
    })
}

impl Session {
    /// Fails before any work when the database cannot take the log row the work needs
    /// (`doing` says what would not happen): a file must never be written, or deleted,
    /// without its record.
    pub fn require_writable(&self, global: &GlobalOpts, doing: &str) -> Result<()> {
        if self.conn.is_readonly(rusqlite::MAIN_DB)? {
            anyhow::bail!(
                "{} is read-only, so the {doing} could not be recorded in its log; nothing was done",
                global.db.display()
            );
        }
        Ok(())
    }
}

/// A run that did its work but could not write its log row.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unlogged(pub String);

/// SQLite only says "database is locked": this says what that means, and what to do.
/// `undone` names the work that did not happen ("exported", "imported").
pub fn explain_busy(err: anyhow::Error, global: &GlobalOpts, undone: &str) -> anyhow::Error {
    if crate::error::classify(&err).0 != 7 {
        return err;
    }
    let outcome = match err.downcast_ref::<Unlogged>() {
        Some(_) => String::new(),
        None => format!("; nothing was {undone}, try again later"),
    };
    err.context(format!(
        "another process held a lock on {} for longer than --busy-timeout ({}s){outcome}",
        global.db.display(),
        global.busy_timeout
    ))
}
