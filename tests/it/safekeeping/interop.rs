//! Interoperability with the reference `age` command (the Debian package `age`): a file this
//! tool writes decrypts with `age -d`, and files `age` writes import and verify.

use std::fs;

use crate::safekeeping::encryption::{assert_restores, export_acme};
use crate::safekeeping::keys::{self, age};
use crate::support::{self, Archive, Demo, json_ok, terminal};

#[test]
fn an_archive_we_encrypt_decrypts_with_age_to_the_same_archive() {
    let demo = Demo::new();
    let age_key = keys::age_key(demo.dir.path(), "ops");
    let ssh = keys::ssh_key(demo.dir.path(), "ed25519");
    let (file, _) = export_acme(
        &demo,
        &[
            "-r".as_ref(),
            age_key.recipient.as_ref(),
            "-r".as_ref(),
            ssh.line.as_ref(),
        ],
    );
    let plain = Archive::read(&demo.export_acme("plain.zip"));
    for identity in [&age_key.identity, &ssh.private] {
        let decrypted = age(&[
            "-d".as_ref(),
            "-i".as_ref(),
            identity.as_os_str(),
            file.as_os_str(),
        ])
        .stdout;
        let inside = Archive::parse(&decrypted);
        // The same records, section by section; only the export's own metadata differs.
        assert_eq!(inside.sections, plain.sections);
        assert_eq!(inside.manifest["companyId"], plain.manifest["companyId"]);
    }
}

#[test]
fn files_age_encrypts_to_keys_import_and_verify() {
    let demo = Demo::new();
    let plain = demo.export_acme("acme.zip");
    let age_key = keys::age_key(demo.dir.path(), "ops");
    let rsa = keys::ssh_key(demo.dir.path(), "rsa");
    let by_age = demo.out_path("by-age.bin");
    let by_ssh = demo.out_path("by-ssh");
    age(&[
        "-r".as_ref(),
        age_key.recipient.as_ref(),
        "-o".as_ref(),
        by_age.as_os_str(),
        plain.as_os_str(),
    ]);
    age(&[
        "-R".as_ref(),
        rsa.public.as_os_str(),
        "-o".as_ref(),
        by_ssh.as_os_str(),
        plain.as_os_str(),
    ]);
    // Recognised by content: neither name says age.
    assert_restores(
        &demo,
        &by_age,
        &["-i".as_ref(), age_key.identity.as_os_str()],
    );
    assert_restores(&demo, &by_ssh, &["-i".as_ref(), rsa.private.as_os_str()]);
    let report = json_ok(
        support::bin()
            .args(["--json", "verify", "-i"])
            .arg(&age_key.identity)
            .arg(&by_age),
    );
    assert_eq!(report["restorable"], true);
    assert_eq!(report["encrypted"], true);
}

#[test]
fn a_file_age_encrypts_with_a_passphrase_imports_with_bomizzel_passphrase() {
    let demo = Demo::new();
    let plain = demo.export_acme("acme.json");
    let sealed = demo.out_path("acme.json.age");
    let session = terminal::converse(
        Some("age"),
        &[
            "-p",
            "-o",
            sealed.to_str().unwrap(),
            plain.to_str().unwrap(),
        ],
        &[],
        &[
            ("Enter passphrase", "from age"),
            ("Confirm passphrase", "from age"),
        ],
    );
    assert_eq!(session.code, Some(0), "age -p: {}", session.screen);
    assert!(
        fs::read(&sealed)
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    support::cmd(&db).arg("init").assert().success();
    support::cmd(&db)
        .env("BOMIZZEL_PASSPHRASE", "from age")
        .args([
            "--actor",
            support::ids::ACME_ADMIN,
            "import",
            "--create-company",
        ])
        .arg(&sealed)
        .assert()
        .success();
    assert_eq!(
        support::RecordIds::in_db(&support::open_db(&db), support::ids::ACME),
        support::RecordIds::in_db(&demo.conn(), support::ids::ACME)
    );
}

#[test]
fn an_armored_age_file_is_refused_with_the_way_out() {
    let demo = Demo::new();
    let plain = demo.export_acme("acme.zip");
    let key = keys::age_key(demo.dir.path(), "ops");
    let armored = demo.out_path("acme.zip.age");
    age(&[
        "-a".as_ref(),
        "-r".as_ref(),
        key.recipient.as_ref(),
        "-o".as_ref(),
        armored.as_os_str(),
        plain.as_os_str(),
    ]);
    let err = support::fails_with(
        support::bin()
            .arg("verify")
            .arg("-i")
            .arg(&key.identity)
            .arg(&armored),
        3,
    );
    assert!(
        err.contains("ASCII-armored") && err.contains("age -d"),
        "{err}"
    );
}
