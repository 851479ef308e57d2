//! Lengths and SHA-256 checksums: of what a writer passes on (an archive as it is written, a
//! zip entry), and of a file already written, in the lowercase hex the manifest and the log
//! record.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::records::EntryDigest;

/// A writer that counts and hashes what passes through it: the archive file's own length
/// and SHA-256, without reading it back.
pub(crate) struct DigestWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> DigestWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, and the length and SHA-256 of everything written.
    pub(crate) fn finish(self) -> (W, EntryDigest) {
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

/// The length and SHA-256 of a file already written, as `DigestWriter` gave them when it
/// was: read in one streaming pass, whatever the file's size.
pub(crate) fn digest_file(path: &Path) -> io::Result<EntryDigest> {
    let mut file = io::BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut digest = DigestWriter::new(io::sink());
    io::copy(&mut file, &mut digest)?;
    Ok(digest.finish().1)
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
