//! The generated assets: the man page `man/bomizzel-backup.1`, rendered from the clap
//! definitions in `src/cli.rs`, and the shell completion scripts that `completions` prints.
//!
//! The man page test fails when the committed file differs from what the definitions give;
//! `UPDATE_ASSETS=1 cargo test --test it assets::` rewrites it. The completion scripts are not
//! committed: a real bash loads the script the binary prints and completes command lines
//! with it. The README is checked too: its command lines may only use options that exist,
//! its exit codes must match the table, and its quick start's demo builder never replaces a
//! file unasked.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use bomizzel_backup::cli;
use clap::{Arg, ArgAction, Command};
use clap_mangen::Man;
use roff::{Inline, Roff, bold, italic, roman};

const BIN: &str = "bomizzel-backup";
const REGENERATE: &str = "UPDATE_ASSETS=1 cargo test --test it assets::";

#[test]
fn man_page_is_current() {
    assert_current(&[("man/bomizzel-backup.1".into(), render_man_page())]);
}

#[test]
fn man_page_documents_every_option_environment_variable_and_exit_code() {
    let page = render_man_page();
    let mut root = cli::command();
    root.build();
    for cmd in std::iter::once(&root).chain(subcommands(&root)) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let shown = match (arg.get_long(), arg.get_short()) {
                (Some(long), _) => format!(r"\fB\-\-{}\fR", roff_escape(long)),
                (None, Some(short)) => format!(r"\fB\-{short}\fR"),
                (None, None) => format!(r"\fI{}\fR", value_label(arg)),
            };
            assert!(
                page.contains(&shown),
                "the man page does not show {shown} of `{}`",
                cmd.get_name()
            );
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(
                    page.contains(&format!(".B {env}\n")),
                    "ENVIRONMENT lacks {env}"
                );
            }
        }
    }
    let (_, exit_section) = page
        .split_once(".SH \"EXIT STATUS\"\n")
        .expect("the man page has an EXIT STATUS section");
    let codes = exit_statuses();
    assert_eq!(codes.first().map(|(code, _)| code.as_str()), Some("0"));
    for (code, meaning) in codes {
        assert!(
            exit_section.contains(&format!(".B {code}\n{}", roff_escape(&meaning))),
            "EXIT STATUS lacks {code} {meaning}"
        );
    }
}

#[test]
fn readme_and_man_page_examples_use_only_real_options() {
    let readme = read_repo_file("README.md");
    let mut in_code = false;
    let code_lines = readme.lines().filter(|line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        in_code
    });
    let unknown = unknown_options(code_lines);
    assert!(
        unknown.is_empty(),
        "README.md's commands use options that src/cli.rs does not define: {unknown:?}"
    );

    let page = render_man_page()
        .replace(r"\-", "-")
        .replace(r"\fB", "")
        .replace(r"\fI", "")
        .replace(r"\fR", "");
    let unknown = unknown_options(page.lines());
    assert!(
        unknown.is_empty(),
        "the man page's commands use options that src/cli.rs does not define: {unknown:?}"
    );
}

/// The value of `option` on a command line, quoted or not.
fn option_value<'a>(line: &'a str, option: &str) -> Option<&'a str> {
    let rest = line.split_once(&format!("{option} "))?.1;
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map(|(value, _)| value),
        None => rest.split_whitespace().next(),
    }
}

/// `--help` examples run as written on the demo database: every company and actor they
/// name is one the demo has (as admin), so copying an example into a shell works.
#[test]
fn help_examples_name_the_demo_company_and_its_admin() {
    let demo = support::Demo::new();
    let root = cli::command();
    let mut checked = 0;
    for sub in subcommands(&root) {
        let examples = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        for line in examples.lines().filter(|l| l.contains("--company")) {
            let company = option_value(line, "--company").expect("a --company value");
            let actor =
                option_value(line, "--actor").expect("an example with --company names its --actor");
            let output = support::cmd(&demo.db)
                .args([
                    "--company",
                    company,
                    "--actor",
                    actor,
                    "history",
                    "--limit",
                    "1",
                ])
                .output()
                .expect("run the binary");
            assert!(
                output.status.success(),
                "`{}` example: {line}\n{}",
                sub.get_name(),
                String::from_utf8_lossy(&output.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no example names a company");
}

#[test]
fn readme_lists_the_exit_codes_of_the_table() {
    let readme = read_repo_file("README.md");
    let listed: BTreeSet<String> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|rest| rest.split(' ').next())
        .filter(|word| is_exit_code(word))
        .map(str::to_owned)
        .collect();
    let table: BTreeSet<String> = exit_statuses().into_iter().map(|(code, _)| code).collect();
    assert_eq!(
        listed, table,
        "README.md's exit code table differs from cli::EXIT_STATUS"
    );
}

/// Compares generated files with the committed ones, or rewrites them under
/// `UPDATE_ASSETS=1`.
fn assert_current(assets: &[(String, String)]) {
    let update = std::env::var("UPDATE_ASSETS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (relative, rendered) in assets {
        let path = repo_path(relative);
        if update {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).expect("create the asset directory");
            }
            fs::write(&path, rendered).unwrap_or_else(|e| panic!("cannot write {relative}: {e}"));
            continue;
        }
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if &committed != rendered {
            let line = committed
                .lines()
                .zip(rendered.lines())
                .position(|(old, new)| old != new)
                .unwrap_or_else(|| committed.lines().count().min(rendered.lines().count()));
            stale.push(format!(
                "{relative} (first difference at line {})",
                line + 1
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files, which differ from what src/cli.rs gives:\n  {}\n\
         Run `{REGENERATE}` and commit the result.",
        stale.join("\n  ")
    );
}

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_repo_file(relative: &str) -> String {
    fs::read_to_string(repo_path(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The subcommands a user can run (not clap's own `help`).
fn subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// Every long option name of the program and its subcommands.
fn known_long_options() -> BTreeSet<String> {
    let mut root = cli::command();
    root.build();
    std::iter::once(&root)
        .chain(subcommands(&root))
        .flat_map(|cmd| cmd.get_arguments())
        .filter_map(|arg| arg.get_long().map(str::to_string))
        .collect()
}

/// The `--options` on command lines (the words after `bomizzel-backup`, up to a pipe or
/// `;`/`&&`) that no command defines.
fn unknown_options<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let known = known_long_options();
    let mut unknown = BTreeSet::new();
    for line in lines {
        for invocation in line.split(&format!("{BIN} ")).skip(1) {
            let invocation = invocation.split(['|', ';', '&']).next().unwrap_or_default();
            for word in invocation.split_whitespace() {
                let word = word.trim_start_matches(['[', '(']);
                let Some(name) = word.strip_prefix("--") else {
                    continue;
                };
                let name = name
                    .split('=')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches([']', ')', ',', '.', '`']);
                if !name.is_empty() && !known.contains(name) {
                    unknown.insert(format!("--{name}"));
                }
            }
        }
    }
    unknown
}

/// An exit status as the tables write it: a number, or `128+N` for a signal's.
fn is_exit_code(word: &str) -> bool {
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    digits(word)
        || word
            .strip_prefix("128+")
            .is_some_and(|n| n == "N" || digits(n))
}

/// `cli::EXIT_STATUS` as (code, meaning) pairs; an indented line without a code continues the
/// meaning above it.
fn exit_statuses() -> Vec<(String, String)> {
    let mut table: Vec<(String, String)> = Vec::new();
    for line in cli::EXIT_STATUS.lines().skip(1) {
        let line = line.trim();
        let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match (is_exit_code(first), table.last_mut()) {
            (true, _) => table.push((first.to_string(), rest.trim().to_string())),
            (false, Some((_, meaning))) if !line.is_empty() => {
                meaning.push(' ');
                meaning.push_str(line);
            }
            _ => {}
        }
    }
    table
}

// ---------------------------------------------------------------------------------------
// Shell completions, and the README's demo builder
// ---------------------------------------------------------------------------------------

/// The shells `completions` writes for, with what each script must hold to be loaded for the
/// program (bash's registration is the line that the hyphen in the name used to break).
const SHELLS: [(&str, &str); 4] = [
    ("bash", " -o default bomizzel-backup\n"),
    ("zsh", "#compdef bomizzel-backup\n"),
    ("fish", "complete -c bomizzel-backup "),
    ("powershell", "-CommandName 'bomizzel-backup'"),
];

/// Runs in a bash that read no startup file, so without the bash-completion package: loads
/// the script in `$1`, sets what bash sets for a completion function when TAB is pressed at
/// the end of the command line `$2…`, calls the function the script registered for
/// `bomizzel-backup`, and prints what it offers, one a line.
const COMPLETE_IN_BASH: &str = r#"
source "$1" || exit 1
shift
[[ $(complete -p bomizzel-backup 2>/dev/null) =~ -F\ ([^ ]+) ]] || {
    echo "the script registers no completion function for bomizzel-backup" >&2
    exit 1
}
function=${BASH_REMATCH[1]}
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

/// The script `bomizzel-backup completions <shell>` prints.
fn printed_script(shell: &str) -> String {
    let output = completions(support::bin().args(["completions", shell]));
    String::from_utf8(output.stdout).expect("completion scripts are UTF-8")
}

/// Runs a `completions` command line, which must succeed.
fn completions(cmd: &mut assert_cmd::Command) -> Output {
    let output = cmd.output().expect("run bomizzel-backup");
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        support::stderr_of(&output)
    );
    output
}

/// The bash script as `completions bash` prints it, in a file a bash can source.
struct BashCompletion {
    dir: tempfile::TempDir,
}

impl BashCompletion {
    fn load() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        fs::write(dir.path().join("script.bash"), printed_script("bash"))
            .expect("write the script");
        Self { dir }
    }

    /// What bash offers when TAB is pressed at the end of `line` (a line ending in a space
    /// completes a new, empty word).
    fn offers(&self, line: &str) -> BTreeSet<String> {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        if line.ends_with(' ') {
            words.push("");
        }
        let output = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", COMPLETE_IN_BASH, "bash"])
            .arg(self.dir.path().join("script.bash"))
            .args(&words)
            .output()
            .expect("run bash");
        assert!(
            output.status.success(),
            "bash could not complete {line:?}: {}",
            support::stderr_of(&output)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|word| !word.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn bash_completes_subcommand_names() {
    let bash = BashCompletion::load();
    assert_eq!(
        bash.offers("bomizzel-backup ex"),
        BTreeSet::from(["export".into()])
    );
    assert_eq!(
        bash.offers("bomizzel-backup --db demo.db --company Acme pr"),
        BTreeSet::from(["prune".into()]),
        "a subcommand's name completes after global options"
    );
    let offered = bash.offers("bomizzel-backup ");
    for sub in subcommands(&cli::command()) {
        assert!(
            offered.contains(sub.get_name()),
            "`bomizzel-backup <TAB>` does not offer {}: {offered:?}",
            sub.get_name()
        );
    }
}

#[test]
fn bash_completes_the_options_of_every_subcommand_and_the_global_ones() {
    let bash = BashCompletion::load();
    let offered = bash.offers("bomizzel-backup export --");
    for option in ["--no-users", "--force", "--format", "--company"] {
        assert!(
            offered.contains(option),
            "`bomizzel-backup export --<TAB>` does not offer {option}: {offered:?}"
        );
    }
    assert_eq!(
        bash.offers("bomizzel-backup --company Acme import --skip"),
        BTreeSet::from(["--skip-duplicates".into()]),
        "a subcommand's options complete after global options"
    );

    let mut root = cli::command();
    root.build();
    for sub in subcommands(&root) {
        let line = format!("{BIN} {} --", sub.get_name());
        let offered = bash.offers(&line);
        let missing: Vec<String> = sub
            .get_arguments()
            .filter(|arg| !arg.is_hide_set())
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .filter(|option| !offered.contains(option))
            .collect();
        assert!(
            missing.is_empty(),
            "`{line}<TAB>` does not offer {missing:?}"
        );
    }
}

#[test]
fn bash_completes_the_shells_of_completions() {
    let offered = BashCompletion::load().offers("bomizzel-backup completions ");
    for (shell, _) in SHELLS {
        assert!(
            offered.contains(shell),
            "`bomizzel-backup completions <TAB>` does not offer {shell}: {offered:?}"
        );
    }
}

#[test]
fn every_shell_gets_a_script_for_the_program_and_every_subcommand() {
    for (shell, registration) in SHELLS {
        let script = printed_script(shell);
        assert!(
            script.contains(registration),
            "the {shell} script lacks {registration:?}"
        );
        for sub in subcommands(&cli::command()) {
            assert!(
                script.contains(sub.get_name()),
                "the {shell} script does not know {}",
                sub.get_name()
            );
        }
        assert!(
            script.contains("no-users"),
            "the {shell} script does not know export's options"
        );
    }
}

#[test]
fn completions_need_no_database_company_or_actor() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let not_a_database = dir.path().join("notes.txt");
    fs::write(&not_a_database, "not a database").expect("write a file");
    let missing = dir.path().join("missing").join("bomizzel.db");
    let before = support::files_under(dir.path());
    let with_db = |db: &Path| {
        let mut cmd = support::bin();
        cmd.arg("--db").arg(db);
        cmd.args([
            "--company",
            "Nobody Inc",
            "--actor",
            "nobody@example.invalid",
        ]);
        cmd
    };
    for (shell, registration) in SHELLS {
        let mut from_env = support::bin();
        from_env.env("BOMIZZEL_DB", &not_a_database);
        let runs = [
            (
                "--db naming a file that is not a database",
                with_db(&not_a_database),
            ),
            ("--db in a missing folder", with_db(&missing)),
            ("BOMIZZEL_DB naming a file that is not a database", from_env),
            (
                "the default ./bomizzel.db, which does not exist",
                support::bin(),
            ),
        ];
        for (how, mut cmd) in runs {
            let output = completions(cmd.current_dir(dir.path()).args(["completions", shell]));
            assert!(
                String::from_utf8_lossy(&output.stdout).contains(registration),
                "no {shell} script with {how}"
            );
        }
    }
    assert_eq!(
        fs::read(&not_a_database).expect("read the file"),
        b"not a database"
    );
    assert_eq!(
        support::files_under(dir.path()),
        before,
        "completions created a file"
    );
    assert!(!missing.parent().is_some_and(Path::exists));
}

#[test]
fn the_demo_builder_replaces_an_existing_file_only_when_forced() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let fresh = dir.path().join("fresh.db");
    support::write_demo(&fresh, false).expect("a new path needs no --force");
    assert_eq!(
        support::count_rows(&support::open_db(&fresh), "companies"),
        2
    );

    let taken = dir.path().join("demo.db");
    fs::write(&taken, "someone's work").expect("write a file");
    let refused = support::write_demo(&taken, false).expect_err("an existing file is refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains(&taken.display().to_string()) && message.contains("--force"),
        "the refusal names the file and the way out: {message}"
    );
    assert_eq!(fs::read(&taken).expect("read the file"), b"someone's work");

    support::write_demo(&taken, true).expect("--force replaces the file");
    assert_eq!(
        support::count_rows(&support::open_db(&taken), "companies"),
        2
    );
    let beside: BTreeSet<String> = fs::read_dir(dir.path())
        .expect("list the directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        beside,
        BTreeSet::from(["demo.db".into(), "fresh.db".into()]),
        "the replacement leaves nothing beside the database"
    );
}

// ---------------------------------------------------------------------------------------
// The man page
// ---------------------------------------------------------------------------------------

/// The whole man page: one page for the program and every subcommand.
fn render_man_page() -> String {
    let definitions = cli::command();
    let mut root = definitions.clone();
    root.build();
    let man = Man::new(definitions.clone())
        .title(BIN.to_uppercase())
        .manual("User Commands");

    let mut title = Vec::new();
    man.render_title(&mut title).expect("render the title");
    let mut name = Vec::new();
    man.render_name_section(&mut name).expect("render NAME");
    let mut page = String::from_utf8(title).expect("roff is UTF-8");
    page.push_str(&strip_preamble(
        &String::from_utf8(name).expect("roff is UTF-8"),
    ));

    let mut body = Roff::new();
    // Ragged right, and no hyphens inserted into option names.
    body.control("ad", ["l"]).control("nh", []);
    body.control("SH", ["SYNOPSIS"]);
    for sub in subcommands(&root) {
        body.text(synopsis(sub));
        body.control("PP", []);
    }
    let mut info_flags: Vec<Inline> = vec![bold(BIN), roman(" ")];
    for (i, arg) in root
        .get_arguments()
        .filter(|a| is_help_or_version(a))
        .enumerate()
    {
        if i > 0 {
            info_flags.push(roman(" | "));
        }
        info_flags.push(bold(format!("--{}", arg.get_long().unwrap_or_default())));
    }
    body.text(info_flags);

    body.control("SH", ["DESCRIPTION"]);
    prose(&mut body, &long_about(&definitions));
    body.control("PP", []);
    body.text([roman(
        "The global options below may come before or after the command name, and each of \
         them can also be set in the environment (see ENVIRONMENT). An option given on the \
         command line wins over the environment.",
    )]);
    body.control("PP", []);
    body.text([
        roman(
            "Archives and --json reports go to standard output; progress, summaries and \
             errors go to standard error. An error is one line, ",
        ),
        bold(format!("{BIN}: ")),
        italic("what failed: why"),
        roman(
            ". A progress bar is drawn only when standard error is a terminal, so a job run \
             with --quiet prints nothing unless it fails.",
        ),
    ]);
    page.push_str(&without_preamble(body));

    // The global options, with their environment variables and defaults, from clap_mangen.
    page.push_str(&options_section(Man::new(definitions.clone()), None));

    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    page.push_str(&without_preamble(commands));
    for sub in subcommands(&definitions) {
        let built = root
            .find_subcommand(sub.get_name())
            .expect("the built command has every subcommand");
        page.push_str(&command_section(sub, built));
    }

    let mut tail = Roff::new();
    exit_status_section(&mut tail);
    environment_section(&mut tail, &root);
    files_section(&mut tail);
    archive_section(&mut tail);
    web_app_section(&mut tail);
    examples_section(&mut tail);
    tail.control("SH", ["SEE ALSO"]);
    tail.text([
        bold("sqlite3"),
        roman("(1), "),
        bold("unzip"),
        roman("(1), "),
        bold("crontab"),
        roman("(5); README.md and docs/ARCHIVE.md in the source tree."),
    ]);
    page.push_str(&without_preamble(tail));
    page
}

/// One subcommand: its synopsis, what it does, its own options and its examples. `sub` is the
/// definition (its own options only), `built` the same subcommand as the program parses it.
fn command_section(sub: &Command, built: &Command) -> String {
    let mut head = Roff::new();
    head.control("SS", [sub.get_name()]);
    head.text(synopsis(built));
    head.control("PP", []);
    prose(&mut head, &long_about(sub));
    let mut section = without_preamble(head);

    // clap_mangen renders the options; the subcommand's section is the heading here.
    let own_options = sub.clone().disable_help_flag(true);
    if own_options.get_arguments().any(|a| !a.is_hide_set()) {
        section.push_str(&options_section(Man::new(own_options), Some("Options:")));
    }

    if let Some(after) = sub.get_after_long_help().or_else(|| sub.get_after_help()) {
        let mut examples = Roff::new();
        indented_blocks(&mut examples, &after.to_string());
        section.push_str(&without_preamble(examples));
    }
    section
}

/// clap_mangen's OPTIONS section. Under a subcommand its `.SH` headings become paragraphs,
/// so the options stay inside the subcommand's section.
fn options_section(man: Man, heading: Option<&str>) -> String {
    let mut rendered = Vec::new();
    man.render_options_section(&mut rendered)
        .expect("render options");
    let rendered = strip_preamble(&String::from_utf8(rendered).expect("roff is UTF-8"));
    let Some(heading) = heading else {
        return rendered;
    };
    let mut out = String::new();
    for line in rendered.lines() {
        match line.strip_prefix(".SH ") {
            Some("OPTIONS") => out.push_str(&format!(".PP\n{heading}\n")),
            Some(other) => out.push_str(&format!(".PP\n{}:\n", other.trim_matches('"'))),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// `bomizzel-backup [global options] export [-o PATH|DIR|-] [--format zip|json] …`: the
/// subcommand's own arguments with their values. Arguments that exclude each other (a group
/// without `multiple`, or `conflicts_with`) show as `[a | b]`, or `(a | b)` when the group is
/// required. `sub` comes from the built command, where every conflict can be resolved.
fn synopsis(sub: &Command) -> Vec<Inline> {
    let visible: Vec<&Arg> = sub
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set() && !is_help_or_version(a))
        .collect();
    let alternatives = alternatives(sub, &visible);
    let set_of = |arg: &Arg| {
        alternatives
            .iter()
            .position(|(_, members)| members.iter().any(|m| m.get_id() == arg.get_id()))
    };

    let mut line = vec![
        bold(BIN),
        roman(" ["),
        italic("global options"),
        roman("] "),
        bold(sub.get_name()),
    ];
    let mut shown = vec![false; alternatives.len()];
    let (positionals, options): (Vec<&Arg>, Vec<&Arg>) =
        visible.iter().partition(|a| a.is_positional());
    for arg in options.into_iter().chain(positionals) {
        let Some(index) = set_of(arg) else {
            let (open, close) = if arg.is_required_set() {
                (" ", "")
            } else {
                (" [", "]")
            };
            line.push(roman(open));
            line.extend(usage(arg));
            line.push(roman(close));
            continue;
        };
        let (required, members) = &alternatives[index];
        // A set that holds a positional argument stands where the positionals do.
        let wait = members.iter().any(|m| m.is_positional()) && !arg.is_positional();
        if shown[index] || wait {
            continue;
        }
        shown[index] = true;
        line.push(roman(if *required { " (" } else { " [" }));
        for (i, member) in members.iter().enumerate() {
            if i > 0 {
                line.push(roman(" | "));
            }
            line.extend(usage(member));
        }
        line.push(roman(if *required { ")" } else { "]" }));
    }
    line
}

/// The sets of arguments of which at most one may be given, each with whether one of them is
/// required; positional members first.
fn alternatives<'a>(sub: &'a Command, visible: &[&'a Arg]) -> Vec<(bool, Vec<&'a Arg>)> {
    let is_visible = |arg: &Arg| visible.iter().any(|v| v.get_id() == arg.get_id());
    let mut sets: Vec<(bool, Vec<&'a Arg>)> = Vec::new();
    for group in sub.get_groups() {
        if group.clone().is_multiple() {
            continue;
        }
        let members: Vec<&Arg> = group
            .get_args()
            .filter_map(|id| sub.get_arguments().find(|a| a.get_id() == id))
            .filter(|a| is_visible(a))
            .collect();
        if members.len() > 1 {
            sets.push((group.is_required_set(), members));
        }
    }
    for arg in visible {
        for other in sub.get_arg_conflicts_with(arg) {
            if !is_visible(other) {
                continue;
            }
            let find = |a: &Arg| {
                sets.iter()
                    .position(|(_, m)| m.iter().any(|x| x.get_id() == a.get_id()))
            };
            match (find(arg), find(other)) {
                (Some(_), Some(_)) => {}
                (Some(i), None) => sets[i].1.push(other),
                (None, Some(i)) => sets[i].1.push(arg),
                (None, None) => sets.push((false, vec![arg, other])),
            }
        }
    }
    for (_, members) in &mut sets {
        members.sort_by_key(|a| !a.is_positional());
    }
    sets
}

/// One argument as the synopsis shows it: `-o PATH|DIR|-`, `--format zip|json`, `FILE`.
fn usage(arg: &Arg) -> Vec<Inline> {
    if arg.is_positional() {
        return vec![italic(value_label(arg))];
    }
    let flag = match (arg.get_short(), arg.get_long()) {
        (Some(short), _) => format!("-{short}"),
        (None, Some(long)) => format!("--{long}"),
        (None, None) => String::new(),
    };
    let mut out = vec![bold(flag)];
    if arg.get_action().takes_values() {
        out.push(roman(" "));
        out.push(italic(value_label(arg)));
    }
    if matches!(arg.get_action(), ArgAction::Count | ArgAction::Append) {
        out.push(roman("..."));
    }
    out
}

/// What a value looks like: its choices, else its value name, else its id.
fn value_label(arg: &Arg) -> String {
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !choices.is_empty() && !arg.is_hide_possible_values_set() {
        return choices.join("|");
    }
    match arg.get_value_names() {
        Some(names) => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        None => arg.get_id().as_str().to_uppercase(),
    }
}

fn is_help_or_version(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

fn long_about(cmd: &Command) -> String {
    cmd.get_long_about()
        .or_else(|| cmd.get_about())
        .map(|about| about.to_string())
        .unwrap_or_default()
}

/// Paragraphs of help text; `code` in backticks is set in bold.
fn prose(roff: &mut Roff, text: &str) {
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        let inlines: Vec<Inline> = joined
            .split('`')
            .enumerate()
            .filter(|(_, piece)| !piece.is_empty())
            .map(|(i, piece)| {
                if i % 2 == 1 {
                    bold(piece)
                } else {
                    roman(piece)
                }
            })
            .collect();
        roff.text(inlines);
    }
}

/// Help text such as "Examples:\n  cmd one\n  cmd two": unindented lines as paragraphs,
/// indented lines kept as they are, in an indented block (a continued command's next line
/// keeps its indent beyond the block's).
fn indented_blocks(roff: &mut Roff, text: &str) {
    let mut in_block = false;
    for line in text.lines() {
        let indented = line.starts_with(' ');
        if indented && !in_block {
            roff.control("RS", ["4"]).control("nf", []);
        } else if !indented && in_block {
            roff.control("fi", []).control("RE", []);
        }
        in_block = indented;
        if indented {
            roff.text([roman(line.strip_prefix("  ").unwrap_or(line).trim_end())]);
        } else if !line.trim().is_empty() {
            roff.control("PP", []).text([roman(line)]);
        }
    }
    if in_block {
        roff.control("fi", []).control("RE", []);
    }
}

fn exit_status_section(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman(
        "Every command exits with one of these statuses, so that scripts can tell the cases apart:",
    )]);
    for (code, meaning) in exit_statuses() {
        roff.control("TP", []);
        roff.control("B", [code.as_str()]);
        roff.text([roman(meaning)]);
    }
}

/// The environment variables, from the options that read them (each once, though several
/// commands take it), and the passphrase, which no option reads.
fn environment_section(roff: &mut Roff, root: &Command) {
    roff.control("SH", ["ENVIRONMENT"]);
    let mut shown = BTreeSet::new();
    let args = std::iter::once(root)
        .chain(subcommands(root))
        .flat_map(|cmd| cmd.get_arguments())
        .filter(|a| !a.is_hide_set());
    for arg in args {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        if !shown.insert(env.to_os_string()) {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        roff.control("TP", []);
        roff.control("B", [env.to_string_lossy().as_ref()]);
        roff.text([
            roman(format!("{help}; used when ")),
            bold(format!("--{long}")),
            roman(" is not given."),
        ]);
    }
    roff.control("TP", []);
    roff.control(
        "B",
        [
            "PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, \
             PGCONNECT_TIMEOUT, PGAPPNAME, PGOPTIONS, PGHOSTADDR, PGTARGETSESSIONATTRS, \
             PGCHANNELBINDING, PGLOADBALANCEHOSTS, PGSSLNEGOTIATION, PGPASSWORD, PGPASSFILE, \
             PGSERVICE, PGSERVICEFILE, PGSYSCONFDIR",
        ],
    );
    roff.text([roman(
        "libpq's, as psql reads them, for a PostgreSQL --db: each gives what the URL leaves \
         out (PGHOST a host, a list of them, or a unix socket directory). Without them, a URL \
         with no host is the local socket, with no port 5432, with no user the OS user, and \
         with no database the one named after the user. PGPASSWORD is the password when the \
         URL has none; else the password file is read: the URL's passfile, else PGPASSFILE, \
         else ~/.pgpass. PGSSLMODE=allow is refused (status 2), as the URL's sslmode=allow \
         is. PGSSLROOTCERT (else ~/.postgresql/root.crt) holds the root certificates that \
         verify-ca and verify-full check the server's certificate against (system: the \
         operating system's); where that file is there, require and prefer check it too, \
         as with libpq. PGSSLCERT and PGSSLKEY (else ~/.postgresql/postgresql.crt and \
         postgresql.key) are the client certificate and its key, for a server that asks for \
         one; a key others may read is refused (status 2). A certificate file named that \
         does not exist is status 6. PGSERVICE names a section of the service file \
         (PGSERVICEFILE, else ~/.pg_service.conf, then pg_service.conf in PGSYSCONFDIR, else \
         /etc/postgresql-common), whose parameters come after the URL's and before the \
         other variables; a service no file has is status 6. PGSSLCRL, PGSSLCRLDIR, \
         PGREQUIREPEER, PGREQUIREAUTH, PGGSSENCMODE=require and TLS versions other than 1.2 \
         and 1.3 ask for checks this tool does not make: they are refused (status 2), not \
         ignored.",
    )]);
    roff.control("TP", []);
    roff.control("B", [bomizzel_backup::archive::envelope::PASSPHRASE_ENV]);
    roff.text([roman(
        "The passphrase that export --passphrase encrypts with, and that opens passphrase \
         archives for import and verify. Without it they ask on a terminal; off a terminal \
         export refuses (status 2) and import and verify cannot open the archive (status 8). \
         There is no option for it, so that it never shows in a process listing.",
    )]);
}

fn files_section(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([italic(format!("./{}", bomizzel_backup::cli::DEFAULT_DB))]);
    roff.text([roman(
        "The database used when neither --db nor BOMIZZEL_DB names one. No command but init \
         creates a database file: a path that does not exist is an error (status 6), except \
         for import --validate-only, which then checks the archive on its own.",
    )]);
    roff.control("TP", []);
    roff.text([italic("./bomizzel-COMPANY-YYYYMMDDTHHMMSSZ.zip")]);
    roff.text([roman(
        "The archive export writes when -o is not given (or names a directory): the company's \
         name in lower case with dashes, and the UTC time of the export; an encrypted one \
         gets .age after it (.zip.age). It appears under its \
         name only once it is complete and synced, so an interrupted export leaves no partial \
         archive: on Linux it is written as a file without a name in the same directory \
         (O_TMPFILE), which leaves nothing behind even when the export is killed outright. \
         Where the file system does not allow that, and on other systems, it is written under \
         a temporary name beginning with a dot (.NAME.RANDOM.partial) and renamed; such a file \
         left by an export that was killed outright is removed by the next export into the \
         same directory once it is an hour old. The archive is created with mode 0600, as it \
         holds personal data.",
    )]);
    roff.control("TP", []);
    roff.text([italic("~/.pgpass")]);
    roff.text([roman(
        "libpq's password file, for a PostgreSQL URL without a password when PGPASSWORD is \
         not set (PGPASSFILE, or the URL's passfile, names another): lines of \
         hostname:port:database:username:password, * for any value, \\: and \\\\ for a \
         colon and a backslash, # for a comment; the first line that matches gives the \
         password, and localhost matches the default unix socket directory. As with libpq, a \
         file the group or others may read (chmod 0600 it) is not read, with a warning; a \
         missing one is no password.",
    )]);
}

fn archive_section(roff: &mut Roff) {
    roff.control("SH", ["ARCHIVE"]);
    roff.text([roman(
        "A zip archive holds manifest.json and one entry per section: users.json, \
         custom_fields.json, tickets.json (each ticket with its notes and history) and \
         attachments.json. Each section is a JSON array with one record per line. The \
         manifest names the company, the export and its options, counts the records, and \
         gives each entry's length in bytes and its SHA-256. A json archive is one document, \
         {\"exportInfo\": manifest, \"data\": {\"users\": [...], ...}}, the layout of the \
         Bomizzel web app's own exports.",
    )]);
    roff.control("PP", []);
    roff.text([roman(
        "Archives never hold password hashes, nor the bytes of attached files: attachments are \
         described, not copied. To check an archive without this tool:",
    )]);
    roff.control("RS", ["4"]).control("nf", []);
    roff.text([roman("unzip -t backup.zip")]);
    roff.text([roman("unzip -p backup.zip manifest.json")]);
    roff.text([roman("unzip -p backup.zip tickets.json | sha256sum")]);
    roff.control("fi", []).control("RE", []);
    roff.text([roman(
        "The last line must print the sha256 the manifest gives for tickets.json. \
         docs/ARCHIVE.md in the source tree describes every record and field.",
    )]);
    roff.control("PP", []);
    roff.text([roman(
        "An encrypted archive (export --recipient, --recipients-file or --passphrase) is the \
         same zip or json archive inside an age file (age-encryption.org/v1, the binary \
         format), written and read as a stream: no plaintext touches the disk. Any age or \
         rage decrypts it (age -d -i KEY), and import and verify read files that age \
         encrypted, recognised by their first bytes whatever their name. Each 64 KiB of an \
         age file is authenticated, so a changed or truncated file is refused (status 3); \
         the export log records the public keys it was encrypted to, never a passphrase, and \
         the size and SHA-256 of the file as written.",
    )]);
    roff.control("PP", []);
    roff.text([roman(limits())]);
}

/// What import makes of the web app's own words, in the warnings it prints for them.
fn web_app_section(roff: &mut Roff) {
    use bomizzel_backup::archive::records::{Adjustment, NullFlag};
    roff.control("SH", ["FILES FROM THE WEB APP"]);
    roff.text([roman(
        "import reads the files the Bomizzel web app exports (its JSON document, or the zip \
         holding it) as they are. Where the web app writes something the database cannot \
         hold, import translates it and counts the records in a warning:",
    )]);
    let warnings = Adjustment::ALL
        .map(Adjustment::warning)
        .into_iter()
        .chain(NullFlag::ALL.map(NullFlag::warning));
    for warning in warnings {
        roff.control("IP", ["\\(bu", "2"]);
        roff.text([roman(warning)]);
    }
    roff.control("IP", ["\\(bu", "2"]);
    roff.text([roman(
        "two users whose emails differ only in case are one user: the first record is \
         imported and references to either resolve to it;",
    )]);
    roff.control("IP", ["\\(bu", "2"]);
    roff.text([roman(
        "a custom field without a type is a string field, and its values are kept as they \
         are; a value its field does not allow (in any archive) is kept too, with a warning \
         naming its place.",
    )]);
    roff.control("PP", []);
    roff.text([roman(
        "Missing keys take what the database needs: a note's or custom field's updatedAt its \
         createdAt, a field's label its name, an attachment's originalName its fileName. A \
         null assignee leaves the ticket unassigned; any other person the file cannot name \
         becomes the importing admin, with a warning.",
    )]);
}

/// The reader's caps on hostile archives, from the constants that enforce them.
fn limits() -> String {
    use bomizzel_backup::archive::envelope::{MAX_AGE_HEADER_BYTES, MAX_SCRYPT_WORK_FACTOR};
    use bomizzel_backup::archive::reader::{
        MAX_COMPRESSION_RATIO, MAX_ENTRY_BYTES, MAX_MANIFEST_BYTES, MAX_RECORD_BYTES,
        MAX_RECORD_VALUES,
    };
    use bomizzel_backup::archive::validate::MAX_PROBLEMS;
    format!(
        "Limits on what import reads, so that a damaged or hostile file ends in a clear error \
         (exit status 3) instead of exhausting the machine: a zip entry may declare at most \
         {} GiB and inflate at most {MAX_COMPRESSION_RATIO} times its compressed size, and is \
         cut off at the length its header (or the manifest) gives; the manifest may be at \
         most {} MiB; one record (a ticket with all its notes and history) at most {} MiB \
         of JSON text holding at most {MAX_RECORD_VALUES} values, nested at most 128 deep; \
         an age header at most {} KiB, and a passphrase's scrypt work factor at most \
         {MAX_SCRYPT_WORK_FACTOR}. Validation lists up to {MAX_PROBLEMS} problems, then stops.",
        MAX_ENTRY_BYTES >> 30,
        MAX_MANIFEST_BYTES >> 20,
        MAX_RECORD_BYTES >> 20,
        MAX_AGE_HEADER_BYTES >> 10,
    )
}

fn examples_section(roff: &mut Roff) {
    roff.control("SH", ["EXAMPLES"]);
    let examples: [(&str, &[&str]); 13] = [
        (
            "Back up Acme Corp into /backups, under the default file name:",
            &[
                "bomizzel-backup --db /srv/bomizzel/bomizzel.db --company \"Acme Corp\" \\",
                "    --actor ada@acme.example export -o /backups/",
            ],
        ),
        (
            "Retention: a backup every Monday at 02:30 from cron into /backups (a folder that \
             must exist: mkdir -p /backups once), silent unless it fails; once it is safe, \
             keep the newest archive of each of the last 13 weeks that have one (three \
             months) and always at least the three most recent, and delete the rest. In a \
             crontab, the variables go on lines of their own and the job is one line:",
            &[
                "BOMIZZEL_DB=/srv/bomizzel/bomizzel.db",
                "BOMIZZEL_COMPANY=Acme Corp",
                "BOMIZZEL_ACTOR=ada@acme.example",
                "30 2 * * 1  bomizzel-backup -q export -o /backups/ && bomizzel-backup -q prune --keep-last 3 --keep-weekly 13 --dir /backups",
            ],
        ),
        (
            "Calendar retention for daily backups, tried out first: the newest archive of each \
             of the last 7 days, 4 weeks, 12 months and 5 years that have archives, each with \
             the rules that keep it:",
            &[
                "bomizzel-backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 5 --dry-run",
            ],
        ),
        (
            "The same weekly backup encrypted to an operator's age public key, so that the \
             server cannot read its own backups: the private key (made with age-keygen on the \
             operator's machine) never comes near it. Several -r options, or a file of keys \
             given with --recipients-file, let any one of several people restore:",
            &[
                "30 2 * * 1  bomizzel-backup -q export -o /backups/ -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p && bomizzel-backup -q prune --older-than 12w --keep-last 3 --dir /backups",
            ],
        ),
        (
            "Restore an encrypted archive with the private key (an age identity file, or an \
             unencrypted OpenSSH private key), on the machine where it is kept:",
            &[
                "bomizzel-backup --db /srv/bomizzel/new.db --actor ada@acme.example \\",
                "    import --create-company -i ~/keys/backup.key backup.zip.age",
            ],
        ),
        (
            "A monthly proof that the newest backup restores, from cron on a machine that \
             holds the key (exit status 3 mails the differences, 8 a key that does not fit):",
            &[
                "0 6 1 * *  bomizzel-backup -q verify -i /root/keys/backup.key \"$(ls -t /backups/*.age | head -1)\"",
            ],
        ),
        (
            "Download copies that expire after 24 hours, exported into a folder of their own: \
             prune that folder every hour, keeping none by count. Without --dir, prune works \
             on all of the company's recorded exports, in any folder, and would take the \
             weekly backups as well:",
            &[
                "0 * * * *  bomizzel-backup -q prune --older-than 24h --keep-last 0 --dir /srv/downloads",
            ],
        ),
        (
            "Who restored what: the last imports, then one of them in full (its file, the \
             export it came from, what it did per section, its warnings or its error):",
            &[
                "bomizzel-backup history --kind import --limit 5",
                "bomizzel-backup history import_20261124T140602Z_d138ed5f",
            ],
        ),
        (
            "Print only the file name of the new archive, for a script:",
            &["bomizzel-backup --json export -o /backups/ | jq -r .file"],
        ),
        (
            "Check a backup file on its own, without a database:",
            &["bomizzel-backup import --validate-only backup.zip"],
        ),
        (
            "What a backup holds, and which of its tickets mention a printer, without a \
             database:",
            &["bomizzel-backup list --grep printer backup.zip"],
        ),
        (
            "Restore one ticket deleted by mistake, with its notes, history and attachments, \
             and nothing else (its id from list --tickets):",
            &[
                "bomizzel-backup --company \"Acme Corp\" --actor ada@acme.example import \\",
                "    --skip-duplicates --ticket b0000000-0000-4000-8000-000000000001 backup.zip",
            ],
        ),
        (
            "Restore a company onto a new, empty database:",
            &[
                "bomizzel-backup --db /srv/bomizzel/new.db init",
                "bomizzel-backup --db /srv/bomizzel/new.db --actor ada@acme.example \\",
                "    import --create-company backup.zip",
            ],
        ),
    ];
    for (what, lines) in examples {
        roff.control("PP", []).text([roman(what)]);
        roff.control("RS", ["4"]).control("nf", []);
        for line in lines {
            roff.text([roman(*line)]);
        }
        roff.control("fi", []).control("RE", []);
    }
}

/// What roff does to a literal string in a text line.
fn roff_escape(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('-', r"\-")
        .replace('\'', r"\*(Aq")
}

/// A rendered piece without the apostrophe preamble that every roff rendering starts with;
/// the page keeps the first one, from its title.
fn without_preamble(roff: Roff) -> String {
    strip_preamble(&roff.render())
}

fn strip_preamble(rendered: &str) -> String {
    let preamble = Roff::new().render();
    rendered
        .strip_prefix(preamble.as_str())
        .unwrap_or(rendered)
        .to_string()
}
