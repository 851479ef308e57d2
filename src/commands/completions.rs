//! `completions`: a shell's completion script, made at run time from the clap definitions,
//! so it always matches the binary that prints it. It opens no database.

use std::io::Write;

use anyhow::Result;
use clap_complete::Shell;

use crate::cli::{self, ShellArg};

/// The name bash's script is generated under. clap_complete spells the program's name two
/// ways in a bash script when it has a hyphen, and then completes nothing after a subcommand
/// (clap-rs/clap#6421); a name without one is spelled the same everywhere. The script finds
/// the program by the word the user typed, so only its `complete` lines name it, and those
/// are given the real name.
const BASH_SAFE_NAME: &str = "bomizzel_backup";

/// The completion script for `shell`.
pub(crate) fn script(shell: ShellArg) -> String {
    let name = cli::command().get_name().to_string();
    match shell {
        ShellArg::Bash => generate(Shell::Bash, BASH_SAFE_NAME)
            .replace(&format!(" {BASH_SAFE_NAME}\n"), &format!(" {name}\n")),
        ShellArg::Zsh => generate(Shell::Zsh, &name),
        ShellArg::Fish => generate(Shell::Fish, &name),
        ShellArg::PowerShell => generate(Shell::PowerShell, &name),
    }
}

fn generate(shell: Shell, name: &str) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli::command(), name, &mut script);
    // The generators write only the strings of the clap definitions, which are UTF-8.
    String::from_utf8_lossy(&script).into_owned()
}

/// Prints the script on stdout.
pub(crate) fn run(shell: ShellArg) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(script(shell).as_bytes())?;
    out.flush()?;
    Ok(())
}
