#!/usr/bin/env bash
# The benchmark of issue 5 / SPEC section 5: bomizzel-backup against the tools an operator
# would use instead, at 10k and 100k tickets, each figure the median of several runs, all in
# one run on one machine; and issue 12's: the export encrypted to an age (X25519) key against
# the same export unencrypted, and verify against the import; and issue 14's: each on the
# databases the web app makes (only its indexes) as well as on init's, with a typical
# helpdesk's short ASCII texts as well as long multilingual ones. Not part of CI. See
# docs/PERFORMANCE.md.
#
#   bash bench/run.sh                     # 10k and 100k tickets, every variant, 5 runs each
#   BENCH_RUNS=3 bash bench/run.sh        # fewer runs
#   BENCH_SIZES="10000" bash bench/run.sh # one size
#   BENCH_INDEXES=webapp bash bench/run.sh  # whose indexes: init, webapp or both (default)
#   BENCH_TEXTS=helpdesk bash bench/run.sh  # which texts: unicode, helpdesk or both (default)
#   BENCH_DIR=/fast/disk bash bench/run.sh  # where the databases are cached (default target/bench)
#
# Needs cargo, python3, sqlite3, zip, age-keygen (Debian package age) and /usr/bin/time (GNU
# time). Exits non-zero only when a command fails, never because a target is missed.
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
for tool in cargo python3 sqlite3 zip age-keygen /usr/bin/time; do
    command -v "$tool" >/dev/null || die "$tool is needed and not installed"
done

started=$SECONDS
say "building the release binary and the generator"
cargo build --release --bin bomizzel-backup --example bench-db
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
CACHE=${BENCH_DIR:-$TARGET_DIR/bench}
mkdir -p "$CACHE"
CACHE=$(realpath "$CACHE")
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
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

echo
python3 "$BENCH/report.py" "$RESULTS" "$BIN" "$RUNS"
elapsed=$((SECONDS - started))
printf '\nbench/run.sh took %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
