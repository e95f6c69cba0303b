#!/usr/bin/env bash
# make e2e: the report of the bundled scenario, rendered by a real browser.
#
# Installs Debian's Chromium where it is missing, writes the report of
# scenarios/breakthrough-consortium.yaml, takes a headless screenshot of its first
# A4 page (1240 x 1754 px, A4 at 150 dpi) and prints it to PDF, then checks both
# (check_render.py): the picture is not blank and shows the figures' colours, the
# PDF has A4 pages. E2E_OUT=DIR keeps the files there (docs/images/ takes its
# screenshot from such a run).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-.venv/bin}
SCENARIO=${SCENARIO:-scenarios/breakthrough-consortium.yaml}
YEARS=${YEARS:-20000}
OUT=${E2E_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ ! -x /usr/bin/chromium ]; then
    echo "e2e: installing chromium"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

"$BIN/riskshare" report "$SCENARIO" -o "$OUT/report.html" --years "$YEARS"

browse() {
    local profile
    profile=$(mktemp -d)
    timeout 300 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --hide-scrollbars --user-data-dir="$profile" "$@" \
        "file://$OUT/report.html" 2>"$OUT/chromium.log" || {
        cat "$OUT/chromium.log" >&2
        return 1
    }
    rm -rf "$profile"
}

browse --window-size=1240,1754 --screenshot="$OUT/report.png"
browse --no-pdf-header-footer --print-to-pdf="$OUT/report.pdf"

"$BIN/python" tests/e2e/check_render.py "$OUT/report.png" "$OUT/report.pdf"
