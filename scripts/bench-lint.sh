#!/usr/bin/env bash
# Times `pgrisk lint` against squawk on the same files, in one run, and prints the ratio.
#   scripts/bench-lint.sh [RUNS]          (default 10 runs per measurement; median reported)
# Inputs: every file of ../shared/corpus (PostgreSQL's regression SQL), and one small
# migration for the single-file (pre-commit) case. squawk comes from PyPI (squawk-cli),
# installed into target/bench-venv on first use. Both tools run with all their rules on.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
corpus="../shared/corpus/postgres-regress"
small="examples/migrations/0003_orders_status.sql"

cargo build --release --quiet
pgrisk="$PWD/target/release/pgrisk"

venv="target/bench-venv"
if [ ! -x "$venv/bin/squawk" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet squawk-cli
fi
squawk="$PWD/$venv/bin/squawk"

python3 - "$runs" "$pgrisk" "$squawk" "$corpus" "$small" <<'PY'
import glob, statistics, subprocess, sys, time
runs, pgrisk, squawk, corpus, small = int(sys.argv[1]), *sys.argv[2:]
files = sorted(glob.glob(f"{corpus}/*.sql"))

def median_seconds(cmd):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)

cases = {
    "corpus": (files, f"{len(files)} files"),
    "single": ([small], "1 small file"),
}
print(f"median of {runs} runs; squawk {subprocess.run([squawk, '--version'], capture_output=True, text=True).stdout.strip()}")
for name, (inputs, label) in cases.items():
    p = median_seconds([pgrisk, "lint", "--fail-on", "never", "--format", "json", *inputs])
    s = median_seconds([squawk, *inputs])
    print(f"{name:7} ({label}): pgrisk {p*1000:8.1f} ms   squawk {s*1000:8.1f} ms   squawk/pgrisk = {s/p:5.2f}x")
PY
