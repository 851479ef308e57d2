//! Writing archives: the zip container (one JSON array per section, then a manifest with
//! each entry's length and SHA-256) and the json container (one document in the web app's
//! layout). Records are streamed in one at a time; no section is held in memory.

use std::collections::BTreeMap;
use std::io::{self, Seek, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::records::{EntryDigest, Manifest, Section};

/// The archive containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    Zip,
    Json,
}

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Container::Zip => "zip",
            Container::Json => "json",
        }
    }
}

/// Deflate level for zip entries: the usual speed/size balance.
const DEFLATE_LEVEL: i64 = 6;

/// Where sections go. `begin` sees the manifest before any section (the json container
/// writes it first); `finish` sees it after every section (the zip container adds the
/// entry digests and writes it last).
trait Sink {
    fn begin(&mut self, manifest: &Manifest) -> io::Result<()>;
    fn begin_section(&mut self, section: Section) -> io::Result<()>;
    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn end_section(&mut self) -> io::Result<()>;
    fn finish(&mut self, manifest: &mut Manifest) -> io::Result<()>;
}

/// Writes one archive, section by section, record by record.
pub struct ArchiveWriter<'w> {
    sink: Box<dyn Sink + 'w>,
    manifest: Manifest,
    /// Records written to the open section, `None` between sections.
    open: Option<u64>,
    /// One record's JSON, reused so the hot loop does not allocate.
    scratch: Vec<u8>,
}

impl<'w> ArchiveWriter<'w> {
    /// A zip archive. It is written front to back without seeking (each entry's sizes and
    /// CRC follow it in a data descriptor), so it can go to a pipe and be hashed on the way.
    pub fn zip<W: Write + 'w>(out: W, manifest: Manifest) -> io::Result<Self> {
        let sink = ZipSink::new(zip::ZipWriter::new_stream(out), &manifest.exported_at);
        Self::start(Box::new(sink), manifest)
    }

    /// A json archive: `{"exportInfo": …, "data": {…}}`.
    pub fn json<W: Write + 'w>(out: W, manifest: Manifest) -> io::Result<Self> {
        Self::start(Box::new(JsonSink::new(out)), manifest)
    }

    fn start(mut sink: Box<dyn Sink + 'w>, manifest: Manifest) -> io::Result<Self> {
        sink.begin(&manifest)?;
        Ok(Self {
            sink,
            manifest,
            open: None,
            scratch: Vec::with_capacity(64 * 1024),
        })
    }

    pub fn begin_section(&mut self, section: Section) -> io::Result<()> {
        self.end_section()?;
        self.sink.begin_section(section)?;
        self.sink.write_body(b"[")?;
        self.open = Some(0);
        Ok(())
    }

    /// Appends one record to the open section, one record per line.
    pub fn write_record<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let written = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no archive section is open"))?;
        self.scratch.clear();
        self.scratch
            .extend_from_slice(if *written == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut self.scratch, record)?;
        *written += 1;
        self.sink.write_body(&self.scratch)
    }

    pub fn end_section(&mut self) -> io::Result<()> {
        if self.open.take().is_some() {
            self.sink.write_body(b"\n]\n")?;
            self.sink.end_section()?;
        }
        Ok(())
    }

    /// Completes the archive and returns its final manifest (with entry digests for zip).
    pub fn finish(mut self) -> io::Result<Manifest> {
        self.end_section()?;
        self.sink.finish(&mut self.manifest)?;
        Ok(self.manifest)
    }
}

/// A writer that counts and hashes what passes through it: the archive file's own length
/// and SHA-256, without reading it back.
pub struct DigestWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> DigestWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, and the length and SHA-256 of everything written.
    pub fn finish(self) -> (W, EntryDigest) {
        let digest = EntryDigest {
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        };
        (self.inner, digest)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

struct ZipSink<W: Write + Seek> {
    /// `None` once the archive is finished.
    zip: Option<zip::ZipWriter<W>>,
    options: SimpleFileOptions,
    /// The open entry: its name, hash and length so far.
    current: Option<(&'static str, Sha256, u64)>,
    entries: BTreeMap<String, EntryDigest>,
}

impl<W: Write + Seek> ZipSink<W> {
    fn new(zip: zip::ZipWriter<W>, exported_at: &str) -> Self {
        let mut options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .unix_permissions(0o600)
            .large_file(true);
        if let Some(stamp) = zip_time(exported_at) {
            options = options.last_modified_time(stamp);
        }
        Self {
            zip: Some(zip),
            options,
            current: None,
            entries: BTreeMap::new(),
        }
    }

    fn zip(&mut self) -> io::Result<&mut zip::ZipWriter<W>> {
        self.zip
            .as_mut()
            .ok_or_else(|| io::Error::other("the zip archive is already finished"))
    }

    fn start_entry(&mut self, name: &'static str) -> io::Result<()> {
        let options = self.options;
        self.zip()?
            .start_file(name, options)
            .map_err(io::Error::other)
    }
}

/// The entries' modification time: the export's own time, in the zip's DOS date format.
fn zip_time(exported_at: &str) -> Option<zip::DateTime> {
    use chrono::{Datelike, Timelike};
    let at = chrono::DateTime::parse_from_rfc3339(exported_at).ok()?;
    zip::DateTime::from_date_and_time(
        u16::try_from(at.year()).ok()?,
        u8::try_from(at.month()).ok()?,
        u8::try_from(at.day()).ok()?,
        u8::try_from(at.hour()).ok()?,
        u8::try_from(at.minute()).ok()?,
        u8::try_from(at.second()).ok()?,
    )
    .ok()
}

/// The zip entry that describes the archive.
pub const MANIFEST_ENTRY: &str = "manifest.json";

impl<W: Write + Seek> Sink for ZipSink<W> {
    fn begin(&mut self, _manifest: &Manifest) -> io::Result<()> {
        Ok(())
    }

    fn begin_section(&mut self, section: Section) -> io::Result<()> {
        self.start_entry(section.entry_name())?;
        self.current = Some((section.entry_name(), Sha256::new(), 0));
        Ok(())
    }

    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some((_, hasher, len)) = self.current.as_mut() {
            hasher.update(bytes);
            *len += bytes.len() as u64;
        }
        self.zip()?.write_all(bytes)
    }

    fn end_section(&mut self) -> io::Result<()> {
        if let Some((name, hasher, bytes)) = self.current.take() {
            let sha256 = hex(&hasher.finalize());
            self.entries
                .insert(name.to_string(), EntryDigest { bytes, sha256 });
        }
        Ok(())
    }

    fn finish(&mut self, manifest: &mut Manifest) -> io::Result<()> {
        manifest.entries = Some(std::mem::take(&mut self.entries));
        self.start_entry(MANIFEST_ENTRY)?;
        let zip = self.zip()?;
        serde_json::to_writer_pretty(&mut *zip, &*manifest)?;
        zip.write_all(b"\n")?;
        // Writes the central directory; the caller flushes and syncs its own writer.
        match self.zip.take() {
            Some(zip) => zip.finish().map(drop).map_err(io::Error::other),
            None => Ok(()),
        }
    }
}

/// The json container: the manifest as `exportInfo`, then each section under `data`.
struct JsonSink<W: Write> {
    out: W,
    sections: usize,
}

impl<W: Write> JsonSink<W> {
    fn new(out: W) -> Self {
        Self { out, sections: 0 }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn begin(&mut self, manifest: &Manifest) -> io::Result<()> {
        self.out.write_all(b"{\"exportInfo\":")?;
        serde_json::to_writer(&mut self.out, manifest)?;
        self.out.write_all(b",\n\"data\":{")
    }

    fn begin_section(&mut self, section: Section) -> io::Result<()> {
        if self.sections > 0 {
            self.out.write_all(b",")?;
        }
        self.sections += 1;
        write!(self.out, "\n\"{}\":", section.json_key())
    }

    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    fn end_section(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _manifest: &mut Manifest) -> io::Result<()> {
        self.out.write_all(b"}}\n")?;
        self.out.flush()
    }
}
