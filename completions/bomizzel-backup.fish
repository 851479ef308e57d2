# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bomizzel_backup_global_optspecs
    string join \n db= company= actor= busy-timeout= q/quiet json h/help V/version
end

function __fish_bomizzel_backup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bomizzel_backup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bomizzel_backup_using_subcommand
    set -l cmd (__fish_bomizzel_backup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "init" -d 'Create a new, empty Bomizzel database'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "export" -d 'Write one company\'s data to a ZIP or JSON archive'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "import" -d 'Restore an archive into a company, all or nothing'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "history" -d 'List the company\'s recent exports, imports and prunes, or show one in full'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "prune" -d 'Delete old archive files that this company\'s export log records'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand init" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -s o -l output -d 'The archive file, a directory to put it in, or - for stdout [default: ./bomizzel-<company>-<UTC time>.zip]' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l format -d 'The container; by default taken from the file extension, else zip' -r -f -a "zip\t''
json\t''"
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l since -d 'Only tickets created on or after this day (YYYY-MM-DD) or instant (RFC 3339)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l until -d 'Only tickets created on or before this day (YYYY-MM-DD, the whole day) or instant (RFC 3339)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l no-users -d 'Leave out the users section'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l no-tickets -d 'Leave out the tickets section (with their notes and history); attachments follow tickets'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l no-attachments -d 'Leave out the attachment metadata section'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l no-custom-fields -d 'Leave out the custom field definitions'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l force -d 'Replace the output file if it exists'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand export" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l export-id -d 'Import the file recorded for this export id (see the history command)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l skip-duplicates -d 'Leave records that already exist untouched'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l overwrite -d 'Update records that already exist with the archive\'s values'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l validate-only -d 'Check the archive (and, with a database, plan the import) without changing anything'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l create-company -d 'Create the archive\'s company when the database lacks it (a restore onto a new database)'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -s y -l yes -d 'Do not ask for confirmation before overwriting'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand import" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l limit -d 'How many entries to list, newest first; 0 lists them all' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l kind -d 'Only entries of this kind' -r -f -a "export\t''
import\t''
prune\t''"
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand history" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l older-than -d 'Delete recorded archives older than this: a number and a unit, h (hours), d (days) or w (weeks), e.g. 24h, 7d, 12w' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l keep-last -d 'Always keep this many of the newest archives that still exist, whatever their age' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l dir -d 'Only archives in this directory (or below it): lets separate folders keep separate policies, e.g. weekly backups and short-lived download copies' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l db -d 'The Bomizzel SQLite database' -r -F
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l company -d 'The company, by id or name; may be left out when the database holds only one' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l actor -d 'Who is running the command: the email of an active admin of the company' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l busy-timeout -d 'How long to wait for a lock held by another process before giving up (exit 7)' -r
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l dry-run -d 'Say what would be deleted, and delete nothing'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -s q -l quiet -d 'Print errors only'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -l json -d 'Print a machine-readable JSON report on stdout'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand prune" -s V -l version -d 'Print version'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "init" -d 'Create a new, empty Bomizzel database'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "export" -d 'Write one company\'s data to a ZIP or JSON archive'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "import" -d 'Restore an archive into a company, all or nothing'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "history" -d 'List the company\'s recent exports, imports and prunes, or show one in full'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "prune" -d 'Delete old archive files that this company\'s export log records'
complete -c bomizzel-backup -n "__fish_bomizzel_backup_using_subcommand help; and not __fish_seen_subcommand_from init export import history prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
