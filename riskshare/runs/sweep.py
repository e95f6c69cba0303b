"""Sweeping a scenario over a grid of values, on one set of events.

A sweep sets one or more keys of a scenario (``layers.backstop.attachment``,
``layers[2].share``, ``parties.mof.budget``) to each combination of the values given
(:mod:`riskshare.runs.grid`), and runs all the valid points on the same simulated events
(:mod:`riskshare.runs.same_events`): each block of years is drawn once and allocated
under every point's tower. Each point reports the key figures of each party, exactly
those ``simulate`` gives the point's scenario with the same years and seed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from riskshare._version import __version__
from riskshare.engine.passes import Streamed
from riskshare.engine.plan import Plan
from riskshare.engine.schedule import Summaries
from riskshare.engine.series import SeriesKey, budget_of, outlay_key
from riskshare.errors import Problem, RunError
from riskshare.model.finite import check_figures
from riskshare.model.scenario import Scenario
from riskshare.runs.grid import GridError, grid_points, parse_path, parse_set, show_value
from riskshare.runs.results import JsonMapping, OverBudget
from riskshare.runs.same_events import (
    ComparisonError,
    ScenarioSource,
    load,
    plans_of,
)
from riskshare.runs.simulation import Progress, run_header, run_plans
from riskshare.stats.summary import TVAR_SHARE, SeriesSummary, tail_size

__all__ = [
    "GridError",
    "KeyFigures",
    "SweepPoint",
    "SweepResult",
    "parse_path",
    "parse_set",
    "show_value",
    "sweep",
]

#: The share of the largest years a sweep keeps: enough for VaR 99.5% and TVaR 99%.
SWEEP_TAIL_SHARE = TVAR_SHARE


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFigures(JsonMapping):
    """A party's key figures at a point: as ``simulate`` gives them, and the cost's too."""

    mean: float
    stderr: float
    prob_positive: float
    var_995: float
    tvar_99: float
    over_budget: OverBudget | None = None
    cost: KeyFigures | None = None

    @classmethod
    def of(cls, summary: SeriesSummary) -> KeyFigures:
        """mean, stderr, P(any loss), VaR 99.5%, TVaR 99%: as ``SeriesSummary.figures`` has them."""
        moments = summary.moment_figures()
        return cls(
            mean=moments["mean"],
            stderr=moments["stderr"],
            prob_positive=moments["prob_positive"],
            var_995=summary.quantile(0.995),
            tvar_99=summary.tail_mean(TVAR_SHARE),
        )

    def to_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "mean": self.mean,
            "stderr": self.stderr,
            "prob_positive": self.prob_positive,
            "var_995": self.var_995,
            "tvar_99": self.tvar_99,
        }
        if self.over_budget is not None:
            entry.update(self.over_budget.to_dict())
        if self.cost is not None:
            entry["cost"] = self.cost.to_dict()
        return entry

    def columns(self) -> dict[str, object]:
        """The figures as columns of a table: ``mean``, …, then ``cost.mean``, …"""
        flat = {key: value for key, value in self.to_dict().items() if key != "cost"}
        if self.cost is not None:
            flat |= {f"cost.{key}": value for key, value in self.cost.to_dict().items()}
        return flat


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid: its values and, where they make a valid scenario, the key
    figures of each party (``cost`` beside them where the scenario has premiums)."""

    values: Mapping[str, object]
    scenario: Scenario | None
    parties: Mapping[str, KeyFigures] = field(default_factory=dict)
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return self.scenario is not None

    @property
    def name(self) -> str:
        """``layers.backstop.attachment=500M, layers.backstop.share=80%``."""
        return ", ".join(f"{path}={show_value(v)}" for path, v in self.values.items())

    def messages(self) -> list[str]:
        """Each problem of the point, errors then warnings the scenario itself has not:
        ``point PATH=V: layers[2].share: message``."""
        return [_message(self, p) for p in (*self.errors, *self.warnings)]

    def to_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"values": dict(self.values), "valid": self.valid}
        if self.valid:
            entry["parties"] = {name: f.to_dict() for name, f in self.parties.items()}
        else:
            entry["errors"] = [p.text for p in self.errors]
        if self.warnings:
            entry["warnings"] = [p.text for p in self.warnings]
        return entry


def _message(point: SweepPoint, problem: Problem) -> str:
    severity = "warning: " if problem.severity == "warning" else ""
    return f"point {point.name}: {severity}{problem.text}"


@dataclass(frozen=True)
class SweepResult:
    """Every point of a sweep, in grid order (the first path varies slowest)."""

    scenario: Scenario
    paths: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    years: int
    seed: int
    events: int
    seconds: float

    @property
    def invalid(self) -> tuple[SweepPoint, ...]:
        return tuple(p for p in self.points if not p.valid)

    @property
    def party_names(self) -> list[str]:
        names: list[str] = []
        for point in self.points:
            names += [n for n in point.parties if n not in names]
        return names

    def party_label(self, name: str) -> str:
        for point in self.points:
            if point.scenario is not None and name in point.scenario.parties:
                return point.scenario.party_label(name)
        return name

    def to_dict(self) -> dict[str, object]:
        return {
            "riskshare_version": __version__,
            "scenario": self.scenario.header(),
            "simulation": run_header(self.years, self.seed, self.events, self.seconds),
            "paths": list(self.paths),
            "points": [p.to_dict() for p in self.points],
        }

    def rows(self) -> list[list[object]]:
        """The sweep as a table: a header, then one row per point (for ``--csv``)."""
        columns: list[tuple[str, str]] = []
        for name in self.party_names:
            sample = next(p.parties[name] for p in self.points if name in p.parties)
            columns += [(name, figure) for figure in sample.columns()]
        header: list[object] = ["point", *self.paths, "valid"]
        header += [f"{name}.{figure}" for name, figure in columns]
        header.append("errors")
        rows = [header]
        for number, point in enumerate(self.points, start=1):
            row: list[object] = [number, *(show_value(point.values[p]) for p in self.paths)]
            row.append(str(point.valid).lower())
            cells = {name: figures.columns() for name, figures in point.parties.items()}
            row += [cells.get(name, {}).get(figure, "") for name, figure in columns]
            row.append("; ".join(p.text for p in point.errors))
            rows.append(row)
        return rows


# --- the key figures, summarised as simulate summarises them --------------------------


def _summaries(plan: Plan, keep: int) -> Summaries:
    """A point's summaries: its parties' losses and, where it has premiums, their costs."""

    def new(with_costs: bool) -> dict[SeriesKey, SeriesSummary]:
        keys = [SeriesKey.party(i) for i in range(len(plan.parties))]
        if with_costs:
            keys += [SeriesKey.cost(i) for i in range(len(plan.parties))]
        return {key: SeriesSummary(keep, budget_of(plan, key)) for key in keys}

    return new


def _parties(plan: Plan, run: Streamed) -> dict[str, KeyFigures]:
    """Each party's key figures in one point's run."""
    merged = run.summaries
    found: dict[str, KeyFigures] = {}
    for i, name in enumerate(plan.parties):
        summary = merged[SeriesKey.party(i)]
        cost = merged.get(SeriesKey.cost(i))
        found[name] = replace(
            KeyFigures.of(summary),
            over_budget=OverBudget.of(merged[outlay_key(plan, i)])
            if plan.budgets[i] is not None
            else None,
            cost=KeyFigures.of(cost) if cost is not None else None,
        )
    return found


# --- the sweep ------------------------------------------------------------------------


def sweep(
    scenario: ScenarioSource,
    grid: Mapping[str, Sequence[object]],
    years: int | None = None,
    seed: int | None = None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SweepResult:
    """Run ``scenario`` at every point of ``grid`` (path → values) on the same events.

    Paths are ``layers.NAME.KEY``, ``layers[i].KEY``, ``parties.NAME.KEY``, … ; values
    are what the scenario file would hold (``"500M"``, ``"80%"``, ``0.8``). Points whose
    values make an invalid scenario are returned with their errors, the others run.
    Raises :class:`GridError` for a path that is malformed, not in the scenario or
    would change the simulated events (``events``, ``events_file``, ``sources``,
    ``simulation``; a source's ``bearer`` may be swept). ``workers`` processes run the
    blocks of years, each block drawn once for every point (default: one per core for
    runs of at least 200,000 years); the figures do not depend on it.
    """
    started = time.perf_counter()
    base = load(scenario)
    points = [
        SweepPoint(p.values, p.scenario, errors=p.errors, warnings=p.warnings)
        for p in grid_points(base, grid)
    ]
    valid = [p for p in points if p.scenario is not None]
    run_years = years if years is not None else base.simulation.years
    run_seed = seed if seed is not None else base.simulation.seed
    if run_years < 1:
        raise RunError(f"years must be at least 1 (got {run_years})")
    events = 0
    if valid:
        scenarios = [p.scenario for p in valid if p.scenario is not None]
        runs, events = _run(scenarios, run_seed, run_years, progress, workers)
        finished = {
            id(point): SweepPoint(point.values, point.scenario, run, (), point.warnings)
            for point, run in zip(valid, runs, strict=True)
        }
        points = [finished.get(id(p), p) for p in points]
    result = SweepResult(
        scenario=base,
        paths=tuple(grid),
        points=tuple(points),
        years=run_years,
        seed=run_seed,
        events=events,
        seconds=round(time.perf_counter() - started, 3),
    )
    check_figures(result.to_dict(), "the sweep")
    return result


def _run(
    scenarios: Sequence[Scenario],
    seed: int,
    years: int,
    progress: Progress | None,
    workers: int | None,
) -> tuple[list[dict[str, KeyFigures]], int]:
    """Each scenario's parties' key figures, on one set of events; and the events' count."""
    try:
        plans = plans_of(scenarios)
    except ComparisonError as error:  # only a bearer or the residual can have moved
        raise RunError(str(error)) from None
    keep = tail_size(years, SWEEP_TAIL_SHARE)  # enough for VaR 99.5% and TVaR 99%
    runs = run_plans(
        scenarios[0],
        plans,
        seed,
        years,
        SWEEP_TAIL_SHARE,
        [_summaries(plan, keep) for plan in plans],
        workers=workers,
        progress=progress,
    )
    return [_parties(plan, run) for plan, run in zip(plans, runs, strict=True)], runs[0].events
