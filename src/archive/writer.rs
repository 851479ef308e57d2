//! Writing archives: the zip container (one JSON array per section, then a manifest with
//! each entry's length and SHA-256) and the json container (one document in the web app's
//! layout). Records are streamed in one at a time; no section is held in memory.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::digest::hex;
use super::records::{EntryDigest, MANIFEST_ENTRY, Manifest, Section};

/// The archive containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Container {
    Zip,
    Json,
}

impl Container {
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Container::Zip => "zip",
            Container::Json => "json",
        }
    }
}

/// Deflate level for zip entries. Level 2 of zlib-rs compresses several times faster than
/// the customary 6 for an archive about a sixth larger; every unzip reads it.
const DEFLATE_LEVEL: i64 = 2;

/// How many bytes of entry data travel to the compressing thread at a time, and how many
/// such chunks may wait for it: together they bound the memory between the threads. Two
/// waiting chunks keep it as busy as four did (the export takes as long), and each one
/// that waits is 256 KiB resident.
const CHUNK_BYTES: usize = 256 << 10;
const CHUNKS_IN_FLIGHT: usize = 2;

/// Writes one archive, section by section, record by record, then hands back the output.
pub(crate) struct ArchiveWriter<W> {
    sink: Sink<W>,
    manifest: Manifest,
    /// Records written to the open section, `None` between sections.
    open: Option<u64>,
    /// Sections begun so far.
    sections: usize,
    /// One record's JSON, reused so the hot loop does not allocate.
    scratch: Vec<u8>,
}

enum Sink<W> {
    Zip(ZipPipe<W>),
    Json(W),
}

impl<W: Write + Send + 'static> ArchiveWriter<W> {
    /// A zip archive. Entries are compressed on a second thread while this one reads and
    /// serializes. The zip is written front to back without seeking (each entry's sizes
    /// and CRC follow it in a data descriptor), so it can go to a pipe and be hashed on
    /// the way.
    pub(crate) fn zip(out: W, manifest: Manifest) -> io::Result<Self> {
        let pipe = ZipPipe::start(out, &manifest.exported_at)?;
        Ok(Self::new(Sink::Zip(pipe), manifest))
    }

    /// A json archive: `{"exportInfo": …, "data": {…}}`, the manifest first.
    pub(crate) fn json(mut out: W, manifest: Manifest) -> io::Result<Self> {
        out.write_all(b"{\"exportInfo\":")?;
        serde_json::to_writer(&mut out, &manifest)?;
        out.write_all(b",\n\"data\":{")?;
        Ok(Self::new(Sink::Json(out), manifest))
    }

    fn new(sink: Sink<W>, manifest: Manifest) -> Self {
        Self {
            sink,
            manifest,
            open: None,
            sections: 0,
            scratch: Vec::with_capacity(64 * 1024),
        }
    }

    pub(crate) fn begin_section(&mut self, section: Section) -> io::Result<()> {
        self.end_section()?;
        match &mut self.sink {
            Sink::Zip(pipe) => pipe.start_entry(section.entry_name())?,
            Sink::Json(out) => {
                let comma = if self.sections > 0 { "," } else { "" };
                write!(out, "{comma}\n\"{}\":", section.json_key())?;
            }
        }
        self.sections += 1;
        self.write_body(b"[")?;
        self.open = Some(0);
        Ok(())
    }

    /// Appends one record to the open section, one record per line.
    pub(crate) fn write_record<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let written = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no archive section is open"))?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(if *written == 0 { b"\n" } else { b",\n" });
        *written += 1;
        let result = serde_json::to_writer(&mut scratch, record)
            .map_err(io::Error::from)
            .and_then(|()| self.write_body(&scratch));
        self.scratch = scratch;
        result
    }

    /// Closes the open section, if any.
    fn end_section(&mut self) -> io::Result<()> {
        if self.open.take().is_some() {
            self.write_body(b"\n]\n")?;
            if let Sink::Zip(pipe) = &mut self.sink {
                pipe.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn write_body(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Zip(pipe) => pipe.write(bytes),
            Sink::Json(out) => out.write_all(bytes),
        }
    }

    /// The manifest, to complete before [`finish`](Self::finish) writes it: the zip
    /// container writes it last, the json one has written it already.
    pub(crate) fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// Completes the archive: its final manifest (with entry digests for zip) and the
    /// output, flushed.
    pub(crate) fn finish(mut self) -> io::Result<(Manifest, W)> {
        self.end_section()?;
        match self.sink {
            Sink::Zip(pipe) => pipe.finish(self.manifest),
            Sink::Json(mut out) => {
                out.write_all(b"}}\n")?;
                out.flush()?;
                Ok((self.manifest, out))
            }
        }
    }
}

/// What the serializing thread tells the compressing one.
enum Message {
    StartEntry(&'static str),
    Data(Vec<u8>),
    Finish(Box<Manifest>),
}

/// The front of the compressing thread: entry data goes over a bounded channel in chunks;
/// the thread deflates, hashes each entry, and writes the zip.
struct ZipPipe<W> {
    sender: SyncSender<Message>,
    /// `None` once joined.
    worker: Option<JoinHandle<io::Result<(Manifest, W)>>>,
    chunk: Vec<u8>,
}

impl<W: Write + Send + 'static> ZipPipe<W> {
    fn start(out: W, exported_at: &str) -> io::Result<Self> {
        let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
        let options = entry_options(exported_at);
        let worker = std::thread::Builder::new()
            .name("zip".into())
            .spawn(move || compress(receiver, out, options))?;
        Ok(Self {
            sender,
            worker: Some(worker),
            chunk: Vec::with_capacity(CHUNK_BYTES),
        })
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        match self.sender.send(message) {
            Ok(()) => Ok(()),
            // A closed channel means the worker stopped on an error: that error is the one
            // to report (a closed stdout, a full disk), not the channel's.
            Err(_) => match self.join() {
                Err(err) => Err(err),
                Ok(_) => Err(io::Error::other("the zip writer stopped early")),
            },
        }
    }

    fn join(&mut self) -> io::Result<(Manifest, W)> {
        let worker = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("the zip writer already stopped"))?;
        worker
            .join()
            .map_err(|_| io::Error::other("the zip writer panicked"))?
    }

    fn start_entry(&mut self, name: &'static str) -> io::Result<()> {
        self.send(Message::StartEntry(name))
    }

    /// Fills the chunk to exactly `CHUNK_BYTES` and sends it, so a chunk never outgrows
    /// the capacity it was made with (a record across the boundary would otherwise double
    /// it, reallocating and copying every chunk).
    fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.chunk.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.chunk.extend_from_slice(now);
            bytes = later;
            if self.chunk.len() == CHUNK_BYTES {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_BYTES));
        self.send(Message::Data(full))
    }

    fn finish(mut self, manifest: Manifest) -> io::Result<(Manifest, W)> {
        self.flush_chunk()?;
        self.send(Message::Finish(Box::new(manifest)))?;
        self.join()
    }
}

/// The compressing thread: writes the entries it is sent, each with its length and
/// SHA-256 noted, then the manifest with those digests, then the central directory.
fn compress<W: Write>(
    receiver: Receiver<Message>,
    out: W,
    options: SimpleFileOptions,
) -> io::Result<(Manifest, W)> {
    let mut zip = zip::ZipWriter::new_stream(Fuse {
        inner: out,
        failed: false,
    });
    let mut entries = BTreeMap::new();
    let mut current: Option<(&'static str, Sha256, u64)> = None;
    let mut close = |current: &mut Option<(&'static str, Sha256, u64)>| {
        if let Some((name, hasher, bytes)) = current.take() {
            let sha256 = hex(&hasher.finalize());
            entries.insert(name.to_string(), EntryDigest { bytes, sha256 });
        }
    };
    while let Ok(message) = receiver.recv() {
        match message {
            Message::StartEntry(name) => {
                close(&mut current);
                zip.start_file(name, options).map_err(io::Error::other)?;
                current = Some((name, Sha256::new(), 0));
            }
            Message::Data(bytes) => {
                if let Some((_, hasher, len)) = current.as_mut() {
                    hasher.update(&bytes);
                    *len += bytes.len() as u64;
                }
                zip.write_all(&bytes)?;
            }
            Message::Finish(manifest) => {
                close(&mut current);
                let mut manifest = *manifest;
                manifest.entries = Some(std::mem::take(&mut entries));
                zip.start_file(MANIFEST_ENTRY, options)
                    .map_err(io::Error::other)?;
                serde_json::to_writer_pretty(&mut zip, &manifest)?;
                zip.write_all(b"\n")?;
                let mut out = zip.finish().map_err(io::Error::other)?.into_inner().inner;
                out.flush()?;
                return Ok((manifest, out));
            }
        }
    }
    Err(io::Error::other(
        "the archive was abandoned before it was complete",
    ))
}

/// A writer that, once a write failed, takes no more: the zip writer's own clean-up on
/// drop then finds nothing to complain about (it would print to stderr), and the first
/// error is the one reported.
struct Fuse<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for Fuse<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Ok(buf.len());
        }
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.failed {
            return Ok(());
        }
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

/// Deflate, owner-only permissions, and the export's own time as each entry's time.
fn entry_options(exported_at: &str) -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(DEFLATE_LEVEL))
        .unix_permissions(0o600)
        .large_file(true);
    match zip_time(exported_at) {
        Some(stamp) => options.last_modified_time(stamp),
        None => options,
    }
}

/// The entries' modification time in the zip's DOS date format.
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
