//! TLS for PostgreSQL connections, as libpq's `sslmode`, `sslrootcert`, `sslcert` and
//! `sslkey` ask for it: rustls with its `ring` provider, through `tokio-postgres-rustls`.
//!
//! Why this connector: it is pure Rust plus `ring`'s C and assembly, which `cc` builds, so a
//! clean machine with only cargo and a C compiler builds it (`postgres-native-tls` and
//! `postgres-openssl` need OpenSSL's headers, `aws-lc-rs` cmake on some targets); and
//! `tokio-postgres-rustls` is the maintained rustls binding for rust-postgres, with SCRAM
//! channel binding (`tls-server-end-point`).
//!
//! What is checked, as libpq: `verify-full` checks that an authority of the root
//! certificates signed the server's certificate (or that it is one of them, as a self-signed
//! server certificate copied there is) and that it names the host connected to, in its
//! subject alternative names (the common name is not read, as browsers no longer do);
//! `verify-ca` the first only. `prefer` and `require` encrypt without checking, unless a
//! root certificate file is there (`sslrootcert`, else `~/.postgresql/root.crt`), which
//! makes them check as `verify-ca`. The handshake's signatures are always checked, so the
//! server must hold its certificate's key. `sslrootcert=system` takes the operating
//! system's roots and needs `verify-full`. A client certificate (`sslcert`, else
//! `~/.postgresql/postgresql.crt`, with its key, `sslkey`, else `postgresql.key`) is
//! shown when the server asks for one.
//!
//! Where libpq quietly goes on, this refuses: a file named by the URL or the environment
//! that is not there is not found (exit 6), not ignored.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Failure;

/// libpq's `sslmode`, but `allow` (which tokio-postgres cannot do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    /// The mode a value names, or why not (the same words for the URL's `sslmode` and
    /// `PGSSLMODE`).
    pub(super) fn parse(value: &str) -> Result<Self, String> {
        match value {
            "disable" => Ok(Self::Disable),
            "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            "allow" => Err(
                "sslmode=allow is not supported (it tries without TLS first); use \
                            sslmode=prefer, require, verify-ca, verify-full or disable"
                    .to_owned(),
            ),
            _ => Err(
                "sslmode is none of disable, allow, prefer, require, verify-ca, verify-full"
                    .to_owned(),
            ),
        }
    }

    /// Whether to use TLS, for tokio-postgres: the checking is the connector's.
    pub(super) fn ssl_mode(self) -> SslMode {
        match self {
            Self::Disable => SslMode::Disable,
            Self::Prefer => SslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => SslMode::Require,
        }
    }

    fn verifies(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }

    fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// A file setting: where it is, and whether the URL or the environment named it (else it
/// is libpq's default, which may be missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FileSetting {
    pub(super) path: PathBuf,
    pub(super) given: bool,
}

/// Where the roots that servers' certificates are checked against come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Roots {
    File(FileSetting),
    /// `sslrootcert=system`.
    System,
}

/// How a URL's connections use TLS. No file is read until a connection is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tls {
    pub(super) mode: Mode,
    /// None when there is no home directory for the default and none was given.
    pub(super) roots: Option<Roots>,
    pub(super) cert: Option<FileSetting>,
    pub(super) key: Option<FileSetting>,
}

impl Tls {
    /// No TLS (a socket's connections).
    pub(super) fn none() -> Self {
        Self {
            mode: Mode::Disable,
            roots: None,
            cert: None,
            key: None,
        }
    }
}

impl fmt::Display for Roots {
    /// What a refused certificate was checked against, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(file) => write!(f, "the root certificates in {}", file.path.display()),
            Self::System => f.write_str("the system's root certificates (sslrootcert=system)"),
        }
    }
}

/// The connector a URL's connections are made with; `sslmode` decides whether they use
/// it. Reads the root and client certificate files the settings name, when TLS is used.
pub(super) fn connector(tls: &Tls) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .dangerous();
    let algorithms = provider.signature_verification_algorithms;
    let roots = match tls.mode {
        Mode::Disable => None,
        mode => roots(tls.roots.as_ref(), mode)?,
    };
    let verifier = Arc::new(Verifier {
        trust: roots.map(|(roots, pinned)| Trust {
            roots,
            pinned,
            names: tls.mode == Mode::VerifyFull,
        }),
        algorithms,
    });
    let builder = builder.with_custom_certificate_verifier(verifier);
    let client = match tls.mode {
        Mode::Disable => None,
        _ => client_certificate(tls.cert.as_ref(), tls.key.as_ref())?,
    };
    let mut config = match client {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .context("cannot use the client certificate with its key")?,
        None => builder.with_no_client_auth(),
    };
    // What libpq 17 sends; servers that do not look at ALPN ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(MakeRustlsConnect::new(config))
}

/// Root certificates, and the file's certificates as they are (`Trust::pinned`).
type Trusted = (RootCertStore, Vec<CertificateDer<'static>>);

/// The roots to check the server's certificate against, if it is to be checked: always for
/// `verify-ca` and `verify-full`, else only when a root certificate file is there.
fn roots(roots: Option<&Roots>, mode: Mode) -> Result<Option<Trusted>> {
    let mut store = RootCertStore::empty();
    let mut pinned = Vec::new();
    match roots {
        None if mode.verifies() => {
            return Err(Failure::NotFound(format!(
                "sslmode={} checks the server's certificate against root certificates, and \
                 there is no home directory for ~/.postgresql/root.crt: set sslrootcert to a \
                 file of them (PEM), or to system",
                mode.name()
            ))
            .into());
        }
        None => return Ok(None),
        Some(Roots::System) => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(|e| format!(" ({e})"));
                anyhow::bail!(
                    "sslrootcert=system: the system has no root certificates this tool could \
                     read{}; install them (apt-get install ca-certificates), or set \
                     sslrootcert to a file of them",
                    why.unwrap_or_default()
                );
            }
        }
        Some(Roots::File(file)) => {
            let Some(certs) = read_certificates(file, "root certificate", mode.verifies())? else {
                return Ok(None);
            };
            let (added, _) = store.add_parsable_certificates(certs.iter().cloned());
            if added == 0 {
                anyhow::bail!(
                    "the root certificate file {} holds no certificate this tool can use",
                    file.path.display()
                );
            }
            pinned = certs;
        }
    }
    Ok(Some((store, pinned)))
}

/// The client certificate and its key, when the certificate file is there.
fn client_certificate(
    cert: Option<&FileSetting>,
    key: Option<&FileSetting>,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let Some(cert) = cert else {
        return Ok(None);
    };
    let Some(chain) = read_certificates(cert, "client certificate", false)? else {
        return Ok(None);
    };
    let Some(key) = key else {
        anyhow::bail!(
            "the client certificate {} has no key: set sslkey to its file",
            cert.path.display()
        );
    };
    let path = &key.path;
    let metadata = fs::metadata(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => Failure::NotFound(format!(
            "the client certificate {} has no key: {} does not exist; set sslkey to its file",
            cert.path.display(),
            path.display()
        ))
        .into(),
        _ => anyhow::Error::new(err).context(format!("cannot read the key {}", path.display())),
    })?;
    if !metadata.is_file() {
        return Err(Failure::Usage(format!("the key {} is not a file", path.display())).into());
    }
    refuse_open_key(path, &metadata)?;
    let key = PrivateKeyDer::from_pem_file(path).map_err(|err| {
        anyhow::anyhow!(
            "cannot read the key {} (PEM, not encrypted: this tool has no sslpassword): {err}",
            path.display()
        )
    })?;
    Ok(Some((chain, key)))
}

/// libpq's rule: a key may be read by its owner only (600), or also by its group when root
/// owns it (640).
#[cfg(unix)]
fn refuse_open_key(path: &Path, metadata: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = metadata.mode();
    let others = match metadata.uid() {
        0 => 0o037,
        _ => 0o077,
    };
    if mode & others != 0 {
        return Err(Failure::Usage(format!(
            "the key {} may be read or written by others (mode {:o}); make it readable by its \
             owner only (chmod 600), or by root's group if root owns it (chmod 640)",
            path.display(),
            mode & 0o777
        ))
        .into());
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_open_key(_path: &Path, _metadata: &fs::Metadata) -> Result<()> {
    Ok(())
}

/// The certificates of a PEM file; None when it is a default that is not there and
/// `needed` is false.
fn read_certificates(
    file: &FileSetting,
    what: &str,
    needed: bool,
) -> Result<Option<Vec<CertificateDer<'static>>>> {
    let path = &file.path;
    let missing = fs::metadata(path).is_err_and(|err| err.kind() == io::ErrorKind::NotFound);
    if missing {
        if file.given || needed {
            return Err(Failure::NotFound(format!(
                "the {what} file {} does not exist{}",
                path.display(),
                match file.given {
                    true => "",
                    false =>
                        "; set sslrootcert to a file of root certificates (PEM), or to \
                              system, or choose an sslmode that does not check them",
                }
            ))
            .into());
        }
        return Ok(None);
    }
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| anyhow::anyhow!("cannot read the {what} file {}: {err}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "the {what} file {} holds no certificate (PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(Some(certs))
}

/// The server's certificate, as libpq checks it: against root certificates (`Trust`), or
/// not at all (encryption only). The handshake's signatures are checked either way, so the
/// server must hold the key of the certificate it shows.
#[derive(Debug)]
struct Verifier {
    trust: Option<Trust>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// What a certificate is checked against: signed by one of the root certificates through
/// the intermediates the server sent, or one of them itself; and, for `verify-full`,
/// naming the host. No revocation lists (`sslcrl` is refused).
#[derive(Debug)]
struct Trust {
    roots: RootCertStore,
    /// The root file's certificates as they are: a server certificate among them is trusted
    /// as itself, as libpq trusts a self-signed certificate copied into `root.crt` (which
    /// `openssl req -x509` marks as an authority, which no chain may end with).
    pinned: Vec<CertificateDer<'static>>,
    names: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(trust) = &self.trust else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        let pinned = trust
            .pinned
            .iter()
            .any(|pin| pin.as_ref() == end_entity.as_ref());
        if !pinned {
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                &trust.roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        if trust.names {
            verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
