//! One module per subcommand, and the session they share: an open database, the company
//! and the authorized actor.

pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod history;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod list;
pub(crate) mod prune;
pub(crate) mod verify;

use anyhow::Result;

use crate::cli::{DEFAULT_DB, GlobalOpts};
use crate::db::schema::ToolTable;
use crate::db::{self, Database, tenant};
use crate::error::Failure;

/// An open database with the company chosen and the actor checked.
pub(crate) struct Session {
    pub db: Database,
    pub company: tenant::Company,
    pub actor: tenant::Actor,
}

/// The global options as database open options.
pub(crate) fn open_options(global: &GlobalOpts) -> db::OpenOptions {
    db::OpenOptions {
        busy_timeout: global.busy_timeout,
    }
}

/// Opens the database that --db (or BOMIZZEL_DB) names, else the default one. A missing one
/// is not found (exit 6); when none was named, the message says first how to name one, as
/// the default is then only a guess. `missing_hint` adds what else to do about it, for a
/// command that has something to add (import: how to make a database to restore into).
pub(crate) fn open_database(global: &GlobalOpts, missing_hint: Option<&str>) -> Result<Database> {
    let path = global.db_path();
    let location = db::Location::parse(path.as_os_str())?;
    if matches!(location, db::Location::Sqlite(_)) && !path.exists() {
        let mut message = match &global.db {
            Some(_) => format!("database not found: {}", path.display()),
            None => {
                let here = std::env::current_dir().map_or_else(
                    |_| "the current directory".to_owned(),
                    |dir| dir.display().to_string(),
                );
                format!(
                    "database not found: pass --db PATH or set BOMIZZEL_DB (the default, ./{DEFAULT_DB}, does not exist in {here})"
                )
            }
        };
        if let Some(hint) = missing_hint {
            message.push_str("; ");
            message.push_str(hint);
        }
        return Err(Failure::NotFound(message).into());
    }
    Database::open(&location, open_options(global))
}

/// What messages call the database: its path, or its URL with the password masked.
pub(crate) fn database_name(global: &GlobalOpts) -> String {
    db::Location::shown(global.db_path().as_os_str())
}

/// Opens the database, resolves `--company` and checks `--actor` is its admin.
pub(crate) fn open_session(global: &GlobalOpts) -> Result<Session> {
    let db = open_database(global, None)?;
    let company = tenant::resolve_company(&db, global.company.as_deref())?;
    let actor = tenant::authorize_actor(&db, global.actor.as_deref(), &company)?;
    Ok(Session { db, company, actor })
}

impl Session {
    /// Fails before any work when the database cannot take the log row the work needs
    /// (`doing` says what would not happen): a file must never be written, or deleted,
    /// without its record. Given the log's table, makes it where it is missing, and checks
    /// that this session may add rows to it (a role may only read).
    pub(crate) fn require_writable(
        &self,
        global: &GlobalOpts,
        doing: &str,
        log: Option<ToolTable>,
    ) -> Result<()> {
        let refused = |why: String| {
            anyhow::anyhow!(
                "{} {why}, so the {doing} could not be recorded in its log; nothing was done",
                database_name(global)
            )
        };
        if self.db.is_read_only()? {
            return Err(refused("is read-only".to_owned()));
        }
        if let Some(table) = log {
            self.db.create_tool_tables_now(&[table])?;
            if !self.db.may_insert_into(table)? {
                return Err(refused(format!(
                    "does not let this role add rows to {} (grant it INSERT on that table)",
                    table.name()
                )));
            }
        }
        Ok(())
    }
}

/// `error::explain_busy` for this command line's database.
pub(crate) fn explain_busy(
    err: anyhow::Error,
    global: &GlobalOpts,
    undone: Option<&str>,
) -> anyhow::Error {
    // The masked name: a URL's password never reaches a message.
    crate::error::explain_busy(err, &database_name(global), global.busy_timeout, undone)
}
