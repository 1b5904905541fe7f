#!/usr/bin/env bash
# Times `pgrisk queries` on generated input: a 500-table schema and 10 000 queries of the
# shapes the query rules look at, and prints queries per second (median of RUNS).
#   scripts/bench-queries.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(7)
with open(f"{work}/schema.sql", "w") as f:
    for t in range(500):
        cols = ", ".join(f"c{c} text" for c in range(10))
        f.write(f"CREATE TABLE t{t} (id bigint PRIMARY KEY, account_id bigint NOT NULL, created_at timestamptz, {cols});\n")
        f.write(f"CREATE INDEX t{t}_account_idx ON t{t} (account_id, created_at);\n")
        f.write(f"CREATE INDEX t{t}_c0_idx ON t{t} (c0);\n")
shapes = [
    "SELECT * FROM t{t} WHERE id = $1;",
    "SELECT id, c1, c2 FROM t{t} WHERE account_id = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT 50;",
    "SELECT id FROM t{t} WHERE c3 = $1;",
    "SELECT id FROM t{t} WHERE lower(c0) = $1;",
    "SELECT id FROM t{t} WHERE c1 ILIKE '%' || $1 || '%' OFFSET $2;",
    "SELECT a.id, b.c2 FROM t{t} a JOIN t{u} b ON b.account_id = a.id WHERE a.c0 = $1;",
    "INSERT INTO t{t} (id, account_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING;",
    "UPDATE t{t} SET c4 = $1 WHERE id = $2;",
]
with open(f"{work}/queries.sql", "w") as f:
    for i in range(10000):
        f.write(f"-- name: Q{i} :many\n")
        f.write(random.choice(shapes).format(t=random.randrange(500), u=random.randrange(500)) + "\n")
PY
python3 - "$runs" "$PWD/target/release/pgrisk" "$work" <<'PY'
import statistics, subprocess, sys, time
runs, pgrisk, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmd = [pgrisk, "queries", f"{work}/queries.sql", "--schema", f"{work}/schema.sql", "--format", "json", "--fail-on", "never"]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - start)
median = statistics.median(times)
print(f"10000 queries, 500-table schema: {median*1000:.0f} ms median of {runs} -> {10000/median:,.0f} queries/s")
PY
