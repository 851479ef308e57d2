//! `init`: a new, empty database with the application's schema and the tool's tables.

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
    let path = global.db_path();
    db::create(path, super::open_options(global))?;
    reporter.note(format!(
        "Created an empty Bomizzel database at {}",
        path.display()
    ));
    reporter.result(&InitReport {
        database: path.display().to_string(),
    })?;
    Ok(())
}
