//! Running the binary on a terminal, as an operator at a keyboard does: `script` (util-linux,
//! in every Debian) gives it a pseudo-terminal for stdin, stdout and stderr, and the answers
//! are typed into that terminal.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    let mut child = spawn(&setup, &binary.to_string_lossy(), args, &[]);
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

/// Runs `program` (a path, or the binary under test when `None`) with `args` and `env` on a
/// pseudo-terminal, and answers each prompt in turn: it waits until the screen shows the
/// prompt's text, then types the answer. For prompts that read without echo (passphrases),
/// which throw away whatever was typed before they asked.
pub fn converse(
    program: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
    answers: &[(&str, &str)],
) -> Session {
    let binary = assert_cmd::cargo::cargo_bin(super::BINARY);
    let program = program.map_or_else(|| binary.to_string_lossy().into_owned(), str::to_owned);
    let mut child = spawn("", &program, args, env);
    let mut stdout = child.stdout.take().expect("script's stdout");
    let (sender, screen_updates) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || sender.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().expect("script's stdin");
    let mut screen = Vec::new();
    let mut seen = 0;
    for (prompt, answer) in answers {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let shown = String::from_utf8_lossy(&screen[seen..]).into_owned();
            if let Some(at) = shown.find(prompt) {
                seen += at + prompt.len();
                break;
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            match screen_updates.recv_timeout(wait) {
                Ok(bytes) => screen.extend(bytes),
                Err(_) => panic!(
                    "no prompt {prompt:?} on the terminal; it shows:\n{}",
                    String::from_utf8_lossy(&screen)
                ),
            }
        }
        // The prompt is drawn before the terminal is set to read without echo, which drops
        // what was typed ahead: give it a moment.
        std::thread::sleep(Duration::from_millis(300));
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("type into the terminal");
        stdin.flush().expect("type into the terminal");
    }
    let status = child.wait().expect("wait for script");
    drop(stdin);
    reader.join().expect("the terminal reader");
    screen.extend(screen_updates.try_iter().flatten());
    Session {
        code: status.code(),
        screen: String::from_utf8_lossy(&screen).into_owned(),
    }
}

/// `script` running `setup` (shell commands that end in `&&`, or nothing), then `program
/// args`, on a new pseudo-terminal, with `env` added and the database choices of the
/// developer's environment removed.
fn spawn(setup: &str, program: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    let line = setup.to_owned()
        + &std::iter::once(program)
            .chain(args.iter().copied())
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ");
    Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env_remove("BOMIZZEL_DB")
        .env_remove("BOMIZZEL_COMPANY")
        .env_remove("BOMIZZEL_ACTOR")
        .env_remove("BOMIZZEL_PASSPHRASE")
        .env_remove("BOMIZZEL_IDENTITY")
        .envs(env.iter().copied())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run `script` (util-linux) to get a terminal")
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
