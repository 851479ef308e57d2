//! `export` to age public keys or a passphrase, and `import` opening the result: round trips
//! with each kind of key, the log row, the refusals, and what a failure leaves behind.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::safekeeping::keys::{self, AgeKey};
use crate::support::{
    self, Archive, Demo, RecordIds, contains_bytes, count_rows, fails_with, ids, json_ok, mode,
    sha256_hex, stderr_of, table_rows, terminal,
};

/// The first bytes of every binary age file.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

/// Exports Acme into `out/` with `args` (the encryption options and perhaps `-o`), and
/// returns the file it wrote and the `--json` report.
pub fn export_acme(demo: &Demo, args: &[&OsStr]) -> (PathBuf, Value) {
    let report = json_ok(
        demo.acme()
            .current_dir(&demo.out)
            .args(["--json", "export"])
            .args(args),
    );
    let file = PathBuf::from(report["file"].as_str().expect("the report names the file"));
    (file, report)
}

/// Restores `archive` into a new database with `--create-company` as Acme's admin, opening
/// it with `open` (identity options), and checks it holds exactly Acme's records.
pub fn assert_restores(demo: &Demo, archive: &Path, open: &[&OsStr]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("new.db");
    support::cmd(&db).arg("init").assert().success();
    let output = support::cmd(&db)
        .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
        .args(open)
        .arg(archive)
        .output()
        .expect("run the import");
    assert!(
        output.status.success(),
        "restoring {} failed: {}",
        archive.display(),
        stderr_of(&output)
    );
    assert_eq!(
        RecordIds::in_db(&support::open_db(&db), ids::ACME),
        RecordIds::in_db(&demo.conn(), ids::ACME),
        "the restore of {} holds other records than Acme's",
        archive.display()
    );
}

/// `-r KEY` for each key.
fn to_keys<'a>(keys: &[&'a str]) -> Vec<&'a OsStr> {
    keys.iter()
        .flat_map(|&k| [OsStr::new("-r"), OsStr::new(k)])
        .collect()
}

/// Acme's personal data, which no encrypted archive may show: an email and a ticket title.
fn assert_ciphertext_only(bytes: &[u8]) {
    assert!(bytes.starts_with(AGE_HEADER), "not a binary age file");
    for plain in [
        &b"PK\x03\x04"[..],
        b"manifest.json",
        ids::ACME_ADMIN.as_bytes(),
        b"exportInfo",
    ] {
        assert!(
            !contains_bytes(bytes, plain),
            "the encrypted archive shows {:?}",
            String::from_utf8_lossy(plain)
        );
    }
}

#[test]
fn an_x25519_archive_is_ciphertext_named_age_logged_and_restores_with_its_identity() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let (file, report) = export_acme(&demo, &to_keys(&[&key.recipient]));

    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("bomizzel-acme-corp-") && name.ends_with(".zip.age"),
        "default name {name}"
    );
    assert_eq!(
        file.parent(),
        Some(fs::canonicalize(&demo.out).unwrap().as_path())
    );
    assert_eq!(mode(&file), 0o600);
    let bytes = fs::read(&file).unwrap();
    assert_ciphertext_only(&bytes);
    assert_eq!(report["format"], "zip");
    assert_eq!(report["bytes"], bytes.len());
    assert_eq!(report["sha256"], sha256_hex(&bytes));
    assert_eq!(
        report["encryption"],
        serde_json::json!({"format": "age-encryption.org/v1", "recipients": [key.recipient], "passphrase": false})
    );
    // The log row is what prune and history go by: the file as written, and the key.
    let logged = demo.export_detail(report["exportId"].as_str().unwrap());
    assert_eq!(logged["sha256"], sha256_hex(&bytes));
    assert_eq!(logged["bytes"], bytes.len());
    assert_eq!(logged["file"], file.display().to_string());
    assert_eq!(logged["encryption"]["recipients"][0], key.recipient);

    assert_restores(&demo, &file, &["-i".as_ref(), key.identity.as_os_str()]);
    assert_eq!(
        support::files_under(&demo.out).len(),
        1,
        "nothing but the archive in the output folder"
    );
}

#[test]
fn an_ssh_ed25519_archive_restores_with_the_private_key() {
    let demo = Demo::new();
    let key = keys::ssh_key(demo.dir.path(), "ed25519");
    let (file, report) = export_acme(&demo, &to_keys(&[&key.line]));
    assert_ciphertext_only(&fs::read(&file).unwrap());
    // Recorded as given, with its comment: that is how operators tell their keys apart.
    assert_eq!(report["encryption"]["recipients"][0], key.line.as_str());
    assert_restores(
        &demo,
        &file,
        &["--identity".as_ref(), key.private.as_os_str()],
    );
}

#[test]
fn an_ssh_rsa_archive_restores_with_the_private_key() {
    let demo = Demo::new();
    let key = keys::ssh_key(demo.dir.path(), "rsa");
    let (file, _) = export_acme(&demo, &to_keys(&[&key.line]));
    assert_ciphertext_only(&fs::read(&file).unwrap());
    assert_restores(&demo, &file, &["-i".as_ref(), key.private.as_os_str()]);
}

#[test]
fn an_archive_for_several_recipients_opens_with_each_identity_alone() {
    let demo = Demo::new();
    let age_key = keys::age_key(demo.dir.path(), "ops");
    let ed25519 = keys::ssh_key(demo.dir.path(), "ed25519");
    let rsa = keys::ssh_key(demo.dir.path(), "rsa");
    let list = demo.dir.path().join("operators.txt");
    fs::write(
        &list,
        format!(
            "# the operators' keys\n\n{}\n   \n# Bob's laptop\n{}\n",
            ed25519.line, rsa.line
        ),
    )
    .unwrap();
    let mut args = to_keys(&[&age_key.recipient]);
    args.extend(["-R".as_ref(), list.as_os_str()]);
    let (file, report) = export_acme(&demo, &args);
    assert_eq!(
        report["encryption"]["recipients"],
        serde_json::json!([age_key.recipient, ed25519.line, rsa.line])
    );
    for identity in [&age_key.identity, &ed25519.private, &rsa.private] {
        assert_restores(&demo, &file, &["-i".as_ref(), identity.as_os_str()]);
    }
}

#[test]
fn a_passphrase_archive_restores_with_bomizzel_passphrase_and_the_passphrase_is_kept_nowhere() {
    let demo = Demo::new();
    let secret = "correct horse battery staple";
    let out = demo.out_path("acme.json.age");
    let report = json_ok(
        demo.acme()
            .env("BOMIZZEL_PASSPHRASE", secret)
            .args(["--json", "export", "--passphrase", "-o"])
            .arg(&out),
    );
    assert_eq!(report["format"], "json", "the name before .age picks json");
    assert_eq!(
        report["encryption"],
        serde_json::json!({"format": "age-encryption.org/v1", "recipients": [], "passphrase": true})
    );
    let bytes = fs::read(&out).unwrap();
    assert_ciphertext_only(&bytes);
    let everything = format!("{:?}", table_rows(&demo.conn()));
    assert!(
        !everything.contains(secret),
        "the passphrase is in the database"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    support::cmd(&db).arg("init").assert().success();
    support::cmd(&db)
        .env("BOMIZZEL_PASSPHRASE", secret)
        .args(["--actor", ids::ACME_ADMIN, "import", "--create-company"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        RecordIds::in_db(&support::open_db(&db), ids::ACME),
        RecordIds::in_db(&demo.conn(), ids::ACME)
    );
}

#[test]
fn a_passphrase_is_asked_twice_on_a_terminal_and_once_to_open_the_archive() {
    let demo = Demo::new();
    let out = demo.out_path("acme.zip.age");
    let out_text = out.to_str().unwrap();
    let session = terminal::converse(
        None,
        &terminal::with_db(
            &demo.db,
            &[
                "--company",
                "Acme Corp",
                "--actor",
                ids::ACME_ADMIN,
                "export",
                "--passphrase",
                "-o",
                out_text,
            ],
        ),
        &[],
        &[
            ("Passphrase for the archive", "typed secret"),
            ("Type it again", "typed secret"),
        ],
    );
    assert_eq!(session.code, Some(0), "{}", session.screen);
    assert!(
        !session.screen.contains("typed secret"),
        "the passphrase was echoed"
    );
    assert_ciphertext_only(&fs::read(&out).unwrap());

    support::bin()
        .env("BOMIZZEL_PASSPHRASE", "typed secret")
        .args(["verify"])
        .arg(&out)
        .assert()
        .success();
    let session = terminal::converse(
        None,
        &["verify", out_text],
        &[],
        &[("Passphrase of", "typed secret")],
    );
    assert_eq!(session.code, Some(0), "{}", session.screen);
    assert!(session.screen.contains("restorable"), "{}", session.screen);
}

#[test]
fn a_passphrase_off_a_terminal_without_the_variable_is_a_usage_error() {
    let demo = Demo::new();
    let err = fails_with(
        demo.acme()
            .current_dir(&demo.out)
            .args(["export", "--passphrase"]),
        2,
    );
    assert!(err.contains("BOMIZZEL_PASSPHRASE"), "{err}");
    assert!(support::files_under(&demo.out).is_empty());
    assert_eq!(count_rows(&demo.conn(), "data_export_logs"), 0);
}

#[test]
fn keys_and_names_that_make_no_sense_are_usage_errors_and_write_nothing() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let dsa_like = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=";
    let cases: [(&[&str], &str); 5] = [
        (&["-o", "acme.zip.age"], "encrypted archive"),
        (
            &["--passphrase", "-r", &key.recipient],
            "cannot be used with",
        ),
        (&["-r", "age1notakey"], "not a valid age public key"),
        (&["-r", "hello"], "neither an age public key"),
        (&["-r", dsa_like], "ecdsa-sha2-nistp256"),
    ];
    for (args, says) in cases {
        let err = fails_with(
            demo.acme()
                .current_dir(&demo.out)
                .env("BOMIZZEL_PASSPHRASE", "x")
                .arg("export")
                .args(args),
            2,
        );
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let empty_list = demo.dir.path().join("none.txt");
    fs::write(&empty_list, "# nobody yet\n").unwrap();
    let err = fails_with(
        demo.acme()
            .current_dir(&demo.out)
            .args(["export", "-R"])
            .arg(&empty_list),
        2,
    );
    assert!(err.contains("holds no public key"), "{err}");
    let err = fails_with(
        demo.acme()
            .current_dir(&demo.out)
            .args(["export", "-R", "missing.txt"]),
        6,
    );
    assert!(err.contains("missing.txt"), "{err}");
    assert!(support::files_under(&demo.out).is_empty());
    assert_eq!(count_rows(&demo.conn(), "data_export_logs"), 0);
}

#[test]
fn dash_streams_ciphertext_and_dash_reads_it_back() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let output = demo
        .acme()
        .args(["export", "-o", "-", "-r", &key.recipient])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_ciphertext_only(&output.stdout);
    let logged: String = demo
        .conn()
        .query_row("SELECT exported_data FROM data_export_logs", [], |r| {
            r.get(0)
        })
        .unwrap();
    let logged = support::json(logged.as_bytes());
    assert_eq!(logged["file"], "-");
    assert_eq!(logged["sha256"], sha256_hex(&output.stdout));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    support::cmd(&db).arg("init").assert().success();
    support::cmd(&db)
        .args([
            "--actor",
            ids::ACME_ADMIN,
            "import",
            "--create-company",
            "-",
        ])
        .env("BOMIZZEL_IDENTITY", &key.identity)
        .write_stdin(output.stdout.clone())
        .assert()
        .success();
    assert_eq!(
        RecordIds::in_db(&support::open_db(&db), ids::ACME),
        RecordIds::in_db(&demo.conn(), ids::ACME)
    );
    let report = json_ok(
        support::bin()
            .args(["--json", "verify", "-i"])
            .arg(&key.identity)
            .arg("-")
            .write_stdin(output.stdout),
    );
    assert_eq!(report["restorable"], true);
    assert_eq!(report["encrypted"], true);
    assert_eq!(report["source"]["file"], "-");
}

/// Runs an import into the demo as Acme's admin that must fail with `code`, and checks it
/// wrote nothing but its failed log row. Returns its stderr.
fn assert_failed_import_wrote_only_its_log(
    demo: &Demo,
    args: &[&OsStr],
    env: &[(&str, &str)],
    code: i32,
) -> String {
    let before = table_rows(&demo.conn());
    let err = fails_with(
        demo.acme()
            .envs(env.iter().copied())
            .args(["import", "--skip-duplicates"])
            .args(args),
        code,
    );
    let mut after = table_rows(&demo.conn());
    let mut logs_before = before.clone();
    let new_logs = after.remove("data_import_logs").unwrap_or_default();
    let old_logs = logs_before.remove("data_import_logs").unwrap_or_default();
    assert_eq!(after, logs_before, "the failed import changed the database");
    assert_eq!(new_logs.len(), old_logs.len() + 1, "one log row more");
    let status: String = demo
        .conn()
        .query_row(
            "SELECT imported_data ->> '$.status' FROM data_import_logs ORDER BY created_at DESC, rowid DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(status, "failed");
    err
}

#[test]
fn nothing_that_opens_the_archive_is_exit_8_saying_which_and_writes_only_the_failed_log_row() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let other = keys::age_key(demo.dir.path(), "other");
    let other_ssh = keys::ssh_key(demo.dir.path(), "ed25519");
    let (file, _) = export_acme(&demo, &to_keys(&[&key.recipient]));
    let secret_file = demo.out_path("secret.zip.age");
    demo.acme()
        .env("BOMIZZEL_PASSPHRASE", "right")
        .args(["-q", "export", "--passphrase", "-o"])
        .arg(&secret_file)
        .assert()
        .success();
    let not_a_key = demo.dir.path().join("notes.txt");
    fs::write(&not_a_key, "remember the milk\n").unwrap();

    /// An import that nothing opens: its arguments, environment and what it must say.
    struct Case<'a> {
        args: Vec<&'a OsStr>,
        env: Vec<(&'a str, &'a str)>,
        says: &'a str,
    }
    let i = OsStr::new("-i");
    let cases = [
        Case {
            args: vec![file.as_os_str()],
            env: vec![],
            says: "--identity",
        },
        Case {
            args: vec![i, other.identity.as_os_str(), file.as_os_str()],
            env: vec![],
            says: "other keys than the --identity given",
        },
        Case {
            args: vec![i, other_ssh.private.as_os_str(), file.as_os_str()],
            env: vec![],
            says: "other keys than the --identity given",
        },
        Case {
            args: vec![i, not_a_key.as_os_str(), file.as_os_str()],
            env: vec![],
            says: "neither an age identity file",
        },
        Case {
            args: vec![secret_file.as_os_str()],
            env: vec![("BOMIZZEL_PASSPHRASE", "wrong")],
            says: "the one BOMIZZEL_PASSPHRASE does not open it",
        },
        Case {
            args: vec![i, key.identity.as_os_str(), secret_file.as_os_str()],
            env: vec![],
            says: "set BOMIZZEL_PASSPHRASE",
        },
    ];
    for Case { args, env, says } in cases {
        let err = assert_failed_import_wrote_only_its_log(&demo, &args, &env, 8);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    // verify says the same, with the same status.
    let err = fails_with(support::bin().arg("verify").arg(&file), 8);
    assert!(err.contains("--identity"), "{err}");
}

#[test]
fn a_flipped_byte_or_a_truncated_ciphertext_is_an_invalid_archive() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let (file, _) = export_acme(&demo, &to_keys(&[&key.recipient]));
    let bytes = fs::read(&file).unwrap();
    let header_end = bytes
        .windows(4)
        .position(|w| w == b"\n---")
        .expect("an age header");
    let mut flipped = bytes.clone();
    let middle = header_end + (bytes.len() - header_end) / 2;
    flipped[middle] ^= 0x01;
    let damaged = [
        ("flipped.age", flipped),
        ("truncated.age", bytes[..bytes.len() - 100].to_vec()),
        ("payload-gone.age", bytes[..header_end + 60].to_vec()),
        ("header-cut.age", bytes[..header_end / 2].to_vec()),
    ];
    let identity = ["-i".as_ref(), key.identity.as_os_str()];
    for (name, bytes) in damaged {
        let path = demo.out_path(name);
        fs::write(&path, bytes).unwrap();
        let mut args = identity.to_vec();
        args.push(path.as_os_str());
        let err = assert_failed_import_wrote_only_its_log(&demo, &args, &[], 3);
        assert!(err.contains(name), "{name}: {err}");
        let err = fails_with(support::bin().arg("verify").args(&args), 3);
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn identities_are_read_only_for_an_encrypted_archive() {
    let demo = Demo::new();
    let plain = demo.export_acme("acme.zip");
    support::bin()
        .env(
            "BOMIZZEL_IDENTITY",
            demo.dir.path().join("not-mounted/backup.key"),
        )
        .arg("verify")
        .arg(&plain)
        .assert()
        .success();
    let key = keys::age_key(demo.dir.path(), "ops");
    let (file, _) = export_acme(&demo, &to_keys(&[&key.recipient]));
    let err = fails_with(
        support::bin()
            .env(
                "BOMIZZEL_IDENTITY",
                demo.dir.path().join("not-mounted/backup.key"),
            )
            .arg("verify")
            .arg(&file),
        6,
    );
    assert!(err.contains("not-mounted/backup.key"), "{err}");
}

#[test]
fn the_container_inside_follows_format_and_the_name_before_age() {
    let demo = Demo::new();
    let key: AgeKey = keys::age_key(demo.dir.path(), "ops");
    let decrypt = |file: &Path| {
        keys::age(&[
            "-d".as_ref(),
            "-i".as_ref(),
            key.identity.as_os_str(),
            file.as_os_str(),
        ])
        .stdout
    };
    let cases: [(&[&str], &str); 3] = [
        (&["-o", "a.json.age"], "json"),
        (&["-o", "b.zip.age"], "zip"),
        (&["--format", "json", "-o", "."], "json"),
    ];
    for (args, format) in cases {
        let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        all.extend(to_keys(&[&key.recipient]));
        let (file, report) = export_acme(&demo, &all);
        assert_eq!(report["format"], format, "{args:?}");
        let inside = decrypt(&file);
        let archive = Archive::parse(&inside);
        assert_eq!(
            archive.records("tickets").len(),
            support::count(
                &demo.conn(),
                "SELECT count(*) FROM tickets WHERE company_id = ?1",
                [ids::ACME]
            ) as usize
        );
        assert_eq!(inside.starts_with(b"PK"), format == "zip", "{args:?}");
        if args.contains(&".") {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.ends_with(".json.age"), "default name {name}");
        }
    }
}

#[test]
fn an_encrypted_export_imports_by_its_export_id_and_prune_and_history_take_it_as_any_other() {
    let demo = Demo::new();
    let key = keys::age_key(demo.dir.path(), "ops");
    let (file, report) = export_acme(&demo, &to_keys(&[&key.recipient]));
    let export_id = report["exportId"].as_str().unwrap();

    // --export-id finds the recorded file, which is recognised as encrypted by its content.
    let err = fails_with(
        demo.acme()
            .args(["import", "--skip-duplicates", "--export-id", export_id]),
        8,
    );
    assert!(err.contains("--identity"), "{err}");
    demo.acme()
        .args([
            "-q",
            "import",
            "--skip-duplicates",
            "--export-id",
            export_id,
            "-i",
        ])
        .arg(&key.identity)
        .assert()
        .success();

    let entry = json_ok(demo.acme().args(["--json", "history", export_id]));
    assert_eq!(entry["fileExists"], true, "{entry}");
    assert_eq!(
        entry["detail"]["encryption"]["recipients"][0],
        key.recipient.as_str()
    );
    // The detail view says so in words.
    let shown = support::stdout_ok(demo.acme().args(["history", export_id]));
    let lines = support::detail_lines(&shown);
    assert_eq!(
        support::value(&lines, "encrypted"),
        format!("with age, to the key {}", key.recipient),
        "{shown}"
    );

    // prune checks the size and SHA-256 of the file as written, the ciphertext: unchanged,
    // an old encrypted archive goes like any other.
    demo.conn()
        .execute(
            "UPDATE data_export_logs SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')
             WHERE export_id = ?1",
            [export_id],
        )
        .unwrap();
    let pruned =
        json_ok(
            demo.acme()
                .args(["--json", "prune", "--older-than", "7d", "--keep-last", "0"]),
        );
    assert_eq!(pruned["deleted"][0]["exportId"], export_id, "{pruned}");
    assert!(!file.exists(), "the encrypted archive was pruned");
}
