"""Comparing scenarios on common random numbers: one set of events, several towers.

Every scenario of a comparison runs on the same simulated events
(:mod:`riskshare.runs.same_events`). Each scenario's figures are exactly those
``simulate`` gives it with the same years and seed; the differences from the first
scenario come with the standard error of a difference of means computed from the
paired years, which is far below that of two independent runs when the scenarios
differ a little.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from riskshare._version import __version__
from riskshare.engine.events import FloatArray
from riskshare.engine.passes import Streamed
from riskshare.engine.plan import Plan
from riskshare.engine.series import SeriesKey, new_summaries
from riskshare.errors import RunError
from riskshare.model.finite import check_figures
from riskshare.model.scenario import Scenario
from riskshare.runs.results import MemberFigures, PartyFigures, SeriesFigures
from riskshare.runs.same_events import (
    ComparisonError,
    ScenarioSource,
    check_same_events,
    label,
    load,
    plans_of,
)
from riskshare.runs.simulation import (
    Progress,
    SimulationResult,
    block_result,
    result_of,
    run_header,
    run_plans,
)
from riskshare.stats.summary import RETURN_PERIOD_TAIL_SHARE, SeriesSummary, tail_size

__all__ = ["ComparisonError", "ComparisonResult", "Difference", "Row", "compare"]

#: The figures a comparison shows for each party and layer.
FIGURES = ("mean", "var_995", "tvar_99", "prob_positive")

# --- paired differences ---------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A figure of one scenario less that of the first.

    ``stderr`` is the standard error of a difference of means from the paired years
    (None for quantiles); ``stderr_unpaired`` is what it would be for two independent runs.
    """

    difference: float
    stderr: float | None = None
    stderr_unpaired: float | None = None

    @property
    def within_noise(self) -> bool | None:
        """Whether the difference is within two standard errors of zero (None: unknown)."""
        if self.stderr is None:
            return None
        return abs(self.difference) <= 2 * self.stderr

    def to_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"difference": self.difference}
        if self.stderr is not None:
            entry["stderr"] = self.stderr
            entry["stderr_unpaired"] = self.stderr_unpaired
            entry["within_two_stderr"] = self.within_noise
        return entry


@dataclass(frozen=True)
class Row:
    """A party, consortium member or layer across the scenarios, matched by name.

    ``figures[i]`` holds scenario i's :data:`FIGURES` (None where it has no such row);
    ``differences[i]`` scenario i's against the first (None for the first, and where
    either lacks the row).
    """

    name: str
    label: str
    member: bool
    figures: tuple[Mapping[str, float] | None, ...]
    differences: tuple[Mapping[str, Difference] | None, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "scenarios": [dict(f) if f is not None else None for f in self.figures],
            "differences": [
                {k: d.to_dict() for k, d in diff.items()} if diff is not None else None
                for diff in self.differences
            ],
        }


@dataclass(frozen=True)
class ComparisonResult:
    """The scenarios' figures side by side, on the same events, and their differences."""

    results: tuple[SimulationResult, ...]
    years: int
    seed: int
    events: int
    seconds: float
    parties: tuple[Row, ...]
    layers: tuple[Row, ...]
    #: Per party, the annual cost (losses and premiums) where some scenario has premiums.
    costs: tuple[Row, ...] | None = None
    labels: tuple[str, ...] = field(default=())

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return tuple(r.scenario for r in self.results)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "riskshare_version": __version__,
            "scenarios": [s.header() for s in self.scenarios],
            "simulation": run_header(self.years, self.seed, self.events, self.seconds),
            "parties": {row.name: row.to_dict() for row in self.parties},
            "layers": {row.name: row.to_dict() for row in self.layers},
        }
        if self.costs is not None:
            data["costs"] = {row.name: row.to_dict() for row in self.costs}
        return data


Section = str  # "parties", "costs" or "layers"


def _keys(plan: Plan, section: Section) -> dict[str, SeriesKey]:
    """Row name → the key of its annual series in a block (and of its summary)."""
    if section == "layers":
        return {t.name: SeriesKey.layer(j) for j, t in enumerate(plan.layers)}
    cost = section == "costs" and plan.has_premiums
    keys: dict[str, SeriesKey] = {}
    for i, name in enumerate(plan.parties):
        keys[name] = SeriesKey.cost(i) if cost else SeriesKey.party(i)
        for k, member in enumerate(plan.members):
            if member.consortium == i:
                keys[f"{name}/{member.name}"] = (
                    SeriesKey.member_cost(k) if cost else SeriesKey.member(k)
                )
    return keys


def _figures(result: SimulationResult, section: Section, name: str) -> dict[str, float]:
    """A row's figures in one scenario's result (costs: the losses where it has no premiums)."""
    if section == "layers":
        return _row_figures(result.layers[name].figures)
    party, _, member = name.partition("/")
    entry = result.parties[party]
    owner: PartyFigures | MemberFigures = entry.members[member] if member else entry
    if section == "costs" and owner.cost is not None:
        return _row_figures(owner.cost)
    return _row_figures(owner.figures)


def _row_figures(figures: SeriesFigures) -> dict[str, float]:
    """The figures a comparison shows (:data:`FIGURES`), and the mean's standard error."""
    return {
        "mean": figures.mean,
        "var_995": figures.var_995,
        "tvar_99": figures.tvar_99,
        "prob_positive": figures.prob_positive,
        "stderr": figures.stderr,
    }


PairKey = tuple[int, str, str]  # scenario, row name, figure


class _Pairs:
    """The paired differences of each row's annual series from the first scenario's."""

    def __init__(self, keys: list[dict[str, SeriesKey]]) -> None:
        self.keys = keys
        self.moments: dict[PairKey, SeriesSummary] = {}

    def of_block(
        self, series: Sequence[Mapping[SeriesKey, FloatArray]]
    ) -> dict[PairKey, SeriesSummary]:
        """The moments of one block's paired differences (in the worker that ran it)."""
        found: dict[PairKey, SeriesSummary] = {}
        first = series[0]
        for index in range(1, len(series)):
            for name, key in self.keys[index].items():
                base = self.keys[0].get(name)
                if base is None:
                    continue
                ours, theirs = series[index][key], first[base]
                found[(index, name, "mean")] = SeriesSummary.moments_of(ours - theirs)
                found[(index, name, "prob_positive")] = SeriesSummary.moments_of(
                    (ours > 0).astype(np.float64) - (theirs > 0)
                )
        return found

    def merge(self, block: Mapping[PairKey, SeriesSummary]) -> None:
        """Fold in a block's moments; blocks come in block order."""
        for key, moments in block.items():
            self.moments.setdefault(key, SeriesSummary(0)).merge_moments(moments)

    def rows(
        self, results: Sequence[SimulationResult], section: Section, labels: Mapping[str, str]
    ) -> tuple[Row, ...]:
        names: list[str] = []
        for keys in self.keys:
            names += [n for n in keys if n not in names]
        rows = []
        for name in names:
            figures = tuple(
                _figures(result, section, name) if name in keys else None
                for result, keys in zip(results, self.keys, strict=True)
            )
            differences: list[Mapping[str, Difference] | None] = [None]
            for index in range(1, len(results)):
                ours, first = figures[index], figures[0]
                differences.append(
                    None
                    if ours is None or first is None
                    else {f: self._difference(index, name, f, ours, first) for f in FIGURES}
                )
            member = section != "layers" and "/" in name
            rows.append(Row(name, labels.get(name, name), member, figures, tuple(differences)))
        return tuple(rows)

    def _difference(
        self,
        index: int,
        name: str,
        figure: str,
        ours: Mapping[str, float],
        first: Mapping[str, float],
    ) -> Difference:
        difference = ours[figure] - first[figure]
        moments = self.moments.get((index, name, figure))
        if moments is None:
            return Difference(difference)
        if figure == "mean":
            unpaired = math.hypot(ours["stderr"], first["stderr"])
        else:
            p, q = ours[figure], first[figure]
            unpaired = math.sqrt((p * (1 - p) + q * (1 - q)) / moments.n)
        return Difference(difference, moments.moment_figures()["stderr"], unpaired)


def _labels(scenarios: Sequence[Scenario]) -> dict[str, str]:
    """Row name → how tables show it: a party's label, a member's name."""
    found: dict[str, str] = {}
    for scenario in scenarios:
        for name in scenario.parties:
            found.setdefault(name, scenario.party_label(name))
            for member in scenario.parties[name].members or {}:
                found.setdefault(f"{name}/{member}", member)
    return found


def compare(
    scenarios: Sequence[ScenarioSource],
    years: int | None = None,
    seed: int | None = None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ComparisonResult:
    """Run every scenario on the same simulated events and set their figures side by side.

    ``scenarios`` are :class:`Scenario` objects or paths to scenario files; ``years`` and
    ``seed`` override the files' (which must otherwise agree). Each scenario's figures
    equal ``simulate(scenario, years, seed)``'s, for any number of ``workers`` (default:
    one per core for runs of at least 200,000 years). Raises :class:`ComparisonError` when the
    scenarios do not draw the same events, naming the first key that differs.
    """
    started = time.perf_counter()
    loaded = [load(s) for s in scenarios]
    if len(loaded) < 2:
        raise ComparisonError("compare needs at least two scenarios")
    years, seed = check_same_events(loaded, years, seed)
    if years < 1:
        raise RunError(f"years must be at least 1 (got {years})")
    plans = plans_of(loaded)
    pairs = _pairs_by_section(plans)
    runs = _run_on_same_events(loaded[0], plans, seed, years, pairs, progress, workers)
    seconds = round(time.perf_counter() - started, 3)
    results = tuple(
        result_of(scenario, plan, block_result(run), run.premiums, years, seed, seconds)
        for scenario, plan, run in zip(loaded, plans, runs, strict=True)
    )
    labels = _labels(loaded)
    rows = {section: p.rows(results, section, labels) for section, p in pairs.items()}
    comparison = ComparisonResult(
        results=results,
        years=years,
        seed=seed,
        events=results[0].events,
        seconds=seconds,
        parties=rows["parties"],
        layers=rows["layers"],
        costs=rows.get("costs"),
        labels=tuple(label(s, i) for i, s in enumerate(loaded)),
    )
    check_figures(comparison.to_dict(), "the comparison")
    return comparison


def _pairs_by_section(plans: Sequence[Plan]) -> dict[Section, _Pairs]:
    """The paired differences each section of the comparison keeps, in the sections' order:
    parties, costs (where some scenario has premiums), layers."""
    sections = ["parties", "layers"]
    if any(plan.has_premiums for plan in plans):
        sections.insert(1, "costs")
    return {s: _Pairs([_keys(plan, s) for plan in plans]) for s in sections}


def _run_on_same_events(
    scenario: Scenario,
    plans: Sequence[Plan],
    seed: int,
    years: int,
    pairs: Mapping[Section, _Pairs],
    progress: Progress | None,
    workers: int | None,
) -> list[Streamed]:
    """Every plan's run on ``scenario``'s events, each block drawn once, its paired
    differences folded into ``pairs``. The total and the largest event, the same events
    in every run, are summarised once and shared."""

    def pair(_block: int, series: list[dict[SeriesKey, FloatArray]]) -> dict[str, object]:
        return {section: p.of_block(series) for section, p in pairs.items()}

    def paired(_block: int, found: dict[str, dict[PairKey, SeriesSummary]]) -> None:
        for section, moments in found.items():
            pairs[section].merge(moments)

    keep = tail_size(years)

    def summaries(plan: Plan, first: bool, with_costs: bool) -> dict[SeriesKey, SeriesSummary]:
        found = new_summaries(plan, keep, with_costs)
        if not first:  # the total and the largest event: the same events, summarised once
            del found[SeriesKey.total()], found[SeriesKey.oep()]
        return found

    runs = run_plans(
        scenario,
        plans,
        seed,
        years,
        RETURN_PERIOD_TAIL_SHARE,
        [partial(summaries, plan, i == 0) for i, plan in enumerate(plans)],
        workers=workers,
        progress=progress,
        pairing=(pair, paired),
    )
    for run in runs[1:]:
        for key in (SeriesKey.total(), SeriesKey.oep()):
            run.summaries[key] = runs[0].summaries[key]
    return runs
