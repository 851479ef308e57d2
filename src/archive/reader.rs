//! Reading archives: the tool's zip and json containers and the files the Bomizzel web app
//! writes (its json document, or a zip holding that one document), from a file or stdin.
//!
//! Records stream out one at a time as JSON values, so a section is never held whole. A zip
//! entry's length and SHA-256 are checked against the manifest as it is read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::records::{EntryDigest, Section};
use super::split::ArraySplitter;
use super::writer::{MANIFEST_ENTRY, hex};
use crate::error::Failure;

/// The largest manifest accepted; real ones are a few KiB.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The largest uncompressed entry accepted from a zip that has no manifest to say its length.
pub const MAX_ENTRY_BYTES: u64 = 16 << 30;

/// Where an archive comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("<stdin>"),
            Input::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The container, as found by looking at the bytes (never the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Layout {
    /// The tool's zip: `manifest.json` and one entry per section.
    Zip,
    /// One json document, `{"exportInfo": …, "data": {…}}`.
    Json,
    /// The web app's zip: one json document inside.
    WebAppZip,
}

/// What a reader hands to its consumer, in file order.
pub enum Event<'a> {
    /// The manifest (`manifest.json`, or `exportInfo`), before any record when the file
    /// puts it first.
    Manifest(Value),
    /// One record of a section, with its index in that section, as its JSON text: the
    /// consumer decodes it straight into its record type.
    Record(Section, u64, &'a str),
}

/// An archive opened for reading; each `read` makes one pass over the chosen sections.
pub struct ArchiveFile {
    label: String,
    /// The absolute path of a file input, for logs that outlive the working directory.
    path: Option<PathBuf>,
    file: File,
    layout: Layout,
    /// Keeps a spooled copy of stdin alive.
    _spool: Option<tempfile::NamedTempFile>,
}

impl ArchiveFile {
    /// Opens a file (or spools stdin to a private temporary file) and identifies its layout.
    pub fn open(input: &Input) -> Result<Self> {
        let (file, spool) = match input {
            Input::File(path) => (open_input(path)?, None),
            Input::Stdin => {
                let mut spool = tempfile::NamedTempFile::new()
                    .context("cannot create a temporary file for stdin")?;
                io::copy(&mut io::stdin().lock(), spool.as_file_mut())
                    .context("cannot read the archive from stdin")?;
                (spool.reopen()?, Some(spool))
            }
        };
        let label = input.to_string();
        let mut layout = sniff(&file, &label)?;
        if layout == Layout::Zip && is_web_app_zip(&file) {
            layout = Layout::WebAppZip;
        }
        let path = match input {
            Input::File(path) => Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
            Input::Stdin => None,
        };
        Ok(Self {
            label,
            path,
            file,
            layout,
            _spool: spool,
        })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The absolute path of a file, or `-` for stdin.
    pub fn location(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Streams the manifest and the records of `wanted` sections to `consume`. Sections
    /// not wanted are skipped. Returns the sections the archive holds.
    pub fn read(
        &mut self,
        wanted: &[Section],
        consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
    ) -> Result<BTreeSet<Section>> {
        self.file.seek(SeekFrom::Start(0))?;
        match self.layout {
            Layout::Json => {
                let reader = BufReader::with_capacity(1 << 16, &self.file);
                read_document(reader, &self.label, wanted, consume)
            }
            Layout::Zip | Layout::WebAppZip => read_zip(&self.file, &self.label, wanted, consume),
        }
    }
}

fn open_input(path: &Path) -> Result<File> {
    if path.is_dir() {
        return Err(
            Failure::Usage(format!("{} is a directory, not an archive", path.display())).into(),
        );
    }
    File::open(path).map_err(|err| {
        if err.kind() == io::ErrorKind::NotFound {
            Failure::NotFound(format!("archive not found: {}", path.display())).into()
        } else {
            anyhow::Error::new(err).context(format!("cannot open {}", path.display()))
        }
    })
}

fn invalid(label: &str, problem: impl fmt::Display) -> anyhow::Error {
    Failure::InvalidArchive(format!("{label}: {problem}")).into()
}

/// Tells a zip from a json document by its first bytes.
fn sniff(mut file: &File, label: &str) -> Result<Layout> {
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let head = &head[..filled];
    if head.is_empty() {
        return Err(invalid(label, "the file is empty"));
    }
    if head.starts_with(b"PK") {
        return Ok(Layout::Zip);
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(invalid(
            label,
            "the file starts with a UTF-8 byte order mark; archives are plain UTF-8 JSON",
        ));
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(Layout::Json),
        None if filled < 4 => Err(invalid(label, "the file holds only whitespace")),
        _ => Err(invalid(
            label,
            "neither a zip archive nor a JSON document (it does not start with `PK` or `{`)",
        )),
    }
}

/// A zip without a manifest is the web app's (a broken zip is reported when read).
fn is_web_app_zip(file: &File) -> bool {
    zip::ZipArchive::new(file).is_ok_and(|zip| zip.index_for_name(MANIFEST_ENTRY).is_none())
}

fn read_zip(
    file: &File,
    label: &str,
    wanted: &[Section],
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<BTreeSet<Section>> {
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|err| invalid(label, format!("unreadable zip archive: {err}")))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|err| invalid(label, format!("unreadable entry name: {err}")))?;
    if !names.iter().any(|n| n == MANIFEST_ENTRY) {
        return read_web_app_zip(&mut zip, &names, label, wanted, consume);
    }
    let known =
        |name: &str| name == MANIFEST_ENTRY || Section::ALL.iter().any(|s| s.entry_name() == name);
    if let Some(unknown) = names.iter().find(|n| !known(n)) {
        return Err(invalid(
            label,
            format!("unexpected entry {unknown:?} in the archive"),
        ));
    }

    let manifest_text = read_small_entry(&mut zip, MANIFEST_ENTRY, label)?;
    let manifest: Value = serde_json::from_slice(&manifest_text)
        .map_err(|err| invalid(label, format!("{MANIFEST_ENTRY}: {err}")))?;
    let digests: BTreeMap<String, EntryDigest> = match manifest.get("entries") {
        Some(entries) => serde_json::from_value(entries.clone())
            .map_err(|err| invalid(label, format!("{MANIFEST_ENTRY}: entries: {err}")))?,
        None => return Err(invalid(label, format!("{MANIFEST_ENTRY} lists no entries"))),
    };
    for name in digests.keys() {
        if !names.contains(name) {
            return Err(invalid(
                label,
                format!("{name} is listed in the manifest but missing"),
            ));
        }
    }
    consume(Event::Manifest(manifest))?;

    let mut present = BTreeSet::new();
    for section in Section::ALL {
        let name = section.entry_name();
        if !names.iter().any(|n| n == name) {
            continue;
        }
        present.insert(section);
        if !wanted.contains(&section) {
            continue;
        }
        let expected = digests
            .get(name)
            .ok_or_else(|| invalid(label, format!("{name} has no checksum in the manifest")))?;
        let entry = zip
            .by_name(name)
            .map_err(|err| invalid(label, format!("{name}: {err}")))?;
        let mut reader = CheckedReader::new(entry, expected.bytes);
        let place = format!("{label}: {name}");
        read_array(
            BufReader::with_capacity(1 << 16, &mut reader),
            &place,
            section,
            consume,
        )?;
        let actual = reader
            .finish()
            .map_err(|err| invalid(&place, format!("cannot read the entry: {err}")))?;
        if actual.bytes != expected.bytes {
            return Err(invalid(
                &place,
                format!(
                    "length mismatch: the manifest says {} bytes, the entry has {}",
                    expected.bytes, actual.bytes
                ),
            ));
        }
        if actual.sha256 != expected.sha256 {
            return Err(invalid(
                &place,
                format!(
                    "checksum mismatch: the manifest says SHA-256 {}, the entry has {}",
                    expected.sha256, actual.sha256
                ),
            ));
        }
    }
    Ok(present)
}

/// The web app's zip: exactly one json document.
fn read_web_app_zip(
    zip: &mut zip::ZipArchive<&File>,
    names: &[String],
    label: &str,
    wanted: &[Section],
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<BTreeSet<Section>> {
    let [name] = names else {
        return Err(invalid(
            label,
            format!(
                "no {MANIFEST_ENTRY}, and not a web app export either (that holds one .json file; this zip holds {} entries)",
                names.len()
            ),
        ));
    };
    if !name.ends_with(".json") {
        return Err(invalid(
            label,
            format!("no {MANIFEST_ENTRY}, and its only entry {name:?} is not a .json file"),
        ));
    }
    let entry = zip
        .by_name(name)
        .map_err(|err| invalid(label, format!("{name}: {err}")))?;
    let mut reader = CheckedReader::new(entry, MAX_ENTRY_BYTES);
    let place = format!("{label}: {name}");
    let present = read_document(
        BufReader::with_capacity(1 << 16, &mut reader),
        &place,
        wanted,
        consume,
    )?;
    reader
        .finish()
        .map_err(|err| invalid(&place, format!("cannot read the entry: {err}")))?;
    Ok(present)
}

fn read_small_entry(zip: &mut zip::ZipArchive<&File>, name: &str, label: &str) -> Result<Vec<u8>> {
    let entry = zip
        .by_name(name)
        .map_err(|err| invalid(label, format!("{name}: {err}")))?;
    let mut text = Vec::new();
    entry
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|err| invalid(label, format!("{name}: {err}")))?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(invalid(
            label,
            format!("{name} is larger than {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// Counts and hashes an entry as it is read, and refuses to inflate past `limit` bytes (a
/// zip bomb, or an entry longer than its manifest says).
struct CheckedReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    limit: u64,
}

impl<R: Read> CheckedReader<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            limit,
        }
    }

    /// Reads whatever the JSON parser left (there should be nothing) and returns the
    /// entry's length and SHA-256.
    fn finish(mut self) -> io::Result<EntryDigest> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(EntryDigest {
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        })
    }
}

impl<R: Read> Read for CheckedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        if self.bytes > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the entry inflates past {} bytes, more than it declares",
                    self.limit
                ),
            ));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Runs a serde pass, giving precedence to an error the consumer raised.
struct Pass<'a> {
    wanted: &'a [Section],
    consume: &'a mut dyn FnMut(Event<'_>) -> Result<()>,
    stopped: Option<anyhow::Error>,
    present: BTreeSet<Section>,
}

impl Pass<'_> {
    fn give(&mut self, event: Event<'_>) -> Result<(), String> {
        (self.consume)(event).map_err(|err| {
            let message = format!("{err:#}");
            self.stopped = Some(err);
            message
        })
    }

    fn conclude(self, parsed: serde_json::Result<()>, place: &str) -> Result<BTreeSet<Section>> {
        match (self.stopped, parsed) {
            (Some(err), _) => Err(err),
            (None, Err(err)) => Err(invalid(place, err)),
            (None, Ok(())) => Ok(self.present),
        }
    }
}

fn read_document<R: Read>(
    reader: R,
    place: &str,
    wanted: &[Section],
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<BTreeSet<Section>> {
    let mut pass = Pass {
        wanted,
        consume,
        stopped: None,
        present: BTreeSet::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = de::Deserializer::deserialize_map(&mut de, DocumentVisitor(&mut pass))
        .and_then(|()| de.end());
    pass.conclude(parsed, place)
}

/// One zip entry: a bare JSON array, split into records without a reader-driven parse.
fn read_array<R: BufRead>(
    reader: R,
    place: &str,
    section: Section,
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<()> {
    let broken = |err: io::Error| invalid(place, err);
    let mut records = ArraySplitter::open(reader).map_err(broken)?;
    let mut index = 0;
    while let Some(record) = records.next_element().map_err(broken)? {
        consume(Event::Record(section, index, record))?;
        index += 1;
    }
    records.finish().map_err(broken)
}

struct DocumentVisitor<'p, 'a>(&'p mut Pass<'a>);

impl<'de> Visitor<'de> for DocumentVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a JSON object {"exportInfo": …, "data": …}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_info = false;
        let mut seen_data = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "exportInfo" if !seen_info => {
                    seen_info = true;
                    let info: Value = map.next_value()?;
                    self.0
                        .give(Event::Manifest(info))
                        .map_err(de::Error::custom)?;
                }
                "data" if !seen_data => {
                    seen_data = true;
                    map.next_value_seed(DataSeed(&mut *self.0))?;
                }
                "exportInfo" | "data" => {
                    return Err(de::Error::custom(format!("duplicate key {key:?}")));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_info {
            return Err(de::Error::custom("no exportInfo object"));
        }
        if !seen_data {
            return Err(de::Error::custom("no data object"));
        }
        Ok(())
    }
}

struct DataSeed<'p, 'a>(&'p mut Pass<'a>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a data object of sections")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match Section::ALL.into_iter().find(|s| s.json_key() == key) {
                Some(section) => {
                    if !self.0.present.insert(section) {
                        return Err(de::Error::custom(format!("duplicate section data.{key}")));
                    }
                    if self.0.wanted.contains(&section) {
                        map.next_value_seed(SectionSeed {
                            pass: &mut *self.0,
                            section,
                        })?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct SectionSeed<'p, 'a> {
    pass: &'p mut Pass<'a>,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for SectionSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SectionSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to be an array of records", self.section.json_key())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(record) = seq.next_element::<Box<RawValue>>()? {
            self.pass
                .give(Event::Record(self.section, index, record.get()))
                .map_err(de::Error::custom)?;
            index += 1;
        }
        Ok(())
    }
}
