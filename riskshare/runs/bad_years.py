"""Who pays in a bad year: each party's part of the total loss around its 1-in-T level.

A run's figures say how bad each party's own bad year is, but not who pays when the
programme as a whole has a bad year: that needs the parties' amounts year by year
beside the total, which a run does not keep. So this module allocates the run's
years again (same scenario, seed and number of years, hence the same events, on the
run's workers) and keeps, for the years with the largest totals, each party's net
amount. The split at 1-in-T is
the average split of the years ranked around the total's 1-in-T year, scaled to the
reported 1-in-T total so that the parts add up to it exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from riskshare.engine.events import FloatArray
from riskshare.engine.plan import compile_plan
from riskshare.engine.series import SeriesKey
from riskshare.runs.simulation import SimulationResult, run_plans
from riskshare.stats.summary import SeriesSummary, tail_size

#: The bad years the report shows.
BAD_YEAR_PERIODS = (10, 100, 200)
#: Half-width of the window of years averaged around the 1-in-T year, as a share of n/T.
WINDOW = 0.1


@dataclass(frozen=True)
class YearSplit:
    """The total loss of a kind of year and each party's part of it."""

    label: str  # "Expected year", "1-in-100 year"
    period: int | None  # None for the expected year
    total: float
    parties: dict[str, float]  # party name → amount; they add up to ``total``
    years_averaged: int  # simulated years behind the split (all of them for the expected year)


def expected_split(result: SimulationResult) -> YearSplit:
    """The expected annual loss and each party's expected net amount."""
    parties = {name: party.figures.mean for name, party in result.parties.items()}
    return YearSplit("Expected year", None, result.total.mean, parties, result.years)


def bad_year_splits(
    result: SimulationResult,
    periods: tuple[int, ...] = BAD_YEAR_PERIODS,
    *,
    workers: int | None = None,
) -> list[YearSplit]:
    """The expected year, then the split of the total loss at each 1-in-T year of ``periods``
    (``workers``: the processes that allocate the run's years again, as ``simulate``'s)."""
    n = result.years
    windows = {t: _window(n, t) for t in periods}
    keep = max((stop for _, stop in windows.values()), default=0)  # a window stops by n
    totals, shares = _top_years(result, keep, workers)
    splits = [expected_split(result)]
    names = list(result.parties)
    for t in periods:
        start, stop = windows[t]
        chosen_totals = totals[start:stop]
        chosen = shares[start:stop]
        level = _level(result, t, chosen_totals)
        denominator = float(chosen_totals.sum())
        if denominator > 0:
            parts = level * chosen.sum(axis=0) / denominator
        else:
            parts = np.zeros(len(names))
        splits.append(
            YearSplit(
                f"1-in-{t} year",
                t,
                level,
                {name: float(parts[i]) for i, name in enumerate(names)},
                stop - start,
            )
        )
    return splits


def _window(n: int, period: int) -> tuple[int, int]:
    """Indices, from the largest total down, of the years averaged around the 1-in-T year."""
    centre = round((n - 1) / period)
    half = max(1, math.ceil(WINDOW * n / period))
    start = max(0, centre - half)
    return start, min(n, centre + half + 1)


def _level(result: SimulationResult, period: int, chosen_totals: FloatArray) -> float:
    """The reported 1-in-T total, or the window's mean where the JSON has no such figure."""
    figures = result.total.return_periods
    if period in figures:
        return figures[period]
    return float(chosen_totals.mean()) if len(chosen_totals) else 0.0


def _top_years(
    result: SimulationResult, keep: int, workers: int | None
) -> tuple[FloatArray, FloatArray]:
    """The ``keep`` largest annual totals, descending, and each party's amount in those years.

    The run's years are allocated again, on the run's path and workers: each worker
    picks the largest totals of its blocks, and they are merged in block order.
    """
    plan = compile_plan(result.scenario)
    # premiums move no loss: without them the run takes no pass to price them
    plan = replace(plan, layers=tuple(replace(t, premium_form=None) for t in plan.layers))
    columns = [SeriesKey.party(i) for i in range(len(plan.parties))]
    kept = [np.zeros(0), np.zeros((0, len(columns)))]
    keep_none = tail_size(result.years, 0.0)  # the run keeps no tail to speak of

    def summaries(_with_costs: bool) -> dict[SeriesKey, SeriesSummary]:
        return {key: SeriesSummary(keep_none) for key in (SeriesKey.total(), *columns)}

    def largest(totals: FloatArray, parties: FloatArray) -> tuple[FloatArray, FloatArray]:
        if len(totals) <= keep:
            return totals, parties
        top = np.argpartition(-totals, keep - 1)[:keep] if keep > 0 else np.zeros(0, int)
        return totals[top], parties[top]

    def pick(
        _block: int, series: list[dict[SeriesKey, FloatArray]]
    ) -> tuple[FloatArray, FloatArray]:
        years = series[0]
        return largest(years[SeriesKey.total()], np.column_stack([years[c] for c in columns]))

    def merge(_block: int, found: tuple[FloatArray, FloatArray]) -> None:
        totals, parties = largest(
            np.concatenate((kept[0], found[0])), np.vstack((kept[1], found[1]))
        )
        kept[:] = [totals, parties]

    run_plans(
        result.scenario,
        [plan],
        result.seed,
        result.years,
        0.0,
        [summaries],
        workers=workers,
        pairing=(pick, merge),
    )
    order = np.argsort(-kept[0], kind="stable")
    return kept[0][order], kept[1][order]
