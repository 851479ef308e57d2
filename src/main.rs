//! The `bomizzel-backup` binary: parse, run, and turn an error into its exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use bomizzel_backup::cli::Cli;
use bomizzel_backup::error;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
