"""Figures of a run with matplotlib: the tower, who pays in a bad year, exceedance curves.

The only module that draws with matplotlib (an optional extra: ``pip install
riskshare[report]``). It draws with the object-oriented API on the Agg and SVG
canvases, never through pyplot, so it needs no display and leaves a notebook's own
backend alone. Labels in Chinese render with the subset of Noto Sans CJK SC shipped
in ``riskshare/render/fonts`` (SIL Open Font License), whatever fonts the machine has.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import ConnectionPatch, Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from riskshare._version import __version__
from riskshare.engine.events import FloatArray
from riskshare.model.amounts import format_amount
from riskshare.model.scenario import PartyKind, Scenario
from riskshare.render.curves import MIN_PERIOD, ExceedanceCurves, exceedance_curves
from riskshare.render.tables import layer_terms
from riskshare.render.tower import Band, Panel, tower_panels, wrap
from riskshare.runs.bad_years import YearSplit
from riskshare.runs.simulation import SimulationResult

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FONT_FILE = Path(__file__).parent / "fonts" / "RiskshareSansSC-Regular.otf"
#: Fonts with CJK glyphs that a machine may have, tried after the shipped subset.
SYSTEM_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
#: Figure width: the text width of an A4 page with 15 mm margins.
PAGE_WIDTH = 7.2
PNG_DPI = 200
FORMATS = ("png", "svg")

INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#dde3ea"
TOTAL_COLOUR = "#1f2933"
#: One colour per party kind, so that the government is the same colour in every report.
KIND_COLOURS = {
    PartyKind.enterprise: "#e8863a",
    PartyKind.insurer: "#3b75af",
    PartyKind.consortium: "#519e3e",
    PartyKind.reinsurer: "#8d6bb8",
    PartyKind.government: "#c7403a",
}
#: Further colours for a second party of a kind already coloured.
SPARE_COLOURS = (
    "#2a9d8f",
    "#d4a017",
    "#e377c2",
    "#8c564b",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
    "#1a5e8a",
    "#a0522d",
    "#6a8d2f",
)


@cache
def font_families() -> tuple[str, ...]:
    """Font families in fallback order: DejaVu Sans for Latin, then fonts with Chinese glyphs."""
    manager = font_manager.fontManager
    manager.addfont(str(FONT_FILE))
    shipped = next(e for e in manager.ttflist if Path(e.fname) == FONT_FILE)
    # The subset has one weight: let bold text use it, as it would anyway, without a warning.
    manager.ttflist.append(dataclasses.replace(shipped, weight=700))
    installed = {entry.name for entry in manager.ttflist}
    system = [name for name in SYSTEM_CJK_FAMILIES if name in installed]
    return ("DejaVu Sans", shipped.name, *system)


def style() -> dict[RcKeyType, Any]:
    """The rc settings of every figure."""
    return {
        "font.family": list(font_families()),
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 8,
        "axes.labelcolor": INK,
        "axes.edgecolor": MUTED,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "xtick.labelcolor": INK,
        "ytick.labelcolor": INK,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "legend.fontsize": 7,
        "legend.frameon": False,
        "text.color": INK,
        "svg.fonttype": "path",
        "svg.hashsalt": "riskshare",
        "figure.dpi": 100,
    }


@contextmanager
def styled() -> Iterator[None]:
    """Draw (and save) a figure with the house style, leaving the caller's settings alone."""
    with matplotlib.rc_context(style()):
        yield


def party_colours(scenario: Scenario) -> dict[str, str]:
    """A colour per party, the same in every figure: by kind first, then from spares."""
    colours: dict[str, str] = {}
    used: set[str] = set()
    spares = iter(SPARE_COLOURS * (1 + len(scenario.parties) // len(SPARE_COLOURS)))
    for name, party in scenario.parties.items():
        colour = KIND_COLOURS[party.kind]
        while colour in used:
            colour = next(spares)
        colours[name] = colour
        used.add(colour)
    return colours


def figure_bytes(figure: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes (SVG text in UTF-8, text drawn as paths)."""
    if fmt not in FORMATS:
        raise ValueError(f"figures are written as png or svg, not {fmt!r}")
    buffer = io.BytesIO()
    with styled():
        if fmt == "svg":
            metadata: dict[str, str | None] = {
                "Creator": None,
                "Date": None,
                "Format": None,
                "Type": None,
            }
        else:
            metadata = {"Software": f"riskshare {__version__}"}
        figure.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def _amount_axis(unit: str | None = None) -> FuncFormatter:
    return FuncFormatter(lambda value, _: format_amount(value, unit) if value > 0 else "0")


def _lighten(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white: 0 leaves it, 1 makes it white."""
    r, g, b = matplotlib.colors.to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


# --- exceedance curves -----------------------------------------------------------------


def exceedance_figure(result: SimulationResult, curves: ExceedanceCurves) -> Figure:
    """Aggregate curves of the total and each party, with budgets; and the total's OEP."""
    colours = party_colours(result.scenario)
    marker = {} if curves.detailed else {"marker": "o", "markersize": 3}
    total = {"color": TOTAL_COLOUR, "linewidth": 2.2, **marker}
    with styled():
        height = 4.1
        figure = Figure(figsize=(PAGE_WIDTH, height), layout="constrained")
        left, right = figure.subplots(1, 2, width_ratios=(1.35, 1))
        budgets = _party_curves(left, curves, colours, marker, total)
        _year_and_event_curves(right, curves, marker, total)
        aggregate = curves.aggregate
        party_values = [c.amounts for c in curves.parties.values()]
        party_values += [c.outlay for c in curves.parties.values() if c.outlay is not None]
        party_values.append(np.array(budgets))
        _return_period_axes(left, aggregate.periods, [aggregate.amounts, *party_values])
        _return_period_axes(
            right, aggregate.periods, [aggregate.amounts, curves.occurrence.amounts]
        )
        left.set_ylabel(f"Amount exceeded ({result.scenario.currency}, log scale)")
        figure.legend(
            handles=left.get_legend_handles_labels()[0],
            loc="outside lower center",
            ncols=min(4, 1 + len(curves.parties)),
        )
        note = "" if curves.detailed else " · only the reported return periods are known"
        _heading(
            figure,
            height,
            "Exceedance curves: the amount exceeded once in so many years",
            f"{result.scenario.name} · {result.years:,} simulated years · seed {result.seed}{note}",
        )
    return figure


def _party_curves(
    axes: Axes,
    curves: ExceedanceCurves,
    colours: dict[str, str],
    marker: dict[str, Any],
    total: dict[str, Any],
) -> list[float]:
    """The total's and each party's aggregate curve, each budget a dashed line; the budgets."""
    aggregate = curves.aggregate
    axes.plot(aggregate.periods, _positive(aggregate.amounts), label=aggregate.label, **total)
    for name, curve in curves.parties.items():
        if (curve.amounts > 0).any():
            axes.plot(
                curve.periods,
                _positive(curve.amounts),
                color=colours[name],
                linewidth=1.5,
                label=curve.label,
                **marker,
            )
        if curve.outlay is not None and (curve.outlay > 0).any():
            # the budget's comparison: the party's outlay, premiums and subsidies in
            axes.plot(
                curve.periods,
                _positive(curve.outlay),
                color=colours[name],
                linewidth=1.2,
                linestyle=(0, (1, 1.5)),
                label=f"{curve.label}: outlay, premiums included",
                **marker,
            )
    budgets = []
    for name, curve in curves.parties.items():
        if not curve.budget:
            continue
        budgets.append(curve.budget)
        axes.axhline(curve.budget, color=colours[name], linewidth=1, linestyle=(0, (4, 3)))
        axes.annotate(
            f"{curve.label}: budget {format_amount(curve.budget)}",
            xy=(0, curve.budget),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            va="bottom",
            fontsize=6.5,
            color=colours[name],
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
        )
    axes.set_title("Annual loss: the total and each party")
    return budgets


def _year_and_event_curves(
    axes: Axes, curves: ExceedanceCurves, marker: dict[str, Any], total: dict[str, Any]
) -> None:
    """The total's aggregate curve beside its largest single event's (OEP)."""
    aggregate = curves.aggregate
    axes.plot(aggregate.periods, _positive(aggregate.amounts), label="Whole year (AEP)", **total)
    axes.plot(
        curves.occurrence.periods,
        _positive(curves.occurrence.amounts),
        color=TOTAL_COLOUR,
        linewidth=1.4,
        linestyle=(0, (5, 2)),
        label="Largest single event (OEP)",
        **marker,
    )
    axes.set_title("Total ground-up loss: year and event")
    axes.legend(loc="upper left")


def _heading(figure: Figure, height: float, title: str, subtitle: str) -> None:
    """A title and a muted subtitle above a constrained layout, in a band kept for them."""
    engine = figure.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, 0, 1, 1 - 0.5 / height))
    figure.text(0.01, 1 - 0.06 / height, title, va="top", fontsize=10, fontweight="bold")
    figure.text(0.01, 1 - 0.28 / height, subtitle, va="top", fontsize=7, color=MUTED)


def _positive(amounts: FloatArray) -> FloatArray:
    """Amounts with zeros as gaps: a log axis has no place for them."""
    return np.where(amounts > 0, amounts, np.nan)


#: The lowest amount a curve's axis shows, as a share of its highest.
AXIS_DEPTH = 1e-3


def _return_period_axes(axes: Axes, periods: FloatArray, values: Sequence[FloatArray]) -> None:
    """Log-log axes: return periods from 10 on, amounts down to a thousandth of the top."""
    axes.set_xscale("log")
    axes.set_yscale("log")
    right = max(float(periods[-1]), 100.0)
    axes.set_xlim(MIN_PERIOD, right)
    major, minor = _nice_periods(right)
    axes.xaxis.set_major_locator(FixedLocator(major))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.xaxis.set_minor_locator(FixedLocator(minor))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_major_formatter(_amount_axis())
    axes.yaxis.set_minor_formatter(NullFormatter())
    positive = np.concatenate([v[v > 0] for v in values]) if values else np.zeros(0)
    if len(positive):
        top = float(positive.max())
        axes.set_ylim(max(float(positive.min()), top * AXIS_DEPTH) / 1.6, top * 1.6)
    axes.set_xlabel("Return period: once in … years (log scale)")
    axes.grid(True, which="major", color=GRID, linewidth=0.6)
    axes.grid(True, which="minor", axis="x", color=GRID, linewidth=0.4)
    axes.set_axisbelow(True)


def _nice_periods(right: float) -> tuple[list[float], list[float]]:
    """Labelled and unlabelled ticks of the return-period axis: 10, 20, 50, 100, … when
    they fit, else 10, 100, 1,000, … with 20, 50, 200, … as grid lines only."""
    major: list[float] = []
    minor: list[float] = []
    decade = 10.0
    while decade <= right * 1.0001:
        major.append(decade)
        minor += [decade * step for step in (2.0, 5.0) if decade * step <= right * 1.0001]
        decade *= 10
    if right <= 2000:
        return sorted(major + minor), []
    return major, minor


def exceedance_image(result: SimulationResult, fmt: str) -> bytes:
    """The exceedance curves alone, as ``simulate --plot`` writes them."""
    return figure_bytes(exceedance_figure(result, exceedance_curves(result)), fmt)


# --- who pays --------------------------------------------------------------------------


def who_pays_figure(result: SimulationResult, splits: Sequence[YearSplit]) -> Figure:
    """Each kind of year as a bar split by party: the expected year, then bad years."""
    scenario = result.scenario
    colours = party_colours(scenario)
    names = list(result.parties)
    with styled():
        height = 0.55 * len(splits) + 1.7
        figure = Figure(figsize=(PAGE_WIDTH, height), layout="constrained")
        axes = figure.subplots()
        rows = list(range(len(splits)))[::-1]
        for row, split in zip(rows, splits, strict=True):
            _split_bar(axes, row, split, [(name, colours[name]) for name in names])
        axes.set_yticks(
            rows,
            [f"{s.label}\n{format_amount(s.total)} {scenario.currency}" for s in splits],
        )
        axes.tick_params(axis="y", length=0)
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        axes.set_xlabel("Share of the year's total ground-up loss")
        axes.spines["left"].set_visible(False)
        _heading(
            figure,
            height,
            "Who pays: in an average year, and when the programme has a bad year",
            f"{scenario.name} · {result.years:,} simulated years · seed {result.seed}",
        )
        handles = [
            Patch(facecolor=colours[name], label=result.parties[name].label) for name in names
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=min(5, len(handles)))
    return figure


def _split_bar(axes: Axes, row: int, split: YearSplit, parties: Sequence[tuple[str, str]]) -> None:
    """One year's bar: each party's share of its total, in the party's colour, with the
    amount and share written on the parts wide enough for them."""
    start = 0.0
    for name, colour in parties:
        amount = split.parties.get(name, 0.0)
        share = amount / split.total if split.total > 0 else 0.0
        if share <= 0:
            continue
        axes.barh(
            row,
            share,
            left=start,
            height=0.62,
            color=colour,
            edgecolor="white",
            linewidth=0.8,
        )
        if share >= 0.075:
            axes.text(
                start + share / 2,
                row,
                f"{format_amount(amount)}\n{share:.0%}",
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if _dark(colour) else INK,
                linespacing=1.1,
            )
        start += share


def _dark(colour: str) -> bool:
    r, g, b = matplotlib.colors.to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.62


# --- the tower -------------------------------------------------------------------------

TOWER_FONT = 6.3
TOWER_PER_ROW = 3
#: Heights in inches: the figure's title, a panel's header, its plot, the gap below, the legend.
TOWER_TITLE, TOWER_HEADER, TOWER_PLOT, TOWER_GAP, TOWER_LEGEND = 0.42, 0.5, 2.25, 0.22, 0.42
#: Widths in inches: room for the amounts left of each panel, and the right margin.
TOWER_TICKS, TOWER_MARGIN = 0.5, 0.08


def tower_figure(scenario: Scenario, result: SimulationResult | None = None) -> Figure:
    """Each layer as a band of its subject, between its attachment and its top.

    One panel per subject (see :mod:`riskshare.render.tower`); a band's width is its share,
    the hatched rest stays with the subject's owner; a dashed arrow leads from a layer
    to the panel of the layers that take from what it pays.
    """
    colours = party_colours(scenario)
    panels = tower_panels(scenario)
    rows = [panels[i : i + TOWER_PER_ROW] for i in range(0, len(panels), TOWER_PER_ROW)]
    height = TOWER_TITLE + _tower_row_height() * len(rows) + TOWER_LEGEND
    with styled():
        figure = Figure(figsize=(PAGE_WIDTH, height))
        axes_of: dict[str, Axes] = {}
        anchors: dict[int, tuple[Axes, float, float]] = {}
        for r, row in enumerate(rows):
            top = height - TOWER_TITLE - r * _tower_row_height() - TOWER_HEADER
            placed = _place_panels(figure, row, top, height, full_row=len(rows) > 1)
            for panel, (axes, width) in zip(row, placed, strict=True):
                axes_of[panel.subject] = axes
                _draw_panel(axes, scenario, panel, colours, result, (width * 72, TOWER_PLOT * 72))
                anchors |= _band_anchors(axes, panel)
        _draw_feeds(figure, panels, anchors, axes_of)
        _tower_legend(figure, scenario, colours)
        figure.text(
            0.01,
            1 - 0.08 / height,
            f"The tower — {scenario.name}",
            ha="left",
            va="top",
            fontsize=10,
            fontweight="bold",
        )
    return figure


def _tower_row_height() -> float:
    """A row of panels' height in inches: its header, its plot and the gap below."""
    return TOWER_HEADER + TOWER_PLOT + TOWER_GAP


def _place_panels(
    figure: Figure, row: Sequence[Panel], top: float, height: float, *, full_row: bool
) -> list[tuple[Axes, float]]:
    """The axes of each panel of a row, left to right, and each plot's width in inches.

    ``full_row``: leave room for a full row's panels, so that every row's are as wide.
    """
    weights = [_panel_weight(p) for p in row]
    if full_row:
        weights += [1.0] * (TOWER_PER_ROW - len(row))
    room = PAGE_WIDTH - TOWER_MARGIN - TOWER_TICKS * len(weights)
    left = TOWER_TICKS
    placed = []
    for weight in weights[: len(row)]:
        width = room * weight / sum(weights)
        box = (
            left / PAGE_WIDTH,
            (top - TOWER_PLOT) / height,
            width / PAGE_WIDTH,
            TOWER_PLOT / height,
        )
        placed.append((figure.add_axes(box), width))
        left += width + TOWER_TICKS
    return placed


def _band_anchors(axes: Axes, panel: Panel) -> dict[int, tuple[Axes, float, float]]:
    """Where an arrow from each band of ``panel`` starts: by its top right corner."""
    return {
        band.index: (axes, band.x + band.width, band.high - min(0.25, (band.high - band.low) / 4))
        for band in panel.bands
    }


def _draw_feeds(
    figure: Figure,
    panels: Sequence[Panel],
    anchors: dict[int, tuple[Axes, float, float]],
    axes_of: dict[str, Axes],
) -> None:
    """A dashed arrow from each layer to the panel of the layers that take from what it pays."""
    for panel in panels:
        if panel.source_layer is None or panel.source_layer not in anchors:
            continue
        source, x, y = anchors[panel.source_layer]
        figure.add_artist(
            ConnectionPatch(
                xyA=(x, y),
                coordsA="data",
                axesA=source,
                xyB=(-0.02, 1 + 0.32 / TOWER_PLOT),
                coordsB="axes fraction",
                axesB=axes_of[panel.subject],
                arrowstyle="-|>",
                connectionstyle="arc3,rad=-0.25",
                color=MUTED,
                linewidth=0.9,
                linestyle=(0, (3, 2)),
                mutation_scale=8,
                shrinkA=1,
                shrinkB=1,
            )
        )


def _tower_legend(figure: Figure, scenario: Scenario, colours: dict[str, str]) -> None:
    """The parties' colours, and the hatching of what a subject's owner keeps."""
    handles = [
        Patch(
            facecolor=_lighten(colours[name], 0.55),
            edgecolor=colours[name],
            label=scenario.party_label(name),
        )
        for name in scenario.parties
    ]
    handles.append(
        Patch(facecolor="white", edgecolor="#b8c0c8", hatch="////", label="kept by the owner")
    )
    figure.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=min(6, len(handles)),
        fontsize=6.5,
        handlelength=1.6,
        columnspacing=1.2,
    )


def _panel_weight(panel: Panel) -> float:
    """A panel's width relative to others: the ground-up loss and lanes need room."""
    if panel.subject.startswith("ground_up"):
        return 1.5
    return max(1.0, 0.8 * panel.lanes)


def _draw_panel(
    axes: Axes,
    scenario: Scenario,
    panel: Panel,
    colours: dict[str, str],
    result: SimulationResult | None,
    size: tuple[float, float],
) -> None:
    """One subject's panel; ``size`` is the plot's width and height in points."""
    _panel_axis(axes, panel)
    _panel_heading(axes, panel, size[0])
    level_height = size[1] / panel.levels
    _kept_by_the_owner(axes, panel, size[0], level_height)
    for band in panel.bands:
        colour = colours[band.layer.party]
        axes.add_patch(
            Rectangle(
                (band.x, band.low),
                band.width,
                band.high - band.low,
                facecolor=_lighten(colour, 0.6),
                edgecolor=colour,
                linewidth=1.1,
            )
        )
        expected = None
        if result is not None and band.layer.name in result.layers:
            mean = result.layers[band.layer.name].figures.mean
            expected = f"avg {format_amount(mean)} a year"
        _band_text(
            axes, band, scenario.party_label(band.layer.party), expected, size[0], level_height
        )


def _panel_axis(axes: Axes, panel: Panel) -> None:
    """The panel's one axis: its attachments and tops, one level each, bottom to top."""
    points = panel.breakpoints
    axes.set_xlim(0, 1)
    axes.set_ylim(0, panel.levels)
    axes.set_yticks(
        range(len(points)), [format_amount(p) if math.isfinite(p) else "∞" for p in points]
    )
    axes.set_xticks([])
    axes.tick_params(axis="y", length=2, pad=1.5)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)


def _panel_heading(axes: Axes, panel: Panel, width: float) -> None:
    """The panel's title in bold over its note, each at most two lines of ``width`` points."""
    note = wrap(panel.note, width / (0.56 * 6.2))[:2]
    title = wrap(panel.title, width / (0.6 * 7.5))[:2]
    axes.text(
        0,
        1.0,
        "\n".join(note),
        transform=axes.transAxes,
        fontsize=6.2,
        color=MUTED,
        va="bottom",
        linespacing=1.1,
    )
    axes.annotate(
        "\n".join(title),
        xy=(0, 1.0),
        xycoords="axes fraction",
        xytext=(0, 2 + 8.2 * len(note)),
        textcoords="offset points",
        fontsize=7.5,
        fontweight="bold",
        va="bottom",
        linespacing=1.1,
    )


def _kept_by_the_owner(axes: Axes, panel: Panel, width: float, level_height: float) -> None:
    """The hatched ground of the panel, and "kept by OWNER" on each level no layer takes."""
    axes.add_patch(
        Rectangle(
            (0, 0),
            1,
            panel.levels,
            facecolor="white",
            edgecolor="#c9d0d7",
            hatch="////",
            linewidth=0,
        )
    )
    for level in panel.free_levels():
        lines = wrap(f"kept by {panel.owner}", width / (0.56 * TOWER_FONT) - 2)
        if len(lines) * 1.4 * TOWER_FONT <= level_height:
            axes.text(
                0.5,
                level + 0.5,
                "\n".join(lines),
                ha="center",
                va="center",
                fontsize=TOWER_FONT,
                color=MUTED,
                style="italic",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.2},
            )


def _band_text(
    axes: Axes, band: Band, party: str, expected: str | None, width: float, level_height: float
) -> None:
    """The band's name, party, terms and expected payout: as many lines as fit.

    A band too narrow for its words (a small quota share) is labelled beside itself,
    over the hatched part its owner keeps.
    """
    inside = band.width * width
    beside = (band.lane_end - band.x - band.width) * width
    side = inside < 60 and beside > 2 * inside
    room_width = beside - 8 if side else inside
    chars = max(4.0, room_width / (0.56 * TOWER_FONT) - 1)
    room = int((band.high - band.low) * level_height / (1.4 * TOWER_FONT))
    name = wrap(band.layer.name, chars)
    rest = [*wrap(party, chars), *wrap(layer_terms(band.layer), chars)]
    if expected:
        rest += wrap(expected, chars)
    lines = (name + rest)[: max(1, room)]
    bold = min(len(name), len(lines))
    # Both blocks hang on one line, placed so that the lines as a whole are centred.
    line = 1.4 * TOWER_FONT / level_height
    split = (band.low + band.high) / 2 + (len(lines) / 2 - bold) * line
    x = band.x + band.width + 4 / width if side else band.x + band.width / 2
    common: dict[str, Any] = {
        "ha": "left" if side else "center",
        "fontsize": TOWER_FONT,
        "linespacing": 1.15,
        "clip_on": True,
    }
    if side:
        common["bbox"] = {"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85}
    axes.text(x, split, "\n".join(lines[:bold]), va="bottom", fontweight="bold", **common)
    if len(lines) > bold:
        axes.text(x, split, "\n".join(lines[bold:]), va="top", **common)
