#!/usr/bin/env python3
"""One measurement for bench/run.sh: runs a command under `/usr/bin/time -v` and appends its
wall-clock time and peak RSS as a JSON line to the results file.

    measure.py RESULTS FIGURE SIZE -- COMMAND [ARG...]
    measure.py RESULTS FIGURE SIZE --value NUMBER      (a figure that is not a time, e.g. bytes)

Each line carries the database variant from the BENCH_VARIANT environment variable (e.g.
`webapp/helpdesk`), so that report.py prints one table per variant.

The command's output goes to RESULTS.log; when it fails, its tail is shown and this script
exits with the command's status, so that `set -e` in run.sh stops the run.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time


def append(results, record):
    record["variant"] = os.environ.get("BENCH_VARIANT", "")
    with open(results, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    results, figure, size = argv[1], argv[2], int(argv[3])
    if argv[4] == "--value":
        append(results, {"figure": figure, "size": size, "value": float(argv[5])})
        return 0
    if argv[4] != "--":
        sys.exit(__doc__)
    command = argv[5:]
    log_path = results + ".log"
    with tempfile.NamedTemporaryFile("r", suffix=".time") as usage, open(
        log_path, "a", encoding="utf-8"
    ) as log:
        log.write(f"\n### {figure} {size}: {' '.join(command)}\n")
        log.flush()
        started = time.perf_counter()
        status = subprocess.run(
            ["/usr/bin/time", "-v", "-o", usage.name, *command],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        ).returncode
        wall = time.perf_counter() - started
        report = usage.read()
    if status != 0:
        sys.stderr.write(f"bench: {figure} at {size} failed (exit {status}): {' '.join(command)}\n")
        with open(log_path, encoding="utf-8", errors="replace") as log:
            sys.stderr.writelines(log.readlines()[-20:])
        return status
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    if not match:
        sys.stderr.write(f"bench: no peak RSS in /usr/bin/time's report:\n{report}")
        return 1
    append(
        results,
        {"figure": figure, "size": size, "wall": wall, "rss_kib": int(match.group(1))},
    )
    print(f"    {figure:<16} {size:>7}  {wall:8.3f} s  {int(match.group(1)) / 1024:7.1f} MiB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
