#!/usr/bin/env bash
# Renders an HTML report in headless Chromium to a PNG, with the network unreachable (every
# host name fails to resolve), so a page that needed a font, script or image would show it.
#   scripts/screenshot-html.sh REPORT.html OUT.png
# Chromium is the Debian package `chromium` (scripts/test.sh installs it when missing).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 REPORT.html OUT.png" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "$0: chromium not found (scripts/test.sh installs it, or: apt-get install chromium)" >&2
  exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
rm -f "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
log="$profile/chromium.log"
if ! "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --disable-background-networking \
  --host-resolver-rules="MAP * ~NOTFOUND" \
  --window-size=1280,2000 --screenshot="$out" "file://$report" >"$log" 2>&1 || [ ! -s "$out" ]; then
  echo "$0: chromium did not write $out:" >&2
  cat "$log" >&2
  exit 1
fi
