"""The shape of a tower for a diagram: which layers sit on which subject, where and how wide.

No drawing here (that is :mod:`riskshare.render.plots`): each subject a layer takes from (the
ground-up loss, one source's, a layer's payout, a party's net) becomes a panel; each
layer a band between its attachment and its top, as wide as its share. Amounts go on
an ordinal scale (every attachment and top one step apart), since a 5M deductible and
a 1B attachment do not fit one linear axis. Layers over a party's net take, in turn,
from what remains after the layers before them, so each gets a lane of its own.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from riskshare.model.checks import subject_owner
from riskshare.model.scenario import Layer, Scenario


@dataclass(frozen=True)
class Band:
    """A layer in its panel: levels ``low``–``high`` of the panel's scale, ``x``–``x + width``."""

    index: int  # the layer's position in the scenario
    layer: Layer
    low: int
    high: int
    x: float
    width: float
    lane_end: float  # where the band's lane ends: 1, or the next lane over a party's net
    annual: bool  # placed by its annual aggregate terms (it has no per-event terms)


@dataclass(frozen=True)
class Panel:
    """One subject and the layers that take from it."""

    subject: str
    title: str
    note: str  # per event or per year, and who keeps the rest
    owner: str  # who keeps what no layer of the panel takes
    breakpoints: tuple[float, ...]  # amounts at levels 0, 1, …; the last is infinity
    bands: tuple[Band, ...]
    source_layer: int | None  # for a layer's payout: the index of that layer

    @property
    def lanes(self) -> int:
        """Bands side by side: one per layer over a party's net, else one."""
        return len(self.bands) if self.subject.startswith("net:") else 1

    @property
    def levels(self) -> int:
        return len(self.breakpoints) - 1

    def free_levels(self) -> list[int]:
        """Levels no band touches: the subject's owner keeps them whole."""
        taken = {level for band in self.bands for level in range(band.low, band.high)}
        return [level for level in range(self.levels) if level not in taken]


def tower_panels(scenario: Scenario) -> list[Panel]:
    """The panels of ``scenario``'s tower, in the order their subjects first appear."""
    grouped: dict[str, list[tuple[int, Layer]]] = {}
    for index, layer in enumerate(scenario.layers):
        grouped.setdefault(layer.from_, []).append((index, layer))
    return [_panel(scenario, subject, layers) for subject, layers in grouped.items()]


def _extent(layer: Layer) -> tuple[float, float, bool]:
    """Where a layer sits on its subject: per-event terms, else its annual aggregate terms."""
    per_event = layer.attachment > 0 or math.isfinite(layer.limit) or bool(layer.franchise)
    aggregate = layer.aggregate_attachment > 0 or math.isfinite(layer.aggregate_cap)
    if per_event or not aggregate:
        return layer.attachment, layer.attachment + layer.limit, False
    low = layer.aggregate_attachment
    return low, low + layer.aggregate_cap, True


def _panel(scenario: Scenario, subject: str, layers: list[tuple[int, Layer]]) -> Panel:
    extents = [_extent(layer) for _, layer in layers]
    points = sorted({0.0, math.inf} | {e[0] for e in extents} | {e[1] for e in extents})
    level = {value: i for i, value in enumerate(points)}
    net = subject.startswith("net:")
    bands: list[Band] = []
    used: dict[int, float] = {}
    for lane, ((index, layer), (low, high, annual)) in enumerate(zip(layers, extents, strict=True)):
        a, b = level[low], level[high]
        if net:
            x, width = lane / len(layers), layer.share / len(layers)
            lane_end = (lane + 1) / len(layers)
        else:
            x = max((used.get(i, 0.0) for i in range(a, b)), default=0.0)
            width, lane_end = layer.share, 1.0
            for i in range(a, b):
                used[i] = x + width
        bands.append(Band(index, layer, a, b, x, width, lane_end, annual))
    kinds = {band.annual for band in bands}
    basis = "per year" if kinds == {True} else "per event" if kinds == {False} else "per event/year"
    owner = _owner(scenario, layers[0][1])
    source_layer = None
    if subject == "ground_up":
        title = "Ground-up loss"
    elif subject.startswith("ground_up:"):
        title = f"Ground-up loss: {subject.split(':', 1)[1]}"
    elif net:
        title = f"Net of {scenario.party_label(subject.split(':', 1)[1])}"
        basis += ", layers in turn"
    else:
        title = f"Paid by layer ‘{subject}’"
        source_layer = next(i for i, layer in enumerate(scenario.layers) if layer.name == subject)
    return Panel(
        subject=subject,
        title=title,
        note=f"{basis}; the rest stays with {owner}",
        owner=owner,
        breakpoints=tuple(points),
        bands=tuple(bands),
        source_layer=source_layer,
    )


def _owner(scenario: Scenario, layer: Layer) -> str:
    owners = sorted(subject_owner(scenario, layer))
    if not owners:
        return "the bearer"
    if len(owners) > 2:
        return "each bearer"
    return " and ".join(scenario.party_label(o) for o in owners)


def display_width(text: str) -> float:
    """Width in average Latin characters: a Chinese character is nearly two."""
    return sum(1.8 if unicodedata.east_asian_width(c) in "WF" else 1.0 for c in text)


def wrap(text: str, width: float) -> list[str]:
    """Break ``text`` into lines at most ``width`` wide: at spaces, or anywhere in Chinese."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if display_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        if not any(display_width(c) > 1 for c in word):
            line = word  # a Latin word is not split: it may stick out a little
            continue
        for char in word:
            if line and display_width(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines
