//! The log's records: what a row of the export, import and prune logs holds in its JSON
//! column (`exported_data`, `imported_data`, `pruned_data`), key by key, written down once:
//! `ExportDetail`, `ImportDetail`, `PruneDetail`. The web app's History tab reads the export
//! and import rows, so a key keeps its name and the type of its value; new keys may come.
//!
//! The web app writes rows of its own, with its summary keys only, and older versions of the
//! tool wrote fewer keys: every key is optional when read, and reading never fails. A detail
//! that is not a JSON object reads as an empty one; a key whose value is not what the format
//! says reads as absent, and is kept, with the keys this version does not know, in `other`,
//! from which a row written back (prune marking an export) gets them as they were.
//!
//! Rows are stored with their keys in alphabetical order, as a `serde_json::Value` writes
//! them, whatever the order of the fields here.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::LogKind;
use crate::archive::envelope::Encryption;
use crate::archive::records::{Counts, ExportOptionsInfo, Section};

/// A log row's detail: its log, and the keys it does not know.
pub(crate) trait Detail: Serialize + DeserializeOwned + Default {
    /// The log whose rows it is.
    const KIND: LogKind;

    /// The keys this version does not know, and the values it could not read.
    fn other_mut(&mut self) -> &mut Map<String, Value>;
}

/// An export's row: the web app's summary counts, the archive written (or, for one that
/// failed, the error and the file it was meant for), and prune's marks.
///
/// `other` comes first so that, written back, a value the tool has set takes the place of
/// one under the same key that it could not read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ExportDetail {
    #[serde(flatten)]
    pub other: Map<String, Value>,

    // The web app's summary keys, which its History tab shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<u64>,

    // An export that finished: the tickets' notes and history entries, and the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<u64>,
    /// The archive, absolute and canonical; `-` for standard output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,

    // An export that did not: `failed` or `interrupted`, why, and where it was going. It
    // names no `file`, which prune and `import --export-id` would look for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,

    // Either: what was asked for.
    /// `zip` or `json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The sections by their archive keys (`customFields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<ExportOptionsInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Present only for an encrypted archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,

    // Prune's marks (see `Retention`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleting_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_id: Option<String>,
}

impl ExportDetail {
    /// How many records of a section it says the archive holds (the web app's summary key).
    pub(crate) fn count(&self, section: Section) -> Option<u64> {
        match section {
            Section::Users => self.users,
            Section::CustomFields => self.custom_fields,
            Section::Tickets => self.tickets,
            Section::Attachments => self.attachments,
        }
    }
}

impl Detail for ExportDetail {
    const KIND: LogKind = LogKind::Export;

    fn other_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.other
    }
}

/// An import's (or a validation's) row: the web app's summary keys, and the tool's detail
/// beside them.
///
/// `other` comes first for the reason `ExportDetail` gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ImportDetail {
    #[serde(flatten)]
    pub other: Map<String, Value>,

    // The web app's summary keys, which its History tab shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_imported: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_skipped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets_imported: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets_skipped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields_imported: Option<u64>,
    /// The web app's errors; the tool's conflicts, then the error that ended the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,

    // The tool's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict_count: Option<u64>,
    /// `ok`, `validated`, `failed`, `cancelled` or `interrupted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `strict`, `skip-duplicates` or `overwrite`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ArchiveSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_created: Option<bool>,
    /// Per kind of record (`users`, `customFields`, `notes`, …), how many of them each
    /// outcome (`created`, `updated`, `unchanged`, `skipped`, `linked`) had: the import
    /// report's `outcomes`. Older rows have no `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<BTreeMap<String, BTreeMap<String, u64>>>,
    /// Each warning with how many records it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_reset_required: Option<u64>,
    /// The error that ended the run; null for one that did not fail.
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Only a restore of chosen tickets has these two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_tickets: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_chosen: Option<Counts>,
}

impl Detail for ImportDetail {
    const KIND: LogKind = LogKind::Import;

    fn other_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.other
    }
}

/// What an import's archive said of itself (the import report's `source`): the keys read
/// back, the others (`file`, `layout`, `companyId`) kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ArchiveSource {
    #[serde(flatten)]
    pub other: Map<String, Value>,
    pub export_id: Option<String>,
    pub company_name: Option<String>,
    pub exported_at: Option<String>,
}

/// A prune's row: its policy, and the archives it found, deletes and deleted. While it
/// deletes (`status` `deleting`) it lists them under `deleting`; once done, under `deleted`
/// and `resumed`, with its `errors`. A prune interrupted in between is marked `interrupted`
/// and `resumedBy` the prune that finished it.
///
/// `rules` comes first to take its keys before `other` is filled, and `other` before the
/// fields for the reason `ExportDetail` gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PruneDetail {
    /// The policy's keys (`olderThan`, `keepLast`, `keepDaily`, …), beside the others.
    #[serde(flatten)]
    pub rules: Option<Rules>,
    #[serde(flatten)]
    pub other: Map<String, Value>,

    /// The folder the policy was limited to (`--dir`); null when it was not.
    pub dir: Option<String>,
    /// `deleting`, `ok`, `failed` or `interrupted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleting: Option<Vec<LoggedArchive>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Vec<LoggedArchive>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_deleted: Option<u64>,
    /// Those an interrupted prune had marked, which this one finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Vec<LoggedArchive>>,
    /// Recorded, but gone from disk already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<LoggedArchive>>,
    /// Changed since their export, so kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<LoggedArchive>>,
    /// How many the policy kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<u64>,
    /// Each file it could not delete, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_by: Option<String>,
}

impl Detail for PruneDetail {
    const KIND: LogKind = LogKind::Prune;

    fn other_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.other
    }
}

/// The policy as given, in prune's report and its row: `olderThan` (null when not given),
/// `keepLast` (the number in force), and the calendar rules (null when not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rules {
    pub older_than: Option<String>,
    pub keep_last: u64,
    #[serde(default)]
    pub keep_daily: Option<u64>,
    #[serde(default)]
    pub keep_weekly: Option<u64>,
    #[serde(default)]
    pub keep_monthly: Option<u64>,
    #[serde(default)]
    pub keep_yearly: Option<u64>,
}

/// An export's archive as a prune's row lists it (what its report says of it, less the
/// rules that keep it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct LoggedArchive {
    #[serde(flatten)]
    pub other: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// Reads a row's detail as `D`, whatever the row holds: see the module's comment. A value
/// that cannot be read is set aside under its key and the rest read again, so one odd value
/// costs only its own key.
pub(crate) fn read<D: Detail>(detail: &Value) -> D {
    let Value::Object(map) = detail else {
        return D::default();
    };
    let mut rest = Value::Object(map.clone());
    let mut set_aside = Map::new();
    loop {
        let err = match serde_path_to_error::deserialize::<_, D>(&rest) {
            Ok(mut read) => {
                read.other_mut().append(&mut set_aside);
                return read;
            }
            Err(err) => err,
        };
        let odd = match (err.path().iter().next(), &mut rest) {
            (Some(Segment::Map { key }), Value::Object(rest)) => rest.remove_entry(key),
            _ => None,
        };
        match odd {
            Some((key, value)) => {
                set_aside.insert(key, value);
            }
            // Not a key's fault (serde names one for every value it cannot read): nothing
            // is read, and everything kept.
            None => {
                let mut read = D::default();
                *read.other_mut() = map.clone();
                return read;
            }
        }
    }
}

/// A piece of a command's report (an import's status, its source, its outcomes) as a row
/// records it: the report's own JSON, read as the log's type, so that the words and keys
/// stay the report's. Fails only if the two types part ways.
pub(crate) fn recorded<T: Serialize + ?Sized, U: DeserializeOwned>(value: &T) -> Result<U> {
    Ok(serde_json::from_value(serde_json::to_value(value)?)?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn written<D: Detail>(detail: &D) -> Value {
        serde_json::to_value(detail).expect("a detail serializes")
    }

    /// Rows as the tool writes them, each read and written back as it was.
    #[test]
    fn the_tools_rows_read_and_write_back_unchanged() {
        let options = json!({"dateFrom": "2026-01-01", "dateTo": null, "includeAttachments": true,
            "includeCustomFields": true, "includeTickets": true, "includeUsers": false});
        let exports = [
            json!({"attachments": 3, "bytes": 3990, "customFields": 4, "file": "/b/acme.zip",
                "format": "zip", "history": 4, "notes": 5, "options": options,
                "sections": ["customFields", "tickets", "attachments"], "sha256": "ab12",
                "tickets": 6, "tool": "bomizzel-backup 0.1.0", "users": 5,
                "encryption": {"format": "age-encryption.org/v1", "passphrase": false,
                    "recipients": ["age1xyz"]},
                "deletingSince": "2026-02-01T00:00:00.000Z", "pruneId": "prune_1"}),
            json!({"error": "interrupted by SIGINT", "format": "json", "options": options,
                "sections": ["users"], "status": "interrupted", "target": "-",
                "tool": "bomizzel-backup 0.1.0"}),
        ];
        for row in exports {
            assert_eq!(written(&read::<ExportDetail>(&row)), row);
            assert!(read::<ExportDetail>(&row).other.is_empty(), "{row}");
        }
        let tally = json!({"created": 1, "linked": 0, "skipped": 2, "unchanged": 0, "updated": 0});
        let import = json!({"chosenTickets": ["t1"], "companyCreated": false, "conflictCount": 0,
            "customFieldsImported": 0, "error": null, "errors": [], "file": "/b/acme.zip",
            "notChosen": {"attachments": 0, "customFields": 1, "history": 0, "notes": 2,
                "tickets": 3, "users": 0},
            "outcomes": {"users": tally, "notes": tally}, "passwordResetRequired": 1,
            "policy": "skip-duplicates",
            "source": {"companyId": "c1", "companyName": "Acme", "exportId": "export_1",
                "exportedAt": "2026-01-01T00:00:00.000Z", "file": "/b/acme.zip", "layout": "zip"},
            "status": "ok", "ticketsImported": 1, "ticketsSkipped": 0, "tool": "bomizzel-backup",
            "usersImported": 1, "usersSkipped": 2, "warnings": {"odd": 3}});
        assert_eq!(written(&read::<ImportDetail>(&import)), import);
        let archive = json!({"bytes": 10, "exportId": "export_1", "exportedAt": "2026-01-01",
            "file": "/b/a.zip"});
        let prunes = [
            json!({"changed": [], "deleting": [archive], "dir": null, "keepDaily": null,
                "keepLast": 3, "keepMonthly": null, "keepWeekly": 2, "keepYearly": null,
                "kept": 4, "missing": [archive], "olderThan": "7d", "status": "deleting"}),
            json!({"bytesDeleted": 10, "changed": [], "deleted": [archive], "dir": "/b",
                "errors": ["/b/x.zip: denied"], "keepDaily": null, "keepLast": 0,
                "keepMonthly": null, "keepWeekly": null, "keepYearly": 1, "kept": 0,
                "missing": [], "olderThan": null, "resumed": [], "status": "failed"}),
        ];
        for row in prunes {
            let prune = read::<PruneDetail>(&row);
            assert!(prune.rules.is_some() && prune.other.is_empty(), "{row}");
            assert_eq!(written(&prune), row);
        }
    }

    #[test]
    fn the_web_apps_rows_read_as_their_summary_keys() {
        let export = json!({"users": 5, "tickets": 6, "attachments": 3, "customFields": 4});
        let read_export = read::<ExportDetail>(&export);
        assert_eq!(read_export.count(Section::CustomFields), Some(4));
        assert_eq!(read_export.file, None);
        assert_eq!(written(&read_export), export);
        let import = json!({"usersImported": 2, "usersSkipped": 1, "ticketsImported": 5,
            "ticketsSkipped": 0, "customFieldsImported": 1, "errors": []});
        let read_import = read::<ImportDetail>(&import);
        assert_eq!(read_import.users_imported, Some(2));
        assert_eq!(read_import.status, None);
    }

    /// A value of the wrong type costs only its key, which is kept, with the keys this
    /// version does not know, for the row written back.
    #[test]
    fn an_odd_value_reads_as_absent_and_is_kept() {
        let row = json!({"users": "five", "tickets": 6, "bytes": -1, "sections": ["users", 2],
            "encryption": "age", "newKey": {"a": [1]}, "sha256": "ab"});
        let odd = read::<ExportDetail>(&row);
        assert_eq!((odd.users, odd.tickets, odd.bytes), (None, Some(6), None));
        assert!(odd.sections.is_none() && odd.encryption.is_none());
        assert_eq!(odd.sha256.as_deref(), Some("ab"));
        let kept: Vec<&str> = odd.other.keys().map(String::as_str).collect();
        assert_eq!(kept, ["bytes", "encryption", "newKey", "sections", "users"]);
        assert_eq!(written(&odd), row);

        // A value the tool sets takes the place of the one it could not read.
        let mut marked = read::<ExportDetail>(&json!({"file": "/b/a.zip", "prunedAt": 5}));
        marked.pruned_at = Some("2026-01-01".into());
        assert_eq!(
            written(&marked),
            json!({"file": "/b/a.zip", "prunedAt": "2026-01-01"})
        );

        // An archive listed by its export id alone is read as far as it goes.
        let partial = json!({"deleting": [{"exportId": "export_1"}], "dir": null});
        let prune = read::<PruneDetail>(&partial);
        let listed = prune.deleting.as_deref().unwrap_or_default();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].export_id.as_deref(), Some("export_1"));
        assert_eq!(written(&prune), partial);

        let odd_policy = json!({"keepLast": "three", "olderThan": "7d", "status": "ok"});
        let policy = read::<PruneDetail>(&odd_policy);
        assert_eq!((policy.rules, policy.status.as_deref()), (None, Some("ok")));
    }

    #[test]
    fn a_detail_that_is_not_an_object_reads_as_an_empty_one() {
        for odd in [
            json!("not json at all"),
            Value::Null,
            json!([1, 2]),
            json!(7),
        ] {
            assert_eq!(read::<ExportDetail>(&odd), ExportDetail::default());
            assert_eq!(read::<ImportDetail>(&odd), ImportDetail::default());
            assert_eq!(read::<PruneDetail>(&odd), PruneDetail::default());
        }
    }

    #[test]
    fn a_reports_words_are_recorded_as_it_writes_them() {
        #[derive(Serialize)]
        #[serde(rename_all = "kebab-case")]
        enum Policy {
            SkipDuplicates,
        }
        let word: String = recorded(&Policy::SkipDuplicates).expect("a word");
        assert_eq!(word, "skip-duplicates");
        assert!(recorded::<_, u64>(&Policy::SkipDuplicates).is_err());
    }

    /// Any value but null: scalars of every type, and arrays of them.
    fn values() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            "[a-z0-9 -]{0,8}".prop_map(Value::from),
        ];
        prop_oneof![
            3 => scalar.clone(),
            1 => prop::collection::vec(scalar, 0..3).prop_map(Value::from),
        ]
    }

    /// Objects with the format's keys and others, holding anything.
    fn rows() -> impl Strategy<Value = Map<String, Value>> {
        let keys = prop::sample::select(vec![
            "users",
            "tickets",
            "customFields",
            "file",
            "bytes",
            "sha256",
            "status",
            "error",
            "sections",
            "options",
            "encryption",
            "prunedAt",
            "pruneId",
            "errors",
            "outcomes",
            "warnings",
            "source",
            "companyCreated",
            "notChosen",
            "chosenTickets",
            "unknown",
        ]);
        prop::collection::btree_map(keys.prop_map(str::to_owned), values(), 0..8)
            .prop_map(|map| map.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_row_reads_and_writes_back_as_it_was(row in rows()) {
            // serde reads a struct from an array too, by position: an array where `options`
            // or `encryption` belongs is read as its fields (or its defaults), not kept.
            let positional = |key| row.get(key).is_some_and(Value::is_array);
            prop_assume!(!positional("options") && !positional("encryption"));
            let export = Value::Object(row.clone());
            prop_assert_eq!(written(&read::<ExportDetail>(&export)), export);
            // An import's row always names its error: null for none, or for one not text.
            let mut import = row;
            let error = import.get("error").filter(|e| e.is_string()).cloned();
            import.insert("error".into(), error.unwrap_or(Value::Null));
            let import = Value::Object(import);
            prop_assert_eq!(written(&read::<ImportDetail>(&import)), import);
        }
    }
}
