//! The schema contract: the application's tables as `init` creates them, the columns the
//! tool relies on, and the tool's own tables.

/// The application's tables and the columns the tool reads or writes in each.
pub const APP_TABLES: &[(&str, &[&str])] = &[
    (
        "companies",
        &[
            "id",
            "name",
            "domain",
            "description",
            "is_active",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "users",
        &[
            "id",
            "email",
            "password_hash",
            "first_name",
            "last_name",
            "phone",
            "role",
            "is_active",
            "email_verified",
            "preferences",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "user_company_associations",
        &["user_id", "company_id", "role", "created_at", "updated_at"],
    ),
    (
        "custom_fields",
        &[
            "id",
            "company_id",
            "name",
            "label",
            "type",
            "is_required",
            "options",
            "validation",
            "display_order",
            "is_active",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "tickets",
        &[
            "id",
            "company_id",
            "title",
            "description",
            "status",
            "priority",
            "category",
            "submitter_id",
            "assigned_to_id",
            "custom_field_values",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ],
    ),
    (
        "ticket_notes",
        &[
            "id",
            "ticket_id",
            "author_id",
            "content",
            "is_internal",
            "is_email_generated",
            "email_metadata",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "file_attachments",
        &[
            "id",
            "ticket_id",
            "note_id",
            "file_name",
            "original_name",
            "file_size",
            "mime_type",
            "uploaded_by_id",
            "storage_key",
            "created_at",
        ],
    ),
    (
        "ticket_history",
        &[
            "id",
            "ticket_id",
            "user_id",
            "action",
            "field_name",
            "old_value",
            "new_value",
            "metadata",
            "created_at",
        ],
    ),
];

/// The application's schema, as `init` writes it.
pub const APP_SCHEMA: &str = "
CREATE TABLE companies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    domain      TEXT,
    description TEXT,
    is_active   INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    password_hash  TEXT,
    first_name     TEXT,
    last_name      TEXT,
    phone          TEXT,
    role           TEXT NOT NULL DEFAULT 'customer'
                   CHECK (role IN ('customer', 'employee', 'team_lead', 'admin')),
    is_active      INTEGER NOT NULL DEFAULT 1,
    email_verified INTEGER NOT NULL DEFAULT 0,
    preferences    TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE user_company_associations (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, company_id)
);
CREATE INDEX user_company_associations_company ON user_company_associations(company_id);

CREATE TABLE custom_fields (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    label         TEXT NOT NULL,
    type          TEXT NOT NULL
                  CHECK (type IN ('string', 'number', 'decimal', 'integer', 'picklist')),
    is_required   INTEGER NOT NULL DEFAULT 0,
    options       TEXT,
    validation    TEXT,
    display_order INTEGER NOT NULL DEFAULT 0,
    is_active     INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE tickets (
    id                  TEXT PRIMARY KEY,
    company_id          TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    title               TEXT NOT NULL,
    description         TEXT,
    status              TEXT NOT NULL,
    priority            TEXT NOT NULL DEFAULT 'medium'
                        CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    category            TEXT,
    submitter_id        TEXT REFERENCES users(id) ON DELETE SET NULL,
    assigned_to_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    custom_field_values TEXT NOT NULL DEFAULT '{}',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    resolved_at         TEXT,
    closed_at           TEXT
);
CREATE INDEX tickets_company_created ON tickets(company_id, created_at);

CREATE TABLE ticket_notes (
    id                 TEXT PRIMARY KEY,
    ticket_id          TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    content            TEXT NOT NULL,
    is_internal        INTEGER NOT NULL DEFAULT 0,
    is_email_generated INTEGER NOT NULL DEFAULT 0,
    email_metadata     TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id, created_at, id);

CREATE TABLE file_attachments (
    id             TEXT PRIMARY KEY,
    ticket_id      TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    note_id        TEXT REFERENCES ticket_notes(id) ON DELETE SET NULL,
    file_name      TEXT NOT NULL,
    original_name  TEXT,
    file_size      INTEGER NOT NULL DEFAULT 0,
    mime_type      TEXT,
    uploaded_by_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    storage_key    TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX file_attachments_ticket ON file_attachments(ticket_id);

CREATE TABLE ticket_history (
    id         TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    field_name TEXT,
    old_value  TEXT,
    new_value  TEXT,
    metadata   TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_history_ticket ON ticket_history(ticket_id, created_at, id);
";

/// The tables the tool creates when a command that writes needs them and they are missing:
/// the two log tables (which the web app's History tab shares, and which a database the web
/// app made already has) and the tool's own tables. A command that only reads takes a
/// missing one as empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolTable {
    ExportLog,
    ImportLog,
    /// Where an archive record landed when its id was taken by another company, so a later
    /// import of the same archive finds it again.
    IdMap,
    /// The record of `prune` runs, which belong to neither of the web app's logs.
    PruneLog,
}

impl ToolTable {
    pub const ALL: [ToolTable; 4] = [
        ToolTable::ExportLog,
        ToolTable::ImportLog,
        ToolTable::IdMap,
        ToolTable::PruneLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ToolTable::ExportLog => "data_export_logs",
            ToolTable::ImportLog => "data_import_logs",
            ToolTable::IdMap => "bomizzel_backup_id_map",
            ToolTable::PruneLog => "bomizzel_backup_prune_logs",
        }
    }

    /// The table's `CREATE TABLE IF NOT EXISTS`: idempotent, and without indexes of its own
    /// (a user's database gets no index from the tool but its tables' keys).
    pub fn schema(self) -> &'static str {
        match self {
            ToolTable::ExportLog => EXPORT_LOG_SCHEMA,
            ToolTable::ImportLog => IMPORT_LOG_SCHEMA,
            ToolTable::IdMap => ID_MAP_SCHEMA,
            ToolTable::PruneLog => PRUNE_LOG_SCHEMA,
        }
    }
}

const EXPORT_LOG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS data_export_logs (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL,
    user_id       TEXT,
    export_id     TEXT NOT NULL UNIQUE,
    exported_data TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL
);
";

const IMPORT_LOG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS data_import_logs (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL,
    user_id       TEXT,
    import_id     TEXT NOT NULL UNIQUE,
    imported_data TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL
);
";

const ID_MAP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bomizzel_backup_id_map (
    company_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    archive_id  TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (company_id, kind, archive_id)
) WITHOUT ROWID;
";

const PRUNE_LOG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bomizzel_backup_prune_logs (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL,
    user_id     TEXT,
    prune_id    TEXT NOT NULL UNIQUE,
    pruned_data TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
);
";

/// Every table of the tool's, in one idempotent batch (what `init` writes after the
/// application's schema).
pub fn tool_schema() -> String {
    ToolTable::ALL.map(ToolTable::schema).concat()
}
