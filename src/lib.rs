//! bomizzel-backup: back up and restore one company's data in a Bomizzel helpdesk SQLite
//! database. `main` parses the command line and calls [`run`]; tests call the same code.

// Public: what the integration tests, the examples and the man page generator use.
pub mod archive;
pub mod cli;
pub mod db;
pub mod error;
pub mod interrupt;
pub mod when;

pub(crate) mod commands;
pub(crate) mod report;
pub(crate) mod restore;
pub(crate) mod verify;

pub use report::result_written;
pub use restore::job::validate_archive;

use anyhow::Result;

/// The program and its version, as archives and log rows name the tool that wrote them.
pub const TOOL: &str = concat!("bomizzel-backup ", env!("CARGO_PKG_VERSION"));

use cli::{Cli, Command};
use report::Reporter;

/// Runs one parsed command line.
pub fn run(cli: &Cli) -> Result<()> {
    let reporter = Reporter::new(cli.global.quiet, cli.global.json, cli.global.verbose);
    match &cli.command {
        Command::Init => commands::init::run(&cli.global, &reporter),
        Command::Export(args) => commands::export::run(&cli.global, args, &reporter),
        Command::Import(args) => commands::import::run(&cli.global, args, &reporter),
        Command::History(args) => commands::history::run(&cli.global, args, &reporter),
        Command::Prune(args) => commands::prune::run(&cli.global, args, &reporter),
        // No global options but the output's: `list` never opens a database.
        Command::List(args) => commands::list::run(args, &reporter),
        Command::Verify(args) => commands::verify::run(&cli.global, args, &reporter),
        Command::Completions(args) => commands::completions::run(args.shell),
    }
}
