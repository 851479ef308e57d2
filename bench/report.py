#!/usr/bin/env python3
"""Prints bench/run.sh's tables, one per database variant (whose indexes, which texts): the
median of each figure per size, the ratios next to the targets of SPEC section 5 and issues
12 and 14, and the machine it ran on. The PostgreSQL variants (issue 13, `postgres/TEXTS`)
have their own baselines (psql \\copy + zip -6, psql < pg_dump) and only the figures measured
on PostgreSQL.

    report.py RESULTS BIN RUNS

A target is judged at the largest size measured (the SPEC's targets are for 100k tickets).
"""

import json
import platform
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

MIB = 1024 * 1024


def command_output(*command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    lines = out.strip().splitlines()
    return lines[0] if lines else "unknown"


def machine(binary):
    cpu, memory = "unknown", "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    commit = command_output("git", "rev-parse", "--short", "HEAD")
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml",
         "Cargo.lock"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if changed:
        commit += " + uncommitted changes to src/"
    zip_version = subprocess.run(["zip", "-v"], capture_output=True, text=True).stdout
    zip_line = next((l for l in zip_version.splitlines() if l.startswith("This is Zip")), "zip")
    return [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("cpus (nproc)", command_output("nproc")),
        ("cpu", cpu),
        ("memory", memory),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("rustc", command_output("rustc", "-V")),
        ("sqlite3", " ".join(command_output("sqlite3", "--version").split()[:2])),
        ("zip", zip_line.removeprefix("This is ").rstrip(".")),
        ("tool", f"{command_output(binary, '--version')}, commit {commit}"),
    ]


def size_label(size):
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


VARIANTS = {
    "init": "made by init (its covering indexes)",
    "webapp": "made by the web app (only its indexes, none of the tool's tables)",
    "unicode": "long texts in many scripts",
    "helpdesk": "short plain-ASCII texts",
    "postgres": "on PostgreSQL (made by init, filled by import)",
}


def variant_title(variant):
    parts = [VARIANTS.get(part, part) for part in variant.split("/") if part]
    return "Databases " + ", ".join(parts) if parts else "Databases"


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    results, binary, runs = argv[1], argv[2], argv[3]
    by_variant = defaultdict(list)
    with open(results, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            by_variant[record.get("variant", "")].append(record)
    if not by_variant:
        sys.exit("report: no results")
    for variant, records in by_variant.items():
        print(f"## {variant_title(variant)}")
        print()
        print_table(records, postgres=variant.startswith("postgres"))
        print()
    print(f"Each time and RSS is the median of {runs} run(s). Sizes are Bench Corp's tickets.")
    if any(not v.startswith("postgres") for v in by_variant):
        print("Baselines: export = sqlite3 -json of Bench Corp's six tables (joined to the "
              "company) + zip -6 (bench/baseline-export.sh);")
        print("           import = sqlite3 NEW.db < DUMP.sql, the .dump of the WHOLE benchmark "
              "database (both companies).")
    postgres = any(v.startswith("postgres") for v in by_variant)
    if postgres:
        print("PostgreSQL baselines: export = psql \\copy (SELECT row_to_json(t) FROM (...) t) "
              "of the same six queries + zip -6 (bench/baseline-export-pg.sh);")
        print("           import = psql -f DUMP.sql into a new empty database, the pg_dump "
              "--no-owner of the WHOLE database (both companies).")
        print("PostgreSQL ran with its default settings (fsync on), on a unix socket.")
    print()
    details = machine(binary)
    if postgres:
        details.append(("postgresql", command_output("postgres", "--version")))
    for name, value in details:
        print(f"{name + ':':<14}{value}")
    return 0


def print_table(records, postgres=False):
    """Prints one variant's table: the rows with a value at some size."""
    walls, rsss, values = defaultdict(list), defaultdict(list), {}
    for record in records:
        key = (record["figure"], record["size"])
        if "value" in record:
            values[key] = record["value"]
        else:
            walls[key].append(record["wall"])
            rsss[key].append(record["rss_kib"] / 1024)
    sizes = sorted({size for _, size in list(walls) + list(values)})
    top, low = sizes[-1], sizes[0]

    def wall(figure, size):
        return statistics.median(walls[(figure, size)]) if walls[(figure, size)] else None

    def rss(figure, size):
        return statistics.median(rsss[(figure, size)]) if rsss[(figure, size)] else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    def per_size(fn):
        return {size: fn(size) for size in sizes}

    def growth(figure):
        """The row comparing peak RSS at the largest and the smallest size, if both ran."""
        if len(sizes) < 2:
            return []
        return [(f"  {figure} RSS {size_label(top)} / {size_label(low)}",
                 {top: ratio(rss(figure, top), rss(figure, low))}, times, "<= 1.20x",
                 lambda v: v <= 1.2)]

    def mib(figure):
        return per_size(lambda s: values[(figure, s)] / MIB if (figure, s) in values else None)

    seconds, times, mibs = "{:.2f}", "{:.2f}x", "{:.1f}"
    # (label, values per size, format, target text, test of the value at the largest size)
    rows = [
        ("export to zip (s)", per_size(lambda s: wall("export", s)), seconds, "", None),
        ("  encrypted to an age key (X25519) (s)", per_size(lambda s: wall("export-age", s)),
         seconds, "", None),
        ("  encrypted / plain", per_size(lambda s: ratio(wall("export-age", s),
                                                          wall("export", s))),
         times, "<= 1.15x", lambda v: v <= 1.15),
        ("  baseline: psql \\copy row_to_json + zip -6 (s)" if postgres else
         "  baseline: sqlite3 -json + zip -6 (s)",
         per_size(lambda s: wall("export-baseline", s)), seconds, "", None),
        ("  export / baseline", per_size(lambda s: ratio(wall("export", s),
                                                          wall("export-baseline", s))),
         times, "<= 0.50x", lambda v: v <= 0.5),
        ("import --create-company (s)", per_size(lambda s: wall("import", s)), seconds, "",
         None),
        ("  baseline: psql < pg_dump, whole db (s)" if postgres else
         "  baseline: sqlite3 < .dump, whole db (s)",
         per_size(lambda s: wall("import-baseline", s)), seconds, "", None),
        ("  import / baseline", per_size(lambda s: ratio(wall("import", s),
                                                          wall("import-baseline", s))),
         times, "<= 1.00x", lambda v: v <= 1.0),
        ("  psql < data-only pg_dump into init's schema (s)",
         per_size(lambda s: wall("import-baseline-data", s)), seconds, "", None),
        ("  import / that", per_size(lambda s: ratio(wall("import", s),
                                                      wall("import-baseline-data", s))),
         times, "", None),
        ("  of the encrypted archive, -i KEY (s)", per_size(lambda s: wall("import-age", s)),
         seconds, "", None),
        ("  encrypted / plain", per_size(lambda s: ratio(wall("import-age", s),
                                                          wall("import", s))),
         times, "", None),
        ("verify (s)", per_size(lambda s: wall("verify", s)), seconds, "", None),
        ("  verify / import", per_size(lambda s: ratio(wall("verify", s), wall("import", s))),
         times, "<= 1.50x", lambda v: v <= 1.5),
        ("no-op re-import --skip-duplicates (s)", per_size(lambda s: wall("noop", s)), seconds,
         "", None),
        ("  no-op / import", per_size(lambda s: ratio(wall("noop", s), wall("import", s))),
         times, "<= 0.33x", lambda v: v <= 1 / 3),
        ("validate-only, no database (s)", per_size(lambda s: wall("validate-file", s)),
         seconds, "", None),
        ("  validate-only / import", per_size(lambda s: ratio(wall("validate-file", s),
                                                               wall("import", s))),
         times, "", None),
        ("validate-only + plan, with db (s)", per_size(lambda s: wall("validate-plan", s)),
         seconds, "", None),
        ("export peak RSS (MiB)", per_size(lambda s: rss("export", s)), mibs, "<= 100",
         lambda v: v <= 100),
        *growth("export"),
        ("import peak RSS (MiB)", per_size(lambda s: rss("import", s)), mibs, "<= 100",
         lambda v: v <= 100),
        *growth("import"),
        ("encrypted export peak RSS (MiB)", per_size(lambda s: rss("export-age", s)), mibs, "",
         None),
        ("encrypted import peak RSS (MiB)", per_size(lambda s: rss("import-age", s)), mibs, "",
         None),
        ("verify peak RSS (MiB)", per_size(lambda s: rss("verify", s)), mibs, "", None),
        ("no-op re-import peak RSS (MiB)", per_size(lambda s: rss("noop", s)), mibs, "", None),
        ("validate-only peak RSS (MiB)", per_size(lambda s: rss("validate-file", s)), mibs, "",
         None),
        ("validate + plan peak RSS (MiB)", per_size(lambda s: rss("validate-plan", s)), mibs, "",
         None),
        ("baseline export peak RSS (MiB)", per_size(lambda s: rss("export-baseline", s)), mibs,
         "", None),
        ("baseline restore peak RSS (MiB)", per_size(lambda s: rss("import-baseline", s)), mibs,
         "", None),
        ("archive size (MiB)", mib("archive-bytes"), mibs, "", None),
        ("  baseline zip size (MiB)", mib("baseline-zip-bytes"), mibs, "", None),
        ("  archive / baseline zip", per_size(lambda s: ratio(values.get(("archive-bytes", s)),
                                                               values.get(("baseline-zip-bytes",
                                                                           s)))),
         times, "", None),
        ("  encrypted archive (MiB)", mib("sealed-bytes"), mibs, "", None),
        ("benchmark database (MiB)", mib("db-bytes"), mibs, "", None),
        ("  its pg_dump (MiB)" if postgres else "  its sqlite3 .dump (MiB)", mib("dump-bytes"),
         mibs, "", None),
    ]

    verdict_header = f"met? (at {size_label(top)})"
    header = ["figure", *(size_label(s) for s in sizes), "target", verdict_header]
    table = [header]
    for label, by_size, fmt, target, test in rows:
        if all(value is None for value in by_size.values()):
            continue
        cells = [label]
        for size in sizes:
            value = by_size.get(size)
            cells.append("-" if value is None else fmt.format(value))
        verdict = ""
        if test is not None:
            value = by_size.get(top)
            verdict = "?" if value is None else ("met" if test(value) else "NOT MET")
        table.append([*cells, target, verdict])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]

    def line(row):
        first = row[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(row[1:-2], widths[1:-2])]
        tail = [row[-2].ljust(widths[-2]), row[-1]]
        return "  ".join([first, *rest, *tail]).rstrip()

    print(line(table[0]))
    print("  ".join("-" * w for w in widths))
    for row in table[1:]:
        print(line(row))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
