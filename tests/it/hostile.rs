//! Hostile and broken archives: every one is refused with exit status 3 and a message that
//! names the problem, quickly and in bounded memory, leaving the database as it was (one
//! `failed` import log row aside); `import --validate-only` without a database refuses it
//! the same way.
//!
//! The files are built here from the demo's own exports, so each differs from a good
//! archive by exactly the damage under test.

use crate::support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::*;

/// How long one run of the binary may take on a hostile file. Every case here takes well
/// under a second alone; the margin is for a debug build on a busy two-core machine
/// running the other tests at the same time. A hang never ends.
const TIME_LIMIT: Duration = Duration::from_secs(10);

/// Peak resident memory allowed to a run that meets a 100 MB string. Holding that string
/// (let alone copying it once) needs more than this.
const MEMORY_LIMIT_KIB: u64 = 90 * 1024;

// ---------------------------------------------------------------------------------------
// Running the binary on a hostile file

/// Runs `cmd`, expecting exit status 3 within the time limit; returns its stderr.
fn exits_3(cmd: &mut assert_cmd::Command, what: &str) -> String {
    let started = Instant::now();
    let output = cmd.output().expect("run the binary");
    let took = started.elapsed();
    let stderr = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{what}: expected exit status 3\nstderr: {stderr}"
    );
    assert!(took < TIME_LIMIT, "{what}: took {took:?}\nstderr: {stderr}");
    assert!(
        stderr.starts_with("bomizzel-backup: Invalid import data: ") && stderr.lines().count() == 1,
        "{what}: not one error line: {stderr}"
    );
    stderr
}

/// The import log rows' statuses.
fn import_statuses(demo: &Demo) -> Vec<String> {
    strings(
        &demo.conn(),
        "SELECT json_extract(imported_data, '$.status') || ' ' || import_id FROM data_import_logs",
        [],
    )
    .into_iter()
    .collect()
}

/// The file must be refused, naming every needle, by an import into Acme (which must leave
/// every table as it was, but for one `failed` log row) and by `--validate-only` without a
/// database (which must create none).
fn assert_refused(demo: &Demo, file: &Path, needles: &[&str]) {
    let conn = demo.conn();
    let before = table_rows(&conn);
    let what = format!("import {}", file.display());
    let stderr = exits_3(
        demo.acme().args(["import", "--skip-duplicates"]).arg(file),
        &what,
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{what}: no {needle:?} in {stderr}");
    }
    let mut after = table_rows(&conn);
    let logs = after.remove("data_import_logs").unwrap_or_default();
    let mut expected = before.clone();
    let logs_before = expected.remove("data_import_logs").unwrap_or_default();
    assert_eq!(after, expected, "{what}: the database changed");
    assert_eq!(logs.len(), logs_before.len() + 1, "{what}: one log row");
    assert!(
        import_statuses(demo)
            .iter()
            .all(|s| s.starts_with("failed ")),
        "{what}: {:?}",
        import_statuses(demo)
    );

    let nowhere = demo.dir.path().join("none.db");
    let what = format!("validate-only {}", file.display());
    let stderr = exits_3(
        cmd(&nowhere).args(["import", "--validate-only"]).arg(file),
        &what,
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{what}: no {needle:?} in {stderr}");
    }
    assert!(!nowhere.exists(), "{what}: created a database");
}

/// Writes `bytes` to `out/<name>` and asserts the file is refused.
fn refused(demo: &Demo, name: &str, bytes: &[u8], needles: &[&str]) {
    let path = demo.out_path(name);
    fs::write(&path, bytes).unwrap();
    assert_refused(demo, &path, needles);
}

/// Acme exported by the binary, as bytes (zip or json by the name's extension).
fn export(demo: &Demo, name: &str) -> Vec<u8> {
    let path = demo.export_acme(name);
    let bytes = fs::read(&path).unwrap();
    fs::remove_file(&path).unwrap();
    bytes
}

/// The demo's zip export with `edit` applied to its entries and the manifest's digests
/// made true again, so the damage reaches the JSON reader or the validator.
fn edited_zip(demo: &Demo, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> Vec<u8> {
    let mut entries = zip_entries(&export(demo, "acme.zip"));
    edit(&mut entries);
    refresh_digests(&mut entries);
    zip_in_order(&entries)
}

/// The demo's json export, parsed, edited, and written back.
fn edited_json(demo: &Demo, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut document = json(&export(demo, "acme.json"));
    edit(&mut document);
    serde_json::to_vec_pretty(&document).unwrap()
}

/// Replaces the first occurrence of `from` with `to` in `bytes`.
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("no {:?}", String::from_utf8_lossy(from)));
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

// ---------------------------------------------------------------------------------------
// Hand-made zip files: headers that say what a test wants, not what the data is

/// One entry of a hand-made zip. Its headers declare `declared` bytes uncompressed,
/// whatever `data` inflates to.
struct RawEntry {
    name: Vec<u8>,
    /// 0 stored, 8 deflated.
    method: u16,
    data: Vec<u8>,
    crc: u32,
    declared: u64,
}

impl RawEntry {
    fn stored(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            method: 0,
            data: data.to_vec(),
            crc: crc32(data),
            declared: data.len() as u64,
        }
    }

    /// A raw deflate stream that claims to inflate to `declared` bytes.
    fn deflated(name: &str, stream: Vec<u8>, declared: u64) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            method: 8,
            data: stream,
            crc: 0,
            declared,
        }
    }

    /// Sizes for the fixed fields, and a zip64 extra field when they do not fit.
    fn sizes(&self) -> (u32, u32, Vec<u8>) {
        let compressed = self.data.len() as u64;
        if self.declared < u64::from(u32::MAX) && compressed < u64::from(u32::MAX) {
            return (compressed as u32, self.declared as u32, Vec::new());
        }
        let mut extra = vec![0x01, 0x00, 16, 0];
        extra.extend_from_slice(&self.declared.to_le_bytes());
        extra.extend_from_slice(&compressed.to_le_bytes());
        (u32::MAX, u32::MAX, extra)
    }
}

/// A zip file of `entries`, exactly as given (duplicate names and lying sizes included).
fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let (compressed, uncompressed, extra) = entry.sizes();
        let version: u16 = if extra.is_empty() { 20 } else { 45 };
        let mut fixed = Vec::new();
        for field in [
            &version.to_le_bytes()[..],
            &0u16.to_le_bytes(), // flags
            &entry.method.to_le_bytes(),
            &0u16.to_le_bytes(),    // time
            &0x21u16.to_le_bytes(), // date: 1980-01-01
            &entry.crc.to_le_bytes(),
            &compressed.to_le_bytes(),
            &uncompressed.to_le_bytes(),
            &(entry.name.len() as u16).to_le_bytes(),
            &(extra.len() as u16).to_le_bytes(),
        ] {
            fixed.extend_from_slice(field);
        }
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&fixed);
        out.extend_from_slice(&entry.name);
        out.extend_from_slice(&extra);
        out.extend_from_slice(&entry.data);

        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&version.to_le_bytes()); // made by
        central.extend_from_slice(&fixed);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(&entry.name);
        central.extend_from_slice(&extra);
    }
    let start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A raw deflate stream of `head`, `mebibytes` MiB of spaces, then `tail`: about 1 KiB per
/// MiB, near the best ratio deflate can reach. Made with python's zlib: one block of
/// spaces compressed after a full flush is the same every time, so it is repeated.
fn deflated_spaces(head: &str, mebibytes: u64, tail: &str) -> Vec<u8> {
    const SCRIPT: &str = "
import sys, zlib
head, count, tail = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3].encode()
c = zlib.compressobj(9, zlib.DEFLATED, -15)
out = [c.compress(head), c.flush(zlib.Z_FULL_FLUSH)]
block = c.compress(b' ' * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
out += [block * count, c.compress(tail), c.flush()]
sys.stdout.buffer.write(b''.join(out))
";
    let output = std::process::Command::new("python3")
        .args(["-c", SCRIPT, head, &mebibytes.to_string(), tail])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", stderr_of(&output));
    output.stdout
}

/// The demo's zip entries as stored entries, with `tickets.json` replaced by `bomb` and
/// the manifest claiming `claimed` bytes for it.
fn zip_with_bomb(demo: &Demo, bomb: RawEntry, claimed: u64) -> Vec<u8> {
    let mut entries = zip_entries(&export(demo, "acme.zip"));
    let mut manifest = json(&entries["manifest.json"]);
    manifest["entries"]["tickets.json"]["bytes"] = json!(claimed);
    entries.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let mut raw: Vec<RawEntry> = entries
        .iter()
        .filter(|(name, _)| name.as_str() != "tickets.json")
        .map(|(name, data)| RawEntry::stored(name, data))
        .collect();
    raw.insert(0, bomb);
    raw_zip(&raw)
}

// ---------------------------------------------------------------------------------------
// Damaged containers

#[test]
fn a_truncated_zip_is_refused_wherever_it_is_cut() {
    let demo = Demo::new();
    let bytes = export(&demo, "acme.zip");
    for (name, keep) in [
        ("half.zip", bytes.len() / 2),
        ("no-end.zip", bytes.len() - 1),
        ("header.zip", 30),
        ("magic.zip", 4),
    ] {
        refused(&demo, name, &bytes[..keep], &["zip"]);
    }
}

#[test]
fn a_flipped_byte_in_each_entry_is_refused_naming_the_entry() {
    let demo = Demo::new();
    let bytes = export(&demo, "acme.zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    for name in ["users.json", "tickets.json", "manifest.json"] {
        let entry = zip.by_name(name).unwrap();
        let data_start = entry.data_start().unwrap() as usize;
        let middle = data_start + entry.compressed_size() as usize / 2;
        drop(entry);
        let mut damaged = bytes.clone();
        damaged[middle] ^= 0x01;
        refused(&demo, &format!("flip-{name}.zip"), &damaged, &[name]);
    }
}

#[test]
fn a_manifest_checksum_that_lies_is_refused() {
    let demo = Demo::new();
    let mut entries = zip_entries(&export(&demo, "acme.zip"));
    let mut manifest = json(&entries["manifest.json"]);
    manifest["entries"]["users.json"]["sha256"] = json!("0".repeat(64));
    entries.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    refused(
        &demo,
        "checksum.zip",
        &zip_in_order(&entries),
        &["users.json", "checksum mismatch", &"0".repeat(64)],
    );
}

#[test]
fn a_manifest_length_that_lies_either_way_is_refused() {
    let demo = Demo::new();
    let entries = zip_entries(&export(&demo, "acme.zip"));
    let real = entries["tickets.json"].len() as u64;
    for (name, claimed) in [("shorter.zip", real - 10), ("longer.zip", real + 10)] {
        let mut lying = entries.clone();
        let mut manifest = json(&lying["manifest.json"]);
        manifest["entries"]["tickets.json"]["bytes"] = json!(claimed);
        lying.insert(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        );
        refused(
            &demo,
            name,
            &zip_in_order(&lying),
            &["tickets.json", "length", &claimed.to_string()],
        );
    }
}

/// An entry whose headers (and manifest) say 4 KiB while it inflates to 1 GiB of spaces
/// inside a JSON array: reading on would take minutes. It is cut off at its declared size.
#[test]
fn a_zip_bomb_that_inflates_past_its_declared_size_is_cut_off() {
    let demo = Demo::new();
    let stream = deflated_spaces("[", 1024, "]");
    let bomb = RawEntry::deflated("tickets.json", stream, 4096);
    let bytes = zip_with_bomb(&demo, bomb, 4096);
    refused(
        &demo,
        "bomb-small-header.zip",
        &bytes,
        &["tickets.json", "4096 bytes"],
    );
}

/// An entry that honestly declares 1 GiB from 1 MiB: no JSON archive compresses 1000:1,
/// so it is refused before anything is inflated (in the tool's zip and in the web app's).
#[test]
fn an_entry_with_a_compression_ratio_past_1000_is_refused_before_inflating() {
    let demo = Demo::new();
    let stream = deflated_spaces("[", 1024, "]");
    let declared = (1 << 30) + 2;
    let bomb = RawEntry::deflated("tickets.json", stream.clone(), declared);
    let bytes = zip_with_bomb(&demo, bomb, declared);
    refused(&demo, "bomb-ratio.zip", &bytes, &["tickets.json", "ratio"]);

    let web = deflated_spaces(r#"{"exportInfo": {}, "data": {"tickets": ["#, 1024, "]}}");
    let declared = (1 << 30) + 46;
    let web_bomb = RawEntry::deflated("Acme_export_1.json", web, declared);
    refused(
        &demo,
        "bomb-web-app.zip",
        &raw_zip(&[web_bomb]),
        &["Acme_export_1.json", "ratio"],
    );
}

/// An entry declaring more than the largest accepted (16 GiB) is refused on its word.
#[test]
fn an_entry_declaring_more_than_the_size_cap_is_refused() {
    let demo = Demo::new();
    let stream = deflated_spaces("[", 16, "]");
    let bomb = RawEntry::deflated("tickets.json", stream, 17 << 30);
    let bytes = zip_with_bomb(&demo, bomb, 17 << 30);
    refused(&demo, "bomb-zip64.zip", &bytes, &["tickets.json", "GiB"]);
}

#[test]
fn duplicate_entry_names_are_refused() {
    let demo = Demo::new();
    let entries = zip_entries(&export(&demo, "acme.zip"));
    let mut raw: Vec<RawEntry> = entries
        .iter()
        .map(|(name, data)| RawEntry::stored(name, data))
        .collect();
    // A second tickets.json that other zip readers would take instead.
    raw.push(RawEntry::stored("tickets.json", b"[]"));
    refused(
        &demo,
        "duplicate.zip",
        &raw_zip(&raw),
        &["two entries of the same name"],
    );
}

#[test]
fn unknown_entries_are_refused_by_name() {
    let demo = Demo::new();
    for (file, entry) in [
        ("extra.zip", "notes.txt"),
        ("escape.zip", "../../etc/cron.d/x"),
    ] {
        let bytes = edited_zip(&demo, |entries| {
            entries.insert(entry.into(), b"[]".to_vec());
        });
        refused(&demo, file, &bytes, &["unexpected entry", entry]);
    }
}

#[test]
fn an_empty_file_and_a_zip_without_entries_are_refused() {
    let demo = Demo::new();
    refused(&demo, "empty.zip", b"", &["empty"]);
    refused(&demo, "blank.json", b" \n\t\n", &["whitespace"]);
    refused(&demo, "no-entries.zip", &raw_zip(&[]), &["no entries"]);
}

#[test]
fn a_file_that_is_neither_zip_nor_json_is_refused() {
    let demo = Demo::new();
    refused(
        &demo,
        "random.zip",
        b"\x7fELF\x02\x01\x01 not an archive",
        &["neither a zip archive nor a JSON document"],
    );
}

// ---------------------------------------------------------------------------------------
// Damaged JSON, in both containers

#[test]
fn non_utf8_bytes_inside_a_string_are_refused() {
    let demo = Demo::new();
    let bytes = replace_once(&export(&demo, "acme.json"), b"Printer", b"Print\xff\xfe");
    refused(&demo, "latin1.json", &bytes, &["UTF-8"]);
    let bytes = edited_zip(&demo, |entries| {
        let tickets = entries.get_mut("tickets.json").unwrap();
        *tickets = replace_once(tickets, b"Printer", b"Print\xff\xfe");
    });
    refused(&demo, "latin1.zip", &bytes, &["tickets.json", "UTF-8"]);
}

#[test]
fn a_byte_order_mark_is_refused_by_name() {
    let demo = Demo::new();
    let bytes = [b"\xEF\xBB\xBF".as_slice(), &export(&demo, "acme.json")].concat();
    refused(&demo, "bom.json", &bytes, &["byte order mark"]);
    let bytes = edited_zip(&demo, |entries| {
        let users = entries.get_mut("users.json").unwrap();
        users.splice(0..0, *b"\xEF\xBB\xBF");
    });
    refused(&demo, "bom.zip", &bytes, &["users.json", "byte order mark"]);
}

#[test]
fn trailing_garbage_after_the_json_is_refused() {
    let demo = Demo::new();
    let bytes = [export(&demo, "acme.json").as_slice(), b"\n{\"more\": 1}"].concat();
    refused(&demo, "trailing.json", &bytes, &["trailing"]);
    let bytes = edited_zip(&demo, |entries| {
        entries
            .get_mut("attachments.json")
            .unwrap()
            .extend_from_slice(b"garbage");
    });
    refused(
        &demo,
        "trailing.zip",
        &bytes,
        &["attachments.json", "after the array"],
    );
    let mut entries = zip_entries(&export(&demo, "acme.zip"));
    entries
        .get_mut("manifest.json")
        .unwrap()
        .extend_from_slice(b"}");
    let bytes = zip_in_order(&entries);
    refused(
        &demo,
        "trailing-manifest.zip",
        &bytes,
        &["manifest.json", "trailing"],
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let demo = Demo::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bytes = replace_once(
        &export(&demo, "acme.json"),
        br#""preferences":{}"#,
        format!(r#""preferences":{deep}"#).as_bytes(),
    );
    refused(&demo, "deep.json", &bytes, &["recursion limit"]);
    let bytes = edited_zip(&demo, |entries| {
        let users = entries.get_mut("users.json").unwrap();
        *users = replace_once(
            users,
            br#""preferences":{}"#,
            format!(r#""preferences":{deep}"#).as_bytes(),
        );
    });
    refused(&demo, "deep.zip", &bytes, &["users[", "recursion limit"]);
    // Unbalanced: only openings, as a whole section.
    let bytes = edited_zip(&demo, |entries| {
        entries.insert("tickets.json".into(), "[".repeat(100_000).into_bytes());
    });
    refused(&demo, "open.zip", &bytes, &["tickets.json"]);
}

/// One 100 MB string value: refused as an oversized record, without holding it.
#[test]
fn a_100_mb_string_is_refused_in_bounded_memory() {
    let demo = Demo::new();
    let huge = "x".repeat(100_000_000);
    let json_file = demo.out_path("huge.json");
    fs::write(
        &json_file,
        replace_once(
            &export(&demo, "acme.json"),
            br#""Printer"#,
            format!(r#""{huge}"#).as_bytes(),
        ),
    )
    .unwrap();
    // Stored, not deflated: a string of one letter would trip the ratio cap instead.
    let mut entries = zip_entries(&export(&demo, "acme.zip"));
    let tickets = replace_once(
        &entries["tickets.json"],
        br#""Printer"#,
        format!(r#""{huge}"#).as_bytes(),
    );
    entries.insert("tickets.json".into(), tickets);
    refresh_digests(&mut entries);
    let raw: Vec<RawEntry> = entries
        .iter()
        .map(|(name, data)| RawEntry::stored(name, data))
        .collect();
    let zip_file = demo.out_path("huge.zip");
    fs::write(&zip_file, raw_zip(&raw)).unwrap();
    drop((huge, entries, raw));

    for file in [&json_file, &zip_file] {
        let nowhere = demo.dir.path().join("none.db");
        let started = Instant::now();
        let (kib, output) = peak_memory(&[
            "--db".as_ref(),
            nowhere.as_os_str(),
            "import".as_ref(),
            "--validate-only".as_ref(),
            file.as_os_str(),
        ]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(
            stderr.contains("tickets[0]") && stderr.contains("MiB"),
            "{stderr}"
        );
        // The cap is reached after 16 MiB: a release build reads that in well under a
        // second, this debug build's JSON parser takes several.
        let limit = if file == &json_file {
            TIME_LIMIT * 6
        } else {
            TIME_LIMIT
        };
        assert!(started.elapsed() < limit, "{:?}", started.elapsed());
        assert!(
            kib < MEMORY_LIMIT_KIB,
            "{}: peak memory {} MiB",
            file.display(),
            kib / 1024
        );
    }
    assert_refused(&demo, &zip_file, &["tickets[0]", "MiB"]);
}

/// A small record of a million empty arrays would take twenty times its size once
/// decoded: the number of values in one record is capped.
#[test]
fn a_record_of_a_million_tiny_values_is_refused() {
    let demo = Demo::new();
    let many = format!(r#""preferences":[{}[]]"#, "[],".repeat(1_100_000));
    let bytes = replace_once(
        &export(&demo, "acme.json"),
        br#""preferences":{}"#,
        many.as_bytes(),
    );
    refused(
        &demo,
        "many.json",
        &bytes,
        &["users[", "1000000 JSON values"],
    );
    let bytes = edited_zip(&demo, |entries| {
        let users = entries.get_mut("users.json").unwrap();
        *users = replace_once(users, br#""preferences":{}"#, many.as_bytes());
    });
    refused(
        &demo,
        "many.zip",
        &bytes,
        &["users.json: users[", "1000000 JSON values"],
    );
}

// ---------------------------------------------------------------------------------------
// Wrong types: every record kind, each problem with its place

/// The places of one wrong value in each record kind. A record stops decoding at its first
/// problem, so each kind is broken in a record of its own.
fn break_every_kind(data: &mut Value) -> Vec<String> {
    let tickets = data["tickets"].as_array().unwrap();
    let with_notes = tickets
        .iter()
        .position(|t| t["notes"].as_array().unwrap().len() > 1);
    let with_notes = with_notes.expect("a ticket with two notes");
    let with_history = (0..tickets.len())
        .find(|&i| i != with_notes && !tickets[i]["history"].as_array().unwrap().is_empty())
        .expect("another ticket with history");
    let plain = (0..tickets.len())
        .find(|&i| i != with_notes && i != with_history)
        .unwrap();
    data["users"][1]["email"] = json!(42);
    data["customFields"][0]["name"] = json!(["seats"]);
    data["tickets"][plain]["status"] = json!({"open": true});
    data["tickets"][with_notes]["notes"][1]["createdAt"] = json!(20261125);
    data["tickets"][with_history]["history"][0]["action"] = json!(true);
    data["attachments"][2]["fileSize"] = json!("big");
    vec![
        "users[1].email: invalid type: integer `42`, expected a string".into(),
        "customFields[0].name: invalid type: sequence".into(),
        format!("tickets[{plain}].status: invalid type: map"),
        format!("tickets[{with_notes}].notes[1].createdAt: invalid type: integer"),
        format!("tickets[{with_history}].history[0].action: invalid type: boolean"),
        "attachments[2].fileSize: invalid type: string \"big\"".into(),
    ]
}

/// The zip's sections as one `data` object, as in the json container.
const SECTION_ENTRIES: [(&str, &str); 4] = [
    ("users", "users.json"),
    ("customFields", "custom_fields.json"),
    ("tickets", "tickets.json"),
    ("attachments", "attachments.json"),
];

#[test]
fn wrong_types_in_every_record_kind_are_refused_with_their_places() {
    let demo = Demo::new();
    let mut places = Vec::new();
    let document = edited_json(&demo, |doc| places = break_every_kind(&mut doc["data"]));
    let needles: Vec<&str> = places.iter().map(String::as_str).collect();
    refused(&demo, "types.json", &document, &needles);

    let bytes = edited_zip(&demo, |entries| {
        let mut data = json!({});
        for (key, name) in SECTION_ENTRIES {
            data[key] = json(&entries[name]);
        }
        places = break_every_kind(&mut data);
        for (key, name) in SECTION_ENTRIES {
            entries.insert(name.into(), serde_json::to_vec(&data[key]).unwrap());
        }
    });
    let needles: Vec<&str> = places.iter().map(String::as_str).collect();
    refused(&demo, "types.zip", &bytes, &needles);
}

/// Found by the fuzzer: serde names an unknown enum value as it is, so a line break in one
/// made the error two lines, the second looking like a message of its own.
#[test]
fn a_line_break_in_a_value_stays_inside_one_error_line() {
    let demo = Demo::new();
    let document = edited_json(&demo, |doc| {
        doc["data"]["users"][0]["companyRole"] = json!("admin\nbomizzel-backup: all is well");
    });
    refused(
        &demo,
        "newline.json",
        &document,
        &[
            "users[0].companyRole",
            "admin\\nbomizzel-backup: all is well",
        ],
    );
}

#[test]
fn wrong_types_in_the_manifest_are_refused_with_their_place() {
    let demo = Demo::new();
    let document = edited_json(&demo, |doc| {
        doc["exportInfo"]["counts"]["users"] = json!("5")
    });
    refused(
        &demo,
        "manifest.json",
        &document,
        &["manifest.counts.users"],
    );
    let bytes = edited_zip(&demo, |entries| {
        let mut manifest = json(&entries["manifest.json"]);
        manifest["exportedAt"] = json!(1764081000);
        entries.insert(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        );
    });
    refused(&demo, "manifest.zip", &bytes, &["manifest.exportedAt"]);
    let document = edited_json(&demo, |doc| doc["exportInfo"] = json!([1, 2]));
    refused(&demo, "manifest-array.json", &document, &["manifest"]);
}

#[test]
fn a_newer_format_version_names_both_versions_in_either_container() {
    let demo = Demo::new();
    let document = edited_json(&demo, |doc| doc["exportInfo"]["formatVersion"] = json!(7));
    refused(
        &demo,
        "v7.json",
        &document,
        &["format version 7", "version 1"],
    );
    let bytes = edited_zip(&demo, |entries| {
        let mut manifest = json(&entries["manifest.json"]);
        manifest["formatVersion"] = json!(7);
        entries.insert(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        );
    });
    refused(&demo, "v7.zip", &bytes, &["format version 7", "version 1"]);
}

// ---------------------------------------------------------------------------------------
// The container is told by content, never by the file name

/// A good archive with the other container's extension is read for what it is; a damaged
/// one is refused in the words of what it really is.
#[test]
fn the_container_is_detected_by_content_not_by_extension() {
    let demo = Demo::new();
    let nowhere = demo.dir.path().join("none.db");
    let zip_bytes = export(&demo, "acme.zip");
    let json_bytes = export(&demo, "acme.json");
    for (name, bytes) in [
        ("zip-named.json", &zip_bytes),
        ("json-named.zip", &json_bytes),
    ] {
        let path = demo.out_path(name);
        fs::write(&path, bytes).unwrap();
        let output = cmd(&nowhere)
            .args(["--json", "import", "--validate-only"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr_of(&output));
        let report = json(&output.stdout);
        let layout = if name.starts_with("zip") {
            "zip"
        } else {
            "json"
        };
        assert_eq!(report["source"]["layout"], layout, "{name}");
        assert_eq!(report["counts"]["tickets"], 6, "{name}");
    }
    refused(
        &demo,
        "broken-zip-named.json",
        &zip_bytes[..zip_bytes.len() - 30],
        &["zip archive"],
    );
    refused(
        &demo,
        "broken-json-named.zip",
        &json_bytes[..json_bytes.len() / 2],
        &["JSON document"],
    );
}

// ---------------------------------------------------------------------------------------
// Fixtures kept as files: fixtures/archives/bad/

fn bad_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/archives/bad")
        .join(name)
}

/// Every file in fixtures/archives/bad is refused, and its README says why it is there.
#[test]
fn every_bad_fixture_is_refused_and_documented() {
    let demo = Demo::new();
    let readme = fs::read_to_string(bad_fixture("README.md")).unwrap();
    let mut seen = 0;
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let needle = cells[2].trim_matches('`');
        assert_refused(&demo, &bad_fixture(name), &[needle]);
        seen += 1;
    }
    let files = files_under(&bad_fixture(""));
    assert_eq!(
        seen,
        files.len() - 1,
        "a fixture without a README line: {files:?}"
    );
}
