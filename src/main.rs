//! The `bomizzel-backup` binary: parse, run, and turn an error into its exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use bomizzel_backup::cli::Cli;
use bomizzel_backup::error::{self, Failure};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return refused(err),
    };
    let Err(err) = bomizzel_backup::run(&cli) else {
        return ExitCode::SUCCESS;
    };
    if error::is_broken_pipe(&err) {
        return ExitCode::SUCCESS;
    }
    let code = error::classify(&err).exit_code();
    // One line, whatever an archive put into the message.
    let message = error::one_line(&format!("{err:#}"));
    // Not eprintln!, which panics when stderr fails (a terminal that hung up: SIGHUP).
    let _ = writeln!(std::io::stderr(), "bomizzel-backup: {message}");
    // A report already written carries its error itself: stdout stays one JSON document.
    if cli.global.json && !bomizzel_backup::result_written() {
        let report = serde_json::json!({ "error": error::json_error(&err) });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{report}");
    }
    ExitCode::from(code)
}

/// A command line clap refuses (exit 2), as clap prints it, with the usage and what to try;
/// with `--json`, also the error document on stdout, as for any other error. `--help` and
/// `--version` are clap's too.
fn refused(err: clap::Error) -> ExitCode {
    // No option takes `--json` as its value, so it is the flag wherever it stands before `--`.
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if !(json && err.use_stderr()) {
        err.exit();
    }
    let _ = err.print();
    // clap's first paragraph, `error: invalid value '3x' for '--since <DATE>': …`, is the
    // message; the usage and the tips after it are for people.
    let rendered = err.render().to_string();
    let first = rendered.split("\n\n").next().unwrap_or_default();
    let message = error::one_line(first.trim_start_matches("error: ").trim_end());
    let report = serde_json::json!({ "error": error::json_error(&Failure::Usage(message).into()) });
    let _ = writeln!(std::io::stdout().lock(), "{report}");
    ExitCode::from(2)
}
