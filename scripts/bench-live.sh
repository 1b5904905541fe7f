#!/usr/bin/env bash
# Audit time of `pgrisk live` on a large catalog: a disposable cluster (initdb + pg_ctl on a
# Unix socket in a temporary directory) with TABLES tables of INDEXES_PER_TABLE indexes each
# (primary key included; 10 000 × 3 = 30 000 by default), then RUNS audits of the release
# build. Reports the wall time of each audit and, from pg_stat_statements, the server-side
# time of every query pgrisk sent. Target: ≤ 2 s an audit, every query under its 5 s
# statement_timeout (a query that hit it shows up as a skipped check in the notes).
#   scripts/bench-live.sh                 # PG from /usr/lib/postgresql/15/bin
#   PG_BIN=/usr/lib/postgresql/16/bin TABLES=2000 scripts/bench-live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
TABLES=${TABLES:-10000}
RUNS=${RUNS:-3}
BATCH=250
PORT=54329

cargo build --release --locked --quiet
pgrisk=$PWD/target/release/pgrisk

dir=$(mktemp -d /tmp/pgrisk-bench-live.XXXXXX)
chmod 755 "$dir"
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to postgres, as in src/pg/cluster.rs
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
pg() { "${as_owner[@]}" "$@"; }
stop() {
  pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >/dev/null
pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-c listen_addresses='' -c unix_socket_directories='$dir' -p $PORT \
   -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
psql() { pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p $PORT -U postgres "$@"; }

psql -d postgres -c "CREATE DATABASE bench"
psql -d bench -c "CREATE EXTENSION pg_stat_statements"
indexes=${INDEXES_PER_TABLE:-3}
echo "creating $TABLES tables with $((TABLES * indexes)) indexes"
created=$(date +%s)
for ((from = 0; from < TABLES; from += BATCH)); do
  to=$((from + BATCH < TABLES ? from + BATCH : TABLES))
  psql -d bench -c "
    DO \$\$
    BEGIN
      FOR i IN $from..$((to - 1)) LOOP
        EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, account_id bigint, note text,
                        created_at timestamptz)', i);
        FOR k IN 2..$indexes LOOP
          EXECUTE format('CREATE INDEX t%s_%s_idx ON t%s (%s)', i, k, i,
                         (ARRAY['account_id', 'created_at', 'note'])[1 + (k - 2) % 3]);
        END LOOP;
      END LOOP;
    END \$\$"
done
psql -d bench -c "VACUUM ANALYZE" >/dev/null
psql -d bench -At -c "SELECT count(*) FILTER (WHERE relkind = 'r'), count(*) FILTER (WHERE relkind = 'i')
                      FROM pg_class WHERE relnamespace = 'public'::regnamespace" |
  awk -F'|' -v s=$(($(date +%s) - created)) '{print "catalog: " $1 " tables, " $2 " indexes (" s " s to create)"}'

dsn="host=$dir port=$PORT dbname=bench user=postgres"
queries() {
  psql -d bench -c "
    SELECT calls, round(mean_exec_time::numeric, 1) AS mean_ms, round(max_exec_time::numeric, 1) AS max_ms,
           rows / calls AS rows_per_call, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench')
      AND query <> 'SELECT pg_stat_statements_reset()'
    ORDER BY max_exec_time DESC"
}
audit() { # label, extra arguments
  local label=$1 start end code=0
  shift
  start=$(date +%s%N)
  "$pgrisk" live --no-config --dsn "$dsn" --format json "$@" >"$dir/report.json" || code=$?
  end=$(date +%s%N)
  echo "$label: $(((end - start) / 1000000)) ms wall (exit $code)"
}

audit "warm-up" >/dev/null
psql -d bench -c "SELECT pg_stat_statements_reset()" >/dev/null
for ((run = 1; run <= RUNS; run++)); do
  audit "audit $run"
done
echo "notes of the last audit (checks skipped and why):"
jq -r '(.notes // [])[] | "  " + .' "$dir/report.json"
jq -r '"findings: \(.diagnostics | length)"' "$dir/report.json"
echo "server-side time per completed query over $RUNS audits (pg_stat_statements):"
queries
# pg_stat_statements records only queries that completed; the log names the cancelled ones
echo "queries cancelled by the 5 s statement_timeout (server log), with their count:"
grep -A1 "canceling statement due to statement timeout" "$dir/server.log" | grep "STATEMENT:" |
  sed 's/.*STATEMENT: *//' | cut -c1-90 | sort | uniq -c || echo "  none"
echo "one audit with --statement-timeout 120000, to see what the cancelled queries cost:"
psql -d bench -c "SELECT pg_stat_statements_reset()" >/dev/null
audit "audit, 120 s timeout" --statement-timeout 120000
queries
