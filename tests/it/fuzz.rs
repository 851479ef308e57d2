//! Fuzzing the archive reader and validator in process, as `import --validate-only` runs
//! them without a database: good archives of every layout (the tool's zip and json, the web
//! app's json and zip), damaged byte by byte (flips, cuts, insertions, removals, copies) or
//! record by record (random JSON values put in random places, keys removed). Every case
//! must end, quickly, in success or an invalid-archive error (exit status 3): never a
//! panic, a hang, or another kind of failure.
//!
//! `PROPTEST_CASES` sets the number of cases per test (default 500, a few seconds in a
//! debug build); run it long with
//! `PROPTEST_CASES=20000 cargo test --release --test it fuzz::`.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bomizzel_backup::archive::envelope::Keys;
use bomizzel_backup::archive::reader::Input;
use bomizzel_backup::error::{Class, classify};
use bomizzel_backup::validate_archive;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

use support::*;

/// Cases per test unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 500;

/// How long one small archive may take to read and validate, even in a debug build.
const CASE_LIMIT: Duration = Duration::from_secs(5);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: proptest_cases(DEFAULT_CASES),
        // Findings become named regression tests below, not files beside this one.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The good archives the cases start from

/// One layout an archive can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    ToolZip,
    ToolJson,
    WebAppJson,
    WebAppZip,
}

const LAYOUTS: [Layout; 4] = [
    Layout::ToolZip,
    Layout::ToolJson,
    Layout::WebAppJson,
    Layout::WebAppZip,
];

/// A good archive: its bytes, and its contents to edit and write again.
struct Seed {
    bytes: Vec<u8>,
    archive: Archive,
}

fn seeds() -> &'static [Seed; 4] {
    static SEEDS: OnceLock<[Seed; 4]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let demo = Demo::new();
        let export = |name: &str| fs::read(demo.export_acme(name)).unwrap();
        let fixture = |name: &str| {
            fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/archives")
                    .join(name),
            )
            .unwrap()
        };
        let (zip, json) = (export("acme.zip"), export("acme.json"));
        let (web_json, web_zip) = (
            fixture("webapp/webapp-full.json"),
            fixture("webapp/webapp-full.zip"),
        );
        let inner = zip_entries(&web_zip).into_values().next().unwrap();
        [
            Seed {
                archive: Archive::from_zip(&zip),
                bytes: zip,
            },
            Seed {
                archive: Archive::from_json(&json),
                bytes: json,
            },
            Seed {
                archive: Archive::from_json(&web_json),
                bytes: web_json,
            },
            Seed {
                archive: Archive::from_json(&inner),
                bytes: web_zip,
            },
        ]
    })
}

fn seed(layout: Layout) -> &'static Seed {
    &seeds()[LAYOUTS.iter().position(|l| *l == layout).unwrap()]
}

/// The zip entry of each json section key.
fn entry_name(key: &str) -> String {
    match key {
        "users" => "users.json".into(),
        "customFields" => "custom_fields.json".into(),
        "tickets" => "tickets.json".into(),
        "attachments" => "attachments.json".into(),
        other => format!("{other}.json"),
    }
}

/// Writes an archive's contents in `layout`. The tool's zip gets true digests in its
/// manifest (when the manifest still has room for them), so an edit reaches the validator.
fn write(layout: Layout, manifest: &Value, sections: &Map<String, Value>) -> Vec<u8> {
    let document =
        || serde_json::to_vec(&json!({"exportInfo": manifest, "data": sections})).unwrap();
    match layout {
        Layout::ToolJson | Layout::WebAppJson => document(),
        Layout::WebAppZip => build_zip(&[("Acme_Corp_export_1764082800000.json", &document())]),
        Layout::ToolZip => {
            let mut entries: std::collections::BTreeMap<String, Vec<u8>> = sections
                .iter()
                .map(|(key, records)| (entry_name(key), serde_json::to_vec(records).unwrap()))
                .collect();
            let mut manifest = manifest.clone();
            if let Some(digests) = manifest.get_mut("entries").and_then(Value::as_object_mut) {
                for (name, data) in &entries {
                    digests.insert(
                        name.clone(),
                        json!({"bytes": data.len(), "sha256": sha256_hex(data)}),
                    );
                }
            }
            entries.insert(
                "manifest.json".into(),
                serde_json::to_vec(&manifest).unwrap(),
            );
            zip_in_order(&entries)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Damage

/// One change to an archive's bytes; positions are taken modulo the length.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    /// Copies a run of the file's own bytes elsewhere (a repeated header, a doubled record).
    Copy(Index, usize, Index),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let interesting = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..16),
        Just(b"PK\x03\x04".to_vec()),
        Just(b"PK\x05\x06".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"[[[[[[[[".to_vec()),
        Just(b"\"\\".to_vec()),
        Just(b",".to_vec()),
        Just(b"}".to_vec()),
        Just(b"\xff\xfe".to_vec()),
    ];
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip(at, 1 << bit)),
        1 => any::<Index>().prop_map(ByteEdit::Truncate),
        2 => (any::<Index>(), interesting).prop_map(|(at, bytes)| ByteEdit::Insert(at, bytes)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| ByteEdit::Remove(at, len)),
        1 => (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(from, len, to)| ByteEdit::Copy(from, len, to)),
    ]
}

fn apply_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match edit {
        ByteEdit::Flip(at, mask) => bytes[at.index(len)] ^= mask,
        ByteEdit::Truncate(at) => bytes.truncate(at.index(len)),
        ByteEdit::Insert(at, data) => {
            let at = at.index(len + 1);
            bytes.splice(at..at, data.iter().copied());
        }
        ByteEdit::Remove(at, n) => {
            let at = at.index(len);
            bytes.drain(at..(at + n).min(len));
        }
        ByteEdit::Copy(from, n, to) => {
            let from = from.index(len);
            let run = bytes[from..(from + n).min(len)].to_vec();
            let to = to.index(len + 1);
            bytes.splice(to..to, run);
        }
    }
}

/// One change to an archive's records: the value at a random place replaced (or removed).
#[derive(Debug, Clone)]
struct RecordEdit {
    /// Choices down the tree: which section (or the manifest), record, key, element…
    path: Vec<Index>,
    /// The new value; `None` removes the key or element.
    value: Option<Value>,
}

/// JSON values likely to upset a reader: wrong types, edge numbers, odd strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(u32::MAX as u64 + 1)),
        Just(json!(2)),
        "\\PC{0,24}".prop_map(Value::from),
        Just(json!("")),
        Just(json!("2026-13-45T25:61:61Z")),
        Just(json!("2026-11-25T14:30:00.000Z")),
        Just(json!("ADA@acme.example")),
        Just(json!("not-an-email")),
        Just(json!("urgent")),
        Just(json!("picklist")),
        Just(json!("c0000000-0000-4000-8000-000000000001")),
        Just(json!("b0000000-0000-4000-8000-000000000001")),
        Just(json!("\u{0}\u{202e}\u{1F600}")),
        Just(json!("admin\nbomizzel-backup: all is well\r")),
        Just(nested(130)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Arrays inside arrays, `depth` deep: past serde_json's nesting limit at 128.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!([]), |inner, _| json!([inner]))
}

fn record_edit() -> impl Strategy<Value = RecordEdit> {
    (
        prop::collection::vec(any::<Index>(), 1..6),
        prop::option::weighted(0.9, json_value()),
    )
        .prop_map(|(path, value)| RecordEdit { path, value })
}

/// Applies an edit to the manifest (first choice 0) or a section's records.
fn apply_record_edit(manifest: &mut Value, sections: &mut Map<String, Value>, edit: &RecordEdit) {
    let keys: Vec<String> = sections.keys().cloned().collect();
    let first = edit.path[0].index(keys.len() + 1);
    let root = if first == 0 {
        manifest
    } else {
        sections.get_mut(&keys[first - 1]).unwrap()
    };
    replace_at(root, &edit.path[1..], edit.value.clone());
}

/// Follows `path` down from `value` as far as it goes and replaces (or removes) what it
/// reaches; an empty path replaces `value` itself.
fn replace_at(value: &mut Value, path: &[Index], new: Option<Value>) {
    let Some((choice, rest)) = path.split_first() else {
        *value = new.unwrap_or(Value::Null);
        return;
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(choice.index(map.len())).unwrap().clone();
            if rest.is_empty() && new.is_none() {
                map.remove(&key);
            } else {
                replace_at(map.get_mut(&key).unwrap(), rest, new);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let at = choice.index(items.len());
            if rest.is_empty() && new.is_none() {
                items.remove(at);
            } else {
                replace_at(&mut items[at], rest, new);
            }
        }
        _ => *value = new.unwrap_or(Value::Null),
    }
}

// ---------------------------------------------------------------------------------------
// The property

/// A file of its own for each case, in one directory per test thread.
fn case_file() -> PathBuf {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
    }
    DIR.with(|dir| dir.path().join("case"))
}

/// Validates `bytes` as a file: success, or an invalid archive (exit status 3), in time.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = case_file();
    fs::write(&path, bytes).unwrap();
    let started = Instant::now();
    let outcome = validate_archive(&Input::File(path), &Keys::default());
    let took = started.elapsed();
    prop_assert!(took < CASE_LIMIT, "took {took:?}");
    if let Err(err) = outcome {
        prop_assert_eq!(
            classify(&err),
            Class::InvalidArchive,
            "not an invalid-archive error: {:#}",
            err
        );
        let message = format!("{err:#}");
        prop_assert!(message.starts_with("Invalid import data: "), "{}", message);
        // The error is printed as one line, whatever the archive's strings hold.
        prop_assert!(!message.contains(['\n', '\r']), "{}", message);
    }
    Ok(())
}

fn layout() -> impl Strategy<Value = Layout> {
    prop::sample::select(LAYOUTS.to_vec())
}

proptest! {
    #![proptest_config(config())]

    /// Byte-level damage to the files as they are.
    #[test]
    fn damaged_bytes_are_read_or_refused(
        layout in layout(),
        edits in prop::collection::vec(byte_edit(), 1..4),
    ) {
        let mut bytes = seed(layout).bytes.clone();
        for edit in &edits {
            apply_bytes(&mut bytes, edit);
        }
        check(&bytes)?;
    }

    /// Random values in random places of the records and the manifest, the file rewritten
    /// whole (and, for the tool's zip, with true checksums), then maybe a byte damaged.
    #[test]
    fn damaged_records_are_read_or_refused(
        layout in layout(),
        edits in prop::collection::vec(record_edit(), 1..4),
        bytes_too in prop::option::weighted(0.2, byte_edit()),
    ) {
        let seed = seed(layout);
        let mut manifest = seed.archive.manifest.clone();
        let mut sections: Map<String, Value> = seed
            .archive
            .sections
            .iter()
            .map(|(key, records)| (key.clone(), Value::Array(records.clone())))
            .collect();
        for edit in &edits {
            apply_record_edit(&mut manifest, &mut sections, edit);
        }
        let mut bytes = write(layout, &manifest, &sections);
        if let Some(edit) = &bytes_too {
            apply_bytes(&mut bytes, edit);
        }
        check(&bytes)?;
    }
}

/// The seeds themselves are valid: the cases start from archives that pass.
#[test]
fn every_seed_is_a_valid_archive() {
    for layout in LAYOUTS {
        let path = case_file();
        fs::write(&path, &seed(layout).bytes).unwrap();
        validate_archive(&Input::File(path), &Keys::default())
            .unwrap_or_else(|e| panic!("{layout:?}: {e:#}"));
        let seed = seed(layout);
        let sections = seed
            .archive
            .sections
            .iter()
            .map(|(key, records)| (key.clone(), Value::Array(records.clone())))
            .collect();
        let rewritten = write(layout, &seed.archive.manifest, &sections);
        fs::write(case_file(), rewritten).unwrap();
        validate_archive(&Input::File(case_file()), &Keys::default())
            .unwrap_or_else(|e| panic!("{layout:?} rewritten: {e:#}"));
    }
}
