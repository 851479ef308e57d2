//! The age envelope around an archive (age-encryption.org/v1, the binary format): an export
//! encrypted to public keys or a passphrase as it is written, and an encrypted archive opened
//! for the readers, whatever its name.
//!
//! The archive inside is the same zip or json container. Neither side puts plaintext on disk:
//! the export streams through the encryptor into its file, and a reader decrypts 64 KiB chunk
//! by chunk as it reads. age authenticates each chunk on its own, so the zip reader can seek
//! in the plaintext as it does in a plain file.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use age::stream::{StreamReader, StreamWriter};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::Failure;

/// The environment variable that holds the passphrase of `export --passphrase` and of the
/// passphrase archives that `import` and `verify` read. Not an option: a passphrase on the
/// command line would show in `ps` and the shell's history.
pub const PASSPHRASE_ENV: &str = "BOMIZZEL_PASSPHRASE";

/// How every binary age file begins.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// How an ASCII-armored age file (`age -a`) begins.
const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// What `format` says in the log and the report.
const FORMAT: &str = "age-encryption.org/v1";

/// The longest age header read: 16 KiB, room for about 20 ssh-rsa or 150 age recipients. A
/// longer one is refused before it is parsed (age's parser goes back to the start for each
/// line it needs).
pub const MAX_AGE_HEADER_BYTES: u64 = 16 << 10;
/// The scrypt work factor (log2 of N) of the passphrase archives export writes: 18, as the
/// reference `age` writes them (about a second's work), rather than one calibrated to this
/// machine, which a slower one could then refuse.
const PASSPHRASE_WORK_FACTOR: u8 = 18;
/// The highest scrypt work factor a passphrase archive may ask for: 20, which takes 1 GiB of
/// memory; `age` writes 18, `rage` about a second's worth of its machine. Higher is refused
/// before any work, so a hostile file cannot ask for more.
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 20;

/// The largest identity or recipients file read: 1 MiB (a key is a few KiB at most).
const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// The kind of encryption, as the export log and report record it: never the passphrase.
/// Read back from the log, a key it lacks is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    /// `age-encryption.org/v1`.
    #[serde(default)]
    pub format: String,
    /// The public keys it is encrypted to, as given (an SSH key with its comment).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Whether it is encrypted with a passphrase instead.
    #[serde(default)]
    pub passphrase: bool,
}

/// An export's encryption, ready to wrap its output.
pub struct Sealing {
    encryptor: age::Encryptor,
    pub encryption: Encryption,
}

impl Sealing {
    /// The encryption that `--recipient`, `--recipients-file` and `--passphrase` ask for;
    /// `None` when they ask for none. A key that is not one, or a passphrase that cannot be
    /// had, is a usage error before anything is written.
    pub fn from_options(
        recipients: &[String],
        recipient_files: &[PathBuf],
        passphrase: bool,
    ) -> Result<Option<Self>> {
        if passphrase {
            return Self::with_passphrase(new_passphrase()?).map(Some);
        }
        let mut keys = Vec::new();
        for text in recipients {
            keys.push(parse_recipient(text).map_err(|problem| {
                Failure::Usage(format!("--recipient {}: {problem}", abbreviated(text)))
            })?);
        }
        for path in recipient_files {
            keys.extend(read_recipients_file(path)?);
        }
        if keys.is_empty() {
            return Ok(None);
        }
        let encryptor = age::Encryptor::with_recipients(
            keys.iter()
                .map(|(key, _)| key.as_ref() as &dyn age::Recipient),
        )
        .map_err(|err| Failure::Usage(format!("cannot encrypt to these keys: {err}")))?;
        Ok(Some(Self {
            encryptor,
            encryption: Encryption {
                format: FORMAT.to_owned(),
                recipients: keys.into_iter().map(|(_, text)| text).collect(),
                passphrase: false,
            },
        }))
    }

    fn with_passphrase(passphrase: SecretString) -> Result<Self> {
        let mut recipient = age::scrypt::Recipient::new(passphrase);
        recipient.set_work_factor(PASSPHRASE_WORK_FACTOR);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|err| anyhow::anyhow!("cannot encrypt with the passphrase: {err}"))?;
        Ok(Self {
            encryptor,
            encryption: Encryption {
                format: FORMAT.to_owned(),
                recipients: Vec::new(),
                passphrase: true,
            },
        })
    }
}

/// An archive's output: through the age encryptor when the export is encrypted.
pub enum Sealed<W: Write> {
    Plain(W),
    Age(StreamWriter<W>),
}

impl<W: Write> Sealed<W> {
    /// Wraps `out`; an encrypted one starts with the age header.
    pub fn new(out: W, sealing: Option<Sealing>) -> io::Result<Self> {
        match sealing {
            None => Ok(Sealed::Plain(out)),
            Some(sealing) => Ok(Sealed::Age(sealing.encryptor.wrap_output(out)?)),
        }
    }

    /// Writes the last encrypted chunk, and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Sealed::Plain(out) => Ok(out),
            Sealed::Age(out) => out.finish(),
        }
    }
}

impl<W: Write> Write for Sealed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(out) => out.write(buf),
            Sealed::Age(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(out) => out.flush(),
            Sealed::Age(out) => out.flush(),
        }
    }
}

/// A public key as `age -r` takes it, with the text to record for it.
type RecipientKey = (Box<dyn age::Recipient + Send>, String);

/// An age public key (`age1…`) or an SSH public key line (`ssh-ed25519 AAAA… comment`).
fn parse_recipient(text: &str) -> Result<RecipientKey, String> {
    use age::ssh::ParseRecipientKeyError as Ssh;
    let text = text.trim();
    if let Ok(key) = text.parse::<age::x25519::Recipient>() {
        return Ok((Box::new(key), text.to_owned()));
    }
    if text.starts_with("age1") {
        return Err("not a valid age public key".into());
    }
    match text.parse::<age::ssh::Recipient>() {
        Ok(key) => Ok((Box::new(key), text.to_owned())),
        Err(Ssh::RsaModulusTooSmall) => {
            Err("an ssh-rsa key shorter than 2048 bits, which age does not encrypt to".into())
        }
        Err(Ssh::RsaModulusTooLarge) => {
            Err("an ssh-rsa key longer than age supports (16384 bits)".into())
        }
        Err(Ssh::Unsupported(kind)) => Err(format!(
            "an SSH key of type {kind}, which age cannot encrypt to (ssh-ed25519 and ssh-rsa keys it can)"
        )),
        Err(_) => Err(
            "neither an age public key (age1…) nor an SSH public key line (ssh-ed25519 …, ssh-rsa …)"
                .into(),
        ),
    }
}

/// The public keys of a recipients file: one a line, `#` comments and blank lines skipped.
fn read_recipients_file(path: &Path) -> Result<Vec<RecipientKey>> {
    let text = read_key_file(path, "recipients file", "--recipients-file")?;
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.push(parse_recipient(line).map_err(|problem| {
            Failure::Usage(format!(
                "--recipients-file {} line {}: {problem}",
                path.display(),
                number + 1
            ))
        })?);
    }
    if keys.is_empty() {
        return Err(Failure::Usage(format!(
            "--recipients-file {}: holds no public key",
            path.display()
        ))
        .into());
    }
    Ok(keys)
}

/// A key or recipients file's text: a missing file is "not found" (exit status 6).
fn read_key_file(path: &Path, what: &str, option: &str) -> Result<String> {
    let file = File::open(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => {
            Failure::NotFound(format!("{what} not found: {} ({option})", path.display())).into()
        }
        _ => anyhow::Error::new(err).context(format!("cannot read {option} {}", path.display())),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {option} {}", path.display()))?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(Failure::Usage(format!(
            "{option} {}: larger than {} MiB, which no {what} is",
            path.display(),
            MAX_KEY_FILE_BYTES >> 20
        ))
        .into());
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::Usage(format!("{option} {}: not text", path.display())).into())
}

/// Whether a terminal is there to ask on: stderr shows the question, and the answer comes
/// from stdin or, when stdin carries the archive, from the controlling terminal (as age
/// asks). A cron job has neither.
fn can_ask() -> bool {
    io::stderr().is_terminal()
        && (io::stdin().is_terminal()
            || File::options()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .is_ok())
}

/// The passphrase from `BOMIZZEL_PASSPHRASE`, if set.
fn passphrase_from_env() -> Result<Option<SecretString>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(text) if text.is_empty() => Err(Failure::Usage(format!(
            "{PASSPHRASE_ENV} is empty; an empty passphrase protects nothing"
        ))
        .into()),
        Ok(text) => Ok(Some(SecretString::from(text))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::Usage(format!("{PASSPHRASE_ENV} is not valid UTF-8")).into())
        }
    }
}

/// A new archive's passphrase: from the environment, or typed twice on a terminal.
fn new_passphrase() -> Result<SecretString> {
    if let Some(passphrase) = passphrase_from_env()? {
        return Ok(passphrase);
    }
    if !can_ask() {
        return Err(Failure::Usage(format!(
            "--passphrase needs {PASSPHRASE_ENV} when there is no terminal to ask on"
        ))
        .into());
    }
    let typed = dialoguer::Password::new()
        .with_prompt("Passphrase for the archive")
        .with_confirmation("Type it again", "The two passphrases differ; try again.")
        .interact()
        .context("cannot read the passphrase from the terminal")?;
    if typed.is_empty() {
        return Err(Failure::Usage(
            "an empty passphrase protects nothing; nothing was exported".into(),
        )
        .into());
    }
    Ok(SecretString::from(typed))
}

/// What may open an encrypted archive: the identity files given (`--identity`,
/// `BOMIZZEL_IDENTITY`), and a passphrase from the environment or a terminal. Nothing is
/// read until an archive turns out to be encrypted.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    identity_files: Vec<PathBuf>,
}

impl Keys {
    pub fn new(identity_files: Vec<PathBuf>) -> Self {
        Self { identity_files }
    }
}

/// What a file's first bytes say about encryption.
pub enum Envelope {
    None,
    /// Binary age: this module opens it.
    Age,
    /// ASCII-armored age (`age -a`), which the readers do not take.
    Armored,
}

impl Envelope {
    pub fn of(head: &[u8]) -> Self {
        if head.starts_with(AGE_MAGIC) {
            Envelope::Age
        } else if head.starts_with(ARMOR_MAGIC) {
            Envelope::Armored
        } else {
            Envelope::None
        }
    }
}

/// The plaintext of an age file, decrypted as it is read; seekable.
pub struct Plaintext(StreamReader<BufReader<File>>);

impl Read for Plaintext {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(damaged)
    }
}

impl Seek for Plaintext {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos).map_err(damaged)
    }
}

/// A chunk that fails its authentication, or a file that ends early, in the words of the
/// reader's messages (which call it invalid: exit status 3).
fn damaged(err: io::Error) -> io::Error {
    match err.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the encrypted archive is damaged or truncated ({err})"),
        ),
        _ => err,
    }
}

/// Opens an age-encrypted archive with the keys given. Nothing that opens it: exit status 8;
/// a damaged header: 3.
pub fn open(mut file: File, label: &str, keys: &Keys) -> Result<Plaintext> {
    let invalid = |problem: String| -> anyhow::Error {
        Failure::InvalidArchive(format!("{label}: {problem}")).into()
    };
    check_header_length(&mut file).map_err(invalid)?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file))
        .map_err(|err| invalid(format!("an age file whose header is damaged ({err})")))?;
    let decrypted = if decryptor.is_scrypt() {
        let passphrase = archive_passphrase(label)?;
        let mut identity = age::scrypt::Identity::new(passphrase.secret);
        identity.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
        decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|err| match err {
                age::DecryptError::DecryptionFailed => Failure::CannotDecrypt(format!(
                    "{label} is encrypted with a passphrase, and the one {} does not open it",
                    passphrase.from
                ))
                .into(),
                other => decrypt_error(other, label),
            })?
    } else {
        let identities = read_identities(&keys.identity_files, label)?;
        decryptor
            .decrypt(
                identities
                    .iter()
                    .map(|key| key.as_ref() as &dyn age::Identity),
            )
            .map_err(|err| match err {
                age::DecryptError::NoMatchingKeys => Failure::CannotDecrypt(format!(
                    "{label} is encrypted to other keys than the --identity given ({})",
                    keys.identity_files
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into(),
                other => decrypt_error(other, label),
            })?
    };
    Ok(Plaintext(decrypted))
}

/// Refuses a header longer than [`MAX_AGE_HEADER_BYTES`] (its last line starts `---`).
fn check_header_length(file: &mut File) -> Result<(), String> {
    let mut head = Vec::new();
    let read = (&mut *file)
        .take(MAX_AGE_HEADER_BYTES)
        .read_to_end(&mut head)
        .and_then(|_| file.seek(SeekFrom::Start(0)));
    if let Err(err) = read {
        return Err(format!("cannot read its age header: {err}"));
    }
    let complete = head.windows(4).any(|w| w == b"\n---");
    if !complete && head.len() as u64 >= MAX_AGE_HEADER_BYTES {
        return Err(format!(
            "an age header longer than the {} KiB accepted",
            MAX_AGE_HEADER_BYTES >> 10
        ));
    }
    Ok(())
}

/// Everything but "nothing opens it": the file is damaged (exit status 3).
fn decrypt_error(err: age::DecryptError, label: &str) -> anyhow::Error {
    let problem = match err {
        age::DecryptError::ExcessiveWork { required, .. } => format!(
            "its passphrase asks for scrypt work factor {required}, more than the {MAX_SCRYPT_WORK_FACTOR} accepted (which takes 1 GiB of memory); decrypt it with age"
        ),
        other => format!("an age file whose header is damaged ({other})"),
    };
    Failure::InvalidArchive(format!("{label}: {problem}")).into()
}

/// A passphrase to open an archive with, and where it came from (for the message when it
/// is wrong).
struct GivenPassphrase {
    secret: SecretString,
    from: &'static str,
}

/// The passphrase of an archive: from the environment, or typed on a terminal.
fn archive_passphrase(label: &str) -> Result<GivenPassphrase> {
    if let Some(secret) = passphrase_from_env()? {
        return Ok(GivenPassphrase {
            secret,
            from: PASSPHRASE_ENV,
        });
    }
    if !can_ask() {
        return Err(Failure::CannotDecrypt(format!(
            "{label} is encrypted with a passphrase (not to a key, so --identity does not open it): set {PASSPHRASE_ENV}, or run it on a terminal to type it"
        ))
        .into());
    }
    let typed = dialoguer::Password::new()
        .with_prompt(format!("Passphrase of {label}"))
        .allow_empty_password(true)
        .interact()
        .context("cannot read the passphrase from the terminal")?;
    Ok(GivenPassphrase {
        secret: SecretString::from(typed),
        from: "typed",
    })
}

type Identity = Box<dyn age::Identity + Send + Sync>;

/// The keys of every identity file given. None given: exit status 8 (the archive cannot be
/// opened), as is a file that holds no key age can use.
fn read_identities(paths: &[PathBuf], label: &str) -> Result<Vec<Identity>> {
    if paths.is_empty() {
        return Err(Failure::CannotDecrypt(format!(
            "{label} is encrypted; give the private key that opens it with --identity (or BOMIZZEL_IDENTITY)"
        ))
        .into());
    }
    let mut identities = Vec::new();
    for path in paths {
        let text = read_key_file(path, "identity file", "--identity")?;
        identities.extend(parse_identity_file(&text, path).map_err(|problem| {
            Failure::CannotDecrypt(format!("--identity {}: {problem}", path.display()))
        })?);
    }
    Ok(identities)
}

/// An unencrypted OpenSSH private key, or an age identity file (`AGE-SECRET-KEY-1…` lines),
/// tried in that order as age does.
fn parse_identity_file(text: &str, path: &Path) -> Result<Vec<Identity>, String> {
    use age::ssh::{Identity as Ssh, UnsupportedKey};
    let name = Some(path.display().to_string());
    match Ssh::from_buffer(text.as_bytes(), name) {
        Ok(key @ Ssh::Unencrypted(_)) => return Ok(vec![Box::new(key)]),
        Ok(Ssh::Encrypted(_)) | Ok(Ssh::Unsupported(UnsupportedKey::EncryptedPem)) => {
            return Err(
                "an SSH key protected by a passphrase; give an unencrypted copy (ssh-keygen -p -N '' -f COPY)"
                    .into(),
            );
        }
        Ok(Ssh::Unsupported(UnsupportedKey::EncryptedSsh(cipher))) => {
            return Err(format!(
                "an SSH key encrypted with {cipher}; give an unencrypted copy"
            ));
        }
        Ok(Ssh::Unsupported(UnsupportedKey::Hardware(kind) | UnsupportedKey::Type(kind))) => {
            return Err(format!(
                "an SSH key of type {kind}, which age cannot decrypt with (ssh-ed25519 and ssh-rsa keys it can)"
            ));
        }
        Err(_) => {}
    }
    let file = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|err| {
        format!(
            "neither an age identity file (AGE-SECRET-KEY-1… lines) nor an unencrypted OpenSSH private key ({err})"
        )
    })?;
    let identities = file
        .into_identities()
        .map_err(|err| format!("unusable identity ({err})"))?;
    if identities.is_empty() {
        return Err("holds no key (age identities are lines AGE-SECRET-KEY-1…)".into());
    }
    Ok(identities)
}

/// A key as a message shows it: long SSH keys cut short.
fn abbreviated(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{:?}…", &text[..at]),
        None => format!("{text:?}"),
    }
}
