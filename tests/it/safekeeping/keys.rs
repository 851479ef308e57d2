//! Keys as operators make them, and the reference `age` command, for the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An age key pair made by `age-keygen`: the identity file and its public key.
pub struct AgeKey {
    pub identity: PathBuf,
    pub recipient: String,
}

/// An OpenSSH key pair made by `ssh-keygen` without a passphrase.
pub struct SshKey {
    pub private: PathBuf,
    pub public: PathBuf,
    /// The public key line, `ssh-ed25519 AAAA… comment`.
    pub line: String,
}

/// Runs a command the tests need, which must succeed; a missing command fails the test
/// naming the Debian package that has it (`scripts/test` installs it).
pub fn run(program: &str, package: &str, args: &[&std::ffi::OsStr]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `{program}` ({err}): the tests need the Debian package {package} \
             (apt-get install {package}, or run `scripts/test`, which installs it)"
            )
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A new age key in `dir/<name>.key`.
pub fn age_key(dir: &Path, name: &str) -> AgeKey {
    let identity = dir.join(format!("{name}.key"));
    run("age-keygen", "age", &["-o".as_ref(), identity.as_os_str()]);
    let public = run("age-keygen", "age", &["-y".as_ref(), identity.as_os_str()]);
    let recipient = String::from_utf8(public.stdout)
        .expect("age-keygen prints text")
        .trim()
        .to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    AgeKey {
        identity,
        recipient,
    }
}

/// A new SSH key of `kind` (`ed25519` or `rsa`, 3072 bits as ssh-keygen makes them) in
/// `dir/<kind>`, without a passphrase.
pub fn ssh_key(dir: &Path, kind: &str) -> SshKey {
    let private = dir.join(format!("id_{kind}"));
    run(
        "ssh-keygen",
        "openssh-client",
        &[
            "-q".as_ref(),
            "-t".as_ref(),
            kind.as_ref(),
            "-N".as_ref(),
            "".as_ref(),
            "-C".as_ref(),
            "ops@laptop".as_ref(),
            "-f".as_ref(),
            private.as_os_str(),
        ],
    );
    let public = private.with_extension("pub");
    let line = std::fs::read_to_string(&public)
        .expect("ssh-keygen writes the public key")
        .trim()
        .to_owned();
    SshKey {
        private,
        public,
        line,
    }
}

/// The reference `age` with `args`, which must succeed.
pub fn age(args: &[&std::ffi::OsStr]) -> Output {
    run("age", "age", args)
}
