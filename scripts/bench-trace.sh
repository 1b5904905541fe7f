#!/usr/bin/env bash
# Measures `pgrisk trace`: cluster start-to-stop time (one statement, median of RUNS) and the
# overhead per traced statement (slope between 10 and 210 cheap statements).
#   scripts/bench-trace.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'CREATE TABLE t (id bigint PRIMARY KEY, v int);\n' > "$work/one.sql"
for n in 10 210; do
  { printf 'CREATE TABLE t (id bigint PRIMARY KEY, v int);\n'
    for i in $(seq 1 "$n"); do printf 'ALTER TABLE t ADD COLUMN c%d int;\n' "$i"; done
  } > "$work/n$n.sql"
done
python3 - "$runs" "$PWD/target/release/pgrisk" "$work" <<'PY'
import statistics, subprocess, sys, time
runs, pgrisk, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def median(path):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([pgrisk, "trace", path, "--format", "json"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
one = median(f"{work}/one.sql")
small, large = median(f"{work}/n10.sql"), median(f"{work}/n210.sql")
print(f"cluster initdb+start+trace+stop, 1 statement: {one*1000:.0f} ms (median of {runs})")
print(f"overhead per traced statement: {(large - small) / 200 * 1000:.2f} ms")
PY
