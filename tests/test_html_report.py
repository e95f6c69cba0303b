"""The HTML report: self-contained, complete, and written by ``riskshare report``."""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from render import run

import riskshare
from riskshare.render.html import inline_svg, report_html
from riskshare.runs.bad_years import bad_year_splits
from riskshare.runs.simulation import SimulationResult

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "breakthrough-consortium.yaml"
NO_PREMIUMS = ROOT / "tests" / "scenarios" / "valid" / "spec-example.yaml"
CHINESE = ROOT / "tests" / "golden" / "chinese-labels.yaml"
WHEN = datetime(2025, 3, 2, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo() -> tuple[SimulationResult, str]:
    result = riskshare.simulate(riskshare.load_scenario(DEMO), years=3000, seed=11)
    return result, report_html(result, bad_year_splits(result), generated=WHEN)


class Outline(HTMLParser):
    """Tags, ids and references of a page, and whether its elements close in order."""

    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "path", "use", "stop"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name in ("href", "xlink:href", "src") and value:
                self.links.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()


def outline(document: str) -> Outline:
    parser = Outline()
    parser.feed(document)
    parser.close()
    return parser


def test_the_report_is_self_contained(demo: tuple[SimulationResult, str]) -> None:
    _, document = demo
    assert "http://" not in document and "https://" not in document
    parsed = outline(document)
    assert not {"script", "link", "img", "iframe", "object"} & set(parsed.tags)
    # Every reference points inside the page: to an id of one of its figures.
    ids = set(parsed.ids)
    for link in parsed.links:
        assert link.startswith("#") and link[1:] in ids, link
    assert re.search(r"url\((?!#|data:)", document) is None


def test_the_report_is_well_formed_with_unique_ids(demo: tuple[SimulationResult, str]) -> None:
    _, document = demo
    parsed = outline(document)
    assert parsed.errors == []
    assert parsed.stack == []
    assert len(parsed.ids) == len(set(parsed.ids))


def test_the_report_embeds_every_figure(demo: tuple[SimulationResult, str]) -> None:
    _, document = demo
    figures = re.findall(r'<svg[^>]*aria-label="([^"]+)"', document)
    assert figures == ["tower", "who pays", "exceedance curves"]
    assert document.count("<figure>") == 3
    assert document.count("<path") > 100  # drawn, with text as paths


def test_the_report_names_the_run(demo: tuple[SimulationResult, str]) -> None:
    result, document = demo
    scenario = result.scenario
    text = html.unescape(document)
    for fact in (
        scenario.name,
        " ".join(scenario.description.split()),
        "CNY",
        "3,000",
        "11",
        "2025-03-02",
        riskshare.__version__,
        "breakthrough-consortium.yaml",
    ):
        assert fact in text, fact


def test_the_report_names_every_party_and_layer(demo: tuple[SimulationResult, str]) -> None:
    result, document = demo
    text = html.unescape(document)
    for name in result.scenario.parties:
        assert result.scenario.party_label(name) in text
    for member in ("Member A", "Member B", "Member C"):
        assert member in text
    for layer in result.scenario.layers:
        assert f"<td>{html.escape(layer.name)}</td>" in document


def test_the_report_has_the_tables_checks_and_errors(demo: tuple[SimulationResult, str]) -> None:
    _, document = demo
    text = html.unescape(document).lower()
    for title in (
        "Who absorbs what",
        "Cost of risk",
        "Layers",
        "Return periods",
        "balance check passed",
        "Monte Carlo standard error",
        "95% interval",
    ):
        assert title.lower() in text, title
    assert "@page { size: A4" in document and "@media print" in document


def test_without_premiums_there_is_no_cost_table() -> None:
    result = riskshare.simulate(riskshare.load_scenario(NO_PREMIUMS), years=500)
    document = report_html(result, bad_year_splits(result), generated=WHEN)
    assert "Cost of risk" not in document
    assert "Who absorbs what" in document


def test_chinese_text_comes_with_its_glyphs() -> None:
    result = riskshare.simulate(riskshare.load_scenario(CHINESE), years=500)
    document = report_html(result, bad_year_splits(result), generated=WHEN)
    assert "首台套保险示例" in document
    match = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", document)
    assert match is not None, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(match.group(1))))
    cmap = font.getBestCmap()
    for char in "首台套保险示例装备制造企业共保体人保财险中央财政":
        assert ord(char) in cmap, char


def test_a_report_without_chinese_embeds_no_font(demo: tuple[SimulationResult, str]) -> None:
    _, document = demo
    assert "@font-face" not in document


def test_inline_svg_drops_the_prolog_and_keeps_references_inside() -> None:
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
        '  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="5pt" '
        'viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg">'
        '<defs><path id="a" d="M0 0"/><clipPath id="c"><rect/></clipPath></defs>'
        '<use xlink:href="#a"/><g clip-path="url(#c)"/></svg>'
    )
    inlined = inline_svg(svg, "f")
    assert inlined.startswith('<svg viewBox="0 0 10 5" class="figure" role="img">')
    assert "http" not in inlined
    assert 'id="f-a"' in inlined and 'xlink:href="#f-a"' in inlined
    assert 'id="f-c"' in inlined and "url(#f-c)" in inlined


# --- the command line ------------------------------------------------------------------


def test_report_writes_one_html_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = run("report", str(NO_PREMIUMS), "-o", str(target), "--years", "500", "--seed", "4")
    assert result.exit_code == 0, result.stderr
    document = target.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>")
    assert "Fusion magnet first-of-its-kind programme" in document
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_report_needs_an_output(tmp_path: Path) -> None:
    result = run("report", str(NO_PREMIUMS))
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_report_says_why_it_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.html"
    result = run("report", str(NO_PREMIUMS), "-o", str(target), "--years", "100")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {target}")
    assert "Traceback" not in result.stderr


def test_report_refuses_an_invalid_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nparties: {}\nlayers: []\n", encoding="utf-8")
    result = run("report", str(scenario), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert not (tmp_path / "r.html").exists()
