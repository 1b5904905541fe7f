#!/usr/bin/env bash
# Run every rule example against a real PostgreSQL server, on top of
# fixtures/trace/schema.sql.
#
# Usage: scripts/check-trace-schema.sh [PG_BIN_DIR]
#
#   PG_BIN_DIR  directory holding initdb, pg_ctl and psql; defaults to the
#               directory of `initdb` on PATH (symlinks resolved), else
#               /usr/lib/postgresql/15/bin.
#
# Examples checked: the ```sql bad / ```sql good blocks (any pg-version=N) of
# rules/<rule>.md and fixtures/lint/<rule>/{bad,good}.sql (top level only) for
# every rule whose metadata row says `locking`, plus the compatibility rules
# drop-column, drop-table, rename-column, rename-table, truncate-table and
# drop-cascade.
#
# A throwaway cluster is created in a temporary directory (as the `postgres`
# user when run as root), the schema is loaded into database `schema_db`, and
# each example runs with `psql -v ON_ERROR_STOP=0` in a fresh database
# `app` (CREATE DATABASE app TEMPLATE schema_db; the name matters for
# `REINDEX DATABASE app`). One line per example:
#
#   PASS           no error
#   EXPECTED-FAIL  every error is one the example is meant to raise (see
#                  expected_errors below), or the block targets a newer
#                  PostgreSQL than the server
#   FAIL           anything else; the first unexpected error is shown
#
# Exit status: 0 when nothing FAILs, 1 otherwise, 2 on setup problems.
# The cluster and the temporary directory are removed on exit.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
schema="$repo/fixtures/trace/schema.sql"

if [[ $# -ge 1 && -n "$1" ]]; then
    pgbin=$1
elif command -v initdb >/dev/null 2>&1; then
    # Follow symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb).
    pgbin=$(dirname "$(readlink -f "$(command -v initdb)")")
else
    pgbin=/usr/lib/postgresql/15/bin
fi
for tool in initdb pg_ctl psql; do
    if [[ ! -x "$pgbin/$tool" ]]; then
        echo "error: $pgbin/$tool not found (pass the PostgreSQL bin directory as the first argument)" >&2
        exit 2
    fi
done
[[ -f "$schema" ]] || { echo "error: $schema not found" >&2; exit 2; }

compat_rules="drop-column drop-table rename-column rename-table truncate-table drop-cascade"

# Errors an example is written to raise. Key: example label; value: an
# extended regex every error message of that example must match.
declare -A expected_errors=(
    ["rules/concurrently-in-transaction.md bad#1"]='cannot run inside a transaction block|current transaction is aborted'
    ["fixtures/lint/concurrently-in-transaction/bad.sql"]='cannot run inside a transaction block|current transaction is aborted'
    ["rules/add-column-required.md bad#1"]='contains null values'
    ["fixtures/lint/add-column-required/bad.sql"]='contains null values'
    ["fixtures/lint/enum-add-value-in-transaction/bad.sql"]='unsafe use of new value|current transaction is aborted'
)

# --- throwaway cluster -------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgrisk-trace.XXXXXX")
chmod 755 "$tmp"
run_pg=()
if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$tmp"
    run_pg=(runuser -u postgres --)
fi
datadir="$tmp/data"
sockdir="$tmp"
port=54329
started=0

cleanup() {
    if [[ $started -eq 1 ]]; then
        "${run_pg[@]}" "$pgbin/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Work from a directory the postgres user can read.
cd "$tmp"

"${run_pg[@]}" "$pgbin/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 2; }
"${run_pg[@]}" "$pgbin/pg_ctl" -D "$datadir" -l "$tmp/server.log" -w \
    -o "-k $sockdir -c listen_addresses='' -p $port -c fsync=off" start >/dev/null \
    || { cat "$tmp/server.log" >&2; exit 2; }
started=1

export PGHOST=$sockdir PGPORT=$port PGUSER=postgres
export PGOPTIONS='-c client_min_messages=warning'
psql=("$pgbin/psql" -X -q)

server_major=$("${psql[@]}" -d postgres -Atc "SELECT current_setting('server_version_num')::int / 10000")

"${psql[@]}" -d postgres -c 'CREATE DATABASE schema_db' >/dev/null
if ! "${psql[@]}" -d schema_db -v ON_ERROR_STOP=1 -f "$schema" >/dev/null 2>"$tmp/schema.err"; then
    echo "error: loading $schema failed:" >&2
    cat "$tmp/schema.err" >&2
    exit 2
fi

# --- collect examples --------------------------------------------------------

rules=()
for md in "$repo"/rules/*.md; do
    rule=$(basename "$md" .md)
    # The first table row after the |---| separator: | Severity | Category | Lock |
    category=$(awk -F'|' '/^\|[- |]+\|$/ { getline; gsub(/ /, "", $3); print $3; exit }' "$md")
    if [[ $category == locking || " $compat_rules " == *" $rule "* ]]; then
        rules+=("$rule")
    fi
done

exdir="$tmp/examples"
mkdir -p "$exdir"
labels=()
files=()
versions=()
for rule in "${rules[@]}"; do
    md="$repo/rules/$rule.md"
    # Split the ```sql bad|good blocks into files named <kind>#<n>[@<pg-version>].
    awk -v dir="$exdir/$rule" '
        BEGIN { system("mkdir -p \"" dir "\"") }
        !inblock && /^```sql[ \t]+(bad|good)([ \t]|$)/ {
            kind = ($2 == "bad") ? "bad" : "good"
            n[kind]++
            ver = ""
            if (match($0, /pg-version=[0-9]+/)) ver = "@" substr($0, RSTART + 11, RLENGTH - 11)
            out = dir "/" kind "#" n[kind] ver ".sql"
            printf "" > out
            inblock = 1
            next
        }
        inblock && /^```/ { close(out); inblock = 0; next }
        inblock { print > out }
    ' "$md"
    for f in "$exdir/$rule"/*.sql; do
        [[ -e $f ]] || continue
        name=$(basename "$f" .sql)
        ver=""
        if [[ $name == *@* ]]; then ver=${name#*@}; name=${name%@*}; fi
        label="rules/$rule.md ${name}"
        [[ -n $ver ]] && label+=" (pg-version=$ver)"
        labels+=("$label"); files+=("$f"); versions+=("$ver")
    done
    for kind in bad good; do
        f="$repo/fixtures/lint/$rule/$kind.sql"
        [[ -f $f ]] || continue
        labels+=("fixtures/lint/$rule/$kind.sql"); files+=("$f"); versions+=("")
    done
done

# --- run ---------------------------------------------------------------------

pass=0 fail=0 xfail=0
for i in "${!labels[@]}"; do
    label=${labels[$i]} file=${files[$i]} ver=${versions[$i]}
    "${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS app WITH (FORCE)' >/dev/null
    "${psql[@]}" -d postgres -c 'CREATE DATABASE app TEMPLATE schema_db' >/dev/null
    "${psql[@]}" -d app -v ON_ERROR_STOP=0 -f "$file" >/dev/null 2>"$tmp/run.err" || true
    # psql:<file>:<line>: ERROR:  <message>  ->  "line <line>: <message>"
    mapfile -t errors < <(sed -n 's/^psql:.*:\([0-9][0-9]*\): ERROR:  */line \1: /p' "$tmp/run.err")

    if [[ ${#errors[@]} -eq 0 ]]; then
        printf 'PASS           %s\n' "$label"
        pass=$((pass + 1))
        continue
    fi
    allowed=${expected_errors[$label]:-}
    unexpected=""
    if [[ -n $ver && $ver -gt $server_major ]]; then
        : # written for a newer server: errors are expected here
    else
        for e in "${errors[@]}"; do
            if [[ -z $allowed ]] || ! grep -Eq -- "$allowed" <<<"$e"; then
                unexpected=$e
                break
            fi
        done
    fi
    if [[ -z $unexpected ]]; then
        printf 'EXPECTED-FAIL  %s  [%d error(s)] %s\n' "$label" "${#errors[@]}" "${errors[0]}"
        xfail=$((xfail + 1))
    else
        printf 'FAIL           %s  [%d error(s)] %s\n' "$label" "${#errors[@]}" "$unexpected"
        fail=$((fail + 1))
    fi
done

echo
echo "examples: $(( pass + fail + xfail ))  PASS: $pass  EXPECTED-FAIL: $xfail  FAIL: $fail  (PostgreSQL $server_major, rules: ${#rules[@]})"
[[ $fail -eq 0 ]]
