#!/usr/bin/env bash
# Screenshot of a gazealign report in headless Chromium, with networking off.
#   scripts/screenshot_report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
# Needs Debian's `chromium` (apt-get install chromium). The page is self-contained, so the
# browser is given no network at all (a dead proxy and a host resolver that maps every name
# nowhere). Default size 1280x4000 px: the top of the report, summary to the first figures.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
  exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
width=${3:-1280}
height=${4:-4000}
browser=${CHROMIUM:-chromium}
if ! command -v "$browser" >/dev/null 2>&1; then
  echo "$0: '$browser' not found; install Debian's chromium (apt-get install chromium)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
  --user-data-dir="$profile" --proxy-server=127.0.0.1:9 --host-resolver-rules="MAP * ~NOTFOUND" \
  --hide-scrollbars --window-size="${width},${height}" --virtual-time-budget=5000 \
  --screenshot="$out" "file://$report" 2>/dev/null
test -s "$out"
echo "$out"
