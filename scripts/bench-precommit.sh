#!/usr/bin/env bash
# What a pre-commit run costs in pgrisk: `pgrisk lint --staged` on 3 staged migrations in a
# repository with 60 committed ones (their context is replayed), release build, median of RUNS.
# Usage: scripts/bench-precommit.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
cargo build --release --quiet
bin="$PWD/target/release/pgrisk"
repo="$(mktemp -d)"
trap 'rm -rf "$repo"' EXIT
git_() { git -C "$repo" -c user.name=bench -c user.email=bench@pgrisk.invalid "$@"; }
git_ init -q
mkdir -p "$repo/migrations"
for i in $(seq -w 1 60); do
  cat > "$repo/migrations/00${i}_table_$i.sql" <<SQL
CREATE TABLE t$i (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), note text);
CREATE INDEX t${i}_owner_idx ON t$i (owner_id);
SQL
done
git_ add -A && git_ commit -q -m base
staged=()
for i in 61 62 63; do
  f="migrations/00${i}_change.sql"
  printf "SET lock_timeout = '2s';\nALTER TABLE t%02d ADD COLUMN flag boolean;\nCREATE INDEX t%02d_created_idx ON t%02d (created_at);\n" \
    $((i - 50)) $((i - 50)) $((i - 50)) > "$repo/$f"
  staged+=("$f")
done
git_ add -A
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  (cd "$repo" && "$bin" lint --staged "${staged[@]}" --format gnu >/dev/null 2>&1) || true
  times+=($(( ($(date +%s%N) - start) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "pgrisk lint --staged, 3 staged files, 60 committed: median $((median / 1000)).$(( (median % 1000) / 100 )) ms over $runs runs"
