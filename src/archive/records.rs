//! The archive's record types: what one user, custom field, ticket or attachment looks like
//! in JSON (camelCase keys), and the manifest that describes an archive.
//!
//! The same types read files written by the Bomizzel web app, so keys that app may leave
//! out carry `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::shortened;

/// The `format` value of archives the tool writes.
pub const FORMAT_NAME: &str = "bomizzel-export";
/// The newest archive format version the tool reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;

/// The zip entry that describes the archive.
pub const MANIFEST_ENTRY: &str = "manifest.json";

/// The sections an archive may hold, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Section {
    Users,
    CustomFields,
    Tickets,
    Attachments,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Users,
        Section::CustomFields,
        Section::Tickets,
        Section::Attachments,
    ];

    /// The entry name in a zip archive.
    pub fn entry_name(self) -> &'static str {
        match self {
            Section::Users => "users.json",
            Section::CustomFields => "custom_fields.json",
            Section::Tickets => "tickets.json",
            Section::Attachments => "attachments.json",
        }
    }

    /// The key under `data` in a json archive.
    pub fn json_key(self) -> &'static str {
        match self {
            Section::Users => "users",
            Section::CustomFields => "customFields",
            Section::Tickets => "tickets",
            Section::Attachments => "attachments",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Customer,
    Employee,
    TeamLead,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyRole {
    Member,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Decimal,
    Integer,
    Picklist,
}

/// Ticket priority. The web app writes it on its own 0-100 scale, or not at all (see
/// `Lenient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

/// Where the web app's words for a value differ from the tool's, what the tool made of them.
/// Each becomes a counted warning in the import's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adjustment {
    /// A priority on the web app's 0-100 scale.
    PriorityScale,
    /// A null or missing priority.
    PriorityMissing,
    /// The user role `user`, which the web app's own importer writes.
    UserRoleUser,
    /// The membership role `owner`, which the web app gives a company's creator.
    OwnerRole,
}

impl Adjustment {
    pub const ALL: [Adjustment; 4] = [
        Adjustment::PriorityScale,
        Adjustment::PriorityMissing,
        Adjustment::UserRoleUser,
        Adjustment::OwnerRole,
    ];

    /// The warning that counts the records so read.
    pub fn warning(self) -> &'static str {
        match self {
            Adjustment::PriorityScale => {
                "ticket priority on the web app's 0-100 scale: 80 and above taken as high, 60-79 as medium, below 60 as low"
            }
            Adjustment::PriorityMissing => {
                "ticket without a priority: taken as medium, the web app's default"
            }
            Adjustment::UserRoleUser => {
                "user role \"user\" (written by the web app's importer): taken as customer"
            }
            Adjustment::OwnerRole => {
                "company role \"owner\" (the company's creator): imported as an admin membership"
            }
        }
    }
}

/// A value as an archive wrote it, in the tool's words or the web app's: `value` is what the
/// tool reads it as, `adjusted` says when that took a translation. Written as `value` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lenient<T> {
    pub value: T,
    pub adjusted: Option<Adjustment>,
}

impl<T> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Lenient {
            value,
            adjusted: None,
        }
    }
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// A scalar as JSON has it, for the types whose web-app forms are numbers or null.
pub enum Scalar<'a> {
    Text(&'a str),
    Number(f64),
    Null,
}

/// How a type reads the web app's forms of its values.
pub trait WebAppWords: Sized {
    /// What the value means, or why it means nothing (for the problem report).
    fn read(scalar: Scalar<'_>) -> Result<Lenient<Self>, String>;
}

impl WebAppWords for Priority {
    fn read(scalar: Scalar<'_>) -> Result<Lenient<Self>, String> {
        match scalar {
            Scalar::Text(name) => Priority::parse(name).map(Lenient::from).ok_or_else(|| {
                format!("unknown priority {name:?}, expected low, medium, high or urgent (or the web app's 0 to 100)")
            }),
            Scalar::Number(level) if (0.0..=100.0).contains(&level) => {
                let value = match level {
                    l if l >= 80.0 => Priority::High,
                    l if l >= 60.0 => Priority::Medium,
                    _ => Priority::Low,
                };
                Ok(Lenient {
                    value,
                    adjusted: Some(Adjustment::PriorityScale),
                })
            }
            Scalar::Number(level) => Err(format!(
                "priority {level} is outside the web app's scale of 0 to 100"
            )),
            Scalar::Null => Ok(Lenient {
                value: Priority::Medium,
                adjusted: Some(Adjustment::PriorityMissing),
            }),
        }
    }
}

impl WebAppWords for UserRole {
    fn read(scalar: Scalar<'_>) -> Result<Lenient<Self>, String> {
        match scalar {
            Scalar::Text("user") => Ok(Lenient {
                value: UserRole::Customer,
                adjusted: Some(Adjustment::UserRoleUser),
            }),
            Scalar::Text(name) => UserRole::parse(name).map(Lenient::from).ok_or_else(|| {
                format!("unknown role {name:?}, expected customer, employee, team_lead or admin")
            }),
            _ => Err("expected a role such as \"customer\"".into()),
        }
    }
}

impl WebAppWords for CompanyRole {
    fn read(scalar: Scalar<'_>) -> Result<Lenient<Self>, String> {
        match scalar {
            Scalar::Text("owner") => Ok(Lenient {
                value: CompanyRole::Admin,
                adjusted: Some(Adjustment::OwnerRole),
            }),
            Scalar::Text(name) => CompanyRole::parse(name).map(Lenient::from).ok_or_else(|| {
                format!("unknown company role {name:?}, expected member or admin (or owner)")
            }),
            _ => Err("expected a company role such as \"member\"".into()),
        }
    }
}

impl<'de, T: WebAppWords> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<T: WebAppWords> serde::de::Visitor<'_> for Visit<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, a number or null")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                T::read(Scalar::Text(text)).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
                T::read(Scalar::Number(n as f64)).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
                T::read(Scalar::Number(n as f64)).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
                T::read(Scalar::Number(n)).map_err(E::custom)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                T::read(Scalar::Null).map_err(E::custom)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                T::read(Scalar::Null).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// A priority key the web app left out reads as its null: medium, adjusted.
fn missing_priority() -> Lenient<Priority> {
    Lenient {
        value: Priority::Medium,
        adjusted: Some(Adjustment::PriorityMissing),
    }
}

/// Reads `null` as the type's default: the web app writes `null` for empty lists and maps.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Names the enum values as the database stores them.
macro_rules! db_text {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(<$ty>::$variant),)+ _ => None }
            }
        }
    };
}
db_text!(UserRole { Customer => "customer", Employee => "employee", TeamLead => "team_lead", Admin => "admin" });
db_text!(CompanyRole { Member => "member", Admin => "admin" });
db_text!(FieldType { String => "string", Number => "number", Decimal => "decimal", Integer => "integer", Picklist => "picklist" });
db_text!(Priority { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" });

/// A record's text: kept inline up to 24 bytes (a timestamp, a name, a status: most of a
/// ticket's, note's or history entry's fields), so that reading a record allocates for its
/// ids and long texts alone.
pub type Text = compact_str::CompactString;

/// A reference to a person by email and name; the web app may write all three as null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    #[serde(default)]
    pub email: Option<Text>,
    #[serde(default)]
    pub first_name: Option<Text>,
    #[serde(default)]
    pub last_name: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub role: Lenient<UserRole>,
    #[serde(default)]
    pub company_role: Option<Lenient<CompanyRole>>,
    /// `None` where the web app wrote null (see `NullFlag`).
    #[serde(default = "some_true")]
    pub is_active: Option<bool>,
    #[serde(default = "some_false")]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub preferences: Value,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub field_type: Option<FieldType>,
    #[serde(default)]
    pub options: Value,
    #[serde(default)]
    pub validation: Value,
    #[serde(default = "some_false")]
    pub is_required: Option<bool>,
    #[serde(default = "some_true")]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub display_order: Option<i64>,
    pub created_at: String,
    /// The web app writes none: the field's `createdAt` stands in.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A flag that the web app may write as null: the column's default stands in, with a
/// warning that counts the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullFlag {
    UserActive,
    UserEmailVerified,
    FieldRequired,
    FieldActive,
    NoteInternal,
}

impl NullFlag {
    pub const ALL: [NullFlag; 5] = [
        NullFlag::UserActive,
        NullFlag::UserEmailVerified,
        NullFlag::FieldRequired,
        NullFlag::FieldActive,
        NullFlag::NoteInternal,
    ];

    /// The column's default, which a null reads as.
    pub fn default_value(self) -> bool {
        matches!(self, NullFlag::UserActive | NullFlag::FieldActive)
    }

    /// The flag's value, or its default when the archive has null.
    pub fn read(self, flag: Option<bool>) -> bool {
        flag.unwrap_or(self.default_value())
    }

    pub fn warning(self) -> &'static str {
        match self {
            NullFlag::UserActive => "user isActive null: taken as active",
            NullFlag::UserEmailVerified => "user emailVerified null: taken as not verified",
            NullFlag::FieldRequired => "custom field isRequired null: taken as not required",
            NullFlag::FieldActive => "custom field isActive null: taken as active",
            NullFlag::NoteInternal => "note isInternal null: taken as not internal",
        }
    }
}

fn some_true() -> Option<bool> {
    Some(true)
}

fn some_false() -> Option<bool> {
    Some(false)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketRecord {
    pub id: Text,
    pub title: Text,
    #[serde(default)]
    pub description: Option<Text>,
    pub status: Text,
    #[serde(default = "missing_priority")]
    pub priority: Lenient<Priority>,
    #[serde(default)]
    pub category: Option<Text>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Map<String, Value>,
    #[serde(default)]
    pub created_by: Option<PersonRef>,
    #[serde(default)]
    pub assigned_to: Option<PersonRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub notes: Vec<NoteRecord>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub history: Vec<HistoryRecord>,
    pub created_at: Text,
    pub updated_at: Text,
    #[serde(default)]
    pub resolved_at: Option<Text>,
    #[serde(default)]
    pub closed_at: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRecord {
    pub id: Text,
    pub content: Text,
    #[serde(default = "some_false")]
    pub is_internal: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_email_generated: bool,
    #[serde(default)]
    pub email_metadata: Value,
    #[serde(default)]
    pub author: Option<PersonRef>,
    pub created_at: Text,
    #[serde(default)]
    pub updated_at: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    pub id: Text,
    pub action: Text,
    #[serde(default)]
    pub field_name: Option<Text>,
    #[serde(default)]
    pub old_value: Option<Text>,
    #[serde(default)]
    pub new_value: Option<Text>,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub user: Option<PersonRef>,
    pub created_at: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRecord {
    pub id: Text,
    pub ticket_id: Text,
    #[serde(default)]
    pub note_id: Option<Text>,
    pub file_name: Text,
    #[serde(default)]
    pub original_name: Option<Text>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub file_size: i64,
    #[serde(default)]
    pub file_type: Option<Text>,
    #[serde(default)]
    pub file_path: Option<Text>,
    #[serde(default)]
    pub uploaded_by: Option<PersonRef>,
    pub uploaded_at: Text,
}

/// What an export included, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportOptionsInfo {
    #[serde(default = "default_true")]
    pub include_users: bool,
    #[serde(default = "default_true")]
    pub include_tickets: bool,
    #[serde(default = "default_true")]
    pub include_attachments: bool,
    #[serde(default = "default_true")]
    pub include_custom_fields: bool,
    #[serde(default)]
    pub date_from: Option<String>,
    #[serde(default)]
    pub date_to: Option<String>,
}

fn default_true() -> bool {
    true
}

/// The company row, so `--create-company` restores it as it was. Archives written before it
/// was added, and the web app's files, name the company by `companyId` and `companyName` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_true")]
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// How many records of each kind an archive holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub users: u64,
    pub custom_fields: u64,
    pub tickets: u64,
    pub notes: u64,
    pub history: u64,
    pub attachments: u64,
}

/// `5 users, 4 custom fields, 6 tickets (5 notes, 4 history entries), 3 attachments`: the
/// words every report uses for them.
impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}, {}, {} ({}, {}), {}",
            count(self.users, "user", "users"),
            count(self.custom_fields, "custom field", "custom fields"),
            count(self.tickets, "ticket", "tickets"),
            count(self.notes, "note", "notes"),
            count(self.history, "history entry", "history entries"),
            count(self.attachments, "attachment", "attachments"),
        )
    }
}

/// Length and SHA-256 of one zip entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDigest {
    pub bytes: u64,
    pub sha256: String,
}

/// The zip's `manifest.json`, and the json container's `exportInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    pub export_id: String,
    pub company_id: String,
    pub company_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<CompanyRecord>,
    pub exported_by: String,
    #[serde(default)]
    pub exported_by_email: Option<String>,
    pub exported_at: String,
    pub options: ExportOptionsInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<BTreeMap<String, EntryDigest>>,
}

impl Manifest {
    /// Which program wrote the archive: the tool always names its format, the web app never.
    pub(crate) fn origin(&self) -> Origin {
        match self.format {
            Some(_) => Origin::Tool,
            None => Origin::WebApp,
        }
    }
}

/// The program that wrote an archive. They differ in what a missing value means: the tool
/// writes a null person or originalName only for one that is null in the database, the web
/// app for one it could not name or did not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Tool,
    WebApp,
}

/// A custom field definition as far as value checks need it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    field_type: FieldType,
    options: Vec<String>,
}

impl FieldRule {
    /// The rule of a field of this type; a picklist's options are its array of strings
    /// (`None` when `options` is not one).
    pub fn new(field_type: FieldType, options: &Value) -> Option<FieldRule> {
        let options = match (field_type, options.as_array()) {
            (FieldType::Picklist, Some(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            (FieldType::Picklist, _) => return None,
            _ => Vec::new(),
        };
        Some(FieldRule {
            field_type,
            options,
        })
    }

    /// The rule of a field as the database stores it (its type as text); `None` for a type
    /// the archive format does not know, or a picklist without options.
    pub fn stored(field_type: &str, options: &Value) -> Option<FieldRule> {
        FieldType::parse(field_type).and_then(|t| FieldRule::new(t, options))
    }

    /// Checks a value against the rule; `null` clears a field and is fine.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        if value.is_null() {
            return Ok(());
        }
        let fits = match self.field_type {
            FieldType::String => value.is_string(),
            FieldType::Integer => value.is_i64() || value.is_u64(),
            FieldType::Number | FieldType::Decimal => value.is_number(),
            FieldType::Picklist => match value.as_str() {
                Some(choice) if self.options.iter().any(|o| o == choice) => true,
                Some(choice) => {
                    return Err(format!(
                        "{:?} is not one of the picklist options ({})",
                        shortened(choice),
                        self.options.join(", ")
                    ));
                }
                None => false,
            },
        };
        if fits {
            Ok(())
        } else {
            Err(format!(
                "expected {}, got {}",
                self.field_type.as_str(),
                shortened(&value.to_string())
            ))
        }
    }
}
