#!/usr/bin/env bash
# Findings per rule, for precision studies: runs pgrisk with --format json on the given
# arguments and prints "count rule" lines, most frequent first, then the summary.
#   scripts/rule-counts.sh lint ../shared/corpus
#   scripts/rule-counts.sh queries app/queries --schema db/schema.sql
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/pgrisk"
cd - >/dev/null
"$bin" "$@" --format json --fail-on never 2>/dev/null | python3 -c '
import collections, json, sys
report = json.load(sys.stdin)
counts = collections.Counter(d["rule"] for d in report["diagnostics"])
for rule, n in counts.most_common():
    print(f"{n:7} {rule}")
s = report["summary"]
files, statements = s["files"], s["statements"]
print(f"{sum(counts.values()):7} findings in {files} files, {statements} statements")
'
