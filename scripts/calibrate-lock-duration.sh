#!/usr/bin/env bash
# Measures how fast this machine's PostgreSQL rewrites a table, builds an index and scans a
# table to validate a constraint, in MB/s of the table's size (heap + indexes + TOAST), the
# figures behind `estimated_lock_seconds` (docs/lock-duration.md, src/diagnostic/size.rs).
#
# A disposable cluster is started in a temporary directory (as `postgres` when run as root);
# for each size a table is filled with generate_series, measured with
# pg_total_relation_size, and each operation is run by `pgrisk trace --dsn` (inside a
# transaction that is rolled back, so every operation sees the same table) which reports the
# statement's duration_ms (the median of three runs after a warm-up run).
#
# Usage: scripts/calibrate-lock-duration.sh [ROWS ...]   (default: 200000 1000000 3000000)
# Env:   PG_BIN (default: newest /usr/lib/postgresql/*/bin), PGRISK (default: target/release
#        or target/debug pgrisk).
set -euo pipefail

cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200000 1000000 3000000)
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PGRISK=${PGRISK:-$( [ -x target/release/pgrisk ] && echo target/release/pgrisk || echo target/debug/pgrisk)}
[ -x "$PGRISK" ] || cargo build --locked --quiet
command -v jq >/dev/null || { echo "calibrate: jq is needed" >&2; exit 2; }

work=$(mktemp -d /tmp/pgrisk-calibrate.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
port=54329
cleanup() {
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_pg[@]}" "$PG_BIN/initdb" -D "$work/data" -U postgres -A trust >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-k $work -p $port -c listen_addresses='' -c fsync=off -c max_wal_size=4GB" start >/dev/null
psql_() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -t -A -h "$work" -p "$port" -U postgres -d postgres "$@"; }
dsn="host=$work port=$port user=postgres dbname=postgres"

# operation kind | statement (on table cal: id bigint primary key, payload text, n integer)
operations=(
  "rewrite|ALTER TABLE cal ALTER COLUMN n TYPE bigint"
  "index build|CREATE INDEX cal_payload ON cal (payload)"
  "scan|ALTER TABLE cal ADD CONSTRAINT cal_n_positive CHECK (n > 0)"
)

version=$(psql_ -c "SHOW server_version")
echo "# PostgreSQL $version, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%F)"
printf "%-12s %10s %10s %10s %8s\n" operation rows MB ms MB/s
for rows in "${sizes[@]}"; do
  psql_ -c "DROP TABLE IF EXISTS cal" -c "CREATE TABLE cal (id bigint PRIMARY KEY, payload text NOT NULL, n integer NOT NULL)" \
    -c "INSERT INTO cal SELECT g, 'seed ' || g, g FROM generate_series(1, $rows) g" -c "VACUUM ANALYZE cal"
  bytes=$(psql_ -c "SELECT pg_total_relation_size('cal')")
  for operation in "${operations[@]}"; do
    kind=${operation%%|*}
    sql=${operation#*|}
    echo "$sql;" > "$work/op.sql"
    # the first run warms the cache; the figure is the median of the next three
    "$PGRISK" trace --dsn "$dsn" --format json "$work/op.sql" >/dev/null
    ms=$(for _ in 1 2 3; do
      "$PGRISK" trace --dsn "$dsn" --format json "$work/op.sql" | jq '.statements[-1].duration_ms'
    done | sort -g | sed -n 2p)
    awk -v k="$kind" -v r="$rows" -v b="$bytes" -v ms="$ms" 'BEGIN {
      mb = b / 1048576; printf "%-12s %10d %10.1f %10.1f %8.1f\n", k, r, mb, ms, mb / (ms / 1000) }'
  done
done
