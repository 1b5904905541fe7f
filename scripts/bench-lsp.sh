#!/usr/bin/env bash
# Latency of `pgrisk lsp`: didChange on a 5 000-line migration (after 20 earlier migrations)
# to publishDiagnostics, less the debounce, on a release build. Target: ≤ 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test integration lsp::bench_change_to_diagnostics -- --ignored --nocapture 2>&1 |
  grep -E 'didChange|test result'
