#!/usr/bin/env bash
# Times `pgrisk lint` against squawk on the same files, in one run, and prints the ratio.
#   scripts/bench-lint.sh [RUNS]          (default 10 runs per measurement; median reported)
# Inputs: every file of ../shared/corpus (PostgreSQL's regression SQL); a directory of 4,000
# small generated migrations (~4.5 statements each, the shape of a real migrations folder);
# and one small migration for the single-file (pre-commit) case. Peak memory (max RSS, from
# /usr/bin/time) is reported beside the times. squawk comes from PyPI (squawk-cli),
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

many="target/bench-many"
if [ ! -d "$many" ]; then
  python3 - "$many" <<'PY'
import os, random, sys
out = sys.argv[1]
os.makedirs(out)
rng = random.Random(42)
tables = [f"t{i}" for i in range(400)]
shapes = [
    "CREATE TABLE IF NOT EXISTS {n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id), name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());",
    "ALTER TABLE {t} ADD COLUMN {c} text;",
    "ALTER TABLE {t} ADD COLUMN {c} integer NOT NULL DEFAULT 0;",
    "CREATE INDEX {t}_{c}_idx ON {t} ({c});",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_{c}_idx2 ON {t} ({c});",
    "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
    "UPDATE {t} SET {c} = 'x' WHERE {c} IS NULL;",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY ({c}) REFERENCES accounts (id) NOT VALID;",
    "ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{c}_fk;",
    "COMMENT ON COLUMN {t}.{c} IS 'what it holds';",
    "DROP INDEX IF EXISTS {t}_{c}_old_idx;",
    "INSERT INTO settings (key, value) VALUES ('{t}.{c}', 'on') ON CONFLICT (key) DO NOTHING;",
]
for i in range(4000):
    lines = ["SET lock_timeout = '2s';"] if rng.random() < 0.5 else []
    for _ in range(rng.randint(2, 6)):
        lines.append(rng.choice(shapes).format(n=f"new_{i}_{len(lines)}", t=rng.choice(tables), c=f"c{rng.randint(0, 40)}"))
    with open(f"{out}/{i + 1:05d}_change_{i}.sql", "w") as f:
        f.write("\n".join(lines) + "\n")
PY
fi

python3 - "$runs" "$pgrisk" "$squawk" "$corpus" "$small" "$many" <<'PY'
import glob, statistics, subprocess, sys, time
runs, pgrisk, squawk, corpus, small, many = int(sys.argv[1]), *sys.argv[2:]
files = sorted(glob.glob(f"{corpus}/*.sql"))
many_files = sorted(glob.glob(f"{many}/*.sql"))

def peak_kib(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True).stderr.strip().splitlines()
    return int(out[-1])

def median_seconds(cmd):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)

cases = {
    "corpus": (files, f"{len(files)} files"),
    "many": (many_files, f"{len(many_files)} small files"),
    "single": ([small], "1 small file"),
}
print(f"median of {runs} runs; squawk {subprocess.run([squawk, '--version'], capture_output=True, text=True).stdout.strip()}")
for name, (inputs, label) in cases.items():
    p = median_seconds([pgrisk, "lint", "--fail-on", "never", "--format", "json", *inputs])
    s = median_seconds([squawk, *inputs])
    pm = peak_kib([pgrisk, "lint", "--fail-on", "never", "--format", "json", *inputs])
    sm = peak_kib([squawk, *inputs])
    print(f"{name:7} ({label}): pgrisk {p*1000:8.1f} ms {pm/1024:6.1f} MB   squawk {s*1000:8.1f} ms {sm/1024:6.1f} MB   squawk/pgrisk = {s/p:5.2f}x")
PY
