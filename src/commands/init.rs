//! `init`: a new, empty database with the application's schema and the tool's tables; on
//! PostgreSQL, the schema in an existing database that has none of them.

use anyhow::Result;
use serde::Serialize;

use crate::cli::GlobalOpts;
use crate::db;
use crate::report::Reporter;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InitReport {
    database: String,
}

pub(crate) fn run(global: &GlobalOpts, reporter: &Reporter) -> Result<()> {
    let options = super::open_options(global);
    let location = db::Location::parse(global.db_path().as_os_str())?;
    match &location {
        db::Location::Sqlite(path) => {
            db::create(path, options)?;
            reporter.note(format!("Created an empty Bomizzel database at {location}"));
        }
        db::Location::Postgres(url) => {
            db::pg::init(url)?;
            reporter.note(format!("Created the Bomizzel schema in {location}"));
        }
    }
    reporter.result(&InitReport {
        database: location.to_string(),
    })?;
    Ok(())
}
