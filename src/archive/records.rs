//! The archive's record types: what one user, custom field, ticket or attachment looks like
//! in JSON (camelCase keys), and the manifest that describes an archive.
//!
//! The same types read files written by the Bomizzel web app, so keys that app may leave
//! out carry `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `format` value of archives the tool writes.
pub const FORMAT_NAME: &str = "bomizzel-export";
/// The newest archive format version the tool reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;

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

/// Ticket priority. The web app sometimes writes it as a number (0 low … 3 urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "PriorityText")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

/// A priority as either form the web app writes.
#[derive(Deserialize)]
#[serde(untagged)]
enum PriorityText {
    Name(String),
    Level(i64),
}

impl TryFrom<PriorityText> for Priority {
    type Error = String;

    fn try_from(value: PriorityText) -> Result<Self, Self::Error> {
        let parsed = match &value {
            PriorityText::Name(name) => Priority::parse(name),
            PriorityText::Level(0) => Some(Priority::Low),
            PriorityText::Level(1) => Some(Priority::Medium),
            PriorityText::Level(2) => Some(Priority::High),
            PriorityText::Level(3) => Some(Priority::Urgent),
            PriorityText::Level(_) => None,
        };
        parsed.ok_or_else(|| match value {
            PriorityText::Name(name) => {
                format!("unknown priority {name:?}, expected low, medium, high or urgent")
            }
            PriorityText::Level(n) => format!("unknown priority {n}, expected 0 to 3"),
        })
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

/// A reference to a person by email and name; the web app may write all three as null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
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
    pub role: UserRole,
    #[serde(default)]
    pub company_role: Option<CompanyRole>,
    pub is_active: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_verified: bool,
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
    #[serde(default)]
    pub is_required: bool,
    #[serde(default = "default_true")]
    pub is_active: bool,
    #[serde(default)]
    pub display_order: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketRecord {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: String,
    pub priority: Priority,
    #[serde(default)]
    pub category: Option<String>,
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
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub resolved_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRecord {
    pub id: String,
    pub content: String,
    #[serde(default)]
    pub is_internal: bool,
    #[serde(default)]
    pub is_email_generated: bool,
    #[serde(default)]
    pub email_metadata: Value,
    #[serde(default)]
    pub author: Option<PersonRef>,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    pub id: String,
    pub action: String,
    #[serde(default)]
    pub field_name: Option<String>,
    #[serde(default)]
    pub old_value: Option<String>,
    #[serde(default)]
    pub new_value: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub user: Option<PersonRef>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRecord {
    pub id: String,
    pub ticket_id: String,
    #[serde(default)]
    pub note_id: Option<String>,
    pub file_name: String,
    #[serde(default)]
    pub original_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub file_size: i64,
    #[serde(default)]
    pub file_type: Option<String>,
    #[serde(default)]
    pub file_path: Option<String>,
    #[serde(default)]
    pub uploaded_by: Option<PersonRef>,
    pub uploaded_at: String,
}

/// What an export included, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportOptionsInfo {
    pub include_users: bool,
    pub include_tickets: bool,
    pub include_attachments: bool,
    pub include_custom_fields: bool,
    #[serde(default)]
    pub date_from: Option<String>,
    #[serde(default)]
    pub date_to: Option<String>,
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
