"""The report as one HTML file: figures, tables and checks, for people who would rather look.

Everything is inside the file (CSS, figures as inline SVG, the Chinese glyphs it uses
as an embedded font), so it reads offline, travels as an e-mail attachment and prints
on A4. The tables are the ones ``riskshare simulate`` prints: this module turns the
rich tables of :mod:`riskshare.render.tables` into HTML rather than building them again.
"""

from __future__ import annotations

import base64
import html
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.table import Table
from rich.text import Text

from riskshare._version import __version__
from riskshare.render.curves import exceedance_curves
from riskshare.render.tables import Formatter, footer_text, simulation_tables
from riskshare.runs.bad_years import YearSplit
from riskshare.runs.results import SeriesFigures
from riskshare.runs.simulation import SimulationResult

#: Normal-distribution quantile of a two-sided 95% interval.
Z95 = 1.96


@dataclass(frozen=True)
class Figures:
    """The report's figures as SVG text."""

    tower: str
    who_pays: str
    exceedance: str


TOWER_CAPTION = (
    "Each layer as a band of what it takes from, between its attachment and its top, as "
    "wide as its share; hatched: what the owner of the subject keeps. Amounts are on an "
    "ordinal scale (one step per attachment or top), not to scale. Dashed arrows lead from "
    "a layer to the layers that take from what it pays; the layers over a party's net "
    "take, left to right, from what remains after the ones before."
)
WHO_PAYS_CAPTION = (
    "The expected annual loss split by party, then the total loss of a 1-in-10, 1-in-100 "
    "and 1-in-200 year split as it is split on average in the simulated years around that "
    "level ({averaged})."
)
EXCEEDANCE_CAPTION = (
    "The annual amount exceeded once in so many years on average (aggregate exceedance, "
    "AEP), for the total ground-up loss and each party's net share of it, with a party's "
    "budget as a dashed line (where the scenario has premiums, beside the party's annual "
    "outlay, premiums and subsidies included, dotted: that is what the budget is compared "
    "with); and for the total, the largest single event of a year "
    "(occurrence exceedance, OEP)."
)


def report_html(
    result: SimulationResult,
    bad_years: Sequence[YearSplit],
    *,
    generated: datetime | None = None,
    figures: Figures | None = None,
) -> str:
    """The whole report of a run as one self-contained HTML document.

    ``bad_years`` are the run's :func:`~riskshare.runs.bad_years.bad_year_splits`: the
    report draws them, the caller runs them.
    """
    generated = generated or datetime.now(timezone.utc).astimezone()
    figures = figures or draw_figures(result, bad_years)
    f = Formatter()
    body = "\n".join(
        [
            _header(result, generated),
            _key_figures(result, bad_years, f),
            *_figure_sections(figures, bad_years),
            _section("tables", "4. The figures", _tables(result)),
            _section("precision", "5. Checks and Monte Carlo precision", _precision(result, f)),
            _footer(result, generated),
        ]
    )
    return _with_embedded_font(_page(result.scenario.name, body))


def _figure_sections(figures: Figures, bad_years: Sequence[YearSplit]) -> list[str]:
    """The report's sections 1 to 3: the tower, who pays, the exceedance curves."""
    who_pays = WHO_PAYS_CAPTION.format(averaged=_averaged(bad_years))
    return [
        _section(
            "tower",
            "1. The tower: who takes which slice",
            _figure(figures.tower, "tower", TOWER_CAPTION),
        ),
        _section(
            "who-pays",
            "2. Who pays in an average year and in a bad year",
            _figure(figures.who_pays, "who pays", who_pays),
        ),
        _section(
            "exceedance",
            "3. Exceedance curves",
            _figure(figures.exceedance, "exceedance curves", EXCEEDANCE_CAPTION),
        ),
    ]


def _page(title: str, body: str) -> str:
    """The HTML document around the report's ``body``, with its style sheet."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="riskshare {__version__}">\n'
        f"<title>{_e(title)} · riskshare report</title>\n"
        f"<style>\n{CSS}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"{body}\n"
        "</main>\n</body>\n</html>\n"
    )


def draw_figures(result: SimulationResult, splits: Sequence[YearSplit]) -> Figures:
    """Draw the report's three figures and return them as SVG ready to inline."""
    from riskshare.render import plots

    curves = exceedance_curves(result)
    return Figures(
        tower=_svg(plots.figure_bytes(plots.tower_figure(result.scenario, result), "svg"), "t"),
        who_pays=_svg(plots.figure_bytes(plots.who_pays_figure(result, splits), "svg"), "w"),
        exceedance=_svg(plots.figure_bytes(plots.exceedance_figure(result, curves), "svg"), "e"),
    )


def _svg(data: bytes, prefix: str) -> str:
    return inline_svg(data.decode("utf-8"), prefix)


_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')
_NAMESPACE = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_SIZE = re.compile(r'\s+(width|height)="[^"]*"')


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG file as an element of an HTML page: no prolog, ids made unique by ``prefix``.

    HTML puts ``<svg>`` in the SVG namespace by itself, so the namespace declarations
    (the only URLs in matplotlib's SVG) go; the size goes too, so that CSS can set it.
    """
    svg = svg[svg.index("<svg") :]
    opening_end = svg.index(">")
    opening = _NAMESPACE.sub("", svg[:opening_end])
    opening = _SIZE.sub("", opening)
    svg = f'{opening} class="figure" role="img"{svg[opening_end:]}'
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


# --- parts of the page -----------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{content}\n</section>'


def _figure(svg: str, label: str, caption: str) -> str:
    svg = svg.replace('role="img"', f'role="img" aria-label="{_e(label)}"', 1)
    return f"<figure>\n{svg}\n<figcaption>{_e(caption)}</figcaption>\n</figure>"


def _header(result: SimulationResult, generated: datetime) -> str:
    scenario = result.scenario
    facts = [
        ("Currency", scenario.currency),
        ("Simulated years", f"{result.years:,}"),
        ("Seed", str(result.seed)),
        ("Events simulated", f"{result.events:,}"),
        ("Date", generated.strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("riskshare", __version__),
    ]
    if scenario.file:
        facts.append(("Scenario file", Path(scenario.file).name))
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    description = f'<p class="lead">{_e(scenario.description)}</p>' if scenario.description else ""
    return (
        '<header>\n<p class="kicker">Risk-sharing report</p>\n'
        f"<h1>{_e(scenario.name)}</h1>\n{description}\n"
        f'<dl class="facts">{items}</dl>\n</header>'
    )


def _key_figures(result: SimulationResult, splits: Sequence[YearSplit], f: Formatter) -> str:
    currency = result.scenario.currency
    cards = [("Expected annual loss", f.amount(result.total.mean), "ground-up, all parties")]
    for split in splits[1:]:
        top = max(split.parties.items(), key=lambda item: item[1], default=None)
        note = ""
        if top is not None and split.total > 0:
            label = result.parties[top[0]].label
            note = f"{label} pays most: {top[1] / split.total:.0%}"
        cards.append((f"Total loss in a {split.label}", f.amount(split.total), note))
    items = "".join(
        f'<div class="card"><p class="card-title">{_e(title)}</p>'
        f'<p class="card-value">{_e(value)} <span>{_e(currency)}</span></p>'
        f'<p class="card-note">{_e(note)}</p></div>'
        for title, value, note in cards
    )
    return f'<section id="key-figures" class="cards">{items}</section>'


def _averaged(splits: Sequence[YearSplit]) -> str:
    counts = ", ".join(f"{s.years_averaged:,} years for the {s.label}" for s in splits[1:])
    return counts or "no bad years"


def _tables(result: SimulationResult) -> str:
    """The tables of ``riskshare simulate``, from the same rich tables."""
    parts: list[str] = []
    for renderable in simulation_tables(result).renderables:
        if isinstance(renderable, Table):
            parts.append(table_html(renderable))
    return "\n".join(parts)


def table_html(table: Table) -> str:
    """A rich table as an HTML table: title, headers, alignment, sections, indented rows."""
    columns = table.columns
    numeric = [column.justify == "right" for column in columns]
    head = "".join(
        f'<th{" class=num" if right else ""} scope="col">{_e(_plain(column.header))}</th>'
        for column, right in zip(columns, numeric, strict=True)
    )
    cells = [list(column.cells) for column in columns]
    rows: list[str] = []
    for i, row in enumerate(table.rows):
        classes = []
        if row.end_section:
            classes.append("section-end")
        tds = []
        for k, right in enumerate(numeric):
            text = _plain(cells[k][i]) if i < len(cells[k]) else ""
            cell_class = "num" if right else ""
            if k == 0 and text.startswith("  "):
                cell_class = "indent"
            attribute = f' class="{cell_class}"' if cell_class else ""
            tds.append(f"<td{attribute}>{_e(text.strip())}</td>")
        attribute = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(f"<tr{attribute}>{''.join(tds)}</tr>")
    caption = f"<caption>{_e(_plain(table.title))}</caption>" if table.title else ""
    return (
        f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _plain(value: object) -> str:
    if isinstance(value, Text):
        return value.plain
    return "" if value is None else str(value)


def _precision(result: SimulationResult, f: Formatter) -> str:
    lines = "<br>".join(_e(line) for line in footer_text(result).splitlines())
    balance = f'<p class="check">✔ {lines}</p>'
    rows: list[tuple[str, SeriesFigures, bool]] = [("Total ground-up loss", result.total, False)]
    for party in result.parties.values():
        rows.append((party.label, party.figures, False))
        rows += [(name, member.figures, True) for name, member in party.members.items()]
    body = []
    for label, figures, member in rows:
        mean, stderr = figures.mean, figures.stderr
        relative = f"{stderr / mean:.2%}" if mean > 0 else "–"
        low, high = max(0.0, mean - Z95 * stderr), mean + Z95 * stderr
        body.append(
            f"<tr><td{' class=indent' if member else ''}>{_e(label)}</td>"
            f"<td class=num>{_e(f.amount(mean))}</td><td class=num>{_e(f.amount(stderr))}</td>"
            f"<td class=num>{_e(relative)}</td>"
            f"<td class=num>{_e(f.amount(low))} – {_e(f.amount(high))}</td></tr>"
        )
    table = (
        '<div class="table-wrap"><table><caption>Monte Carlo standard error of each expected '
        f"annual amount ({_e(result.scenario.currency)})</caption><thead><tr>"
        '<th scope="col"></th><th class=num scope="col">expected</th>'
        '<th class=num scope="col">standard error</th><th class=num scope="col">relative</th>'
        '<th class=num scope="col">95% interval</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    note = (
        '<p class="note">The standard error is the standard deviation of the annual amount '
        "divided by the square root of the number of simulated years: run four times as many "
        "years to halve it. Return periods far beyond the number of simulated years rest on "
        "a handful of years and move from seed to seed.</p>"
    )
    return "\n".join([balance, table, note])


def _footer(result: SimulationResult, generated: datetime) -> str:
    return (
        f"<footer>Made with riskshare {_e(__version__)} on "
        f"{_e(generated.strftime('%Y-%m-%d'))} from {result.years:,} simulated years "
        f"(seed {result.seed}). Every amount is in {_e(result.scenario.currency)}; "
        "rerunning with the same scenario, years and seed gives the same numbers.</footer>"
    )


# --- the embedded font -----------------------------------------------------------------


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _with_embedded_font(document: str) -> str:
    """Embed the Chinese glyphs the page's text uses, so that it reads on any machine."""
    text = re.sub(r"<svg.*?</svg>", "", document, flags=re.DOTALL)
    chars = sorted({c for c in text if _wide(c)})
    if not chars:
        return document
    css = font_face("".join(chars))
    return document.replace("<style>\n", f"<style>\n{css}", 1) if css else document


def font_face(text: str) -> str:
    """A CSS ``@font-face`` with the shipped font's glyphs for ``text``, as base64 WOFF."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    from riskshare.render.plots import FONT_FILE

    font = TTFont(str(FONT_FILE))
    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    ranges = ", ".join(f"U+{ord(c):X}" for c in sorted(set(text)))
    # First in the page's font list, but only for these characters: a browser that
    # meets a Chinese character after a Latin font does not always look further.
    return (
        '@font-face { font-family: "Riskshare Sans SC"; '
        f'src: url(data:font/woff;base64,{data}) format("woff"); unicode-range: {ranges}; }}\n'
    )


CSS = """\
@page { size: A4; margin: 14mm 14mm 16mm; }
:root {
  --ink: #1f2933; --muted: #5f6b7a; --rule: #d5dbe1; --soft: #f4f6f8; --accent: #3b75af;
}
* { box-sizing: border-box; }
html { background: #e9edf1; }
body {
  margin: 0; color: var(--ink); font-size: 10.5pt; line-height: 1.45;
  font-family: "Riskshare Sans SC", "Helvetica Neue", Arial, "DejaVu Sans", "Noto Sans",
    "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
}
main {
  max-width: 210mm; margin: 0 auto; padding: 16mm 15mm 14mm; background: white;
  box-shadow: 0 1px 6px rgba(0, 0, 0, 0.12);
}
header { border-bottom: 2px solid var(--ink); padding-bottom: 4mm; margin-bottom: 5mm; }
.kicker {
  margin: 0; color: var(--accent); font-size: 8.5pt; font-weight: 700;
  letter-spacing: 0.08em; text-transform: uppercase;
}
h1 { margin: 1mm 0 2mm; font-size: 19pt; line-height: 1.2; }
h2 {
  margin: 7mm 0 2mm; font-size: 13pt; border-bottom: 1px solid var(--rule);
  padding-bottom: 1mm; break-after: avoid; page-break-after: avoid;
}
.lead { margin: 0 0 3mm; color: var(--muted); }
.facts { display: flex; flex-wrap: wrap; gap: 1.5mm 7mm; margin: 0; font-size: 8.5pt; }
.facts div { display: flex; gap: 1.5mm; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin: 4mm 0; }
.card { background: var(--soft); border-left: 3px solid var(--accent); padding: 2mm 3mm; }
.card p { margin: 0; }
.card-title { font-size: 8pt; color: var(--muted); }
.card-value { font-size: 15pt; font-weight: 700; }
.card-value span { font-size: 8pt; font-weight: 400; color: var(--muted); }
.card-note { font-size: 7.5pt; color: var(--muted); }
figure { margin: 0 0 4mm; break-inside: avoid; page-break-inside: avoid; }
svg.figure { display: block; width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: var(--muted); margin-top: 1mm; }
.table-wrap { overflow-x: auto; margin: 0 0 4mm; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; }
caption { text-align: left; font-weight: 700; font-size: 9pt; padding: 1mm 0; }
th, td { padding: 0.9mm 1.6mm; text-align: left; vertical-align: top; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: 600; }
tbody tr:nth-child(even) { background: var(--soft); }
tr.section-end td { border-bottom: 1px solid var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.indent { padding-left: 5mm; color: var(--muted); }
.check { background: #eef7ee; border-left: 3px solid #519e3e; padding: 2mm 3mm; font-size: 8.5pt; }
.note { font-size: 8.5pt; color: var(--muted); }
footer {
  margin-top: 6mm; padding-top: 2mm; border-top: 1px solid var(--rule);
  font-size: 8pt; color: var(--muted);
}
@media print {
  html { background: white; }
  main { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  body { font-size: 9.5pt; }
  h1 { font-size: 16pt; }
  h2 { margin-top: 4mm; }
  .cards { margin: 3mm 0; }
  svg.figure { max-height: 118mm; }
  #tower svg.figure { max-height: 138mm; }
  #who-pays, #tables { break-before: page; page-break-before: always; }
}
@media (max-width: 700px) {
  main { padding: 6mm 4mm; }
  .cards { grid-template-columns: repeat(2, 1fr); }
}
"""
