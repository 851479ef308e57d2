//! Running the binary on a terminal, as an operator at a keyboard does: `script` (util-linux,
//! in every Debian) gives it a pseudo-terminal for stdin, stdout and stderr, and the answers
//! are typed into that terminal.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a run on a terminal showed: its exit status and everything the terminal received
/// (stdout and stderr together, progress bars and prompts included).
pub struct Session {
    pub code: Option<i32>,
    pub screen: String,
}

/// Runs the binary with `args` on a pseudo-terminal, typing `typed` as the operator would.
pub fn run(args: &[&str], typed: &str) -> Session {
    run_in(String::new(), args, typed)
}

/// `run` on a terminal `columns` wide.
pub fn run_with_width(args: &[&str], typed: &str, columns: u16) -> Session {
    run_in(format!("stty cols {columns} rows 50 && "), args, typed)
}

/// Runs `setup` (shell commands that end in `&&`, or nothing), then the binary.
fn run_in(setup: String, args: &[&str], typed: &str) -> Session {
    let binary = assert_cmd::cargo::cargo_bin(super::BINARY);
    let line = setup
        + &std::iter::once(binary.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|word| quote(&word))
            .collect::<Vec<_>>()
            .join(" ");
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env_remove("BOMIZZEL_DB")
        .env_remove("BOMIZZEL_COMPANY")
        .env_remove("BOMIZZEL_ACTOR")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run `script` (util-linux) to get a terminal");
    child
        .stdin
        .take()
        .expect("script's stdin")
        .write_all(typed.as_bytes())
        .expect("type into the terminal");
    let output = child.wait_with_output().expect("wait for script");
    Session {
        code: output.status.code(),
        screen: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// `--db PATH` then `args`, for `run`.
pub fn with_db<'a>(db: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--db", db.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    all
}

/// A word for `sh -c`, in single quotes.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
