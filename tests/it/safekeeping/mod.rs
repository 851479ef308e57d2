//! Encrypted archives and `verify` (issue 12): the age envelope round trip with every kind of
//! key, what happens when nothing opens an archive or its ciphertext is damaged, stdin and
//! stdout, interoperability with the reference `age` command, and `verify` on good, damaged,
//! encrypted and web-app archives.
//!
//! The keys are made by the tools operators use (`age-keygen`, `ssh-keygen`), and the files
//! are checked with the real `age`: `scripts/test` installs them; without them these tests
//! fail naming the Debian package.

mod encryption;
mod interop;
pub(crate) mod keys;
mod verify;
