//! The schema contract of `db::schema` in PostgreSQL's types: the application's tables as
//! `init` creates them and the tool's own tables. The same tables, columns, keys and checks
//! as SQLite's; ARCHITECTURE.md ("PostgreSQL types") says why each type was chosen.
//!
//! In short: every text column is `COLLATE "C"`, so text sorts and compares bytewise as in
//! SQLite (an export lists records in the same order from either database) and
//! `lower(email)` folds ASCII only, as SQLite's NOCASE does; ids and timestamps are `text`,
//! kept exactly as the archive gives them; JSON is `jsonb` (an archive's JSON values are
//! compared as values, and always read back through serde); booleans are `boolean`; integers
//! `bigint`, SQLite's range.

use std::sync::OnceLock;

use crate::db::schema::{APP_TABLES, ToolTable};

/// The application's schema, as `init` writes it: `db::schema::APP_SCHEMA`'s tables.
pub(crate) const APP_SCHEMA: &str = r#"
CREATE TABLE companies (
    id          text COLLATE "C" PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    domain      text COLLATE "C",
    description text COLLATE "C",
    is_active   boolean NOT NULL DEFAULT true,
    created_at  text COLLATE "C" NOT NULL,
    updated_at  text COLLATE "C" NOT NULL
);

CREATE TABLE users (
    id             text COLLATE "C" PRIMARY KEY,
    email          text COLLATE "C" NOT NULL,
    password_hash  text COLLATE "C",
    first_name     text COLLATE "C",
    last_name      text COLLATE "C",
    phone          text COLLATE "C",
    role           text COLLATE "C" NOT NULL DEFAULT 'customer'
                   CHECK (role IN ('customer', 'employee', 'team_lead', 'admin')),
    is_active      boolean NOT NULL DEFAULT true,
    email_verified boolean NOT NULL DEFAULT false,
    preferences    jsonb NOT NULL DEFAULT '{}',
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C" NOT NULL
);
-- SQLite's `COLLATE NOCASE UNIQUE`: lower() under the column's "C" collation folds A-Z only.
CREATE UNIQUE INDEX users_email_nocase ON users (lower(email));

CREATE TABLE user_company_associations (
    user_id    text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    company_id text COLLATE "C" NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    role       text COLLATE "C" NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, company_id)
);
CREATE INDEX user_company_associations_company ON user_company_associations(company_id);

CREATE TABLE custom_fields (
    id            text COLLATE "C" PRIMARY KEY,
    company_id    text COLLATE "C" NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    label         text COLLATE "C" NOT NULL,
    type          text COLLATE "C" NOT NULL
                  CHECK (type IN ('string', 'number', 'decimal', 'integer', 'picklist')),
    is_required   boolean NOT NULL DEFAULT false,
    options       jsonb,
    validation    jsonb,
    display_order bigint NOT NULL DEFAULT 0,
    is_active     boolean NOT NULL DEFAULT true,
    created_at    text COLLATE "C" NOT NULL,
    updated_at    text COLLATE "C" NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE tickets (
    id                  text COLLATE "C" PRIMARY KEY,
    company_id          text COLLATE "C" NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    title               text COLLATE "C" NOT NULL,
    description         text COLLATE "C",
    status              text COLLATE "C" NOT NULL,
    priority            text COLLATE "C" NOT NULL DEFAULT 'medium'
                        CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    category            text COLLATE "C",
    submitter_id        text COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    assigned_to_id      text COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    custom_field_values jsonb NOT NULL DEFAULT '{}',
    created_at          text COLLATE "C" NOT NULL,
    updated_at          text COLLATE "C" NOT NULL,
    resolved_at         text COLLATE "C",
    closed_at           text COLLATE "C"
);
CREATE INDEX tickets_company_created ON tickets(company_id, created_at);

CREATE TABLE ticket_notes (
    id                 text COLLATE "C" PRIMARY KEY,
    ticket_id          text COLLATE "C" NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author_id          text COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    content            text COLLATE "C" NOT NULL,
    is_internal        boolean NOT NULL DEFAULT false,
    is_email_generated boolean NOT NULL DEFAULT false,
    email_metadata     jsonb,
    created_at         text COLLATE "C" NOT NULL,
    updated_at         text COLLATE "C" NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id, created_at, id);

CREATE TABLE file_attachments (
    id             text COLLATE "C" PRIMARY KEY,
    ticket_id      text COLLATE "C" NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    note_id        text COLLATE "C" REFERENCES ticket_notes(id) ON DELETE SET NULL,
    file_name      text COLLATE "C" NOT NULL,
    original_name  text COLLATE "C",
    file_size      bigint NOT NULL DEFAULT 0,
    mime_type      text COLLATE "C",
    uploaded_by_id text COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    storage_key    text COLLATE "C",
    created_at     text COLLATE "C" NOT NULL
);
CREATE INDEX file_attachments_ticket ON file_attachments(ticket_id);

CREATE TABLE ticket_history (
    id         text COLLATE "C" PRIMARY KEY,
    ticket_id  text COLLATE "C" NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    user_id    text COLLATE "C" REFERENCES users(id) ON DELETE SET NULL,
    action     text COLLATE "C" NOT NULL,
    field_name text COLLATE "C",
    old_value  text COLLATE "C",
    new_value  text COLLATE "C",
    metadata   jsonb,
    created_at text COLLATE "C" NOT NULL
);
CREATE INDEX ticket_history_ticket ON ticket_history(ticket_id, created_at, id);
"#;

/// The table's `CREATE TABLE IF NOT EXISTS`, as `ToolTable::schema` is SQLite's.
pub(crate) fn tool_table(table: ToolTable) -> &'static str {
    match table {
        ToolTable::ExportLog => EXPORT_LOG,
        ToolTable::ImportLog => IMPORT_LOG,
        ToolTable::IdMap => ID_MAP,
        ToolTable::PruneLog => PRUNE_LOG,
    }
}

/// Everything `init` writes: the application's tables, then the tool's.
pub(crate) fn full_schema() -> String {
    let mut schema = APP_SCHEMA.to_owned();
    for table in ToolTable::ALL {
        schema.push_str(tool_table(table));
    }
    schema
}

/// Each column of the application's tables with its type in `APP_SCHEMA` (`text`,
/// `boolean`, `bigint`, `jsonb`: the names `information_schema.columns.data_type` gives),
/// read from the schema itself.
pub(crate) fn app_column_types() -> &'static [(&'static str, &'static str, &'static str)] {
    static TYPES: OnceLock<Vec<(&str, &str, &str)>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut table = "";
        let mut types = Vec::new();
        for line in APP_SCHEMA.lines() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("CREATE"), Some("TABLE")) => table = words.next().unwrap_or_default(),
                // A column is a lowercase name then its type; constraints are in capitals.
                (Some(column), Some(kind))
                    if line.starts_with("    ")
                        && column.starts_with(|c: char| c.is_ascii_lowercase()) =>
                {
                    types.push((table, column, kind.trim_end_matches(',')));
                }
                _ => {}
            }
        }
        types
    })
}

/// Every table `init` creates, by name.
pub(crate) fn table_names() -> Vec<&'static str> {
    let app = APP_TABLES.iter().map(|(name, _)| *name);
    app.chain(ToolTable::ALL.map(ToolTable::name)).collect()
}

const EXPORT_LOG: &str = r#"
CREATE TABLE IF NOT EXISTS data_export_logs (
    id            text COLLATE "C" PRIMARY KEY,
    company_id    text COLLATE "C" NOT NULL,
    user_id       text COLLATE "C",
    export_id     text COLLATE "C" NOT NULL UNIQUE,
    exported_data jsonb NOT NULL DEFAULT '{}',
    created_at    text COLLATE "C" NOT NULL
);
"#;

const IMPORT_LOG: &str = r#"
CREATE TABLE IF NOT EXISTS data_import_logs (
    id            text COLLATE "C" PRIMARY KEY,
    company_id    text COLLATE "C" NOT NULL,
    user_id       text COLLATE "C",
    import_id     text COLLATE "C" NOT NULL UNIQUE,
    imported_data jsonb NOT NULL DEFAULT '{}',
    created_at    text COLLATE "C" NOT NULL
);
"#;

const ID_MAP: &str = r#"
CREATE TABLE IF NOT EXISTS bomizzel_backup_id_map (
    company_id  text COLLATE "C" NOT NULL,
    kind        text COLLATE "C" NOT NULL,
    archive_id  text COLLATE "C" NOT NULL,
    local_id    text COLLATE "C" NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    PRIMARY KEY (company_id, kind, archive_id)
);
"#;

const PRUNE_LOG: &str = r#"
CREATE TABLE IF NOT EXISTS bomizzel_backup_prune_logs (
    id          text COLLATE "C" PRIMARY KEY,
    company_id  text COLLATE "C" NOT NULL,
    user_id     text COLLATE "C",
    prune_id    text COLLATE "C" NOT NULL UNIQUE,
    pruned_data jsonb NOT NULL DEFAULT '{}',
    created_at  text COLLATE "C" NOT NULL
);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table and column of the contract is in the PostgreSQL schema (the integration
    /// tests check the created tables against the contract column by column).
    #[test]
    fn has_every_table_of_the_contract() {
        let schema = full_schema();
        for name in table_names() {
            assert!(
                schema.contains(&format!("CREATE TABLE {name} (\n"))
                    || schema.contains(&format!("CREATE TABLE IF NOT EXISTS {name} (\n")),
                "{name}"
            );
        }
        assert_eq!(table_names().len(), APP_TABLES.len() + ToolTable::ALL.len());
    }

    /// Every column of the contract has its type read from the schema, one of the four
    /// the tool binds and reads, and nothing else was taken for a column.
    #[test]
    fn reads_each_columns_type_from_the_schema() {
        let types = app_column_types();
        for (table, columns) in APP_TABLES {
            for column in *columns {
                let found: Vec<&str> = types
                    .iter()
                    .filter(|(t, c, _)| t == table && c == column)
                    .map(|(_, _, kind)| *kind)
                    .collect();
                assert_eq!(found.len(), 1, "{table}.{column}: {found:?}");
                assert!(
                    ["text", "boolean", "bigint", "jsonb"].contains(&found[0]),
                    "{table}.{column}: {}",
                    found[0]
                );
            }
        }
        let columns: usize = APP_TABLES.iter().map(|(_, columns)| columns.len()).sum();
        assert_eq!(types.len(), columns);
        assert!(types.contains(&("tickets", "custom_field_values", "jsonb")));
        assert!(types.contains(&("file_attachments", "file_size", "bigint")));
    }
}
