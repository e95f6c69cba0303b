#!/usr/bin/env bash
# make e2e: the report, rendered by a real browser.
#
# Installs Debian's Chromium where it is missing, writes the report of
# scenarios/breakthrough-consortium.yaml, takes a headless screenshot of its first
# A4 page (1240 x 1754 px, A4 at 150 dpi) and prints it to PDF; then shows the
# Chinese characters of a report with Chinese labels in a browser that has no font
# but the ones the report embeds. check_render.py checks all three: the page is not
# blank and shows the figures' colours, the PDF has A4 pages, each Chinese character
# is a glyph and not a box. E2E_OUT=DIR keeps the files there (docs/images/ takes
# its screenshot from such a run).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-.venv/bin}
SCENARIO=${SCENARIO:-scenarios/breakthrough-consortium.yaml}
CHINESE=${CHINESE:-tests/golden/chinese-labels.yaml}
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

# browse PAGE CHROMIUM-OPTIONS...: headless Chromium on a file of $OUT.
browse() {
    local page=$1 profile
    shift
    profile=$(mktemp -d)
    timeout 300 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --hide-scrollbars --user-data-dir="$profile" "$@" \
        "file://$OUT/$page" 2>"$OUT/chromium.log" || {
        cat "$OUT/chromium.log" >&2
        return 1
    }
    rm -rf "$profile"
}

"$BIN/riskshare" report "$SCENARIO" -o "$OUT/report.html" --years "$YEARS"
browse report.html --window-size=1240,1754 --screenshot="$OUT/report.png"
browse report.html --no-pdf-header-footer --print-to-pdf="$OUT/report.pdf"

"$BIN/riskshare" report "$CHINESE" -o "$OUT/chinese.html" --years 2000
count=$("$BIN/python" tests/e2e/glyph_page.py "$OUT/chinese.html" "$OUT/glyphs.html")
# Only a Latin font (a browser draws no text at all without one), no Chinese font.
latin="$OUT/latin-only"
for dir in /usr/share/fonts/truetype/dejavu /usr/share/fonts/truetype/liberation; do
    if [ -d "$dir" ]; then latin=$dir; break; fi
done
mkdir -p "$latin" "$OUT/font-cache"
cat >"$OUT/fonts.conf" <<CONF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>$latin</dir><cachedir>$OUT/font-cache</cachedir></fontconfig>
CONF
FONTCONFIG_FILE="$OUT/fonts.conf" browse glyphs.html --virtual-time-budget=5000 \
    --window-size=1000,400 --screenshot="$OUT/glyphs.png"

"$BIN/python" tests/e2e/check_render.py "$OUT/report.png" "$OUT/report.pdf" \
    "$OUT/glyphs.png" "$count"
