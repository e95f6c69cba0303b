"""Check what headless Chromium made of the report: a real page, with the figures on it.

Usage: check_render.py SCREENSHOT.png REPORT.pdf [GLYPHS.png COUNT]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib.image
import numpy as np

from riskshare.render.plots import KIND_COLOURS

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
A4 = (595.28, 841.89)  # points
CELL = 100  # glyph_page.py's cells, in pixels


def check_screenshot(path: Path) -> list[str]:
    pixels = matplotlib.image.imread(str(path))[:, :, :3]
    problems = []
    if pixels.shape[:2] != (HEIGHT, WIDTH):
        problems.append(f"screenshot is {pixels.shape[1]}x{pixels.shape[0]}, not {WIDTH}x{HEIGHT}")
    rgb = np.round(pixels * 255).astype(int).reshape(-1, 3)
    colours = len(np.unique(rgb[:, 0] * 65536 + rgb[:, 1] * 256 + rgb[:, 2]))
    if colours < 200:
        problems.append(f"screenshot has only {colours} distinct colours: is it blank?")
    ink = np.mean(rgb.min(axis=1) < 200)
    if ink < 0.03:
        problems.append(f"only {ink:.1%} of the screenshot is drawn on: is it blank?")
    # The figures draw each party in its kind's colour: the page must show them.
    seen = []
    for kind, colour in KIND_COLOURS.items():
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        near = np.count_nonzero(np.abs(rgb - target).max(axis=1) <= 12)
        if near >= 200:
            seen.append(kind.value)
    if len(seen) < 4:
        problems.append(f"the figures' party colours are missing (seen only: {seen})")
    return problems


def check_pdf(path: Path) -> list[str]:
    data = path.read_bytes()
    if not data.startswith(b"%PDF"):
        return [f"{path} is not a PDF"]
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    if not boxes:
        return ["the PDF has no page"]
    problems = []
    for width, height in boxes:
        if abs(float(width) - A4[0]) > 3 or abs(float(height) - A4[1]) > 3:
            problems.append(f"a page is {float(width):.0f} x {float(height):.0f} pt, not A4")
            break
    return problems


def check_glyphs(path: Path, count: int) -> list[str]:
    """Each cell of glyph_page.py's page holds a drawn character, and no two are alike."""
    pixels = matplotlib.image.imread(str(path))[:, :, :3].mean(axis=2)
    cells = [pixels[:CELL, i * CELL : (i + 1) * CELL] for i in range(count)]
    problems = []
    for i, cell in enumerate(cells):
        if np.mean(cell < 0.5) < 0.02:
            problems.append(f"Chinese character {i + 1} of the report's title is not drawn")
    for i in range(count):
        for j in range(i + 1, count):
            if np.abs(cells[i] - cells[j]).mean() < 0.01:
                problems.append(
                    f"Chinese characters {i + 1} and {j + 1} look alike: boxes, not glyphs"
                )
    return problems


def main(argv: list[str]) -> int:
    screenshot, pdf = Path(argv[1]), Path(argv[2])
    checks = {"screenshot": check_screenshot(screenshot), "print to A4": check_pdf(pdf)}
    if len(argv) > 4:
        checks["Chinese glyphs"] = check_glyphs(Path(argv[3]), int(argv[4]))
    failed = 0
    for name, problems in checks.items():
        for problem in problems:
            print(f"e2e: {name}: {problem}", file=sys.stderr)
        failed += bool(problems)
    print(f"e2e: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
