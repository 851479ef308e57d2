#!/usr/bin/env bash
# The benchmark of issue 5 / SPEC section 5: bomizzel-backup against the tools an operator
# would use instead, at 10k and 100k tickets, each figure the median of several runs, all in
# one run on one machine; and issue 12's: the export encrypted to an age (X25519) key against
# the same export unencrypted, and verify against the import; and issue 14's: each on the
# databases the web app makes (only its indexes) as well as on init's, with a typical
# helpdesk's short ASCII texts as well as long multilingual ones; and issue 13's: the same
# on PostgreSQL (BENCH_BACKENDS), against psql \copy + zip -6 and psql < pg_dump. Not part of
# CI. See docs/PERFORMANCE.md.
#
#   bash bench/run.sh                     # 10k and 100k tickets, every variant, 5 runs each
#   BENCH_RUNS=3 bash bench/run.sh        # fewer runs
#   BENCH_SIZES="10000" bash bench/run.sh # one size
#   BENCH_INDEXES=webapp bash bench/run.sh  # whose indexes: init, webapp or both (default)
#   BENCH_TEXTS=helpdesk bash bench/run.sh  # which texts: unicode, helpdesk or both (default)
#   BENCH_DIR=/fast/disk bash bench/run.sh  # where the databases are cached (default target/bench)
#   BENCH_BACKENDS=both bash bench/run.sh   # sqlite (default), postgres or both
#
# Needs cargo, python3, sqlite3, zip, age-keygen (Debian package age) and /usr/bin/time (GNU
# time); for postgres also the PostgreSQL server and client binaries (Debian: postgresql), and
# when run as root a `postgres` system user and setpriv. Exits non-zero only when a command
# fails, never because a target is missed.
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH=$PWD/bench
RUNS=${BENCH_RUNS:-5}
SIZES=${BENCH_SIZES:-10000 100000}
COMPANY="Bench Corp"
ACTOR=admin@bench.example

say() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number, not '$RUNS'"
for size in $SIZES; do
    [[ $size =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES must be ticket counts, not '$size'"
done
# Both choices of one axis, or the one named.
axis() {
    local name=$1 value=$2 first=$3 second=$4
    case $value in
    both) echo "$first $second" ;;
    "$first" | "$second") echo "$value" ;;
    *) die "$name must be $first, $second or both, not '$value'" ;;
    esac
}
INDEXES=$(axis BENCH_INDEXES "${BENCH_INDEXES:-both}" init webapp)
TEXTS=$(axis BENCH_TEXTS "${BENCH_TEXTS:-both}" unicode helpdesk)
BACKENDS=$(axis BENCH_BACKENDS "${BENCH_BACKENDS:-sqlite}" sqlite postgres)
backend() { [[ " $BACKENDS " == *" $1 "* ]]; }
for tool in cargo python3 sqlite3 zip age-keygen /usr/bin/time; do
    command -v "$tool" >/dev/null || die "$tool is needed and not installed"
done
if backend postgres; then
    # Debian keeps the server's binaries off PATH, in /usr/lib/postgresql/MAJOR/bin: the newest.
    PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null |
        sort -V | tail -1)
    [[ -n $PGBIN ]] || PGBIN=$(pg_config --bindir 2>/dev/null) ||
        die "BENCH_BACKENDS=$BACKENDS needs PostgreSQL (initdb, pg_ctl, psql, pg_dump)"
    export PATH=$PGBIN:$PATH
    for tool in initdb pg_ctl psql pg_dump createdb dropdb; do
        command -v "$tool" >/dev/null || die "$tool is needed for PostgreSQL and not in $PGBIN"
    done
    # PostgreSQL refuses to run as root: the server then runs as the postgres system user.
    if [[ $(id -u) == 0 ]]; then
        command -v setpriv >/dev/null || die "setpriv is needed to run PostgreSQL as root"
        id -u postgres >/dev/null 2>&1 || die "running as root needs a postgres system user"
    fi
fi

started=$SECONDS
say "building the release binary and the generator"
cargo build --release --bin bomizzel-backup --example bench-db
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
CACHE=${BENCH_DIR:-$TARGET_DIR/bench}
mkdir -p "$CACHE"
CACHE=$(realpath "$CACHE")
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
PGDIR=$WORK/pg
# Stops the PostgreSQL cluster, if one was started (fast shutdown), then removes the run's
# directory.
cleanup() {
    if [[ -f $PGDIR/data/postmaster.pid ]]; then
        as_server pg_ctl -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# A command as the server's owner: the postgres system user when root (setpriv changes user
# and execs), else the current user.
as_server() {
    if [[ $(id -u) == 0 ]]; then
        setpriv --reuid=postgres --regid=postgres --clear-groups -- "$(command -v "$1")" "${@:2}"
    else
        "$@"
    fi
}
# Private copies: the target directory may be shared, and a build there must not swap the
# binary under a running benchmark.
cp "$TARGET_DIR/release/bomizzel-backup" "$TARGET_DIR/release/examples/bench-db" "$WORK/"
BIN=$WORK/bomizzel-backup
GENERATE=$WORK/bench-db
RESULTS=$WORK/results.jsonl
# The generator's source is the cache key: a changed generator means new databases.
STAMP=$(sha256sum examples/bench-db.rs | cut -c1-16)

measure() { python3 "$BENCH/measure.py" "$RESULTS" "$@"; }
record() { python3 "$BENCH/measure.py" "$RESULTS" "$1" "$2" --value "$3"; }
bytes() { stat -c %s "$1"; }
# A copy whose pages are on disk, so that the timed command's fsync does not pay for the copy.
fresh_copy() {
    cp "$1" "$2"
    sync "$2"
}

# The benchmark database for one variant ($name: bench-SIZE-INDEXES-TEXTS) and its sqlite3
# .dump, made when missing or stale.
prepare() {
    local name=$1 size=$2 indexes=$3 texts=$4 db=$CACHE/$1.db
    if [[ ! -f $db || "$(cat "$db.stamp" 2>/dev/null)" != "$STAMP" ]]; then
        say "generating $db"
        rm -f "$db" "$db.stamp" "$CACHE/$name.sql" "$db.tmp"
        "$GENERATE" "$db.tmp" --tickets "$size" --indexes "$indexes" --texts "$texts" >&2
        mv "$db.tmp" "$db"
        echo "$STAMP" >"$db.stamp"
        # Written back now, not during the first timed runs.
        sync "$db"
    fi
    if [[ ! -f $CACHE/$name.sql ]]; then
        say "dumping $db with sqlite3 .dump"
        sqlite3 "$db" .dump >"$CACHE/$name.sql.tmp"
        mv "$CACHE/$name.sql.tmp" "$CACHE/$name.sql"
    fi
}

ABSENT=$WORK/absent.db
# The operator's key that the encrypted exports go to, and that opens them for the import.
KEY=$WORK/operator.key
age-keygen -o "$KEY" 2>/dev/null
RECIPIENT=$(age-keygen -y "$KEY")

if backend sqlite; then
for indexes in $INDEXES; do
for texts in $TEXTS; do
export BENCH_VARIANT=$indexes/$texts
# The empty database the imports go into, with this variant's indexes.
rm -f "$WORK/fresh.db"
"$GENERATE" "$WORK/fresh.db" --empty --indexes "$indexes" >/dev/null
sync "$WORK/fresh.db"
for size in $SIZES; do
    name=bench-$size-$indexes-$texts
    say "$name"
    prepare "$name" "$size" "$indexes" "$texts"
    dump=$CACHE/$name.sql
    live=$WORK/live.db # exports append a log row, so they run on a copy
    archive=$WORK/bench-corp.zip
    sealed=$WORK/bench-corp.zip.age
    baseline_zip=$WORK/baseline.zip
    record db-bytes "$size" "$(bytes "$CACHE/$name.db")"
    record dump-bytes "$size" "$(bytes "$dump")"
    fresh_copy "$CACHE/$name.db" "$live"
    cat "$dump" >/dev/null # the page cache holds both inputs, for both sides alike
    # One untimed export first: the first run after a copy or a generation reads cold pages.
    "$BIN" --db "$live" --company "$COMPANY" --actor "$ACTOR" -q export -o "$archive" --force
    rm -f "$archive"

    say "$size tickets: export, encrypted export, and sqlite3 -json + zip -6 ($RUNS runs each)"
    for _ in $(seq "$RUNS"); do
        rm -f "$archive" "$sealed" "$baseline_zip"
        measure export "$size" -- "$BIN" --db "$live" --company "$COMPANY" --actor "$ACTOR" \
            -q export -o "$archive" --force
        measure export-age "$size" -- "$BIN" --db "$live" --company "$COMPANY" --actor "$ACTOR" \
            -q export -o "$sealed" --force -r "$RECIPIENT"
        measure export-baseline "$size" -- \
            bash "$BENCH/baseline-export.sh" "$live" "$COMPANY" "$baseline_zip"
    done
    record archive-bytes "$size" "$(bytes "$archive")"
    record sealed-bytes "$size" "$(bytes "$sealed")"
    record baseline-zip-bytes "$size" "$(bytes "$baseline_zip")"

    say "$size tickets: import into a fresh database, verify, the encrypted import, and sqlite3 < .dump ($RUNS runs each)"
    for _ in $(seq "$RUNS"); do
        fresh_copy "$WORK/fresh.db" "$WORK/restored.db"
        rm -f "$WORK/dump-restored.db"
        measure import "$size" -- "$BIN" --db "$WORK/restored.db" --actor "$ACTOR" \
            -q import --create-company "$archive"
        # verify restores into SQLite's temporary database, in TMPDIR: the same disk.
        TMPDIR=$WORK measure verify "$size" -- "$BIN" -q verify "$archive"
        fresh_copy "$WORK/fresh.db" "$WORK/sealed-restored.db"
        measure import-age "$size" -- "$BIN" --db "$WORK/sealed-restored.db" --actor "$ACTOR" \
            -q import --create-company -i "$KEY" "$sealed"
        measure import-baseline "$size" -- \
            bash -c 'sqlite3 "$1" <"$2"' sqlite3-restore "$WORK/dump-restored.db" "$dump"
    done
    rm -f "$WORK/dump-restored.db" "$WORK/sealed-restored.db" "$live"
    sync "$WORK/restored.db"

    say "$size tickets: no-op re-import, validate-only without and with a database ($RUNS runs each)"
    for _ in $(seq "$RUNS"); do
        fresh_copy "$WORK/restored.db" "$WORK/again.db"
        measure noop "$size" -- "$BIN" --db "$WORK/again.db" --actor "$ACTOR" \
            -q import --skip-duplicates "$archive"
        [[ ! -e $ABSENT ]] || die "$ABSENT should not exist"
        measure validate-file "$size" -- "$BIN" --db "$ABSENT" -q import --validate-only "$archive"
        fresh_copy "$WORK/restored.db" "$WORK/again.db"
        measure validate-plan "$size" -- "$BIN" --db "$WORK/again.db" --actor "$ACTOR" \
            -q import --validate-only --skip-duplicates "$archive"
    done
    rm -f "$WORK/restored.db" "$WORK/again.db" "$archive" "$sealed" "$baseline_zip"
done
done
done
fi
if backend postgres; then
    # One cluster for the run, in the run's directory: initdb, then pg_ctl start with the
    # server's default settings except where it listens: on a unix socket in $PGDIR only (no
    # TCP), so the port number only names the socket. fsync, synchronous_commit,
    # full_page_writes and shared_buffers stay at their defaults: the figures are those of a
    # durable server. Stopped by cleanup (the EXIT trap).
    PGPORT=5432
    SOCKET=$PGDIR/.s.PGSQL.$PGPORT
    ((${#SOCKET} < 100)) || die "the socket path $SOCKET is too long: set a shorter BENCH_DIR"
    mkdir "$PGDIR"
    if [[ $(id -u) == 0 ]]; then
        chmod 711 "$WORK" # the server's owner passes through to its directory
        chown postgres: "$PGDIR"
    fi
    say "starting PostgreSQL ($(postgres --version)) in $PGDIR"
    # --no-sync: initdb's own flush of the new cluster, not a server setting.
    as_server initdb -D "$PGDIR/data" -U postgres -E UTF8 --locale C.UTF-8 -A trust --no-sync \
        >"$PGDIR/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$PGDIR/initdb.log")"
    as_server pg_ctl -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
        -o "-p $PGPORT -k $PGDIR -c listen_addresses=''" start >/dev/null ||
        die "PostgreSQL did not start: $(tail -5 "$PGDIR/server.log")"
    # For psql, pg_dump, createdb and dropdb; the tool gets the same in its URL.
    export PGHOST=$PGDIR PGPORT PGUSER=postgres
    pg_url() { printf 'postgresql:///%s?host=%s&port=%s&user=postgres' "$1" "$PGDIR" "$PGPORT"; }
    # One SQL command ($1) in a database ($2, default postgres), its notices left out.
    pgq() {
        PGOPTIONS="-c client_min_messages=warning" \
            psql -X -q -t -A -v ON_ERROR_STOP=1 -d "${2:-postgres}" -c "$1"
    }
    # An empty database with the tool's schema (init).
    init_db() {
        createdb "$1"
        "$BIN" --db "$(pg_url "$1")" -q init
    }
    # Before each timed command: what the setup left dirty is written now, not during it.
    checkpoint() { pgq CHECKPOINT; }

    for texts in $TEXTS; do
    export BENCH_VARIANT=postgres/$texts
    for size in $SIZES; do
        name=bench-$size-init-$texts
        say "postgres: $name"
        prepare "$name" "$size" init "$texts"
        live=$(pg_url live)
        archive=$WORK/bench-corp.zip
        baseline_zip=$WORK/baseline.zip
        dump=$WORK/pg-dump.sql
        dump_data=$WORK/pg-dump-data.sql

        # The PostgreSQL database: init's schema, filled by importing both companies of the
        # SQLite benchmark database (exported from a copy: an export appends a log row).
        say "$size tickets: filling PostgreSQL from $name.db (export + import --create-company)"
        cp "$CACHE/$name.db" "$WORK/source.db"
        "$BIN" --db "$WORK/source.db" --company "Bench Corp" --actor "$ACTOR" -q \
            export -o "$WORK/source-bench.zip" --force
        "$BIN" --db "$WORK/source.db" --company "Other Co" --actor admin@other.example -q \
            export -o "$WORK/source-other.zip" --force
        rm -f "$WORK/source.db"
        init_db live
        "$BIN" --db "$live" --actor "$ACTOR" -q import --create-company "$WORK/source-bench.zip"
        "$BIN" --db "$live" --actor admin@other.example -q \
            import --create-company "$WORK/source-other.zip"
        rm -f "$WORK/source-bench.zip" "$WORK/source-other.zip"
        pgq "VACUUM ANALYZE" live
        # The baseline's plain-SQL dump of the whole database (both companies), made once.
        pg_dump --no-owner -f "$dump" "$live"
        # And its rows alone, for a load into init's schema: the same constraints and indexes
        # as the tool's import meets (a second reference, with no target).
        pg_dump --no-owner --data-only -f "$dump_data" "$live"
        record db-bytes "$size" "$(pgq "SELECT pg_database_size('live')")"
        record dump-bytes "$size" "$(bytes "$dump")"
        cat "$dump" >/dev/null
        # One untimed export first, as on SQLite.
        "$BIN" --db "$live" --company "$COMPANY" --actor "$ACTOR" -q export -o "$archive" --force
        rm -f "$archive"

        say "$size tickets: export, and psql \\copy row_to_json + zip -6 ($RUNS runs each)"
        for _ in $(seq "$RUNS"); do
            rm -f "$archive" "$baseline_zip"
            checkpoint
            measure export "$size" -- "$BIN" --db "$live" --company "$COMPANY" --actor "$ACTOR" \
                -q export -o "$archive" --force
            checkpoint
            measure export-baseline "$size" -- \
                bash "$BENCH/baseline-export-pg.sh" "$live" "$COMPANY" "$baseline_zip"
        done
        record archive-bytes "$size" "$(bytes "$archive")"
        record baseline-zip-bytes "$size" "$(bytes "$baseline_zip")"

        say "$size tickets: import into a fresh database, and psql < pg_dump ($RUNS runs each)"
        for _ in $(seq "$RUNS"); do
            pgq "DROP DATABASE IF EXISTS restored"
            init_db restored
            checkpoint
            measure import "$size" -- "$BIN" --db "$(pg_url restored)" --actor "$ACTOR" \
                -q import --create-company "$archive"
            createdb dump_restored
            checkpoint
            measure import-baseline "$size" -- \
                psql -X -q -v ON_ERROR_STOP=1 -f "$dump" "$(pg_url dump_restored)"
            dropdb dump_restored
            init_db data_restored
            checkpoint
            measure import-baseline-data "$size" -- \
                psql -X -q -v ON_ERROR_STOP=1 -f "$dump_data" "$(pg_url data_restored)"
            dropdb data_restored
        done

        # With the no-op, the reading and checking of the archive that every import does
        # before it touches a database (no database at all): the no-op's floor.
        say "$size tickets: no-op re-import, and validate-only without a database ($RUNS runs each)"
        for _ in $(seq "$RUNS"); do
            checkpoint
            measure noop "$size" -- "$BIN" --db "$(pg_url restored)" --actor "$ACTOR" \
                -q import --skip-duplicates "$archive"
            [[ ! -e $ABSENT ]] || die "$ABSENT should not exist"
            measure validate-file "$size" -- "$BIN" --db "$ABSENT" -q import --validate-only "$archive"
        done
        dropdb restored
        dropdb live
        rm -f "$archive" "$baseline_zip" "$dump" "$dump_data"
    done
    done
fi

echo
python3 "$BENCH/report.py" "$RESULTS" "$BIN" "$RUNS"
elapsed=$((SECONDS - started))
printf '\nbench/run.sh took %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
