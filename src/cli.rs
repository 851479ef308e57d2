//! The command line: every clap definition, and nothing that acts on it.
//!
//! Values are typed as they are read (`when`'s parsers for dates, ages and seconds), so a
//! bad one is a usage error from clap. The commands take plain typed values built from these
//! structs; `main` and the man page generator are the only other readers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::when::{self, Age, DateBound};

/// The exit status table, shown by `--help` and in the man page.
pub const EXIT_STATUS: &str = "\
Exit status:
  0  done; for import --validate-only: a valid archive whose plan has no conflicts
  1  something unexpected failed (reading or writing a file, the database)
  2  the command line asks for something impossible
  3  the archive is unreadable, damaged, fails its checksums or fails validation; for
     verify: it does not restore to the same records
  4  records already exist; choose --skip-duplicates or --overwrite
  5  permission denied: the actor is unknown, inactive or not an admin of the company
  6  not found: the archive, database, company or export id, an export's file, or the
     folder an export is to be written in
  7  the database stayed locked past --busy-timeout; try again later
  8  the archive is encrypted and nothing given opens it: no --identity, a wrong one, or a
     wrong passphrase
  128+N  stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): an export leaves no
         file, an import changes nothing, and either is logged as interrupted";

#[derive(Debug, Parser)]
#[command(
    name = "bomizzel-backup",
    version,
    about = "Back up and restore one company's data in a Bomizzel helpdesk database",
    long_about = "Back up and restore one company's data in a Bomizzel helpdesk SQLite database.\n\n\
        `export` writes a company's users, custom fields, tickets (with their notes and history) \
        and attachment metadata to a ZIP or JSON archive as one consistent snapshot, encrypted \
        with age when asked. `import` restores such an archive, or a file exported by the \
        Bomizzel web app, all or nothing. `verify` proves that an archive restores, without \
        touching any database. Passwords never leave the database.",
    after_help = EXIT_STATUS,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

/// The database used when neither --db nor BOMIZZEL_DB names one, in the current directory.
pub const DEFAULT_DB: &str = "bomizzel.db";

/// Options every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// The Bomizzel database: a SQLite file, or a PostgreSQL URL
    ///
    /// A value that starts with postgresql:// or postgres:// is a PostgreSQL URL, libpq
    /// style: postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...], or
    /// postgresql:///DATABASE?host=/run/postgresql for a unix socket. What the URL leaves
    /// out comes from its service (service=NAME, else PGSERVICE: libpq's service file), then
    /// libpq's PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT,
    /// PGSSLKEY, PGCONNECT_TIMEOUT, PGAPPNAME, PGOPTIONS, ..., as with psql (then the local
    /// socket, port 5432, the OS user, a database named after the user, the files in
    /// ~/.postgresql), and the password, when the URL has none, from PGPASSWORD, else the
    /// password file (PGPASSFILE, else ~/.pgpass). sslmode=verify-ca and verify-full check
    /// the server's certificate against sslrootcert (a PEM file, or system); sslcert and
    /// sslkey are a client certificate. Anything else is a SQLite file. [default:
    /// ./bomizzel.db]
    // No clap default: a command must tell a database it was given from the default one
    // (`db_path` applies it), to say what to do when it is missing.
    #[arg(long, env = "BOMIZZEL_DB", value_name = "PATH|URL", global = true)]
    pub db: Option<PathBuf>,

    /// The company, by id or name; may be left out when the database holds only one
    #[arg(
        long,
        env = "BOMIZZEL_COMPANY",
        value_name = "ID_OR_NAME",
        global = true
    )]
    pub company: Option<String>,

    /// Who is running the command: the email of an active admin of the company
    #[arg(long, env = "BOMIZZEL_ACTOR", value_name = "EMAIL", global = true)]
    pub actor: Option<String>,

    /// How long to wait for a lock held by another process before giving up (exit 7); on
    /// PostgreSQL, the lock_timeout
    #[arg(
        long,
        env = "BOMIZZEL_BUSY_TIMEOUT",
        value_name = "SECONDS",
        default_value = "5",
        value_parser = when::parse_seconds,
        // So that `--busy-timeout -1` is refused as a timeout, not taken for a flag.
        allow_negative_numbers = true,
        global = true
    )]
    pub busy_timeout: Duration,

    /// Print errors only
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also say what the command is doing, step by step, on stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print a machine-readable JSON report on stdout
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalOpts {
    /// The database: --db or BOMIZZEL_DB when given, else `DEFAULT_DB`.
    pub fn db_path(&self) -> &Path {
        self.db.as_deref().unwrap_or(Path::new(DEFAULT_DB))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty Bomizzel database
    #[command(after_help = "Example:\n  bomizzel-backup init --db /srv/bomizzel/new.db")]
    Init,
    /// Write one company's data to a ZIP or JSON archive
    #[command(after_help = "\
Examples:
  bomizzel-backup --company \"Acme Corp\" --actor ada@acme.example export -o /backups/
  bomizzel-backup export --no-users --since 2026-01-01 --until 2026-06-30 -o h1.zip
  bomizzel-backup export --since 7d -o last-week.zip
  bomizzel-backup export -o - | ssh backup-host 'cat > acme.zip'
  bomizzel-backup export -o /backups/ -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  bomizzel-backup export -o /backups/ --recipients-file /etc/bomizzel/operators.txt")]
    Export(ExportArgs),
    /// Restore an archive into a company, all or nothing
    ///
    /// On PostgreSQL, a restore into a database that holds no tickets, notes, history or
    /// attachments yet is loaded as pg_restore loads an empty database: the keys, indexes
    /// and foreign keys of those four tables are set aside, made again and checked over
    /// every row before the commit, and other sessions wait on those tables until then;
    /// into a database without users, the users and their memberships likewise. When that
    /// cannot start at once (a table in use, a role that does not own them), the rows go
    /// in one by one instead.
    #[command(after_help = "\
Examples:
  bomizzel-backup import --validate-only backup.zip          # check the file alone
  bomizzel-backup --actor ada@acme.example import --validate-only backup.zip   # and plan
  bomizzel-backup --actor ada@acme.example import --skip-duplicates backup.zip
  bomizzel-backup --db new.db --actor ada@acme.example import --create-company backup.zip
  bomizzel-backup --company \"Acme Corp\" --actor ada@acme.example import --skip-duplicates \\
      --ticket b0000000-0000-4000-8000-000000000001 backup.zip   # one deleted ticket back
  bomizzel-backup import --skip-duplicates --tickets-from ids.txt backup.zip   # one id a line
  bomizzel-backup --actor ada@acme.example import -i ~/.ssh/id_ed25519 backup.zip.age")]
    Import(ImportArgs),
    /// Prove that an archive restores: restore it into a scratch database, export it again
    /// and compare
    #[command(
        long_about = "Prove that an archive restores. `verify` restores the archive as `import \
            --create-company` would, into a temporary database that it makes the way `init` \
            does and that goes when it ends, exports that company again and compares the \
            records with the archive's (ids and export metadata aside). It needs no database, \
            company or actor, ignores --db, and changes nothing anywhere. It prints what it \
            restored per section and `restorable`, or the first differences; exit status 0 \
            when the archive restores completely and identically, 3 when it does not, 8 when \
            it cannot be decrypted.\n\n\
            It runs as the archive's exporter when that user is among the archive's users, \
            else as no one. A person the archive names but does not hold (a --no-users \
            archive, someone no longer a member) cannot be restored as such: those \
            references are reported as adjusted and left out of the comparison. Files from \
            the web app restore with the translations import reports as warnings.",
        after_help = "\
Examples:
  bomizzel-backup verify /backups/bomizzel-acme-corp-20261123T023000123Z.zip
  bomizzel-backup verify -i /root/keys/backup.key /backups/bomizzel-acme-corp-20261123T023000123Z.zip.age
  ssh backup-host 'cat acme.zip.age' | bomizzel-backup verify -i backup.key -"
    )]
    Verify(VerifyArgs),
    /// List the company's recent exports, imports and prunes, or show one in full
    ///
    /// On a terminal the listing fits its width: long file paths are shortened in the
    /// middle (…), then long summaries at the end; `history ID` and --json give them whole.
    /// Piped or redirected (to grep, to a file), every row is printed in full.
    #[command(after_help = "\
Examples:
  bomizzel-backup history                      # the last 20 entries
  bomizzel-backup history --limit 0            # all of them
  bomizzel-backup history --kind import --limit 5
  bomizzel-backup history export_20261125T143000Z_1a2b3c4d")]
    History(HistoryArgs),
    /// Delete old archive files that this company's export log records
    #[command(after_help = "\
Examples:
  bomizzel-backup prune --older-than 12w --dry-run   # what would go
  bomizzel-backup prune --older-than 12w --keep-last 3
  bomizzel-backup prune --keep-last 3 --keep-weekly 13   # one a week for three months
  bomizzel-backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run
  bomizzel-backup --company \"Acme Corp\" --actor ada@acme.example prune --keep-weekly 4 --dry-run
  bomizzel-backup prune --older-than 24h --keep-last 0   # download copies after a day")]
    Prune(PruneArgs),
    /// Show what an archive holds, and its tickets, without a database
    #[command(
        long_about = "Show what an archive holds without restoring it: the company, the export \
            (id, time, who), the sections and counts, the tickets' date window, the format and \
            the tool that wrote it. With --tickets (or any ticket filter), one line per ticket: \
            id, creation time, status, priority, counts of notes, history entries and \
            attachments, and title. Reads every archive this tool writes and the web app's \
            files, from a file or stdin; needs no database, company or actor.",
        after_help = "\
Examples:
  bomizzel-backup list backup.zip
  bomizzel-backup list --tickets --status open --since 2026-11-01 backup.zip
  bomizzel-backup list --grep printer /backups/bomizzel-acme-corp-20261123T023000Z.zip
  bomizzel-backup --json list --tickets - < backup.json"
    )]
    List(ListArgs),
    /// Print the shell completion script for bash, zsh, fish or PowerShell on stdout
    #[command(
        long_about = "Print the shell completion script for bash, zsh, fish or PowerShell on \
            stdout. It is made from this program's own options, so it always matches the \
            installed version; it needs no database, company or actor.",
        after_help = "\
Examples:
  bomizzel-backup completions bash > ~/.local/share/bash-completion/completions/bomizzel-backup
  bomizzel-backup completions zsh > ~/.zfunc/_bomizzel-backup   # with fpath+=~/.zfunc
  bomizzel-backup completions fish > ~/.config/fish/completions/bomizzel-backup.fish"
    )]
    Completions(CompletionsArgs),
}

/// What `export` writes, and where.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The archive file, a directory to put it in (which must exist), or - for stdout (not a
    /// terminal) [default: ./bomizzel-<company>-<UTC time to the millisecond>.zip, .zip.age
    /// when encrypted, with -2, -3, … added should that name be taken]
    #[arg(short, long, value_name = "PATH|DIR|-")]
    pub output: Option<PathBuf>,

    /// The container; by default taken from the file extension (before any .age), else zip
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Leave out the users section
    #[arg(long)]
    pub no_users: bool,

    /// Leave out the tickets section (with their notes and history); attachments follow tickets
    #[arg(long)]
    pub no_tickets: bool,

    /// Leave out the attachment metadata section
    #[arg(long)]
    pub no_attachments: bool,

    /// Leave out the custom field definitions
    #[arg(long)]
    pub no_custom_fields: bool,

    /// Only tickets created on or after this day (YYYY-MM-DD), time (2026-01-31T12:00:00Z;
    /// UTC when it has no zone, and a space may replace the T) or age back from now (24h,
    /// 7d, 12w, 6m for months, 1y)
    #[arg(long, value_name = "DATE", value_parser = DateBound::parse)]
    pub since: Option<DateBound>,

    /// Only tickets created on or before this day (YYYY-MM-DD, the whole day), time (UTC when
    /// it has no zone) or age back from now (7d), as for --since
    #[arg(long, value_name = "DATE", value_parser = DateBound::parse)]
    pub until: Option<DateBound>,

    /// Replace the file given with -o if it exists; a default name never replaces anything
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub encryption: EncryptionArgs,
}

/// Encrypting an archive with age (age-encryption.org/v1): to public keys, or to a
/// passphrase.
#[derive(Debug, Args)]
#[command(next_help_heading = "Encryption (age)")]
pub struct EncryptionArgs {
    /// Encrypt the archive to this public key: an age key (age1…) or an SSH public key line
    /// (ssh-ed25519 …, ssh-rsa …); repeatable, and any one of the keys opens it
    #[arg(short = 'r', long, value_name = "KEY")]
    pub recipient: Vec<String>,

    /// Encrypt to every public key in this file, one a line, # comments and blank lines
    /// allowed (as age -R reads it); repeatable
    #[arg(short = 'R', long, value_name = "PATH")]
    pub recipients_file: Vec<PathBuf>,

    /// Encrypt with a passphrase instead, taken from BOMIZZEL_PASSPHRASE or asked twice on
    /// a terminal
    #[arg(long, conflicts_with_all = ["recipient", "recipients_file"])]
    pub passphrase: bool,
}

/// Opening encrypted archives.
#[derive(Debug, Args)]
pub struct DecryptionArgs {
    /// A key that opens encrypted archives: an age identity file (AGE-SECRET-KEY-1…, as
    /// age-keygen writes it) or an unencrypted OpenSSH private key; repeatable. Read only
    /// when the archive is encrypted. A passphrase archive takes BOMIZZEL_PASSPHRASE, or asks
    /// on a terminal
    #[arg(short = 'i', long, env = "BOMIZZEL_IDENTITY", value_name = "PATH")]
    pub identity: Vec<PathBuf>,
}

/// What `import` reads and how it treats records that already exist.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("archive").required(true).multiple(false))]
pub struct ImportArgs {
    /// The archive: a zip or json file written by this tool or the Bomizzel web app; - reads
    /// stdin
    #[arg(value_name = "FILE", group = "archive")]
    pub file: Option<PathBuf>,

    /// Import the file recorded for this export id (see the history command)
    #[arg(long, value_name = "ID", group = "archive")]
    pub export_id: Option<String>,

    /// Leave records that already exist untouched
    #[arg(long, conflicts_with = "overwrite")]
    pub skip_duplicates: bool,

    /// Update records that already exist with the archive's values
    #[arg(long)]
    pub overwrite: bool,

    /// Check the archive (and, with a database, plan the import) without changing anything
    #[arg(long, visible_alias = "dry-run")]
    pub validate_only: bool,

    /// Create the archive's company when the database lacks it (a restore onto a new database)
    #[arg(long)]
    pub create_company: bool,

    /// Restore only this ticket, by its id in the archive (as `list --tickets` shows it),
    /// with its notes, history and attachments and the users and custom fields it refers
    /// to; repeatable
    #[arg(long, value_name = "ID")]
    pub ticket: Vec<String>,

    /// Restore only the tickets whose ids this file lists, one a line (blank lines and #
    /// comments allowed; - reads stdin), as --ticket does
    #[arg(long, value_name = "FILE")]
    pub tickets_from: Option<PathBuf>,

    #[command(flatten)]
    pub confirmation: Confirmation,

    #[command(flatten)]
    pub decryption: DecryptionArgs,
}

/// What `verify` reads.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The archive: a file this tool or the Bomizzel web app wrote, encrypted or not; - reads
    /// stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub decryption: DecryptionArgs,
}

/// What `history` shows.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show this entry (an export, import or prune id) in full
    #[arg(value_name = "ID")]
    pub id: Option<String>,

    /// How many entries to list, newest first; 0 lists them all
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: u64,

    /// Only entries of this kind
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Export,
    Import,
    Prune,
}

/// The retention policy for `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete recorded archives older than this: a number and a unit, h (hours), d (days),
    /// w (weeks), m (calendar months) or y (years), e.g. 24h, 7d, 12w, 6m. Required unless a
    /// --keep-daily, --keep-weekly, --keep-monthly or --keep-yearly rule is given
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = Age::parse,
        required_unless_present_any = CALENDAR_RULES
    )]
    pub older_than: Option<Age>,

    /// Always keep this many of the newest archives that still exist, whatever their age
    /// [default: 3, or 0 with a calendar rule]
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u64>,

    /// Keep the newest archive of each of the last N days that have archives (UTC days)
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u64>,

    /// Keep the newest archive of each of the last N weeks that have archives (ISO weeks,
    /// Monday to Sunday, UTC)
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u64>,

    /// Keep the newest archive of each of the last N months that have archives (UTC)
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u64>,

    /// Keep the newest archive of each of the last N years that have archives (UTC)
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u64>,

    /// Only archives in this directory (or below it): lets separate folders keep separate
    /// policies, e.g. weekly backups and short-lived download copies
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Say what would be deleted, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The calendar rules of `prune`, any one of which makes `--older-than` optional.
const CALENDAR_RULES: [&str; 4] = ["keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"];

/// What `list` shows of an archive. The ticket filters imply `--tickets`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The archive: a zip or json file written by this tool or the Bomizzel web app; - reads
    /// stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Also list the tickets, one line each
    #[arg(long)]
    pub tickets: bool,

    /// Only tickets created on or after this day (YYYY-MM-DD), time (UTC when it has no
    /// zone) or age back from now (24h, 7d, 12w, 6m, 1y), as for export
    #[arg(long, value_name = "DATE", value_parser = DateBound::parse)]
    pub since: Option<DateBound>,

    /// Only tickets created on or before this day (YYYY-MM-DD, the whole day), time or age
    /// back from now, as for --since
    #[arg(long, value_name = "DATE", value_parser = DateBound::parse)]
    pub until: Option<DateBound>,

    /// Only tickets with this status (case does not matter); repeat it for several
    #[arg(long, value_name = "STATUS")]
    pub status: Vec<String>,

    /// Only tickets whose title or description contains TEXT (case does not matter)
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,

    #[command(flatten)]
    pub decryption: DecryptionArgs,
}

/// Which shell `completions` writes a script for.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell that will load the script
    #[arg(value_enum)]
    pub shell: ShellArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
}

/// Skipping the question before a risky change.
#[derive(Debug, Args)]
pub struct Confirmation {
    /// Do not ask for confirmation before overwriting
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Zip,
    Json,
}

/// The clap command, for the man page and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
