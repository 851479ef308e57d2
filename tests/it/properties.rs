//! Properties over random two-company databases (issue 6, points 5 and 6), each case run
//! through the real binary:
//!
//! - tenant isolation: company A's archive holds no record of company B and no email of a
//!   user only B has; and no import into A (A's own archives again, with either duplicate
//!   policy, or B's archive taken into A) changes a byte of B's rows, or of a user A does
//!   not have to itself;
//! - lossless round trip: export → import into an empty company of a fresh database
//!   (`--create-company`) → export gives the same records and ids, in both containers.
//!
//! The databases are written with rusqlite on the schema `init` makes: random numbers of
//! users (some in both companies, some in neither), custom fields of every type, tickets
//! with notes, history and attachments, text with quotes, unicode, SQL and control
//! characters, timestamps in several RFC 3339 forms, and NULL wherever a column allows it.
//!
//! `PROPTEST_CASES` sets the number of cases per property (default 16, a few seconds in a
//! debug build); run it long with `PROPTEST_CASES=2000 cargo test --release --test it properties::`
//! (some minutes).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;
use proptest::sample::Index;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};
use serde_json::{Map, Value};
use tempfile::TempDir;

use support::*;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 16;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: proptest_cases(DEFAULT_CASES),
        // A case runs the binary a dozen times: shrink for a while, not for hours.
        max_shrink_time: 300_000,
        // A failure prints its minimal world, which reproduces it; no files beside this one.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Random databases

/// Text as people type it into a helpdesk, and as attackers do.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{0,12}",
        3 => "\\PC{0,10}",
        1 => Just("'; DROP TABLE tickets; --".to_owned()),
        1 => Just("\"quoted\" \\ back\\slash %_".to_owned()),
        1 => Just("line\nbreak\ttab\r\n".to_owned()),
        1 => Just("nul\u{0}byte".to_owned()),
        1 => Just("🎉 Zürich 李 \u{202e}rtl".to_owned()),
        1 => Just(String::new()),
    ]
}

/// Text with something besides spaces, for the columns an archive requires to be filled.
fn filled_text() -> impl Strategy<Value = String> {
    text().prop_map(|t| {
        if t.trim().is_empty() {
            format!("{t}x")
        } else {
            t
        }
    })
}

/// An RFC 3339 time between 2020 and 2030, mostly in the database's own form.
fn timestamp() -> impl Strategy<Value = String> {
    (1_577_836_800_000_i64..1_893_456_000_000, 0..8_u8).prop_map(|(ms, form)| {
        let at = DateTime::from_timestamp_millis(ms).expect("a time in range");
        match form {
            0 => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            1 => at
                .with_timezone(&FixedOffset::east_opt(2 * 3600).expect("an offset"))
                .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
                .to_string(),
            _ => at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        }
    })
}

/// A JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12_f64..1e12).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            json_object_of(inner),
        ]
    })
}

fn json_object_of(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(text(), values, 0..3)
        .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>()))
}

fn json_object() -> impl Strategy<Value = Value> {
    json_object_of(json_value())
}

const USER_ROLES: [&str; 4] = ["customer", "employee", "team_lead", "admin"];
const COMPANY_ROLES: [&str; 2] = ["member", "admin"];
const FIELD_TYPES: [&str; 5] = ["string", "number", "decimal", "integer", "picklist"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];
const STATUSES: [&str; 4] = ["open", "in_progress", "resolved", "closed"];
/// Field names come from a small set, so that A and B often have fields of the same name.
const FIELD_NAMES: [&str; 6] = ["seats", "plan", "budget", "region", "ref \"x\"", "Ünïcode"];

fn maybe<S: Strategy>(strategy: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::of(strategy)
}

/// A person a record refers to: one of the company's members, or nobody (NULL).
fn someone() -> impl Strategy<Value = Option<Index>> {
    maybe(any::<Index>())
}

#[derive(Debug, Clone)]
struct UserSpec {
    /// Made unique (ignoring case) by `world`.
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    role: &'static str,
    is_active: bool,
    email_verified: bool,
    preferences: Value,
    password_hash: Option<String>,
    created_at: String,
    updated_at: String,
    /// Membership role in company A and in company B, if a member.
    in_a: Option<&'static str>,
    in_b: Option<&'static str>,
}

prop_compose! {
    fn user()(
        email in "[a-zA-Z0-9.'+_-]{1,8}",
        names in (maybe(text()), maybe(text()), maybe("[0-9 +()-]{3,14}")),
        role in prop::sample::select(&USER_ROLES[..]),
        flags in (any::<bool>(), any::<bool>()),
        preferences in json_object(),
        password_hash in maybe("[a-zA-Z0-9./$]{20,60}"),
        times in (timestamp(), timestamp()),
        in_a in maybe(prop::sample::select(&COMPANY_ROLES[..])),
        in_b in maybe(prop::sample::select(&COMPANY_ROLES[..])),
    ) -> UserSpec {
        let (first_name, last_name, phone) = names;
        UserSpec {
            email, first_name, last_name, phone, role,
            is_active: flags.0, email_verified: flags.1, preferences,
            password_hash: password_hash.map(|h| format!("$2b$10${h}")),
            created_at: times.0, updated_at: times.1, in_a, in_b,
        }
    }
}

#[derive(Debug, Clone)]
struct FieldSpec {
    name: &'static str,
    label: String,
    field_type: &'static str,
    is_required: bool,
    /// A picklist's choices; other types get `other_options` (any JSON, or NULL).
    options: Vec<String>,
    other_options: Option<Value>,
    validation: Option<Value>,
    display_order: i64,
    is_active: bool,
    created_at: String,
    updated_at: String,
}

prop_compose! {
    fn field()(
        name in prop::sample::select(&FIELD_NAMES[..]),
        label in text(),
        field_type in prop::sample::select(&FIELD_TYPES[..]),
        flags in (any::<bool>(), any::<bool>()),
        options in prop::collection::btree_set(filled_text(), 1..4),
        other_options in maybe(json_value()),
        validation in maybe(json_object()),
        display_order in -5_i64..50,
        times in (timestamp(), timestamp()),
    ) -> FieldSpec {
        FieldSpec {
            name, label, field_type, is_required: flags.0,
            options: options.into_iter().collect(), other_options, validation, display_order,
            is_active: flags.1, created_at: times.0, updated_at: times.1,
        }
    }
}

/// The makings of one custom field value, whatever the field's type turns out to be.
#[derive(Debug, Clone)]
struct ValueSeed {
    null: bool,
    misfit: bool,
    text: String,
    integer: i64,
    number: f64,
    choice: Index,
}

prop_compose! {
    fn value_seed()(
        null in prop::bool::weighted(0.1),
        misfit in prop::bool::weighted(0.15),
        text in text(),
        integer in any::<i64>(),
        number in -1e9_f64..1e9,
        choice in any::<Index>(),
    ) -> ValueSeed {
        ValueSeed { null, misfit, text, integer, number, choice }
    }
}

impl ValueSeed {
    /// A value for `field` as the web app would have stored it: mostly one that fits, and
    /// sometimes one the field no longer allows (its type changed, an option taken out),
    /// which a restore must keep all the same.
    fn value_for(&self, field: &FieldSpec) -> Value {
        if self.null {
            return Value::Null;
        }
        if self.misfit {
            return match field.field_type {
                "string" => Value::from(self.integer),
                "picklist" => Value::from(format!("retired {}", self.text)),
                _ => Value::from(self.text.clone()),
            };
        }
        match field.field_type {
            "string" => Value::from(self.text.clone()),
            "integer" => Value::from(self.integer),
            "picklist" => Value::from(self.choice.get(&field.options).clone()),
            _ if self.integer % 2 == 0 => Value::from(self.integer % 100_000),
            _ => Value::from(self.number),
        }
    }
}

#[derive(Debug, Clone)]
struct NoteSpec {
    author: Option<Index>,
    content: String,
    is_internal: bool,
    is_email_generated: bool,
    email_metadata: Option<Value>,
    created_at: String,
    updated_at: String,
}

prop_compose! {
    fn note()(
        author in someone(),
        content in text(),
        flags in (any::<bool>(), any::<bool>()),
        email_metadata in maybe(json_object()),
        times in (timestamp(), timestamp()),
    ) -> NoteSpec {
        NoteSpec {
            author, content, is_internal: flags.0, is_email_generated: flags.1, email_metadata,
            created_at: times.0, updated_at: times.1,
        }
    }
}

#[derive(Debug, Clone)]
struct HistorySpec {
    user: Option<Index>,
    action: String,
    field_name: Option<String>,
    old_value: Option<String>,
    new_value: Option<String>,
    metadata: Option<Value>,
    created_at: String,
}

prop_compose! {
    fn history_entry()(
        user in someone(),
        action in filled_text(),
        field_name in maybe(text()),
        values in (maybe(text()), maybe(text())),
        metadata in maybe(json_object()),
        created_at in timestamp(),
    ) -> HistorySpec {
        HistorySpec {
            user, action, field_name, old_value: values.0, new_value: values.1, metadata,
            created_at,
        }
    }
}

#[derive(Debug, Clone)]
struct AttachmentSpec {
    /// One of the ticket's notes, if it has any.
    note: Option<Index>,
    file_name: String,
    original_name: Option<String>,
    file_size: i64,
    mime_type: Option<String>,
    uploader: Option<Index>,
    storage_key: Option<String>,
    created_at: String,
}

prop_compose! {
    fn attachment()(
        note in maybe(any::<Index>()),
        file_name in filled_text(),
        original_name in maybe(text()),
        file_size in 0_i64..1 << 40,
        mime_type in maybe(text()),
        uploader in someone(),
        storage_key in maybe(text()),
        created_at in timestamp(),
    ) -> AttachmentSpec {
        AttachmentSpec {
            note, file_name, original_name, file_size, mime_type, uploader, storage_key,
            created_at,
        }
    }
}

#[derive(Debug, Clone)]
struct TicketSpec {
    title: String,
    description: Option<String>,
    status: String,
    priority: &'static str,
    category: Option<String>,
    submitter: Option<Index>,
    assignee: Option<Index>,
    /// One per custom field of the company, in order; `None` leaves the field unset.
    values: Vec<Option<ValueSeed>>,
    created_at: String,
    updated_at: String,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    notes: Vec<NoteSpec>,
    history: Vec<HistorySpec>,
    attachments: Vec<AttachmentSpec>,
}

prop_compose! {
    fn ticket()(
        title in filled_text(),
        description in maybe(text()),
        status in prop_oneof![
            3 => prop::sample::select(&STATUSES[..]).prop_map(str::to_owned),
            1 => filled_text(),
        ],
        priority in prop::sample::select(&PRIORITIES[..]),
        category in maybe(text()),
        people in (someone(), someone()),
        values in prop::collection::vec(maybe(value_seed()), 0..5),
        times in (timestamp(), timestamp(), maybe(timestamp()), maybe(timestamp())),
        notes in prop::collection::vec(note(), 0..3),
        history in prop::collection::vec(history_entry(), 0..3),
        attachments in prop::collection::vec(attachment(), 0..3),
    ) -> TicketSpec {
        let (created_at, updated_at, resolved_at, closed_at) = times;
        TicketSpec {
            title, description, status, priority, category, submitter: people.0,
            assignee: people.1, values, created_at, updated_at, resolved_at, closed_at, notes,
            history, attachments,
        }
    }
}

#[derive(Debug, Clone)]
struct CompanySpec {
    name: String,
    domain: Option<String>,
    description: Option<String>,
    created_at: String,
    fields: Vec<FieldSpec>,
    tickets: Vec<TicketSpec>,
}

prop_compose! {
    fn company()(
        name in text(),
        domain in maybe(text()),
        description in maybe(text()),
        created_at in timestamp(),
        fields in prop::collection::vec(field(), 0..4),
        tickets in prop::collection::vec(ticket(), 0..5),
    ) -> CompanySpec {
        CompanySpec { name, domain, description, created_at, fields, tickets }
    }
}

/// Two companies, A and B, and the users of both (and of neither). The first user is A's
/// admin and the second B's, so each company has someone to run the tool as.
#[derive(Debug, Clone)]
struct World {
    users: Vec<UserSpec>,
    a: CompanySpec,
    b: CompanySpec,
}

prop_compose! {
    fn world()(mut users in prop::collection::vec(user(), 2..8), a in company(), b in company())
        -> World
    {
        for (i, user) in users.iter_mut().enumerate() {
            // Unique whatever the random part, ignoring case: `u<i>.` starts each one.
            user.email = format!("u{i}.{}@{}.example", user.email, ["a", "b", "x"][i % 3]);
        }
        users[0].in_a = Some("admin");
        users[1].in_b = Some("admin");
        users[0].is_active = true;
        users[1].is_active = true;
        World { users, a, b }
    }
}

// ---------------------------------------------------------------------------------------
// Writing a world into a database

const COMPANY_A: &str = "c0000000-0000-4000-8000-00000000000a";
const COMPANY_B: &str = "c0000000-0000-4000-8000-00000000000b";

/// What the tests need to know of a written world.
struct Written {
    /// Emails of the admins of A and of B.
    admin_a: String,
    admin_b: String,
    /// Ids of every record of B (members only in B included), and emails of B-only users.
    b_ids: BTreeSet<String>,
    b_only_emails: BTreeSet<String>,
}

/// A fresh database as `init` writes it, built once and copied for each case.
fn empty_database(path: &Path) {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes = TEMPLATE.get_or_init(|| {
        let dir = TempDir::new().expect("a temporary directory");
        let db = dir.path().join("template.db");
        cmd(&db).arg("init").assert().success();
        fs::read(&db).expect("read the template")
    });
    fs::write(path, bytes).expect("write an empty database");
}

/// Ids that are unique across the database and say what they are.
struct Ids(u64);

impl Ids {
    fn next(&mut self, kind: u32) -> String {
        self.0 += 1;
        format!("{kind:08x}-0000-4000-8000-{:012x}", self.0)
    }
}

fn write_world(world: &World, path: &Path) -> Written {
    empty_database(path);
    let mut conn = open_db(path);
    let tx = conn.transaction().expect("begin");
    let mut ids = Ids(0);
    let user_ids: Vec<String> = world.users.iter().map(|_| ids.next(0xa0)).collect();
    for (user, id) in world.users.iter().zip(&user_ids) {
        tx.execute(
            "INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role,
                                is_active, email_verified, preferences, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                user.email,
                user.password_hash,
                user.first_name,
                user.last_name,
                user.phone,
                user.role,
                user.is_active,
                user.email_verified,
                user.preferences.to_string(),
                user.created_at,
                user.updated_at
            ],
        )
        .expect("insert a user");
    }
    let mut b_ids = BTreeSet::new();
    let mut b_only_emails = BTreeSet::new();
    for (user, id) in world.users.iter().zip(&user_ids) {
        if user.in_b.is_some() && user.in_a.is_none() {
            b_ids.insert(id.clone());
            b_only_emails.insert(user.email.to_lowercase());
        }
    }
    for (company_id, spec, member_of) in [
        (
            COMPANY_A,
            &world.a,
            (|u: &UserSpec| u.in_a) as fn(&UserSpec) -> Option<&'static str>,
        ),
        (COMPANY_B, &world.b, |u: &UserSpec| u.in_b),
    ] {
        let members: Vec<&String> = world
            .users
            .iter()
            .zip(&user_ids)
            .filter_map(|(user, id)| member_of(user).map(|_| id))
            .collect();
        let mut company_ids = BTreeSet::new();
        write_company(&tx, company_id, spec, &members, &mut ids, &mut company_ids);
        for (user, id) in world.users.iter().zip(&user_ids) {
            if let Some(role) = member_of(user) {
                tx.execute(
                    "INSERT INTO user_company_associations (user_id, company_id, role, created_at,
                                                            updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![id, company_id, role, user.created_at],
                )
                .expect("insert a membership");
            }
        }
        if company_id == COMPANY_B {
            b_ids.extend(company_ids);
        }
    }
    tx.commit().expect("commit the world");
    Written {
        admin_a: world.users[0].email.clone(),
        admin_b: world.users[1].email.clone(),
        b_ids,
        b_only_emails,
    }
}

/// Writes one company: its row, fields, tickets and their children. People are picked
/// among `members` (or NULL), so no reference leaves the company.
fn write_company(
    tx: &Connection,
    company_id: &str,
    spec: &CompanySpec,
    members: &[&String],
    ids: &mut Ids,
    written: &mut BTreeSet<String>,
) {
    tx.execute(
        "INSERT INTO companies (id, name, domain, description, is_active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
        params![
            company_id,
            spec.name,
            spec.domain,
            spec.description,
            spec.created_at
        ],
    )
    .expect("insert a company");
    let person = |pick: &Option<Index>| pick.as_ref().map(|i| i.get(members).as_str());
    let mut fields = Vec::new();
    let mut names = BTreeSet::new();
    for field in &spec.fields {
        if !names.insert(field.name) {
            continue; // (company, name) is unique
        }
        let id = ids.next(0xf0);
        let options = if field.field_type == "picklist" {
            Some(Value::from(field.options.clone()).to_string())
        } else {
            field.other_options.as_ref().map(Value::to_string)
        };
        tx.execute(
            "INSERT INTO custom_fields (id, company_id, name, label, type, is_required, options,
                                        validation, display_order, is_active, created_at,
                                        updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                company_id,
                field.name,
                field.label,
                field.field_type,
                field.is_required,
                options,
                field.validation.as_ref().map(Value::to_string),
                field.display_order,
                field.is_active,
                field.created_at,
                field.updated_at
            ],
        )
        .expect("insert a custom field");
        written.insert(id.clone());
        fields.push((id, field));
    }
    for ticket in &spec.tickets {
        let id = ids.next(0xb0);
        let values: Map<String, Value> = fields
            .iter()
            .zip(&ticket.values)
            .filter_map(|((field_id, field), seed)| {
                seed.as_ref()
                    .map(|s| (field_id.clone(), s.value_for(field)))
            })
            .collect();
        tx.execute(
            "INSERT INTO tickets (id, company_id, title, description, status, priority, category,
                                  submitter_id, assigned_to_id, custom_field_values, created_at,
                                  updated_at, resolved_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                company_id,
                ticket.title,
                ticket.description,
                ticket.status,
                ticket.priority,
                ticket.category,
                person(&ticket.submitter),
                person(&ticket.assignee),
                Value::Object(values).to_string(),
                ticket.created_at,
                ticket.updated_at,
                ticket.resolved_at,
                ticket.closed_at
            ],
        )
        .expect("insert a ticket");
        written.insert(id.clone());
        let mut note_ids = Vec::new();
        for note in &ticket.notes {
            let note_id = ids.next(0xd0);
            tx.execute(
                "INSERT INTO ticket_notes (id, ticket_id, author_id, content, is_internal,
                                           is_email_generated, email_metadata, created_at,
                                           updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    note_id,
                    id,
                    person(&note.author),
                    note.content,
                    note.is_internal,
                    note.is_email_generated,
                    note.email_metadata.as_ref().map(Value::to_string),
                    note.created_at,
                    note.updated_at
                ],
            )
            .expect("insert a note");
            written.insert(note_id.clone());
            note_ids.push(note_id);
        }
        for entry in &ticket.history {
            let entry_id = ids.next(0xe0);
            tx.execute(
                "INSERT INTO ticket_history (id, ticket_id, user_id, action, field_name,
                                             old_value, new_value, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    entry_id,
                    id,
                    person(&entry.user),
                    entry.action,
                    entry.field_name,
                    entry.old_value,
                    entry.new_value,
                    entry.metadata.as_ref().map(Value::to_string),
                    entry.created_at
                ],
            )
            .expect("insert a history entry");
            written.insert(entry_id);
        }
        for attachment in &ticket.attachments {
            let attachment_id = ids.next(0xfa);
            let note_id = match &attachment.note {
                Some(pick) if !note_ids.is_empty() => Some(pick.get(&note_ids)),
                _ => None,
            };
            tx.execute(
                "INSERT INTO file_attachments (id, ticket_id, note_id, file_name, original_name,
                                               file_size, mime_type, uploaded_by_id, storage_key,
                                               created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    attachment_id,
                    id,
                    note_id,
                    attachment.file_name,
                    attachment.original_name,
                    attachment.file_size,
                    attachment.mime_type,
                    person(&attachment.uploader),
                    attachment.storage_key,
                    attachment.created_at
                ],
            )
            .expect("insert an attachment");
            written.insert(attachment_id);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running the tool

/// A case's files: its database and the archives it writes.
struct Case {
    dir: TempDir,
    db: PathBuf,
}

impl Case {
    fn new() -> Self {
        let dir = TempDir::new().expect("a temporary directory");
        let db = dir.path().join("world.db");
        Self { dir, db }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Exports `company` of `db` as `actor` to `out`; the archive, parsed.
fn export(db: &Path, company: &str, actor: &str, out: &Path) -> Archive {
    cmd(db)
        .args(["--company", company, "--actor", actor, "-q", "export", "-o"])
        .arg(out)
        .assert()
        .success();
    Archive::read(out)
}

/// Every byte of text an archive holds, its zip entries inflated.
fn archive_text(path: &Path) -> String {
    let bytes = fs::read(path).expect("read the archive");
    if bytes.starts_with(b"PK") {
        zip_entries(&bytes)
            .into_values()
            .map(|data| String::from_utf8(data).expect("UTF-8 entries"))
            .collect()
    } else {
        String::from_utf8(bytes).expect("a UTF-8 archive")
    }
}

// ---------------------------------------------------------------------------------------
// Tenant isolation

/// The rows an import into A must leave alone: B's own rows in every table, and every
/// user (`protected_users`) that is not A's alone. Each row rendered exactly.
fn rows_outside_a(
    conn: &Connection,
    protected_users: &[String],
) -> BTreeMap<&'static str, Vec<String>> {
    let of_b_tickets = "ticket_id IN (SELECT id FROM tickets WHERE company_id = ?1)";
    let mut rows = BTreeMap::new();
    for (table, condition) in [
        ("companies", "id = ?1"),
        ("user_company_associations", "company_id = ?1"),
        ("custom_fields", "company_id = ?1"),
        ("tickets", "company_id = ?1"),
        ("ticket_notes", of_b_tickets),
        ("ticket_history", of_b_tickets),
        ("file_attachments", of_b_tickets),
        ("data_export_logs", "company_id = ?1"),
        ("data_import_logs", "company_id = ?1"),
        ("bomizzel_backup_id_map", "company_id = ?1"),
    ] {
        rows.insert(
            table,
            rendered(
                conn,
                &format!("SELECT * FROM {table} WHERE {condition}"),
                [COMPANY_B],
            ),
        );
    }
    let mut users = Vec::new();
    for id in protected_users {
        users.extend(rendered(conn, "SELECT * FROM users WHERE id = ?1", [id]));
    }
    rows.insert("users", users);
    rows
}

/// The rows a query returns, each cell with its SQLite type, sorted.
fn rendered(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let columns = stmt.column_count();
    let mut rows: Vec<String> = stmt
        .query_map(params, |row| {
            (0..columns)
                .map(|i| row.get::<_, Sql>(i).map(|cell| format!("{cell:?}")))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|cells| cells.join(" | "))
        })
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.sort();
    rows
}

/// Users who are not members of A alone: B's, shared ones, and those of no company.
fn users_not_only_in_a(conn: &Connection) -> Vec<String> {
    strings(
        conn,
        "SELECT id FROM users u WHERE NOT EXISTS (
             SELECT 1 FROM user_company_associations a
             WHERE a.user_id = u.id AND a.company_id = ?1)
         OR EXISTS (
             SELECT 1 FROM user_company_associations a
             WHERE a.user_id = u.id AND a.company_id <> ?1)",
        [COMPANY_A],
    )
    .into_iter()
    .collect()
}

fn check_isolation(world: &World) {
    let case = Case::new();
    let written = write_world(world, &case.db);
    let b_zip = case.path("b.zip");
    export(&case.db, COMPANY_B, &written.admin_b, &b_zip);
    let a_zip = case.path("a.zip");
    let a_json = case.path("a.json");
    for path in [&a_zip, &a_json] {
        let archive = export(&case.db, COMPANY_A, &written.admin_a, path);
        let held = RecordIds::in_archive(&archive).all();
        let leaked: Vec<_> = held.intersection(&written.b_ids).collect();
        assert!(
            leaked.is_empty(),
            "A's archive holds B's records {leaked:?}"
        );
        // Nor anywhere else in its text: a key, a reference, a value.
        let text = archive_text(path).to_lowercase();
        for needle in written.b_ids.iter().chain(&written.b_only_emails) {
            assert!(
                !text.contains(needle.as_str()),
                "A's archive mentions B's {needle}"
            );
        }
        assert!(!text.contains(COMPANY_B), "A's archive names company B");
    }

    // Everyone's rows change after the archives were made, as they do before a restore:
    // an import that reached outside A would write the archives' older values back there.
    let conn = open_db(&case.db);
    conn.execute_batch(
        "UPDATE tickets SET title = title || ' (edited)', description = NULL;
         UPDATE ticket_notes SET content = 'edited', author_id = NULL;
         UPDATE ticket_history SET action = 'edited';
         UPDATE file_attachments SET file_name = 'edited', note_id = NULL;
         UPDATE custom_fields SET label = 'edited';",
    )
    .expect("edit every row");
    // The admins stay active admins, to run the imports.
    let others = "SELECT id FROM users WHERE email NOT IN (?1, ?2)";
    let admins = [&written.admin_a, &written.admin_b];
    conn.execute(
        &format!(
            "UPDATE users SET first_name = 'Edited', phone = NULL, is_active = 1 - is_active
             WHERE id IN ({others})"
        ),
        admins,
    )
    .expect("edit every user");
    conn.execute(
        &format!(
            "UPDATE user_company_associations SET role = 'member' WHERE user_id IN ({others})"
        ),
        admins,
    )
    .expect("edit every membership");
    let protected_users = users_not_only_in_a(&conn);
    let before = rows_outside_a(&conn, &protected_users);
    drop(conn);
    let import = |archive: &Path, policy: Option<&str>| {
        let output = cmd(&case.db)
            .args(["--company", COMPANY_A, "--actor", &written.admin_a])
            .args(["-q", "import"])
            .args(policy)
            .arg(archive)
            .output()
            .expect("run the import");
        // Without a policy, records that A already has are a conflict (exit 4).
        let allowed: &[i32] = if policy.is_some() { &[0] } else { &[0, 4] };
        assert!(
            output
                .status
                .code()
                .is_some_and(|code| allowed.contains(&code)),
            "{output:?}"
        );
        let after = rows_outside_a(&open_db(&case.db), &protected_users);
        for (table, rows) in &before {
            assert_eq!(
                rows,
                &after[table],
                "import of {} ({policy:?}) into A changed {table} outside A",
                archive.display()
            );
        }
    };
    import(&a_zip, Some("--skip-duplicates"));
    import(&a_json, Some("--overwrite"));
    // The overwrite did write: A's tickets have their archived titles again.
    assert_eq!(
        count(
            &open_db(&case.db),
            "SELECT count(*) FROM tickets WHERE company_id = ?1 AND title LIKE '% (edited)'",
            [COMPANY_A]
        ),
        0
    );
    // B's archive into A: copies of B's tickets under new ids (a conflict if a member of B
    // is one of A's too); then again, skipping or over the copies.
    import(&b_zip, None);
    import(&b_zip, Some("--skip-duplicates"));
    import(&b_zip, Some("--overwrite"));
}

// ---------------------------------------------------------------------------------------
// Lossless round trip

/// What must survive a round trip: the manifest but for what names the export itself, and
/// every section's records in order.
fn comparable(archive: &Archive) -> (Value, BTreeMap<String, Vec<Value>>) {
    let mut manifest = archive.manifest.clone();
    for key in ["exportId", "exportedAt"] {
        manifest
            .as_object_mut()
            .expect("a manifest object")
            .remove(key);
    }
    (manifest, archive.sections.clone())
}

fn check_round_trip(world: &World, company: &str) {
    let case = Case::new();
    let written = write_world(world, &case.db);
    let admin = if company == COMPANY_A {
        &written.admin_a
    } else {
        &written.admin_b
    };
    for container in ["zip", "json"] {
        let first_path = case.path(&format!("first.{container}"));
        let first = export(&case.db, company, admin, &first_path);
        let restored = case.path(&format!("restored-{container}.db"));
        empty_database(&restored);
        cmd(&restored)
            .args(["--actor", admin, "-q", "import", "--create-company"])
            .arg(&first_path)
            .assert()
            .success();
        let second = export(
            &restored,
            company,
            admin,
            &case.path(&format!("second.{container}")),
        );
        let (first_manifest, first_sections) = comparable(&first);
        let (second_manifest, second_sections) = comparable(&second);
        for (key, records) in &first_sections {
            let again = &second_sections[key];
            assert_eq!(records.len(), again.len(), "{container}: {key} count");
            for (before, after) in records.iter().zip(again) {
                assert_eq!(before, after, "{container}: a record of {key} changed");
            }
        }
        assert_eq!(first_sections, second_sections, "{container}: sections");
        assert_eq!(first_manifest, second_manifest, "{container}: manifest");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn company_a_never_sees_or_touches_company_b(world in world()) {
        check_isolation(&world);
    }

    #[test]
    fn export_import_export_loses_nothing(world in world(), of_b in any::<bool>()) {
        check_round_trip(&world, if of_b { COMPANY_B } else { COMPANY_A });
    }
}
