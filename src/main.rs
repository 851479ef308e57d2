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
    let (code, kind) = error::classify(&err);
    eprintln!("bomizzel-backup: {err:#}");
    if cli.global.json {
        let report = serde_json::json!({
            "error": { "kind": kind, "exitCode": code, "message": format!("{err:#}") }
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{report}");
    }
    ExitCode::from(code)
}
