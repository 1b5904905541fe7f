#!/usr/bin/env bash
# The test command: installs what the tests drive as real programs, when missing, then runs
# `cargo test`. Idempotent; arguments go to cargo test (e.g. `scripts/test.sh lsp`).
#   PostgreSQL server  (Debian postgresql)      disposable clusters for trace, fix and live tests
#   pg_cron            (Debian postgresql-N-cron)   the vacuum-whole-database-scheduled fixture
#   pre-commit         (PyPI, target/test-tools/venv)   the pre-commit hook
#   Neovim             (Debian neovim)          the LSP client
#   SARIF validator    (npm @microsoft/sarif-multitool, target/test-tools/npm)
#   git                (Debian git)             the --diff/--staged, Action and pre-commit tests
#   openssl            (Debian openssl)         the CA and server certificates of the TLS tests
#   Chromium           (Debian chromium)        renders the HTML report (scripts/screenshot-html.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/test-tools
mkdir -p "$tools"

apt_updated=false
apt_install() {
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v git >/dev/null 2>&1; then
  echo "installing git"
  apt_install git
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "installing openssl (the TLS tests' certificates)"
  apt_install openssl
fi
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL server packages"
  apt_install postgresql
fi
for bin in /usr/lib/postgresql/*/bin; do
  major=$(basename "$(dirname "$bin")")
  if [ ! -f "/usr/share/postgresql/$major/extension/pg_cron.control" ]; then
    echo "installing pg_cron for PostgreSQL $major"
    apt_install "postgresql-$major-cron"
  fi
done
if ! command -v nvim >/dev/null 2>&1; then
  echo "installing Neovim (the LSP tests' client)"
  apt_install neovim
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium (renders the HTML report in the live tests)"
  apt_install chromium
fi
if [ ! -x "$tools/venv/bin/pre-commit" ]; then
  echo "installing pre-commit from PyPI into $tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q --disable-pip-version-check pre-commit
fi
# a .NET binary inside the npm package; pinned, since its verdicts are what the test reads
if [ ! -x "$tools/npm/node_modules/.bin/sarif-multitool" ]; then
  echo "installing the SARIF validator from npm into $tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
    @microsoft/sarif-multitool@5.7.0 >/dev/null
fi

cargo test --locked "$@"
