//! Writes the demo database for the README's quick start:
//! `cargo run --example demo-db -- demo.db`, with `--force` to replace an existing file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[path = "../fixtures/demo.rs"]
mod demo;

#[derive(Debug, Parser)]
#[command(about = "Write the demo database (two companies) for the README's quick start")]
struct Args {
    /// The database file to write
    path: PathBuf,

    /// Replace the file if it exists (it is refused otherwise)
    #[arg(long)]
    force: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match demo::write_demo(&args.path, args.force) {
        Ok(()) => {
            eprintln!("wrote {}", args.path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("demo-db: {err:#}");
            ExitCode::FAILURE
        }
    }
}
