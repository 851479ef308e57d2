//! Reading archives: the tool's zip and json containers and the files the Bomizzel web app
//! writes (its json document, or a zip holding that one document), from a file or stdin.
//!
//! Records stream out one at a time as JSON text, so a section is never held whole. A zip
//! entry's length and SHA-256 are checked against the manifest as it is read.
//!
//! A hostile file meets caps, each refused with exit status 3 before it costs much: an
//! entry's declared size ([`MAX_ENTRY_BYTES`]) and compression ratio
//! ([`MAX_COMPRESSION_RATIO`]), inflation past what the zip header or the manifest declares,
//! a record's size ([`MAX_RECORD_BYTES`]) and number of values ([`MAX_RECORD_VALUES`]), and
//! serde_json's nesting limit (128 levels).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::digest::hex;
use super::envelope::{self, Envelope, Keys, Plaintext};
use super::records::{EntryDigest, MANIFEST_ENTRY, Section};
use super::split::{ArraySplitter, count_values, too_many_values};
pub use super::split::{MAX_RECORD_BYTES, MAX_RECORD_VALUES};
use crate::error::{Failure, one_line};

/// The largest manifest (`manifest.json`, or `exportInfo`) accepted: 1 MiB. Real ones are
/// a few KiB.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The largest uncompressed size a zip entry may declare: 16 GiB. An entry declaring more
/// is refused before it is read; a section of a company many times the benchmark's size
/// (100k tickets) is far smaller.
pub const MAX_ENTRY_BYTES: u64 = 16 << 30;
/// The most uncompressed bytes a zip entry may declare per compressed byte: 1000 to 1.
/// Deflate itself cannot do much better (about 1032:1, on one byte repeated), and JSON
/// archives do 5 to 20:1, so a higher ratio is a zip bomb, refused before it is inflated.
/// An entry that inflates past the size its zip header declares (or past the length the
/// manifest gives it) is cut off as soon as it does.
pub const MAX_COMPRESSION_RATIO: u64 = 1000;

/// Where an archive comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The input a command line names: `-` is stdin, anything else a file.
    pub fn from_arg(path: PathBuf) -> Self {
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(path)
        }
    }

    /// An invalid-archive error that names this input, whichever check found the problem
    /// (the validator's messages name only the place inside the archive).
    pub fn named_in(&self, err: anyhow::Error) -> anyhow::Error {
        let label = self.to_string();
        match err.downcast_ref::<Failure>() {
            Some(Failure::InvalidArchive(message)) if !message.starts_with(&label) => {
                Failure::InvalidArchive(format!("{label}: {message}")).into()
            }
            _ => err,
        }
    }
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
    source: Source,
    layout: Layout,
}

/// An archive's bytes: the file itself, or the plaintext of an age-encrypted one.
enum Source {
    Plain(File),
    Age(Box<Plaintext>),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(file) => file.read(buf),
            Source::Age(plaintext) => plaintext.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Source::Plain(file) => file.seek(pos),
            Source::Age(plaintext) => plaintext.seek(pos),
        }
    }
}

impl ArchiveFile {
    /// Opens a file (or copies stdin to an unnamed temporary file: the readers make several
    /// passes), decrypts it when it is age-encrypted (with `keys`), and identifies its
    /// layout. An encrypted stdin is copied as it comes, still encrypted.
    pub fn open(input: &Input, keys: &Keys) -> Result<Self> {
        let mut file = match input {
            Input::File(path) => open_input(path)?,
            Input::Stdin => {
                let mut spool =
                    tempfile::tempfile().context("cannot create a temporary file for stdin")?;
                io::copy(&mut io::stdin().lock(), &mut spool)
                    .context("cannot read the archive from stdin")?;
                spool.seek(SeekFrom::Start(0))?;
                spool
            }
        };
        let label = input.to_string();
        let mut head = Vec::with_capacity(64);
        (&mut file)
            .take(64)
            .read_to_end(&mut head)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .with_context(|| format!("cannot read {label}"))?;
        let mut source = match Envelope::of(&head) {
            Envelope::None => Source::Plain(file),
            Envelope::Age => Source::Age(Box::new(envelope::open(file, &label, keys)?)),
            Envelope::Armored => return Err(invalid(&label, ARMORED_PROBLEM)),
        };
        let mut layout = sniff(&mut source, &label)?;
        if layout == Layout::Zip && is_web_app_zip(&mut source) {
            layout = Layout::WebAppZip;
        }
        let path = match input {
            Input::File(path) => Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
            Input::Stdin => None,
        };
        Ok(Self {
            label,
            path,
            source,
            layout,
        })
    }

    /// Whether the archive came age-encrypted.
    pub fn encrypted(&self) -> bool {
        matches!(self.source, Source::Age(_))
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
        self.read_until(Until::End, wanted, consume)
    }

    /// Reads as far as the manifest, checked as [`read`](Self::read) checks it, and stops
    /// there: what the archive says it is, before any record. `None` if it has none.
    ///
    /// Stopping is not an error here: an `anyhow::Error` from a callback would capture a
    /// backtrace under `RUST_BACKTRACE=1`, unwinding through the binary's unwind tables
    /// (0.3-0.5 MiB more resident memory for every import, list and verify).
    pub fn read_until_manifest(&mut self) -> Result<Option<Value>> {
        let mut found = None;
        self.read_until(Until::Manifest, &[], &mut |event| {
            if let Event::Manifest(value) = event {
                found = Some(value);
            }
            Ok(())
        })?;
        Ok(found)
    }

    fn read_until(
        &mut self,
        until: Until,
        wanted: &[Section],
        consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
    ) -> Result<BTreeSet<Section>> {
        self.source
            .seek(SeekFrom::Start(0))
            .map_err(|err| read_failure(&self.label, err))?;
        match self.layout {
            Layout::Json => read_document(&mut self.source, &self.label, until, wanted, consume),
            Layout::Zip | Layout::WebAppZip => read_zip(
                &mut self.source,
                self.layout,
                &self.label,
                until,
                wanted,
                consume,
            ),
        }
    }
}

/// How far a read goes: to the end of the archive, or only as far as its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    End,
    Manifest,
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
    Failure::InvalidArchive(one_line(&format!("{label}: {problem}"))).into()
}

/// A read that failed: bytes that are not what they should be (a damaged encrypted
/// archive) make the archive invalid; anything else is the system's failure.
fn read_failure(label: &str, err: io::Error) -> anyhow::Error {
    match err.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => invalid(label, err),
        _ => anyhow::Error::new(err).context(format!("cannot read {label}")),
    }
}

const ARMORED_PROBLEM: &str = "an ASCII-armored age file (age -a); archives are read in age's binary format: decrypt it with age -d, or encrypt without -a";

/// Tells a zip from a json document by its first bytes.
fn sniff(source: &mut Source, label: &str) -> Result<Layout> {
    let mut reader = BufReader::with_capacity(1 << 13, source);
    let head = reader.fill_buf().map_err(|err| read_failure(label, err))?;
    if head.is_empty() {
        return Err(invalid(label, "the file is empty"));
    }
    if head.starts_with(b"PK") {
        return Ok(Layout::Zip);
    }
    if head.starts_with(BYTE_ORDER_MARK) {
        return Err(invalid(label, BOM_PROBLEM));
    }
    loop {
        let chunk = reader.fill_buf().map_err(|err| read_failure(label, err))?;
        match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) if chunk[at] == b'{' => return Ok(Layout::Json),
            Some(_) => {
                return Err(invalid(
                    label,
                    "neither a zip archive nor a JSON document (it does not start with `PK` or `{`)",
                ));
            }
            None if chunk.is_empty() => {
                return Err(invalid(label, "the file holds only whitespace"));
            }
            None => {
                let skipped = chunk.len();
                reader.consume(skipped);
            }
        }
    }
}

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";
const BOM_PROBLEM: &str =
    "it starts with a UTF-8 byte order mark; archives are plain UTF-8 JSON without one";

/// A zip without a manifest is the web app's (a broken zip is reported when read).
fn is_web_app_zip(source: &mut Source) -> bool {
    zip::ZipArchive::new(source).is_ok_and(|zip| zip.index_for_name(MANIFEST_ENTRY).is_none())
}

/// A zip archive being read.
type Zip<'a> = zip::ZipArchive<&'a mut Source>;

fn read_zip(
    source: &mut Source,
    layout: Layout,
    label: &str,
    until: Until,
    wanted: &[Section],
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<BTreeSet<Section>> {
    let mut zip = zip::ZipArchive::new(source)
        .map_err(|err| invalid(label, format!("unreadable zip archive: {err}")))?;
    if zip.is_empty() {
        return Err(invalid(label, "the zip archive has no entries"));
    }
    if zip.has_duplicate_names() {
        // Other zip readers may take the other one: there is no telling which is meant.
        return Err(invalid(
            label,
            "the zip archive holds two entries of the same name",
        ));
    }
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|err| invalid(label, format!("unreadable entry name: {err}")))?;
    if layout == Layout::WebAppZip {
        return read_web_app_zip(&mut zip, &names, label, until, wanted, consume);
    }
    let known =
        |name: &str| name == MANIFEST_ENTRY || Section::ALL.iter().any(|s| s.entry_name() == name);
    if let Some(unknown) = names.iter().find(|n| !known(n)) {
        return Err(invalid(
            label,
            format!("unexpected entry {unknown:?} in the archive"),
        ));
    }
    check_entry_sizes(&mut zip, label)?;

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
    if until == Until::Manifest {
        return Ok(Section::ALL
            .into_iter()
            .filter(|s| names.iter().any(|n| n == s.entry_name()))
            .collect());
    }

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
        let declared = entry.size();
        let reader = CheckedReader::new(entry, declared, Some(expected.bytes));
        let place = format!("{label}: {name}");
        let actual = read_in_background(reader, &place, section, consume)?;
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
    zip: &mut Zip<'_>,
    names: &[String],
    label: &str,
    until: Until,
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
    check_entry_sizes(zip, label)?;
    let entry = zip
        .by_name(name)
        .map_err(|err| invalid(label, format!("{name}: {err}")))?;
    let declared = entry.size();
    let mut reader = CheckedReader::new(entry, declared, None);
    let place = format!("{label}: {name}");
    let present = read_document(&mut reader, &place, until, wanted, consume)?;
    if until == Until::Manifest {
        // Stopped part way: the entry's length and checksum are for a whole read.
        return Ok(present);
    }
    reader
        .finish()
        .map_err(|err| invalid(&place, format!("cannot read the entry: {err}")))?;
    Ok(present)
}

fn read_small_entry(zip: &mut Zip<'_>, name: &str, label: &str) -> Result<Vec<u8>> {
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

/// Refuses, before anything is inflated, an entry that declares more than
/// [`MAX_ENTRY_BYTES`] or more than [`MAX_COMPRESSION_RATIO`] bytes per compressed byte.
fn check_entry_sizes(zip: &mut Zip<'_>, label: &str) -> Result<()> {
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|err| invalid(label, format!("unreadable zip entry: {err}")))?;
        let name = entry
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.into_owned());
        let (declared, compressed) = (entry.size(), entry.compressed_size());
        if declared > MAX_ENTRY_BYTES {
            return Err(invalid(
                label,
                format!(
                    "{name} declares {declared} bytes uncompressed, more than the {} GiB accepted",
                    MAX_ENTRY_BYTES >> 30
                ),
            ));
        }
        if declared > compressed.saturating_mul(MAX_COMPRESSION_RATIO) {
            return Err(invalid(
                label,
                format!(
                    "{name} declares {declared} bytes from {compressed} compressed, a compression ratio past {MAX_COMPRESSION_RATIO}:1 that no archive of JSON reaches (a zip bomb?)"
                ),
            ));
        }
    }
    Ok(())
}

/// Counts and hashes an entry as it is read, and stops it at the size its zip header
/// declares (a zip bomb) or at the length the manifest gives it, whichever is less.
struct CheckedReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    limit: u64,
    /// Whether the limit is the manifest's word rather than the zip header's.
    manifest_limit: bool,
}

impl<R: Read> CheckedReader<R> {
    fn new(inner: R, declared: u64, manifest: Option<u64>) -> Self {
        let (limit, manifest_limit) = match manifest {
            Some(bytes) if bytes < declared => (bytes, true),
            _ => (declared, false),
        };
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            limit,
            manifest_limit,
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

    fn too_long(&self) -> io::Error {
        let problem = if self.manifest_limit {
            format!(
                "length mismatch: the entry is longer than the {} bytes the manifest gives it",
                self.limit
            )
        } else {
            format!(
                "the entry inflates past the {} bytes its zip header declares (a zip bomb?)",
                self.limit
            )
        };
        io::Error::new(io::ErrorKind::InvalidData, problem)
    }
}

impl<R: Read> Read for CheckedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for no more than the limit; once there, for one byte to learn whether the
        // entry ends: the zip reader refuses that byte itself when it is past the header's
        // size, and either way the entry is too long.
        let room = self.limit - self.bytes;
        let want = match usize::try_from(room) {
            Ok(0) => buf.len().min(1),
            Ok(room) => buf.len().min(room),
            Err(_) => buf.len(),
        };
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(_) if room == 0 => return Err(self.too_long()),
            Err(err) => return Err(err),
        };
        if n as u64 > room {
            return Err(self.too_long());
        }
        self.bytes += n as u64;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// What is being read, for the meter: its limit and its name in messages.
#[derive(Clone, Copy)]
struct Metering {
    taken: u64,
    limit: u64,
    what: &'static str,
}

/// Counts the bytes read while a key, the manifest or a record is read, and refuses more
/// than its limit: each is held whole in memory, so this bounds what a file can make the
/// reader hold. Values that are skipped are not metered (they are never held).
#[derive(Default)]
struct Meter(Cell<Option<Metering>>);

impl Meter {
    fn start(&self, limit: u64, what: &'static str) {
        self.0.set(Some(Metering {
            taken: 0,
            limit,
            what,
        }));
    }

    fn stop(&self) {
        self.0.set(None);
    }

    fn add(&self, bytes: usize) -> io::Result<()> {
        let Some(mut metering) = self.0.get() else {
            return Ok(());
        };
        metering.taken += bytes as u64;
        self.0.set(Some(metering));
        if metering.taken > metering.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is larger than {} MiB",
                    metering.what,
                    metering.limit >> 20
                ),
            ));
        }
        Ok(())
    }
}

/// A reader that reports what it reads to a meter. It sits under the parser's buffer, so
/// a limit may be passed by up to one buffer (64 KiB) before it is noticed.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n)?;
        Ok(n)
    }
}

/// Refuses a byte order mark at the start of a JSON text, by name.
fn refuse_bom(reader: &mut impl BufRead, place: &str) -> Result<()> {
    let head = reader
        .fill_buf()
        .map_err(|err| invalid(place, format!("cannot read: {err}")))?;
    if head.starts_with(BYTE_ORDER_MARK) {
        return Err(invalid(place, BOM_PROBLEM));
    }
    Ok(())
}

/// A serde_json error in the reader's words: a broken document says so, and bytes that
/// are not UTF-8 are called that.
fn describe_json(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = err.to_string();
    match err.classify() {
        Category::Syntax if text.starts_with("invalid unicode code point") => {
            format!("text that is not valid UTF-8 ({text})")
        }
        Category::Syntax | Category::Eof => format!("not a valid JSON document: {text}"),
        Category::Data | Category::Io => text,
    }
}

/// Runs a serde pass, giving precedence to an error the consumer raised.
struct Pass<'a> {
    until: Until,
    /// The read stopped at the manifest, as `until` asked.
    at_manifest: bool,
    wanted: &'a [Section],
    consume: &'a mut dyn FnMut(Event<'_>) -> Result<()>,
    stopped: Option<anyhow::Error>,
    present: BTreeSet<Section>,
    meter: &'a Meter,
    /// The record being read, named in a parse error.
    reading: Option<(Section, u64)>,
}

impl Pass<'_> {
    /// The next key of a map, metered: a key is held whole too.
    fn metered_key<'de, A: MapAccess<'de>>(&self, map: &mut A) -> Result<Option<String>, A::Error> {
        self.meter.start(MAX_MANIFEST_BYTES, "a key");
        let key = map.next_key::<String>();
        self.meter.stop();
        key
    }

    fn give(&mut self, event: Event<'_>) -> Result<(), String> {
        (self.consume)(event).map_err(|err| {
            let message = format!("{err:#}");
            self.stopped = Some(err);
            message
        })
    }

    fn conclude(self, parsed: serde_json::Result<()>, place: &str) -> Result<BTreeSet<Section>> {
        match (self.stopped, parsed, self.reading) {
            (Some(err), _, _) => Err(err),
            (None, _, _) if self.at_manifest => Ok(self.present),
            (None, Err(err), Some((section, index))) => Err(invalid(
                place,
                format!("{}[{index}]: {}", section.json_key(), describe_json(&err)),
            )),
            (None, Err(err), None) => Err(invalid(place, describe_json(&err))),
            (None, Ok(()), _) => Ok(self.present),
        }
    }
}

fn read_document<R: Read>(
    reader: R,
    place: &str,
    until: Until,
    wanted: &[Section],
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<BTreeSet<Section>> {
    let meter = Meter::default();
    let mut reader = BufReader::with_capacity(
        1 << 16,
        Metered {
            inner: reader,
            meter: &meter,
        },
    );
    refuse_bom(&mut reader, place)?;
    let mut pass = Pass {
        until,
        at_manifest: false,
        wanted,
        consume,
        stopped: None,
        present: BTreeSet::new(),
        meter: &meter,
        reading: None,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = de::Deserializer::deserialize_map(&mut de, DocumentVisitor(&mut pass))
        .and_then(|()| de.end());
    pass.conclude(parsed, place)
}

/// One zip entry: a bare JSON array, split into records without a reader-driven parse.
fn read_array<R: BufRead>(
    mut reader: R,
    place: &str,
    section: Section,
    each: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<()> {
    refuse_bom(&mut reader, place)?;
    let broken = |err: io::Error| invalid(place, err);
    let mut records = ArraySplitter::open(reader).map_err(broken)?;
    let mut index = 0;
    loop {
        let record = records
            .next_element()
            .map_err(|err| invalid(place, format!("{}[{index}]: {err}", section.json_key())))?;
        let Some(record) = record else { break };
        each(record)?;
        index += 1;
    }
    records.finish().map_err(broken)
}

/// How much record text travels between the reading thread and the consuming one at a
/// time, and how many such batches may wait: together they bound the memory in between.
const BATCH_BYTES: usize = 256 << 10;
const BATCHES_IN_FLIGHT: usize = 2;

/// Records as one text and where each ends.
#[derive(Default)]
struct Batch {
    text: String,
    ends: Vec<usize>,
}

impl Batch {
    fn push(&mut self, record: &str) {
        self.text.push_str(record);
        self.ends.push(self.text.len());
    }

    fn records(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start..end])
    }
}

/// Reads one zip entry's records: a second thread inflates, hashes and splits the entry
/// while this one hands the records to `consume`, so the two halves of the work overlap.
/// Returns the entry's length and SHA-256.
fn read_in_background<R: Read + Send>(
    mut reader: CheckedReader<R>,
    place: &str,
    section: Section,
    consume: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<EntryDigest> {
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        let worker = scope.spawn(move || -> Result<EntryDigest> {
            let mut batch = Batch::default();
            let send = |batch: &mut Batch| {
                sender
                    .send(std::mem::take(batch))
                    .map_err(|_| anyhow::Error::new(StopReading))
            };
            read_array(
                BufReader::with_capacity(1 << 16, &mut reader),
                place,
                section,
                &mut |record| {
                    batch.push(record);
                    if batch.text.len() >= BATCH_BYTES {
                        send(&mut batch)?;
                    }
                    Ok(())
                },
            )?;
            send(&mut batch)?;
            reader
                .finish()
                .map_err(|err| invalid(place, format!("cannot read the entry: {err}")))
        });
        let mut index = 0;
        let mut consumed = Ok(());
        'batches: for batch in &receiver {
            for record in batch.records() {
                consumed = consume(Event::Record(section, index, record));
                if consumed.is_err() {
                    break 'batches;
                }
                index += 1;
            }
        }
        // Stops the reader if the consumer stopped first.
        drop(receiver);
        let read = worker
            .join()
            .map_err(|_| anyhow::anyhow!("{place}: the reading thread failed"))?;
        consumed?;
        read
    })
}

/// Reading stopped before the end on purpose: the consumer has what it wanted (it returns
/// this from its callback), or it has gone and the reading thread has nothing more to do.
#[derive(Debug, thiserror::Error)]
#[error("reading stopped")]
pub struct StopReading;

struct DocumentVisitor<'p, 'a>(&'p mut Pass<'a>);

impl<'de> Visitor<'de> for DocumentVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a JSON object {"exportInfo": …, "data": …}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_info = false;
        let mut seen_data = false;
        while let Some(key) = self.0.metered_key(&mut map)? {
            match key.as_str() {
                "exportInfo" if !seen_info => {
                    seen_info = true;
                    self.0.meter.start(MAX_MANIFEST_BYTES, "exportInfo");
                    let info: Value = map.next_value()?;
                    self.0
                        .give(Event::Manifest(info))
                        .map_err(de::Error::custom)?;
                    if self.0.until == Until::Manifest {
                        // Not a failure: `conclude` sees `at_manifest` first.
                        self.0.at_manifest = true;
                        return Err(de::Error::custom("stopped at the manifest"));
                    }
                }
                "data" if !seen_data => {
                    seen_data = true;
                    map.next_value_seed(DataSeed(&mut *self.0))?;
                }
                "exportInfo" | "data" => {
                    return Err(de::Error::custom(format!("duplicate key {key:?}")));
                }
                _ => {
                    self.0.meter.stop();
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
        while let Some(key) = self.0.metered_key(&mut map)? {
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
                        self.0.meter.stop();
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                None => {
                    self.0.meter.stop();
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
        loop {
            self.pass.reading = Some((self.section, index));
            self.pass.meter.start(MAX_RECORD_BYTES as u64, "the record");
            let Some(record) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            self.pass.meter.stop();
            if count_values(record.get()) > MAX_RECORD_VALUES {
                return Err(de::Error::custom(too_many_values()));
            }
            self.pass
                .give(Event::Record(self.section, index, record.get()))
                .map_err(de::Error::custom)?;
            index += 1;
        }
        self.pass.reading = None;
        Ok(())
    }
}
