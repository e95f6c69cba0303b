"""A page that shows, large, the Chinese characters of a report, in the report's own CSS.

Usage: glyph_page.py REPORT.html PAGE.html

Each character sits alone in a square cell (CELL px, in a row from the left), so the
screenshot shows whether the browser drew each with a real glyph of the font the
report embeds (all different) or with the box of a missing glyph (all alike).
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from pathlib import Path

CELL = 100
COUNT = 8


def main(argv: list[str]) -> int:
    report = Path(argv[1]).read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", report, re.DOTALL)
    title = re.search(r"<h1>(.*?)</h1>", report, re.DOTALL)
    assert style is not None and title is not None, "not a riskshare report"
    chars: list[str] = []
    for char in html.unescape(title.group(1)):
        if unicodedata.east_asian_width(char) in "WF" and char not in chars:
            chars.append(char)
    assert len(chars) >= 2, "the report's title has fewer than two Chinese characters"
    cells = "".join(
        f'<div style="position:absolute;left:{i * CELL}px;top:0;width:{CELL}px;'
        f"height:{CELL}px;font-size:{CELL * 0.7:.0f}px;line-height:{CELL}px;"
        f'text-align:center">{char}</div>'
        for i, char in enumerate(chars[:COUNT])
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<style>{style.group(1)} html, body {{ margin: 0; background: white; }}</style>"
        f'</head><body><div style="position:relative">{cells}</div></body></html>'
    )
    Path(argv[2]).write_text(page, encoding="utf-8")
    print(len(chars[:COUNT]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
